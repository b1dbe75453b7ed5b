"""wasm_apps_metrics.py: per-app Prometheus series (docs/wasm-apps.md section 7.4, docs/sidecar.md
"Metrics and logs"). One sidecar (app ID `front`, a WAGI wasm app) hosts `orders` (`--app-wasm
orders=URL`, WAGI, fresh) and `hw` (a `kind: WasmApp` http-wasm app, pooled). After a baseline
scrape of /metrics on the metrics port, a known number of calls is made and the deltas of every
family are asserted per app_id, as if each app had its own sidecar:
  - dapr_http_server_request_count: calls on the sidecar's port count under `front`; a hosted app's
    dapr:v1 calls (its calls to its sidecar's API) count under its own ID, by route;
  - dapr_http_client_completed_count / roundtrip latency: calls to each app through its app channel;
  - dapr_service_invocation_req_sent_total / req_recv_total with destination/source app IDs,
    in-process calls between hosted apps included;
  - dapr_component_state_count of the shared store, per app ID;
  - dapr_component_pubsub_egress_count (publisher's ID) and ingress_count (subscriber's ID);
  - dapr_component_input_binding_count under the app ID a cron binding is scoped to, and
    dapr_component_output_binding_count under the calling app ID (a second sidecar);
  - wasmgate_wasm_app_*: calls, instances created, pool hits, failures by kind, CPU time, parked.
The exposition is well-formed: each family has one TYPE line, its series grouped after it.
"""
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
start_alarm(100)
APP = "file://" + os.path.join(APPS, "multi_app.wasm")
HW = "file://" + os.path.join(APPS, "hw_app.wasm")

RESOURCES = f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: statestore}}
spec: {{type: state.in-memory, version: v1}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: pubsub}}
spec: {{type: pubsub.in-memory, version: v1}}
---
apiVersion: wasmgate.io/v1alpha1
kind: WasmApp
metadata: {{name: hw}}
spec:
  url: {HW}
  instances: pooled
"""

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(sc):
    st, h, body = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=30)
    check(st == 200 and h.get("content-type", "").startswith("text/plain; version=0.0.4"), f"metrics: {st} {h}")
    text = body.decode()
    series, types, seen_family, current = {}, {}, [], None
    for ln in text.splitlines():
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ", 3)
            check(name not in types, f"one TYPE line per family: {name}")
            types[name] = typ
            current = name
            seen_family.append(name)
            continue
        if not ln or ln.startswith("#"):
            continue
        m = LINE.match(ln)
        check(m is not None, f"a well-formed sample line: {ln!r}")
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        base = re.sub(r'_(bucket|sum|count)$', '', name) if current and current.endswith("_ms") else name
        check(base == current or name == current, f"sample {name} grouped under its family's TYPE ({current})")
        series[(name, frozenset(LABEL.findall(labels)))] = value
    return series, types


def val(s, name, **labels):
    """The sum of the samples of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in s.items() if n == name and want <= set(ls))


def delta(a, b, name, **labels):
    return val(b, name, **labels) - val(a, name, **labels)


def inv(sc, app, path, method="POST", body=b""):
    return sc.request(method, f"/v1.0/invoke/{app}/method{path}", body=body, timeout=30)


