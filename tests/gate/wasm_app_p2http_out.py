"""wasm_app_p2http_out.py: wasi:http/outgoing-handler from a hosted component (issue 14;
docs/wasm-apps.md "Outbound requests").

tests/components/http/fetch.c (built at test time: clang-19 + jco embed/new) forwards
/fetch/AUTHORITY/REST as METHOD http://AUTHORITY/REST with the caller's body and answers the
upstream's status and body (403 "denied CASE" for handle's error-code, 502 "error-code CASE" for
the future's). The sidecar hosts it as app `front` with one loop thread and
--app-wasm-allowed-outbound-hosts naming an upstream started here, and hosts
tests/components/http/echo.c as app `back` in the same process:
  - a GET and a POST (the body written after handle: sent at outgoing-body.finish) reach the
    upstream with method, path, query and body, and its status, header-less body come back;
  - a WasmApp `front2` (same component) with spec.allowedOutboundHosts reaches the upstream, and
    its own list replaces the flag's;
  - a host missing from the allow-list is HTTP-request-denied (15) and the upstream never sees it;
    an allowed host that refuses the connection is connection-refused (6);
  - http://back.dapr/hello?x=1 goes through service invocation to app `back` (in-process), with
    the method, query and body; a chain of 200 calls of front to itself through front.dapr ends at
    the upstream and answers back down the chain;
  - request-options' first-byte-timeout (1 s) against an upstream that holds the request answers
    connection-read-timeout (9);
  - while the upstream holds a request (the guest parked on it), the same loop serves another
    forwarded request and /v1.0/healthz; released, the held one completes;
  - `jco serve` (no allow-list: it sends every request) answers the GETs with the same status and
    body, and the POST with the same status (its preview2-shim sends the request at handle, so the
    body fetch.c writes after handle never reaches the upstream there: printed, not compared).
Skipped (77) when clang-19, node or jco is missing (a failure under CI).
"""
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm, wait_for  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
JCO = os.path.join(ROOT, "scripts", "npm", "node_modules", "@bytecodealliance", "jco", "dist", "jco.js")
start_alarm(170)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")

