"""e2e_sdk_js.py: the official Dapr JS SDK (@dapr/dapr from scripts/npm,
installed by scripts/deps.sh) against `wasmgate run`, in HTTP mode: DaprClient
for state (save, get, getBulk, transaction, delete, query), pub/sub publish to a
DaprServer subscriber, invocation of a DaprServer method, an output binding
(bindings.http against a loopback server here), secrets, metadata,
the distributed lock and, last, sidecar.shutdown (tests/gate/sdk_js/dapr_sdk.cjs
does the calls). Skipped (exit 77) only when
node or the SDK is not installed.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, require_npm, start_alarm  # noqa: E402

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
NPM = os.path.normpath(os.path.join(HERE, "..", "..", "scripts", "npm"))
NODE = shutil.which("node")
require_npm("@dapr/dapr")
start_alarm(115)


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"null")
        out = json.dumps({"pong": body.get("ping") if isinstance(body, dict) else None}).encode()
        self.send_response(200 if self.path == "/hook" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()

app_port = free_port()
sc = Sidecar(BIN, app_id="sdkapp", args=["--app-port", str(app_port)], env={"SDK_DB": "pw"})
sc.write_resource("components.yaml", f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: statestore}}
spec:
  type: state.sqlite
  version: v1
  metadata:
  - {{name: connectionString, value: "{sc.dir}/state.db"}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: pubsub}}
spec: {{type: pubsub.in-memory, version: v1, metadata: []}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: web}}
spec:
  type: bindings.http
  version: v1
  metadata:
  - {{name: url, value: "http://127.0.0.1:{hook.server_address[1]}"}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: tick}}
spec:
  type: bindings.cron
  version: v1
  metadata:
  - {{name: schedule, value: "@every 1s"}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: envsecrets}}
spec:
  type: secretstores.local.env
  version: v1
  metadata:
  - {{name: prefix, value: SDK_}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: lockstore}}
spec: {{type: lock.in-memory, version: v1}}
""")
sc.start()
env = dict(os.environ, WG_NPM_DIR=NPM, DAPR_HTTP_PORT=str(sc.port), APP_PORT=str(app_port), APP_ID="sdkapp")
env.pop("DAPR_API_TOKEN", None)
try:
    r = subprocess.run([NODE, os.path.join(HERE, "sdk_js", "dapr_sdk.cjs")], env=env, capture_output=True, text=True,
                       timeout=100)
    out = r.stdout + r.stderr
except subprocess.TimeoutExpired as e:
    out, r = f"node timed out: {e.stdout!r}", None
print(out)
check(r is not None and r.returncode == 0, f"every SDK call passes (exit {r.returncode if r else None})")
check("SDK calls passed:" in out, "the script reported its count")
if r is None or r.returncode:
    print(sc.logs()[-3000:])
check(sc.wait_exit(15) == 0, "the sidecar exited 0 after client.sidecar.shutdown()")
sc.stop()
hook.shutdown()
finish()
