#!/usr/bin/env bash
# bench/ab.sh BUILD_A BUILD_B: the execution kernels (bench/kernels/*.c,
# clang-19 -O2 to wasm32) on two builds of the engine, interleaved run by run
# so both see the same machine load; prints the median ms of each and B/A.
# With SIMD=1 a third column runs B on the same kernels compiled with
# -msimd128 (the loop vectoriser's wasm SIMD). BENCH_RUNS (5): runs each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a=$(cd "${1:?usage: ab.sh BUILD_A BUILD_B}" && pwd)
b=$(cd "${2:?usage: ab.sh BUILD_A BUILD_B}" && pwd)
runs=${BENCH_RUNS:-5}
out=$b/bench-ab
mkdir -p "$out"
declare -A arg=([fib]=35 [sieve]=20 [matmul]=8 [crc32]=30 [quicksort]=4 [sha256]=400 [nbody]=300000 [mandelbrot]=700)
median() { sort -n | sed -n "$(((runs + 1) / 2))p"; }
ms() { local line; line=$("$@"); echo "${line##*ms=} ${line#result=}"; }

printf '%-10s %10s %10s %8s' kernel A_ms B_ms B/A
[ "${SIMD:-0}" = 1 ] && printf ' %12s %10s' B_simd128_ms simd/B
echo
for k in fib sieve matmul crc32 quicksort sha256 nbody mandelbrot; do
  src=$root/bench/kernels/$k.c
  clang-19 --target=wasm32 -O2 -fno-builtin -fno-math-errno -c -o "$out/$k.o" "$src"
  wasm-ld-19 --no-entry --export=run -o "$out/$k.wasm" "$out/$k.o"
  clang-19 --target=wasm32 -O2 -msimd128 -fno-builtin -fno-math-errno -c -o "$out/$k.simd.o" "$src"
  wasm-ld-19 --no-entry --export=run -o "$out/$k.simd.wasm" "$out/$k.simd.o"
  ta=() tb=() ts=()
  for _ in $(seq "$runs"); do
    read -r t ra < <(ms "$a/bench/bench_exec" "$out/$k.wasm" "${arg[$k]}"); ta+=("$t")
    read -r t rb < <(ms "$b/bench/bench_exec" "$out/$k.wasm" "${arg[$k]}"); tb+=("$t")
    [ "${ra%% *}" = "${rb%% *}" ] || { echo "$k: results differ: $ra / $rb" >&2; exit 1; }
    if [ "${SIMD:-0}" = 1 ]; then
      read -r t rs < <(ms "$b/bench/bench_exec" "$out/$k.simd.wasm" "${arg[$k]}"); ts+=("$t")
      [ "${rs%% *}" = "${rb%% *}" ] || { echo "$k: simd128 result differs: $rs / $rb" >&2; exit 1; }
    fi
  done
  ma=$(printf '%s\n' "${ta[@]}" | median) mb=$(printf '%s\n' "${tb[@]}" | median)
  awk -v k="$k" -v a="$ma" -v b="$mb" 'BEGIN { printf "%-10s %10.1f %10.1f %8.3f", k, a, b, b / a }'
  if [ "${SIMD:-0}" = 1 ]; then
    msd=$(printf '%s\n' "${ts[@]}" | median)
    awk -v s="$msd" -v b="$mb" 'BEGIN { printf " %12.1f %10.3f", s, s / b }'
  fi
  echo
done
