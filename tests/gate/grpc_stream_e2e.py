"""grpc_stream_e2e.py: streaming subscriptions (SubscribeTopicEventsAlpha1)
of `wasmgate run` against Debian's grpcio, with stubs compiled at test time
by grpc_tools from the same proto/ files the sidecar is built from.

A sidecar without an app (streams need none): the initial request and
response, events published over HTTP and gRPC arriving with daprd's
TopicEventRequest fields, SUCCESS acknowledging, RETRY redelivering by the
component's backOff policy, DROP dropping or going to the stream's
dead-letter topic, rawPayload, two streams on one topic sharing its
messages, an event left unanswered by a stream that closes going to the
other, a closed stream no longer receiving, the subscription in
/v1.0/metadata while open, daprd's errors (unknown pubsub, missing topic,
no initial request, a second initial request, the client's half-close),
a stream that does not read while events wait, and with pubsub.redis a message
that arrived while no stream was open reaching the next stream.

Run with Debian's python3 (python3-grpcio, python3-grpc-tools).
"""
import json
import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import grpc_stubs, Sidecar, check, finish, start_alarm  # noqa: E402

import grpc  # noqa: E402

BIN = sys.argv[1]
start_alarm(200)

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto"], "wgg-grpc-stubs-")
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402

SUCCESS, RETRY, DROP = D.TopicEventResponse.SUCCESS, D.TopicEventResponse.RETRY, D.TopicEventResponse.DROP

sc = Sidecar(BIN, app_id="streamer")
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mem\nspec:\n"
                                 "  type: pubsub.in-memory\n  version: v1\n  metadata:\n"
                                 "  - name: backOffDuration\n    value: 200ms\n"
                                 "  - name: backOffMaxRetries\n    value: \"3\"\n")
sc.start()
channel = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
stub = DG.DaprStub(channel)


class Stream:
    """One SubscribeTopicEventsAlpha1 call: requests from a queue, responses read by a thread."""

    def __init__(self, pubsub, topic, dead_letter=None, metadata=None, initial=True, read=True):
        self.q = queue.Queue()
        self.events = queue.Queue()
        self.error = None
        if initial:
            init = D.SubscribeTopicEventsRequestInitialAlpha1(pubsub_name=pubsub, topic=topic, metadata=metadata or {})
            if dead_letter:
                init.dead_letter_topic = dead_letter
            self.send(D.SubscribeTopicEventsRequestAlpha1(initial_request=init))
        self.call = stub.SubscribeTopicEventsAlpha1(self._requests(), timeout=120)
        if read:
            self.start_reading()

    def start_reading(self):
        threading.Thread(target=self._read, daemon=True).start()

    def _requests(self):
        while True:
            m = self.q.get()
            if m is None:
                return
            yield m

    def _read(self):
        try:
            for r in self.call:
                self.events.put(r)
        except grpc.RpcError as e:
            self.error = e
        self.events.put(None)

    def send(self, m):
        self.q.put(m)

    def next(self, timeout=10):
        """The next response, or None when the stream ended (self.error says how) or nothing came in time."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def event(self, timeout=10):
        r = self.next(timeout)
        if r is None:
            return None
        check(r.WhichOneof("subscribe_topic_events_response_type") == "event_message", f"not an event: {r}")
        return r.event_message

    def subscribed(self):
        r = self.next()
        check(r is not None and r.WhichOneof("subscribe_topic_events_response_type") == "initial_response",
              f"no initial response first: {r} {self.error}")

    def answer(self, ev_id, status):
        self.send(D.SubscribeTopicEventsRequestAlpha1(
            event_processed=D.SubscribeTopicEventsRequestProcessedAlpha1(id=ev_id, status=D.TopicEventResponse(status=status))))

    def close(self):
        self.call.cancel()

    def end_status(self, timeout=10):
        """(code, details) once the stream ended."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.next(max(0.1, deadline - time.time()))
            if r is None:
                break
        if self.error is None:
            return None, None
        return self.error.code(), self.error.details()


def http_publish(topic, body, ctype="application/json"):
    st, _, b = sc.request("POST", f"/v1.0/publish/mem/{topic}", body=body, headers={"Content-Type": ctype})
    check(st == 204, f"publish {topic}: {st} {b!r}")


