"""order_app.py: the twin of order_service.c as an ordinary HTTP app (same routes, same answers),
calling the sidecar's HTTP API on DAPR_HTTP_PORT. usage: order_app.py APP_PORT"""
import json
import os
import re
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DAPR = f"http://127.0.0.1:{os.environ.get('DAPR_HTTP_PORT', '3500')}/v1.0"
SAFE = re.compile(r"^[A-Za-z0-9-]+$")


def dapr(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(DAPR + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, doc, etag=None):
        out = (doc if isinstance(doc, bytes) else json.dumps(doc, separators=(",", ":")).encode()) + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def get_doc(self, key):
        st, h, b = dapr("GET", f"/state/statestore/{key}")
        if st == 204:
            return self.reply(404, {"error": "not found"})
        self.reply(st, b, h.get("ETag"))

    def do_GET(self):
        if self.path == "/dapr/subscribe":
            return self.reply(200, [{"pubsubname": "pubsub", "topic": "orders", "route": "/shipments"}])
        for prefix, name in (("/orders/", "order"), ("/shipments/", "shipment")):
            if self.path.startswith(prefix) and SAFE.match(self.path[len(prefix):]):
                return self.get_doc(f"{name}-{self.path[len(prefix):]}")
        self.reply(404, {"error": "no such route"})

    def do_POST(self):
        raw = self.body()
        if self.path == "/orders":
            try:
                order = json.loads(raw)
                oid = str(order["id"])
                assert SAFE.match(oid)
            except Exception:  # noqa: BLE001
                return self.reply(400, {"error": "an order needs an id of letters, digits and dashes"})
            st, _, b = dapr("POST", "/state/statestore", [{"key": f"order-{oid}", "value": order}])
            if st < 300:
                st, _, b = dapr("POST", "/publish/pubsub/orders", order)
            if st >= 300:
                return self.reply(500, {"error": f"dapr call failed ({st})", "detail": b.decode()})
            return self.reply(201, raw)
        if self.path == "/shipments":
            data = json.loads(raw or b"{}").get("data")
            oid = str(data.get("id", "")) if isinstance(data, dict) else ""
            if not SAFE.match(oid):
                return self.reply(200, {"status": "DROP"})
            st, _, _ = dapr("POST", "/state/statestore",
                            [{"key": f"shipment-{oid}", "value": {"order": oid, "status": "ready"}}])
            return self.reply(200, {"status": "RETRY" if st >= 300 else "SUCCESS"})
        self.reply(404, {"error": "no such route"})


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