seen = []
held = threading.Event()
release = threading.Event()


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Up", "1")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        seen.append(("GET", self.path, b""))
        if self.path == "/slow":
            held.set()
            release.wait(60)
            return self.answer(200, b"slow done")
        self.answer(200 if self.path.startswith("/hello") else 404, b"hi from upstream " + self.path.encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen.append(("POST", self.path, body))
        self.answer(201, body.upper())

    def log_message(self, *a):
        pass


up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
up.daemon_threads = True
threading.Thread(target=up.serve_forever, daemon=True).start()
UP = f"127.0.0.1:{up.server_address[1]}"
dead = free_port()  # nothing listens here
other = free_port()
FETCH, ECHO = os.path.join(OUT, "fetch.wasm"), os.path.join(OUT, "echo.wasm")
sc = Sidecar(BIN, app_id="front", args=["--app-wasm", "file://" + FETCH, "--app-wasm", "back=file://" + ECHO,
                                        "--threads", "1", "--app-wasm-allowed-outbound-hosts",
                                        f"http://{UP}, http://localhost:{dead}"])
sc.write_resource("front2.yaml", "apiVersion: wasmgate.io/v1alpha1\nkind: WasmApp\nmetadata:\n  name: front2\n"
                  f"spec:\n  url: file://{FETCH}\n  allowedOutboundHosts:\n  - http://{UP}\n")
sc.start(timeout=30)


def fetch(method, rest, body=None, port=None, prefix="/v1.0/invoke/front/method"):
    try:
        st, h, b = sc.request(method, (prefix if port is None else "") + "/fetch/" + rest, body=body, timeout=60,
                              port=port)
        return st, b
    except OSError as e:
        return 0, repr(e).encode()


try:
    got = fetch("GET", UP + "/hello?a=1")
    check(got == (200, b"hi from upstream /hello?a=1"), f"GET through outgoing-handler: {got}")
    got = fetch("POST", UP + "/echo", body=b"some body")
    check(got == (201, b"SOME BODY"), f"POST with the body written after handle: {got}")
    check(("POST", "/echo", b"some body") in seen, f"the upstream saw the POST: {seen}")
    n = len(seen)
    got = fetch("GET", f"127.0.0.1:{other}/x")
    check(got == (403, b"denied 15"), f"a host missing from the allow-list: {got}")
    check(len(seen) == n, "the denied request was not sent")
    got = fetch("GET", f"localhost:{dead}/x")
    check(got == (502, b"error-code 6"), f"an allowed host that refuses: {got}")
    got = fetch("GET", UP + "/hello", prefix="/v1.0/invoke/front2/method")
    check(got == (200, b"hi from upstream /hello"), f"a WasmApp's spec.allowedOutboundHosts: {got}")
    got = fetch("GET", f"localhost:{dead}/x", prefix="/v1.0/invoke/front2/method")
    check(got == (403, b"denied 15"), f"a host only the flag allows, from the WasmApp: {got}")
    got = fetch("POST", "back.dapr/hello?x=1", body=b"data")
    check(got == (200, b"POST /hello?x=1\ndata"), f"http://back.dapr/... through service invocation: {got}")
    # a chain: front calls itself through front.dapr 200 times, the last one the upstream (each call
    # made from inside a guest starts on a later loop iteration: the thread's stack does not grow)
    got = fetch("GET", "front.dapr/fetch/" * 200 + UP + "/hello")
    check(got == (200, b"hi from upstream /hello"), f"a chain of 200 calls through front.dapr: {got}")

    # request-options' first-byte-timeout (1 s) against an upstream that holds the request
    t0 = time.time()
    st, b = sc.request("GET", "/v1.0/invoke/front/method/fetch1s/" + UP + "/slow", timeout=60)[::2]
    took = time.time() - t0
    check((st, b) == (502, b"error-code 9") and took < 20, f"first-byte-timeout: {st} {b!r} in {took:.1f}s")
    held.clear()
    release.set()  # let the held request end (its answer goes nowhere)
    release.clear()

    slow = {}
    th = threading.Thread(target=lambda: slow.setdefault("r", fetch("GET", UP + "/slow")), daemon=True)
    th.start()
    check(held.wait(30), "the upstream got the slow request")
    got = fetch("GET", UP + "/hello")
    check(got == (200, b"hi from upstream /hello"), f"another request while one is parked: {got}")
    try:
        st = sc.request("GET", "/v1.0/healthz", timeout=30)[0]
    except OSError as e:
        st = repr(e)
    check(st == 204, f"healthz while a guest is parked on the upstream: {st}")
    check("r" not in slow, "the slow request is still waiting")
    release.set()
    th.join(60)
    check(slow.get("r") == (200, b"slow done"), f"the parked request completes: {slow.get('r')}")
finally:
    release.set()
    sc.stop()

# the oracle: jco serve sends outbound requests without an allow-list
port = free_port()
jlog = open(os.path.join(OUT, "jco-serve-fetch.log"), "wb")
jco = subprocess.Popen(["node", JCO, "serve", FETCH, "--port", str(port), "--host", "127.0.0.1"],
                       stdout=jlog, stderr=subprocess.STDOUT, cwd=OUT)
try:
    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    check(wait_for(lambda: jco.poll() is not None or listening(), 60) and jco.poll() is None, "jco serve started")
    for method, rest, body, want in [("GET", UP + "/hello?a=1", None, (200, b"hi from upstream /hello?a=1")),
                                     ("GET", UP + "/nothing", None, (404, b"hi from upstream /nothing")),
                                     ("POST", UP + "/echo", b"some body", (201, b"SOME BODY"))]:
        theirs = fetch(method, rest, body=body, port=port)
        if body:  # jco's preview2-shim sends at handle: a body written after it is lost (upstream got none)
            check(theirs[0] == want[0], f"jco serve {method} {rest}: {theirs} (wasmgate answered {want})")
            print(f"jco serve, body written after handle: {theirs} (wasmgate: {want})")
        else:
            check(theirs == want, f"jco serve {method} {rest}: {theirs} (wasmgate answered {want})")
finally:
    jco.terminate()
    try:
        jco.wait(10)
    except subprocess.TimeoutExpired:
        jco.kill()
finish()
