"""meshapp.py: a small HTTP app for the mesh tests, run in a thread.

Routes: /status/N answers N; /flaky/N/KEY answers 503 for the first N calls
with that KEY, then 200; /slow/MS sleeps MS ms; anything else echoes
{"app", "method", "path", "body", "headers"} (201 for POST). Every request
is recorded in app.seen (method, path, lower-case headers, body).
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MeshApp:
    def __init__(self, name, host="127.0.0.1", port=0):
        self.name = name
        self.seen = []
        self.counts = {}
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                with outer.lock:
                    outer.seen.append({"method": self.command, "path": self.path, "headers": hdrs, "body": body})
                parts = self.path.split("?")[0].strip("/").split("/")
                code, out = (201 if self.command == "POST" else 200), None
                if parts[0] == "status" and len(parts) > 1:
                    code, out = int(parts[1]), b'{"err":"as asked"}'
                elif parts[0] == "flaky" and len(parts) > 2:
                    with outer.lock:
                        c = outer.counts.get(parts[2], 0) + 1
                        outer.counts[parts[2]] = c
                    code = 503 if c <= int(parts[1]) else 200
                    out = json.dumps({"call": c}).encode()
                elif parts[0] == "slow" and len(parts) > 1:
                    time.sleep(int(parts[1]) / 1000)
                if out is None:
                    out = json.dumps({"app": outer.name, "method": self.command, "path": self.path,
                                      "body": body.decode(errors="replace"), "headers": hdrs}).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("X-App", outer.name)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(out)
                except OSError:
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

        self.server = ThreadingHTTPServer((host, port), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls(self, prefix):
        with self.lock:
            return sum(1 for s in self.seen if s["path"].startswith(prefix))

    def last(self, path):
        """The last request seen for path (the sidecar's own calls to the app, e.g. its discovery of
        /dapr/config and /dapr/subscribe, may come in between a test's requests)."""
        with self.lock:
            return next((r for r in reversed(self.seen) if r["path"] == path), {"method": None, "headers": {}})

    def close(self):
        self.server.shutdown()
        self.server.server_close()
