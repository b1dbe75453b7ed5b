"""e2e_grpc_jssdk.py: the official Dapr JS SDK (@dapr/dapr from npm, its
ConnectRPC/Node http2 gRPC transport) against wasmgate's gRPC API with
CommunicationProtocolEnum.GRPC: state (save, get, bulk, transaction, delete),
publish and publishBulk (delivered to the app), output bindings, secrets,
metadata, a missing store's error, and the API token. tests/gate/js/grpc_client.js does the calls;
tests/gate/js/grpc_blocks_client.js the distributed lock, configuration (get, a subscription that sees a
change made in a real Redis, stop) and state query."""
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import Sidecar, check, finish, free_port, require_npm, start_alarm  # noqa: E402

NODE_MODULES = require_npm("@dapr/dapr")

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
start_alarm(180)
events, bound = [], []


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/dapr/subscribe":
            self.reply(200, json.dumps([{"pubsubname": "pubsub", "topic": "orders", "route": "/orders"}]).encode())
        else:
            self.reply(404, b"")

    def do_POST(self):
        b = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/orders":
            events.append(json.loads(b))
            self.reply(200, b'{"status":"SUCCESS"}')
        elif self.path.startswith("/bind"):
            bound.append((self.path, b))
            self.reply(200, b'{"answer":42}')
        else:
            self.reply(404, b"")


app_port = free_port()
httpd = ThreadingHTTPServer(("127.0.0.1", app_port), App)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

sc = Sidecar(BIN, app_id="jsapp", args=["--app-port", str(app_port)])
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n"
                                "  type: state.in-memory\n  version: v1\n  metadata: []\n")
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
                                 "  type: pubsub.in-memory\n  version: v1\n  metadata:\n"
                                 "  - name: backOffDuration\n    value: 200ms\n")
sc.write_resource("bind.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n"
                               f"  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n"
                               f"    value: \"http://127.0.0.1:{app_port}/bind\"\n")
with open(os.path.join(sc.dir, "secrets.json"), "w") as f:
    json.dump({"db": {"user": "admin"}, "token": "t0k"}, f)
sc.write_resource("secrets.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: files\nspec:\n"
                                  "  type: secretstores.local.file\n  version: v1\n  metadata:\n"
                                  f"  - name: secretsFile\n    value: \"{os.path.join(sc.dir, 'secrets.json')}\"\n"
                                  "  - name: nestedSeparator\n    value: \".\"\n")
rd = Redis().start()
rd.cmd("CONFIG", "SET", "notify-keyspace-events", "KA")
rd.cmd("SET", "color", "red||1")
sc.write_resource("lock.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: lockstore\nspec:\n"
                               "  type: lock.in-memory\n  version: v1\n  metadata: []\n")
sc.write_resource("cfg.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: cfg\nspec:\n"
                              "  type: configuration.redis\n  version: v1\n  metadata:\n  - name: redisHost\n"
                              f"    value: 127.0.0.1:{rd.port}\n  - name: redisPassword\n    value: \"\"\n")
sc.start(timeout=20)
for _ in range(100):  # the app's subscription is known
    if json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions"):
        break
    time.sleep(0.1)

env = dict(os.environ, NODE_PATH=NODE_MODULES)
p = subprocess.run(["node", os.path.join(ROOT, "tests", "gate", "js", "grpc_client.js"), str(sc.grpc_port)],
                   capture_output=True, env=env, timeout=120)
check(p.returncode == 0, f"node exited with {p.returncode}: {p.stderr[-2000:]!r}")
lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith("{")]
r = json.loads(lines[-1]) if lines else {}
print(json.dumps(r, indent=1)[:3000])
check(r.get("save") == "ok", f"save: {r.get('save')}")
check(r.get("get") == {"hello": "world"}, f"get: {r.get('get')}")
check(r.get("getText") == "text", f"get text: {r.get('getText')}")
check(r.get("getAbsent") in (None, ""), f"absent key: {r.get('getAbsent')}")
bulk = {i.get("key"): i.get("data") for i in (r.get("bulk") or []) if isinstance(i, dict)}
check(bulk == {"js1": {"hello": "world"}, "js2": "text"}, f"bulk: {r.get('bulk')}")
check(r.get("txn") == "ok" and r.get("afterTxn") in ([{"n": 3}, None], [{"n": 3}, ""]),
      f"transaction: {r.get('txn')} {r.get('afterTxn')}")
check(r.get("delete") in (None, ""), f"delete: {r.get('delete')}")
err = r.get("missingStore")
check(isinstance(err, dict) and "state store nope is not found" in err.get("error", ""), f"missing store: {err}")
check(not (isinstance(r.get("publish"), dict) and r["publish"].get("error")), f"publish: {r.get('publish')}")
check(r.get("binding") == {"data": {"answer": 42}, "statusCode": "200"}, f"binding: {r.get('binding')}")
check(bound and bound[-1][0] == "/bind/js" and json.loads(bound[-1][1]) == {"x": 1}, f"binding target saw {bound}")
check(r.get("secret") == {"db.user": "admin"}, f"secret: {r.get('secret')}")
check(r.get("secretBulk") == {"db.user": {"db.user": "admin"}, "token": {"token": "t0k"}}, f"secrets: {r.get('secretBulk')}")
md = r.get("metadata") or {}
check(md.get("id") == "jsapp" and {"pubsub", "statestore", "web"} <= set(md.get("components", [])), f"metadata: {md}")
pb = r.get("publishBulk")
check(isinstance(pb, dict) and not pb.get("error") and not pb.get("failedMessages"), f"publishBulk: {pb}")
deadline = time.time() + 10
while len(events) < 3 and time.time() < deadline:
    time.sleep(0.05)
