"""grpc_hostile_fds.py: running out of file descriptors must not livelock or
silently shed the gRPC API (the same accept back-off as the HTTP API,
util/acceptor.c).

The sidecar runs under a low open-files limit (soft and hard); far more
connections than that are opened to its gRPC port. Accepting pauses (EMFILE
back-off, a rate-limited "gRPC: accept: Too many open files" warning) while
the loop keeps serving: a gRPC call on an established channel answers, and the
flooded connections wait in the kernel's backlog instead of being accepted and
dropped (libuv's own accept loop closed them: they saw EOF). Once descriptors
free up, a new channel works, and SIGTERM drains.

Run with Debian's python3 (python3-grpcio). No stubs: grpc.health.v1's Check
with raw bytes (an empty request; SERVING is field 1 = 1).
"""
import os
import resource
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

import grpc  # noqa: E402

LIMIT = 128   # descriptors the sidecar may hold
FLOOD = 1500  # connections the client opens

start_alarm(100)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < FLOOD + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))


class LimitedSidecar(Sidecar):
    def command(self):
        return ["bash", "-c", f"ulimit -n {LIMIT} && exec \"$@\"", "bash"] + super().command()


def health(channel):
    call = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                               response_deserializer=lambda b: b)
    return call(b"", timeout=10)


sc = LimitedSidecar(sys.argv[1], args=["--threads", "2"]).start()
keep = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
check(health(keep) == b"\x08\x01", "health before the flood")

socks = []
for _ in range(FLOOD):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect_ex(("127.0.0.1", sc.grpc_port))
    except OSError:
        pass
    socks.append(s)

# wait (bounded) for the warning: the sidecar has hit EMFILE
deadline = time.time() + 20
while time.time() < deadline and "grpc: accept: too many open files" not in sc.logs().lower():
    time.sleep(0.1)
check("grpc: accept: too many open files" in sc.logs().lower(), "no gRPC EMFILE warning in the log")

log_before = os.path.getsize(sc.log_path)
t0 = time.time()
try:
    ok = health(keep) == b"\x08\x01"
except grpc.RpcError as e:
    print("health on the kept channel failed:", e)
    ok = False
check(ok, "a call on an established channel does not answer while descriptors are exhausted")
check(time.time() - t0 < 5, f"the call took {time.time() - t0:.1f}s while descriptors are exhausted")

# the flooded connections are pending, not accepted and dropped: none of them sees EOF or a reset
# (the sidecar holds at most LIMIT descriptors; the rest must still be waiting)
r, _, _ = select.select(socks[LIMIT * 2:LIMIT * 2 + 200], [], [], 1.0)
dropped = 0
for s in r:
    try:
        if s.recv(1) == b"":
            dropped += 1
    except BlockingIOError:
        pass
    except OSError:
        dropped += 1
check(dropped == 0, f"{dropped} waiting connections were accepted and dropped instead of paused")
grown = os.path.getsize(sc.log_path) - log_before
check(grown < 20000, f"the log grew by {grown} bytes during EMFILE (warning not rate-limited)")

for s in socks:
    s.close()
keep.close()
# accepting resumes (after at most the 1 s back-off) once descriptors are free
deadline = time.time() + 20
fresh = None
while time.time() < deadline:
    ch = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
    try:
        fresh = health(ch)
        break
    except grpc.RpcError:
        time.sleep(0.2)
    finally:
        ch.close()
check(fresh == b"\x08\x01", f"a new channel after the flood got {fresh!r}")

sc.proc.send_signal(signal.SIGTERM)
rc = sc.wait_exit(15)
check(rc == 0, f"SIGTERM drain: exit status {rc}")
if rc is None:
    sc.kill()
sc.finish_proc()
print(sc.logs()[-1200:])
sc.cleanup()
finish()
