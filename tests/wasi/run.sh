#!/usr/bin/env bash
# WASI tests against the real `wasmgate wasm run`, with guests compiled by
# the build (BUILD_DIR/guests/*.wasm from tests/guests/*.c). Where a program
# can run natively too, its native output is the reference.
# usage: run.sh WASMGATE BUILD_DIR
set -u
wg=$1 build=$2
src=$(cd "$(dirname "$0")/../guests" && pwd)
g=$build/guests
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*" >&2; }
same() { # same NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok; else bad "$1"; diff <(echo "$2") <(echo "$3") | head -20 >&2; fi
}
native() { # native NAME: builds tests/guests/NAME.c for this machine
  cc -O1 -w -o "$tmp/$1.native" "$src/$1.c" || { bad "cannot build $1 natively"; return 1; }
}

# Files: the same program natively and under WASI, on fresh directories.
native wasi_files && {
  mkdir -p "$tmp/n" "$tmp/w"
  want=$("$tmp/wasi_files.native" "$tmp/n" 2>&1)
  got=$("$wg" wasm run --dir "$tmp/w:/sandbox" "$g/wasi_files.wasm" /sandbox 2>&1)
  same "wasi_files output" "$want" "$got"
  same "wasi_files leaves the same tree" "$(cd "$tmp/n" && find . | sort)" "$(cd "$tmp/w" && find . | sort)"
}

# node's WASI as a second reference, where it follows the spec: it leaves "."
# and ".." out of fd_readdir (the spec and Linux keep them), so that line is
# normalised; docs/wasi.md lists its other deviations.
if command -v node >/dev/null; then
  mkdir -p "$tmp/node" "$tmp/ours"
  norm() { sed 's/^readdir: \. \.\. /readdir: /'; }
  want=$(node --no-warnings "$(dirname "$0")/run_node.mjs" "$tmp/node" /sandbox "$g/wasi_files.wasm" /sandbox 2>&1 | norm)
  got=$("$wg" wasm run --dir "$tmp/ours:/sandbox" "$g/wasi_files.wasm" /sandbox 2>&1 | norm)
  same "wasi_files vs node:wasi" "$want" "$got"
fi

# The less common operations: the same as natively, then the WASI-only calls.
native wasi_more && {
  mkdir -p "$tmp/n2" "$tmp/w2"
  want=$("$tmp/wasi_more.native" "$tmp/n2" 2>&1)
  got=$("$wg" wasm run --dir "$tmp/w2:/sandbox" "$g/wasi_more.wasm" /sandbox 2>&1)
  same "wasi_more output" "$want" "$(sed '/^wasi:$/,$d' <<<"$got")"
  same "wasi_more WASI-only calls" "wasi:
renumber: 0
renumber closed: 8
drop read right: 0
read without right: -1 Bad file descriptor
regain right: 76
sock_shutdown on a file: 57
sock_shutdown on fd 99: 8" "$(sed -n '/^wasi:$/,$p' <<<"$got")"
}

# WASI calls as Rust's std, wasi-libc and the wasi-testsuite make them:
# rights are a ceiling (a directory opened with a directory's full rights),
# trimmed to the file's type; trailing slashes; the rights oflags need;
# absolute symlinks refused; path_link following a symlink beneath.
mkdir -p "$tmp/conform"
ln -s /etc/passwd "$tmp/conform/esc"
same "wasi_conform" "preopen is a directory: 1
preopen base has no file rights: 1
preopen base has directory rights: 1
preopen hands down file rights: 1
open . directory, the preopen's rights: 0
open . plain, the preopen's rights: 0
mkdir d: 0
open d directory, write rights of a directory: 0
d is a directory without seek or allocate: 1
seek on d: 76
open d directory, read and write (POSIX EISDIR): 31
open d plain, write: 31
create f: 0
f has file rights only: 1
write f: 0
open f read only: 0
pread without the seek right: 76
read: 0
unlink f/: 54
mkdir sub: 0
unlink sub/: 31
symlink to nolink/: 44
link f to l/: 44
rmdir sub/: 0
symlink to /etc: 63
symlink lf -> f: 0
symlink dang -> missing: 0
link following lf: 0
stat hard (not following): 0
hard is a regular file with 2 links: 1
link following dang: 44
link following esc (outside): 76
link esc itself: 0
truncate f: 0
drop path_filestat_set_size: 0
truncate f without the right: 76" "$("$wg" wasm run --dir "$tmp/conform:/sandbox" "$g/wasi_conform.wasm" 2>&1)"
[ -f "$tmp/conform/d/f" ] && [ ! -e "$tmp/conform/d/abs" ] && ok || bad "wasi_conform left the wrong tree"

