"""grpc_app_errors_e2e.py: what a gRPC app (--app-protocol grpc) answers to
OnInvoke reaches the invoking callers as daprd passes it
(pkg/api/grpc/grpc.go InvokeService, pkg/api/http/directmessaging.go), with
Debian's grpcio as the app and the callers:

- gRPC callers (InvokeService) get the app's own status code, message and
  grpc-status-details-bin (a google.rpc.Status with ErrorInfo, RetryInfo,
  BadRequest), its response headers and trailers; a success keeps the
  answer's Any type_url and content_type;
- HTTP callers of /v1.0/invoke get HTTPStatusFromCode and the status as
  protojson with its details ("@type" and the fields in lowerCamelCase);
  details of a type daprd could not resolve give 500 ERR_MALFORMED_RESPONSE;
- both through this sidecar and from another sidecar (two real `wasmgate
  run` sharing a SQLite name-resolution file): the status crosses the hop;
- with an httpPipeline (a no-op http-wasm guest, when GUESTS is given) the
  HTTP caller's answer is the same and no internal header leaks;
- large details: 47,500 bytes (the largest libnghttp2 takes in one header
  field, about 64 KiB once base64-encoded) reach both kinds of callers
  unchanged, also across the hop; 60,000 bytes exceed the header list size the
  sidecar advertises to the app (64 KiB): INTERNAL "peer header list size
  exceeded limit" as grpc-go's client says, and only that call fails (a call
  in flight on the same connection completes); a field libnghttp2 cannot
  decode at all (100,000 bytes) costs the app connection, and the next call
  dials again.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import json
import os
import sys
import tempfile
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
GUESTS = sys.argv[2] if len(sys.argv) > 2 else None
start_alarm(150)
TMP = tempfile.mkdtemp(prefix="wgg-grpc-apperr-")
T = 20

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto",
                  "dapr/proto/runtime/v1/appcallback.proto", "google/rpc/status.proto",
                  "google/rpc/error_details.proto"], parent=TMP)
from google.protobuf import any_pb2, duration_pb2  # noqa: E402
from google.rpc import error_details_pb2 as ED  # noqa: E402
from google.rpc import status_pb2  # noqa: E402
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import appcallback_pb2_grpc as AG  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402


def packed(msg):
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def rich_status():
    st = status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="bad order: 100% wrong")
    st.details.append(packed(ED.ErrorInfo(reason="ORDER_INVALID", domain="shop.example",
                                          metadata={"field": "qty"})))
    st.details.append(packed(ED.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1, nanos=500000000))))
    st.details.append(packed(ED.BadRequest(field_violations=[
        ED.BadRequest.FieldViolation(field="qty", description="must be positive")])))
    return st


slow_started = threading.Event()


class App(AG.AppCallbackServicer):
    def OnInvoke(self, req, ctx):
        if req.method == "rich":
            ctx.send_initial_metadata((("x-head", "h1"),))
            ctx.set_trailing_metadata((("x-trail", "t1"), ("grpc-status-details-bin",
                                                           rich_status().SerializeToString())))
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad order: 100% wrong")
        if req.method.startswith("huge"):  # huge<N>: an ErrorInfo of about N bytes
            st = status_pb2.Status(code=3, message="huge")
            st.details.append(packed(ED.ErrorInfo(reason="BIG", domain="d", metadata={"blob": "y" * int(req.method[4:])})))
            ctx.set_trailing_metadata((("grpc-status-details-bin", st.SerializeToString()),))
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "huge")
        if req.method == "slow":  # in flight on the app connection while another call fails
            slow_started.set()
            time.sleep(1.5)
        if req.method == "plain":
            ctx.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        if req.method == "alien":  # a detail of a type nobody registered
            st = status_pb2.Status(code=9, message="odd")
            st.details.append(any_pb2.Any(type_url="type.googleapis.com/acme.Custom", value=b"\x08\x01"))
            ctx.set_trailing_metadata((("grpc-status-details-bin", st.SerializeToString()),))
            ctx.abort(grpc.StatusCode.FAILED_PRECONDITION, "odd")
        if req.method == "typed":
            ctx.send_initial_metadata((("x-head", "ok"), ("x-blob-bin", b"\x00\x01\xfe")))
            ctx.set_trailing_metadata((("x-trail", "ok"),))
            return C.InvokeResponse(data=any_pb2.Any(type_url="type.googleapis.com/acme.Thing", value=b"\x08\x07"),
                                    content_type="application/x-acme")
        return C.InvokeResponse(data=any_pb2.Any(value=b"plain"), content_type="text/plain")


app_port = free_port()
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
AG.add_AppCallbackServicer_to_server(App(), server)
check(server.add_insecure_port(f"127.0.0.1:{app_port}") == app_port, "app port bound")
server.start()

NR_DB = os.path.join(TMP, "nr.db")
CFG = os.path.join(TMP, "config.yaml")
with open(CFG, "w") as f:
    f.write(f"""apiVersion: dapr.io/v1alpha1
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
sb = Sidecar(BIN, app_id="gapp", args=["--app-port", str(app_port), "--app-protocol", "grpc", "--config", CFG],
             env={"HOME": TMP}).start(timeout=30)
