"""Issue 18.12: lenient request parsing must not set up request smuggling.

Raw requests on loopback against `wasmgate run` with an app behind it. Each
hostile framing is rejected before anything reaches the app (RFC 9112 §2.3,
§3.2, §5.1, §6.1; Go's net/http and nginx answer the same way), and a
framing header is never forwarded next to a body we framed differently.
"""
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, recv_until_close, start_alarm  # noqa: E402

start_alarm(100)
seen = []


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("content-length", "0") or 0)
        body = self.rfile.read(n)
        if self.path.startswith("/dapr/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        seen.append((self.path, [(k.lower(), v) for k, v in self.headers.items()], body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST

    def log_message(self, *a):
        pass


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()
sc = Sidecar(sys.argv[1], app_id="svc", args=["--app-port", str(app.server_address[1]), "--threads", "1"]).start()


def raw(data):
    """Sends data, half-closes, returns every status line the server sent."""
    s = socket.create_connection(("127.0.0.1", sc.port), timeout=10)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = recv_until_close(s)
    s.close()
    return [ln.decode(errors="replace") for ln in out.split(b"\r\n") if ln.startswith(b"HTTP/1.")]


P = b"POST /v1.0/invoke/svc/method/x HTTP/1.1\r\n"
SMUGGLED = b"GET /v1.0/invoke/svc/method/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
cases = [
    # (name, request, expected status of the only response)
    ("space before colon (TE)", P + b"Host: a\r\nTransfer-Encoding : chunked\r\n\r\n" +
     b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n", 400),
    ("space before colon (TE) with CL", P + b"Host: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", 400),
    ("space before colon (CL)", P + b"Host: a\r\nContent-Length : %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 400),
    ("tab before colon", P + b"Host: a\r\nX-A\t: b\r\nContent-Length: 1\r\n\r\nx", 400),
    ("no Host in HTTP/1.1", P + b"Content-Length: 1\r\n\r\nx", 400),
    ("two Host headers", P + b"Host: a\r\nHost: b\r\nContent-Length: 1\r\n\r\nx", 400),
    ("HTTP/9.9", b"POST /v1.0/invoke/svc/method/x HTTP/9.9\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 505),
    ("HTTP/1.2", b"POST /v1.0/invoke/svc/method/x HTTP/1.2\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 505),
    ("CL and TE", P + b"Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400),
    ("TE gzip, chunked", P + b"Host: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501),
    ("two TE headers", P + b"Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", 400),
    ("TE in HTTP/1.0", b"POST /v1.0/invoke/svc/method/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", 400),
    ("two different CL", P + b"Host: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", 400),
]
for name, req, want in cases:
    seen.clear()
    lines = raw(req)
    time.sleep(0.05)
    check(len(lines) == 1 and lines[0].startswith(f"HTTP/1.1 {want} "), f"{name}: responses {lines}, expected {want}")
    check(not seen, f"{name}: the app was called: {seen}")

# the accepted forms still work, and the app never sees a framing header we did not use
ok = [
    ("content-length", P + b"Host: a\r\nContent-Length: 3\r\n\r\nabc"),
    ("chunked", P + b"Host: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("HTTP/1.0 without Host", b"POST /v1.0/invoke/svc/method/x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"),
    ("obs-fold", P + b"Host: a\r\nX-Folded: one\r\n two\r\nContent-Length: 3\r\n\r\nabc"),
]
for name, req in ok:
    seen.clear()
    lines = raw(req)
    time.sleep(0.05)
    check(lines and lines[0].startswith("HTTP/1.1 200 "), f"{name}: {lines}")
    check(len(seen) == 1, f"{name}: the app saw {len(seen)} requests")
    if seen:
        path, hdrs, body = seen[0]
        check(body == b"abc", f"{name}: body {body!r}")
        te = [v for k, v in hdrs if k == "transfer-encoding"]
        cl = [v for k, v in hdrs if k == "content-length"]
        check(not te and cl == ["3"], f"{name}: framing headers at the app: TE {te} CL {cl}")
        for k, v in hdrs:
            check("\r" not in v and "\n" not in v, f"{name}: CR/LF in a forwarded value {k}: {v!r}")

sc.stop()
finish()
