"""e2e_pubsub_mqtt.py: pubsub.mqtt3 through the real `wasmgate run` against a
real mosquitto started here (loopback port, temporary config and persistence
directory): publish/subscribe with the CloudEvents envelope, wildcard
subscriptions, retain, a message the runtime gives back is delivered again
(never acknowledged to the broker), cleanSession, and durability with a
persistent session: a message acknowledged to the publisher (204) survives
kill -9 of the subscribing sidecar, both in the app's hands and while it is down.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Mosquitto  # noqa: E402
from pubsubapp import SubscriberApp  # noqa: E402
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
if not Mosquitto.BIN:
    print("mosquitto is not installed (scripts/deps.sh installs it)")
    sys.exit(1)
mq = Mosquitto().start()


def component(port, extra=""):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: mqtt
spec:
  type: pubsub.mqtt3
  version: v1
  metadata:
  - name: url
    value: tcp://127.0.0.1:{port}
  - name: backOffMaxRetries
    value: "0"
{extra}"""


SUBS = [{"pubsubname": "mqtt", "topic": "orders", "route": "/orders"},
        {"pubsubname": "mqtt", "topic": "sensors/+/temp", "route": "/temp"},
        {"pubsubname": "mqtt", "topic": "flaky", "route": "/flaky"},
        {"pubsubname": "mqtt", "topic": "slow", "route": "/slow"}]
app = SubscriberApp(SUBS)


def subscriber(extra=""):
    s = Sidecar(BIN, app_id="msub", args=["--app-port", str(app.port)])
    s.write_resource("mqtt.yaml", component(mq.port, extra))
    return s


sc = subscriber().start()
check(sc.wait_subscribed(4), "subscriptions registered")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check({"name": "mqtt", "type": "pubsub.mqtt3", "version": "v1", "capabilities": ["SUBSCRIBE_WILDCARDS"]}
      in md["components"], f"components {md['components']}")
time.sleep(0.3)  # the SUBSCRIBE reaches the broker
st, _, _ = sc.request("POST", "/v1.0/publish/mqtt/orders", body='{"n":1}', headers={"Content-Type": "application/json"})
check(st == 204, f"publish {st}")
got = app.wait(lambda r: r["path"] == "/orders")
check(got and got[0]["body"]["data"] == {"n": 1} and got[0]["body"]["topic"] == "orders", f"delivered {got}")

# wildcard subscription
sc.request("POST", "/v1.0/publish/mqtt/sensors/kitchen/temp", body="21.5")
got = app.wait(lambda r: r["path"] == "/temp")
check(got and got[0]["body"]["data"] == "21.5" and got[0]["body"]["topic"] == "sensors/kitchen/temp", f"wildcard {got}")

# given back by the runtime (500, no retries left): not acknowledged, the broker delivers it again
app.script("/flaky", [(500, "no"), (200, "")])
sc.request("POST", "/v1.0/publish/mqtt/flaky", body="again")
got = app.count(lambda r: r["path"] == "/flaky", wait=15, n=2)
check(len(got) == 2 and got[0]["body"]["id"] == got[1]["body"]["id"], f"redelivered by the broker: {len(got)}")
time.sleep(1.5)
check(len(app.at("/flaky")) == 2, "no delivery after the ack")

# one consumer connection: MQTT's order is kept
for i in range(30):
    sc.request("POST", "/v1.0/publish/mqtt/orders", body=f"seq-{i}")
seq = [r["body"]["data"] for r in app.count(lambda r: r["path"] == "/orders" and str(r["body"]["data"]).startswith("seq-"),
                                            n=30)]
check(seq == [f"seq-{i}" for i in range(30)], f"order kept: {seq}")

# durability 1: kill -9 while the app holds the message
app.script("/slow", [("hang", "")])
sc.request("POST", "/v1.0/publish/mqtt/slow", body="survive-1")
check(app.wait(lambda r: r["path"] == "/slow"), "first delivery reached the app")
sc.kill()
app.script("/slow", [(200, "")])
sc2 = subscriber().start()
got = app.count(lambda r: r["path"] == "/slow" and r["body"]["data"] == "survive-1", wait=15, n=2)
check(len(got) >= 2, f"redelivered after kill -9 and restart: {len(got)} deliveries")