sa = Sidecar(BIN, app_id="caller", args=["--config", CFG], env={"HOME": TMP}).start(timeout=30)
sides = [("own app", sb), ("through another sidecar", sa)]
noop = os.path.join(GUESTS, "hw_noop.wasm") if GUESTS else None
sp = None
if noop and os.path.exists(noop):  # the same app behind a sidecar with an httpPipeline
    sp = Sidecar(BIN, app_id="gapp", args=["--app-port", str(app_port), "--app-protocol", "grpc"])
    sp.write_resource("mw.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mw\nspec:\n"
                      f"  type: middleware.http.wasm\n  version: v1\n  metadata:\n  - name: url\n"
                      f"    value: \"file://{noop}\"\n")
    pcfg = os.path.join(sp.dir, "pipeline.yaml")
    with open(pcfg, "w") as f:
        f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
                "  httpPipeline:\n    handlers:\n    - name: mw\n      type: middleware.http.wasm\n")
    sp.args += ["--config", pcfg]
    sp.start(timeout=30)
    sides.append(("behind an httpPipeline", sp))
else:
    print("no http-wasm guests: the httpPipeline case is skipped")


def invoke(sc, method):
    # grpcio's own limit on received metadata is 8 KiB; grpc-go's (daprd's SDK clients) 16 MiB
    stub = DG.DaprStub(grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}", options=[("grpc.max_metadata_size", 1 << 20)]))
    msg = C.InvokeRequest(method=method, data=any_pb2.Any(value=b"x"), content_type="text/plain")
    try:
        r, call = stub.InvokeService.with_call(D.InvokeServiceRequest(id="gapp", message=msg), timeout=T)
        return None, r, dict(call.initial_metadata() or ()), dict(call.trailing_metadata() or ())
    except grpc.RpcError as e:
        return e, None, dict(e.initial_metadata() or ()), dict(e.trailing_metadata() or ())


