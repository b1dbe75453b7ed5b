#!/usr/bin/env bash
# Runs the official WebAssembly spec testsuite against wasmgate through the
# spec driver, with the checking done outside the engine (run_v8.mjs).
#
# usage: tests/spec/run.sh WASMGATE SPEC_SRC [OUT_DIR]
#   SPEC_SRC  a checkout of WebAssembly/testsuite at its Wasm 2.0 commit
#             (a8101597: the *.wast files at its top level). Never committed.
#   OUT_DIR   where the converted JSON + .wasm go (default: build/spec-out)
# Prints run_v8.mjs's per-file lines, then the per-command-type totals and
# the message check (our error text must start with the suite's text).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tools="$root/../shared/tools/spec"
wasmgate=$(realpath "$1")
src=${2:?usage: run.sh WASMGATE SPEC_SRC [OUT_DIR]}
out=${3:-$root/build/spec-out}

[ -f "$tools/run_v8.mjs" ] || { echo "spec tools not found at $tools" >&2; exit 2; }
if [ ! -f "$out/convert-status.tsv" ]; then
  python3 "$tools/convert.py" "$src" "$out" >/dev/null
fi
node "$tools/run_v8.mjs" --driver "$wasmgate spec-driver" --json "$out/results.json" "$out" | tail -n 1
python3 "$here/summarize.py" "$out/results.json"
python3 "$here/check_messages.py" "$wasmgate" "$out"
