"""e2e_components.py: component YAML from --resources-path through the real
binary: several stores with capabilities in metadata, unsupported building
blocks skipped, YAML errors naming file and line, invalid components
stopping the start (unless ignoreErrors), scopes, secretKeyRef through
secretstores.local.env, no state store configured, port in use, and the
command line (--help, bad flags).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)


def component(name, type_, meta="  metadata: []\n", extra="", version="v1"):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{extra}spec:\n"
            f"  type: {type_}\n  version: {version}\n{meta}")


def fails_to_start(files, needle, env=None):
    """Starts with a resources folder made of files; expects exit status 1 and needle on stderr."""
    d = tempfile.mkdtemp(prefix="wgg-e2e-")
    res = os.path.join(d, "res")
    os.makedirs(res)
    for name, text in files.items():
        with open(os.path.join(res, name), "w") as f:
            f.write(text)
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([BIN, "run", "--app-id", "a", "--dapr-http-port", str(free_port()),
                        "--dapr-listen-addresses", "127.0.0.1", "--resources-path", res],
                       cwd=d, env=full_env, capture_output=True, timeout=20)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 1, f"exit status {p.returncode} for {list(files)}; stderr: {err}")
    check(needle in err, f"stderr lacks {needle!r}: {err}")
    shutil.rmtree(d, ignore_errors=True)


# several components; a crypto component (not implemented yet) is skipped with a warning
sc = Sidecar(BIN, app_id="shop")
sc.write_resource("a-memory.yaml", component("cache", "state.in-memory"))
sc.write_resource("b-sqlite.yml", component(
    "orders", "state.sqlite",
    "  metadata:\n  - name: connectionString\n    value: \"{appID}-orders.db\"\n  - name: tableName\n"
    "    value: orders\n  - name: busyTimeout\n    value: 3s\n"))
sc.write_resource("c-crypto.yaml", component("keys", "crypto.dapr.localstorage",
                                             "  metadata:\n  - name: path\n    value: ./keys\n"))
sc.write_resource("d-scoped.yaml", component("hidden", "state.in-memory") + "scopes:\n- someoneelse\n")
sc.write_resource("notes.txt", "not yaml: [")
sc.start()
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
names = sorted(c["name"] for c in md["components"])
check(names == ["cache", "orders"], f"loaded components: {names}")
for c in md["components"]:
    check(c["capabilities"] == ["ETAG", "TRANSACTIONAL", "TTL", "QUERY_API"] and c["version"] == "v1", f"component {c}")
check("crypto.dapr.localstorage" in sc.logs() and "not supported yet" in sc.logs(), "crypto skipped with a warning")
check(sc.request("POST", "/v1.0/state/orders", [{"key": "o1", "value": 1}])[0] == 204, "save to orders")
check(sc.request("GET", "/v1.0/state/cache/o1")[0] == 204, "stores are separate")
check(os.path.exists(os.path.join(sc.dir, "shop-orders.db")), "{appID} template expanded in connectionString")
check_error(sc.request("GET", "/v1.0/state/hidden/x"), 400, "ERR_STATE_STORE_NOT_FOUND")
check_error(sc.request("GET", "/v1.0/state/statestore/x"), 400, "ERR_STATE_STORE_NOT_FOUND")
sc.cleanup()

# secretKeyRef resolved through secretstores.local.env
sc = Sidecar(BIN, env={"WGG_E2E_DB": "secret-path.db"})
sc.write_resource("secrets.yaml", component("envsecrets", "secretstores.local.env"))
sc.write_resource("store.yaml", component(
    "statestore", "state.sqlite",
    "  metadata:\n  - name: connectionString\n    secretKeyRef:\n      name: WGG_E2E_DB\n      key: WGG_E2E_DB\n",
    extra="auth:\n  secretStore: envsecrets\n"))
sc.start()
check(sc.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 1}])[0] == 204, "save")
check(os.path.exists(os.path.join(sc.dir, "secret-path.db")), "connectionString came from the env secret")
sc.cleanup()

# only non-state components: state calls get "not configured"
sc = Sidecar(BIN)
sc.write_resource("pubsub.yaml", component("pubsub", "pubsub.in-memory"))
sc.start()
check_error(sc.request("GET", "/v1.0/state/statestore/x"), 500, "ERR_STATE_STORE_NOT_CONFIGURED")
check([c["name"] for c in json.loads(sc.request("GET", "/v1.0/metadata")[2])["components"]] == ["pubsub"],
      "only the pubsub is listed")
sc.cleanup()

# ignoreErrors: a component that fails to init is skipped
sc = Sidecar(BIN)
sc.write_resource("bad.yaml", component("broken", "state.sqlite", extra="").replace(
    "  version: v1\n", "  version: v1\n  ignoreErrors: true\n"))
sc.write_resource("good.yaml", component("statestore", "state.in-memory"))
sc.start()
check("ignoreErrors" in sc.logs(), "skip logged")
check_error(sc.request("GET", "/v1.0/state/broken/x"), 400, "ERR_STATE_STORE_NOT_FOUND")
check(sc.request("GET", "/v1.0/state/statestore/x")[0] == 204, "the good store serves")
sc.cleanup()

# start failures name the file and line
fails_to_start({"bad.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n"
                            "  type: state.sqlite\n  metadata:\n  - name: a\n    value: [oops\n"}, "bad.yaml:10:")
fails_to_start({"store.yaml": component("s", "state.sqlite")},
               "store.yaml:1: component s (state.sqlite/v1): init error: state.sqlite: missing connection string")
fails_to_start({"store.yaml": component("s", "state.nosuch")}, "couldn't find state store state.nosuch/v1")
fails_to_start({"store.yaml": component("s", "state.in-memory", version="v9")}, "state.in-memory/v9")
fails_to_start({"a.yaml": component("s", "state.in-memory"), "b.yaml": component("s", "state.in-memory")},
               "b.yaml:1: component 's' is already declared in")
fails_to_start({"store.yaml": component("s", "state.sqlite", "  metadata:\n  - name: connectionString\n"
                                        "    secretKeyRef: {name: WGG_E2E_UNSET, key: WGG_E2E_UNSET}\n",
                                        extra="auth:\n  secretStore: env\n"),
                "env.yaml": component("env", "secretstores.local.env")},
               "secret 'WGG_E2E_UNSET' not found in secret store 'env'")
p = subprocess.run([BIN, "run", "--resources-path", "/nonexistent/dir", "--dapr-http-port", str(free_port())],
                   capture_output=True, timeout=20)
check(p.returncode == 1 and b"/nonexistent/dir" in p.stderr, f"missing resources dir: {p.stderr!r}")

# port in use
blocker = socket.socket()
blocker.bind(("127.0.0.1", 0))
blocker.listen(1)
busy = blocker.getsockname()[1]
d = tempfile.mkdtemp(prefix="wgg-e2e-")
p = subprocess.run([BIN, "run", "--dapr-http-port", str(busy), "--dapr-listen-addresses", "127.0.0.1"],
                   cwd=d, capture_output=True, timeout=20)
check(p.returncode == 1 and b"Address already in use" in p.stderr, f"port in use: {p.returncode} {p.stderr!r}")
blocker.close()
shutil.rmtree(d, ignore_errors=True)

# the command line
p = subprocess.run([BIN, "run", "--help"], capture_output=True, timeout=10)
out = p.stdout.decode()
check(p.returncode == 0, "--help exits 0")
for flag in ("--app-id", "--app-port", "--dapr-http-port", "--resources-path", "--config", "--log-level",
             "--max-body-size", "--read-buffer-size", "--dapr-graceful-shutdown-seconds", "--metrics-port",
             "DAPR_API_TOKEN"):
    check(flag in out, f"--help mentions {flag}")
for bad, needle in ((["--no-such-flag"], b"unknown flag --no-such-flag"),
                    (["--max-body-size", "4Qi"], b"invalid value '4Qi' for --max-body-size"),
                    (["--dapr-http-port", "70000"], b"--dapr-http-port"),
                    (["--log-level", "loud"], b"--log-level"),
                    (["--app-id"], b"needs a value"),
                    (["stray"], b"unexpected argument 'stray'"),
                    (["--app-ssl"], b"https toward the app is not supported"),
                    (["--unix-domain-socket", "/tmp/x"], b"Unix domain sockets are not supported")):
    p = subprocess.run([BIN, "run"] + bad, capture_output=True, timeout=10)
    check(p.returncode == 2 and needle in p.stderr, f"{bad}: {p.returncode} {p.stderr!r}")
for flag in ("--enable-app-health-check", "--app-max-concurrency", "--enable-api-logging", "--metrics-listen-address",
             "--version"):
    check(flag in out, f"--help mentions {flag}")
check("not served yet" not in out and "not applied yet" not in out, "--help has no stale 'not yet' notes")
p = subprocess.run([BIN, "run", "--version"], capture_output=True, timeout=10)
check(p.returncode == 0 and p.stdout.strip().startswith(b"0."), f"--version: {p.returncode} {p.stdout!r}")
# an app protocol the app channel does not speak is refused at start, not silently spoken as http
p = subprocess.run([BIN, "run", "--app-port", "9", "--app-protocol", "grpcs", "--dapr-http-port", str(free_port()),
                    "--metrics-port", "0"], capture_output=True, timeout=10)
check(p.returncode == 1 and b"--app-protocol grpcs is not supported" in p.stderr, f"grpcs app: {p.stderr!r}")

# --resources-path is a string slice as in daprd: comma-separated folders; flags daprd's CLI passes are accepted
d1, d2 = tempfile.mkdtemp(prefix="wgg-r1-"), tempfile.mkdtemp(prefix="wgg-r2-")
with open(os.path.join(d1, "a.yaml"), "w") as f:
    f.write(component("one", "state.in-memory"))
with open(os.path.join(d2, "b.yaml"), "w") as f:
    f.write(component("two", "state.in-memory"))
mport = free_port()
sc = Sidecar(BIN, args=["--resources-path", f"{d1},{d2}", "--enable-api-logging", "--metrics-listen-address",
                        "127.0.0.1", "--scheduler-host-address", "", "--dapr-block-shutdown-duration", "1s"])
sc.metrics_port = mport
sc.start()
names = sorted(c["name"] for c in json.loads(sc.request("GET", "/v1.0/metadata")[2])["components"])
check(names == ["one", "two"], f"both folders loaded: {names}")
check(sc.request("GET", "/metrics", port=mport)[0] == 200, "metrics on --metrics-listen-address")
sc.request("GET", "/v1.0/state/one/k")
check("HTTP API Called: method=GET route=state.get code=204" in sc.logs(), "--enable-api-logging logs calls")
sc.cleanup()
shutil.rmtree(d1, ignore_errors=True)
shutil.rmtree(d2, ignore_errors=True)
finish()
