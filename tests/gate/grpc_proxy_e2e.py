"""grpc_proxy_e2e.py: gRPC proxying as daprd does it. A call to sidecar a for a
method outside the Dapr service with `dapr-app-id` metadata is relayed over
h2c to the gRPC address name resolution gives for that app.

- Relay: the address of app "g" in the shared SQLite name-resolution table
  is a grpcio server of the test's (standing in for g's sidecar: wasmgate's
  own local hop needs `--app-protocol grpc`, which this branch does not
  have). Unary calls (request bytes, metadata both ways, the hop's added
  metadata, no caller API token), a bidirectional stream (messages relayed
  one by one, interleaved: each answer comes before the next request is
  sent), an error status with its message and grpc-status-details-bin
  passed through unchanged, a deadline, and a caller that cancels mid-stream
  (the upstream sees the cancellation).
- Two real sidecars: a relays to b's gRPC port (b registered it); b's local
  hop answers that its app does not serve gRPC, and a passes that back.
- The local hop: a sidecar with `--app-protocol grpc` relays to its app (unary and a
  stream), called directly and through sidecar a.
- Errors: an unknown app, a's own app (HTTP), no dapr-app-id (UNIMPLEMENTED).

Run with Debian's python3 (python3-grpcio).
"""
import os
import queue
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(150)
TMP = tempfile.mkdtemp(prefix="wgg-grpcproxy-")
NR_DB = os.path.join(TMP, "nr.db")
CFG = os.path.join(TMP, "config.yaml")
with open(CFG, "w") as f:
    f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {{name: proxyconfig}}
spec:
  nameResolution:
    component: sqlite
    version: v1
    configuration:
      connectionString: "{NR_DB}"
      updateInterval: 120s
