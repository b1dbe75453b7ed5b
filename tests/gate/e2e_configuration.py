"""e2e_configuration.py: the configuration API through the real `wasmgate
run` with configuration.redis against a real redis-server started here, as
daprd 1.16 answers (pkg/api/http/http.go; components-contrib
configuration/redis):
- GET /v1.0/configuration/{store}?key=..&key=.. (and /v1.0-alpha1): items
  from "value||version" strings, missing/empty/non-string keys left out, all
  keys without ?key=, 204 when nothing is found, daprd's error codes;
- subscribe / unsubscribe: {"id"}, {"ok":true}, the 500 {"ok":false,...} of
  an unknown id, ERR_APP_CHANNEL_NIL without an app;
- change notifications (Redis keyspace notifications) posted to the app at
  /configuration/{store}/{key} with {"id","items"}; a deleted key comes as
  an empty item; after unsubscribe nothing more arrives;
- Redis down: 500 ERR_CONFIGURATION_GET; a start without Redis is refused;
- the embedded default configuration.sqlite ("configstore", ours): rows
  written by another SQLite connection are served and their changes notified.
"""
import http.server
import json
import os
import queue
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(115)
if not shutil.which("redis-server"):
    print("redis-server is not installed (scripts/deps.sh installs it)")
    sys.exit(1)

got = queue.Queue()


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        got.put((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def cfg_yaml(port, name="cfg"):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: configuration.redis\n  version: v1\n  metadata:\n  - name: redisHost\n"
            f"    value: 127.0.0.1:{port}\n  - name: redisPassword\n    value: \"\"\n")


def get(sc, path):
    st, h, body = sc.request("GET", path)
    return st, h, (json.loads(body) if body else None)


def next_note(timeout=5):
    try:
        return got.get(timeout=timeout)
    except queue.Empty:
        return None


# no configuration store: daprd's ERR_CONFIGURATION_STORE_NOT_CONFIGURED
sc = Sidecar(BIN, app_id="nocfg")
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: s\nspec:\n"
                  "  type: state.in-memory\n  version: v1\n")
sc.start()
check_error(sc.request("GET", "/v1.0/configuration/cfg?key=a"), 500, "ERR_CONFIGURATION_STORE_NOT_CONFIGURED",
            "configuration stores not configured")
sc.stop()

rd = Redis().start()
rd.cmd("CONFIG", "SET", "notify-keyspace-events", "KA")
rd.cmd("SET", "a", "1||v1")
rd.cmd("SET", "b", "two")
rd.cmd("SET", "c", "")
rd.cmd("SET", "d", "x||y||z")
rd.cmd("RPUSH", "l", "1")

app_port = free_port()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), App)
threading.Thread(target=srv.serve_forever, daemon=True).start()
sc = Sidecar(BIN, app_id="cfgapp", args=["--app-port", str(app_port)])
sc.write_resource("cfg.yaml", cfg_yaml(rd.port))
sc.start()

for ver in ("v1.0", "v1.0-alpha1"):
    st, h, j = get(sc, f"/{ver}/configuration/cfg?key=a&key=b")
    check(st == 200 and j == {"a": {"value": "1", "version": "v1"}, "b": {"value": "two"}}, f"{ver} get: {st} {j}")
    check(h.get("content-type", "").startswith("application/json"), f"content type {h.get('content-type')}")
st, _, j = get(sc, "/v1.0/configuration/cfg?key=nope&key=c&key=l")
check(st == 204 and j is None, f"missing, empty and non-string keys: 204 ({st} {j})")
st, _, j = get(sc, "/v1.0/configuration/cfg")
check(st == 200 and j == {"a": {"value": "1", "version": "v1"}, "b": {"value": "two"},
                          "d": {"value": "x", "version": "y"}}, f"all keys: {j}")
st, _, j = get(sc, "/v1.0/configuration/cfg?key=a%20b&key=d")
check(j == {"d": {"value": "x", "version": "y"}}, f"decoded keys: {j}")
check_error(sc.request("GET", "/v1.0/configuration/nostore?key=a"), 400, "ERR_CONFIGURATION_STORE_NOT_FOUND",
            "configuration store nostore not found")
check(sc.request("POST", "/v1.0/configuration/cfg")[0] == 405, "POST is 405")
check(sc.request("GET", "/v1.0/configuration/cfg/x/y/z")[0] == 404, "unknown shape is 404")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check({"name": "cfg", "type": "configuration.redis", "version": "v1", "capabilities": []} in md["components"],
      f"metadata lists the store: {md['components']}")

# subscriptions and notifications
st, _, j = get(sc, "/v1.0/configuration/cfg/subscribe?key=a")
check(st == 200 and isinstance(j, dict) and len(j.get("id", "")) == 36, f"subscribe: {st} {j}")
sub1 = j["id"]
time.sleep(0.5)  # the watcher's PSUBSCRIBE is in place
rd.cmd("SET", "a", "2||v2")
n = next_note()
check(n == ("/configuration/cfg/a", "application/json", {"id": sub1, "items": {"a": {"value": "2", "version": "v2"}}}),
      f"notification of a: {n}")
rd.cmd("SET", "b", "other")
check(next_note(1.0) is None, "b is not subscribed")
st, _, j = get(sc, "/v1.0-alpha1/configuration/cfg/subscribe")
sub2 = j["id"]
check(st == 200 and sub2 != sub1, "subscribe to every key (alpha1 route)")
time.sleep(0.3)
rd.cmd("SET", "b", "three||7")
n = next_note()
check(n and n[0] == "/configuration/cfg/b" and n[2] == {"id": sub2, "items": {"b": {"value": "three", "version": "7"}}},
      f"notification of b to the all-keys subscription: {n}")
