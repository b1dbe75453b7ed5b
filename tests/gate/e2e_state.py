"""e2e_state.py: the state API through the real `wasmgate run`, on the
embedded default store (state.sqlite) and on state.in-memory: save, get,
bulk get, delete, transactions, ETags, first-write, TTL, Dapr error bodies,
the <appId>||<key> scheme in the sqlite table, and durability across kill -9.
"""
import json
import os
import sqlite3
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from statesuite import run_suite  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)

MEMORY_YAML = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.in-memory
  version: v1
  metadata: []
"""


# 1. the embedded default: state.sqlite in a local file
sc = Sidecar(BIN, app_id="myapp").start()
run_suite(sc)
sc.request("POST", "/v1.0/state/statestore", [{"key": "durable", "value": {"saved": True}}])
check(sc.kill() == -9, "kill -9")
db = os.path.join(sc.dir, "wasmgate-state.db")
check(os.path.exists(db), "default state file exists in the working directory")
con = sqlite3.connect(db)
rows = dict(con.execute("SELECT key, value FROM state"))
cols = [r[1] for r in con.execute("PRAGMA table_info(state)")]
mode = con.execute("PRAGMA journal_mode").fetchone()[0]
con.close()
check(rows.get("myapp||durable") == '{"saved": true}' or rows.get("myapp||durable") == '{"saved":true}',
      f"keys are stored as <appId>||<key>: {sorted(rows)[:5]}")
check(cols == ["key", "value", "is_binary", "etag", "expiration_time", "update_time"], f"table layout: {cols}")
check(mode == "wal", f"journal mode {mode}")
# restart after kill -9: the acknowledged write is there
sc2 = Sidecar(BIN, app_id="myapp", workdir=sc.dir).start()
st, h, body = sc2.request("GET", "/v1.0/state/statestore/durable")
check(st == 200 and json.loads(body) == {"saved": True}, f"after kill -9 and restart: {st} {body!r}")
# many acknowledged saves from concurrent clients, then kill -9 right after the last 204: none is lost
acked = []


def saver(t):
    for i in range(25):
        k = f"c{t}-{i}"
        if sc2.request("POST", "/v1.0/state/statestore", [{"key": k, "value": {"t": t, "i": i}}])[0] == 204:
            acked.append(k)


threads = [threading.Thread(target=saver, args=(t,)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(sc2.kill() == -9 and len(acked) == 100, f"kill -9 after {len(acked)} acknowledged saves")
sc2 = Sidecar(BIN, app_id="myapp", workdir=sc.dir).start()
lost = [k for k in acked if sc2.request("GET", f"/v1.0/state/statestore/{k}")[0] != 200]
check(not lost, f"acknowledged saves lost after kill -9: {lost[:5]}")
# another app ID does not see myapp's keys
check(sc2.stop() == 0, "clean exit on SIGTERM")
sc3 = Sidecar(BIN, app_id="other", workdir=sc.dir).start()
check(sc3.request("GET", "/v1.0/state/statestore/durable")[0] == 204, "keys are per app ID")
sc3.stop()
sc.cleanup()

# 2. state.in-memory from a resources folder
sc = Sidecar(BIN, app_id="memapp")
sc.write_resource("memory.yaml", MEMORY_YAML)
sc.start()
run_suite(sc)
sc.cleanup()
finish()
