"""app_channel_pipeline_e2e.py: every call the sidecar makes to its app goes
through the app channel, so the Configuration's appHttpPipeline sees all of
them, as in daprd: service invocation (plain and under a Resiliency policy),
the /dapr/subscribe probe and pub/sub deliveries, input-binding probes and
deliveries. A WAT guest tags each request with `x-piped: yes`; the app
records what it receives. --app-max-concurrency 1 is on, so these calls also
share the app channel's slot without deadlocking.
usage: app_channel_pipeline_e2e.py WASMGATE GUEST_DIR
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshapp import MeshApp  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)

app = MeshApp("tagged")
sc = Sidecar(BIN, app_id="tagged", args=["--app-port", str(app.port), "--app-max-concurrency", "1"])
sc.write_resource("tag.yaml", f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: tag
spec:
  type: middleware.http.wasm
  version: v1
  metadata:
  - name: url
    value: "file://{os.path.join(GUESTS, 'hw_tag.wasm')}"
""")
sc.write_resource("cron.yaml", """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: tick
spec:
  type: bindings.cron
  version: v1
  metadata:
  - name: schedule
    value: "@every 1s"
""")
sc.write_resource("subscription.yaml", """apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: orders
spec:
  pubsubname: pubsub
  topic: orders
  routes:
    default: /orders
""")
sc.write_resource("pubsub.yaml", """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata: []
""")
sc.write_resource("resiliency.yaml", """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    retries:
      twice:
        policy: constant
        duration: 50ms
        maxRetries: 2
  targets:
    apps:
      tagged:
        retry: twice
""")
cfg = os.path.join(sc.dir, "config.yaml")
with open(cfg, "w") as f:
    f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
            "  appHttpPipeline:\n    handlers:\n    - name: tag\n      type: middleware.http.wasm\n")
sc.args += ["--config", cfg]
sc.start()


def seen(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with app.lock:
            got = [s for s in app.seen if pred(s)]
        if got:
            return got
        time.sleep(0.05)
    return []


# invocation under the Resiliency policy (retries of a flaky method) goes through the pipeline
st, _, body = sc.request("POST", "/v1.0/invoke/tagged/method/flaky/1/k", body="x")
check(st == 200, f"resilient invocation: {st} {body!r}")
flaky = seen(lambda s: s["path"].startswith("/flaky/"))
check(len(flaky) == 2 and all(s["headers"].get("x-piped") == "yes" for s in flaky),
      f"both attempts through the pipeline: {[s['headers'].get('x-piped') for s in flaky]}")
# a retry sends the same headers (they once pointed into a returned stack frame)
check(len(flaky) == 2 and flaky[0]["headers"].get("traceparent") == flaky[1]["headers"].get("traceparent")
      and len(flaky[1]["headers"].get("traceparent", "")) == 55,
      f"the retry's traceparent: {[s['headers'].get('traceparent') for s in flaky]}")

# pub/sub: the subscribe probe and the delivery
check(seen(lambda s: s["path"] == "/dapr/subscribe" and s["headers"].get("x-piped") == "yes"),
      "GET /dapr/subscribe through the pipeline")
check(sc.request("POST", "/v1.0/publish/pubsub/orders", body='{"n":1}',
                 headers={"Content-Type": "application/json"})[0] == 204, "publish")
got = seen(lambda s: s["path"] == "/orders")
check(got and got[0]["headers"].get("x-piped") == "yes" and json.loads(got[0]["body"]).get("data") == {"n": 1},
      f"pub/sub delivery through the pipeline: {got[:1]}")

# input binding: the OPTIONS probe and the cron deliveries
check(seen(lambda s: s["method"] == "OPTIONS" and s["path"] == "/tick" and s["headers"].get("x-piped") == "yes"),
      "input binding probe through the pipeline")
ticks = seen(lambda s: s["method"] == "POST" and s["path"] == "/tick", timeout=5)
check(ticks and all(s["headers"].get("x-piped") == "yes" for s in ticks), "cron deliveries through the pipeline")

# untagged calls: none (everything the app got came through the pipeline)
with app.lock:
    bare = [(s["method"], s["path"]) for s in app.seen if s["headers"].get("x-piped") != "yes"]
check(not bare, f"calls that skipped the pipeline: {bare}")
sc.cleanup()
app.close()
finish()