rd.cmd("DEL", "a")
notes = [next_note(), next_note()]
check(sorted(x[2]["id"] for x in notes if x) == sorted([sub1, sub2]) and
      all(x and x[0] == "/configuration/cfg/a" and x[2]["items"] == {"a": {}} for x in notes),
      f"a deleted: an empty item to both subscriptions: {notes}")
st, _, j = get(sc, f"/v1.0/configuration/cfg/{sub1}/unsubscribe")
check(st == 200 and j == {"ok": True}, f"unsubscribe: {st} {j}")
st, _, j = get(sc, f"/v1.0/configuration/cfg/{sub2}/unsubscribe")
check(st == 200 and j == {"ok": True}, f"unsubscribe 2: {st} {j}")
rd.cmd("SET", "a", "back")
check(next_note(1.0) is None, "nothing after unsubscribe")
st, _, j = get(sc, f"/v1.0/configuration/cfg/{sub1}/unsubscribe")
check(st == 500 and j == {"ok": False, "message": f"failed to unsubscribe to configuration request {sub1}: "
                                                  f"subscription with id {sub1} does not exist"},
      f"unsubscribe of an unknown id: {st} {j}")

# Redis down: ERR_CONFIGURATION_GET, the sidecar stays up; back: it recovers
rd.stop()
check_error(sc.request("GET", "/v1.0/configuration/cfg?key=a&key=b"), 500, "ERR_CONFIGURATION_GET",
            "failed to get [a b] from Configuration store cfg: ")
rd2 = Redis(port=rd.port).start()
rd2.cmd("CONFIG", "SET", "notify-keyspace-events", "KA")
rd2.cmd("SET", "a", "again||1")
st, _, j = get(sc, "/v1.0/configuration/cfg?key=a")
check(st == 200 and j == {"a": {"value": "again", "version": "1"}}, f"recovers: {st} {j}")
sc.stop()

# no app port: subscribe is ERR_APP_CHANNEL_NIL
sc = Sidecar(BIN, app_id="noapp")
sc.write_resource("cfg.yaml", cfg_yaml(rd.port))
sc.start()
check_error(sc.request("GET", "/v1.0/configuration/cfg/subscribe?key=a"), 500, "ERR_APP_CHANNEL_NIL",
            "app channel is not initialized. cannot subscribe to configuration updates")
sc.stop()

# a start with Redis unreachable is refused
rd2.stop()
sc = Sidecar(BIN, app_id="down")
sc.write_resource("cfg.yaml", cfg_yaml(rd.port))
sc.spawn()
rc = sc.wait_exit(15)
check(rc not in (None, 0), f"start refused without Redis: {rc}")
check("error connecting to redis" in sc.logs(), f"log says why: {sc.logs()[-400:]}")
sc.finish_proc()

# ---- the embedded default: configuration.sqlite named configstore (ours), in the state file ----
import sqlite3  # noqa: E402

sc = Sidecar(BIN, app_id="sq", args=["--app-port", str(app_port)])
sc.start()
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check({"name": "configstore", "type": "configuration.sqlite", "version": "v1", "capabilities": []} in md["components"],
      f"default configuration store listed: {md['components']}")
db = sqlite3.connect(os.path.join(sc.dir, "wasmgate-state.db"), timeout=10, isolation_level=None)
db.execute("INSERT INTO configuration (key, value, version) VALUES ('a', '1', 'v1'), ('b', 'two', ''), ('e', '', '')")
st, _, j = get(sc, "/v1.0/configuration/configstore?key=a&key=b&key=e&key=nope")
check(st == 200 and j == {"a": {"value": "1", "version": "v1"}, "b": {"value": "two"}}, f"sqlite get: {st} {j}")
st, _, j = get(sc, "/v1.0/configuration/configstore")
check(st == 200 and j == {"a": {"value": "1", "version": "v1"}, "b": {"value": "two"}}, f"sqlite get all: {j}")
check(get(sc, "/v1.0/configuration/configstore?key=zzz")[0] == 204, "sqlite: nothing found is 204")
while not got.empty():
    got.get()
st, _, j = get(sc, "/v1.0/configuration/configstore/subscribe?key=a")
sid = j["id"]
check(st == 200 and len(sid) == 36, f"sqlite subscribe: {st} {j}")
db.execute("UPDATE configuration SET value = '2', version = 'v2' WHERE key = 'a'")
n = next_note()
check(n == ("/configuration/configstore/a", "application/json", {"id": sid, "items": {"a": {"value": "2", "version": "v2"}}}),
      f"sqlite notification of a: {n}")
db.execute("UPDATE configuration SET value = 'x' WHERE key = 'b'")
check(next_note(1.5) is None, "sqlite: b is not subscribed")
db.execute("DELETE FROM configuration WHERE key = 'a'")
n = next_note()
check(n and n[0] == "/configuration/configstore/a" and n[2] == {"id": sid, "items": {"a": {}}},
      f"sqlite: deleted a is an empty item: {n}")
check(get(sc, f"/v1.0/configuration/configstore/{sid}/unsubscribe")[2] == {"ok": True}, "sqlite unsubscribe")
db.execute("INSERT INTO configuration (key, value) VALUES ('a', 'again')")
check(next_note(1.5) is None, "sqlite: nothing after unsubscribe")
db.close()
sc.stop()
srv.shutdown()
finish()
