#!/usr/bin/python3
"""bench/grpc_stream.py WASMGATE: pub/sub delivery to a streaming subscription
(gRPC SubscribeTopicEventsAlpha1) versus HTTP push, side by side on ONE
`wasmgate run --threads 1` with pubsub.in-memory.

Two subscribers on the same sidecar and component, on different topics:
  stream  an app subscribed over SubscribeTopicEventsAlpha1 (grpcio, stubs compiled
          from proto/ with grpc_tools as the tests do); it acks every event SUCCESS
          on the stream as it reads it;
  push    an HTTP app (ThreadingHTTPServer, HTTP/1.1 keep-alive) subscribed through
          GET /dapr/subscribe, answering every event 200 {"status":"SUCCESS"}.
Each phase publishes N events to one topic through POST /v1.0/publish (h2load --h1,
PUBLISHERS keep-alive connections, one request in flight each: a C client, so the
publishers do not share the subscriber's Python interpreter) and counts deliveries
until all N arrived (bounded by TIMEOUT seconds; a missing or extra event fails the
run). A third phase, "publish only", publishes to a topic nobody subscribes to:
the sidecar's cost of taking the publishes alone, so the rest is delivery's.

Printed per phase (median of ROUNDS interleaved rounds): events delivered per second
(first publish to last delivery), the sidecar's CPU per event (utime+stime from
/proc/PID/stat over the phase, in us) and the subscriber's own CPU per event (this
process: the Python app). On a shared, loaded machine the rates move with the load;
CPU per event is the comparable figure.

Environment: N (20000), PUBLISHERS (4), ROUNDS (3), TIMEOUT (120).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "gate"))
from wgtest import Sidecar  # noqa: E402

N = int(os.environ.get("N", "20000"))
PUBS = int(os.environ.get("PUBLISHERS", "4"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
TIMEOUT = float(os.environ.get("TIMEOUT", "120"))
TCK = os.sysconf("SC_CLK_TCK")


class Counter:
    def __init__(self):
        self.n = 0
        self.cv = threading.Condition()

    def add(self):
        with self.cv:
            self.n += 1
            self.cv.notify_all()

    def reset(self):
        with self.cv:
            self.n = 0

    def wait(self, n, timeout):
        """Waits until n were counted; returns (count, time of reaching n or of giving up)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while self.n < n and time.monotonic() < deadline:
                self.cv.wait(0.2)
            return self.n, time.monotonic()


class PushApp:
    """The HTTP app: /dapr/subscribe names topic 'push', every event answered SUCCESS."""

    def __init__(self):
        self.count = Counter()
        app = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def log_message(self, *a):
                pass

            def reply(self, body):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/dapr/subscribe":
                    self.reply(json.dumps([{"pubsubname": "ps", "topic": "push", "route": "/push"}]).encode())
                else:
                    self.reply(b"{}")

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.reply(b'{"status":"SUCCESS"}')
                if self.path == "/push":
                    app.count.add()

            do_OPTIONS = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class StreamApp:
    """The gRPC app: SubscribeTopicEventsAlpha1 on topic 'stream', every event acked SUCCESS."""

    def __init__(self):
        import queue
        import grpc
        self.gen = tempfile.mkdtemp(prefix="wg-bench-stubs-")
        root = os.path.join(here, "..", "proto")
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + root, "-I/usr/include",
                        "--python_out=" + self.gen, "--grpc_python_out=" + self.gen,
                        "dapr/proto/common/v1/common.proto", "dapr/proto/runtime/v1/dapr.proto"], check=True)
        sys.path.insert(0, self.gen)
        from dapr.proto.runtime.v1 import dapr_pb2, dapr_pb2_grpc
        self.grpc, self.D, self.DG, self.queue = grpc, dapr_pb2, dapr_pb2_grpc, queue
        self.count = Counter()

    def subscribe(self, grpc_port):
        D = self.D
        self.q = self.queue.Queue()
        self.q.put(D.SubscribeTopicEventsRequestAlpha1(
            initial_request=D.SubscribeTopicEventsRequestInitialAlpha1(pubsub_name="ps", topic="stream")))
        self.channel = self.grpc.insecure_channel(f"127.0.0.1:{grpc_port}")

        def reqs():
            while True:
                m = self.q.get()
                if m is None:
                    return
                yield m
        self.call = self.DG.DaprStub(self.channel).SubscribeTopicEventsAlpha1(reqs())
        first = next(self.call)
        if first.WhichOneof("subscribe_topic_events_response_type") != "initial_response":
            raise RuntimeError(f"no initial response on the stream: {first}")

        def reader():
            try:
                for r in self.call:
                    ev = r.event_message
                    self.q.put(D.SubscribeTopicEventsRequestAlpha1(event_processed=D.SubscribeTopicEventsRequestProcessedAlpha1(
                        id=ev.id, status=D.TopicEventResponse(status=D.TopicEventResponse.SUCCESS))))
                    self.count.add()
            except self.grpc.RpcError:
                pass
        threading.Thread(target=reader, daemon=True).start()

    def close(self):
        self.q.put(None)
        self.call.cancel()
        self.channel.close()


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime, stime (fields 14, 15)