# Guest pointers: zero-length anywhere, EFAULT past the end, EBADF.
wat2wasm "$(dirname "$0")/pointers.wat" -o "$tmp/pointers.wasm" && ok || bad "pointers.wat"
same "pointers" "pointers ok" "$("$wg" wasm run "$tmp/pointers.wasm" 2>&1)"

# wasi_unstable (preview0): its own whence values, filestat and subscription layouts.
mkdir -p "$tmp/p0"
wat2wasm "$(dirname "$0")/preview0.wat" -o "$tmp/preview0.wasm" && ok || bad "preview0.wat"
same "preview0" "preview0 ok" "$("$wg" wasm run --dir "$tmp/p0:/p0" "$tmp/preview0.wasm" 2>&1)"

# --preload: another module's exports satisfy imports by module name.
wat2wasm "$(dirname "$0")/preload_lib.wat" -o "$tmp/lib.wasm" && wat2wasm "$(dirname "$0")/preload_main.wat" -o "$tmp/main.wasm"
same "preload" "205" "$("$wg" wasm run --preload "lib=$tmp/lib.wasm" --invoke run "$tmp/main.wasm" 2 3 2>&1)"
out=$("$wg" wasm run --invoke run "$tmp/main.wasm" 2 3 2>&1)
[ $? -eq 1 ] && grep -q 'unknown import lib.add' <<<"$out" && ok || bad "missing preload: $out"

# Escapes: nothing outside the preopen may be read, created, renamed or listed.
box=$tmp/box
mkdir -p "$box/inner"
echo secret >"$tmp/outside.txt"
echo inside >"$box/inside.txt"
ln -s /etc "$box/link_abs"
ln -s .. "$box/link_up"
ln -s link_up "$box/link_chain"
ln -s ../nowhere "$box/link_dangling"
ln -s ../.. "$box/inner/link_up2"
out=$("$wg" wasm run --dir "$box:/sandbox" "$g/wasi_escape.wasm" /sandbox 2>&1)
if grep -v '^inside (control)' <<<"$out" | grep -q 'opened\|ESCAPED'; then bad "escape succeeded:
$out"; else ok; fi
grep -q '^inside (control) *opened' <<<"$out" && ok || bad "control open failed: $out"
grep -q '^dotdot  *Capabilities insufficient' <<<"$out" && ok || bad "dotdot: want ENOTCAPABLE: $out"
for f in "$tmp/created.txt" "$tmp/moved.txt" "$tmp/nowhere" /etc/wasmgate-escape; do
  [ -e "$f" ] && bad "escape left $f" || ok
done
[ -f "$box/inside.txt" ] && ok || bad "inside.txt was moved"
# No preopen at all: no file system.
out=$("$wg" wasm run "$g/wasi_escape.wasm" /sandbox 2>&1)
grep -q 'opened' <<<"$out" && bad "opened without a preopen: $out" || ok

# Arguments, environment, stdin.
same "args" "argv[0]=$g/wasi_misc.wasm
argv[1]=args
argv[2]=a
argv[3]=b c" "$("$wg" wasm run "$g/wasi_misc.wasm" args a 'b c')"
same "env (only --env)" "A=1
B=two words" "$(HOME=/leak "$wg" wasm run --env A=1 --env 'B=two words' "$g/wasi_misc.wasm" env)"
head -c 100000 /dev/urandom >"$tmp/input.bin"
native wasi_misc && same "stdin" "$("$tmp/wasi_misc.native" stdin <"$tmp/input.bin")" \
  "$("$wg" wasm run --stdin "$tmp/input.bin" "$g/wasi_misc.wasm" stdin)"

