"""grpc_app_e2e.py: `--app-protocol grpc`, wasmgate as the gRPC client of the
app's dapr.proto.runtime.v1.AppCallback service, against an app served by a
gRPC server nobody here wrote: Debian's grpcio, with stubs compiled at test
time by grpc_tools from the same proto/ files the sidecar is built from.

Sidecar A: service invocation from HTTP callers (method, verb, querystring,
content type, data, headers as metadata, traceparent, APP_API_TOKEN as
dapr-api-token, the app's headers back, an error status as daprd maps it)
and from gRPC callers (InvokeService), programmatic subscriptions with
routing rules, SUCCESS / RETRY / DROP and UNIMPLEMENTED (dropped to the
dead-letter topic), bulk subscriptions (OnBulkTopicEventAlpha1), input
bindings (ListInputBindings + OnBindingEvent), a job (OnJobEventAlpha1), --app-max-concurrency under
a burst of calls. Sidecar B: AppCallbackHealthCheck drives app health, a
Resiliency timeout becomes the call's deadline, and the app restarting
(GOAWAY, then a new server on the same port) is reconnected to.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import json
import os
import sys
import threading
import time
import urllib.parse
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(240)

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto",
                  "dapr/proto/runtime/v1/appcallback.proto"], "wgg-grpc-app-stubs-")
from google.protobuf import any_pb2, empty_pb2  # noqa: E402
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import appcallback_pb2 as A  # noqa: E402
from dapr.proto.runtime.v1 import appcallback_pb2_grpc as AG  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402

T = 20  # generous: the machine is loaded
lock = threading.Lock()
state = {"events": [], "bulk": [], "bindings": [], "jobs": [], "health_calls": 0, "healthy": True, "inflight": 0,
         "max_inflight": 0, "tries": {}}


def wait_for(cond, what, timeout=T):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            if cond():
                return True
        time.sleep(0.05)
    check(False, f"timed out waiting for {what}")
    return False


class App(AG.AppCallbackServicer):
    def OnInvoke(self, req, ctx):
        md = dict(ctx.invocation_metadata())
        if req.method == "notfound":
            ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        if req.method == "big":  # beyond --max-body-size (4 MiB): refused, not buffered
            return C.InvokeResponse(data=any_pb2.Any(value=b"x" * (5 << 20)))
        if req.method.startswith("slow"):
            with lock:
                state["inflight"] += 1
                state["max_inflight"] = max(state["max_inflight"], state["inflight"])
            time.sleep(3 if req.method == "slowest" else 0.3)
            with lock:
                state["inflight"] -= 1
        ctx.send_initial_metadata((("x-from-app", "yes"),))
        out = {"method": req.method, "verb": req.http_extension.verb, "qs": req.http_extension.querystring,
               "ct": req.content_type, "data": req.data.value.decode(), "token": md.get("dapr-api-token"),
               "traceparent": md.get("traceparent"), "tracebin": "grpc-trace-bin" in md,
               "custom": md.get("x-custom"), "dapr_ct": md.get("dapr-content-type"),
               "timeout": ctx.time_remaining()}
        return C.InvokeResponse(data=any_pb2.Any(value=json.dumps(out).encode()), content_type="application/json")

    def ListTopicSubscriptions(self, req, ctx):
        S, R = A.TopicSubscription, A.TopicRoutes
        return A.ListTopicSubscriptionsResponse(subscriptions=[
            S(pubsub_name="pubsub", topic="orders",
              routes=R(rules=[A.TopicRule(match='event.type == "special"', path="/special")], default="/orders")),
            S(pubsub_name="pubsub", topic="flaky", routes=R(default="flaky")),
            S(pubsub_name="pubsub", topic="drop", routes=R(default="/drop"), dead_letter_topic="dead"),
            S(pubsub_name="pubsub", topic="unimpl", routes=R(default="/unimpl"), dead_letter_topic="dead"),
            S(pubsub_name="pubsub", topic="dead", routes=R(default="/dead")),
            S(pubsub_name="pubsub", topic="bulk", routes=R(default="/bulk"),
              bulk_subscribe=A.BulkSubscribeConfig(enabled=True, max_messages_count=10, max_await_duration_ms=200)),
        ])

    def OnTopicEvent(self, ev, ctx):
        md = dict(ctx.invocation_metadata())
        with lock:
            state["events"].append((ev, md))
            n = state["tries"][ev.id] = state["tries"].get(ev.id, 0) + 1
        if ev.topic == "flaky" and n < 3:
            return D.TopicEventResponse(status=D.TopicEventResponse.RETRY)
        if ev.topic == "drop":
            return D.TopicEventResponse(status=D.TopicEventResponse.DROP)
        if ev.topic == "unimpl":
            ctx.abort(grpc.StatusCode.UNIMPLEMENTED, "not here")
        return D.TopicEventResponse(status=D.TopicEventResponse.SUCCESS)

    def ListInputBindings(self, req, ctx):
        return A.ListInputBindingsResponse(bindings=["tick"])

    def OnBindingEvent(self, req, ctx):
        with lock:
            state["bindings"].append((req.name, dict(req.metadata), dict(ctx.invocation_metadata())))
        return A.BindingEventResponse()


class Alpha(AG.AppCallbackAlphaServicer):
    def OnJobEventAlpha1(self, req, ctx):
        with lock:
            state["jobs"].append(req)
        return A.JobEventResponse()

    def OnBulkTopicEventAlpha1(self, req, ctx):
        with lock:
            state["bulk"].append(req)
        return A.TopicEventBulkResponse(statuses=[
            A.TopicEventBulkResponseEntry(entry_id=e.entry_id, status=D.TopicEventResponse.SUCCESS)
            for e in req.entries])


class Health(AG.AppCallbackHealthCheckServicer):
    def HealthCheck(self, req, ctx):
        with lock:
            state["health_calls"] += 1
            ok = state["healthy"]
        if not ok:
            ctx.abort(grpc.StatusCode.UNAVAILABLE, "not now")
        return A.HealthCheckResponse()


def serve(port):
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    AG.add_AppCallbackServicer_to_server(App(), s)
    AG.add_AppCallbackAlphaServicer_to_server(Alpha(), s)
    AG.add_AppCallbackHealthCheckServicer_to_server(Health(), s)
    check(s.add_insecure_port(f"127.0.0.1:{port}") == port, "app port bound")
    s.start()
    return s


PUBSUB = ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
          "  type: pubsub.in-memory\n  version: v1\n  metadata:\n  - name: backOffDuration\n    value: 100ms\n")
CRON = ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
        "  type: bindings.cron\n  version: v1\n  metadata:\n  - name: schedule\n    value: \"@every 1s\"\n")

# ======== sidecar A ========
app_port = free_port()
server = serve(app_port)
sc = Sidecar(BIN, app_id="gapp", env={"APP_API_TOKEN": "apptok"},
             args=["--app-port", str(app_port), "--app-protocol", "grpc", "--app-max-concurrency", "2"])
sc.write_resource("pubsub.yaml", PUBSUB)
sc.write_resource("tick.yaml", CRON.format(name="tick"))
sc.write_resource("untick.yaml", CRON.format(name="untick"))
sc.start(timeout=30)
try:
    meta = json.loads(sc.request("GET", "/v1.0/metadata")[2])
    check(meta.get("appConnectionProperties", {}).get("protocol") == "grpc", f"metadata protocol: {meta}")

    # ---- invocation from an HTTP caller ----
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    st, hd, body = sc.request("POST", "/v1.0/invoke/gapp/method/echo/x?a=1&b=two", body=b"hello",
                              headers={"Content-Type": "text/plain", "X-Custom": "c1", "traceparent": tp}, timeout=T)
    check(st == 200, f"invoke status {st} {body!r}")
    out = json.loads(body)
    check(out["method"] == "echo/x", f"method {out}")
    check(out["verb"] == C.HTTPExtension.POST, f"verb {out}")
    check(out["qs"] == "a=1&b=two", f"querystring {out}")
    check(out["ct"] == "text/plain", f"content_type {out}")
    check(out["data"] == "hello", f"data {out}")
    check(out["token"] == "apptok", f"APP_API_TOKEN as dapr-api-token: {out}")
    check(out["custom"] == "c1", f"headers as metadata: {out}")
    check(out["dapr_ct"] == "text/plain", f"Content-Type as dapr-content-type (daprd): {out}")
    check(out["traceparent"] and out["traceparent"].split("-")[1] == tp.split("-")[1], f"trace id kept: {out}")
    check(hd.get("content-type") == "application/json", f"the app's content_type: {hd}")
    check(hd.get("x-from-app") == "yes", f"the app's headers back: {hd}")
    st, _, body = sc.request("GET", "/v1.0/invoke/gapp/method/echo", timeout=T)
    check(st == 200 and json.loads(body)["verb"] == C.HTTPExtension.GET, f"GET: {st} {body!r}")
    st, hd, body = sc.request("PUT", "/v1.0/invoke/gapp/method/notfound", body=b"x", timeout=T)
    check(st == 404, f"NOT_FOUND as 404 (daprd's HTTPStatusFromCode): {st} {body!r}")
    check(json.loads(body) == {"code": 5, "message": "no such thing"}, f"the status as the body: {body!r}")

    # ---- invocation from a gRPC caller ----
    ch = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
    stub = DG.DaprStub(ch)
    r = stub.InvokeService(D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
        method="echo/g", data=any_pb2.Any(value=b"from-grpc"), content_type="text/plain",
        http_extension=C.HTTPExtension(verb=C.HTTPExtension.PATCH, querystring="q=1"))), timeout=T)
    out = json.loads(r.data.value)
    check(out["method"] == "echo/g" and out["verb"] == C.HTTPExtension.PATCH and out["qs"] == "q=1"
          and out["data"] == "from-grpc" and out["ct"] == "text/plain", f"gRPC caller: {out}")
    check(r.content_type == "application/json", f"gRPC caller content type: {r.content_type!r}")
    try:
        stub.InvokeService(D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(method="notfound")), timeout=T)
        check(False, "the app's NOT_FOUND reaches the gRPC caller")
    except grpc.RpcError as e:  # the app's status as daprd passes it (grpc_app_errors_e2e.py has the details)
        check(e.code() == grpc.StatusCode.NOT_FOUND and e.details() == "no such thing",
              f"gRPC caller gets the app's code and message: {e.code()} {e.details()}")

    # ---- --app-max-concurrency 2 under a burst ----
    results = []

    def slow(i):
        results.append(sc.request("POST", f"/v1.0/invoke/gapp/method/slow{i}", body=b"", timeout=T)[0])

    ts = [threading.Thread(target=slow, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(results == [200] * 8, f"burst statuses {results}")
    check(state["max_inflight"] == 2, f"at most 2 calls in the app at once, saw {state['max_inflight']}")

    # ---- pub/sub ----
    wait_for(lambda: True, "")
    for _ in range(200):  # the subscriptions are known
        subs = json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions") or []
        if len(subs) >= 6:
            break
        time.sleep(0.05)
    check(len(subs) == 6, f"subscriptions from ListTopicSubscriptions: {subs}")
    st, _, _ = sc.request("POST", "/v1.0/publish/pubsub/orders", body={"n": 1},
                          headers={"traceparent": tp, "Content-Type": "application/json"})
    check(st == 204, f"publish {st}")
    wait_for(lambda: any(e.topic == "orders" for e, _ in state["events"]), "the orders event")
    ev, md = next((e, m) for e, m in state["events"] if e.topic == "orders")
    check(ev.pubsub_name == "pubsub" and ev.path == "/orders", f"pubsub/path {ev.pubsub_name} {ev.path}")
    check(json.loads(ev.data) == {"n": 1} and ev.data_content_type == "application/json",
          f"data {ev.data!r} {ev.data_content_type!r}")
    check(ev.spec_version == "1.0" and ev.type == "com.dapr.event.sent" and ev.id, f"CloudEvent fields {ev}")
    check(md.get("dapr-api-token") == "apptok", f"token on deliveries {md}")
    check("traceparent" in ev.extensions.fields or "traceparent" in md, f"trace context delivered {md}")
    ce = {"specversion": "1.0", "type": "special", "source": "t", "id": "sp-1", "data": {"s": 1},
          "datacontenttype": "application/json"}
    sc.request("POST", "/v1.0/publish/pubsub/orders", body=json.dumps(ce),
               headers={"Content-Type": "application/cloudevents+json"})
    wait_for(lambda: any(e.id == "sp-1" for e, _ in state["events"]), "the routed event")
    check(next(e for e, _ in state["events"] if e.id == "sp-1").path == "/special", "routing rule path")

    sc.request("POST", "/v1.0/publish/pubsub/flaky", body={"f": 1})
    wait_for(lambda: any(e.topic == "flaky" and state["tries"][e.id] >= 3 for e, _ in state["events"]), "3 tries")
    fl = next(e for e, _ in state["events"] if e.topic == "flaky")
    check(fl.path == "flaky", f"the route's path as written: {fl.path!r}")

    js = {"Content-Type": "application/json"}
    sc.request("POST", "/v1.0/publish/pubsub/drop", body={"d": 1}, headers=js)
    sc.request("POST", "/v1.0/publish/pubsub/unimpl", body={"u": 1}, headers=js)
    if not wait_for(lambda: sum(1 for e, _ in state["events"] if e.topic == "dead") >= 2, "two dead letters"):
        print([(e.topic, e.id, e.path) for e, _ in state["events"]][:40])
    with lock:
        check(sum(1 for e, _ in state["events"] if e.topic == "drop") == 1, "DROP is not retried")
        check(sum(1 for e, _ in state["events"] if e.topic == "unimpl") == 1, "UNIMPLEMENTED is not retried")
        dead = [e for e, _ in state["events"] if e.topic == "dead"]
        check(sorted(json.dumps(json.loads(e.data)) for e in dead) == ['{"d": 1}', '{"u": 1}'] and dead[0].path == "/dead",
              f"dead letters {dead}")

    for i in range(3):
        sc.request("POST", "/v1.0/publish/pubsub/bulk", body={"b": i}, headers={"Content-Type": "application/json"})
    wait_for(lambda: sum(len(b.entries) for b in state["bulk"]) >= 3, "bulk entries")
    b = state["bulk"][0]
    check(b.pubsub_name == "pubsub" and b.topic == "bulk" and b.path == "/bulk", f"bulk request {b}")
    check(b.entries[0].WhichOneof("event") == "cloud_event" and json.loads(b.entries[0].cloud_event.data)["b"] in
          (0, 1, 2), f"bulk entry {b.entries[0]}")

    # ---- input bindings ----
    wait_for(lambda: len(state["bindings"]) >= 2, "two cron events")
    with lock:
        names = {n for n, _, _ in state["bindings"]}
        check(names == {"tick"}, f"only the listed binding delivers: {names}")
        check(state["bindings"][0][2].get("dapr-api-token") == "apptok", "token on binding events")
        check("readTimeUTC" in state["bindings"][0][1], f"binding metadata {state['bindings'][0][1]}")
    check(state["health_calls"] == 0, "no health checks unless enabled")

    # ---- a job comes due: OnJobEventAlpha1 ----
    st, _, body = sc.request("POST", "/v1.0-alpha1/jobs/once", body={"dueTime": "1s", "data": {"k": "v"}})
    check(st in (200, 204), f"job scheduled: {st} {body!r}")
    wait_for(lambda: state["jobs"], "the job event")
    jr = state["jobs"][0] if state["jobs"] else A.JobEventRequest()
    check(jr.name == "once" and jr.method == "job/once" and jr.http_extension.verb == C.HTTPExtension.POST
          and json.loads(jr.data.value) == {"k": "v"}, f"JobEventRequest {jr}")
finally:
    sc.stop()
    server.stop(0)

# ======== sidecar B: app health, deadlines, reconnecting ========
app_port = free_port()
server = serve(app_port)
with lock:
    state["healthy"] = False  # unhealthy for its first probes: subscriptions wait for health (as daprd)
    state["health_calls"] = 0
sc = Sidecar(BIN, app_id="gapp2",
             args=["--app-port", str(app_port), "--app-protocol", "grpc", "--enable-app-health-check",
                   "--app-health-probe-interval", "1", "--app-health-threshold", "1",
                   "--app-health-probe-timeout", "5000"])
sc.write_resource("res.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: res\nspec:\n"
                              "  policies:\n    timeouts:\n      short: 1s\n  targets:\n    apps:\n"
                              "      gapp2:\n        timeout: short\n")
sc.write_resource("pubsub.yaml", PUBSUB)
sc.start(timeout=30)
try:
    # longer unhealthy than the runtime's 5 tries of 500 ms at asking for subscriptions
    wait_for(lambda: state["health_calls"] >= 4, "four failed health checks")
    check(not json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions"), "no subscriptions yet")
    with lock:
        state["healthy"] = True
    for _ in range(400):
        subs = json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions") or []
        if subs:
            break
        time.sleep(0.05)
    check(len(subs) == 6, f"subscriptions asked once the app is healthy: {subs}")

    def invoke_ok():
        return sc.request("POST", "/v1.0/invoke/gapp2/method/echo", body=b"h", timeout=T)[0] == 200

    deadline = time.time() + T
    while not invoke_ok() and time.time() < deadline:
        time.sleep(0.1)
    check(state["health_calls"] > 0, "HealthCheck called")
    with lock:
        state["healthy"] = False
    deadline = time.time() + T
    while time.time() < deadline:
        st, _, body = sc.request("POST", "/v1.0/invoke/gapp2/method/echo", body=b"h", timeout=T)
        if st != 200:
            break
        time.sleep(0.1)
    check(st == 500 and b"app is not in a healthy state" in body, f"unhealthy app refused: {st} {body!r}")
    with lock:
        state["healthy"] = True
    deadline = time.time() + T
    while not invoke_ok() and time.time() < deadline:
        time.sleep(0.1)
    check(invoke_ok(), "healthy again")

    st, _, body = sc.request("POST", "/v1.0/invoke/gapp2/method/echo", body=b"h", timeout=T)
    check(0 < json.loads(body)["timeout"] <= 1.0, f"the resiliency timeout as grpc-timeout: {body!r}")
    t0 = time.time()
    st, _, body = sc.request("POST", "/v1.0/invoke/gapp2/method/slowest", body=b"", timeout=T)
    check(st != 200 and time.time() - t0 < 2.9, f"deadline: {st} {body!r} after {time.time() - t0:.1f}s")

    st, _, body = sc.request("POST", "/v1.0/invoke/gapp2/method/big", body=b"", timeout=T)
    check(st == 429 and b"larger than max" in body, f"an answer beyond the size limit: {st} {body[:200]!r}")

    # a burst: many calls multiplexed on the loops' connections, none lost
    res = []

    def burst(i):
        st, _, body = sc.request("POST", f"/v1.0/invoke/gapp2/method/echo/{i}", body=str(i).encode(), timeout=T)
        res.append(st == 200 and json.loads(body)["data"] == str(i))

    with futures.ThreadPoolExecutor(max_workers=32) as ex:
        list(ex.map(burst, range(300)))
    check(res.count(True) == 300, f"burst: {res.count(True)}/300 answered right")

    # the app restarts: GOAWAY on the old connection, a new server on the same port
    server.stop(1).wait()
    server = serve(app_port)
    deadline = time.time() + T
    while not invoke_ok() and time.time() < deadline:
        time.sleep(0.1)
    check(invoke_ok(), "invocation works after the app restarted")
finally:
    sc.stop()
    server.stop(0)
finish()
