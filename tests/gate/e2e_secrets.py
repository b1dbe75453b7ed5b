"""e2e_secrets.py: the secrets API as daprd answers it (issue 11):
GET /v1.0/secrets/{store}/{name} and /bulk for secretstores.local.env (prefix,
DAPR_* and APP_API_TOKEN never read) and secretstores.local.file (nested
names joined by nestedSeparator, arrays by index, non-string scalars as Go's
fmt prints them, multiValued), the Configuration's spec.secrets.scopes
(defaultAccess, allowedSecrets, deniedSecrets; 403 ERR_PERMISSION_DENIED,
bulk filtered), daprd's errors (ERR_SECRET_STORES_NOT_CONFIGURED,
ERR_SECRET_STORE_NOT_FOUND, ERR_SECRET_GET), metadata.* parameters accepted,
secret stores listed by /v1.0/metadata, and a file that cannot be read
stopping the start.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)


def get(sc, path, status=200):
    st, h, body = sc.request("GET", path)
    check(st == status, f"GET {path}: {st} {body[:300]!r}")
    try:
        return json.loads(body)
    except ValueError:
        return body


# no secret store at all
sc = Sidecar(BIN, app_id="sec").start()
check_error(sc.request("GET", "/v1.0/secrets/any/x"), 500, "ERR_SECRET_STORES_NOT_CONFIGURED",
            "secret store is not configured")
sc.stop()

sc = Sidecar(BIN, app_id="sec", env={"MYAPP_DB": "pw1", "MYAPP_API": "k2", "OTHER": "o", "APP_API_TOKEN": "apptok",
                                     "DAPR_API_TOKEN": "", "MYAPP_DAPR_X": "d"})
secrets_file = os.path.join(sc.dir, "secrets.json")
with open(secrets_file, "w") as f:
    json.dump({"db": {"user": "admin", "pass": "s3cret", "ports": [5432, 5433]}, "token": "t0k",
               "flag": True, "nothing": None, "ratio": 1.5, "count": 7}, f)
multi_file = os.path.join(sc.dir, "multi.json")
with open(multi_file, "w") as f:
    json.dump({"db": {"user": "admin", "pass": "s3cret", "nested": {"a": "b"}}, "plain": "p", "num": 3}, f)
sc.write_resource("stores.yaml", f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: envstore}}
spec:
  type: secretstores.local.env
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: prefixed}}
spec:
  type: secretstores.local.env
  version: v1
  metadata:
  - {{name: prefix, value: MYAPP_}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: filestore}}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {{name: secretsFile, value: "{secrets_file}"}}
  - {{name: nestedSeparator, value: "."}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: multi}}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {{name: secretsFile, value: "{multi_file}"}}
  - {{name: multiValued, value: "true"}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: scoped}}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {{name: secretsFile, value: "{secrets_file}"}}
""")
cfg = os.path.join(sc.dir, "config.yaml")
with open(cfg, "w") as f:
    f.write("""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: secrets}
spec:
  secrets:
    scopes:
    - storeName: scoped
      defaultAccess: allow
      deniedSecrets: ["token"]
    - storeName: prefixed
      defaultAccess: deny
      allowedSecrets: ["DB", "MISSING"]
    - storeName: envstore
      defaultAccess: deny
""")
sc.args += ["--config", cfg]
sc.start()

# env: {name: value}; an unset variable is "" (components-contrib), the sidecar's own are never read
check(get(sc, "/v1.0/secrets/prefixed/DB") == {"DB": "pw1"}, "env store with prefix")
check(get(sc, "/v1.0/secrets/prefixed/MISSING") == {"MISSING": ""}, "unset variable: empty value")
check(get(sc, "/v1.0/secrets/prefixed/bulk") == {"DB": {"DB": "pw1"}}, "bulk: prefix removed, scope filters")
check_error(sc.request("GET", "/v1.0/secrets/prefixed/API"), 403, "ERR_PERMISSION_DENIED",
            'access denied by policy to get "API" from "prefixed"')
