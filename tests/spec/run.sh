#!/usr/bin/env bash
# Runs the official WebAssembly spec testsuite against wasmgate through the
# spec driver, with the checking done outside the engine (run_v8.mjs).
#
# usage: tests/spec/run.sh WASMGATE SPEC_SRC [OUT_DIR]
#   SPEC_SRC  a checkout of WebAssembly/testsuite at its Wasm 2.0 commit
#             (a8101597: the *.wast files at its top level, and the 3.0
#             files in proposals/wasm-3.0). Never committed.
#   OUT_DIR   where the converted JSON + .wasm go (default: build/spec-out)
# Two parts, each printing run_v8.mjs's last line, the per-command-type
# totals and the message check (our error text must start with the suite's):
#   1. the Wasm 2.0 suite (top level), with `spec-driver --wasm2` (modules
#      decoded as 2.0: its tests reject what 3.0 made valid);
#   2. the Wasm 3.0 files of the 3.0 features the engine implements
#      (WASM3_FILES below: multi-memory, exception handling, tail calls), with every
#      feature on, into OUT_DIR/wasm-3.0. Scripts that Debian's wabt 1.0.32
#      cannot parse (try_table, exnref) are converted by wast2json.mjs
#      (modules through jco's wasm-tools parser) instead of convert.py.
# With WASMGATE_TIER=jit the compiled tier runs it; adding WASMGATE_JIT_STRICT=1
# fails every command that ran a function on the interpreter (the 2.0 part
# passes in full that way; in part 2, functions with exception handlers, tail
# calls or other memories than memory 0 still run on the interpreter).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tools="$root/../shared/tools/spec"
wasmgate=$(realpath "$1")
src=${2:?usage: run.sh WASMGATE SPEC_SRC [OUT_DIR]}
out=${3:-$root/build/spec-out}

# Multi-memory (the proposal's own files, merged into 3.0's test/core) and
# exception handling (3.0's final form).
WASM3_MULTI_MEMORY="address0 address1 align0 binary0 data0 data1 data_drop0 exports0 float_exprs0 float_exprs1
  float_memory0 imports0 imports1 imports2 imports3 imports4 linking0 linking1 linking2 linking3 load0 load1 load2
  memory-multi memory_copy0 memory_copy1 memory_fill0 memory_init0 memory_size0 memory_size1 memory_size2
  memory_size3 memory_trap0 memory_trap1 simd_memory-multi start0 store0 store1 store2 traps0"
WASM3_EXCEPTIONS="tag throw throw_ref try_table"
WASM3_TAIL_CALL="return_call return_call_indirect"
WASM3_FILES=${WASM3_FILES:-"$WASM3_MULTI_MEMORY $WASM3_EXCEPTIONS $WASM3_TAIL_CALL"}

[ -f "$tools/run_v8.mjs" ] || { echo "spec tools not found at $tools" >&2; exit 2; }
if [ ! -f "$out/convert-status.tsv" ]; then
  python3 "$tools/convert.py" "$src" "$out" >/dev/null
fi
echo "== WebAssembly 2.0 suite (spec-driver --wasm2)"
node "$tools/run_v8.mjs" --driver "$wasmgate spec-driver --wasm2" --json "$out/results.json" \
  $(find "$out" -mindepth 1 -maxdepth 1 -type d ! -name wasm-3.0 ! -name wasm-3.0.src | sort) | tail -n 1
python3 "$here/summarize.py" "$out/results.json"
python3 "$here/check_messages.py" "$wasmgate" "$out" --wasm2

w3="$src/proposals/wasm-3.0"
[ -d "$w3" ] || { echo "no $w3: the 3.0 files are skipped"; exit 0; }
o3="$out/wasm-3.0"
if [ ! -f "$o3/convert-status.tsv" ]; then
  stage="$o3.src"
  rm -rf "$stage" && mkdir -p "$stage"
  theirs=()
  for f in $WASM3_FILES; do
    if wast2json --enable-all "$w3/$f.wast" -o "$stage/probe.json" >/dev/null 2>&1; then
      ln -s "$w3/$f.wast" "$stage/$f.wast"
    else
      theirs+=("$f")
    fi
    rm -f "$stage"/probe*
  done
  python3 "$tools/convert.py" "$stage" "$o3" >/dev/null
  for f in "${theirs[@]}"; do node "$here/wast2json.mjs" "$w3/$f.wast" "$o3/$f"; done
fi
echo "== WebAssembly 3.0 files: multi-memory, exception handling, tail calls (spec-driver)"
node "$tools/run_v8.mjs" --driver "$wasmgate spec-driver" --json "$o3/results.json" "$o3" | tail -n 1
python3 "$here/summarize.py" "$o3/results.json"
python3 "$here/check_messages.py" "$wasmgate" "$o3"
