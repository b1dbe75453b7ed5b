"""wasm_app_p2http_stream.py: a hosted wasi:http component's request body and answer are wasi:io
streams on the event loop (issue 14; docs/wasm-apps.md "Streams and pollables").

tests/components/http/echo.c (clang-19 + jco embed/new, built here) streams the request body back
on POST /stream (blocking-read, blocking-write-and-flush), /stream-poll (subscribe + poll + read,
check-write + write) and /cl/N (declaring content-length: N), and waits on a
monotonic-clock pollable on GET /sleep/MS. One sidecar with one loop thread (--threads 1):
  - a 100 MB POST (72 MB under ASan; more than the guest's 64 MiB memory, which buffering filled
    before: 500 "realloc return: beyond end of memory") to /stream (Content-Length) and to
    /stream-poll (chunked) comes back byte-exact (SHA-256) while the sidecar's peak RSS (VmHWM)
    stays under 64 MiB (ASan: grows by less than 100 MB);
  - a client that does not read the answer: the guest parks on check-write / its writes (the
    parked gauge reads 1) and the upload stops short (back-pressure reaches the client); read
    afterwards, all 32 MB come back intact;
  - a slow upload (a chunk every 200 ms): the echo of its first chunk arrives before the second is
    sent (both ways stream), and while it is parked other requests to the same app on the same loop
    thread are answered, and the parked-guests gauge reads 1;
  - GET /sleep/1500 parks on subscribe-duration + poll: other requests are answered meanwhile;
  - a caller that hangs up mid-body: the guest sees the stream break, its instance is given back
    (the gauge returns to 0) and the next request is served (ASan: no leak at exit);
  - a chunked body over --max-body-size (1Mi): the guest's read fails, the answer whose head went
    out is cut off (never complete), and the next request is served;
  - SIGTERM while a guest is parked on a slow body: the sidecar exits 0 (under ASan: no leak);
  - content-length mismatches: /cl/N with a shorter body answers a head with Content-Length N and a
    cut-off body (streamed, N > 64 KiB), or 500 naming the mismatch (small, collected); a longer
    body is cut at N;
  - `wasmgate serve --max-body-size 200Mi`: 72 MB through /stream the same way, VmHWM < 64 MiB;
  - the oracle, `jco serve` on the same component: same status, content-type and body for
    /stream (a small and a 1 MiB body), /stream-poll and /sleep/200, and for /cl/100000 with a
    70,000-byte body the same head, bytes and cut (jco serve sends a small collected answer of the
    wrong length cut off too, where wasmgate answers 500: not compared).
Skipped (77) when clang-19, node or jco is missing (a failure under CI).
"""
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgbody import MB, Call, Payload, body_pieces, chunk  # noqa: E402
from wgtest import (Sidecar, asan_small_quarantine, check, finish, free_port, peak_rss_mb, start_alarm,  # noqa: E402
                    wait_for)

BIN, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
start_alarm(170)
rc = subprocess.run([os.path.join(ROOT, "tests", "components", "http", "build.sh"), OUT]).returncode
if rc == 77:
    sys.exit(77)
check(rc == 0, f"building the components: exit {rc}")
ECHO = os.path.join(OUT, "echo.wasm")
PAY = Payload(b"p2io")

sc = Sidecar(BIN, app_id="echo", env={"ASAN_OPTIONS": asan_small_quarantine()},
             args=["--app-wasm", "file://" + ECHO, "--threads", "1", "--max-body-size", "200Mi"])
sc.start(timeout=30)


def parked_gauge():
    try:
        _, _, m = sc.request("GET", "/metrics", port=sc.metrics_port, timeout=5)
    except Exception:  # noqa: BLE001
        return None
    for line in m.decode().splitlines():
        if line.startswith("wasmgate_wasm_app_parked"):
            return int(float(line.split()[-1]))
    return 0


def ping(path="/ping"):
    st, _, body = sc.request("POST", "/v1.0/invoke/echo/method" + path, body=b"x", timeout=30)
    return st, body


class Reader:
    """Reads a Call's answer on a thread: status, headers, body hash and size, and whether it was
    complete, with the bytes so far counted as they arrive."""

    def __init__(self, call):
        self.call, self.got, self.status, self.hdrs = call, 0, None, {}
        self.sha, self.complete, self.done = None, False, threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        h = hashlib.sha256()
        try:
            self.status, self.hdrs = self.call.head()
            if self.status is not None:
                for b in body_pieces(self.call.f, self.hdrs, piece=65536):
                    h.update(b)
                    self.got += len(b)
                self.complete = True
        except (EOFError, OSError, ValueError):
            pass
        self.sha = h.hexdigest()
        self.done.set()


def raw_post(port, path, body):
    """POST body to path over a raw socket: the Reader of the answer (cut-off bodies show)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body))
    d = Call.__new__(Call)
    d.s, d.f = s, s.makefile("rb")
    r = Reader(d)
    r.done.wait(30)
    s.close()
    return r


try:
    # ------------------------------------------------------------ 100 MB through, bounded memory
    base = peak_rss_mb(sc.proc.pid)
    big = 72 * MB if base > 40 else 100 * MB  # a sanitizer build starts bigger and runs slower
    for path, chunked in (("stream", False), ("stream-poll", True)):
        t0 = time.time()
        c = Call(sc.port, path, n=big, payload=PAY, chunked=chunked, app_id="echo", timeout=150)
        r = Reader(c)
        check(r.done.wait(150), f"{path}: the answer ended")
        c.wait_sent()
        c.close()
        check(r.status == 200 and r.complete, f"{path}: status {r.status}, complete {r.complete}, {r.got} bytes")
        check(r.got == big and r.sha == PAY.sha(big), f"{path}: {r.got} bytes back, sha256 matches: "
              f"{r.sha == PAY.sha(big)}")
        hwm = peak_rss_mb(sc.proc.pid)
        bound = 64 if base <= 40 else base + 100
        print(f"{path}: {big // MB} MB in {time.time() - t0:.1f} s, sidecar VmHWM {hwm} MB (start {base} MB)",
              flush=True)
        check(hwm < bound, f"{path}: peak RSS {hwm} MB (want < {bound})")

    # ------------------------------------------------------------ a client that does not read: the guest parks on its writes
    n = 32 * MB
    for path in ("stream", "stream-poll"):  # blocking-write-and-flush; check-write + subscribe + poll
        c = Call(sc.port, path, n=n, payload=PAY, app_id="echo", timeout=120)

        def stalled():  # the guest waits for the client to drain, so the upload stops short of its end
            before = c.sent
            time.sleep(0.3)
            return parked_gauge() == 1 and c.sent == before < n
        check(wait_for(stalled, 60), f"{path}: upload held back while the answer is not read: {c.sent} of {n} "
              f"sent, gauge {parked_gauge()}")
        r = Reader(c)
        check(r.done.wait(120) and r.complete and r.got == n and r.sha == PAY.sha(n),
              f"{path}: then read, it all comes back: {r.got} bytes, complete {r.complete}")
        c.wait_sent()
        c.close()
    check(peak_rss_mb(sc.proc.pid) < (64 if base <= 40 else base + 100), f"peak RSS {peak_rss_mb(sc.proc.pid)} MB")

    # ------------------------------------------------------------ a slow upload parks, the loop serves others
    s = socket.create_connection(("127.0.0.1", sc.port), timeout=60)
    s.sendall(b"POST /v1.0/invoke/echo/method/stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    drip = Call.__new__(Call)
    drip.s, drip.f = s, s.makefile("rb")
    pieces = [bytes([65 + k]) * (70000 + k) for k in range(5)]  # over 64 KiB: the body streams at once
    s.sendall(chunk(pieces[0]))
    r = Reader(drip)
    check(wait_for(lambda: r.got >= len(pieces[0]), 30), f"the first chunk's echo arrives before the second is "
          f"sent: {r.got} bytes, status {r.status}")
    check(wait_for(lambda: parked_gauge() == 1, 20), f"the guest is parked on the body: gauge {parked_gauge()}")
    served = 0
    for p in pieces[1:]:
        time.sleep(0.2)  # the drip's pace (not a synchronisation: every check below polls)
        st, body = ping()
        check(st == 200 and body.startswith(b"POST /ping"), f"another request meanwhile: {st} {body[:40]!r}")
        served += 1
        s.sendall(chunk(p))
    check(not r.done.is_set(), "the slow upload was still under way while the others were answered")
    s.sendall(b"0\r\n\r\n")
    check(r.done.wait(30) and r.complete and r.sha == hashlib.sha256(b"".join(pieces)).hexdigest(),
          f"the slow upload comes back whole: {r.got} bytes, complete {r.complete}")
    s.close()
    print(f"slow upload: {served} other requests answered while it dripped", flush=True)
    check(wait_for(lambda: parked_gauge() == 0, 20), f"nothing parked after it: {parked_gauge()}")

    # ------------------------------------------------------------ subscribe-duration + poll parks
    got = {}

    def sleeper():
        t0 = time.time()
        got["r"] = sc.request("GET", "/v1.0/invoke/echo/method/sleep/1500", timeout=60)
        got["t"] = time.time() - t0

    th = threading.Thread(target=sleeper, daemon=True)
    th.start()
    check(wait_for(lambda: parked_gauge() == 1, 20), f"the sleeping guest is parked: {parked_gauge()}")
    st, body = ping()
    check(st == 200 and "r" not in got, f"answered while the guest sleeps: {st}, sleeper done {'r' in got}")
    th.join(60)
    check(got.get("r", (0,))[0] == 200 and got["r"][2].startswith(b"GET /sleep/1500") and got["t"] >= 1.4,
          f"the sleeper's answer after its 1.5 s: {got.get('r')!r} in {got.get('t')}")

    # ------------------------------------------------------------ a caller that hangs up mid-body
    c = Call(sc.port, "stream", n=4 * MB, payload=PAY, app_id="echo", stop_after=MB, timeout=30)
    c.wait_sent()
    c.close()
    check(wait_for(lambda: parked_gauge() == 0, 30), f"the guest saw the body break and went: {parked_gauge()}")
    st, body = ping()
    check(st == 200, f"the next request after a hang-up: {st}")

    # ------------------------------------------------------------ content-length kept to
    def cl_call(n_declared, n_body):
        return raw_post(sc.port, "/v1.0/invoke/echo/method/cl/%d" % n_declared, b"z" * n_body)

    r = cl_call(100000, 70000)  # shorter than declared, streamed: cut off
    check(r.status == 200 and r.hdrs.get("content-length") == "100000" and not r.complete and r.got == 70000,
          f"a body shorter than its Content-Length is cut off: {r.status} {r.hdrs} {r.got} complete={r.complete}")
    r = cl_call(70000, 100000)  # longer: cut at the declared length, the write fails
    check(r.status == 200 and r.hdrs.get("content-length") == "70000" and r.got <= 70000,
          f"a body longer than its Content-Length stops there: {r.status} {r.got}")
    st, _, body = sc.request("POST", "/v1.0/invoke/echo/method/cl/100", body=b"q" * 10, timeout=30)
    check(st == 500 and b"Content-Length" in body, f"a small collected body of the wrong length: {st} {body!r}")
    st, _, body = sc.request("POST", "/v1.0/invoke/echo/method/cl/10", body=b"q" * 10, timeout=30)
    check((st, body) == (200, b"q" * 10), f"the right length: {st} {body!r}")
    check(wait_for(lambda: parked_gauge() == 0, 20), "nothing left parked")

    # ------------------------------------------------------------ SIGTERM while a guest is parked on a body
    s = socket.create_connection(("127.0.0.1", sc.port), timeout=60)
    s.sendall(b"POST /v1.0/invoke/echo/method/stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              + chunk(b"w" * 70000))
    check(wait_for(lambda: parked_gauge() == 1, 20), f"parked before the shutdown: {parked_gauge()}")
    rc = sc.stop(timeout=30)  # fails the test on a non-zero exit (a sanitizer's leak report included)
    check(rc == 0, f"the sidecar stops cleanly with a parked guest: exit {rc}")
    s.close()
finally:
    sc.stop()

# ---------------------------------------------------------------- a body over --max-body-size breaks off
sc = Sidecar(BIN, app_id="echo", env={"ASAN_OPTIONS": asan_small_quarantine()},
             args=["--app-wasm", "file://" + ECHO, "--threads", "1", "--max-body-size", "1Mi"]).start(timeout=30)
try:
    c = Call(sc.port, "stream", n=4 * MB, payload=PAY, chunked=True, app_id="echo", timeout=60)
    r = Reader(c)
    check(r.done.wait(60), "the answer to an oversized body ended")
    # the guest's head went out before the limit was reached: the answer is cut off, never complete
    check((r.status == 200 and not r.complete and r.got <= MB + 65536) or r.status == 413,
          f"a chunked body over --max-body-size: {r.status}, {r.got} bytes, complete {r.complete}")
    c.close()
    check(wait_for(lambda: sc.request("GET", "/v1.0/healthz", timeout=5)[0] == 204, 20), "the sidecar goes on")
    st, _, body = sc.request("POST", "/v1.0/invoke/echo/method/stream", body=b"fine", timeout=30)
    check((st, body) == (200, b"fine"), f"the next request: {st} {body!r}")
finally:
    sc.stop()

# ---------------------------------------------------------------- wasmgate serve streams the same way
sport = free_port()
slog = open(os.path.join(OUT, "serve-stream.log"), "ab")
serve = subprocess.Popen([BIN, "serve", "--addr", f"127.0.0.1:{sport}", "--threads", "1", "--max-body-size", "200Mi",
                          ECHO], stdout=slog, stderr=subprocess.STDOUT, cwd=OUT,
                         env=dict(os.environ, ASAN_OPTIONS=asan_small_quarantine()))
try:
    def serve_up():
        try:
            socket.create_connection(("127.0.0.1", sport), timeout=1).close()
            return True
        except OSError:
            return False
    check(wait_for(serve_up, 30, 0.1), "wasmgate serve started")
    n = 72 * MB
    s = socket.create_connection(("127.0.0.1", sport), timeout=150)
    s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % n)
    c = Call.__new__(Call)
    c.s, c.f = s, s.makefile("rb")

    def send():
        try:
            for b in PAY.pieces(n):
                s.sendall(b)
        except OSError:
            pass
    threading.Thread(target=send, daemon=True).start()
    r = Reader(c)
    check(r.done.wait(150) and r.complete and r.got == n and r.sha == PAY.sha(n),
          f"serve /stream: {r.status} {r.got} bytes, complete {r.complete}")
    hwm = peak_rss_mb(serve.pid)
    print(f"serve: 72 MB through, VmHWM {hwm} MB", flush=True)
    check(hwm < (64 if base <= 40 else base + 100), f"serve: peak RSS {hwm} MB")
    s.close()
finally:
    serve.terminate()
    try:
        check(serve.wait(30) == 0, f"wasmgate serve exits cleanly: {serve.returncode}")
    except subprocess.TimeoutExpired:
        serve.kill()
        check(False, "wasmgate serve did not stop within 30 s of SIGTERM")

# ---------------------------------------------------------------- the oracle: jco serve
JCO = os.path.join(ROOT, "scripts", "npm", "node_modules", "@bytecodealliance", "jco", "dist", "jco.js")
if os.path.exists(JCO):
    port = free_port()
    jlog = open(os.path.join(OUT, "jco-serve-stream.log"), "wb")
    jco = subprocess.Popen(["node", JCO, "serve", ECHO, "--port", str(port), "--host", "127.0.0.1"],
                           stdout=jlog, stderr=subprocess.STDOUT, cwd=OUT)
    sc = Sidecar(BIN, app_id="echo", args=["--app-wasm", "file://" + ECHO]).start(timeout=30)
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        check(wait_for(up, 60, 0.2), "jco serve did not start")
        mb = b"".join(PAY.pieces(MB))
        for method, path, body in (("POST", "/stream", b"hello, streams"), ("POST", "/stream", mb),
                                   ("POST", "/stream-poll", mb), ("GET", "/sleep/200", None)):
            ours = sc.request(method, "/v1.0/invoke/echo/method" + path, body=body, timeout=60)
            theirs = sc.request(method, path, body=body, timeout=60, port=port)
            check(ours[0] == theirs[0] and ours[2] == theirs[2],
                  f"{method} {path}: wasmgate {ours[0]} {len(ours[2])} bytes vs jco serve {theirs[0]} "
                  f"{len(theirs[2])} bytes")
            check(ours[1].get("content-type") == theirs[1].get("content-type"),
                  f"{path} content-type: {ours[1].get('content-type')!r} vs {theirs[1].get('content-type')!r}")
        # a body shorter than its declared length: the same head, the same bytes, then the cut
        ours = raw_post(sc.port, "/v1.0/invoke/echo/method/cl/100000", b"z" * 70000)
        theirs = raw_post(port, "/cl/100000", b"z" * 70000)
        check((ours.status, ours.hdrs.get("content-length"), ours.got, ours.complete) ==
              (theirs.status, theirs.hdrs.get("content-length"), theirs.got, theirs.complete),
              f"/cl/100000 with 70000 bytes: wasmgate {ours.status} {ours.hdrs.get('content-length')} {ours.got} "
              f"{ours.complete} vs jco serve {theirs.status} {theirs.hdrs.get('content-length')} {theirs.got} "
              f"{theirs.complete}")
    finally:
        sc.stop()
        jco.terminate()
        try:
            jco.wait(10)
        except subprocess.TimeoutExpired:
            jco.kill()
finish()
