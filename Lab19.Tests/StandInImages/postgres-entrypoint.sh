#!/bin/bash
# Lab19's stand-in for the official postgres image's entrypoint, in an image built from Debian's postgresql-15 package (build.sh).
# It honours the part of the image's contract that Aspire's AddPostgres(...).WithDataVolume() relies on, and nothing more:
#   - on an empty data directory (PGDATA, default /var/lib/postgresql/15/docker, under the volume at /var/lib/postgresql): initdb as
#     POSTGRES_USER (default postgres) with POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust) and POSTGRES_INITDB_ARGS,
#     `host all all all $POSTGRES_HOST_AUTH_METHOD` (default scram-sha-256) in pg_hba.conf, listen_addresses = '*', and POSTGRES_DB
#     (default: the user's name) created;
#   - on a data directory that has a cluster: the cluster as it is (the password of its first start stays, as in the official image);
#   - postgres runs in the foreground as the postgres account on port 5432. The official image's STOPSIGNAL (SIGINT, a fast shutdown)
#     cannot be set by `docker import`, so this script stays PID 1 and turns `docker stop`'s SIGTERM (a "smart" shutdown, which would wait
#     for every pooled client to disconnect) into SIGINT for postgres, then exits with postgres's exit code.
# Left out, and refused where asked for: scripts in /docker-entrypoint-initdb.d. Not supported: the POSTGRES_*_FILE variants,
# POSTGRES_INITDB_WALDIR, running the container as a non-root --user.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != 'postgres' ]; then exec "$@"; fi

export PGDATA="${PGDATA:-/var/lib/postgresql/15/docker}"

if [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$(dirname "$PGDATA")" "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != 'trust' ]; then
    echo >&2 'stand-in postgres: the database is uninitialized and no superuser password is given: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)'
    exit 1
  fi
  if [ -n "$(ls -A /docker-entrypoint-initdb.d 2>/dev/null)" ]; then
    echo >&2 'stand-in postgres: scripts in /docker-entrypoint-initdb.d are not supported by this stand-in for the official image'
    exit 1
  fi
  echo "stand-in postgres: initializing $PGDATA (user $user, host authentication $method)"
  secrets="$(mktemp -d)" # readable by the postgres account only
  pwfile=()
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" > "$secrets/password"
    pwfile=(--pwfile="$secrets/password")
  fi
  # As the official entrypoint does: POSTGRES_INITDB_ARGS is split (and unquoted) by the shell.
  eval 'initdb --username="$user" "${pwfile[@]}" '"${POSTGRES_INITDB_ARGS:-}"
  rm -rf "$secrets"
  printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  db="${POSTGRES_DB:-$user}"
  if [ "$db" != 'postgres' ]; then
    printf 'CREATE DATABASE "%s";\n' "${db//\"/\"\"}" | postgres --single -D "$PGDATA" -c exit_on_error=true postgres >/dev/null
  fi
  echo 'stand-in postgres: initialized'
fi

"$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' TERM INT
status=0
wait "$pid" || status=$?
# A trapped signal ends `wait` early (status above 128) while postgres shuts down: wait again for its own exit code.
while [ "$status" -gt 128 ]; do
  status=0
  wait "$pid" || status=$?
  [ "$status" -ne 127 ] || break # already collected: postgres itself ended by a signal
done
exit "$status"