""")

# ---- the upstream: a grpcio server standing in for app g's sidecar ----
seen = queue.Queue()
cancelled = threading.Event()


def say(req, ctx):
    md = dict(ctx.invocation_metadata())
    seen.put(md)
    ctx.send_initial_metadata((("x-app", "g"),))
    ctx.set_trailing_metadata((("x-trailer", "t1"),))
    return b"hello:" + req


def chat(it, ctx):
    ctx.add_callback(lambda: None if ctx.is_active() else cancelled.set())
    for m in it:
        yield b"echo:" + m


def fail(req, ctx):
    ctx.abort_with_status(_Status(grpc.StatusCode.NOT_FOUND, "no such thing: caf\u00e9 100%",
                                  (("grpc-status-details-bin", b"\x08\x05\x12\x03abc"),)))


def slow(req, ctx):
    time.sleep(3)
    return b"late"


class _Status(grpc.Status):
    def __init__(self, code, details, trailing):
        self.code, self.details, self.trailing_metadata = code, details, trailing


up = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
up.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", {
    "Say": grpc.unary_unary_rpc_method_handler(say),
    "Chat": grpc.stream_stream_rpc_method_handler(chat),
    "Fail": grpc.unary_unary_rpc_method_handler(fail),
    "Slow": grpc.unary_unary_rpc_method_handler(slow),
}),))
up_port = free_port()
up.add_insecure_port(f"127.0.0.1:{up_port}")
up.start()

sa = Sidecar(BIN, app_id="a", args=["--config", CFG], env={"HOME": TMP}).start(timeout=30)
sb = Sidecar(BIN, app_id="b", args=["--config", CFG], env={"HOME": TMP}).start(timeout=30)
db = sqlite3.connect(NR_DB, timeout=10)
cols = [r[1] for r in db.execute("PRAGMA table_info(hosts)")]
check("grpc_address" in cols, f"the registry records gRPC addresses: {cols}")
rows = dict(db.execute("SELECT app_id, grpc_address FROM hosts").fetchall())
check(rows.get("b") == f"127.0.0.1:{sb.grpc_port}", f"b registered its gRPC address: {rows}")
db.execute("INSERT INTO hosts (registration_id, address, app_id, namespace, last_update, grpc_address) "
           "VALUES ('g-test', '127.0.0.1:1', 'g', '', unixepoch(CURRENT_TIMESTAMP), ?)", (f"127.0.0.1:{up_port}",))
db.commit()
db.close()

ch = grpc.insecure_channel(f"127.0.0.1:{sa.grpc_port}")
ident = {"request_serializer": None, "response_deserializer": None}
say_c = ch.unary_unary("/test.Echo/Say", **ident)
chat_c = ch.stream_stream("/test.Echo/Chat", **ident)
fail_c = ch.unary_unary("/test.Echo/Fail", **ident)
slow_c = ch.unary_unary("/test.Echo/Slow", **ident)
G = (("dapr-app-id", "g"),)

# unary: bytes, metadata both ways
r, call = say_c.with_call(b"world", metadata=G + (("x-custom", "c1"), ("dapr-api-token", "leak")), timeout=20)
check(r == b"hello:world", f"unary through the proxy: {r!r}")
init, trail = dict(call.initial_metadata()), dict(call.trailing_metadata())
check(init.get("x-app") == "g" and trail.get("x-trailer") == "t1", f"metadata back: {init} {trail}")
md = seen.get(timeout=5)
check(md.get("x-custom") == "c1" and md.get("dapr-app-id") == "g" and md.get("dapr-caller-app-id") == "a" and
      md.get("dapr-callee-app-id") == "g" and md.get("wasmgate-hop") == "1", f"the upstream saw {md}")
check("dapr-api-token" not in md, f"the caller's token is not forwarded: {md}")
# a large message both ways
big = os.urandom(1 << 20)
check(say_c(big, metadata=G, timeout=30) == b"hello:" + big, "1 MiB through the proxy")
# a gzip-compressed caller: its messages are decompressed, relayed, and the answers compressed back
gz = grpc.insecure_channel(f"127.0.0.1:{sa.grpc_port}", compression=grpc.Compression.Gzip)
zbig = b"compressible " * 30000
check(gz.unary_unary("/test.Echo/Say", **ident)(zbig, metadata=G, timeout=30) == b"hello:" + zbig,
      "a gzip caller through the proxy")
seen.get(timeout=5)
gz.close()

# bidirectional stream: each answer before the next request
reqs = queue.Queue()


def gen():
    while True:
        m = reqs.get()
        if m is None:
            return
        yield m


stream = chat_c(gen(), metadata=G, timeout=30)
got = []
for i in range(5):
    reqs.put(b"m%d" % i)
    got.append(next(stream))
reqs.put(None)
rest = list(stream)
check(got == [b"echo:m%d" % i for i in range(5)] and rest == [], f"bidi stream: {got} {rest}")

# an error passes through unchanged
try:
    fail_c(b"", metadata=G, timeout=20)
    check(False, "Fail answered OK")
except grpc.RpcError as e:
    tm = dict(e.trailing_metadata() or ())
    check(e.code() == grpc.StatusCode.NOT_FOUND and e.details() == "no such thing: caf\u00e9 100%",
          f"error relayed: {e.code()} {e.details()!r}")
    check(tm.get("grpc-status-details-bin") == b"\x08\x05\x12\x03abc", f"details relayed: {tm}")

# a deadline shorter than the upstream
t0 = time.time()
try:
    slow_c(b"", metadata=G, timeout=1)
    check(False, "Slow answered within its deadline")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and time.time() - t0 < 2.5, f"deadline: {e.code()}")

# a caller that cancels mid-stream: the upstream's stream ends too
reqs = queue.Queue()
stream = chat_c(gen(), metadata=G, timeout=30)
reqs.put(b"x")
check(next(stream) == b"echo:x", "stream before cancel")
stream.cancel()
check(cancelled.wait(10), "the upstream saw the cancellation")

# two real sidecars: a -> b's gRPC port; b's app does not serve gRPC
try:
    say_c(b"x", metadata=(("dapr-app-id", "b"),), timeout=20)
    check(False, "b answered OK")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.UNAVAILABLE and
          e.details() == "failed to proxy request: the app b does not serve gRPC (--app-protocol none)",
          f"b's answer relayed by a: {e.code()} {e.details()!r}")

for md, code, part in ((("dapr-app-id", "nope"),), grpc.StatusCode.UNAVAILABLE,
                       "failed to proxy request: couldn't find service: nope"), \
                      ((("dapr-app-id", "a"),), grpc.StatusCode.UNAVAILABLE,
                       "failed to proxy request: the app a does not serve gRPC"), \
                      ((), grpc.StatusCode.UNIMPLEMENTED, "unknown service test.Echo"):
    try:
        say_c(b"x", metadata=md, timeout=20)
        check(False, f"{md} answered OK")
    except grpc.RpcError as e:
        check(e.code() == code and part in e.details(), f"{md}: {e.code()} {e.details()!r}")

# --app-protocol grpc: the last hop goes to the app itself (here the same grpcio server, as app "c")
sc3 = Sidecar(BIN, app_id="c", args=["--config", CFG, "--app-protocol", "grpc", "--app-port", str(up_port)],
              env={"HOME": TMP}).start(timeout=30)
ch3 = grpc.insecure_channel(f"127.0.0.1:{sc3.grpc_port}")


def drain():
    while not seen.empty():
        seen.get_nowait()


drain()
r = ch3.unary_unary("/test.Echo/Say", **ident)(b"local", metadata=(("dapr-app-id", "c"),), timeout=20)
check(r == b"hello:local", f"c's local hop reaches its gRPC app: {r!r}")
md = seen.get(timeout=5)
check(md.get("dapr-app-id") == "c", f"the app saw {md}")
drain()
r = say_c(b"far", metadata=(("dapr-app-id", "c"),), timeout=20)
check(r == b"hello:far", f"a -> c's sidecar -> c's app: {r!r}")
md = seen.get(timeout=5)
check(md.get("dapr-caller-app-id") == "a", f"the app saw the caller: {md}")
stream = ch3.stream_stream("/test.Echo/Chat", **ident)(iter([b"p", b"q"]), metadata=(("dapr-app-id", "c"),),
                                                          timeout=20)
got = list(stream)
check(got == [b"echo:p", b"echo:q"], f"a stream through the local hop: {got}")
ch3.close()
sc3.stop()

# the sidecar still serves the Dapr API on the same connection
r = ch.unary_unary("/grpc.health.v1.Health/Check", **ident)(b"", timeout=10)
check(r == b"\x08\x01", f"health after proxying: {r!r}")
ch.close()
sa.stop()
sb.stop()
up.stop(0)
finish()
