#!/usr/bin/env bash
# Lab19 benchmark: both services (Release build, no Aspire) against private local PostgreSQL and MariaDB, loaded on loopback
# with wrk. Every request bare; the two compared requests also with the runtime agent (Lab19.Agent, exporting everything to
# bench/otlp-sink.py) and, with --beyla, watched by Beyla, in alternating rounds. Prints the tables and writes
# bench/results/<time>.json. Not part of the test suite.
#
# Needs: .NET 10 SDK, wrk, python3, postgresql and mariadb-server binaries (Debian: apt-get install -y wrk postgresql mariadb-server).
# --beyla also needs what Beyla needs (checked first): Linux 5.8+ with BTF and kprobes, a rootful Docker engine, the grafana/beyla image.
# Settings (environment): CONNECTIONS (32), THREADS (2), DURATION (30s), WARMUP (30s, per request: the JIT needs ~20 s of load to settle),
# ROUNDS (3: the compared requests alternate between bare and agent (and Beyla) in rounds of DURATION/ROUNDS).
set -euo pipefail
cd "$(dirname "$0")/.."

variants=(agent)
case "${1:-}" in
  "") ;;
  --beyla) variants+=(beyla) ;;
  *) echo "usage: bench/run.sh [--beyla]"; exit 2 ;;
esac

CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-30s}

for tool in wrk dotnet python3 /usr/sbin/mariadbd; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y wrk postgresql mariadb-server)"; exit 1; }
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

beyla_image="grafana/beyla:$(sed -n 's/.*const string Tag = "\(.*\)";/\1/p' Lab19.AppHost/Beyla/BeylaResourceBuilderExtensions.cs)"
if [[ " ${variants[*]} " == *" beyla "* ]]; then
  # Beyla attaches eBPF programs to kernel functions (kprobes) and reads kernel types from BTF; it runs as a privileged container.
  missing=()
  kernel=$(uname -r); major=${kernel%%.*}; minor=${kernel#*.}; minor=${minor%%.*}
  { [ "$major" -gt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -ge 8 ]; }; } || missing+=("Linux 5.8 or newer (this is $kernel)")
  [ -e /sys/kernel/btf/vmlinux ] || missing+=("BTF (/sys/kernel/btf/vmlinux)")
  [ -e /sys/kernel/tracing/kprobe_events ] || [ -e /sys/kernel/debug/tracing/kprobe_events ] \
    || missing+=("kprobes (CONFIG_KPROBES: no kprobe_events under /sys/kernel/tracing or /sys/kernel/debug/tracing)")
  if ! docker info >/dev/null 2>&1; then
    missing+=("a running rootful Docker engine")
  elif ! docker image inspect "$beyla_image" >/dev/null 2>&1 && ! docker pull -q "$beyla_image" >/dev/null 2>&1; then
    missing+=("the image $beyla_image (docker pull failed)")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench/run.sh --beyla cannot measure Beyla on this host; missing:"
    printf '  - %s\n' "${missing[@]}"
    echo "Run it on a Linux host (not Docker Desktop, not rootless Docker) whose kernel lets Beyla attach its probes; bench/run.sh without --beyla measures bare and agent."
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
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building Release"
dotnet build -c Release PointService/PointService.csproj -v quiet -nologo >/dev/null
dotnet build -c Release UserService/UserService.csproj -v quiet -nologo >/dev/null
# The agent exactly as the README's contract hands it out.
dotnet publish -c Release Lab19.Agent/Lab19.Agent.csproj -o "$work/agent" -v quiet -nologo >/dev/null

echo "== starting PostgreSQL and MariaDB in $work"
pg_port=$(free_port); my_port=$(free_port); point_port=$(free_port); user_port=$(free_port); sink_port=$(free_port)
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

