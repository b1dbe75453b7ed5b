#!/usr/bin/env bash
# bench/sidecar.sh BUILD_DIR: the sidecar under load (run by `make bench`).
#
# Starts, on loopback ports in a temporary directory: a trivial app (nginx,
# `return 200`), nginx as a reverse proxy to it (keep-alive upstream), a
# redis-server, and `wasmgate run` with a state.sqlite and a state.redis store
# and --app-port pointing at the app. Then:
#   1. closed loop (wrk -t1): healthz; state save and get on sqlite and redis.
#   2. service invocation side by side: BENCH_ROUNDS rounds, each the app
#      called directly, through the sidecar (/v1.0/invoke) and through nginx,
#      one after the other (so a change in the machine's load hits all three
#      alike); per line rps, p50, p99 and the proxy's CPU time per request
#      (user + system, all its threads or worker processes); then the medians
#      and the sidecar's ratios to nginx.
#   3. open loop (bench/openloop at a fixed rate, latency from the due time):
#      the same three invocation paths at BENCH_RATE (1000/s); the sidecar's
#      added p99 is sidecar p99 minus direct p99.
#   4. the sidecar's RSS when idle (after start) and after the runs.
# Fairness: wasmgate runs with its default loop-thread count (half the cores,
# at least 1) unless BENCH_THREADS is set, and the nginx proxy gets as many
# worker processes (both are one event loop per thread/process; the app is
# nginx with 1 worker in every case).
# Environment: BENCH_WRK_SECONDS (5), BENCH_WRK_CONNS (32), BENCH_ROUNDS (3),
# BENCH_RATE (1000), BENCH_OPEN_SECONDS (10), BENCH_THREADS (unset: wasmgate's
# default, and as many nginx workers).
# Everything it started is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: sidecar.sh BUILD_DIR}" && pwd)
wg=$build/cli/wasmgate
openloop=$build/bench/openloop
secs=${BENCH_WRK_SECONDS:-5}
conns=${BENCH_WRK_CONNS:-32}
rounds=${BENCH_ROUNDS:-3}
rate=${BENCH_RATE:-1000}
osecs=${BENCH_OPEN_SECONDS:-10}
threads=${BENCH_THREADS:-}
wg_threads=()
if [ -n "$threads" ]; then wg_threads=(--threads "$threads"); else
  threads=$(($(nproc) / 2)) # wgg_default_loop_threads: half the CPUs this process may use, at least 1
  [ "$threads" -ge 1 ] || threads=1
fi
for t in wrk nginx redis-server; do
  command -v "$t" >/dev/null || { echo "sidecar bench: $t not installed (scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$wg" ] && [ -x "$openloop" ] || { echo "sidecar bench: build first" >&2; exit 1; }

source "$root/bench/lib.sh"
bench_tmpdir wg-bench
app_port=$(free_port); proxy_port=$(free_port); redis_port=$(free_port); api_port=$(free_port); metrics_port=$(free_port)

# nginx: the app (1 worker) and the proxy ($threads workers), each its own master, foreground
nginx_conf app 1 "server { listen 127.0.0.1:$app_port; location / { return 200 'hello'; } }"
nginx_conf proxy "$threads" "upstream app { server 127.0.0.1:$app_port; keepalive 64; }
  server { listen 127.0.0.1:$proxy_port; location / { proxy_pass http://app; proxy_http_version 1.1;
           proxy_set_header Connection \"\"; } }"
nginx_start app
nginx_start proxy
proxy_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly yes --appendfsync always \
  --daemonize no >"$dir/redis.log" 2>&1 & pids+=($!)

mkdir -p "$dir/resources"
cat >"$dir/resources/stores.yaml" <<EOF
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: sqlite}
spec:
  type: state.sqlite
  version: v1
  metadata:
  - {name: connectionString, value: "$dir/state.db"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: redis}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:$redis_port"}
EOF
wait_http "http://127.0.0.1:$app_port/"
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
"$wg" run --app-id bench --app-port "$app_port" --dapr-http-port "$api_port" --metrics-port "$metrics_port" \
  --dapr-listen-addresses 127.0.0.1 --resources-path "$dir/resources" "${wg_threads[@]}" --log-level warn \
  >"$dir/wasmgate.log" 2>&1 & wg_pid=$!
pids+=($wg_pid)
wait_http "http://127.0.0.1:$api_port/v1.0/healthz"
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/v1.0/healthz")" = 204 ] && break; sleep 0.05; done
sleep 0.5
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
idle_rss=$(rss_kb "$wg_pid")

