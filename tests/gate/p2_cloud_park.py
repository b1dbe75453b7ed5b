"""p2_cloud_park.py WASMGATE OUTDIR: every cloud-interface call of a hosted component app parks the
guest on its Dapr component's answer instead of blocking the event loop (issue 14;
gate/wasmhost/p2_cloud_wait.c: wasi:keyvalue cas, get-many and list-keys, wasi:config get,
wasi:messaging send, dapr:runtime state.get, publish, invoke-binding and invoke).

tests/components/cloudpark/cloudpark.c (built at test time) makes one such call per request. The
sidecar runs it with ONE loop thread (--threads 1) against a real redis-server behind a delay proxy
(tests/gate/delayproxy.py: every reply comes late, commands are not serialised) for state.redis,
configuration.redis and pubsub.redis, state.sqlite for list-keys, and bindings.http and an
HTTPEndpoint (dapr:runtime invoke) in front of a slow HTTP server started here:
  - each call answers as it should (values, "N found", "N keys", the published events on the
    stream, the binding's body, the endpoint's answer); the app invoking itself through
    dapr:runtime invoke while parked on it (one loop thread: blocking would deadlock);
  - N cas requests on one key parked together: one swap wins, the others find another ETag and
    answer cas-failed with a fresh cas (read while parked too);
  - held backends: with the proxy holding Redis's replies (and the HTTP server holding its answers),
    N requests of each kind are parked at the same time: the wasm app's parked gauge reads N, and
    /ping on the same (only) loop answers meanwhile. A guest that blocked its loop thread could
    never have two requests in flight on one loop (before this change, cas, get-many, wasi:config,
    wasi:messaging and every dapr:runtime call blocked it: the gauge stayed 0 and /ping waited);
  - slow backends: N concurrent requests whose call costs k round trips of delay D complete in
    about k*D of wall time, not N*k*D (printed; bounded loosely at half of N*k*D).
Skipped (77) when clang-19, node, jco or redis-server is missing (a failure under CI).
"""
import http.server
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from delayproxy import DelayProxy  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm, wait_for  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(170)
if not Redis.BIN:
    print("skip: redis-server not installed")
    sys.exit(1 if os.environ.get("CI") else 77)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "cloudpark", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the component: exit {rc}")

N = 6      # concurrent requests per kind
D = 0.5    # the proxy's delay per Redis reply, and the HTTP server's per answer (s)

# a slow HTTP server for bindings.http: each answer waits D, or until released while held
held = threading.Event()
held.set()


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        held.wait(60)
        time.sleep(Slow.delay)
        body = b"binding body"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


Slow.delay = D
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()

rd = Redis().start()
px = DelayProxy("127.0.0.1", rd.port, D).start()
rd.cmd("SET", "greeting", "hello||1")
host = f"127.0.0.1:{px.port}"
sc = Sidecar(BIN, app_id="cp", args=["--app-wasm", "file://" + os.path.join(OUT, "cloudpark.wasm"), "--threads", "1"],
             env={"UV_THREADPOOL_SIZE": "32"})
redis_meta = f"  metadata:\n  - name: redisHost\n    value: {host}\n  - name: readTimeout\n    value: 60s\n"
sc.write_resource("c.yaml", "---\n".join([
    "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
    "spec:\n  type: state.redis\n  version: v1\n" + redis_meta,
    "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: sql\n"
    f"spec:\n  type: state.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n"
    f"    value: {os.path.join(sc.dir, 'state.db')}\n",
    "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: cfg\n"
    "spec:\n  type: configuration.redis\n  version: v1\n" + redis_meta,
    "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: bus\n"
    "spec:\n  type: pubsub.redis\n  version: v1\n" + redis_meta,
    "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: slow\n"
    f"spec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n"
    f"    value: http://127.0.0.1:{srv.server_address[1]}/\n",
    "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: slowep\n"
    f"spec:\n  baseUrl: http://127.0.0.1:{srv.server_address[1]}\n"]))
sc.start(timeout=60)


def call(path, timeout=60):
    try:
        st, _, body = sc.request("POST", "/v1.0/invoke/cp/method" + path, timeout=timeout)
        return st, body
    except OSError as e:
        return 0, repr(e).encode()


def parked(n):
    try:
        _, _, m = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=10)
    except OSError:
        return False
    return any(line.startswith("wasmgate_wasm_app_parked") and line.rstrip().endswith(f" {n}")
               for line in m.decode().splitlines())


def many(paths):
    """Runs the requests concurrently: their answers in order, and the wall time."""
    res = [None] * len(paths)

    def one(i):
        res[i] = call(paths[i])

    ths = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(paths))]
    t0 = time.time()
    for t in ths:
        t.start()
    return ths, res, t0


