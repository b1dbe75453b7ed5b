"""p2_dapr.py WASMGATE OUTDIR: dapr:runtime@0.1.0, our own WIT package of the
Dapr building blocks for components (wit/dapr/*.wit; gate/wasmhost/p2_dapr.c;
docs/dapr-wit.md).

First `jco types` checks that the package parses and resolves, for both of its
worlds (imports, and app with the exports). Then tests/components/dapr/
dapr_guest.c is built at test time (clang-19, `jco embed` with the world of
tests/components/dapr/guest.wit over wit/dapr, `jco new --wasi-command`; never
committed) and run by `wasmgate wasm run --app-id daprapp --resources-path`
against state.sqlite, a pubsub.redis on a redis-server started here,
secretstores.local.file, configuration.sqlite and bindings.localstorage. Its output is compared line
by line (saves with and without ETags, the 409 of a stale ETag, a
transaction, key and store errors, publish with and without the CloudEvent
envelope and to a topic outside allowedTopics, secrets, configuration, an
output binding), then
the side effects through the sidecar's state API (the same app ID) and the
redis streams. Exit 77 when clang-19, node, jco or redis-server is missing."""
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

WASMGATE, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WIT = os.path.join(ROOT, "wit", "dapr")
SRC = os.path.join(ROOT, "tests", "components", "dapr")


def skip(why):
    print("skip:", why)
    sys.exit(77)


def build(name="dapr_guest"):
    """dapr_guest.c as a command component (its WIT folder: guest.wit with
    wit/dapr as a dependency), or hostile_guest.c (hostile/hostile.wit);
    tests/components/mkcomponent.py."""
    wit = os.path.join(OUT, "wit")
    if name == "dapr_guest":
        shutil.rmtree(wit, ignore_errors=True)
        os.makedirs(os.path.join(wit, "deps"))
        shutil.copy(os.path.join(SRC, "guest.wit"), wit)
        shutil.copytree(WIT, os.path.join(wit, "deps", "dapr"))
    else:
        wit = os.path.join(SRC, "hostile")
    return mkcomponent.build(os.path.join(SRC, f"{name}.c"), os.path.join(OUT, f"{name}.component.wasm"), wit,
                             "dapr-guest" if name == "dapr_guest" else "dapr-hostile", command=True)


def component(name, typ, meta=None, scopes=None):
    y = f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {typ}\n  version: v1\n"
    if meta:
        y += "  metadata:\n" + "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in meta.items())
    if scopes:
        y += "scopes:\n" + "".join(f"- {s}\n" for s in scopes)
    return y