sc = Sidecar(BIN, app_id="front", args=["--app-wasm", APP, "--app-wasm", "orders=" + APP, "--threads", "2"])
sc.write_resource("all.yaml", RESOURCES)
try:
    sc.start(timeout=30)
    # the subscriptions are read (GET /dapr/subscribe) before the baseline
    deadline = time.time() + 30
    while time.time() < deadline:
        st, _, b = sc.request("GET", "/v1.0/metadata")
        if b"orders-events" in b and b"front-events" in b:
            break
        time.sleep(0.1)
    s0, types = scrape(sc)
    for fam, typ in (("dapr_http_server_request_count", "counter"), ("dapr_http_server_latency_ms", "histogram"),
                     ("dapr_http_client_completed_count", "counter"),
                     ("dapr_http_client_roundtrip_latency_ms", "histogram"),
                     ("dapr_service_invocation_req_sent_total", "counter"),
                     ("dapr_service_invocation_req_recv_total", "counter"),
                     ("dapr_component_state_count", "counter"), ("dapr_component_pubsub_egress_count", "counter"),
                     ("dapr_component_pubsub_ingress_count", "counter"), ("wasmgate_wasm_app_calls_total", "counter"),
                     ("wasmgate_wasm_app_instances_created_total", "counter"),
                     ("wasmgate_wasm_app_pool_hits_total", "counter"), ("wasmgate_wasm_app_parked", "gauge"),
                     ("wasmgate_wasm_app_failures_total", "counter"), ("wasmgate_wasm_app_cpu_seconds_total", "counter")):
        check(types.get(fam) == typ, f"family {fam} is a {typ}: {types.get(fam)}")
    for app in ("front", "orders", "hw"):
        check(("wasmgate_wasm_app_calls_total", frozenset({("app_id", app)})) in s0, f"{app} has wasm series from the start")

    # 3 calls to orders, 1 to front, on the sidecar's port (POST: start-up calls to apps are GETs)
    for _ in range(3):
        st, _, b = inv(sc, "orders", "/whoami")
        check(st == 200 and b == b"orders", f"invoke orders: {st} {b!r}")
    st, _, b = inv(sc, "front", "/whoami")
    check(st == 200 and b == b"front", f"invoke front: {st} {b!r}")
    # orders calls hw twice in-process (dapr:v1 invoke, a GET), and saves/reads state once
    for _ in range(2):
        st, h, b = inv(sc, "orders", "/invoke?app=hw&method=hello")
        check(st == 200 and h.get("x-status") == "200" and b.startswith(b"hello"), f"orders -> hw: {st} {h} {b!r}")
    st, _, b = inv(sc, "orders", "/put?key=k", body=b'"v"')
    check(st == 204, f"orders saves: {st} {b!r}")
    st, _, b = inv(sc, "orders", "/get?key=k")
    check(st == 200 and b == b'"v"', f"orders reads: {st} {b!r}")
    # one more hw call from the port (pooled: warm instances serve the three)
    st, _, b = inv(sc, "hw", "/hello", method="GET")
    check(st == 200, f"invoke hw: {st} {b!r}")
    # front publishes once to orders' topic (the sidecar's own API), orders receives it
    st, _, b = sc.request("POST", "/v1.0/publish/pubsub/orders-events", body={"n": 1},
                          headers={"Content-Type": "application/json"})
    check(st == 204, f"publish: {st} {b!r}")
    deadline, polls = time.time() + 30, 0
    while time.time() < deadline:
        polls += 1
        st, _, b = inv(sc, "orders", "/get?key=last-event", method="GET")
        if st == 200:
            break
        time.sleep(0.1)
    check(st == 200, f"orders received the event: {st} {b!r}")
    # a trap in orders: that request fails, counted by kind
    st, _, b = inv(sc, "orders", "/trap")
    check(st == 500 and b"unreachable" in b, f"a trap: {st} {b!r}")

    s1, _ = scrape(sc)
    if os.environ.get("WG_DEBUG_METRICS"):
        for k in sorted(set(s1) | set(s0), key=str):
            if s1.get(k, 0) != s0.get(k, 0):
                print(k, s0.get(k, 0), s1.get(k, 0))
    D = lambda name, **l: delta(s0, s1, name, **l)  # noqa: E731
    # the sidecar's API on its port: every call above came in as front's invoke route
    check(D("dapr_http_server_request_count", app_id="front", route="invoke", method="POST", status="200") == 7,
          f"front's API served 7 POST invokes with 200: {D('dapr_http_server_request_count', app_id='front', route='invoke', method='POST')}")
    check(D("dapr_http_server_request_count", app_id="front", route="publish", status="204") == 1, "front published once")
    check(D("dapr_http_server_request_count", app_id="orders", route="invoke") == 2,
          f"orders' dapr:v1 invokes count under orders: {D('dapr_http_server_request_count', app_id='orders', route='invoke')}")
    check(D("dapr_http_server_request_count", app_id="orders", route="state.save") == 2,
          f"orders saved twice (put, the event): {D('dapr_http_server_request_count', app_id='orders', route='state.save')}")
    check(D("dapr_http_server_request_count", app_id="orders", route="state.get") >= 2, "orders' state gets")
    check(D("dapr_http_server_request_count", app_id="hw") == 0, "hw made no dapr:v1 call")
    check(D("dapr_http_server_request_count", app_id="front", route="state.get") == 0, "front made no state call")
    check(D("dapr_http_server_latency_ms_count", app_id="orders", route="invoke") == 2, "orders' latency histogram")
    # the app channels
    check(D("dapr_http_client_completed_count", app_id="orders", method="POST", status="200") == 7,
          "orders' app channel: 3 whoami, 2 invoke, 1 get, 1 event")
    check(D("dapr_http_client_completed_count", app_id="orders", method="GET", status="200") == 1,
          "orders' app channel: the poll that found the event")
    check(D("dapr_http_client_completed_count", app_id="orders", method="POST", status="204") == 1, "orders' put")
    check(D("dapr_http_client_completed_count", app_id="orders", method="POST", status="500") == 1, "orders' trap")
    check(D("dapr_http_client_completed_count", app_id="front", method="POST", status="200") == 1, "front's call")
    check(D("dapr_http_client_completed_count", app_id="hw", method="GET", status="200") == 3, "hw's 3 calls")
    check(D("dapr_http_client_roundtrip_latency_ms_count", app_id="hw") == 3, "hw's roundtrip histogram")
    # service invocation, by peer
    check(D("dapr_service_invocation_req_sent_total", app_id="front", destination_app_id="orders") == 8 + polls,
          f"front -> orders: {D('dapr_service_invocation_req_sent_total', app_id='front', destination_app_id='orders')}")
    check(D("dapr_service_invocation_req_sent_total", app_id="orders", destination_app_id="hw") == 2, "orders -> hw")
    check(D("dapr_service_invocation_req_recv_total", app_id="hw", source_app_id="orders") == 2, "hw <- orders")
    check(D("dapr_service_invocation_req_recv_total", app_id="hw", source_app_id="front") == 1, "hw <- front")
    check(D("dapr_service_invocation_req_recv_total", app_id="orders", source_app_id="front") == 8 + polls,
          "orders <- front")
    check(D("dapr_service_invocation_req_recv_total", app_id="front", source_app_id="front") == 1, "front <- front")
    # state, per app ID, in the one shared store
    check(D("dapr_component_state_count", app_id="orders", component="statestore", operation="set", success="true") == 2,
          "orders' sets")
    check(D("dapr_component_state_count", app_id="front", component="statestore") == 0, "front's store untouched")
    # pub/sub
    check(D("dapr_component_pubsub_egress_count", app_id="front", component="pubsub", topic="orders-events",
            success="true") == 1, "front's egress")
    check(D("dapr_component_pubsub_ingress_count", app_id="orders", component="pubsub", topic="orders-events",
            process_status="success") == 1, "orders' ingress")
    check(D("dapr_component_pubsub_ingress_count", app_id="front") == 0, "front received nothing")
    # wasm apps
    calls = D("wasmgate_wasm_app_calls_total", app_id="orders")
    created, reused = (D("wasmgate_wasm_app_instances_created_total", app_id="orders"),
                       D("wasmgate_wasm_app_pool_hits_total", app_id="orders"))
    check(calls == 9 + polls and calls == created + reused,
          f"orders (fresh): a new or a reset instance per call: {calls} = {created} + {reused}")
    check(D("wasmgate_wasm_app_calls_total", app_id="hw") == 3, "hw's calls")
    hits = D("wasmgate_wasm_app_pool_hits_total", app_id="hw")
    check(hits >= 1 and hits + D("wasmgate_wasm_app_instances_created_total", app_id="hw") == 3,
          f"hw (pooled) reuses warm instances: {hits} hits")
    check(D("wasmgate_wasm_app_failures_total", app_id="orders", kind="unreachable") == 1, "orders' trap by kind")
    check(D("wasmgate_wasm_app_failures_total", app_id="front") == 0, "front did not fail")
    check(D("wasmgate_wasm_app_cpu_seconds_total", app_id="orders") > 0, "orders' CPU time")
    check(val(s1, "wasmgate_wasm_app_parked", app_id="orders") == 0, "nothing parked at rest")