# durability 2: published (204) while the subscriber's sidecar is down (persistent session)
pub = Sidecar(BIN, app_id="mpub")
pub.write_resource("mqtt.yaml", component(mq.port, "  - name: retain\n    value: \"true\"\n"))
pub.start()
sc2.kill()
app.release()
check(pub.request("POST", "/v1.0/publish/mqtt/orders", body="while-down")[0] == 204, "publish while down")
sc3 = subscriber().start()
check(app.wait(lambda r: r["path"] == "/orders" and r["body"]["data"] == "while-down", timeout=15),
      "delivered after the subscriber came back")
sc3.cleanup()

# retain: a subscriber that connects later gets the last retained message
check(pub.request("POST", "/v1.0/publish/mqtt/ret", body="kept")[0] == 204, "retained publish")
app2 = SubscriberApp([{"pubsubname": "mqtt", "topic": "ret", "route": "/ret"},
                      {"pubsubname": "mqtt", "topic": "ret2", "route": "/ret2"}])
late = Sidecar(BIN, app_id="late", args=["--app-port", str(app2.port)])
late.write_resource("mqtt.yaml", component(mq.port, "  - name: cleanSession\n    value: \"true\"\n"))
late.start()
check(app2.wait(lambda r: r["path"] == "/ret" and r["body"]["data"] == "kept"), "retained message delivered")

# cleanSession true: what was published (not retained) while it was down is gone
late.kill()
pub2 = Sidecar(BIN, app_id="mpub2")
pub2.write_resource("mqtt.yaml", component(mq.port))
pub2.start()
check(pub2.request("POST", "/v1.0/publish/mqtt/ret2", body="lost")[0] == 204, "publish while down")
pub2.cleanup()
app3 = SubscriberApp([{"pubsubname": "mqtt", "topic": "ret2", "route": "/ret2"}])
late2 = Sidecar(BIN, app_id="late", args=["--app-port", str(app3.port)])
late2.write_resource("mqtt.yaml", component(mq.port, "  - name: cleanSession\n    value: \"true\"\n"))
late2.start()
check(late2.wait_subscribed(1), "late2 subscribed")
time.sleep(1)
check(app3.at("/ret2") == [], "clean session: nothing kept while down")
late2.cleanup()
pub.cleanup()

# qos 2 and qos 0 end to end
for qos in (2, 0):
    appq = SubscriberApp([{"pubsubname": "mqtt", "topic": f"q{qos}", "route": "/q"}])
    q = Sidecar(BIN, app_id=f"qos{qos}", args=["--app-port", str(appq.port)])
    q.write_resource("mqtt.yaml", component(mq.port, f"  - name: qos\n    value: \"{qos}\"\n"))
    q.start()
    check(q.wait_subscribed(1), f"qos {qos}: subscribed")
    time.sleep(0.3)
    check(q.request("POST", f"/v1.0/publish/mqtt/q{qos}", body="hi")[0] == 204, f"qos {qos}: publish")
    check(appq.wait(lambda r: r["path"] == "/q" and r["body"]["data"] == "hi"), f"qos {qos}: delivered")
    q.cleanup()
    appq.close()
bad = Sidecar(BIN, app_id="x")
bad.write_resource("mqtt.yaml", component(mq.port, "  - name: qos\n    value: \"3\"\n"))
bad.spawn()
check(bad.wait_exit(10) not in (None, 0) and "invalid qos 3" in bad.logs(), "qos 3 refused")
bad.finish_proc()

# the broker down at start: the component's init fails the start
dead = Sidecar(BIN, app_id="x")
dead.write_resource("mqtt.yaml", component(free_port()))
dead.spawn()
rc = dead.wait_exit(10)
check(rc not in (None, 0), f"start refused while the broker is down (exit {rc})")
check("cannot connect" in dead.logs(), "the log says why")
dead.finish_proc()
for a in (app, app2, app3):
    a.close()
mq.cleanup()
finish()
