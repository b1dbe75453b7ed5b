"""p2_subscriber.py WASMGATE OUTDIR: component apps whose exported handlers receive pub/sub
deliveries and input-binding events through the app channel (issue 14; gate/wasmhost/app_p2sub.c,
docs/components.md "Subscribers and input bindings").

Three components are built at test time from tests/components/sub/ (clang-19 -nostdlib, jco
embed/new through tests/components/mkcomponent.py; never committed). None exports wasi:http: each
counts what it receives with wasi:keyvalue in state store "seen", read back through the sidecar's
state API as the same app ID.
  - dapr_sub.c (dapr:runtime subscriber + input-bindings) on pubsub.in-memory: a declarative
    subscription (deadLetterTopic dead) and the component's own programmatic one (subscriptions())
    both deliver; err(retry) is redelivered by the Resiliency policy until the component accepts
    (3 attempts, no more); err(drop) goes to the dead-letter topic, whose subscription delivers
    it once; a bindings.cron input binding reaches handle-binding with its metadata; an
    invocation answers 404 (no wasi:http handler); a Subscription and a pub/sub component scoped to
    another app ID deliver nothing; a bulkSubscribe subscription's entries reach handle-event one
    by one (RETRY per entry).
  - msg_sub.c as wasi:messaging/incoming-handler on a pubsub.redis (a redis-server started here;
    Redis streams): handle(message) sees the topic and data; an error is retried.
  - msg_sub.c -DWASMCLOUD as wasmcloud:messaging/handler on pubsub.mqtt3 (a mosquitto started
    here): the same.
  - hostile_sub.c exports dapr:runtime/subscriber's names with other types: its subscriptions
    are refused, its deliveries fail with a type mismatch, and the sidecar goes on.
Exit 77 when clang-19, node, jco, redis-server or mosquitto is missing (a failure under CI for the tools).
"""
import os
import shutil
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Mosquitto, Redis  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm, wait_for  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "components"))
import mkcomponent  # noqa: E402

WASMGATE, OUT = sys.argv[1], sys.argv[2]
DRIVER = sys.argv[3] if len(sys.argv) > 3 else None  # tests/gate/p2_cloud_driver
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUB = os.path.join(ROOT, "tests", "components", "sub")
KV = os.path.join(ROOT, "tests", "components", "kv")


def build(world, src, out, cflags=()):
    """One subscriber component: its world's WIT folder (the world file, wit/dapr or the hostile
    transcription, the keyvalue and messaging transcriptions as deps) and the shared recipe."""
    wit = os.path.join(OUT, f"wit-{world}")
    shutil.rmtree(wit, ignore_errors=True)
    os.makedirs(os.path.join(wit, "deps"))
    shutil.copy(os.path.join(SUB, f"{world}.wit"), wit)
    dapr = os.path.join(SUB, "hostile") if world == "hostile-sub" else os.path.join(ROOT, "wit", "dapr")
    shutil.copytree(dapr, os.path.join(wit, "deps", "dapr"))
    shutil.copytree(os.path.join(KV, "draft", "deps", "keyvalue"), os.path.join(wit, "deps", "keyvalue"))
    for d in ("messaging", "wasmcloud"):
        shutil.copytree(os.path.join(KV, "messaging", "deps", d), os.path.join(wit, "deps", d))
    return mkcomponent.build(os.path.join(SUB, src), os.path.join(OUT, out), wit, world, nostdlib=True,
                             cflags=cflags, deps=[os.path.join(SUB, "seen.h")])


def component(name, typ, meta=None):
    y = f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {typ}\n  version: v1\n"
    y += "  metadata:\n" + "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in (meta or {}).items())
    return y if meta else y.replace("  metadata:\n", "  metadata: []\n")


def subscription(name, pubsub, topic, route, dead=None, scopes=None):
    y = (f"apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: {name}\nspec:\n"
         f"  topic: {topic}\n  pubsubname: {pubsub}\n  routes:\n    default: {route}\n")
    y += f"  deadLetterTopic: {dead}\n" if dead else ""
    return y + ("scopes:\n" + "".join(f"- {x}\n" for x in scopes) if scopes else "")


RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    retries:
      few:
        policy: constant
        duration: 50ms
        maxRetries: 5
  targets:
    components:
      bus:
        inbound:
          retry: few
