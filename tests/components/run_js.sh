#!/usr/bin/env bash
# run_js.sh CM_DRIVER OUTDIR: a JavaScript component from a real toolchain,
# built at test time (never committed): tests/components/js/hello.js with its
# WIT world through `jco componentize` (componentize-js: SpiderMonkey in
# StarlingMonkey, about 12 MB of component), then run through the embedding
# API with WASI 0.2 defined (cm_driver): greet("wasmgate") must return
# what the JavaScript computes. Exit 77 (skip) when node, jco or
# componentize-js is missing.
set -uo pipefail
driver=${1:?usage: run_js.sh CM_DRIVER OUTDIR}
out=${2:?}
# A missing install skips (77) on a developer's machine but fails under CI, where
# scripts/deps.sh installs everything: a skip there would hide a missing install step.
missing() { if [ -n "${CI:-}" ]; then echo "FAIL: $1"; exit 1; fi; echo "skip: $1"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
nm=$here/../../scripts/npm/node_modules
jco=$nm/@bytecodealliance/jco/dist/jco.js
shim=$nm/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js
command -v node >/dev/null || missing "node not installed"
[ -f "$jco" ] && [ -d "$nm/@bytecodealliance/componentize-js" ] && [ -f "$shim" ] ||
  missing "jco/componentize-js not installed (scripts/deps.sh installs scripts/npm)"
mkdir -p "$out"
comp=$out/hello.js.component.wasm
if ! JCO_SHIM_FS=$shim node --import "$here/jco_preopen.mjs" "$jco" componentize "$here/js/hello.js" \
       --wit "$here/js/hello.wit" --world-name hello -o "$comp" >"$out/componentize.log" 2>&1; then
  echo "FAIL: jco componentize: $(grep -v '^    at' "$out/componentize.log" | head -3)"
  exit 1
fi
echo "built $(stat -c %s "$comp") bytes"
got=$(echo '(assert_return (invoke "greet" (str.const "wasmgate")) (str.const "hello wasmgate from js (2,4,6)"))
(assert_return (invoke "greet" (str.const "é☃🍰")) (str.const "hello é☃🍰 from js (2,4,6)"))' | "$driver" "$comp")
echo "$got"
[ "$got" = "pass
pass" ] || { echo "FAIL: the JavaScript component"; exit 1; }
echo "js component: ok"
