#!/usr/bin/env bash
# Differential check of the validator on random valid modules: binaryen's
# `wasm-opt -ttf` turns fixed-seed random bytes into modules; those that V8
# (node) also accepts must validate with wasmgate, and those V8 rejects must
# be rejected. (Debian's binaryen 108 predates the final reference-types
# rules, so that feature stays off.)
# usage: random_modules.sh WASMGATE WORK_DIR [COUNT]
set -u
wasmgate=$1 work=$2 count=${3:-40}
mkdir -p "$work"
pass=0 fail=0 skipped=0
for i in $(seq 1 "$count"); do
  seed="$work/seed$i.bin" wasm="$work/random$i.wasm"
  # Deterministic bytes per index, so a failure reproduces.
  python3 -c "import random,sys; r=random.Random($i); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(4096)))" >"$seed"
  if ! wasm-opt -ttf "$seed" -o "$wasm" --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-simd --enable-multivalue >/dev/null 2>&1; then
    skipped=$((skipped + 1))
    continue
  fi
  v8=valid
  node -e 'new WebAssembly.Module(require("fs").readFileSync(process.argv[1]))' "$wasm" 2>/dev/null || v8=invalid
  ours=valid
  err=$("$wasmgate" wasm validate "$wasm" 2>&1) || ours=invalid
  if [ "$v8" = "$ours" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL random module $i ($wasm): V8 says $v8, wasmgate says $ours $err" >&2
  fi
done
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ] && [ $pass -ge $((count / 2)) ]
