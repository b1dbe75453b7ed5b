"""e2e_invoke.py: service invocation of the sidecar's own app through the real
`wasmgate run`: methods, nested paths, query, headers and body pass through,
status and headers come back, the dapr-app-id header form, dapr-api-token
stripped and APP_API_TOKEN added, pooled keep-alive connections, and Dapr's
errors for an unknown app ID, a missing method, no app channel and an app
that is down.
"""
import base64
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)

SEEN = []
PEERS = set()


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        PEERS.add(self.client_address)
        SEEN.append({"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                     "body": body})
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            out = b'{"err":"nope"}'
        else:
            code = 201 if self.command == "POST" else 200
            out = json.dumps({"method": self.command, "path": self.path, "body": body.decode()}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-App", "yes")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
app_port = app.server_address[1]
threading.Thread(target=app.serve_forever, daemon=True).start()

sc = Sidecar(BIN, app_id="svc", args=["--app-port", str(app_port), "--threads", "1",
                                       "--app-channel-address", "localhost"],  # a name: resolved, IPv4 preferred
             env={"DAPR_API_TOKEN": "tok", "APP_API_TOKEN": "apptok"})
sc.write_resource("endpoint.yaml", "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: ext\n"
                                   f"spec:\n  baseUrl: http://localhost:{app_port}/api/\n  headers:\n"
                                   "  - name: X-Ep\n    value: from-endpoint\n")
sc.start(wait_path="/v1.0/healthz")
auth = {"dapr-api-token": "tok"}


def seen(path):
    """The last request the app saw for path (the sidecar's own calls to the app, e.g. its discovery of
    /dapr/config and /dapr/subscribe, may come in between)."""
    return next((r for r in reversed(SEEN) if r["path"] == path), {"headers": {}})


st, h, body = sc.request("POST", "/v1.0/invoke/svc/method/orders/new?x=1&y=%20z", b"payload",
                         headers=dict(auth, **{"Content-Type": "text/plain", "X-Custom": "c1"}))
check(st == 201, f"status passes back: {st} {body!r}")
check(h.get("x-app") == "yes" and h.get("content-type") == "application/json", f"headers pass back: {h}")
got = json.loads(body) if st == 201 else {}
check(got.get("path") == "/orders/new?x=1&y=%20z", f"path and query: {got}")
check(got.get("body") == "payload", f"body: {got}")
last = seen("/orders/new?x=1&y=%20z")
check(last["headers"].get("x-custom") == "c1" and last["headers"].get("content-type") == "text/plain",
      f"request headers forwarded: {last['headers']}")
check(last["headers"].get("dapr-api-token") == "apptok", f"APP_API_TOKEN sent, caller token stripped: {last['headers']}")

for method in ("GET", "PUT", "DELETE", "PATCH"):
    st, h, body = sc.request(method, "/v1.0/invoke/svc/method/m", b"" if method in ("GET", "DELETE") else b"b",
                             headers=auth)
    check(st == 200 and json.loads(body)["method"] == method, f"{method}: {st} {body!r}")
st, h, body = sc.request("HEAD", "/v1.0/invoke/svc/method/m", headers=auth)
check(st == 200 and body == b"", f"HEAD: {st} {body!r}")
st, h, body = sc.request("GET", "/v1.0/invoke/svc/method/status/404", headers=auth)
check(st == 404 and body == b'{"err":"nope"}', f"app error status passes back: {st} {body!r}")
st, h, body = sc.request("GET", "/v1.0/invoke/svc/method/status/503", headers=auth)
check(st == 503, f"503 passes back: {st}")

# the dapr-app-id header form: the request path is the method
st, h, body = sc.request("PUT", "/items/7?q=1", b"v", headers=dict(auth, **{"dapr-app-id": "svc"}))
check(st == 200 and json.loads(body)["path"] == "/items/7?q=1", f"dapr-app-id form: {st} {body!r}")
check("dapr-app-id" not in seen("/items/7?q=1")["headers"], "dapr-app-id header is not forwarded")

# the basic-auth form: user dapr-app-id, password the app ID (dapr findTargetIDAndMethod)
basic = "Basic " + base64.b64encode(b"dapr-app-id:svc").decode()
st, h, body = sc.request("GET", "/orders/9", headers=dict(auth, Authorization=basic))
check(st == 200 and json.loads(body)["path"] == "/orders/9", f"basic-auth form: {st} {body!r}")
st, h, body = sc.request("GET", "/orders/9", headers=dict(auth, Authorization="Basic " +
                                                          base64.b64encode(b"someone:svc").decode()))
check(st == 404, f"other basic-auth users are not invocation: {st}")

# URL targets (escaped and raw) and an HTTPEndpoint resource; APP_API_TOKEN goes to the own app only
st, h, body = sc.request("GET", f"/v1.0/invoke/http%3A%2F%2F127.0.0.1%3A{app_port}/method/u1?a=b", headers=auth)
check(st == 200 and json.loads(body)["path"] == "/u1?a=b", f"escaped URL target: {st} {body!r}")
check("dapr-api-token" not in seen("/u1?a=b")["headers"], "no app token toward a URL target")
st, h, body = sc.request("POST", f"/v1.0/invoke/http://localhost:{app_port}/method/deep/u2", b"x", headers=auth)
check(st == 201 and json.loads(body)["path"] == "/deep/u2", f"raw URL target by name: {st} {body!r}")
st, h, body = sc.request("GET", "/v1.0/invoke/ext/method/z", headers=auth)
check(st == 200 and json.loads(body)["path"] == "/api/z", f"HTTPEndpoint target: {st} {body!r}")
check(seen("/api/z")["headers"].get("x-ep") == "from-endpoint", f"HTTPEndpoint headers: {seen('/api/z')}")

# requests on one keep-alive connection (the server reuses its header buffers): each reaches the app with its
# own headers only, however long the previous one's were
ka = socket.create_connection(("127.0.0.1", sc.port), timeout=10)
kaf = ka.makefile("rb")
for i, extra in enumerate(["X-First: " + "f" * 3000 + "\r\nX-Long-Name-" + "n" * 200 + ": v\r\n", "X-Second: s\r\n",
                           ""]):
    ka.sendall(f"GET /v1.0/invoke/svc/method/ka{i} HTTP/1.1\r\nHost: x\r\ndapr-api-token: tok\r\n{extra}\r\n".encode())
    line = kaf.readline()
    length = 0
    while True:
        hl = kaf.readline()
        if hl in (b"\r\n", b""):
            break
        if hl.lower().startswith(b"content-length:"):
            length = int(hl.split(b":")[1])
    kaf.read(length)
    check(b" 200 " in line, f"keep-alive request {i}: {line!r}")
ka.close()
h0, h1, h2 = (seen(f"/ka{i}")["headers"] for i in range(3))
check(h0.get("x-first") == "f" * 3000 and h0.get("x-long-name-" + "n" * 200) == "v", f"first request's headers: {h0.keys()}")
check(h1.get("x-second") == "s" and "x-first" not in h1 and not any(k.startswith("x-long") for k in h1),
      f"second request has only its own headers: {h1}")
check(not any(k.startswith("x-") for k in h2), f"third request has only its own headers: {h2}")
check_error(sc.request("GET", "/v1.0/invoke/https%3A%2F%2Fexample.com/method/z", headers=auth), 500,
            "ERR_DIRECT_INVOKE", "https endpoints are not supported yet")
md = json.loads(sc.request("GET", "/v1.0/metadata", headers=auth)[2])
check(md["httpEndpoints"] == [{"name": "ext"}], f"metadata httpEndpoints: {md['httpEndpoints']}")

# the token is required for invocation
r = sc.request("GET", "/v1.0/invoke/svc/method/m")
check(r[0] == 401 and r[2] == b"invalid api token", f"invoke without token: {r}")

# keep-alive toward the app: many calls, few connections
PEERS.clear()
for i in range(20):
    sc.request("GET", f"/v1.0/invoke/svc/method/k{i}", headers=auth)
check(len(PEERS) <= 2, f"pooled connections to the app: {len(PEERS)} for 20 calls")

# errors
check_error(sc.request("GET", "/v1.0/invoke/other/method/m", headers=auth), 500, "ERR_DIRECT_INVOKE",
            "couldn't find service: other")
st, h, body = sc.request("GET", "/v1.0/invoke/svc/method/", headers=auth)
check(st == 200 and json.loads(body)["path"] == "/", f"empty method: the app root: {st} {body!r}")
sc.cleanup()
app.shutdown()
app.server_close()

# an app that is not up (yet): connection refused; /healthz waits for the app port, /healthz/outbound does not
late_port = free_port()
sc = Sidecar(BIN, app_id="svc", args=["--app-port", str(late_port)]).start()
check_error(sc.request("GET", "/v1.0/invoke/svc/method/m"), 500, "ERR_DIRECT_INVOKE",
            "failed to invoke, id: svc, err: connection refused")
check_error(sc.request("GET", "/v1.0/healthz"), 500, "ERR_HEALTH_NOT_READY")
check(sc.request("GET", "/v1.0/healthz/outbound")[0] == 204, "outbound health does not wait for the app")
late = ThreadingHTTPServer(("127.0.0.1", late_port), App)
threading.Thread(target=late.serve_forever, daemon=True).start()
deadline = time.time() + 5
while time.time() < deadline and sc.request("GET", "/v1.0/healthz")[0] != 204:
    time.sleep(0.05)
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "healthy once the app listens")
check("application discovered on 127.0.0.1" in sc.logs(), "discovery logged")
check(sc.request("GET", "/v1.0/invoke/svc/method/late")[0] == 200, "invocation works once the app is up")
sc.cleanup()
late.shutdown()
late.server_close()

# no --app-port: no app channel
sc = Sidecar(BIN, app_id="lonely").start()
check_error(sc.request("POST", "/v1.0/invoke/lonely/method/x", b"{}"), 500, "ERR_DIRECT_INVOKE",
            "app channel is not initialized")
sc.cleanup()
finish()
