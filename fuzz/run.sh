#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS: runs every libFuzzer target in BUILD_DIR/fuzz.
#
# For each target fuzz_NAME:
#   1. fuzz_module only (they are whole modules): replays the regression
#      inputs fuzz/regressions/*.hex (hex text, '#' comments); each must pass;
#   2. fuzzes for SECONDS from its seeds (BUILD_DIR/fuzz-seeds/NAME without
#      the fuzz_ prefix, made by fuzz/make-seeds.sh when missing) and the
#      corpus kept from earlier runs
#      (BUILD_DIR/fuzz-corpus/NAME), with a malloc limit so one unbounded
#      allocation counts as a failure, an RSS limit and a per-input timeout.
# Crash inputs and logs go to BUILD_DIR/fuzz-out/NAME/. Exits non-zero when any
# regression fails or any run reports a crash, sanitizer error, leak, OOM or
# timeout; prints one summary line.
# Environment: FUZZ_MALLOC_MB (512), FUZZ_RSS_MB (2048), FUZZ_TIMEOUT (10 s), FUZZ_JIT_BOUNDS
# (guard: fuzz_jit and fuzz_jit_simd run the compiled tier with guard-page bounds checks; explicit for the other).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR SECONDS}" && pwd)
secs=${2:-60}
malloc_mb=${FUZZ_MALLOC_MB:-512}
rss_mb=${FUZZ_RSS_MB:-2048}
timeout_s=${FUZZ_TIMEOUT:-10}

# Symbolized stack traces; UBSan prints one too.
for s in llvm-symbolizer-19 llvm-symbolizer; do
  if command -v "$s" >/dev/null; then
    export ASAN_SYMBOLIZER_PATH
    ASAN_SYMBOLIZER_PATH=$(command -v "$s")
    break
  fi
done
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${ASAN_SYMBOLIZER_PATH:+:external_symbolizer_path=$ASAN_SYMBOLIZER_PATH}"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0"

seeds=$build/fuzz-seeds
if [ ! -f "$seeds/.done" ]; then
  rm -rf "$seeds"
  "$root/fuzz/make-seeds.sh" "$seeds" && touch "$seeds/.done"
fi

# Regression inputs, decoded from hex.
regdir=$build/fuzz-regressions
rm -rf "$regdir" && mkdir -p "$regdir"
for hex in "$root"/fuzz/regressions/*.hex; do
  [ -e "$hex" ] || continue
  digits=$(sed -e 's/#.*//' "$hex" | tr -d ' \t\r\n')
  printf '%b' "$(echo "$digits" | sed -e 's/\(..\)/\\x\1/g')" >"$regdir/$(basename "$hex" .hex)"
done
regs=("$regdir"/*)
[ -e "${regs[0]}" ] || regs=()

status=0
summary=()
targets=("$build"/fuzz/fuzz_*)
if [ ! -x "${targets[0]}" ]; then
  echo "fuzz: no fuzz targets in $build/fuzz (build the fuzz_targets target first)" >&2
  exit 1
fi
for exe in "${targets[@]}"; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  name=$(basename "$exe")
  out=$build/fuzz-out/$name
  corpus=$build/fuzz-corpus/$name
  mkdir -p "$out" "$corpus"
  rm -f "$out"/crash-* "$out"/leak-* "$out"/oom-* "$out"/timeout-* "$out"/slow-unit-*

  target_seeds=$seeds/${name#fuzz_}
  [ "$name" = fuzz_exec ] && target_seeds=$seeds/module  # whole modules, run
  [ "$name" = fuzz_memimage ] && target_seeds=$seeds/module  # whole modules, instantiated from images
  [ "$name" = fuzz_jit ] && target_seeds=$seeds/code  # fuzz_code's input layout
  mkdir -p "$target_seeds"
  target_regs=()
  [ "$name" = fuzz_module ] && target_regs=("${regs[@]}")
  regfail=0
  for r in "${target_regs[@]}"; do
    if ! "$exe" -malloc_limit_mb="$malloc_mb" -rss_limit_mb="$rss_mb" -timeout="$timeout_s" \
        "$r" >"$out/regression-$(basename "$r").log" 2>&1; then
      echo "fuzz: $name: regression $(basename "$r") FAILED (log: $out/regression-$(basename "$r").log)" >&2
      grep -E 'runtime error|ERROR:|SUMMARY|invariant failed|^ +#[0-9]+ ' "$out/regression-$(basename "$r").log" | head -12 >&2
      regfail=$((regfail + 1))
    fi
  done

  echo "fuzz: $name: fuzzing for ${secs}s (log: $out/fuzz.log)" >&2
  # fuzz_jit: the compiled tier's bounds checks by guard pages and its SIGSEGV handler (ASan builds
  # use explicit checks unless forced; those were fuzzed for sessions before the guard pages came)
  jit_bounds=${WASMGATE_JIT_BOUNDS:-}
  [ "$name" = fuzz_jit ] || [ "$name" = fuzz_jit_simd ] && jit_bounds=${FUZZ_JIT_BOUNDS:-guard}
  WASMGATE_JIT_BOUNDS=$jit_bounds "$exe" "$corpus" "$target_seeds" -max_total_time="$secs" -malloc_limit_mb="$malloc_mb" \
    -rss_limit_mb="$rss_mb" -timeout="$timeout_s" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$out/" >"$out/fuzz.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -1)
  found=$(find "$out" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  cov=$(grep -oE 'cov: [0-9]+' "$out/fuzz.log" | tail -1)
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ] || [ "$regfail" -ne 0 ]; then
    status=1
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
      echo "fuzz: $name: FAILED (exit $rc); report:" >&2
      grep -E 'runtime error|ERROR:|SUMMARY|invariant failed|^ +#[0-9]+ |Test unit written' "$out/fuzz.log" | head -30 >&2
    fi
  fi
  summary+=("$name: ${execs:-?} execs, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l), $found findings, ${#target_regs[@]} regressions ($regfail failed)")
done

result=ok
[ "$status" -eq 0 ] || result=FAILED
joined=$(printf '%s; ' "${summary[@]}")
echo "fuzz: $result (${secs}s each) -- ${joined%; }"
exit "$status"