finally:
    sc.stop()

# input bindings count under the app ID they are scoped to (a cron binding scoped to orders)
STORE_DIR = tempfile.mkdtemp(prefix="wgg-metrics-")
CRON = f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: files}}
spec:
  type: bindings.localstorage
  version: v1
  metadata:
  - {{name: rootPath, value: "{STORE_DIR}"}}
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
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: statestore}}
spec: {{type: state.in-memory, version: v1}}
"""
sc2 = Sidecar(BIN, app_id="front", args=["--app-wasm", APP, "--app-wasm", "orders=" + APP])
sc2.write_resource("all.yaml", CRON)
try:
    sc2.start(timeout=30)
    deadline, s2 = time.time() + 30, {}
    while time.time() < deadline:
        s2, _ = scrape(sc2)
        if val(s2, "dapr_component_input_binding_count", app_id="orders", component="tick", success="true") >= 1:
            break
        time.sleep(0.2)
    check(val(s2, "dapr_component_input_binding_count", app_id="orders", component="tick", success="true") >= 1,
          "the cron binding's events count under orders")
    check(val(s2, "dapr_component_input_binding_count", app_id="front") == 0, "and not under front")
    check(val(s2, "dapr_http_server_request_count", app_id="orders", route="state.save") >= 1,
          "orders' tick handler saved through dapr:v1")
    # an output binding called on the sidecar's port counts under its own ID
    st, _, b = sc2.request("POST", "/v1.0/bindings/files", body={"operation": "create", "data": "x",
                                                                 "metadata": {"fileName": "a.txt"}},
                           headers={"Content-Type": "application/json"})
    check(st in (200, 204), f"output binding: {st} {b!r}")
    s3, _ = scrape(sc2)
    check(val(s3, "dapr_component_output_binding_count", app_id="front", component="files", operation="create",
              success="true") == 1, "the output binding counts under front")
    check(val(s3, "dapr_component_output_binding_count", app_id="orders") == 0, "not under orders")
finally:
    sc2.stop()
    shutil.rmtree(STORE_DIR, ignore_errors=True)
finish()
