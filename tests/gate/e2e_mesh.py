"""e2e_mesh.py: sidecar-to-sidecar invocation through real `wasmgate run`
processes on loopback: name resolution through the shared SQLite file named
by the Configuration (nameResolution sqlite) and through a static table;
method, query, headers, body, status and traceparent pass both ways; the
callee app sees dapr-caller-app-id and no internal header; Dapr's errors for
an unknown app, a stopped sidecar (deregistered) and a sidecar killed with
SIGKILL in the middle of traffic (every call ends, nothing hangs); a hop that
reaches the wrong sidecar is refused.
"""
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshapp import MeshApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
TMP = tempfile.mkdtemp(prefix="wgg-mesh-")
HOME = {"HOME": TMP}  # the default registry file would live here; the test names its own


def config(text, name="config.yaml"):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


NR_DB = os.path.join(TMP, "nr.db")
CFG = config(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {{name: meshconfig}}
spec:
  nameResolution:
    component: sqlite
    version: v1
    configuration:
      connectionString: "{NR_DB}"
      updateInterval: 2s
""")


def sidecar(app_id, app, cfg=CFG, port=None, resources=None):
    sc = Sidecar(BIN, app_id=app_id, args=["--app-port", str(app.port), "--config", cfg, "--threads", "2"], env=HOME)
    sc.port = port
    for name, text in (resources or {}).items():
        sc.write_resource(name, text)
    return sc.start()


app_a, app_b = MeshApp("a"), MeshApp("b")
sa, sb = sidecar("a", app_a), sidecar("b", app_b)

# a -> b: method, nested path, query, headers, body, status and headers back
tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
st, h, body = sa.request("POST", "/v1.0/invoke/b/method/orders/new?x=1&y=%20z", b"payload",
                         headers={"Content-Type": "text/plain", "X-Custom": "c1", "traceparent": tp,
                                  "tracestate": "k=v"})
check(st == 201, f"status passes back: {st} {body!r}")
check(h.get("x-app") == "b", f"callee headers pass back: {h}")
got = json.loads(body) if st == 201 else {}
check(got.get("app") == "b" and got.get("path") == "/orders/new?x=1&y=%20z", f"path and query: {got}")
check(got.get("body") == "payload", f"body: {got}")
hd = app_b.last("/orders/new?x=1&y=%20z")["headers"]
check(hd.get("x-custom") == "c1" and hd.get("content-type") == "text/plain", f"headers forwarded: {hd}")
# W3C trace context as daprd: the app sees a child span of the caller's (same trace ID and flags, a new span ID)
atp = hd.get("traceparent", "")
check(atp[:36] == tp[:36] and atp[-3:] == tp[-3:] and atp[36:52] != tp[36:52] and len(atp) == 55 and
      hd.get("tracestate") == "k=v", f"trace context propagated: {hd}")
check(hd.get("dapr-caller-app-id") == "a" and hd.get("dapr-callee-app-id") == "b", f"caller/callee ids: {hd}")
check("wasmgate-hop" not in hd and "dapr-api-token" not in hd, f"internal headers stay inside: {hd}")

for method in ("GET", "PUT", "DELETE", "PATCH"):
    st, h, body = sa.request(method, "/v1.0/invoke/b/method/m", b"" if method in ("GET", "DELETE") else b"x")
    check(st == 200 and json.loads(body)["method"] == method, f"{method} a->b: {st} {body!r}")
st, h, body = sa.request("HEAD", "/v1.0/invoke/b/method/m")
check(st == 200 and body == b"" and app_b.last("/m")["method"] == "HEAD", f"HEAD a->b: {st} {body!r}")
st, h, body = sa.request("GET", "/v1.0/invoke/b/method/m")
check(st == 200 and json.loads(body)["method"] == "GET", f"the connection after a HEAD is still in sync: {st}")
st, h, body = sa.request("GET", "/v1.0/invoke/b/method/status/404")
check(st == 404 and body == b'{"err":"as asked"}', f"callee error status passes back: {st} {body!r}")
# the dapr-app-id header form, and the other direction
st, h, body = sa.request("PUT", "/items/7?q=1", b"v", headers={"dapr-app-id": "b"})
check(st == 200 and json.loads(body)["path"] == "/items/7?q=1", f"dapr-app-id form a->b: {st} {body!r}")
check("dapr-app-id" not in app_b.last("/items/7?q=1")["headers"], "dapr-app-id is not forwarded")
st, h, body = sb.request("GET", "/v1.0/invoke/a/method/back")
check(st == 200 and json.loads(body)["app"] == "a", f"b->a: {st} {body!r}")
check(app_a.last("/back")["headers"].get("dapr-caller-app-id") == "b", "caller id b")
# a large body both ways
big = os.urandom(1 << 20).hex().encode()
st, h, body = sa.request("POST", "/v1.0/invoke/b/method/big", big)
check(st == 201 and json.loads(body)["body"].encode() == big, f"2 MiB body through two sidecars: {st}")

# errors: unknown app; a hop that reached the wrong sidecar
check_error(sa.request("GET", "/v1.0/invoke/nope/method/m"), 500, "ERR_DIRECT_INVOKE",
            "failed to invoke, id: nope, err: couldn't find service: nope")
check_error(sb.request("GET", "/v1.0/invoke/zzz/method/m", headers={"wasmgate-hop": "1"}), 500, "ERR_DIRECT_INVOKE",
            "reached the sidecar of app b")

# a sidecar that stops deregisters: the caller answers "couldn't find service" at once
sb.stop()
time.sleep(1.1)  # the caller's resolution cache lives 1 s
t0 = time.time()
check_error(sa.request("GET", "/v1.0/invoke/b/method/m"), 500, "ERR_DIRECT_INVOKE", "couldn't find service: b")
check(time.time() - t0 < 1, "a deregistered app fails fast")
sb = sidecar("b", app_b)
st = sa.request("GET", "/v1.0/invoke/b/method/again")[0]
check(st == 200, f"the restarted sidecar is found again: {st}")

# SIGKILL mid-traffic: every call ends with the callee's answer or ERR_DIRECT_INVOKE; none hangs
results, lock, stop = [], threading.Lock(), threading.Event()


def hammer():
    while not stop.is_set():
        t = time.time()
        try:
            r = sa.request("GET", "/v1.0/invoke/b/method/hammer", timeout=15)
            out = (r[0], json.loads(r[2]).get("errorCode") if r[0] == 500 else None, time.time() - t)
        except Exception as e:  # noqa: BLE001
            out = ("exception", repr(e), time.time() - t)
        with lock:
            results.append(out)


threads = [threading.Thread(target=hammer) for _ in range(4)]
for t in threads:
    t.start()
time.sleep(0.5)
sb.kill()
killed_at = time.time()
time.sleep(3.5)  # past the 2 s staleness of b's registration
stop.set()
for t in threads:
    t.join(timeout=20)
check(not any(t.is_alive() for t in threads), "every caller returned")
ok = [r for r in results if r[0] == 200]
errs = [r for r in results if r[0] == 500 and r[1] == "ERR_DIRECT_INVOKE"]
other = [r for r in results if r[0] not in (200, 500) or (r[0] == 500 and r[1] != "ERR_DIRECT_INVOKE")]
check(len(ok) > 10, f"calls succeeded before the kill: {len(ok)}")
check(len(errs) >= 1, f"calls after the kill get ERR_DIRECT_INVOKE: {len(errs)}")
check(not other, f"only 200 or ERR_DIRECT_INVOKE: {other[:5]}")
check(max(r[2] for r in results) < 6, f"no call took long: {max(r[2] for r in results):.2f}s")
# once the registration is stale: couldn't find service, quickly
t0 = time.time()
check_error(sa.request("GET", "/v1.0/invoke/b/method/m"), 500, "ERR_DIRECT_INVOKE", "couldn't find service: b")
check(time.time() - t0 < 1, f"a stale registration is ignored: {time.time() - t0:.2f}s")
print(f"kill test: {len(ok)} ok, {len(errs)} ERR_DIRECT_INVOKE, slowest {max(r[2] for r in results):.2f}s")

# the restarted sidecar registers again (a new process, same app ID)
sb = sidecar("b", app_b)
check(sa.request("GET", "/v1.0/invoke/b/method/m")[0] == 200, "after restart")
sb.stop()
sa.stop()

# a static table: no registry file at all
pb = free_port()
sb = sidecar("b", app_b, cfg=config("""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: static-b}
spec:
  nameResolution: {component: static, configuration: {apps: {}}}
