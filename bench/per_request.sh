#!/usr/bin/env bash
# bench/per_request.sh BUILD_DIR: the work the sidecar's loop does per request, counted rather than timed
# (counts hold on a loaded machine, latencies do not; issue 17).
#
# Starts on loopback, in a temporary directory: a trivial app (nginx, `return 200`) and `wasmgate run
# --threads 1 --app-port` with BUILD_DIR/bench/alloc_count.so preloaded. For GET /v1.0/healthz and for
# service invocation (GET /v1.0/invoke/app/method/hello), after a warm-up of 2000 requests:
#   allocations/request  malloc + calloc + realloc calls over BENCH_REQUESTS (20000) requests
#                        (h2load --h1, BENCH_CONNS (16) keep-alive connections);
#   syscalls/request     strace -c -f attached to the sidecar over as many requests, with the
#                        calls that make up most of them.
# Everything it started is stopped on exit.
set -euo pipefail
build=$(cd "${1:?usage: per_request.sh BUILD_DIR}" && pwd)
wg=$build/cli/wasmgate
preload=$build/bench/alloc_count.so
n=${BENCH_REQUESTS:-20000}
conns=${BENCH_CONNS:-16}
for t in nginx h2load strace; do
  command -v "$t" >/dev/null || { echo "per_request bench: $t not installed (scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$wg" ] && [ -f "$preload" ] || { echo "per_request bench: build first (not a SANITIZE build)" >&2; exit 1; }

source "$(dirname "$0")/lib.sh"
bench_tmpdir wg-perreq
app=$(free_port); api=$(free_port); metrics=$(free_port); grpc=$(free_port)
nginx_conf app 1 "server { listen 127.0.0.1:$app; location / { return 200 'hello'; } }"
nginx_start app
(cd "$dir" && HOME=$dir LD_PRELOAD=$preload exec "$wg" run --app-id app --app-port "$app" --dapr-http-port "$api" \
  --dapr-grpc-port "$grpc" --metrics-port "$metrics" --threads 1 --log-level warn >"$dir/wasmgate.log" 2>&1) &
wpid=$!; pids+=($wpid)
counts=/dev/shm/alloc_count.$wpid
trap 'rm -f "$counts"; bench_cleanup' EXIT
wait_http "http://127.0.0.1:$api/v1.0/healthz"
[ -f "$counts" ] || { echo "per_request bench: no allocation counts from the sidecar ($counts)" >&2; exit 1; }

load() { # URL N: h2load, failing unless all N succeed
  local out
  out=$(h2load --h1 -n "$2" -c "$conns" -t 1 "$1")
  grep -q "^requests: $2 total, $2 started, $2 done, $2 succeeded" <<<"$out" || { echo "$out" >&2; return 1; }
}
allocs() { python3 -c "import struct; m, c, r, f = struct.unpack('4Q', open('$counts', 'rb').read(32)); print(m + c + r)"; }

echo "per request, $n requests over $conns keep-alive connections (h2load --h1), wasmgate --threads 1:"
for what in "healthz /v1.0/healthz" "invocation /v1.0/invoke/app/method/hello"; do
  name=${what%% *}; url=http://127.0.0.1:$api${what#* }
  load "$url" 2000
  a0=$(allocs); load "$url" "$n"; a1=$(allocs)
  strace -c -f -p "$wpid" -o "$dir/strace.$name" 2>/dev/null & spid=$!
  sleep 1 # attached to every thread
  load "$url" "$n"
  kill -INT "$spid"; wait "$spid" 2>/dev/null || true
  python3 - "$name" "$a0" "$a1" "$n" "$dir/strace.$name" <<'EOF'
import sys
name, a0, a1, n, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = []
for line in open(path):
    p = line.split()
    if len(p) >= 5 and p[0][0].isdigit() and p[-1] != "total":
        rows.append((int(p[3]), p[-1]))
rows.sort(reverse=True)
top = ", ".join(f"{c / n:.2f} {s}" for c, s in rows[:4])
print(f"  {name:10s} allocations/request {(a1 - a0) / n:6.2f}   syscalls/request {sum(c for c, _ in rows) / n:5.2f} ({top})")
EOF
done