def quiet(s, secs=1.0):
    """Nothing arrives on s for secs."""
    r = s.next(secs)
    check(r is None, f"unexpected message: {r}")


# ---- subscribe, receive from HTTP and gRPC publishers, SUCCESS ----
a = Stream("mem", "orders")
a.subscribed()
http_publish("orders", json.dumps({"n": 1}))
ev = a.event()
check(ev is not None, f"no event delivered: {a.error}")
check(ev.topic == "orders" and ev.pubsub_name == "mem" and ev.path == "/", f"envelope: {ev}")
check(ev.spec_version == "1.0" and ev.type == "com.dapr.event.sent" and ev.source == "streamer", f"CloudEvent: {ev}")
check(ev.data_content_type == "application/json" and json.loads(ev.data) == {"n": 1}, f"data: {ev.data!r}")
check(ev.id != "", "event id")
ext = dict(ev.extensions.fields)
check(ext["pubsubname"].string_value == "mem" and ext["topic"].string_value == "orders", f"extensions: {ev.extensions}")
check("data" not in ext and "id" not in ext and "specversion" not in ext, f"core attributes in extensions: {ext.keys()}")
a.answer(ev.id, SUCCESS)
quiet(a, 0.8)  # acknowledged: not redelivered

stub.PublishEvent(D.PublishEventRequest(pubsub_name="mem", topic="orders", data=b"hello", data_content_type="text/plain"),
                  timeout=10)
ev = a.event()
check(ev is not None and ev.data == b"hello" and ev.data_content_type == "text/plain", f"gRPC-published event: {ev}")
a.answer(ev.id, SUCCESS)

# ---- the subscription is listed while open ----
st, _, body = sc.request("GET", "/v1.0/metadata")
subs = json.loads(body)["subscriptions"]
check(any(s["topic"] == "orders" and s["pubsubname"] == "mem" and s["type"] == "STREAMING" for s in subs),
      f"metadata subscriptions: {subs}")
md = stub.GetMetadata(D.GetMetadataRequest(), timeout=10)
check(any(s.topic == "orders" and s.pubsub_name == "mem" and s.type == D.STREAMING for s in md.subscriptions),
      f"gRPC GetMetadata subscriptions: {md.subscriptions}")

# ---- RETRY redelivers (backOffDuration 200ms), then SUCCESS ----
http_publish("orders", json.dumps({"n": 2}))
ev = a.event()
check(ev is not None and json.loads(ev.data) == {"n": 2}, f"event 2: {ev}")
a.answer(ev.id, RETRY)
t0 = time.time()
again = a.event(5)
check(again is not None and again.id == ev.id and again.data == ev.data, f"RETRY not redelivered: {again}")
check(time.time() - t0 >= 0.1, "redelivered before the backoff")
a.answer(again.id, SUCCESS)
quiet(a, 0.8)

# ---- RETRY until the retries run out: in-memory has no broker redelivery ----
http_publish("orders", json.dumps({"n": 3}))
first = a.event()
n = 0
while first is not None and n < 10:
    n += 1
    a.answer(first.id, RETRY)
    first = a.event(1.5)
check(n == 4, f"attempts with backOffMaxRetries 3: {n}")

# ---- DROP drops ----
http_publish("orders", json.dumps({"n": 4}))
ev = a.event()
a.answer(ev.id, DROP)
quiet(a, 0.8)

# ---- DROP to the stream's dead-letter topic ----
dl = Stream("mem", "orders-dead")
dl.subscribed()
b = Stream("mem", "orders2", dead_letter="orders-dead")
b.subscribed()
http_publish("orders2", json.dumps({"n": 5}))
ev = b.event()
check(ev is not None, "orders2 event")
b.answer(ev.id, DROP)
dead = dl.event()
check(dead is not None and json.loads(dead.data) == {"n": 5} and dead.topic == "orders-dead",
      f"dead-letter event: {dead}")
dl.answer(dead.id, SUCCESS)
quiet(b, 0.5)

# ---- rawPayload ----
r = Stream("mem", "raw", metadata={"rawPayload": "true"})
r.subscribed()
stub.PublishEvent(D.PublishEventRequest(pubsub_name="mem", topic="raw", data=b"\x00\x01bin",
                                        metadata={"rawPayload": "true"}), timeout=10)
