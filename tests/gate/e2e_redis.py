"""e2e_redis.py: state.redis through the real `wasmgate run` against a real
redis-server started here on a loopback port with a temporary directory: the
whole state contract, the hash layout {data, version} under <appId>||<key>,
a Redis that goes down (500 with Dapr's error, the sidecar stays up) and
comes back (the store recovers by itself), and a start refused while Redis
is down.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from statesuite import run_suite  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
REDIS = shutil.which("redis-server")
start_alarm(110)
if not REDIS:
    print("redis-server is not installed (scripts/deps.sh installs it)")
    sys.exit(1)


def redis_yaml(port, extra=""):
    return ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n"
            f"  type: state.redis\n  version: v1\n{extra}  metadata:\n  - name: redisHost\n"
            f"    value: 127.0.0.1:{port}\n  - name: redisPassword\n    value: \"\"\n")


rd = Redis().start()
sc = Sidecar(BIN, app_id="rapp")
sc.write_resource("redis.yaml", redis_yaml(rd.port))
sc.start()
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check(md["components"] == [{"name": "statestore", "type": "state.redis", "version": "v1",
                            "capabilities": ["ETAG", "TRANSACTIONAL", "TTL"]}], f"metadata: {md['components']}")
run_suite(sc, etag_ok=lambda e: bool(e) and e.isdigit())

# the layout in Redis: a hash {data, version} under <appId>||<key>
check(sc.request("POST", "/v1.0/state/statestore", [{"key": "layout", "value": {"a": 1}}])[0] == 204, "save")
reply = rd.raw("HGETALL", "rapp||layout")
check(b'{"a":1}' in reply and b"version" in reply and b"data" in reply, f"HGETALL: {reply!r}")
st, h, _ = sc.request("GET", "/v1.0/state/statestore/layout")
check(h.get("etag") == "1", f"first version is 1: {h.get('etag')}")
check_error(sc.request("POST", "/v1.0/state/statestore", [{"key": "layout", "value": 2, "etag": "x1"}]), 400,
            "ERR_STATE_SAVE", "invalid etag")

# Redis goes down: Dapr's 500, the sidecar stays up; Redis comes back: it recovers by itself
rd.stop()
check_error(sc.request("GET", "/v1.0/state/statestore/layout"), 500, "ERR_STATE_GET", "redis")
check_error(sc.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 1}]), 500, "ERR_STATE_SAVE")
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "healthy while Redis is down")
rd2 = Redis(port=rd.port).start()
r = sc.request("POST", "/v1.0/state/statestore", [{"key": "back", "value": "again"}])
check(r[0] == 204, f"save after Redis came back: {r}")
check(sc.request("GET", "/v1.0/state/statestore/back")[2] == b'"again"', "get after Redis came back")
sc.cleanup()
rd2.cleanup()
rd.cleanup()

# a Redis that hangs (SIGSTOP): calls fail with Dapr's 500 within readTimeout instead of hanging, the API stays
# served; SIGCONT: the store recovers by itself
rd3 = Redis().start()
sc = Sidecar(BIN, app_id="hang")
sc.write_resource("redis.yaml", redis_yaml(rd3.port).replace(
    "  - name: redisPassword", "  - name: readTimeout\n    value: 1s\n  - name: dialTimeout\n    value: 1s\n"
                               "  - name: redisPassword"))
sc.write_resource("sqlite.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: local\nspec:\n"
                                 "  type: state.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n"
                                 "    value: local.db\n")
sc.start()
check(sc.request("POST", "/v1.0/state/statestore", [{"key": "h", "value": 1}])[0] == 204, "save before the hang")
os.kill(rd3.proc.pid, signal.SIGSTOP)
try:
    stuck = []
    hung = [threading.Thread(target=lambda: stuck.append(sc.request("GET", "/v1.0/state/statestore/h", timeout=30)))
            for _ in range(6)]
    for t in hung:
        t.start()
    time.sleep(0.3)
    t0 = time.time()
    st = sc.request("GET", "/v1.0/state/local/x", timeout=20)[0]
    check(st == 204 and time.time() - t0 < 0.5,
          f"calls stuck on Redis do not hold up the sqlite store (thread pool): {st} {time.time() - t0:.2f}s")
    t0 = time.time()
    r = sc.request("GET", "/v1.0/state/statestore/h", timeout=30)
    took = time.time() - t0
    check_error(r, 500, "ERR_STATE_GET")
    check(took < 15, f"a hung Redis costs readTimeouts, not forever: {took:.1f}s")
    t0 = time.time()
    check(sc.request("GET", "/v1.0/healthz")[0] == 204 and time.time() - t0 < 1, "the API is served meanwhile")
    for t in hung:
        t.join()
    check(all(r[0] == 500 for r in stuck), f"every call on the hung Redis got 500: {[r[0] for r in stuck]}")
finally:
    os.kill(rd3.proc.pid, signal.SIGCONT)
deadline = time.time() + 10
while time.time() < deadline and sc.request("GET", "/v1.0/state/statestore/h", timeout=20)[0] != 200:
    time.sleep(0.1)
check(sc.request("GET", "/v1.0/state/statestore/h")[2] == b"1", "recovers after SIGCONT")
sc.cleanup()
rd3.cleanup()

# a Redis that is down at start stops the start, naming the component
port = free_port()
d = tempfile.mkdtemp(prefix="wgg-e2e-")
os.makedirs(os.path.join(d, "res"))
with open(os.path.join(d, "res", "redis.yaml"), "w") as f:
    f.write(redis_yaml(port))
p = subprocess.run([BIN, "run", "--app-id", "a", "--dapr-http-port", str(free_port()), "--dapr-listen-addresses",
                    "127.0.0.1", "--resources-path", os.path.join(d, "res")], capture_output=True, timeout=30)
check(p.returncode == 1 and b"component statestore (state.redis/v1): init error" in p.stderr and
      b"cannot connect" in p.stderr, f"start with Redis down: {p.returncode} {p.stderr!r}")
shutil.rmtree(d, ignore_errors=True)
finish()
