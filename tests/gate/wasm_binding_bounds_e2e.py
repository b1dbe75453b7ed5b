"""wasm_binding_bounds_e2e.py: bindings.wasm guests are bounded and sandboxed.
- The Configuration's spec.wasm.strictSandbox applies to bindings.wasm
  (fake clocks: a monotonic read advances 1 ms, sleeps return at once;
  random bytes from a fixed seed), as does the component's own
  strictSandbox (read as Go's ParseBool); without either, real time.
- A caller that disconnects interrupts its guest at once: four spinning
  guests under a 60 s timeout whose callers went away do not hold the
  thread pool (a fifth call answers at once).
- Captured stdout is capped (maxOutput, default 16Mi): past it the call
  fails with ERR_INVOKE_OUTPUT_BINDING; a guest that floods stdout until
  its timeout does not grow the sidecar's memory (it took 880 MB in 1.5 s).
- maxMemory (default 256Mi) caps the guest's linear memory.
usage: wasm_binding_bounds_e2e.py WASMGATE C_GUEST_DIR
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN, CGUESTS = sys.argv[1], sys.argv[2]
start_alarm(140)
probe = "file://" + os.path.join(CGUESTS, "bw_probe.wasm")


def component(name, url, **meta):
    extra = "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in meta.items())
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n"
            f"  type: bindings.wasm\n  version: v1\n  metadata:\n  - name: url\n    value: \"{url}\"\n{extra}")


def call(sc, name, args, timeout=30):
    try:
        return sc.request("POST", f"/v1.0/bindings/{name}", json.dumps({"operation": "execute", "metadata": {"args": args}}),
                          {"Content-Type": "application/json"}, timeout=timeout)
    except OSError as e:
        return 0, {}, str(e).encode()


def sandbox(sc, name):
    """Two runs of the probe's sandbox mode: [(monotonic delta ns, slept ms, random hex, wall s)]."""
    out = []
    for _ in range(2):
        t0 = time.time()
        st, _, body = call(sc, name, "sandbox")
        parts = body.decode(errors="replace").split()
        ok = st == 200 and len(parts) == 3
        out.append((int(parts[0]), int(parts[1]), parts[2], time.time() - t0) if ok else (st, body))
    return out


# --- strictSandbox: the Configuration's, the component's, neither.
sc = Sidecar(BIN)
cfg = os.path.join(sc.dir, "config.yaml")
with open(cfg, "w") as f:
    f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n"
            "  wasm:\n    strictSandbox: true\n")
sc.args += ["--config", cfg]
sc.write_resource("p.yaml", component("p", probe))
sc.start()
runs = sandbox(sc, "p")
check(all(len(r) == 4 and r[0] == 1000000 and r[3] < 1.5 for r in runs) and runs[0][2] == runs[1][2],
      f"global strictSandbox: {runs}")
sc.stop()

sc = Sidecar(BIN)
sc.write_resource("p.yaml", component("p", probe, strictSandbox="True"))
sc.write_resource("loose.yaml", component("loose", probe))
sc.start()
runs = sandbox(sc, "p")
check(all(len(r) == 4 and r[0] == 1000000 and r[3] < 1.5 for r in runs) and runs[0][2] == runs[1][2],
      f"component strictSandbox: {runs}")
runs = sandbox(sc, "loose")
check(all(len(r) == 4 and r[0] >= 2e9 and r[1] >= 2000 for r in runs) and runs[0][2] != runs[1][2],
      f"no strictSandbox: {runs}")
sc.stop()

# --- bounds (under AddressSanitizer, a small quarantine: freed blocks would count as peak RSS)
asan = os.environ.get("ASAN_OPTIONS", "")
sc = Sidecar(BIN, env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=4"})
sc.write_resource("p.yaml", component("p", probe, timeout="20s"))
sc.write_resource("small.yaml", component("small", probe, maxOutput="1Mi", maxMemory="512Mi", timeout="20s"))
sc.write_resource("flood.yaml", component("flood", probe, timeout="1500ms", maxOutput="4Mi"))
sc.write_resource("spin.yaml", component("spin", "file://" + os.path.join(CGUESTS, "upper.wasm"), timeout="60s"))
sc.start()


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))


# first, while the sidecar's peak RSS is still its start-up one: a guest flooding stdout for 1.5 s
before = peak_rss_kb(sc.proc.pid)
check_error(call(sc, "flood", "flood"), 500, "ERR_INVOKE_OUTPUT_BINDING", "interrupted")
grown = peak_rss_kb(sc.proc.pid) - before
check(grown < 64 * 1024, f"a guest flooding stdout raised the sidecar's peak RSS by {grown} KiB")
print(f"flooding guest: peak RSS +{grown} KiB")


# output cap
st, _, body = call(sc, "small", "out,1048576")
check(st == 200 and len(body) == 1048576, f"output at the cap: {st} {len(body)}")
check_error(call(sc, "small", "out,1048577"), 500, "ERR_INVOKE_OUTPUT_BINDING", "output larger than 1048576 bytes")
st, _, body = call(sc, "p", "out,16777216")
check(st == 200 and len(body) == 16777216, f"output at the default cap: {st} {len(body)}")
check_error(call(sc, "p", "out,20000000"), 500, "ERR_INVOKE_OUTPUT_BINDING", "output larger than 16777216 bytes")


# memory cap: 300 MiB is past the default 256Mi, within small's 512Mi
check_error(call(sc, "p", "grow,300"), 500, "ERR_INVOKE_OUTPUT_BINDING", "module exited with code 1")
st, _, body = call(sc, "small", "grow,300")
check(st == 200 and body == b"ok", f"300 MiB under maxMemory 512Mi: {st} {body!r}")

# the caller goes away: its guest stops at once (4 = the libuv pool's threads)
socks = []
for _ in range(4):
    s = socket.create_connection(("127.0.0.1", sc.port))
    body = json.dumps({"operation": "execute", "metadata": {"args": "spin"}}).encode()
    s.sendall(b"POST /v1.0/bindings/spin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    socks.append(s)
time.sleep(0.5)
for s in socks:
    s.close()
t0 = time.time()
st, _, body = call(sc, "p", "out,3", timeout=20)
check(st == 200 and body == b"xxx" and time.time() - t0 < 5,
      f"a call after four abandoned spinning guests: {st} {body!r} in {time.time() - t0:.1f} s")
deadline = time.time() + 10
while time.time() < deadline and sc.logs().count("module closed with context canceled") < 4:
    time.sleep(0.1)
check(sc.logs().count("the caller went away: module closed with context canceled") == 4,
      "four guests interrupted when their callers went away")

st, _, _ = sc.request("GET", "/v1.0/healthz")
check(st == 204, f"healthz: {st}")
sc.stop()
finish()