def ctx_switches(pid):
    """Context switches (voluntary + involuntary) of every thread of pid so far."""
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{t}/status"):
                if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                    n += int(line.split()[1])
        except OSError:
            pass  # a thread that ended meanwhile
    return n


def phase(sc, body, topic, counter):
    """Publishes N events to topic; returns (events/s, sidecar us/event, app us/event,
    sidecar context switches/event)."""
    if counter:
        counter.reset()
    c0, a0, x0 = cpu_ticks(sc.proc.pid), time.process_time(), ctx_switches(sc.proc.pid)
    t0 = time.monotonic()
    out = subprocess.run(["h2load", "--h1", "-n", str(N), "-c", str(PUBS), "-t", "1", "-m", "1", "-d", body,
                          "-H", "content-type: application/json",
                          f"http://127.0.0.1:{sc.port}/v1.0/publish/ps/{topic}"],
                         capture_output=True, text=True, timeout=TIMEOUT)
    t_pub = time.monotonic()
    if f"{N} succeeded, 0 failed, 0 errored" not in out.stdout or f"status codes: {N} 2xx" not in out.stdout:
        raise RuntimeError(f"grpc_stream.py: publishing to {topic} failed:\n{out.stdout}{out.stderr}")
    if counter:
        got, t1 = counter.wait(N, TIMEOUT - (t_pub - t0))
        if got != N:
            raise RuntimeError(f"grpc_stream.py: {topic}: {got} of {N} events delivered within {TIMEOUT:.0f} s")
    else:
        t1 = t_pub
    c1, a1, x1 = cpu_ticks(sc.proc.pid), time.process_time(), ctx_switches(sc.proc.pid)
    if counter:
        time.sleep(0.5)  # none extra: at-least-once may redeliver, but in-memory with SUCCESS acks must not
        if counter.n != N:
            raise RuntimeError(f"grpc_stream.py: {topic}: {counter.n} events delivered for {N} published")
    return N / (t1 - t0), (c1 - c0) / TCK / N * 1e6, (a1 - a0) / N * 1e6, (x1 - x0) / N


def median(xs):
    return sorted(xs)[(len(xs) - 1) // 2]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: grpc_stream.py WASMGATE")
    if not shutil.which("h2load"):
        sys.exit("grpc_stream.py: h2load not installed (scripts/packages/gate.list)")
    binary = os.path.abspath(sys.argv[1])
    push, stream = PushApp(), StreamApp()
    sc = Sidecar(binary, app_id="bench", args=["--threads", "1", "--app-port", str(push.port), "--log-level", "warn"])
    sc.write_resource("ps.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ps\n"
                      "spec:\n  type: pubsub.in-memory\n  version: v1\n  metadata: []\n")
    body = os.path.join(sc.dir, "event.json")
    with open(body, "w") as f:
        f.write(json.dumps({"order": 42, "item": "x" * 64}))  # about 90 bytes
    try:
        sc.start(timeout=30)
        stream.subscribe(sc.grpc_port)
        deadline = time.time() + 30
        while time.time() < deadline:
            topics = {s["topic"] for s in json.loads(sc.request("GET", "/v1.0/metadata")[2]).get("subscriptions", [])}
            if {"push", "stream"} <= topics:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"grpc_stream.py: subscriptions not both registered: {topics}\n{sc.logs()[-2000:]}")
        kinds = [("stream", "gRPC stream (SubscribeTopicEventsAlpha1)", stream.count),
                 ("push", "HTTP push (/dapr/subscribe app)", push.count),
                 ("nobody", "publish only (no subscriber)", None)]
        print(f"streaming subscription vs HTTP push: wasmgate --threads 1, pubsub.in-memory, {N} events x "
              f"{ROUNDS} rounds, {PUBS} HTTP publishers (h2load --h1); {os.cpu_count()} cores, load "
              f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
        res = {k: [] for k, _, _ in kinds}
        for _ in range(ROUNDS):
            for k, _, counter in kinds:
                res[k].append(phase(sc, body, k, counter))
        print(f"  {'subscriber':42s} {'events/s':>9s} {'sidecar CPU us/event':>21s} {'app CPU us/event':>17s}"
              f" {'sidecar cswitch/event':>22s}")
        for k, label, _ in kinds:
            rate = median([r[0] for r in res[k]])
            cpu = median([r[1] for r in res[k]])
            app = median([r[2] for r in res[k]])
            csw = median([r[3] for r in res[k]])
            print(f"  {label:42s} {rate:9.0f} {cpu:21.1f} {app:17.1f} {csw:22.2f}"
                  + ("   (publish rate)" if k == "nobody" else ""))
        stream.close()
    finally:
        sc.cleanup()
        shutil.rmtree(stream.gen, ignore_errors=True)


if __name__ == "__main__":
    main()
