"""wasm_app_e2e.py: wasm apps hosted in-process (`wasmgate run --app-wasm`, docs/wasm-apps.md).

WAGI app (tests/gate/apps/wagi_app.c): service invocation reaches it through the app channel with
the CGI 1.1 environment (method, path, query, content type and length, HTTP_* headers, the app ID),
the body on stdin, and its stdout parsed (Status, headers, Location -> 302); a trap, a guest that
never returns, proc_exit(3), output over the cap and output without a header block each fail that
request with 500 and the next request is served. The dapr:v1 host functions reach the same API code
as HTTP: state save/get/delete with ETags (first-write concurrency refused on a stale ETag, visible
over HTTP), a missing key, an unknown store's Dapr error, publish, invoking the app itself, any
route through `request`, log; hostile pointers trap and fail only that request. Pub/sub: the app's
GET /dapr/subscribe answer subscribes it, and a message published over HTTP is delivered to it.
The official Dapr JS SDK (@dapr/dapr from scripts/npm) invokes the app, publishes to it and reads
what it saved, as with an HTTP app. An input binding (bindings.cron) probes and calls it; a
component scoped to another app ID is not reachable through dapr:v1.

http-wasm app (tests/gate/apps/hw_app.c): answers itself, saves and reads state through dapr:v1,
and a `next` with nothing behind it gives handle_response the response to write. The same ABI
from AssemblyScript (tests/gate/apps/as_app.ts): a counter kept in the state store. Instance
policy: fresh (a new instance per request) by default; --app-wasm-instances pooled reuses a warm
instance, and a trap discards it.

The Configuration's appHttpPipeline runs in front of a wasm app (a guest tags its requests).
SIGHUP reloads the app (a broken module leaves the old one serving; the new one may even use the
other ABI), and so does a change of its file. Loading: --app-wasm with --app-port, a module exporting neither ABI, and an unknown import are
refused at start with a clear message.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
start_alarm(110)
WAGI = "file://" + os.path.join(APPS, "wagi_app.wasm")
HW = "file://" + os.path.join(APPS, "hw_app.wasm")


def inv(sc, method, path, body=None, headers=None):
    return sc.request(method, "/v1.0/invoke/myapp/method" + path, body=body, headers=headers, timeout=30)


# ---------------------------------------------------------------- WAGI
sc = Sidecar(BIN, args=["--app-wasm", WAGI]).start()
try:
    st, h, b = inv(sc, "GET", "/hello")
    check(st == 200 and b == b"hello from wasm\n", f"hello: {st} {b!r}")
    check(h.get("content-type") == "text/plain", f"content type {h}")

    st, h, b = inv(sc, "POST", "/env?a=1&b=two", body=b"12345",
                   headers={"Content-Type": "text/x-test", "X-Test": "yes"})
    env = dict(line.split("=", 1) for line in b.decode().splitlines() if "=" in line)
    check(st == 200, f"env: {st} {b!r}")
    for k, v in {"REQUEST_METHOD": "POST", "PATH_INFO": "/env", "QUERY_STRING": "a=1&b=two",
                 "CONTENT_TYPE": "text/x-test", "CONTENT_LENGTH": "5", "SERVER_PROTOCOL": "HTTP/1.1",
                 "GATEWAY_INTERFACE": "CGI/1.1", "HTTP_X_TEST": "yes", "DAPR_APP_ID": "myapp",
                 "X_RAW_PATH_INFO": "/env"}.items():
        check(env.get(k) == v, f"CGI {k}: {env.get(k)!r} != {v!r}")
    check(env.get("REMOTE_ADDR") == "127.0.0.1", f"REMOTE_ADDR {env.get('REMOTE_ADDR')!r}")

    st, h, b = inv(sc, "PUT", "/echo", body=b"\x00binary\xffbody")
    check(st == 201 and b == b"\x00binary\xffbody" and h.get("x-echo") == "PUT", f"echo: {st} {h} {b!r}")
    st, h, b = inv(sc, "GET", "/redirect")
    check(st == 302 and h.get("location") == "/hello", f"redirect: {st} {h}")

    for path, want in [("/trap", b"wasm error: unreachable"), ("/exit3", b"exited with code 3"),
                       ("/big", b"wrote more than"), ("/noheaders", b"no blank line"),
                       ("/hostile/oob", b"out of bounds"), ("/hostile/huge", b"out of bounds"),
                       ("/hostile/outbuf", b"out of bounds")]:
        st, h, b = inv(sc, "GET", path)
        check(st == 500 and want in b, f"{path}: {st} {b[:200]!r}")
    for case in range(5):  # the result readers, log and invoke check their buffers too
        st, _, b = inv(sc, "GET", f"/hostile/result?case={case}")
        check(st == 500 and b"out of bounds" in b, f"hostile result case {case}: {st} {b[:200]!r}")
    # a guest that floods publish: bounded by its own CPU time, the sidecar stays healthy
    t0 = time.time()
    st, _, b = inv(sc, "GET", "/flood?n=20000")
    check(st == 200 and b == b"20000", f"flood: {st} {b[:100]!r} in {time.time() - t0:.1f}s")
    st, _, _ = sc.request("GET", "/v1.0/healthz")
    check(st == 204, f"healthy after the flood: {st}")
    # a guest that never returns: its CPU deadline (10 s) fails it; meanwhile other requests are served
    result = {}

    def spin():
        result["spin"] = inv(sc, "GET", "/spin")
    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.3)
    t0 = time.time()
    st, _, b = inv(sc, "GET", "/hello")
    took = time.time() - t0
    check(st == 200 and took < 2, f"hello while a guest spins: {st} in {took:.2f}s")
    th.join(40)
    st, _, b = result.get("spin", (0, {}, b""))
    check(st == 500 and b"interrupted" in b, f"spin: {st} {b!r}")

    # state through dapr:v1, seen over HTTP and back
    st, _, b = inv(sc, "POST", "/state/put?key=order-1", body=b'{"id":1,"item":"book"}')
    check(st == 204, f"put: {st} {b!r}")
    st, h, b = sc.request("GET", "/v1.0/state/statestore/order-1")
    check(st == 200 and json.loads(b) == {"id": 1, "item": "book"}, f"HTTP get: {st} {b!r}")
    etag = h.get("etag")
    st, h, b = inv(sc, "GET", "/state/get?key=order-1")
    check(st == 200 and json.loads(b) == {"id": 1, "item": "book"}, f"wasm get: {st} {b!r}")
    check(h.get("x-etag") == etag and h.get("x-size") == str(len(b)), f"etag/size: {h} vs {etag}")
    check(h.get("x-small") == b[:8].decode(), f"small buffer got the first bytes: {h.get('x-small')!r}")
    sc.request("POST", "/v1.0/state/statestore", body=[{"key": "order-2", "value": "from http"}])
    st, _, b = inv(sc, "GET", "/state/get?key=order-2")
    check(st == 200 and b == b'"from http"', f"wasm reads an HTTP write: {st} {b!r}")
    st, _, b = inv(sc, "POST", "/state/put?key=order-1&etag=00000000-0000-0000-0000-000000000000", body=b'{"id":2}')
    check(st == 502 and b.startswith(b"error -409 ERR_STATE_SAVE: "), f"stale etag refused as over HTTP: {st} {b!r}")
    st, _, b = inv(sc, "POST", "/state/put?key=order-1&etag=bogus", body=b'{"id":2}')
    check(st == 502 and b.startswith(b"error -400 ERR_STATE_SAVE: "), f"malformed etag: {st} {b!r}")
    st, _, b = inv(sc, "POST", f"/state/put?key=order-1&etag={etag}", body=b'{"id":3}')
    check(st == 204, f"right etag accepted: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/state/get?key=missing")
    check(st == 404, f"missing key: {st} {b!r}")
    st, _, b = inv(sc, "DELETE", "/state/del?key=order-1")
    check(st == 204, f"delete: {st} {b!r}")
    st, _, _ = sc.request("GET", "/v1.0/state/statestore/order-1")
    check(st == 204, f"deleted over HTTP too: {st}")
    st, _, b = inv(sc, "GET", "/state/nostore")
    check(b.startswith(b"error -400 ERR_STATE_STORE_NOT_FOUND"), f"unknown store: {b!r}")

    # invoke (the app calls itself through the sidecar), any route, log
    st, h, b = inv(sc, "POST", "/invoke?app=myapp&method=echo", body=b"ping")
    check(st == 200 and b == b"ping" and h.get("x-status") == "201", f"invoke self: {st} {h} {b!r}")
    # an app calling itself 3000 levels deep: each level is a new instance, started on the next
    # loop iteration rather than nested on the C stack (the callers park meanwhile); nested, 3000
    # levels overflowed the loop thread's stack (SIGSEGV) before
    st, _, b = inv(sc, "GET", "/recurse?n=3000")
    check(st == 200 and b == b"3000", f"recursion through invocation: {st} {b[:200]!r}")
    st, h, b = inv(sc, "GET", "/request")
    check(st == 200 and h.get("x-status") == "200" and json.loads(b).get("id") == "myapp", f"request: {st} {b[:200]!r}")
    st, _, _ = inv(sc, "GET", "/log")
    check(st == 200 and "a line from the wasm app" in sc.logs(), "log reaches the sidecar's log")

    # pub/sub: subscribed from /dapr/subscribe; a message published over HTTP reaches the app
    st, _, b = sc.request("POST", "/v1.0/publish/pubsub/orders", body={"order": 7},
                          headers={"Content-Type": "application/json"})
    check(st == 204, f"publish: {st} {b!r}")
    got = None
    for _ in range(100):
        st, _, b = sc.request("GET", "/v1.0/state/statestore/last-order")
        if st == 200:
            got = json.loads(b)
            break
        time.sleep(0.05)
    check(got is not None and got.get("data") == {"order": 7} and got.get("topic") == "orders",
          f"delivered CloudEvent saved by the app: {got}")
    # publish from the app, delivered back to it
    st, _, b = inv(sc, "POST", "/publish?topic=orders", body=b'{"order":8}')
    check(st == 204, f"app publish: {st} {b!r}")
    for _ in range(100):
        st, _, b = sc.request("GET", "/v1.0/state/statestore/last-order")
        if st == 200 and json.loads(b).get("data") == {"order": 8}:
            break
        time.sleep(0.05)
    check(st == 200 and json.loads(b).get("data") == {"order": 8}, f"app's own publish delivered: {b!r}")

    # the official Dapr JS SDK sees an app like any other
    nm = os.path.join(ROOT, "scripts", "npm", "node_modules")
    if shutil.which("node") and os.path.isdir(os.path.join(nm, "@dapr", "dapr")):
        r = subprocess.run(["node", os.path.join(HERE, "wasm_app_sdk.cjs"), nm, str(sc.port)], capture_output=True,
                           timeout=60, text=True)
        check(r.returncode == 0, f"SDK script: {r.returncode} {r.stderr[-2000:]}")
        if r.returncode == 0:
            out = json.loads(r.stdout.strip().splitlines()[-1])
            check(out.get("echo") == {"hello": "wasm"}, f"SDK invoke echo: {out.get('echo')}")
            check(out.get("hello") == "hello from wasm\n", f"SDK invoke hello: {out.get('hello')!r}")
            check((out.get("delivered") or {}).get("data") == {"order": 99}, f"SDK publish delivered: {out}")
            check(out.get("viaApp") == {"from": "sdk"}, f"SDK save read by the app: {out.get('viaApp')}")
    else:
        print("SKIP: node or @dapr/dapr missing (scripts/deps.sh installs them)")
finally:
    sc.stop()

# ---------------------------------------------------------------- the appHttpPipeline runs in front of a wasm app
GUESTS = os.path.join(os.path.dirname(APPS), "guests")
sc = Sidecar(BIN, args=["--app-wasm", WAGI])
sc.write_resource("tag.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: tag}\nspec:\n"
                  "  type: middleware.http.wasm\n  version: v1\n  metadata:\n"
                  f"  - {{name: url, value: \"file://{os.path.join(GUESTS, 'hw_tag.wasm')}\"}}\n")
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\n"
                  "spec:\n  type: state.in-memory\n  version: v1\n")
cfg = os.path.join(sc.dir, "config.yaml")
with open(cfg, "w") as f:
    f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
            "  appHttpPipeline:\n    handlers:\n    - name: tag\n      type: middleware.http.wasm\n")
sc.args += ["--config", cfg]
sc.start()
try:
    st, _, b = inv(sc, "GET", "/env")
    env = dict(line.split("=", 1) for line in b.decode().splitlines() if "=" in line)
    check(st == 200 and env.get("HTTP_X_PIPED") == "yes", f"appHttpPipeline in front of the wasm app: {st} {env}")
finally:
    sc.stop()

# ---------------------------------------------------------------- an input binding delivers to the wasm app
sc = Sidecar(BIN, args=["--app-wasm", WAGI])
sc.write_resource("cron.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: tick}\nspec:\n"
                  "  type: bindings.cron\n  version: v1\n  metadata:\n  - {name: schedule, value: \"@every 1s\"}\n")
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\n"
                  "spec:\n  type: state.in-memory\n  version: v1\n")
sc.write_resource("secrets.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: envsecrets}\n"
                  "spec:\n  type: secretstores.local.env\n  version: v1\n  metadata: []\n")
sc.env["WASM_APP_SECRET"] = "s3cret"
sc.write_resource("hidden.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: hidden}\n"
                  "spec:\n  type: state.in-memory\n  version: v1\nscopes: [someone-else]\n")
sc.start()
try:
    # component scopes: a store scoped to another app ID is not reachable from this app
    st, _, b = inv(sc, "GET", "/state/get?store=hidden&key=x")
    check(st == 502 and b.startswith(b"error -400 ERR_STATE_STORE_NOT_FOUND"), f"scoped-out store: {st} {b!r}")
    # secrets through dapr:v1 (the secrets API)
    st, _, b = inv(sc, "GET", "/secret?store=envsecrets&name=WASM_APP_SECRET")
    check(st == 200 and json.loads(b) == {"WASM_APP_SECRET": "s3cret"}, f"secret_get: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/secret?store=nostore&name=X")
    check(st == 502 and b"ERR_SECRET_STORE_NOT_FOUND" in b, f"secret_get, unknown store: {st} {b!r}")
    got = None
    for _ in range(100):
        st, _, b = sc.request("GET", "/v1.0/state/statestore/last-tick")
        if st == 200:
            got = json.loads(b)
            break
        time.sleep(0.1)
    check(got == {"ticked": True}, f"bindings.cron reached the wasm app, which saved state: {got}")
    # the Jobs API delivers through the same app channel: a job fires at the wasm app's /job/{name}
    st, _, b = sc.request("POST", "/v1.0-alpha1/jobs/wasmjob", body=json.dumps({"dueTime": "1s", "data": {"n": 7}}),
                          headers={"Content-Type": "application/json"})
    check(st == 204, f"schedule a job for the wasm app: {st} {b!r}")
    got = None
    for _ in range(100):
        st, _, b = sc.request("GET", "/v1.0/state/statestore/last-job")
        if st == 200:
            got = json.loads(b)
            break
        time.sleep(0.1)
    check(got == {"n": 7}, f"the job reached the wasm app, which saved its data: {got}")
finally:
    sc.stop()

# ---------------------------------------------------------------- http-wasm app
sc = Sidecar(BIN, args=["--app-wasm", HW]).start()
try:
    st, _, b = inv(sc, "GET", "/hello")
    check(st == 200 and b == b"hello from an http-wasm app\n", f"hw hello: {st} {b!r}")
    st, _, b = inv(sc, "POST", "/state/k1", body=b'{"v":1}')
    check(st == 204, f"hw save: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/state/k1")
    check(st == 200 and json.loads(b) == {"v": 1}, f"hw get: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/state/none")
    check(st == 404, f"hw missing: {st} {b!r}")
    st, h, b = inv(sc, "GET", "/next")
    check(st == 200 and b == b"after next: ctx=42 error=0\n", f"hw next: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/trap")
    check(st == 500 and b"unreachable" in b, f"hw trap: {st} {b!r}")
    st, _, b = inv(sc, "GET", "/hello")
    check(st == 200, f"hw after a trap: {st}")
    served = [inv(sc, "GET", "/served")[2].split(b":")[1] for _ in range(3)]
    check(served == [b"1", b"1", b"1"], f"fresh: a new instance per request: {served}")
finally:
    sc.stop()


def served(sc):
    st, _, b = inv(sc, "GET", "/served")
    i, n = b.decode().split(":")
    return i, int(n)


# the pooled policy: a warm instance serves sequential requests; a trap discards it
sc = Sidecar(BIN, args=["--app-wasm", HW, "--app-wasm-instances", "pooled"]).start()
try:
    seen = [served(sc) for _ in range(4)]
    reused = any(a[0] == b[0] and b[1] == a[1] + 1 for a, b in zip(seen, seen[1:]))
    check(reused, f"pooled: an instance serves the next request: {seen}")
    st, _, b = inv(sc, "GET", "/state/none")  # dapr:v1 from a reused instance
    check(st == 404, f"pooled dapr call: {st} {b!r}")
    victim = served(sc)[0]
    for _ in range(20):  # the victim instance traps on the request it gets
        st, _, _ = inv(sc, "GET", f"/trap?id={victim}")
        if st == 500:
            break
    check(st == 500, f"pooled trap: {st}")
    after = [served(sc)[0] for _ in range(5)]
    check(victim not in after, f"the instance that trapped is not reused: {victim} in {after}")
finally:
    sc.stop()

# ---------------------------------------------------------------- AssemblyScript (a second language)
AS = os.path.join(APPS, "as_app.wasm")
if os.path.exists(AS):
    sc = Sidecar(BIN, args=["--app-wasm", AS]).start()
    try:
        for want in (b"count=1\n", b"count=2\n"):
            st, _, b = inv(sc, "GET", "/count")
            check(st == 200 and b == want, f"AssemblyScript app: {st} {b!r} (want {want!r})")
        st, _, b = sc.request("GET", "/v1.0/state/statestore/as-counter")
        check(st == 200 and b == b"2", f"its state over HTTP: {st} {b!r}")
    finally:
        sc.stop()
else:
    print("SKIP: as_app.wasm not built (asc from scripts/npm missing)")

# ---------------------------------------------------------------- SIGHUP reloads the app
work_dir = tempfile.mkdtemp(prefix="wgg-reload-")  # the test's own copy: runs of it may overlap (the cow variant)
work_app = os.path.join(work_dir, "reload_app.wasm")
shutil.copyfile(os.path.join(APPS, "wagi_app.wasm"), work_app)
sc = Sidecar(BIN, args=["--app-wasm", work_app]).start()
try:
    st, _, b = inv(sc, "GET", "/hello")
    check(st == 200 and b == b"hello from wasm\n", f"before reload: {st} {b!r}")
    with open(work_app + ".tmp", "wb") as f:  # a broken module: the old one keeps serving
        f.write(b"\0asm\1\0\0\0garbage")
    os.replace(work_app + ".tmp", work_app)
    sc.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "wasm app not reloaded" in sc.logs():
            break
        time.sleep(0.05)
    check("wasm app not reloaded" in sc.logs(), "a broken module is refused on reload")
    st, _, b = inv(sc, "GET", "/hello")
    check(st == 200 and b == b"hello from wasm\n", f"the old module still serves: {st} {b!r}")
    shutil.copyfile(os.path.join(APPS, "hw_app.wasm"), work_app + ".tmp")  # another ABI, even
    os.replace(work_app + ".tmp", work_app)
    sc.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "wasm app reloaded" in sc.logs():
            break
        time.sleep(0.05)
    st, _, b = inv(sc, "GET", "/hello")
    check(st == 200 and b == b"hello from an http-wasm app\n", f"after reload: {st} {b!r}")
    # a changed file is picked up by itself (no signal), as the middleware's guests are
    time.sleep(1.1)  # a new mtime second, whatever the file system's resolution
    shutil.copyfile(os.path.join(APPS, "wagi_app.wasm"), work_app + ".tmp")
    os.replace(work_app + ".tmp", work_app)
    for _ in range(100):
        st, _, b = inv(sc, "GET", "/hello")
        if b == b"hello from wasm\n":
            break
        time.sleep(0.1)
    check(st == 200 and b == b"hello from wasm\n", f"reloaded on a file change: {st} {b!r}")
finally:
    sc.stop()

# ---------------------------------------------------------------- refused at start
def refused(args, want):
    sc = Sidecar(BIN, args=args)
    sc.port = None
    sc.spawn()
    rc = sc.wait_exit(20)
    logs = sc.logs()
    sc.finish_proc()
    check(rc not in (None, 0) and want in logs, f"{args}: rc={rc} want {want!r} in:\n{logs[-800:]}")


refused(["--app-wasm", WAGI, "--app-port", "9"], "exclude each other")
bad = os.path.join(work_dir, "not_an_app.wat")
with open(bad, "w") as f:
    f.write('(module (func (export "other")))')
subprocess.run(["wat2wasm", bad, "-o", bad[:-4] + ".wasm"], check=True)
refused(["--app-wasm", bad[:-4] + ".wasm"], "exports neither handle_request")
with open(bad, "w") as f:
    f.write('(module (import "dapr:v1" "teleport" (func)) (func (export "_start")))')
subprocess.run(["wat2wasm", bad, "-o", bad[:-4] + ".wasm"], check=True)
refused(["--app-wasm", bad[:-4] + ".wasm"], "unknown import dapr:v1.teleport")

shutil.rmtree(work_dir, ignore_errors=True)
finish()
