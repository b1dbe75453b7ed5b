"""e2e_pubsub_bulk.py: bulk subscribe through the real `wasmgate run`
(pubsub.in-memory): batches of at most maxMessagesCount, a partial batch after
maxAwaitDurationMs, Dapr's bulk envelope, per-entry statuses (SUCCESS, DROP,
missing = RETRY), retries of the retried entries only, and the dead-letter topic
for dropped and exhausted entries.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pubsubapp import SubscriberApp  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)

app = SubscriberApp([
    {"pubsubname": "pubsub", "topic": "bulk", "route": "/bulk", "deadLetterTopic": "bdead",
     "bulkSubscribe": {"enabled": True, "maxMessagesCount": 3, "maxAwaitDurationMs": 300}},
    {"pubsubname": "pubsub", "topic": "bdead", "route": "/bdead"}])


def answer(body):
    statuses = []
    for e in body["entries"]:
        d = e["event"]["data"]
        if d.startswith("ok"):
            statuses.append({"entryId": e["entryId"], "status": "SUCCESS"})
        elif d.startswith("drop"):
            statuses.append({"entryId": e["entryId"], "status": "DROP"})
        # "retry-*": left out, which means RETRY
    return 200, json.dumps({"statuses": statuses})


app.handlers["/bulk"] = answer
sc = Sidecar(BIN, app_id="bulkapp", args=["--app-port", str(app.port)])
sc.write_resource("pubsub.yaml", """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
  - name: backOffDuration
    value: 100ms
  - name: backOffMaxRetries
    value: "1"
""")
sc.start()
check(sc.wait_subscribed(2), "subscribed")

# 6 messages at once: two full batches of 3
entries = [{"entryId": str(i), "event": f"ok-{i}", "contentType": "text/plain"} for i in range(6)]
check(sc.request("POST", "/v1.0-alpha1/publish/bulk/pubsub/bulk", body=json.dumps(entries))[0] == 204, "bulk publish")
got = app.count(lambda r: r["path"] == "/bulk", n=2)
sizes = sorted(len(r["body"]["entries"]) for r in got)
check(sizes == [3, 3], f"batch sizes {sizes}")
if got:
    b = got[0]["body"]
    check(b.get("type") == "com.dapr.event.sent.bulk" and b.get("topic") == "bulk" and b.get("pubsubname") == "pubsub"
          and len(b.get("id", "")) == 36, f"bulk envelope {b}")
    e = b["entries"][0]
    check(e.get("contentType") == "application/cloudevents+json" and e["event"].get("type") == "com.dapr.event.sent"
          and len(e.get("entryId", "")) == 36, f"bulk entry {e}")
check(got and got[0]["headers"].get("content-type") == "application/json", "bulk request content type")

# one message alone: sent after maxAwaitDurationMs
app.received.clear()
t0 = time.time()
sc.request("POST", "/v1.0/publish/pubsub/bulk", body="ok-alone")
got = app.wait(lambda r: r["path"] == "/bulk")
check(got and len(got[0]["body"]["entries"]) == 1, "a partial batch")
if got:
    check(0.25 <= got[0]["t"] - t0 < 2, f"sent after maxAwaitDurationMs: {got[0]['t'] - t0:.2f}s")

# per-entry statuses
app.received.clear()
entries = [{"entryId": "a", "event": "ok-a", "contentType": "text/plain"},
           {"entryId": "b", "event": "drop-b", "contentType": "text/plain"},
           {"entryId": "c", "event": "retry-c", "contentType": "text/plain"}]
sc.request("POST", "/v1.0-alpha1/publish/bulk/pubsub/bulk", body=json.dumps(entries))
dead = app.count(lambda r: r["path"] == "/bdead", n=2)
datas = sorted(r["body"]["data"] for r in dead)
check(datas == ["drop-b", "retry-c"], f"dead-lettered {datas}")
time.sleep(0.3)
calls = [[e["event"]["data"] for e in r["body"]["entries"]] for r in app.at("/bulk")]
check(calls == [["ok-a", "drop-b", "retry-c"], ["retry-c"]], f"bulk calls {calls}")
sc.cleanup()
app.close()
finish()
