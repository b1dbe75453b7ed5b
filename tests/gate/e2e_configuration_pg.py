"""e2e_configuration_pg.py: configuration.postgresql (components-contrib configuration/postgres)
through the real `wasmgate run` against a real PostgreSQL started here:
- GET /v1.0/configuration/{store}?key=..: rows of the table, the highest numeric version of a key
  wins, missing keys left out, all keys without ?key=, "invalid key" for keys with other characters;
- subscribe: a trigger of ours (row_to_json under "data", as contrib's docs describe) sends
  pg_notify on the component's notifyChannel; the change is posted to the app at
  /configuration/{store}/{key} with {"id","items"}; keys not subscribed are not; after unsubscribe
  nothing more arrives;
- the LISTEN connection is re-established when the server restarts;
- start refused for a table that does not exist (contrib's message).
"""
import http.server
import json
import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgserver import PGBIN, Postgres  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
if not PGBIN:
    print("PostgreSQL is not installed (scripts/deps.sh installs it)")
    sys.exit(1)

got = queue.Queue()


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        got.put((self.path, json.loads(self.rfile.read(n))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def next_note(timeout=10):
    try:
        return got.get(timeout=timeout)
    except queue.Empty:
        return None


def get(sc, path):
    st, _, body = sc.request("GET", path, timeout=20)
    return st, (json.loads(body) if body else None)


def cfg_yaml(conn, table="cfg", channel="cfgchan"):
    return ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pgcfg\nspec:\n"
            "  type: configuration.postgresql\n  version: v1\n  metadata:\n"
            f"  - name: connectionString\n    value: \"{conn}\"\n  - name: table\n    value: {table}\n"
            f"  - name: notifyChannel\n    value: {channel}\n")


pg = Postgres().start()
sc = None
try:
    pg.psql("CREATE TABLE cfg (key text NOT NULL, value text NOT NULL, version text NOT NULL, metadata json);"
            "CREATE FUNCTION cfg_notify() RETURNS trigger AS $$ BEGIN "
            "PERFORM pg_notify('cfgchan', json_build_object('action', TG_OP, 'data', "
            "row_to_json(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END))::text); RETURN NULL; END; "
            "$$ LANGUAGE plpgsql;"
            "CREATE TRIGGER cfg_changed AFTER INSERT OR UPDATE OR DELETE ON cfg FOR EACH ROW EXECUTE FUNCTION cfg_notify();"
            "INSERT INTO cfg VALUES ('a', '1', '1'), ('a', '3', '3'), ('a', '2', '2'), ('b', 'two', 'v1');")
    conn = f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres connect_timeout=5"

    # a table that does not exist: the start is refused with contrib's message
    bad = Sidecar(BIN, app_id="badcfg")
    bad.write_resource("cfg.yaml", cfg_yaml(conn, table="nope"))
    bad.spawn()
    bad.wait_exit(30)
    check(bad.proc.returncode not in (0, None) and "postgreSQL configuration table 'nope' does not exist" in bad.logs(),
          f"missing table refused: {bad.proc.returncode} {bad.logs()[-300:]}")
    bad.cleanup()

    app_port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), App)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sc = Sidecar(BIN, app_id="cfgapp", args=["--app-port", str(app_port)])
    sc.write_resource("cfg.yaml", cfg_yaml(conn))
    sc.start(timeout=30)

    st, j = get(sc, "/v1.0/configuration/pgcfg?key=a&key=b&key=nope")
    check(st == 200 and j == {"a": {"value": "3", "version": "3"}, "b": {"value": "two", "version": "v1"}},
          f"get (highest numeric version wins): {st} {j}")
    st, j = get(sc, "/v1.0/configuration/pgcfg")
    check(st == 200 and set(j) == {"a", "b"}, f"all keys: {st} {j}")
    st, j = get(sc, "/v1.0/configuration/pgcfg?key=nope")
    check(st == 204, f"nothing found: 204 ({st} {j})")
    check_error(sc.request("GET", "/v1.0/configuration/pgcfg?key=a%27b"), 500, "ERR_CONFIGURATION_GET", "invalid key")
    md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
    check(any(c["name"] == "pgcfg" and c["type"] == "configuration.postgresql" for c in md["components"]),
          f"metadata lists the store: {md['components']}")

    st, j = get(sc, "/v1.0/configuration/pgcfg/subscribe?key=a")
    check(st == 200 and len((j or {}).get("id", "")) == 36, f"subscribe: {st} {j}")
    sub = j["id"]
    pg.psql("UPDATE cfg SET value = '4', version = '4' WHERE key = 'a' AND version = '3'")
    n = next_note()
    check(n == ("/configuration/pgcfg/a", {"id": sub, "items": {"a": {"value": "4", "version": "4"}}}),
          f"notification of a: {n}")
    pg.psql("UPDATE cfg SET value = 'other' WHERE key = 'b'")
    check(next_note(1.5) is None, "b is not subscribed")

    # the server restarts: the LISTEN connection comes back by itself
    pg.stop()
    pg.start()
    deadline = time.time() + 20
    n = None
    while time.time() < deadline and n is None:
        pg.psql("UPDATE cfg SET value = '5' WHERE key = 'a' AND version = '4'")
        n = next_note(1.5)
    check(n is not None and n[1]["items"]["a"]["value"] == "5", f"notified after a restart: {n}")
    while next_note(0.5):
        pass

    st, j = get(sc, f"/v1.0/configuration/pgcfg/{sub}/unsubscribe")
    check(st == 200 and j == {"ok": True}, f"unsubscribe: {st} {j}")
    pg.psql("UPDATE cfg SET value = '6' WHERE key = 'a' AND version = '4'")
    check(next_note(1.5) is None, "nothing after unsubscribe")
finally:
    if sc:
        sc.cleanup()
    pg.cleanup()
finish()
