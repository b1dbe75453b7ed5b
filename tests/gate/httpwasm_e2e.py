"""httpwasm_e2e.py: http-wasm middleware through the real `wasmgate run`,
wired by a Configuration (--config): spec.httpPipeline in front of the API
(guest state persisting on a pinned instance, listed order on the request
and reverse order on the response), spec.appHttpPipeline on the hop to the
app (the app sees the guest's rewrite), hostile guests contained (500, the
sidecar keeps serving), guest stdout and logs, start failures with host-go's
texts, and reloads (SIGHUP and a changed file) under load with no failed
request.
usage: httpwasm_e2e.py WASMGATE GUEST_DIR
"""
import http.client
import json
import os
import shutil
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(110)


def guest(name):
    return os.path.join(GUESTS, name + ".wasm")


def middleware(name, url, extra=()):
    meta = "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in [("url", url)] + list(extra))
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: middleware.http.wasm\n  version: v1\n  metadata:\n{meta}")


def configuration(http=(), app=(), strict=None):
    def handlers(names):
        return "".join(f"    - name: {n}\n      type: middleware.http.wasm\n" for n in names)
    text = "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: appconfig\nspec:\n"
    if http:
        text += "  httpPipeline:\n    handlers:\n" + handlers(http)
    if app:
        text += "  appHttpPipeline:\n    handlers:\n" + handlers(app)
    if strict is not None:
        text += f"  wasm:\n    strictSandbox: {'true' if strict else 'false'}\n"
    return text


def sidecar(components, config, args=(), **kw):
    sc = Sidecar(BIN, args=["--threads", "1"] + list(args), **kw)
    for name, text in components.items():
        sc.write_resource(name + ".yaml", text)
    path = os.path.join(sc.dir, "config.yaml")
    with open(path, "w") as f:
        f.write(config)
    sc.args += ["--config", path]
    return sc


def start(sc, want=None):
    """Spawns and waits until the API answers (with status want, if given): guests may change statuses."""
    sc.spawn()
    deadline = time.time() + 10
    while time.time() < deadline:
        check(sc.proc.poll() is None, "wasmgate exited:\n" + sc.logs()[-1500:])
        if sc.proc.poll() is not None:
            raise SystemExit(finish())
        try:
            if want is None or sc.request("GET", "/v1.0/healthz", timeout=1)[0] == want:
                sc.request("GET", "/v1.0/healthz", timeout=1)
                return sc
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("wasmgate did not answer:\n" + sc.logs())


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        out = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                          "added": self.headers.get("x-added"), "removed": self.headers.get("x-remove")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()

# ---- httpPipeline: order, state, pinning; appHttpPipeline: the app sees the rewrite
sc = sidecar({"count": middleware("count", "file://" + guest("hw_counter"), [("maxConcurrency", "1")]),
              "wrap": middleware("wrap", "file://" + guest("hw_buffered")),
              "rewrite": middleware("rewrite", "file://" + guest("hw_rewrite")),
              "wasi": middleware("wasi", "file://" + guest("hw_wasi"), [("strictSandbox", "false")])},
             configuration(http=["count", "wrap", "wasi"], app=["rewrite"], strict=True),
             args=["--app-port", str(app.server_address[1])])
start(sc)
counts = []
for i in range(3):
    st, h, body = sc.request("GET", "/v1.0/metadata")
    counts.append(h.get("x-count"))
    check(h.get("x-pinned") == "ok", f"pinned: {h}")
    check(st == 201, f"metadata through wrap: status {st} (next's 200 + 1)")
    check(body.startswith(b"wrapped:{"), f"wrapped body: {body[:60]!r}")
    check(h.get("x-wrapped") == "1", f"x-wrapped: {h}")
    check(h.get("x-clock-small") == "1", f"spec.wasm.strictSandbox overrides strictSandbox false: {h}")
