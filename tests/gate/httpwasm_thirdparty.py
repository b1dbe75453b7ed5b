"""httpwasm_thirdparty.py: runs third-party http-wasm conformance material
against the real `wasmgate run`, as its own Go tests drive it, and prints
counts. Nothing of it is in this tree: pass the fetched repositories.

  httpwasm_thirdparty.py WASMGATE HOST_GO CONTRIB

HOST_GO is github.com/http-wasm/http-wasm-host-go and CONTRIB is
github.com/dapr/components-contrib, each a checkout or a bare git directory
(read at HEAD). Exit 0 when every case passed, 1 otherwise; 77 (skipped)
when the material is missing, e.g. under `make test` without
WG_HTTPWASM_HOST_GO / WG_HTTPWASM_CONTRIB set.

1. The TCK (host-go tck/tck.wasm, expectations of tck/run.go, backend of
   tck/backend.go served by a small app here) in the appHttpPipeline and in
   the httpPipeline, each case a request to /v1.0/invoke/tck/method/...
   In the httpPipeline the guest sees the sidecar's URI
   (/v1.0/invoke/tck/method/simple), so the TCK's get_uri and set_uri
   cases, written for a guest in front of the app's own paths, cannot hold
   there: they are run and reported apart ("path-dependent"). In the
   appHttpPipeline, get_uri/simple/escaping is reported apart too: daprd
   decodes the invocation method (/simple%26clean reaches the app as
   /simple&clean), so that case checks daprd's form instead of the TCK's
   and is counted apart ("daprd's decoded method").
2. host-go's handler/nethttp middleware_test.go (config with an 8-byte
   binary guestConfig for six feature sets, protocol version, method, URI,
   header names and values, handle_response) and example_test.go
   Example_auth, with their guests and expectations, next being the app.
3. components-contrib middleware/http/wasm: the e2e guests (output,
   rewrite, config; internal/e2e_test.go) from file://, http:// and
   http:// gzip-encoded urls, the WAT rewrite guest of the benchmark, the
   router example (Test_Example) and the load errors of
   Test_middleware_getHandler.
"""
import gzip
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, free_port  # noqa: E402

args = sys.argv[1:] + [os.environ.get("WG_HTTPWASM_HOST_GO", ""), os.environ.get("WG_HTTPWASM_CONTRIB", "")][
    len(sys.argv) - 2:] if len(sys.argv) >= 2 else []
if len(args) < 3 or not all(args[:3]):
    print("skipped: usage: httpwasm_thirdparty.py WASMGATE HOST_GO CONTRIB (fetched repositories; "
          "or set WG_HTTPWASM_HOST_GO and WG_HTTPWASM_CONTRIB)")
    sys.exit(77)
BIN, HOST_GO, CONTRIB = (os.path.abspath(p) for p in args[:3])
# The TCK requests its base url for most cases: /v1.0/invoke/tck/method/ (an
# empty method, which daprd sends to the app's "/"). WG_TCK_EMPTY_METHOD=x
# sends those to .../method/x instead (for a sidecar that still refuses the
# empty method; no TCK case checks that path).
EMPTY_METHOD = os.environ.get("WG_TCK_EMPTY_METHOD", "")


def material(root, rel):
    """A file of a checkout, or of a bare git directory at HEAD."""
    p = os.path.join(root, rel)
    if os.path.isfile(p):
        with open(p, "rb") as f:
            return f.read()
    return subprocess.run(["git", "--git-dir", root, "show", "HEAD:" + rel], check=True,
                          capture_output=True).stdout


WORK = tempfile.mkdtemp(prefix="wg-thirdparty-")
results = {}  # section -> [(name, ok, why)]


def record(section, name, ok, why=""):
    results.setdefault(section, []).append((name, ok, why))


