#!/usr/bin/env bash
# run_park.sh PARK_HOST OUTDIR: builds tests/components/park/park.c with its
# WIT world (clang-19, `jco embed`, `jco new --wasi-reactor`; never committed)
# and runs park_host on it (host calls that park the guest), once per tier.
# Exit 77 (skip) when clang-19, node or jco is missing (a failure under CI).
set -uo pipefail
host=${1:?usage: run_park.sh PARK_HOST OUTDIR}
out=${2:?}
missing() { if [ -n "${CI:-}" ]; then echo "FAIL: $1"; exit 1; fi; echo "skip: $1"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
nm=$root/scripts/npm/node_modules
jco=$nm/@bytecodealliance/jco/dist/jco.js
shim=$(ls "$nm"/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js \
          "$nm"/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js 2>/dev/null | head -1)
for tool in clang-19 node; do command -v $tool >/dev/null || missing "$tool not installed"; done
[ -f "$jco" ] || missing "jco not installed (scripts/deps.sh installs scripts/npm)"
mkdir -p "$out"
p=$out/park
clang-19 --target=wasm32-wasi -mexec-model=reactor -O2 "$here/park.c" -o "$p.wasm" || exit 1
JCO_SHIM_FS=$shim node --import "$here/../jco_preopen.mjs" "$jco" embed "$p.wasm" --wit "$here/park.wit" \
  -o "$p.embed.wasm" >"$p.log" 2>&1 || { cat "$p.log"; exit 1; }
node "$jco" new "$p.embed.wasm" --wasi-reactor -o "$p.component.wasm" >>"$p.log" 2>&1 || { cat "$p.log"; exit 1; }
rc=0
for tier in interp jit; do
  echo "== tier $tier"
  WASMGATE_TIER=$tier "$host" "$p.component.wasm" || rc=1
done
exit $rc
