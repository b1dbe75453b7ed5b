"""wasm_apps_multi.py: one wasmgate, many wasm apps (docs/wasm-apps.md section 7), and app health
probes of wasm apps (--enable-app-health-check through the app channel).

One sidecar (app ID `front`, itself a wasm app) hosts `orders` (`--app-wasm orders=URL`) and
`stock` (a `kind: WasmApp` resource), all the WAGI app tests/gate/apps/multi_app.c:
  - each app ID is reachable by service invocation on the sidecar's port, and the apps invoke
    each other in-process through dapr:v1, the callee seeing dapr-caller-app-id as from another
    sidecar, and the callee's accessControl judging the caller's ID;
  - each app's GET /dapr/subscribe subscribes it to its own topic: a message published over HTTP
    reaches that app only (pubsub.in-memory is shared by the apps of the process, one copy per app ID);
    a declarative Subscription scoped to one app and an input binding (cron) scoped to another
    reach only theirs;
  - state keys carry each app's own prefix in the shared store;
  - component scopes: a store scoped to `orders` is reachable from orders, not from stock or front;
  - /v1.0/metadata shows the sidecar's own ID plus `wasmApps`, and each app's own metadata (through
    dapr:v1) shows its ID, its components and its subscriptions;
  - a second sidecar (another process, the same name-resolution registry) invokes a hosted app ID,
    and so does the gRPC API's InvokeService;
  - flag and resource errors stop the start with a clear message.
Health: with --enable-app-health-check, a wasm app whose /healthz answers 503 turns unhealthy
(calls refused with daprd's "app is not in a healthy state") and healthy again; one hosted app's
state does not affect another's.
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
start_alarm(115)
APP = "file://" + os.path.join(APPS, "multi_app.wasm")
HOME = tempfile.mkdtemp(prefix="wgg-multi-")  # one name-resolution registry for both sidecars

RESOURCES = f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: statestore}}
spec:
  type: state.sqlite
  version: v1
  metadata:
  - {{name: connectionString, value: "{HOME}/state.db"}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: pubsub}}
spec: {{type: pubsub.in-memory, version: v1}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: private}}
spec:
  type: state.in-memory
  version: v1
scopes: [orders]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {{name: decl}}
spec:
  pubsubname: pubsub
  topic: declared
  routes: {{default: /events}}
scopes: [stock]
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: tick}}
spec:
  type: bindings.cron
  version: v1
  metadata:
  - {{name: schedule, value: "@every 1s"}}
scopes: [orders]
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: stock}}
spec:
  url: {APP}
  instances: fresh
  maxMemory: 32Mi
  timeout: 5s
  maxConcurrency: 8
"""


