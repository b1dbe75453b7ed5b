"""pubsubapp.py: a tiny subscriber app for the pub/sub e2e tests.

Serves GET /dapr/subscribe from a list given by the test, records every POST
(path, headers, parsed JSON body) and answers each path as the test scripted:
a list of (status, body) replies consumed in order (the last one repeats),
default 200 with an empty body. The status "hang" holds the request until
release() (or 30 s), to keep a message in flight at the app; ("sleep", s)
answers 200 after s seconds. max_concurrent is the most POSTs seen in
progress at once.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SubscriberApp:
    def __init__(self, subscriptions=None, port=0):
        self.subscriptions = subscriptions if subscriptions is not None else []
        self.replies = {}
        self.handlers = {}  # path -> fn(parsed body) -> (status, body): computed answers
        self.received = []
        self.subscribe_calls = 0
        self.cv = threading.Condition()
        self.released = threading.Event()
        self.concurrent = 0
        self.max_concurrent = 0
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/dapr/subscribe":
                    with app.cv:
                        app.subscribe_calls += 1
                    if app.subscriptions is None:
                        self.reply(404, "")
                    else:
                        self.reply(200, json.dumps(app.subscriptions))
                else:
                    self.reply(200, "")

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with app.cv:
                    app.concurrent += 1
                    app.max_concurrent = max(app.max_concurrent, app.concurrent)
                    script = app.replies.get(self.path)
                    status, out = (200, "")
                    if self.path in app.handlers:
                        status, out = app.handlers[self.path](body)
                    elif script:
                        status, out = script[0]
                        if len(script) > 1:
                            script.pop(0)
                    app.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                         "raw": raw, "body": body, "t": time.time()})
                    app.cv.notify_all()
                if status == "hang":
                    app.released.wait(30)
                    status = 200
                elif status == "sleep":
                    time.sleep(float(out))
                    status, out = 200, ""
                with app.cv:
                    app.concurrent -= 1
                try:
                    self.reply(status, out)
                except OSError:
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a sidecar killed mid-request resets its connection: expected here

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def script(self, path, replies):
        with self.cv:
            self.replies[path] = list(replies)

    def wait(self, pred, timeout=10):
        """Waits until pred(received) is true; returns the matching deliveries or []."""
        deadline = time.time() + timeout
        with self.cv:
            while True:
                got = [r for r in self.received if pred(r)]
                if got:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    return []
                self.cv.wait(left)

    def count(self, pred, wait=10, n=1):
        """Waits until at least n deliveries match pred (bounded); returns the list."""
        deadline = time.time() + wait
        with self.cv:
            while True:
                got = [r for r in self.received if pred(r)]
                if len(got) >= n or time.time() >= deadline:
                    return got
                self.cv.wait(max(0.01, deadline - time.time()))

    def at(self, path):
        with self.cv:
            return [r for r in self.received if r["path"] == path]

    def release(self):
        self.released.set()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
