"""Issue 18.6: a resources folder holding a YAML nesting bomb (1 MB of
unclosed '[') or an oversized file stops `wasmgate run` at once with an
error naming the file, instead of spinning in libyaml's scanner (more than
30 s at 100% CPU with no message before).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

start_alarm(100)
for name, text, msg in [("bomb.yaml", "a: " + "[" * 1000000, "nesting deeper than 10000"),
                        ("big.yaml", "a: " + "b" * (17 << 20) + "\n", "larger than the 16777216-byte limit")]:
    sc = Sidecar(sys.argv[1])
    sc.write_resource(name, text)
    t0 = time.time()
    sc.spawn()
    rc = sc.wait_exit(20)
    dt = time.time() - t0
    if rc is None:
        sc.kill()
    check(rc not in (None, 0), f"{name}: exit status {rc}")
    check(dt < 10, f"{name}: took {dt:.1f}s to fail")
    log = sc.logs()
    check(name in log and msg in log, f"{name}: the error does not name the file and the cause:\n{log[-600:]}")
    sc.finish_proc()
    sc.cleanup()
finish()
