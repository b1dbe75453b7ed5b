"""grpc_server_extras_e2e.py: the gRPC server's standard services and
transport features beyond the Dapr API, with Debian's grpcio as the client:

- grpc.health.v1.Health/Watch: SERVING at once, the stream stays open until
  the client cancels; SERVICE_UNKNOWN for another service; no API token
  needed; the stream ends at shutdown; with an app port nobody listens on yet,
  Check and Watch say NOT_SERVING (as /v1.0/healthz answers 500), and once an
  app listens the open Watch sends SERVING, then nothing more;
- server reflection (grpc.reflection.v1 and v1alpha), as grpcurl uses it:
  list_services; file_containing_symbol for a service, a method, a nested
  field; file_by_filename; the files a response carries build a protobuf
  DescriptorPool in which a GetState request is made and sent to the
  sidecar without any compiled stub (what grpcurl does); dependencies sent
  once per stream; NOT_FOUND answers; a request with nothing set ends the
  stream with INVALID_ARGUMENT;
- grpc-encoding gzip: unary calls compressed both ways (900 kB saved and
  read back), server- and bidirectional streams, a message that would grow
  beyond --max-body-size once decompressed (RESOURCE_EXHAUSTED), and by hand
  a gzip request whose answer carries the compressed flag and gunzips.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import gzip
import importlib.util
import os
import queue
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool  # noqa: E402

try:
    from google.protobuf import message_factory
    get_class = getattr(message_factory, "GetMessageClass", None)
except ImportError:  # pragma: no cover
    get_class = None

BIN = sys.argv[1]
start_alarm(150)
T = 20


class QuietHandler(BaseHTTPRequestHandler):
    """An app that answers 404 to everything (the sidecar asks for /dapr/subscribe and /dapr/config)."""

    def do_GET(self):
        self.send_error(404)

    do_POST = do_OPTIONS = do_GET

    def log_message(self, *a):
        pass

gen = grpc_stubs(["grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto",
                  "grpc/reflection/v1alpha/reflection.proto", "dapr/proto/common/v1/common.proto",
                  "dapr/proto/runtime/v1/dapr.proto"], "wgg-grpc-extras-")
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402


def load(name, rel):  # grpcio owns the "grpc" package: load the modules by path
    spec = importlib.util.spec_from_file_location(name, os.path.join(gen, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


H = load("health_pb2", "grpc/health/v1/health_pb2.py")
R = load("reflection_pb2", "grpc/reflection/v1/reflection_pb2.py")
RA = load("reflection_alpha_pb2", "grpc/reflection/v1alpha/reflection_pb2.py")

sc = Sidecar(BIN, app_id="extras", env={"DAPR_API_TOKEN": "tok"}).start(timeout=30, wait_path="/v1.0/healthz")
ch = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
TOKEN = [("dapr-api-token", "tok")]

# ======== health Watch ========
watch = ch.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=H.HealthCheckRequest.SerializeToString,
                        response_deserializer=H.HealthCheckResponse.FromString)
w = watch(H.HealthCheckRequest(), timeout=T)  # no token: health needs none
first = next(w)
check(first.status == H.HealthCheckResponse.SERVING, f"Watch: SERVING first: {first}")
# the stream stays open: another call works meanwhile, then the client cancels
w2 = watch(H.HealthCheckRequest(service="nope"), timeout=T)
r2 = next(w2)
check(r2.status == H.HealthCheckResponse.SERVICE_UNKNOWN, f"Watch of another service: {r2}")
w2.cancel()
check(w.is_active(), "the Watch stream is still open after its first answer")
w.cancel()
dapr_watch = watch(H.HealthCheckRequest(service="dapr.proto.runtime.v1.Dapr"), timeout=T)
check(next(dapr_watch).status == H.HealthCheckResponse.SERVING, "Watch of the Dapr service")
# left open: it must end when the sidecar shuts down (checked at the end)

# ======== reflection ========


def reflect(path, mod, requests, md=TOKEN):
    call = ch.stream_stream(path, request_serializer=mod.ServerReflectionRequest.SerializeToString,
                            response_deserializer=mod.ServerReflectionResponse.FromString)
    return list(call(iter(requests), timeout=T, metadata=md))


V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
V1A = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
want_services = {"dapr.proto.runtime.v1.Dapr", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                 "grpc.reflection.v1alpha.ServerReflection"}
for path, mod in ((V1, R), (V1A, RA)):
    out = reflect(path, mod, [mod.ServerReflectionRequest(host="h1", list_services="*")])
    names = [s.name for s in out[0].list_services_response.service] if out else []
    check(set(names) == want_services and names == sorted(names), f"{path}: list_services: {names}")
    check(out and out[0].valid_host == "h1" and out[0].original_request.list_services == "*",
          f"{path}: valid_host and original_request echoed")

# file_containing_symbol, then the same stream asks again: the imports come once
reqs = [R.ServerReflectionRequest(file_containing_symbol="dapr.proto.runtime.v1.Dapr"),
        R.ServerReflectionRequest(file_containing_symbol="dapr.proto.runtime.v1.Dapr.GetState"),
        R.ServerReflectionRequest(file_containing_symbol="dapr.proto.runtime.v1.GetStateRequest.key"),
        R.ServerReflectionRequest(file_containing_symbol="dapr.proto.runtime.v1.Nope"),
        R.ServerReflectionRequest(file_by_filename="grpc/health/v1/health.proto"),
        R.ServerReflectionRequest(file_by_filename="nope.proto"),
        R.ServerReflectionRequest(all_extension_numbers_of_type="dapr.proto.runtime.v1.GetStateRequest"),
        R.ServerReflectionRequest(file_containing_extension=R.ExtensionRequest(containing_type="x", extension_number=1))]
out = reflect(V1, R, reqs)
check(len(out) == len(reqs), f"one response per request: {len(out)}")
fds = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in out[0].file_descriptor_response.file_descriptor_proto]
fnames = [f.name for f in fds]
check(fnames and fnames[0] == "dapr/proto/runtime/v1/dapr.proto" and "dapr/proto/common/v1/common.proto" in fnames
      and "google/protobuf/any.proto" in fnames, f"the file and its imports: {fnames}")
again = [descriptor_pb2.FileDescriptorProto.FromString(b).name
         for b in out[1].file_descriptor_response.file_descriptor_proto]
check(again == ["dapr/proto/runtime/v1/dapr.proto"], f"imports already sent are not sent again: {again}")
check(len(out[2].file_descriptor_response.file_descriptor_proto) == 1, "a field's file")
check(out[3].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
      and out[3].error_response.error_message == "proto: not found", f"unknown symbol: {out[3]}")
hf = [descriptor_pb2.FileDescriptorProto.FromString(b).name
      for b in out[4].file_descriptor_response.file_descriptor_proto]
check(hf == ["grpc/health/v1/health.proto"], f"file_by_filename: {hf}")
check(out[5].error_response.error_code == 5, f"unknown file: {out[5]}")
check(out[6].all_extension_numbers_response.base_type_name == "dapr.proto.runtime.v1.GetStateRequest"
      and not out[6].all_extension_numbers_response.extension_number, f"extension numbers: {out[6]}")
check(out[7].error_response.error_code == 5, f"extension: {out[7]}")

# a pool built only from what reflection sent, and a call made with it (grpcurl's way)
pool = descriptor_pool.DescriptorPool()
pending = {f.name: f for f in fds}
while pending:
    progressed = False
    for name, f in list(pending.items()):
        if all(d not in pending for d in f.dependency):
            pool.Add(f)
            del pending[name]
            progressed = True
    check(progressed, f"the imports are complete: {list(pending)}")
    if not progressed:
        break
svc = pool.FindServiceByName("dapr.proto.runtime.v1.Dapr")
m = svc.methods_by_name.get("GetState")
check(m is not None and m.input_type.full_name == "dapr.proto.runtime.v1.GetStateRequest", "GetState described")
if m is not None and get_class:
    Req, Resp = get_class(m.input_type), get_class(m.output_type)
    call = ch.unary_unary("/dapr.proto.runtime.v1.Dapr/GetState", request_serializer=Req.SerializeToString,
                          response_deserializer=Resp.FromString)
    try:
        call(Req(store_name="nope", key="k"), timeout=T, metadata=TOKEN)
        check(False, "a missing store fails")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "nope" in e.details(),
              f"a call built from reflection reaches the API: {e.code()} {e.details()}")

# a request with nothing set ends the stream
try:
    reflect(V1, R, [R.ServerReflectionRequest(host="x")])
    check(False, "an empty request ends the stream")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"empty request: {e.code()} {e.details()}")
# the API token applies, as to the Dapr service
try:
    reflect(V1, R, [R.ServerReflectionRequest(list_services="")], md=None)
    check(False, "reflection without the token")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.UNAUTHENTICATED, f"reflection needs the token: {e.code()}")

# ======== grpc-encoding gzip ========
gz = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}", compression=grpc.Compression.Gzip)
gd = DG.DaprStub(gz)
r = gd.GetMetadata(D.GetMetadataRequest(), timeout=T, metadata=TOKEN)
check(r.id == "extras", f"a gzip-compressed call: {r.id}")
big = b"wasmgate " * 100000  # 900 kB that compress well
gd.SaveState(D.SaveStateRequest(store_name="statestore", states=[C.StateItem(key="big", value=big)]), timeout=T,
             metadata=TOKEN)
got = gd.GetState(D.GetStateRequest(store_name="statestore", key="big"), timeout=T, metadata=TOKEN)
check(got.data == big, f"900 kB saved and read back compressed both ways: {len(got.data)}")
plain = DG.DaprStub(ch).GetState(D.GetStateRequest(store_name="statestore", key="big"), timeout=T, metadata=TOKEN)
check(plain.data == big, "and read by an uncompressed client")
# a message that grows beyond --max-body-size (4 MiB) once decompressed
try:
    gd.SaveState(D.SaveStateRequest(store_name="statestore", states=[C.StateItem(key="bomb", value=b"\0" * (5 << 20))]),
                 timeout=T, metadata=TOKEN)
    check(False, "a 5 MiB message compressed to a few kB is refused")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "after decompression larger than max" in e.details(),
          f"decompression bound: {e.code()} {e.details()}")
# streams: server streaming (Watch) and bidirectional (reflection) over the compressed channel
gw = gz.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=H.HealthCheckRequest.SerializeToString,
                     response_deserializer=H.HealthCheckResponse.FromString)(H.HealthCheckRequest(), timeout=T)
check(next(gw).status == H.HealthCheckResponse.SERVING, "Watch over gzip")
gw.cancel()
gr = gz.stream_stream(V1, request_serializer=R.ServerReflectionRequest.SerializeToString,
                      response_deserializer=R.ServerReflectionResponse.FromString)
out = list(gr(iter([R.ServerReflectionRequest(list_services=""),
                    R.ServerReflectionRequest(file_by_filename="grpc/health/v1/health.proto")]), timeout=T, metadata=TOKEN))
check(len(out) == 2 and len(out[0].list_services_response.service) == 4, f"reflection over gzip: {len(out)}")


# by hand: the answer to a gzip request is itself compressed (flag 1, gzip bytes)
def frame(ftype, flags, sid, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload


def lit(name, value):  # a literal header field without indexing, no Huffman
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


s = socket.create_connection(("127.0.0.1", sc.grpc_port), timeout=5)
req = gzip.compress(D.GetMetadataRequest().SerializeToString())
hdrs = (lit(":method", "POST") + lit(":scheme", "http") + lit(":path", "/dapr.proto.runtime.v1.Dapr/GetMetadata") +
        lit(":authority", "x") + lit("content-type", "application/grpc") + lit("te", "trailers") +
        lit("grpc-encoding", "gzip") + lit("dapr-api-token", "tok"))
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0) + frame(1, 4, 1, hdrs) +
          frame(0, 1, 1, b"\x01" + len(req).to_bytes(4, "big") + req))
s.settimeout(10)
buf, data = b"", b""
deadline = time.time() + T
while time.time() < deadline:
    while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
        ln = int.from_bytes(buf[:3], "big")
        ftype, flags, sid = buf[3], buf[4], int.from_bytes(buf[5:9], "big")
        if ftype == 0 and sid == 1:
            data += buf[9:9 + ln]
        buf = buf[9 + ln:]
    if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[1:5], "big"):
        break
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
s.close()
check(len(data) >= 5 and data[0] == 1, f"the answer's compressed flag: {data[:5]!r}")
if len(data) >= 5 and data[0] == 1:
    meta = D.GetMetadataResponse.FromString(gzip.decompress(data[5:5 + int.from_bytes(data[1:5], "big")]))
    check(meta.id == "extras", f"the answer gunzips to GetMetadataResponse: {meta.id}")

# ======== NOT_SERVING -> SERVING: health follows /v1.0/healthz, which waits for the app ========
app_port = free_port()
sc2 = Sidecar(BIN, app_id="late", args=["--app-port", str(app_port)]).start(timeout=30,
                                                                            wait_path="/v1.0/healthz/outbound")
ch2 = grpc.insecure_channel(f"127.0.0.1:{sc2.grpc_port}")
check2 = ch2.unary_unary("/grpc.health.v1.Health/Check", request_serializer=H.HealthCheckRequest.SerializeToString,
                         response_deserializer=H.HealthCheckResponse.FromString)
watch2 = ch2.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=H.HealthCheckRequest.SerializeToString,
                          response_deserializer=H.HealthCheckResponse.FromString)
st2 = sc2.request("GET", "/v1.0/healthz")[0]
check(st2 == 500, f"/v1.0/healthz before the app listens: {st2}")
c0 = check2(H.HealthCheckRequest(), timeout=T)
check(c0.status == H.HealthCheckResponse.NOT_SERVING, f"Check before the app listens: {c0}")
lw = watch2(H.HealthCheckRequest(service="dapr.proto.runtime.v1.Dapr"), timeout=T)
seen = queue.Queue()


def read_watch():
    try:
        for r in lw:
            seen.put(r.status)
    except grpc.RpcError:
        pass
    seen.put(None)


def next_status(timeout):
    try:
        return seen.get(timeout=timeout)
    except queue.Empty:
        return "none"


threading.Thread(target=read_watch, daemon=True).start()
first2 = next_status(T)
check(first2 == H.HealthCheckResponse.NOT_SERVING, f"Watch: NOT_SERVING first: {first2}")
app = ThreadingHTTPServer(("127.0.0.1", app_port), QuietHandler)  # the app comes up
threading.Thread(target=app.serve_forever, daemon=True).start()
then = next_status(T)
check(then == H.HealthCheckResponse.SERVING, f"Watch: SERVING once the app listens: {then}")
check(check2(H.HealthCheckRequest(), timeout=T).status == H.HealthCheckResponse.SERVING, "Check: SERVING")
check(sc2.request("GET", "/v1.0/healthz")[0] == 204, "/v1.0/healthz agrees")
extra = next_status(0.5)
check(extra == "none", f"Watch sent more after SERVING: {extra}")
lw.cancel()
ch2.close()
sc2.stop()
app.shutdown()

# ======== shutdown ends the open Watch ========
ended = threading.Event()


def drain():
    try:
        for _ in dapr_watch:
            pass
    except grpc.RpcError:
        pass
    ended.set()


threading.Thread(target=drain, daemon=True).start()
sc.stop()
check(ended.wait(T), "the Watch stream ends at shutdown")
finish()
