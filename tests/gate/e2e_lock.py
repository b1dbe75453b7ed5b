"""e2e_lock.py: the distributed lock API (POST /v1.0-alpha1/lock/{store},
/v1.0-alpha1/unlock/{store}) through the real `wasmgate run`, as daprd 1.16
answers (pkg/api/http/lock.go, pkg/api/universal/lock.go, messages):
- the embedded default lock.in-memory ("lockstore") and lock.redis against a
  real redis-server started here run the same contract: {"success": bool},
  {"status": 0 SUCCESS | 1 LOCK_DOES_NOT_EXIST | 2 LOCK_BELONGS_TO_OTHERS};
- daprd's validation order, status codes, error codes and texts;
- the key in Redis is lock||<appId>||<resourceId> holding the owner, with the
  expiry as its TTL (keyPrefix name / none / a fixed string change it);
- mutual exclusion: many threads race for one resource through the HTTP API;
  a shared counter updated read-modify-write under the lock never loses an
  update and no two holders overlap; an expired lock frees itself.
"""
import json
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokers import Redis  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(115)
if not shutil.which("redis-server"):
    print("redis-server is not installed (scripts/deps.sh installs it)")
    sys.exit(1)


def lock(sc, store, body):
    return sc.request("POST", f"/v1.0-alpha1/lock/{store}", body)


def unlock(sc, store, body):
    return sc.request("POST", f"/v1.0-alpha1/unlock/{store}", body)


def j(resp):
    return resp[0], json.loads(resp[2]) if resp[2] else None


