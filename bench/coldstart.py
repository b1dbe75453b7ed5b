"""bench/coldstart.py WASMGATE APP.wasm [RUNS] [LABEL]: cold start of a wasm app, from the exec of
`wasmgate run --app-wasm APP` (no components, one loop thread) to its first answered invocation
(GET /v1.0/invoke/bench/method/hello answered 200), polled on a raw socket every 0.2 ms so that the
client's own start does not count. Prints the median and minimum of RUNS (15) starts, each with its
own ports, sharing one new HOME (the first start creates the name-resolution registry there, the
others find it, as restarts on one machine do)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

wg, app = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 15
label = sys.argv[4] if len(sys.argv) > 4 else os.path.basename(wg)


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


req = b"GET /v1.0/invoke/bench/method/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
res = []
home = tempfile.mkdtemp(prefix="wg-cold-")
os.mkdir(os.path.join(home, "res"))
for _ in range(runs):
    p = port()
    t0 = time.perf_counter()
    pr = subprocess.Popen([wg, "run", "--app-id", "bench", "--app-wasm", app, "--threads", "1", "--dapr-http-port", str(p),
                           "--dapr-grpc-port", str(port()), "--metrics-port", str(port()),
                           "--dapr-listen-addresses", "127.0.0.1", "--log-level", "warn",
                           "--resources-path", os.path.join(home, "res")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": home})
    ok = False
    while time.perf_counter() - t0 < 10 and pr.poll() is None:
        try:
            s = socket.create_connection(("127.0.0.1", p), timeout=2)
            s.sendall(req)
            d = s.recv(100)
            s.close()
            if d.startswith(b"HTTP/1.1 200"):
                ok = True
                break
        except OSError:
            time.sleep(0.0002)
    if ok:
        res.append((time.perf_counter() - t0) * 1000)
    pr.terminate()
    pr.wait()
shutil.rmtree(home, ignore_errors=True)
res.sort()
if res:
    print(f"{label:34} cold start median {res[len(res) // 2]:6.1f} ms  min {res[0]:6.1f} ms  ({len(res)} of {runs} starts)")
else:
    print(f"{label:34} no start answered")
