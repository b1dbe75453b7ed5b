"""grpc_mesh_e2e.py: InvokeService over the gRPC API to another app, through
its sidecar (two real `wasmgate run` processes on loopback sharing a SQLite
name-resolution file), with Debian's grpcio:

- method, verb, query, content type and body reach app b; its status, body
  and content type come back (dapr-http-status), the caller's traceparent
  continues, b sees dapr-caller-app-id a;
- an app error status maps to its gRPC code as for the own app;
- a Resiliency retry policy of a's applies to the gRPC call (a flaky
  endpoint of b answers after two 503s);
- an unknown app gives daprd's INTERNAL "failed to invoke, id: nope, err:
  couldn't find service: nope ..." without rich details;
- a sidecar stopped in the middle: its calls fail, none hangs.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshapp import MeshApp  # noqa: E402
from wgtest import grpc_stubs, Sidecar, check, finish, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(150)
TMP = tempfile.mkdtemp(prefix="wgg-grpcmesh-")

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto"], parent=TMP)
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402

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
RES = os.path.join(TMP, "res")
os.makedirs(RES)
with open(os.path.join(RES, "resiliency.yaml"), "w") as f:
    f.write("""apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: r}
spec:
  policies:
    retries:
      three:
        policy: constant
        duration: 50ms
        maxRetries: 3
  targets:
    apps:
      b:
        retry: three
""")

app_a, app_b = MeshApp("a"), MeshApp("b")
sa = Sidecar(BIN, app_id="a", args=["--app-port", str(app_a.port), "--config", CFG, "--resources-path", RES],
             env={"HOME": TMP}).start(timeout=30)
sb = Sidecar(BIN, app_id="b", args=["--app-port", str(app_b.port), "--config", CFG], env={"HOME": TMP}).start(timeout=30)
ch = grpc.insecure_channel(f"127.0.0.1:{sa.grpc_port}")
dapr = DG.DaprStub(ch)
T = 20


def invoke(app, method, data=b"", verb=C.HTTPExtension.POST, qs="", ctype="text/plain", md=None):
    msg = C.InvokeRequest(method=method, data=any_pb2.Any(value=data), content_type=ctype,
                          http_extension=C.HTTPExtension(verb=verb, querystring=qs))
    try:
        r, call = dapr.InvokeService.with_call(D.InvokeServiceRequest(id=app, message=msg), timeout=T, metadata=md)
        return None, r, dict(call.initial_metadata() or ())
    except grpc.RpcError as e:
        # an error is a Trailers-Only answer: its metadata comes as trailers
        return e, None, dict(list(e.initial_metadata() or ()) + list(e.trailing_metadata() or ()))


tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
e, r, hdr = invoke("b", "orders/new", b"payload", qs="x=1", md=[("traceparent", tp)])
check(e is None, f"a -> b over gRPC: {e}")
if r:
    import json
    got = json.loads(r.data.value)
    check(got["app"] == "b" and got["method"] == "POST" and got["path"] == "/orders/new?x=1" and got["body"] == "payload",
          f"b saw {got}")
    check(got["headers"].get("content-type") == "text/plain", f"content type at b: {got['headers']}")
    check(got["headers"].get("dapr-caller-app-id") == "a", f"caller id at b: {got['headers']}")
    tpb = got["headers"].get("traceparent", "")
    check(tpb.startswith("00-0af7651916cd43dd8448eb211c80319c-") and tpb != tp, f"trace continues: {tpb}")
    check(r.content_type == "application/json" and hdr.get("dapr-http-status") == "201", f"answer: {r.content_type} {hdr}")
e, r, hdr = invoke("b", "status/404", verb=C.HTTPExtension.GET)
check(e is not None and e.code() == grpc.StatusCode.NOT_FOUND and hdr.get("dapr-http-status") == "404",
      f"an app's 404 from b: {e and e.code()} {hdr}")
e, r, hdr = invoke("b", "flaky/2/k1", verb=C.HTTPExtension.GET)
check(e is None and json.loads(r.data.value) == {"call": 3}, f"a's retry policy for b applies: {e} {r}")
e, r, _ = invoke("nope", "x")
check(e is not None and e.code() == grpc.StatusCode.INTERNAL and
      e.details().startswith("failed to invoke, id: nope, err: couldn't find service: nope"),
      f"unknown app: {e and e.code()} {e and e.details()}")
check(e is not None and "grpc-status-details-bin" not in dict(e.trailing_metadata() or ()),
      "daprd's ErrDirectInvoke carries no rich details")
# the own app still goes through the same path
e, r, _ = invoke("a", "hello", b"x")
check(e is None and json.loads(r.data.value)["app"] == "a", f"a -> a: {e}")

# b goes away: calls fail (after the built-in retries), none hangs
sb.stop()
e, r, _ = invoke("b", "orders/new", b"late")
check(e is not None and e.code() == grpc.StatusCode.INTERNAL and e.details().startswith("failed to invoke, id: b, err:"),
      f"b stopped: {e and e.code()} {e and e.details()}")
ch.close()
sa.stop()
finish()