try:
    st, _, body = sc.request("POST", "/v1.0/state/statestore", [{"key": "a", "value": "x"}], timeout=30)
    check(st == 204, f"seed statestore: {st} {body!r}")
    st, _, body = sc.request("POST", "/v1.0/state/sql", [{"key": f"k{i}", "value": i} for i in range(5)], timeout=30)
    check(st == 204, f"seed sql: {st} {body!r}")

    # each call answers as it should
    kinds = {  # path of request i, the answer, round trips of delay per call (None: serialised backend)
        "cas": (lambda i: f"/cas/statestore/c{i}", b"ok", 2),
        "get-many": (lambda i: "/many/statestore", b"1 found", 2),
        "list-keys": (lambda i: "/list/sql", b"5 keys", None),
        "config": (lambda i: "/config/greeting", b"hello", None),
        "messaging": (lambda i: "/publish/orders", b"ok", None),
        "dapr-get": (lambda i: "/dapr-get/statestore/a", b'"x"', 1),
        "dapr-publish": (lambda i: "/dapr-publish/bus/orders", b"ok", None),
        "dapr-bind": (lambda i: "/dapr-bind/slow", b"12 bytes", 1),
        "dapr-invoke": (lambda i: "/dapr-invoke/slowep/x", b"200: binding body", 1),
    }
    for name, (path, want, _) in kinds.items():
        st, body = call(path(99))
        check((st, body) == (200, want), f"{name}: {st} {body!r}, want {want!r}")
    # the app invoking itself while its guest is parked on that invocation: the nested request runs
    # on the same (only) loop thread, which a blocking call would deadlock
    st, body = call("/dapr-invoke/cp/ping")
    check((st, body) == (200, b"200: pong"), f"dapr invoke of the app itself: {st} {body!r}")

    # held backends: N requests of each kind parked at the same time on the one loop
    for name, (path, want, _) in kinds.items():
        if name == "list-keys":
            continue  # state.sqlite: no proxy to hold (its reads run on the store's thread)
        if name in ("dapr-bind", "dapr-invoke"):
            held.clear()
        else:
            px.hold()
        # the cas requests all on one key: all read it while held, one swap wins, the others find
        # another ETag and answer cas-failed (the swap's re-read parks too)
        ths, res, t0 = many(["/cas/statestore/same" if name == "cas" else path(i) for i in range(N)])
        ok = wait_for(lambda: parked(N), 60)
        check(ok, f"{name}: {N} guests parked at once on one loop thread (wasmgate_wasm_app_parked {N})")
        t1 = time.time()
        st, body = call("/ping", timeout=30)
        ping = time.time() - t1
        check((st, body) == (200, b"pong"), f"{name}: /ping while {N} are parked: {st} {body!r}")
        check(all(r is None for r in res), f"{name}: the parked requests still wait: {res!r}")
        if name in ("dapr-bind", "dapr-invoke"):
            held.set()
        else:
            px.release()
        for t in ths:
            t.join(90)
        if name == "cas":
            check(sorted(res) == [(200, b"ok")] + [(409, b"cas-failed")] * (N - 1),
                  f"cas: one swap wins, {N - 1} find another ETag: {res!r}")
        else:
            check(all(r == (200, want) for r in res), f"{name}: every parked request completes: {res!r}")
        print(f"{name}: {N} parked at once, /ping in {ping * 1000:.1f} ms")
        check(wait_for(lambda: parked(0), 30), f"{name}: no guest parked afterwards")

    # slow backends: N concurrent calls take about one call's delay, not N of them
    for name, (path, want, k) in kinds.items():
        if not k:
            continue
        ths, res, t0 = many([path(100 + i) for i in range(N)])
        for t in ths:
            t.join(90)
        wall = time.time() - t0
        check(all(r is not None and r[0] == 200 for r in res), f"{name} (slow): {res!r}")
        serial = N * k * D
        print(f"{name}: {N} concurrent calls of {k} x {D:.1f} s delay in {wall:.2f} s (serialised: {serial:.1f} s)")
        check(wall < serial / 2, f"{name}: {N} calls took {wall:.2f} s, a loop blocked per call takes {serial:.1f} s")

    events = rd.cmd("XRANGE", "orders", "-", "+") or []
    want_events = 2 * (1 + N)
    check(len(events) == want_events, f"events published on orders: {len(events)}, want {want_events}")
    check(sc.proc.poll() is None, "the sidecar is still running")
finally:
    held.set()
    px.release()
    sc.stop()
    srv.shutdown()
finish()
