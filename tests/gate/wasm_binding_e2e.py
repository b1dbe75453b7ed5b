"""wasm_binding_e2e.py: the bindings.wasm output binding through the real
`wasmgate run`: data as stdin, args metadata as argv, stdout as the 200 body,
204 when the guest prints nothing, JSON data passed as JSON text, Dapr errors
for an unknown binding, a malformed body, a trap and a non-zero exit, a
runaway guest stopped by the component's timeout while the sidecar stays
healthy, a module fetched over http:// (and a 404 stopping the start), and a
broken module stopping the start.
usage: wasm_binding_e2e.py WASMGATE GUEST_DIR (with upper.wasm)
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)
upper = os.path.join(GUESTS, "upper.wasm")


def binding(name, url, extra=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: bindings.wasm\n  version: v1\n  metadata:\n  - name: url\n    value: \"{url}\"\n{extra}")


sc = Sidecar(BIN)
sc.write_resource("upper.yaml", binding("upper", "file://" + upper,
                                        "  - name: timeout\n    value: \"300ms\"\n"))
sc.start()


def call(name, body):
    return sc.request("POST", f"/v1.0/bindings/{name}", json.dumps(body) if not isinstance(body, bytes) else body,
                      {"Content-Type": "application/json"})


st, _, body = call("upper", {"operation": "execute", "data": "hello", "metadata": {"args": "a,b c"}})
check(st == 200 and body == b"a+b c:HELLO", f"execute: {st} {body!r}")
st, _, body = call("upper", {"operation": "execute", "data": "x"})
check(st == 200 and body == b":X", f"no args: {st} {body!r}")
st, _, body = call("upper", {"operation": "execute", "data": {"k": [1, 2]}})
check(st == 200 and body == b':{"K":[1,2]}', f"JSON data: {st} {body!r}")
st, _, body = call("upper", {"operation": "execute", "metadata": {"args": "empty"}})
check(st == 204 and body == b"", f"empty output: {st} {body!r}")
check_error(call("nope", {"operation": "execute"}), 500, "ERR_INVOKE_OUTPUT_BINDING", "couldn't find output binding nope")
check_error(call("upper", b"{not json"), 400, "ERR_MALFORMED_REQUEST")
check_error(call("upper", {"operation": "execute", "metadata": {"args": "trap"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "unreachable")
check_error(call("upper", {"operation": "execute", "metadata": {"args": "exit"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "exited with code 3")
t0 = time.time()
check_error(call("upper", {"operation": "execute", "metadata": {"args": "spin"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "interrupted")
check(time.time() - t0 < 5, f"the runaway guest took {time.time() - t0:.1f} s to stop")
st, _, body = sc.request("GET", "/v1.0/metadata")
comps = {c["name"]: c for c in json.loads(body).get("components", [])} if st == 200 else {}
check(comps.get("upper", {}).get("type") == "bindings.wasm" and comps["upper"].get("capabilities") == ["OUTPUT_BINDING"],
      f"metadata components: {comps}")
st, _, _ = sc.request("GET", "/v1.0/healthz")
check(st == 204, f"healthz after a runaway guest: {st}")
st, _, body = call("upper", {"operation": "execute", "data": "still here"})
check(st == 200 and body == b":STILL HERE", f"after the runaway: {st} {body!r}")
sc.stop()

# The module fetched over http:// at start (Dapr's wasm components accept http(s) urls);
# a 404 stops the start naming the url.
import functools  # noqa: E402
import threading  # noqa: E402
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=GUESTS))
threading.Thread(target=srv.serve_forever, daemon=True).start()
web = Sidecar(BIN)
web.write_resource("upper.yaml", binding("upper", f"http://127.0.0.1:{srv.server_address[1]}/upper.wasm"))
web.start()
st, _, body = web.request("POST", "/v1.0/bindings/upper", json.dumps({"operation": "execute", "data": "web"}),
                          {"Content-Type": "application/json"})
check(st == 200 and body == b":WEB", f"module from http://: {st} {body!r}")
web.cleanup()
missing = Sidecar(BIN)
missing.write_resource("upper.yaml", binding("upper", f"http://127.0.0.1:{srv.server_address[1]}/nope.wasm"))
missing.spawn()
code = missing.wait_exit(10)
check(code == 1 and "received 404 status code" in missing.logs(), f"404 module: {code} {missing.logs()[-300:]}")
missing.cleanup()
srv.shutdown()

# A module that does not validate stops the start with a clear error.
bad = Sidecar(BIN)
path = os.path.join(bad.dir, "bad.wasm")
with open(path, "wb") as f:
    f.write(b"\0asm\x02\0\0\0")
bad.write_resource("bad.yaml", binding("bad", "file://" + path))
bad.spawn()
code = bad.wait_exit(10)
logs = bad.logs()
check(code == 1, f"exit status {code} with a bad module")
check("unknown binary version" in logs and "bad.yaml" in logs, f"logs: {logs[-400:]}")
bad.cleanup()
finish()
