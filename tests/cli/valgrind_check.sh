#!/usr/bin/env bash
# Runs `wasmgate wasm validate` on every assembled fixture and guest (valid and
# invalid ones) and `wasm dump` on valid ones under valgrind: any leak or invalid
# memory access fails the test (valgrind's own exit status 99); the command's
# own exit status (1 for invalid modules) does not.
# usage: valgrind_check.sh VALGRIND WASMGATE BUILD_DIR
set -u
valgrind=$1 wg=$2 build=$3
vg=("$valgrind" --quiet --leak-check=full --errors-for-leak-kinds=all --error-exitcode=99)
pass=0 fail=0
run() {
  "${vg[@]}" "$wg" "$@" >/dev/null 2>"$build/valgrind.log"
  if [ $? -eq 99 ]; then fail=$((fail + 1)); cat "$build/valgrind.log" >&2; else pass=$((pass + 1)); fi
}
shopt -s nullglob
run wasm validate "$build"/fixtures/*/*.wasm "$build"/guests/*.wasm
for f in "$build"/fixtures/valid/*.wasm "$build"/guests/*.wasm; do run wasm dump "$f"; done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
