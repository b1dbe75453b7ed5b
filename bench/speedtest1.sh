#!/usr/bin/env bash
# bench/speedtest1.sh BUILD_DIR: SQLite's speedtest1 (a real program: SQL
# parsing, the VDBE, B-trees, an in-memory database) side by side in one run:
# native code, node's V8 (node:wasi), wasmgate's interpreter and its compiled
# tier, all from the same sources with clang-19 -O2 (one .wasm, wasm32-wasi,
# for the three wasm engines). Prints the CPU time (user + system of the
# whole process, start-up and compilation included) as the median of
# BENCH_RUNS (3) runs, and the ratios to native and to node.
#
# Sources are never committed; give them with SQLITE_SRC=DIR, either
#  - a directory holding the amalgamation sqlite3.c and sqlite3.h (from
#    sqlite.org's sqlite-amalgamation zip, or `make sqlite3.c` in a source
#    tree) and speedtest1.c (test/speedtest1.c of the same version), or
#  - a SQLite source tree (main.mk, test/speedtest1.c): the amalgamation is
#    made in BUILD_DIR/bench-speedtest1 (configure + make sqlite3.c: needs
#    tclsh, Debian's tcl).
# Without SQLITE_SRC the benchmark is skipped. SPEEDTEST_SIZE (25): speedtest1's
# --size (100 is its standard run; smaller keeps the interpreter's row short).
# WASM3=/path/to/wasm3 adds wasm3's time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: speedtest1.sh BUILD_DIR}" && pwd)
runs=${BENCH_RUNS:-3}
size=${SPEEDTEST_SIZE:-25}
src=${SQLITE_SRC:-}
if [ -z "$src" ]; then
  echo "speedtest1: skipped (set SQLITE_SRC to the SQLite amalgamation + speedtest1.c, or a source tree)"
  exit 0
fi
src=$(cd "$src" && pwd)
out=$build/bench-speedtest1
mkdir -p "$out"

amalg=$src
test_c=$src/speedtest1.c
if [ ! -f "$src/sqlite3.c" ]; then
  [ -f "$src/main.mk" ] || { echo "speedtest1: $src has neither sqlite3.c nor main.mk" >&2; exit 1; }
  amalg=$out/amalgamation
  if [ ! -f "$amalg/sqlite3.c" ]; then
    mkdir -p "$amalg"
    (cd "$amalg" && "$src/configure" --disable-tcl >/dev/null && make sqlite3.c >/dev/null)
  fi
  test_c=$src/test/speedtest1.c
fi
[ -f "$test_c" ] || { echo "speedtest1: no speedtest1.c in $src" >&2; exit 1; }

# The same configuration for every build, native and wasm: no threads or
# extensions (WASI has neither), an in-memory database with temporary storage
# in memory, and our own small OS layer (speedtest1_vfs.c: SQLITE_OS_OTHER;
# SQLite's unix layer needs file locks WASI does not have).
defs=(-DSQLITE_OS_OTHER=1 -DSQLITE_TEMP_STORE=3 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION
  -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_DEFAULT_MEMSTATUS=0)
srcs=("$test_c" "$amalg/sqlite3.c" "$root/bench/speedtest1_vfs.c")
clang-19 -O2 "${defs[@]}" -I"$amalg" -o "$out/speedtest1.native" "${srcs[@]}" -lm 2>"$out/build.log" ||
  { cat "$out/build.log" >&2; exit 1; }
clang-19 --target=wasm32-wasi -O2 "${defs[@]}" -I"$amalg" -Wl,-z,stack-size=1048576 \
  -o "$out/speedtest1.wasm" "${srcs[@]}" 2>"$out/build.log" || { cat "$out/build.log" >&2; exit 1; }

# cpu_s CMD...: the command's user + system CPU seconds (it must succeed).
cpu_s() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode(errors="replace")[-2000:])
    sys.exit(1)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (u.ru_utime + u.ru_stime))
EOF
}
median() { sort -n | sed -n "$(((runs + 1) / 2))p"; }
measure() { for _ in $(seq "$runs"); do cpu_s "$@"; done | median; }

args=(--size "$size" :memory:)
w=$out/speedtest1.wasm
echo "speedtest1 (SQLite $(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$amalg/sqlite3.h"), --size $size," \
  "$(stat -c %s "$w") bytes of wasm; CPU seconds, median of $runs"
declare -A t
t[native]=$(measure "$out/speedtest1.native" "${args[@]}")
t[node]=$(measure node --no-warnings "$root/tests/wasi/run_node.mjs" "$out" /tmp "$w" "${args[@]}")
t[wg_jit]=$(measure "$build/cli/wasmgate" wasm run --tier jit "$w" "${args[@]}")
t[wg_interp]=$(measure "$build/cli/wasmgate" wasm run --tier interp "$w" "${args[@]}")
engines=(native node wg_jit wg_interp)
if [ -n "${WASM3:-}" ]; then
  t[wasm3]=$(measure "$WASM3" "$w" "${args[@]}")
  engines+=(wasm3)
fi
printf '%-10s %10s %10s %10s\n' engine cpu_s /native /node
for e in "${engines[@]}"; do
  awk -v e="$e" -v s="${t[$e]}" -v n="${t[native]}" -v v="${t[node]}" \
    'BEGIN { printf "%-10s %10.3f %10.2f %10.2f\n", e, s, s / n, s / v }'
done
