"""e2e_shutdown.py: POST /v1.0/shutdown, GET /v1.0/healthz/outbound and the
metadata API's fields, through the real `wasmgate run`, as daprd 1.16 answers
(pkg/api/http/shutdown.go, healthz.go, metadata.go):
- shutdown answers 204 and then stops as on SIGTERM: a call in flight to the
  app finishes, new connections are refused, the process exits 0;
- the route is POST only (405), a body that is not a JSON object is 400
  ERR_MALFORMED_REQUEST, the API token guards it (401);
- healthz/outbound is 204 without waiting for the app, healthz waits for it;
- PUT /v1.0/metadata/{name} shows in `extended`; actorRuntime (DISABLED,
  placement disconnected) and workflows ({}) are always there, scheduler is
  absent without a scheduler.
"""
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)


class SlowApp(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(1.5)
        body = b"done"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


# healthz/outbound is ready before the app is; healthz waits for it
app_port = free_port()
sc = Sidecar(BIN, app_id="shut", args=["--app-port", str(app_port)])
sc.start()
check(sc.request("GET", "/v1.0/healthz/outbound")[0] == 204, "outbound healthz 204 without the app")
check(sc.request("HEAD", "/v1.0/healthz/outbound")[0] == 204, "outbound healthz HEAD")
check_error(sc.request("GET", "/v1.0/healthz"), 500, "ERR_HEALTH_NOT_READY")
check(sc.request("POST", "/v1.0/healthz/outbound")[0] == 405, "POST outbound is 405")
check(sc.request("GET", "/v1.0/healthz/outbound/x")[0] == 404, "outbound/x is 404")

srv = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), SlowApp)
threading.Thread(target=srv.serve_forever, daemon=True).start()
deadline = time.time() + 10
while time.time() < deadline and sc.request("GET", "/v1.0/healthz")[0] != 204:
    time.sleep(0.05)
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "healthz once the app answers")

# metadata: extended attributes and daprd's always-present fields
check(sc.request("PUT", "/v1.0/metadata/owner", "team-a")[0] == 204, "PUT metadata")
check(sc.request("PUT", "/v1.0/metadata/owner", "team-b")[0] == 204, "PUT metadata again")
check(sc.request("GET", "/v1.0/metadata/owner")[0] == 405, "GET metadata/owner is 405")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check(md["extended"].get("owner") == "team-b", f"extended: {md['extended']}")
check("daprRuntimeVersion" in md["extended"], "extended daprRuntimeVersion")
check(md.get("actorRuntime") == {"runtimeStatus": "DISABLED", "hostReady": False,
                                 "placement": "placement: disconnected"}, f"actorRuntime: {md.get('actorRuntime')}")
check(md.get("workflows") == {}, f"workflows: {md.get('workflows')}")
check("scheduler" not in md, "no scheduler without one")
check({"name": "lockstore", "type": "lock.in-memory", "version": "v1", "capabilities": []} in md["components"],
      f"default lock store listed: {md['components']}")

# the route's shape
check(sc.request("GET", "/v1.0/shutdown")[0] == 405, "GET shutdown is 405")
check(sc.request("PUT", "/v1.0/shutdown")[0] == 405, "PUT shutdown is 405")
check(sc.request("POST", "/v1.0/shutdown/now")[0] == 404, "shutdown/now is 404")
check_error(sc.request("POST", "/v1.0/shutdown", "not json"), 400, "ERR_MALFORMED_REQUEST",
            "failed deserializing HTTP body")
check(sc.proc.poll() is None, "still running after refused shutdown calls")

# a call in flight finishes; then the process exits 0 and stops listening
result = {}


def slow_call():
    result["r"] = sc.request("GET", "/v1.0/invoke/shut/method/slow", timeout=10)


t = threading.Thread(target=slow_call)
t.start()
time.sleep(0.4)
t0 = time.time()
st, _, body = sc.request("POST", "/v1.0/shutdown", "{}")
check(st == 204 and body == b"", f"shutdown answers 204 with no body: {st} {body!r}")
rc = sc.wait_exit(10)
t.join(10)
check(rc == 0, f"exit status after shutdown: {rc}\n{sc.logs()[-2000:]}")
check(result.get("r", (0,))[0] == 200 and result["r"][2] == b"done", f"in-flight call finished: {result.get('r')}")
check(time.time() - t0 < 8, "stopped within the grace period")
check("shutdown requested through the API" in sc.logs(), "log names the cause")
try:
    sc.request("GET", "/v1.0/healthz/outbound", timeout=2)
    check(False, "still listening after shutdown")
except OSError:
    pass
sc.finish_proc()
srv.shutdown()

# the API token guards the route (healthz stays open)
sc2 = Sidecar(BIN, app_id="tok", env={"DAPR_API_TOKEN": "s3cret"})
sc2.start()
st, _, _ = sc2.request("POST", "/v1.0/shutdown")
check(st == 401, f"shutdown without the token: {st}")
check(sc2.proc.poll() is None, "running after an unauthorised shutdown")
check(sc2.request("POST", "/v1.0/shutdown", headers={"dapr-api-token": "s3cret"})[0] == 204, "with the token")
check(sc2.wait_exit(10) == 0, "exits 0")
sc2.finish_proc()
finish()
