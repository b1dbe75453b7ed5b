"""Issue 18.11: with DAPR_API_TOKEN set, authentication comes before the
httpPipeline (as in daprd), and the token never reaches a guest or the app.

A guest that answers by itself (hw_answer) must not serve an unauthenticated
caller; a guest that reports the header names it sees (hw_echo) and the app
behind /v1.0/invoke must not see dapr-api-token. daprd's exemptions stay:
GET /v1.0/healthz and /v1.0/healthz/outbound.
"""
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)
TOKEN = {"DAPR_API_TOKEN": "s3cret"}


def sidecar(guest, args=()):
    sc = Sidecar(BIN, app_id="svc", args=["--threads", "1"] + list(args), env=TOKEN)
    sc.write_resource("mw.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mw\nspec:\n"
                      f"  type: middleware.http.wasm\n  version: v1\n  metadata:\n  - name: url\n"
                      f"    value: \"file://{os.path.join(GUESTS, guest + '.wasm')}\"\n")
    cfg = os.path.join(sc.dir, "config.yaml")
    with open(cfg, "w") as f:
        f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
                "  httpPipeline:\n    handlers:\n    - name: mw\n      type: middleware.http.wasm\n")
    sc.args += ["--config", cfg]
    return sc


# a guest that answers every request by itself
sc = sidecar("hw_answer")
sc.spawn()
import time  # noqa: E402
deadline = time.time() + 10
while time.time() < deadline:
    try:
        if sc.request("GET", "/v1.0/healthz", timeout=1)[0]:
            break
    except OSError:
        time.sleep(0.05)
st, _, body = sc.request("GET", "/v1.0/state/statestore/k")
check(st == 401, f"no token: the pipeline guest answered {st} {body!r} (expected 401 before the pipeline)")
st, _, body = sc.request("GET", "/v1.0/state/statestore/k", headers={"dapr-api-token": "wrong"})
check(st == 401, f"wrong token: {st} {body!r}")
st, _, body = sc.request("GET", "/v1.0/state/statestore/k", headers={"dapr-api-token": "s3cret"})
check(st == 418 and body == b"short and stout", f"right token: {st} {body!r}")
st, _, _ = sc.request("GET", "/v1.0/healthz")
check(st == 418, f"healthz is exempt from the token (daprd): the guest answers, got {st}")
st, _, _ = sc.request("POST", "/v1.0/healthz")
check(st == 401, f"POST healthz is not exempt (daprd exempts GET only): {st}")
sc.cleanup()

# a guest that reports the request header names it sees
sc = sidecar("hw_echo")
sc.spawn()
deadline = time.time() + 10
while time.time() < deadline:
    try:
        if sc.request("GET", "/v1.0/healthz", timeout=1)[0]:
            break
    except OSError:
        time.sleep(0.05)
st, _, body = sc.request("GET", "/v1.0/state/statestore/k", headers={"dapr-api-token": "s3cret", "x-seen": "1"})
check(st == 200 and b"x-seen" in body.lower(), f"echo guest: {st} {body!r}")
check(b"dapr-api-token" not in body.lower(), f"the guest saw the API token: {body!r}")
sc.cleanup()

# the app behind service invocation
seen = []


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/m":  # the sidecar's own calls at start (/dapr/config, ...) are not the test's
            seen.append([k.lower() for k in self.headers.keys()])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()
sc = Sidecar(BIN, app_id="svc", args=["--threads", "1", "--app-port", str(app.server_address[1])], env=TOKEN).start()
seen.clear()
st, _, body = sc.request("GET", "/v1.0/invoke/svc/method/m", headers={"dapr-api-token": "s3cret", "x-seen": "1"})
check(st == 200, f"invoke with the token: {st} {body!r}")
check(seen and "x-seen" in seen[-1], f"the app saw {seen}")
check(seen and "dapr-api-token" not in seen[-1], f"the app saw the API token: {seen}")
sc.cleanup()
app.shutdown()
finish()
