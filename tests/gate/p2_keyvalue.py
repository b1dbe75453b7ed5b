"""p2_keyvalue.py WASMGATE DRIVER OUTDIR: wasi:keyvalue (0.2.0-draft and
0.2.0-draft2), wasi:config (0.2.0-rc.1 and 0.2.0-draft-2024-09-27) and the
wasi:messaging@0.2.0-draft producer served by Dapr components (issue 14;
gate/wasmhost/p2_keyvalue.c, p2_config.c, p2_messaging.c; msg_guest.c publishes
through a pubsub.redis whose stream this test reads).

tests/components/kv/kv_guest.c is built twice at test time (clang-19, `jco
embed` with the WIT worlds of tests/components/kv/draft and draft2, `jco new
--wasi-command`; never committed) and run by tests/gate/p2_cloud_driver as app
ID `kvapp` against state.sqlite, state.in-memory and a real redis-server
started here. Its whole output is compared line by line (open, get, set,
delete, exists, keys with `||`, increment, batch, list-keys with cursors over
1,008 keys, CAS on ETags, unknown and scoped-out stores, config; messaging to a pub/sub
component scoped to another app ID). Around it:
another app ID's keys in the same stores stay invisible to the component, and
what the component wrote is what the sidecar's state API shows for `kvapp`
(and the other way round). Exit 77 when clang-19, node or jco is missing."""
import concurrent.futures
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "components"))
import mkcomponent  # noqa: E402

WASMGATE, DRIVER, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KV = os.path.join(ROOT, "tests", "components", "kv")


def skip(why):
    print("skip:", why)
    sys.exit(77)


def build(version):
    """kv_guest.c as a command component for `version` (draft | draft2), or
    msg_guest.c for `messaging` (tests/components/mkcomponent.py)."""
    src, world = {"messaging": ("msg_guest.c", "msg-draft"), "hostile": ("hostile_guest.c", "kv-hostile"),
                  "msghostile": ("msghostile_guest.c", "msg-hostile")}.get(
        version, ("kv_guest.c", f"kv-{version}"))
    return mkcomponent.build(os.path.join(KV, src), os.path.join(OUT, f"{version}.component.wasm"),
                             os.path.join(KV, version), world, command=True,
                             cflags=["-DDRAFT2"] if version == "draft2" else [])


def component(name, store_type, meta=None, scopes=None):
    y = (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
         f"  type: {store_type}\n  version: v1\n")
    if meta:
        y += "  metadata:\n" + "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in meta.items())
    if scopes:
        y += "scopes:\n" + "".join(f"- {s}\n" for s in scopes)
    return y


