"""bench/p2_subscriber.py BUILD_DIR: what a pub/sub delivery to a component's exported
dapr:runtime subscriber costs the sidecar (issue 14; gate/wasmhost/app_p2sub.c).

tests/components/sub/dapr_sub.c (built by tests/components/mkcomponent.py) is the app of a
`wasmgate run --threads 1` on pubsub.in-memory; its handle-event counts every event with a
wasi:keyvalue increment in state.in-memory (a fresh instance per delivery). N events are published
over one keep-alive connection to a topic the component subscribes to, and, in the same sidecar,
N to a topic nobody subscribes to; the sidecar's CPU time (/proc/PID/stat) of each phase, and the
wall time until the component has counted all N. CPU per delivery = (subscribed - unsubscribed)
/ N: instantiation, the canonical ABI, handle-event and its keyvalue increment.
Environment: N (5000).
"""
import http.client
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "gate"))
sys.path.insert(0, os.path.join(ROOT, "tests", "components"))
import mkcomponent  # noqa: E402
from wgtest import Sidecar, wait_for  # noqa: E402

sys.argv += [""] * 2
BUILD = os.path.abspath(sys.argv[1] or "build")
N = int(os.environ.get("N", "5000"))


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def publish(port, topic, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(n):
        c.request("POST", f"/v1.0/publish/bus/{topic}", body="x", headers={"Content-Type": "text/plain"})
        r = c.getresponse()
        r.read()
        assert r.status == 204, r.status
    c.close()


def main():
    if mkcomponent.missing():
        sys.exit(f"p2_subscriber.py: {mkcomponent.missing()}")
    out = os.path.join(BUILD, "bench-p2sub")
    sub = os.path.join(ROOT, "tests", "components", "sub")
    wit = os.path.join(out, "wit")
    shutil.rmtree(wit, ignore_errors=True)
    os.makedirs(os.path.join(wit, "deps"))
    shutil.copy(os.path.join(sub, "dapr-sub.wit"), wit)
    shutil.copytree(os.path.join(ROOT, "wit", "dapr"), os.path.join(wit, "deps", "dapr"))
    kv = os.path.join(ROOT, "tests", "components", "kv")
    shutil.copytree(os.path.join(kv, "draft", "deps", "keyvalue"), os.path.join(wit, "deps", "keyvalue"))
    comp = mkcomponent.build(os.path.join(sub, "dapr_sub.c"), os.path.join(out, "dapr_sub.wasm"), wit, "dapr-sub",
                             nostdlib=True, deps=[os.path.join(sub, "seen.h")])
    sc = Sidecar(os.path.join(BUILD, "cli", "wasmgate"), app_id="benchsub",
                 args=["--app-wasm", "file://" + comp, "--threads", "1", "--log-level", "warn"])
    sc.write_resource("c.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: seen\nspec:\n"
                      "  type: state.in-memory\n  version: v1\n  metadata: []\n---\n"
                      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: bus\nspec:\n"
                      "  type: pubsub.in-memory\n  version: v1\n  metadata: []\n---\n"
                      "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: s\nspec:\n"
                      "  topic: orders\n  pubsubname: bus\n  routes:\n    default: /orders\n")
    sc.start(timeout=30)
    assert sc.wait_subscribed(2, timeout=20)
    pid = sc.proc.pid
    key = "orders:orders:bus:com.dapr.event.sent:x"

    def counted():
        st, _, body = sc.request("GET", f"/v1.0/state/seen/{key}")
        return int(body) if st == 200 and body.isdigit() else 0

    c0, t0 = cpu(pid), time.time()
    publish(sc.port, "nobody", N)
    c1 = cpu(pid)
    publish(sc.port, "orders", N)
    ok = wait_for(lambda: counted() >= N, 120, step=0.2)
    c2, t2 = cpu(pid), time.time()
    sc.stop()
    sc.cleanup()
    if not ok:
        sys.exit(f"only {counted()} of {N} events counted")
    pub, both = (c1 - c0) / N * 1e6, (c2 - c1) / N * 1e6
    print(f"N={N}: publish only {pub:.1f} us CPU/event; publish + delivery to handle-event {both:.1f} us; "
          f"delivery {both - pub:.1f} us CPU/event; all counted {t2 - t0:.1f} s after the first publish")


if __name__ == "__main__":
    main()
