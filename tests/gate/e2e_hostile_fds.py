"""Issue 18.1: running out of file descriptors must not livelock the sidecar.

The sidecar runs under a low open-files limit (soft and hard, so raising the
soft limit to the hard one cannot help); far more connections than that are
opened. Accepting must pause (EMFILE back-off) while the loop keeps serving
the connections it has: healthz answers on an established keep-alive
connection, the log stays small (the warning is rate-limited), new
connections are accepted again once descriptors free up, and SIGTERM drains.
"""
import http.client
import os
import resource
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

LIMIT = 128  # descriptors the sidecar may hold
FLOOD = 1500 # connections the client opens

start_alarm(100)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < FLOOD + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))


class LimitedSidecar(Sidecar):
    def command(self):
        return ["bash", "-c", f"ulimit -n {LIMIT} && exec \"$@\"", "bash"] + super().command()


sc = LimitedSidecar(sys.argv[1], args=["--threads", "2"]).start()
keep = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=10)
keep.request("GET", "/v1.0/healthz/outbound")
r = keep.getresponse()
r.read()
check(r.status == 204, f"healthz before the flood: {r.status}")

socks = []
for _ in range(FLOOD):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect_ex(("127.0.0.1", sc.port))
    except OSError:
        pass
    socks.append(s)
time.sleep(2.0)  # let the sidecar hit EMFILE for a while

log_before = os.path.getsize(sc.log_path)
t0 = time.time()
ok = False
try:
    keep.request("GET", "/v1.0/healthz/outbound")
    r = keep.getresponse()
    r.read()
    ok = r.status == 204
except OSError as e:
    print("healthz on the kept connection failed:", e)
check(ok, "healthz on an established connection does not answer while descriptors are exhausted")
check(time.time() - t0 < 5, f"healthz took {time.time() - t0:.1f}s while descriptors are exhausted")
time.sleep(1.0)
grown = os.path.getsize(sc.log_path) - log_before
check(grown < 20000, f"the log grew by {grown} bytes in one second of EMFILE (warning not rate-limited)")
check("too many open files" in sc.logs().lower(), "no EMFILE warning in the log")

for s in socks:
    s.close()
# accepting resumes (after at most the 1 s back-off) once descriptors are free
deadline = time.time() + 15
fresh = None
while time.time() < deadline:
    try:
        fresh = sc.request("GET", "/v1.0/healthz/outbound", timeout=3)[0]
        if fresh == 204:
            break
    except OSError:
        time.sleep(0.2)
check(fresh == 204, f"a new connection after the flood got {fresh}")
keep.close()

sc.proc.send_signal(signal.SIGTERM)
rc = sc.wait_exit(15)
check(rc == 0, f"SIGTERM drain: exit status {rc}")
if rc is None:
    sc.kill()
sc.finish_proc()
print(sc.logs()[-1500:])
sc.cleanup()
finish()
