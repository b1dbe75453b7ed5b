#!/usr/bin/env bash
# build.sh OUTDIR [js]: builds the wasi:http test components at test time
# (never committed) into OUTDIR:
#   echo.wasm    tests/components/http/echo.c through ../mkcomponent.py
#                --nostdlib (clang-19 --target=wasm32 -nostdlib, `jco embed`,
#                `jco new`) with jco's wasi:http WIT rewritten to @0.2.3 (the
#                host defines 0.2.12: imports resolve semver-compatibly);
#   fetch.wasm   tests/components/http/fetch.c the same way (outgoing-handler);
#   fresh.wasm   tests/components/http/fresh.c the same way (state it reports
#                and changes: the fresh policy's test);
#   kvcount.wasm tests/components/http/kvcount.c the same way, with the
#                wasi:keyvalue@0.2.0-draft and wasi:config@0.2.0-rc.1 WIT of
#                tests/components/kv/draft;
#   hello.js.wasm  (with `js`) tests/components/http/hello.js through `jco
#                componentize` (componentize-js; ~12 MB, ~35 s) for the
#                wasi:http@0.2.10 proxy world (a `fetch` event handler).
# Exit 77 when clang-19, node or jco is missing (1 under CI, which exports CI:
# there a missing install is an error). Rebuilds only what is older than its
# source.
set -uo pipefail
out=${1:?usage: build.sh OUTDIR [js]}
here=$(cd "$(dirname "$0")" && pwd)
nm=$here/../../../scripts/npm/node_modules
jco=$nm/@bytecodealliance/jco/dist/jco.js
wit=$nm/@bytecodealliance/jco/lib/wit/builtin/0.2.12
shim=$nm/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js
skip() { echo "${CI:+FAIL: }skip: $*"; [ -n "${CI:-}" ] && exit 1; exit 77; }
command -v node >/dev/null || skip "node not installed"
command -v clang-19 >/dev/null || skip "clang-19 not installed"
[ -f "$jco" ] && [ -d "$wit" ] || skip "jco not installed (scripts/deps.sh installs scripts/npm)"
mkdir -p "$out"
# the WIT of a world that includes wasi:http/proxy at version $1
mkwit() {
  local dir=$1 ver=$2 world=$3
  rm -rf "$dir" && mkdir -p "$dir/deps"
  for d in "$wit"/*; do
    mkdir -p "$dir/deps/$(basename "$d")"
    sed "s/@0\.2\.12/@$ver/g" "$d/package.wit" >"$dir/deps/$(basename "$d")/package.wit"
  done
  printf 'package test:%s;\nworld %s {\n  include wasi:http/proxy@%s;\n}\n' "$world" "$world" "$ver" >"$dir/world.wit"
}
# clang-19 -nostdlib -> jco embed -> jco new: the shared recipe (tests/components/mkcomponent.py)
mk() { python3 "$here/../mkcomponent.py" --nostdlib --dep "$here/bump_realloc.h" "$@" || exit $?; }
if [ ! "$out/echo.wasm" -nt "$here/echo.c" ] || [ ! "$out/echo.wasm" -nt "$here/bump_realloc.h" ]; then
  mkwit "$out/wit-0.2.3" 0.2.3 echo
  mk "$here/echo.c" -o "$out/echo.wasm" --wit "$out/wit-0.2.3" --world echo
fi
# fetch.wasm: wasi:http/proxy@0.2.3 (outgoing-handler), like echo.wasm
if [ ! "$out/fetch.wasm" -nt "$here/fetch.c" ] || [ ! "$out/fetch.wasm" -nt "$here/bump_realloc.h" ]; then
  mkwit "$out/wit-fetch" 0.2.3 fetch
  mk "$here/fetch.c" -o "$out/fetch.wasm" --wit "$out/wit-fetch" --world fetch
fi
# fresh.wasm: wasi:http/proxy@0.2.3, like echo.wasm (the fresh policy's state test)
if [ ! "$out/fresh.wasm" -nt "$here/fresh.c" ] || [ ! "$out/fresh.wasm" -nt "$here/bump_realloc.h" ]; then
  mkwit "$out/wit-fresh" 0.2.3 fresh
  mk "$here/fresh.c" -o "$out/fresh.wasm" --wit "$out/wit-fresh" --world fresh
fi
# kvcount.wasm: wasi:http/proxy@0.2.3 plus wasi:keyvalue@0.2.0-draft (the WIT of tests/components/kv/draft)
if [ ! "$out/kvcount.wasm" -nt "$here/kvcount.c" ] || [ ! "$out/kvcount.wasm" -nt "$here/bump_realloc.h" ]; then
  mkwit "$out/wit-kv" 0.2.3 kvcount
  cp -r "$here/../kv/draft/deps/keyvalue" "$here/../kv/draft/deps/config" "$out/wit-kv/deps/"
  printf 'package test:kvcount;\nworld kvcount {\n  include wasi:http/proxy@0.2.3;\n  import wasi:keyvalue/atomics@0.2.0-draft;\n  import wasi:config/store@0.2.0-rc.1;\n}\n' \
    >"$out/wit-kv/world.wit"
  mk "$here/kvcount.c" -o "$out/kvcount.wasm" --wit "$out/wit-kv" --world kvcount
fi
if [ "${2:-}" = js ] && [ ! "$out/hello.js.wasm" -nt "$here/hello.js" ]; then
  [ -d "$nm/@bytecodealliance/componentize-js" ] && [ -f "$shim" ] ||
    skip "componentize-js not installed"
  # componentize-js serves a `fetch` event handler when the world is wasi:http's own `proxy`, and
  # with WIT older than 0.2.10 jco runs componentize-js 0.19.3, whose engine merges with it
  mkwit "$out/wit-js" 0.2.3 unused
  rm "$out/wit-js/world.wit" && mv "$out/wit-js/deps/wasi-http/package.wit" "$out/wit-js/" && rmdir "$out/wit-js/deps/wasi-http"
  if ! JCO_SHIM_FS=$shim node --import "$here/../jco_preopen.mjs" "$jco" componentize "$here/hello.js" \
         --wit "$out/wit-js" --world-name proxy -o "$out/hello.js.wasm" >"$out/js.log" 2>&1; then
    echo "FAIL: jco componentize: $(grep -v '^    at' "$out/js.log" | head -3)"
    exit 1
  fi
fi
exit 0