ev = r.event()
check(ev is not None and ev.data == b"\x00\x01bin" and ev.data_content_type == "application/octet-stream",
      f"raw event: {ev}")
r.answer(ev.id, SUCCESS)

# ---- two streams on one topic share its messages ----
c = Stream("mem", "orders")
c.subscribed()
for i in range(6):
    http_publish("orders", json.dumps({"i": i}))
got = {"a": [], "c": []}
for name, s in (("a", a), ("c", c)):
    while True:
        ev = s.event(1.5)
        if ev is None:
            break
        got[name].append(json.loads(ev.data)["i"])
        s.answer(ev.id, SUCCESS)
check(sorted(got["a"] + got["c"]) == list(range(6)), f"two streams: {got}")
check(got["a"] and got["c"], f"both streams receive: {got}")

# ---- an event a closing stream leaves unanswered goes to the other ----
http_publish("orders", json.dumps({"k": 1}))
http_publish("orders", json.dumps({"k": 2}))
held = {}
for name, s in (("a", a), ("c", c)):
    ev = s.event(3)
    if ev is not None:
        held[name] = ev
check(len(held) >= 1, f"no event on either stream: {held}")
closer, other = (a, c) if "a" in held else (c, a)
name_other = "c" if closer is a else "a"
seen = []
if name_other in held:  # the other stream answers what it has
    other.answer(held[name_other].id, SUCCESS)
    seen.append(json.loads(held[name_other].data)["k"])
closer.close()  # its event unanswered
check(closer.end_status()[0] == grpc.StatusCode.CANCELLED, "cancelled")
while len(seen) < 2:
    moved = other.event(5)
    if moved is None:
        break
    other.answer(moved.id, SUCCESS)
    seen.append(json.loads(moved.data)["k"])
check(sorted(seen) == [1, 2], f"the unanswered event did not move to the open stream: {seen}")
c = other  # the stream still open

# ---- a closed stream stops delivery: nothing arrives once the last one closes ----
c.send(None)  # half-close after the answers (a cancel could overtake the last one: it would count as unanswered)
c.end_status()
# the client sees the end before the sidecar has processed the reset; an event
# published while the sidecar still holds the subscription is in flight and moves
# to the next open stream by design, so wait until the sidecar unlists it
deadline = time.time() + 10
while time.time() < deadline and any(
        s["topic"] == "orders" for s in json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]):
    time.sleep(0.05)
handed_back = "no stream subscribed to topic orders; the message goes back to the broker"
before = sc.logs().count(handed_back)
http_publish("orders", json.dumps({"gone": True}))
# the publish is acknowledged before the delivery loop looks for a stream: wait until it found none
deadline = time.time() + 10
while time.time() < deadline and sc.logs().count(handed_back) == before:
    time.sleep(0.05)
check(sc.logs().count(handed_back) > before, "the event published with no stream open found none")
later = Stream("mem", "orders")
later.subscribed()
http_publish("orders", json.dumps({"after": True}))
ev = later.event()
check(ev is not None and json.loads(ev.data) == {"after": True}, f"only what was published while subscribed: {ev}")
later.answer(ev.id, SUCCESS)
quiet(later, 0.5)

# ---- errors as daprd ----
e = Stream("mem", "x", initial=False)
e.answer("x", SUCCESS)
check(e.end_status() == (grpc.StatusCode.UNKNOWN, "initial request is required"), f"no initial: {e.end_status()}")
e = Stream("nope", "x")
code, det = e.end_status()
check(code == grpc.StatusCode.INVALID_ARGUMENT and det == "pubsub nope is not found", f"unknown pubsub: {code} {det}")
e = Stream("mem", "")
check(e.end_status() == (grpc.StatusCode.UNKNOWN, "topic is required"), "missing topic")
e = Stream("", "t")
check(e.end_status() == (grpc.StatusCode.UNKNOWN, "pubsubName is required"), "missing pubsub")
e = Stream("mem", "dup")
e.subscribed()
e.send(D.SubscribeTopicEventsRequestAlpha1(
    initial_request=D.SubscribeTopicEventsRequestInitialAlpha1(pubsub_name="mem", topic="dup2")))
