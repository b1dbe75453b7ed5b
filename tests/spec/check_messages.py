#!/usr/bin/env python3
"""Checks the wording of compile errors: for every binary assert_malformed and
assert_invalid of the converted suite, the spec driver's message must start
with the suite's expected text. Prints the mismatches and a count.
usage: check_messages.py WASMGATE OUT_DIR [DRIVER_ARG...]
(DRIVER_ARG: e.g. --wasm2, passed to `wasmgate spec-driver`)"""
import collections, glob, json, os, subprocess, sys

wasmgate, out, driver_args = sys.argv[1], sys.argv[2], sys.argv[3:]
checked, mismatches = 0, collections.Counter()
for path in sorted(glob.glob(os.path.join(out, "*", "*.json"))):
    script = json.load(open(path))
    if not isinstance(script, dict):
        continue
    asserts = [c for c in script.get("commands", [])
               if c["type"] in ("assert_malformed", "assert_invalid") and c.get("module_type") == "binary"]
    if not asserts:
        continue
    lines = [json.dumps({"op": "beginFile", "dir": os.path.dirname(path)})]
    lines += [json.dumps({"op": "validate", "file": c["filename"]}) for c in asserts]
    res = subprocess.run([wasmgate, "spec-driver", *driver_args], input="\n".join(lines) + "\n",
                         capture_output=True, text=True).stdout.splitlines()[1:]
    for cmd, line in zip(asserts, res):
        checked += 1
        msg = json.loads(line).get("msg", "")
        if not msg.startswith(cmd["text"]):
            mismatches[(os.path.basename(path), cmd["line"], cmd["text"], msg)] += 1
for (f, line, want, got), _ in sorted(mismatches.items()):
    print(f"  wording: {f}:{line}: want '{want}', got '{got}'")
print(f"messages: {checked - len(mismatches)} of {checked} start with the suite's text")
