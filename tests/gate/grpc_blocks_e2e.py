"""grpc_blocks_e2e.py: the building blocks beyond state/pubsub over the Dapr
gRPC API, with Debian's grpcio (stubs compiled at test time from proto/):

- TryLockAlpha1 / UnlockAlpha1 on the embedded lock.in-memory and on lock.redis
  against a real redis-server started here: success, owner, expiry, the
  status codes and messages daprd returns (without rich details), and a lock
  taken over gRPC is seen by the HTTP route (one code path);
- QueryStateAlpha1 on state.in-memory: filter, sort, page token, the
  "does not support querying" and "failed to parse JSON query body" errors;
- GetConfiguration and GetConfigurationAlpha1 on configuration.redis,
  SubscribeConfiguration (server stream: the id first, then each change),
  UnsubscribeConfiguration ending that stream with OK, and daprd's
  ok=false answer for an unknown id; the errors of a missing store;
- ScheduleJobAlpha1 / GetJobAlpha1 / DeleteJobAlpha1: a job scheduled over
  gRPC is read over HTTP and the other way round, fires at the app, and the
  errors (Name is empty, Schedule is empty, already exists, not found).

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import json
import os
import queue
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import grpc_stubs, Sidecar, check, finish, free_port, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(200)
if not Redis.BIN:
    print("redis-server is not installed (scripts/deps.sh installs it)")
    sys.exit(1)

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto",
                  "google/rpc/status.proto", "google/rpc/error_details.proto"], "wgg-grpc-stubs-")
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402
from google.protobuf import any_pb2, struct_pb2, wrappers_pb2  # noqa: E402
import importlib.util  # noqa: E402


def load(name, rel):
    spec = importlib.util.spec_from_file_location(name, os.path.join(gen, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RPC_STATUS = load("status_pb2", "google/rpc/status_pb2.py")
RPC_DETAILS = load("error_details_pb2", "google/rpc/error_details_pb2.py")
T = 15


def call(fn, req):
    """(code, details, reason or None, result)."""
    try:
        return None, None, None, fn(req, timeout=T)
    except grpc.RpcError as e:
        reason = None
        raw = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
        if raw is not None:
            for d in RPC_STATUS.Status.FromString(raw).details:
                if d.type_url.endswith("google.rpc.ErrorInfo"):
                    reason = RPC_DETAILS.ErrorInfo.FromString(d.value).reason
        return e.code(), e.details(), reason, None


def expect(got, code, msg, reason=False, what=""):
    c, d, r, _ = got
    check(c == code and d == msg, f"{what}: {c} {d!r}, expected {code} {msg!r}")
    if reason is not False:
        check(r == reason, f"{what}: ErrorInfo reason {r!r}, expected {reason!r}")


# ---- an app receiving jobs ----
jobs_got = queue.Queue()


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/job/"):
            jobs_got.put((self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


app_port = free_port()
httpd = ThreadingHTTPServer(("127.0.0.1", app_port), App)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

rd = Redis().start()
rd.cmd("CONFIG", "SET", "notify-keyspace-events", "KA")
rd.cmd("SET", "color", "red||1")
rd.cmd("SET", "size", "big")


def comp(name, typ, md=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {typ}\n"
            f"  version: v1\n  metadata:{md if md else ' []'}\n")


redis_md = f"\n  - name: redisHost\n    value: 127.0.0.1:{rd.port}\n  - name: redisPassword\n    value: \"\"\n"
sc = Sidecar(BIN, app_id="blocks", args=["--app-port", str(app_port)])
sc.write_resource("mem.yaml", comp("mem", "state.in-memory"))
sc.write_resource("kv.yaml", comp("kv", "state.redis", redis_md))
sc.write_resource("lock.yaml", comp("redislock", "lock.redis", redis_md))
sc.write_resource("mlock.yaml", comp("memlock", "lock.in-memory"))
sc.write_resource("cfg.yaml", comp("cfg", "configuration.redis", redis_md))
sc.start(timeout=30)
ch = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
dapr = DG.DaprStub(ch)
OK = grpc.StatusCode

# ---- lock ----
for store in ("memlock", "redislock"):
    c, d, _, r = call(dapr.TryLockAlpha1, D.TryLockRequest(store_name=store, resource_id="res", lock_owner="me",
                                                           expiry_in_seconds=30))
    check(c is None and r.success, f"{store}: TryLock {c} {d}")
    c, d, _, r = call(dapr.TryLockAlpha1, D.TryLockRequest(store_name=store, resource_id="res", lock_owner="you",
                                                           expiry_in_seconds=30))
    check(c is None and not r.success, f"{store}: a second owner does not get it: {c} {r}")
    st, _, body = sc.request("POST", f"/v1.0-alpha1/lock/{store}",
                             {"resourceId": "res", "lockOwner": "other", "expiryInSeconds": 5})
    check(st == 200 and json.loads(body) == {"success": False}, f"{store}: HTTP sees the gRPC lock: {st} {body!r}")
    c, d, _, r = call(dapr.UnlockAlpha1, D.UnlockRequest(store_name=store, resource_id="res", lock_owner="you"))
    check(c is None and r.status == D.UnlockResponse.LOCK_BELONGS_TO_OTHERS, f"{store}: unlock by another: {r}")
    c, d, _, r = call(dapr.UnlockAlpha1, D.UnlockRequest(store_name=store, resource_id="res", lock_owner="me"))
    check(c is None and r.status == D.UnlockResponse.SUCCESS, f"{store}: unlock: {c} {d} {r}")
    c, d, _, r = call(dapr.UnlockAlpha1, D.UnlockRequest(store_name=store, resource_id="res", lock_owner="me"))
    check(c is None and r.status == D.UnlockResponse.LOCK_DOES_NOT_EXIST, f"{store}: unlock again: {r}")
    # expiry: a 1 s lock can be taken by another owner once it expired (polled, bounded)
    call(dapr.TryLockAlpha1, D.TryLockRequest(store_name=store, resource_id="exp", lock_owner="a", expiry_in_seconds=1))
    deadline, won = time.time() + 15, False
    while time.time() < deadline and not won:
        c, d, _, r = call(dapr.TryLockAlpha1, D.TryLockRequest(store_name=store, resource_id="exp", lock_owner="b",
                                                               expiry_in_seconds=30))
        won = c is None and r.success
        if not won:
            time.sleep(0.2)
    check(won, f"{store}: the expired lock is taken by another owner")

expect(call(dapr.TryLockAlpha1, D.TryLockRequest(store_name="memlock", resource_id="r", lock_owner="o")),
       OK.INVALID_ARGUMENT, "ExpiryInSeconds is not positive in lock store memlock", None, "expiry 0")
expect(call(dapr.TryLockAlpha1, D.TryLockRequest(store_name="memlock", lock_owner="o", expiry_in_seconds=1)),
       OK.INVALID_ARGUMENT, "ResourceId is empty in lock store memlock", None, "no resource")
expect(call(dapr.UnlockAlpha1, D.UnlockRequest(store_name="memlock", resource_id="r")),
       OK.INVALID_ARGUMENT, "LockOwner is empty in lock store memlock", None, "no owner")
expect(call(dapr.TryLockAlpha1, D.TryLockRequest(store_name="nolock", resource_id="r", lock_owner="o",
                                                 expiry_in_seconds=1)),
       OK.INVALID_ARGUMENT, "lock store nolock not found", None, "unknown store")
expect(call(dapr.TryLockAlpha1, D.TryLockRequest(store_name="memlock", resource_id="a||b", lock_owner="o",
                                                 expiry_in_seconds=1)),
       OK.INTERNAL, "failed to try acquiring lock: input key/keyPrefix 'a||b' can't contain '||'", None, "|| key")

# ---- state query ----
for i, (city, n) in enumerate([("Oslo", 3), ("Rome", 1), ("Oslo", 2), ("Lima", 5)]):
    sc.request("POST", "/v1.0/state/mem", [{"key": f"k{i}", "value": {"city": city, "n": n}}])
q = {"filter": {"EQ": {"city": "Oslo"}}, "sort": [{"key": "n"}]}
c, d, _, r = call(dapr.QueryStateAlpha1, D.QueryStateRequest(store_name="mem", query=json.dumps(q)))
check(c is None and [x.key for x in r.results] == ["k2", "k0"], f"query: {c} {d} {r}")
check(c is None and json.loads(r.results[0].data) == {"city": "Oslo", "n": 2} and r.results[0].etag and r.token == "",
      f"query row: {r.results[:1]} token {r.token!r}")
q = {"sort": [{"key": "n", "order": "DESC"}], "page": {"limit": 2}}
c, d, _, r = call(dapr.QueryStateAlpha1, D.QueryStateRequest(store_name="mem", query=json.dumps(q)))
check(c is None and [x.key for x in r.results] == ["k3", "k0"] and r.token == "2", f"page 1: {c} {d} {r}")
q["page"]["token"] = "2"
c, d, _, r = call(dapr.QueryStateAlpha1, D.QueryStateRequest(store_name="mem", query=json.dumps(q)))
check(c is None and [x.key for x in r.results] == ["k2", "k1"] and r.token == "4", f"page 2: {c} {d} {r}")
c, d, _, r = call(dapr.QueryStateAlpha1,
                  D.QueryStateRequest(store_name="mem", query=json.dumps({"filter": {"EQ": {"city": "Nowhere"}}})))
check(c is None and len(r.results) == 0 and r.token == "", f"no match: empty answer: {c} {r}")
c, d, reason, _ = call(dapr.QueryStateAlpha1, D.QueryStateRequest(store_name="mem", query="{nope"))
check(c == OK.INTERNAL and d.startswith("state store mem query failed: failed to parse JSON query body: ")
      and reason == "DAPR_STATE_QUERY_FAILED", f"bad query: {c} {d!r} {reason}")
expect(call(dapr.QueryStateAlpha1, D.QueryStateRequest(store_name="kv", query="{}")), OK.INTERNAL,
       "state store does not support querying", "DAPR_STATE_QUERYING_NOT_SUPPORTED", "redis does not query")
expect(call(dapr.QueryStateAlpha1, D.QueryStateRequest(store_name="nostore", query="{}")), OK.INVALID_ARGUMENT,
       "state store nostore is not found", "DAPR_STATE_NOT_FOUND", "unknown state store")

# ---- configuration ----
for fn in (dapr.GetConfiguration, dapr.GetConfigurationAlpha1):
    c, d, _, r = call(fn, D.GetConfigurationRequest(store_name="cfg", keys=["color", "size", "nope"]))
    items = {k: (v.value, v.version) for k, v in r.items.items()} if r else None
    check(c is None and items == {"color": ("red", "1"), "size": ("big", "")}, f"GetConfiguration: {c} {d} {items}")
c, d, _, r = call(dapr.GetConfiguration, D.GetConfigurationRequest(store_name="cfg", keys=["nope"]))
check(c is None and len(r.items) == 0, f"nothing found: {c} {r}")
expect(call(dapr.GetConfiguration, D.GetConfigurationRequest(store_name="nocfg", keys=["a"])), OK.INVALID_ARGUMENT,
       "configuration store nocfg not found", "ERR_CONFIGURATION_STORE_NOT_FOUND", "unknown configuration store")

stream = dapr.SubscribeConfiguration(D.SubscribeConfigurationRequest(store_name="cfg", keys=["color"]), timeout=60)
first = next(stream)
sub_id = first.id
check(len(sub_id) == 36 and len(first.items) == 0, f"the first message carries the id only: {first}")
# the watcher subscribes asynchronously: change the key until a change arrives (bounded)
changes = queue.Queue()


def drain():
    try:
        for m in stream:
            changes.put(m)
    except grpc.RpcError as e:
        changes.put(e)
    changes.put(None)


threading.Thread(target=drain, daemon=True).start()
got = None
deadline = time.time() + 20
n = 0
while time.time() < deadline and got is None:
    n += 1
    rd.cmd("SET", "color", f"blue||{n}")
    try:
        got = changes.get(timeout=0.5)
    except queue.Empty:
        pass
check(got is not None and not isinstance(got, grpc.RpcError) and got.id == sub_id and
      got.items["color"].value == "blue", f"a change arrives on the stream: {got}")
rd.cmd("SET", "size", "small")  # not subscribed
while True:  # skip further color changes of the loop above
    try:
        m = changes.get(timeout=1.0)
    except queue.Empty:
        break
    check(m is not None and not isinstance(m, grpc.RpcError) and "size" not in m.items, f"unsubscribed key: {m}")
    if m is None or isinstance(m, grpc.RpcError):
        break
c, d, _, r = call(dapr.UnsubscribeConfiguration, D.UnsubscribeConfigurationRequest(store_name="cfg", id=sub_id))
check(c is None and r.ok and r.message == "", f"UnsubscribeConfiguration: {c} {d} {r}")
end = None
deadline = time.time() + 15
while time.time() < deadline:
    try:
        end = changes.get(timeout=1)
    except queue.Empty:
        continue
    if end is None or isinstance(end, grpc.RpcError):
        break
check(end is None, f"the stream ended with OK after UnsubscribeConfiguration: {end}")
c, d, _, r = call(dapr.UnsubscribeConfigurationAlpha1,
                  D.UnsubscribeConfigurationRequest(store_name="cfg", id=sub_id))
check(c is None and not r.ok and
      r.message == f"failed to unsubscribe to configuration request {sub_id}: subscription does not exist",
      f"unknown id: {c} {r}")
bad = dapr.SubscribeConfigurationAlpha1(D.SubscribeConfigurationRequest(store_name="nocfg"), timeout=30)
try:
    next(bad)
    check(False, "subscribing to a missing store streams")
except grpc.RpcError as e:
    check(e.code() == OK.INVALID_ARGUMENT and e.details() == "configuration store nocfg not found",
          f"subscribe to a missing store: {e.code()} {e.details()}")
# a client that goes away ends its subscription; a new one works
s2 = dapr.SubscribeConfiguration(D.SubscribeConfigurationRequest(store_name="cfg", keys=["size"]), timeout=60)
check(len(next(s2).id) == 36, "second subscription")
s2.cancel()

# ---- jobs ----
val = any_pb2.Any()
val.Pack(struct_pb2.Value(struct_value=struct_pb2.Struct(fields={"x": struct_pb2.Value(number_value=7)})))
c, d, _, r = call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="g1", due_time="1h", repeats=3, data=val)))
check(c is None, f"ScheduleJob: {c} {d}")
st, _, body = sc.request("GET", "/v1.0-alpha1/jobs/g1")
j = json.loads(body) if st == 200 else None
check(j and j.get("dueTime") == "1h" and j.get("repeats") == 3 and j.get("data", {}).get("value") == {"x": 7},
      f"HTTP reads the gRPC job: {st} {body!r}")
sc.request("POST", "/v1.0-alpha1/jobs/h1", {"schedule": "@every 1h", "data": {"k": ["v", True]}})
c, d, _, r = call(dapr.GetJobAlpha1, D.GetJobRequest(name="h1"))
check(c is None and r.job.name == "h1" and r.job.schedule == "@every 1h" and not r.job.HasField("due_time"),
      f"GetJob of an HTTP job: {c} {d} {r}")
if c is None:
    v = struct_pb2.Value()
    check(r.job.data.Unpack(v) and v.struct_value["k"][1] is True, f"its data: {r.job.data}")
expect(call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="g1", due_time="1h"))), OK.ALREADY_EXISTS,
       "failed to schedule job due to: rpc error: code = AlreadyExists desc = job already exists: 'g1'",
       "DAPR_SCHEDULER_SCHEDULE_JOB", "exists")
check(call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="g1", due_time="2h"), overwrite=True))[0] is None,
      "overwrite")
expect(call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="", due_time="1h"))), OK.INVALID_ARGUMENT,
       "Name is empty", "DAPR_SCHEDULER_JOB_NAME_EMPTY", "empty name")
expect(call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="a|b", due_time="1h"))), OK.INVALID_ARGUMENT,
       "Name is empty", "DAPR_SCHEDULER_JOB_NAME_EMPTY", "| in the name")
expect(call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="n"))), OK.INVALID_ARGUMENT,
       "Schedule is empty", "DAPR_SCHEDULER_SCHEDULE_EMPTY", "no schedule")
c, d, _, _ = call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="badsched", schedule="every now")))
check(c == OK.INVALID_ARGUMENT and d.startswith("failed to schedule job due to: rpc error: code = InvalidArgument"),
      f"bad schedule: {c} {d}")
sv = any_pb2.Any()
sv.Pack(wrappers_pb2.StringValue(value="s"))
c, d, _, _ = call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="typed", due_time="1h", data=sv)))
check(c == OK.INVALID_ARGUMENT and "google.protobuf.Value only" in d, f"data of another type: {c} {d}")
c, d, _, _ = call(dapr.DeleteJobAlpha1, D.DeleteJobRequest(name="g1"))
check(c is None, f"DeleteJob: {c} {d}")
expect(call(dapr.GetJobAlpha1, D.GetJobRequest(name="g1")), OK.INTERNAL,
       "failed to get job due to: rpc error: code = NotFound desc = job not found: g1", "DAPR_SCHEDULER_GET_JOB",
       "deleted")
expect(call(dapr.GetJobAlpha1, D.GetJobRequest(name="")), OK.INVALID_ARGUMENT, "Name is empty",
       "DAPR_SCHEDULER_JOB_NAME_EMPTY", "get without name")
# a gRPC job fires at the app with its data as JSON
val = any_pb2.Any()
val.Pack(struct_pb2.Value(string_value="ping"))
check(call(dapr.ScheduleJobAlpha1, D.ScheduleJobRequest(job=D.Job(name="now", due_time="0s", data=val)))[0] is None,
      "schedule a job due now")
try:
    path, body = jobs_got.get(timeout=20)
except queue.Empty:
    path, body = None, None
check(path == "/job/now" and json.loads(body) == "ping", f"the job fired at the app: {path} {body!r}")

ch.close()
sc.stop()
httpd.shutdown()
rd.cleanup()
shutil.rmtree(gen, ignore_errors=True)
finish()
