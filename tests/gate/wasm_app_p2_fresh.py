"""wasm_app_p2_fresh.py: the fresh policy of a wasi:http component reuses instances reset to their
initial state (docs/wasm-apps.md "Instance policies"; engine wg_component_instance_reset).

tests/components/http/fresh.c, built at test time (clang-19 + jco embed/new), hosted twice with
WasmApp resources: `fresh` (the default policy, a 300 ms deadline) and `pooled`. Its /mutate route
reports the state it finds (a static counter, a static buffer, the memory's size, the bump
allocator's position, the index a new handle gets, the static answer buffer's fill) and then
changes all of it (counter and buffer written, 4 MiB grown, a handle left undropped). Every
answer of the fresh app, sequential or concurrent, after a trap in the middle of a mutation
(/mutate?trap) and after a guest stopped at its deadline (/spin), shows the state of the first
one; and the instances are reused (wasmgate_wasm_app_pool_hits_total grows, far fewer instances
are made than calls), which fails on a sidecar that instantiates a component per request. The
pooled app, by contrast, keeps its state.
Skipped (77) when clang-19, node or jco is missing (a failure under CI).
"""
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(170)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")
URL = "file://" + os.path.join(OUT, "fresh.wasm")
RESOURCES = f"""apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: fresh}}
spec: {{url: {URL}, timeout: 300ms}}
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: pooled}}
spec: {{url: {URL}, instances: pooled}}
"""
STATE = re.compile(rb"^counter=(\d+) scratch=(\d+) pages=(\d+) heap=(\d+) handle=(\d+) out=(\d+)$")


def metric(sc, name, app):
    st, _, body = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=30)
    for ln in body.decode().splitlines():
        if ln.startswith(name + "{") and f'app_id="{app}"' in ln:
            return float(ln.rsplit(" ", 1)[1])
    return 0.0


def call(sc, app, path, results):
    st, _, b = sc.request("GET", f"/v1.0/invoke/{app}/method{path}", timeout=30)
    results.append((st, b))


sc = Sidecar(BIN, app_id="front")
sc.write_resource("apps.yaml", RESOURCES)
sc.start(timeout=60)
try:
    created0, hits0 = (metric(sc, "wasmgate_wasm_app_instances_created_total", "fresh"),
                       metric(sc, "wasmgate_wasm_app_pool_hits_total", "fresh"))
    seen, calls = [], 0
    for i in range(24):
        path = "/mutate?trap" if i % 5 == 3 else "/spin" if i == 7 else "/mutate"
        res = []
        call(sc, "fresh", path, res)
        calls += 1
        st, b = res[0]
        if path != "/mutate":
            check(st == 500, f"fresh {path}: {st} {b!r}")
            continue
        seen.append((st, b))
    res = []  # concurrent requests: several instances at once, each reset
    ths = [threading.Thread(target=call, args=(sc, "fresh", "/mutate", res)) for _ in range(16)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    calls += 16
    seen += res
    first = STATE.match(seen[0][1]) if seen and seen[0][0] == 200 else None
    check(first is not None and first.group(1) == b"0" and first.group(2) == b"0" and first.group(6) == b"0",
          f"the first answer shows a new instance: {seen[:1]}")
    bad = [(st, b) for st, b in seen if st != 200 or not first or STATE.match(b) is None
           or STATE.match(b).groups() != first.groups()]
    check(not bad and len(seen) > 30, f"every request sees the pristine state: {bad[:3]} of {len(seen)}")
    created = metric(sc, "wasmgate_wasm_app_instances_created_total", "fresh") - created0
    hits = metric(sc, "wasmgate_wasm_app_pool_hits_total", "fresh") - hits0
    check(created + hits == calls and hits >= calls / 2,
          f"reset instances serve most calls: {calls} calls, {created} made, {hits} reused")
    # the pooled policy keeps what the guest changed (an instance goes back to the pool after its
    # answer is sent: the next call may overtake it on the other loop thread and make a second one)
    res = []
    for _ in range(6):
        call(sc, "pooled", "/mutate", res)
    warm = [m for m in (STATE.match(b) for st, b in res if st == 200) if m and m.group(1) != b"0"]
    check(warm and warm[-1].group(2) == b"7" and int(warm[-1].group(3)) > int(first.group(3)),
          f"pooled keeps its state: {res}")
finally:
    sc.stop()
    sc.cleanup()
finish()
