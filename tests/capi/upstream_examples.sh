#!/bin/sh
# Compatibility check of engine/include/wasm.h against the upstream
# wasm-c-api examples, by hand only (their sources are not ours to commit,
# and CI cannot fetch them).
#   usage: tests/capi/upstream_examples.sh UPSTREAM_CHECKOUT LIBWGENGINE [CFLAGS...]
#   e.g.   tests/capi/upstream_examples.sh ~/src/wasm-c-api build/engine/libwgengine.a
#          tests/capi/upstream_examples.sh ~/src/wasm-c-api build-san/engine/libwgengine.a \
#              -fsanitize=address,undefined
# Copies each example's .c and .wat to a temporary directory, assembles the
# .wat with wat2wasm (two use text syntax current wabt rejects: `anyfunc` and
# a bare `ref.null`, rewritten to `funcref` and `ref.null extern`), compiles
# the .c against our header and library, runs it there, and prints one line
# per example. Then the API surface: every wasm_*/WASM_* identifier of the
# upstream header (after preprocessing) must be in ours and the other way
# round, and every function it declares must be defined in our library.
# Then the other way round, an ABI check: our own
# tests/unit/test_capi.c compiled against the upstream header, linked with our
# library, run on the build's capi.wasm fixture.
# Exit status: the number of checks that failed.
set -u
src=$1
lib=$(realpath "$2")
shift 2
include=$(cd "$(dirname "$0")/../../engine/include" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for ex in hello callback global table memory trap multi finalize reflect hostref start threads serialize; do
  cp "$src/example/$ex.c" "$work/" || { failed=$((failed + 1)); continue; }
  sed -e 's/anyfunc/funcref/' -e 's/(ref\.null)/(ref.null extern)/' "$src/example/$ex.wat" > "$work/$ex.wat"
  if ! (cd "$work" && wat2wasm "$ex.wat" -o "$ex.wasm"); then
    echo "$ex: wat2wasm FAILED"; failed=$((failed + 1)); continue
  fi
  if ! cc -std=c11 -g "$@" -I"$include" "$work/$ex.c" "$lib" -lm -lpthread -o "$work/$ex" 2> "$work/$ex.build.log"; then
    echo "$ex: BUILD FAILED"; sed -n 1,20p "$work/$ex.build.log"; failed=$((failed + 1)); continue
  fi
  if (cd "$work" && timeout 300 "./$ex" > "$ex.out" 2>&1); then
    echo "$ex: ok"
  else
    echo "$ex: RUN FAILED"; tail -20 "$work/$ex.out"; failed=$((failed + 1))
  fi
done
echo '#include "wasm.h"' > "$work/hdr.c"
ids() { cc -E -P -I"$1" "$work/hdr.c" | grep -oE '\b(wasm|WASM)_[A-Za-z0-9_]+\b' | sort -u; }
ids "$src/include" > "$work/up.ids"
ids "$include" > "$work/ours.ids"
cc -E -P -DWASM_API_EXTERN=WG_DECLARED -I"$src/include" "$work/hdr.c" | tr ';' '\n' | grep WG_DECLARED |
  grep -oE '\bwasm_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u > "$work/declared"
nm "$lib" | awk '$2 == "T" && $3 ~ /^wasm_/ {print $3}' | sort -u > "$work/defined"
missing=$(comm -23 "$work/declared" "$work/defined")
if cmp -s "$work/up.ids" "$work/ours.ids" && [ -z "$missing" ]; then
  echo "API surface: $(wc -l < "$work/up.ids") identifiers equal, $(wc -l < "$work/declared") functions all defined"
else
  echo "API surface: DIFFERENT"; diff "$work/up.ids" "$work/ours.ids"; echo "$missing"; failed=$((failed + 1))
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
fixture=$(dirname "$lib")/../tests/fixtures/valid/capi.wasm
if cc -std=c11 -g "$@" -I"$src/include" -I"$root/tests/unit" "$root/tests/unit/test_capi.c" "$lib" -lm -lpthread \
     -o "$work/test_capi" 2> "$work/test_capi.build.log" && "$work/test_capi" "$fixture"; then
  echo "test_capi against the upstream header: ok"
else
  echo "test_capi against the upstream header: FAILED"; sed -n 1,20p "$work/test_capi.build.log"; failed=$((failed + 1))
fi
exit $failed
