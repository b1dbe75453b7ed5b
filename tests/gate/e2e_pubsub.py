"""e2e_pubsub.py: pub/sub through the real `wasmgate run` with pubsub.in-memory:
the embedded default `pubsub`, publish errors, the CloudEvents envelope for each
content type, the app's own envelope, rawPayload, cloudevent.* overrides, TTL,
programmatic subscriptions (v1 route, v2 rules with CEL matches), the app's
answers (SUCCESS, RETRY, DROP, 404, 500), retries by backOff* metadata,
dead-letter topics, bulk publish and the metadata API.
"""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pubsubapp import SubscriberApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)

# ---- the embedded default, without an app ----
sc = Sidecar(BIN, app_id="pub").start()
st, _, body = sc.request("GET", "/v1.0/metadata")
comps = {c["name"]: c for c in json.loads(body)["components"]}
check(comps.get("pubsub", {}).get("type") == "pubsub.in-memory", f"default pubsub missing: {comps}")
check(sc.request("POST", "/v1.0/publish/pubsub/orders", body='{"a":1}',
                 headers={"Content-Type": "application/json"})[0] == 204, "publish to the default pubsub")
check_error(sc.request("POST", "/v1.0/publish/nope/orders", body="x"), 404, "ERR_PUBSUB_NOT_FOUND", "pubsub nope is not found")
check_error(sc.request("POST", "/v1.0/publish/pubsub/", body="x"), 404, "ERR_TOPIC_NAME_EMPTY", "topic is empty")
check_error(sc.request("POST", "/v1.0/publish//orders", body="x"), 404, "ERR_PUBSUB_EMPTY", "pubsub name is empty")
check(sc.request("GET", "/v1.0/publish/pubsub/orders")[0] == 405, "GET publish is 405")
check_error(sc.request("POST", "/v1.0/publish/pubsub/orders?metadata.ttlInSeconds=abc", body="x"), 400,
            "ERR_PUBSUB_REQUEST_METADATA", "ttlInSeconds")
check_error(sc.request("POST", "/v1.0/publish/pubsub/orders", body="{not json",
                       headers={"Content-Type": "application/cloudevents+json"}), 500, "ERR_PUBSUB_CLOUD_EVENTS_SER")
check_error(sc.request("POST", "/v1.0-alpha1/publish/bulk/pubsub/orders", body="{}"), 400, "ERR_PUBSUB_EVENTS_SER")
sc.cleanup()

# ---- a subscriber app ----
SUBS = [
    {"pubsubname": "pubsub", "topic": "orders", "route": "/orders"},
    {"pubsubname": "pubsub", "topic": "routed",
     "routes": {"rules": [{"match": 'event.type == "widget"', "path": "/widget"},
                          {"match": 'event.data.kind == "big" && event.data.n > 5 || !(event.data.vip != true)',
                           "path": "/big"}],
                "default": "/routed-default"}},
    {"pubsubname": "pubsub", "topic": "flaky", "route": "/flaky", "deadLetterTopic": "poison"},
    {"pubsubname": "pubsub", "topic": "poison", "route": "/poison"},
    {"pubsubname": "pubsub", "topic": "raw", "route": "/raw", "metadata": {"rawPayload": "true"}},
    {"pubsubname": "pubsub", "topic": "nodlq", "route": "/nodlq"},
    {"pubsubname": "pubsub", "topic": "ttl", "route": "/ttl"},
    {"pubsubname": "pubsub", "topic": "badcel", "routes": {"rules": [{"match": 'size(event.data) > 2', "path": "/x"}]}},
    {"pubsubname": "pubsub", "topic": "onlyrules", "routes": {"rules": [{"match": 'event.data.ok == true', "path": "/ok"}]},
     "deadLetterTopic": "poison"},
]
app = SubscriberApp(SUBS)
sc = Sidecar(BIN, app_id="subapp", args=["--app-port", str(app.port)])
sc.write_resource("pubsub.yaml", """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
  - name: backOffDuration
    value: 200ms
  - name: backOffMaxRetries
    value: "2"
""")
sc.start()
deadline = time.time() + 10
subs = []
while time.time() < deadline:
    subs = json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]
    if len(subs) >= 8:
        break
    time.sleep(0.05)
