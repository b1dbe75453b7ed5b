"""Issue 18.9 (rest): making a middleware guest's instance does not stall the event loop.

Instantiation and `_start` of an http-wasm guest used to run on the loop
thread of the request that needed a new instance, outside the time slices,
so a guest with a slow `_start` stopped every other request of that loop for
its whole duration. Now a new instance is made on the thread pool and handed
to the waiting request when ready.

One loop (--threads 1), an appHttpPipeline guest whose `_start` spins (about a
second), and an app that answers after 2 s, so the first call holds the only
instance (the one made at load) while a second call needs a new one. While
that instance is made, healthz (which does not pass the app pipeline) keeps
answering quickly: its worst latency stays well under the `_start` time
(before: it waited for all of it). Both calls succeed.
usage: httpwasm_instantiate.py WASMGATE GUEST_DIR
"""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(2)
        self.send_response(200 if not self.path.startswith("/dapr/") else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()

MW = ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: slowstart\nspec:\n"
      "  type: middleware.http.wasm\n  version: v1\n  metadata:\n"
      f"  - name: url\n    value: \"file://{os.path.join(GUESTS, 'hw_slow_start.wasm')}\"\n"
      "  - name: requestTimeout\n    value: \"3s\"\n"  # instantiation gets ten request budgets
      "  - name: poolTimeout\n    value: \"60s\"\n")
CONF = ("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: appconfig\nspec:\n"
        "  appHttpPipeline:\n    handlers:\n    - name: slowstart\n      type: middleware.http.wasm\n")

sc = Sidecar(BIN, app_id="svc", args=["--threads", "1", "--app-port", str(app.server_address[1])])
sc.write_resource("mw.yaml", MW)
conf = os.path.join(sc.dir, "config.yaml")
with open(conf, "w") as f:
    f.write(CONF)
sc.args += ["--config", conf]
t0 = time.time()
sc.start(timeout=60, wait_path="/v1.0/healthz")
start_s = time.time() - t0  # includes making the first instance (its _start)
print(f"sidecar start (one _start included): {start_s:.2f} s")

results = {}


def call(name, path):
    t = time.time()
    try:
        st, _, body = sc.request("GET", f"/v1.0/invoke/svc/method/{path}", timeout=60)
    except OSError as e:
        st, body = 0, str(e).encode()
    results[name] = (st, body, time.time() - t)


first = threading.Thread(target=call, args=("first", "slow"))
first.start()
time.sleep(0.3)  # the first call holds the instance (its app answers in 2 s)
second = threading.Thread(target=call, args=("second", "fast"))
second.start()
lat = []
end = time.time() + 30
while second.is_alive() and time.time() < end:
    t = time.time()
    st, _, _ = sc.request("GET", "/v1.0/healthz", timeout=30)
    lat.append((time.time() - t) * 1000)
    check(st == 204, f"healthz: {st}")
    time.sleep(0.01)
first.join(30)
second.join(30)
worst = max(lat) if lat else 0
print(f"healthz while an instance is made: n={len(lat)} max={worst:.1f} ms; second call took "
      f"{results.get('second', (0, b'', 0))[2]:.2f} s")
for name in ("first", "second"):
    st, body, _ = results.get(name, (0, b"", 0))
    check(st == 200 and body == b"ok", f"{name} call: {st} {body[:200]!r}")
check(len(lat) >= 3, f"healthz was sampled while the instance was made: {len(lat)}")
# the loop is free: healthz waits for a few ms, not for a _start (about a second here)
check(worst < 250, f"healthz worst latency {worst:.1f} ms while a guest instance is made (want < 250 ms)")
sc.stop()
finish()
