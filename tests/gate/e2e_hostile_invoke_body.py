"""Issue 18.3 (first step): an app response larger than --max-body-size.

daprd applies --max-body-size to what it reads from the app
(pkg/channel/http: LimitReadCloser(resp.Body, MaxRequestBodySizeMB<<20)).
wasmgate applies the same limit to the app channel, so an app answering
200 MB no longer costs 200 MB per call, and the caller gets a clear
500 ERR_DIRECT_INVOKE naming the limit, never "malformed response" (which
is what a body past the old hard 256 MiB cap produced). Within the limit
the body arrives whole.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

start_alarm(100)
SIZE = 6 << 20


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        n = SIZE if self.path.startswith("/big") else 10
        chunked = "chunked" in self.path
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        block = b"z" * 65536
        left = n
        try:
            while left:
                part = block[:min(left, len(block))]
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                else:
                    self.wfile.write(part)
                left -= len(part)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def log_message(self, *a):
        pass


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
app.handle_error = lambda request, address: None  # the sidecar hangs up on an over-limit answer
threading.Thread(target=app.serve_forever, daemon=True).start()
port = str(app.server_address[1])

sc = Sidecar(sys.argv[1], app_id="svc", args=["--threads", "1", "--app-port", port]).start()
for path in ("big", "big-chunked"):
    st, hdrs, body = sc.request("GET", f"/v1.0/invoke/svc/method/{path}", timeout=30)
    check(st == 500, f"{path}: a 6 MiB answer with the default 4Mi --max-body-size: {st}")
    try:
        j = json.loads(body)
    except ValueError:
        j = {}
    check(j.get("errorCode") == "ERR_DIRECT_INVOKE", f"{path}: error code {j}")
    msg = j.get("message", "")
    check("--max-body-size" in msg and "malformed" not in msg, f"{path}: message {msg!r}")
st, _, body = sc.request("GET", "/v1.0/invoke/svc/method/small")
check(st == 200 and body == b"z" * 10, f"small answer: {st}")
sc.cleanup()

sc = Sidecar(sys.argv[1], app_id="svc", args=["--threads", "1", "--app-port", port, "--max-body-size", "8Mi"]).start()
for path in ("big", "big-chunked"):
    st, _, body = sc.request("GET", f"/v1.0/invoke/svc/method/{path}", timeout=30)
    check(st == 200 and len(body) == SIZE, f"{path} within --max-body-size 8Mi: {st}, {len(body)} bytes")
sc.cleanup()
app.shutdown()
finish()