""", "static-b.yaml"), port=pb)
scfg = config(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {{name: static}}
spec:
  nameResolution:
    component: static
    configuration:
      apps:
        b: "127.0.0.1:{pb}"
        gone: ["127.0.0.1:{free_port()}"]
        gonetoo: ["127.0.0.1:{free_port()}"]
""", "static.yaml")
ss = sidecar("s", app_a, cfg=scfg, resources={"res.yaml": """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: timeout-only}
spec:
  policies:
    timeouts: {short: 2s}
  targets:
    apps:
      gonetoo: {timeout: short}
"""})
st, h, body = ss.request("POST", "/v1.0/invoke/b/method/st", b"s")
check(st == 201 and json.loads(body)["app"] == "b", f"static table s->b: {st} {body!r}")
check_error(ss.request("GET", "/v1.0/invoke/c/method/m"), 500, "ERR_DIRECT_INVOKE", "couldn't find service: c")
t0 = time.time()
check_error(ss.request("GET", "/v1.0/invoke/gone/method/m"), 500, "ERR_DIRECT_INVOKE", "connection refused")
el = time.time() - t0
check(2.5 < el < 6, f"DaprBuiltInServiceRetries: 3 retries 1 s apart on connection failure ({el:.2f}s)")
# as daprd's invokeWithRetry: any policy for the target (here a timeout only) replaces the built-in retries
t0 = time.time()
check_error(ss.request("GET", "/v1.0/invoke/gonetoo/method/m"), 500, "ERR_DIRECT_INVOKE", "connection refused")
el = time.time() - t0
check(el < 0.9, f"no built-in retries when a policy is defined for the app ({el:.2f}s)")
ss.stop()
sb.stop()

# configuration errors stop the start with a message
bad = Sidecar(BIN, app_id="x", args=["--config", config("""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: bad}
spec:
  nameResolution: {component: mdns}
""", "bad.yaml")], env=HOME)
bad.spawn()
check(bad.wait_exit(10) not in (0, None), "an unsupported resolver stops the start")
check("nameResolution component 'mdns' is not supported" in bad.logs(), f"message: {bad.logs()[-400:]}")
bad.finish_proc()
check(not os.path.exists(os.path.join(TMP, ".wasmgate")), "the default registry was not used")
finish()