try:
    for where, sc in sides:
        # ---- gRPC callers ----
        e, _, head, trail = invoke(sc, "rich")
        check(e is not None and e.code() == grpc.StatusCode.INVALID_ARGUMENT,
              f"{where}: the app's code: {e and e.code()}")
        check(e is not None and e.details() == "bad order: 100% wrong", f"{where}: the app's message: {e and e.details()}")
        raw = trail.get("grpc-status-details-bin")
        check(raw is not None, f"{where}: details trailer: {trail}")
        check(raw == rich_status().SerializeToString(), f"{where}: the details unchanged: {raw!r}")
        check(head.get("x-head") == "h1", f"{where}: the app's headers: {head}")
        check(trail.get("x-trail") == "t1", f"{where}: the app's trailers: {trail}")
        check("dapr-http-status" not in head, f"{where}: no dapr-http-status for a gRPC app (daprd): {head}")
        e, _, _, trail = invoke(sc, "plain")
        check(e is not None and e.code() == grpc.StatusCode.PERMISSION_DENIED and e.details() == "not yours"
              and "grpc-status-details-bin" not in trail, f"{where}: a plain status: {e and e.code()} {trail}")
        e, r, head, trail = invoke(sc, "typed")
        check(e is None and r.data.type_url == "type.googleapis.com/acme.Thing" and r.data.value == b"\x08\x07"
              and r.content_type == "application/x-acme", f"{where}: the answer's Any and content type: {e} {r}")
        check(head.get("x-head") == "ok" and trail.get("x-trail") == "ok", f"{where}: OK metadata {head} {trail}")
        check(head.get("x-blob-bin") == b"\x00\x01\xfe", f"{where}: a binary header of the app's: {head}")

        # ---- HTTP callers ----
        st, hd, body = sc.request("POST", "/v1.0/invoke/gapp/method/rich", body=b"x", timeout=T)
        check(st == 400, f"{where}: INVALID_ARGUMENT as 400: {st} {body!r}")
        want = {"code": 3, "message": "bad order: 100% wrong", "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ORDER_INVALID",
             "domain": "shop.example", "metadata": {"field": "qty"}},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.500s"},
            {"@type": "type.googleapis.com/google.rpc.BadRequest",
             "fieldViolations": [{"field": "qty", "description": "must be positive"}]}]}
        got = json.loads(body) if body.startswith(b"{") else body
        check(got == want, f"{where}: the status as protojson: {body!r}")
        check(hd.get("x-head") == "h1", f"{where}: the app's headers over HTTP: {hd}")
        check(not any(k.startswith(":") or k.startswith("wasmgate-") for k in hd),
              f"{where}: no internal headers leak: {hd}")
        st, _, body = sc.request("POST", "/v1.0/invoke/gapp/method/plain", body=b"x", timeout=T)
        check(st == 403 and json.loads(body) == {"code": 7, "message": "not yours"}, f"{where}: 403 {st} {body!r}")
        st, _, body = sc.request("POST", "/v1.0/invoke/gapp/method/alien", body=b"x", timeout=T)
        j = json.loads(body) if body.startswith(b"{") else {}
        check(st == 500 and j.get("errorCode") == "ERR_MALFORMED_RESPONSE" and "acme.Custom" in j.get("message", ""),
              f"{where}: an unknown detail type: {st} {body!r}")
        st, hd, body = sc.request("POST", "/v1.0/invoke/gapp/method/typed", body=b"x", timeout=T)
        check(st == 200 and body == b"\x08\x07" and hd.get("content-type") == "application/x-protobuf",
              f"{where}: a typed Any over HTTP: {st} {hd} {body!r}")
        check("x-blob-bin" not in hd and not any(k.startswith("wasmgate-") for k in hd),
              f"{where}: no binary header over HTTP (daprd): {hd}")

        # ---- large details ----
        e, _, _, trail = invoke(sc, "huge47500")
        raw = trail.get("grpc-status-details-bin")
        st_ = status_pb2.Status.FromString(raw) if raw else None
        blob = ED.ErrorInfo.FromString(st_.details[0].value).metadata["blob"] if st_ and st_.details else ""
        check(e is not None and e.code() == grpc.StatusCode.INVALID_ARGUMENT and blob == "y" * 47500,
              f"{where}: 47,500 bytes of details unchanged: {e and e.code()} {len(blob)}")
        st, _, body = sc.request("POST", "/v1.0/invoke/gapp/method/huge47500", body=b"x", timeout=T)
        j = json.loads(body) if body.startswith(b"{") else {}
        check(st == 400 and j.get("details", [{}])[0].get("metadata", {}).get("blob") == "y" * 47500,
              f"{where}: 47,500 bytes of details over HTTP: {st} {body[:120]!r}")
        slow_started.clear()
        slow = DG.DaprStub(grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")).InvokeService.future(
            D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(method="slow", data=any_pb2.Any(value=b"x"))),
            timeout=T)
        check(slow_started.wait(T), f"{where}: the slow call reached the app")
        e, _, _, _ = invoke(sc, "huge60000")
        check(e is not None and e.code() == grpc.StatusCode.INTERNAL
              and e.details() == "peer header list size exceeded limit",
              f"{where}: details beyond the advertised header list size: {e and e.code()} {e and e.details()}")
        st, _, body = sc.request("POST", "/v1.0/invoke/gapp/method/huge60000", body=b"x", timeout=T)
        check(st == 500 and json.loads(body) == {"code": 13, "message": "peer header list size exceeded limit"},
              f"{where}: over HTTP: {st} {body!r}")
        try:
            check(slow.result().data.value == b"plain", f"{where}: the call in flight meanwhile")
        except grpc.RpcError as x:
            check(False, f"{where}: the call in flight on the same connection failed: {x.code()} {x.details()}")
        e, _, _, _ = invoke(sc, "huge100000")
        check(e is not None and e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL),
              f"{where}: a field libnghttp2 cannot decode: {e and e.code()}")
        e, r, _, _ = invoke(sc, "typed")
        check(e is None and r.data.value == b"\x08\x07", f"{where}: the next call after a lost connection: {e}")
finally:
    server.stop(0)
    for _, sc in sides:
        sc.stop()
finish()
