"""e2e_bindings_http.py: the bindings.http output binding against a real
HTTP server on loopback: every operation, `path` metadata, capitalised
metadata keys as headers (lower-case ones not), trace context, the default
Content-Type/Accept, securityToken, response metadata as metadata.* headers
(statusCode, status, response headers) also on failure, errorIfNot2XX from
the component and per request, responseTimeout, maxResponseBodySize, an
unreachable url and an invalid operation.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)
SEEN = []
FLAKY = []


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        SEEN.append({"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                     "body": body})
        code, out = (201 if self.command == "POST" else 200), b'{"ok":true}'
        if self.path.endswith("/missing"):
            code, out = 404, b'{"error":"not here"}'
        elif self.path.endswith("/slow"):
            time.sleep(5)
        elif self.path.endswith("/flaky"):
            FLAKY.append(1)
            if len(FLAKY) <= 2:
                code = 503
        elif self.path.endswith("/big"):
            out = b"x" * 100
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Server", "one")
        self.send_header("x-multi", "a")
        self.send_header("x-multi", "b")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = handle_any


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_address[1]}/api/"


def comp(name, url, extra=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.http\n"
            f"  version: v1\n  metadata:\n  - name: url\n    value: \"{url}\"\n{extra}")


sc = Sidecar(BIN, app_id="bapp")
sc.write_resource("h.yaml", comp("web", base, "  - name: securityToken\n    value: s3cret\n"
                                              "  - name: securityTokenHeader\n    value: X-Token\n"))
sc.write_resource("h2.yaml", comp("lenient", base, "  - name: errorIfNot2XX\n    value: \"false\"\n"
                                                   "  - name: responseTimeout\n    value: 2s\n"
                                                   "  - name: maxResponseBodySize\n    value: \"10\"\n"))
sc.write_resource("h3.yaml", comp("nowhere", f"http://127.0.0.1:{free_port()}"))
sc.write_resource("res.yaml", """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: outbound}
spec:
  policies:
    retries:
      quick: {policy: constant, duration: 50ms, maxRetries: 2}
  targets:
    components:
      web: {outbound: {retry: quick}}
""")
sc.start()


def call(name, body, headers=None):
    return sc.request("POST", f"/v1.0/bindings/{name}", body, headers=headers)


tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
st, h, body = call("web", {"operation": "post", "data": {"a": 1},
                           "metadata": {"path": "/orders/1", "X-Custom": "c", "lower": "no"}},
                   headers={"traceparent": tp})
check(st == 200 and body == b'{"ok":true}', f"post: {st} {body!r}")
s = SEEN[-1]
check(s["method"] == "POST" and s["path"] == "/api/orders/1", f"method and path: {s['method']} {s['path']}")
check(s["body"] == b'{"a":1}', f"data as JSON text: {s['body']!r}")
check(s["headers"].get("x-custom") == "c" and "lower" not in s["headers"], f"capitalised keys only: {s['headers']}")
check(s["headers"].get("content-type") == "application/json; charset=utf-8", "default Content-Type")
check(s["headers"].get("accept") == "application/json; charset=utf-8", "default Accept")
check(s["headers"].get("x-token") == "s3cret", "securityToken in securityTokenHeader")
check(s["headers"].get("traceparent") == tp, f"traceparent forwarded: {s['headers']}")
check(h.get("metadata.statuscode") == "201" and h.get("metadata.status") == "201 Created",
      f"status metadata: {h}")
check(h.get("metadata.x-server") == "one" and h.get("metadata.x-multi") == "a, b", f"header metadata: {h}")

st, h, body = call("web", {"operation": "create", "data": "plain text", "metadata": {"Content-Type": "text/plain"}})
check(st == 200 and SEEN[-1]["method"] == "POST" and SEEN[-1]["body"] == b"plain text", "create is post; string data")
check(SEEN[-1]["headers"].get("content-type") == "text/plain", "Content-Type from metadata")
for op in ("get", "head", "put", "patch", "delete", "options", "trace"):
    st, h, body = call("web", {"operation": op, "data": {"x": 1} if op in ("put", "patch") else None})
    check(st in (200, 204) and SEEN[-1]["method"] == op.upper(), f"{op}: {st} {SEEN[-1]['method']}")
    if op in ("put", "patch"):
        check(SEEN[-1]["body"] == b'{"x":1}', f"{op} body")
    if op == "get":
        check(SEEN[-1]["body"] == b"" and SEEN[-1]["path"] == "/api/", f"get without body: {SEEN[-1]}")

# daprd checks the operation against the binding's list, case-sensitively, before the binding runs
check_error(call("web", {"operation": "GET"}), 500, "ERR_INVOKE_OUTPUT_BINDING", "does not support operation GET")

# a non-2xx status is an error (component default), with the metadata still in headers
r = call("web", {"operation": "get", "metadata": {"path": "missing"}})
check_error(r, 500, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding web: received status code 404")
check(r[1].get("metadata.statuscode") == "404", f"metadata on failure: {r[1]}")
st, h, body = call("web", {"operation": "get", "metadata": {"path": "missing", "errorIfNot2XX": "false"}})
check(st == 200 and body == b'{"error":"not here"}' and h.get("metadata.statuscode") == "404",
      f"errorIfNot2XX false per request: {st} {body!r}")
st, h, body = call("lenient", {"operation": "get", "metadata": {"path": "missing"}})
check(st == 200 and h.get("metadata.statuscode") == "404", f"errorIfNot2XX false on the component: {st}")
st, h, body = call("lenient", {"operation": "get", "metadata": {"path": "big"}})
check(st == 200 and body == b"x" * 10, f"maxResponseBodySize cuts the body: {body!r}")
t0 = time.time()
check_error(call("lenient", {"operation": "get", "metadata": {"path": "slow"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "timed out")
check(time.time() - t0 < 4.5, f"responseTimeout 2s (the app takes 5s): {time.time() - t0:.2f}s")
# the component's outbound Resiliency retry: two 503s, then 200
st, h, body = call("web", {"operation": "get", "metadata": {"path": "flaky"}})
check(st == 200 and len(FLAKY) == 3 and h.get("metadata.statuscode") == "200", f"retried output binding: {st} {len(FLAKY)}")
check_error(call("web", {"operation": "frob"}), 500, "ERR_INVOKE_OUTPUT_BINDING", "binding web does not support operation frob. supported operations:create get head post put patch delete options trace")
check_error(call("nowhere", {"operation": "get"}), 500, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding")

md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
web = [c for c in md["components"] if c["name"] == "web"]
check(web and web[0]["type"] == "bindings.http", f"metadata lists the binding: {md['components']}")

# keep-alive: consecutive calls reuse connections
for i in range(10):
    call("web", {"operation": "get"})
sc.cleanup()

bad = Sidecar(BIN, app_id="bapp")
bad.write_resource("h.yaml", comp("web", "ftp://x"))
bad.spawn()
check(bad.wait_exit(10) not in (0, None) and "url must be an http:// or https:// URL" in bad.logs(),
      f"invalid url stops the start: {bad.logs()[-300:]}")
bad.finish_proc()
srv.shutdown()
finish()
