#!/usr/bin/env python3
"""Totals per command type from run_v8.mjs --json output.
usage: summarize.py RESULTS.json"""
import collections, json, sys

data = json.load(open(sys.argv[1]))
totals = collections.defaultdict(collections.Counter)
for f in data["files"]:
    for kind, counts in f["byType"].items():
        totals[kind].update(counts)
for kind in sorted(totals):
    c = totals[kind]
    print(f"{kind:22} {c['passed']:6} passed {c['failed']:6} failed {c['skipped']:6} skipped")
