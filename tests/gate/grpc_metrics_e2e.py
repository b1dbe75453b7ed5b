"""grpc_metrics_e2e.py: daprd's gRPC metric families on /metrics (docs/sidecar.md "Metrics and logs"),
per app ID as the HTTP ones, after real gRPC calls (Debian's grpcio; stubs compiled at test time
from proto/):
  - server (the sidecar's gRPC API): dapr_grpc_io_server_completed_rpcs{app_id,grpc_server_method,
    grpc_server_status} counts SaveState / GetState (OK) and a GetState on an unknown store
    (InvalidArgument); dapr_grpc_io_server_server_latency, _received_bytes_per_rpc and
    _sent_bytes_per_rpc are histograms whose _count equals the calls and whose byte _sum is the
    messages' size (the GetState answer carries the 3000-byte value);
  - client (the gRPC app channel, --app-protocol grpc): an HTTP invocation of the app is an
    AppCallback/OnInvoke call: dapr_grpc_io_client_completed_rpcs (OK, and NotFound for a method the
    app refuses), _roundtrip_latency, _sent_bytes_per_rpc (the request carries the 2000-byte body)
    and _received_bytes_per_rpc (the app answers 1000 bytes).
Every series is labelled with the sidecar's app ID; each family has one TYPE line.
Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import os
import re
import sys
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)
gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto",
                  "dapr/proto/runtime/v1/appcallback.proto"], "wgg-grpc-metrics-stubs-")
from google.protobuf import any_pb2  # noqa: E402
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import appcallback_pb2_grpc as AG  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402


seen = []  # (method, bytes of data) of every OnInvoke: the sidecar's own calls (dapr/config) too


class App(AG.AppCallbackServicer):
    def OnInvoke(self, req, ctx):
        seen.append((req.method, len(req.data.value)))
        if req.method == "refuse":
            ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        return C.InvokeResponse(data=any_pb2.Any(value=b"y" * 1000), content_type="text/plain")


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$')


def scrape(sc):
    st, _, body = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=30)
    check(st == 200, f"metrics: {st}")
    text = body.decode()
    series, types = {}, {}
    for ln in text.splitlines():
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ", 3)
            check(name not in types, f"one TYPE line for {name}")
            types[name] = typ
            continue
        m = LINE.match(ln)
        if m:
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2)))
            series[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
    return series, types


def val(series, name, **labels):
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


app_port = free_port()
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
AG.add_AppCallbackServicer_to_server(App(), server)
server.add_insecure_port(f"127.0.0.1:{app_port}")
server.start()
sc = Sidecar(BIN, app_id="gm", args=["--app-port", str(app_port), "--app-protocol", "grpc"])
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n"
                  "spec:\n  type: state.in-memory\n  version: v1\n")
sc.start(timeout=30)
try:
    ch = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
    dapr = DG.DaprStub(ch)
    value = b"v" * 3000
    for i in range(3):
        dapr.SaveState(D.SaveStateRequest(store_name="store", states=[C.StateItem(key=f"k{i}", value=value)]),
                       timeout=20)
    for i in range(2):
        r = dapr.GetState(D.GetStateRequest(store_name="store", key="k0"), timeout=20)
        check(r.data == value, "GetState answers the value")
    try:
        dapr.GetState(D.GetStateRequest(store_name="nostore", key="k"), timeout=20)
        check(False, "an unknown store fails")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"unknown store: {e.code()}")
    ch.close()
    # the app channel: 2 calls answered, 1 refused
    for method, want in (("a", 200), ("b", 200), ("refuse", 404)):
        st, _, b = sc.request("POST", f"/v1.0/invoke/gm/method/{method}", body=b"x" * 2000,
                              headers={"Content-Type": "text/plain"}, timeout=20)
        check(st == want, f"invoke {method}: {st} {b[:80]!r}")
    # a call the app has seen is recorded when its answer reaches the sidecar: poll until both agree
    deadline = time.time() + 20
    while True:
        s, types = scrape(sc)
        n = val(s, "dapr_grpc_io_client_roundtrip_latency_count", app_id="gm",
                grpc_client_method="/dapr.proto.runtime.v1.AppCallback/OnInvoke")
        if n == len(seen) or time.time() > deadline:
            break
        time.sleep(0.1)
    SAVE, GET = "/dapr.proto.runtime.v1.Dapr/SaveState", "/dapr.proto.runtime.v1.Dapr/GetState"
    srv = "dapr_grpc_io_server_"
    check(types.get(srv + "completed_rpcs") == "counter", f"completed_rpcs is a counter: {types.get(srv + 'completed_rpcs')}")
    for h in ("server_latency", "received_bytes_per_rpc", "sent_bytes_per_rpc"):
        check(types.get(srv + h) == "histogram", f"{srv + h} is a histogram")
    check(val(s, srv + "completed_rpcs", app_id="gm", grpc_server_method=SAVE, grpc_server_status="OK") == 3,
          "3 SaveState OK")
    check(val(s, srv + "completed_rpcs", app_id="gm", grpc_server_method=GET, grpc_server_status="OK") == 2,
          "2 GetState OK")
    check(val(s, srv + "completed_rpcs", app_id="gm", grpc_server_method=GET,
              grpc_server_status="InvalidArgument") == 1, "1 GetState InvalidArgument")
    check(val(s, srv + "server_latency_count", app_id="gm", grpc_server_method=GET) == 3, "GetState latency count")
    check(val(s, srv + "server_latency_bucket", app_id="gm", grpc_server_method=GET, le="+Inf") == 3, "+Inf bucket")
    check(val(s, srv + "received_bytes_per_rpc_count", app_id="gm", grpc_server_method=SAVE) == 3, "SaveState rx count")
    check(val(s, srv + "received_bytes_per_rpc_sum", app_id="gm", grpc_server_method=SAVE) > 3 * 3000,
          f"SaveState rx bytes: {val(s, srv + 'received_bytes_per_rpc_sum', app_id='gm', grpc_server_method=SAVE)}")
    check(val(s, srv + "received_bytes_per_rpc_bucket", app_id="gm", grpc_server_method=SAVE, le="4096") == 3,
          "SaveState requests in the 4096 bucket")
    check(val(s, srv + "received_bytes_per_rpc_bucket", app_id="gm", grpc_server_method=SAVE, le="4294967296") == 3,
          "the last bucket's bound written exactly (4 GiB)")
    got = val(s, srv + "sent_bytes_per_rpc_sum", app_id="gm", grpc_server_method=GET)
    check(2 * 3000 < got < 2 * 3000 + 400, f"GetState sent bytes: {got}")
    cli, INV = "dapr_grpc_io_client_", "/dapr.proto.runtime.v1.AppCallback/OnInvoke"
    check(types.get(cli + "completed_rpcs") == "counter", "client completed_rpcs is a counter")
    ok = len([m for m, _ in seen if m != "refuse"])  # ours (2) and any the sidecar made itself
    check(ok >= 2 and val(s, cli + "completed_rpcs", app_id="gm", grpc_client_method=INV,
                          grpc_client_status="OK") == ok, f"OnInvoke OK: {ok} answered: {seen}")
    check(val(s, cli + "completed_rpcs", app_id="gm", grpc_client_method=INV, grpc_client_status="NotFound") == 1,
          "1 OnInvoke NotFound")
    check(val(s, cli + "roundtrip_latency_count", app_id="gm", grpc_client_method=INV) == len(seen),
          "OnInvoke latency count")
    got, body = val(s, cli + "sent_bytes_per_rpc_sum", app_id="gm", grpc_client_method=INV), sum(n for _, n in seen)
    check(body >= 3 * 2000, f"the app got the bodies: {seen}")
    check(body < got < body + 200 * len(seen), f"OnInvoke sent bytes: {got} (bodies {body})")
    got = val(s, cli + "received_bytes_per_rpc_sum", app_id="gm", grpc_client_method=INV)
    check(ok * 1000 < got < ok * 1000 + 100 * ok, f"OnInvoke received bytes: {got}")
    others = [k for k in s if k[0].startswith("dapr_grpc_io_") and dict(k[1]).get("app_id") != "gm"]
    check(not others, f"every series has the app ID: {others[:3]}")
finally:
    sc.stop()
    sc.cleanup()
    server.stop(0)
finish()
