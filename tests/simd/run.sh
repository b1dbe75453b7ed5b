#!/usr/bin/env bash
# SIMD on a real program: tests/simd/simd_kernels.c compiled by the build
# with clang-19 -O2 -msimd128 (BUILD_DIR/simd/simd_kernels.wasm) must print
# what the same source prints natively (clang-19 -O2), and must really use
# SIMD (at least 40 distinct 0xFD instructions, counted by wasm-objdump).
# With WASMGATE_TIER=jit: on each path of the compiled tier's SIMD
# (WASMGATE_JIT_SIMD unset, sse2, helpers), every function compiled.
# usage: run.sh WASMGATE BUILD_DIR
set -euo pipefail
wg=$1 build=$2
src=$(cd "$(dirname "$0")" && pwd)/simd_kernels.c
wasm=$build/simd/simd_kernels.wasm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

distinct=$(wasm-objdump -d "$wasm" | grep -oE "(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.[a-z0-9_]+" | sort -u | wc -l)
echo "distinct SIMD instructions in the module: $distinct"
[ "$distinct" -ge 40 ] || { echo "FAIL: the module should use SIMD (clang -msimd128)" >&2; exit 1; }

clang-19 -O2 -w -o "$tmp/native" "$src" -lm
want=$("$tmp/native")
modes=(default)
[ "${WASMGATE_TIER:-}" = jit ] && modes=(default sse2 helpers)
for mode in "${modes[@]}"; do
  simd=$mode
  [ "$mode" = default ] && simd=
  got=$(WASMGATE_JIT_SIMD=$simd WASMGATE_JIT_LOG=1 "$wg" wasm run "$wasm" 2>"$tmp/log")
  if [ "$want" != "$got" ]; then
    echo "FAIL: wasm output differs from native ($mode)" >&2
    diff <(echo "$want") <(echo "$got") >&2 || true
    exit 1
  fi
  if [ "${WASMGATE_TIER:-}" = jit ] && grep -v ': compiled$' "$tmp/log" | grep -q .; then
    echo "FAIL: functions not compiled ($mode):" >&2
    grep -v ': compiled$' "$tmp/log" >&2
    exit 1
  fi
done
echo "$got"
echo "ok: same output as native"