check(counts[1:] == [str(int(counts[0]) + 1), str(int(counts[0]) + 2)], f"guest state persists: {counts}")
st, h, body = sc.request("POST", "/v1.0/invoke/myapp/method/orig?y=2", b"old body",
                         {"x-remove": "1", "Content-Type": "text/plain"})
check(st == 201, f"invoke through both pipelines: {st} {body!r}")
got = json.loads(body[len(b"wrapped:"):]) if body.startswith(b"wrapped:") else {}
check(got.get("method") == "PUT" and got.get("path") == "/rewritten?x=1", f"app saw the rewrite: {got}")
check(got.get("body") == "new body" and got.get("added") == "yes" and got.get("removed") is None, f"app: {got}")
check(h.get("x-ctx") == "ok" and h.get("x-is-error") == "0", f"app pipeline handle_response: {h}")
time.sleep(0.2)
logs = sc.logs()
check("wasm stdout: hello from guest" in logs, "guest stdout logged at debug")
check("wasm stderr: oops" in logs, "guest stderr logged at debug")
check("level=info msg=\"alert\"" in logs, "guest log(info) in the sidecar's log")
sc.cleanup()

# ---- appHttpPipeline with the app down: the caller gets Dapr's invocation error
from wgtest import check_error, free_port  # noqa: E402
sc = sidecar({"rewrite": middleware("rewrite", "file://" + guest("hw_rewrite"))}, configuration(app=["rewrite"]),
             args=["--app-port", str(free_port())])
start(sc)
check_error(sc.request("POST", "/v1.0/invoke/myapp/method/x", b"b"), 500, "ERR_DIRECT_INVOKE", "failed to invoke")
sc.cleanup()

# ---- hostile guests: each fails its own request only
sc = sidecar({"hostile": middleware("hostile", "file://" + guest("hw_hostile"),
                                    [("maxMemory", "4Mi"), ("requestTimeout", "50ms")]),
              "store": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\nspec:\n"
                       "  type: state.in-memory\n  version: v1\n  metadata: []\n"},
             configuration(http=["hostile"]))
start(sc, 204)
# a guest that only continues: the API sees the request (body included) untouched
st, _, body = sc.request("POST", "/v1.0/state/store", [{"key": "k", "value": {"n": 1}}])
check(st == 204, f"state save through the pipeline: {st} {body!r}")
st, _, body = sc.request("GET", "/v1.0/state/store/k")
check(st == 200 and json.loads(body) == {"n": 1}, f"state get through the pipeline: {st} {body!r}")
for op, msg in [("loop", b"wasm error: interrupted (deadline of 50 ms)"), ("bomb", b"wasm error: unreachable"),
                ("recurse", b"wasm error: call stack exhausted"), ("unreachable", b"wasm error: unreachable")]:
    t0 = time.time()
    st, _, body = sc.request("GET", "/v1.0/metadata", headers={"x-hostile": op})
    check(st == 500 and body == msg, f"{op}: {st} {body!r}")
    check(time.time() - t0 < 2, f"{op} took {time.time() - t0:.2f}s")
    st, _, _ = sc.request("GET", "/v1.0/healthz")
    check(st == 204, f"serving after {op}: {st}")
check("wasm stack trace:" in sc.logs(), "the trap's backtrace is logged")
sc.cleanup()

# ---- a guest fetched over http:// at load (and refetched on SIGHUP)
import functools  # noqa: E402
from http.server import SimpleHTTPRequestHandler  # noqa: E402


class Files(SimpleHTTPRequestHandler):
    """Serves GUEST_DIR; /gz/NAME gzip-encoded (when the client accepts it), /redirect/NAME as a 302 to /NAME."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        import gzip
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/" + self.path[len("/redirect/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/gz/"):
            with open(os.path.join(GUESTS, self.path[4:]), "rb") as f:
                data = f.read()
            gz = "gzip" in (self.headers.get("Accept-Encoding") or "")
            out = gzip.compress(data) if gz else data
            self.send_response(200)
            if gz:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        super().do_GET()


files = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Files, directory=GUESTS))
threading.Thread(target=files.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{files.server_address[1]}"
for path in ["/hw_answer.wasm", "/gz/hw_answer.wasm", "/redirect/hw_answer.wasm"]:
    sc = sidecar({"web": middleware("web", base + path)}, configuration(http=["web"]))
    start(sc, 418)
    st, _, body = sc.request("GET", "/v1.0/metadata")
    check(st == 418 and body == b"short and stout", f"guest fetched from {path}: {st} {body!r}")
    sc.cleanup()

# ---- start failures
for comps, cfg, want in [
    ({"bad": middleware("bad", "file://" + guest("hw_start_trap"))}, configuration(http=["bad"]),
     "wasm: error instantiating guest: module[hw_start_trap] function[_start] failed: wasm error: unreachable"),
    ({"bad": middleware("bad", "file://" + guest("hw_no_memory"))}, configuration(http=["bad"]),
     "wasm: guest doesn't export memory[memory]"),
    ({}, configuration(http=["nope"]), "couldn't find middleware component with name nope and type middleware.http.wasm"),
    ({"bad": middleware("bad", "file://missing.wasm")}, configuration(app=["bad"]), "wasm: failed to parse metadata: "),
    ({"bad": middleware("bad", base + "/nope.wasm")}, configuration(http=["bad"]),
     f'wasm: failed to parse metadata: received 404 status code from "{base}/nope.wasm"'),
    ({"bad": middleware("bad", "oci://x/y")}, configuration(http=["bad"]), "wasm: failed to parse metadata: TODO oci"),
    ({"bad": middleware("bad", "https://127.0.0.1:1/x.wasm")}, configuration(http=["bad"]),
     'wasm: failed to parse metadata: Get "https://127.0.0.1:1/x.wasm": '),
]:
    sc = sidecar(comps, cfg)
    sc.spawn()
    rc = sc.wait_exit(10)
    check(rc not in (None, 0), f"start must fail for {want}: {rc}")
    check(want in sc.logs(), f"{want!r} not in:\n{sc.logs()[-800:]}")
    sc.cleanup()

# ---- reload under load: SIGHUP and a changed file, with no failed request
sc = sidecar({"g": middleware("g", "file://guest.wasm")}, configuration(http=["g"], strict=True), args=["--threads", "2"])
shutil.copy(guest("hw_answer"), os.path.join(sc.dir, "guest.wasm"))  # a relative file:// url
start(sc, 418)
stop = threading.Event()
results = []


def hammer():
    c = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=10)
    while not stop.is_set():
        try:
            c.request("GET", "/v1.0/healthz")
            r = c.getresponse()
            r.read()
            results.append(r.status)
        except Exception as e:  # noqa: BLE001
            results.append(repr(e))
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=10)
    c.close()


threads = [threading.Thread(target=hammer) for _ in range(4)]
for t in threads:
    t.start()
time.sleep(0.3)
for i in range(5):
    sc.proc.send_signal(signal.SIGHUP)
    time.sleep(0.1)
tmp = os.path.join(sc.dir, "guest.wasm.tmp")
shutil.copy(guest("hw_noop"), tmp)
os.replace(tmp, os.path.join(sc.dir, "guest.wasm"))  # the watcher reloads it
time.sleep(1.5)
for i in range(3):
    sc.proc.send_signal(signal.SIGHUP)
    time.sleep(0.1)
time.sleep(0.3)
stop.set()
for t in threads:
    t.join()
bad = [r for r in results if r not in (418, 204)]
check(len(results) > 100 and not bad, f"{len(results)} requests, failures: {bad[:5]}")
check(418 in results and results[-1] == 204, f"old guest then new guest: first {results[:1]}, last {results[-1:]}")
logs = sc.logs()
check("received signal SIGHUP" in logs and "guest reloaded" in logs, "reload logged")
check("changed; guest reloaded" in logs, "file change noticed")
check("(strict sandbox)" in logs, "spec.wasm.strictSandbox forces the strict sandbox")
sc.cleanup()
finish()
