"""Peak RSS of the sidecar for large invocation bodies (issue 18.3).

    python3 bench/invoke_rss.py WASMGATE [MB [GUEST_DIR]]   (default 200 MB)

Scenarios, each with fresh sidecars so every VmHWM is that scenario's own:
  upload-local   caller -> sidecar b -> app: a MB-byte request body (Content-Length)
  upload-hop     caller -> sidecar a -> sidecar b -> app: the same body
  answer-hop     caller -> sidecar a -> sidecar b -> app answering MB bytes (chunked)
  answer-pipe    caller -> sidecar b (appHttpPipeline: GUEST_DIR/hw_noop.wasm) -> app answering
                 MB bytes (only with GUEST_DIR, e.g. build/tests/gate/guests)
Prints the peak RSS (VmHWM) of each sidecar at start and after the call, in MB,
and checks the bytes arrived intact. Loopback only; the app is a Python socket
server that hashes what it reads.
"""
import hashlib
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gate"))
from wgtest import Sidecar  # noqa: E402

BIN = sys.argv[1]
N = int(sys.argv[2]) << 20 if len(sys.argv) > 2 else 200 << 20
GUESTS = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
BLOCK = hashlib.sha256(b"bench").digest() * 2048  # 64 KiB


def read_head(f):
    line = f.readline()
    hdrs = {}
    while True:
        hl = f.readline()
        if hl in (b"\r\n", b"\n", b""):
            break
        k, v = hl.decode().split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return line, hdrs


def body(f, hdrs):
    if "content-length" in hdrs:
        left = int(hdrs["content-length"])
        while left:
            b = f.read1(min(left, 1 << 20))
            if not b:
                raise EOFError
            left -= len(b)
            yield b
        return
    while True:
        size = int(f.readline().split(b";")[0], 16)
        if size == 0:
            f.readline()
            return
        left = size
        while left:
            b = f.read1(min(left, 1 << 20))
            left -= len(b)
            yield b
        f.read(2)


def app_conn(conn):
    f = conn.makefile("rb")
    try:
        while True:
            line, hdrs = read_head(f)
            if not line:
                return
            path = line.split()[1].decode()
            if path.startswith("/dapr/"):
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            h, n = hashlib.sha256(), 0
            for b in body(f, hdrs):
                h.update(b)
                n += len(b)
            if path.startswith("/answer/"):
                size = int(path.split("/")[2])
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                left = size
                while left:
                    b = BLOCK[:min(left, len(BLOCK))]
                    conn.sendall(b"%x\r\n%s\r\n" % (len(b), b))
                    left -= len(b)
                conn.sendall(b"0\r\n\r\n")
                continue
            out = json.dumps({"n": n, "sha": h.hexdigest()}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(out), out))
    except (OSError, EOFError, ValueError):
        pass
    finally:
        conn.close()


lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
threading.Thread(target=lambda: [threading.Thread(target=app_conn, args=(lsock.accept()[0],), daemon=True).start()
                                 for _ in iter(int, 1)], daemon=True).start()


def expected(n):
    h = hashlib.sha256()
    left = n
    while left:
        h.update(BLOCK[:min(left, len(BLOCK))])
        left -= min(left, len(BLOCK))
    return h.hexdigest()


def call(port, path, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=300)
    s.sendall(f"POST /v1.0/invoke/b/method/{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n".encode())

    def send():
        left = n
        while left:
            b = BLOCK[:min(left, len(BLOCK))]
            s.sendall(b)
            left -= len(b)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    f = s.makefile("rb")
    line, hdrs = read_head(f)
    h, got, small = hashlib.sha256(), 0, b""
    for b in body(f, hdrs):
        h.update(b)
        got += len(b)
        if len(small) < 4096:
            small += b[:4096]
    t.join()
    s.close()
    return int(line.split()[1]), h.hexdigest(), got, small


def hwm(sc):
    with open(f"/proc/{sc.proc.pid}/status") as st:
        for line in st:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return -1


def with_pipeline(sc, guest):
    """Puts guest (a file in GUESTS) in sc's appHttpPipeline (before start)."""
    sc.write_resource("mw.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: g\nspec:\n"
                      "  type: middleware.http.wasm\n  version: v1\n  metadata:\n"
                      f"  - name: url\n    value: \"file://{os.path.join(GUESTS, guest)}\"\n")
    path = os.path.join(sc.dir, "config.yaml")
    with open(path, "w") as f:
        f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
                "  appHttpPipeline:\n    handlers:\n    - name: g\n      type: middleware.http.wasm\n")
    sc.args += ["--config", path]
    return sc


def scenario(name, hop, path, n_up, check, guest=None):
    home = tempfile.mkdtemp(prefix="wgg-rss-")
    args = ["--threads", "1", "--max-body-size", "1Gi"]
    sb = Sidecar(BIN, app_id="b", env={"HOME": home}, args=args + ["--app-port", str(lsock.getsockname()[1])])
    sb = (with_pipeline(sb, guest) if guest else sb).start()
    sa = Sidecar(BIN, app_id="a", env={"HOME": home}, args=args).start() if hop else None
    start = {"b": hwm(sb), **({"a": hwm(sa)} if sa else {})}
    t0 = time.time()
    st, sha, got, small = call((sa or sb).port, path, n_up)
    dt = time.time() - t0
    peak = {"b": hwm(sb), **({"a": hwm(sa)} if sa else {})}
    ok = st == 200 and check(sha, got, small)
    parts = ", ".join(f"sidecar {k}: {start[k]} -> {peak[k]} MB" for k in sorted(peak))
    print(f"{name:14s} {N >> 20} MB  {'ok ' if ok else 'BAD'} {dt:5.1f} s  peak RSS {parts}")
    for sc in (sa, sb):
        if sc:
            sc.cleanup()


want = expected(N)


def upload_ok(sha, got, small):
    r = json.loads(small)
    return r.get("n") == N and r.get("sha") == want


scenario("upload-local", False, "sink", N, upload_ok)
scenario("upload-hop", True, "sink", N, upload_ok)
scenario("answer-hop", True, f"answer/{N}", 1000, lambda sha, got, small: sha == want and got == N)
if GUESTS:
    scenario("answer-pipe", False, f"answer/{N}", 1000, lambda sha, got, small: sha == want and got == N,
             guest="hw_noop.wasm")
