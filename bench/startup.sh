#!/usr/bin/env bash
# bench/startup.sh BUILD_DIR: start-up of `wasmgate wasm run` on a wasi-libc
# hello world (BUILD_DIR/tests/guests/hello.wasm), side by side in one
# hyperfine run with the binary's own start (`wasmgate --help`) and an empty
# C program (the process alone), plus peak RSS and page faults of each
# (issue 16). WASM3=/path/to/wasm3 adds wasm3 running the same file.
# Environment: BENCH_STARTUP_RUNS (300).
set -euo pipefail
build=$(cd "${1:?usage: startup.sh BUILD_DIR}" && pwd)
runs=${BENCH_STARTUP_RUNS:-300}
wg=$build/cli/wasmgate
hello=$build/tests/guests/hello.wasm
command -v hyperfine >/dev/null || { echo "startup: hyperfine not installed (scripts/packages/tools.list)" >&2; exit 1; }
[ -f "$hello" ] || { echo "startup: $hello not built" >&2; exit 1; }
out=$build/bench-startup
mkdir -p "$out"
printf 'int main(void) { return 0; }\n' >"$out/empty.c"
cc -O2 -o "$out/empty" "$out/empty.c"
cmds=("$out/empty" "$wg --help" "$wg wasm run $hello")
[ -n "${WASM3:-}" ] && cmds+=("$WASM3 $hello")
hyperfine -N -w 20 -r "$runs" --export-json "$out/startup.json" "${cmds[@]}" >/dev/null 2>&1
python3 - "$out/startup.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"  {r['command'][-60:]:60} median {r['median']*1e3:6.2f} ms  min {r['min']*1e3:6.2f} ms")
PY
for c in "${cmds[@]}"; do
  # shellcheck disable=SC2086
  /usr/bin/time -f "  %M KB peak RSS, %R minor faults: ${c//$build\//}" $c >/dev/null 2>"$out/time.txt" || true
  tail -n 1 "$out/time.txt"
done
