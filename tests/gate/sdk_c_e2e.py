"""sdk_c_e2e.py: the sdk/c helpers inside a real guest (tests/sdk/sdk_probe.c) in the real
`wasmgate run`'s httpPipeline: values longer than the helpers' first buffer (the buf_limit probe
and retry), bounded reads into small buffers, header name/value lists, a first value of a
many-valued header, absent headers, bodies longer than the first allocation and cut at a maximum,
guestConfig, method/protocol/source address, logging, and requests outside /probe/ passing on.
usage: sdk_c_e2e.py WASMGATE SDK_PROBE_WASM
"""
import http.client
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import FAILURES, Sidecar, check, finish, start_alarm  # noqa: E402

BIN, PROBE = sys.argv[1], os.path.abspath(sys.argv[2])
start_alarm(60)
CONFIG = "cfg-" + "c" * 700

sc = Sidecar(BIN)
sc.write_resource("probe.yaml", f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: probe
spec:
  type: middleware.http.wasm
  version: v1
  metadata:
  - name: url
    value: "file://{PROBE}"
  - name: guestConfig
    value: "{CONFIG}"
""")
cfg = os.path.join(sc.dir, "config.yaml")
with open(cfg, "w") as f:
    f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n  httpPipeline:\n"
            "    handlers:\n    - name: probe\n      type: middleware.http.wasm\n")
sc.args += ["--config", cfg]
sc.start()


def probe(method, path, body=None, headers=None):
    """(status, {name: value}) of a /probe/ request; header lists are sent as repeated fields."""
    c = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=10)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers or []:
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        text = r.read().decode()
        if r.getheader("x-probe") != "1":
            check(False, f"{path[:60]}: not answered by the probe: {r.status} {text[:200]!r}")
        return r.status, dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    finally:
        c.close()


# URIs: short, just over 512 bytes (retry with an exact allocation), long; bounded reads.
for n in (10, 600, 3000):  # the sidecar takes 4 KiB of request head, as daprd
    uri = "/probe/uri?cap=16&pad=" + "u" * n
    st, v = probe("GET", uri)
    check(st == 200 and v.get("uri") == uri and v.get("uri_len") == str(len(uri)), f"uri of {len(uri)}: {st}")
    check(v.get("into_len") == str(len(uri)) and v.get("into") == "", f"uri_into, cap 16: {v.get('into_len')} {v.get('into')!r}")
st, v = probe("GET", "/probe/uri?cap=200")
check(v.get("into") == "/probe/uri?cap=200" and v.get("into_len") == "18", f"uri_into that fits: {v}")
st, v = probe("GET", "/probe/uri?cap=18")
check(v.get("into") == "/probe/uri?cap=18", f"uri_into, exactly len + 1: {v}")
st, v = probe("GET", "/probe/uri?cap=17")
check(v.get("into") == "" and v.get("into_len") == "17", f"uri_into, exactly len (no room for the NUL): {v}")
check(v.get("method_into") == "GET" and v.get("method_into_len") == "3", f"method_into: {v}")
st, v = probe("OPTIONS", "/probe/uri?cap=17")
check(v.get("method_into") == "OPTIONS" and v.get("method_into_len") == "7", f"method_into, 7 of 8: {v}")
st, v = probe("PROPPATCH", "/probe/uri?cap=17")
check(v.get("method_into") == "" and v.get("method_into_len") == "9", f"method_into, too long: {v}")

# Request facts and the config (700 bytes: longer than the first buffer), read once per instance.
st, v = probe("PUT", "/probe/request", b"")
check(v.get("method") == "PUT" and v.get("protocol") == "HTTP/1.1" and v.get("source", "").startswith("127.0.0.1:"),
      f"request: {v}")
check(v.get("config") == CONFIG and v.get("config_len") == str(len(CONFIG)), f"config: {v.get('config_len')}")
check(int(v.get("instance_requests", 0)) >= 1, f"instance_requests {v.get('instance_requests')}")

# Headers: names lower-cased, every value of a repeated field, a long first value, absent ones.
long_value = "L" * 3000
st, v = probe("GET", "/probe/headers", headers=[("X-Multi", "one"), ("X-Multi", "two, three"), ("X-Multi", ""),
                                                 ("X-Long", long_value), ("X-Long", "second"), ("Mixed-CASE", "m")])
names = {v[k] for k in v if k.startswith("names.")}
check({"x-multi", "x-long", "mixed-case", "host"} <= names, f"header names: {sorted(names)}")
check(int(v.get("names_count", 0)) == len(names), f"names_count {v.get('names_count')} for {len(names)} names")
check(v.get("multi_count") == "3" and [v.get("multi.0"), v.get("multi.1"), v.get("multi.2")] == ["one", "two, three", ""],
      f"x-multi values: {v}")
check(v.get("long_count") == "2" and v.get("long") == long_value and v.get("long_len") == "3000",
      f"x-long: count {v.get('long_count')} len {v.get('long_len')}")
check(v.get("absent_count") == "0" and v.get("absent") == "" and v.get("absent_len") == "0", f"absent: {v}")

# Bodies: empty, over the first 1 KiB allocation, cut at max (more=1), exactly max (more=0).
for size, mx, more in [(0, 1 << 20, "0"), (5000, 1 << 20, "0"), (100000, 1 << 20, "0"), (5000, 100, "1"),
                       (100, 100, "0"), (2048, 1024, "1")]:
    body = bytes((i * 7) % 26 + 97 for i in range(size))
    st, v = probe("POST", f"/probe/body?max={mx}", body)
    want = body[:mx].decode()
    check(st == 200 and v.get("body") == want and v.get("more") == more,
          f"body {size} max {mx}: {st} more={v.get('more')} len={v.get('body_len')}")

# Logging through the host, and requests outside /probe/ go on to the sidecar's API.
st, v = probe("GET", "/probe/log")
check(v.get("info_enabled") == "1", f"log_enabled(info) at --log-level debug: {v}")
st, _, _ = sc.request("GET", "/v1.0/healthz")
check(st == 204, f"healthz through the probe: {st}")
sc.stop()
check("sdk probe says hello 42" in sc.logs(), "the guest's log message is not in the sidecar's log")
if FAILURES:
    print(sc.logs()[-4000:])
sc.cleanup()
finish()
