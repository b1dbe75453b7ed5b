"""e2e_invoke_paths.py: how service invocation reads its target and method, as
daprd's findTargetIDAndMethod and NormalizeMethod do (issue 11, issue 18
items 10 and 14):

- an empty method (`.../method/`, `.../method/.`) calls the app at `/` with
  the query; the method is the decoded, cleaned path; `#`, `?`, NUL and
  control bytes in it are refused with daprd's 500 ERR_DIRECT_INVOKE;
- the app ID from the path (decoded), the `dapr-app-id` header (any path, the
  whole path is then the method) and HTTP Basic auth (user dapr-app-id);
  404 ERR_DIRECT_INVOKE when there is no target;
- accessControl checks the normalised method and the app receives exactly
  that: `public/../admin`, `%61dmin` and `public%2F..%2Fadmin` never reach a
  denied /admin;
- `%00` never truncates a key, store, topic or app ID.
"""
import base64
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshapp import MeshApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
TMP = tempfile.mkdtemp(prefix="wgg-invpath-")

app = MeshApp("svc")
sc = Sidecar(BIN, app_id="svc", args=["--app-port", str(app.port)]).start(wait_path="/v1.0/healthz")


def app_path(path, headers=None, method="GET"):
    st, h, body = sc.request(method, path, headers=headers or {})
    if st >= 300 or h.get("x-app") != "svc":
        return f"status {st}: {body[:200]!r}"
    return json.loads(body)["path"]


# the method: empty is the app's root, cleaned, decoded
check(app_path("/v1.0/invoke/svc/method/?a=1&b=%20") == "/?a=1&b=%20", "empty method: the app's / with the query")
check(app_path("/v1.0/invoke/svc/method/.") == "/", "'.' is the empty method")
check(app_path("/v1.0/invoke/svc/method/a/./b//c/../d") == "/a/b/d", "dot segments and duplicate slashes cleaned")
check(app_path("/v1.0/invoke/svc/method/../../x") == "/x", "leading .. dropped")
check(app_path("/v1.0/invoke/svc/method/%61dmin") == "/admin", "percent-decoded method")
check(app_path("/v1.0/invoke/svc/method/x%20y/caf%C3%A9") == "/x%20y/caf%C3%A9", "re-escaped for the request line")
check(app_path("/v1.0/invoke/svc/method/a%2Fb") == "/a/b", "%2F is a slash once decoded (Go's URL.Path)")
check(app_path("/v1.0/invoke/s%76c/method/id") == "/id", "the app ID is decoded")
check(app_path("/v1.0//invoke/svc/method/m") == "/m", "empty segments between the prefix parts")
for bad, what in (("a%3Fb", "forbidden character"), ("a%23b", "forbidden character"), ("a%00b", "forbidden character"),
                  ("a%0Ab", "control character at position 1")):
    check_error(sc.request("GET", "/v1.0/invoke/svc/method/" + bad), 500, "ERR_DIRECT_INVOKE",
                "failed to invoke, id: svc, err: rpc error: code = InvalidArgument desc = invalid method: method "
                "contains " + what)
check_error(sc.request("GET", "/v1.0/invoke/svc/method"), 404, "ERR_DIRECT_INVOKE",
            "failed getting app id either from the URL path or the header dapr-app-id")
check_error(sc.request("GET", "/nothing/here"), 404, "ERR_DIRECT_INVOKE", "failed getting app id")

# the dapr-app-id header: any path, the whole cleaned path is the method
hdr = {"dapr-app-id": "svc"}
check(app_path("/a/../b//c?q=1", hdr) == "/b/c?q=1", "header form: cleaned path")
check(app_path("/v1.0/invoke/other/method/x", hdr) == "/v1.0/invoke/other/method/x", "header wins on invoke paths")
check(app_path("/v1.0/unknown", hdr) == "/v1.0/unknown", "header form on an unknown /v1.0 route")
check(app_path("/", hdr) == "/", "header form: the root")
# basic auth: user dapr-app-id in any case, exactly one ':'; an ID is never cut at a NUL
def basic(s):
    return {"Authorization": "Basic " + base64.b64encode(s).decode()}


