#!/usr/bin/env bash
# bench/make-inputs.sh OUT_DIR: builds the benchmark's input modules into
# OUT_DIR (a build directory; nothing is committed):
#   engine.wasm       real program: the engine's own sources (engine/src/*.c)
#                     + bench/guest/engine_main.c, clang-19 --target=wasm32-wasi
#                     -O2, linked against wasi-libc, debug info stripped.
#   engine-libc.wasm  real code, bigger: the same objects linked with all of
#                     wasi-libc (--whole-archive --no-gc-sections), so every
#                     libc function is in the module. Not a meaningful program.
#   synthetic.wasm    SYNTHETIC: binaryen's random module generator
#                     (`wasm-opt -ttf`) on 7 MiB of fixed-seed pseudo-random
#                     bytes, Wasm 2.0 features that wabt 1.0.32 also reads.
# Objects are compiled with -O2 and linked without -O (an -O on the link line
# makes clang run wasm-opt on the result when it is installed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: make-inputs.sh OUT_DIR}
mkdir -p "$out/obj"

cflags=(--target=wasm32-wasi -O2 -D_GNU_SOURCE -I"$root/engine/include" -I"$root/engine/src")
objs=()
for c in "$root"/engine/src/*.c "$root"/bench/guest/*.c; do
  o=$out/obj/$(basename "$c" .c).o
  if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find "$root/engine" -name '*.h' -newer "$o")" ]; then
    clang-19 "${cflags[@]}" -c "$c" -o "$o"
  fi
  objs+=("$o")
done
# Drop objects whose source is gone.
for o in "$out"/obj/*.o; do
  b=$(basename "$o" .o)
  [ -f "$root/engine/src/$b.c" ] || [ -f "$root/bench/guest/$b.c" ] || rm -f "$o"
done
clang-19 --target=wasm32-wasi "${objs[@]}" -Wl,--strip-debug -o "$out/engine.wasm"
clang-19 --target=wasm32-wasi "${objs[@]}" -Wl,--strip-debug,--no-gc-sections,--allow-undefined \
  -Wl,--whole-archive -lc -Wl,--no-whole-archive -o "$out/engine-libc.wasm"

if [ ! -f "$out/synthetic.wasm" ]; then
  python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(20240607).randbytes(7 << 20))' >"$out/synthetic.in"
  wasm-opt -ttf "$out/synthetic.in" --enable-simd --enable-bulk-memory --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-mutable-globals -o "$out/synthetic.wasm" >/dev/null 2>&1
  rm -f "$out/synthetic.in"
fi
