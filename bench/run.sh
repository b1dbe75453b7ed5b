#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: the engine's decode+validate benchmark, then execution (exec.sh, simd.sh,
# speedtest1.sh: SQLite's speedtest1 when SQLITE_SRC gives its sources),
# the embedding API (bench_api), the sidecar core under load (sidecar.sh: healthz, state,
# invocation vs nginx, fixed-rate latency, RSS) and with http-wasm middleware and
# bindings.wasm (middleware.sh), the mesh and pub/sub (pubsub.py; grpc_stream.py: streaming
# subscription vs HTTP push).
# Builds the input modules (bench/make-inputs.sh, into BUILD_DIR/bench-inputs),
# runs BUILD_DIR/bench/bench_decode on each, and times wabt's wasm-validate on
# the same file for reference (it is not a target: it is a different program,
# and its time includes process start-up and reading the file).
# Environment: BENCH_SECONDS (per timed run, 0.5), BENCH_RUNS (7).
# Takes about 20-30 s in all.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
secs=${BENCH_SECONDS:-0.5}
runs=${BENCH_RUNS:-7}
bench=$build/bench/bench_decode
inputs=$build/bench-inputs
[ -x "$bench" ] || { echo "bench: $bench not built" >&2; exit 1; }

"$root/bench/make-inputs.sh" "$inputs"

# Median wall time of wasm-validate over $runs runs, in seconds.
validate_time() {
  local f=$1 times=() t0 t1
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    wasm-validate --enable-all "$f" >/dev/null 2>&1 || { echo "rejected"; return; }
    t1=$(date +%s%N)
    times+=($((t1 - t0)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p" |
    awk -v size="$(stat -c %s "$f")" '{ printf "%.1f ms, %.1f MB/s", $1 / 1e6, size / ($1 / 1e9) / 1e6 }'
}

echo "bench: $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $runs runs of >= ${secs}s each"
if command -v wasm-validate >/dev/null; then
  printf '\0asm\1\0\0\0' >"$inputs/empty.wasm"
  echo "  reference: wasm-validate on an empty module (process start-up): $(validate_time "$inputs/empty.wasm" | cut -d, -f1)"
fi
status=0
for name in engine engine-libc synthetic; do
  f=$inputs/$name.wasm
  label=$name
  [ "$name" = synthetic ] && label="synthetic(wasm-opt -ttf)"
  "$bench" -t "$secs" -r "$runs" -n "$label" "$f" || status=1
  if command -v wasm-validate >/dev/null; then
    echo "  reference: wasm-validate (wabt) on the same file: $(validate_time "$f") (median of $runs, whole process)"
  fi
done
echo
echo "embedding API (bench_api):"
"$build/bench/bench_api" | sed 's/^/  /' || status=1
echo
echo "start-up (bench/startup.sh): wasm run of a hello world vs the binary's own start and an empty process"
"$root/bench/startup.sh" "$build" || status=1
echo
echo "execution (bench/exec.sh): median of ${BENCH_RUNS:-3} runs, ratios to native code and V8"
"$root/bench/exec.sh" "$build" || status=1
echo
echo "SIMD (bench/simd.sh): an image pipeline built with -msimd128, native vs both tiers"
"$root/bench/simd.sh" "$build" || status=1
echo "SQLite speedtest1 (bench/speedtest1.sh; SQLITE_SRC=sources): native, node, both tiers"
"$root/bench/speedtest1.sh" "$build" || status=1
echo
echo "sidecar (bench/sidecar.sh): wasmgate run under wrk and a fixed-rate client, vs the app direct and nginx"
"$root/bench/sidecar.sh" "$build" || status=1
echo "per request (bench/per_request.sh): allocations and system calls per healthz and per invocation"
"$root/bench/per_request.sh" "$build" || status=1
echo "state.redis (bench/state_redis.sh): get/save, and gets on a Redis 100 ms late (BENCH_BASELINE: a second wasmgate side by side)"
"$root/bench/state_redis.sh" "$build" ${BENCH_BASELINE:+"$BENCH_BASELINE"} || status=1
echo "wasi:keyvalue (bench/p2_keyvalue.sh): a component's bucket.get vs GET /v1.0/state over HTTP"
"$root/bench/p2_keyvalue.sh" "$build" || status=1
"$root/bench/mesh.sh" "$build" || status=1
"$root/bench/grpc.sh" "$build" || status=1
"$root/bench/grpc_app.sh" "$build" || status=1
python3 "$root/bench/pubsub.py" "$build/cli/wasmgate" || status=1
/usr/bin/python3 "$root/bench/grpc_stream.py" "$build/cli/wasmgate" || status=1
"$root/bench/middleware.sh" "$build" || status=1
exit "$status"
