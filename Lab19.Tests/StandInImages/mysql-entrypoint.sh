#!/bin/bash
# Lab19's stand-in for the official mysql image's entrypoint, in an image built from Debian's MariaDB 10.11 packages (build.sh):
# a MariaDB in place of MySQL. It honours the part of the image's contract that the lab's AddMySql(...).WithDataVolume() relies on:
#   - on an empty data directory (/var/lib/mysql, the volume): system tables made, root@'%' (MYSQL_ROOT_HOST) and root@localhost with
#     MYSQL_ROOT_PASSWORD (required), MYSQL_DATABASE created, MYSQL_USER with MYSQL_PASSWORD and all privileges on it, if given;
#   - on a data directory that has the system tables: the data as it is (the passwords of the first start stay, as in the official image);
#   - mariadbd runs as the mysql account, as PID 1 (exec), on port 3306 on all interfaces; `docker stop` sends SIGTERM, a clean shutdown.
# Left out, and refused where asked for: scripts in /docker-entrypoint-initdb.d, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD.
# Not supported: the MYSQL_*_FILE variants, MYSQL_ONETIME_PASSWORD, running the container as a non-root --user. MySQL's own behaviours
# (caching_sha2_password, TLS offered by default) are MariaDB's here (mysql_native_password, no TLS).
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then set -- mysqld "$@"; fi
if [ "$1" != 'mysqld' ] && [ "$1" != 'mariadbd' ]; then exec "$@"; fi
shift

datadir=/var/lib/mysql
mkdir -p "$datadir" /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld

sql_string() { local v="${1//\\/\\\\}"; printf "'%s'" "${v//\'/\'\'}"; }
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }

if [ ! -d "$datadir/mysql" ]; then
  if [ -z "${MYSQL_ROOT_PASSWORD:-}" ]; then
    echo >&2 'stand-in mysql: the database is uninitialized and MYSQL_ROOT_PASSWORD is not set (the only root password option this stand-in supports)'
    exit 1
  fi
  if [ -n "$(ls -A /docker-entrypoint-initdb.d 2>/dev/null)" ]; then
    echo >&2 'stand-in mysql: scripts in /docker-entrypoint-initdb.d are not supported by this stand-in for the official image'
    exit 1
  fi
  if [ "${MYSQL_USER:-}" = 'root' ]; then
    echo >&2 'stand-in mysql: MYSQL_USER="root" is not allowed: MYSQL_ROOT_PASSWORD sets the root password'
    exit 1
  fi
  echo "stand-in mysql: initializing $datadir"
  init="$(mktemp /run/mysqld/init.XXXXXX.sql)"
  trap 'rm -f "$init"' EXIT
  password="$(sql_string "$MYSQL_ROOT_PASSWORD")"
  root_host="${MYSQL_ROOT_HOST:-%}"
  {
    # mariadb-install-db's other accounts (anonymous, and root without a password from 127.0.0.1, ::1 and the container's name) go.
    echo "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');"
    echo "DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';"
    echo "FLUSH PRIVILEGES;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $password;"
    if [ "$root_host" != 'localhost' ]; then
      echo "CREATE USER 'root'@$(sql_string "$root_host") IDENTIFIED BY $password;"
      echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    fi
    if [ -n "${MYSQL_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");"
    fi
    if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
      echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
      if [ -n "${MYSQL_DATABASE:-}" ]; then
        echo "GRANT ALL PRIVILEGES ON $(sql_name "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
      fi
    fi
  } > "$init"
  chown mysql "$init"
  mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve --extra-file="$init" > /dev/null
  rm -f "$init"
  echo 'stand-in mysql: initialized'
fi

exec mariadbd --user=mysql --datadir="$datadir" --port=3306 --bind-address=0.0.0.0 --skip-name-resolve \
  --character-set-server=utf8mb4 "$@" # MySQL's default character set (MariaDB's own is latin1)
