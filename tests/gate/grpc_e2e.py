"""grpc_e2e.py: the Dapr gRPC API of `wasmgate run` against a real gRPC
client nobody here wrote: Debian's grpcio, with stubs compiled at test time
by grpc_tools from the same proto/ files the sidecar is built from.

Covers every served RPC with its error paths (daprd's codes and messages),
values crossing between the gRPC and HTTP APIs, the API token, unknown
methods, the message size limit (--max-body-size), a client that cancels
mid-call (RST_STREAM), raw HTTP/2 probes (a malformed frame, a stream reset
before its end, a flood of streams) after which the sidecar keeps serving,
grpc.health.v1, and Shutdown.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(240)

# ---- stubs from proto/ ----
gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto",
                  "grpc/health/v1/health.proto", "google/rpc/status.proto", "google/rpc/error_details.proto"])
from dapr.proto.common.v1 import common_pb2 as C  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402
# grpc/health/v1 cannot be imported as a package (grpcio owns "grpc"): load the messages by path
import importlib.util  # noqa: E402


def load(name, rel):
    spec = importlib.util.spec_from_file_location(name, os.path.join(gen, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


H = load("health_pb2", "grpc/health/v1/health_pb2.py")
RPC_STATUS = load("status_pb2", "google/rpc/status_pb2.py")  # google.* belongs to protobuf's package
RPC_DETAILS = load("error_details_pb2", "google/rpc/error_details_pb2.py")


def error_info(fn, *args, **kw):
    """The google.rpc.ErrorInfo daprd-style errors carry in grpc-status-details-bin: (code, reason, domain, md)."""
    try:
        fn(*args, timeout=T, **kw)
    except grpc.RpcError as e:
        raw = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
        if raw is None:
            return e.code(), None, None, None
        st = RPC_STATUS.Status.FromString(raw)
        check(st.code == e.code().value[0] and st.message == e.details(), f"Status {st.code} {st.message!r} vs {e}")
        for d in st.details:
            if d.type_url == "type.googleapis.com/google.rpc.ErrorInfo":
                info = RPC_DETAILS.ErrorInfo.FromString(d.value)
                return e.code(), info.reason, info.domain, dict(info.metadata)
        return e.code(), None, None, None
    return None, None, None, None


def health_check(channel):
    return channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=H.HealthCheckRequest.SerializeToString,
                               response_deserializer=H.HealthCheckResponse.FromString)

T = 10  # seconds per call


def rpc_error(fn, *args, **kw):
    """Calls fn and returns (code, details) of the RpcError it raises, or (None, result)."""
    try:
        return None, fn(*args, timeout=T, **kw)
    except grpc.RpcError as e:
        return e.code(), e.details()


def check_status(got, code, part=None):
    c, d = got
    check(c == code, f"status {c}, expected {code}: {d!r}")
    if part is not None and c is not None:
        check(part in (d or ""), f"message {d!r} lacks {part!r}")


# ---- an HTTP app: invocation target, subscriber and binding target ----
events = []
bound = []


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        if self.path == "/dapr/subscribe":
            self.reply(200, json.dumps([{"pubsubname": "pubsub", "topic": "orders", "route": "/orders"}]).encode())
        elif self.path.startswith("/echo"):
            self.reply(200, ("GET " + self.path).encode(), "text/plain")
        else:
            self.reply(404, b"nope", "text/plain")

    def do_POST(self):
        b = self.body()
        if self.path == "/orders":
            events.append(json.loads(b))
            self.reply(200, b'{"status":"SUCCESS"}')
        elif self.path.startswith("/echo"):
            self.reply(200, b"echo:" + b, self.headers.get("Content-Type") or "text/plain")
        elif self.path == "/slow":
            time.sleep(1.5)
            self.reply(200, b"late")
        elif self.path.startswith("/bind"):
            bound.append((self.path, b))
            self.reply(200, b"bound-reply", "text/plain", {"X-Answer": "42"})
        else:
            self.reply(404, b"nope", "text/plain")

    do_PUT = do_POST


app_port = free_port()
httpd = ThreadingHTTPServer(("127.0.0.1", app_port), App)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

sc = Sidecar(BIN, app_id="gapp", args=["--app-port", str(app_port), "--max-body-size", "64Ki", "--enable-api-logging"])
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n"
                                "  type: state.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n"
                                "    value: state.db\n")
sc.write_resource("mem.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mem\nspec:\n"
                              "  type: state.in-memory\n  version: v1\n  metadata: []\n")
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
                                 "  type: pubsub.in-memory\n  version: v1\n  metadata: []\n")
sc.write_resource("bind.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n"
                               f"  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n"
                               f"    value: \"http://127.0.0.1:{app_port}/bind\"\n")
secrets_file = os.path.join(sc.dir, "secrets.json")
with open(secrets_file, "w") as f:
    json.dump({"db": {"user": "admin", "pass": "s3cret"}, "token": "t0k", "hidden": "h"}, f)
sc.write_resource("secrets.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: files\nspec:\n"
                                  "  type: secretstores.local.file\n  version: v1\n  metadata:\n"
                                  f"  - name: secretsFile\n    value: \"{secrets_file}\"\n"
                                  "  - name: nestedSeparator\n    value: \".\"\n")
cfg = os.path.join(sc.dir, "config.yaml")
with open(cfg, "w") as f:
    f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec:\n  secrets:\n    scopes:\n"
            "    - storeName: files\n      defaultAccess: allow\n      deniedSecrets: [hidden]\n")
sc.args += ["--config", cfg]
sc.start(timeout=20)
ch = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
dapr = DG.DaprStub(ch)

# ---- metadata ----
c, md = rpc_error(dapr.GetMetadata, D.GetMetadataRequest())
check(c is None and md.id == "gapp", f"GetMetadata: {c} {md}")
if c is None:
    names = {(x.name, x.type) for x in md.registered_components}
    check(("statestore", "state.sqlite") in names and ("web", "bindings.http") in names, f"components {names}")
    check(md.runtime_version.endswith("wasmgate"), md.runtime_version)
    check(md.app_connection_properties.port == app_port, f"{md.app_connection_properties}")
    caps = {x.name: list(x.capabilities) for x in md.registered_components}
    check("TRANSACTIONAL" in caps.get("statestore", []), f"caps {caps}")
check_status(rpc_error(dapr.SetMetadata, D.SetMetadataRequest(key="color", value="blue")), None)
c, md = rpc_error(dapr.GetMetadata, D.GetMetadataRequest())
check(c is None and dict(md.extended_metadata).get("color") == "blue", f"extended {c} {md}")
st, _, body = sc.request("GET", "/v1.0/metadata")
check(json.loads(body).get("extended", {}).get("color") == "blue", f"HTTP metadata sees the gRPC attribute: {body!r}")

# ---- secrets: the same code as GET /v1.0/secrets ----
c, r = rpc_error(dapr.GetSecret, D.GetSecretRequest(store_name="files", key="db.user"))
check(c is None and dict(r.data) == {"db.user": "admin"}, f"GetSecret: {c} {r}")
c, r = rpc_error(dapr.GetBulkSecret, D.GetBulkSecretRequest(store_name="files"))
bulk = {k: dict(v.secrets) for k, v in r.data.items()} if c is None else None
check(bulk == {"db.user": {"db.user": "admin"}, "db.pass": {"db.pass": "s3cret"}, "token": {"token": "t0k"}},
      f"GetBulkSecret (scopes leave 'hidden' out): {c} {bulk}")
st, _, body = sc.request("GET", "/v1.0/secrets/files/bulk")
check(st == 200 and json.loads(body) == bulk, f"HTTP bulk agrees: {st} {body!r}")
check_status(rpc_error(dapr.GetSecret, D.GetSecretRequest(store_name="files", key="hidden")),
             grpc.StatusCode.PERMISSION_DENIED, 'access denied by policy to get "hidden" from "files"')
check_status(rpc_error(dapr.GetSecret, D.GetSecretRequest(store_name="nope", key="x")), grpc.StatusCode.INVALID_ARGUMENT,
             "failed finding secret store with key nope")
check_status(rpc_error(dapr.GetSecret, D.GetSecretRequest(store_name="files", key="db")), grpc.StatusCode.INTERNAL,
             "failed getting secret with key db from secret store files: secret db not found")
got = error_info(dapr.GetSecret, D.GetSecretRequest(store_name="nope", key="x"))
check(got == (grpc.StatusCode.INVALID_ARGUMENT, None, None, None), f"no details on daprd's APIError kind: {got}")

# ---- state ----
S = "statestore"
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="k1", value=b'{"a":1}'), C.StateItem(key="k2", value=b"raw bytes \x00\xff")])), None)
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="k1"))
check(c is None and r.data == b'{"a":1}' and r.etag, f"GetState k1: {c} {r}")
etag1 = r.etag if c is None else ""
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="k2"))
check(c is None and r.data == b"raw bytes \x00\xff", f"binary value round trip: {c} {r}")
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="absent"))
check(c is None and r.data == b"" and r.etag == "", f"absent key: {c} {r}")
# one store, two transports
st, hdr, body = sc.request("GET", "/v1.0/state/statestore/k1")
check(st == 200 and body == b'{"a":1}' and hdr.get("etag") == etag1, f"HTTP reads the gRPC write: {st} {body!r} {hdr}")
st, _, _ = sc.request("POST", "/v1.0/state/statestore", body=[{"key": "h1", "value": {"from": "http"}}])
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="h1"))
check(st == 204 and c is None and json.loads(r.data) == {"from": "http"}, f"gRPC reads the HTTP write: {st} {c} {r}")
# ttl
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="t", value=b"1", metadata={"ttlInSeconds": "100"})])), None)
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="t"))
check(c is None and "ttlExpireTime" in r.metadata, f"ttl metadata: {c} {r}")
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="t", value=b"1", metadata={"ttlInSeconds": "soon"})])), grpc.StatusCode.INVALID_ARGUMENT,
    "ttlInSeconds")
# etags and concurrency
WRONG = "00000000-0000-4000-8000-000000000000"  # an etag of the store's form (a UUID) that matches nothing
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="k1", value=b"2", etag=C.Etag(value=WRONG))])), grpc.StatusCode.ABORTED,
    "failed saving state in state store statestore: possible etag mismatch")
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="k1", value=b"2", etag=C.Etag(value="not-an-etag"))])), grpc.StatusCode.INVALID_ARGUMENT,
    "invalid etag value")
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="k1", value=b"2", etag=C.Etag(value=etag1))])), None)
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[
    C.StateItem(key="k1", value=b"3", options=C.StateOptions(concurrency=C.StateOptions.CONCURRENCY_FIRST_WRITE))])),
    grpc.StatusCode.ABORTED)
# errors of daprd's wording
check_status(rpc_error(dapr.GetState, D.GetStateRequest(store_name="nope", key="k")), grpc.StatusCode.INVALID_ARGUMENT,
             "state store nope is not found")
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[C.StateItem(key="", value=b"x")])),
             grpc.StatusCode.INVALID_ARGUMENT, "state key cannot be empty")
check_status(rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="a||b")), grpc.StatusCode.INVALID_ARGUMENT,
             "input key/keyPrefix 'a||b' can't contain '||'")
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S)), None)  # nothing to save: OK
# the rich error details daprd attaches (google.rpc.ErrorInfo)
got = error_info(dapr.GetState, D.GetStateRequest(store_name="nope", key="k"))
check(got == (grpc.StatusCode.INVALID_ARGUMENT, "DAPR_STATE_NOT_FOUND", "dapr.io", {}), f"ErrorInfo {got}")
got = error_info(dapr.GetState, D.GetStateRequest(store_name=S, key="a||b"))
check(got[1] == "DAPR_STATE_ILLEGAL_KEY", f"ErrorInfo {got}")
got = error_info(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[C.StateItem(key="", value=b"x")]))
check(got[1] == "ERR_STATE_SAVE" and got[2] == "dapr.io", f"ErrorInfo {got}")
# bulk get
c, r = rpc_error(dapr.GetBulkState, D.GetBulkStateRequest(store_name=S, keys=["k1", "absent", "h1"], parallelism=2))
if c is None:
    items = {i.key: i for i in r.items}
    check([i.key for i in r.items] == ["k1", "absent", "h1"], f"bulk order {[i.key for i in r.items]}")
    check(items["k1"].data == b"2" and items["k1"].etag and items["absent"].data == b"" and not items["absent"].etag,
          f"bulk items {r}")
else:
    check(False, f"GetBulkState: {c} {r}")
check_status(rpc_error(dapr.GetBulkState, D.GetBulkStateRequest(store_name="nope", keys=["a"])),
             grpc.StatusCode.INVALID_ARGUMENT, "state store nope is not found")
# delete
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="k1"))
check_status(rpc_error(dapr.DeleteState, D.DeleteStateRequest(store_name=S, key="k1", etag=C.Etag(value=WRONG))),
             grpc.StatusCode.ABORTED, "failed deleting state with key k1")
check_status(rpc_error(dapr.DeleteState, D.DeleteStateRequest(store_name=S, key="k1", etag=C.Etag(value=r.etag))), None)
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="k1"))
check(c is None and r.data == b"", f"deleted: {c} {r}")
check_status(rpc_error(dapr.DeleteBulkState, D.DeleteBulkStateRequest(store_name=S, states=[
    C.StateItem(key="k2"), C.StateItem(key="h1")])), None)
st, _, _ = sc.request("GET", "/v1.0/state/statestore/h1")
check(st == 204, f"bulk-deleted key still there over HTTP: {st}")
check_status(rpc_error(dapr.DeleteBulkState, D.DeleteBulkStateRequest(store_name=S, states=[
    C.StateItem(key="x", etag=C.Etag(value=WRONG))])), grpc.StatusCode.ABORTED,
    "failed deleting state in state store statestore")
# transactions
check_status(rpc_error(dapr.ExecuteStateTransaction, D.ExecuteStateTransactionRequest(storeName=S, operations=[
    D.TransactionalStateOperation(operationType="upsert", request=C.StateItem(key="x1", value=b"1")),
    D.TransactionalStateOperation(operationType="upsert", request=C.StateItem(key="x2", value=b"2")),
    D.TransactionalStateOperation(operationType="delete", request=C.StateItem(key="x1"))])), None)
c1, r1 = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="x1"))
c2, r2 = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="x2"))
check(r1.data == b"" and r2.data == b"2", f"transaction result {r1} {r2}")
check_status(rpc_error(dapr.ExecuteStateTransaction, D.ExecuteStateTransactionRequest(storeName=S, operations=[
    D.TransactionalStateOperation(operationType="upsert", request=C.StateItem(key="x3", value=b"3")),
    D.TransactionalStateOperation(operationType="upsert", request=C.StateItem(key="x2", value=b"9",
                                                                             etag=C.Etag(value="bad")))])),
    grpc.StatusCode.INTERNAL, "error while executing state transaction")
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="x3"))
check(c is None and r.data == b"", f"a failed transaction wrote nothing: {r}")
check_status(rpc_error(dapr.ExecuteStateTransaction, D.ExecuteStateTransactionRequest(storeName=S, operations=[
    D.TransactionalStateOperation(operationType="merge", request=C.StateItem(key="x"))])),
    grpc.StatusCode.UNIMPLEMENTED, "operation type merge not supported")
check_status(rpc_error(dapr.ExecuteStateTransaction, D.ExecuteStateTransactionRequest(storeName="nope")),
             grpc.StatusCode.INVALID_ARGUMENT, "state store nope is not found")

# ---- publish ----
for _ in range(100):  # the subscription comes from the app's /dapr/subscribe
    st, _, body = sc.request("GET", "/v1.0/metadata")
    if json.loads(body).get("subscriptions"):
        break
    time.sleep(0.1)
check_status(rpc_error(dapr.PublishEvent, D.PublishEventRequest(pubsub_name="pubsub", topic="orders",
                                                                data=b'{"id":7}', data_content_type="application/json")),
             None)
check_status(rpc_error(dapr.PublishEvent, D.PublishEventRequest(pubsub_name="pubsub", topic="orders", data=b"plain",
                                                                data_content_type="text/plain",
                                                                metadata={"cloudevent.type": "my.type"})), None)
deadline = time.time() + 10
while len(events) < 2 and time.time() < deadline:
    time.sleep(0.05)
check(len(events) == 2, f"delivered {events}")
if len(events) == 2:  # in either order
    ev = {json.dumps(e.get("data")): e for e in events}
    e1, e2 = ev.get('{"id": 7}', {}), ev.get('"plain"', {})
    check(e1.get("source") == "gapp" and e1.get("topic") == "orders" and e1.get("datacontenttype") == "application/json",
          f"CloudEvent {events}")
    check(e2.get("type") == "my.type" and e2.get("datacontenttype") == "text/plain", f"CloudEvent {events}")
# bulk publish: entries with their own content types and metadata over the request's
events.clear()
c, r = rpc_error(dapr.BulkPublishEventAlpha1, D.BulkPublishRequest(pubsub_name="pubsub", topic="orders", entries=[
    D.BulkPublishRequestEntry(entry_id="b1", event=b'{"n":1}', content_type="application/json"),
    D.BulkPublishRequestEntry(entry_id="b2", event=b"two", content_type="text/plain",
                              metadata={"cloudevent.type": "entry.type"})],
    metadata={"cloudevent.type": "req.type"}))
check(c is None and len(r.failedEntries) == 0, f"BulkPublishEventAlpha1: {c} {r}")
deadline = time.time() + 10
while len(events) < 2 and time.time() < deadline:
    time.sleep(0.05)
types = sorted((json.dumps(e.get("data")), e.get("type")) for e in events)
check(types == [('"two"', "entry.type"), ('{"n": 1}', "req.type")], f"bulk delivered {types}")
check_status(rpc_error(dapr.BulkPublishEventAlpha1, D.BulkPublishRequest(pubsub_name="pubsub", topic="orders", entries=[
    D.BulkPublishRequestEntry(entry_id="x", event=b"1"), D.BulkPublishRequestEntry(entry_id="x", event=b"2")])),
    grpc.StatusCode.INVALID_ARGUMENT, "entryId is duplicated or not present for entry")
check_status(rpc_error(dapr.BulkPublishEventAlpha1, D.BulkPublishRequest(pubsub_name="nope", topic="orders")),
             grpc.StatusCode.INVALID_ARGUMENT, "pubsub nope is not found")
c, r = rpc_error(dapr.BulkPublishEventAlpha1, D.BulkPublishRequest(pubsub_name="pubsub", topic="orders"))
check(c is None and len(r.failedEntries) == 0, f"empty bulk publish: {c} {r}")
check_status(rpc_error(dapr.PublishEvent, D.PublishEventRequest(pubsub_name="nope", topic="t")),
             grpc.StatusCode.INVALID_ARGUMENT, "pubsub nope is not found")
got = error_info(dapr.PublishEvent, D.PublishEventRequest(pubsub_name="nope", topic="t"))
check(got[1] == "DAPR_PUBSUB_NOT_FOUND", f"ErrorInfo {got}")
check_status(rpc_error(dapr.PublishEvent, D.PublishEventRequest(pubsub_name="pubsub", topic="")),
             grpc.StatusCode.INVALID_ARGUMENT, "topic is empty in pubsub pubsub")
check_status(rpc_error(dapr.PublishEvent, D.PublishEventRequest(pubsub_name="", topic="t")),
             grpc.StatusCode.INVALID_ARGUMENT, "pubsub name is empty")

# ---- bindings ----
c, r = rpc_error(dapr.InvokeBinding, D.InvokeBindingRequest(name="web", operation="post", data=b"payload",
                                                            metadata={"path": "/x"}))
check(c is None and r.data == b"bound-reply" and r.metadata.get("statusCode") == "200", f"InvokeBinding: {c} {r}")
check(bound and bound[-1] == ("/bind/x", b"payload"), f"binding target saw {bound}")
check_status(rpc_error(dapr.InvokeBinding, D.InvokeBindingRequest(name="nope", operation="create")),
             grpc.StatusCode.INTERNAL, "error invoking output binding nope: couldn't find output binding nope")

# ---- service invocation (the own app, through the app channel) ----
c, r = rpc_error(dapr.InvokeService, D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
    method="echo", content_type="text/plain", data=__import__("google.protobuf.any_pb2").protobuf.any_pb2.Any(value=b"hi"),
    http_extension=C.HTTPExtension(verb=C.HTTPExtension.POST))))
check(c is None and r.data.value == b"echo:hi" and r.content_type.startswith("text/plain"), f"InvokeService: {c} {r}")
c, r = rpc_error(dapr.InvokeService, D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
    method="echo", http_extension=C.HTTPExtension(verb=C.HTTPExtension.GET, querystring="a=1"))))
check(c is None and r.data.value == b"GET /echo?a=1", f"InvokeService GET: {c} {r}")
check_status(rpc_error(dapr.InvokeService, D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
    method="missing", http_extension=C.HTTPExtension(verb=C.HTTPExtension.POST)))), grpc.StatusCode.NOT_FOUND,
    "Not Found")
got = error_info(dapr.InvokeService, D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
    method="missing", http_extension=C.HTTPExtension(verb=C.HTTPExtension.POST))))
check(got == (grpc.StatusCode.NOT_FOUND, "Not Found", "dapr.io", {"http.code": "404", "http.error_message": "nope"}),
      f"ErrorInfo of an app's 404 {got}")

# a client that gives up mid-call: the stream is reset, the app's late answer is dropped
fut = dapr.InvokeService.future(D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
    method="slow", http_extension=C.HTTPExtension(verb=C.HTTPExtension.POST))), timeout=T)
time.sleep(0.3)
fut.cancel()
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name=S, key="x2"))
check(c is None and r.data == b"2", f"served during a cancelled call: {c} {r}")
# a deadline shorter than the app: DEADLINE_EXCEEDED
try:
    dapr.InvokeService(D.InvokeServiceRequest(id="gapp", message=C.InvokeRequest(
        method="slow", http_extension=C.HTTPExtension(verb=C.HTTPExtension.POST))), timeout=0.4)
    check(False, "slow call did not time out")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, f"deadline: {e.code()}")
time.sleep(1.5)  # the app answers the reset and timed-out calls into the void

# ---- unknown methods and services ----
raw = ch.unary_unary("/dapr.proto.runtime.v1.Dapr/NoSuchMethod")
check_status(rpc_error(raw, b""), grpc.StatusCode.UNIMPLEMENTED, "unknown method NoSuchMethod")
raw = ch.unary_unary("/dapr.proto.runtime.v1.Dapr/StartWorkflowBeta1")  # a daprd method not served (yet)
check_status(rpc_error(raw, b""), grpc.StatusCode.UNIMPLEMENTED)
raw = ch.unary_unary("/some.Other/Thing")
check_status(rpc_error(raw, b""), grpc.StatusCode.UNIMPLEMENTED, "unknown service some.Other")
raw = ch.unary_unary("/dapr.proto.runtime.v1.Dapr/GetState")
check_status(rpc_error(raw, b"\xff\xff\xff"), grpc.StatusCode.INTERNAL, "error unmarshalling request")

# ---- message size: --max-body-size 64Ki ----
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[C.StateItem(key="big",
                                                                                              value=b"x" * 70000)])),
             grpc.StatusCode.RESOURCE_EXHAUSTED, "grpc: received message larger than max")
check_status(rpc_error(dapr.SaveState, D.SaveStateRequest(store_name=S, states=[C.StateItem(key="big",
                                                                                              value=b"x" * 60000)])),
             None)
c, r = rpc_error(dapr.GetState, D.GetStateRequest(store_name="mem", key="big"))
check(c is None, f"served after an oversized message: {c}")

# ---- health ----
c, r = rpc_error(health_check(ch), H.HealthCheckRequest())
check(c is None and r.status == H.HealthCheckResponse.SERVING, f"health: {c} {r}")
check_status(rpc_error(health_check(ch), H.HealthCheckRequest(service="nope")), grpc.StatusCode.NOT_FOUND)


# ---- raw HTTP/2 probes ----
def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def lit(name, value):  # HPACK literal without indexing, new name, no Huffman (RFC 7541 6.2.2)
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEADERS = (lit(":method", "POST") + lit(":scheme", "http") + lit(":path", "/dapr.proto.runtime.v1.Dapr/GetMetadata") +
           lit(":authority", "x") + lit("content-type", "application/grpc") + lit("te", "trailers"))


def read_frames(s, until, limit=5.0):
    """Reads frames until until(type, flags, sid) is true or the peer closes. Returns the list read."""
    s.settimeout(limit)
    buf, out = b"", []
    try:
        while True:
            while len(buf) >= 9:
                ln = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + ln:
                    break
                f = (buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + ln])
                buf = buf[9 + ln:]
                out.append(f)
                if until(*f[:3]):
                    return out
            d = s.recv(65536)
            if not d:
                return out
            buf += d
    except (socket.timeout, ConnectionResetError):
        return out


def connect(port=None):
    s = socket.create_connection(("127.0.0.1", port or sc.grpc_port), timeout=5)
    s.sendall(PREFACE + frame(4, 0, 0))
    return s


# a malformed frame (a SETTINGS frame on a stream): GOAWAY, the connection ends, others go on
s = connect()
s.sendall(frame(4, 0, 1, b"\x00\x03\x00\x00\x00\x01"))
fr = read_frames(s, lambda t, f, i: t == 7)
check(any(t == 7 for t, _, _, _ in fr), f"GOAWAY after a malformed frame: {[f[:3] for f in fr]}")
s.close()
# garbage instead of the preface
s = socket.create_connection(("127.0.0.1", sc.grpc_port), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
fr = read_frames(s, lambda t, f, i: False, 3)
s.close()
# a stream reset before its request ends, then a PING on the same connection is still answered
s = connect()
s.sendall(frame(1, 4, 1, HEADERS) + frame(0, 0, 1, b"\x00\x00\x00\x00\x10") + frame(3, 0, 1, b"\x00\x00\x00\x08") +
          frame(6, 0, 0, b"12345678"))
fr = read_frames(s, lambda t, f, i: t == 6 and f & 1)
check(any(t == 6 and f & 1 for t, f, _, _ in fr), f"PING ACK after RST_STREAM: {[f[:3] for f in fr]}")
s.close()
# a flood of streams on one connection: at most 100 at once, the rest refused, the connection survives
s = connect()
burst = b"".join(frame(1, 4, 2 * k + 1, HEADERS) for k in range(150))
s.sendall(burst + frame(6, 0, 0, b"flood..."))
fr = read_frames(s, lambda t, f, i: t == 6 and f & 1, 10)
check(any(t == 6 and f & 1 for t, f, _, _ in fr), "connection alive after a stream flood")
s.close()
# a client that sends calls and never reads: the server stops reading it once its answers pile
# up (flow control and the output high-water mark), and goes on serving others
s = connect()
s.setblocking(False)
gm = b"\x00\x00\x00\x00\x00"  # an empty GetMetadataRequest
sent, sid, stuck_at = 0, 1, time.time() + 8
while time.time() < stuck_at and sid < 2 ** 20:
    chunk = b"".join(frame(1, 4, sid + 2 * k, HEADERS) + frame(0, 1, sid + 2 * k, gm) for k in range(50))
    try:
        sent += s.send(chunk)  # a partial send garbles the framing: the server may end the connection, which is fine
    except BlockingIOError:
        break  # the server no longer reads us
    except OSError:
        break
    sid += 100
c, r = rpc_error(dapr.GetMetadata, D.GetMetadataRequest())
check(c is None and r.id == "gapp", f"serving others while a client does not read ({sent} bytes sent): {c}")
rss_kb = int([ln.split()[1] for ln in open(f"/proc/{sc.proc.pid}/status") if ln.startswith("VmRSS")][0])
print(f"non-reading client: {sent} bytes of calls sent before the server stopped reading; sidecar RSS {rss_kb} kB")
check(rss_kb < 200 * 1024, f"sidecar RSS {rss_kb} kB after a client that does not read")
s.close()
# a whole unary call by hand: response HEADERS, DATA and trailers on stream 1
s = connect()
s.sendall(frame(1, 4, 1, HEADERS) + frame(0, 1, 1, b"\x00\x00\x00\x00\x00"))
fr = read_frames(s, lambda t, f, i: i == 1 and f & 1 and t in (0, 1))
kinds = [(t, i) for t, _, i, _ in fr if i == 1]
check((1, 1) in kinds and (0, 1) in kinds, f"raw unary call frames {kinds}")
s.close()
c, r = rpc_error(dapr.GetMetadata, D.GetMetadataRequest())
check(c is None and r.id == "gapp", f"still serving after the probes: {c}")
if c is not None:
    print(sc.logs()[-3000:])
ch.close()

# ---- the API token ----
# (this sidecar also listens on IPv6 loopback: --dapr-listen-addresses applies to the gRPC port too)
tok = Sidecar(BIN, app_id="tok", env={"DAPR_API_TOKEN": "s3cret"},
              args=["--dapr-listen-addresses", "127.0.0.1,[::1]", "--http-read-timeout", "1s"])
tok.start(timeout=20, wait_path="/v1.0/healthz")
tch = grpc.insecure_channel(f"[::1]:{tok.grpc_port}")
td = DG.DaprStub(tch)
check_status(rpc_error(td.GetMetadata, D.GetMetadataRequest()), grpc.StatusCode.UNAUTHENTICATED, "Unauthorized")
got = error_info(td.GetMetadata, D.GetMetadataRequest())
check(got[1] == "Unauthorized" and got[3].get("http.code") == "401" and "missing api token" in got[3].get(
    "http.error_message", ""), f"ErrorInfo {got}")
check_status(rpc_error(td.GetMetadata, D.GetMetadataRequest(), metadata=[("dapr-api-token", "wrong")]),
             grpc.StatusCode.UNAUTHENTICATED)
c, r = rpc_error(td.GetMetadata, D.GetMetadataRequest(), metadata=[("dapr-api-token", "s3cret")])
check(c is None and r.id == "tok", f"with the token: {c} {r}")
check_status(rpc_error(td.GetSecret, D.GetSecretRequest(store_name="any", key="x"), metadata=[("dapr-api-token", "s3cret")]),
             grpc.StatusCode.FAILED_PRECONDITION, "secret store is not configured")
c, r = rpc_error(health_check(tch), H.HealthCheckRequest())
check(c is None and r.status == H.HealthCheckResponse.SERVING, f"health needs no token: {c}")
# a request that never ends (HEADERS, no END_STREAM) is reset after --http-read-timeout
s = connect(tok.grpc_port)
t0 = time.time()
s.sendall(frame(1, 4, 1, HEADERS) + frame(0, 0, 1, b"\x00\x00\x00"))
fr = read_frames(s, lambda t, f, i: t == 3 and i == 1, 10)
check(any(t == 3 and i == 1 for t, _, i, _ in fr) and 0.8 < time.time() - t0 < 5,
      f"RST_STREAM after the read timeout: {[f[:3] for f in fr]} after {time.time() - t0:.1f}s")
s.close()
# Shutdown: answered, then the sidecar exits as on SIGTERM
check_status(rpc_error(td.Shutdown, D.ShutdownRequest(), metadata=[("dapr-api-token", "s3cret")]), None)
rc = tok.wait_exit(15)
check(rc == 0, f"exit status after Shutdown: {rc}")
tch.close()
tok.finish_proc()

logs = sc.logs()
check("gRPC API Called: method=/dapr.proto.runtime.v1.Dapr/GetState code=InvalidArgument duration=" in logs and
      "gRPC API Called: method=/dapr.proto.runtime.v1.Dapr/SaveState code=OK" in logs, "--enable-api-logging lines")
check(sc.proc.poll() is None, f"the sidecar died with {sc.proc.returncode}:\n{sc.logs()[-2000:]}")
sc.stop()
httpd.shutdown()
finish()
