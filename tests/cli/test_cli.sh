#!/usr/bin/env bash
# Black-box tests of the `wasmgate` command: help texts, exit statuses, error
# format, `wasm dump` output and the spec-driver protocol.
# usage: test_cli.sh WASMGATE BUILD_DIR  (BUILD_DIR holds the assembled fixtures)
set -u
wg=$1 build=$2
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() { # expect NAME STATUS WANT_REGEX -- CMD...
  local name=$1 want_status=$2 want=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want_status" ]; then
    fail=$((fail + 1)); echo "FAIL $name: exit $status, want $want_status: $out" >&2
  elif ! grep -Eq -- "$want" <<<"$out"; then
    fail=$((fail + 1)); echo "FAIL $name: output does not match /$want/: $out" >&2
  else
    pass=$((pass + 1))
  fi
}

expect "top help" 0 "usage: wasmgate <command>" -- "$wg" --help
expect "no command" 2 "usage: wasmgate" -- "$wg"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$wg" frobnicate
expect "wasm help" 0 "validate FILE.wasm" -- "$wg" wasm --help
expect "validate help" 0 "usage: wasmgate wasm validate" -- "$wg" wasm validate --help
expect "dump help" 0 "usage: wasmgate wasm dump" -- "$wg" wasm dump --help
expect "run help" 0 "usage: wasmgate run" -- "$wg" run --help
expect "spec-driver help" 0 "JSON-lines" -- "$wg" spec-driver --help
jitwasm=$tmp/tier.wasm
cat >"$tmp/tier.wat" <<'WAT'
(module
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "t_fib") (param i32) (result i32) (call $fib (local.get 0)))
  (func (export "t_div") (param i32) (result i32) (i32.div_u (i32.const 1) (i32.sub (local.get 0) (i32.const 3))))
  (func (export "t_int") (param i32) (result i32) (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))) (local.get 0)))
WAT
wat2wasm "$tmp/tier.wat" -o "$jitwasm"
expect "run --tier jit" 0 "^6765$" -- "$wg" wasm run --tier jit --invoke t_fib "$jitwasm" 20
expect "run --tier interp" 0 "^6765$" -- "$wg" wasm run --tier interp --invoke t_fib "$jitwasm" 20
expect "run --tier jit trap" 134 "integer divide by zero" -- "$wg" wasm run --tier jit --invoke t_div "$jitwasm" 3
expect "run --tier jit fuel" 134 "all fuel consumed" -- "$wg" wasm run --tier jit --fuel 100 --invoke t_int "$jitwasm" 1000
expect "run --tier bad" 2 "bad --tier 'fast'" -- "$wg" wasm run --tier fast --invoke t_fib "$jitwasm" 20
expect "unknown wasm subcommand" 2 "unknown subcommand 'nope'" -- "$wg" wasm nope
expect "validate no args" 2 "usage" -- "$wg" wasm validate
expect "validate missing file" 1 "$tmp/missing.wasm: No such file or directory" -- "$wg" wasm validate "$tmp/missing.wasm"

printf '\0asm\1\0\0\0' >"$tmp/empty.wasm"
printf '\0asm\2\0\0\0' >"$tmp/v2.wasm"
printf 'not wasm' >"$tmp/text.wasm"
expect "validate empty module" 0 "^$" -- "$wg" wasm validate "$tmp/empty.wasm"
expect "validate bad version" 1 "^$tmp/v2.wasm:0x4: unknown binary version$" -- "$wg" wasm validate "$tmp/v2.wasm"
expect "validate bad magic" 1 "^$tmp/text.wasm:0x0: magic header not detected$" -- "$wg" wasm validate "$tmp/text.wasm"
expect "validate several" 1 "text.wasm:0x0: magic header" -- "$wg" wasm validate "$tmp/empty.wasm" "$tmp/text.wasm"

control="$build/fixtures/valid/control.wasm"
expect "dump exports" 0 'func\[[0-9]+\] -> "fib"' -- "$wg" wasm dump "$control"
expect "dump types" 0 'type\[0\] \(i32, i32\) -> \(i32, i32\)' -- "$wg" wasm dump "$control"
expect "dump code" 0 'br_table 0 1 2$' -- "$wg" wasm dump "$control"
expect "dump loop" 0 '^ [0-9a-f]{6}: +br_if 1$' -- "$wg" wasm dump "$control"
expect "dump imports" 0 'memory\[0\] initial=1 max=2 <- env.mem' -- "$wg" wasm dump "$build/fixtures/valid/memory_tables.wasm"
expect "dump simd" 0 'i8x16.shuffle 0 17 2 19' -- "$wg" wasm dump "$build/fixtures/valid/simd.wasm"
expect "dump invalid" 1 "unknown binary version" -- "$wg" wasm dump "$tmp/v2.wasm"

# The spec driver: one JSON answer per request line.
cp "$tmp/empty.wasm" "$tmp/ok.wasm"
cp "$control" "$tmp/control.wasm"
answers=$(printf '%s\n' \
  "{\"op\":\"beginFile\",\"dir\":\"$tmp\"}" \
  '{"op":"validate","file":"ok.wasm"}' \
  '{"op":"validate","file":"v2.wasm"}' \
  '{"op":"module","file":"text.wasm","name":null}' \
  '{"op":"module","file":"control.wasm","name":"$M"}' \
  '{"op":"invoke","module":null,"field":"fib","args":[{"type":"i32","value":"10"}]}' \
  '{"op":"invoke","module":"$M","field":"dead","args":[]}' \
  '{"op":"invoke","module":null,"field":"nope","args":[]}' \
  'this is not json' \
  '{"op":"frob"}' | "$wg" spec-driver)
want='{"ok":true}
{"ok":true}
{"error":"compile","msg":"unknown binary version (at byte 4)"}
{"error":"compile","msg":"magic header not detected (at byte 0)"}
{"ok":true}
{"ok":true,"results":[{"type":"i32","value":"55"}]}
{"error":"trap","msg":"unreachable"}
{"error":"other","msg":"no such export"}
{"error":"other","msg":"malformed request"}
{"error":"other","msg":"unknown op"}'
if [ "$answers" = "$want" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL spec-driver: got:
$answers" >&2; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
