"""Issue 18.2: a client that pipelines requests and never reads its
responses must not take the sidecar's memory, and a write queue that makes
no progress is closed after the write timeout (the idle timeout).

Loopback only: one client sends pipelined GETs for a few seconds without
reading; the sidecar's RSS stays bounded (before the fix it grew by hundreds
of MB). A second client pipelines many requests, pauses, then reads: every
answer arrives, in order (parsing resumes when the queue drains).
"""
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, asan_small_quarantine, check, finish, start_alarm  # noqa: E402

start_alarm(100)
sc = Sidecar(sys.argv[1], args=["--threads", "1", "--http-idle-timeout", "3s"],
             env={"ASAN_OPTIONS": asan_small_quarantine()}).start()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


REQ = b"GET /v1.0/healthz/outbound HTTP/1.1\r\nHost: x\r\n\r\n"
chunk = REQ * 2000
before = rss_kb(sc.proc.pid)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", sc.port))
s.setblocking(False)
sent = 0
t0 = time.time()
stalled_since = None
while time.time() - t0 < 4:
    _, w, _ = select.select([], [s], [], 0.2)
    if not w:
        stalled_since = stalled_since or time.time()
        if time.time() - stalled_since > 1.0:
            break  # the sidecar stopped reading: backpressure reached the client
        continue
    stalled_since = None
    try:
        sent += s.send(chunk)
    except BlockingIOError:
        pass
    except OSError:
        break
peak = rss_kb(sc.proc.pid)
print(f"sent {sent / 1e6:.1f} MB of pipelined requests; RSS {before} kB -> {peak} kB")
check(peak - before < 64 * 1024, f"RSS grew by {(peak - before) // 1024} MB for a client that never reads")
# the stalled connection is closed once its queued answers make no progress for the write timeout
s.setblocking(True)
time.sleep(5)
s.settimeout(10)
closed = False
try:
    t1 = time.time()
    while time.time() - t1 < 20:
        d = s.recv(1 << 20)
        if not d:
            closed = True
            break
except ConnectionResetError:
    closed = True
except socket.timeout:
    pass
check(closed, "the connection of a client that stopped reading was not closed")
s.close()
check(sc.request("GET", "/v1.0/healthz/outbound")[0] == 204, "healthz after the flood")

# a slow reader: pipelined answers all arrive once it reads
N = 5000
c = socket.create_connection(("127.0.0.1", sc.port), timeout=20)
c.sendall(REQ * (N - 1) + b"GET /v1.0/healthz/outbound HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
time.sleep(1.0)
data = b""
try:
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        data += d
except OSError as e:
    print("slow reader:", e)
c.close()
got = data.count(b"HTTP/1.1 204 ")
check(got == N, f"slow reader got {got} of {N} pipelined answers")
sc.stop()
sc.cleanup()
finish()
