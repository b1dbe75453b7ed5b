"""grpc_app_gzip_e2e.py: `--app-protocol grpc` with an app that compresses its
answers (grpc/doc/compression.md): the sidecar offers gzip (grpc-accept-encoding),
takes the app's gzip answers, and bounds them by --max-body-size after
decompression, as grpc-go does. The app is Debian's grpcio, with stubs compiled
at test time from proto/; it asks for gzip on every answer (the sidecar before
this change failed every such answer INTERNAL "grpc: compressed flag set with
identity or empty encoding"). Between the sidecar and the app a relay counts the
bytes the app sends, so the test sees that the answer crossed compressed.

  - a 1 MiB answer of one repeated byte arrives whole, for an HTTP caller and for a
    gRPC caller (InvokeService), and less than 64 KiB crossed from the app;
  - a 3 MiB answer (compressed: a few KiB) with --max-body-size 2Mi fails
    RESOURCE_EXHAUSTED "grpc: received message after decompression larger than
    max 2097152" (HTTP caller: 429 with that status, as daprd maps it);
  - the app's grpc-encoding is not passed on to the caller as a header.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import json
import os
import socket
import sys
import threading
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(120)

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto",
                  "dapr/proto/runtime/v1/appcallback.proto"], "wgg-grpc-gzip-stubs-")
from google.protobuf import any_pb2  # noqa: E402
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import appcallback_pb2_grpc as AG  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402

T = 30
MIB = 1 << 20


class App(AG.AppCallbackServicer):
    def OnInvoke(self, req, ctx):
        ctx.set_compression(grpc.Compression.Gzip)
        size = {"one": MIB, "three": 3 * MIB}.get(req.method, 16)
        return C.InvokeResponse(data=any_pb2.Any(value=b"a" * size), content_type="text/plain")


class Relay:
    """Forwards 127.0.0.1:port to the app's port, counting the bytes the app sends."""

    def __init__(self, target):
        self.target = target
        self.from_app = 0
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            c, _ = self.ls.accept()
            u = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True), daemon=True).start()

    def _pipe(self, a, b, count):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if count:
                    with self.lock:
                        self.from_app += len(d)
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def taken(self):
        with self.lock:
            n, self.from_app = self.from_app, 0
            return n


app_port = free_port()
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
AG.add_AppCallbackServicer_to_server(App(), server)
check(server.add_insecure_port(f"127.0.0.1:{app_port}") == app_port, "app port bound")
server.start()
relay = Relay(app_port)
sc = Sidecar(BIN, app_id="zapp", args=["--app-port", str(relay.port), "--app-protocol", "grpc",
                                       "--max-body-size", "2Mi"])
sc.start(timeout=30)
channel = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
stub = DG.DaprStub(channel)
try:
    relay.taken()
    # ---- an HTTP caller: 1 MiB arrives whole, compressed on the app's side ----
    st, hd, body = sc.request("POST", "/v1.0/invoke/zapp/method/one", body=b"x", timeout=T)
    crossed = relay.taken()
    check(st == 200 and body == b"a" * MIB, f"1 MiB answer: {st} {len(body)} bytes {body[:80]!r}")
    check(crossed < 64 << 10, f"{crossed} bytes crossed from the app for a 1 MiB answer: not compressed")
    check("grpc-encoding" not in hd and "grpc-accept-encoding" not in hd, f"the app's encoding passed on: {hd}")

    # ---- a gRPC caller ----
    r, call = stub.InvokeService.with_call(D.InvokeServiceRequest(id="zapp", message=C.InvokeRequest(
        method="one", data=any_pb2.Any(value=b"x"), content_type="text/plain")), timeout=T)
    crossed = relay.taken()
    check(r.data.value == b"a" * MIB, f"gRPC caller: {len(r.data.value)} bytes")
    check(crossed < 64 << 10, f"{crossed} bytes crossed for the gRPC caller's answer")
    md = dict(call.initial_metadata())
    check("grpc-encoding" not in md or md["grpc-encoding"] == "identity", f"grpc-encoding passed on: {md}")

    # ---- 3 MiB once decompressed, beyond --max-body-size 2Mi ----
    st, _, body = sc.request("POST", "/v1.0/invoke/zapp/method/three", body=b"x", timeout=T)
    want = "grpc: received message after decompression larger than max 2097152"
    check(st == 429, f"an answer beyond the limit after decompression: {st} {body[:200]!r}")
    check(st == 429 and json.loads(body).get("message") == want, f"the status as the body: {body[:200]!r}")
    check(relay.taken() < 64 << 10, "the 3 MiB answer crossed compressed")
    try:
        stub.InvokeService(D.InvokeServiceRequest(id="zapp", message=C.InvokeRequest(
            method="three", data=any_pb2.Any(value=b"x"))), timeout=T)
        check(False, "3 MiB answer accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and e.details() == want,
              f"gRPC caller: {e.code()} {e.details()}")

    # ---- a small answer still works on the same connection ----
    st, _, body = sc.request("POST", "/v1.0/invoke/zapp/method/small", body=b"x", timeout=T)
    check(st == 200 and body == b"a" * 16, f"small answer: {st} {body!r}")
finally:
    channel.close()
    sc.stop()
    server.stop(0)
finish()
