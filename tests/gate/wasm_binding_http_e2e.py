"""wasm_binding_http_e2e.py: bindings.wasm guests that import the
pre-standard wasi-http functions Dapr links (stealthrocket/wasi-go
imports/wasi_http: "types", "streams", "default-outgoing-HTTP") make real
outbound requests to a local server: method, path and query, the guest's
headers (its Host header ignored, as Go's client does), a request body
written through a stream, the status, canonical response header names and
the body read in small pieces; a failed request gives status 0 as the Go
host does; concurrent calls stay separate. Imports are decided at start: a
guest with an unknown import, or wasi-http under strictSandbox (Dapr's
refusal), stops the start with a clear error naming it.
usage: wasm_binding_http_e2e.py WASMGATE C_GUEST_DIR WAT_GUEST_DIR
"""
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, free_port, finish, start_alarm  # noqa: E402

BIN, CGUESTS, WGUESTS = sys.argv[1], sys.argv[2], sys.argv[3]
start_alarm(100)
seen = []


class Handler(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        seen.append((self.command, self.path, self.headers.get("X-Test"), self.headers.get("Host"),
                     self.headers.get("User-Agent"), body))
        reply = f"{self.command} {self.path} {body.decode()}".encode()
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("x-reply", "lower-case name")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *a):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
auth = f"127.0.0.1:{srv.server_address[1]}"


def component(name, url, extra=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: bindings.wasm\n  version: v1\n  metadata:\n  - name: url\n    value: \"{url}\"\n{extra}")


sc = Sidecar(BIN)
sc.write_resource("h.yaml", component("h", "file://" + os.path.join(CGUESTS, "bw_http.wasm"),
                                      "  - name: timeout\n    value: \"20s\"\n"))
sc.start()


def call(args):
    return sc.request("POST", "/v1.0/bindings/h", json.dumps({"operation": "execute", "metadata": {"args": args}}),
                      {"Content-Type": "application/json"}, timeout=30)


st, _, body = call(f"0,{auth},/get/me,?q=1")
check(st == 200 and body == b"status 200\nX-Reply: lower-case name\nbody GET /get/me?q=1 ", f"GET: {st} {body!r}")
check(seen and seen[-1][:5] == ("GET", "/get/me?q=1", "yes", auth, "Go-http-client/1.1"), f"GET as sent: {seen[-1:]}")
st, _, body = call(f"2,{auth},/post,,a body longer than five bytes")
check(st == 200 and body == b"status 200\nX-Reply: lower-case name\nbody POST /post a body longer than five bytes",
      f"POST: {st} {body!r}")
check(seen[-1][0] == "POST" and seen[-1][5] == b"a body longer than five bytes", f"POST as sent: {seen[-1:]}")
st, _, body = call(f"3,{auth},/missing,")
check(st == 200 and body.startswith(b"status 404\n") and body.endswith(b"body PUT /missing "), f"404: {st} {body!r}")
# A request that fails (nothing listens): handle returns 0, the guest sees status 0 (Go host).
st, _, body = call(f"0,127.0.0.1:{free_port()},/,")
check(st == 200 and body == b"status 0\nno body (1)", f"refused: {st} {body!r}")
with ThreadPoolExecutor(20) as ex:
    got = list(ex.map(lambda i: (i, call(f"0,{auth},/{i},")), range(40)))
bad = [(i, g[0], g[2]) for i, g in got if g[0] != 200 or not g[2].endswith(f"body GET /{i} ".encode())]
check(not bad, f"concurrent calls: {bad[:3]}")
st, _, _ = sc.request("GET", "/v1.0/healthz")
check(st == 204, f"healthz: {st}")
sc.stop()


def refused(name, url, extra, want):
    s = Sidecar(BIN)
    s.write_resource(f"{name}.yaml", component(name, url, extra))
    s.spawn()
    code = s.wait_exit(20)
    logs = s.logs()
    check(code == 1 and want in logs and f"{name}.yaml" in logs, f"{name}: exit {code}, logs {logs[-400:]}")
    s.cleanup()


refused("unknown", "file://" + os.path.join(WGUESTS, "bw_unknown_import.wasm"), "", "unknown import env.nope")
refused("strict", "file://" + os.path.join(CGUESTS, "bw_http.wasm"),
        "  - name: strictSandbox\n    value: \"true\"\n", "can not instantiate wasi-http with strict sandbox")
srv.shutdown()
finish()
