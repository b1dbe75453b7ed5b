#!/usr/bin/env bash
# run_p2shared.sh WASMGATE P2SHARED_HOST OUTDIR: wasi:filesystem through WASI 0.2's shared mode
# (wg_wasi_p2_define_shared: one linker, a context per store, as the wasm app host links), CTest
# components_p2_shared. The file guests of tests/guests (wasi_files: mkdir, create, write, read,
# seek, stat, readdir, rename, unlink, append; wasi_more and wasi_conform: the rest of
# wasi:filesystem, rights, symlinks, times; wasi_escape: every way out of the preopen) are built
# as command components (clang-19, `jco new --wasi-command`); p2shared_host runs each in three
# stores of one linker at once, each with its own --dir sandbox, and every store must print what
# `wasmgate wasm run` (one context) prints on the same component and leave the same tree;
# no escape may succeed. Exit 77 (skip) when clang-19, node or jco is missing (a failure under CI).
set -uo pipefail
wasmgate=${1:?usage: run_p2shared.sh WASMGATE P2SHARED_HOST OUTDIR}
host=${2:?}
out=${3:?}
missing() { if [ -n "${CI:-}" ]; then echo "FAIL: $1"; exit 1; fi; echo "skip: $1"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
jco=$root/scripts/npm/node_modules/@bytecodealliance/jco/dist/jco.js
for tool in clang-19 node; do command -v $tool >/dev/null || missing "$tool not installed"; done
[ -f "$jco" ] || missing "jco not installed (scripts/deps.sh installs scripts/npm)"
mkdir -p "$out"
fails=0 pass=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { pass=$((pass + 1)); }
tree() { (cd "$1" && find . -printf '%p %y\n' | sort); }
# escape_box DIR: the layout tests/wasi/run.sh gives wasi_escape (outside.txt next to DIR/..)
escape_box() {
  rm -rf "$1" && mkdir -p "$1/box/inner"
  echo secret >"$1/outside.txt"
  echo inside >"$1/box/inside.txt"
  ln -s /etc "$1/box/link_abs"
  ln -s .. "$1/box/link_up"
  ln -s link_up "$1/box/link_chain"
  ln -s ../nowhere "$1/box/link_dangling"
  ln -s ../.. "$1/box/inner/link_up2"
}
STORES="0 1 2"

for name in wasi_files wasi_more wasi_conform wasi_escape; do
  core=$out/$name.wasm comp=$out/$name.component.wasm
  if [ ! -f "$comp" ] || [ "$root/tests/guests/$name.c" -nt "$comp" ]; then
    clang-19 --target=wasm32-wasi -O2 "$root/tests/guests/$name.c" -o "$core" || { fail "clang $name"; continue; }
    node "$jco" new "$core" --wasi-command -o "$comp" >"$out/$name.jco.log" 2>&1 ||
      { fail "jco new $name: $(tail -1 "$out/$name.jco.log")"; continue; }
  fi
  # the oracle: one context (wasm run)
  dirs=() sub=
  if [ $name = wasi_escape ]; then
    sub=/box
    for d in ref s0 s1 s2; do escape_box "$out/$name.$d"; done
  else
    for d in ref s0 s1 s2; do rm -rf "$out/$name.$d" && mkdir -p "$out/$name.$d"; done
  fi
  for k in $STORES; do dirs+=("$out/$name.s$k$sub"); done
  "$wasmgate" wasm run --dir "$out/$name.ref$sub:/sandbox" "$comp" /sandbox >"$out/$name.ref.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] && [ -s "$out/$name.ref.out" ] || fail "$name: wasm run exit $rc: $(tail -2 "$out/$name.ref.out")"
  "$host" "$comp" /sandbox "${dirs[@]}" >"$out/$name.shared.out" 2>"$out/$name.shared.err"
  rc=$?
  if [ $rc -ne 0 ]; then
    fail "$name: p2shared_host exit $rc: $(tail -3 "$out/$name.shared.err")"
    continue
  fi
  for k in $STORES; do
    # store k's section: the lines after "== store k exit 0" up to the next header
    awk -v k="$k" '/^== store /{on = ($3 == k); next} on' "$out/$name.shared.out" >"$out/$name.s$k.out"
    grep -qx "== store $k exit 0" "$out/$name.shared.out" || fail "$name: store $k did not exit 0"
    if cmp -s "$out/$name.ref.out" "$out/$name.s$k.out"; then ok; else
      fail "$name store $k: differs from wasm run: $(diff "$out/$name.ref.out" "$out/$name.s$k.out" | head -5)"
    fi
    if [ $name = wasi_escape ]; then
      if grep -v '^inside (control)' "$out/$name.s$k.out" | grep -q 'opened\|ESCAPED'; then
        fail "$name store $k: an escape succeeded: $(grep 'opened\|ESCAPED' "$out/$name.s$k.out" | head -3)"
      else ok; fi
      grep -q '^inside (control) *opened' "$out/$name.s$k.out" && ok || fail "$name store $k: the control open failed"
      grep -q '^dotdot  *Operation not permitted' "$out/$name.s$k.out" && ok || fail "$name store $k: dotdot not refused"
      for f in created.txt moved.txt nowhere; do [ -e "$out/$name.s$k/$f" ] && fail "$name store $k: left $f" || ok; done
      [ -f "$out/$name.s$k/box/inside.txt" ] && ok || fail "$name store $k: inside.txt was moved"
    elif [ "$(tree "$out/$name.ref")" = "$(tree "$out/$name.s$k")" ]; then ok; else
      fail "$name store $k: a different tree than wasm run's"
    fi
  done
done

# pollables live in the calling store's context: pollcheck.c (canonical ABI by hand) subscribes
# to an instant 60 s ahead and one in the past, and exits 0 only when the first is not ready and
# the second is, in every store at once
pc=$out/pollcheck.wasm
if [ ! -d "$out/wit-pollcheck" ]; then
  mkdir -p "$out/wit-pollcheck/deps" && cp -r "$root"/scripts/npm/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12/* \
    "$out/wit-pollcheck/deps/"
fi
cp -p "$here/pollcheck.wit" "$out/wit-pollcheck/world.wit"
if python3 "$here/../mkcomponent.py" --nostdlib --dep "$here/../http/bump_realloc.h" "$here/pollcheck.c" -o "$pc" \
     --wit "$out/wit-pollcheck" --world pollcheck >"$out/pollcheck.log" 2>&1; then
  "$wasmgate" wasm run "$pc" && ok || fail "pollcheck: wasm run exit $?"
  "$host" "$pc" x "$out" "$out" "$out" >"$out/pollcheck.out" 2>&1
  rc=$?
  if [ $rc -eq 0 ] && [ "$(grep -c '^== store . exit 0$' "$out/pollcheck.out")" -eq 3 ]; then ok; else
    fail "pollcheck in shared mode: $rc $(tr '\n' ' ' <"$out/pollcheck.out")"
  fi
else
  fail "building pollcheck: $(tail -3 "$out/pollcheck.log")"
fi

echo "WASI 0.2 shared mode: $pass checks passed, $fails failed"
[ "$fails" -eq 0 ]
