"""nameres_startup_e2e.py: a sidecar registers its app IDs in name resolution only once its HTTP,
gRPC and metrics listeners accept connections (docs/mesh.md), so no caller ever finds an address
that refuses them.

The sidecar's start is made slow on purpose between the Configuration (where name resolution is
opened) and its listeners: it hosts a second wasm app (`--app-wasm late=http://...`) whose module
is served by this test after a delay. Meanwhile the test polls the shared SQLite registry as a
caller would; the moment a row for either app ID appears it connects to the row's HTTP and gRPC
addresses and to the metrics port: every connection must be accepted. (Before the fix the sidecar
registered while reading its Configuration: the rows appeared for the whole delay while nothing
listened.) Then the hosted app is invoked through its registered address. Stopping the sidecar
removes both rows.
"""
import http.server
import os
import socket
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm, wait_for  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
start_alarm(100)
TMP = tempfile.mkdtemp(prefix="wgg-nrstart-")
NR_DB = os.path.join(TMP, "nr.db")
CFG = os.path.join(TMP, "config.yaml")
with open(CFG, "w") as f:
    f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {{name: nrconfig}}
spec:
  nameResolution:
    component: sqlite
    configuration: {{connectionString: "{NR_DB}", updateInterval: 5s}}
""")
with open(os.path.join(APPS, "hw_app.wasm"), "rb") as f:
    MODULE = f.read()
DELAY = 2.0
served = threading.Event()


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(DELAY)  # the sidecar waits for its hosted app's module meanwhile
        self.send_response(200)
        self.send_header("Content-Length", str(len(MODULE)))
        self.end_headers()
        self.wfile.write(MODULE)
        served.set()

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
threading.Thread(target=srv.serve_forever, daemon=True).start()


def rows():
    try:
        db = sqlite3.connect(NR_DB, timeout=1)
        try:
            return db.execute("SELECT app_id, address, grpc_address FROM hosts").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []  # not created yet, or locked for a moment


def accepts(addr):
    host, port = addr.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
        return True
    except OSError:
        return False


sc = Sidecar(BIN, app_id="front", args=["--config", CFG, "--app-wasm", os.path.join(APPS, "wagi_app.wasm"),
                                        "--app-wasm", f"late=http://127.0.0.1:{srv.server_port}/hw_app.wasm"],
             env={"HOME": TMP})
sc.spawn()
try:
    seen, refused, polls = {}, [], 0
    deadline = time.time() + 60
    while time.time() < deadline and len(seen) < 2 and sc.proc.poll() is None:
        polls += 1
        for app_id, addr, grpc in rows():
            if app_id in seen:
                continue
            seen[app_id] = addr
            for what, a in (("HTTP", addr), ("gRPC", grpc), ("metrics", f"127.0.0.1:{sc.metrics_port}")):
                if not a or not accepts(a):
                    refused.append(f"{app_id} {what} {a}")
        time.sleep(0.01)
    check(served.is_set(), "the hosted app's module was fetched (the slow start happened)")
    check(sorted(seen) == ["front", "late"], f"both app IDs registered: {seen} after {polls} polls")
    check(not refused, f"a registered address refused connections: {refused}")
    # the registered address serves the hosted app
    sc.port = int(seen.get("late", "0:0").rsplit(":", 1)[1])
    check(wait_for(lambda: sc.request("GET", "/v1.0/healthz")[0] == 204, 20), "healthz")
    st, _, b = sc.request("GET", "/v1.0/invoke/late/method/hello", timeout=30)
    check(st == 200 and b"hello" in b, f"invoke late: {st} {b!r}")
    sc.stop()
    check(rows() == [], f"deregistered at shutdown: {rows()}")
finally:
    sc.cleanup()
    srv.shutdown()
finish()
