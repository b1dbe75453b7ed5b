"""e2e_state_query_pg.py: the state query API on state.postgresql against a
real PostgreSQL started here: the same contract as e2e_state_query.py (the
docs' employee data set, filters, sorts, pages, errors) with daprd's
PostgreSQL semantics (components-contrib common/component/postgresql/v1/
postgresql_query.go): text comparison of the value at a path with the filter
value printed as Go prints it, GT/GTE/LT/LTE refuse strings; QUERY_API in
/v1.0/metadata.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
if not bins:
    print("PostgreSQL is not installed (scripts/deps.sh installs it)")
    sys.exit(1)
PGBIN = os.path.dirname(bins[-1])
AS_PG = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}

sys.argv = [sys.argv[0], BIN]
import e2e_state_query as sq  # noqa: E402  (its module-level run needs the binary; see the guard there)


class Postgres:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wgg-pg-")
        if AS_PG:
            shutil.chown(self.dir, "postgres")
        self.data = os.path.join(self.dir, "data")
        subprocess.run([f"{PGBIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, timeout=60, cwd=self.dir, **AS_PG)
        self.log = open(os.path.join(self.dir, "pg.log"), "ab")
        self.proc = subprocess.Popen([f"{PGBIN}/postgres", "-D", self.data, "-p", str(self.port), "-k", self.dir,
                                      "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir, **AS_PG)
        deadline = time.time() + 30
        while time.time() < deadline:
            r = subprocess.run([f"{PGBIN}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


pg = Postgres()
try:
    conn = f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres"
    sc = Sidecar(BIN, app_id="qpg")
    sc.write_resource("pg.yaml", sq.comp("pg", "state.postgresql",
                                         f"  - name: connectionString\n    value: \"{conn}\"\n"))
    sc.start()
    sq.contract(sc, "pg", pg=True)
    md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
    caps = {c["name"]: c.get("capabilities", []) for c in md["components"]}
    check(caps.get("pg") == ["ETAG", "TRANSACTIONAL", "TTL", "QUERY_API"], f"QUERY_API for postgresql: {caps}")
    sc.stop()
finally:
    pg.cleanup()
finish()
