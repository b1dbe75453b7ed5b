"""demo_e2e.py: the `make run` demo, end to end. Runs scripts/demo.sh itself (the echo app and
`wasmgate run` with examples/http-wasm/emoji: the emoji filter in the httpPipeline and the SQLite
state store) on free ports, then the README's scenario and the filter's rules through service
invocation: shortcodes rewritten in the query (plain and %3A-encoded colons) and the body, cats
(shortcodes, emojis, percent-encoded emojis) refused with 403 before the app sees them, dogs and
lions let through, state saved and read through the filter, a cat in a state save refused and not
stored, an oversized body refused; finally Ctrl-C (SIGINT to the process group) stops both.
usage: demo_e2e.py WASMGATE BUILD_DIR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import FAILURES, check, finish, free_port, start_alarm  # noqa: E402

BIN, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
start_alarm(100)

# The components name build/examples/http-wasm/... relative to the working directory: give the
# demo a directory of its own whose build/ holds the guest (and receives the state database).
work = tempfile.mkdtemp(prefix="wgg-demo-")
os.makedirs(os.path.join(work, "build", "examples", "http-wasm"))
os.symlink(os.path.join(BUILD, "examples", "http-wasm", "emoji.wasm"),
           os.path.join(work, "build", "examples", "http-wasm", "emoji.wasm"))
app_port, port, metrics = free_port(), free_port(), free_port()
orders_port, orders_metrics = free_port(), free_port()
env = dict(os.environ, APP_PORT=str(app_port), DAPR_HTTP_PORT=str(port), METRICS_PORT=str(metrics),
           ORDERS_HTTP_PORT=str(orders_port), ORDERS_METRICS_PORT=str(orders_metrics), LOG_LEVEL="debug",
           DAPR_GRPC_PORT=str(free_port()), ORDERS_GRPC_PORT=str(free_port()))
env.pop("DAPR_API_TOKEN", None)
log = open(os.path.join(work, "demo.log"), "wb")
demo = subprocess.Popen([os.path.join(ROOT, "scripts", "demo.sh"), os.path.dirname(os.path.dirname(BIN))],
                        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def logs():
    with open(os.path.join(work, "demo.log"), "rb") as f:
        return f.read().decode(errors="replace")


def request(method, path, body=None, headers=None, p=None):
    c = http.client.HTTPConnection("127.0.0.1", p or port, timeout=10)
    try:
        c.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def stop_all():
    if demo.poll() is None:
        os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(10)


def invoke(query="", body=None, method=None):
    st, _, out = request(method or ("POST" if body is not None else "GET"), "/v1.0/invoke/demo/method/echo" + query, body)
    try:
        return st, json.loads(out)
    except ValueError:
        return st, out


def scenario():
    """The README's commands, then the filter's rules."""
    st, j = invoke("?message=I%20:metal:%20wasm", "dogs :dog: welcome :tada:")
    check(st == 200 and isinstance(j, dict), f"invoke through the filter: {st} {j!r}")
    if isinstance(j, dict):
        check(j["path"] == "/echo", f"path at the app: {j['path']!r}")
        check(j["query"].get("message") == "I \U0001F918 wasm", f"query at the app: {j['query']!r}")
        check(j["body"] == "dogs \U0001F436 welcome \U0001F389", f"body at the app: {j['body']!r}")
        check(j["headers"].get("content-length") == str(len(j["body"].encode())),
              f"content-length not recomputed: {j['headers'].get('content-length')} for {j['body']!r}")
    st, out = invoke("", "here is a :cat:")
    check(st == 403 and b"cats are not allowed" in out, f"a cat: {st} {out!r}")
    st, _, out = request("POST", "/v1.0/state/statestore", '[{"key":"greeting","value":"I :heart: wasm"}]',
                         {"Content-Type": "application/json"})
    check(st == 204, f"state save through the filter: {st} {out!r}")
    st, _, out = request("GET", "/v1.0/state/statestore/greeting")
    check(st == 200 and json.loads(out or b"null") == "I \u2764\ufe0f wasm", f"state read: {st} {out!r}")

    st, j = invoke("?a=%3Ametal%3A&b=:rocket::fire:&c=:notanemoji:&d=%3afire%3a")
    check(st == 200 and isinstance(j, dict) and j["query"] == {"a": "\U0001F918", "b": "\U0001F680\U0001F525",
                                                                "c": ":notanemoji:", "d": "\U0001F525"},
          f"query rewriting: {st} {j!r}")
    for what, q, body in [("cat shortcode in the query", "?m=:cat2:", None),
                          ("encoded cat shortcode", "?m=%3Asmirk_cat%3A", None),
                          ("percent-encoded cat emoji", "?m=%F0%9F%90%B1", None),
                          ("cat emoji in the body", "", "hello \U0001F408"),
                          ("black cat", "", "\U0001F408\u200d\u2b1b"),
                          ("cat face", "", "\U0001F63A"),
                          ("weary cat", "", "\U0001F640"),
                          ("cat face shortcode", "", "so :heart_eyes_cat:"),
                          ("cat in the path", "/%F0%9F%90%B1", None)]:
        st, out = invoke(q, body)
        check(st == 403, f"{what}: {st} {out!r}")
    st, j = invoke("", "\U0001F415 \U0001F436 :poodle: \U0001F981 :lion: :dog2:")
    check(st == 200 and isinstance(j, dict)
          and j["body"] == "\U0001F415 \U0001F436 \U0001F429 \U0001F981 :lion: \U0001F415", f"dogs and a lion: {st} {j!r}")
    st, j = invoke("", "")
    check(st == 200 and isinstance(j, dict) and j["body"] == "" and j["method"] == "POST", f"empty body: {st} {j!r}")
    binary = bytes(range(256)) * 64
    st, _, out = request("PUT", "/v1.0/invoke/demo/method/bin", binary)
    check(st == 200 and json.loads(out)["body"] == binary.decode("utf-8", errors="replace"), f"binary body: {st}")
    st, _, out = request("POST", "/v1.0/state/statestore", '[{"key":"pet","value":"my :cat:"}]',
                         {"Content-Type": "application/json"})
    check(st == 403, f"cat in a state save: {st} {out!r}")
    st, _, out = request("GET", "/v1.0/state/statestore/pet")
    check(st == 204, f"the refused save stored something: {st} {out!r}")
    st, _, out = request("POST", "/v1.0/invoke/demo/method/big", b"x" * ((1 << 20) + 1))
    check(st == 413, f"oversized body: {st} {out[:100]!r}")
    st, _, out = request("GET", "/v1.0/metadata")
    comps = {c["name"]: c for c in json.loads(out)["components"]} if st == 200 else {}
    check(comps.get("emoji", {}).get("type") == "middleware.http.wasm" and comps["emoji"].get("capabilities") == [],
          f"the filter in the metadata: {comps}")
    st, j = invoke("", "still :smile:")
    check(st == 200 and isinstance(j, dict) and j["body"] == "still \U0001F604", f"after the refusals: {st} {j!r}")
    check(os.path.exists(os.path.join(work, "build", "examples", "http-wasm", "demo-state.db")),
          "the state database is not where the component says")


def ctrl_c():
    """Ctrl-C (SIGINT to the foreground process group) stops both the app and the sidecar."""
    os.killpg(demo.pid, signal.SIGINT)
    try:
        demo.wait(15)
    except subprocess.TimeoutExpired:
        check(False, "the demo did not stop on SIGINT")
    for p in (port, app_port, orders_port):
        s = socket.socket()
        check(s.connect_ex(("127.0.0.1", p)) != 0, f"port {p} still open after Ctrl-C")
        s.close()
    alive = subprocess.run(["pgrep", "-s", str(demo.pid)], capture_output=True, text=True).stdout.split()
    check(not alive, f"processes left in the demo's session: {alive}")


try:
    deadline = time.time() + 20
    ready = False
    while time.time() < deadline and not ready and demo.poll() is None:
        try:
            ready = request("GET", "/v1.0/healthz")[0] == 204  # 204 only once the app answers too
        except OSError:
            pass
        time.sleep(0 if ready else 0.1)
    check(ready, "the demo did not become healthy")
    if ready:
        scenario()
        # the wasm app next to it (examples/wasm-app, in-process)
        st, _, out = request("POST", "/v1.0/invoke/orders/method/orders", '{"id":"1","item":"tea"}',
                             {"Content-Type": "application/json"}, p=orders_port)
        check(st == 201, f"wasm app order: {st} {out!r}")
        st, _, out = request("GET", "/v1.0/invoke/orders/method/orders/1", p=orders_port)
        check(st == 200 and json.loads(out).get("item") == "tea", f"wasm app read: {st} {out!r}")
        ctrl_c()
finally:
    stop_all()
    log.close()
    if FAILURES:
        print(logs()[-6000:])
    shutil.rmtree(work, ignore_errors=True)
finish()
