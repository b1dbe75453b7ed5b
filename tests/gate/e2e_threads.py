"""The default number of event-loop threads (issue 17): half the CPUs the process may run on
(sched_getaffinity, so `taskset` counts), at least 1; --threads sets any count. The count is
read from the start-up line "HTTP API listening on ... (N event-loop threads)".

Before, the default was one loop per online CPU: on two CPUs two loops, which with the app and
its clients on the same two CPUs gave the closed-loop p99 of 3.35 ms in bench/README.md."""
import os
import re
import sys
import time

from wgtest import Sidecar, check, finish

BIN = os.path.abspath(sys.argv[1])


class Pinned(Sidecar):
    """A sidecar started under `taskset -c CPUS`."""

    def __init__(self, binary, cpus, args=()):
        super().__init__(binary, args=args)
        self.cpus = cpus

    def command(self):
        return ["taskset", "-c", ",".join(str(c) for c in self.cpus)] + super().command()


def loops(cpus, args=()):
    sc = Pinned(BIN, cpus, args).start(timeout=30)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            m = re.search(r"\((\d+) event-loop threads\)", sc.logs())
            if m:
                return int(m.group(1))
            time.sleep(0.05)
        return None
    finally:
        sc.cleanup()


mine = sorted(os.sched_getaffinity(0))
check(loops(mine[:1]) == 1, "one CPU: one loop")
check(loops(mine[:1], ["--threads", "3"]) == 3, "--threads 3 on one CPU: three loops")
if len(mine) >= 2:
    got = loops(mine[:2])
    check(got == 1, f"two CPUs: one loop, the other CPU left to the app and its clients (got {got})")
if len(mine) >= 4:
    got = loops(mine[:4])
    check(got == 2, f"four CPUs: two loops (got {got})")
finish()
