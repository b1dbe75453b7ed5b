"""e2e_grpc_jssdk_app.py: the official Dapr JS SDK (@dapr/dapr from npm) as a
gRPC app (DaprServer, CommunicationProtocolEnum.GRPC) behind `wasmgate run
--app-protocol grpc`: invocation from HTTP callers and from the SDK's own
gRPC client (InvokeService), the SDK's subscriptions (ListTopicSubscriptions)
with SUCCESS, RETRY (redelivered) and DROP (to the dead-letter topic), an
input binding (ListInputBindings + OnBindingEvent), and app health checks
answered by the SDK's AppCallbackHealthCheck (calls are refused until the
first probe passes). tests/gate/js/grpc_server.js is the app."""
import json
import os
import queue
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, require_npm, start_alarm  # noqa: E402

NODE_MODULES = require_npm("@dapr/dapr")

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
start_alarm(180)
T = 30

app_port = free_port()
sc = Sidecar(BIN, app_id="jsgapp",
             args=["--app-port", str(app_port), "--app-protocol", "grpc", "--enable-app-health-check",
                   "--app-health-probe-interval", "1", "--app-health-threshold", "1",
                   "--app-health-probe-timeout", "5000"])
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
                                 "  type: pubsub.in-memory\n  version: v1\n  metadata:\n"
                                 "  - name: backOffDuration\n    value: 100ms\n")
sc.write_resource("tick.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: tick\nspec:\n"
                               "  type: bindings.cron\n  version: v1\n  metadata:\n  - name: schedule\n"
                               "    value: \"@every 1s\"\n")
sc.start(timeout=T)

env = dict(os.environ, NODE_PATH=NODE_MODULES)
node = subprocess.Popen(["node", os.path.join(ROOT, "tests", "gate", "js", "grpc_server.js"), str(app_port),
                         str(sc.grpc_port), "jsgapp"], env=env, stdout=subprocess.PIPE, text=True)
lines = queue.Queue()
seen = []


def reader():
    for line in node.stdout:
        try:
            lines.put(json.loads(line))
        except ValueError:
            pass


threading.Thread(target=reader, daemon=True).start()


def wait_event(pred, what, timeout=T):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in seen:
            if pred(e):
                return e
        try:
            e = lines.get(timeout=0.2)
            seen.append(e)
            check(e.get("ev") != "error", f"the JS app failed: {e}")
        except queue.Empty:
            pass
    check(False, f"timed out waiting for {what}; saw {seen[-5:]}")
    return None


try:
    wait_event(lambda e: e["ev"] == "started", "the SDK's server to start")
    # the SDK's health check passes: calls are allowed (until then "app is not in a healthy state")
    deadline = time.time() + T
    while time.time() < deadline:
        st, hd, body = sc.request("POST", "/v1.0/invoke/jsgapp/method/hello?x=1", body=b'{"a":1}',
                                  headers={"Content-Type": "application/json"}, timeout=T)
        if st == 200:
            break
        time.sleep(0.1)
    check(st == 200, f"HTTP caller: {st} {body!r}")
    check(json.loads(body) == {"echo": '{"a":1}', "query": "x=1"}, f"HTTP caller answer {body!r}")
    check(hd.get("content-type") == "application/json", f"content type {hd}")
    ev = wait_event(lambda e: e["ev"] == "invoke" and e.get("query") == "x=1", "the POST handler")
    check(ev and ev["ct"] == "application/json", f"content type at the app: {ev}")
    st, _, body = sc.request("GET", "/v1.0/invoke/jsgapp/method/hello?y=2", timeout=T)
    check(st == 200 and json.loads(body) == {"verb": "get", "query": "y=2"}, f"GET handler: {st} {body!r}")
    st, _, body = sc.request("DELETE", "/v1.0/invoke/jsgapp/method/hello", timeout=T)
    check(st == 200 and body == b"", f"an unhandled verb: the SDK answers an empty InvokeResponse: {st} {body!r}")

    ev = wait_event(lambda e: e["ev"] == "selfinvoke", "the SDK's gRPC InvokeService")
    check(ev and ev["result"] == {"echo": '{"from":"grpc"}', "query": ""}, f"gRPC caller: {ev}")
    # a handler that throws: the SDK's gRPC server (ConnectRPC) answers INTERNAL "internal error", which the
    # sidecar passes to the SDK's gRPC client unchanged (it used to become 500 and then UNKNOWN "Internal Server
    # Error", as for an HTTP app)
    ev = wait_event(lambda e: e["ev"] == "selfinvoke_error", "the SDK's InvokeService of a failing handler")
    check(ev and ev.get("code") == 13 and "internal error" in ev.get("error", ""), f"the app's error to the SDK: {ev}")
    st, _, body = sc.request("POST", "/v1.0/invoke/jsgapp/method/broken", body=b"{}",
                             headers={"Content-Type": "application/json"}, timeout=T)
    check(st == 500 and json.loads(body) == {"code": 13, "message": "internal error"},
          f"the app's error to an HTTP caller as protojson: {st} {body!r}")

    for _ in range(200):  # the SDK's subscriptions are known
        subs = json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions") or []
        if len(subs) >= 4:
            break
        time.sleep(0.05)
    check(len(subs) == 4, f"subscriptions from the SDK: {subs}")
    js = {"Content-Type": "application/json"}
    sc.request("POST", "/v1.0/publish/pubsub/orders", body={"id": "o1"}, headers=js)
    wait_event(lambda e: e["ev"] == "topic" and e["topic"] == "orders" and e["data"] == {"id": "o1"}, "orders")
    sc.request("POST", "/v1.0/publish/pubsub/flaky", body={"id": "f1"}, headers=js)
    wait_event(lambda e: e["ev"] == "topic" and e["topic"] == "flaky" and e["n"] == 3, "the third try (RETRY twice)")
    sc.request("POST", "/v1.0/publish/pubsub/drop", body={"id": "d1"}, headers=js)
    wait_event(lambda e: e["ev"] == "topic" and e["topic"] == "dead" and e["data"] == {"id": "d1"},
               "the dropped event on the dead-letter topic")
    check(sum(1 for e in seen if e["ev"] == "topic" and e["topic"] == "drop") == 1, "DROP is not retried")

    wait_event(lambda e: e["ev"] == "binding" and e["name"] == "tick", "the cron binding event")
finally:
    node.terminate()
    try:
        node.wait(timeout=10)
    except subprocess.TimeoutExpired:
        node.kill()
    sc.stop()
finish()