def contract(sc, store):
    """The lock/unlock contract on store (a fresh one)."""
    r = j(lock(sc, store, {"resourceId": "r1", "lockOwner": "alice", "expiryInSeconds": 30}))
    check(r == (200, {"success": True}), f"{store}: first lock: {r}")
    r = j(lock(sc, store, {"resourceId": "r1", "lockOwner": "bob", "expiryInSeconds": 30}))
    check(r == (200, {"success": False}), f"{store}: held by another: {r}")
    r = j(lock(sc, store, {"resourceId": "r1", "lockOwner": "alice", "expiryInSeconds": 30}))
    check(r == (200, {"success": False}), f"{store}: held, same owner (no re-entry): {r}")
    r = j(unlock(sc, store, {"resourceId": "r1", "lockOwner": "bob"}))
    check(r == (200, {"status": 2}), f"{store}: unlock by another: {r}")
    r = j(unlock(sc, store, {"resourceId": "r1", "lockOwner": "alice"}))
    check(r == (200, {"status": 0}), f"{store}: unlock by the owner: {r}")
    r = j(unlock(sc, store, {"resourceId": "r1", "lockOwner": "alice"}))
    check(r == (200, {"status": 1}), f"{store}: unlock again: {r}")
    r = j(lock(sc, store, {"resource_id": "r1", "lock_owner": "bob", "expiry_in_seconds": "30", "extra": [1]}))
    check(r == (200, {"success": True}), f"{store}: proto field names, string int32, unknown field: {r}")
    check(j(unlock(sc, store, {"resourceId": "r1", "lockOwner": "bob"})) == (200, {"status": 0}), "unlock bob")
    # expiry frees the lock
    check(j(lock(sc, store, {"resourceId": "exp", "lockOwner": "a", "expiryInSeconds": 1}))[1] == {"success": True},
          f"{store}: lock for 1s")
    check(j(lock(sc, store, {"resourceId": "exp", "lockOwner": "b", "expiryInSeconds": 1}))[1] == {"success": False},
          f"{store}: held within the second")
    time.sleep(1.3)
    check(j(lock(sc, store, {"resourceId": "exp", "lockOwner": "b", "expiryInSeconds": 5}))[1] == {"success": True},
          f"{store}: free after expiry")
    check(j(unlock(sc, store, {"resourceId": "exp", "lockOwner": "a"}))[1] == {"status": 2}, f"{store}: a lost it")
    check(j(unlock(sc, store, {"resourceId": "exp", "lockOwner": "b"}))[1] == {"status": 0}, f"{store}: b unlocks")

    # validation, in daprd's order
    check_error(lock(sc, store, {"resourceId": "x", "lockOwner": "o"}), 400, "ERR_MALFORMED_REQUEST",
                f"ExpiryInSeconds is not positive in lock store {store}")
    check_error(lock(sc, store, {"resourceId": "x", "lockOwner": "o", "expiryInSeconds": -1}), 400,
                "ERR_MALFORMED_REQUEST", "ExpiryInSeconds is not positive")
    check_error(lock(sc, "nostore", {"lockOwner": "o", "expiryInSeconds": 0}), 400, "ERR_MALFORMED_REQUEST",
                "ExpiryInSeconds is not positive in lock store nostore")
    check_error(lock(sc, store, {"lockOwner": "o", "expiryInSeconds": 5}), 400, "ERR_MALFORMED_REQUEST",
                f"ResourceId is empty in lock store {store}")
    check_error(lock(sc, store, {"resourceId": "x", "expiryInSeconds": 5}), 400, "ERR_MALFORMED_REQUEST",
                f"LockOwner is empty in lock store {store}")
    check_error(lock(sc, "nostore", {"resourceId": "x", "lockOwner": "o", "expiryInSeconds": 5}), 400,
                "ERR_LOCK_STORE_NOT_FOUND", "lock store nostore not found")
    check_error(unlock(sc, store, {"lockOwner": "o"}), 400, "ERR_MALFORMED_REQUEST",
                f"ResourceId is empty in lock store {store}")
    check_error(unlock(sc, store, {"resourceId": "x"}), 400, "ERR_MALFORMED_REQUEST",
                f"LockOwner is empty in lock store {store}")
    check_error(unlock(sc, "nostore", {"resourceId": "x", "lockOwner": "o"}), 400, "ERR_LOCK_STORE_NOT_FOUND",
                "lock store nostore not found")
    check_error(lock(sc, store, {"resourceId": "a||b", "lockOwner": "o", "expiryInSeconds": 5}), 500,
                "ERR_TRY_LOCK", "failed to try acquiring lock: input key/keyPrefix 'a||b' can't contain '||'")
    check_error(unlock(sc, store, {"resourceId": "a||b", "lockOwner": "o"}), 500, "ERR_UNLOCK",
                "failed to release lock: input key/keyPrefix 'a||b' can't contain '||'")
    check_error(lock(sc, store, "{not json"), 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
    check_error(lock(sc, store, "[1]"), 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
    check_error(lock(sc, store, {"resourceId": 5, "lockOwner": "o", "expiryInSeconds": 5}), 400,
                "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
    check_error(lock(sc, store, {"resourceId": "x", "lockOwner": "o", "expiryInSeconds": 1.5}), 400,
                "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
    check_error(lock(sc, store, {"resourceId": "x", "lockOwner": "o", "expiryInSeconds": 2 ** 31}), 400,
                "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
    check_error(lock(sc, store, ""), 400, "ERR_MALFORMED_REQUEST", "ExpiryInSeconds is not positive")
    check(sc.request("GET", f"/v1.0-alpha1/lock/{store}")[0] == 405, "GET lock is 405")
    check(sc.request("PUT", f"/v1.0-alpha1/unlock/{store}")[0] == 405, "PUT unlock is 405")
    check(sc.request("POST", "/v1.0-alpha1/lock/")[0] == 404, "lock without a store is 404")
    check(sc.request("POST", f"/v1.0-alpha1/lock/{store}/x")[0] == 404, "lock/{store}/x is 404")


def race(sc, store, resource, n_threads=12, rounds=8):
    """n_threads callers race for resource; each holder does a slow
    read-modify-write of a shared counter and checks nobody else holds it."""
    state = {"counter": 0, "holders": 0, "overlap": 0, "acquired": 0, "errors": []}
    mu = threading.Lock()

    def worker(i):
        owner = f"w{i}"
        done = 0
        deadline = time.time() + 60
        while done < rounds and time.time() < deadline:
            st, body = j(lock(sc, store, {"resourceId": resource, "lockOwner": owner, "expiryInSeconds": 30}))
            if st != 200:
                state["errors"].append((st, body))
                return
            if not body["success"]:
                time.sleep(0.002)
                continue
            with mu:
                state["holders"] += 1
                if state["holders"] > 1:
                    state["overlap"] += 1
                state["acquired"] += 1
            v = state["counter"]
            time.sleep(0.001)
            state["counter"] = v + 1
            with mu:
                state["holders"] -= 1
            st, body = j(unlock(sc, store, {"resourceId": resource, "lockOwner": owner}))
            if (st, body) != (200, {"status": 0}):
                state["errors"].append((st, body))
                return
            done += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(90)
    total = n_threads * rounds
    check(not state["errors"], f"{store}: race errors: {state['errors'][:3]}")
    check(state["overlap"] == 0, f"{store}: {state['overlap']} overlapping holders")
    check(state["acquired"] == total and state["counter"] == total,
          f"{store}: {state['acquired']} acquisitions, counter {state['counter']}, expected {total}")


# ---- the embedded default: lock.in-memory named lockstore ----
sc = Sidecar(BIN, app_id="lapp")
sc.start()
contract(sc, "lockstore")
race(sc, "lockstore", "hot")
sc.stop()

# no lock store at all: ERR_LOCK_STORE_NOT_CONFIGURED (after the expiry check, before the others)
sc = Sidecar(BIN, app_id="none")
sc.write_resource("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: s\nspec:\n"
                  "  type: state.in-memory\n  version: v1\n")
sc.start()
check_error(lock(sc, "lockstore", {"resourceId": "x", "lockOwner": "o", "expiryInSeconds": 5}), 500,
            "ERR_LOCK_STORE_NOT_CONFIGURED", "lock store is not configured")
check_error(lock(sc, "lockstore", {}), 400, "ERR_MALFORMED_REQUEST", "ExpiryInSeconds is not positive")
check_error(unlock(sc, "lockstore", {}), 500, "ERR_LOCK_STORE_NOT_CONFIGURED", "lock store is not configured")
sc.stop()


# ---- lock.redis against a real Redis ----
def redis_lock(name, port, extra=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: lock.redis\n  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:{port}\n"
            f"  - name: redisPassword\n    value: \"\"\n{extra}")


rd = Redis().start()
sc = Sidecar(BIN, app_id="rl")
sc.write_resource("lock.yaml", redis_lock("redislock", rd.port))
sc.write_resource("lock2.yaml", redis_lock("byname", rd.port, "  - name: keyPrefix\n    value: name\n"))
sc.write_resource("lock3.yaml", redis_lock("shared", rd.port, "  - name: keyPrefix\n    value: none\n"))
sc.write_resource("lock4.yaml", redis_lock("fixed", rd.port, "  - name: keyPrefix\n    value: Team1\n"))
sc.start()
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
check({"name": "redislock", "type": "lock.redis", "version": "v1", "capabilities": []} in md["components"],
      f"metadata lists lock.redis: {md['components']}")
contract(sc, "redislock")

check(j(lock(sc, "redislock", {"resourceId": "lay", "lockOwner": "me", "expiryInSeconds": 100}))[1] ==
      {"success": True}, "lock lay")
check(rd.cmd("GET", "lock||rl||lay") == "me", f"key layout lock||<appId>||<resourceId>: {rd.cmd('KEYS', '*')}")
ttl = rd.cmd("TTL", "lock||rl||lay")
check(90 <= ttl <= 100, f"expiry is the key's TTL: {ttl}")
for store, key in (("byname", "lock||byname||k"), ("shared", "lock||k"), ("fixed", "lock||team1||k")):
    check(j(lock(sc, store, {"resourceId": "k", "lockOwner": "me", "expiryInSeconds": 10}))[1] == {"success": True},
          f"lock on {store}")
    check(rd.cmd("GET", key) == "me", f"{store}: key {key}: {sorted(rd.cmd('KEYS', '*'))}")
# another owner's key written behind the sidecar's back: unlock says it belongs to others
rd.cmd("SET", "lock||rl||ext", "someone")
check(j(unlock(sc, "redislock", {"resourceId": "ext", "lockOwner": "me"}))[1] == {"status": 2}, "foreign owner")
check(rd.cmd("GET", "lock||rl||ext") == "someone", "a foreign lock is left alone")
race(sc, "redislock", "hot")

# Redis down: 500 ERR_TRY_LOCK / ERR_UNLOCK, the sidecar stays up; back: it recovers by itself
rd.stop()
check_error(lock(sc, "redislock", {"resourceId": "d", "lockOwner": "o", "expiryInSeconds": 5}), 500, "ERR_TRY_LOCK",
            "failed to try acquiring lock: ")
check_error(unlock(sc, "redislock", {"resourceId": "d", "lockOwner": "o"}), 500, "ERR_UNLOCK",
            "failed to release lock: ")
rd2 = Redis(port=rd.port).start()
check(j(lock(sc, "redislock", {"resourceId": "d", "lockOwner": "o", "expiryInSeconds": 5})) == (200, {"success": True}),
      "recovers when Redis is back")
sc.stop()

# a start with Redis unreachable is refused (components-contrib's Init pings)
rd2.stop()
sc = Sidecar(BIN, app_id="rl2")
sc.write_resource("lock.yaml", redis_lock("redislock", rd.port))
sc.spawn()
rc = sc.wait_exit(15)
check(rc not in (None, 0), f"start refused without Redis: {rc}")
check("error connecting to Redis" in sc.logs(), f"log says why: {sc.logs()[-500:]}")
sc.finish_proc()
finish()
