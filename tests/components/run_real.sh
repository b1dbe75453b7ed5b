#!/usr/bin/env bash
# run_real.sh WASMGATE OUTDIR: components from real toolchains, built at test
# time (never committed): every C guest of tests/guests compiled with clang-19
# for wasm32-wasi and adapted with `jco new --wasi-command` (the preview1
# adapter inside the jco npm package), plus tests/components/greeter.c as a
# reactor with its WIT world (`jco embed` + `jco new --wasi-reactor`).
# Each must pass `wasmgate wasm validate`; `wasm dump` must list the imports
# and exports as WIT-like text; truncated copies must be rejected with
# FILE:OFFSET: message. Exit 77 (skip) when clang-19, node or jco is missing.
set -uo pipefail
wasmgate=${1:?usage: run_real.sh WASMGATE OUTDIR [GREETER_HOST]}
out=${2:?}
greeter_host=${3:-}
# A missing install skips (77) on a developer's machine but fails under CI, where
# scripts/deps.sh installs everything: a skip there would hide a missing install step.
missing() { if [ -n "${CI:-}" ]; then echo "FAIL: $1"; exit 1; fi; echo "skip: $1"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nm=$root/scripts/npm/node_modules
jco=$nm/@bytecodealliance/jco/dist/jco.js
shim=$(ls "$nm"/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js \
          "$nm"/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js 2>/dev/null | head -1)
for tool in clang-19 node; do
  command -v $tool >/dev/null || missing "$tool not installed"
done
[ -f "$jco" ] || missing "jco not installed (scripts/deps.sh installs scripts/npm)"
mkdir -p "$out"
fails=0
pass=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { pass=$((pass + 1)); }

expect() { # expect FILE PATTERN: the dump of FILE contains the fixed string PATTERN
  if grep -qF -- "$2" "$1"; then ok; else fail "$(basename "$1") lacks: $2"; fi
}

# 1. Commands: every C guest, through the preview1 command adapter.
for src in "$root"/tests/guests/*.c; do
  name=$(basename "$src" .c)
  core=$out/$name.wasm comp=$out/$name.component.wasm
  clang-19 --target=wasm32-wasi -O2 "$src" -o "$core" 2>"$out/$name.cc.log" || { fail "clang $name"; continue; }
  # only WASI programs: a guest importing a host ABI of ours (bw_http: the legacy wasi-http of
  # bindings.wasm) has nothing the preview1 adapter could turn into a component import
  if "$wasmgate" wasm dump "$core" | sed -n '/^Import\[/,/^[A-Z]/p' | grep -- ' <- ' | grep -qv ' <- wasi_snapshot_preview1\.'; then
    continue
  fi
  if ! node "$jco" new "$core" --wasi-command -o "$comp" >"$out/$name.jco.log" 2>&1; then
    fail "jco new $name: $(tail -1 "$out/$name.jco.log")"
    continue
  fi
  if "$wasmgate" wasm validate "$comp"; then ok; else fail "validate $name"; continue; fi
  "$wasmgate" wasm dump "$comp" >"$out/$name.dump" || { fail "dump $name"; continue; }
  expect "$out/$name.dump" "export wasi:cli/run@0.2."
  expect "$out/$name.dump" "run: func() -> result;"
  expect "$out/$name.dump" "get-stdout: func() -> output-stream;"
  if [ "$name" = wasi_misc ]; then # the guest that reads its environment
    expect "$out/$name.dump" "get-environment: func() -> list<tuple<string, string>>;"
  fi
  expect "$out/$name.dump" "[method]output-stream.blocking-write-and-flush: func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>;"
done

# 2. A reactor with its own WIT world.
g=$out/greeter
if python3 "$here/mkcomponent.py" "$here/greeter.c" -o "$g.component.wasm" --wit "$here/greeter.wit" --reactor \
     >"$g.log" 2>&1; then
  if "$wasmgate" wasm validate "$g.component.wasm"; then ok; else fail "validate greeter"; fi
  "$wasmgate" wasm dump "$g.component.wasm" >"$g.dump"
  expect "$g.dump" "import log: func(msg: string);"
  expect "$g.dump" "export greet: func(name: string) -> string;"
  expect "$g.dump" "export area: func(s: shape, scale: f64) -> f64;"
  expect "$g.dump" "export sum: func(xs: list<u32>) -> u64;"
  expect "$g.dump" "type shape = variant { circle(f32), rect(point), none };"
  expect "$g.dump" "3 canon lift, 1 canon lower"
  # running it: the embedding API with a host `log` (greeter_host.c)
  if [ -n "$greeter_host" ]; then
    if "$greeter_host" "$g.component.wasm" >"$g.run.log" 2>&1; then ok; else fail "greeter_host: $(grep FAIL "$g.run.log" | head -3)"; fi
    cat "$g.run.log"
  fi
else
  fail "building the greeter component: $(tail -3 "$g.log")"
fi

# 3. Running them: `wasm run` of the command components prints what the
#    preview1 build prints (same arguments, environment and stdin), and what
#    `jco run` (node + preview2-shim, the differential oracle) prints.
printf 'abc\ndef\n' >"$out/stdin.txt"
# (not wasi_stdio: through the adapter, WASI 0.2 stdio has no file type)
for name in hello kernels upper; do
  comp=$out/$name.component.wasm core=$out/$name.wasm
  [ -f "$comp" ] || { fail "run $name: not built"; continue; }
  "$wasmgate" wasm run --env A=B "$core" x y <"$out/stdin.txt" >"$out/$name.p1.out" 2>&1
  p1=$?
  "$wasmgate" wasm run --env A=B "$comp" x y <"$out/stdin.txt" >"$out/$name.p2.out" 2>&1
  p2=$?
  if [ $p1 -eq $p2 ] && cmp -s "$out/$name.p1.out" "$out/$name.p2.out"; then ok; else
    fail "run $name: component output differs from preview1 (exit $p2 vs $p1): $(diff "$out/$name.p1.out" "$out/$name.p2.out" | head -3)"
  fi
  case $name in hello|upper|kernels)
    node "$jco" run "$comp" x y <"$out/stdin.txt" >"$out/$name.jco.out" 2>"$out/$name.jco.err"
    if cmp -s "$out/$name.jco.out" "$out/$name.p2.out"; then ok; else
      fail "run $name: differs from jco run: $(diff "$out/$name.jco.out" "$out/$name.p2.out" | head -3)"
    fi;;
  esac
done
# the store limits apply to components as to modules: --fuel
msg=$("$wasmgate" wasm run --fuel 10 "$out/hello.component.wasm" 2>&1)
rc=$?
if [ $rc -eq 134 ] && [[ "$msg" == *"limit reached: all fuel consumed"* ]]; then ok; else fail "--fuel 10 on a component: $rc '$msg'"; fi
# `wasm run` has no event loop: poll and pollable.block on a clock still block the thread (the
# sidecar parks instead: issue 14), so a command component's nanosleep (the adapter's poll_oneoff:
# subscribe-duration + poll) sleeps the time asked
if [ -f "$out/wasi_misc.component.wasm" ]; then
  msg=$("$wasmgate" wasm run "$out/wasi_misc.component.wasm" sleep 200 2>&1)
  if [ "$msg" = "slept: the time asked" ]; then ok; else fail "wasm run: a component's sleep: '$msg'"; fi
fi
# wasi:filesystem: the file guest does the same in a --dir sandbox and leaves the same tree
if [ -f "$out/wasi_files.component.wasm" ]; then
  rm -rf "$out/fs1" "$out/fs2" && mkdir -p "$out/fs1" "$out/fs2"
  "$wasmgate" wasm run --dir "$out/fs1:/sandbox" "$out/wasi_files.wasm" /sandbox >"$out/wasi_files.p1.out" 2>&1
  "$wasmgate" wasm run --dir "$out/fs2:/sandbox" "$out/wasi_files.component.wasm" /sandbox >"$out/wasi_files.p2.out" 2>&1
  if cmp -s "$out/wasi_files.p1.out" "$out/wasi_files.p2.out"; then ok; else
    fail "wasi_files component: $(diff "$out/wasi_files.p1.out" "$out/wasi_files.p2.out" | head -3)"
  fi
  if [ "$(cd "$out/fs1" && find . | sort)" = "$(cd "$out/fs2" && find . | sort)" ]; then ok; else fail "wasi_files component: different tree"; fi
fi
# The rest of wasi:filesystem (set-times(-at), link-at, symlink-at, readlink-at, advise,
# sync, metadata, rights and escapes): wasi_more and wasi_conform in a --dir sandbox print
# what their preview1 builds print and leave the same tree, except the lines where the
# preview1 adapter itself differs from a preview1 host (listed, and checked to differ the
# same way under `jco run`): it has no fd_allocate (posix_fallocate fails, so the sizes that
# follow differ) and no fdstat_set_rights, and it emulates rights (a directory's seek is
# badf, pread needs no seek right, truncate needs no filestat_set_size right).
declare -A adapter_lines=(
  [wasi_more]='posix_fallocate|size after fallocate|size after append|stat through l|drop read right|read without right|regain right'
  [wasi_conform]='preopen base has directory rights|seek on d|f has file rights only|pread without the seek right|drop path_filestat_set_size|truncate f without the right'
)
# preview2-shim's set-times/set-times-at go through node's utimes in milliseconds and set
# wrong times (mtime 15032385535, and utimensat with UTIME_OMIT fails with EINVAL); the
# lines that print a stale errno after posix_fallocate differ with it.
declare -A shim_lines=(
  [wasi_more]='posix_fallocate|mtime|utimensat|stat through l'
  [wasi_conform]=''
)
without() { # without FILE LABELS: FILE without the lines "LABEL: ..." / "LABEL ..."
  if [ -n "$2" ]; then grep -Ev "^($2)[: ]" "$1"; else cat "$1"; fi
}
for name in wasi_more wasi_conform; do
  comp=$out/$name.component.wasm core=$out/$name.wasm
  [ -f "$comp" ] || { fail "run $name: not built"; continue; }
  rm -rf "$out/$name.fs1" "$out/$name.fs2" "$out/$name.fs3" && mkdir -p "$out/$name.fs1" "$out/$name.fs2" "$out/$name.fs3"
  "$wasmgate" wasm run --dir "$out/$name.fs1:/sandbox" "$core" /sandbox >"$out/$name.p1.out" 2>&1
  p1=$?
  "$wasmgate" wasm run --dir "$out/$name.fs2:/sandbox" "$comp" /sandbox >"$out/$name.p2.out" 2>&1
  p2=$?
  if [ $p1 -eq 0 ] && [ $p2 -eq 0 ] && [ "$(wc -l <"$out/$name.p2.out")" -eq "$(wc -l <"$out/$name.p1.out")" ] &&
     diff <(without "$out/$name.p1.out" "${adapter_lines[$name]}") <(without "$out/$name.p2.out" "${adapter_lines[$name]}") >/dev/null; then ok; else
    fail "run $name: component output differs from preview1 (exit $p2 vs $p1): $(diff "$out/$name.p1.out" "$out/$name.p2.out" | head -5)"
  fi
  # the same tree (names and types; sizes differ only after the adapter's missing fd_allocate)
  if [ "$(cd "$out/$name.fs1" && find . -printf '%p %y\n' | sort)" = "$(cd "$out/$name.fs2" && find . -printf '%p %y\n' | sort)" ]; then ok; else
    fail "run $name: component leaves a different tree"
  fi
  # jco run with /sandbox preopened in the shim it runs on (its output links node_modules' copy)
  runshim=$nm/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js
  if [ -f "$runshim" ]; then
    JCO_SHIM_FS=$runshim JCO_SANDBOX=$out/$name.fs3 node "$jco" run --jco-import "$here/jco_sandbox.mjs" "$comp" /sandbox \
      >"$out/$name.jco.out" 2>"$out/$name.jco.err"
    if diff <(without "$out/$name.jco.out" "${shim_lines[$name]}") <(without "$out/$name.p2.out" "${shim_lines[$name]}") >/dev/null; then ok; else
      fail "run $name: differs from jco run: $(diff "$out/$name.jco.out" "$out/$name.p2.out" | head -5)"
    fi
  fi
done
printf 'int main(void) { return 3; }\n' >"$out/exit3.c"
if clang-19 --target=wasm32-wasi -O2 "$out/exit3.c" -o "$out/exit3.wasm" &&
   node "$jco" new "$out/exit3.wasm" --wasi-command -o "$out/exit3.component.wasm" >/dev/null 2>&1; then
  # wasi:cli/exit takes a result: any failure is status 1 (as jco run and wasmtime)
  "$wasmgate" wasm run "$out/exit3.component.wasm"
  rc=$?
  if [ $rc -eq 1 ]; then ok; else fail "exit status of a component returning 3: got $rc, want 1"; fi
else
  fail "building exit3"
fi

# 4. Truncated copies of a real component fail cleanly, with an offset.
comp=$out/hello.component.wasm
if [ -f "$comp" ]; then
  size=$(stat -c %s "$comp")
  for cut in 7 9 100 1000 3000 $((size / 2)) $((size - 1)); do
    head -c "$cut" "$comp" >"$out/cut.wasm"
    msg=$("$wasmgate" wasm validate "$out/cut.wasm" 2>&1)
    if [ $? -eq 1 ] && [[ "$msg" == *"cut.wasm:0x"*": "* ]]; then ok; else fail "truncated to $cut: '$msg'"; fi
  done
fi

echo "real components: $pass checks passed, $fails failed"
[ "$fails" -eq 0 ]
