#!/usr/bin/env bash
# bench/wasm_app_policies.sh BUILD_DIR: what a fresh wasm app instance costs, side by side in one run.
#  1. instantiation alone (bench_memimage): a fresh instance of a small C app (bench/wasmapp/stateget.c,
#     2 pages) and of a module with 4 MiB of initial memory, with the ordinary memory ("off"), the
#     heap-copy image ("copy") and the copy-on-write image ("cow"); then the same three as an instance
#     reset for reuse (wg_instance_reset: thread CPU per round, also after a memory.grow);
#  2. a hello app through invocation (/v1.0/invoke/bench/method/hello, wrk, one loop thread):
#     WAGI and http-wasm fresh (tests/gate/apps/hw_app.c), as a new instance per request (memory
#     image off / cow) and as an instance reset to its initial state (the default), http-wasm pooled,
#     and the same answer from a native HTTP app (nginx `return 200`) behind wasmgate (--app-port).
#  3. cold start: exec of `wasmgate run --app-wasm` (the 2-page C app) to its first answered
#     invocation, COLD_RUNS times (15), median and minimum (bench/coldstart.py).
# Environment: SECONDS_PER_RUN (3), CONNS (16), N (20000), COLD_RUNS (15); BASELINE_WASMGATE (another
# wasmgate binary, e.g. of the previous commit) adds its line after each of part 2 and 3, same run.
set -euo pipefail
build=$(cd "${1:?usage: wasm_app_policies.sh BUILD_DIR}" && pwd)
dur=${SECONDS_PER_RUN:-3}
conns=${CONNS:-16}
n=${N:-20000}
wasmgate=$build/cli/wasmgate
for t in wrk nginx wat2wasm; do command -v "$t" >/dev/null || { echo "wasm_app_policies.sh: $t not installed" >&2; exit 1; }; done
work=$(mktemp -d /tmp/wg-bench-wp.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo
echo "1. instantiation (store + stub imports + instance + 4 page writes + delete), µs per fresh instance"
"$build/bench/bench_memimage" "$build/bench/guests/stateget.wasm" "$n" 4
python3 - "$work/big.wat" <<'PY'
import sys
data = "".join("\\%02x" % (i % 251) for i in range(65536))
open(sys.argv[1], "w").write('(module (memory (export "memory") 64) (data (i32.const 1024) "%s") (func (export "_start")))' % data)
PY
wat2wasm "$work/big.wat" -o "$work/big.wasm"
"$build/bench/bench_memimage" "$work/big.wasm" $((n / 10)) 4
echo

# one wasmgate per line: ARGS... ; prints req/s, p50, p99, sidecar CPU per request
tck=$(getconf CLK_TCK)
line() {
  local label=$1 envs=$2 bin=${BIN:-$wasmgate}
  shift 2
  local port pid c0 c1 out reqs
  port=$(freeport)
  (cd "$work" && exec env $envs "$bin" run --app-id bench --threads 1 --dapr-http-port "$port" --dapr-grpc-port 0 \
    --dapr-listen-addresses 127.0.0.1 --metrics-port 0 --log-level warn "$@") >"$work/log.$port" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/v1.0/invoke/bench/method/hello" >/dev/null 2>&1 && break; sleep 0.05; done
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk -t1 -c"$conns" -d"${dur}s" --latency "http://127.0.0.1:$port/v1.0/invoke/bench/method/hello")
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%-40s' "$label"
  awk '/Requests\/sec/ {r = $2} / 50%/ {p50 = $2} / 99%/ {p99 = $2} END {printf "%10s req/s  p50 %8s  p99 %8s", r, p50, p99}' <<<"$out"
  awk -v c=$((c1 - c0)) -v t="$tck" -v r="$reqs" 'BEGIN {printf "  sidecar CPU %6.1f µs/req\n", c / t / r * 1e6}'
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [ -n "${BASELINE_WASMGATE:-}" ] && [ -z "${BIN:-}" ]; then BIN=$BASELINE_WASMGATE line "  (baseline) $label" "$envs" "$@"; fi
}

echo "2. hello through /v1.0/invoke, wrk -t1 -c$conns ${dur}s, wasmgate --threads 1"
wagi=$build/bench/guests/stateget.wasm
hw=$build/tests/gate/apps/hw_app.wasm
# fresh: by default an instance reset to its initial state (wg_instance_reset); "new instance" lines
# instantiate per request (WASMGATE_FRESH_RESET=off), as before the reset existed
line "WAGI fresh (new instance, image off)" "WASMGATE_MEMORY_IMAGE=off WASMGATE_FRESH_RESET=off" --app-wasm "$wagi"
line "WAGI fresh (new instance, image cow)" "WASMGATE_MEMORY_IMAGE=cow WASMGATE_FRESH_RESET=off" --app-wasm "$wagi"
line "WAGI fresh (reset, image cow)" WASMGATE_MEMORY_IMAGE=cow --app-wasm "$wagi"
line "http-wasm fresh (new inst., image off)" "WASMGATE_MEMORY_IMAGE=off WASMGATE_FRESH_RESET=off" --app-wasm "$hw"
line "http-wasm fresh (new inst., image cow)" "WASMGATE_MEMORY_IMAGE=cow WASMGATE_FRESH_RESET=off" --app-wasm "$hw"
line "http-wasm fresh (reset, image cow)" WASMGATE_MEMORY_IMAGE=cow --app-wasm "$hw"
line "http-wasm fresh (reset, image off)" WASMGATE_MEMORY_IMAGE=off --app-wasm "$hw"
line "http-wasm pooled" WASMGATE_MEMORY_IMAGE=off --app-wasm "$hw" --app-wasm-instances pooled
app_port=$(freeport)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOT
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$app_port; location / { return 200 'hello'; } }
}
EOT
nginx -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
line "native HTTP app (nginx) via --app-port" "" --app-port "$app_port"

echo
echo "3. cold start: exec of wasmgate run --app-wasm to the first answered invocation"
python3 "$(dirname "$0")/coldstart.py" "$wasmgate" "$wagi" "${COLD_RUNS:-15}"
[ -n "${BASELINE_WASMGATE:-}" ] && python3 "$(dirname "$0")/coldstart.py" "$BASELINE_WASMGATE" "$wagi" "${COLD_RUNS:-15}" baseline
true
