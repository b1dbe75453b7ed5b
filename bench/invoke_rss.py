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
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gate"))
from wgbody import Call, Payload, body_pieces, chunk, read_head, serve  # noqa: E402
from wgtest import Sidecar, peak_rss_mb  # noqa: E402

BIN = sys.argv[1]
N = int(sys.argv[2]) << 20 if len(sys.argv) > 2 else 200 << 20
GUESTS = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
PAY = Payload(b"bench")


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
            for b in body_pieces(f, hdrs):
                h.update(b)
                n += len(b)
            if path.startswith("/answer/"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for b in PAY.pieces(int(path.split("/")[2])):
                    conn.sendall(chunk(b))
                conn.sendall(b"0\r\n\r\n")
                continue
            out = json.dumps({"n": n, "sha": h.hexdigest()}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(out), out))
    except (OSError, EOFError, ValueError):
        pass
    finally:
        conn.close()


lsock = serve(app_conn, backlog=16)


def call(port, path, n):
    """POSTs n bytes of PAY to app b's method path through the sidecar on port: (status, sha256 of the
    answer, its length, its first 4 KiB)."""
    c = Call(port, path, n, PAY, app_id="b", timeout=300)
    st, hdrs = c.head()
    h, got, small = hashlib.sha256(), 0, b""
    for b in body_pieces(c.f, hdrs):
        h.update(b)
        got += len(b)
        if len(small) < 4096:
            small += b[:4096]
    c.wait_sent(300)
    c.close()
    return st, h.hexdigest(), got, small


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
    start = {"b": peak_rss_mb(sb.proc.pid), **({"a": peak_rss_mb(sa.proc.pid)} if sa else {})}
    t0 = time.time()
    st, sha, got, small = call((sa or sb).port, path, n_up)
    dt = time.time() - t0
    peak = {"b": peak_rss_mb(sb.proc.pid), **({"a": peak_rss_mb(sa.proc.pid)} if sa else {})}
    ok = st == 200 and check(sha, got, small)
    parts = ", ".join(f"sidecar {k}: {start[k]} -> {peak[k]} MB" for k in sorted(peak))
    print(f"{name:14s} {N >> 20} MB  {'ok ' if ok else 'BAD'} {dt:5.1f} s  peak RSS {parts}")
    for sc in (sa, sb):
        if sc:
            sc.cleanup()


want = PAY.sha(N)


def upload_ok(sha, got, small):
    r = json.loads(small)
    return r.get("n") == N and r.get("sha") == want


scenario("upload-local", False, "sink", N, upload_ok)
scenario("upload-hop", True, "sink", N, upload_ok)
scenario("answer-hop", True, f"answer/{N}", 1000, lambda sha, got, small: sha == want and got == N)
if GUESTS:
    scenario("answer-pipe", False, f"answer/{N}", 1000, lambda sha, got, small: sha == want and got == N,
             guest="hw_noop.wasm")
