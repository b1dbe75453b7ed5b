#!/usr/bin/env bash
# Runs our own .wast scripts (tests/wast/*.wast) the way the official spec
# testsuite runs: wabt's wast2json converts them, and ../shared/tools/spec/
# run_v8.mjs checks the engine from outside through `wasmgate spec-driver`.
# The same scripts first run on node's V8, so a wrong expectation in a test
# fails the test instead of passing a wrong engine.
# usage: run.sh WASMGATE OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../../../shared/tools/spec"
wasmgate=$1 out=$2
[ -f "$tools/run_v8.mjs" ] || { echo "spec tools not found at $tools" >&2; exit 2; }
rm -rf "$out"
for wast in "$here"/*.wast; do
  name=$(basename "$wast" .wast)
  mkdir -p "$out/$name"
  (cd "$out/$name" && wast2json "$wast" -o "$name.json")
done
echo "reference (V8):"
v8=$(node "$tools/run_v8.mjs" "$out")
echo "$v8"
echo "wasmgate:"
ours=$(node "$tools/run_v8.mjs" --verbose --driver "$wasmgate spec-driver" "$out")
echo "$ours"
tail -n 1 <<<"$v8" | grep -q ' 0 failed' && tail -n 1 <<<"$ours" | grep -q ' 0 failed'
