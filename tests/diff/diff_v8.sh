#!/usr/bin/env bash
# Differential test against V8: binaryen (`wasm-opt -ttf`) turns fixed-seed
# random bytes into valid modules (with its hang limit, so they terminate);
# run_exports (wasmgate) and run_exports.mjs (node) call every export and
# print what happens; the two traces must be identical.
# Normalised, as documented in docs/engine.md: NaN bit patterns, which the
# spec lets engines choose (binaryen's --denan pass turns every NaN the module
# computes into 0 before it can reach memory or an integer, and any NaN prints
# "nan"), trap messages (both print "trap"), and stack exhaustion: engines
# have different depth limits, so both traces are cut at the first
# "exhaustion" on either side. Features: those of Wasm 2.0 that V8 and the
# interpreter share (no reference types: Debian's binaryen 108 predates their
# final rules); SIMD with DIFF_SIMD=1 (v128 cannot cross the JS boundary in
# V8: exports with v128 in their type are traps on both sides, see
# run_exports.c; v128 values reach the traces through log-v128, scalar
# results and hashMemory).
# usage: [DIFF_SIMD=1] diff_v8.sh RUN_EXPORTS WORK_DIR [COUNT] [FIRST_SEED]
set -u
here=$(cd "$(dirname "$0")" && pwd)
runner=$1 work=$2 count=${3:-40} first=${4:-1}
mkdir -p "$work"
pass=0 fail=0 skipped=0
cut_at_exhaustion() { awk '/^exhaustion$/ { exit } { print }'; }
for i in $(seq "$first" $((first + count - 1))); do
  seed=$work/seed$i.bin wasm=$work/m$i${DIFF_SIMD:+.simd}.wasm
  python3 -c "import random,sys; r=random.Random($i); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(8192)))" >"$seed"
  if ! wasm-opt -ttf "$seed" -o "$wasm" --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-multivalue ${DIFF_SIMD:+--enable-simd} --denan >/dev/null 2>&1; then
    skipped=$((skipped + 1))
    continue
  fi
  ours=$(timeout 60 "$runner" "$wasm" 2>&1)
  sigs=$("$runner" --sigs "$wasm")
  theirs=$(timeout 60 node --stack-size=4000 "$here/run_exports.mjs" "$wasm" "$sigs" 2>&1)
  a=$(cut_at_exhaustion <<<"$ours") b=$(cut_at_exhaustion <<<"$theirs")
  if [ "$a" = "$b" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "DIVERGENCE module $i ($wasm):" >&2
    diff <(echo "$a") <(echo "$b") | head -10 >&2
  fi
done
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ] && [ "$pass" -ge $((count / 2)) ]
