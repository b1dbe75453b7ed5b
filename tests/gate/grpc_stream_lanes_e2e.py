"""grpc_stream_lanes_e2e.py: a streaming subscription's deliveries run on the
stream's own loop (its lane, gate/pubsub/stream.c); this checks what that path
must keep of daprd's semantics, with Debian's grpcio and stubs compiled from
proto/ at test time.

`wasmgate run --threads 2`, so publishes reach a stream's lane from its own
loop and from the other one:
  1. many events in flight: 4 publishers x 60 events to one stream that acks
     each as it reads it: every event arrives exactly once, and each
     publisher's events in the order it published them;
  2. a stream closed mid-batch: with 40 events in flight on stream A (none
     answered), stream B joins the topic; A acknowledges 10, answers RETRY to
     one (its retry then waits for a 30 s backoff) and half-closes. The 29 it
     left unanswered and the one waiting for its retry reach B at once
     (before any backoff), oldest first; none of the 10 acknowledged ones is
     delivered again.

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
start_alarm(150)

gen = grpc_stubs(["dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto"], "wgg-grpc-stubs-")
from dapr.proto.runtime.v1 import dapr_pb2 as D  # noqa: E402
from dapr.proto.runtime.v1 import dapr_pb2_grpc as DG  # noqa: E402

SUCCESS, RETRY = D.TopicEventResponse.SUCCESS, D.TopicEventResponse.RETRY

sc = Sidecar(BIN, app_id="lanes", args=["--threads", "2"])
# concurrency 50: the whole batch of scenario 2 is in flight at once; a 30 s
# backoff: a redelivery that went through a retry would miss the deadlines
sc.write_resource("pubsub.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mem\nspec:\n"
                                 "  type: pubsub.in-memory\n  version: v1\n  metadata:\n"
                                 "  - name: concurrency\n    value: \"50\"\n"
                                 "  - name: backOffDuration\n    value: 30s\n"
                                 "  - name: backOffMaxRetries\n    value: \"3\"\n")
sc.start()
channel = grpc.insecure_channel(f"127.0.0.1:{sc.grpc_port}")
stub = DG.DaprStub(channel)


class Stream:
    """One SubscribeTopicEventsAlpha1 call; events are read by a thread into a queue."""

    def __init__(self, topic):
        self.q = queue.Queue()
        self.events = queue.Queue()
        self.q.put(D.SubscribeTopicEventsRequestAlpha1(
            initial_request=D.SubscribeTopicEventsRequestInitialAlpha1(pubsub_name="mem", topic=topic)))
        self.call = stub.SubscribeTopicEventsAlpha1(iter(self.q.get, None), timeout=120)
        threading.Thread(target=self._read, daemon=True).start()
        r = self.events.get(timeout=10)
        check(r is not None and r.WhichOneof("subscribe_topic_events_response_type") == "initial_response",
              f"no initial response: {r}")

    def _read(self):
        try:
            for r in self.call:
                self.events.put(r)
        except grpc.RpcError:
            pass
        self.events.put(None)

    def event(self, timeout=10):
        try:
            r = self.events.get(timeout=timeout)
        except queue.Empty:
            return None
        return r.event_message if r is not None else None

    def answer(self, ev_id, status):
        self.q.put(D.SubscribeTopicEventsRequestAlpha1(event_processed=D.SubscribeTopicEventsRequestProcessedAlpha1(
            id=ev_id, status=D.TopicEventResponse(status=status))))

    def half_close(self):
        self.q.put(None)


def publish(topic, body):
    st, _, b = sc.request("POST", f"/v1.0/publish/mem/{topic}", body=json.dumps(body),
                          headers={"Content-Type": "application/json"})
    check(st == 204, f"publish {topic}: {st} {b!r}")


def wait_listed(topic, n_streams_open):
    deadline = time.time() + 10
    while time.time() < deadline:
        subs = json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]
        if any(s["topic"] == topic for s in subs) == n_streams_open:
            return
        time.sleep(0.05)
    check(False, f"subscription of {topic} listed: expected {n_streams_open}")


# ---- 1. many events in flight, from both loops ----
s = Stream("burst")
wait_listed("burst", True)
PUBS, PER = 4, 60
threads = [threading.Thread(target=lambda p=p: [publish("burst", {"p": p, "i": i}) for i in range(PER)])
           for p in range(PUBS)]
for t in threads:
    t.start()
got = []
deadline = time.time() + 60
while len(got) < PUBS * PER and time.time() < deadline:
    ev = s.event(max(0.1, deadline - time.time()))
    if ev is None:
        break
    s.answer(ev.id, SUCCESS)
    got.append(json.loads(ev.data))
for t in threads:
    t.join()
check(len(got) == PUBS * PER, f"{len(got)} of {PUBS * PER} events delivered")
check(len({(g["p"], g["i"]) for g in got}) == len(got), "an event delivered twice")
for p in range(PUBS):
    seq = [g["i"] for g in got if g["p"] == p]
    check(seq == list(range(PER)), f"publisher {p}'s events out of order: {seq[:12]}...")
extra = s.event(0.5)
check(extra is None, f"an extra event after all were acknowledged: {extra}")
s.half_close()

# ---- 2. a stream closed mid-batch hands what it holds to the other, at once and in order ----
a = Stream("batch")
wait_listed("batch", True)
N = 40
for i in range(N):
    publish("batch", {"i": i})
held = []
while len(held) < N:
    ev = a.event(20)
    if ev is None:
        break
    held.append(ev)
check(len(held) == N, f"stream A received {len(held)} of {N} (concurrency 50: all in flight)")
check([json.loads(e.data)["i"] for e in held] == list(range(N)), "stream A's events in publish order")
b = Stream("batch")  # joins while A holds everything
for e in held[:10]:
    a.answer(e.id, SUCCESS)
a.answer(held[10].id, RETRY)  # its retry now waits 30 s on A's lane
t0 = time.time()
a.half_close()  # after the answers on the same HTTP/2 stream: none is overtaken
moved = []
while len(moved) < N - 10:
    ev = b.event(15)
    if ev is None:
        break
    b.answer(ev.id, SUCCESS)
    moved.append(ev)
took = time.time() - t0
nums = [json.loads(e.data)["i"] for e in moved]
check(sorted(nums) == list(range(10, N)), f"B received {nums}, expected 10..{N - 1}")
check(nums == list(range(10, N)), f"handed on oldest first: {nums}")
check(took < 25, f"the held events took {took:.1f} s: they waited for a retry backoff (30 s)")
check(bool(moved) and moved[0].id == held[10].id, "the event waiting for its retry keeps its id")
extra = b.event(1.0)
check(extra is None, f"an acknowledged event was delivered again: {extra}")
b.half_close()
wait_listed("batch", False)

channel.close()
sc.stop()
finish()