check(app_path("/orders/%61", basic(b"DAPR-APP-ID:svc")) == "/orders/a", "basic auth form, user case-insensitive")
check_error(sc.request("GET", "/orders", headers=basic(b"dapr-app-id:svc:x")), 404, "ERR_DIRECT_INVOKE")
check_error(sc.request("GET", "/orders", headers=basic(b"dapr-app-id:")), 404, "ERR_DIRECT_INVOKE", "failed getting app id")
check_error(sc.request("GET", "/orders", headers={"Authorization": "Basic ZGFwci1hcHAtaWQ6c3Zj" + "="}), 404,
            "ERR_DIRECT_INVOKE", "failed getting app id")  # not Go's padded base64: no basic-auth target
check_error(sc.request("GET", "/orders", headers=basic(b"dapr-app-id:svc\x00junk")), 500, "ERR_DIRECT_INVOKE",
            "couldn't find service")
check_error(sc.request("GET", "/v1.0/invoke/svc%00junk/method/x"), 500, "ERR_DIRECT_INVOKE", "couldn't find service")

# %00 never truncates a key or a name (issue 18 item 14)
sc.request("POST", "/v1.0/state/statestore", [{"key": "secret", "value": "kept"}])
check_error(sc.request("DELETE", "/v1.0/state/statestore/secret%00junk"), 400, "ERR_MALFORMED_REQUEST", "NUL")
check_error(sc.request("GET", "/v1.0/state/statestore/secret%00junk"), 400, "ERR_MALFORMED_REQUEST", "NUL")
check_error(sc.request("POST", "/v1.0/state/statestore%00x", [{"key": "k", "value": 1}]), 400,
            "ERR_MALFORMED_REQUEST", "NUL")
check_error(sc.request("POST", "/v1.0/publish/pubsub/topic%00x", b"{}"), 400, "ERR_MALFORMED_REQUEST", "NUL")
st, _, body = sc.request("GET", "/v1.0/state/statestore/secret")
check(st == 200 and json.loads(body) == "kept", f"secret survives DELETE secret%00junk: {st} {body!r}")
sc.stop()

# accessControl checks what the app receives (issue 18 item 10), through two sidecars
NR = f"""  nameResolution:
    component: sqlite
    configuration: {{connectionString: "{TMP}/nr.db", updateInterval: 2s}}
"""


def config(name, extra=""):
    path = os.path.join(TMP, name + ".yaml")
    with open(path, "w") as f:
        f.write(f"apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {{name: {name}}}\nspec:\n{NR}{extra}")
    return path


ACL_B = config("b", """  accessControl:
    defaultAction: deny
    policies:
    - appId: a
      defaultAction: deny
      namespace: default
      operations:
      - {name: /public/**, httpVerb: ['*'], action: allow}
""")
TOK, AUTH = {"DAPR_API_TOKEN": "t"}, {"dapr-api-token": "t"}
app_a, app_b = MeshApp("a"), MeshApp("b")
sb = Sidecar(BIN, app_id="b", args=["--app-port", str(app_b.port), "--config", ACL_B], env=dict(TOK, HOME=TMP)).start()
sa = Sidecar(BIN, app_id="a", args=["--app-port", str(app_a.port), "--config", config("a")],
             env=dict(TOK, HOME=TMP)).start()
st, _, body = sa.request("GET", "/v1.0/invoke/b/method/public/%61/./b", headers=AUTH)
check(st == 200 and json.loads(body)["path"] == "/public/a/b", f"allowed, normalised: {st} {body[:200]!r}")
for sneaky in ("public/../admin", "%61dmin", "public%2F..%2Fadmin", "public/%2E%2E/admin", "./admin", "//admin"):
    check_error(sa.request("GET", "/v1.0/invoke/b/method/" + sneaky, headers=AUTH), 403, "ERR_DIRECT_INVOKE",
                "operation: admin verb: GET")
check_error(sa.request("GET", "/admin/../public/../admin", headers=dict(AUTH, **{"dapr-app-id": "b"})), 403,
            "ERR_DIRECT_INVOKE", "operation: admin")
check(not [s for s in app_b.seen if "admin" in s["path"]], f"nothing reached /admin: {[s['path'] for s in app_b.seen]}")
sa.stop()
sb.stop()
finish()
