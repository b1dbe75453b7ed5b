"""e2e_pubsub_flow.py: delivery flow control through the real `wasmgate run`
(pubsub.in-memory): at most `concurrency` deliveries in flight per
subscription, the broker's order kept with concurrency 1, and a graceful
shutdown (SIGTERM) that does not wait forever for an app that never answers.
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


def component(name, concurrency):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: pubsub.in-memory\n  version: v1\n  metadata:\n  - name: concurrency\n"
            f"    value: \"{concurrency}\"\n")


app = SubscriberApp([{"pubsubname": "two", "topic": "slow", "route": "/slow"},
                     {"pubsubname": "one", "topic": "seq", "route": "/seq"},
                     {"pubsubname": "one", "topic": "hang", "route": "/hang"}])
sc = Sidecar(BIN, app_id="flow", args=["--app-port", str(app.port), "--dapr-graceful-shutdown-seconds", "2"])
sc.write_resource("two.yaml", component("two", 2))
sc.write_resource("one.yaml", component("one", 1))
sc.start()
deadline = time.time() + 10
while time.time() < deadline and len(json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]) < 3:
    time.sleep(0.05)

# concurrency 2: six slow deliveries never overlap more than two at a time
app.script("/slow", [("sleep", "0.3")])
t0 = time.time()
for i in range(6):
    sc.request("POST", "/v1.0/publish/two/slow", body=str(i))
got = app.count(lambda r: r["path"] == "/slow", n=6)
time.sleep(0.4)
check(len(got) == 6, f"all delivered: {len(got)}")
check(app.max_concurrent == 2, f"at most 2 in flight, saw {app.max_concurrent}")
check(time.time() - t0 >= 0.85, f"three rounds of 0.3 s: {time.time() - t0:.2f}s")

# concurrency 1: order kept
for i in range(40):
    sc.request("POST", "/v1.0/publish/one/seq", body=str(i))
got = app.count(lambda r: r["path"] == "/seq", n=40)
order = [int(r["body"]["data"]) for r in got]
check(order == list(range(40)), f"in order: {order}")

# SIGTERM with a delivery the app never answers: the sidecar still stops (bounded by the grace period)
app.script("/hang", [("hang", "")])
sc.request("POST", "/v1.0/publish/one/hang", body="x")
check(app.wait(lambda r: r["path"] == "/hang"), "the hanging delivery reached the app")
t0 = time.time()
rc = sc.stop(timeout=15)
check(rc == 0 and time.time() - t0 < 8, f"stopped with {rc} after {time.time() - t0:.1f}s")
app.release()
app.close()
finish()
