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
# whole processes side by side in one hyperfine run: wasmgate wasm run of the
# preview1 module and of the component, and jco run of the component
# (BENCH_COMPONENT_RUNS, default 200; without hyperfine: median of 5 each)
runs=${BENCH_COMPONENT_RUNS:-200}
p1="$build/cli/wasmgate wasm run $out/hello.wasm"
p2="$build/cli/wasmgate wasm run $out/hello.component.wasm"
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 20 -r "$runs" --export-json "$out/process.json" "$p1" "$p2" >/dev/null 2>&1
  hyperfine -N -w 2 -r 10 --export-json "$out/jco.json" "node $jco run $out/hello.component.wasm" >/dev/null 2>&1 || true
  python3 - "$out/process.json" "$out/jco.json" <<'PY'
import json, os, sys
rs = json.load(open(sys.argv[1]))["results"]
if os.path.exists(sys.argv[2]): rs += json.load(open(sys.argv[2]))["results"]
for name, r in zip(["wasmgate-p1 module", "wasmgate-p2 component", "jco run component"], rs):
    print(f"process: {name:22} median {r['median']*1e3:7.2f} ms  min {r['min']*1e3:7.2f} ms  user+sys {(r['user']+r['system'])*1e3:6.2f} ms")
print(f"process: component / module: median {rs[1]['median']/rs[0]['median']:.2f}x, min {rs[1]['min']/rs[0]['min']:.2f}x")
PY
else
  med() { sort -n | sed -n 3p; }
  for what in "wasmgate-p1 $p1" "wasmgate-p2 $p2" "jco-run node $jco run $out/hello.component.wasm"; do
    set -- $what
    name=$1; shift
    t=$(for _ in 1 2 3 4 5; do s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); done | med)
    echo "process: $name hello: $t ms"
  done
fi
# instructions inside `wasm run` (wg_cmd_wasm_run: load, validate, instantiate, run), the
# number to trust on a loaded machine
if command -v valgrind >/dev/null; then
  for f in hello.wasm hello.component.wasm; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$f.out" --toggle-collect=wg_cmd_wasm_run \
      "$build/cli/wasmgate" wasm run "$out/$f" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' >"$out/cg.$f.n"
  done
  a=$(cat "$out/cg.hello.wasm.n") b=$(cat "$out/cg.hello.component.wasm.n")
  echo "callgrind: instructions in wg_cmd_wasm_run: module $a, component $b, ratio $(python3 -c "print(f'{$b/$a:.2f}')")x"
fi
