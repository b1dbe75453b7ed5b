#!/usr/bin/env bash
# Checks `wasmgate wasm validate` against the .wat fixtures (assembled by the
# build into BUILD_DIR/fixtures) and the C guests (BUILD_DIR/guests):
#   fixtures/valid/*.wat     must validate (exit 0, nothing on stderr)
#   fixtures/invalid/*.wat   first line ";; error: MESSAGE": must fail with
#                            exit 1 and "FILE:0xOFFSET: MESSAGE" on stderr
#   guests/*.wasm            real programs compiled by clang: must validate
# usage: check_fixtures.sh WASMGATE FIXTURES_SRC BUILD_DIR
set -u
wasmgate=$1 src=$2 build=$3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*" >&2; }

for wat in "$src"/valid/*.wat; do
  wasm="$build/fixtures/valid/$(basename "${wat%.wat}").wasm"
  if err=$("$wasmgate" wasm validate "$wasm" 2>&1); then ok; else bad "$wat: $err"; fi
done

for wat in "$src"/invalid/*.wat; do
  wasm="$build/fixtures/invalid/$(basename "${wat%.wat}").wasm"
  want=$(sed -n '1s/^;; error: //p' "$wat")
  [ -n "$want" ] || { bad "$wat: no ';; error:' line"; continue; }
  err=$("$wasmgate" wasm validate "$wasm" 2>&1)
  status=$?
  if [ $status -ne 1 ]; then bad "$wat: exit $status, want 1 ($err)"; continue; fi
  case "$err" in
    "$wasm:0x"*": $want") ok ;;
    *) bad "$wat: got '$err', want '$wasm:0x...: $want'" ;;
  esac
done

shopt -s nullglob
for wasm in "$build"/guests/*.wasm; do
  if err=$("$wasmgate" wasm validate "$wasm" 2>&1); then ok; else bad "$wasm: $err"; fi
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
