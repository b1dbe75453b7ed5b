"""wasm_apps_config.py: per-app Configuration and scopes of hosted wasm apps
(docs/wasm-apps.md section 7.3).

One sidecar (app ID `front`, --config acl.yaml) hosts, all the WAGI app tests/gate/apps/multi_app.c:
  - `plain` (`--app-wasm plain=URL`): no spec.config, so the sidecar's --config (which refuses
    the caller `orders`) judges its callers, as it judges front's;
  - `orders` (WasmApp, spec.config: a file path): its own Configuration refuses the caller `stock`;
  - `stock` (WasmApp, spec.config: the name of a `kind: Configuration` resource in the resources
    folder): its own Configuration refuses `front` and admits `orders`, whom --config refuses;
  - `scoped` (WasmApp, scopes: [front]): hosted;
  - `ghost` (WasmApp, scopes: [elsewhere], a module that does not exist): not loaded at all (the
    start succeeds), absent from /v1.0/metadata's wasmApps, and a call to it fails as a call to an
    unknown app ID does (500 ERR_DIRECT_INVOKE "couldn't find service: ghost").
Start errors: a spec.config naming no Configuration resource, a spec.config file that does not exist.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
start_alarm(100)
APP = "file://" + os.path.join(APPS, "multi_app.wasm")
CFG = tempfile.mkdtemp(prefix="wgg-appcfg-")


def acl(name, deny):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {{name: {name}}}\nspec:\n"
            f"  accessControl:\n    defaultAction: allow\n    policies:\n"
            f"    - {{appId: {deny}, defaultAction: deny}}\n")


with open(os.path.join(CFG, "global.yaml"), "w") as f:
    f.write(acl("global", "orders"))
with open(os.path.join(CFG, "orders.yaml"), "w") as f:
    f.write(acl("orderscfg", "stock"))

RESOURCES = f"""{acl("stockcfg", "plain")}---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: orders}}
spec:
  url: {APP}
  config: {os.path.join(CFG, "orders.yaml")}
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: stock}}
spec:
  url: {APP}
  config: stockcfg
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: scoped}}
spec: {{url: {APP}}}
scopes: [front, other]
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: ghost}}
spec: {{url: {APP}.missing}}
scopes: [elsewhere]
"""


def inv(sc, app, path):
    return sc.request("GET", f"/v1.0/invoke/{app}/method{path}", timeout=30)


def hop(sc, frm, to):
    """frm calls to's /whoami in-process through dapr:v1; (status seen by frm, body)."""
    st, h, b = inv(sc, frm, f"/invoke?app={to}&method=whoami")
    check(st == 200, f"{frm} answers: {st} {b!r}")
    return int(h.get("x-status", "0")), b


sc = Sidecar(BIN, app_id="front", args=["--app-wasm", APP, "--app-wasm", "plain=" + APP,
                                        "--config", os.path.join(CFG, "global.yaml"), "--threads", "2"])
sc.write_resource("all.yaml", RESOURCES)
try:
    sc.start(timeout=30)
    for app in ("front", "plain", "orders", "stock", "scoped"):
        st, _, b = inv(sc, app, "/whoami")  # from the sidecar's own ID, front, whom no configuration refuses
        check(st == 200 and b == app.encode(), f"invoke {app}: {st} {b!r}")

    # --config judges callers of the apps without spec.config
    st, b = hop(sc, "orders", "plain")
    check(st == 403 and b"ERR_DIRECT_INVOKE" in b, f"--config refuses orders -> plain: {st} {b!r}")
    st, b = hop(sc, "orders", "front")
    check(st == 403, f"--config refuses orders -> front: {st} {b!r}")
    st, b = hop(sc, "stock", "plain")
    check(st == 200 and b == b"plain", f"--config admits stock -> plain: {st} {b!r}")
    # orders' own file: refuses stock, admits plain
    st, b = hop(sc, "stock", "orders")
    check(st == 403 and b"ERR_DIRECT_INVOKE" in b, f"orders' configuration refuses stock: {st} {b!r}")
    st, b = hop(sc, "plain", "orders")
    check(st == 200 and b == b"orders", f"orders' configuration admits plain: {st} {b!r}")
    # stock's named resource admits orders, whom --config would refuse
    st, b = hop(sc, "orders", "stock")
    check(st == 200 and b == b"stock", f"stock's configuration admits orders: {st} {b!r}")
    st, b = hop(sc, "plain", "stock")
    check(st == 403 and b"ERR_DIRECT_INVOKE" in b, f"stock's configuration refuses plain: {st} {b!r}")
    st, b = hop(sc, "plain", "front")
    check(st == 200 and b == b"front", f"--config admits plain -> front: {st} {b!r}")

    # scopes: `scoped` is hosted, `ghost` is not
    st, _, b = sc.request("GET", "/v1.0/metadata")
    md = json.loads(b)
    hosted = sorted(a["id"] for a in md.get("wasmApps", []))
    check(hosted == ["orders", "plain", "scoped", "stock"], f"wasmApps: {hosted}")
    st, _, b = inv(sc, "ghost", "/whoami")
    check(st == 500 and b"ERR_DIRECT_INVOKE" in b and b"couldn't find service: ghost" in b,
          f"a WasmApp scoped elsewhere is not hosted: {st} {b!r}")
    st, b = hop(sc, "plain", "ghost")
    check(st == 500 and b"couldn't find service" in b, f"nor reachable in-process: {st} {b!r}")
    check("WasmApp ghost" in sc.logs() and "scopes do not include app ID front" in sc.logs(),
          f"the log says why ghost is not hosted: {sc.logs()[-800:]}")
finally:
    sc.cleanup()

# ---------------------------------------------------------------- start errors
for spec, want in [
    (f"{{url: {APP}, config: nope}}", "Configuration nope not found in the resources paths"),
    (f"{{url: {APP}, config: {CFG}/missing.yaml}}", "wasm app bad: "),
    (f"{{url: {APP}, config: ''}}", "WasmApp bad: spec.config: must not be empty"),
]:
    bad = Sidecar(BIN, app_id="front")
    bad.write_resource("app.yaml", f"apiVersion: wasmgate.io/v1alpha1\nkind: WasmApp\nmetadata: {{name: bad}}\n"
                                   f"spec: {spec}\n")
    bad.spawn()
    rc = bad.wait_exit(30)
    check(rc not in (None, 0) and want in bad.logs(), f"start refused ({want}): rc {rc} {bad.logs()[-500:]}")
    bad.cleanup()
shutil.rmtree(CFG, ignore_errors=True)
finish()
