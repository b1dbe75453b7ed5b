#!/usr/bin/env python3
"""echo_app.py: the demo app behind wasmgate. It answers every request (any method, any
path) with 200 and a JSON description of what it received: method, path, the query decoded,
headers and the body as text, so that what a middleware changed on the way is visible.

usage: echo_app.py [PORT]   (default 3000; listens on 127.0.0.1)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-app"

    def log_message(self, fmt, *args):
        sys.stderr.write("echo-app: %s %s\n" % (self.command, self.path))

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        url = urlsplit(self.path)
        out = json.dumps({
            "method": self.command,
            "path": url.path,
            "query": {k: v if len(v) > 1 else v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", errors="replace"),
        }, ensure_ascii=False, indent=1).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    srv = ThreadingHTTPServer(("127.0.0.1", port), Echo)
    srv.daemon_threads = True
    print(f"echo-app listening on http://127.0.0.1:{port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
