#!/usr/bin/env python3
"""bench/pubsub.py WASMGATE: publish-to-delivery latency (p50/p99) and
throughput of pub/sub through `wasmgate run`, for pubsub.in-memory, pubsub.redis
(a real redis-server) and pubsub.mqtt3 (a real mosquitto), all on loopback.

One sidecar publishes and delivers to a subscriber app in this process (an
HTTP/1.1 keep-alive server on threads). Latency: messages published one at a
time (the next after the previous was delivered), the publish timestamp in the
body, the receive time at the app. Throughput: N messages published by P
keep-alive connections in parallel, timed until the last one is delivered.
For pubsub.in-memory the same is measured with the subscriber as a gRPC
streaming subscription (SubscribeTopicEventsAlpha1, grpcio) instead of HTTP
push. The subscriber is Python, so throughput numbers are a floor set partly by it;
the report says how fast the same app takes plain HTTP posts for scale.

Environment: BENCH_LAT_N (500), BENCH_TPUT_N (3000), BENCH_PUBLISHERS (4).
"""
import http.client
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "gate"))
from brokers import Mosquitto, Redis  # noqa: E402
from wgtest import Sidecar  # noqa: E402

BIN = os.path.abspath(sys.argv[1])  # the sidecars run in their own directories
LAT_N = int(os.environ.get("BENCH_LAT_N", "500"))
TPUT_N = int(os.environ.get("BENCH_TPUT_N", "3000"))
PUBS = int(os.environ.get("BENCH_PUBLISHERS", "4"))


class App:
    def __init__(self):
        self.lat = []
        self.count = 0
        self.cv = threading.Condition()
        app = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                out = json.dumps([{"pubsubname": "ps", "topic": "bench", "route": "/bench"}]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_POST(self):
                now = time.perf_counter_ns()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    sent = json.loads(body)["data"]["t"]
                except (ValueError, KeyError, TypeError):
                    sent = None
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with app.cv:
                    if sent is not None:
                        app.lat.append(now - sent)
                    app.count += 1
                    app.cv.notify_all()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_count(self, n, timeout=60):
        deadline = time.time() + timeout
        with self.cv:
            while self.count < n and time.time() < deadline:
                self.cv.wait(0.5)
            return self.count >= n


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] / 1e6 if xs else float("nan")


class StreamApp:
    """The subscriber as a streaming subscription (gRPC SubscribeTopicEventsAlpha1 through
    grpcio, stubs compiled from proto/): each event is counted, then acknowledged SUCCESS.
    Same counters as App."""

    def __init__(self):
        import queue
        import subprocess
        import tempfile
        import grpc
        gen = tempfile.mkdtemp(prefix="wgg-bench-stubs-")
        root = os.path.join(here, "..", "proto")
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + root, "-I/usr/include", "--python_out=" + gen,
                        "--grpc_python_out=" + gen, "dapr/proto/common/v1/common.proto",
                        "dapr/proto/runtime/v1/dapr.proto"], check=True)
        sys.path.insert(0, gen)
        from dapr.proto.runtime.v1 import dapr_pb2, dapr_pb2_grpc
        self.grpc, self.D, self.DG, self.queue = grpc, dapr_pb2, dapr_pb2_grpc, queue
        self.cv = threading.Condition()
        self.count = 0
        self.lat = []

    def subscribe(self, grpc_port, pubsub, topic):
        D = self.D
        self.q = self.queue.Queue()
        self.q.put(D.SubscribeTopicEventsRequestAlpha1(
            initial_request=D.SubscribeTopicEventsRequestInitialAlpha1(pubsub_name=pubsub, topic=topic)))
        self.channel = self.grpc.insecure_channel(f"127.0.0.1:{grpc_port}")

        def reqs():
            while True:
                m = self.q.get()
                if m is None:
                    return
                yield m
        self.call = self.DG.DaprStub(self.channel).SubscribeTopicEventsAlpha1(reqs())
        first = next(self.call)
        assert first.WhichOneof("subscribe_topic_events_response_type") == "initial_response"

        def reader():
            try:
                for r in self.call:
                    ev = r.event_message
                    now = time.perf_counter_ns()
                    t = json.loads(ev.data).get("t")
                    self.q.put(D.SubscribeTopicEventsRequestAlpha1(event_processed=D.SubscribeTopicEventsRequestProcessedAlpha1(
                        id=ev.id, status=D.TopicEventResponse(status=D.TopicEventResponse.SUCCESS))))
                    with self.cv:
                        if t:
                            self.lat.append(now - t)
                        self.count += 1
                        self.cv.notify_all()
            except self.grpc.RpcError:
                pass
        threading.Thread(target=reader, daemon=True).start()

    def close(self):
        self.q.put(None)
        self.call.cancel()
        self.channel.close()

    def wait_count(self, n, timeout=60):
        return App.wait_count(self, n, timeout)


