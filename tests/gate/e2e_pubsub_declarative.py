"""e2e_pubsub_declarative.py: declarative `Subscription` resources through the
real `wasmgate run`: dapr.io/v2alpha1 (routes with CEL rules, default,
deadLetterTopic), dapr.io/v1alpha1 (route), scopes, both kinds beside the
app's programmatic ones in /v1.0/metadata, a declarative subscription taking
precedence over a programmatic one for the same topic, and start errors with
file:line for a malformed one.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pubsubapp import SubscriberApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)

SUBS_YAML = """apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: orders-sub
spec:
  topic: orders
  pubsubname: pubsub
  routes:
    rules:
    - match: event.data.priority >= 5
      path: /urgent
    default: /orders
  deadLetterTopic: dead
scopes:
- declapp
---
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: legacy
spec:
  topic: legacy
  route: /legacy
  pubsubname: pubsub
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: not-mine
spec:
  topic: other
  routes:
    default: /other
  pubsubname: pubsub
scopes: [someone-else]
"""

app = SubscriberApp([{"pubsubname": "pubsub", "topic": "orders", "route": "/programmatic-orders"},
                     {"pubsubname": "pubsub", "topic": "dead", "route": "/dead"}])
sc = Sidecar(BIN, app_id="declapp", args=["--app-port", str(app.port)])
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n"
                                 "spec:\n  type: pubsub.in-memory\n  version: v1\n  metadata: []\n")
sc.write_resource("subs.yaml", SUBS_YAML)
sc.start()
subs = []
deadline = time.time() + 10
while time.time() < deadline and len(subs) < 3:
    subs = json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]
    time.sleep(0.05)
by = {s["topic"]: s for s in subs}
check(set(by) == {"orders", "legacy", "dead"}, f"subscriptions {sorted(by)} (scopes, precedence)")
check(by.get("orders", {}).get("type") == "DECLARATIVE" and by["orders"].get("deadLetterTopic") == "dead",
      f"orders {by.get('orders')}")
check(by.get("orders", {}).get("rules") == [{"match": "event.data.priority >= 5", "path": "/urgent"},
                                            {"match": "", "path": "/orders"}], f"rules {by.get('orders')}")
check(by.get("legacy", {}).get("type") == "DECLARATIVE" and by.get("dead", {}).get("type") == "PROGRAMMATIC",
      f"types {subs}")
check("already subscribed" in sc.logs(), "the programmatic duplicate is reported")

hdr = {"Content-Type": "application/json"}
sc.request("POST", "/v1.0/publish/pubsub/orders", body='{"priority":7}', headers=hdr)
sc.request("POST", "/v1.0/publish/pubsub/orders", body='{"priority":1}', headers=hdr)
sc.request("POST", "/v1.0/publish/pubsub/legacy", body="old")
check(len(app.count(lambda r: r["path"] == "/urgent")) == 1, "rule route")
check(len(app.count(lambda r: r["path"] == "/orders")) == 1, "default route")
check(len(app.count(lambda r: r["path"] == "/legacy")) == 1, "v1alpha1 route")
check(app.at("/programmatic-orders") == [], "declarative wins over programmatic")
app.script("/orders", [(200, '{"status":"DROP"}')])
sc.request("POST", "/v1.0/publish/pubsub/orders", body='{"priority":2}', headers=hdr)
check(app.wait(lambda r: r["path"] == "/dead" and r["body"]["data"] == {"priority": 2}), "dead-letter topic")
sc.cleanup()

# topic scopes: 403 ERR_PUBSUB_FORBIDDEN on publish, subscriptions outside the scope skipped
app4 = SubscriberApp([{"pubsubname": "pubsub", "topic": "a", "route": "/a"},
                      {"pubsubname": "pubsub", "topic": "b", "route": "/b"}])
s = Sidecar(BIN, app_id="scoped", args=["--app-port", str(app4.port)])
s.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n"
                                "spec:\n  type: pubsub.in-memory\n  version: v1\n  metadata:\n"
                                "  - name: publishingScopes\n    value: scoped=a\n"
                                "  - name: subscriptionScopes\n    value: scoped=a\n")
s.start()
check(s.wait_subscribed(), "subscribed")  # topic a: b, outside subscriptionScopes, is never registered
check_error(s.request("POST", "/v1.0/publish/pubsub/b", body="x"), 403, "ERR_PUBSUB_FORBIDDEN",
            "topic b is not allowed for app id scoped")
check(s.request("POST", "/v1.0/publish/pubsub/a", body="x")[0] == 204, "publish within the scope")
check(app4.wait(lambda r: r["path"] == "/a"), "scoped subscription delivered")
subs = json.loads(s.request("GET", "/v1.0/metadata")[2])["subscriptions"]
check([x["topic"] for x in subs] == ["a"], f"subscription outside subscriptionScopes skipped: {subs}")
s.cleanup()
app4.close()

# malformed declarative subscriptions stop the start with file:line
for bad, why in (("  topic: t\n  pubsubname: pubsub\n  routes:\n    rules:\n    - match: event.data.x in [1]\n"
                  "      path: /x\n", "unsupported CEL: operator 'in'"),
                 ("  pubsubname: pubsub\n  route: /x\n", "topic is required"),
                 ("  topic: t\n  pubsubname: pubsub\n", "no route")):
    s = Sidecar(BIN, app_id="bad", args=["--app-port", str(app.port)])
    s.write_resource("subs.yaml", "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: broken\n"
                                  "spec:\n" + bad)
    s.spawn()
    rc = s.wait_exit(10)
    check(rc not in (None, 0), f"start refused for {why} (exit {rc})")
    check("subs.yaml:6" in s.logs() and why in s.logs(), f"error names file:line and {why!r}: {s.logs()[-400:]}")
    s.kill()
    s.cleanup()
app.close()
finish()
