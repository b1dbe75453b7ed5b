"""e2e_postgres.py: state.postgresql (v1) through the real `wasmgate run`
against a real PostgreSQL started here (initdb in a temporary directory, a
loopback port): the whole state contract, Dapr's v1 table layout with keys as
<appId>||<key>, ETag = xmin, a server that goes down (500 with Dapr's error,
the sidecar stays up) and comes back (the store recovers by itself, the data
is still there). Behind delayproxy.py (every reply 100 ms late): concurrent
calls run side by side on the loops' non-blocking connections (not one after
the other), and a server that stops answering fails calls with 500 within
the component's timeout, then serves again.
"""
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from delayproxy import DelayProxy  # noqa: E402
from pgserver import PGBIN, Postgres  # noqa: E402
from statesuite import run_suite  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
if not PGBIN:
    print("PostgreSQL is not installed (scripts/deps.sh installs it)")
    sys.exit(1)


pg = Postgres().start()
try:
    conn = f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres connect_timeout=5"
    sc = Sidecar(BIN, app_id="pgapp")
    sc.write_resource("pg.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
                                 "spec:\n  type: state.postgresql\n  version: v1\n  metadata:\n"
                                 f"  - name: connectionString\n    value: \"{conn}\"\n")
    sc.start()
    md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
    check(md["components"][0]["type"] == "state.postgresql", f"metadata: {md['components']}")
    run_suite(sc, etag_ok=lambda e: bool(e) and e.isdigit())

    check(sc.request("POST", "/v1.0/state/statestore", [{"key": "layout", "value": {"a": 1}}])[0] == 204, "save")
    check(pg.psql("SELECT value::text FROM state WHERE key = 'pgapp||layout'").strip() == '{"a": 1}',
          "keys are <appId>||<key>, values jsonb")
    cols = pg.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                   "WHERE table_name = 'state'").strip()
    check(cols == "key,value,isbinary,insertdate,updatedate,expiredate", f"v1 table layout: {cols}")
    check_error(sc.request("POST", "/v1.0/state/statestore", [{"key": "layout", "value": 2, "etag": "abc"}]), 400,
                "ERR_STATE_SAVE", "invalid etag")

    # the server goes down and comes back
    pg.stop()
    check_error(sc.request("GET", "/v1.0/state/statestore/layout"), 500, "ERR_STATE_GET", "postgresql")
    check_error(sc.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 1}]), 500, "ERR_STATE_SAVE")
    check(sc.request("GET", "/v1.0/healthz")[0] == 204, "healthy while PostgreSQL is down")
    pg.start()
    st, _, body = sc.request("GET", "/v1.0/state/statestore/layout")
    check(st == 200 and json.loads(body) == {"a": 1}, f"data back after restart: {st} {body!r}")
    check(sc.request("POST", "/v1.0/state/statestore", [{"key": "k", "value": 1}])[0] == 204, "writes work again")
    sc.cleanup()

    # a PostgreSQL 100 ms late per reply: N concurrent gets overlap (serialised: N x 100 ms at least)
    proxy = DelayProxy("127.0.0.1", pg.port, 0.1).start()
    sc = Sidecar(BIN, app_id="pgapp", args=["--threads", "2", "--log-level", "info"])
    slow = f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres sslmode=disable connect_timeout=5"
    sc.write_resource("pg.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: slow\n"
                                 "spec:\n  type: state.postgresql\n  version: v1\n  metadata:\n"
                                 f"  - name: connectionString\n    value: \"{slow}\"\n  - name: timeout\n    value: 2s\n")
    sc.start(timeout=30)
    N = 40

    async def batch(path, n):
        conns = [await asyncio.wait_for(asyncio.open_connection("127.0.0.1", sc.port), 20) for _ in range(n)]
        req = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()

        async def one(r, w):
            w.write(req)
            data = await asyncio.wait_for(r.read(), 60)
            w.close()
            return data.split(b" ", 2)[1] if data.startswith(b"HTTP/1.1 ") else b"0"
        t0 = time.time()
        res = await asyncio.gather(*(one(r, w) for r, w in conns))
        return res, time.time() - t0

    check(sc.request("GET", "/v1.0/state/slow/layout", timeout=20)[0] == 200, "a get through the slow proxy")
    asyncio.run(batch("/v1.0/state/slow/layout", 8))  # warm: the loops open their connections
    res, wall = asyncio.run(batch("/v1.0/state/slow/layout", N))
    print(f"{N} concurrent state.postgresql gets, replies 100 ms late, 2 loop threads: "
          f"{res.count(b'200')} ok in {wall * 1000:.0f} ms (serialised: {N * 100} ms or more)")
    check(res.count(b"200") == N, f"all answered: {sorted(set(res))}")
    check(wall < N * 0.1 * 0.6, f"concurrent, not serialised: {wall:.2f}s")

    # the server stops answering: 500 within timeout (2 s) + 1 s, the API stays served; then it serves again
    proxy.hold()
    try:
        t0 = time.time()
        r = sc.request("GET", "/v1.0/state/slow/layout", timeout=30)
        took = time.time() - t0
        check_error(r, 500, "ERR_STATE_GET")
        check(took < 10, f"a hung server costs the timeout, not forever: {took:.1f}s")
        check(sc.request("GET", "/v1.0/healthz")[0] == 204, "the API is served meanwhile")
    finally:
        proxy.release()
    deadline = time.time() + 20
    while time.time() < deadline and sc.request("GET", "/v1.0/state/slow/layout", timeout=20)[0] != 200:
        time.sleep(0.1)
    check(sc.request("GET", "/v1.0/state/slow/layout", timeout=20)[0] == 200, "serves again after the hang")
    sc.cleanup()
finally:
    pg.cleanup()
finish()