def run(comp, *args, config_store=None, store_data=None):
    cmd = [DRIVER, "--app-id", "kvapp", "--resources-path", RES]
    if config_store:
        cmd += ["--config-store", config_store]
    if store_data:
        cmd += ["--store-data", store_data]
    r = subprocess.run(cmd + [comp] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       cwd=TMP, env=dict(os.environ, HOME=TMP))
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def expected(version, store, has_kept):
    """The guest's output (kv_guest.c main) for `version` against `store`."""
    d2 = version == "draft2"
    kv = "@0.2.0-" + version
    lines = [f"open {store}: ok", "set a: ok", "get a: hello", "exists a: true", "exists zz: false", "get zz: none",
             "delete a: ok", "exists a: false", "delete a again: ok",
             "set bad||key: error other: input key/keyPrefix 'bad||key' can't contain '||'",
             "get a\\0b: error other: the key contains a NUL byte",
             "get bin: 3 bytes 61 00 ff", "increment n 5: 5", "increment n 7: 12"]
    if d2:
        lines.append("increment n -20: -8")
    lines += ["set text: ok",
              f"increment text 1: error other: the value is not a decimal {'signed' if d2 else 'unsigned'} 64-bit integer",
              "set big: ok", f"increment big 1: error other: increment overflows a{'' if d2 else 'n'} "
              f"{'signed' if d2 else 'unsigned'} 64-bit integer",
              "set-many b1 b2: ok", "get-many b1 zz b2: b1=one none b2=two", "delete-many b1: ok", "get b1: none",
              "set-many 1005: ok"]
    if store == "red":
        nolist = "error other: state store red (state.redis) cannot list keys: it has no query API"
        lines += [f"list-keys -: {nolist}", "delete-many 1005: ok", f"list-keys -: {nolist}",
                  f"list-keys 999999: {nolist}"]
    else:
        # the app's keys in byte order: b2, [kept,] n, p0000 .. p1004; 1000 a page
        first = ["b2"] + (["kept"] if has_kept else []) + ["n"]
        n = len(first) + 1005
        last = f"p{1000 - len(first) - 1:04d}"
        lines += [f"list-keys -: 1000 keys b2 .. {last}, cursor 1000",
                  f"list-keys 1000: {n - 1000} keys p{1000 - len(first):04d} .. p1004, cursor none",
                  "delete-many 1005: ok",
                  f"list-keys -: {len(first)} keys b2 .. n [{','.join(first)}], cursor none",
                  "list-keys 999999: 0 keys, cursor none"]
    if d2:  # the cursor is checked first, for every store
        lines.append("list-keys 12abc: error other: invalid cursor")
    if d2:
        lines += ["cas current c: none", "swap c first: ok", "swap c second: cas-failed", "cas current c: first",
                  "swap c third: ok", "get c: third"]
    lines += [f"set kept: ok", "open nope: error no-such-store", "open hidden: error no-such-store",
              "config greeting: hello from config", "config missing: none",
              "config all: color=blue greeting=hello from config"]
    return lines


def compare(what, got, want):
    g = got.rstrip("\n").split("\n")
    for i, (x, y) in enumerate(zip(g, want)):
        if x != y:
            check(False, f"{what}: line {i + 1}: got {x!r}, want {y!r}")
            return
    check(len(g) == len(want), f"{what}: {len(g)} lines, want {len(want)}; output:\n{got[-1500:]}")


