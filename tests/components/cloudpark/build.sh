#!/usr/bin/env bash
# build.sh OUTDIR: builds tests/components/cloudpark/cloudpark.c at test time (never committed) into
# OUTDIR/cloudpark.wasm through ../mkcomponent.py --nostdlib (clang-19 --target=wasm32 -nostdlib,
# `jco embed`, `jco new`): wasi:http/proxy@0.2.3 (jco's WIT rewritten from 0.2.12, as
# ../http/build.sh does) plus wasi:keyvalue@0.2.0-draft2 and wasi:config@0.2.0-draft-2024-09-27
# (../kv/draft2), wasi:messaging@0.2.0-draft (../kv/messaging) and dapr:runtime@0.1.0 (wit/dapr).
# Exit 77 when clang-19, node or jco is missing (1 under CI). Rebuilds only when older than a source.
set -uo pipefail
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
wit=$root/scripts/npm/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
skip() { echo "${CI:+FAIL: }skip: $*"; [ -n "${CI:-}" ] && exit 1; exit 77; }
command -v node >/dev/null || skip "node not installed"
command -v clang-19 >/dev/null || skip "clang-19 not installed"
[ -d "$wit" ] || skip "jco not installed (scripts/deps.sh installs scripts/npm)"
mkdir -p "$out"
if [ "$out/cloudpark.wasm" -nt "$here/cloudpark.c" ] && [ "$out/cloudpark.wasm" -nt "$here/../http/bump_realloc.h" ]; then
  exit 0
fi
w=$out/wit-cloudpark
rm -rf "$w" && mkdir -p "$w/deps"
for d in "$wit"/*; do
  mkdir -p "$w/deps/$(basename "$d")"
  sed "s/@0\.2\.12/@0.2.3/g" "$d/package.wit" >"$w/deps/$(basename "$d")/package.wit"
done
cp -r "$here/../kv/draft2/deps/keyvalue" "$here/../kv/draft2/deps/config" "$here/../kv/messaging/deps/messaging" "$w/deps/"
cp -r "$root/wit/dapr" "$w/deps/dapr"
cat >"$w/world.wit" <<'WIT'
package test:cloudpark;
world cloudpark {
  include wasi:http/proxy@0.2.3;
  import wasi:keyvalue/atomics@0.2.0-draft2;
  import wasi:keyvalue/batch@0.2.0-draft2;
  import wasi:config/store@0.2.0-draft-2024-09-27;
  import wasi:messaging/producer@0.2.0-draft;
  import dapr:runtime/state@0.1.0;
  import dapr:runtime/publisher@0.1.0;
  import dapr:runtime/output-bindings@0.1.0;
  import dapr:runtime/invoke@0.1.0;
}
WIT
exec python3 "$here/../mkcomponent.py" --nostdlib --dep "$here/../http/bump_realloc.h" "$here/cloudpark.c" \
  -o "$out/cloudpark.wasm" --wit "$w" --world cloudpark
