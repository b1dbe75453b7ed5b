"""e2e_appchannel.py: the app channel of the real `wasmgate run`.

App health checks (--enable-app-health-check and its flags, as daprd): the app
starts unhealthy, turns healthy on the first 2xx probe, unhealthy after
--app-health-threshold failed probes (a 500, then a probe slower than
--app-health-probe-timeout), and healthy again when it recovers; while it is
unhealthy, invocation gets daprd's error and the app sees no call.

--app-max-concurrency: with a limit of 2, eight concurrent invocations of a
slow method reach the app at most two at a time and all succeed; without the
limit they overlap more (so the check can fail).

Pub/sub while the app is unhealthy: deliveries pause (as daprd pauses its
subscriptions) without spending the retry policy, and resume when the app is
healthy again; with backOffMaxRetries 0 a refused attempt would lose the
message, so the check can fail.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, start_alarm, wait_for  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)

MODE = {"health": "ok"}  # ok | fail | slow
PROBES = []
CALLS = []
EVENTS = []
LOCK = threading.Lock()
INFLIGHT = {"now": 0, "max": 0}


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"ok"):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        EVENTS.append((self.path, body))
        self.reply(200, b"")

    def do_GET(self):
        if self.path == "/dapr/subscribe":
            self.reply(200, json.dumps([{"pubsubname": "pubsub", "topic": "orders", "route": "/orders"}]).encode())
            return
        if self.path == "/healthz":
            PROBES.append((time.time(), self.headers.get("dapr-api-token")))
            if MODE["health"] == "slow":
                time.sleep(0.6)
            self.reply(500 if MODE["health"] == "fail" else 200)
            return
        CALLS.append(self.path)
        if self.path == "/slow":
            with LOCK:
                INFLIGHT["now"] += 1
                INFLIGHT["max"] = max(INFLIGHT["max"], INFLIGHT["now"])
            time.sleep(0.25)
            with LOCK:
                INFLIGHT["now"] -= 1
        self.reply(200, b"hello")


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
app.daemon_threads = True
app_port = app.server_address[1]
threading.Thread(target=app.serve_forever, daemon=True).start()


def invoke_ok(sc):
    return sc.request("GET", "/v1.0/invoke/hc/method/hello")[0] == 200


# ---- app health checks ----
sc = Sidecar(BIN, app_id="hc", env={"APP_API_TOKEN": "apptok"},
             args=["--app-port", str(app_port), "--enable-app-health-check", "--app-health-check-path", "healthz",
                   "--app-health-probe-interval", "1", "--app-health-probe-timeout", "300",
                   "--app-health-threshold", "2"]).start()
check(wait_for(lambda: invoke_ok(sc), 10), "healthy after the first probe")
check(PROBES and PROBES[0][1] == "apptok", f"probes carry APP_API_TOKEN: {PROBES[:1]}")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check(md["appConnectionProperties"].get("health") == {"healthCheckPath": "healthz", "healthProbeInterval": "1s",
                                                      "healthProbeTimeout": "300ms", "healthThreshold": 2},
      f"metadata health: {md['appConnectionProperties']}")

for mode in ("fail", "slow"):
    MODE["health"] = mode
    t0 = time.time()
    check(wait_for(lambda: not invoke_ok(sc), 10), f"unhealthy after {mode} probes")
    took = time.time() - t0
    check(took > 0.8, f"not before the threshold of 2 failed probes ({took:.2f}s)")
    n = len(CALLS)
    check_error(sc.request("POST", "/v1.0/invoke/hc/method/hello", b"x"), 500, "ERR_DIRECT_INVOKE",
                "failed to invoke, id: hc, err: rpc error: code = Internal desc = app is not in a healthy state")
    check(len(CALLS) == n, "an unhealthy app gets no calls")
    check(sc.request("GET", "/v1.0/healthz")[0] == 204, "the sidecar itself stays healthy")
    MODE["health"] = "ok"
    check(wait_for(lambda: invoke_ok(sc), 10), f"healthy again after recovering from {mode}")
logs = sc.logs()
check(logs.count("App entered un-healthy status") == 2 and logs.count("App entered healthy status") == 3,
      "health transitions logged")
gaps = [b[0] - a[0] for a, b in zip(PROBES, PROBES[1:])]
# a fixed-rate ticker: one late probe (a loaded machine) shortens the next gap, the median stays near 1s
check(gaps and sorted(gaps)[len(gaps) // 2] > 0.7, f"probes every --app-health-probe-interval: {gaps}")
sc.cleanup()

# ---- --app-max-concurrency ----
def burst(sc, n=8):
    INFLIGHT["max"] = 0
    res = []

    def one():
        res.append(sc.request("GET", "/v1.0/invoke/mc/method/slow", timeout=20)[0])

    ts = [threading.Thread(target=one) for _ in range(n)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return res, time.time() - t0


sc = Sidecar(BIN, app_id="mc", args=["--app-port", str(app_port), "--app-max-concurrency", "2", "--threads", "2"])
sc.start(wait_path="/v1.0/healthz")
res, took = burst(sc)
check(res == [200] * 8, f"all calls answered: {res}")
check(INFLIGHT["max"] == 2, f"at most 2 calls at the app at a time: {INFLIGHT['max']}")
check(took >= 0.9, f"8 calls of 0.25 s two at a time take >= 1 s: {took:.2f}s")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check(md["appConnectionProperties"].get("maxConcurrency") == 2, f"metadata maxConcurrency: {md}")
sc.cleanup()

sc = Sidecar(BIN, app_id="mc", args=["--app-port", str(app_port), "--threads", "2"])
sc.start(wait_path="/v1.0/healthz")
res, took = burst(sc)
check(res == [200] * 8 and INFLIGHT["max"] > 2, f"without the limit calls overlap more: {INFLIGHT['max']}")
sc.cleanup()
# ---- pub/sub pauses while the app is unhealthy ----
MODE["health"] = "ok"
sc = Sidecar(BIN, app_id="hc", args=["--app-port", str(app_port), "--enable-app-health-check",
                                     "--app-health-probe-interval", "1", "--app-health-threshold", "1"])
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n"
                                 "spec:\n  type: pubsub.in-memory\n  version: v1\n  metadata:\n"
                                 "  - name: backOffMaxRetries\n    value: \"0\"\n")
sc.start()
check(sc.wait_subscribed(1, 5), "subscribed")
sc.request("POST", "/v1.0/publish/pubsub/orders", body="first")
check(wait_for(lambda: any(b"first" in e[1] for e in EVENTS), 5), "delivered while healthy")
MODE["health"] = "fail"
check(wait_for(lambda: not invoke_ok(sc), 5), "the app turned unhealthy")
n = len(EVENTS)
check(sc.request("POST", "/v1.0/publish/pubsub/orders", body="paused")[0] == 204, "publish while unhealthy")
time.sleep(1.0)
check(len(EVENTS) == n, "no delivery while the app is unhealthy")
MODE["health"] = "ok"
check(wait_for(lambda: any(b"paused" in e[1] for e in EVENTS), 5),
      "the paused message is delivered once the app is healthy again")
check("retries exhausted" not in sc.logs(), "the pause spent no retry")
sc.cleanup()
app.shutdown()
app.server_close()
finish()
