#!/usr/bin/env python3
"""mkcomponent.py: the one recipe that turns a C source in the tree into a
WASI 0.2 component at test time (never committed): clang-19, then `jco embed`
with a WIT folder and world, then `jco new` (docs: tests/components/README.md).

As a command:
  mkcomponent.py SRC.c -o OUT.wasm --wit DIR|FILE [--world NAME]
                 [--command | --reactor] [--nostdlib] [--cflag FLAG]... [--dep FILE]...
    --nostdlib  clang-19 --target=wasm32 -nostdlib (-Wl,--no-entry,
                --export-memory): a component written against the canonical
                ABI by hand with no libc and no preview1 adapter; otherwise
                --target=wasm32-wasi (wasi-libc), which needs the adapter:
    --command   `jco new --wasi-command` (the preview1 command adapter);
    --reactor   clang-19 -mexec-model=reactor and `jco new --wasi-reactor`;
    --world     the world to embed (without it: the WIT's only world);
    --dep FILE  another file OUT depends on (a header): OUT is rebuilt when
                SRC, FILE or anything under --wit is newer than OUT.
  Exit 0 (built or up to date), 1 with "FAIL: ..." when a step fails, 77
  when clang-19, node or jco is missing (1 under CI, which exports CI: there
  a missing install is an error).

As a module (the Python tests): missing() names what is not installed (None
when all is), build(...) does the steps and raises RuntimeError with the
failing step's output; jco(*args) runs jco with our preopen shim (for
`jco types`, `jco componentize`).
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NM = os.path.join(ROOT, "scripts", "npm", "node_modules")
JCO = os.path.join(NM, "@bytecodealliance", "jco", "dist", "jco.js")
PREOPEN = os.path.join(HERE, "jco_preopen.mjs")


def shim():
    """preview2-shim's filesystem.js (jco's bundled copy or the top-level one): jco_preopen.mjs
    preopens / through it so that `jco embed --wit DIR` can read DIR."""
    for d in ("jco-transpile/node_modules/@bytecodealliance/preview2-shim", "preview2-shim"):
        p = os.path.join(NM, "@bytecodealliance", d, "dist", "nodejs", "filesystem.js")
        if os.path.exists(p):
            return p
    return ""


def missing():
    """What the recipe needs and is not installed, or None."""
    for t in ("clang-19", "node"):
        if not shutil.which(t):
            return f"{t} not installed"
    if not os.path.exists(JCO) or not shim():
        return "jco not installed (scripts/deps.sh installs scripts/npm)"
    return None


def run(cmd, timeout=240):
    """Runs one step; its output, or RuntimeError with the tail of it."""
    r = subprocess.run(cmd, env=dict(os.environ, JCO_SHIM_FS=shim()), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = r.stdout.decode(errors="replace")
    if r.returncode:
        raise RuntimeError(f"{' '.join(os.path.basename(c) for c in cmd[:4])}...: {out[-2000:]}")
    return out


def jco(*args, timeout=240):
    """jco ARGS with the preopen shim loaded; its output."""
    return run(["node", "--import", PREOPEN, JCO] + list(args), timeout=timeout)


def newest(paths):
    t = 0.0
    for p in paths:
        if os.path.isdir(p):
            for d, _, fs in os.walk(p):
                t = max([t] + [os.path.getmtime(os.path.join(d, f)) for f in fs])
        elif os.path.exists(p):
            t = max(t, os.path.getmtime(p))
    return t


def build(src, out, wit, world, command=False, nostdlib=False, cflags=(), deps=(), reactor=False):
    """Builds component `out` from C source `src` (see the module's doc); returns out. Nothing is
    done when out is newer than src, deps and the WIT folder."""
    if os.path.exists(out) and os.path.getmtime(out) > newest([src, wit] + list(deps)):
        return out
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    base = out[:-5] if out.endswith(".wasm") else out
    core, emb = base + ".core.wasm", base + ".embed.wasm"
    if nostdlib:
        cc = ["clang-19", "--target=wasm32", "-mbulk-memory", "-O2", "-nostdlib", "-Wall", "-Wextra", "-Werror",
              "-Wl,--no-entry", "-Wl,--export-memory"]
    else:
        cc = ["clang-19", "--target=wasm32-wasi", "-O2", "-Wall", "-Werror"] + (["-mexec-model=reactor"] if reactor else [])
    run(cc + list(cflags) + [src, "-o", core])
    jco("embed", core, "--wit", wit, *(["--world-name", world] if world else []), "-o", emb)
    adapter = ["--wasi-command"] if command else ["--wasi-reactor"] if reactor else []
    run(["node", JCO, "new", emb] + adapter + ["-o", out])
    return out


def main():
    ap = argparse.ArgumentParser(description="C source -> WASI 0.2 component (clang-19, jco embed, jco new)")
    ap.add_argument("src")
    ap.add_argument("-o", dest="out", required=True)
    ap.add_argument("--wit", required=True)
    ap.add_argument("--world")
    ap.add_argument("--command", action="store_true")
    ap.add_argument("--reactor", action="store_true")
    ap.add_argument("--nostdlib", action="store_true")
    ap.add_argument("--cflag", action="append", default=[])
    ap.add_argument("--dep", action="append", default=[])
    a = ap.parse_args()
    why = missing()
    if why:
        print(f"{'FAIL: ' if os.environ.get('CI') else ''}skip: {why}")
        sys.exit(1 if os.environ.get("CI") else 77)
    try:
        build(a.src, a.out, a.wit, a.world, a.command, a.nostdlib, a.cflag, a.dep, a.reactor)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {os.path.basename(a.src)}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
