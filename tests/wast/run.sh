#!/usr/bin/env bash
# Runs our own .wast scripts (tests/wast/*.wast) the way the official spec
# testsuite runs: wabt's wast2json converts them, and ../shared/tools/spec/
# run_v8.mjs checks the engine from outside through `wasmgate spec-driver`.
# The same scripts first run on node's V8, so a wrong expectation in a test
# fails the test instead of passing a wrong engine. Scripts of WebAssembly
# 3.0 features (WASM3 below) that this machine's V8 (node 20: V8 11.3) does
# not have run on wasmgate only; their expectations follow the 3.0 spec
# tests of the same feature (tests/spec/run.sh runs those). Scripts wabt
# 1.0.32 cannot parse (WASM3_JCO: try_table, exnref) are converted by
# tests/spec/wast2json.mjs, which needs jco from scripts/npm: without it they
# are skipped, except under CI, where that fails.
# WAST_ONLY="name ...": only those scripts (tests/wast/simd_jit.sh).
# usage: run.sh WASMGATE OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../../../shared/tools/spec"
wasmgate=$1 out=$2
WASM3="multi_memory exceptions"
WASM3_JCO="exceptions"
[ -f "$tools/run_v8.mjs" ] || { echo "spec tools not found at $tools" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/v8" "$out/wasm3" # (WAST_ONLY may leave either empty)
for wast in "$here"/*.wast; do
  name=$(basename "$wast" .wast)
  if [ -n "${WAST_ONLY:-}" ] && [[ " $WAST_ONLY " != *" $name "* ]]; then continue; fi
  dir="$out/v8/$name"
  [[ " $WASM3 " == *" $name "* ]] && dir="$out/wasm3/$name"
  mkdir -p "$dir"
  if [[ " $WASM3_JCO " == *" $name "* ]]; then
    rc=0
    node "$here/../spec/wast2json.mjs" "$wast" "$dir" || rc=$?
    if [ "$rc" = 77 ] && [ -z "${CI:-}" ]; then echo "skip $name: jco not installed"; rm -rf "$dir"; continue; fi
    [ "$rc" = 0 ] || { echo "FAIL: cannot convert $name" >&2; exit 1; }
    continue
  fi
  (cd "$dir" && wast2json --enable-multi-memory --enable-tail-call "$wast" -o "$name.json")
done
echo "reference (V8):"
v8=$(node "$tools/run_v8.mjs" "$out/v8")
echo "$v8"
echo "wasmgate:"
ours=$(node "$tools/run_v8.mjs" --verbose --driver "$wasmgate spec-driver" "$out/v8" "$out/wasm3")
echo "$ours"
tail -n 1 <<<"$v8" | grep -q ' 0 failed' && tail -n 1 <<<"$ours" | grep -q ' 0 failed'
