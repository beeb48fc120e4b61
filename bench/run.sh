#!/usr/bin/env bash
# Lab19 benchmark: both services (Release build, no Aspire) against private local PostgreSQL and MariaDB, loaded on loopback
# with wrk. Side by side in one run:
#   - the per-user total on the seed and after the POST runs have stored a few hundred thousand records;
#   - POST /api/v1/points, plain and with an Idempotency-Key, spread over 100 users and concentrated on one, on this build and on the
#     build BEFORE (point-service of an earlier commit, on a database of its own), in alternating rounds;
#   - GET /api/v1/users/{id} against the floor: bench/PlainChain, the same two calls with plain Npgsql, MySqlConnector and HttpClient.
# With --agent, the total and the cross-service read also run against a pair with the runtime agent (Lab19.Agent, exporting to
# bench/otlp-sink.py); with --beyla, also against a pair Beyla watches. Prints the tables and writes bench/results/<time>.json.
# Not part of the test suite.
#
# Needs: .NET 10 SDK, git, wrk, python3, postgresql and mariadb-server binaries (Debian: apt-get install -y wrk postgresql mariadb-server).
# --beyla also needs what Beyla needs, checked first by the AppHost's own preflight (dotnet run --project Lab19.AppHost -- --preflight),
# and the grafana/beyla image.
# Settings (environment): CONNECTIONS (32), THREADS (2), DURATION (30s), WARMUP (30s, per request and variant: the JIT needs ~20 s of
# load to settle), ROUNDS (3: compared variants alternate in rounds of DURATION/ROUNDS), BEFORE (the commit whose point-service is
# "before": dd4525f, the last one before the kept totals and the one-command writes; empty to skip it), ONE_USER (1: the user of the
# concentrated POST runs).
set -euo pipefail
cd "$(dirname "$0")/.."

variants=()
for arg in "$@"; do
  case "$arg" in
    --agent) variants+=(agent) ;;
    --beyla) variants+=(agent beyla) ;;
    *) echo "usage: bench/run.sh [--agent] [--beyla]"; exit 2 ;;
  esac
done
variants=($(printf '%s\n' "${variants[@]}" | awk '!seen[$0]++'))

CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-30s}
# wrk's durations: a number with an optional unit s, m or h (30s, 1m, 2h, 90).
seconds_of() {
  [[ "$1" =~ ^([0-9]+)([smh]?)$ ]] || { echo "DURATION and WARMUP take wrk's form: a number and s, m or h (30s, 1m); got '$1'" >&2; exit 2; }
  case "${BASH_REMATCH[2]}" in m) echo $(( BASH_REMATCH[1] * 60 )) ;; h) echo $(( BASH_REMATCH[1] * 3600 )) ;; *) echo "${BASH_REMATCH[1]}" ;; esac
}
seconds_of "$DURATION" >/dev/null; seconds_of "$WARMUP" >/dev/null
ROUNDS=${ROUNDS:-3}
BEFORE=${BEFORE-dd4525f}
ONE_USER=${ONE_USER:-1}

for tool in wrk dotnet python3 git /usr/sbin/mariadbd; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y wrk postgresql mariadb-server)"; exit 1; }
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

beyla_image="grafana/beyla:$(sed -n 's/.*const string Tag = "\(.*\)";/\1/p' Lab19.AppHost/Beyla/BeylaResourceBuilderExtensions.cs)"
if [[ " ${variants[*]} " == *" beyla "* ]]; then
  # What Beyla needs is what the lab's own preflight checks (kernel, BTF, kprobes, lockdown, a rootful Docker engine on this kernel,
  # not Docker Desktop, not rootless): ask it, rather than a second copy of its rules. Then the image, which the preflight does not pull.
  if ! dotnet run --project Lab19.AppHost -- --preflight; then
    echo "bench/run.sh --beyla cannot measure Beyla on this host (the preflight above says why); bench/run.sh without --beyla measures the rest."
    exit 2
  fi
  if ! docker image inspect "$beyla_image" >/dev/null 2>&1 && ! docker pull -q "$beyla_image" >/dev/null 2>&1; then
    echo "bench/run.sh --beyla needs the image $beyla_image, and docker pull failed."
    exit 2
  fi
