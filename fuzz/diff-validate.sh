#!/usr/bin/env bash
# fuzz/diff-validate.sh BUILD_DIR [TARGET [MAX]]: differential check of the
# validator. Replays up to MAX (default 5000) inputs of TARGET's corpus
# (fuzz_code by default; BUILD_DIR/fuzz-corpus/TARGET, grown by fuzz/run.sh),
# writing each module and the engine's verdict (FUZZ_DUMP, fuzz/dump.h), and
# compares the valid/invalid verdict with wabt's wasm-validate. Where they disagree, V8
# (node, when installed) breaks the tie:
#   engine == V8 != wabt   counted as a wabt quirk, listed briefly;
#   engine != V8, != wabt  printed in full: most likely an engine bug.
# References are not oracles (wabt 1.0.32 and V8 implement more or less than
# Wasm 2.0): judge each case against the spec. Exits 1 when the engine
# disagrees with both. Not run by `make fuzz`.
set -uo pipefail
build=$(cd "${1:?usage: diff-validate.sh BUILD_DIR [TARGET [MAX]]}" && pwd)
target=${2:-fuzz_code}
max=${3:-5000}
corpus=$build/fuzz-corpus/$target
out=$build/fuzz-diff
rm -rf "$out" && mkdir -p "$out/in" "$out/mod"
find "$corpus" -type f | sort | head -n "$max" | while read -r f; do cp "$f" "$out/in/"; done
FUZZ_DUMP=$out/mod "$build/fuzz/$target" -runs=0 "$out/in" >"$out/replay.log" 2>&1

# V8's verdict on one module: "valid" or "invalid MESSAGE".
v8() {
  command -v node >/dev/null || { echo "unknown"; return; }
  node -e 'try { new WebAssembly.Module(require("fs").readFileSync(process.argv[1])); console.log("valid") }
           catch (e) { console.log("invalid " + e.message) }' "$1"
}

n=0 quirks=0 bugs=0
while read -r id verdict rest; do
  n=$((n + 1))
  mod=$out/mod/$id.wasm
  if wasm-validate "$mod" >"$out/wabt.txt" 2>&1; then wabt=valid; else wabt=invalid; fi
  [ "$wabt" = "$verdict" ] && continue
  ref=$(v8 "$mod")
  if [ "${ref%% *}" = "$verdict" ]; then
    quirks=$((quirks + 1))
    echo "wabt-only: $mod: engine and V8 $verdict, wabt $wabt"
  else
    bugs=$((bugs + 1))
    echo "DIFF $mod: engine $verdict ${rest:-} | wabt $wabt $(head -1 "$out/wabt.txt") | V8 $ref"
  fi
done <"$out/mod/verdicts.txt"
echo "diff-validate: $n modules; engine disagrees with wabt and V8 on $bugs, with wabt only on $quirks"
[ "$bugs" -eq 0 ]