def until(fn, what, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    check(False, f"{what} (last: {last!r})")
    return None


def inv(sc, app, path, method="GET", body=None):
    return sc.request(method, f"/v1.0/invoke/{app}/method{path}", body=body, timeout=30)


sc = Sidecar(BIN, app_id="front", args=["--app-wasm", APP, "--app-wasm", "orders=" + APP, "--threads", "2"],
             env={"HOME": HOME})
sc.write_resource("all.yaml", RESOURCES)
caller = None
try:
    sc.start(timeout=30)
    for app in ("front", "orders", "stock"):
        st, h, b = inv(sc, app, "/whoami")
        check(st == 200 and b == app.encode(), f"invoke {app}: {st} {b!r}")
    # in-process calls between hosted apps, both ways, and to the sidecar's own app
    for frm, to in (("front", "stock"), ("stock", "orders"), ("orders", "front")):
        st, h, b = inv(sc, frm, f"/invoke?app={to}&method=whoami")
        check(st == 200 and b == to.encode() and h.get("x-status") == "200", f"{frm} -> {to}: {st} {h} {b!r}")
    # the callee sees who called, as from another sidecar (dapr-caller-app-id / dapr-callee-app-id)
    st, h, b = inv(sc, "stock", "/invoke?app=orders&method=caller")
    check(st == 200 and b == b"stock>orders", f"in-process caller and callee IDs: {st} {b!r}")
    st, h, b = inv(sc, "orders", "/caller")
    check(st == 200 and b == b"front>orders", f"a call through the sidecar's API comes from its own ID: {st} {b!r}")
    st, h, b = inv(sc, "orders", "/invoke?app=nobody&method=whoami")
    check(st == 200 and h.get("x-status") == "500" and b"ERR_DIRECT_INVOKE" in b,
          f"unknown app ID from a hosted app: {st} {h} {b!r}")

    # pub/sub: each app subscribed itself to <id>-events; a message reaches that app only
    st, _, b = sc.request("POST", "/v1.0/publish/pubsub/orders-events", body={"n": 1},
                          headers={"Content-Type": "application/json"})
    check(st == 204, f"publish: {st} {b!r}")

    def got(app):
        st, _, b = inv(sc, app, "/get?key=last-event")
        return b if st == 200 else None
    ev = until(lambda: got("orders"), "orders receives orders-events")
    check(ev and json.loads(ev).get("data") == {"n": 1}, f"the event: {ev!r}")
    st, _, b = sc.request("POST", "/v1.0/publish/pubsub/stock-events", body={"n": 2},
                          headers={"Content-Type": "application/json"})
    ev = until(lambda: got("stock"), "stock receives stock-events")
    check(ev and json.loads(ev).get("data") == {"n": 2}, f"stock's event: {ev!r}")
    check(json.loads(got("orders")).get("data") == {"n": 1}, "orders did not get stock's topic")
    check(got("front") is None, "front subscribed to neither")
    # a hosted app publishes; the other receives it (the in-memory bus is shared in the process)
    st, _, b = inv(sc, "stock", "/publish?topic=orders-events", method="POST", body=b'{"n": 3}')
    check(st == 204, f"stock publishes: {st} {b!r}")
    until(lambda: (got("orders") or b"").find(b'"n": 3') >= 0 or (got("orders") or b"").find(b'"n":3') >= 0,
          "orders receives stock's message")

    # a declarative Subscription scoped to stock: stock gets the topic, orders does not
    st, _, b = sc.request("POST", "/v1.0/publish/pubsub/declared", body={"n": 4},
                          headers={"Content-Type": "application/json"})
    until(lambda: b'"n":4' in (got("stock") or b"").replace(b" ", b""), "stock receives the declared topic")
    check(b'"n":4' not in (got("orders") or b"").replace(b" ", b""), "orders is not subscribed to it")
    # an input binding scoped to orders calls orders only
    until(lambda: inv(sc, "orders", "/get?key=last-tick")[0] == 200, "the cron binding calls orders")
    st, _, b = inv(sc, "stock", "/get?key=last-tick")
    check(st == 404, f"the cron binding does not call stock: {st} {b!r}")

    # state keys carry each app's prefix in the shared store
    db = sqlite3.connect(os.path.join(HOME, "state.db"), timeout=30)
    keys = {k for (k,) in db.execute("SELECT key FROM state")}
    db.close()
    check({"orders||last-event", "stock||last-event"} <= keys, f"each app's key prefix: {keys}")

    # scopes: `private` is orders' only
    st, _, b = inv(sc, "orders", "/put?store=private&key=k", method="POST", body=b'"secret"')
    check(st == 204, f"orders reaches its scoped store: {st} {b!r}")
    st, _, b = inv(sc, "orders", "/get?store=private&key=k")
    check(st == 200 and b == b'"secret"', f"orders reads it: {st} {b!r}")
    st, _, b = inv(sc, "stock", "/get?store=private&key=k")
    check(st == 502 and b"ERR_STATE_STORE_NOT_FOUND" in b, f"stock cannot reach orders' store: {st} {b!r}")
    st, _, b = sc.request("GET", "/v1.0/state/private/k")
    check(st == 400 and b"ERR_STATE_STORE_NOT_FOUND" in b, f"front cannot either: {st} {b!r}")

    # metadata: the sidecar's own ID plus the hosted apps; each app's own view through dapr:v1
    st, _, b = sc.request("GET", "/v1.0/metadata")
    md = json.loads(b)
    check(md.get("id") == "front", f"metadata id: {md.get('id')}")
    hosted = {a["id"]: a for a in md.get("wasmApps", [])}
    check(sorted(hosted) == ["orders", "stock"], f"wasmApps: {list(hosted)}")
    check(md["appConnectionProperties"].get("wasm", {}).get("abi") == "wagi", f"front's module: {md['appConnectionProperties']}")
    if sorted(hosted) == ["orders", "stock"]:
        oc = {c["name"] for c in hosted["orders"]["components"]}
        sc_ = {c["name"] for c in hosted["stock"]["components"]}
        check("private" in oc and "private" not in sc_, f"scoped components: {oc} {sc_}")
        check([s["topic"] for s in hosted["orders"]["subscriptions"]] == ["orders-events"],
              f"orders' subscriptions: {hosted['orders']['subscriptions']}")
        w = hosted["stock"].get("wasm", {})
        check(w.get("maxMemoryPages") == 512 and w.get("timeoutMs") == 5000 and
              hosted["stock"]["appConnectionProperties"].get("maxConcurrency") == 8, f"stock's limits: {hosted['stock']}")
    st, _, b = inv(sc, "orders", "/metadata")
    om = json.loads(b) if st == 200 else {}
    check(om.get("id") == "orders" and "wasmApps" not in om, f"orders' own metadata: {b[:300]!r}")
    check([s["topic"] for s in om.get("subscriptions", [])] == ["orders-events"], f"orders' subscriptions: {om}")

    # the gRPC API's InvokeService reaches a hosted app ID too (grpcio and stubs compiled from proto/)
    import grpc
    gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto"])
    from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
    from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
    from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402
    with grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}") as ch:
        r = DG.DaprStub(ch).InvokeService(D.InvokeServiceRequest(id="stock", message=C.InvokeRequest(
            method="whoami", http_extension=C.HTTPExtension(verb=C.HTTPExtension.GET))), timeout=30)
        check(r.data.value == b"stock", f"gRPC InvokeService -> hosted stock: {r}")
    shutil.rmtree(gen, ignore_errors=True)

    # another sidecar (another process) reaches a hosted app ID through name resolution
    caller = Sidecar(BIN, app_id="caller", env={"HOME": HOME}).start(timeout=30)
    st, _, b = caller.request("GET", "/v1.0/invoke/stock/method/whoami", timeout=30)
    check(st == 200 and b == b"stock", f"remote sidecar -> hosted stock: {st} {b!r}")
    st, _, b = caller.request("GET", "/v1.0/invoke/orders/method/invoke?app=front&method=whoami", timeout=30)
    check(st == 200 and b == b"front", f"remote -> orders -> front: {st} {b!r}")
