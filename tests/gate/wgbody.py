"""wgbody.py: helpers for tests and benchmarks that move large bodies through the sidecar
(service invocation of uploads and answers, streaming, back-pressure).

- Payload: a deterministic body of numbered 64 KiB blocks and its SHA-256;
- read_head, body_pieces, read_body, chunk: HTTP/1.1 framing by hand on a socket's binary file
  (Content-Length and chunked, strict: a cut-off body raises EOFError);
- serve: a threaded app server on a free loopback port;
- answer_early: an app answer given before reading the request body;
- Call: a caller sending a request (and its body, from a thread) over a raw socket.
Loopback only.
"""
import hashlib
import socket
import threading

MB = 1 << 20
BLOCK = 65536


class Payload:
    """Bodies made of numbered 64 KiB blocks: block k starts with k (8 bytes, big-endian), so a lost
    or repeated block changes the hash; the rest comes from seed."""

    def __init__(self, seed):
        self.base = hashlib.sha256(seed).digest() * (BLOCK // 32)

    def block(self, k):
        return k.to_bytes(8, "big") + self.base[8:]

    def pieces(self, n):
        """The first n bytes, a block at a time."""
        k, left = 0, n
        while left:
            b = self.block(k)[:min(left, BLOCK)]
            yield b
            left -= len(b)
            k += 1

    def sha(self, n):
        """The SHA-256 (hex) of the first n bytes."""
        h = hashlib.sha256()
        for b in self.pieces(n):
            h.update(b)
        return h.hexdigest()


def chunk(b):
    """b framed as one chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(b), b)


def read_head(f):
    """Reads a message head from f (a binary file): (start line, {lower-case name: value});
    (b"", {}) at EOF."""
    line = f.readline()
    hdrs = {}
    if not line:
        return line, hdrs
    while True:
        hl = f.readline()
        if hl in (b"\r\n", b"\n", b""):
            break
        k, v = hl.decode().split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return line, hdrs


def _exactly(f, left, piece):
    """Yields the next left bytes of f, at most piece at a time (EOFError when they are not all there)."""
    while left:
        b = f.read1(min(left, piece))
        if not b:
            raise EOFError
        left -= len(b)
        yield b


def body_pieces(f, hdrs, piece=MB):
    """Yields the body that follows head hdrs as it is framed (Content-Length or chunked; neither:
    no body), at most piece bytes at a time. Raises EOFError when it is cut off."""
    if "content-length" in hdrs:
        yield from _exactly(f, int(hdrs["content-length"]), piece)
        return
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        while True:
            line = f.readline()
            if not line.endswith(b"\r\n"):
                raise EOFError
            size = int(line.split(b";")[0], 16)
            if size == 0:
                if f.readline() != b"\r\n":
                    raise EOFError
                return
            yield from _exactly(f, size, piece)
            if f.read(2) != b"\r\n":
                raise EOFError


def read_body(f, hdrs):
    """Reads the body as framed: (sha256 hex, bytes, whether it was complete)."""
    h, got = hashlib.sha256(), 0
    try:
        for b in body_pieces(f, hdrs):
            h.update(b)
            got += len(b)
    except EOFError:
        return h.hexdigest(), got, False
    return h.hexdigest(), got, True


def serve(handler, backlog=64):
    """Listens on a free loopback port and runs handler(conn) on a thread of its own for each
    connection. Returns the listening socket (its port: getsockname()[1]; close it to stop)."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(backlog)

    def accept_loop():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(c,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return lsock


def answer_early(conn, body=b"early"):
    """An app's answer given without reading the request body, with Connection: close; then what the
    sidecar still sends is read and dropped until it closes (its lingering close), for at most 20 s."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    conn.settimeout(20)
    try:
        while conn.recv(MB):
            pass
    except OSError:
        pass


class Call:
    """A caller: `method /v1.0/invoke/{app_id}/method/{path}` to the sidecar on port, over a raw socket.
    With n (bytes, None: no body) the body of payload is sent from a thread, framed with a
    Content-Length or chunked; stop_after: the caller hangs up after that many bytes."""

    def __init__(self, port, path, n=None, payload=None, chunked=False, app_id="svc", method="POST",
                 stop_after=None, timeout=120):
        self.sent, self.done, self.err = 0, False, None
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")
        head = f"{method} /v1.0/invoke/{app_id}/method/{path} HTTP/1.1\r\nHost: x\r\n"
        if n is not None:
            head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {n}\r\n"
            head += "Content-Type: application/octet-stream\r\n"
        self.s.sendall((head + "\r\n").encode())
        self.t = None
        if n is not None:
            self.t = threading.Thread(target=self.run, args=(payload, n, chunked, stop_after), daemon=True)
            self.t.start()

    def run(self, payload, n, chunked, stop_after):
        try:
            for b in payload.pieces(n):
                if stop_after is not None and self.sent >= stop_after:
                    self.s.shutdown(socket.SHUT_RDWR)
                    self.s.close()
                    return
                self.s.sendall(chunk(b) if chunked else b)
                self.sent += len(b)
            if chunked:
                self.s.sendall(b"0\r\n\r\n")
            self.done = True
        except OSError as e:
            self.err = e

    def head(self):
        """The answer's head: (status, {lower-case name: value}); (None, {}) when the connection closed."""
        line, hdrs = read_head(self.f)
        return (int(line.split()[1]) if line else None), hdrs

    def response(self):
        """The whole answer: (status, headers, body bytes); (None, {}, b"") when the connection closed."""
        st, hdrs = self.head()
        if st is None:
            return None, {}, b""
        return st, hdrs, b"".join(body_pieces(self.f, hdrs))

    def wait_sent(self, timeout=30):
        """Waits (bounded) until the body's sender is done."""
        if self.t:
            self.t.join(timeout)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass
