"""e2e_port_in_use.py: a second wasmgate on a port another process listens on
fails to start with "Address already in use", as daprd does, for the HTTP and
the gRPC port, instead of sharing the port through SO_REUSEPORT (the kernel
would then hand each connection to either process). The first process keeps
answering every request itself.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(60)

a = Sidecar(BIN, app_id="first", args=["--threads", "2"]).start()
for which in ("http", "grpc"):
    b = Sidecar(BIN, app_id="second", args=["--threads", "2"])
    if which == "http":
        b.port = a.port
    else:
        b.grpc_port = a.grpc_port
    b.spawn()
    code = b.wait_exit(8)
    check(code not in (None, 0), f"{which}: the second process does not start: exit {code}")
    check("Address already in use" in b.logs(), f"{which}: says why: {b.logs()[-500:]}")
    b.finish_proc()
ids = set()
for _ in range(30):
    st, _, body = a.request("GET", "/v1.0/metadata")
    ids.add(json.loads(body)["id"] if st == 200 else st)
check(ids == {"first"}, f"every connection reaches the first process: {ids}")
a.stop()
finish()
