"""contrib_bindings_wasm.py: components-contrib's bindings.wasm guests
(bindings/wasm/testdata: args, example, loop, http; common/wasm/testdata:
strict) through the real `wasmgate run`, with the expectations of
bindings/wasm/output_test.go and common/wasm/wasm_test.go. The material is
fetched, never committed, so this runner is not part of CTest:

  git -C <components-contrib clone> archive HEAD bindings/wasm common/wasm | tar -x -C DIR
  python3 tests/gate/contrib_bindings_wasm.py build/cli/wasmgate DIR

Prints one line per case and "N/M passed".
"""
import functools
import json
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, start_alarm  # noqa: E402

BIN, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
start_alarm(300)
TD = os.path.join(ROOT, "bindings/wasm/testdata")
results = []


def case(name, ok, detail=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)


def component(name, url, extra=()):
    meta = "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in [("url", url), *extra])
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: bindings.wasm\n  version: v1\n  metadata:\n{meta}")


def invoke(sc, name, args=None):
    body = {"operation": "execute"}
    if args is not None:
        body["metadata"] = {"args": args}
    return sc.request("POST", f"/v1.0/bindings/{name}", json.dumps(body), {"Content-Type": "application/json"},
                      timeout=60)


def init_error(url, extra=()):
    sc = Sidecar(BIN)
    sc.write_resource("c.yaml", component("c", url, extra) if url is not None else
                      component("c", "x").replace("  - name: url\n    value: \"x\"\n", "  - name: other\n    value: \"1\"\n"))
    sc.spawn()
    code = sc.wait_exit(20)
    logs = sc.logs()
    sc.cleanup()
    return code, logs


# Test_outputBinding_Init
code, logs = init_error(None)
case("Init/requires url metadata", code == 1 and "wasm: failed to parse metadata: missing url" in logs, logs[-300:])
code, logs = init_error("file://" + os.path.join(TD, "args/main.go"))
case("Init/url not wasm", code == 1 and "wasm: error compiling binary: invalid magic number" in logs, logs[-300:])

sc = Sidecar(BIN)
sc.write_resource("args.yaml", component("args", "file://" + os.path.join(TD, "args/main.wasm")))
sc.write_resource("example.yaml", component("example", "file://" + os.path.join(TD, "example/main.wasm")))
sc.write_resource("loop.yaml", component("loop", "file://" + os.path.join(TD, "loop/main.wasm"),
                                         [("timeout", "60s")]))
sc.write_resource("http.yaml", component("http", "file://" + os.path.join(TD, "http/main.wasm")))
sc.write_resource("strict.yaml", component("strict", "file://" + os.path.join(ROOT, "common/wasm/testdata/strict/main.wasm"),
                                           [("strictSandbox", "true")]))
sc.write_resource("loose.yaml", component("loose", "file://" + os.path.join(ROOT, "common/wasm/testdata/strict/main.wasm")))
sc.start()
case("Init/ok", True)

# Test_Invoke (each twice, "to prove idempotency")
for name, comp, args, want in [("args none", "args", None, b"main"), ("args empty", "args", "", b"main"),
                               ("args", "args", "1,2", b"main\n1\n2"), ("example", "example", "salaboy", b"hello salaboy")]:
    got = [invoke(sc, comp, args) for _ in range(2)]
    case(f"Invoke/{name}", all(g[0] == 200 and g[2] == want for g in got), [(g[0], g[2]) for g in got])

# Invoke/canceled: the caller goes away, the looping guest is interrupted at once.
s = socket.create_connection(("127.0.0.1", sc.port))
body = json.dumps({"operation": "execute"}).encode()
s.sendall(b"POST /v1.0/bindings/loop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
time.sleep(0.3)
s.close()
t0 = time.time()
while time.time() - t0 < 10 and "module closed with context canceled" not in sc.logs():
    time.sleep(0.05)
case("Invoke/canceled", "module closed with context canceled" in sc.logs(), f"{time.time() - t0:.1f}s")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/unknown":
            self.send_response(404)
            body = b"Not found"
        else:
            self.send_response(200)
            body = self.path.encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_address[1]}"
# Test_InvokeHttp
for name, url, want in [("http", base, b"Status: 200\nBody: \n/\n"),
                        ("unknown", base + "/unknown", b"Status: 404\nBody: \nNot found\n")]:
    got = [invoke(sc, "http", url) for _ in range(2)]
    case(f"InvokeHttp/{name}", all(g[0] == 200 and g[2] == want for g in got), [(g[0], g[2]) for g in got])

# TestEnsureConcurrency: 100 calls at once.
with ThreadPoolExecutor(100) as ex:
    got = list(ex.map(lambda i: (i, invoke(sc, "http", f"{base}/{i}")), range(100)))
bad = [(i, g[0], g[2]) for i, g in got if g[0] != 200 or g[2] != f"Status: 200\nBody: \n/{i}\n".encode()]
case("EnsureConcurrency (100)", not bad, bad[:3])

# common/wasm TestNewModuleConfig through the binding: strict output is exact; loose sleeps for real.
want = b"2000000\n1000000\n3e0a4fc818\n"
t0 = time.time()
st, _, out = invoke(sc, "strict")
dt = time.time() - t0
case("NewModuleConfig/strictSandbox = true", st == 200 and out == want, (st, out, dt))
t0 = time.time()
st, _, out = invoke(sc, "loose")
dt = time.time() - t0
case("NewModuleConfig/strictSandbox = false", st == 200 and out != want and dt >= 0.05, (st, out, dt))
sc.stop()
srv.shutdown()

# Dapr's Init refuses wasi-http under strictSandbox.
code, logs = init_error("file://" + os.path.join(TD, "http/main.wasm"), [("strictSandbox", "true")])
case("Init/wasi-http with strictSandbox", code == 1 and "can not instantiate wasi-http with strict sandbox" in logs,
     logs[-300:])
print(f"{sum(results)}/{len(results)} passed")
sys.exit(0 if all(results) else 1)
