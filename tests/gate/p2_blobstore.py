"""p2_blobstore.py WASMGATE OUTDIR: wasi:blobstore@0.2.0-draft served by bindings.localstorage
(issue 14; gate/wasmhost/p2_blobstore.c; docs/components.md "wasi:blobstore on
bindings.localstorage").

tests/components/blob/blob_guest.c is built at test time (clang-19 wasm32-wasi, `jco embed` with
blob.wit, the transcribed blobstore WIT and jco's wasi:io@0.2.12, `jco new --wasi-command`, through
tests/components/mkcomponent.py; never committed) and run by `wasmgate wasm run --app-id blobapp
--resources-path` with two bindings.localstorage components (files, scratch) and a third scoped to
another app ID. Its whole output is compared line by line: containers by name (unknown and
scoped-out ones do not exist and cannot be opened or created; delete-container is refused), values
written through an outgoing-value's output-stream with write-data before and after the writes,
has-object, object-info, get-data ranges consumed as a list and through an input-stream, list-objects,
copy (to the other container), move, delete, clear, and finish without write-data. Then the
bytes on disk: a value that looks like a quoted Go string and like base64 is stored as it is.
Exit 77 when clang-19, node or jco is missing (1 under CI).
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import check, finish, start_alarm  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "components"))
import mkcomponent  # noqa: E402

WASMGATE, OUT = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "tests", "components", "blob")
IO = os.path.join(mkcomponent.NM, "@bytecodealliance", "jco", "lib", "wit", "builtin", "0.2.12", "wasi-io")


def build():
    wit = os.path.join(OUT, "wit-blob")
    shutil.rmtree(wit, ignore_errors=True)
    os.makedirs(os.path.join(wit, "deps"))
    shutil.copy(os.path.join(SRC, "blob.wit"), wit)
    shutil.copytree(os.path.join(SRC, "deps", "blobstore"), os.path.join(wit, "deps", "blobstore"))
    shutil.copytree(IO, os.path.join(wit, "deps", "io"))
    return mkcomponent.build(os.path.join(SRC, "blob_guest.c"), os.path.join(OUT, "blob_guest.wasm"), wit,
                             "blob-guest", command=True)


def binding(name, root, scopes=None):
    y = (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
         f"  type: bindings.localstorage\n  version: v1\n  metadata:\n  - name: rootPath\n    value: {root}\n")
    return y + ("scopes:\n" + "".join(f"- {s}\n" for s in scopes) if scopes else "")


def main():
    start_alarm(200)
    why = mkcomponent.missing()
    if why:
        print(f"{'FAIL: ' if os.environ.get('CI') else ''}skip: {why}")
        sys.exit(1 if os.environ.get("CI") else 77)
    os.makedirs(OUT, exist_ok=True)
    comp = build()
    tmp = tempfile.mkdtemp(prefix="wgg-p2blob-")
    res = os.path.join(tmp, "resources")
    os.makedirs(res)
    files, scratch = os.path.join(tmp, "files"), os.path.join(tmp, "scratch")
    with open(os.path.join(res, "bindings.yaml"), "w") as f:
        f.write("---\n".join([binding("files", files), binding("scratch", scratch),
                              binding("hidden", os.path.join(tmp, "hidden"), scopes=["someone-else"])]))
    r = subprocess.run([WASMGATE, "wasm", "run", "--app-id", "blobapp", "--resources-path", res, comp, "files",
                        "scratch", "hidden"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, cwd=tmp)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    check(r.returncode == 0, f"exit {r.returncode}; stderr {err[-800:]}")
    nf = "a container is a bindings.localstorage component of the app"
    want = [
        "container-exists files: true", "container-exists nope: false", "container-exists hidden: false",
        f"get-container hidden: error container hidden is not found: {nf}",
        f"create-container nope: error container nope is not found: {nf}",
        "get-container files: ok", "name: files",
        "write-data a.txt: ok", "finish a.txt: ok", "write-data bin/b.dat: ok", "finish bin/b.dat: ok",
        "has-object a.txt: true", "has-object zz: false",
        "object-info a.txt: a.txt in files, 10 bytes, created recently",
        "get-data a.txt 0..18446744073709551615: consume-sync: 10 bytes hello blob",
        "get-data a.txt 6..8: consume-async: stream blo (closed: yes)",
        "get-data a.txt 20..30: consume-sync: 0 bytes ",
        "list-objects: read-stream-object-names: [a.txt,bin/b.dat] end true",
        "copy-object a.txt -> scratch c.txt: ok", "move-object a.txt -> d.txt: ok", "has-object a.txt: false",
        "get-data d.txt 0..4: consume-sync: 5 bytes hello", "delete-object d.txt: ok",
        f"get-data d.txt 0..4: error error invoking output binding files: file not found: {files}/d.txt",
        "delete-container: error container files cannot be deleted: it is a Dapr component (clear empties it)",
        "get-container scratch: ok", "list-objects: read-stream-object-names: [c.txt] end true",
        "clear scratch: ok", "list-objects: read-stream-object-names: [] end true",
        "finish unattached: error the outgoing value was never given to container.write-data"]
    got = out.rstrip("\n").split("\n")
    for i, (x, y) in enumerate(zip(got, want)):
        if x != y:
            check(False, f"line {i + 1}: got {x!r}, want {y!r}")
            break
    check(len(got) == len(want), f"{len(got)} lines, want {len(want)}; output:\n{out[-2500:]}\nstderr {err[-500:]}")
    with open(os.path.join(files, "bin", "b.dat"), "rb") as f:
        data = f.read()
    check(data == b'"aGk="\0\x01\xff', f"the bytes are stored as they are: {data!r}")
    check(sorted(os.listdir(files)) == ["bin"] and os.listdir(scratch) == [],
          f"what is left: {os.listdir(files)} {os.listdir(scratch)}")
    check(not os.path.exists(os.path.join(tmp, "hidden")) or not os.listdir(os.path.join(tmp, "hidden")),
          "nothing reached the scoped-out container")
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
