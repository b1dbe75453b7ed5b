"""e2e_mesh_resiliency.py: the Resiliency resource on real sidecars.

Apps: a timeout per attempt, retries that follow matching.httpStatusCodes
(and leave other statuses alone), retries toward the own app, a circuit
breaker that opens after the trip expression, answers ERR_DIRECT_INVOKE
"circuit breaker is open" without calling the app, goes half-open after its
timeout and closes on a success; the callee's sidecar killed with SIGKILL
while its breaker guards it. Components: a state.redis store whose
redis-server stops: retries (timed), the breaker opens, and closes again once
Redis is back. Scoped Resiliency documents of other apps are ignored.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from meshapp import MeshApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
TMP = tempfile.mkdtemp(prefix="wgg-meshres-")
REDIS = shutil.which("redis-server")
if not REDIS:
    print("redis-server is not installed (scripts/deps.sh installs it)")
    sys.exit(1)

CFG = os.path.join(TMP, "config.yaml")
with open(CFG, "w") as f:
    f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {{name: meshconfig}}
spec:
  nameResolution:
    component: sqlite
    configuration: {{connectionString: "{TMP}/nr.db", updateInterval: 2s}}
""")


RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: meshres}
scopes: [a]
spec:
  policies:
    timeouts: {short: 300ms}
    retries:
      three503: {policy: constant, duration: 50ms, maxRetries: 3, matching: {httpStatusCodes: "503"}}
      storeRetry: {policy: constant, duration: 100ms, maxRetries: 2}
    circuitBreakers:
      cb: {maxRequests: 1, timeout: 1s, trip: "consecutiveFailures >= 2"}
      storeCB: {maxRequests: 1, timeout: 1s, trip: consecutiveFailures >= 6}
  targets:
    apps:
      b: {timeout: short, retry: three503}
      c: {circuitBreaker: cb}
      a: {retry: three503}
    components:
      statestore: {outbound: {retry: storeRetry, circuitBreaker: storeCB}}
---
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: not-for-a}
scopes: [someone-else]
spec:
  policies:
    retries:
      DefaultRetryPolicy: {duration: 1s, maxRetries: 50}
"""

redis_port = free_port()
redis = Redis(redis_port).start()
app_a, app_b, app_c = MeshApp("a"), MeshApp("b"), MeshApp("c")


def sidecar(app_id, app, resources=None):
    sc = Sidecar(BIN, app_id=app_id, args=["--app-port", str(app.port), "--config", CFG, "--threads", "2"],
                 env={"HOME": TMP})
    for name, text in (resources or {}).items():
        sc.write_resource(name, text)
    return sc.start()


sa = sidecar("a", app_a, {"resiliency.yaml": RESILIENCY, "redis.yaml": f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: statestore}}
spec:
  type: state.redis
  version: v1
  metadata:
  - {{name: redisHost, value: "127.0.0.1:{redis_port}"}}
  - {{name: dialTimeout, value: 500ms}}
"""})
sb, sc_ = sidecar("b", app_b), sidecar("c", app_c)
check("resiliency: 1 document(s)" in sa.logs(), "only a's scoped Resiliency document is loaded")

# retries follow matching.httpStatusCodes
st, h, body = sa.request("GET", "/v1.0/invoke/b/method/flaky/2/k1")
check(st == 200 and app_b.counts.get("k1") == 3, f"two 503s retried, then 200: {st} calls={app_b.counts.get('k1')}")
st, h, body = sa.request("GET", "/v1.0/invoke/b/method/flaky/10/k2")
check(st == 503 and app_b.counts.get("k2") == 4, f"maxRetries 3, the last 503 passes: {st} {app_b.counts.get('k2')}")
st, h, body = sa.request("GET", "/v1.0/invoke/b/method/status/500")
check(st == 500 and body == b'{"err":"as asked"}' and app_b.calls("/status/500") == 1,
      f"500 is not in the matching list: not retried, passed through: {st} {body!r} {app_b.calls('/status/500')}")
# the timeout is per attempt; a timed-out attempt is retried like a failure
t0 = time.time()
r = sa.request("GET", "/v1.0/invoke/b/method/slow/1500")
el = time.time() - t0
check_error(r, 500, "ERR_DIRECT_INVOKE", "timeout")
check(1.0 < el < 2.5 and app_b.calls("/slow/1500") == 4, f"4 attempts of 300 ms: {el:.2f}s, {app_b.calls('/slow/')}")
# the own app: same policies through the app channel
st = sa.request("GET", "/v1.0/invoke/a/method/flaky/1/own")[0]
check(st == 200 and app_a.counts.get("own") == 2, f"own app retried: {st} {app_a.counts.get('own')}")
# b has no policies of its own toward a: no retries there
st = sb.request("GET", "/v1.0/invoke/a/method/flaky/1/fromb")[0]
check(st == 503 and app_a.counts.get("fromb") == 1, f"b has no Resiliency: {st} {app_a.counts.get('fromb')}")

