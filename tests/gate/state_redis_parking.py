"""state_redis_parking.py: issue 12's parking proof for state.redis.

"1,000 concurrent requests to an app whose handler does a state get against a Redis that answers
after 100 ms complete in about 100 ms wall, on two loop threads." A real redis-server sits behind
delayproxy.py (every reply 100 ms late, pipelining intact); the sidecar runs two loop threads
(--threads 2) with the http-wasm app tests/gate/apps/hw_app.c, whose GET /state/{key} does a dapr:v1
state get. N concurrent requests (1,000 by default) are sent at once on N connections: each guest
parks on its get, every get is pipelined on its loop's one Redis connection, and the batch completes
in about one delay. Then the same for HTTP API callers (GET /v1.0/state/statestore/{key}). A
serialised store (one blocking connection on an executor thread, as state.redis had before) needs
N x 100 ms = 100 s; the bound here is generous (a loaded CI machine), the real number is printed.
usage: state_redis_parking.py WASMGATE APPS_DIR [N]
"""
import asyncio
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from delayproxy import DelayProxy  # noqa: E402
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
DELAY = 0.1
BOUND = 10.0  # seconds (a loaded CI machine, sanitizers); serialised would be N * DELAY
start_alarm(110)
# N client sockets here, N in the sidecar (which inherits this limit), the proxy's: raise the soft
# limit of open files as far as the hard limit allows, and send fewer requests if that is not enough
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 2 * N + 512
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
if soft < want:
    N = max(100, (soft - 512) // 2)
    print(f"open-file limit {soft}: {N} concurrent requests instead")


async def batch(port, path, n):
    """Opens n connections, then sends one GET on each at once; returns (statuses, bodies, wall seconds)."""
    conns = []
    for _ in range(n):
        conns.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 20))
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()

    async def one(r, w):
        w.write(req)
        await w.drain()
        data = await asyncio.wait_for(r.read(), 60)
        w.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        return status, body

    t0 = time.time()
    res = await asyncio.gather(*(one(r, w) for r, w in conns), return_exceptions=True)
    wall = time.time() - t0
    ok = [x for x in res if isinstance(x, tuple)]
    return [s for s, _ in ok], [b for _, b in ok], wall


rd = Redis().start()
proxy = DelayProxy("127.0.0.1", rd.port, DELAY).start()
sc = Sidecar(BIN, args=["--app-wasm", "file://" + os.path.join(APPS, "hw_app.wasm"), "--threads", "2",
                        "--log-level", "info"])
sc.write_resource("redis.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
                  "spec:\n  type: state.redis\n  version: v1\n  metadata:\n  - name: redisHost\n"
                  f"    value: 127.0.0.1:{proxy.port}\n  - name: readTimeout\n    value: 30s\n")
sc.start(timeout=30)
try:
    st, _, _ = sc.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": {"n": 42}}], timeout=20)
    check(st == 204, f"save through the delayed Redis: {st}")
    t0 = time.time()
    st, _, b = sc.request("GET", "/v1.0/invoke/myapp/method/state/k", timeout=20)
    one = time.time() - t0
    check(st == 200 and b == b'{"n":42}', f"one wasm-app get: {st} {b!r}")
    check(one >= DELAY, f"one get took {one * 1000:.0f} ms: the delay is real")

    for what, path in (("wasm app (dapr:v1 state get, parked guests)", "/v1.0/invoke/myapp/method/state/k"),
                       ("HTTP API callers (GET /v1.0/state)", "/v1.0/state/statestore/k")):
        statuses, bodies, wall = asyncio.run(batch(sc.port, path, N))
        good = sum(1 for s, b in zip(statuses, bodies) if s == 200 and b == b'{"n":42}')
        print(f"{N} concurrent state gets, {what}, Redis delay {DELAY * 1000:.0f} ms, 2 loop threads: "
              f"{good} ok, wall {wall * 1000:.0f} ms (serialised: {N * DELAY:.0f} s)")
        check(good == N, f"{what}: all answered: {good}/{N} {sorted(set(statuses))}")
        check(wall < BOUND, f"{what}: {N} gets in {wall:.2f}s, not serialised ({N * DELAY:.0f} s)")
    st, _, _ = sc.request("GET", "/v1.0/healthz", timeout=10)
    check(st == 204, f"healthz after the batches: {st}")
finally:
    sc.stop()
finish()