def main():
    global RES, TMP
    start_alarm(280)
    if mkcomponent.missing():
        skip(mkcomponent.missing())
    if not Redis.BIN:
        skip("redis-server not installed")
    kinds = ("draft", "draft2", "messaging", "hostile", "msghostile")
    with concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:  # the node processes side by side
        comps = dict(zip(kinds, pool.map(build, kinds)))

    TMP = tempfile.mkdtemp(prefix="wgg-p2kv-")
    RES = os.path.join(TMP, "resources")
    os.makedirs(RES)
    redis = Redis().start()
    cfg_db = os.path.join(TMP, "config.db")
    with sqlite3.connect(cfg_db) as db:  # configuration.sqlite's table, filled as its users do
        db.execute("CREATE TABLE configuration (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL,"
                   " version TEXT NOT NULL DEFAULT '')")
        db.executemany("INSERT INTO configuration (key, value, version) VALUES (?, ?, '1')",
                       [("greeting", "hello from config"), ("color", "blue")])
    docs = [component("sql", "state.sqlite", {"connectionString": os.path.join(TMP, "state.db")}),
            component("mem", "state.in-memory"),
            component("red", "state.redis", {"redisHost": f"127.0.0.1:{redis.port}", "redisPassword": ""}),
            component("hidden", "state.in-memory", scopes=["someone-else"]),
            component("cfg", "configuration.sqlite", {"connectionString": cfg_db}),
            component("bus", "pubsub.redis", {"redisHost": f"127.0.0.1:{redis.port}", "allowedTopics": "orders,raw"}),
            component("hiddenbus", "pubsub.in-memory", scopes=["someone-else"])]
    with open(os.path.join(RES, "components.yaml"), "w") as f:
        f.write("---\n".join(docs))

    # another app ID's keys in the same stores: never seen by kvapp's component
    other = Sidecar(WASMGATE, app_id="other", resources=RES)
    other.start(timeout=30)
    for store in ("sql", "red"):
        st, _, body = other.request("POST", f"/v1.0/state/{store}", [{"key": "b2", "value": "theirs"},
                                                                      {"key": "aaa", "value": 1}])
        check(st == 204, f"other's save to {store}: {st} {body!r}")
    other.stop()
    other.cleanup()

    for store in ("sql", "mem", "red"):
        for version in ("draft", "draft2"):
            rc, out, err = run(comps[version], store)
            check(rc == 0, f"{version} on {store}: exit {rc}; stderr {err[-800:]}")
            compare(f"{version} on {store}", out, expected(version, store, version == "draft2" and store != "mem"))

    # a store whose embedder data is not a hosted component app's (another embedder's 1-byte
    # allocation; an untagged wgg_p2h_inst whose loop and request would park the guest for good):
    # never read as the app's state, the calls answer inline as with no data (before the store data
    # had a tag: a heap overflow read under ASan, and a guest parked on a loop that is no loop)
    for data in ("foreign", "inst"):
        for store in ("sql", "mem"):
            rc, out, err = run(comps["draft2"], store, store_data=data)
            check(rc == 0, f"draft2 on {store} with {data} store data: exit {rc}; stderr {err[-800:]}")
            compare(f"draft2 on {store} with {data} store data", out, expected("draft2", store, store != "mem"))

    # what the component wrote is kvapp's state over the HTTP API, and the other way round
    me = Sidecar(WASMGATE, app_id="kvapp", resources=RES)
    me.start(timeout=30)
    for store in ("sql", "red"):
        st, _, body = me.request("GET", f"/v1.0/state/{store}/kept")
        check(st == 200 and body == b"from @0.2.0-draft2", f"GET {store}/kept: {st} {body!r}")
        st, _, body = me.request("GET", f"/v1.0/state/{store}/b2")
        check(st == 200 and body == b"two", f"GET {store}/b2: {st} {body!r}")
        st, _, body = me.request("GET", f"/v1.0/state/{store}/n")
        check(st == 204, f"GET {store}/n (deleted by the component): {st} {body!r}")
        st, _, body = me.request("POST", f"/v1.0/state/{store}", [{"key": "fromhttp", "value": {"x": 1}}])
        check(st == 204, f"POST {store}: {st} {body!r}")
    me.stop()
    me.cleanup()
    check(redis.cmd("HGET", "kvapp||kept", "data") == "from @0.2.0-draft2",
          f"redis kvapp||kept: {redis.cmd('HGET', 'kvapp||kept', 'data')!r}")
    check(redis.cmd("HGET", "other||b2", "data") == '"theirs"', "the other app's item is untouched")
    for store in ("sql", "red"):
        for version in ("draft", "draft2"):
            rc, out, err = run(comps[version], store, "fromhttp")
            check(out == f'open {store}: ok\nget fromhttp: {{"x":1}}\n', f"{version} get fromhttp: {out!r} {err[-300:]!r}")

    # the same through `wasmgate wasm run --resources-path` (wgg_cloud_new)
    r = subprocess.run([WASMGATE, "wasm", "run", "--app-id", "kvapp", "--resources-path", RES, comps["draft2"], "sql",
                        "fromhttp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, cwd=TMP)
    check(r.returncode == 0 and r.stdout == b'open sql: ok\nget fromhttp: {"x":1}\n',
          f"wasm run: {r.returncode} {r.stdout!r} {r.stderr[-300:]!r}")
    r = subprocess.run([WASMGATE, "wasm", "run", "--app-id", "other", "--resources-path", RES, comps["draft2"], "sql",
                        "b2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, cwd=TMP)
    check(r.stdout == b'open sql: ok\nget b2: "theirs"\n', f"wasm run as other: {r.stdout!r} {r.stderr[-300:]!r}")

    # wasi:config from a named store that does not exist: the WIT's upstream error
    rc, out, err = run(comps["draft"], "mem", config_store="nope")
    check("config greeting: error upstream: configuration store nope is not found\n" in out, f"config nope: {out[-400:]!r}")
    check("config all: error upstream: configuration store nope is not found\n" in out, f"config nope: {out[-400:]!r}")

    # a component that imports bucket.get with a u64 key: refused at instantiation (typed host
    # definitions), before anything runs; the host never reads the number as a string
    rc, out, err = run(comps["hostile"])
    check(rc == 2 and out == "" and
          "component imports instance `wasi:keyvalue/store@0.2.0-draft`, but a matching implementation was not "
          "found in the linker: instance export `[method]bucket.get` has the wrong type: type mismatch in "
          "parameter 2 (`key`)" in err,
          f"hostile import: exit {rc}, {out!r}, {err[-400:]!r}")

    # the same for wasi:messaging: producer.send imported with a u64 topic (typed host definitions)
    rc, out, err = run(comps["msghostile"])
    check(rc == 2 and out == "" and
          "component imports instance `wasi:messaging/producer@0.2.0-draft`, but a matching implementation was not "
          "found in the linker: instance export `send` has the wrong type: type mismatch in parameter 2 (`topic`)"
          in err, f"hostile messaging import: exit {rc}, {out!r}, {err[-400:]!r}")

    # wasi:messaging@0.2.0-draft: publish through the pub/sub component, as POST /v1.0/publish does
    rc, out, err = run(comps["messaging"], "bus")
    check(rc == 0, f"messaging: exit {rc}; stderr {err[-800:]}")
    compare("messaging", out, [
        "connect nope: error connection: pubsub nope is not found", "connect: ok", "content-type: text/plain",
        "metadata: cloudevent.type=com.example.greeting", "data: hello events", "topic: none", "send orders: ok",
        "send raw: ok", "send forbidden: error permission-denied: topic forbidden is not allowed for app id kvapp",
        "send : error other: topic is empty in pubsub bus",
        "send orders: error other: failed deserializing metadata: invalid ttlInSeconds 'soon'",
        "wasmcloud publish orders: ok",
        "wasmcloud publish forbidden: error topic forbidden is not allowed for app id kvapp",
        "wasmcloud request: error request-reply is not supported: Dapr pub/sub has no replies", "disconnect: ok"])
    # component scopes: a pub/sub component scoped to another app ID is not this app's (as daprd does not
    # load it); wasmcloud's "the only pub/sub component" above already ignored it
    rc, out, err = run(comps["messaging"], "hiddenbus")
    check(rc == 1, f"messaging to a scoped-out pubsub: exit {rc}; stderr {err[-400:]}")
    compare("messaging scoped out", out, ["connect nope: error connection: pubsub nope is not found",
                                          "connect: error connection: pubsub hiddenbus is not found"])
    orders = redis.cmd("XRANGE", "orders", "-", "+")
    check(len(orders) == 2, f"two events on orders: {orders!r}")
    if len(orders) == 2:
        ce = json.loads(orders[1][1][1])  # wasmcloud:messaging's publish: Dapr's default content type
        for k, v in {"source": "kvapp", "datacontenttype": "text/plain", "topic": "orders", "data": "from wasmcloud"}.items():
            check(ce.get(k) == v, f"wasmcloud CloudEvent {k}: {ce.get(k)!r}, want {v!r}")
    if orders:
        ce = json.loads(orders[0][1][1])
        for k, v in {"source": "kvapp", "type": "com.example.greeting", "datacontenttype": "text/plain",
                     "topic": "orders", "pubsubname": "bus", "data": "hello events", "specversion": "1.0"}.items():
            check(ce.get(k) == v, f"CloudEvent {k}: {ce.get(k)!r}, want {v!r}")
    raw = redis.cmd("XRANGE", "raw", "-", "+")
    check(len(raw) == 1 and raw[0][1][1] == '{"raw":true}', f"raw payload: {raw!r}")
    check(not redis.cmd("XRANGE", "forbidden", "-", "+"), "nothing published to a topic outside allowedTopics")

    redis.cleanup()
    shutil.rmtree(TMP, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
