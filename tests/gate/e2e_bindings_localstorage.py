"""e2e_bindings_localstorage.py: the bindings.localstorage output binding as
components-contrib's bindings/localstorage behaves behind daprd: create (with
and without fileName, quoted and base64 data decoded), get, list (absolute
paths, `null` when empty), delete; names that try to leave rootPath (`..`,
absolute names, a symlink pointing outside) stay inside it; daprd's operation
check before the binding ("does not support operation"); a rootPath under
/proc is refused at start.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)


def comp(name, root):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: bindings.localstorage\n  version: v1\n  metadata:\n  - name: rootPath\n    value: \"{root}\"\n")


sc = Sidecar(BIN, app_id="lsapp")
root = os.path.join(sc.dir, "files")  # created by the binding
outside = os.path.join(sc.dir, "outside")
os.makedirs(outside)
with open(os.path.join(outside, "secret.txt"), "w") as f:
    f.write("do not read")
sc.write_resource("ls.yaml", comp("files", root))
sc.start()


def call(body):
    return sc.request("POST", "/v1.0/bindings/files", body)


def read(rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read()


check(os.path.isdir(root), "rootPath created at start")

# create with a fileName: plain text is written as is
st, _, body = call({"operation": "create", "data": "hello world", "metadata": {"fileName": "a.txt"}})
check(st == 200 and json.loads(body) == {"fileName": "a.txt"}, f"create: {st} {body!r}")
check(read("a.txt") == b"hello world", "plain data written")

# data that is valid base64 is decoded, as daprd does
raw = bytes(range(256))
st, _, body = call({"operation": "create", "data": base64.b64encode(raw).decode(), "metadata": {"fileName": "bin/raw"}})
check(st == 200 and json.loads(body) == {"fileName": "bin/raw"}, f"create base64: {st} {body!r}")
check(read("bin/raw") == raw, "base64 data decoded, parent directory created")

# JSON data reaches the binding as its JSON text; a quoted string is unquoted first
st, _, _ = call({"operation": "create", "data": {"k": [1, 2]}, "metadata": {"fileName": "j.json"}})
check(st == 200 and json.loads(read("j.json")) == {"k": [1, 2]}, "JSON data written as JSON")
st, _, _ = call({"operation": "create", "data": "\"line\\n\\u00e9\"", "metadata": {"fileName": "q.txt"}})
check(st == 200 and read("q.txt") == "line\n\u00e9".encode(), f"quoted data unquoted: {read('q.txt')!r}")

# without fileName: a random UUID
st, _, body = call({"operation": "create", "data": "x"})
name = json.loads(body)["fileName"] if st == 200 else ""
check(st == 200 and len(name) == 36 and name.count("-") == 4 and name[14] == "4", f"UUID name: {st} {body!r}")
check(read(name) == b"x", "UUID file written")

# get
st, _, body = call({"operation": "get", "metadata": {"fileName": "a.txt"}})
check(st == 200 and body == b"hello world", f"get: {st} {body!r}")
check_error(call({"operation": "get", "metadata": {"fileName": "nope"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "file not found: " + os.path.join(os.path.realpath(root), "nope"))

# names cannot leave rootPath
st, _, body = call({"operation": "create", "data": "escaped?", "metadata": {"fileName": "../../evil.txt"}})
check(st == 200 and json.loads(body) == {"fileName": "evil.txt"}, f"'..' clamped to root: {st} {body!r}")
check(read("evil.txt") == b"escaped?" and not os.path.exists(os.path.join(sc.dir, "evil.txt")), "written inside root")
st, _, body = call({"operation": "create", "data": "abs", "metadata": {"fileName": "/etc/wg-abs.txt"}})
check(st == 200 and json.loads(body) == {"fileName": "etc/wg-abs.txt"} and not os.path.exists("/etc/wg-abs.txt"),
      f"absolute name inside root: {st} {body!r}")
os.symlink(outside, os.path.join(root, "link"))
os.symlink("/etc/passwd", os.path.join(root, "pw"))
check_error(call({"operation": "get", "metadata": {"fileName": "link/secret.txt"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "file not found")
check_error(call({"operation": "get", "metadata": {"fileName": "pw"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "file not found: " + os.path.join(os.path.realpath(root), "etc/passwd"))
os.remove(os.path.join(root, "link"))
os.remove(os.path.join(root, "pw"))

# list: absolute paths of every file below, in walk order
st, _, body = call({"operation": "list"})
rr = os.path.realpath(root)
want = sorted([os.path.join(rr, p) for p in ("a.txt", "bin/raw", "j.json", "q.txt", name, "evil.txt",
                                               "etc/wg-abs.txt")])
got = json.loads(body) if st == 200 else None
check(got is not None and sorted(got) == want, f"list: {st} {body[:400]!r}")
st, _, body = call({"operation": "list", "metadata": {"fileName": "bin"}})
check(st == 200 and json.loads(body) == [os.path.join(rr, "bin/raw")], f"list a directory: {st} {body!r}")
os.makedirs(os.path.join(root, "empty"))
st, _, body = call({"operation": "list", "metadata": {"fileName": "empty"}})
check(st == 200 and body == b"null", f"empty list is null as Go's json: {st} {body!r}")
check_error(call({"operation": "list", "metadata": {"fileName": "a.txt"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "unable to list files as the file specified is not a directory")

# delete
st, _, body = call({"operation": "delete", "metadata": {"fileName": "a.txt"}})
check(st == 204 and body == b"", f"delete: {st} {body!r}")
check(not os.path.exists(os.path.join(root, "a.txt")), "deleted")
check_error(call({"operation": "delete", "metadata": {"fileName": "a.txt"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "error deleting file")

# daprd checks the operation against the binding's list first
check_error(call({"operation": "update"}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "binding files does not support operation update. supported operations:create get list delete")
check_error(call({"operation": "GET", "metadata": {"fileName": "q.txt"}}), 500, "ERR_INVOKE_OUTPUT_BINDING",
            "does not support operation GET")
check_error(call({"data": "x"}), 500, "ERR_INVOKE_OUTPUT_BINDING", "operation field is missing from request")

# metadata lists it with its operations
st, _, body = sc.request("GET", "/v1.0/metadata")
comps = [c for c in json.loads(body).get("components", []) if c.get("name") == "files"]
check(comps and comps[0]["type"] == "bindings.localstorage", f"metadata: {comps}")
sc.stop()

# a rootPath in a disallowed location is refused at start with contrib's message
bad = Sidecar(BIN, app_id="lsbad")
bad.write_resource("ls.yaml", comp("files", "/proc/self"))
bad.spawn()
code = bad.wait_exit(30)
log = bad.logs()
check(code not in (None, 0), f"the start fails: {code}")
check("rootPath points to a disallowed location" in log, f"disallowed rootPath logged: {log[-600:]!r}")
bad.stop()
finish()
