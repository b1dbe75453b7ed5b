#!/usr/bin/env bash
# bench/component.sh BUILD_DIR: component costs (bench_component.c) on a C
# hello world built at bench time (clang-19, then `jco new --wasi-command`
# for the component) and bench/component/hostcall.wat (`jco parse`), next to
# `jco run` of the same component (node + preview2-shim, whole process).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: component.sh BUILD_DIR}" && pwd)
jco=$root/scripts/npm/node_modules/@bytecodealliance/jco/dist/jco.js
out=$build/bench-component
mkdir -p "$out"
[ -f "$jco" ] || { echo "component bench: jco not installed (scripts/deps.sh)"; exit 0; }
clang-19 --target=wasm32-wasi -O2 "$root/tests/guests/hello.c" -o "$out/hello.wasm"
node "$jco" new "$out/hello.wasm" --wasi-command -o "$out/hello.component.wasm" >/dev/null
node -e "import('$root/scripts/npm/node_modules/@bytecodealliance/jco/dist/api.js').then(async m => require('fs').writeFileSync('$out/hostcall.component.wasm', await m.parse(require('fs').readFileSync('$root/bench/component/hostcall.wat', 'utf8'))))"
"$build/bench/bench_component" "$out/hello.wasm" "$out/hello.component.wasm" "$out/hostcall.component.wasm"
# whole processes, median of 5: wasmgate wasm run (module, component) and jco run
med() { sort -n | sed -n 3p; }
for what in "wasmgate-p1 $build/cli/wasmgate wasm run $out/hello.wasm" \
            "wasmgate-p2 $build/cli/wasmgate wasm run $out/hello.component.wasm" \
            "jco-run node $jco run $out/hello.component.wasm"; do
  set -- $what
  name=$1; shift
  t=$(for _ in 1 2 3 4 5; do s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); done | med)
  echo "process: $name hello: $t ms"
done
