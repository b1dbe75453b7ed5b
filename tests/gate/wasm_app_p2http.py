"""wasm_app_p2http.py: WASI 0.2 HTTP components as wasm apps (docs/wasm-apps.md "WASI 0.2 HTTP
components").

A component exporting wasi:http/incoming-handler, built at test time from tests/components/http/
echo.c (clang-19 + jco embed/new, importing wasi:http@0.2.3 while the host defines 0.2.12), is
loaded by `wasmgate run --app-wasm` (the ABI detected from its exports: metadata says wasi-http)
and every app-channel call reaches it as an HTTP request:
  - service invocation: method, path with query, a header and the body reach the guest (and
    GET /fields checks the fields rules: invalid-syntax, forbidden, immutable, get/set/delete;
    GET /outbound builds an outgoing request with options, which outgoing-handler denies); its
    status, headers and body come back; a trap and a handler that never sets the response fail
    that request only (500 with the reason), and the next request is served; a handler that never
    returns is interrupted at the app's deadline (WasmApp spec.timeout);
  - instance policies: fresh by default (every request sees a new instance), pooled
    (--app-wasm-instances pooled: one warm instance counts its requests; a trap discards it);
  - pub/sub: the component's GET /dapr/subscribe answer subscribes it, and a message published
    over HTTP is delivered to its route (the pooled instance keeps the body and shows it);
  - `wasmgate serve --addr 127.0.0.1:PORT echo.wasm` hands every path (/v1.0/... and /dapr/...
    included) to the component; --help names wasmtime's default address 0.0.0.0:8080;
  - the oracle: `jco serve` (node + preview2-shim) on the same component gives the same status,
    x-echo-* headers and body for the same requests as the sidecar's invocation path.
Loading refuses a component without the export and a truncated one, with clear messages.
Skipped (77) when clang-19, node or jco is missing.
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
start_alarm(170)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")
ECHO = os.path.join(OUT, "echo.wasm")
CASES = [("POST", "/a/b?c=d&e=%20f", b"hello body", {"X-Test": "hi"}),
         ("GET", "/", None, {}),
         ("PUT", "/put", b"\x00binary\xff" * 300, {"Content-Type": "application/octet-stream"}),
         ("DELETE", "/thing/1", None, {"x-test": "two words"}),
         ("PATCH", "/status/418", b"{}", {}),
         ("OPTIONS", "/status/204", None, {}),
         ("GET", "/fields", None, {})]
# GET /fields: the guest's checks of the fields rules (echo.c fields_checks): invalid name and
# value (invalid-syntax 0), Connection (forbidden 1), the request's headers (immutable 2), append
# ok (9), case-insensitive get/has, set, entries, delete, clone
FIELDS = b"fields: 0 0 1 2 9 get=2 has=1 entries=5 delete=9 has=0 clone-has=1\n"
# GET /outbound: an outgoing-request (set-method post ok, a method that is not a token refused,
# path, authority, scheme) with request-options (connect-timeout 5 s), sent through
# outgoing-handler: denied, error-code 15 HTTP-request-denied (jco serve has no allow-list: it
# sends it, so only the part before handle-err is compared with it)
OUTBOUND = b"outbound: set-method=0 bad-method=1 method=2 path=/v1/x?y=1 connect-timeout=5000"


def inv(sc, method, path, body=None, headers=None):
    return sc.request(method, "/v1.0/invoke/myapp/method" + path, body=body, headers=headers, timeout=30)


def want_echo(method, path, body, headers):
    if path == "/fields":
        return FIELDS
    return (method + " " + path + "\n").encode() + (body or b"")


def check_echo(got, method, path, body, headers, what):
    st, h, b = got
    status = int(path.split("/status/")[1]) if "/status/" in path else 200
    check(st == status, f"{what} {method} {path}: status {st}, expected {status}")
    check(h.get("x-echo-method") == method and h.get("x-echo-path") == path, f"{what} {method} {path}: headers {h}")
    xt = {k.lower(): v for k, v in headers.items()}.get("x-test")
    check(h.get("x-echo-test") == xt, f"{what} x-echo-test {h.get('x-echo-test')!r} != {xt!r}")
    check(h.get("content-type") == "text/plain", f"{what} content-type {h.get('content-type')!r}")
    if status != 204:
        check(b == want_echo(method, path, body, headers), f"{what} {method} {path}: body {b[:120]!r}")


# ---------------------------------------------------------------- loading: what is refused
JCO = os.path.join(ROOT, "scripts", "npm", "node_modules", "@bytecodealliance", "jco", "dist", "jco.js")
with open(os.path.join(OUT, "empty.wat"), "w") as f:
    f.write("(component)")
subprocess.run(["node", JCO, "parse", os.path.join(OUT, "empty.wat"), "-o", os.path.join(OUT, "empty.wasm")], check=True)
with open(ECHO, "rb") as f, open(os.path.join(OUT, "trunc.wasm"), "wb") as g:
    g.write(f.read()[:300])
for comp, want in [("empty.wasm", "wasm app empty: exports neither handle_request (http-wasm), _start (WAGI), "
                                  "wasi:http/incoming-handler (wasi:http) nor a message or event handler"),
                   ("trunc.wasm", "error decoding component: ")]:
    r = subprocess.run([BIN, "run", "--app-id", "x", "--app-wasm", os.path.join(OUT, comp), "--dapr-http-port",
                        str(free_port()), "--dapr-grpc-port", "0", "--metrics-port", "0"], capture_output=True,
                       text=True, timeout=60, cwd=OUT, env=dict(os.environ, HOME=OUT))
    check(r.returncode == 1 and want in r.stderr, f"{comp}: exit {r.returncode}, {r.stderr[-300:]!r}")

# ---------------------------------------------------------------- fresh (the default)
sc = Sidecar(BIN, args=["--app-wasm", "file://" + ECHO]).start(timeout=30)
try:
    st, _, b = sc.request("GET", "/v1.0/metadata")
    check(st == 200 and b'"wasi-http"' in b, f"metadata names the ABI: {b[:400]!r}")
    for method, path, body, headers in CASES:
        check_echo(inv(sc, method, path, body, headers), method, path, body, headers, "invoke")
    counts = [inv(sc, "GET", "/count")[1].get("x-instance-requests") for _ in range(3)]
    check(counts == ["1", "1", "1"], f"fresh: every request on a new instance: {counts}")
    st, _, b = inv(sc, "GET", "/outbound")
    check(st == 200 and b == OUTBOUND + b" handle-err=1 code=15\n", f"outbound: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/trap")
    check(st == 500 and b"wasm error: unreachable" in b, f"trap: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/noanswer")
    check(st == 500 and b"response-outparam::set" in b, f"no answer: {st} {b!r}")
    check_echo(inv(sc, "GET", "/after"), "GET", "/after", None, {}, "after failures")
finally:
    sc.stop()

# ---------------------------------------------------------------- a guest that never returns
# a hosted app (kind: WasmApp) with spec.timeout: the deadline interrupts it, that request fails,
# and the loop thread serves the next one
sc = Sidecar(BIN, app_id="front")
sc.write_resource("apps.yaml", f"""apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: slow}}
spec: {{url: "file://{ECHO}", timeout: 300ms}}
""")
sc.start(timeout=30)
try:
    t0 = time.time()
    st, _, b = sc.request("GET", "/v1.0/invoke/slow/method/loop", timeout=30)
    check(st == 500 and b"interrupted (deadline of 300 ms)" in b, f"/loop: {st} {b!r}")
    check(time.time() - t0 < 10, f"/loop took {time.time() - t0:.1f} s")
    st, _, b = sc.request("GET", "/v1.0/invoke/slow/method/after", timeout=30)
    check(st == 200 and b == b"GET /after\n", f"after /loop: {st} {b!r}")
finally:
    sc.stop()

# ---------------------------------------------------------------- pooled, and pub/sub delivery
sc = Sidecar(BIN, args=["--app-wasm", "file://" + ECHO, "--app-wasm-instances", "pooled"]).start(timeout=30)
try:
    deadline = time.time() + 20  # the subscription comes from the app's answer, after start-up;
    # the start-up calls (/dapr/config, /dapr/subscribe) are done then and their instances idle
    while time.time() < deadline and b'"orders"' not in sc.request("GET", "/v1.0/metadata")[2]:
        time.sleep(0.05)
    # sequential calls take the most recently returned idle instance: counts go up by one
    counts = [int(inv(sc, "GET", "/count")[1].get("x-instance-requests")) for _ in range(3)]
    check(counts[1] == counts[0] + 1 and counts[2] == counts[1] + 1, f"pooled: one warm instance: {counts}")
    st, _, _ = inv(sc, "GET", "/trap")
    check(st == 500, f"pooled trap: {st}")
    # the warm instance counted the trapping request too: had it been kept, it would say counts[2] + 2
    c = int(inv(sc, "GET", "/count")[1].get("x-instance-requests"))
    check(c != counts[2] + 2 and c <= 3, f"pooled: a trap discards the instance: {c} after {counts}")
    st, _, b = sc.request("POST", "/v1.0/publish/pubsub/orders", body={"order": 7})
    check(st == 204, f"publish: {st} {b!r}")
    # the guest writes what it got to stdout (wasi:cli/stdout), which the host logs
    deadline, logged = time.time() + 20, ""
    while time.time() < deadline and "delivered: " not in logged:
        logged = sc.logs()
        time.sleep(0.05)
    line = logged[logged.find("delivered: "):].split("\n")[0]
    check('\\"order\\":7' in line.replace(" ", "") or '"order":7' in line.replace(" ", ""),
          f"pub/sub: the CloudEvent reached the component's route: {line[:300]!r}")
    check("specversion" in line, f"pub/sub: a CloudEvent: {line[:300]!r}")
    st, _, last = inv(sc, "GET", "/last")  # the instance that got it is back in the pool
    check(st == 200, f"GET /last: {st}")
finally:
    sc.stop()

# ---------------------------------------------------------------- wasmgate serve: every path
def start_serve(comp, *extra):
    """`wasmgate serve --addr 127.0.0.1:PORT COMP`: (process, port) once it answers."""
    for _ in range(3):
        p = free_port()
        log = open(os.path.join(OUT, "serve.log"), "ab")
        proc = subprocess.Popen([BIN, "serve", "--addr", f"127.0.0.1:{p}", *extra, comp], stdout=log,
                                stderr=subprocess.STDOUT, cwd=OUT, env=dict(os.environ, HOME=OUT))
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", p), timeout=1).close()
                return proc, p
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    check(False, "wasmgate serve did not start: " + open(os.path.join(OUT, "serve.log")).read()[-2000:])
    finish()


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


h = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
check(h.returncode == 0 and "0.0.0.0:8080" in h.stdout, f"serve --help names the default address: {h.stdout!r}")
h = subprocess.run([BIN, "serve", "--addr", "nonsense", ECHO], capture_output=True, text=True)
check(h.returncode == 2 and "--addr" in h.stderr, f"serve --addr nonsense: {h.returncode} {h.stderr!r}")
serve, sport = start_serve(ECHO)
try:
    for method, path, body, headers in CASES + [("GET", "/v1.0/metadata", None, {}),
                                                ("POST", "/v1.0/state/statestore", b"[]", {}),
                                                ("GET", "/dapr/config", None, {})]:
        got = Sidecar.request(Sidecar(BIN), method, path, body=body, headers=headers, timeout=30, port=sport)
        check_echo(got, method, path, body, headers, "serve")
    st, _, b = Sidecar.request(Sidecar(BIN), "GET", "/trap", port=sport)
    check(st == 500 and b"unreachable" in b, f"serve /trap: {st} {b!r}")
finally:
    stop(serve)

# ---------------------------------------------------------------- the oracle: jco serve
port = free_port()
jlog = open(os.path.join(OUT, "jco-serve.log"), "wb")
jco = subprocess.Popen(["node", JCO, "serve", ECHO, "--port", str(port), "--host", "127.0.0.1"],
                       stdout=jlog, stderr=subprocess.STDOUT, cwd=OUT)
sc = Sidecar(BIN, args=["--app-wasm", "file://" + ECHO]).start(timeout=30)
try:
    deadline, up = time.time() + 60, False
    while time.time() < deadline and jco.poll() is None and not up:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            up = True
        except OSError:
            time.sleep(0.2)
    check(up, "jco serve did not start")
    serve, sport = start_serve(ECHO)
    for method, path, body, headers in CASES:
        ours = inv(sc, method, path, body, headers)
        served = sc.request(method, path, body=body, headers=headers, timeout=30, port=sport)
        check(served[0] == ours[0] and served[2] == ours[2], f"serve vs invoke {method} {path}")
        theirs = sc.request(method, path, body=body, headers=headers, timeout=30, port=port)
        check_echo(theirs, method, path, body, headers, "jco serve")
        check(ours[0] == theirs[0] and ours[2] == theirs[2], f"{method} {path}: wasmgate {ours[0]} {ours[2][:80]!r}"
              f" vs jco serve {theirs[0]} {theirs[2][:80]!r}")
        for k in ("content-type", "x-echo-method", "x-echo-path", "x-echo-test"):
            check(ours[1].get(k) == theirs[1].get(k), f"{method} {path} {k}: {ours[1].get(k)!r} vs {theirs[1].get(k)!r}")
    theirs = sc.request("GET", "/outbound", timeout=30, port=port)
    check(theirs[0] == 200 and theirs[2].startswith(OUTBOUND + b" "), f"jco serve /outbound: {theirs[2]!r}")
    stop(serve)
finally:
    sc.stop()
    jco.terminate()
    try:
        jco.wait(10)
    except subprocess.TimeoutExpired:
        jco.kill()
finish()