def save(name, data):
    p = os.path.join(WORK, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


# ---- the TCK backend (tck/backend.go): echoes the request it got

def canonical(name):  # Go's textproto.CanonicalMIMEHeaderKey
    return "-".join(w[:1].upper() + w[1:].lower() for w in name.split("-"))


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(200)
        self.send_header("x-httpwasm-next-method", self.command)
        self.send_header("x-httpwasm-next-uri", self.path)
        seen = {}
        for k, v in self.headers.items():
            if k.lower() == "host":  # Go keeps Host out of r.Header
                continue
            i = seen.get(canonical(k), 0)
            seen[canonical(k)] = i + 1
            self.send_header(f"x-httpwasm-next-header-{canonical(k)}-{i}", v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_TRACE = do_PATCH = handle_any


backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
threading.Thread(target=backend.serve_forever, daemon=True).start()


def component(name, url, extra=()):
    meta = "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in [("url", url)] + list(extra))
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: middleware.http.wasm\n  version: v1\n  metadata:\n{meta}")


def sidecar(components, http=(), app=(), app_port=None, app_id="tck"):
    sc = Sidecar(BIN, app_id=app_id, args=["--threads", "1"] +
                 (["--app-port", str(app_port)] if app_port else []))
    for name, text in components.items():
        sc.write_resource(name + ".yaml", text)
    cfg = "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
    for key, names in (("httpPipeline", http), ("appHttpPipeline", app)):
        if names:
            cfg += f"  {key}:\n    handlers:\n" + "".join(
                f"    - name: {n}\n      type: middleware.http.wasm\n" for n in names)
    path = os.path.join(sc.dir, "config.yaml")
    with open(path, "w") as f:
        f.write(cfg)
    sc.args += ["--config", path]
    sc.spawn()
    deadline = time.time() + 20
    while time.time() < deadline:  # guests may answer healthz themselves: wait for any answer
        if sc.proc.poll() is not None:
            return sc
        try:
            sc.request("GET", "/v1.0/healthz/outbound", timeout=1)
            return sc
        except OSError:
            time.sleep(0.05)
    return sc


def request(sc, method, path, headers, body=None):
    c = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=15)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        if body:
            c.send(body)
        r = c.getresponse()
        data = b"" if method == "HEAD" else r.read()
        return r.status, r.msg, data
    finally:
        c.close()


# ---- the TCK cases of tck/run.go: (id, method, uri, headers, body, extra check)

def tck_cases():
    cases = [("get_protocol_version", "GET", "/get_protocol_version", [], None,
              lambda st, h, b: b.decode() == "HTTP/1.1" or f"body {b!r}, want HTTP/1.1")]
    for m in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"]:
        cases.append((f"get_method/{m}", m, "", [], None, None))
    cases.append(("set_method", "GET", "", [], None,
                  lambda st, h, b: h.get("x-httpwasm-next-method") == "POST" or
                  f"next method {h.get('x-httpwasm-next-method')}"))
    uris = [("simple", "/simple"), ("simple/escaping", "/simple%26clean"), ("query", "/animal?name=panda"),
            ("query/escaping", "/disney?name=chip%26dale")]
    for tid, uri in uris:
        cases.append((f"get_uri/{tid}", "GET", uri, [], None, None))
    for tid, uri in uris:
        cases.append((f"set_uri/{tid}", "GET", "", [], None,
                      lambda st, h, b, uri=uri: h.get("x-httpwasm-next-uri") == uri or
                      f"next uri {h.get('x-httpwasm-next-uri')}, want {uri}"))
    for tid, key, vals in [("lowercase-key", "single-header", ["value"]), ("mixedcase-key", "Single-Header", ["value"]),
                           ("not-exists", "not-header", []), ("multiple-values", "multi-header", ["value1", "value2"])]:
        cases.append((f"get_header_values/request/{tid}", "GET", "", [(key, v) for v in vals], None, None))
    cases.append(("get_header_names/request", "GET", "", [("a-header", "value1"), ("b-header", "2")], None, None))
    for name, hdr in [("new", "new-header"), ("existing", "existing-header")]:
        cases.append((f"set_header_value/request/{name}", "GET", "", [("existing-header", "bear")], None,
                      lambda st, h, b, hdr=hdr: h.get(f"x-httpwasm-next-header-{hdr}-0") == "value" or
                      f"next {hdr} {h.get(f'x-httpwasm-next-header-{hdr}-0')}"))
    for name, hdr, vals in [("new", "new-header", ["value"]), ("existing", "existing-header", ["bear", "value"])]:
        cases.append((f"add_header_value/request/{name}", "GET", "", [("existing-header", "bear")], None,
                      lambda st, h, b, hdr=hdr, vals=vals: all(
                          h.get(f"x-httpwasm-next-header-{hdr}-{i}") == v for i, v in enumerate(vals)) or
                      f"next {hdr} values {[h.get(f'x-httpwasm-next-header-{hdr}-{i}') for i in range(len(vals))]}"))
    for name, removed in [("new", False), ("existing", True)]:
        cases.append((f"remove_header/request/{name}", "GET", "", [("existing-header", "bear")], None,
                      lambda st, h, b, removed=removed: (h.get("x-httpwasm-next-header-existing-header-0") or "") ==
                      ("" if removed else "bear") or f"existing-header {h.get('x-httpwasm-next-header-existing-header-0')}"))
    for tid, size in [("empty", 0), ("small", 5), ("medium", 2048), ("large", 4096), ("xlarge", 5000)]:
        cases.append((f"read_body/request/{tid}", "POST", "", [], b"a" * size, None))
    cases.append(("get_source_addr", "GET", "", [], None, None))
    return cases


def run_tck(section, sc):
    for tid, method, uri, headers, body, extra in tck_cases():
        path = "/v1.0/invoke/tck/method" + (uri or "/" + EMPTY_METHOD)
        try:
            st, h, b = request(sc, method, path, headers + [("x-httpwasm-tck-testid", tid)], body)
        except OSError as e:
            record(section, tid, False, f"request failed: {e}")
            continue
        why = None
        if h.get("x-httpwasm-tck-handled") != "1":  # checkResponse
            why = f"x-httpwasm-tck-handled header is missing (status {st})"
        elif st == 500 or h.get("x-httpwasm-tck-failed"):
            # stricter than run.go, which looks at the message only with a 500: a guest assertion
            # that continues to next gets next's status, and its failure would go unnoticed
            why = "assertion failed: " + (h.get("x-httpwasm-tck-failed") or "(no message)")
        elif extra:
            r = extra(st, h, b)
            why = None if r is True else r
        section_of = section
        if section.endswith(" httpPipeline") and tid.split("/")[0] in ("get_uri", "set_uri"):
            section_of = section + " (path-dependent)"
        elif section.endswith("appHttpPipeline") and tid == "get_uri/simple/escaping":
            # daprd extracts the method from the decoded path (onDirectMessage uses r.URL.Path, for
            # ACL checks on the canonical form) and the app channel re-escapes it as Go's
            # url.PathEscape would, which keeps '&': the app, and a guest in front of it, sees
            # /simple&clean where the TCK, written for a plain host, expects the raw /simple%26clean.
            section_of = section + " (daprd's decoded method)"
            want = "get_uri: want /simple%26clean, have /simple&clean"
            ok = why is not None and why.endswith(want)
            why = None if ok else f"want daprd's decoded method /simple&clean; {why or 'the raw path passed'}"
        record(section_of, tid, why is None, why or "")


tck = save("tck.wasm", material(HOST_GO, "tck/tck.wasm"))
for where in ("appHttpPipeline", "httpPipeline"):
    kw = {"app": ["tck"]} if where == "appHttpPipeline" else {"http": ["tck"]}
    sc = sidecar({"tck": component("tck", "file://" + tck)}, app_port=backend.server_address[1], **kw)
    if sc.proc.poll() is not None:
        record("TCK " + where, "start", False, sc.logs()[-400:])
    else:
        run_tck("TCK " + where, sc)
    sc.cleanup()


# ---- components-contrib middleware/http/wasm

MW = "middleware/http/wasm/"
guests = {n: save(n + ".wasm", material(CONTRIB, MW + f"internal/e2e-guests/{n}/main.wasm"))
          for n in ("output", "rewrite", "config")}
guests["rewrite_wat"] = save("rewrite_wat.wasm", material(CONTRIB, MW + "internal/testdata/rewrite.wasm"))
guests["router"] = save("router.wasm", material(CONTRIB, MW + "example/router.wasm"))
router_go = save("router.go", material(CONTRIB, MW + "example/router.go"))


class GuestServer(BaseHTTPRequestHandler):  # serves /NAME.wasm, gzip-encoded under /gz/
    def log_message(self, *args):
        pass

    def do_GET(self):
        name = os.path.basename(self.path)[:-5]
        with open(guests[name], "rb") as f:
            data = f.read()
        self.send_response(200)
        if self.path.startswith("/gz/"):
            data = gzip.compress(data)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


gs = ThreadingHTTPServer(("127.0.0.1", 0), GuestServer)
threading.Thread(target=gs.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{gs.server_address[1]}"


class EchoApp(BaseHTTPRequestHandler):  # next: records the request line it got
    protocol_version = "HTTP/1.1"
    last = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        EchoApp.last.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


app = ThreadingHTTPServer(("127.0.0.1", 0), EchoApp)
threading.Thread(target=app.serve_forever, daemon=True).start()


def logs_have(sc, needles, wait=2.0):
    deadline = time.time() + wait
    while True:
        logs = sc.logs()
        missing = [n for n in needles if n not in logs]
        if not missing or time.time() > deadline:
            return missing
        time.sleep(0.05)


def contrib_e2e(how, url_of):
    sec = "contrib e2e_test.go"
    # consoleLog stdout and stderr / multiple requests (output guest, appHttpPipeline: next is the app)
    sc = sidecar({"out": component("out", url_of("output"))}, app=["out"], app_port=app.server_address[1])
    ok = sc.proc.poll() is None
    for i in range(3):
        ok = ok and request(sc, "GET", "/v1.0/invoke/tck/method/" + EMPTY_METHOD, [])[0] == 200
        if i == 0:
            miss = logs_have(sc, ['level=info msg="main ConsoleLog"', 'level=info msg="request[0] ConsoleLog"',
                                  'level=debug msg="wasm stdout:', "main Stdout", "request[0] Stdout",
                                  'level=debug msg="wasm stderr:', "main Stderr", "request[0] Stderr"])
            record(sec, f"{how}/consoleLog stdout and stderr", ok and not miss, f"missing {miss}")
    miss = logs_have(sc, ['level=info msg="request[1] ConsoleLog"', "request[1] Stdout", "request[1] Stderr"])
    record(sec, f"{how}/consoleLog multiple requests", ok and not miss, f"missing {miss}")
    sc.cleanup()
    # rewrite: next sees /v1.0/hello?name=teddy
    sc = sidecar({"rw": component("rw", url_of("rewrite"))}, app=["rw"], app_port=app.server_address[1])
    del EchoApp.last[:]
    st = request(sc, "GET", "/v1.0/invoke/tck/method/v1.0/hi?name=panda", [("User-Agent", "curl/7.79.1")])[0]
    record(sec, f"{how}/rewrite", st == 200 and EchoApp.last == ["/v1.0/hello?name=teddy"], f"{st} {EchoApp.last}")
    sc.cleanup()
    # log config to console
    sc = sidecar({"cfg": component("cfg", url_of("config"), [("guestConfig", "config bytes in any format")])},
                 http=["cfg"])
    miss = logs_have(sc, ["config bytes in any format"])
    record(sec, f"{how}/log config to console", sc.proc.poll() is None and not miss, sc.logs()[-300:])
    sc.cleanup()


contrib_e2e("local", lambda n: "file://" + guests[n])
contrib_e2e("http", lambda n: f"{base}/{n}.wasm")
contrib_e2e("http+gzip", lambda n: f"{base}/gz/{n}.wasm")

# benchmark_test.go: the WAT rewrite guest, same expectation
sc = sidecar({"rw": component("rw", "file://" + guests["rewrite_wat"])}, app=["rw"], app_port=app.server_address[1])
del EchoApp.last[:]
st = request(sc, "GET", "/v1.0/invoke/tck/method/v1.0/hi?name=panda", [])[0]
record("contrib benchmark_test.go", "rewrite.wat", st == 200 and EchoApp.last == ["/v1.0/hello?name=teddy"],
       f"{st} {EchoApp.last}")
sc.cleanup()

# httpwasm_test.go Test_Example: the router; next sees /hi?name=panda, other paths get "hello"
sc = sidecar({"router": component("router", "file://" + guests["router"])}, app=["router"],
             app_port=app.server_address[1])
del EchoApp.last[:]
st = request(sc, "GET", "/v1.0/invoke/tck/method/host/hi?name=panda", [])[0]
record("contrib httpwasm_test.go", "Test_Example", st == 200 and EchoApp.last == ["/hi?name=panda"],
       f"{st} {EchoApp.last}")
st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/other", [])
record("contrib httpwasm_test.go", "router static response", st == 200 and b == b"hello" and
       h.get("content-type") == "text/plain", f"{st} {b!r} {h.get('content-type')}")
sc.cleanup()

# Test_middleware_getHandler: load errors stop the start with Dapr's texts; good urls load
for name, meta, want in [("requires url metadata", [], "wasm: failed to parse metadata: missing url"),
                         ("url not wasm", [("url", "file://" + router_go)],
                          "wasm: error compiling guest: invalid magic number"),
                         ("remote wasm url", [("url", f"{base}/router.wasm")], None),
                         ("ok", [("url", "file://" + guests["router"])], None)]:
    text = ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: m\nspec:\n"
            "  type: middleware.http.wasm\n  version: v1\n  metadata:\n" +
            "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in meta))
    if not meta:
        text += "  - name: guestConfig\n    value: \"\"\n"
    sc = sidecar({"m": text}, http=["m"])
    time.sleep(0.2)
    if want:
        try:
            sc.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        ok = sc.proc.poll() not in (None, 0) and want in sc.logs()
    else:
        ok = sc.proc.poll() is None
    record("contrib httpwasm_test.go", f"getHandler/{name}", ok, sc.logs()[-300:])
    sc.cleanup()


# ---- host-go handler/nethttp: middleware_test.go and Example_auth, next = the app (appHttpPipeline)

REQUEST_BODY, RESPONSE_BODY = b'{"hello": "panda"}', b'{"hello": "world"}'


class NextApp(BaseHTTPRequestHandler):  # next: records what it got; writes RESPONSE_BODY when asked
    protocol_version = "HTTP/1.1"
    got = []
    answer = b""

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if not self.path.startswith("/dapr/"):  # the sidecar's own start-up reads (GET /dapr/config, which
            # it may send after it is ready, through the guest) are not the TCK's request
            NextApp.got.append((self.command, self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Length", str(len(NextApp.answer)))
        self.end_headers()
        self.wfile.write(NextApp.answer)

    do_GET = do_POST = handle_any


nxt = ThreadingHTTPServer(("127.0.0.1", 0), NextApp)
threading.Thread(target=nxt.serve_forever, daemon=True).start()
HG = "host-go nethttp middleware_test.go"


def hostgo(rel, config=None):
    path = save(os.path.basename(rel), material(HOST_GO, rel))
    text = component("g", "file://" + path)
    if config is not None:  # a double-quoted YAML scalar: any bytes, NULs included
        text += "  - name: guestConfig\n    value: \"" + "".join(f"\\x{b:02x}" for b in config) + "\"\n"
    sc = sidecar({"g": text}, app=["g"], app_port=nxt.server_address[1])
    del NextApp.got[:]
    return sc


# TestConfig: examples/config.wasm enables the features its 8-byte config names and checks the answer
for feats, label in [(0, "0"), (1, "buffer_request"), (2, "buffer_response"), (4, "trailers"),
                     (3, "buffer_request|buffer_response"), (7, "buffer_request|buffer_response|trailers")]:
    NextApp.answer = RESPONSE_BODY
    sc = hostgo("examples/config.wasm", feats.to_bytes(8, "little"))
    st, h, b = request(sc, "POST", "/v1.0/invoke/tck/method/x", [("Content-Type", "application/json")], REQUEST_BODY)
    ok = st == 200 and b == RESPONSE_BODY and len(NextApp.got) == 1 and NextApp.got[0][3] == REQUEST_BODY
    record(HG, f"TestConfig/{label}", ok, f"{st} {b!r} {NextApp.got} {sc.logs()[-300:] if not ok else ''}")
    sc.cleanup()
NextApp.answer = b""
sc = hostgo("internal/test/testdata/e2e/protocol_version.wasm")
st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/x", [])
record(HG, "TestProtocolVersion", st == 200 and b == b"HTTP/1.1", f"{st} {b!r}")
sc.cleanup()
sc = hostgo("internal/test/testdata/e2e/method.wasm")
st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/x", [])
record(HG, "TestMethod", st == 200 and [g[0] for g in NextApp.got] == ["POST"] and NextApp.got[0][3] == b"GET",
       f"{st} {NextApp.got}")
sc.cleanup()
NextApp.answer = RESPONSE_BODY
sc = hostgo("internal/test/testdata/e2e/uri.wasm")
st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/v1.0/hi?name=panda", [])
record(HG, "TestURI", st == 200 and b == RESPONSE_BODY and [g[1] for g in NextApp.got] == ["/v1.0/hello?name=teddy"]
       and NextApp.got[0][3] == b"/v1.0/hi?name=panda", f"{st} {b!r} {NextApp.got}")
sc.cleanup()
NextApp.answer = b""
for name, test in [("header_names", "TestHeaderNames"), ("handle_response", "TestHandleResponse")]:
    sc = hostgo(f"internal/test/testdata/e2e/{name}.wasm")
    st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/x", [])
    record(HG, test, st == 200, f"{st} {b!r}")
    sc.cleanup()
sc = hostgo("internal/test/testdata/e2e/header_value.wasm")
st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/x", [])
record(HG, "TestHeaderValue", st == 200 and [g[2] for g in NextApp.got] == ["text/plain"], f"{st} {NextApp.got}")
sc.cleanup()
# example_test.go Example_auth: one of four requests passes, the first gets a challenge
NextApp.answer = RESPONSE_BODY
sc = hostgo("examples/auth.wasm")
seen = []
for hdrs in ([("NotAuthorization", "1")], [("Authorization", "")],
             [("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")], [("Authorization", "0")]):
    st, h, b = request(sc, "GET", "/v1.0/invoke/tck/method/x", hdrs)
    seen.append({200: "OK", 401: "Unauthorized"}.get(st, str(st)))
    if h.get("www-authenticate"):
        seen.append("Www-Authenticate: " + h.get("www-authenticate"))
want = ["Unauthorized", 'Www-Authenticate: Basic realm="test"', "Unauthorized", "OK", "Unauthorized"]
record("host-go nethttp example_test.go", "Example_auth", seen == want, f"{seen}")
sc.cleanup()
nxt.shutdown()

backend.shutdown()
app.shutdown()
gs.shutdown()
shutil.rmtree(WORK, ignore_errors=True)

total = passed = 0
for section, rows in results.items():
    ok = sum(1 for r in rows if r[1])
    print(f"{section}: {ok}/{len(rows)}")
    for name, good, why in rows:
        if not good:
            print(f"  FAIL {name}: {why}")
    if "(path-dependent)" not in section:
        total += len(rows)
        passed += ok
print(f"total (path-dependent cases apart): {passed}/{total}")
sys.exit(0 if passed == total else 1)
