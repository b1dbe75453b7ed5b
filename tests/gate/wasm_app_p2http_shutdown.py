"""wasm_app_p2http_shutdown.py: SIGTERM while a component guest is parked on a host call
(docs/sidecar.md "Shutdown", docs/wasm-apps.md; Dapr's graceful shutdown: requests in flight
finish within --dapr-graceful-shutdown-seconds, then the remaining connections close and daprd
exits 0).

tests/components/http/fetch.c (wasi:http outgoing-handler) and kvcount.c (wasi:keyvalue on a Dapr
state store), built at test time, hosted in one sidecar (one loop thread) with a 3 s grace:
  - a guest parked on an outgoing request the upstream holds: SIGTERM, then the upstream answers
    within the grace: the in-flight request gets the answer (200 "slow done"), the sidecar exits 0;
  - the upstream holds past the grace: the connection is closed (no answer, or a 5xx), the
    sidecar exits 0 within the grace plus a margin;
  - a guest parked on wasi:keyvalue against a state.redis whose replies are held (a delaying
    proxy in front of a real redis-server that stops forwarding; readTimeout 60 s, so the call is
    still pending when the grace ends): the same, past the grace; and against a state.postgresql
    behind the same kind of proxy (timeout 60 s);
and after each, no sanitizer report in the log (the SANITIZE build's ASan/LeakSanitizer: the
per-request state of a parked call is freed). Skipped (77) when clang-19, node, jco,
redis-server or PostgreSQL is missing (a failure under CI).
"""
import http.server
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm, wait_for  # noqa: E402
from brokers import Redis  # noqa: E402
from delayproxy import DelayProxy  # noqa: E402
from pgserver import PGBIN, Postgres  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(170)
if not Redis.BIN or not PGBIN:
    what = "redis-server" if not Redis.BIN else "PostgreSQL"
    if os.environ.get("CI"):
        print(f"FAIL: {what} not installed")
        sys.exit(1)
    print(f"skip: {what} not installed")
    sys.exit(77)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")
FETCH, KV = os.path.join(OUT, "fetch.wasm"), os.path.join(OUT, "kvcount.wasm")
GRACE = 3

held = threading.Event()
release = threading.Event()


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        held.set()
        release.wait(60)
        body = b"slow done"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
up.daemon_threads = True
threading.Thread(target=up.serve_forever, daemon=True).start()
UP = f"127.0.0.1:{up.server_address[1]}"
redis = Redis().start()
proxy = DelayProxy("127.0.0.1", redis.port, 0).start()
pg = Postgres().start()
pgproxy = DelayProxy("127.0.0.1", pg.port, 0).start()
PGCONN = f"host=127.0.0.1 port={pgproxy.port} user=postgres dbname=postgres sslmode=disable connect_timeout=5"


def start_sidecar():
    sc = Sidecar(BIN, app_id="front", args=["--app-wasm", "file://" + FETCH, "--threads", "1",
                                            "--app-wasm-allowed-outbound-hosts", f"http://{UP}",
                                            "--dapr-graceful-shutdown-seconds", str(GRACE)])
    sc.write_resource("kv.yaml", f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: redisstore}}
spec:
  type: state.redis
  version: v1
  metadata:
  - {{name: redisHost, value: "127.0.0.1:{proxy.port}"}}
  - {{name: readTimeout, value: 60s}}
scopes: [kv]
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: pgstore}}
spec:
  type: state.postgresql
  version: v1
  metadata:
  - {{name: connectionString, value: "{PGCONN}"}}
  - {{name: timeout, value: 60s}}
