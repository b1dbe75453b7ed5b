"""wasm_app_p2http_kv.py: a wasi:http component hosted as a wasm app reaches its app ID's Dapr state
stores through wasi:keyvalue (docs/components.md "The cloud interfaces"; issue 14).

tests/components/http/kvcount.c, built at test time (clang-19 + jco embed/new: wasi:http@0.2.3 and
wasi:keyvalue@0.2.0-draft), answers /count/STORE by incrementing key "hits" in bucket STORE. Hosted
by `wasmgate run --app-id counter --app-wasm kvcount.wasm` with fresh instances (the default), so
a count that goes on from one request to the next lives in the store, not in the guest:
  - two invocations answer 1 then 2, and GET /v1.0/state/statestore/hits from the same app ID reads
    2 (the state API's <app-id>|| key prefix, as the component's own sidecar would use);
  - a store scoped to another app ID and an unknown one are no-such-store (404 from the guest).
wasi:config (/config/KEY) with two configuration.sqlite stores loaded: without a name the app has
no single store to read (upstream error); `--app-wasm-config-store cfgb` names the sidecar's own
app's store, a WasmApp's `spec.configStore: cfga` a hosted app's; a named store scoped to another
app ID is not found.
Skipped (77) when clang-19, node or jco is missing (a failure under CI).
"""
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(170)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")


def store(name, scopes=None):
    text = (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            "  type: state.in-memory\n  version: v1\n  metadata: []\n")
    if scopes:
        text += "scopes:\n" + "".join(f"- {s}\n" for s in scopes)
    return text


sc = Sidecar(BIN, app_id="counter", args=["--app-wasm", "file://" + os.path.join(OUT, "kvcount.wasm")])
sc.write_resource("statestore.yaml", store("statestore"))
sc.write_resource("hidden.yaml", store("hidden", scopes=["someone-else"]))
sc.start(timeout=30)


def count(store_name):
    st, _, body = sc.request("POST", f"/v1.0/invoke/counter/method/count/{store_name}")
    return st, body


check(count("statestore") == (200, b"1"), "first increment answers 1")
got = count("statestore")
check(got == (200, b"2"), f"the second (a fresh instance) answers 2: {got}")
st, _, body = sc.request("GET", "/v1.0/state/statestore/hits")
check((st, body) == (200, b"2"), f"the state API of app ID counter reads the same item: {st} {body!r}")
for name in ("hidden", "nope"):
    st, body = count(name)
    check(st == 404 and body == b"no-such-store", f"bucket {name}: {st} {body!r}")
check(count("statestore") == (200, b"3"), "the app goes on after refused buckets")
sc.stop()
sc.cleanup()


def cfg_store(name, value, scopes=None):
    db = os.path.join(OUT, f"{name}.db")
    if os.path.exists(db):
        os.remove(db)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE configuration (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL,"
                  " version TEXT NOT NULL DEFAULT '')")
        c.execute("INSERT INTO configuration (key, value) VALUES ('greeting', ?)", (value,))
    text = (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: configuration.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n"
            f"    value: {db}\n")
    return text + ("scopes:\n" + "".join(f"- {s}\n" for s in scopes) if scopes else "")


def config_of(sc, app, key="greeting"):
    st, _, body = sc.request("GET", f"/v1.0/invoke/{app}/method/config/{key}")
    return st, body.decode(errors="replace")


comp = "file://" + os.path.join(OUT, "kvcount.wasm")
for extra, want in (([], (500, "upstream: several configuration stores are loaded: name the one wasi:config reads")),
                    (["--app-wasm-config-store", "cfgb"], (200, "from b")),
                    (["--app-wasm-config-store", "cfgc"], (500, "upstream: configuration store cfgc is not found"))):
    sc = Sidecar(BIN, app_id="counter", args=["--app-wasm", comp] + extra)
    sc.write_resource("cfga.yaml", cfg_store("cfga", "from a"))
    sc.write_resource("cfgb.yaml", cfg_store("cfgb", "from b"))
    sc.write_resource("cfgc.yaml", cfg_store("cfgc", "from c", scopes=["someone-else"]))
    sc.write_resource("hosted.yaml", "apiVersion: wasmgate.io/v1alpha1\nkind: WasmApp\nmetadata:\n  name: cfgapp\n"
                      f"spec:\n  url: {comp}\n  configStore: cfga\n")
    sc.start(timeout=30)
    got = config_of(sc, "counter")
    check(got == want, f"wasi:config with {extra or 'no store named'}: {got}, want {want}")
    got = config_of(sc, "cfgapp")
    check(got == (200, "from a"), f"a WasmApp's spec.configStore cfga: {got}")
    check(config_of(sc, "cfgapp", "nope") == (404, "none"), "a missing key is none")
    sc.stop()
    sc.cleanup()
finish()
