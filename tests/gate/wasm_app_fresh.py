"""wasm_app_fresh.py: the fresh policy reuses instances reset to their initial state
(docs/wasm-apps.md "Instance policies"; engine wg_instance_reset, WASI wg_wasi_reset).

Two hosted apps with the default `fresh` policy: a WAGI program (wagi_app.c) and an http-wasm
handler (hw_app.c). Their /mutate route reports the state it finds (a static counter, a static
buffer, the memory's size, whether stderr is open, for WAGI an environment variable it sets) and
then changes all of it: counter and buffer written, 4 MiB malloc'd (memory grows), stderr closed,
setenv. Every answer, sequential or concurrent, after a trap in the middle of a mutation
(/mutate/trap, /mutate?trap) and after a guest stopped at its deadline (/spin, WasmApp timeout),
shows the pristine state; and the instances are reused (wasmgate_wasm_app_pool_hits_total grows,
far fewer instances are made than calls), which is what fails on a sidecar that instantiates per
request. A pooled app, by contrast, keeps its state.
"""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
start_alarm(100)
WAGI = "file://" + os.path.join(APPS, "wagi_app.wasm")
HW = "file://" + os.path.join(APPS, "hw_app.wasm")
RESOURCES = f"""apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: wagi}}
spec:
  url: {WAGI}
  timeout: 300ms
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: hw}}
spec: {{url: {HW}}}
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: hwpooled}}
spec: {{url: {HW}, instances: pooled}}
"""
STATE = re.compile(rb"counter=(\d+) scratch=(\d+) pages=(\d+) stderr=(\d)(?: leak=(.*))?$")


def metric(sc, name, app):
    st, _, body = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=30)
    for ln in body.decode().splitlines():
        if ln.startswith(name + "{") and f'app_id="{app}"' in ln:
            return float(ln.rsplit(" ", 1)[1])
    return 0.0


def mutate(sc, app, path, results):
    st, _, b = sc.request("GET", f"/v1.0/invoke/{app}/method{path}", timeout=30)
    results.append((st, b))


sc = Sidecar(BIN, app_id="front")
sc.write_resource("apps.yaml", RESOURCES)
sc.start(timeout=30)
try:
    pages = {}
    for app in ("wagi", "hw"):
        created0, hits0 = (metric(sc, "wasmgate_wasm_app_instances_created_total", app),
                           metric(sc, "wasmgate_wasm_app_pool_hits_total", app))
        seen, calls = [], 0
        for i in range(24):
            path = "/mutate"
            if i % 5 == 3:  # trapped in the middle of a mutation
                path = "/mutate/trap" if app == "wagi" else "/mutate?trap"
            elif i == 7 and app == "wagi":  # stopped at its deadline after spinning
                path = "/spin"
            res = []
            mutate(sc, app, path, res)
            calls += 1
            st, b = res[0]
            if path != "/mutate":
                check(st == 500, f"{app} {path}: {st} {b!r}")
                continue
            seen.append((st, b))
        # concurrent requests: several instances at once, each reset
        res = []
        ths = [threading.Thread(target=mutate, args=(sc, app, "/mutate", res)) for _ in range(16)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        calls += 16
        seen += res
        bad = []
        for st, b in seen:
            m = STATE.search(b)
            if st != 200 or not m:
                bad.append((st, b))
                continue
            pages.setdefault(app, m.group(3))
            if (m.group(1), m.group(2), m.group(3), m.group(4)) != (b"0", b"0", pages[app], b"1") or (m.group(5) or b""):
                bad.append((st, b))
        check(not bad and len(seen) > 30, f"{app}: every request sees the pristine state: {bad[:3]} of {len(seen)}")
        created = metric(sc, "wasmgate_wasm_app_instances_created_total", app) - created0
        hits = metric(sc, "wasmgate_wasm_app_pool_hits_total", app) - hits0
        check(created + hits == calls and hits >= calls / 2,
              f"{app}: reset instances serve most calls: {calls} calls, {created} made, {hits} reused")
    # the pooled policy keeps what the guest changed
    res = []
    mutate(sc, "hwpooled", "/mutate", res)
    mutate(sc, "hwpooled", "/mutate", res)
    check(res[1][0] == 200 and b"counter=1" in res[1][1], f"pooled keeps its state: {res}")
finally:
    sc.stop()
    sc.cleanup()
finish()
