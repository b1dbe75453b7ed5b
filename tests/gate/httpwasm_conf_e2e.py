"""httpwasm_conf_e2e.py: http-wasm conformance through the real `wasmgate
run` (issues 11 and 18.13): a guestConfig holding NUL bytes ("\\0" in a
double-quoted YAML scalar) reaches get_config whole, called from the
guest's start section; the app's hop-by-hop response fields (Connection,
Keep-Alive, Transfer-Encoding and the fields Connection names) never reach
an appHttpPipeline guest; a hostile guest's CR/LF never splits the response
the client reads (raw socket) nor injects a request line toward the app.
usage: httpwasm_conf_e2e.py WASMGATE GUEST_DIR
"""
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)


def component(name, guest, config=None):
    text = (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: middleware.http.wasm\n  version: v1\n  metadata:\n"
            f"  - name: url\n    value: \"file://{os.path.join(GUESTS, guest + '.wasm')}\"\n")
    if config is not None:
        text += f"  - name: guestConfig\n    value: {config}\n"
    return text


def sidecar(components, http=(), app=(), args=()):
    sc = Sidecar(BIN, args=["--threads", "1"] + list(args))
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
    sc.spawn()  # guests may answer healthz themselves: wait for any answer
    deadline = time.time() + 15
    while time.time() < deadline:
        if sc.proc.poll() is not None:
            raise RuntimeError("wasmgate exited:\n" + sc.logs())
        try:
            sc.request("GET", "/v1.0/healthz/outbound", timeout=1)
            return sc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("wasmgate did not answer:\n" + sc.logs())


seen = []  # request lines and header blocks the app received


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/dapr/config":  # the sidecar's own read at start (as daprd): not the test's calls
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        seen.append(self.requestline + "\n" + str(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "keep-alive, X-Private")
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("X-Private", "hop")
        self.send_header("X-App", "end-to-end")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"5\r\nhello\r\n0\r\n\r\n")

    do_POST = do_GET


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()
app_args = ["--app-port", str(app.server_address[1])]

# ---- guestConfig bytes from YAML to get_config, read in the start section
sc = sidecar({"cfg": component("cfg", "hw_start_config", '"a\\0b\\0c"')}, http=["cfg"])
st, h, body = sc.request("GET", "/v1.0/healthz")
check(st == 200 and body == b"a\0b\0c|5", f"guestConfig with NULs via the start section: {st} {body!r}")
sc.cleanup()

# ---- the app's hop-by-hop fields never reach an appHttpPipeline guest
sc = sidecar({"names": component("names", "hw_resp_names")}, app=["names"], args=app_args)
st, h, body = sc.request("GET", "/v1.0/invoke/myapp/method/hop")
names = (h.get("x-names") or "").split(",")
check(st == 200 and body == b"hello", f"invoke through appHttpPipeline: {st} {body!r}")
check("x-app" in names and "content-type" in names, f"end-to-end fields seen: {names}")
for hop in ("connection", "keep-alive", "transfer-encoding", "x-private"):
    check(hop not in names, f"{hop} hidden from the guest: {names}")
    # the answer (length unknown) now streams past the guest (issue 18.3), framed chunked by the
    # sidecar itself, as without a pipeline: that Transfer-Encoding is the sidecar's own
    check(hop not in h or hop in ("connection", "transfer-encoding"), f"{hop} not forwarded to the caller: {h}")
sc.cleanup()

# ---- hostile output: no response splitting, no injected request line (raw bytes)
sc = sidecar({"inject": component("inject", "hw_inject")}, http=["inject"], app=["inject"], args=app_args)


def raw(case):
    s = socket.create_connection(("127.0.0.1", sc.port), timeout=10)
    s.sendall(f"GET /v1.0/invoke/myapp/method/x HTTP/1.1\r\nHost: a\r\nx-case: {case}\r\n"
              "Connection: close\r\n\r\n".encode())
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


for case in range(10):
    del seen[:]
    out = raw(case)
    head = out.split(b"\r\n\r\n", 1)[0]
    check(out.startswith(b"HTTP/1.1 500 "), f"case {case}: 500: {out[:80]!r}")
    check(b"\nX:" not in head and b"\nX: y" not in head and b"\nY" not in head, f"case {case}: no split: {head!r}")
    check(b"\nHTTP/" not in out and b"\r\n\r\n" not in out.split(b"\r\n\r\n", 1)[1], f"case {case}: one response: {out!r}")
    check(not seen, f"case {case}: nothing reached the app: {seen}")
st, h, body = sc.request("GET", "/v1.0/invoke/myapp/method/fine")
check(st == 200 and len(seen) == 1 and seen[0].startswith("GET /fine HTTP/1.1"), f"control: {st} {seen}")
sc.cleanup()
app.shutdown()
finish()
