"""e2e_coreconfig.py: the core's part of the Configuration (--config) through the
real `wasmgate run`: spec.features in the metadata API's enabledFeatures,
spec.metrics.enabled: false (no metrics endpoint), spec.tracing.samplingRate
and the W3C traceparent the app receives on invocation (a child of the
caller's span, or a new sampled/unsampled trace), and clear start errors for
malformed fields.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(90)
SEEN = []
TP = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$")


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path not in ("/dapr/subscribe", "/dapr/config"):  # asked by the sidecar at start
            SEEN.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


app = ThreadingHTTPServer(("127.0.0.1", 0), App)
threading.Thread(target=app.serve_forever, daemon=True).start()
app_port = app.server_address[1]

CONFIG = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
spec:
  features:
  - name: HotReload
    enabled: true
  - name: SchedulerReminders
    enabled: false
  metrics:
    enabled: false
  tracing:
    samplingRate: "1"
"""
d = tempfile.mkdtemp(prefix="wgg-cfg-")
cfg = os.path.join(d, "config.yaml")
with open(cfg, "w") as f:
    f.write(CONFIG)
sc = Sidecar(BIN, app_id="cfg", args=["--app-port", str(app_port), "--config", cfg]).start(wait_path="/v1.0/healthz")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check(md["enabledFeatures"] == ["HotReload"], f"enabledFeatures: {md['enabledFeatures']}")
try:
    socket.create_connection(("127.0.0.1", sc.metrics_port), timeout=1).close()
    check(False, "spec.metrics.enabled: false leaves no metrics endpoint")
except OSError:
    pass
check("metrics disabled by the configuration" in sc.logs(), "logged")

# no incoming trace context: a new trace, sampled at rate 1
check(sc.request("GET", "/v1.0/invoke/cfg/method/a")[0] == 200, "invoke")
tp = SEEN[-1].get("traceparent", "")
check(TP.match(tp) and tp.endswith("-01"), f"a new sampled trace toward the app: {tp!r}")
# incoming trace context: same trace ID and flags, a new span ID; tracestate passes through
inc = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
sc.request("GET", "/v1.0/invoke/cfg/method/b", headers={"traceparent": inc, "tracestate": "v=1"})
tp = SEEN[-1].get("traceparent", "")
check(tp[:36] == inc[:36] and tp.endswith("-00") and tp[36:52] != inc[36:52] and TP.match(tp),
      f"child of the caller's span: {tp!r}")
check(SEEN[-1].get("tracestate") == "v=1", "tracestate forwarded")
# a malformed incoming traceparent starts a new trace
sc.request("GET", "/v1.0/invoke/cfg/method/c", headers={"traceparent": "00-zz-bad"})
check(TP.match(SEEN[-1].get("traceparent", "")), f"malformed traceparent replaced: {SEEN[-1].get('traceparent')!r}")
sc.cleanup()

# without a Configuration: no features, metrics served, new traces not sampled
sc = Sidecar(BIN, app_id="cfg", args=["--app-port", str(app_port)]).start(wait_path="/v1.0/healthz")
check(json.loads(sc.request("GET", "/v1.0/metadata")[2])["enabledFeatures"] == [], "no features")
check(sc.request("GET", "/metrics", port=sc.metrics_port)[0] == 200, "metrics served by default")
sc.request("GET", "/v1.0/invoke/cfg/method/d")
check(SEEN[-1].get("traceparent", "").endswith("-00"), f"unsampled by default: {SEEN[-1].get('traceparent')!r}")
sc.cleanup()

# malformed fields stop the start with the file and the field
for bad, needle in (("  features: HotReload\n", b"spec.features must be a list"),
                    ("  features:\n  - enabled: true\n", b"spec.features[0] must be {name"),
                    ("  tracing:\n    samplingRate: \"often\"\n", b"samplingRate must be a number from 0 to 1"),
                    ("  tracing:\n    samplingRate: \"2\"\n", b"samplingRate must be a number from 0 to 1"),
                    ("  metrics:\n    enabled: maybe\n", b"spec.metrics.enabled must be true or false")):
    with open(cfg, "w") as f:
        f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n" + bad)
    p = subprocess.run([BIN, "run", "--app-id", "x", "--dapr-http-port", str(free_port()), "--metrics-port", "0",
                        "--config", cfg], capture_output=True, timeout=10)
    check(p.returncode == 1 and needle in p.stderr and cfg.encode() in p.stderr, f"{bad!r}: {p.returncode} {p.stderr!r}")
app.shutdown()
app.server_close()
finish()
