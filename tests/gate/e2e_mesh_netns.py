"""e2e_mesh_netns.py: sidecar-to-sidecar invocation across Linux network
namespaces (`ip netns`, a veth pair), so the hop really leaves the host's
loopback. Sidecar a and its app run in the test's namespace; sidecar b and
its app run inside a fresh namespace, registered (DAPR_HOST_IP) at the
namespace's veth address in the shared SQLite registry. Then: calls cross,
b's link goes down in the middle of traffic (a partition: packets vanish)
and a's Resiliency timeout ends every call with ERR_DIRECT_INVOKE; the link
comes back and calls work again; b is killed with SIGKILL and callers get
Dapr's errors. Skips (exit 0, with a message) where namespaces cannot be
created (no root / CAP_NET_ADMIN, no `ip`).
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshapp import MeshApp  # noqa: E402
from wgtest import Sidecar, check, check_error, finish, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(110)
HERE = os.path.dirname(os.path.abspath(__file__))
NS = f"wgmesh{os.getpid()}"
VA, VB = f"wga{os.getpid() % 100000}", f"wgb{os.getpid() % 100000}"
NET = f"10.213.{os.getpid() % 250}"
IP = shutil.which("ip")


def sh(*args, check_rc=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check_rc and r.returncode:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r


if not IP or subprocess.run([IP, "netns", "add", NS], capture_output=True).returncode != 0:
    print("SKIP: cannot create a network namespace here (needs `ip` and CAP_NET_ADMIN); test not run")
    sys.exit(0)
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    subprocess.run([IP, "link", "del", VA], capture_output=True)
    subprocess.run([IP, "netns", "del", NS], capture_output=True)


atexit.register(cleanup)
try:
    sh(IP, "link", "add", VA, "type", "veth", "peer", "name", VB)
    sh(IP, "link", "set", VB, "netns", NS)
    sh(IP, "addr", "add", f"{NET}.1/24", "dev", VA)
    sh(IP, "link", "set", VA, "up")
    sh(IP, "netns", "exec", NS, IP, "addr", "add", f"{NET}.2/24", "dev", VB)
    sh(IP, "netns", "exec", NS, IP, "link", "set", VB, "up")
    sh(IP, "netns", "exec", NS, IP, "link", "set", "lo", "up")
except RuntimeError as e:
    print(f"SKIP: cannot set up a veth pair between namespaces here ({e}); test not run")
    sys.exit(0)

TMP = tempfile.mkdtemp(prefix="wgg-netns-")
CFG = os.path.join(TMP, "config.yaml")
with open(CFG, "w") as f:
    f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {{name: netns}}
spec:
  nameResolution:
    component: sqlite
    configuration: {{connectionString: "{TMP}/nr.db", updateInterval: 2s}}
""")

# app b and sidecar b inside the namespace
app_b = subprocess.Popen([IP, "netns", "exec", NS, sys.executable, "-c",
                          f"import sys, time; sys.path.insert(0, {HERE!r}); from meshapp import MeshApp; "
                          "MeshApp('b', '127.0.0.1', 7000); time.sleep(1000)"])
procs.append(app_b)
blog = open(os.path.join(TMP, "b.log"), "wb")


def start_b():
    env = dict(os.environ, HOME=TMP, DAPR_HOST_IP=f"{NET}.2")
    p = subprocess.Popen([IP, "netns", "exec", NS, BIN, "run", "--app-id", "b", "--app-port", "7000",
                          "--dapr-http-port", "3500", "--dapr-listen-addresses", "0.0.0.0", "--metrics-port", "9090",
                          "--config", CFG, "--log-level", "debug"], env=env, stdout=blog, stderr=subprocess.STDOUT)
    procs.append(p)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c = __import__("http.client").client.HTTPConnection(f"{NET}.2", 3500, timeout=1)
            c.request("GET", "/v1.0/healthz")
            if c.getresponse().status == 204:
                return p
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("sidecar b did not become healthy in the namespace")


sb = start_b()
app_a = MeshApp("a")
sa = Sidecar(BIN, app_id="a", args=["--app-port", str(app_a.port), "--config", CFG], env={"HOME": TMP})
sa.write_resource("res.yaml", """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: netns}
spec:
  policies:
    timeouts: {oneSecond: 1s}
  targets:
    apps:
      b: {timeout: oneSecond}
""")
sa.start()

st, h, body = sa.request("POST", "/v1.0/invoke/b/method/across?q=1", b"hello", headers={"X-Across": "1"})
got = json.loads(body) if st == 201 else {}
check(st == 201 and got.get("app") == "b" and got.get("body") == "hello" and got.get("path") == "/across?q=1",
      f"a -> b across namespaces: {st} {body!r}")
check(got.get("headers", {}).get("x-across") == "1" and got.get("headers", {}).get("dapr-caller-app-id") == "a",
      f"headers across: {got.get('headers')}")

# a partition in the middle of traffic: b's end of the link goes down (packets are lost, no RST)
results, lock, stop = [], threading.Lock(), threading.Event()


def hammer():
    while not stop.is_set():
        t = time.time()
        r = sa.request("GET", "/v1.0/invoke/b/method/ping", timeout=20)
        with lock:
            results.append((r[0], json.loads(r[2]).get("errorCode") if r[0] == 500 else None, time.time() - t))


threads = [threading.Thread(target=hammer) for _ in range(3)]
for t in threads:
    t.start()
time.sleep(0.5)
sh(IP, "netns", "exec", NS, IP, "link", "set", VB, "down")
time.sleep(2.5)
stop.set()
for t in threads:
    t.join(timeout=20)
check(not any(t.is_alive() for t in threads), "every caller returned during the partition")
ok = [r for r in results if r[0] == 200]
err = [r for r in results if r[0] == 500 and r[1] == "ERR_DIRECT_INVOKE"]
check(ok and err and len(ok) + len(err) == len(results), f"200 before, ERR_DIRECT_INVOKE during: {len(ok)} ok, "
      f"{len(err)} errors, others {[r for r in results if r not in ok and r not in err][:3]}")
check(max(r[2] for r in results) < 2.5, f"the 1 s timeout bounds every call: slowest {max(r[2] for r in results):.2f}s")
print(f"partition: {len(ok)} ok, {len(err)} ERR_DIRECT_INVOKE, slowest {max(r[2] for r in results):.2f}s")
sh(IP, "netns", "exec", NS, IP, "link", "set", VB, "up")
deadline = time.time() + 5
st = 0
while time.time() < deadline and st != 200:
    st = sa.request("GET", "/v1.0/invoke/b/method/healed")[0]
    time.sleep(0.1)
check(st == 200, f"calls work again once the link is back: {st}")

# SIGKILL of b (ip netns exec execs the sidecar: the pid is the sidecar's)
sb.kill()
sb.wait(10)
t0 = time.time()
check_error(sa.request("GET", "/v1.0/invoke/b/method/m", timeout=15), 500, "ERR_DIRECT_INVOKE")
check(time.time() - t0 < 5, f"a killed callee fails within the built-in retries: {time.time() - t0:.2f}s")
sa.stop()
app_a.close()
blog.close()
finish()