check_error(sc.request("GET", "/v1.0/secrets/envstore/OTHER"), 403, "ERR_PERMISSION_DENIED")
check(get(sc, "/v1.0/secrets/envstore/bulk") == {}, "defaultAccess deny: bulk is empty")

# file: flattened with the separator, arrays by index, Go's fmt for other scalars
check(get(sc, "/v1.0/secrets/filestore/db.user") == {"db.user": "admin"}, "nested name")
check(get(sc, "/v1.0/secrets/filestore/db.ports.1") == {"db.ports.1": "%!s(float64=5433)"}, "array item, number")
check(get(sc, "/v1.0/secrets/filestore/flag?metadata.version=2") == {"flag": "%!s(bool=true)"},
      "bool, metadata.* accepted")
check(get(sc, "/v1.0/secrets/filestore/nothing") == {"nothing": "%!s(<nil>)"}, "null")
check(get(sc, "/v1.0/secrets/filestore/ratio") == {"ratio": "%!s(float64=1.5)"}, "float")
check_error(sc.request("GET", "/v1.0/secrets/filestore/db"), 500, "ERR_SECRET_GET",
            "failed getting secret with key db from secret store filestore: secret db not found")
bulk = get(sc, "/v1.0/secrets/filestore/bulk")
check(bulk.get("db.pass") == {"db.pass": "s3cret"} and bulk.get("token") == {"token": "t0k"} and len(bulk) == 9,
      f"file bulk: {bulk}")
# multiValued: the top level names secrets, objects are flattened key/values
check(get(sc, "/v1.0/secrets/multi/db") == {"user": "admin", "pass": "s3cret", "nested:a": "b"}, "multiValued object")
check(get(sc, "/v1.0/secrets/multi/plain") == {"plain": "p"}, "multiValued string")
check_error(sc.request("GET", "/v1.0/secrets/multi/num"), 500, "ERR_SECRET_GET", "secret num not found")
check(get(sc, "/v1.0/secrets/multi/bulk") == {"db": {"user": "admin", "pass": "s3cret", "nested:a": "b"},
                                              "plain": {"plain": "p"}}, "multiValued bulk")
# scopes with deniedSecrets
check_error(sc.request("GET", "/v1.0/secrets/scoped/token"), 403, "ERR_PERMISSION_DENIED")
check(get(sc, "/v1.0/secrets/scoped/db:user") == {"db:user": "admin"}, "default separator ':'")
check("token" not in get(sc, "/v1.0/secrets/scoped/bulk"), "bulk leaves denied secrets out")

check_error(sc.request("GET", "/v1.0/secrets/nope/x"), 401, "ERR_SECRET_STORE_NOT_FOUND",
            "failed finding secret store with key nope")
check(sc.request("POST", "/v1.0/secrets/filestore/token", b"")[0] == 405, "POST is not a secrets method")

md = get(sc, "/v1.0/metadata")
by_name = {c["name"]: c for c in md.get("components", [])}
for name in ("envstore", "prefixed", "filestore", "multi", "scoped"):
    check(name in by_name and by_name[name]["type"].startswith("secretstores.local."), f"metadata lists {name}")
check(by_name.get("multi", {}).get("capabilities") == ["MULTIPLE_KEY_VALUES_PER_SECRET"],
      f"multiValued capability: {by_name.get('multi')}")
sc.stop()

# a secrets file that cannot be read stops the start, naming the component
bad = Sidecar(BIN, app_id="sec")
bad.write_resource("bad.yaml", """apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: broken}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: /nonexistent/secrets.json}
""")
bad.spawn()
check(bad.wait_exit(10) not in (0, None) and "broken" in bad.logs(), f"unreadable file stops the start: {bad.logs()[-300:]}")
bad.finish_proc()
finish()