# wrk: one line "label: rps, p50, p99"
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
# CPU ticks (user + system) of a process and its children (nginx's workers); all threads count
cpu_ticks() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1" || true); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
tck=$(getconf CLK_TCK)
run_wrk() { # LABEL URL [save] [cpu PID] [wrk args...]; sets rps p50 p99 cpu_us
  local label=$1 url=$2; shift 2
  local script=$dir/pct.lua cpid= c0=0 c1=0
  if [ "${1:-}" = save ]; then cat "$dir/save.lua" "$dir/pct.lua" >"$dir/both.lua"; script=$dir/both.lua; shift; fi
  if [ "${1:-}" = cpu ]; then cpid=$2; shift 2; fi
  [ -n "$cpid" ] && c0=$(cpu_ticks "$cpid")
  local out
  out=$(timeout $((secs + 30)) wrk -t 1 -c "$conns" -d "${secs}s" -s "$script" "$@" "$url" 2>&1 | grep WGRESULT) || true
  [ -n "$cpid" ] && c1=$(cpu_ticks "$cpid")
  read -r _ rps p50 p99 errs <<<"$out"
  cpu_us=
  [ -n "$cpid" ] && [ -n "${rps:-}" ] && cpu_us=$(awk -v c=$((c1 - c0)) -v t="$tck" -v r="$rps" -v s="$secs" \
    'BEGIN {printf "%.1f", c / t / (r * s) * 1e6}')
  printf '  %-44s %9s rps   p50 %7s ms   p99 %7s ms%s%s\n' "$label" "${rps:-?}" "${p50:-?}" "${p99:-?}" \
    "$([ -n "$cpu_us" ] && echo "   proxy CPU $cpu_us us/req")" "$([ "${errs:-0}" != 0 ] && echo "   ($errs errors/non-2xx)")"
}
median() { sort -g | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "?"}'; }
api=http://127.0.0.1:$api_port
curl -s -X POST "$api/v1.0/state/sqlite" -d '[{"key":"hot","value":{"a":1}}]' >/dev/null
curl -s -X POST "$api/v1.0/state/redis" -d '[{"key":"hot","value":{"a":1}}]' >/dev/null

echo "sidecar: $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); wasmgate" \
  "$([ ${#wg_threads[@]} = 0 ] && echo "default threads ($threads)" || echo "--threads $threads"), nginx proxy $threads" \
  "worker(s), app = nginx (1 worker); wrk -t1 -c$conns ${secs}s per line"
echo "closed loop (wrk):"
run_wrk "GET /v1.0/healthz" "$api/v1.0/healthz"
run_wrk "state get, sqlite" "$api/v1.0/state/sqlite/hot"
run_wrk "state save, sqlite (fsync per commit)" "$api/v1.0/state/sqlite" save
run_wrk "state get, redis" "$api/v1.0/state/redis/hot"
run_wrk "state save, redis (appendfsync always)" "$api/v1.0/state/redis" save
echo "service invocation, $rounds rounds of: the app directly, through the sidecar, through nginx:"
declare -a s_rps s_p99 s_cpu n_rps n_p99 n_cpu d_rps d_p99
for r in $(seq "$rounds"); do
  run_wrk "round $r: app called directly" "http://127.0.0.1:$app_port/hello"
  d_rps+=("$rps"); d_p99+=("$p99")
  run_wrk "round $r: app through the sidecar (/v1.0/invoke)" "$api/v1.0/invoke/bench/method/hello" cpu "$wg_pid"
  s_rps+=("$rps"); s_p99+=("$p99"); s_cpu+=("$cpu_us")
  run_wrk "round $r: app through nginx (reverse proxy)" "http://127.0.0.1:$proxy_port/hello" cpu "$proxy_pid"
  n_rps+=("$rps"); n_p99+=("$p99"); n_cpu+=("$cpu_us")
done
m() { printf '%s\n' "$@" | median; }
sr=$(m "${s_rps[@]}"); sp=$(m "${s_p99[@]}"); sc=$(m "${s_cpu[@]}")
nr=$(m "${n_rps[@]}"); np=$(m "${n_p99[@]}"); nc=$(m "${n_cpu[@]}")
echo "  medians: direct $(m "${d_rps[@]}") rps p99 $(m "${d_p99[@]}") ms; sidecar $sr rps p99 $sp ms, $sc us CPU/req;" \
  "nginx $nr rps p99 $np ms, $nc us CPU/req"
awk -v sr="$sr" -v nr="$nr" -v sp="$sp" -v np="$np" -v sc="$sc" -v nc="$nc" 'BEGIN {
  printf "  sidecar / nginx: requests/s x%.2f (target >= 1), p99 x%.2f (target <= 1), CPU per request x%.2f\n",
    sr / nr, sp / np, sc / nc }'

echo "open loop (bench/openloop, $rate req/s for ${osecs}s, 8 connections, latency from the due time):"
declare -A p99 p50
for path in direct:"127.0.0.1:$app_port /hello" sidecar:"127.0.0.1:$api_port /v1.0/invoke/bench/method/hello" \
            nginx:"127.0.0.1:$proxy_port /hello"; do
  name=${path%%:*}; args=${path#*:}
  # shellcheck disable=SC2086
  line=$(timeout $((osecs + 30)) "$openloop" -r "$rate" -d "$osecs" -w 1 -c 8 $args) || true
  printf '  %-8s %s\n' "$name" "$line"
  p99[$name]=$(sed -n 's/.*from due time us: p50 [0-9.]* p90 [0-9.]* p99 \([0-9.]*\) .*/\1/p' <<<"$line")
  p50[$name]=$(sed -n 's/.*from due time us: p50 \([0-9.]*\) .*/\1/p' <<<"$line")
done
if [ -n "${p99[sidecar]:-}" ] && [ -n "${p99[direct]:-}" ]; then
  awk -v s="${p99[sidecar]}" -v d="${p99[direct]}" -v n="${p99[nginx]:-0}" -v r="$rate" \
      -v s5="${p50[sidecar]}" -v d5="${p50[direct]}" -v n5="${p50[nginx]:-0}" 'BEGIN {
    printf "  added over direct at %d req/s: sidecar p50 %+.1f us, p99 %+.1f us (target: p99 < +100 us); nginx p50 %+.1f us, p99 %+.1f us\n",
      r, s5 - d5, s - d, n5 - d5, n - d }'
fi
echo "memory: wasmgate RSS idle $((idle_rss / 1024)).$(((idle_rss % 1024) * 10 / 1024)) MB (target < 10 MB)," \
  "after the runs $(( $(rss_kb "$wg_pid") / 1024 )) MB"