"""


def sidecar(app_id, comp, pubsub):
    sc = Sidecar(WASMGATE, app_id=app_id, args=["--app-wasm", "file://" + comp])
    sc.write_resource("seen.yaml", component("seen", "state.in-memory"))
    sc.write_resource("bus.yaml", pubsub)
    sc.write_resource("res.yaml", RESILIENCY)
    return sc


def count(sc, key):
    st, _, body = sc.request("GET", "/v1.0/state/seen/" + urllib.parse.quote(key, safe=":"))
    return int(body) if st == 200 and body.isdigit() else 0


def expect(sc, key, n, what, timeout=30):
    ok = wait_for(lambda: count(sc, key) >= n, timeout)
    check(ok and count(sc, key) == n, f"{what}: {key} counted {count(sc, key)}, want {n}")


def publish(sc, topic, data):
    st, _, body = sc.request("POST", f"/v1.0/publish/bus/{topic}", body=data, headers={"Content-Type": "text/plain"})
    check(st == 204, f"publish {data!r} to {topic}: {st} {body!r}")


def main():
    start_alarm(280)
    why = mkcomponent.missing()
    if why:
        print(f"{'FAIL: ' if os.environ.get('CI') else ''}skip: {why}")
        sys.exit(1 if os.environ.get("CI") else 77)
    if not Redis.BIN or not Mosquitto.BIN:
        print("skip: redis-server or mosquitto not installed")
        sys.exit(77)
    os.makedirs(OUT, exist_ok=True)
    dapr = build("dapr-sub", "dapr_sub.c", "dapr_sub.wasm")
    wasi = build("wasi-sub", "msg_sub.c", "wasi_sub.wasm")
    wc = build("wasmcloud-sub", "msg_sub.c", "wc_sub.wasm", ["-DWASMCLOUD"])
    hostile = build("hostile-sub", "hostile_sub.c", "hostile_sub.wasm")

    # a wasi:messaging handler that traps before dropping its message: the host frees the message
    # when the instance ends (wgg_p2_messaging_release, as app_p2http.c's inst_free does); without
    # that, each such delivery left one in the linker's table (capped at 65,536)
    if DRIVER:
        res = os.path.join(OUT, "drv-resources")
        os.makedirs(res, exist_ok=True)
        with open(os.path.join(res, "c.yaml"), "w") as f:
            f.write(component("seen", "state.in-memory"))
        for flag, live in (("--deliver", 0), ("--deliver-no-release", 200)):
            r = subprocess.run([DRIVER, "--app-id", "subapp", "--resources-path", res, flag, "200", "trap", wasi],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            want = f"delivered 200, trapped 200, live messages {live}\n".encode()
            check(r.returncode == 0 and r.stdout == want, f"{flag}: {r.returncode} {r.stdout!r} {r.stderr[-300:]!r}")
        r = subprocess.run([DRIVER, "--app-id", "subapp", "--resources-path", res, "--deliver-no-release", "50", "ok",
                            wasi], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        check(r.stdout == b"delivered 50, trapped 0, live messages 0\n",
              f"a handler that drops its message leaves none: {r.stdout!r} {r.stderr[-300:]!r}")

    # dapr:runtime subscriber and input-bindings, on pubsub.in-memory
    sc = sidecar("subapp", dapr, component("bus", "pubsub.in-memory"))
    sc.write_resource("subs.yaml", subscription("orders", "bus", "orders", "/orders", dead="dead") + "---\n" +
                      subscription("dead", "bus", "dead", "/dead") + "---\n" +
                      subscription("notmine", "bus", "orders", "/notmine", scopes=["someone-else"]) + "---\n" +
                      subscription("otherbus", "otherbus", "orders", "/otherbus") + "---\n" +
                      subscription("bulk", "bus", "bulk", "/bulk") +
                      "  bulkSubscribe:\n    enabled: true\n    maxMessagesCount: 3\n    maxAwaitDurationMs: 200\n")
    # scopes: a pub/sub component scoped to another app ID is not loaded for this one (its
    # subscription has nothing to subscribe to), a Subscription scoped elsewhere is not this app's
    sc.write_resource("otherbus.yaml", component("otherbus", "pubsub.in-memory") + "scopes:\n- someone-else\n")
    sc.write_resource("tick.yaml", component("tick", "bindings.cron", {"schedule": "@every 1s"}))
    sc.start(timeout=30)
    check(sc.wait_subscribed(4, timeout=20), f"four subscriptions: {sc.subscriptions()}")
    check(sorted(x.get("topic") for x in sc.subscriptions()) == ["bulk", "dead", "orders", "prog"],
          f"only the app's subscriptions on its components: {sc.subscriptions()}")
    prog = [s for s in sc.subscriptions() if s.get("topic") == "prog"]
    check(len(prog) == 1 and prog[0].get("pubsubname") == "bus" and prog[0].get("type") == "PROGRAMMATIC" and
          "/prog" in str(prog[0].get("rules")), f"the component's programmatic subscription: {prog}")
    ev = "com.dapr.event.sent"
    publish(sc, "orders", "hello")
    expect(sc, f"orders:orders:bus:{ev}:hello", 1, "a declarative subscription delivers to handle-event")
    publish(sc, "prog", "p1")
    expect(sc, f"prog:prog:bus:{ev}:p1", 1, "the programmatic subscription delivers")
    publish(sc, "orders", "retry")
    expect(sc, f"orders:orders:bus:{ev}:retry", 3, "err(retry) is redelivered until accepted")
    publish(sc, "orders", "drop")
    expect(sc, f"dead:dead:bus:{ev}:drop", 1, "err(drop) goes to the dead-letter topic")
    check(count(sc, f"orders:orders:bus:{ev}:drop") == 1, "a dropped event is not redelivered")
    check(count(sc, f"orders:orders:bus:{ev}:retry") == 3, "no delivery after the accepted retry")
    check(count(sc, f"notmine:orders:bus:{ev}:hello") == 0 and count(sc, f"otherbus:orders:otherbus:{ev}:hello") == 0,
          "nothing through a subscription or a pub/sub component scoped to another app ID")
    for data in ("b1", "b2", "retry"):
        publish(sc, "bulk", data)
    expect(sc, f"bulk:bulk:bus:{ev}:b1", 1, "a bulk subscription delivers each entry to handle-event")
    expect(sc, f"bulk:bulk:bus:{ev}:b2", 1, "the second entry")
    expect(sc, f"bulk:bulk:bus:{ev}:retry", 3, "a bulk entry answered err(retry) is redelivered until accepted")
    expect(sc, "binding:tick:yes", 1, "the cron binding reaches handle-binding with its metadata", timeout=20)
    st, _, body = sc.request("POST", "/v1.0/invoke/subapp/method/anything", body="x")
    check(st == 404, f"invoking a component without wasi:http: {st} {body!r}")
    sc.stop()
    sc.cleanup()

    # wasi:messaging incoming-handler on Redis streams
    redis = Redis().start()
    sc = sidecar("wasiapp", wasi, component("bus", "pubsub.redis", {"redisHost": f"127.0.0.1:{redis.port}"}))
    sc.write_resource("subs.yaml", subscription("orders", "bus", "orders", "/orders"))
    sc.start(timeout=30)
    check(sc.wait_subscribed(1, timeout=20), "subscribed on redis")
    publish(sc, "orders", "m1")
    expect(sc, "wasi:orders:m1", 1, "wasi:messaging handle gets topic and data")
    publish(sc, "orders", "retry")
    expect(sc, "wasi:orders:retry", 3, "an error from handle is redelivered until accepted")
    sc.stop()
    sc.cleanup()
    redis.cleanup()

    # wasmcloud:messaging handler on pubsub.mqtt3 (a mosquitto started here)
    mqtt = Mosquitto().start()
    sc = sidecar("wcapp", wc, component("bus", "pubsub.mqtt3", {"url": f"tcp://127.0.0.1:{mqtt.port}"}))
    sc.write_resource("subs.yaml", subscription("orders", "bus", "orders", "/orders"))
    sc.start(timeout=30)
    check(sc.wait_subscribed(1, timeout=20), "subscribed")
    publish(sc, "orders", "w1")
    expect(sc, "wasmcloud:orders:w1", 1, "wasmcloud handle-message gets subject and body")
    publish(sc, "orders", "retry")
    expect(sc, "wasmcloud:orders:retry", 3, "an error from handle-message is redelivered until accepted")
    sc.stop()
    sc.cleanup()
    mqtt.cleanup()

    # a component exporting the subscriber's names with other types: refused answers, no crash
    sc = sidecar("badapp", hostile, component("bus", "pubsub.in-memory"))
    sc.write_resource("subs.yaml", subscription("orders", "bus", "orders", "/orders"))
    sc.start(timeout=30)
    check(sc.wait_subscribed(1, timeout=20), "the declarative subscription")
    check([x.get("topic") for x in sc.subscriptions()] == ["orders"], f"no bogus subscription: {sc.subscriptions()}")
    publish(sc, "orders", "x")
    check(wait_for(lambda: "type mismatch" in sc.logs(), 20), "handle-event with another type fails the delivery")
    st, _, _ = sc.request("GET", "/v1.0/healthz")
    check(st == 204 and sc.proc.poll() is None, f"the sidecar goes on: {st}")
    sc.stop()
    sc.cleanup()
    finish()


if __name__ == "__main__":
    main()