topics = {s["topic"]: s for s in subs}
check(app.subscribe_calls == 1, f"/dapr/subscribe called {app.subscribe_calls} times")
check(set(topics) == {"orders", "routed", "flaky", "poison", "raw", "nodlq", "ttl", "onlyrules"},
      f"subscriptions in metadata: {sorted(topics)}")
check(topics.get("routed", {}).get("type") == "PROGRAMMATIC", f"type: {topics.get('routed')}")
check(topics.get("routed", {}).get("rules") == [{"match": 'event.type == "widget"', "path": "/widget"},
                                                {"match": 'event.data.kind == "big" && event.data.n > 5 || '
                                                          '!(event.data.vip != true)', "path": "/big"},
                                                {"match": "", "path": "/routed-default"}], f"rules {topics.get('routed')}")
check(topics.get("flaky", {}).get("deadLetterTopic") == "poison", "deadLetterTopic in metadata")
check("unsupported CEL: function or macro 'size()'" in sc.logs(), "the unsupported CEL is named in the log")

# JSON: data parsed, every envelope field
st, _, _ = sc.request("POST", "/v1.0/publish/pubsub/orders", body='{"id":7}',
                      headers={"Content-Type": "application/json",
                               "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                               "tracestate": "k=v"})
check(st == 204, f"publish {st}")
got = app.wait(lambda r: r["path"] == "/orders")
check(len(got) == 1, "delivered to /orders")
if got:
    ev, h = got[0]["body"], got[0]["headers"]
    check(h.get("content-type") == "application/cloudevents+json", f"content-type {h.get('content-type')}")
    check(ev.get("data") == {"id": 7}, f"data {ev.get('data')}")
    for k, v in {"source": "subapp", "type": "com.dapr.event.sent", "specversion": "1.0",
                 "datacontenttype": "application/json", "topic": "orders", "pubsubname": "pubsub",
                 "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                 "traceid": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "k=v"}.items():
        check(ev.get(k) == v, f"{k}: {ev.get(k)!r}, expected {v!r}")
    check(len(ev.get("id", "")) == 36, f"id {ev.get('id')}")
    check(ev.get("time", "").endswith("Z") and "T" in ev.get("time", ""), f"time {ev.get('time')}")
    check(h.get("traceparent") == ev.get("traceparent"), "traceparent header on delivery")

# text/plain default, octet-stream as data_base64, overrides
app.received.clear()
sc.request("POST", "/v1.0/publish/pubsub/orders?metadata.cloudevent.id=my-id&metadata.cloudevent.type=my.type"
           "&metadata.cloudevent.source=elsewhere", body="hello")
sc.request("POST", "/v1.0/publish/pubsub/orders", body=b"\x00\x01\xff",
           headers={"Content-Type": "application/octet-stream"})
got = app.count(lambda r: r["path"] == "/orders", n=2)
check(len(got) == 2, f"two deliveries, got {len(got)}")
by = {("b64" if "data_base64" in g["body"] else "text"): g["body"] for g in got}
t = by.get("text", {})
check(t.get("data") == "hello" and t.get("datacontenttype") == "text/plain", f"text event {t}")
check(t.get("id") == "my-id" and t.get("type") == "my.type" and t.get("source") == "elsewhere", f"overrides {t}")
b = by.get("b64", {})
check(b.get("data_base64") == base64.b64encode(b"\x00\x01\xff").decode() and "data" not in b, f"binary event {b}")

# the app's own envelope: kept, completed
app.received.clear()
own = {"specversion": "1.0", "id": "own-1", "source": "mine", "type": "my.own", "datacontenttype": "application/json",
       "data": {"x": 1}, "extra": "kept"}
sc.request("POST", "/v1.0/publish/pubsub/orders", body=json.dumps(own),
           headers={"Content-Type": "application/cloudevents+json"})
got = app.wait(lambda r: r["path"] == "/orders")
if got:
    ev = got[0]["body"]
    check(all(ev.get(k) == v for k, v in own.items()), f"own envelope changed: {ev}")
    check(ev.get("topic") == "orders" and ev.get("pubsubname") == "pubsub" and ev.get("time") and ev.get("traceparent"),
          f"own envelope not completed: {ev}")

# routing rules
app.received.clear()
sc.request("POST", "/v1.0/publish/pubsub/routed?metadata.cloudevent.type=widget", body='{}',
           headers={"Content-Type": "application/json"})
sc.request("POST", "/v1.0/publish/pubsub/routed", body='{"kind":"big","n":6}', headers={"Content-Type": "application/json"})
sc.request("POST", "/v1.0/publish/pubsub/routed", body='{"kind":"big","n":5}', headers={"Content-Type": "application/json"})
sc.request("POST", "/v1.0/publish/pubsub/routed", body='{"vip":true}', headers={"Content-Type": "application/json"})
got = app.count(lambda r: r["path"] in ("/widget", "/big", "/routed-default"), n=4)
paths = sorted(r["path"] for r in got)
check(paths == ["/big", "/big", "/routed-default", "/widget"], f"routes {paths}")

# raw payload published and subscribed raw
app.received.clear()
sc.request("POST", "/v1.0/publish/pubsub/raw?metadata.rawPayload=true", body="plain bytes")
got = app.wait(lambda r: r["path"] == "/raw")
if got:
    ev = got[0]["body"]
    check(base64.b64decode(ev.get("data_base64", "")) == b"plain bytes", f"raw event {ev}")
    check(ev.get("datacontenttype") == "application/octet-stream" and ev.get("topic") == "raw", f"raw event {ev}")

# RETRY then SUCCESS: delivered twice, about backOffDuration apart
app.received.clear()
app.script("/orders", [(200, '{"status":"RETRY"}'), (200, '{"status":"SUCCESS"}')])
sc.request("POST", "/v1.0/publish/pubsub/orders", body="again")
got = app.count(lambda r: r["path"] == "/orders", n=2)
check(len(got) == 2, f"RETRY redelivers: {len(got)}")
if len(got) == 2:
    gap = got[1]["t"] - got[0]["t"]
    check(0.15 <= gap < 2, f"retry gap {gap:.3f}s, backOffDuration 200ms")
    check(got[0]["body"]["id"] == got[1]["body"]["id"], "same event redelivered")
time.sleep(0.5)
check(len(app.at("/orders")) == 2, "no delivery after SUCCESS")

# DROP -> dead-letter topic; 404 -> dead-letter; 500 -> retried, then dead-letter after the retries
for reply, n_expected in (((200, '{"status":"DROP"}'),), 1), (((404, "nope"),), 1), (((500, "err"),), 3):
    app.received.clear()
    app.script("/flaky", list(reply))
    sc.request("POST", "/v1.0/publish/pubsub/flaky", body="payload-x")
    dl = app.wait(lambda r: r["path"] == "/poison", timeout=10)
    check(len(dl) == 1, f"{reply}: dead-lettered once, got {len(dl)}")
    flaky = app.at("/flaky")
    check(len(flaky) == n_expected, f"{reply}: {len(flaky)} deliveries to /flaky, expected {n_expected}")
    if dl and flaky:
        check(dl[0]["body"].get("data") == "payload-x" and dl[0]["body"]["id"] == flaky[0]["body"]["id"],
              f"the original event on the dead-letter topic: {dl[0]['body']}")

# no route matches: dead-letter topic
app.received.clear()
sc.request("POST", "/v1.0/publish/pubsub/onlyrules", body='{"ok":false}', headers={"Content-Type": "application/json"})
sc.request("POST", "/v1.0/publish/pubsub/onlyrules", body='{"ok":true}', headers={"Content-Type": "application/json"})
check(len(app.count(lambda r: r["path"] == "/ok")) == 1, "matched rule delivered")
dl = app.wait(lambda r: r["path"] == "/poison")
check(len(dl) == 1 and dl[0]["body"]["data"] == {"ok": False}, f"unrouted event dead-lettered: {dl}")

# retries exhausted, no dead-letter topic: 1 + backOffMaxRetries attempts, then given back (in-memory: lost)
app.received.clear()
app.script("/nodlq", [(503, "busy")])
sc.request("POST", "/v1.0/publish/pubsub/nodlq", body="x")
time.sleep(1.2)
check(len(app.at("/nodlq")) == 3, f"3 attempts, got {len(app.at('/nodlq'))}")

# TTL: ttlInSeconds sets `expiration`; an expired event is dropped, never delivered
app.received.clear()
sc.request("POST", "/v1.0/publish/pubsub/ttl?metadata.ttlInSeconds=60", body="fresh")
got = app.wait(lambda r: r["path"] == "/ttl")
if got:
    exp = got[0]["body"].get("expiration", "")
    t = time.mktime(time.strptime(exp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone if exp else 0
    check(55 <= t - time.time() <= 65, f"expiration {exp!r} is not now + 60s")
app.received.clear()
stale = {"specversion": "1.0", "id": "old", "source": "s", "type": "t", "data": "stale", "expiration": "2000-01-01T00:00:00Z"}
sc.request("POST", "/v1.0/publish/pubsub/ttl", body=json.dumps(stale), headers={"Content-Type": "application/cloudevents+json"})
sc.request("POST", "/v1.0/publish/pubsub/ttl", body="after")
got = app.wait(lambda r: r["path"] == "/ttl" and r["body"].get("data") == "after")
check(got and all(r["body"].get("id") != "old" for r in app.at("/ttl")), "an expired event is not delivered")
check("dropping expired pub/sub event old" in sc.logs(), "expired event logged")

# bulk publish
app.received.clear()
app.script("/orders", [(200, "")])
entries = [{"entryId": "1", "event": {"n": 1}, "contentType": "application/json"},
           {"entryId": "2", "event": "two", "contentType": "text/plain"},
           {"entryId": "3", "event": {"specversion": "1.0", "id": "b3", "source": "s", "type": "t", "data": 3},
            "contentType": "application/cloudevents+json", "metadata": {"cloudevent.type": "bulk.t"}}]
st, _, body = sc.request("POST", "/v1.0-alpha1/publish/bulk/pubsub/orders", body=json.dumps(entries))
check(st == 204, f"bulk publish {st} {body}")
got = app.count(lambda r: r["path"] == "/orders", n=3)
datas = sorted(json.dumps(g["body"].get("data")) for g in got)
check(datas == sorted(['{"n": 1}', '"two"', "3"]), f"bulk data {datas}")
check(any(g["body"].get("type") == "bulk.t" for g in got), "per-entry metadata applied")
check(sc.request("POST", "/v1.0/publish/bulk/pubsub/orders", body="[]")[0] == 204, "bulk under /v1.0/")
check_error(sc.request("POST", "/v1.0-alpha1/publish/bulk/pubsub/orders",
                       body='[{"entryId":"1","event":1},{"entryId":"1","event":2}]'), 400, "ERR_PUBSUB_EVENTS_SER",
            "entryId")

sc.cleanup()
app.close()

# no /dapr/subscribe (404): no subscriptions, the sidecar runs
app2 = SubscriberApp(None)
sc2 = Sidecar(BIN, app_id="nosubs", args=["--app-port", str(app2.port)]).start()
time.sleep(0.3)
check(json.loads(sc2.request("GET", "/v1.0/metadata")[2])["subscriptions"] == [], "no subscriptions")
check(sc2.request("POST", "/v1.0/publish/pubsub/orders", body="x")[0] == 204, "publish without subscribers")
sc2.cleanup()
app2.close()

# a resources folder without any pub/sub component: 400 ERR_PUBSUB_NOT_CONFIGURED
sc3 = Sidecar(BIN, app_id="nopubsub")
sc3.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: s\nspec:\n"
                                 "  type: state.in-memory\n  version: v1\n  metadata: []\n")
sc3.start()
check_error(sc3.request("POST", "/v1.0/publish/pubsub/orders", body="x"), 400, "ERR_PUBSUB_NOT_CONFIGURED",
            "pubsub pubsub is not configured")  # daprd 1.16 pkg/api/errors/pubsub.go NotConfigured
sc3.cleanup()
# a Resiliency resource's inbound policy for the pubsub overrides backOff*:
# maxRetries 1 -> 2 attempts (the metadata says 1 + 4), 100 ms apart
app4 = SubscriberApp([{"pubsubname": "pubsub", "topic": "res", "route": "/res"}])
sc4 = Sidecar(BIN, app_id="resapp", args=["--app-port", str(app4.port)])
sc4.write_resource("pubsub.yaml", """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
  - name: backOffDuration
    value: 50ms
  - name: backOffMaxRetries
    value: "4"
""")
sc4.write_resource("resiliency.yaml", """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    retries:
      once:
        policy: constant
        duration: 100ms
        maxRetries: 1
  targets:
    components:
      pubsub:
        inbound:
          retry: once
""")
sc4.start()
check(sc4.wait_subscribed(), "subscribed")
app4.script("/res", [(503, "busy")])
check(sc4.request("POST", "/v1.0/publish/pubsub/res", body="x")[0] == 204, "publish for the resiliency case")
time.sleep(1.0)
tries = app4.at("/res")
check(len(tries) == 2, f"Resiliency maxRetries 1: 2 attempts, got {len(tries)}")
check("pubsub pubsub: inbound resiliency (retry once" in sc4.logs(), "the inbound policy is logged")
sc4.cleanup()
app4.close()

# an inbound circuit breaker: two failures open it for 1 s; the delivery waits
# (no attempt while open, retries not spent), then the half-open attempt succeeds
app5 = SubscriberApp([{"pubsubname": "pubsub", "topic": "cb", "route": "/cb"}])
sc5 = Sidecar(BIN, app_id="cbapp", args=["--app-port", str(app5.port)])
sc5.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n"
                                  "spec:\n  type: pubsub.in-memory\n  version: v1\n  metadata: []\n")
sc5.write_resource("resiliency.yaml", """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    retries:
      fast:
        policy: constant
        duration: 50ms
        maxRetries: 5
    circuitBreakers:
      pscb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures >= 2
  targets:
    components:
      pubsub:
        inbound:
          retry: fast
          circuitBreaker: pscb
""")
sc5.start()
check(sc5.wait_subscribed(), "subscribed")
app5.script("/cb", [(503, "busy"), (503, "busy")])
check(sc5.request("POST", "/v1.0/publish/pubsub/cb", body="x")[0] == 204, "publish for the breaker case")
got = app5.count(lambda r: r["path"] == "/cb", wait=5, n=3)
ts = [r["t"] for r in got]
check(len(got) == 3, f"3 attempts (2 failures, then the half-open one): {len(got)}")
if len(ts) == 3:
    check(ts[1] - ts[0] < 0.5, f"the first retry follows the retry policy: {ts[1] - ts[0]:.2f}s")
    check(ts[2] - ts[1] >= 0.8, f"no attempt while the breaker is open: {ts[2] - ts[1]:.2f}s")
time.sleep(0.3)
check(len(app5.at("/cb")) == 3, f"acknowledged after the half-open attempt: {len(app5.at('/cb'))}")
check("circuit breaker pscb" in sc5.logs(), "the breaker is logged")
sc5.cleanup()
app5.close()
finish()