ids = sorted(e.get("data", {}).get("id") for e in events if isinstance(e.get("data"), dict))
check(ids == [42, 43, 44] and all(e.get("source") == "jsapp" for e in events), f"delivered: {events}")

# a streaming subscription over the SDK's own gRPC transport (the SDK 3.18 has no helper for it)
p = subprocess.run(["node", os.path.join(ROOT, "tests", "gate", "js", "grpc_stream_client.js"), str(sc.grpc_port)],
                   capture_output=True, env=env, timeout=120)
check(p.returncode == 0, f"node (stream) exited with {p.returncode}: {p.stderr[-2000:]!r}")
lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith("{")]
r = json.loads(lines[-1]) if lines else {}
print(json.dumps(r, indent=1)[:2000])
got = r.get("received") or []
check(r.get("initial") is True and not r.get("error"), f"stream: {r}")
check([e["data"] for e in got] == [{"n": 1}, {"n": 1}, {"n": 2}], f"stream events (n=1 twice after RETRY): {got}")
check(len(got) == 3 and got[0]["id"] == got[1]["id"] != got[2]["id"], f"redelivery keeps the id: {got}")
check(all(e["topic"] == "jsstream" and e["pubsub"] == "pubsub" and e["type"] == "com.dapr.event.sent" for e in got),
      f"envelopes: {got}")
st, _, body = sc.request("GET", "/v1.0/metadata")
check(not any(s["topic"] == "jsstream" for s in json.loads(body)["subscriptions"]), "the stream closed with the call")

# lock, configuration and state query (grpc_blocks_client.js)
sc.request("POST", "/v1.0/state/statestore", [{"key": "q1", "value": {"kind": "a", "n": 2}},
                                              {"key": "q2", "value": {"kind": "b", "n": 1}},
                                              {"key": "q3", "value": {"kind": "a", "n": 1}}])
p = subprocess.Popen(["node", os.path.join(ROOT, "tests", "gate", "js", "grpc_blocks_client.js"), str(sc.grpc_port)],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
lines = []
n = 0
for raw in p.stdout:  # bounded by the alarm; the client gives up on its subscription after 30 s
    ln = raw.decode().strip()
    lines.append(ln)
    if ln == "subscribed":
        break
if lines and lines[-1] == "subscribed":
    # the SDK's stream is open (its first message may still be under way): change the key until the
    # change reaches the client's callback, which makes it print its results and exit
    while p.poll() is None and n < 200:
        n += 1
        rd.cmd("SET", "color", f"green||{n}")
        try:
            p.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
out, errout = p.communicate(timeout=60)
lines += out.decode().splitlines()
check(p.returncode == 0, f"node (blocks) exited with {p.returncode}: {errout[-2000:]!r}")
js = [ln for ln in lines if ln.startswith("{")]
r = json.loads(js[-1]) if js else {}
print(json.dumps(r, indent=1)[:2000])
check(r.get("lock") == {"success": True} and r.get("lockOther") == {"success": False}, f"lock: {r}")
check(r.get("unlockOther") == {"status": 2} and r.get("unlock") == {"status": 0}, f"unlock: {r}")
check("lock store nolock not found" in (r.get("lockMissing") or {}).get("error", ""), f"missing lock store: {r}")
check(r.get("query") == {"keys": ["q3", "q1"], "token": ""}, f"query: {r.get('query')}")
check(r.get("configGet") == {"color": {"value": "red", "version": "1"}}, f"configuration get: {r.get('configGet')}")
check("configuration store nocfg not found" in (r.get("configMissing") or {}).get("error", ""), f"missing cfg: {r}")
check(r.get("subscribe") == {"value": "green"}, f"configuration subscription: {r.get('subscribe')}")
sc.stop()
rd.cleanup()

# DAPR_API_TOKEN: the SDK's daprApiToken goes as dapr-api-token metadata
tok = Sidecar(BIN, app_id="jstok", env={"DAPR_API_TOKEN": "s3cret"})
tok.start(timeout=20, wait_path="/v1.0/healthz")
p = subprocess.run(["node", os.path.join(ROOT, "tests", "gate", "js", "grpc_client.js"), str(tok.grpc_port), "s3cret"],
                   capture_output=True, env=env, timeout=60)
lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith("{")]
check(p.returncode == 0 and lines and json.loads(lines[-1]) == {"tokenGet": "with token"},
      f"with the API token: {p.returncode} {p.stdout[-500:]!r} {p.stderr[-1000:]!r}")
tok.stop()
httpd.shutdown()
finish()
