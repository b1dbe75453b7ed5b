"""Issue 18 (413 lingering close): a body over --max-body-size is answered
413, and a client that is still sending its body reads that 413 instead of a
connection reset: the sidecar closes lingeringly (shuts down its write side,
reads and discards for a bounded time), as nginx does.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

start_alarm(100)
sc = Sidecar(sys.argv[1], args=["--threads", "1", "--max-body-size", "1Mi"]).start()

BODY = 24 << 20


def attempt(pace):
    """Sends a 24 MiB body in 64 KiB writes (pausing pace s between them) and
    only then reads, as naive clients do (a send error fails); returns the first line of what came back or the error."""
    s = socket.create_connection(("127.0.0.1", sc.port), timeout=20)
    s.sendall(b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % BODY)
    block = b"x" * 65536
    err = None
    try:
        for _ in range(BODY // len(block)):
            s.sendall(block)
            if pace:
                time.sleep(pace)
    except OSError as e:  # the server may stop reading once it has answered
        err = e
    if err:
        return f"send error (the body was not read to its end): {err}"
    out = b""
    try:
        while b"\r\n" not in out:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError as e:
        return f"error while reading: {e} (send error: {err})"
    finally:
        s.close()
    return out.split(b"\r\n")[0].decode(errors="replace")


for pace in (0, 0.0005):
    for i in range(3):
        got = attempt(pace)
        check(got.startswith("HTTP/1.1 413 "), f"pace {pace} try {i}: {got!r}")

# a client that keeps sending forever is cut off after the linger bound
s = socket.create_connection(("127.0.0.1", sc.port), timeout=5)
s.sendall(b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n")
t0 = time.time()
stop = False
while time.time() - t0 < 20:
    try:
        s.sendall(b"y" * 4096)
        time.sleep(0.01)
    except OSError:
        stop = True
        break
check(stop, "a client that never stops sending is never cut off")
check(time.time() - t0 < 15, f"cut off after {time.time() - t0:.1f}s")
s.close()
check(sc.request("GET", "/v1.0/healthz/outbound")[0] == 204, "healthz")
sc.stop()
sc.cleanup()
finish()
