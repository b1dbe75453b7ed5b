"""wasm_app_p2http_js.py: a JavaScript wasi:http component (tests/components/http/hello.js, a
`fetch` event handler, through `jco componentize`: componentize-js, SpiderMonkey in StarlingMonkey,
about 12 MB) served by `wasmgate serve` and hosted by `wasmgate run --app-wasm`, compared with
`jco serve --isolate-requests instance` (node + preview2-shim) on the same component: same status, body and x-js-test header
for the same requests; its fresh instances start from a copy-on-write image of its initial
memory. Built at test time (~35-50 s); skipped (77) without node, jco or
componentize-js.
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(290)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT, "js"]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")
if rc:
    finish()
JS = os.path.join(OUT, "hello.js.wasm")
JCO = os.path.join(ROOT, "scripts", "npm", "node_modules", "@bytecodealliance", "jco", "dist", "jco.js")
CASES = [("POST", "/some/path?q=1", b"body!", {"X-Test": "t1"}), ("GET", "/created", None, {}),
         ("PUT", "/x", "é☃".encode() * 100, {"x-test": "two words"})]


def wait_port(proc, port, what):
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    check(False, f"{what} did not start")
    return False


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


req = Sidecar.request.__get__(Sidecar(BIN))
jport, sport = free_port(), free_port()
log = open(os.path.join(OUT, "js-serve.log"), "wb")
# a fresh instance per request, as wasmgate's default (jco serve's default worker mode fails this
# component's second request: "FetchEvent#respondWith can't be called twice")
jco = subprocess.Popen(["node", JCO, "serve", JS, "--isolate-requests", "instance", "--port", str(jport),
                        "--host", "127.0.0.1"], stdout=log,
                       stderr=subprocess.STDOUT, cwd=OUT)
slog_path = os.path.join(OUT, "js-wasmgate-serve.log")
slog = open(slog_path, "wb")
serve = subprocess.Popen([BIN, "serve", "--log-level", "debug", "--addr", f"127.0.0.1:{sport}", JS], stdout=slog,
                         stderr=subprocess.STDOUT, cwd=OUT, env=dict(os.environ, HOME=OUT))
sc = Sidecar(BIN, args=["--app-wasm", "file://" + JS]).start(timeout=60)
try:
    if wait_port(serve, sport, "wasmgate serve") and wait_port(jco, jport, "jco serve"):
        for method, path, body, headers in CASES:
            want = (f"js {method} {path}\n").encode() + (body or b"")
            theirs = req(method, path, body=body, headers=headers, timeout=60, port=jport)
            ours = req(method, path, body=body, headers=headers, timeout=60, port=sport)
            inv = sc.request(method, "/v1.0/invoke/myapp/method" + path, body=body, headers=headers, timeout=60)
            status = 201 if path == "/created" else 200
            xt = {k.lower(): v for k, v in headers.items()}.get("x-test", "")
            for what, got in (("jco serve", theirs), ("wasmgate serve", ours), ("invoke", inv)):
                check(got[0] == status and got[2] == want, f"{what} {method} {path}: {got[0]} {got[2][:100]!r}")
                check(got[1].get("x-js-test", "") == xt, f"{what} x-js-test {got[1].get('x-js-test')!r} != {xt!r}")
                check(got[1].get("content-type") == "text/plain", f"{what} content-type {got[1].get('content-type')!r}")
    # fresh instances map the 9.5 MB initial memory of the JavaScript engine from a copy-on-write
    # image instead of copying it (memfd; the heap-copy fallback is not used for components)
    logged = open(slog_path, errors="replace").read()
    check("copy-on-write memory image of" in logged, "no copy-on-write memory image: " + logged[-500:])
finally:
    sc.stop()
    stop(serve)
    stop(jco)
finish()
