#!/usr/bin/env bash
# bench/wasm_app.sh BUILD_DIR: wasm apps (--app-wasm, docs/wasm-apps.md), side by side in one run.
#  1. host-call cost: one invocation of bench/wasmapp/stateget.c doing N dapr:v1 state gets of one
#     key, against state.in-memory (answers at once) and state.sqlite (its executor thread: every
#     get parks the guest and resumes it), minus the same invocation with N=0, divided by N;
#     versus the same get by an HTTP client through the sidecar (GET /v1.0/state/S/k with wrk:
#     the sidecar's CPU time per request, from /proc/PID/stat, and 1/rps);
#  2. a hello wasm app (fresh instance per request) through invocation: requests/s and latency (wrk);
#  3. cold start: from exec of `wasmgate run --app-wasm` to the first answered invocation;
#  4. parking at scale: PARKED (1000) concurrent invocations of a wasm app whose handler calls a
#     backend answering after 100 ms, one loop thread (tests/gate/wasm_app_parking.py with N).
# Environment: N (20000), SECONDS_PER_RUN (3), CONNS (16), PARKED (1000).
set -euo pipefail
build=$(cd "${1:?usage: wasm_app.sh BUILD_DIR}" && pwd)
n=${N:-20000}
dur=${SECONDS_PER_RUN:-3}
conns=${CONNS:-16}
wasmgate=$build/cli/wasmgate
app=$build/bench/guests/stateget.wasm
command -v wrk >/dev/null || { echo "wasm_app.sh: wrk not installed" >&2; exit 1; }
work=$(mktemp -d /tmp/wg-bench-wa.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
tck=$(getconf CLK_TCK)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/components"
for t in in-memory sqlite; do
  cat >"$work/components/$t.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${t/in-/}}
spec:
  type: state.$t
  version: v1
  metadata:
  - {name: connectionString, value: "$work/state.db"}
EOT
done
base="http://127.0.0.1:$port/v1.0"

start=$(date +%s%N)
(cd "$work" && exec "$wasmgate" run --app-id bench --app-wasm "$app" --threads 1 --dapr-http-port "$port" \
  --dapr-listen-addresses 127.0.0.1 --metrics-port 0 --log-level warn --resources-path "$work/components") \
  >"$work/log" 2>&1 &
pid=$!
until curl -sf "$base/invoke/bench/method/hello" >/dev/null 2>&1; do sleep 0.001; done
cold=$(( ($(date +%s%N) - start) / 1000 ))

for s in memory sqlite; do
  curl -sf -X POST "$base/state/$s" -H 'Content-Type: application/json' -d '[{"key":"k","value":{"v":1}}]'
done

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# one invocation's wall time in µs (median of 5), and the sidecar's CPU µs for the 5 together
inv_us() {
  local s=$1 k=$2 t=() c0 c1
  c0=$(cpu)
  for _ in 1 2 3 4 5; do
    t+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/invoke/bench/method/get?store=$s&n=$k")")
  done
  c1=$(cpu)
  printf '%s\n' "${t[@]}" | sort -n | sed -n 3p | awk -v c=$((c1 - c0)) -v t="$tck" '{printf "%.1f %.1f", $1 * 1e6, c / t / 5 * 1e6}'
}
# HTTP get: CPU µs per request of the sidecar, and 1/rps in µs
http_get() {
  local s=$1 c0 c1 out rps
  c0=$(cpu)
  out=$(wrk -t1 -c"$conns" -d"${dur}s" "$base/state/$s/k")
  c1=$(cpu)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v c=$((c1 - c0)) -v t="$tck" -v r="$reqs" -v rps="$rps" 'BEGIN {printf "%.2f %.2f", c / t / r * 1e6, 1e6 / rps}'
}

echo "wasm app state get (dapr:v1 host call), N=$n per invocation, 1 loop thread"
printf '%-8s %16s %16s %17s %15s %11s\n' store "in-proc wall µs" "in-proc CPU µs" "HTTP CPU µs/req" "HTTP 1/rps µs" "CPU ratio"
for s in memory sqlite; do
  read -r zw zc <<<"$(inv_us "$s" 0)"
  read -r ww wc <<<"$(inv_us "$s" "$n")"
  perw=$(awk -v a="$ww" -v b="$zw" -v n="$n" 'BEGIN {printf "%.3f", (a - b) / n}')
  perc=$(awk -v a="$wc" -v b="$zc" -v n="$n" 'BEGIN {printf "%.3f", (a - b) / n}')
  read -r hcpu hinv <<<"$(http_get "$s")"
  printf '%-8s %16s %16s %17s %15s %10.1fx\n' "$s" "$perw" "$perc" "$hcpu" "$hinv" \
    "$(awk -v a="$hcpu" -v b="$perc" 'BEGIN {print (b > 0 ? a / b : 0)}')"
done

echo
echo "hello wasm app (fresh instance per request) through invocation, wrk -c$conns ${dur}s, 1 loop thread"
c0=$(cpu)
out=$(wrk -t1 -c"$conns" -d"${dur}s" --latency "$base/invoke/bench/method/hello")
c1=$(cpu)
reqs=$(awk '/requests in/ {print $1}' <<<"$out")
awk '/Requests\/sec/ {printf "  %s req/s", $2} / 50%/ {printf ", p50 %s", $2} / 99%/ {printf ", p99 %s", $2}' <<<"$out"
awk -v c=$((c1 - c0)) -v t="$tck" -v r="$reqs" 'BEGIN {printf ", sidecar CPU %.1f µs/request\n", c / t / r * 1e6}'
echo
echo "cold start (exec to the first answered invocation): $((cold / 1000)).$(( (cold % 1000) / 100 )) ms"
echo
kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
pid=
ulimit -n 8192 2>/dev/null || true
root=$(cd "$(dirname "$0")/.." && pwd)
python3 "$root/tests/gate/wasm_app_parking.py" "$wasmgate" "$build/tests/gate/apps" "${PARKED:-1000}" | head -1
