"""Issue 18.3: every call the sidecar makes to its app reads at most --max-body-size of the answer.

daprd's app channel limits what it reads from the app (LimitReadCloser with the
request body limit) for every call, not only invocation. wasmgate's pub/sub
delivery and input bindings used their own clients with a fixed 256 MiB limit;
now the app channel applies --max-body-size to each call. An app that answers
a pub/sub delivery with more fails that delivery with a clear message naming
the limit (and the message is retried), while a small answer still succeeds.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

start_alarm(100)
calls = {"big": 0, "small": 0}


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/dapr/subscribe":
            subs = [{"pubsubname": "pubsub", "topic": t, "route": "/" + t} for t in ("big", "small")]
            self.reply(200, json.dumps(subs).encode())
        else:
            self.reply(404, b"")

    def do_POST(self):
        n = int(self.headers.get("content-length", "0") or 0)
        self.rfile.read(n)
        topic = self.path.strip("/")
        if topic in calls:
            calls[topic] += 1
        # a success answer, with 3 MB of padding for "big" (past the 1 MiB limit)
        pad = "x" * (3 << 20) if topic == "big" else ""
        try:
            self.reply(200, json.dumps({"status": "SUCCESS", "pad": pad}).encode())
        except OSError:
            pass

    def log_message(self, *a):
        pass


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
app.handle_error = lambda request, address: None
threading.Thread(target=app.serve_forever, daemon=True).start()
sc = Sidecar(sys.argv[1], app_id="svc", args=["--app-port", str(app.server_address[1]), "--threads", "1",
                                              "--max-body-size", "1Mi"]).start()



def subscribed():
    subs = json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions") or []
    return {s.get("topic") for s in subs} >= {"big", "small"}


end = time.time() + 30  # in-memory pub/sub drops what is published before the subscription exists
while time.time() < end and not subscribed():
    time.sleep(0.05)
check(subscribed(), "the app's subscriptions are listed")
check(sc.request("POST", "/v1.0/publish/pubsub/small", body='{"a":1}',
                 headers={"Content-Type": "application/json"})[0] == 204, "publish small")
check(sc.request("POST", "/v1.0/publish/pubsub/big", body='{"a":2}',
                 headers={"Content-Type": "application/json"})[0] == 204, "publish big")


def logged(text):
    with open(sc.log_path, "rb") as f:
        return text in f.read().decode(errors="replace")


end = time.time() + 30
want = "larger than the 1048576-byte limit (--max-body-size)"
while time.time() < end and not (logged(want) and calls["big"] >= 2):
    time.sleep(0.1)
check(logged(want), "the oversized answer fails the delivery, naming the limit")
check(calls["big"] >= 2, f"and the message is retried: {calls['big']} deliveries")
check(calls["small"] == 1, f"a small answer succeeds once: {calls['small']} deliveries")
sc.stop()
finish()
