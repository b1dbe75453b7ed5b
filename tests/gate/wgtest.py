"""wgtest.py: a small harness for end-to-end tests of `wasmgate run`.

Starts the real binary on a free loopback port in a temporary directory,
waits until /v1.0/healthz answers, talks HTTP to it and always stops it
(SIGTERM, then SIGKILL after a bound). Every test script sets an overall
alarm so that nothing can hang CTest.
"""
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

FAILURES = []


def check(cond, msg):
    """Records a failure (with the caller's line) instead of stopping."""
    if not cond:
        frames = [f for f in traceback.extract_stack()[:-1] if os.path.basename(f.filename) != "wgtest.py"]
        frame = frames[-1] if frames else traceback.extract_stack()[-2]
        FAILURES.append(f"{os.path.basename(frame.filename)}:{frame.lineno}: {msg}")
        print(f"FAIL {os.path.basename(frame.filename)}:{frame.lineno}: {msg}", flush=True)


def check_error(resp, status, code, msg_part=None):
    """Asserts a Dapr error response: status and {"errorCode","message"}."""
    st, hdrs, body = resp
    check(st == status, f"status {st}, expected {status}; body {body[:300]!r}")
    try:
        j = json.loads(body)
    except ValueError:
        check(False, f"error body is not JSON: {body[:200]!r}")
        return
    check(j.get("errorCode") == code, f"errorCode {j.get('errorCode')!r}, expected {code!r}")
    check(isinstance(j.get("message"), str) and j["message"], f"missing message in {j}")
    if msg_part:
        check(msg_part in j.get("message", ""), f"message {j.get('message')!r} lacks {msg_part!r}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def require_npm(package):
    """The path of scripts/npm/node_modules when `package` (e.g. "@dapr/dapr") and node are installed
    there. When they are not: exit 77 (CTest's skip) on a developer's machine, but fail under CI
    (the CI variable is set), where scripts/deps.sh must have installed them: a skip there would
    hide a missing install step."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    modules = os.path.join(root, "scripts", "npm", "node_modules")
    if shutil.which("node") and os.path.isdir(os.path.join(modules, package)):
        return modules
    why = f"node or {package} not installed in scripts/npm (scripts/deps.sh runs npm ci there)"
    if os.environ.get("CI"):
        print(f"FAIL: {why}", flush=True)
        sys.exit(1)
    print(f"SKIP: {why}", flush=True)
    sys.exit(77)
def wait_for(cond, secs, step=0.05):
    """Polls cond() until it is true or secs have passed; returns its last value."""
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def peak_rss_mb(pid):
    """The peak resident set size (VmHWM) of process pid, in MB (-1 when unknown)."""
    with open(f"/proc/{pid}/status") as st:
        for line in st:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return -1


def asan_small_quarantine(mb=8):
    """ASAN_OPTIONS for a sidecar whose memory a test measures: under SANITIZE=1, ASan's quarantine keeps
    up to 256 MB of freed blocks, which would count as resident; a small one lets RSS measure live memory."""
    return ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), f"quarantine_size_mb={mb}"]))


def recv_until_close(s, until=None):
    """Reads from socket s until the peer closes it, or its timeout or an error ends reading (a reset
    after the answer is how a lingering close may end): what came until then. until: bytes whose
    arrival ends reading early."""
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if until is not None and until in out:
                break
    except OSError:
        pass
    return out


def start_alarm(seconds=100):
    def on_alarm(signum, frame):
        print("test timed out", flush=True)
        for sc in list(Sidecar.running):
            sc.kill()
        os._exit(3)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)


def _kill_leftovers():
    """Never leave a sidecar behind, even when a test dies on an exception."""
    for sc in list(Sidecar.running):
        sc.kill()


atexit.register(_kill_leftovers)


def finish():
    for sc in list(Sidecar.running):
        sc.stop()
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        sys.exit(1)
    print("all checks passed")


class Sidecar:
    running = []

    def __init__(self, binary, app_id="myapp", args=(), env=None, workdir=None, resources=None):
        self.binary = binary
        self.app_id = app_id
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.pop("DAPR_API_TOKEN", None)
        self.env.update(env or {})
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="wgg-e2e-")
        if "HOME" not in (env or {}):  # the default name-resolution registry ($HOME/.wasmgate) stays per test
            self.env["HOME"] = self.dir
        self.resources = resources
        self.proc = None
        self.port = None
        self.metrics_port = None
        self.grpc_port = None

    def write_resource(self, name, text):
        d = os.path.join(self.dir, "resources")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        self.resources = d
        return d

    def command(self):
        self.metrics_port = self.metrics_port or free_port()
        self.grpc_port = self.grpc_port or free_port()  # never the shared default 50001
        cmd = [self.binary, "run", "--app-id", self.app_id, "--dapr-http-port", str(self.port),
               "--dapr-grpc-port", str(self.grpc_port),
               "--dapr-listen-addresses", "127.0.0.1", "--log-level", "debug", "--metrics-port", str(self.metrics_port)]
        if self.resources:
            cmd += ["--resources-path", self.resources]
        return cmd + self.args

    def spawn(self):
        """Starts the process without waiting for readiness."""
        self.port = self.port or free_port()
        self.log_path = os.path.join(self.dir, "sidecar.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=self.dir, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        Sidecar.running.append(self)
        return self

    def start(self, timeout=10, wait_path="/v1.0/healthz/outbound"):
        """Spawns and waits until wait_path answers 204 (outbound: ready without the app, as SDKs wait).

        free_port() cannot reserve a port: another test running in parallel may take it before
        wasmgate binds, and wasmgate then refuses to start ("Address already in use"). Ports this
        harness chose are then chosen again, up to three times."""
        auto = (self.port is None, self.grpc_port is None, self.metrics_port is None)
        for attempt in range(4):
            self.spawn()
            deadline = time.time() + timeout
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    if self.request("GET", wait_path, timeout=1)[0] == 204:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None or "Address already in use" not in self.logs() or attempt == 3:
                break
            self.log.close()
            Sidecar.running.remove(self)
            if auto[0]:
                self.port = None
            if auto[1]:
                self.grpc_port = None
            if auto[2]:
                self.metrics_port = None
        deadline = time.time() + 1
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wasmgate exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if self.request("GET", wait_path, timeout=1)[0] == 204:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("wasmgate did not become healthy:\n" + self.logs())

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=10, port=None):
        """One request on a fresh connection: (status, {lower-case header: value}, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        try:
            if isinstance(body, (list, dict)):
                body = json.dumps(body)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def subscriptions(self):
        """The subscriptions /v1.0/metadata lists."""
        return json.loads(self.request("GET", "/v1.0/metadata")[2])["subscriptions"]

    def wait_subscribed(self, n=1, timeout=10):
        """Polls /v1.0/metadata until it lists at least n subscriptions; returns whether it did."""
        return wait_for(lambda: len(self.subscriptions()) >= n, timeout)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10):
        """SIGTERM, wait (bounded), SIGKILL. Returns the exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.kill()
                check(False, f"wasmgate did not stop within {timeout}s of SIGTERM")
            elif self.proc.returncode != 0:
                # a sanitizer report (leak, overflow) or a crash during shutdown
                check(False, f"wasmgate exited with {self.proc.returncode} on SIGTERM:\n{self.logs()[-3000:]}")
        return self.finish_proc()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return self.finish_proc()

    def finish_proc(self):
        rc = self.proc.returncode if self.proc else None
        if self in Sidecar.running:
            Sidecar.running.remove(self)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        return rc

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def grpc_stubs(protos, prefix="wgg-grpc-stubs-", parent=None):
    """Compiles protos (paths under the tree's proto/, with Debian's well-known types from
    /usr/include when there) into Python gRPC stubs in a new temporary directory (in parent when
    given, so that the caller's clean-up of parent removes it), which is put first on sys.path;
    returns it. Needs Debian's python3 (python3-grpc-tools)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gen = tempfile.mkdtemp(prefix=prefix, dir=parent)
    cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I" + os.path.join(root, "proto")]
    if os.path.exists("/usr/include/google/protobuf/any.proto"):
        cmd.append("-I/usr/include")
    subprocess.run(cmd + ["--python_out=" + gen, "--grpc_python_out=" + gen] + list(protos), check=True)
    sys.path.insert(0, gen)
    return gen