# Standard streams are what they really are (fd_fdstat_get, and isatty(),
# which wasi-libc answers from it): a file given with --stdin is a seekable
# regular file, a pipe has no WASI filetype, /dev/null is a character device
# that can seek (not a terminal), a terminal is a character device that
# cannot. stderr goes to a file in each case.
head -c 100 /dev/urandom >"$tmp/in100"
same "stdin from --stdin FILE" "fd0: regular seek=1 tty=0
fd1: unknown seek=0 tty=0
fd2: regular seek=1 tty=0
fd0 tell: 0
stdin: size 100, at 5, then read 95 bytes" "$("$wg" wasm run --stdin "$tmp/in100" "$g/wasi_stdio.wasm" seek 2>"$tmp/err")"
same "stdin from a shell's < FILE" "fd0: regular seek=1 tty=0
fd1: unknown seek=0 tty=0
fd2: regular seek=1 tty=0
fd0 tell: 0
stdin: size 100, at 5, then read 95 bytes" "$("$wg" wasm run "$g/wasi_stdio.wasm" seek <"$tmp/in100" 2>"$tmp/err")"
same "stdin a pipe" "fd0: unknown seek=0 tty=0
fd1: unknown seek=0 tty=0
fd2: regular seek=1 tty=0
fd0 tell: 70" "$(echo hi | "$wg" wasm run "$g/wasi_stdio.wasm" 2>"$tmp/err")"
same "stdin /dev/null" "fd0: chardev seek=1 tty=0
fd1: unknown seek=0 tty=0
fd2: regular seek=1 tty=0
fd0 tell: 0" "$("$wg" wasm run "$g/wasi_stdio.wasm" </dev/null 2>"$tmp/err")"
same "a terminal" "fd0: chardev seek=0 tty=1
fd1: chardev seek=0 tty=1
fd2: chardev seek=0 tty=1
fd0 tell: 70" "$(timeout 60 python3 "$(dirname "$0")/on_pty.py" "$wg" wasm run "$g/wasi_stdio.wasm")"
# FDFLAGS_NONBLOCK on the process's stdin: EAGAIN while the pipe is empty,
# and the shared pipe itself is left blocking for the rest of the shell.
same "nonblocking stdin" "nonblock: set 0, flags 4, read 6
host stdin nonblocking: False" "$(sleep 2 | ("$wg" wasm run "$g/wasi_stdio.wasm" nonblock 2>"$tmp/err" | tail -1
  python3 -c 'import fcntl, os; print("host stdin nonblocking:", bool(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK))'))"

# poll_oneoff: descriptor readiness and clocks.
same "poll ready" "ready" "$(echo hi | "$wg" wasm run "$g/wasi_misc.wasm" poll 5000)"
same "poll waits for data" "ready" "$( (sleep 0.3; echo hi) | "$wg" wasm run "$g/wasi_misc.wasm" poll 5000)"
start=$(date +%s%N)
same "poll timeout" "timeout" "$(sleep 2 | "$wg" wasm run "$g/wasi_misc.wasm" poll 100)"
ms=$((($(date +%s%N) - start) / 1000000))
[ $ms -ge 100 ] && ok || bad "poll returned after ${ms} ms"
same "sleep" "slept: the time asked" "$("$wg" wasm run "$g/wasi_misc.wasm" sleep 50)"
same "strict sleep returns at once" "slept: returned early" "$(timeout 2 "$wg" wasm run --strict-sandbox "$g/wasi_misc.wasm" sleep 5000)"

# Strict sandbox: Dapr's strictSandbox exactly (wazero's fakes plus Dapr's
# wall clock): wall time from the current whole second, 1 ms added before
# each read; monotonic 0, 1 ms, ...; Go's math/rand seeded with 42 read 7
# bytes per Int63 (its first Int63 is 3440579354231278675 = 0x2fbf64b1967f8c53,
# so the stream starts 53 8c 7f 96 b1 64 bf), the bytes left over carried to
# the next call; sleeps read no clock.
same "strict clock" "monotonic 0.000000000 then 0.001000000, res 1 ns
realtime after 2020: 1" "$("$wg" wasm run --strict-sandbox "$g/wasi_misc.wasm" clock)"
same "strict sandbox" "realtime: whole second + 1000000 ns, then +1000000, +1000000
monotonic: 0 1000000 2000000
realtime resolution: 1000000
monotonic resolution: 1
process clock: 28, thread clock: 28
random 5:538c7f96b1
random 9:64bf1b97bb9f4bb472
random 16:e89f5b1484f25209c9d9343e92ba09dd
sleep 0: 0, sleep 1: 0, then monotonic 3000000, realtime +1000000" \
  "$("$wg" wasm run --strict-sandbox "$g/wasi_strict.wasm")"
