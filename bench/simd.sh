#!/usr/bin/env bash
# bench/simd.sh BUILD_DIR: SIMD on both tiers, side by side in one run.
# bench/simd/image.c (an image pipeline: grayscale, 3x3 blur, threshold,
# float brightness/contrast with a dot product) is compiled with clang-19 -O2
# natively and for wasm32-wasi with -msimd128 (one .wasm), then run natively,
# on wasmgate's interpreter, and on the compiled tier three ways: its default
# (inline SSE picked by cpuid), WASMGATE_JIT_SIMD=sse2 (SSE2 only: an old
# CPU's paths) and WASMGATE_JIT_SIMD=helpers (every SIMD instruction calls
# simd.c's function: what inline code buys). Every run must print what the
# native build prints, and the compiled tier must compile every function
# (WASMGATE_JIT_LOG). Reported: CPU time (user + sys of the process, median
# of BENCH_RUNS, default 3) and its ratio to native and to the interpreter;
# with CACHEGRIND=1 also the instructions executed (valgrind cachegrind,
# whole process), which a loaded machine does not scatter.
# Environment: SIMD_ITER (20): passes over the picture.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: simd.sh BUILD_DIR}" && pwd)
runs=${BENCH_RUNS:-3}
iter=${SIMD_ITER:-20}
out=$build/bench-simd
mkdir -p "$out"
wg=$build/cli/wasmgate
src=$root/bench/simd/image.c
clang-19 -O2 -o "$out/image.native" "$src"
clang-19 --target=wasm32-wasi -O2 -msimd128 -o "$out/image.wasm" "$src"
distinct=$(wasm-objdump -d "$out/image.wasm" | grep -oE "(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.[a-z0-9_]+" | sort -u | wc -l)
want=$("$out/image.native" "$iter")
echo "$want ($distinct distinct SIMD instructions in the .wasm)"

# cpu_ms CMD...: runs CMD, checks its output, prints its CPU time in ms.
cpu_ms() {
  python3 - "$want" "$@" <<'EOF'
import resource, subprocess, sys
want, cmd = sys.argv[1], sys.argv[2:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
got = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
after = resource.getrusage(resource.RUSAGE_CHILDREN)
if got != want:
    sys.exit(f"output differs: {got!r} != {want!r}")
print(f"{((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000:.1f}")
EOF
}
median() { sort -n | sed -n "$(((runs + 1) / 2))p"; }

# Every function compiled (the interpreter would hide a SIMD fallback).
notc=$(WASMGATE_TIER=jit WASMGATE_JIT_LOG=1 "$wg" wasm run "$out/image.wasm" 1 2>&1 >/dev/null | grep -c -v ': compiled$' || true)
[ "$notc" = 0 ] || { echo "FAIL: $notc functions not compiled" >&2; exit 1; }

declare -A cmd=(
  [native]="$out/image.native $iter"
  [interp]="env WASMGATE_TIER=interp $wg wasm run $out/image.wasm $iter"
  [jit]="env WASMGATE_TIER=jit $wg wasm run $out/image.wasm $iter"
  [jit_sse2]="env WASMGATE_TIER=jit WASMGATE_JIT_SIMD=sse2 $wg wasm run $out/image.wasm $iter"
  [jit_helpers]="env WASMGATE_TIER=jit WASMGATE_JIT_SIMD=helpers $wg wasm run $out/image.wasm $iter"
)
order=(native interp jit jit_sse2 jit_helpers)
declare -A ms
for name in "${order[@]}"; do ms[$name]=""; done
# Interleaved rounds: a load spike hits every column alike.
for _ in $(seq "$runs"); do
  for name in "${order[@]}"; do
    # shellcheck disable=SC2086
    ms[$name]+="$(cpu_ms ${cmd[$name]}) "
  done
done
printf '%-12s %10s %10s %12s\n' run cpu_ms /native interp/this
for name in "${order[@]}"; do
  m=$(printf '%s\n' ${ms[$name]} | median)
  [ "$name" = native ] && nat=$m
  [ "$name" = interp ] && int=$m
  awk -v n="$name" -v m="$m" -v nat="$nat" -v ip="${int:-$m}" \
    'BEGIN { printf "%-12s %10.1f %10.1f %12.2f\n", n, m, m / nat, ip / m }'
done
if [ -n "${CACHEGRIND:-}" ]; then
  echo "instructions executed (cachegrind, whole process, SIMD_ITER=$iter):"
  for name in "${order[@]}"; do
    # shellcheck disable=SC2086
    ir=$(valgrind --tool=cachegrind --cache-sim=no --trace-children=yes --cachegrind-out-file=/dev/null ${cmd[$name]} 2>&1 >/dev/null |
         sed -n 's/.*I *refs: *//p' | tr -d ,)
    printf '%-12s %16s\n' "$name" "$ir"
  done
fi
