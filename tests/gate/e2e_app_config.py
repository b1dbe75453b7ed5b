"""e2e_app_config.py: GET /dapr/config read from the app at start, as daprd does
(pkg/runtime/runtime.go loadAppConfiguration, pkg/channel/http GetAppConfig): once the app
listens, one GET with Content-Type application/json and dapr-app-id; a 200 JSON object is
"Application configuration loaded", with daprd's deprecation warning for
remindersStoragePartitions and a warning that declared actor types are not hosted; a 404 is no
configuration (nothing logged above debug); a body that is not JSON is logged and ignored; the
sidecar serves in every case.
"""
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)
seen = []
answer = {}


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        seen.append((self.path, dict(self.headers)))
        status, body = answer.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


app_port = free_port()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), App)
threading.Thread(target=srv.serve_forever, daemon=True).start()


def run(body, status=200):
    seen.clear()
    answer["/dapr/config"] = (status, body)
    sc = Sidecar(BIN, app_id="cfgapp", args=["--app-port", str(app_port), "--log-level", "debug"])
    sc.start(timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline and not any(p == "/dapr/config" for p, _ in seen):
        time.sleep(0.05)
    time.sleep(0.3)  # the answer is logged right after it arrives
    logs = sc.logs()
    ok = sc.request("GET", "/v1.0/healthz")[0] == 204
    sc.stop()
    return [h for p, h in seen if p == "/dapr/config"], logs, ok


reqs, logs, ok = run(json.dumps({"entities": ["cart"], "actorIdleTimeout": "1h",
                                 "remindersStoragePartitions": 3}).encode())
check(len(reqs) == 1, f"one GET /dapr/config: {len(reqs)}")
h = {k.lower(): v for k, v in (reqs[0] if reqs else {}).items()}
check(h.get("dapr-app-id") == "cfgapp" and h.get("content-type") == "application/json", f"request headers: {h}")
check("Application configuration loaded" in logs, "loaded")
check("remindersStoragePartitions is deprecated" in logs, "daprd's deprecation warning")
check('actor types ["cart"]' in logs and "not hosted" in logs, "actor types reported as not hosted")
check(ok, "serving")

reqs, logs, ok = run(b"", status=404)
check(len(reqs) == 1 and "Application configuration loaded" not in logs and ok, "404: no configuration")

reqs, logs, ok = run(b"not json")
check(len(reqs) == 1 and "GET /dapr/config: the answer is not a JSON object" in logs and ok, "bad JSON: logged")
finish()
