"""e2e_state_query.py: the state query API (POST|PUT /v1.0-alpha1/state/
{store}/query) through the real `wasmgate run`, as daprd 1.16 answers
(pkg/api/http/http.go onQueryStateHandler, pkg/api/universal/state_query.go,
the query language of components-contrib state/query):
- state.in-memory and state.sqlite run the same contract on the docs'
  employee data set: EQ, NEQ, GT/GTE/LT/LTE, IN, AND, OR (nested), sort
  ASC/DESC on nested paths, pages of `limit` with the offset token, 204 when
  nothing matches, keys without the app prefix, data as the stored JSON,
  the same ETag a GET returns;
- errors: unknown store, a store without query (state.redis against a real
  redis-server: ERR_STATE_STORE_NOT_SUPPORTED), malformed queries
  (ERR_STATE_QUERY with contrib's wording), 405 for other methods;
- QUERY_API in /v1.0/metadata for both stores, not for redis;
- hostile values never reach SQL text: a filter value holding SQL stays a value.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(115)

EMPLOYEES = [
    ("1", {"person": {"org": "Dev Ops", "id": 1036}, "city": "San Francisco", "state": "CA"}),
    ("2", {"person": {"org": "Hardware", "id": 1028}, "city": "Portland", "state": "OR"}),
    ("3", {"person": {"org": "Finance", "id": 1071}, "city": "Sacramento", "state": "CA"}),
    ("4", {"person": {"org": "Dev Ops", "id": 1042}, "city": "Spokane", "state": "WA"}),
    ("5", {"person": {"org": "Hardware", "id": 1007}, "city": "Los Angeles", "state": "CA"}),
    ("6", {"person": {"org": "Finance", "id": 1094}, "city": "Eugene", "state": "OR"}),
    ("7", {"person": {"org": "Dev Ops", "id": 1015}, "city": "San Francisco", "state": "CA"}),
    ("8", {"person": {"org": "Hardware", "id": 1077}, "city": "Redmond", "state": "WA"}),
    ("9", {"person": {"org": "Finance", "id": 1002}, "city": "San Diego", "state": "CA"}),
    ("10", {"person": {"org": "Dev Ops", "id": 1054}, "city": "New York", "state": "NY"}),
]
BY_KEY = dict(EMPLOYEES)


def comp(name, typ, meta=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: {typ}\n  version: v1\n" + (f"  metadata:\n{meta}" if meta else ""))


def query(sc, store, q, method="POST"):
    return sc.request(method, f"/v1.0-alpha1/state/{store}/query", q if isinstance(q, (str, bytes)) else json.dumps(q))


def keys(sc, store, q):
    st, _, body = query(sc, store, q)
    if st == 204:
        return []
    check(st == 200, f"{store}: {q}: status {st} {body[:300]!r}")
    try:
        return [r["key"] for r in json.loads(body)["results"]]
    except (ValueError, KeyError):
        return None


def contract(sc, store, pg=False):
    r = sc.request("POST", f"/v1.0/state/{store}", [{"key": k, "value": v} for k, v in EMPLOYEES])
    check(r[0] == 204, f"{store}: save: {r}")

    # EQ on a nested path, the result shape, the ETag a GET returns
    st, hdrs, body = query(sc, store, {"filter": {"EQ": {"person.org": "Finance"}}, "sort": [{"key": "person.id"}]})
    check(st == 200 and hdrs.get("content-type", "").startswith("application/json"), f"{store}: EQ: {st} {hdrs}")
    res = json.loads(body)
    check(set(res) == {"results"}, f"{store}: no token without a limit: {res}")
    check([r["key"] for r in res["results"]] == ["9", "3", "6"], f"{store}: EQ sorted by id: {res}")
    r9 = res["results"][0]
    check(r9["data"] == BY_KEY["9"], f"{store}: data is the stored JSON: {r9}")
    check(r9.get("etag") and (not pg or r9["etag"].isdigit()), f"{store}: etag {r9.get('etag')}")
    g = sc.request("GET", f"/v1.0/state/{store}/9")
    check(r9.get("etag") and r9["etag"] == g[1].get("etag"), f"{store}: etag {r9.get('etag')} vs GET {g[1].get('etag')}")

    # NEQ, IN, AND, OR (nested), comparisons; sorts
    check(keys(sc, store, {"filter": {"IN": {"state": ["OR", "WA"]}}, "sort": [{"key": "person.id", "order": "DESC"}]})
          == ["6", "8", "4", "2"], f"{store}: IN + DESC")
    check(keys(sc, store, {"filter": {"AND": [{"EQ": {"state": "CA"}}, {"NEQ": {"person.org": "Dev Ops"}}]},
                           "sort": [{"key": "person.id"}]}) == ["9", "5", "3"], f"{store}: AND/NEQ")
    q = {"filter": {"OR": [{"EQ": {"person.org": "Dev Ops"}},
                           {"AND": [{"EQ": {"person.org": "Finance"}}, {"IN": {"state": ["CA", "WA"]}}]}]},
         "sort": [{"key": "state", "order": "DESC"}, {"key": "person.id", "order": "ASC"}]}
    check(keys(sc, store, q) == ["4", "10", "9", "7", "1", "3"], f"{store}: OR of AND, two sort keys: {keys(sc, store, q)}")
    check(keys(sc, store, {"filter": {"GT": {"person.id": 1070}}, "sort": [{"key": "person.id"}]}) == ["3", "8", "6"],
          f"{store}: GT number")
    check(keys(sc, store, {"filter": {"AND": [{"GTE": {"person.id": 1028}}, {"LTE": {"person.id": 1042}}]},
                           "sort": [{"key": "person.id"}]}) == ["2", "1", "4"], f"{store}: GTE/LTE")
    check(keys(sc, store, {"filter": {"LT": {"person.id": 1010}}, "sort": [{"key": "person.id"}]}) == ["9", "5"],
          f"{store}: LT")
    if pg:  # daprd's PostgreSQL query compares text: the string "1036" matches the number
        check(keys(sc, store, {"filter": {"EQ": {"person.id": "1036"}}}) == ["1"], f"{store}: text comparison")
        check_error(query(sc, store, {"filter": {"GT": {"person.id": "1000"}}}), 500, "ERR_STATE_QUERY",
                    f"state store {store} query failed: unsupported type of value 1000; string type not permitted")
    else:
        check(keys(sc, store, {"filter": {"EQ": {"person.id": "1036"}}}) == [], f"{store}: typed: a string is not a number")
    check(len(keys(sc, store, {})) == 10, f"{store}: an empty query returns everything")
    check(keys(sc, store, {"filter": {"EQ": {"state": "TX"}}}) == [], f"{store}: no match")
    st, _, body = query(sc, store, {"filter": {"EQ": {"state": "TX"}}})
    check(st == 204 and body == b"", f"{store}: nothing matches is 204: {st} {body!r}")
    check(keys(sc, store, {"filter": {"EQ": {"nope.deeper": 1}}}) == [], f"{store}: a missing path matches nothing")
    # a value holding SQL is only ever a value
    check(keys(sc, store, {"filter": {"EQ": {"state": "CA' OR '1'='1"}}}) == [], f"{store}: SQL in a value")
    check(keys(sc, store, {"filter": {"EQ": {"state') OR 1=1 --": "CA"}}}) == [], f"{store}: SQL in a key path")

    # pages: limit and the offset token, until a short page; then 204
    seen, token, pages = [], None, 0
    while pages < 10:
        q = {"filter": {"EQ": {"state": "CA"}}, "sort": [{"key": "person.id"}], "page": {"limit": 2}}
        if token:
            q["page"]["token"] = token
        st, _, body = query(sc, store, q)
        if st == 204:
            break
        res = json.loads(body)
        pages += 1
        check(len(res["results"]) <= 2 and "token" in res, f"{store}: page {pages}: {res}")
        seen += [r["key"] for r in res["results"]]
        token = res["token"]
    check(seen == ["9", "5", "7", "1", "3"] and pages == 3 and token == "5", f"{store}: pages {seen} {pages} {token}")
    # PUT is the same route
    st, _, body = query(sc, store, {"filter": {"EQ": {"city": "Eugene"}}}, method="PUT")
    check(st == 200 and [r["key"] for r in json.loads(body)["results"]] == ["6"], f"{store}: PUT: {st} {body!r}")

    # malformed queries: 500 ERR_STATE_QUERY, contrib's wording
    pre = f"state store {store} query failed: failed to parse JSON query body: "
    for q, msg in [("{", ""), ({"filter": {"FOO": {"a": 1}}}, 'unsupported filter "FOO"'),
                   ({"filter": {"EQ": {"a": 1}, "IN": {"b": [1]}}}, "filter unit must have a single element"),
                   ({"filter": {"EQ": [1]}}, "EQ filter must be a map"),
                   ({"filter": {"EQ": {"a": 1, "b": 2}}}, "EQ filter must contain a single key/value pair"),
                   ({"filter": {"IN": {"a": 1}}}, "IN filter value must be an array"),
                   ({"filter": {"IN": {"a": []}}}, 'empty IN operator for key "a"'),
                   ({"filter": {"AND": [{"EQ": {"a": 1}}]}}, "AND filter must contain at least two entries"),
                   ({"filter": {"OR": {"EQ": {"a": 1}}}}, "OR filter must be an array"),
                   ({"page": {"limit": 2, "token": "abc"}}, 'strconv.ParseInt: parsing "abc": invalid syntax'),
                   ({"filter": "x"}, "json: cannot unmarshal string into Go struct field QueryFields.filter"),
                   ({"sort": [{"key": "a", "order": "sideways"}]}, "invalid sort order")]:
        check_error(query(sc, store, q), 500, "ERR_STATE_QUERY", pre + msg)
    r = sc.request("GET", f"/v1.0-alpha1/state/{store}/query")
    check(r[0] == 405, f"{store}: GET is 405: {r[0]}")
    deep = {"EQ": {"a": 1}}
    for _ in range(200):
        deep = {"AND": [deep, {"EQ": {"b": 1}}]}
    check_error(query(sc, store, {"filter": deep}), 500, "ERR_STATE_QUERY", "nested deeper")


def main():
    rd = Redis().start() if shutil.which("redis-server") else None
    sc = Sidecar(BIN, app_id="qapp")
    sc.write_resource("mem.yaml", comp("mem", "state.in-memory"))
    sc.write_resource("sql.yaml", comp("sql", "state.sqlite", "  - name: connectionString\n    value: query.db\n"))
    if rd:
        sc.write_resource("rd.yaml", comp("rd", "state.redis", f"  - name: redisHost\n    value: 127.0.0.1:{rd.port}\n"))
    sc.start()
    contract(sc, "mem")
    contract(sc, "sql")

    md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
    caps = {c["name"]: c.get("capabilities", []) for c in md["components"]}
    check("QUERY_API" in caps["mem"] and "QUERY_API" in caps["sql"], f"QUERY_API in metadata: {caps}")
    check_error(query(sc, "nostore", {}), 400, "ERR_STATE_STORE_NOT_FOUND", "state store nostore is not found")
    if rd:
        check("QUERY_API" not in caps["rd"], f"no QUERY_API for redis: {caps['rd']}")
        check_error(query(sc, "rd", {}), 500, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support querying")
    sc.stop()
    finish()


if __name__ == "__main__":
    main()
