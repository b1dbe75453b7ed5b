"""wasm_app_p2http_park.py: a hosted wasi:http component's wasi:keyvalue calls park the guest
instead of blocking its event loop (issue 14; docs/wasm-apps.md "WASI 0.2 HTTP components").

tests/components/http/kvcount.c (built at test time: clang-19 + jco embed/new) answers
/get/STORE/KEY with bucket.get and /ping without any keyvalue call. The sidecar runs it with one
loop thread (--threads 1) on `state.redis` against a real redis-server started here:
  - a get through the component reads what the state API saved (same app ID, same key prefix);
  - with Redis stopped (SIGSTOP) under a component's get and another's increment (atomics: a read
    and a write with its ETag), /ping through the same loop and the sidecar's /v1.0/healthz still
    answer, while both still wait (before parking, the get blocked the loop thread: neither
    answered until Redis came back), and the wasm app's parked-guests gauge reads 2;
  - after SIGCONT the parked get completes with the value, the increment with 1, and the app
    goes on (the next increment answers 2);
  - with a Resiliency timeout of 1 s on app kv, a get parked on the stopped Redis fails its caller
    in about that time (the guest abandoned), the loop goes on, and Redis's late answer is dropped.
Skipped (77) when clang-19, node or jco is missing (a failure under CI).
"""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm, wait_for  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(170)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")

rd = Redis().start()
sc = Sidecar(BIN, app_id="kv", args=["--app-wasm", "file://" + os.path.join(OUT, "kvcount.wasm"), "--threads", "1"])
sc.write_resource("redis.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
                  "spec:\n  type: state.redis\n  version: v1\n  metadata:\n  - name: redisHost\n"
                  f"    value: 127.0.0.1:{rd.port}\n  - name: readTimeout\n    value: 60s\n")
sc.start(timeout=30)
stopped = False
try:
    st, _, _ = sc.request("POST", "/v1.0/state/statestore", [{"key": "greeting", "value": "hello"}], timeout=20)
    check(st == 204, f"save through the state API: {st}")
    st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/greeting", timeout=20)
    check((st, body) == (200, b'"hello"'), f"the component's get reads it: {st} {body!r}")
    st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/nothing", timeout=20)
    check((st, body) == (404, b"absent"), f"an absent key: {st} {body!r}")

    os.kill(rd.proc.pid, signal.SIGSTOP)
    stopped = True
    got = {}

    def slow_get():
        try:
            got["r"] = sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/greeting", timeout=120)
        except Exception as e:  # noqa: BLE001
            got["r"] = e

    def slow_count():
        try:
            got["c"] = sc.request("POST", "/v1.0/invoke/kv/method/count/statestore", timeout=120)
        except Exception as e:  # noqa: BLE001
            got["c"] = e

    th = threading.Thread(target=slow_get, daemon=True)
    th.start()
    th2 = threading.Thread(target=slow_count, daemon=True)
    th2.start()

    def parked(n=2):
        try:
            _, _, m = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=5)
        except Exception:  # noqa: BLE001
            return False
        return any(line.startswith("wasmgate_wasm_app_parked") and line.rstrip().endswith(f" {n}")
                   for line in m.decode().splitlines())

    check(wait_for(parked, 30), "two guests are parked: a get and an increment (wasmgate_wasm_app_parked 2)")
    t0 = time.time()
    try:
        st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/ping", timeout=30)
    except OSError as e:  # a stalled loop: no answer
        st, body = 0, repr(e).encode()
    ping = time.time() - t0
    check((st, body) == (200, b"pong"), f"/ping on the same loop while Redis is stopped: {st} {body!r}")
    try:
        st = sc.request("GET", "/v1.0/healthz", timeout=30)[0]
    except OSError as e:
        st = repr(e)
    check(st == 204, f"healthz while Redis is stopped: {st}")
    check(th.is_alive() and "r" not in got and "c" not in got, "the get and the increment still wait on Redis")
    print(f"ping while a get is parked on a stopped Redis: {ping * 1000:.1f} ms")

    os.kill(rd.proc.pid, signal.SIGCONT)
    stopped = False
    th.join(60)
    r = got.get("r")
    check(isinstance(r, tuple) and (r[0], r[2]) == (200, b'"hello"'), f"the parked get completes: {r!r}")
    th2.join(60)
    c = got.get("c")
    check(isinstance(c, tuple) and (c[0], c[2]) == (200, b"1"), f"the parked increment completes: {c!r}")
    check(wait_for(lambda: parked(0), 20), "no guest parked afterwards")
    st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/count/statestore", timeout=20)
    check((st, body) == (200, b"2"), f"the next increment: {st} {body!r}")
    st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/greeting", timeout=20)
    check((st, body) == (200, b'"hello"'), f"a get afterwards: {st} {body!r}")
finally:
    if stopped:
        os.kill(rd.proc.pid, signal.SIGCONT)
    sc.stop()

# the caller's timeout (a Resiliency timeout of 1 s on app kv) while the guest is parked: the caller
# gets an error in about that time, the guest is abandoned, Redis's late answer is dropped
sc = Sidecar(BIN, app_id="kv", args=["--app-wasm", "file://" + os.path.join(OUT, "kvcount.wasm"), "--threads", "1"])
sc.write_resource("redis.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
                  "spec:\n  type: state.redis\n  version: v1\n  metadata:\n  - name: redisHost\n"
                  f"    value: 127.0.0.1:{rd.port}\n  - name: readTimeout\n    value: 60s\n")
sc.write_resource("res.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n"
                  "  policies:\n    timeouts: {short: 1s}\n  targets:\n    apps:\n      kv: {timeout: short}\n")
sc.start(timeout=30)
try:
    st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/greeting", timeout=20)
    check((st, body) == (200, b'"hello"'), f"a get under the Resiliency timeout: {st} {body!r}")
    os.kill(rd.proc.pid, signal.SIGSTOP)
    stopped = True
    t0 = time.time()
    try:
        st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/greeting", timeout=30)
    except OSError as e:
        st, body = 0, repr(e).encode()
    took = time.time() - t0
    check(st >= 500 and took < 10, f"the caller's timeout while parked: {st} in {took:.2f}s {body!r}")
    st, _, body = sc.request("POST", "/v1.0/invoke/kv/method/ping", timeout=20)
    check((st, body) == (200, b"pong"), f"/ping after the timeout: {st} {body!r}")
    os.kill(rd.proc.pid, signal.SIGCONT)  # the late answer reaches a request that is gone: dropped
    stopped = False
    check(wait_for(lambda: sc.request("POST", "/v1.0/invoke/kv/method/get/statestore/greeting", timeout=20)[0] == 200,
                   20), "gets work again after Redis is back")
    check(sc.proc.poll() is None, "the sidecar is still running")
finally:
    if stopped:
        os.kill(rd.proc.pid, signal.SIGCONT)
    sc.stop()
finish()
