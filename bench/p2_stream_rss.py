"""A large POST streamed through a wasi:http component: the sidecar's peak RSS and CPU (issue 14).

    python3 bench/p2_stream_rss.py COMPONENT_DIR WASMGATE [BASELINE_WASMGATE] [MB]   (default 100 MB)

COMPONENT_DIR holds echo.wasm (tests/components/http/build.sh DIR builds it). For each binary, side
by side in one run and each with a fresh sidecar (one loop thread, --max-body-size 1Gi): MB bytes
POSTed to /stream (Content-Length; the guest echoes them with blocking-read and
blocking-write-and-flush) and to /stream-poll (chunked; subscribe + poll + read, check-write +
write), the answer read as it comes and its SHA-256 checked. Prints the sidecar's peak RSS
(VmHWM) after each call, its CPU time (user+sys from /proc/PID/stat) per MB, and the wall time
(under load, compare CPU, not wall). A baseline that buffers bodies shows its RSS growing with MB.
Loopback only.
"""
import hashlib
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gate"))
from wgbody import MB, Call, Payload, body_pieces  # noqa: E402
from wgtest import Sidecar, peak_rss_mb  # noqa: E402

COMP = os.path.join(sys.argv[1], "echo.wasm")
bins = [os.path.abspath(a) for a in sys.argv[2:] if not a.isdigit()]
N = int(next((a for a in sys.argv[2:] if a.isdigit()), "100")) * MB
PAY = Payload(b"bench")
WANT = PAY.sha(N)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def one(sc, path, chunked):
    c = Call(sc.port, path, n=N, payload=PAY, chunked=chunked, app_id="echo", timeout=300)
    got, h, ok = 0, hashlib.sha256(), False
    st = None
    try:
        st, hdrs = c.head()
        if st is not None:
            for b in body_pieces(c.f, hdrs, piece=MB):
                h.update(b)
                got += len(b)
            ok = True
    except (EOFError, OSError, ValueError):
        pass
    c.wait_sent(60)
    c.close()
    return st, got, ok and h.hexdigest() == WANT


print(f"{N // MB} MB POST through {COMP} (one loop thread)")
print(f"{'binary':<44} {'path':<12} {'status':>6} {'intact':>6} {'VmHWM MB':>9} {'CPU ms/MB':>10} {'wall s':>7}")
for b in bins:
    for path, chunked in (("stream", False), ("stream-poll", True)):
        sc = Sidecar(b, app_id="echo", args=["--app-wasm", "file://" + COMP, "--threads", "1",
                                             "--max-body-size", "1Gi"]).start(timeout=30)
        try:
            c0, t0 = cpu_s(sc.proc.pid), time.time()
            res = {}
            th = threading.Thread(target=lambda: res.update(r=one(sc, path, chunked)), daemon=True)
            th.start()
            th.join(300)
            st, got, intact = res.get("r", (None, 0, False))
            wall, cpu = time.time() - t0, cpu_s(sc.proc.pid) - c0
            print(f"{b[-44:]:<44} {path:<12} {str(st):>6} {str(intact):>6} {peak_rss_mb(sc.proc.pid):>9} "
                  f"{1000 * cpu / (N / MB):>10.2f} {wall:>7.2f}", flush=True)
        finally:
            sc.stop()
