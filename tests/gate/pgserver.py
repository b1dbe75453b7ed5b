"""pgserver.py: a real PostgreSQL for the tests: initdb in a temporary directory, a loopback port,
trust authentication, run as the postgres user when the tests run as root.

    pg = Postgres().start(); pg.psql("SELECT 1"); pg.stop(); pg.start(); pg.cleanup()
PGBIN is None when PostgreSQL is not installed (scripts/deps.sh installs it).
"""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

from wgtest import free_port

bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
PGBIN = os.path.dirname(bins[-1]) if bins else None
# the server refuses to run as root: when we are root, run it as the postgres user
AS_PG = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}


class Postgres:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wgg-pg-")
        self.data = os.path.join(self.dir, "data")
        self.proc = None
        if AS_PG:
            shutil.chown(self.dir, "postgres")
        subprocess.run([f"{PGBIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, timeout=60, cwd=self.dir, **AS_PG)

    def start(self):
        self.log = open(os.path.join(self.dir, "pg.log"), "ab")
        self.proc = subprocess.Popen([f"{PGBIN}/postgres", "-D", self.data, "-p", str(self.port), "-k", self.dir,
                                      "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir, **AS_PG)
        deadline = time.time() + 30
        while time.time() < deadline:
            r = subprocess.run([f"{PGBIN}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True)
            if r.returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(os.path.join(self.dir, "pg.log"), "rb") as f:
            raise RuntimeError("postgres did not start:\n" + f.read().decode(errors="replace")[-2000:])

    def psql(self, sql):
        r = subprocess.run([f"{PGBIN}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-Atc", sql],
                           capture_output=True, timeout=20)
        return r.stdout.decode()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: disconnects the sidecar's session
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
