"""e2e_jobs.py: the Jobs API (/v1.0-alpha1/jobs/{name}) through the real
`wasmgate run`, as daprd 1.16 answers (pkg/api/http/jobs.go,
pkg/api/universal/jobs.go, pkg/api/errors/scheduler.go) and delivers
(pkg/channel/http/http_channel.go: POST /job/{name}, application/json, the
job's data as the body):
- schedule with dueTime / schedule (@every, cron) / repeats / ttl / data, GET
  (data as a protobuf Any of google.protobuf.Value), DELETE;
- delivery to the app, repeats, one-shot jobs removed after firing, a deleted
  job never fires, a failing app gets the activation again (1 s, 3 retries);
- daprd's errors: name in the body, empty name, no schedule, bad schedule,
  an existing job without overwrite (409), malformed body, other methods;
- jobs live in the embedded SQLite file: a job scheduled, then the sidecar
  killed with SIGKILL, fires after the sidecar is started again.
"""
import datetime
import http.server
import json
import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgtest import Sidecar, check, check_error, finish, free_port, start_alarm  # noqa: E402

BIN = sys.argv[1]
start_alarm(115)

got = queue.Queue()
fail_first = {"flaky": 2}  # job name -> how many deliveries to answer 500


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        name = self.path[len("/job/"):] if self.path.startswith("/job/") else None
        got.put((self.path, self.headers.get("Content-Type"), body, time.time()))
        status = 200
        if name in fail_first and fail_first[name] > 0:
            fail_first[name] -= 1
            status = 500
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def jobs(sc, method, name, body=None):
    return sc.request(method, f"/v1.0-alpha1/jobs/{name}", body)


def wait_for(path, timeout=8):
    """The next delivery to path (others are kept for later), or None."""
    deadline, kept, found = time.time() + timeout, [], None
    while found is None and time.time() < deadline:
        try:
            d = got.get(timeout=max(0.05, deadline - time.time()))
        except queue.Empty:
            break
        if d[0] == path:
            found = d
        else:
            kept.append(d)
    for d in kept:
        got.put(d)
    return found


def drain(path, seconds):
    """Deliveries to path within the next seconds."""
    end, n, kept = time.time() + seconds, 0, []
    while time.time() < end:
        try:
            d = got.get(timeout=max(0.05, end - time.time()))
        except queue.Empty:
            break
        if d[0] == path:
            n += 1
        else:
            kept.append(d)
    for d in kept:
        got.put(d)
    return n


app_port = free_port()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), App)
threading.Thread(target=srv.serve_forever, daemon=True).start()
sc = Sidecar(BIN, app_id="japp", args=["--app-port", str(app_port)])
sc.start()

# one-shot job with data: GET shows it, the app receives it once, then it is gone
t0 = time.time()  # before scheduling: a slow GET below (loaded machine) must not count against the dueTime
r = jobs(sc, "POST", "once", {"dueTime": "1s", "data": {"k": "v", "n": [1, 2]}})
check(r[0] == 204 and r[2] == b"", f"schedule: {r}")
st, _, body = jobs(sc, "GET", "once")
check(st == 200 and json.loads(body) == {"name": "once", "dueTime": "1s", "data": {
    "@type": "type.googleapis.com/google.protobuf.Value", "value": {"k": "v", "n": [1, 2]}}}, f"get: {st} {body!r}")
d = wait_for("/job/once")
check(d is not None, "the app received /job/once")
if d:
    check(d[1] == "application/json" and json.loads(d[2]) == {"k": "v", "n": [1, 2]}, f"delivery: {d}")
    check(d[3] - t0 >= 0.5, f"fired after its dueTime, not at once ({d[3] - t0:.2f}s)")
time.sleep(0.3)
check_error(jobs(sc, "GET", "once"), 500, "DAPR_SCHEDULER_GET_JOB",
            "failed to get job due to: rpc error: code = NotFound desc = job not found: once")
check(drain("/job/once", 1.5) == 0, "a one-shot job fires once")

# a schedule with repeats: exactly that many activations, then removed
r = jobs(sc, "POST", "rep", {"schedule": "@every 1s", "repeats": 2, "data": "tick"})
check(r[0] == 204, f"schedule rep: {r}")
st, _, body = jobs(sc, "GET", "rep")
check(st == 200 and json.loads(body) == {"name": "rep", "schedule": "@every 1s", "repeats": 2, "data": {
    "@type": "type.googleapis.com/google.protobuf.Value", "value": "tick"}}, f"get rep: {body!r}")
