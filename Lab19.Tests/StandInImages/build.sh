#!/bin/bash
# Builds Lab19's stand-ins for the official postgres and mysql images in the local Docker engine, from Debian's own packages: no registry
# is needed, nothing is pushed. They are not the official images: each is a Debian 12 root file system of the Essential packages plus the
# server's (mmdebstrap), with <kind>-entrypoint.sh beside this script as its entrypoint, imported with `docker import` as
# lab19/stand-in:<kind> and labelled with a hash of this script and the entrypoint (one with the same hash is kept, not built again).
#
#   build.sh [postgres] [mysql]     (no argument: both, in parallel)
#
# The container-mode test (Lab19.Tests/Infrastructure/StandInImages.cs) runs it where an image is missing or out of date and tags the
# result with the AppHost's image reference; .ci/run runs it ahead of the tests. Needs root (or user namespaces) and mmdebstrap.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

build() {
  local kind="$1" packages hook changes=()
  case "$kind" in
    postgres)
      packages=postgresql-15
      # Debian's package makes a cluster of its own (15/main); the entrypoint makes the image's on the volume.
      hook='rm -rf "$1/var/lib/postgresql/15" "$1/etc/postgresql/15"'
      # The official image's layout since PostgreSQL 18: the volume at /var/lib/postgresql, the cluster in <major>/docker.
      changes=(--change 'CMD ["postgres"]' --change 'EXPOSE 5432' --change 'VOLUME /var/lib/postgresql'
        --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
        --change 'ENV PGDATA=/var/lib/postgresql/15/docker' --change 'ENV LANG=C.UTF-8'
        --change 'LABEL lab19.stand-in.server="PostgreSQL 15 from Debian'"'"'s postgresql-15"') ;;
    mysql)
      # MariaDB in place of MySQL: Debian has no MySQL. Its core packages, without the server package's scripts and Perl.
      packages=mariadb-server-core,mariadb-client-core
      # The mysql account (uid 999, as in the official image), which the server package would create and the core packages do not.
      hook='echo "mysql:x:999:999:MariaDB server:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd" && echo "mysql:x:999:" >> "$1/etc/group"'
      changes=(--change 'CMD ["mysqld"]' --change 'EXPOSE 3306' --change 'VOLUME /var/lib/mysql'
        --change 'LABEL lab19.stand-in.server="MariaDB 10.11 from Debian'"'"'s mariadb-server-core, in place of MySQL"') ;;
    *) echo "build.sh: no stand-in for '$kind' (postgres, mysql)" >&2; return 2 ;;
  esac
  local hash work
  hash="$(cat "$here/build.sh" "$here/$kind-entrypoint.sh" | sha256sum | cut -c1-16)"
  if [ "$(docker image inspect --format '{{index .Config.Labels "lab19.stand-in.hash"}}' "lab19/stand-in:$kind" 2>/dev/null)" = "$hash" ]; then
    echo "lab19/stand-in:$kind ($hash): up to date"
    return
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  cp "$here/$kind-entrypoint.sh" "$work/docker-entrypoint.sh"
  mmdebstrap --quiet --variant=essential --include="$packages" --aptopt='Apt::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="$hook" \
    --customize-hook="upload $work/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" \
    --customize-hook='chmod 755 "$1/usr/local/bin/docker-entrypoint.sh"' \
    bookworm "$work/rootfs.tar" \
    'deb http://deb.debian.org/debian bookworm main' \
    'deb http://deb.debian.org/debian bookworm-updates main' \
    'deb http://deb.debian.org/debian-security bookworm-security main'
  local before
  before="$(docker image inspect --format '{{.Id}}' "lab19/stand-in:$kind" 2>/dev/null || true)"
  docker import --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' "${changes[@]}" \
    --change "LABEL lab19.stand-in=library/$kind lab19.stand-in.hash=$hash" "$work/rootfs.tar" "lab19/stand-in:$kind" >/dev/null
  # The stand-in this one replaces, unless a tag or a stopped container still holds it.
  if [ -n "$before" ]; then docker rmi "$before" >/dev/null 2>&1 || true; fi
  echo "lab19/stand-in:$kind ($hash): $(du -m "$work/rootfs.tar" | cut -f1) MB, built in $SECONDS s"
}

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(postgres mysql)
pids=()
for kind in "${kinds[@]}"; do
  build "$kind" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
