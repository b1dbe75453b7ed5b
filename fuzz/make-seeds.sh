#!/usr/bin/env bash
# fuzz/make-seeds.sh OUT_DIR: builds the seed corpora for the engine's fuzz
# targets under a build directory (nothing is committed). OUT_DIR/module/
# (for fuzz_module) gets whole modules:
#   - every .wat under tests/ and examples/, through wat2wasm;
#   - the freestanding C guests in fuzz/guests/, with clang-19
#     --target=wasm32-wasi at several optimisation levels and feature sets;
#   - random valid modules from binaryen (`wasm-opt -ttf`), from fixed-seed
#     pseudo-random inputs, with and without most Wasm 2.0 features;
#   - a few hand-made edge cases (empty input, header only, bad version).
# OUT_DIR/code/ (for fuzz_code) gets the function bodies of those modules with
# their signatures, in fuzz_code's input layout (fuzz/extract-bodies.py).
# OUT_DIR/resources/ (for fuzz_resources) gets the YAML files of tests/ and examples/.
# Each tool that is missing is skipped with a note; the seeds are a head start
# for the fuzzer, not a requirement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
top=${1:?usage: make-seeds.sh OUT_DIR}
out=$top/module
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

# .wat files in the tree.
if command -v wat2wasm >/dev/null; then
  while IFS= read -r -d '' wat; do
    name=$(echo "${wat#"$root"/}" | tr '/' '_')
    wat2wasm --enable-all "$wat" -o "$out/wat_${name%.wat}.wasm" 2>/dev/null && n=$((n + 1)) || true
  done < <(find "$root/tests" "$root/examples" -name '*.wat' -print0 2>/dev/null)
else
  echo "make-seeds: wat2wasm not found, skipping .wat seeds" >&2
fi

# C guests, freestanding (no libc: small seeds with dense code).
if command -v clang-19 >/dev/null && command -v wasm-ld-19 >/dev/null; then
  variants=("O0:-O0" "O2:-O2" "Oz:-Oz" "mvp:-O2 -mcpu=mvp" "bulk:-O2 -mbulk-memory -mnontrapping-fptoint"
            "simd:-O2 -msimd128" "O3simd:-O3 -msimd128 -mbulk-memory")
  for c in "$root"/fuzz/guests/*.c; do
    base=$(basename "$c" .c)
    for v in "${variants[@]}"; do
      tag=${v%%:*}
      # Undefined memcpy/memset (no libc) become imports. Guests needing a
      # feature (simd.c) only build in the variants that enable it.
      # shellcheck disable=SC2086 # the flags are meant to split
      if clang-19 --target=wasm32-wasi ${v#*:} -c "$c" -o "$tmp/$base.o" 2>/dev/null &&
         wasm-ld-19 --no-entry --allow-undefined "$tmp/$base.o" -o "$out/c_${base}_$tag.wasm" 2>/dev/null; then
        n=$((n + 1))
      fi
    done
  done
else
  echo "make-seeds: clang-19/wasm-ld-19 not found, skipping C guests" >&2
fi

# Random modules from binaryen's translate-to-fuzz mode.
if command -v wasm-opt >/dev/null && command -v python3 >/dev/null; then
  # No --enable-reference-types: binaryen 108 then also emits typed function
  # references (not Wasm 2.0), and the seed is invalid for wabt and for us.
  w20="--enable-simd --enable-bulk-memory --enable-multivalue --enable-sign-ext
       --enable-nontrapping-float-to-int --enable-mutable-globals"
  for seed in $(seq 1 40); do
    python3 -c "import random,sys; r=random.Random($seed); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(256 * (1 + $seed % 16))))" >"$tmp/rand"
    feats=""
    [ $((seed % 2)) -eq 0 ] && feats=$w20
    # shellcheck disable=SC2086
    wasm-opt -ttf "$tmp/rand" $feats -o "$out/ttf_$seed.wasm" >/dev/null 2>&1 && n=$((n + 1)) || true
  done
else
  echo "make-seeds: wasm-opt or python3 not found, skipping random modules" >&2
fi

# Edge cases.
printf '' >"$out/edge_empty.wasm"
printf '\0asm\1\0\0\0' >"$out/edge_header.wasm"
printf '\0asm\2\0\0\0' >"$out/edge_version.wasm"
printf '\0asm\1\0\0\0\0\4\1a\1\2' >"$out/edge_custom.wasm"
n=$((n + 4))
echo "make-seeds: $n modules in $out"
if command -v python3 >/dev/null; then
  python3 "$root/fuzz/extract-bodies.py" "$top/code" "$out"/*.wasm
fi

# OUT_DIR/resources/ (for fuzz_resources): every YAML file in the tree.
mkdir -p "$top/resources"
r=0
while IFS= read -r -d '' y; do
  cp "$y" "$top/resources/$(echo "${y#"$root"/}" | tr '/' '_')" && r=$((r + 1))
done < <(find "$root/tests" "$root/examples" \( -name '*.yaml' -o -name '*.yml' \) -print0 2>/dev/null)
echo "make-seeds: $r YAML files in $top/resources"

# OUT_DIR/resiliency/ (for fuzz_resiliency): a cron schedule line, then a
# resources file (the Resiliency documents of the tests and a few schedules).
mkdir -p "$top/resiliency"
i=0
for sched in "*/15 * * * * *" "@every 15s" "0 30 9 * JAN-MAR MON-FRI" "@daily" "0 0 0 29 2 *"; do
  printf '%s\n' "$sched" >"$top/resiliency/sched$i" && i=$((i + 1))
