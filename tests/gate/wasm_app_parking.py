"""wasm_app_parking.py: a wasm app waiting on a backend is parked, not blocking its loop.

A WAGI app (tests/gate/apps/wagi_app.c, route /invoke) calls another service through the dapr:v1
`invoke` host function: an HTTPEndpoint whose server answers every request after DELAY seconds
(a slow backend that serves requests concurrently). The sidecar runs ONE event-loop thread
(--threads 1). One request takes at least DELAY (the delay is real); N concurrent requests complete
in about one DELAY of wall time, not N x DELAY as they would if a guest held the loop while it
waited. (state_redis_parking.py proves the same for state gets on a slow Redis.) The caller's
timeout applies to a parked guest; a guest parked across a reload (SIGHUP) finishes on the old
module.
usage: wasm_app_parking.py WASMGATE APPS_DIR [N]
"""
import os
import signal
import sys
import threading
import time
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 200
DELAY = 0.1
start_alarm(110)


class Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        time.sleep({b"very": 3, b"mid": 0.7}.get(body, DELAY))
        out = b"slow:" + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


srv = Server(("127.0.0.1", 0), Slow)
threading.Thread(target=srv.serve_forever, daemon=True).start()
sc = Sidecar(BIN, args=["--app-wasm", "file://" + os.path.join(APPS, "wagi_app.wasm"), "--threads", "1",
                        "--log-level", "info"])
sc.write_resource("slow.yaml", "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: slowsvc\n"
                  f"spec:\n  baseUrl: http://127.0.0.1:{srv.server_address[1]}\n")
# a Resiliency timeout on calls to the app itself: a parked guest past it is discarded
sc.write_resource("res.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n"
                  "  policies:\n    timeouts: {short: 1s}\n  targets:\n    apps:\n      myapp: {timeout: short}\n")
sc.start(timeout=20)
try:
    path = "/v1.0/invoke/myapp/method/invoke?app=slowsvc&method=work"
    t0 = time.time()
    st, _, b = sc.request("POST", path, body=b"x", timeout=30)
    one = time.time() - t0
    check(st == 200 and b == b"slow:x", f"one call: {st} {b!r}")
    check(one >= DELAY, f"one request took {one:.3f}s: the backend delay is real")

    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(N)

    def one_call():
        c = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=60)
        try:
            c.connect()
            barrier.wait(30)
            c.request("POST", path, body=b"x")
            r = c.getresponse()
            body = r.read()
            with lock:
                results.append((r.status, body, time.time()))
        except Exception as e:  # noqa: BLE001
            with lock:
                results.append((0, str(e).encode(), time.time()))
        finally:
            c.close()
    threads = [threading.Thread(target=one_call) for _ in range(N)]
    for t in threads:
        t.start()
    # the barrier releases every thread at once; time from the release
    t0 = time.time()
    for t in threads:
        t.join(90)
    wall = max(r[2] for r in results) - t0 if results else 999
    ok = sum(1 for s, b, _ in results if s == 200 and b == b"slow:x")
    print(f"{N} concurrent invocations parked in a wasm app, backend delay {DELAY * 1000:.0f} ms, 1 loop thread: "
          f"{ok} ok, wall {wall * 1000:.0f} ms (serialized would be {N * DELAY * 1000:.0f} ms)")
    check(ok == N, f"all answered: {ok}/{N}: {[r[:2] for r in results if r[0] != 200][:3]}")
    check(wall < max(3.0, N * DELAY / 5), f"parked, not blocking: {N} calls took {wall:.2f}s")
    st, _, _ = sc.request("GET", "/v1.0/healthz", timeout=10)
    check(st == 204, f"healthz after the batch: {st}")

    # the caller's timeout (Resiliency: 1 s) applies while the guest is parked on a 3 s backend
    t0 = time.time()
    st, _, b = sc.request("POST", path, body=b"very", timeout=30)
    took = time.time() - t0
    check(st == 500 and took < 2.5, f"timeout while parked: {st} in {took:.2f}s {b!r}")
    check(b"timeout" in b or b"deadline" in b, f"timeout message: {b!r}")
    time.sleep(2.5)  # the backend's late answer arrives for a discarded guest: dropped

    # a reload (SIGHUP) while a guest is parked: the parked call finishes on the old module
    late = {}
    th = threading.Thread(target=lambda: late.update(r=sc.request("POST", path, body=b"mid", timeout=30)))
    th.start()
    time.sleep(0.3)
    sc.proc.send_signal(signal.SIGHUP)
    th.join(30)
    st, _, b = late.get("r", (0, {}, b""))
    check(st == 200 and b == b"slow:mid", f"parked across a reload: {st} {b!r}")
    check("wasm app reloaded" in sc.logs(), "the reload happened")
    st, _, b = sc.request("POST", path, body=b"x", timeout=30)
    check(st == 200 and b == b"slow:x", f"served after a discarded guest: {st} {b!r}")
finally:
    sc.stop()
finish()
