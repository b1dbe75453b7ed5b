"""http_wasm_examples.py: the examples of examples/http-wasm (router, basic-auth, add-header, wat),
each through the real `wasmgate run` with its own config.yaml and components/ as committed, in
front of the demo's echo app (examples/http-wasm/app/echo_app.py).
usage: http_wasm_examples.py WASMGATE BUILD_DIR
"""
import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import FAILURES, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples", "http-wasm")
start_alarm(110)

app_port = free_port()
app = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "app", "echo_app.py"), str(app_port)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start(example):
    """wasmgate with the example's config and components, in a directory whose build/ has the guests."""
    work = tempfile.mkdtemp(prefix=f"wgg-{example}-")
    out = os.path.join(work, "build", "examples", "http-wasm")
    os.makedirs(out)
    for f in os.listdir(os.path.join(BUILD, "examples", "http-wasm")):
        if f.endswith(".wasm"):
            os.symlink(os.path.join(BUILD, "examples", "http-wasm", f), os.path.join(out, f))
    sc = Sidecar(BIN, app_id="demo", workdir=work, resources=os.path.join(EXAMPLES, example, "components"),
                 args=["--app-port", str(app_port), "--config", os.path.join(EXAMPLES, example, "config.yaml")])
    sc.own_dir = True
    return sc.start()


def done(sc, seen=[0]):
    """Stops the sidecar; prints its log when this example added failures."""
    sc.stop()
    if len(FAILURES) > seen[0]:
        print(sc.logs()[-5000:])
    seen[0] = len(FAILURES)
    sc.cleanup()


def app_view(resp):
    st, hdrs, body = resp
    try:
        return st, hdrs, json.loads(body)
    except ValueError:
        return st, hdrs, {"raw": body}


def router():
    sc = start("router")
    st, h, body = sc.request("GET", "/hello")
    check(st == 200 and body == b"hello from a wasm router\n" and h.get("content-type") == "text/plain",
          f"/hello: {st} {h} {body!r}")
    st, _, body = sc.request("GET", "/hello?lang=en")
    check(st == 200 and body == b"hello from a wasm router\n", f"/hello?lang=en: {st} {body!r}")
    st, h, body = sc.request("POST", "/whoami", "x")
    j = json.loads(body) if st == 200 else {}
    check(j.get("method") == "POST" and j.get("protocol") == "HTTP/1.1" and j.get("remote", "").startswith("127.0.0.1:"),
          f"/whoami: {st} {body!r}")
    st, _, j = app_view(sc.request("GET", "/api/echo?x=1&y=%20z"))
    check(st == 200 and j.get("path") == "/echo" and j.get("query") == {"x": "1", "y": " z"}, f"/api/echo: {st} {j}")
    st, _, j = app_view(sc.request("PUT", "/api/deep/er/path", "payload"))
    check(st == 200 and j.get("path") == "/deep/er/path" and j.get("body") == "payload" and j.get("method") == "PUT",
          f"/api/deep: {st} {j}")
    st, _, j = app_view(sc.request("GET", "/v1.0/invoke/demo/method/direct"))
    check(st == 200 and j.get("path") == "/direct", f"untouched invocation: {st} {j}")
    st, _, _ = sc.request("GET", "/hellox")
    check(st == 404, f"/hellox is not the router's: {st}")
    st, _, body = sc.request("GET", "/v1.0/metadata")
    check(st == 200 and json.loads(body).get("id") == "demo", f"metadata through the router: {st} {body[:200]!r}")
    done(sc)


def basic_auth():
    sc = start("basic-auth")

    def call(path, cred=None, scheme="Basic", method="GET", raw=None):
        h = {}
        if cred is not None or raw is not None:
            h["Authorization"] = raw or f"{scheme} " + base64.b64encode(cred.encode()).decode()
        return sc.request(method, path, "hi" if method == "POST" else None, h)

    st, h, body = call("/v1.0/invoke/demo/method/secret")
    check(st == 401 and h.get("www-authenticate") == 'Basic realm="wasmgate demo", charset="UTF-8"',
          f"no credentials: {st} {h} {body!r}")
    for what, kw in [("wrong password", {"cred": "alice:rabbit"}), ("unknown user", {"cred": "eve:wonderland"}),
                     ("password prefix", {"cred": "alice:wonder"}), ("bad base64", {"raw": "Basic !!!"}),
                     ("bearer", {"cred": "alice:wonderland", "scheme": "Bearer"}), ("no colon", {"cred": "alice"})]:
        st, h, _ = call("/v1.0/invoke/demo/method/secret", **kw)
        check(st == 401 and "www-authenticate" in h, f"{what}: {st}")
    st, _, j = app_view(call("/v1.0/invoke/demo/method/secret", "alice:wonderland", method="POST"))
    check(st == 200 and j.get("headers", {}).get("x-auth-user") == "alice" and "authorization" not in j.get("headers", {})
          and j.get("body") == "hi", f"alice: {st} {j}")
    st, _, j = app_view(call("/v1.0/invoke/demo/method/secret", "bob:builder", scheme="basic"))
    check(st == 200 and j.get("headers", {}).get("x-auth-user") == "bob", f"bob, lower-case scheme: {st} {j}")
    st, _, _ = call("/v1.0/healthz")
    check(st == 204, f"healthz without credentials: {st}")
    st, _, _ = call("/v1.0/metadata")
    check(st == 401, f"metadata without credentials: {st}")
    st, _, _ = call("/v1.0/metadata", "bob:builder")
    check(st == 200, f"metadata as bob: {st}")
    done(sc)


def add_header():
    sc = start("add-header")
    numbers = []
    for _ in range(5):
        st, h, j = app_view(sc.request("GET", "/v1.0/invoke/demo/method/h", headers={"X-Tenant": "evil"}))
        hd = j.get("headers", {})
        check(st == 200 and hd.get("x-tenant") == "acme" and hd.get("x-env") == "demo", f"request headers: {st} {hd}")
        check(h.get("x-wasm-filter") == "add-header", f"response headers: {h}")
        n = h.get("x-wasm-request-number", "")
        check(n.isdigit(), f"x-wasm-request-number {n!r}")
        numbers.append(int(n) if n.isdigit() else 0)
    check(max(numbers) >= 2, f"the guest's counter never grew: {numbers} (state lost between requests)")
    st, h, _ = sc.request("GET", "/v1.0/metadata")
    check(st == 200 and "x-wasm-filter" not in h, f"appHttpPipeline ran on a non-app call: {st} {h}")
    done(sc)


def wat():
    sc = start("wat")
    for method, path, want in [("GET", "/v1.0/metadata", 200), ("GET", "/v1.0/invoke/demo/method/w", 200),
                               ("GET", "/nowhere", 404)]:
        st, h, _ = sc.request(method, path)
        check(st == want and h.get("x-wat") == "hello from wat", f"{path}: {st} {h}")
    done(sc)


try:
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", app_port, timeout=1)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
            break
        except OSError:
            time.sleep(0.05)
    for f in (router, basic_auth, add_header, wat):
        print(f"-- {f.__name__}", flush=True)
        f()
finally:
    app.terminate()
    app.wait(10)
finish()
