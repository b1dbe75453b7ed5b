#!/usr/bin/env bash
# SIMD in the compiled tier: tests/wast's SIMD scripts (simd_layout,
# simd_jit) on the compiled tier with WASMGATE_JIT_STRICT (a command that
# ran any function on the interpreter fails), once per path of
# engine/src/jit_x64_simd.c: what cpuid reports, SSE2 only, helpers only.
# usage: simd_jit.sh WASMGATE OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for mode in cpuid sse2 helpers; do
  simd=$mode
  [ "$mode" = cpuid ] && simd=
  echo "== WASMGATE_JIT_SIMD=${simd:-(unset)}"
  WAST_ONLY="simd_layout simd_jit" WASMGATE_TIER=jit WASMGATE_JIT_STRICT=1 WASMGATE_JIT_SIMD=$simd \
    "$here/run.sh" "$1" "$2/$mode"
done