# circuit breaker toward c: consecutiveFailures >= 2 opens it
for i in range(2):
    st = sa.request("GET", "/v1.0/invoke/c/method/status/500")[0]
    check(st == 500, f"failure {i} passes through: {st}")
t0 = time.time()
check_error(sa.request("GET", "/v1.0/invoke/c/method/ok"), 500, "ERR_DIRECT_INVOKE", "circuit breaker is open")
check(time.time() - t0 < 0.5 and app_c.calls("/ok") == 0, "open: answered at once, the app is not called")
time.sleep(1.1)  # timeout 1s: half-open, one probe
check(sa.request("GET", "/v1.0/invoke/c/method/ok")[0] == 200, "half-open probe succeeds")
check(sa.request("GET", "/v1.0/invoke/c/method/ok")[0] == 200 and app_c.calls("/ok") == 2, "closed again")
for i in range(2):
    sa.request("GET", "/v1.0/invoke/c/method/status/500")
time.sleep(1.1)
check(sa.request("GET", "/v1.0/invoke/c/method/status/500")[0] == 500, "half-open probe fails")
check_error(sa.request("GET", "/v1.0/invoke/c/method/ok"), 500, "ERR_DIRECT_INVOKE", "circuit breaker is open")
time.sleep(1.1)
check(sa.request("GET", "/v1.0/invoke/c/method/ok")[0] == 200, "closed after the next probe")

# c's sidecar killed: failures open the breaker, later calls fail fast instead of waiting on retries
sc_.kill()
times, msgs = [], []
for i in range(6):
    t0 = time.time()
    r = sa.request("GET", "/v1.0/invoke/c/method/ok", timeout=15)
    times.append(time.time() - t0)
    msgs.append(json.loads(r[2]).get("message", "") if r[0] == 500 else r[0])
check(all(isinstance(m, str) for m in msgs), f"every call after the kill fails with a Dapr error: {msgs}")
# a policy is defined for c, so daprd's built-in connection retries do not apply: each call is one
# attempt, the first two fail on the refused connection and trip the breaker (consecutiveFailures >= 2)
check(all(t < 0.5 for t in times), f"failures are fast: {times}")
check(all("connection refused" in m for m in msgs[:2]), f"two refused attempts: {msgs}")
check(all("circuit breaker is open" in m for m in msgs[2:]), f"open breaker: {msgs}")

# state store: Redis stops; storeRetry (2 x 100 ms) then storeCB (6 consecutive failures)
check(sa.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 1}])[0] == 204, "save with redis up")
redis.stop()
t0 = time.time()
check_error(sa.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 2}]), 500, "ERR_STATE_SAVE")
el = time.time() - t0
check(0.2 <= el < 3, f"two retries 100 ms apart: {el:.2f}s")
check_error(sa.request("GET", "/v1.0/state/statestore/k"), 500, "ERR_STATE_GET")
t0 = time.time()
check_error(sa.request("GET", "/v1.0/state/statestore/k"), 500, "ERR_STATE_GET", "circuit breaker is open")
check(time.time() - t0 < 0.2, "open breaker answers at once")
redis = Redis(redis_port).start()
time.sleep(1.1)
st, h, body = sa.request("GET", "/v1.0/state/statestore/k")
check(st in (200, 204), f"half-open probe reaches the restarted Redis: {st} {body!r}")
check(sa.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 3}])[0] == 204, "closed again")
check(sa.request("GET", "/v1.0/state/statestore/k")[2] == b"3", "value")

# a Resiliency error stops the start with file:line
bad = Sidecar(BIN, app_id="a", env={"HOME": TMP}, args=["--config", CFG])
bad.write_resource("r.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: broken}\nspec:\n"
                             "  policies:\n    retries:\n      r: {policy: linear}\n")
bad.spawn()
check(bad.wait_exit(10) not in (0, None), "an invalid Resiliency stops the start")
check("r.yaml:1 (Resiliency broken)" in bad.logs() and "'linear' is not constant or exponential" in bad.logs(),
      f"message: {bad.logs()[-500:]}")
bad.finish_proc()
redis.stop()
finish()