def run(kind, meta, app):
    stream = isinstance(app, StreamApp)
    sc = Sidecar(BIN, app_id="bench", args=(["--log-level", "warn"] if stream else
                                            ["--app-port", str(app.port), "--log-level", "warn"]))
    sc.write_resource("ps.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ps\nspec:\n"
                      f"  type: {kind}\n  version: v1\n  metadata:{meta}")
    sc.start()
    if stream:
        app.subscribe(sc.grpc_port, "ps", "bench")
    deadline = time.time() + 10
    while time.time() < deadline and not json.loads(sc.request("GET", "/v1.0/metadata")[2])["subscriptions"]:
        time.sleep(0.05)
    time.sleep(0.5)
    conn = http.client.HTTPConnection("127.0.0.1", sc.port)
    hdr = {"Content-Type": "application/json"}

    def publish(c, i):
        c.request("POST", "/v1.0/publish/ps/bench", body=json.dumps({"i": i, "t": time.perf_counter_ns()}), headers=hdr)
        r = c.getresponse()
        r.read()
        return r.status

    with app.cv:
        app.lat.clear()
        app.count = 0
    for i in range(LAT_N):
        base = app.count
        if publish(conn, i) != 204:
            raise RuntimeError("publish failed")
        app.wait_count(base + 1, 10)
    lat = list(app.lat)
    with app.cv:
        app.count = 0
        app.lat.clear()
    per = TPUT_N // PUBS

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", sc.port)
        for i in range(per):
            publish(c, k * per + i)
        c.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(PUBS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    t_pub = time.perf_counter() - t0
    ok = app.wait_count(per * PUBS, 120)
    t_all = time.perf_counter() - t0
    conn.close()
    if stream:
        app.close()
    sc.cleanup()
    name = kind.split(".")[1] + (" (gRPC stream)" if stream else "")
    print(f"  {name:26s} latency p50 {pct(lat, 0.5):6.2f} ms  p99 {pct(lat, 0.99):6.2f} ms  ({len(lat)} msgs, one at a time)"
          f" | throughput {per * PUBS / t_all:7.0f} msg/s delivered ({per * PUBS / t_pub:.0f} msg/s published,"
          f" {PUBS} publishers){'' if ok else ' INCOMPLETE'}")


def app_ceiling(app):
    """Plain POSTs straight to the app: the subscriber's own ceiling."""
    with app.cv:
        app.count = 0
    per = TPUT_N // PUBS

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", app.port)
        for i in range(per):
            c.request("POST", "/x", body="{}")
            c.getresponse().read()
        c.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(PUBS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return per * PUBS / (time.perf_counter() - t0)


def main():
    app = App()
    print(f"pub/sub: publish-to-delivery through wasmgate ({os.cpu_count()} cores, load "
          f"{open('/proc/loadavg').read().split()[0]})")
    print(f"  the Python subscriber alone takes {app_ceiling(app):.0f} plain POSTs/s ({PUBS} clients)")
    run("pubsub.in-memory", " []\n", app)
    try:
        sapp = StreamApp()
    except Exception as e:  # noqa: BLE001 -- grpcio / grpc_tools missing: HTTP push only
        print(f"  (no streaming-subscription run: {e})")
        sapp = None
    if sapp:
        run("pubsub.in-memory", " []\n", sapp)
    rd = Redis().start()
    run("pubsub.redis", f"\n  - name: redisHost\n    value: 127.0.0.1:{rd.port}\n", app)
    rd.cleanup()
    mq = Mosquitto().start()
    run("pubsub.mqtt3", f"\n  - name: url\n    value: tcp://127.0.0.1:{mq.port}\n", app)
    mq.cleanup()


if __name__ == "__main__":
    main()
