"""wasm_app_crash.py: kill -9 during a wasm app's save loop loses no acknowledged write.

Concurrent clients invoke a WAGI app (tests/gate/apps/wagi_app.c, /state/put) that saves each key
through dapr:v1 into the default state.sqlite store, and record every key whose invocation was
answered 204 (acknowledged). The sidecar is killed with SIGKILL in the middle; a new sidecar on the
same state file must return every acknowledged key with its value.
"""
import json
import os
import signal
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, start_alarm  # noqa: E402

BIN, APPS = sys.argv[1], sys.argv[2]
start_alarm(110)
WAGI = "file://" + os.path.join(APPS, "wagi_app.wasm")

sc = Sidecar(BIN, args=["--app-wasm", WAGI]).start()
acked, lock, stop = [], threading.Lock(), threading.Event()


def writer(w):
    i = 0
    while not stop.is_set():
        key = f"w{w}-{i}"
        try:
            c = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=10)
            c.request("POST", f"/v1.0/invoke/myapp/method/state/put?key={key}", body=json.dumps({"k": key}))
            if c.getresponse().status == 204:
                with lock:
                    acked.append(key)
            c.close()
        except OSError:
            return  # the sidecar is gone
        i += 1


threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
for t in threads:
    t.start()
time.sleep(1.5)
os.kill(sc.proc.pid, signal.SIGKILL)
stop.set()
for t in threads:
    t.join(20)
sc.finish_proc()
check(len(acked) > 20, f"writes acknowledged before the kill: {len(acked)}")

sc2 = Sidecar(BIN, args=["--app-wasm", WAGI], workdir=sc.dir).start()
try:
    lost = []
    for key in acked:
        st, _, b = sc2.request("GET", f"/v1.0/state/statestore/{key}")
        if st != 200 or json.loads(b) != {"k": key}:
            lost.append((key, st))
    print(f"{len(acked)} acknowledged writes before kill -9, {len(lost)} lost")
    check(not lost, f"acknowledged writes lost after kill -9: {lost[:5]}")
finally:
    sc2.stop()
finish()