# One pair of services per variant, all running at once on ports of their own, so that the comparison runs can alternate
# between them and share whatever else the machine is doing. Each from its output folder, so it reads its own appsettings.json.
#   bare:  as deployed.
#   agent: DOTNET_STARTUP_HOOKS and the standard OTEL_* variables, SDK defaults otherwise: full sampling, batches of up to
#          512 spans every 5 s or sooner, a queue of 2048; OTLP http/protobuf to bench/otlp-sink.py.
#   beyla: as deployed, watched by Beyla (--beyla only).
declare -A point_pid user_pid point_port user_port
start_services() {
  local v=$1 agent=()
  point_port[$v]=$(free_port); user_port[$v]=$(free_port)
  if [ "$v" = agent ]; then agent=(DOTNET_STARTUP_HOOKS="$work/agent/Lab19.Agent.dll" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port"
                                OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=parentbased_always_on ${AGENT_ENV:-}); fi
  echo "== starting $v point-service :${point_port[$v]} and user-service :${user_port[$v]} (Production; GC and thread pool as in their runtimeconfig.json)"
  (cd PointService/bin/Release/net10.0 && exec env "${agent[@]}" OTEL_SERVICE_NAME="point-service-$v" \
    ConnectionStrings__pointdb="Server=127.0.0.1;Port=$my_port;User ID=lab;Password=$my_password;Database=pointdb" \
    ASPNETCORE_URLS="http://127.0.0.1:${point_port[$v]}" dotnet PointService.dll) >>"$work/point-service-$v.log" 2>&1 &
  point_pid[$v]=$!; pids+=("$!")
  (cd UserService/bin/Release/net10.0 && exec env "${agent[@]}" OTEL_SERVICE_NAME="user-service-$v" \
    ConnectionStrings__userdb="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=userdb" \
    services__point-service__http__0="http://127.0.0.1:${point_port[$v]}" \
    ASPNETCORE_URLS="http://127.0.0.1:${user_port[$v]}" dotnet UserService.dll) >>"$work/user-service-$v.log" 2>&1 &
  user_pid[$v]=$!; pids+=("$!")
  for url in "http://127.0.0.1:${point_port[$v]}/health" "http://127.0.0.1:${user_port[$v]}/health"; do
    for i in $(seq 120); do [ "$(curl -s "$url")" = Healthy ] && break; sleep 0.5; [ "$i" = 120 ] && { echo "$url never healthy"; cat "$work"/*-service-$v.log; exit 1; }; done
  done
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
for variant in bare "${variants[@]}"; do start_services "$variant"; done
if [[ " ${variants[*]} " == *" beyla "* ]]; then start_beyla; fi

mysql_rows() { mariadb --socket="$work/mysqld.sock" -uroot -N -e "SELECT COUNT(*) FROM pointdb.points"; }
mysql_keys() { mariadb --socket="$work/mysqld.sock" -uroot -N -e "SELECT COUNT(*) FROM pointdb.idempotency_keys"; }

# name | script | service. Reads run first, on the seeded data (100 users, ~230 records); the POST runs then add rows
# (thousands per second), without and with an Idempotency-Key, and the last row shows what that does to the per-user total. Between them, the two requests
# the comparison is about, on the same seeded data: warmed up on every variant, then measured in ROUNDS alternating rounds.
bare_reads=(
  "GET /api/v1/points/user/{id}/total|total|point"
  "GET /api/v1/points/user/{id}?limit=10|recent|point"
  "GET /api/v1/users/{id}|user|user"
)
compared=(
  "GET /api/v1/points/user/{id}/total|total|point"
  "GET /api/v1/users/{id}|user|user"
)
bare_writes=(
  "POST /api/v1/points|add-points|point"
  "POST /api/v1/points with an Idempotency-Key|add-points-keyed|point"
  "GET /api/v1/points/user/{id}/total, after the POST runs|total|point"
)

load() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --latency -s "bench/wrk/$2.lua" "http://127.0.0.1:$3" | sed -n 's/^RESULT //p'; }
port_of() { if [ "$2" = user ]; then echo "${user_port[$1]}"; else echo "${point_port[$1]}"; fi; }
rss() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
cpu_seconds() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }  # utime + stime, in clock ticks of 1/100 s
# CPU seconds used so far by the variant's point-service and user-service, the sink, Beyla (0 without), and the whole machine (all cores).
cpu_all() {
  echo "$(cpu_seconds "${point_pid[$1]}") $(cpu_seconds "${user_pid[$1]}") $(cpu_seconds "$sink_pid")" \
       "$(if [ -n "${beyla_pid:-}" ]; then cpu_seconds "$beyla_pid"; else echo 0; fi) $(awk '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat)"
}
cpu_diff() { python3 -c 'import sys; a, b = (list(map(float, x.split())) for x in sys.argv[1:]); print(",".join(f"\"{k}\":{round(y - x, 2)}" for k, x, y in zip(["point-service", "user-service", "sink", "beyla", "machine"], a, b)))' "$1" "$2"; }
# Spans the sink has received from a variant's two services (each variant's services are named <service>-<variant>).
sink_spans() { curl -s "http://127.0.0.1:$sink_port/counts" | python3 -c 'import json,sys; s=json.load(sys.stdin)["spans"]; print(sum(n for k, n in s.items() if k.endswith("-" + sys.argv[1])))' "$1"; }

results=()
measure() { # variant, round, duration, then rows of name|script|service
  local variant=$1 round=$2 duration=$3; shift 3
  for run in "$@"; do
    IFS='|' read -r name script service <<<"$run"
    local cpu_before result cpu
    cpu_before=$(cpu_all "$variant")
    result=$(load "$duration" "$script" "$(port_of "$variant" "$service")")
    cpu=$(cpu_diff "$cpu_before" "$(cpu_all "$variant")")
    results+=("{\"variant\":\"$variant\",\"round\":$round,\"request\":\"$name\",\"service\":\"$service-service\",\"cpu_seconds\":{$cpu},\"result\":$result}")
  done
}
warm() { local v=$1; shift; for run in "$@"; do IFS='|' read -r _ script service <<<"$run"; load "$WARMUP" "$script" "$(port_of "$v" "$service")" >/dev/null; done; }

# COMPARE_ONLY=1 skips the bare-only rows (for trying agent settings through AGENT_ENV, e.g. AGENT_ENV="OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048").
if [ -z "${COMPARE_ONLY:-}" ]; then
  echo "== bare reads: each request $WARMUP warm-up, then $DURATION measured ($CONNECTIONS connections, $THREADS threads)"
  for run in "${bare_reads[@]}"; do warm bare "$run"; measure bare 0 "$DURATION" "$run"; done
fi
ROUNDS=${ROUNDS:-3}
round_seconds=$(( ${DURATION%s} / ROUNDS ))
echo "== compared: bare ${variants[*]}, each request $WARMUP warm-up per variant, then $ROUNDS alternating rounds of ${round_seconds}s"
spans=()
for run in "${compared[@]}"; do
  for variant in bare "${variants[@]}"; do warm "$variant" "$run"; done
  # Spans are exported in batches (every 5 s at most): count what arrives between two quiet moments around the rounds.
  sleep 6; declare -A spans_before=(); for variant in "${variants[@]}"; do spans_before[$variant]=$(sink_spans "$variant"); done
  for round in $(seq "$ROUNDS"); do
    for variant in bare "${variants[@]}"; do measure "$variant" "$round" "${round_seconds}s" "$run"; done
  done
  sleep 6; for variant in "${variants[@]}"; do spans+=("{\"request\":\"${run%%|*}\",\"variant\":\"$variant\",\"spans\":$(( $(sink_spans "$variant") - spans_before[$variant] ))}"); done
done
rss_report=()
for variant in bare "${variants[@]}"; do
  extra=""; [ "$variant" = beyla ] && extra=",\"beyla\":$(rss "$beyla_pid")"
  rss_report+=("{\"variant\":\"$variant\",\"point-service\":$(rss "${point_pid[$variant]}"),\"user-service\":$(rss "${user_pid[$variant]}")$extra}")
done
if [ -n "${beyla_pid:-}" ]; then docker rm -f lab19-bench-beyla >/dev/null; beyla_pid=""; fi
if [ -z "${COMPARE_ONLY:-}" ]; then
  echo "== bare writes"
  for run in "${bare_writes[@]}"; do warm bare "$run"; measure bare 0 "$DURATION" "$run"; done
fi
rows=$(mysql_rows); keys=$(mysql_keys)
sink=$(curl -s "http://127.0.0.1:$sink_port/counts")

mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$out" "$rows" "$keys" "$sink" "${#rss_report[@]}" "${rss_report[@]}" "${#spans[@]}" "${spans[@]}" "${results[@]}" <<PY
import json, os, platform, statistics, subprocess, sys
out, point_rows, point_keys, sink, n_rss, *rest = sys.argv[1:]
rss = [json.loads(r) for r in rest[:int(n_rss)]]
rest = rest[int(n_rss):]
spans = {(s["request"], s["variant"]): s["spans"] for s in map(json.loads, rest[1:1 + int(rest[0])])}
rows = [json.loads(r) for r in rest[1 + int(rest[0]):]]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))

# The compared requests: the rounds of one variant added up (req/s over all rounds, median of the rounds' p50/p99, CPU per request).
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

report = {
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 1024 / 1024), "kernel": platform.release(),
                "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip(),
                "load_average_at_end": open("/proc/loadavg").read().split()[:3]},
    "settings": {"connections": int("$CONNECTIONS"), "threads": int("$THREADS"), "duration": "$DURATION", "warmup": "$WARMUP", "rounds": int("$ROUNDS"),
                 "configuration": "Release", "environment": "Production",
                 "runtime": json.load(open("PointService/bin/Release/net10.0/PointService.runtimeconfig.json"))["runtimeOptions"]["configProperties"],
                 "databases": "PostgreSQL and MariaDB on the same machine, loopback", "load": "wrk on the same machine",
                 "agent": "Lab19.Agent (dotnet publish -c Release), OTLP http/protobuf to bench/otlp-sink.py on loopback, SDK defaults, parentbased_always_on",
                 "agent_env": "${AGENT_ENV:-}"},
    "results": rows,
    "compared": summary,
    "peak_rss_mb": rss,
    "otlp_sink": json.loads(sink),
    "point_records_at_end": int(point_rows),
    "idempotency_keys_at_end": int(point_keys),
}
json.dump(report, open(out, "w"), indent=2)
print(f"\n{'request (bare)':56} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for r in rows:
    if r["variant"] == "bare" and r["round"] == 0:
        x = r["result"]
        print(f"{r['request']:56} {x['rps']:>9.0f} {x['p50_ms']:>8.2f} {x['p99_ms']:>8.2f} {x['errors']:>7}")
bare = {s["request"]: s for s in summary if s["variant"] == "bare"}
print(f"\n{'request':38} {'variant':7} {'req/s':>7} {'vs bare':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'spans/req':>9}  CPU ms/req: point  user  sink beyla machine")
for s in summary:
    change = f"{100 * (s['rps'] / bare[s['request']]['rps'] - 1):+.0f}%" if s["variant"] != "bare" else ""
    c = s["cpu_ms_per_request"]
    print(f"{s['request'] if s['variant'] == 'bare' else '':38} {s['variant']:7} {s['rps']:>7.0f} {change:>8} {s['p50_ms']:>7.2f} {s['p99_ms']:>7.2f} {s['errors']:>6} {s['spans_per_request']:>9.2f}"
          f"  {c['point-service']:>16.3f} {c['user-service']:>5.3f} {c['sink']:>5.3f} {c['beyla']:>5.3f} {c['machine']:>7.3f}")
print("\npeak RSS MB: " + "; ".join(f"{r['variant']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "variant") for r in rss))
print(f"point records at the end: {point_rows}, idempotency keys: {point_keys}; load average at the end: {' '.join(report['machine']['load_average_at_end'])}")
print(f"machine: {cpu}, {os.cpu_count()} cores; settings: {report['settings']['connections']} connections, {report['settings']['threads']} threads, {report['settings']['duration']} per request after {report['settings']['warmup']} warm-up")
print(f"written: {out}")
PY