fi

work=$(mktemp -d /tmp/lab19-bench.XXXXXX); chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  docker rm -f lab19-bench-beyla >/dev/null 2>&1 || true
  [ -f "$work/pg/data/postmaster.pid" ] && as_postgres "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m fast >/dev/null 2>&1 || true
  [ -f "$work/mysqld.pid" ] && kill "$(cat "$work/mysqld.pid")" 2>/dev/null || true
  sleep 1
  # The processes' own logs, kept beside the results: what a service said during a bad row.
  mkdir -p bench/results && logs="bench/results/logs-$(date -u +%Y%m%dT%H%M%SZ)" && mkdir -p "$logs" && cp "$work"/*.log "$logs"/ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building Release"
dotnet build -c Release PointService/PointService.csproj -v quiet -nologo >/dev/null
dotnet build -c Release UserService/UserService.csproj -v quiet -nologo >/dev/null
dotnet build -c Release bench/PlainChain/PlainChain.csproj -v quiet -nologo >/dev/null
if [ -n "$BEFORE" ]; then
  # point-service as it was at BEFORE, built from that commit's files (no checkout: the work tree stays as it is).
  echo "== building point-service of $BEFORE (before)"
  mkdir -p "$work/before"; git archive "$BEFORE" | tar -x -C "$work/before"
  dotnet build -c Release "$work/before/PointService/PointService.csproj" -v quiet -nologo >/dev/null
fi
if [ ${#variants[@]} -gt 0 ]; then
  # The agent exactly as the README's contract hands it out.
  dotnet publish -c Release Lab19.Agent/Lab19.Agent.csproj -o "$work/agent" -v quiet -nologo >/dev/null
fi

echo "== starting PostgreSQL and MariaDB in $work"
pg_port=$(free_port); my_port=$(free_port); sink_port=$(free_port)
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
pointdb() { echo "Server=127.0.0.1;Port=$my_port;User ID=lab;Password=$my_password;Database=$1"; }
userdb="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=userdb"

# The processes of each variant, all running at once on ports of their own, so that compared runs alternate between them and share
# whatever else the machine is doing. Each from its output folder, so it reads its own appsettings.json.
#   bare:   this build's point-service and user-service, as deployed.
#   floor:  bench/PlainChain twice, as the point side and the user side, on the same databases as bare.
#   before: point-service of BEFORE, on a database of its own (pointdb_before), for the POST runs.
#   agent:  this build with DOTNET_STARTUP_HOOKS and the standard OTEL_* variables, SDK defaults otherwise (full sampling, batches of up
#           to 512 spans every 5 s or sooner, a queue of 2048); OTLP http/protobuf to bench/otlp-sink.py (--agent).
#   beyla:  this build as deployed, watched by Beyla (--beyla).
declare -A point_pid user_pid point_port user_port
wait_healthy() {
  for i in $(seq 120); do [ "$(curl -s "$1")" = Healthy ] && return; sleep 0.5; done
  echo "$1 never healthy"; cat "$work"/*.log; exit 1
}
wait_answers() {
  for i in $(seq 120); do curl -sf "$1" >/dev/null && return; sleep 0.5; done
  echo "$1 never answered"; cat "$work"/*.log; exit 1
}
start_point_service() { # variant, folder, database
  local v=$1 folder=$2 db=$3 agent=()
  point_port[$v]=$(free_port)
  if [ "$v" = agent ]; then agent=(DOTNET_STARTUP_HOOKS="$work/agent/Lab19.Agent.dll" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port"
                                OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=parentbased_always_on ${AGENT_ENV:-}); fi
  (cd "$folder" && exec env "${agent[@]}" OTEL_SERVICE_NAME="point-service-$v" ConnectionStrings__pointdb="$(pointdb "$db")" \
    ASPNETCORE_URLS="http://127.0.0.1:${point_port[$v]}" dotnet PointService.dll) >>"$work/point-service-$v.log" 2>&1 &
  point_pid[$v]=$!; pids+=("$!")
}
start_services() {
  local v=$1 agent=()
  if [ "$v" = floor ]; then
    point_port[$v]=$(free_port); user_port[$v]=$(free_port)
    echo "== starting floor (bench/PlainChain) point side :${point_port[$v]} and user side :${user_port[$v]}"
    (cd bench/PlainChain/bin/Release/net10.0 && exec env ConnectionStrings__pointdb="$(pointdb pointdb)" \
      ASPNETCORE_URLS="http://127.0.0.1:${point_port[$v]}" dotnet PlainChain.dll) >>"$work/floor-point.log" 2>&1 &
    point_pid[$v]=$!; pids+=("$!")
    (cd bench/PlainChain/bin/Release/net10.0 && exec env ConnectionStrings__userdb="$userdb" PointsUrl="http://127.0.0.1:${point_port[$v]}" \
      ASPNETCORE_URLS="http://127.0.0.1:${user_port[$v]}" dotnet PlainChain.dll) >>"$work/floor-user.log" 2>&1 &
    user_pid[$v]=$!; pids+=("$!")
    wait_answers "http://127.0.0.1:${user_port[$v]}/api/v1/users/1"
    return
  fi
  if [ "$v" = before ]; then
    start_point_service before "$work/before/PointService/bin/Release/net10.0" pointdb_before
    echo "== starting before ($BEFORE) point-service :${point_port[$v]}"
    wait_healthy "http://127.0.0.1:${point_port[$v]}/health"
    return
  fi
  start_point_service "$v" PointService/bin/Release/net10.0 pointdb
  user_port[$v]=$(free_port)
  if [ "$v" = agent ]; then agent=(DOTNET_STARTUP_HOOKS="$work/agent/Lab19.Agent.dll" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port"
                                OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=parentbased_always_on ${AGENT_ENV:-}); fi
  echo "== starting $v point-service :${point_port[$v]} and user-service :${user_port[$v]} (Production; GC and thread pool as in their runtimeconfig.json)"
  (cd UserService/bin/Release/net10.0 && exec env "${agent[@]}" OTEL_SERVICE_NAME="user-service-$v" ConnectionStrings__userdb="$userdb" \
    services__point-service__http__0="http://127.0.0.1:${point_port[$v]}" \
    ASPNETCORE_URLS="http://127.0.0.1:${user_port[$v]}" dotnet UserService.dll) >>"$work/user-service-$v.log" 2>&1 &
  user_pid[$v]=$!; pids+=("$!")
  wait_healthy "http://127.0.0.1:${point_port[$v]}/health"; wait_healthy "http://127.0.0.1:${user_port[$v]}/health"
}

# Beyla as the lab runs it (its config and mounts), watching the beyla pair's ports, on the host network so that it reaches the sink
# on loopback; the YAML sets no endpoint, so the per-signal variables are the only ones.
start_beyla() {
  docker run -d --name lab19-bench-beyla --privileged --pid=host --network=host \
    -v "$PWD/beyla/beyla-config.yml:/config/beyla-config.yml:ro" -v /sys/fs/cgroup:/sys/fs/cgroup -v /sys/kernel/tracing:/sys/kernel/tracing -v /sys/kernel/security:/sys/kernel/security:ro \
    -e BEYLA_CONFIG_PATH=/config/beyla-config.yml -e BEYLA_OPEN_PORT="${user_port[beyla]},${point_port[beyla]}" -e BEYLA_TRACE_PRINTER=disabled \
    -e OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$sink_port/v1/traces" -e OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf \
    -e OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="http://127.0.0.1:$sink_port/v1/metrics" -e OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/protobuf \
    "$beyla_image" >/dev/null
  beyla_pid=$(docker inspect -f '{{.State.Pid}}' lab19-bench-beyla)
  for _ in $(seq 60); do docker logs lab19-bench-beyla 2>&1 | grep -q -i 'instrumenting process' && break; sleep 1; done
  docker logs lab19-bench-beyla 2>&1 | grep -i 'instrumenting process' || { echo "Beyla found no process to instrument:"; docker logs lab19-bench-beyla 2>&1 | tail -20; exit 1; }
}

python3 bench/otlp-sink.py "$sink_port" &
sink_pid=$!; pids+=("$sink_pid")
all_variants=(bare floor)
[ -n "$BEFORE" ] && all_variants+=(before)
all_variants+=("${variants[@]}")
for variant in "${all_variants[@]}"; do start_services "$variant"; done
if [[ " ${variants[*]} " == *" beyla "* ]]; then start_beyla; fi

mysql_scalar() { mariadb --socket="$work/mysqld.sock" -uroot -N -e "$1"; }

# Rows: name|script|service|user (empty: ids spread over users 1..100; a number: every request for that user)|variants.
# Reads run first, on the seeded data (100 users, ~230 records); the POST runs then add rows (thousands per second), and the last
# row shows what that does to the per-user total.
before_variant=$([ -n "$BEFORE" ] && echo before || true)
seed_reads=(
  "GET /api/v1/points/user/{id}/total|total|point||bare"
  "GET /api/v1/points/user/{id}?limit=10|recent|point||bare"
)
compared=(
  "GET /api/v1/users/{id}|user|user||bare floor ${variants[*]}"
)
[ ${#variants[@]} -gt 0 ] && compared+=("GET /api/v1/points/user/{id}/total|total|point||bare ${variants[*]}")
writes=(
  "POST /api/v1/points|add-points|point||bare $before_variant"
  "POST /api/v1/points with an Idempotency-Key|add-points-keyed|point||bare $before_variant"
  "POST /api/v1/points, one user|add-points|point|$ONE_USER|bare $before_variant"
  "POST /api/v1/points with an Idempotency-Key, one user|add-points-keyed|point|$ONE_USER|bare $before_variant"
)
after_writes=(
  "GET /api/v1/points/user/{id}/total, after the POST runs|total|point||bare"
)

load() { BENCH_ONE_USER="$4" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --latency -s "bench/wrk/$2.lua" "http://127.0.0.1:$3" | sed -n 's/^RESULT //p'; }
port_of() { if [ "$2" = user ]; then echo "${user_port[$1]}"; else echo "${point_port[$1]}"; fi; }
rss() { if [ -n "$1" ]; then awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; else echo 0; fi; }
cpu_seconds() { if [ -n "$1" ]; then awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; else echo 0; fi; }  # utime + stime, in ticks of 1/100 s
# CPU seconds used so far by the variant's point side and user side, the sink, Beyla (0 without), MariaDB, PostgreSQL (all its
# processes) and the whole machine (all cores).
pg_cpu() { local m; m=$(head -1 "$work/pg/data/postmaster.pid"); for p in $m $(pgrep -P "$m"); do cat "/proc/$p/stat" 2>/dev/null || true; done | awk '{t += ($14 + $15) / 100} END {printf "%.2f", t}'; }
cpu_all() {
  echo "$(cpu_seconds "${point_pid[$1]:-}") $(cpu_seconds "${user_pid[$1]:-}") $(cpu_seconds "$sink_pid")" \
       "$(cpu_seconds "${beyla_pid:-}") $(cpu_seconds "$(cat "$work/mysqld.pid")") $(pg_cpu) $(awk '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat)"
}
cpu_diff() { python3 -c 'import sys; a, b = (list(map(float, x.split())) for x in sys.argv[1:]); print(",".join(f"\"{k}\":{round(y - x, 2)}" for k, x, y in zip(["point-service", "user-service", "sink", "beyla", "mariadb", "postgres", "machine"], a, b)))' "$1" "$2"; }
# Spans the sink has received from a variant's two services (each variant's services are named <service>-<variant>).
sink_spans() { curl -s "http://127.0.0.1:$sink_port/counts" | python3 -c 'import json,sys; s=json.load(sys.stdin)["spans"]; print(sum(n for k, n in s.items() if k.endswith("-" + sys.argv[1])))' "$1"; }

results=()
measure() { # variant, round, duration, row
  local variant=$1 round=$2 duration=$3 cpu_before result cpu loadavg
  IFS='|' read -r name script service user _ <<<"$4"
  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
  cpu_before=$(cpu_all "$variant")
  result=$(load "$duration" "$script" "$(port_of "$variant" "$service")" "$user")
  cpu=$(cpu_diff "$cpu_before" "$(cpu_all "$variant")")
  results+=("{\"variant\":\"$variant\",\"round\":$round,\"request\":\"$name\",\"service\":\"$service-service\",\"load_average_before\":\"$loadavg\",\"cpu_seconds\":{$cpu},\"result\":$result}")
}
warm() { local v=$1; IFS='|' read -r _ script service user _ <<<"$2"; load "$WARMUP" "$script" "$(port_of "$v" "$service")" "$user" >/dev/null; }
single() { for run in "$@"; do warm bare "$run"; measure bare 0 "$DURATION" "$run"; done; }
round_seconds=$(( $(seconds_of "$DURATION") / ROUNDS ))
(( round_seconds > 0 )) || { echo "DURATION ($DURATION) must give each of the $ROUNDS rounds at least a second" >&2; exit 2; }
alternate() { # rows whose variants run warmed up, then in ROUNDS alternating rounds
  for run in "$@"; do
    local row_variants=(${run##*|})
    echo "   ${run%%|*}: ${row_variants[*]}"
    for variant in "${row_variants[@]}"; do warm "$variant" "$run"; done
    # Spans are exported in batches (every 5 s at most): count what arrives between two quiet moments around the rounds.
    if [ ${#variants[@]} -gt 0 ]; then sleep 6; declare -A spans_before=(); for v in "${variants[@]}"; do spans_before[$v]=$(sink_spans "$v"); done; fi
    for round in $(seq "$ROUNDS"); do
      for variant in "${row_variants[@]}"; do measure "$variant" "$round" "${round_seconds}s" "$run"; done
    done
    if [ ${#variants[@]} -gt 0 ]; then
      sleep 6; for v in "${variants[@]}"; do spans+=("{\"request\":\"${run%%|*}\",\"variant\":\"$v\",\"spans\":$(( $(sink_spans "$v") - spans_before[$v] ))}"); done
    fi
  done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
spans=()
echo "== reads on the seed: each request $WARMUP warm-up, then $DURATION measured ($CONNECTIONS connections, $THREADS threads)"
single "${seed_reads[@]}"
echo "== compared: each variant $WARMUP warm-up, then $ROUNDS alternating rounds of ${round_seconds}s"
alternate "${compared[@]}"
rss_report=()
for variant in bare floor "${variants[@]}"; do
  extra=""; [ "$variant" = beyla ] && extra=",\"beyla\":$(rss "$beyla_pid")"
  rss_report+=("{\"variant\":\"$variant\",\"point-service\":$(rss "${point_pid[$variant]}"),\"user-service\":$(rss "${user_pid[$variant]}")$extra}")
done
if [ -n "${beyla_pid:-}" ]; then docker rm -f lab19-bench-beyla >/dev/null; beyla_pid=""; fi
echo "== writes: each variant $WARMUP warm-up, then $ROUNDS alternating rounds of ${round_seconds}s (this build: bare${BEFORE:+; before: $BEFORE})"
alternate "${writes[@]}"
rows=$(mysql_scalar "SELECT COUNT(*) FROM pointdb.points"); keys=$(mysql_scalar "SELECT COUNT(*) FROM pointdb.idempotency_keys")
echo "== the total after the writes ($rows records)"
single "${after_writes[@]}"
[ -n "$BEFORE" ] && rss_report+=("{\"variant\":\"before\",\"point-service\":$(rss "${point_pid[before]}"),\"user-service\":0}")
rss_report+=("{\"variant\":\"bare, at the end\",\"point-service\":$(rss "${point_pid[bare]}"),\"user-service\":$(rss "${user_pid[bare]}")}")
mismatched=$(mysql_scalar "SELECT COUNT(*) FROM (SELECT user_id, SUM(points) AS s FROM pointdb.points GROUP BY user_id) AS s LEFT JOIN pointdb.user_totals AS t USING (user_id) WHERE t.total IS NULL OR t.total <> s.s")
sink=$(curl -s "http://127.0.0.1:$sink_port/counts")

mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$out" "$rows" "$keys" "$mismatched" "$sink" "$load_start" "${#rss_report[@]}" "${rss_report[@]}" "${#spans[@]}" "${spans[@]}" "${results[@]}" <<PY
import json, os, platform, statistics, subprocess, sys
out, point_rows, point_keys, mismatched, sink, load_start, n_rss, *rest = sys.argv[1:]
rss = [json.loads(r) for r in rest[:int(n_rss)]]
rest = rest[int(n_rss):]
spans = {(s["request"], s["variant"]): s["spans"] for s in map(json.loads, rest[1:1 + int(rest[0])])}
rows = [json.loads(r) for r in rest[1 + int(rest[0]):]]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
sh = lambda cmd: subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()

# Alternating rounds: the rounds of one variant added up (req/s over all rounds, median of the rounds' p50/p99, CPU per request).
compared = {}
for r in rows:
    if r["round"] > 0:
        c = compared.setdefault((r["request"], r["variant"]), {"request": r["request"], "variant": r["variant"], "requests": 0, "seconds": 0.0,
                                                               "errors": 0, "p50": [], "p99": [], "cpu_seconds": {}})
        x = r["result"]
        c["requests"] += x["requests"]; c["seconds"] += x["seconds"]; c["errors"] += x["errors"]
        c["p50"].append(x["p50_ms"]); c["p99"].append(x["p99_ms"])
        for k, v in r["cpu_seconds"].items():
            c["cpu_seconds"][k] = c["cpu_seconds"].get(k, 0) + v
summary = []
for c in compared.values():
    n = max(c["requests"], 1)
    summary.append({"request": c["request"], "variant": c["variant"], "rps": round(c["requests"] / c["seconds"], 1),
                    "p50_ms": statistics.median(c["p50"]), "p99_ms": statistics.median(c["p99"]), "errors": c["errors"],
                    "spans_per_request": round(spans.get((c["request"], c["variant"]), 0) / n, 2),
                    "cpu_ms_per_request": {k: round(1000 * v / n, 3) for k, v in c["cpu_seconds"].items()}})
single = {r["request"]: r["result"] for r in rows if r["round"] == 0}
by = {(s["request"], s["variant"]): s for s in summary}
rps = lambda request, variant: by[(request, variant)]["rps"] if (request, variant) in by else None
ratio = lambda a, b: round(a / b, 3) if a and b else None

total_seed = single["GET /api/v1/points/user/{id}/total"]["rps"]
total_after = single["GET /api/v1/points/user/{id}/total, after the POST runs"]["rps"]
posts = {}
for build in ("bare", "before"):
    posts[build] = {where: {kind: rps(f"POST /api/v1/points{suffix}{place}", build) for kind, suffix in (("plain", ""), ("keyed", " with an Idempotency-Key"))}
                    for where, place in (("100 users", ""), ("one user", ", one user"))}
headline = {
    "total": {"seed_rps": total_seed, "after_writes_rps": total_after, "records_at_end": int(point_rows), "ratio": ratio(total_after, total_seed), "goal": 0.8},
    "post": {build: {where: dict(v, keyed_over_plain=ratio(v["keyed"], v["plain"])) for where, v in posts[build].items()} for build in posts},
    "post_after_over_before": {where: {kind: ratio(posts["bare"][where][kind], posts["before"][where][kind]) for kind in ("plain", "keyed")} for where in posts["bare"]},
    "users_vs_floor": {"bare_rps": rps("GET /api/v1/users/{id}", "bare"), "floor_rps": rps("GET /api/v1/users/{id}", "floor"),
                       "ratio": ratio(rps("GET /api/v1/users/{id}", "bare"), rps("GET /api/v1/users/{id}", "floor")), "goal": 0.85},
    "totals_not_matching_records_at_end": int(mismatched),
}
report = {
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "nproc": sh("nproc"), "lscpu": sh("lscpu | head").splitlines(),
                "memory_gib": round(int(mem) / 1024 / 1024), "kernel": platform.release(),
                "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip(),
                "load_average_at_start": load_start.split(), "load_average_at_end": open("/proc/loadavg").read().split()[:3]},
    "settings": {"connections": int("$CONNECTIONS"), "threads": int("$THREADS"), "duration": "$DURATION", "warmup": "$WARMUP", "rounds": int("$ROUNDS"),
                 "configuration": "Release", "environment": "Production", "before": "$BEFORE", "one_user": int("$ONE_USER"),
                 "runtime": json.load(open("PointService/bin/Release/net10.0/PointService.runtimeconfig.json"))["runtimeOptions"]["configProperties"],
                 "databases": "PostgreSQL and MariaDB on the same machine, loopback", "load": "wrk on the same machine",
                 "floor": "bench/PlainChain: Npgsql, MySqlConnector and HttpClient, no EF Core, no resilience, on the same databases",
                 "agent": "Lab19.Agent (dotnet publish -c Release), OTLP http/protobuf to bench/otlp-sink.py on loopback, SDK defaults, parentbased_always_on",
                 "agent_env": "${AGENT_ENV:-}"},
    "headline": headline,
    "results": rows,
    "compared": summary,
    "peak_rss_mb": rss,
    "otlp_sink": json.loads(sink),
    "point_records_at_end": int(point_rows),
    "idempotency_keys_at_end": int(point_keys),
}
json.dump(report, open(out, "w"), indent=2)

fmt = lambda v, spec=">9.0f": format(v, spec) if v is not None else f"{'-':>9}"
print(f"\n{'request (this build, single runs)':60} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for name, x in single.items():
    print(f"{name:60} {x['rps']:>9.0f} {x['p50_ms']:>8.2f} {x['p99_ms']:>8.2f} {x['errors']:>7}")
print(f"\ntotal: {total_seed:.0f} req/s on the seed, {total_after:.0f} req/s after the writes ({point_rows} records): {headline['total']['ratio']} (goal >= 0.8); totals not matching their records: {mismatched}")
print(f"\n{'POST /api/v1/points':28} {'before':>9} {'after':>9} {'after/before':>13}")
for where in ("100 users", "one user"):
    for kind in ("plain", "keyed"):
        print(f"{kind + ', ' + where:28} {fmt(posts['before'][where][kind])} {fmt(posts['bare'][where][kind])} {fmt(headline['post_after_over_before'][where][kind], '>13')}")
    print(f"{'  keyed/plain, ' + where:28} {fmt(headline['post']['before'][where]['keyed_over_plain'], '>9.2f')} {fmt(headline['post']['bare'][where]['keyed_over_plain'], '>9.2f')}   (goal >= 0.7)")
u = headline["users_vs_floor"]
print(f"\nGET /api/v1/users/{{id}}: {fmt(u['bare_rps'], '.0f')} req/s, floor {fmt(u['floor_rps'], '.0f')} req/s: {u['ratio']} of the floor (goal >= 0.85)")
print(f"\n{'request (alternating rounds)':52} {'variant':7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'spans/req':>9}  CPU ms/req: point  user  mariadb  postgres  machine")
for s in summary:
    c = s["cpu_ms_per_request"]
    print(f"{s['request']:52} {s['variant']:7} {s['rps']:>7.0f} {s['p50_ms']:>7.2f} {s['p99_ms']:>7.2f} {s['errors']:>6} {s['spans_per_request']:>9.2f}"
          f"  {c['point-service']:>16.3f} {c['user-service']:>5.3f} {c['mariadb']:>8.3f} {c['postgres']:>9.3f} {c['machine']:>8.3f}")
print("\npeak RSS MB: " + "; ".join(f"{r['variant']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "variant") for r in rss))
print(f"point records at the end: {point_rows}, idempotency keys: {point_keys}; load average at the start: {load_start}, at the end: {' '.join(report['machine']['load_average_at_end'])}")
print(f"machine: {cpu}, {os.cpu_count()} cores; settings: {report['settings']['connections']} connections, {report['settings']['threads']} threads, {report['settings']['duration']} per request after {report['settings']['warmup']} warm-up")
print(f"written: {out}")
PY
