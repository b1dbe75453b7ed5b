#!/usr/bin/env bash
# bench/state_redis.sh BUILD_DIR [BASELINE_WASMGATE]: state.redis under load, and what waiting costs.
#
# Starts on loopback: redis-server (appendfsync always, as bench/sidecar.sh), a delaying proxy in
# front of it (tests/gate/delayproxy.py: every reply BENCH_DELAY_MS late, 100 by default), and for
# each binary (this build's wasmgate, and BASELINE_WASMGATE if given, e.g. a build of the previous
# commit) `wasmgate run --threads 2` with a state.redis store on Redis and one on the delayed Redis.
# Then, side by side per binary, with wrk -t1:
#   - state get / save on Redis, BENCH_WRK_CONNS (16) connections: rps, p50, p99;
#   - state get on the delayed Redis with BENCH_SLOW_CONNS (200) connections: rps (a store that
#     serialises its calls answers 1000/BENCH_DELAY_MS per second whatever the connections).
# Environment: BENCH_WRK_SECONDS (5). Everything it started is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: state_redis.sh BUILD_DIR [BASELINE_WASMGATE]}" && pwd)
bins=("$build/cli/wasmgate")
[ -n "${2:-}" ] && bins+=("$(realpath "$2")")
secs=${BENCH_WRK_SECONDS:-5}
conns=${BENCH_WRK_CONNS:-16}
slow_conns=${BENCH_SLOW_CONNS:-200}
delay_ms=${BENCH_DELAY_MS:-100}
for t in wrk redis-server python3; do
  command -v "$t" >/dev/null || { echo "state_redis bench: $t not installed (scripts/deps.sh)" >&2; exit 1; }
done
source "$root/bench/lib.sh"
bench_tmpdir wg-bench-redis
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly yes --appendfsync always \
  --daemonize no >"$dir/redis.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
python3 "$root/tests/gate/delayproxy.py" "$redis_port" "$(awk "BEGIN {print $delay_ms / 1000}")" >"$dir/proxy.port" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/proxy.port" ] && break; sleep 0.05; done
slow_port=$(cat "$dir/proxy.port")
mkdir -p "$dir/resources"
cat >"$dir/resources/stores.yaml" <<EOF
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: redis}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:$redis_port"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: slow}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:$slow_port"}
  - {name: readTimeout, value: 30s}
EOF
cat >"$dir/save.lua" <<'EOF'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    '[{"key":"k' .. (n % 1000) .. '","value":{"n":' .. n .. ',"s":"some text"}}]')
end
EOF
cat >"$dir/pct.lua" <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("WGRESULT %.0f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
EOF
cat "$dir/save.lua" "$dir/pct.lua" >"$dir/both.lua"
run_wrk() { # LABEL URL SCRIPT CONNS
  local out
  out=$(timeout $((secs + 40)) wrk -t 1 -c "$4" -d "${secs}s" --timeout 30s -s "$3" "$2" 2>&1 | grep WGRESULT) || true
  read -r _ rps p50 p99 errs <<<"$out"
  printf '  %-40s %9s rps   p50 %8s ms   p99 %8s ms%s\n' "$1" "${rps:-?}" "${p50:-?}" "${p99:-?}" \
    "$([ "${errs:-0}" != 0 ] && echo "   ($errs errors/non-2xx)")"
}
echo "state.redis: $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); wasmgate --threads 2;" \
  "wrk -t1 ${secs}s per line; delayed Redis: +$delay_ms ms per reply"
for wg in "${bins[@]}"; do
  api_port=$(free_port)
  "$wg" run --app-id bench --dapr-http-port "$api_port" --dapr-grpc-port "$(free_port)" --metrics-port "$(free_port)" \
    --dapr-listen-addresses 127.0.0.1 --resources-path "$dir/resources" --threads 2 --log-level warn \
    >"$dir/wasmgate.log" 2>&1 & wg_pid=$!
  pids+=($wg_pid)
  api=http://127.0.0.1:$api_port
  for _ in $(seq 400); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$api/v1.0/healthz")" = 204 ] && break; sleep 0.05; done
  curl -s -X POST "$api/v1.0/state/redis" -d '[{"key":"hot","value":{"a":1}}]' >/dev/null
  curl -s -X POST "$api/v1.0/state/slow" -d '[{"key":"hot","value":{"a":1}}]' >/dev/null
  echo "$wg:"
  run_wrk "state get, redis (-c$conns)" "$api/v1.0/state/redis/hot" "$dir/pct.lua" "$conns"
  run_wrk "state save, redis (-c$conns)" "$api/v1.0/state/redis" "$dir/both.lua" "$conns"
  run_wrk "state get, redis +${delay_ms}ms (-c$slow_conns)" "$api/v1.0/state/slow/hot" "$dir/pct.lua" "$slow_conns"
  kill "$wg_pid"; wait "$wg_pid" 2>/dev/null || true
done