finally:
    if caller:
        caller.cleanup()
    sc.cleanup()

# ---------------------------------------------------------------- accessControl between hosted apps
cfg_dir = tempfile.mkdtemp(prefix="wgg-multi-acl-")
with open(os.path.join(cfg_dir, "acl.yaml"), "w") as f:
    f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: acl}\nspec:\n"
            "  accessControl:\n    defaultAction: allow\n    policies:\n"
            "    - {appId: stock, defaultAction: deny}\n")
ac = Sidecar(BIN, app_id="front", args=["--app-wasm", "orders=" + APP, "--app-wasm", "stock=" + APP,
                                        "--config", os.path.join(cfg_dir, "acl.yaml")])
try:
    ac.start(timeout=30)
    st, h, b = inv(ac, "stock", "/invoke?app=orders&method=whoami")
    check(st == 200 and h.get("x-status") == "403" and b"ERR_DIRECT_INVOKE" in b,
          f"orders' accessControl refuses stock in-process: {st} {h} {b!r}")
    st, h, b = inv(ac, "orders", "/invoke?app=stock&method=whoami")
    check(st == 200 and b == b"stock", f"orders may call stock: {st} {b!r}")
finally:
    ac.cleanup()
    shutil.rmtree(cfg_dir, ignore_errors=True)

# ---------------------------------------------------------------- start errors
for args, res, want in [
    (["--app-wasm", "orders=" + APP, "--app-wasm", "orders=" + APP], None, "app ID orders is hosted twice"),
    (["--app-wasm", APP, "--app-wasm", "front=" + APP], None, "given twice"),
    (["--app-wasm", "bad=" + APP + ".missing"], None, "wasm app bad"),
    ([], "apiVersion: wasmgate.io/v1alpha1\nkind: WasmApp\nmetadata: {name: w}\nspec: {url: " + APP +
     ", instances: sometimes}\n", "WasmApp w: spec.instances: expected fresh or pooled"),
    ([], "apiVersion: wasmgate.io/v1alpha1\nkind: WasmApp\nmetadata: {name: w}\nspec: {}\n",
     "WasmApp w: spec.url is required"),
    ([], "apiVersion: dapr.io/v1alpha1\nkind: WasmApp\nmetadata: {name: w}\nspec: {url: " + APP + "}\n",
     "apiVersion must be wasmgate.io/v1alpha1"),
]:
    bad = Sidecar(BIN, app_id="front", args=args)
    if res:
        bad.write_resource("app.yaml", res)
    bad.spawn()
    rc = bad.wait_exit(30)
    check(rc not in (None, 0) and want in bad.logs(), f"start refused ({want}): rc {rc} {bad.logs()[-500:]}")
    bad.cleanup()

# ---------------------------------------------------------------- health probes of wasm apps
hs = Sidecar(BIN, app_id="front", args=["--app-wasm", APP, "--app-wasm", "orders=" + APP, "--enable-app-health-check",
                                        "--app-health-probe-interval", "1", "--app-health-threshold", "1"])
try:
    hs.start(timeout=30)
    for app in ("front", "orders"):
        until(lambda: inv(hs, app, "/whoami")[0] == 200, f"{app} becomes healthy")
    st, _, b = inv(hs, "orders", "/put?key=sick", method="POST", body=b"true")
    check(st == 204, f"orders turns sick: {st} {b!r}")
    until(lambda: inv(hs, "orders", "/whoami")[0] == 500, "orders' calls are refused once its probe fails")
    st, _, b = inv(hs, "orders", "/whoami")
    check(b"app is not in a healthy state" in b, f"daprd's message: {st} {b!r}")
    st, _, b = inv(hs, "front", "/whoami")
    check(st == 200, f"front is still healthy: {st} {b!r}")
    st, _, b = hs.request("POST", "/v1.0/state/statestore", body=[{"key": "sick", "value": True}])  # front||sick
    until(lambda: inv(hs, "front", "/whoami")[0] == 500, "front turns unhealthy too")
    st, _, b = hs.request("POST", "/v1.0/state/statestore", body=[{"key": "sick", "value": False}])
    until(lambda: inv(hs, "front", "/whoami")[0] == 200, "front recovers")
    check("App entered un-healthy status: orders" in hs.logs(), "the log names the hosted app")
finally:
    hs.cleanup()
shutil.rmtree(HOME, ignore_errors=True)
finish()