n = drain("/job/rep", 4.5)
check(n == 2, f"repeats 2: {n} deliveries")
check(jobs(sc, "GET", "rep")[0] == 500, "rep removed after its last activation")

# RFC 3339 dueTime; a six-field cron with ttl is accepted and readable
due = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
check(jobs(sc, "POST", "at", {"dueTime": due, "data": 7})[0] == 204, "RFC 3339 dueTime")
d = wait_for("/job/at")
check(d is not None and d[2] == b"7", f"RFC 3339 job delivered: {d}")
r = jobs(sc, "POST", "cron", {"schedule": "0 0 3 * * *", "ttl": "PT48H"})
check(r[0] == 204, f"cron with ttl: {r}")
check(json.loads(jobs(sc, "GET", "cron")[2]) == {"name": "cron", "schedule": "0 0 3 * * *", "ttl": "PT48H"},
      "cron readable")

# delete: 204, gone, never fires; deleting again is fine
check(jobs(sc, "POST", "del", {"dueTime": "2s"})[0] == 204, "schedule del")
check(jobs(sc, "DELETE", "del")[0] == 204, "delete")
check(jobs(sc, "DELETE", "del")[0] == 204, "delete again")
check(jobs(sc, "GET", "del")[0] == 500, "deleted job not found")

# a failing app gets the activation again (two 500s, then 200: three deliveries)
check(jobs(sc, "POST", "flaky", {"dueTime": "0s", "data": {"x": 1}})[0] == 204, "schedule flaky")
n = drain("/job/flaky", 4.5)
check(n == 3, f"flaky: {n} deliveries (2 failures + 1 success)")
check(jobs(sc, "GET", "flaky")[0] == 500, "flaky done")
check(drain("/job/del", 0.1) == 0, "the deleted job never fired")

# errors, as daprd
check_error(jobs(sc, "POST", "x", {"name": "x", "dueTime": "1s"}), 400, "DAPR_SCHEDULER_JOB_NAME",
            "Set the job name in the url only")
check_error(jobs(sc, "POST", "%20", {"dueTime": "1s"}), 400, "DAPR_SCHEDULER_JOB_NAME_EMPTY", "Name is empty")
check_error(jobs(sc, "POST", "x", {"data": 1}), 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty")
check_error(jobs(sc, "POST", "x", None), 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty")
check_error(jobs(sc, "POST", "x", "{"), 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
check_error(jobs(sc, "POST", "x", {"schedule": 5}), 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")
check_error(jobs(sc, "POST", "x", {"schedule": "every day"}), 400, "DAPR_SCHEDULER_SCHEDULE_JOB",
            "failed to schedule job due to: rpc error: code = InvalidArgument desc = invalid schedule format")
check_error(jobs(sc, "POST", "x", {"dueTime": "tomorrow"}), 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "invalid dueTime")
check(jobs(sc, "POST", "dup", {"dueTime": "1h"})[0] == 204, "schedule dup")
check_error(jobs(sc, "POST", "dup", {"dueTime": "2h"}), 409, "DAPR_SCHEDULER_SCHEDULE_JOB",
            "failed to schedule job due to: rpc error: code = AlreadyExists desc = job already exists: 'dup'")
check(jobs(sc, "POST", "dup", {"dueTime": "2h", "overwrite": True})[0] == 204, "overwrite")
check(json.loads(jobs(sc, "GET", "dup")[2]).get("dueTime") == "2h", "overwritten")
check(jobs(sc, "PUT", "dup", {"dueTime": "1s"})[0] == 405, "PUT is 405")

# restart survival: scheduled, SIGKILL before it is due, fires after the restart
check(jobs(sc, "POST", "survivor", {"dueTime": "2s", "data": {"alive": True}})[0] == 204, "schedule survivor")
sc.kill()
time.sleep(2.5)
check(drain("/job/survivor", 0.1) == 0, "nothing fires while the sidecar is down")
sc2 = Sidecar(BIN, app_id="japp", args=["--app-port", str(app_port)], workdir=sc.dir)
sc2.start()
d = wait_for("/job/survivor", 8)
check(d is not None and json.loads(d[2]) == {"alive": True}, f"survivor fired after the restart: {d}")
check(json.loads(jobs(sc2, "GET", "dup")[2]).get("dueTime") == "2h", "jobs survive a restart")
sc2.stop()
srv.shutdown()
finish()
