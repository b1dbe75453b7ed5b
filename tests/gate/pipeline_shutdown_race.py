"""pipeline_shutdown_race.py: a call waiting in an appHttpPipeline for a guest instance while the
sidecar shuts down (the crash once seen in gate_invoke_upload_pipeline: "wasmgate exited with -11 on
SIGTERM"). A pub/sub delivery to the app goes through the appHttpPipeline on the pub/sub loop; its
guest (hw_start_spin.wasm) takes about a quarter second to instantiate (seconds under ASan), so the delivery waits for an instance
made off the loop. SIGTERM arrives meanwhile: the loop's HTTP client to the app is closed (and was
freed, having no request in flight) before the instance came and the delivery used the client. The
pipeline call now holds a reference on its client: the sidecar exits 0, every time.
usage: pipeline_shutdown_race.py WASMGATE GUEST_DIR
"""
import http.server
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm, wait_for  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)
got = []


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(404 if self.path.startswith("/dapr/") else 200, b"ok")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        got.append(self.path)
        self.answer(200, b"{}")

    def log_message(self, *a):
        pass


app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()
RESOURCES = {
    "mw.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: slow\nspec:\n"
               "  type: middleware.http.wasm\n  version: v1\n  metadata:\n"
               f"  - name: url\n    value: \"file://{os.path.join(GUESTS, 'hw_start_spin.wasm')}\"\n"
               "  - name: maxConcurrency\n    value: \"8\"\n  - name: requestTimeout\n    value: \"10s\"\n",
    "pubsub.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
                   "  type: pubsub.in-memory\n  version: v1\n",
    "sub.yaml": "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: s\nspec:\n"
                "  pubsubname: pubsub\n  topic: t\n  routes:\n    default: /events\n",
}
CONF = ("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
        "  appHttpPipeline:\n    handlers:\n    - name: slow\n      type: middleware.http.wasm\n")
ROUNDS = 3
bad = []
for i in range(ROUNDS):
    sc = Sidecar(BIN, app_id="svc", args=["--threads", "1", "--app-port", str(app.server_port)])
    for name, text in RESOURCES.items():
        sc.write_resource(name, text)
    path = os.path.join(sc.dir, "config.yaml")
    with open(path, "w") as f:
        f.write(CONF)
    sc.args += ["--config", path]
    sc.start(timeout=60, wait_path="/v1.0/healthz")
    try:
        # the worker loop's pool takes the instance made at load; the pub/sub loop has none
        st, _, _ = sc.request("GET", "/v1.0/invoke/svc/method/hello", timeout=30)
        check(st == 200, f"round {i}: an invocation through the slow guest: {st}")
        st, _, b = sc.request("POST", "/v1.0/publish/pubsub/t", body=b'{"n":1}',
                              headers={"Content-Type": "application/json"}, timeout=30)
        check(st == 204, f"round {i}: publish: {st} {b!r}")
        # the delivery now waits for an instance (its _start spins ~0.25 s): stop the sidecar meanwhile
        time.sleep(0.2 * (i % 2))
        sc.proc.send_signal(signal.SIGTERM)
        rc = sc.wait_exit(60)
        if rc != 0:
            bad.append((i, rc, sc.logs()[-1500:]))
    finally:
        sc.finish_proc()
        sc.cleanup()
check(not bad, f"the sidecar exits 0 on SIGTERM with a pipeline call waiting for an instance: {bad[:1]}")
app.shutdown()
finish()