done
cat >"$top/resiliency/res$i" <<'YAML'
@hourly
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: seed}
spec:
  policies:
    timeouts: {general: 5s, DefaultTimeoutPolicy: 1m30s}
    retries:
      r: {policy: exponential, maxInterval: 15s, maxRetries: -1, matching: {httpStatusCodes: "429,500-599"}}
      DefaultAppRetryPolicy: {policy: constant, duration: 200ms, maxRetries: 3}
    circuitBreakers:
      cb: {maxRequests: 2, interval: 8s, timeout: 1s, trip: "consecutiveFailures >= 2 || requests > 10 && totalFailures > 3"}
  targets:
    apps: {a: {timeout: general, retry: r, circuitBreaker: cb}}
    components: {statestore: {outbound: {retry: r, circuitBreaker: cb}, inbound: {timeout: 2s}}}
YAML
i=$((i + 1))
echo "make-seeds: $i inputs in $top/resiliency"

# OUT_DIR/component/ (for fuzz_component): small components written here in the
# component text format and encoded with jco's parse (scripts/npm), plus the
# bare preamble. Skipped when node or jco is missing.
mkdir -p "$top/component"
printf '\000asm\015\000\001\000' >"$top/component/empty"
jco_api=$root/scripts/npm/node_modules/@bytecodealliance/jco/dist/api.js
if command -v node >/dev/null && [ -f "$jco_api" ]; then
  JCO_API=$jco_api OUT=$top/component node --input-type=module <<'JS' || echo "make-seeds: jco parse failed" >&2
const { parse } = await import(process.env.JCO_API);
const fs = await import('node:fs');
const seeds = [
  `(component
    (core module $m (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
      (func (export "greet") (param i32 i32) (result i32) i32.const 0)
      (func (export "post") (param i32)))
    (core instance $i (instantiate $m))
    (alias core export $i "mem" (core memory $mem))
    (alias core export $i "realloc" (core func $realloc))
    (alias core export $i "greet" (core func $greet))
    (alias core export $i "post" (core func $post))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $greet) (memory $mem) (realloc $realloc) (post-return $post))))`,
  `(component
    (import "wasi:cli/environment@0.2.3" (instance
      (export "get-environment" (func (result (list (tuple string string)))))))
    (import "log" (func $log (param "msg" string)))
    (core module $mem (memory (export "m") 1))
    (core instance $mi (instantiate $mem))
    (alias core export $mi "m" (core memory $m))
    (core func $l (canon lower (func $log) (memory $m)))
    (core module $user (import "host" "log" (func (param i32 i32))))
    (core instance (instantiate $user (with "host" (instance (export "log" (func $l)))))))`,
  `(component
    (type $r (resource (rep i32)))
    (core func $new (canon resource.new $r))
    (core func $drop (canon resource.drop $r))
    (core func $rep (canon resource.rep $r))
    (type $pt (record (field "x" s32) (field "y" s32)))
    (type $sh (variant (case "circle" f32) (case "rect" $pt) (case "none")))
    (type $f (flags "a" "b" "c"))
    (type $e (enum "x" "y"))
    (type $o (option $sh))
    (type $res (result $o (error string)))
    (type $own (own $r))
    (type $bor (borrow $r))
    (export "r" (type $r)))`,
  `(component
    (component $inner
      (import "x" (func $x (param "a" u64) (result u32)))
      (export "y" (func $x)))
    (import "f" (func $f (param "a" u64) (result u32)))
    (instance $i (instantiate $inner (with "x" (func $f))))
    (export "g" (func $i "y")))`,
  `(component
    (type $t (instance
      (export "r" (type $r (sub resource)))
      (export "[constructor]r" (func (result (own $r))))
      (export "[method]r.get" (func (param "self" (borrow $r)) (result string)))))
    (import "wasi:io/streams@0.2.0" (instance (type $t))))`,
  `(component
    (core type $ft (func (param i32) (result i32)))
    (core type $mt (module (type (func (param i32))) (import "a" "b" (func (type 0))) (export "c" (memory 1))))
    (import "m" (core module (type $mt))))`,
];
for (const [i, text] of seeds.entries()) {
  try {
    fs.writeFileSync(`${process.env.OUT}/seed${i}.wasm`, Buffer.from(await parse(text)));
  } catch (e) {
    console.error(`make-seeds: component seed ${i}: ${String(e).split('\n')[0].slice(0, 300)}`);
  }
}
JS
fi
echo "make-seeds: $(find "$top/component" -type f | wc -l) components in $top/component"
