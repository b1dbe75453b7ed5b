"""brokers.py: real message brokers for the pub/sub e2e tests, each on a free
loopback port with a temporary directory, always stopped at exit:
redis-server (Streams) and mosquitto (MQTT 3.1.1, with persistence so that
persistent sessions survive a client crash)."""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

from wgtest import free_port


def _find(name):
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)


class Redis:
    BIN = _find("redis-server")

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="wgg-redis-")
        self.proc = None
        atexit.register(self.cleanup)

    def start(self):
        self.proc = subprocess.Popen([self.BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.cmd("PING") == "PONG":
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def cmd(self, *args):
        """One command; returns the decoded reply (str, int, list, None)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        try:
            s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(str(a).encode()), str(a).encode())
                                                         for a in args))
            f = s.makefile("rb")
            return self._read(f)
        finally:
            s.close()

    def raw(self, *args):
        """One command; returns the reply's raw bytes (the first read of them)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        try:
            s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(str(a).encode()), str(a).encode())
                                                         for a in args))
            time.sleep(0.05)
            return s.recv(65536)
        finally:
            s.close()

    def _read(self, f):
        line = f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(f) for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Mosquitto:
    BIN = _find("mosquitto")

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wgg-mqtt-")
        self.proc = None
        atexit.register(self.cleanup)

    def start(self):
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {self.dir}/\nlog_dest file {self.dir}/mosquitto.log\n"
                    "max_queued_messages 10000\n")
        self.proc = subprocess.Popen([self.BIN, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("mosquitto exited: " + self.logs())
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def logs(self):
        try:
            with open(os.path.join(self.dir, "mosquitto.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