def main():
    start_alarm(280)
    if mkcomponent.missing():
        skip(mkcomponent.missing())
    if not Redis.BIN:
        skip("redis-server not installed")
    os.makedirs(OUT, exist_ok=True)

    # the published package parses and resolves: TypeScript declarations for both worlds
    for world, want in (("imports", "dapr-runtime-state.d.ts"), ("app", "dapr-runtime-subscriber.d.ts")):
        d = os.path.join(OUT, f"types-{world}")
        shutil.rmtree(d, ignore_errors=True)
        mkcomponent.jco("types", WIT, "--world-name", world, "-o", d)
        files = [f for _, _, fs in os.walk(d) for f in fs]
        check(want in files, f"jco types --world-name {world}: {files}")
        if world == "app":
            with open(os.path.join(d, "app.d.ts")) as f:
                text = f.read()
            check("subscriber" in text and "inputBindings" in text, f"app world exports: {text[:600]!r}")

    comp, hostile = build(), build("hostile_guest")
    tmp = tempfile.mkdtemp(prefix="wgg-p2dapr-")
    res = os.path.join(tmp, "resources")
    os.makedirs(res)
    redis = Redis().start()
    cfg_db = os.path.join(tmp, "config.db")
    with sqlite3.connect(cfg_db) as db:
        db.execute("CREATE TABLE configuration (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL,"
                   " version TEXT NOT NULL DEFAULT '')")
        db.execute("INSERT INTO configuration (key, value, version) VALUES ('greeting', 'hello', '7')")
    secrets = os.path.join(tmp, "secrets.json")
    with open(secrets, "w") as f:
        json.dump({"db-password": "s3cret", "nested": {"inner": "deep"}}, f)
    docs = [component("sql", "state.sqlite", {"connectionString": os.path.join(tmp, "state.db")}),
            component("bus", "pubsub.redis", {"redisHost": f"127.0.0.1:{redis.port}", "allowedTopics": "orders"}),
            component("vault", "secretstores.local.file", {"secretsFile": secrets}),
            component("cfg", "configuration.sqlite", {"connectionString": cfg_db}),
            component("hidden", "state.in-memory", scopes=["someone-else"]),
            component("files", "bindings.localstorage", {"rootPath": os.path.join(tmp, "files")})]
    # every kind once more, scoped to another app ID: not this app's (component scopes, as daprd)
    docs += [component("hiddenbus", "pubsub.in-memory", scopes=["someone-else"]),
             component("hiddenvault", "secretstores.local.file", {"secretsFile": secrets}, scopes=["someone-else"]),
             component("hiddencfg", "configuration.sqlite", {"connectionString": cfg_db}, scopes=["someone-else"]),
             component("hiddenfiles", "bindings.localstorage", {"rootPath": os.path.join(tmp, "hf")},
                       scopes=["someone-else"])]
    with open(os.path.join(res, "components.yaml"), "w") as f:
        f.write("---\n".join(docs))

    r = subprocess.run([WASMGATE, "wasm", "run", "--app-id", "daprapp", "--resources-path", res, comp, "sql", "bus",
                        "vault", "cfg", "files"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, cwd=tmp)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    check(r.returncode == 0, f"exit {r.returncode}; stderr {err[-800:]}")
    want = [
        "save k1=v1: ok", "get k1: v1 etag yes", "save k1=v2 with etag: ok",
        "save k1=v3 with etag: error 409 ERR_STATE_SAVE: failed saving state in state store sql: "
        "possible etag mismatch. error from state store: etag mismatch",
        "get k1: v2 etag yes",
        "delete k1 stale etag: error 409 ERR_STATE_DELETE: failed deleting state with key k1: "
        "possible etag mismatch. error from state store: etag mismatch",
        "save bad||key=x: error 400 ERR_MALFORMED_REQUEST: input key/keyPrefix 'bad||key' can't contain '||'",
        "get k1: error 400 ERR_STATE_STORE_NOT_FOUND: state store nope is not found",
        "get k1: error 400 ERR_STATE_STORE_NOT_FOUND: state store hidden is not found",
        "transaction: ok", "get k1: none", "get t2: two etag yes", "delete t1: ok",
        "publish orders: ok", "publish orders: ok",
        "publish forbidden: error 403 ERR_PUBSUB_FORBIDDEN: topic forbidden is not allowed for app id daprapp",
        "secret db-password: db-password=s3cret", "secret nested:inner: 1 pair(s)",
        "secrets bulk: 2 secret(s), 2 pair(s)",
        "secret from nostore: error 401 ERR_SECRET_STORE_NOT_FOUND: failed finding secret store with key nostore",
        "config: greeting=hello (version 7)",
        "binding create: {\"fileName\":\"hello.txt\"},", "binding get: file body",
        "binding explode: error 500 ERR_INVOKE_OUTPUT_BINDING: error invoking output binding files: binding files "
        "does not support operation explode. supported operations:create get list delete"]
    got = out.rstrip("\n").split("\n")
    for i, (x, y) in enumerate(zip(got, want)):
        if x != y:
            check(False, f"line {i + 1}: got {x!r}, want {y!r}")
            break
    check(len(got) == len(want), f"{len(got)} lines, want {len(want)}; output:\n{out[-2000:]}\nstderr {err[-500:]}")

    # the same calls on components scoped to another app ID: each is not found, as on a daprd without them
    r = subprocess.run([WASMGATE, "wasm", "run", "--app-id", "daprapp", "--resources-path", res, comp, "hidden",
                        "hiddenbus", "hiddenvault", "hiddencfg", "hiddenfiles"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, cwd=tmp)
    scoped = r.stdout.decode(errors="replace").rstrip("\n").split("\n")
    check(r.returncode == 0 and len(scoped) == len(want) and all(": error " in x for x in scoped),
          f"scoped out: exit {r.returncode}, every call an error: {scoped}")
    for line in ("save k1=v1: error 400 ERR_STATE_STORE_NOT_FOUND: state store hidden is not found",
                 "publish orders: error 404 ERR_PUBSUB_NOT_FOUND: pubsub hiddenbus is not found",
                 "secret db-password: error 401 ERR_SECRET_STORE_NOT_FOUND: failed finding secret store with key "
                 "hiddenvault",
                 "config: error 400 ERR_CONFIGURATION_STORE_NOT_FOUND: configuration store hiddencfg not found",
                 "binding create: error 500 ERR_INVOKE_OUTPUT_BINDING: error invoking output binding hiddenfiles: "
                 "couldn't find output binding hiddenfiles"):
        check(line in scoped, f"scoped out: {line!r} in {scoped}")
    check(not os.path.exists(os.path.join(tmp, "hf")), "the scoped-out binding wrote nothing")
    # side effects: the app's state over the HTTP API, the events on the redis streams
    me = Sidecar(WASMGATE, app_id="daprapp", resources=res)
    me.start(timeout=30)
    for key, status, body in (("k1", 204, b""), ("t1", 204, b""), ("t2", 200, b"two")):
        st, _, b = me.request("GET", f"/v1.0/state/sql/{key}")
        check(st == status and b == body, f"GET sql/{key}: {st} {b!r}")
    me.stop()
    me.cleanup()
    orders = redis.cmd("XRANGE", "orders", "-", "+") or []
    check(len(orders) == 2, f"two events on orders: {orders!r}")
    if len(orders) == 2:
        ce = json.loads(orders[0][1][1])
        for k, v in {"source": "daprapp", "datacontenttype": "text/plain", "topic": "orders", "pubsubname": "bus",
                     "data": "order 1"}.items():
            check(ce.get(k) == v, f"CloudEvent {k}: {ce.get(k)!r}, want {v!r}")
        check(orders[1][1][1] == "order 2 raw", f"raw payload: {orders[1][1]!r}")
    # a component importing state.get with a u64 store: refused at instantiation (the functions are
    # defined with their WIT types), before any of its code runs; the host reads no string
    r = subprocess.run([WASMGATE, "wasm", "run", "--app-id", "daprapp", "--resources-path", res, hostile],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, cwd=tmp)
    check(r.returncode != 0 and r.stdout == b"" and
          b"instance export `get` has the wrong type: type mismatch in parameter 1 (`store`)" in r.stderr,
          f"hostile import: exit {r.returncode}, {r.stdout!r}, {r.stderr[-400:]!r}")

    check(not redis.cmd("XRANGE", "forbidden", "-", "+"), "nothing published to a topic outside allowedTopics")
    with open(os.path.join(tmp, "files", "hello.txt"), "rb") as f:
        check(f.read() == b"file body", "the binding wrote the file")
    redis.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