# Dapr's own strict guest (components-contrib common/wasm/testdata/strict,
# TinyGo), when its path is given: its Go test expects exactly this.
if [ -n "${DAPR_STRICT_WASM:-}" ] && [ -f "$DAPR_STRICT_WASM" ]; then
  same "Dapr's strict guest" "2000000
1000000
3e0a4fc818" "$("$wg" wasm run --strict-sandbox "$DAPR_STRICT_WASM" 2>&1)"
fi
a=$("$wg" wasm run --strict-sandbox "$g/wasi_misc.wasm" random) b=$("$wg" wasm run --strict-sandbox "$g/wasi_misc.wasm" random)
same "strict random repeats" "$a" "$b"
a=$("$wg" wasm run "$g/wasi_misc.wasm" random) b=$("$wg" wasm run "$g/wasi_misc.wasm" random)
[ "$a" != "$b" ] && [ ${#a} -eq 32 ] && ok || bad "random bytes repeat without strict mode: $a $b"

# Exit codes, traps and limits.
out=$("$wg" wasm run "$g/wasi_misc.wasm" exit 7)
[ $? -eq 7 ] && [ "$out" = "exiting with 7" ] && ok || bad "exit 7: $out"
out=$("$wg" wasm run "$g/wasi_misc.wasm" trap 2>&1)
[ $? -eq 134 ] && grep -q 'trap: unreachable' <<<"$out" && grep -q '  at ' <<<"$out" && ok || bad "trap: $out"
out=$("$wg" wasm run --fuel 100000 "$g/wasi_misc.wasm" spin 2>&1)
[ $? -eq 134 ] && grep -q 'limit reached: all fuel consumed' <<<"$out" && ok || bad "fuel: $out"
start=$(date +%s%N)
out=$(timeout 10 "$wg" wasm run --timeout 200ms "$g/wasi_misc.wasm" spin 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
grep -q 'limit reached: interrupted' <<<"$out" && [ $ms -lt 3000 ] && ok || bad "timeout after ${ms} ms: $out"

# A bigger program: the same output as natively.
native kernels && same "kernels" "$("$tmp/kernels.native" 48)" "$("$wg" wasm run "$g/kernels.wasm" 48)"

native alloc_heavy && same "alloc_heavy" "$("$tmp/alloc_heavy.native" 60000)" "$("$wg" wasm run "$g/alloc_heavy.wasm" 60000)"

# A file-processing program from our own sources: the engine compiled to
# wasm32-wasi validates modules read through WASI, exactly as its native build.
root=$(cd "$(dirname "$0")/../.." && pwd)
if cc -O1 -w -D_GNU_SOURCE -I"$root/engine/include" -I"$root/engine/src" "$root"/engine/src/*.c \
    "$root/bench/guest/engine_main.c" -lm -o "$tmp/engine.native"; then
  mkdir -p "$tmp/mods"
  cp "$build"/fixtures/valid/*.wasm "$build"/fixtures/invalid/*.wasm "$g/kernels.wasm" "$tmp/mods/"
  want="" got=""
  for f in "$tmp"/mods/*.wasm; do
    n=$(basename "$f")
    want+="$(cd "$tmp/mods" && "$tmp/engine.native" "$n"; echo " -> $?")"$'\n'
    got+="$("$wg" wasm run --dir "$tmp/mods:." "$g/engine.wasm" "$n"; echo " -> $?")"$'\n'
  done
  same "engine.wasm validating $(ls "$tmp/mods" | wc -l) modules" "$want" "$got"
else
  bad "cannot build the engine natively"
fi

# Command line errors.
"$wg" wasm run --fuel x "$g/hello.wasm" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "bad --fuel accepted"
"$wg" wasm run --dir /nonexistent-dir "$g/hello.wasm" >/dev/null 2>&1; [ $? -eq 1 ] && ok || bad "missing --dir accepted"
same "invoke" "55" "$("$wg" wasm run --invoke fib "$build/fixtures/valid/control.wasm" 10 2>&1)"
wat2wasm "$(dirname "$0")/simd_invoke.wat" -o "$tmp/simd_invoke.wasm" && ok || bad "simd_invoke.wat"
same "invoke v128" "0x0000000000000003000000020000000a
-1" "$("$wg" wasm run --invoke addsplat "$tmp/simd_invoke.wasm" 0xffffffff000000020000000100000009 1 2>&1)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
