#!/usr/bin/env bash
# bench/exec.sh BUILD_DIR: execution speed of the engine against native code
# and node's V8, side by side in one run (the machines are shared and noisy:
# compare ratios, not absolute times).
# Each kernel (bench/kernels/*.c, freestanding C exporting run(i32) -> i64) is
# compiled three ways with clang-19 -O2: natively, to wasm32 for V8, and the
# same .wasm for wasmgate, which runs it on its interpreter (wg) and on its
# compiled tier (jit, WASMGATE_TIER=jit). Every runner prints its result, and
# all must agree. The last lines give the compile speed of both tiers
# (bench_compile) on the kernels and on a larger real program. Environment: BENCH_RUNS (3): runs per engine, the median is reported;
# WASM3=/path/to/wasm3 adds a column for wasm3 built from source (never
# committed; its time is the whole process, start-up about 1 ms).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: exec.sh BUILD_DIR}" && pwd)
runs=${BENCH_RUNS:-3}
out=$build/bench-exec
mkdir -p "$out"
declare -A arg=([fib]=35 [sieve]=20 [matmul]=8 [crc32]=30 [quicksort]=4 [sha256]=400 [nbody]=300000 [mandelbrot]=700 [mixed]=20000)

median() { sort -n | sed -n "$(((runs + 1) / 2))p"; }
measure() { # measure CMD... -> "RESULT MEDIAN_MS"
  local res="" times=()
  for _ in $(seq "$runs"); do
    local line
    line=$("$@")
    res=${line#result=}; res=${res%% *}
    times+=("${line##*ms=}")
  done
  echo "$res $(printf '%s\n' "${times[@]}" | median)"
}

wasm3_ms() { # the median wall time of `wasm3 --func run FILE N`, checking its result
  local times=() t0 t1 line
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    line=$("$WASM3" --func run "$1" "$2" 2>&1)
    t1=$(date +%s%N)
    [ "${line#Result: }" = "$3" ] || { echo "wasm3 result '$line' differs" >&2; return 1; }
    times+=($((t1 - t0)))
  done
  printf '%s\n' "${times[@]}" | median | awk '{ printf "%.1f", $1 / 1e6 }'
}

printf '%-10s %10s %10s %10s %10s %10s %10s %10s %10s' kernel native_ms v8_ms wg_ms jit_ms wg/native jit/native v8/native jit/v8
[ -n "${WASM3:-}" ] && printf ' %10s %10s' wasm3_ms wg/wasm3
echo
status=0
ratios=()
for k in fib sieve matmul crc32 quicksort sha256 nbody mandelbrot mixed; do
  src=$root/bench/kernels/$k.c
  clang-19 -O2 -fno-builtin -fno-math-errno -o "$out/$k.native" "$src" "$root/bench/native_main.c"
  # Compile and link separately: -O on clang's link line would run wasm-opt.
  clang-19 --target=wasm32 -O2 -fno-builtin -fno-math-errno -c -o "$out/$k.o" "$src"
  wasm-ld-19 --no-entry --export=run -o "$out/$k.wasm" "$out/$k.o"
  read -r rn tn < <(measure "$out/$k.native" "${arg[$k]}")
  read -r rv tv < <(measure node "$root/bench/run_node.mjs" "$out/$k.wasm" "${arg[$k]}")
  read -r rw tw < <(measure env WASMGATE_TIER=interp "$build/bench/bench_exec" "$out/$k.wasm" "${arg[$k]}")
  read -r rj tj < <(measure env WASMGATE_TIER=jit "$build/bench/bench_exec" "$out/$k.wasm" "${arg[$k]}")
  if [ "$rn" != "$rv" ] || [ "$rn" != "$rw" ] || [ "$rn" != "$rj" ]; then
    echo "$k: results differ: native $rn, V8 $rv, wasmgate $rw, jit $rj" >&2
    status=1
  fi
  ratios+=("$(awk -v n="$tn" -v w="$tw" -v v="$tv" -v j="$tj" 'BEGIN { print w / n, v / n, j / n }')")
  awk -v k="$k" -v n="$tn" -v v="$tv" -v w="$tw" -v j="$tj" \
    'BEGIN { printf "%-10s %10.1f %10.1f %10.1f %10.1f %10.1f %10.2f %10.2f %10.2f", k, n, v, w, j, w / n, j / n, v / n, j / v }'
  if [ -n "${WASM3:-}" ]; then
    t3=$(wasm3_ms "$out/$k.wasm" "${arg[$k]}" "$rn") || status=1
    awk -v a="$t3" -v w="$tw" 'BEGIN { printf " %10.1f %10.2f", a, w / a }'
  fi
  echo
done
printf '%s\n' "${ratios[@]}" | awk '{ w += log($1); v += log($2); j += log($3); n++ }
  END { printf "geomean: interpreter/native %.2f, jit/native %.2f, V8/native %.2f (%d kernels)\n", exp(w / n), exp(j / n), exp(v / n), n }'
if [ -x "$build/bench/bench_compile" ]; then
  echo "compile speed (median of 5; MB of function bodies per second):"
  for f in "$out"/*.wasm "$build/tests/guests/engine.wasm"; do
    [ -f "$f" ] && "$build/bench/bench_compile" "$f" 5
  done
fi
exit $status
