"""statesuite.py: the state API contract, run by e2e_state.py and e2e_redis.py
against every store through the real binary."""
import json
import time

from wgtest import check, check_error


def run_suite(sc, store="statestore", etag_ok=lambda e: bool(e) and len(e) == 36):
    """Runs the whole state API contract against store on sidecar sc; etag_ok
    says whether an ETag has the store's form."""
    base = f"/v1.0/state/{store}"
    r = sc.request("POST", base, [{"key": "k1", "value": {"n": 1}}, {"key": "s", "value": "hello"},
                                  {"key": "a b/c", "value": [1, 2]}])
    check(r[0] == 204 and r[2] == b"", f"save: {r}")
    st, h, body = sc.request("GET", f"{base}/k1")
    check(st == 200 and json.loads(body) == {"n": 1}, f"get k1: {st} {body!r}")
    etag1 = h.get("etag")
    check(etag_ok(etag1), f"ETag header: {h}")
    st, h, body = sc.request("GET", f"{base}/s")
    check(st == 200 and body == b'"hello"', f"string values come back as JSON: {body!r}")
    st, h, body = sc.request("GET", f"{base}/a%20b%2Fc")
    check(st == 200 and json.loads(body) == [1, 2], f"escaped key: {st} {body!r}")
    r = sc.request("GET", f"{base}/missing")
    check(r[0] == 204 and r[2] == b"", f"missing key is 204: {r}")

    # ETags: a matching one updates; the old one is a conflict; a malformed one is 400
    r = sc.request("PUT", base, [{"key": "k1", "value": {"n": 2}, "etag": etag1}])
    check(r[0] == 204, f"save with matching etag: {r}")
    check_error(sc.request("POST", base, [{"key": "k1", "value": 3, "etag": etag1}]), 409, "ERR_STATE_SAVE",
                f"failed saving state in state store {store}: possible etag mismatch. error from state store: etag mismatch")
    check_error(sc.request("POST", base, [{"key": "k1", "value": 3, "etag": "garbage"}]), 400, "ERR_STATE_SAVE",
                "invalid etag")
    st, h, body = sc.request("GET", f"{base}/k1")
    check(json.loads(body) == {"n": 2}, f"failed writes changed nothing: {body!r}")
    etag2 = h.get("etag")
    check(etag2 != etag1, "etag changes on write")

    # first-write without an ETag only creates
    fw = {"concurrency": "first-write", "consistency": "strong"}
    check_error(sc.request("POST", base, [{"key": "k1", "value": 9, "options": fw}]), 409, "ERR_STATE_SAVE",
                "the key already exists (first-write)")
    r = sc.request("POST", base, [{"key": "fw-new", "value": 1, "options": fw}])
    check(r[0] == 204, f"first-write creates: {r}")
    r = sc.request("POST", base, [{"key": "lw", "value": 1, "options": {"concurrency": "last-write"}}])
    check(r[0] == 204, f"last-write: {r}")
    check_error(sc.request("POST", base, [{"key": "x", "value": 1, "options": {"concurrency": "most-write"}}]),
                400, "ERR_STATE_SAVE", "concurrency")

    # bulk get: "data" (not "value"), absent keys carry only "key"
    st, h, body = sc.request("POST", f"{base}/bulk", {"keys": ["k1", "missing", "s"], "parallelism": 2})
    items = json.loads(body) if st == 200 else []
    check(st == 200 and len(items) == 3, f"bulk: {st} {body!r}")
    if len(items) == 3:
        check(items[0] == {"key": "k1", "data": {"n": 2}, "etag": etag2}, f"bulk item 0: {items[0]}")
        check(items[1] == {"key": "missing"}, f"bulk item 1: {items[1]}")
        check(items[2]["data"] == "hello", f"bulk item 2: {items[2]}")
    check_error(sc.request("POST", f"{base}/bulk", {"nokeys": 1}), 400, "ERR_MALFORMED_REQUEST")

    # delete with If-Match
    check_error(sc.request("DELETE", f"{base}/k1", headers={"If-Match": etag1}), 409, "ERR_STATE_DELETE")
    check_error(sc.request("DELETE", f"{base}/k1", headers={"If-Match": "bad"}), 400, "ERR_STATE_DELETE",
                "failed deleting state with key k1: invalid etag value: bad")
    r = sc.request("DELETE", f"{base}/k1", headers={"If-Match": etag2})
    check(r[0] == 204, f"delete with etag: {r}")
    check(sc.request("GET", f"{base}/k1")[0] == 204, "deleted key is gone")
    check(sc.request("DELETE", f"{base}/k1")[0] == 204, "deleting an absent key is 204")

    # transactions: all or nothing
    txn = {"operations": [{"operation": "upsert", "request": {"key": "t1", "value": "v1"}},
                          {"operation": "upsert", "request": {"key": "t2", "value": "v2"}},
                          {"operation": "delete", "request": {"key": "s"}}],
           "metadata": {"partitionKey": "p"}}
    r = sc.request("POST", f"{base}/transaction", txn)
    check(r[0] == 204, f"transaction: {r}")
    check(sc.request("GET", f"{base}/t2")[2] == b'"v2"', "transaction upsert applied")
    check(sc.request("GET", f"{base}/s")[0] == 204, "transaction delete applied")
    t1_old = sc.request("GET", f"{base}/t1")[1].get("etag")
    check(sc.request("POST", base, [{"key": "t1", "value": "v1b"}])[0] == 204, "overwrite t1")
    bad_txn = {"operations": [{"operation": "upsert", "request": {"key": "t3", "value": 3}},
                              {"operation": "upsert", "request": {"key": "t1", "value": 0, "etag": t1_old}}]}
    # daprd answers every failure of the store's transaction with 500 (not 409/400 as single saves)
    check_error(sc.request("POST", f"{base}/transaction", bad_txn), 500, "ERR_STATE_TRANSACTION",
                "error while executing state transaction: possible etag mismatch. error from state store")
    check(sc.request("GET", f"{base}/t3")[0] == 204, "a failed transaction applies nothing")
    bad_etag = {"operations": [{"operation": "upsert", "request": {"key": "t3", "value": 3}},
                               {"operation": "delete", "request": {"key": "t1", "etag": "not-an-etag"}}]}
    check_error(sc.request("POST", f"{base}/transaction", bad_etag), 500, "ERR_STATE_TRANSACTION",
                "error while executing state transaction: invalid etag value")
    check(sc.request("GET", f"{base}/t3")[0] == 204, "a transaction with an unparsable ETag applies nothing")
    check_error(sc.request("POST", f"{base}/transaction",
                           {"operations": [{"operation": "merge", "request": {"key": "a"}}]}),
                400, "ERR_NOT_SUPPORTED_STATE_OPERATION", "merge")

    # TTL, per item and through the query string
    r = sc.request("POST", base, [{"key": "ttl1", "value": 1, "metadata": {"ttlInSeconds": "1"}}])
    check(r[0] == 204, f"ttl save: {r}")
    r = sc.request("POST", base + "?metadata.ttlInSeconds=1", [{"key": "ttl2", "value": 2}])
    check(r[0] == 204, f"ttl save via query: {r}")
    st, h, _ = sc.request("GET", f"{base}/ttl1")
    check(st == 200 and "metadata.ttlexpiretime" in h, f"ttlExpireTime header: {st} {h}")
    check_error(sc.request("POST", base, [{"key": "ttl3", "value": 1, "metadata": {"ttlInSeconds": "soon"}}]),
                400, "ERR_STATE_SAVE", "ttlInSeconds")
    time.sleep(2.2)
    check(sc.request("GET", f"{base}/ttl1")[0] == 204, "ttl1 expired")
    check(sc.request("GET", f"{base}/ttl2")[0] == 204, "ttl2 expired")

    # malformed requests get Dapr's errors and change nothing
    check_error(sc.request("POST", base, "[{\"key\":"), 400, "ERR_MALFORMED_REQUEST", "failed deserializing")
    check_error(sc.request("POST", base, {"key": "k", "value": 1}), 400, "ERR_MALFORMED_REQUEST")
    check_error(sc.request("POST", base, [{"value": 1}]), 400, "ERR_MALFORMED_REQUEST", '"key" is a required field')
    check_error(sc.request("POST", base, [{"key": "a||b", "value": 1}]), 400, "ERR_MALFORMED_REQUEST", "||")
    check_error(sc.request("GET", f"{base}/a%7C%7Cb"), 400, "ERR_MALFORMED_REQUEST")
    check_error(sc.request("POST", base, b"\xff\xfe not json"), 400, "ERR_MALFORMED_REQUEST")
    check_error(sc.request("GET", "/v1.0/state/nostore/k1"), 400, "ERR_STATE_STORE_NOT_FOUND", "nostore")
    check_error(sc.request("GET", "/v1.0/state/no%FF%C3store/k1"), 400, "ERR_STATE_STORE_NOT_FOUND", "no??store")
    check_error(sc.request("GET", f"{base}/bad%"), 400, "ERR_MALFORMED_REQUEST", "percent-encoding")
    r = sc.request("POST", base, [{"key": "caf\u00e9 \u2603", "value": "\u00fcnic\u00f6de"}])
    check(r[0] == 204, f"unicode key and value: {r}")
    st, _, body = sc.request("GET", f"{base}/caf%C3%A9%20%E2%98%83")
    check(st == 200 and json.loads(body) == "\u00fcnic\u00f6de", f"unicode round trip: {st} {body!r}")
    check_error(sc.request("POST", "/v1.0/state/nostore", [{"key": "a", "value": 1}]), 400,
                "ERR_STATE_STORE_NOT_FOUND")
    check(sc.request("PATCH", base)[0] == 405, "PATCH on the save route is 405")
