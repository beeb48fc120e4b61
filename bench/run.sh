#!/usr/bin/env bash
# Lab19 benchmark: both services (Release build, no Beyla, no Aspire) against private local PostgreSQL and MariaDB,
# loaded on loopback with wrk. Prints a table and writes bench/results/<time>.json. Not part of the test suite.
#
# Needs: .NET 10 SDK, wrk, postgresql and mariadb-server binaries (Debian: apt-get install -y wrk postgresql mariadb-server).
# Settings (environment): CONNECTIONS (32), THREADS (2), DURATION (30s), WARMUP (30s, per request: the JIT needs ~20 s of load to settle).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-30s}

for tool in wrk dotnet python3 /usr/sbin/mariadbd; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y wrk postgresql mariadb-server)"; exit 1; }
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d /tmp/lab19-bench.XXXXXX); chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/pg/data/postmaster.pid" ] && as_postgres "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m fast >/dev/null 2>&1 || true
  [ -f "$work/mysqld.pid" ] && kill "$(cat "$work/mysqld.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building Release"
dotnet build -c Release PointService/PointService.csproj -v quiet -nologo >/dev/null
dotnet build -c Release UserService/UserService.csproj -v quiet -nologo >/dev/null

echo "== starting PostgreSQL and MariaDB in $work"
pg_port=$(free_port); my_port=$(free_port); point_port=$(free_port); user_port=$(free_port)
mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_postgres "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
as_postgres "$pg_bin/pg_ctl" start -w -D "$work/pg/data" -l "$work/pg/log" \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=300" >/dev/null
mariadb-install-db --no-defaults --datadir="$work/mysql" --user=root --auth-root-authentication-method=socket --skip-test-db >/dev/null
/usr/sbin/mariadbd --no-defaults --datadir="$work/mysql" --socket="$work/mysqld.sock" --port="$my_port" \
  --bind-address=127.0.0.1 --user=root --skip-name-resolve --max-connections=300 --skip-log-bin \
  --pid-file="$work/mysqld.pid" >"$work/mysql.log" 2>&1 &
for _ in $(seq 100); do [ -S "$work/mysqld.sock" ] && break; sleep 0.1; done
my_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
mariadb --socket="$work/mysqld.sock" -uroot -e "CREATE USER 'lab'@'127.0.0.1' IDENTIFIED BY '$my_password'; GRANT ALL ON *.* TO 'lab'@'127.0.0.1';"

echo "== starting point-service :$point_port and user-service :$user_port (Production; GC and thread pool as in their runtimeconfig.json)"
export ASPNETCORE_ENVIRONMENT=Production
# Each from its output folder, so it reads its own appsettings.json (as a deployed service would).
(cd PointService/bin/Release/net10.0 && exec env \
  ConnectionStrings__pointdb="Server=127.0.0.1;Port=$my_port;User ID=lab;Password=$my_password;Database=pointdb" \
  ASPNETCORE_URLS="http://127.0.0.1:$point_port" dotnet PointService.dll) >"$work/point-service.log" 2>&1 &
point_pid=$!; pids+=("$point_pid")
(cd UserService/bin/Release/net10.0 && exec env \
  ConnectionStrings__userdb="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=userdb" \
  services__point-service__http__0="http://127.0.0.1:$point_port" \
  ASPNETCORE_URLS="http://127.0.0.1:$user_port" dotnet UserService.dll) >"$work/user-service.log" 2>&1 &
user_pid=$!; pids+=("$user_pid")
for url in "http://127.0.0.1:$point_port/health" "http://127.0.0.1:$user_port/health"; do
  for i in $(seq 120); do [ "$(curl -s "$url")" = Healthy ] && break; sleep 0.5; [ "$i" = 120 ] && { echo "$url never healthy"; cat "$work"/*-service.log; exit 1; }; done
done

mysql_rows() { mariadb --socket="$work/mysqld.sock" -uroot -N -e "SELECT COUNT(*) FROM pointdb.points"; }
mysql_keys() { mariadb --socket="$work/mysqld.sock" -uroot -N -e "SELECT COUNT(*) FROM pointdb.idempotency_keys"; }

# name | script | port. Reads run first, on the seeded data (100 users, ~230 records); the POST runs then add rows
# (thousands per second), without and with an Idempotency-Key, and the last row shows what that does to the per-user total.
runs=(
  "GET /api/v1/points/user/{id}/total|total|$point_port"
  "GET /api/v1/points/user/{id}?limit=10|recent|$point_port"
  "GET /api/v1/users/{id}|user|$user_port"
  "POST /api/v1/points|add-points|$point_port"
  "POST /api/v1/points with an Idempotency-Key|add-points-keyed|$point_port"
  "GET /api/v1/points/user/{id}/total, after the POST runs|total|$point_port"
)

load() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --latency -s "bench/wrk/$2.lua" "http://127.0.0.1:$3" | sed -n 's/^RESULT //p'; }

echo "== each request: $WARMUP warm-up, then $DURATION measured ($CONNECTIONS connections, $THREADS threads)"
results=()
for run in "${runs[@]}"; do
  IFS='|' read -r name script port <<<"$run"
  load "$WARMUP" "$script" "$port" >/dev/null
  results+=("{\"request\":\"$name\",\"result\":$(load "$DURATION" "$script" "$port")}")
done
rows=$(mysql_rows); keys=$(mysql_keys)
rss() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
point_rss=$(rss "$point_pid"); user_rss=$(rss "$user_pid")

mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$out" "$point_rss" "$user_rss" "$rows" "$keys" "${results[@]}" <<PY
import json, os, platform, subprocess, sys
out, point_rss, user_rss, point_rows, point_keys, *rows = sys.argv[1:]
rows = [json.loads(r) for r in rows]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
report = {
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 1024 / 1024), "kernel": platform.release(),
                "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()},
    "settings": {"connections": int("$CONNECTIONS"), "threads": int("$THREADS"), "duration": "$DURATION", "warmup": "$WARMUP",
                 "configuration": "Release", "environment": "Production",
                 "runtime": json.load(open("PointService/bin/Release/net10.0/PointService.runtimeconfig.json"))["runtimeOptions"]["configProperties"],
                 "databases": "PostgreSQL and MariaDB on the same machine, loopback", "load": "wrk on the same machine"},
    "results": rows,
    "peak_rss_mb": {"point-service": int(point_rss), "user-service": int(user_rss)},
    "point_records_at_end": int(point_rows),
    "idempotency_keys_at_end": int(point_keys),
}
json.dump(report, open(out, "w"), indent=2)
print(f"\n{'request':56} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for r in rows:
    x = r["result"]
    print(f"{r['request']:56} {x['rps']:>9.0f} {x['p50_ms']:>8.2f} {x['p99_ms']:>8.2f} {x['errors']:>7}")
print(f"\npeak RSS: point-service {point_rss} MB, user-service {user_rss} MB; point records at the end: {point_rows}, idempotency keys: {point_keys}")
print(f"machine: {cpu}, {os.cpu_count()} cores; settings: {report['settings']['connections']} connections, {report['settings']['threads']} threads, {report['settings']['duration']} per request after {report['settings']['warmup']} warm-up")
print(f"written: {out}")
PY
