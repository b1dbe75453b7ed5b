"""wasm_app_example.py: examples/wasm-app through the real `wasmgate run`, twice with the same
checks: the order service as a wasm app (--app-wasm build/examples/wasm-app/order_service.wasm) and
its twin as an ordinary HTTP app (examples/wasm-app/order_app.py behind --app-port). Orders are
saved and read back with an ETag, published, delivered to the app's own subscription and turned
into shipments; bad input is refused; a Dapr client sees the same answers from both.
usage: wasm_app_example.py WASMGATE BUILD_DIR
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
start_alarm(110)


def scenario(sc, label):
    for _ in range(200):  # the app's programmatic subscription is in place before the first publish
        if "subscribed to topic orders" in sc.logs():
            break
        time.sleep(0.05)
    def inv(method, path, body=None):
        return sc.request(method, "/v1.0/invoke/orders/method" + path, body=body, timeout=30,
                          headers={"Content-Type": "application/json"} if body is not None else None)
    st, _, b = inv("POST", "/orders", {"id": "42", "item": "book", "qty": 2})
    check(st == 201 and json.loads(b) == {"id": "42", "item": "book", "qty": 2}, f"{label}: create: {st} {b!r}")
    st, h, b = inv("GET", "/orders/42")
    check(st == 200 and json.loads(b)["item"] == "book" and h.get("etag"), f"{label}: read: {st} {h} {b!r}")
    st, _, b = inv("GET", "/orders/7")
    check(st == 404, f"{label}: unknown order: {st} {b!r}")
    st, _, b = inv("POST", "/orders", {"item": "no id"})
    check(st == 400, f"{label}: bad order: {st} {b!r}")
    got = None
    for _ in range(100):
        st, _, b = inv("GET", "/shipments/42")
        if st == 200:
            got = json.loads(b)
            break
        time.sleep(0.05)
    check(got == {"order": "42", "status": "ready"}, f"{label}: shipment from the delivered event: {got} {st} {b!r}")
    st, _, b = sc.request("GET", "/v1.0/state/statestore/order-42")
    check(st == 200 and json.loads(b)["qty"] == 2, f"{label}: the order over the state API: {st} {b!r}")


# the wasm app
sc = Sidecar(BIN, app_id="orders",
             args=["--app-wasm", os.path.join(BUILD, "examples", "wasm-app", "order_service.wasm")]).start()
try:
    scenario(sc, "wasm")
    check("order accepted" in sc.logs(), "the app's log line")
finally:
    sc.stop()

# its twin as an HTTP app
sc = Sidecar(BIN, app_id="orders")
sc.port = free_port()
app_port = free_port()
app = subprocess.Popen([sys.executable, os.path.join(ROOT, "examples", "wasm-app", "order_app.py"), str(app_port)],
                       env=dict(os.environ, DAPR_HTTP_PORT=str(sc.port)))
try:
    sc.args += ["--app-port", str(app_port)]
    sc.start()
    scenario(sc, "http")
finally:
    sc.stop()
    app.kill()
    app.wait()
finish()
