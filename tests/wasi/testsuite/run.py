#!/usr/bin/env python3
"""Runs the official WASI testsuite's preview1 tests through `wasmgate wasm run`.

usage: run.py SUITE WASMGATE [NAME-SUBSTRING...]

SUITE is a checkout (or extracted tree) of WebAssembly/wasi-testsuite's
`prod/testsuite-base` branch, or any folder below it: every folder holding a
manifest.json whose "version" is "wasm32-wasip1" is a test suite, and every
*.wasm in it a test. A test's expectations are in the .json of the same name
(missing: all defaults). Keys, as the upstream runner reads them:
  args      arguments after the program name
  env       {name: value}, the guest's whole environment
  root      a folder next to the test, preopened as "/" (a fresh copy per
            test here, so the suite's files are never modified)
  exit_code expected exit status (default 0)
  stdout    expected start of the standard output (the upstream runner reads
            exactly len(stdout) characters and compares them)
  stderr    the same for standard error
Standard input is an empty pipe, as upstream (a pipe closed right away).
Prints one line per failed test with the reason and ends with
"N passed, N failed"; the exit status is 0 only when nothing failed.
The suite itself is never part of this repository: CI passes its path.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 120  # seconds per test; the machine may be loaded


def suites(top):
    for dirpath, _, files in sorted(os.walk(top)):
        if "manifest.json" not in files:
            continue
        with open(os.path.join(dirpath, "manifest.json")) as f:
            manifest = json.load(f)
        if manifest.get("version", "wasm32-wasip1") == "wasm32-wasip1" and \
                any(n.endswith(".wasm") for n in files):
            yield dirpath, manifest.get("name", dirpath)


def run_one(wasmgate, wasm):
    cfg_path = wasm[:-len(".wasm")] + ".json"
    cfg = {}
    if os.path.exists(cfg_path):
        with open(cfg_path) as f:
            cfg = json.load(f)
    argv = [wasmgate, "wasm", "run"]
    for k, v in cfg.get("env", {}).items():
        argv += ["--env", f"{k}={v}"]
    tmp = None
    try:
        if cfg.get("root"):
            tmp = tempfile.mkdtemp(prefix="wts-")
            root = os.path.join(tmp, "root")
            shutil.copytree(os.path.join(os.path.dirname(wasm), cfg["root"]), root, symlinks=True)
            argv += ["--dir", f"{root}:/"]
        argv += [wasm] + list(cfg.get("args", []))
        try:
            p = subprocess.run(argv, input=b"", capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"timeout after {TIMEOUT}s"
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        problems = []
        want = cfg.get("exit_code", 0)
        if p.returncode != want:
            problems.append(f"exit {p.returncode}, expected {want}")
        for name, got in (("stdout", out), ("stderr", err)):
            exp = cfg.get(name)
            if exp is not None and got[:len(exp)] != exp:
                problems.append(f"{name} {got[:len(exp)]!r}, expected {exp!r}")
        if problems:
            tail = (err.strip().splitlines() or [""])[-3:]
            return "; ".join(problems) + (" | stderr: " + " / ".join(tail) if tail[0] else "")
        return None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    top, wasmgate, only = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3:]
    passed = failed = 0
    for d, name in suites(top):
        for f in sorted(os.listdir(d)):
            if not f.endswith(".wasm") or (only and not any(s in f for s in only)):
                continue
            why = run_one(wasmgate, os.path.join(d, f))
            if why is None:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {name}: {f[:-5]}: {why}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