scopes: [kv]
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: kv}}
spec: {{url: "file://{KV}"}}
""")
    return sc.start(timeout=30)


def in_flight(sc, path, method="GET"):
    """Starts a request on a thread; its result ((status, body) or the exception) lands in the dict."""
    res = {}

    def go():
        try:
            st, _, b = sc.request(method, path, timeout=60)
            res["r"] = (st, b)
        except Exception as e:  # noqa: BLE001: a closed connection is one of the answers
            res["r"] = (0, repr(e).encode())

    th = threading.Thread(target=go, daemon=True)
    th.start()
    return res, th


def parked(sc, app):
    """Whether the metrics say a guest of app is parked now."""
    try:
        st, _, b = sc.request("GET", "/metrics", port=sc.metrics_port)
    except OSError:
        return False
    return st == 200 and f'wasmgate_wasm_app_parked{{app_id="{app}"}} 1'.encode() in b


def sigterm(sc):
    t0 = time.time()
    sc.proc.send_signal(15)
    check(wait_for(lambda: "shutting down gracefully" in sc.logs(), 10), "the sidecar began its graceful stop")
    return t0


def exited_clean(sc, t0, what, within):
    rc = sc.wait_exit(within)
    took = time.time() - t0
    if rc is None:
        sc.kill()
    logs = sc.logs()
    check(rc == 0, f"{what}: exit status {rc} after {took:.1f} s:\n{logs[-3000:]}")
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "Segmentation fault"):
        check(bad not in logs, f"{what}: {bad} in the log:\n{logs[logs.find(bad) - 200:][:3000]}")
    sc.finish_proc()
    return took


# 1. parked on an outgoing request; the upstream answers within the grace
sc = start_sidecar()
res, th = in_flight(sc, "/v1.0/invoke/front/method/fetch/" + UP + "/slow")
check(held.wait(30), "the upstream got the request")
check(wait_for(lambda: parked(sc, "front"), 10), "the guest is parked on the outgoing request")
t0 = sigterm(sc)
release.set()
th.join(30)
check(res.get("r") == (200, b"slow done"), f"in flight within the grace: answered: {res.get('r')}")
took = exited_clean(sc, t0, "outgoing, answered within the grace", GRACE + 20)
check(took < GRACE + 15, f"exit {took:.1f} s after SIGTERM")

# 2. the upstream holds past the grace
held.clear()
release.clear()
sc = start_sidecar()
res, th = in_flight(sc, "/v1.0/invoke/front/method/fetch/" + UP + "/slow")
check(held.wait(30), "the upstream got the request")
check(wait_for(lambda: parked(sc, "front"), 10), "the guest is parked on the outgoing request")
t0 = sigterm(sc)
took = exited_clean(sc, t0, "outgoing, held past the grace", GRACE + 20)
check(GRACE - 0.5 <= took < GRACE + 15, f"exit {took:.1f} s after SIGTERM (grace {GRACE} s)")
th.join(30)
r = res.get("r")
check(r is not None and (r[0] == 0 or r[0] >= 500), f"in flight past the grace: closed or failed: {r}")
release.set()

# 3. parked on wasi:keyvalue against a store whose replies are held
sc = start_sidecar()
st, _, b = sc.request("POST", "/v1.0/invoke/kv/method/count/redisstore", timeout=30)
check((st, b.strip()) == (200, b"1"), f"kv through the proxy: {st} {b!r}")
proxy.hold()
res, th = in_flight(sc, "/v1.0/invoke/kv/method/count/redisstore", "POST")
check(wait_for(lambda: parked(sc, "kv"), 20), "the guest is parked on the keyvalue call")
t0 = sigterm(sc)
took = exited_clean(sc, t0, "keyvalue, held past the grace", GRACE + 20)
check(GRACE - 0.5 <= took < GRACE + 15, f"exit {took:.1f} s after SIGTERM (grace {GRACE} s)")
th.join(30)
r = res.get("r")
check(r is not None and (r[0] == 0 or r[0] >= 500), f"keyvalue in flight past the grace: closed or failed: {r}")
proxy.release()

# 4. the same against a PostgreSQL whose replies are held
sc = start_sidecar()
st, _, b = sc.request("POST", "/v1.0/invoke/kv/method/count/pgstore", timeout=30)
check((st, b.strip()) == (200, b"1"), f"kv through the PostgreSQL proxy: {st} {b!r}")
pgproxy.hold()
res, th = in_flight(sc, "/v1.0/invoke/kv/method/count/pgstore", "POST")
check(wait_for(lambda: parked(sc, "kv"), 20), "the guest is parked on the keyvalue call (PostgreSQL)")
t0 = sigterm(sc)
took = exited_clean(sc, t0, "keyvalue on PostgreSQL, held past the grace", GRACE + 20)
check(GRACE - 0.5 <= took < GRACE + 15, f"exit {took:.1f} s after SIGTERM (grace {GRACE} s)")
th.join(30)
r = res.get("r")
check(r is not None and (r[0] == 0 or r[0] >= 500), f"PostgreSQL keyvalue in flight past the grace: {r}")
pgproxy.release()
pg.cleanup()

finish()
