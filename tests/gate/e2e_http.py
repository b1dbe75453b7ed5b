"""e2e_http.py: the HTTP layer of `wasmgate run`: keep-alive, pipelining,
413/431 limits, malformed requests, header-read and idle timeouts (a slow
client does not block others), 404/405, the dapr-api-token check, healthz,
metadata, and graceful SIGTERM shutdown that finishes in-flight requests.
"""
import json
import os
import signal
import socket
import sys
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, recv_until_close, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)


def raw(port, data, timeout=5, wait_close=True, half_close=False):
    """Sends raw bytes on a new connection (then shuts down our side when
    half_close) and reads until close or timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    out = recv_until_close(s, None if wait_close else b"\r\n\r\n")
    s.close()
    return out


def status_lines(data):
    return [line for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


sc = Sidecar(BIN, args=["--max-body-size", "1Ki", "--http-header-timeout", "400ms",
                        "--http-idle-timeout", "600ms", "--threads", "2"]).start()
port = sc.port

# health and metadata
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "healthz")
check(sc.request("GET", "/v1.0/healthz/outbound")[0] == 204, "healthz/outbound")
check(sc.request("GET", "/v1.0/healthz?appid=myapp")[0] == 204, "healthz?appid=self")
check_error(sc.request("GET", "/v1.0/healthz?appid=other"), 500, "ERR_HEALTH_APPID_NOT_MATCH")
r = sc.request("PUT", "/v1.0/metadata/team", "blue", headers={"Content-Type": "text/plain"})
check(r[0] == 204, f"PUT metadata: {r}")
st, h, body = sc.request("GET", "/v1.0/metadata")
md = json.loads(body)
check(st == 200 and md["id"] == "myapp", f"metadata id: {md}")
check(md["extended"].get("team") == "blue", f"extended attribute: {md['extended']}")
check(md["components"] == [{"name": "statestore", "type": "state.sqlite", "version": "v1",
                            "capabilities": ["ETAG", "TRANSACTIONAL", "TTL", "QUERY_API"]},
                           {"name": "pubsub", "type": "pubsub.in-memory", "version": "v1", "capabilities": []},
                           {"name": "lockstore", "type": "lock.in-memory", "version": "v1", "capabilities": []},
                           {"name": "configstore", "type": "configuration.sqlite", "version": "v1",
                            "capabilities": []}],
      f"components: {md['components']}")
for field in ("runtimeVersion", "enabledFeatures", "actors", "httpEndpoints", "subscriptions",
              "appConnectionProperties"):
    check(field in md, f"metadata has {field}")
check(sc.request("POST", "/v1.0/metadata")[0] == 405, "POST /v1.0/metadata is 405")
check(sc.request("GET", "/v1.0/nothing")[0] == 404, "unknown route is 404")
check(sc.request("GET", "/v2/state")[0] == 404, "unknown version is 404")
# a known route's malformed path answers as Go's http.NotFound; a known path with another method 405, no body
for method, path in [("GET", "/v1.0/shutdown/x"), ("GET", "/v1.0/configuration/a/b/c/d"), ("GET", "/v1.0/metadata/a/b"),
                     ("GET", "/v1.0/state/a/b/c"), ("POST", "/v1.0-alpha1/state/s/other"),
                     ("GET", "/v1.0-alpha1/jobs/a/b"), ("POST", "/v1.0-alpha1/lock/a/b"), ("POST", "/v1.0/bindings/a/b"),
                     ("GET", "/v1.0/healthz/x")]:
    st, h, b = sc.request(method, path)
    check((st, h.get("content-type"), b) == (404, "text/plain; charset=utf-8", b"404 page not found\n"),
          f"{method} {path}: {st} {h.get('content-type')} {b!r}")
# the path is split into percent-decoded segments before routing
check(sc.request("GET", "/v1.0/%68ealthz")[0] == 204, "an escaped route name is decoded")
check(sc.request("GET", "/v1.0/healthz/%6futbound")[0] == 204, "an escaped last segment is decoded")
check(sc.request("GET", "/v1.0/healthz/")[2] == b"404 page not found\n", "a trailing slash is an empty last segment")
check(sc.request("GET", "/v1.0/healthz/outbound/")[2] == b"404 page not found\n", "... after a known one too")
check_error(sc.request("GET", "/v1.0/healthz/%zz"), 400, "ERR_MALFORMED_REQUEST", "percent-encoding")
check_error(sc.request("GET", "/v1.0/healthz/%4"), 400, "ERR_MALFORMED_REQUEST", "percent-encoding")
check(sc.request("GET", "/v1.0/state/statestore/" + "/".join("abcdefghijklmnopq"))[2] == b"404 page not found\n",
      "a path of more segments than any route")
for method, path in [("GET", "/v1.0/shutdown"), ("GET", "/v1.0/bindings/x"), ("POST", "/v1.0/configuration/x"),
                     ("POST", "/v1.0/healthz"), ("PUT", "/v1.0-alpha1/jobs/x"), ("GET", "/v1.0-alpha1/lock/x"),
                     ("PATCH", "/v1.0/metadata/x"), ("GET", "/v1.0/publish/p/t"), ("POST", "/v1.0/secrets/s/k"),
                     ("PATCH", "/v1.0/state/s"), ("GET", "/v1.0-alpha1/state/s/query")]:
    st, h, b = sc.request(method, path)
    check((st, h.get("content-type"), b) == (405, None, b""), f"{method} {path}: {st} {h.get('content-type')} {b!r}")

# keep-alive: several requests on one connection
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("POST", "/v1.0/state/statestore", body=json.dumps([{"key": "ka", "value": 1}]))
r1 = c.getresponse(); r1.read()
sock1 = c.sock
c.request("GET", "/v1.0/state/statestore/ka")
r2 = c.getresponse(); b2 = r2.read()
c.request("GET", "/v1.0/healthz")
r3 = c.getresponse(); r3.read()
check((r1.status, r2.status, b2, r3.status) == (204, 200, b"1", 204), "keep-alive responses")
check(c.sock is sock1, "the connection was reused")
c.close()

# pipelining: three requests in one write, answered in order
body = b'[{"key":"pipe","value":"p"}]'
pipelined = (b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n"
             b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode() +
             b"\r\n\r\n" + body +
             b"GET /v1.0/state/statestore/pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
out = raw(port, pipelined)
check(status_lines(out) == [b"HTTP/1.1 204 No Content", b"HTTP/1.1 204 No Content", b"HTTP/1.1 200 OK"],
      f"pipelined statuses: {status_lines(out)}")
check(out.endswith(b'"p"'), f"pipelined GET body: {out[-40:]!r}")

# Expect: 100-continue gets an interim 100 before the body is sent
ec = socket.create_connection(("127.0.0.1", port), timeout=5)
body = b'[{"key":"cont","value":1}]'
ec.sendall(b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
           str(len(body)).encode() + b"\r\n\r\n")
interim = ec.recv(100)
check(interim == b"HTTP/1.1 100 Continue\r\n\r\n", f"interim response: {interim!r}")
ec.sendall(body)
final = ec.recv(4096)
check(final.startswith(b"HTTP/1.1 204"), f"final response after 100: {final!r}")
ec.close()

# limits: body over --max-body-size is 413 (by Content-Length and chunked); huge headers are 431
check(sc.request("POST", "/v1.0/state/statestore", b"[" + b" " * 2000 + b"]")[0] == 413, "413 by length")
chunked = (b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
           (b"400\r\n" + b" " * 1024 + b"\r\n") * 2 + b"0\r\n\r\n")
check(status_lines(raw(port, chunked))[:1] == [b"HTTP/1.1 413 Request Entity Too Large"], "413 chunked")
# daprd (Go net/http) reads a head of --read-buffer-size + 4096 bytes before its 431
r = sc.request("GET", "/v1.0/healthz", headers={"X-Big": "a" * 5000})
check(r[0] != 431, f"a 5 KB header fits the default 4Ki read buffer + Go's 4096: {r[0]}")
r = sc.request("GET", "/v1.0/healthz", headers={"X-Big": "a" * 9000})
check(r[0] == 431, f"431 for a 9 KB header with the default 4Ki read buffer: {r[0]}")
r = sc.request("GET", "/v1.0/healthz?" + "q" * 9000)
check(r[0] == 431, f"431 for a 9 KB request line: {r[0]}")
check(status_lines(raw(port, b"BLAH / HTTP/1.1\r\n\r\n"))[:1] == [b"HTTP/1.1 400 Bad Request"], "400 bad method")
check(status_lines(raw(port, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"))[:1] == [b"HTTP/1.1 400 Bad Request"],
      "400 malformed header")
# garbage and truncated requests (seeded, so failures reproduce): never a crash, always a clean answer or close
import random
rng = random.Random(5)
samples = [b"GET /v1.0/healthz HTTP/1.1\r\n\r\n", b"POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: 5\r\n\r\n[{}]]",
           b"PUT /v1.0/metadata/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
           b"DELETE /v1.0/state/statestore/%zz HTTP/1.1\r\nIf-Match: \xff\r\n\r\n"]
for i in range(150):
    base = bytearray(rng.choice(samples))
    for _ in range(rng.randint(0, 6)):
        pos = rng.randrange(len(base))
        base[pos] = rng.randrange(256)
    cut = bytes(base[:rng.randint(1, len(base))]) if rng.random() < 0.3 else bytes(base)
    out = raw(port, cut, timeout=2, half_close=True)
    check(out == b"" or out.startswith(b"HTTP/1.1 "), f"garbage {cut!r} got {out[:60]!r}")
check(sc.proc.poll() is None, "still running after garbage")
out = raw(port, b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n", half_close=True)
check(out.startswith(b"HTTP/1.1 204"), f"answer after the client half-closed: {out!r}")
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "the server is fine after bad requests")

# slow client: an unfinished head gets 408 and is closed; others are served meanwhile
slow = socket.create_connection(("127.0.0.1", port), timeout=5)
slow.sendall(b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "served while a slow client hangs")
got = b""
try:
    while True:
        chunk = slow.recv(4096)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
elapsed = time.time() - t0
slow.close()
check(got.startswith(b"HTTP/1.1 408"), f"slow head gets 408: {got[:40]!r}")
check(elapsed < 3, f"slow client closed after the header timeout ({elapsed:.2f}s)")

# idle keep-alive connections are closed after --http-idle-timeout
idle = socket.create_connection(("127.0.0.1", port), timeout=5)
t0 = time.time()
check(idle.recv(10) == b"", "idle connection closed by the server")
check(0.4 < time.time() - t0 < 3, f"idle timeout took {time.time() - t0:.2f}s")
idle.close()

# the connection timer is moved lazily (http/server.c wgg_hs_arm): after requests, an idle
# connection still closes on the idle timeout (600ms), silently, not on the header timeout
# (400ms) the requests had armed; and a head begun later still gets its 408
def served(s):
    s.sendall(b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    return got.startswith(b"HTTP/1.1 204")

kept = socket.create_connection(("127.0.0.1", port), timeout=5)
check(all(served(kept) for _ in range(20)), "keep-alive requests served")
t0 = time.time()
rest = kept.recv(100)
elapsed = time.time() - t0
check(rest == b"", f"idle after requests: closed without an answer (got {rest[:40]!r})")
check(0.55 < elapsed < 3, f"idle after requests: closed after the idle timeout, not the header timeout ({elapsed:.2f}s)")
kept.close()
kept = socket.create_connection(("127.0.0.1", port), timeout=5)
check(served(kept), "a request before a slow head")
time.sleep(0.1)
kept.sendall(b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n")
got = b""
try:
    while True:
        chunk = kept.recv(4096)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
check(got.startswith(b"HTTP/1.1 408"), f"a slow head after a request gets 408: {got[:40]!r}")
kept.close()

# Prometheus metrics on --metrics-port
st, h, body = sc.request("GET", "/metrics", port=sc.metrics_port)
text = body.decode()
check(st == 200 and h.get("content-type", "").startswith("text/plain; version=0.0.4"), f"metrics: {st} {h}")
check('dapr_http_server_request_count{app_id="myapp",route="healthz",method="GET",status="204"}' in text,
      "healthz requests counted")
check('route="state.save",method="POST",status="204"' in text, "state saves counted")
check('dapr_http_server_latency_ms_bucket{app_id="myapp",route="healthz",le="+Inf"}' in text, "latency histogram")
check('dapr_component_state_count{app_id="myapp",component="statestore",operation="set",success="true"}' in text,
      "component operations counted")
check("process_resident_memory_bytes " in text, "RSS gauge")
sc.cleanup()

# a metrics port in use stops the start
blocker = socket.socket()
blocker.bind(("127.0.0.1", 0))
blocker.listen(1)
sc = Sidecar(BIN)
sc.metrics_port = blocker.getsockname()[1]
sc.spawn()
rc = sc.wait_exit(10)
check(rc == 1 and "metrics server (--metrics-port)" in sc.logs(), f"metrics port in use: {rc} {sc.logs()[-300:]}")
sc.finish_proc()
blocker.close()

# API token: 401 "invalid api token" everywhere but GET healthz
sc = Sidecar(BIN, env={"DAPR_API_TOKEN": "s3cret"}).start()
r = sc.request("GET", "/v1.0/metadata")
check(r[0] == 401 and r[2] == b"invalid api token", f"no token: {r}")
r = sc.request("GET", "/v1.0/state/statestore/k", headers={"dapr-api-token": "wrong"})
check(r[0] == 401 and r[2] == b"invalid api token", f"wrong token: {r}")
check(sc.request("GET", "/v1.0/metadata", headers={"dapr-api-token": "s3cret"})[0] == 200, "right token")
check(sc.request("GET", "/v1.0/healthz")[0] == 204, "healthz needs no token")
check(sc.request("GET", "/v1.0/healthz/outbound")[0] == 204, "healthz/outbound needs no token")
sc.cleanup()

# graceful shutdown: an unfinished request completes (with Connection: close), new connections are refused
sc = Sidecar(BIN, args=["--dapr-graceful-shutdown-seconds", "5", "--threads", "1"]).start()
port = sc.port
body = b'[{"key":"late","value":"done"}]'
inflight = socket.create_connection(("127.0.0.1", port), timeout=5)
inflight.sendall(b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                 str(len(body)).encode() + b"\r\n\r\n" + body[:5])
idle = socket.create_connection(("127.0.0.1", port), timeout=5)
time.sleep(0.2)
sc.proc.send_signal(signal.SIGTERM)
time.sleep(0.3)
check(idle.recv(10) == b"", "idle connection closed at shutdown")
refused = False
try:
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
except OSError:
    refused = True
check(refused, "no new connections after SIGTERM")
check(sc.proc.poll() is None, "still running while a request is in flight")
inflight.sendall(body[5:])
resp = b""
while True:
    chunk = inflight.recv(4096)
    if not chunk:
        break
    resp += chunk
check(resp.startswith(b"HTTP/1.1 204") and b"Connection: close" in resp, f"in-flight answered: {resp!r}")
check(sc.wait_exit(5) == 0, "exit status 0 after draining")
check("shutdown complete" in sc.logs(), "shutdown logged")
sc2 = Sidecar(BIN, workdir=sc.dir).start()
check(sc2.request("GET", "/v1.0/state/statestore/late")[2] == b'"done"', "the drained request was saved")
sc2.stop()

# the drain deadline: a client that never finishes does not hold the process
sc = Sidecar(BIN, args=["--dapr-graceful-shutdown-seconds", "1", "--http-read-timeout", "30s",
                        "--http-header-timeout", "30s"]).start()
stuck = socket.create_connection(("127.0.0.1", sc.port), timeout=5)
stuck.sendall(b"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[")
time.sleep(0.2)
t0 = time.time()
sc.proc.send_signal(signal.SIGTERM)
rc = sc.wait_exit(5)
check(rc == 0 and time.time() - t0 < 3, f"exits after the 1 s deadline (rc {rc}, {time.time() - t0:.2f}s)")
stuck.close()
sc.cleanup()
finish()
