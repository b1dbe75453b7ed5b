"""Issue 18.3: request and answer bodies through an appHttpPipeline stream unless a guest may read them.

An http-wasm guest that imports neither read_body nor write_body can never see
or change a body, so an upload streams past it to the app (peak RSS of the
sidecar grows by a bounded amount); a guest that imports them (hw_buffered:
reads the whole request body, wraps the answer) gets the body whole, within
--max-body-size, and the app still receives every byte. The same holds for
a 50 MB answer: past hw_noop and past hw_counter (no body imports; enables
buffer_response and sets a header in handle_response, which still reaches the
caller) and past hw_resp_spin (parked between time slices in handle_response
while the answer's first bytes wait) it streams with a bounded peak RSS; through hw_buffered (reads bodies)
it is read whole (the guest sees the app's bytes and replaces the body); a
guest without body imports that fails in handle_response (hw_resp_late) gives
the caller 500 and the rest of the answer is dropped.
usage: invoke_upload_pipeline.py WASMGATE GUEST_DIR
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgbody import MB, Call, Payload, answer_early, body_pieces, chunk, read_head, serve  # noqa: E402
from wgtest import Sidecar, asan_small_quarantine, check, finish, peak_rss_mb, start_alarm  # noqa: E402

BIN, GUESTS = sys.argv[1], sys.argv[2]
start_alarm(100)
SIZE = 30 * MB
PAY = Payload(b"pipe")  # every body's bytes
expected = PAY.sha


def app_conn(conn):
    f = conn.makefile("rb")
    try:
        while True:
            line, hdrs = read_head(f)
            if not line:
                return
            if line.split()[1].startswith(b"/early"):  # answers without reading the body, then hangs up
                answer_early(conn)
                return
            if line.split()[1].startswith(b"/answer/"):  # GET /answer/<n>: n bytes back, chunked
                size = int(line.split()[1].split(b"/")[2])
                for _ in body_pieces(f, hdrs):
                    pass
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-App: yes\r\n\r\n")
                for b in PAY.pieces(size):
                    conn.sendall(chunk(b))
                conn.sendall(b"0\r\n\r\n")
                continue
            if line.split()[1].startswith(b"/dapr/"):
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            h, n = hashlib.sha256(), 0
            for b in body_pieces(f, hdrs):
                h.update(b)
                n += len(b)
            out = json.dumps({"n": n, "sha": h.hexdigest()}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(out), out))
    except (OSError, EOFError, ValueError):
        pass
    finally:
        conn.close()


lsock = serve(app_conn, backlog=16)


def upload(port, n, path="sink"):
    """POSTs n bytes of PAY (with a Content-Length) to port: (status, body)."""
    c = Call(port, path, n, PAY, timeout=60)
    st, hdrs, body = c.response()
    c.wait_sent(30)
    c.close()
    return st, body


def fetch_answer(port, n):
    """GET an n-byte answer through the sidecar: (status, headers, body length, sha256)."""
    c = Call(port, f"answer/{n}", method="GET", timeout=60)
    st, hdrs = c.head()
    h, got = hashlib.sha256(), 0
    try:
        for b in body_pieces(c.f, hdrs):
            h.update(b)
            got += len(b)
    except (EOFError, OSError, ValueError):
        pass
    c.close()
    return st, hdrs, got, h.hexdigest()


def sidecar(guest):
    mw = ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: g\nspec:\n"
          "  type: middleware.http.wasm\n  version: v1\n  metadata:\n"
          f"  - name: url\n    value: \"file://{os.path.join(GUESTS, guest)}\"\n"
          "  - name: requestTimeout\n    value: \"10s\"\n")
    conf = ("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
            "  appHttpPipeline:\n    handlers:\n    - name: g\n      type: middleware.http.wasm\n")
    sc = Sidecar(BIN, app_id="svc", env={"ASAN_OPTIONS": asan_small_quarantine()},
                 args=["--threads", "1", "--app-port", str(lsock.getsockname()[1]), "--max-body-size", "64Mi"])
    sc.write_resource("mw.yaml", mw)
    path = os.path.join(sc.dir, "config.yaml")
    with open(path, "w") as f:
        f.write(conf)
    sc.args += ["--config", path]
    return sc.start(wait_path="/v1.0/healthz")


want = expected(SIZE)
# a guest that never touches bodies: the upload streams past it
sc = sidecar("hw_noop.wasm")
base = peak_rss_mb(sc.proc.pid)
st, body = upload(sc.port, SIZE)
got = json.loads(body) if st == 200 else {}
check(st == 200 and got.get("n") == SIZE and got.get("sha") == want, f"past hw_noop: {st} {body[:200]!r}")
grow = peak_rss_mb(sc.proc.pid) - base
slack = 20 if base < 12 else 90  # an ASan build caches freed blocks
print(f"upload of {SIZE >> 20} MB past a guest that does not read bodies: VmHWM +{grow} MB")
check(grow < slack, f"streamed past the guest: peak RSS +{grow} MB (want < {slack})")
# an app that answers before reading the body: the answer comes back through the guest
st, body = upload(sc.port, SIZE, "early")
check(st == 200 and body == b"early", f"an early answer through the pipeline: {st} {body[:100]!r}")
st, body = upload(sc.port, 100000)
check(st == 200 and json.loads(body).get("n") == 100000, f"and the sidecar still serves: {st}")
sc.cleanup()

# answers: a 50 MB answer streams back past guests that never touch bodies
ASIZE = 50 * MB
want_answer = expected(ASIZE)
for guest in ("hw_noop.wasm", "hw_counter.wasm", "hw_resp_spin.wasm"):
    sc = sidecar(guest)
    base = peak_rss_mb(sc.proc.pid)
    st, hdrs, got, sha = fetch_answer(sc.port, ASIZE)
    check(st == 200 and got == ASIZE and sha == want_answer, f"answer past {guest}: {st} {got} bytes")
    check(hdrs.get("x-app") == "yes", f"the app's header passes {guest}: {hdrs}")
    if guest == "hw_counter.wasm":  # its handle_response header still reaches the caller
        check(hdrs.get("x-pinned") == "ok" and hdrs.get("x-count", "").isdigit(), f"guest headers kept: {hdrs}")
    if guest == "hw_resp_spin.wasm":  # parked between slices while the answer's first bytes wait
        check(hdrs.get("x-spun") == "yes", f"the parked guest's header kept: {hdrs}")
    grow = peak_rss_mb(sc.proc.pid) - base
    print(f"answer of {ASIZE >> 20} MB past {guest} (no body imports): VmHWM +{grow} MB")
    check(grow < slack, f"answer streamed past {guest}: peak RSS +{grow} MB (want < {slack})")
    st, hdrs, got, sha = fetch_answer(sc.port, 1000)  # a small one is passed whole, and the pool is intact
    check(st == 200 and got == 1000 and sha == expected(1000), f"a small answer past {guest}: {st} {got}")
    sc.cleanup()

# a guest without body imports that fails in handle_response: the caller gets its 500, not the answer
sc = sidecar("hw_resp_late.wasm")
base = peak_rss_mb(sc.proc.pid)
st, hdrs, got, sha = fetch_answer(sc.port, ASIZE)
check(st == 500 and got < 1000, f"a guest failing on a streamed answer's head answers 500: {st} {got} bytes")
grow = peak_rss_mb(sc.proc.pid) - base
print(f"answer of {ASIZE >> 20} MB past a guest failing in handle_response: 500, VmHWM +{grow} MB")
check(grow < slack, f"the rest of the answer is dropped, not gathered: peak RSS +{grow} MB (want < {slack})")
sc.cleanup()

# a guest that reads the request body: it gets the body whole, and so does the app
sc = sidecar("hw_buffered.wasm")
base = peak_rss_mb(sc.proc.pid)
st, body = upload(sc.port, SIZE)
check(st == 201 and body.startswith(b"wrapped:"), f"through hw_buffered: {st} {body[:200]!r}")
got = json.loads(body[len(b"wrapped:"):]) if body.startswith(b"wrapped:") else {}
check(got.get("n") == SIZE and got.get("sha") == want, f"the app got every byte after the guest read it: {got}")
grow = peak_rss_mb(sc.proc.pid) - base
print(f"upload of {SIZE >> 20} MB through a guest that reads bodies: VmHWM +{grow} MB (buffered, as it must be)")
check(grow >= SIZE >> 20, f"buffered for the guest: +{grow} MB")
# a 50 MB answer through the guest that reads bodies: read whole for it (it reads the first 8 KiB of
# the app's answer and replaces the body with "wrapped:" + those bytes, as it would without streaming)
c = Call(sc.port, f"answer/{ASIZE}", method="GET", timeout=60)
st, hdrs, body = c.response()
c.close()
check(st == 201 and body.startswith(b"wrapped:"), f"answer through hw_buffered: {st}")
inner = body[len(b"wrapped:"):]
check(inner == PAY.block(0)[:8192] and hdrs.get("x-wrapped") == "1" and hdrs.get("x-app") == "yes",
      f"the body-reading guest saw the app's answer and replaced it: {len(inner)} bytes {hdrs}")
sc.cleanup()
lsock.close()
finish()
