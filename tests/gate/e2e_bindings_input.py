"""e2e_bindings_input.py: input bindings with bindings.cron on a real
sidecar and app: the app starts after the sidecar (probing waits for it),
the OPTIONS probe of /{name} (2xx and 405 subscribe, 404 does not), the
`route` metadata, `direction: input` (no probe) and `direction: output`
(no input side), deliveries as POST with Content-Type application/json and
the cron metadata (timeZone, readTimeUTC) as headers, the component's
inbound Resiliency retries when the app fails, INPUT_BINDING in metadata, and
the app's reply body (state saved to storeName, data sent to the output
bindings of `to`), and an invalid schedule stopping the start.
"""
import calendar
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, finish, free_port, start_alarm, wait_for  # noqa: E402

BIN = sys.argv[1]
start_alarm(100)
SEEN = []
LOCK = threading.Lock()
FLAKY = {"n": 0}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_OPTIONS(self):
        with LOCK:
            SEEN.append(("OPTIONS", self.path, {}, b"", time.time()))
        self.reply({"/ignored": 404, "/custom/route": 405, "/direct": 404}.get(self.path, 200))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with LOCK:
            SEEN.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
            code = 200
            if self.path == "/flaky":
                FLAKY["n"] += 1
                code = 500 if FLAKY["n"] <= 2 else 200
        if self.path == "/replier":  # the optional reply: save state, send data to an output binding
            out = json.dumps({"storeName": "statestore", "state": [{"key": "fromcron", "value": {"n": 1}}],
                              "to": ["out"], "data": {"x": 1}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        self.reply(code)


def cron(name, schedule, extra=""):
    return (f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.cron\n"
            f"  version: v1\n  metadata:\n  - name: schedule\n    value: \"{schedule}\"\n{extra}")


app_port = free_port()
sc = Sidecar(BIN, app_id="inapp", args=["--app-port", str(app_port)])
sc.write_resource("tick.yaml", cron("tick", "@every 1s"))
sc.write_resource("ignored.yaml", cron("ignored", "* * * * * *"))
sc.write_resource("routed.yaml", cron("routed", "*/1 * * * * *", "  - name: route\n    value: /custom/route\n"))
sc.write_resource("direct.yaml", cron("direct", "@every 1s", "  - name: direction\n    value: input\n"))
sc.write_resource("outonly.yaml", cron("outonly", "@every 1s", "  - name: direction\n    value: output\n"))
sc.write_resource("flaky.yaml", cron("flaky", "@every 1s"))
sc.write_resource("replier.yaml", cron("replier", "@every 1s"))
sc.write_resource("store.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
                                "spec:\n  type: state.in-memory\n  version: v1\n  metadata: []\n")
sc.write_resource("out.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: out\nspec:\n"
                              f"  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n"
                              f"    value: http://127.0.0.1:{app_port}/out\n")
sc.write_resource("res.yaml", """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: inbound}
spec:
  policies:
    retries:
      quick: {policy: constant, duration: 100ms, maxRetries: 3}
  targets:
    components:
      flaky: {inbound: {retry: quick}}
""")
sc.start()
time.sleep(0.7)  # the app is not there yet: nothing may be lost or crash
srv = ThreadingHTTPServer(("127.0.0.1", app_port), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
t_app = time.time()


def posts(path):
    with LOCK:
        return [s for s in SEEN if s[0] == "POST" and s[1] == path]


# until each schedule has fired three times (about 3 s once the sidecar has found the app; a loaded
# machine takes longer to get there, so the window is not a fixed sleep)
wait_for(lambda: len(posts("/tick")) >= 3 and len(posts("/custom/route")) >= 3 and len(posts("/direct")) >= 3
         and FLAKY["n"] >= 3 and len(posts("/flaky")) >= 3, 30)
window = time.time() - t_app


def fire_time(s):
    """Seconds since the epoch at which the sidecar fired, from its readTimeUTC header (Go's
    time.String(): "2006-01-02 15:04:05.999999999 +0000 UTC"), or None."""
    m = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d+)? \+0000 UTC$", s[2].get("readtimeutc", ""))
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + float(m.group(2) or 0)


def options(path):
    with LOCK:
        return [s for s in SEEN if s[0] == "OPTIONS" and s[1] == path]


tick = posts("/tick")
check(len(options("/tick")) == 1, f"one OPTIONS probe of /tick: {len(options('/tick'))}")
check(3 <= len(tick) <= window + 2, f"@every 1s delivered about once a second: {len(tick)} in {window:.1f} s")
if tick:
    h = tick[0][2]
    check(h.get("content-type") == "application/json", f"Content-Type: {h}")
    check(h.get("timezone") == "Local", f"timeZone header: {h}")
    check(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$", h.get("readtimeutc", "")),
          f"readTimeUTC as Go's time.String(): {h.get('readtimeutc')}")
    check(tick[0][3] == b"", "cron events carry no data")
    # the sidecar's own fire times (readTimeUTC), not arrival here: a loaded machine delays delivery
    fired = [fire_time(t) for t in tick]
    gaps = [b - a for a, b in zip(fired, fired[1:])] if None not in fired else [b[4] - a[4] for a, b in zip(tick, tick[1:])]
    check(all(0.7 < g < 1.3 for g in gaps), f"one second apart: {gaps}")
check(len(options("/ignored")) == 1 and not posts("/ignored"), "404 to OPTIONS: not subscribed, nothing delivered")
routed = posts("/custom/route")
check(len(options("/custom/route")) == 1 and len(routed) >= 3, f"route metadata, 405 subscribes: {len(routed)}")
if len(routed) >= 2:
    fired = [fire_time(r) for r in routed]
    at = fired if None not in fired else [r[4] for r in routed]
    check(all(abs(t - round(t)) < 0.25 for t in at), f"a 6-field schedule fires on second boundaries: {at}")
check(not options("/direct") and len(posts("/direct")) >= 3, "direction input: no probe, delivered")
with LOCK:
    check(not [s for s in SEEN if s[1] == "/outonly"], "direction output: no input side")
fl = posts("/flaky")
check(FLAKY["n"] >= 3 and len(fl) >= 3 and fl[2][4] - fl[0][4] < 0.6,
      f"inbound retries 100 ms apart after two 500s: {[round(f[4] - fl[0][4], 2) for f in fl[:3]]}")
st, h, body = sc.request("GET", "/v1.0/state/statestore/fromcron")
check(st == 200 and json.loads(body) == {"n": 1}, f"the app's reply saved state: {st} {body!r}")
outs = posts("/out")
check(len(outs) >= 1 and json.loads(outs[0][3]) == {"x": 1}, f"the app's reply went to binding out: {outs[:1]}")
md = json.loads(sc.request("GET", "/v1.0/metadata")[2])
caps = {c["name"]: c["capabilities"] for c in md["components"]}
check(caps.get("tick") == ["INPUT_BINDING"], f"metadata: {md['components']}")
check("building block not supported" not in sc.logs(), "cron components are not skipped as unknown")
t0 = time.time()
sc.stop()
check(time.time() - t0 < 3, "stops promptly with timers running")

bad = Sidecar(BIN, app_id="inapp", args=["--app-port", str(app_port)])
bad.write_resource("bad.yaml", cron("broken", "61 * * * * *"))
bad.spawn()
check(bad.wait_exit(10) not in (0, None), "an invalid schedule stops the start")
check("bad.yaml" in bad.logs() and "invalid schedule format '61 * * * * *'" in bad.logs(), bad.logs()[-300:])
bad.finish_proc()
srv.shutdown()
finish()
