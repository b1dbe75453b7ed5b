"""e2e_mesh_acl.py: the Configuration's accessControl on the called sidecar
(Dapr's invoke-allowlist rules) for calls from other sidecars: operations
with `*` and `**`, httpVerb lists, policy and global default actions, the
caller's namespace, 403 ERR_DIRECT_INVOKE with Dapr's message passed back
to the caller; an app calling itself is not checked; without
DAPR_API_TOKEN the caller cannot be trusted and the global defaultAction
decides.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshapp import MeshApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)
TMP = tempfile.mkdtemp(prefix="wgg-acl-")
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
    trustDomain: public
    policies:
    - appId: a
      defaultAction: deny
      trustDomain: public
      namespace: default
      operations:
      - {name: /allowed/*, httpVerb: [GET], action: allow}
      - {name: /open/**, httpVerb: ['*'], action: allow}
      - {name: /allowed/secret, httpVerb: ['*'], action: deny}
    - appId: c
      defaultAction: allow
      namespace: other
""")
PLAIN = config("plain")
TOK = {"DAPR_API_TOKEN": "meshtok"}
AUTH = {"dapr-api-token": "meshtok"}


def sidecar(app_id, app, cfg, env=None):
    return Sidecar(BIN, app_id=app_id, args=["--app-port", str(app.port), "--config", cfg],
                   env=dict({"HOME": TMP}, **(env or {}))).start()


app_a, app_b, app_c = MeshApp("a"), MeshApp("b"), MeshApp("c")
sb = sidecar("b", app_b, ACL_B, TOK)
sa = sidecar("a", app_a, PLAIN, TOK)
sc = sidecar("c", app_c, PLAIN, TOK)

check(sa.request("GET", "/v1.0/invoke/b/method/allowed/x", headers=AUTH)[0] == 200, "a: GET /allowed/x allowed")
check(sa.request("PUT", "/v1.0/invoke/b/method/open/deep/er?q=1", b"x", headers=AUTH)[0] == 200, "a: /open/** any verb")
check_error(sa.request("POST", "/v1.0/invoke/b/method/allowed/x", b"x", headers=AUTH), 403, "ERR_DIRECT_INVOKE",
            "failed to invoke, id: b, err: access control policy has denied access to id: "
            "spiffe://public/ns/default/a operation: allowed/x verb: POST")
check_error(sa.request("GET", "/v1.0/invoke/b/method/allowed/x/y", headers=AUTH), 403, "ERR_DIRECT_INVOKE",
            "operation: allowed/x/y verb: GET")
check_error(sa.request("GET", "/v1.0/invoke/b/method/other", headers=AUTH), 403, "ERR_DIRECT_INVOKE",
            "denied access")
n = app_b.calls("/allowed/secret")
r = sa.request("GET", "/v1.0/invoke/b/method/allowed/secret", headers=AUTH)
check(r[0] == 200 and app_b.calls("/allowed/secret") == n + 1, "the first matching operation decides (allow before deny)")
check(app_b.calls("/other") == 0 and app_b.calls("/allowed/x/y") == 0, "denied calls never reach the app")
# the dapr-app-id header form is checked the same way
check_error(sa.request("DELETE", "/allowed/x", headers=dict(AUTH, **{"dapr-app-id": "b"})), 403, "ERR_DIRECT_INVOKE",
            "verb: DELETE")
# c's policy wants namespace "other": c runs in "default", so the global deny applies
check_error(sc.request("GET", "/v1.0/invoke/b/method/anything", headers=AUTH), 403, "ERR_DIRECT_INVOKE",
            "spiffe://public/ns/default/c")
sc.stop()
sc = sidecar("c", app_c, PLAIN, dict(TOK, NAMESPACE="other"))
check(sc.request("GET", "/v1.0/invoke/b/method/anything", headers=AUTH)[0] == 200, "c from namespace other: allowed")
# an app calling itself through its sidecar is not subject to accessControl
check(sb.request("POST", "/v1.0/invoke/b/method/whatever", b"x", headers=AUTH)[0] == 201, "self-invocation")
# a spoofed caller header from a client does not help: the caller sidecar replaces it
check_error(sa.request("GET", "/v1.0/invoke/b/method/other", headers=dict(AUTH, **{"dapr-caller-app-id": "c"})),
            403, "ERR_DIRECT_INVOKE", "spiffe://public/ns/default/a")
for s in (sa, sb, sc):
    s.stop()

# no API token: callers cannot be verified, the global defaultAction decides
open_cfg = config("open", """  accessControl:
    defaultAction: allow
    policies:
    - {appId: a, defaultAction: deny}
""")
closed_cfg = config("closed", """  accessControl:
    defaultAction: deny
    policies:
    - {appId: a, defaultAction: allow}
""")
sb = sidecar("b", app_b, open_cfg)
sa = sidecar("a", app_a, PLAIN)
check("without DAPR_API_TOKEN the callers' app IDs cannot be trusted" in sb.logs(), "warned at start")
check(sa.request("GET", "/v1.0/invoke/b/method/x")[0] == 200, "unverified caller: global allow")
sb.stop()
sb = sidecar("b", app_b, closed_cfg)
check_error(sa.request("GET", "/v1.0/invoke/b/method/x"), 403, "ERR_DIRECT_INVOKE", "ns/default/(unverified)")
sb.stop()
sa.stop()

bad = Sidecar(BIN, app_id="b", args=["--config", config("bad", "  accessControl: {defaultAction: maybe}\n")],
              env={"HOME": TMP})
bad.spawn()
check(bad.wait_exit(10) not in (0, None) and "defaultAction must be allow or deny" in bad.logs(),
      f"invalid accessControl stops the start: {bad.logs()[-300:]}")
bad.finish_proc()
finish()