check(e.end_status() == (grpc.StatusCode.UNKNOWN, "duplicate initial request received"), "second initial request")
e = Stream("mem", "halfclose")
e.subscribed()
e.send(None)  # the client half-closes: daprd's recv loop returns io.EOF
check(e.end_status() == (grpc.StatusCode.UNKNOWN, "EOF"), "half-close")
st, _, body = sc.request("GET", "/v1.0/metadata")
check(not any(s["topic"] in ("dup", "halfclose") for s in json.loads(body)["subscriptions"]), "ended streams unlisted")

# ---- a stream that does not read: events wait in flow control, nothing is lost ----
slow = Stream("mem", "bulk", read=False)
deadline = time.time() + 10  # not reading: wait for the subscription where the sidecar lists it
while time.time() < deadline and not any(
        s["topic"] == "bulk" for s in json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]):
    time.sleep(0.05)
big = "x" * 200000
for i in range(20):  # 4 MB: beyond the 1 MiB window and the socket buffers
    http_publish("bulk", json.dumps({"i": i, "pad": big}))
time.sleep(1)
st, _, _ = sc.request("GET", "/v1.0/healthz")  # the sidecar serves meanwhile
check(st == 204, f"healthz while a stream is stalled: {st}")
slow.start_reading()
slow.subscribed()
got = []
while len(got) < 20:
    ev = slow.event(10)
    if ev is None:
        break
    got.append(json.loads(ev.data)["i"])
    slow.answer(ev.id, SUCCESS)
check(sorted(got) == list(range(20)), f"stalled stream received {len(got)}: {got[:5]}")
slow.close()

# ---- a durable broker (Redis): what arrives while no stream is open waits for the next stream ----
from brokers import Redis  # noqa: E402
rd = Redis().start()
sc2 = Sidecar(BIN, app_id="streamer2")
sc2.write_resource("ps.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: rps\nspec:\n"
                              "  type: pubsub.redis\n  version: v1\n  metadata:\n"
                              f"  - name: redisHost\n    value: 127.0.0.1:{rd.port}\n"
                              "  - name: processingTimeout\n    value: 1s\n  - name: redeliverInterval\n    value: 300ms\n"
                              "  - name: backOffDuration\n    value: 200ms\n")
sc2.start()
ch2 = grpc.insecure_channel(f"127.0.0.1:{sc2.grpc_port}")
stub_mem, stub = stub, DG.DaprStub(ch2)


def publish2(body):
    st, _, b = sc2.request("POST", "/v1.0/publish/rps/jobs", body=body, headers={"Content-Type": "application/json"})
    check(st == 204, f"publish to redis: {st} {b!r}")


x = Stream("rps", "jobs")
x.subscribed()
publish2(json.dumps({"job": 1}))
ev = x.event()
check(ev is not None and json.loads(ev.data) == {"job": 1}, f"redis event: {ev}")
x.answer(ev.id, RETRY)
again = x.event(5)
check(again is not None and again.id == ev.id, f"redis RETRY: {again}")
x.answer(again.id, SUCCESS)
x.send(None)  # half-close after the answer (a cancel could overtake it: the event would count as unanswered)
check(x.end_status() == (grpc.StatusCode.UNKNOWN, "EOF"), "redis stream half-closed")
time.sleep(0.3)
publish2(json.dumps({"job": 2}))  # read by the component with no stream open: handed back, stays pending
time.sleep(0.5)
y = Stream("rps", "jobs")
y.subscribed()
ev = y.event(15)
check(ev is not None and json.loads(ev.data) == {"job": 2}, f"the pending message reaches the next stream: {ev}")
if ev is not None:
    y.answer(ev.id, SUCCESS)
quiet(y, 2.0)  # acknowledged: not reclaimed again (processingTimeout 1s)
y.close()
y.end_status()
sc2.stop()
ch2.close()
rd.cleanup()
stub = stub_mem

# ---- shutdown with a stream open ends it ----
s = Stream("mem", "last")
s.subscribed()
sc.stop()
code, _ = s.end_status()
check(code is not None, "the open stream ended at shutdown")
channel.close()
finish()
