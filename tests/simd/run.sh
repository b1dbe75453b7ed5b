#!/usr/bin/env bash
# SIMD on a real program: tests/simd/simd_kernels.c compiled by the build
# with clang-19 -O2 -msimd128 (BUILD_DIR/simd/simd_kernels.wasm) must print
# what the same source prints natively (clang-19 -O2), and must really use
# SIMD (at least 40 distinct 0xFD instructions, counted by wasm-objdump).
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
got=$("$wg" wasm run "$wasm")
if [ "$want" != "$got" ]; then
  echo "FAIL: wasm output differs from native" >&2
  diff <(echo "$want") <(echo "$got") >&2 || true
  exit 1
fi
echo "$got"
echo "ok: same output as native"
