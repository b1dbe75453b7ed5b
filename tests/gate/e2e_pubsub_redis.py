"""e2e_pubsub_redis.py: pubsub.redis (Redis Streams) through the real
`wasmgate run` against a real redis-server started here: publish is XADD with
{data}, the consumer group named by consumerID, XACK after the app's SUCCESS,
redelivery of unacknowledged messages (XAUTOCLAIM after processingTimeout),
maxLenApprox, a Redis that is down at start, and durability: a message
acknowledged to the publisher (204) survives kill -9 of the subscribing sidecar,
both while it is in the app's hands and while the sidecar is down.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from pubsubapp import SubscriberApp  # noqa: E402
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
if not Redis.BIN:
    print("redis-server is not installed (scripts/deps.sh installs it)")
    sys.exit(1)
rd = Redis().start()


def component(port, extra=""):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: bus
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: 127.0.0.1:{port}
  - name: consumerID
    value: grp-{{appID}}
  - name: redeliverInterval
    value: 300ms
  - name: processingTimeout
    value: 1s
  - name: backOffMaxRetries
    value: "0"
  - name: concurrency
    value: "1"
{extra}"""


SUBS = [{"pubsubname": "bus", "topic": "orders", "route": "/orders"},
        {"pubsubname": "bus", "topic": "flaky", "route": "/flaky"},
        {"pubsubname": "bus", "topic": "slow", "route": "/slow"}]
app = SubscriberApp(SUBS)


def sidecar():
    s = Sidecar(BIN, app_id="rsub", args=["--app-port", str(app.port)])
    s.write_resource("bus.yaml", component(rd.port, "  - name: maxLenApprox\n    value: \"10\"\n"))
    return s


sc = sidecar().start()
check(sc.wait_subscribed(3), "subscriptions registered")
st, _, _ = sc.request("POST", "/v1.0/publish/bus/orders", body='{"n":1}', headers={"Content-Type": "application/json"})
check(st == 204, f"publish {st}")
got = app.wait(lambda r: r["path"] == "/orders")
check(got and got[0]["body"]["data"] == {"n": 1} and got[0]["body"]["pubsubname"] == "bus", f"delivered {got}")
# the stream entry holds the envelope under `data`; the group is grp-rsub; acked after SUCCESS
entries = rd.cmd("XRANGE", "orders", "-", "+")
check(len(entries) == 1 and entries[0][1][0] == "data" and json.loads(entries[0][1][1])["data"] == {"n": 1},
      f"stream entry {entries}")
groups = rd.cmd("XINFO", "GROUPS", "orders")
check(groups and groups[0][1] == "grp-rsub", f"consumer group {groups}")
deadline = time.time() + 3
while time.time() < deadline and rd.cmd("XPENDING", "orders", "grp-rsub")[0] != 0:
    time.sleep(0.05)
check(rd.cmd("XPENDING", "orders", "grp-rsub")[0] == 0, "acked (XACK) after SUCCESS")

# not acknowledged (500, no retries left) -> stays pending -> claimed again after processingTimeout
app.script("/flaky", [(500, "no"), (500, "no"), (200, "")])
sc.request("POST", "/v1.0/publish/bus/flaky", body="again")
got = app.count(lambda r: r["path"] == "/flaky", wait=10, n=3)
check(len(got) == 3, f"redelivered until acknowledged: {len(got)} deliveries")
if len(got) == 3:
    check(got[1]["t"] - got[0]["t"] >= 0.9, f"redelivery waited processingTimeout: {got[1]['t'] - got[0]['t']:.2f}s")
    check(len({g['body']['id'] for g in got}) == 1, "the same event each time")
time.sleep(1.5)
check(len(app.at("/flaky")) == 3, "no delivery after the ack")

# maxLenApprox trims the stream (approximately: whole macro nodes)
for i in range(250):
    sc.request("POST", "/v1.0/publish/bus/capped", body=str(i))
xlen = rd.cmd("XLEN", "capped")
check(xlen < 250, f"maxLenApprox 10: XLEN {xlen} after 250 publishes")

# ---- durability: kill -9 while the app holds the message ----
app.script("/slow", [("hang", "")])
sc.request("POST", "/v1.0/publish/bus/slow", body="survive-1")
check(app.wait(lambda r: r["path"] == "/slow"), "first delivery reached the app")
sc.kill()
app.script("/slow", [(200, "")])
sc2 = sidecar().start()
got = app.count(lambda r: r["path"] == "/slow" and r["body"]["data"] == "survive-1", wait=10, n=2)
check(len(got) >= 2, f"redelivered after kill -9 and restart: {len(got)} deliveries")

# ---- durability: published (204) while the subscriber's sidecar is down ----
pub = Sidecar(BIN, app_id="rpub")
pub.write_resource("bus.yaml", component(rd.port))
pub.start()
sc2.kill()
app.release()
st, _, _ = pub.request("POST", "/v1.0/publish/bus/orders", body="while-down")
check(st == 204, f"publish while the subscriber is down: {st}")
for i in range(30):  # before the first subscription to "seq": a new group starts at 0
    pub.request("POST", "/v1.0/publish/bus/seq", body=str(i))
app.subscriptions.append({"pubsubname": "bus", "topic": "seq", "route": "/seq"})  # read at the next start
sc3 = sidecar().start()
check(app.wait(lambda r: r["path"] == "/orders" and r["body"]["data"] == "while-down"),
      "delivered after the subscriber came back")
seq = [int(r["body"]["data"]) for r in app.count(lambda r: r["path"] == "/seq", n=30)]
check(seq == list(range(30)), f"everything from the stream's start, in order (concurrency 1): {seq}")
check(app.wait(lambda r: r["path"] == "/orders" and r["body"]["source"] == "rpub"), "source is the publisher's app ID")
sc3.cleanup()
pub.cleanup()

# Redis down at start: the component's init fails the start, as in Dapr
dead = Sidecar(BIN, app_id="x")
dead.write_resource("bus.yaml", component(free_port()))
dead.spawn()
rc = dead.wait_exit(10)
check(rc not in (None, 0), f"start refused while Redis is down (exit {rc})")
check("cannot connect" in dead.logs(), "the log says why")
dead.finish_proc()
app.close()
rd.cleanup()
finish()
