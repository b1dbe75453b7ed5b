"""e2e_json_fields.py: request bodies are read as daprd reads them (Go's
encoding/json and mapstructure): field names match case-insensitively, the
last matching key wins, and map members (metadata) keep exact keys. Found by
the Dapr JS SDK, whose bulk publish sends "entryID" (daprd's field is
entryId): wasmgate answered 400 "entryId is duplicated or not present".
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(60)
sc = Sidecar(BIN, app_id="jf").start()

r = sc.request("POST", "/v1.0-alpha1/publish/bulk/pubsub/t", [
    {"entryID": "1", "Event": {"a": 1}, "ContentType": "application/json"},
    {"ENTRYID": "2", "event": "x", "contentType": "text/plain"}])
check(r[0] == 204, f"bulk publish with entryID / ENTRYID: {r}")

r = sc.request("POST", "/v1.0/state/statestore", [{"Key": "a", "VALUE": {"v": 1}}, {"key": "b", "value": 1, "Value": 2}])
check(r[0] == 204, f"save with Key / VALUE: {r}")
st, _, body = sc.request("GET", "/v1.0/state/statestore/a")
check(st == 200 and json.loads(body) == {"v": 1}, f"Key/VALUE saved: {st} {body!r}")
st, _, body = sc.request("GET", "/v1.0/state/statestore/b")
check(st == 200 and json.loads(body) == 2, f"the last matching field wins: {st} {body!r}")

r = sc.request("POST", "/v1.0/state/statestore/transaction",
               {"Operations": [{"Operation": "upsert", "Request": {"KEY": "c", "Value": "cv"}},
                               {"OPERATION": "delete", "request": {"key": "a"}}]})
check(r[0] == 204, f"transaction with capitalised fields: {r}")
check(sc.request("GET", "/v1.0/state/statestore/c")[2] == b'"cv"', "upsert applied")
check(sc.request("GET", "/v1.0/state/statestore/a")[0] == 204, "delete applied")

st, _, body = sc.request("POST", "/v1.0/state/statestore/bulk", {"Keys": ["b", "c"]})
check(st == 200 and [x["key"] for x in json.loads(body)] == ["b", "c"], f"bulk get with Keys: {st} {body!r}")
sc.stop()
finish()
