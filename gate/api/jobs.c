/*
 * jobs.c: the Jobs API, /v1.0-alpha1/jobs/{name} (docs reference/api/
 * jobs_api.md; dapr pkg/api/http/jobs.go, pkg/api/universal/jobs.go,
 * pkg/api/errors/scheduler.go, pkg/channel/http/http_channel.go TriggerJob).
 *
 *   POST   {"schedule","dueTime","repeats","ttl","data","overwrite"} -> 204
 *   GET    -> 200 {"name","schedule","repeats","dueTime","ttl","data":{"@type":...,"value":...}}
 *   DELETE -> 204
 * Errors as daprd's (the errorCode is the ErrorInfo reason, as dapr/kit
 * renders errors without a legacy tag):
 *   400 DAPR_SCHEDULER_JOB_NAME "Set the job name in the url only"
 *   400 DAPR_SCHEDULER_JOB_NAME_EMPTY "Name is empty"
 *   400 DAPR_SCHEDULER_SCHEDULE_EMPTY "Schedule is empty"
 *   400 ERR_MALFORMED_REQUEST "failed deserializing HTTP body: ..."
 *   409 DAPR_SCHEDULER_SCHEDULE_JOB "failed to schedule job due to: rpc error:
 *       code = AlreadyExists desc = job already exists: '<name>'" (overwrite false)
 *   400 DAPR_SCHEDULER_SCHEDULE_JOB "... code = InvalidArgument desc = <why>" (bad schedule/dueTime/ttl)
 *   500 DAPR_SCHEDULER_GET_JOB "failed to get job due to: rpc error: code =
 *       NotFound desc = job not found: <name>"
 *
 * daprd hands jobs to its scheduler service; wasmgate keeps them in the
 * embedded SQLite file (--state-file, components/jobs/jobstore.h) and a
 * thread of its own delivers each due activation to the app as daprd's
 * HTTP channel does: POST /job/<name>, Content-Type application/json, the
 * job's data as the body, through the app channel (APP_API_TOKEN,
 * --app-max-concurrency, appHttpPipeline). An activation is recorded as done
 * only after the app answered 2xx, so a crash in between delivers it again
 * (at least once); a failed delivery is retried every second, three times
 * (daprd's default failure policy), then the activation is given up.
 */
#include <http_parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "api/calls.h"
#include "components/jobs/jobstore.h"
#include "http/client.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

enum { TICK_MS = 100, RETRY_MS = 1000, MAX_RETRIES = 3, BATCH = 32 };

typedef struct inflight {
  struct inflight *next;
  struct wgg_jobs *jobs;
  wgg_job_due due;
} inflight;

struct wgg_jobs {
  wgg_api *api;
  char *path;
  pthread_mutex_t open_mu;
  wgg_jobstore *store; /* atomic: opened at start when the file exists, else on first use */
  bool deliver; /* an app port: the thread runs */
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t tick;
  uv_thread_t thread;
  wgg_http_client *client;
  inflight *busy; /* activations being delivered (delivery thread only) */
  int stopping;   /* atomic */
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The store, opened now when needed (thread-safe); NULL with err on failure. */
static wgg_jobstore *store_of(wgg_jobs *j, wgg_err *err) {
  wgg_jobstore *s = __atomic_load_n(&j->store, __ATOMIC_ACQUIRE);
  if (s) return s;
  pthread_mutex_lock(&j->open_mu);
  if (!(s = j->store)) {
    s = wgg_jobstore_open(j->path, j->api->opts->app_id, err);
    __atomic_store_n(&j->store, s, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&j->open_mu);
  return s;
}

/* ---- delivery ---- */

static void inflight_drop(inflight *f) {
  inflight **p = &f->jobs->busy;
  while (*p && *p != f) p = &(*p)->next;
  if (*p) *p = f->next;
  free(f->due.name);
  free(f->due.data);
  free(f);
}

static void delivered(void *user, const wgg_http_response *resp, const char *errmsg) {
  inflight *f = user;
  bool ok = resp && resp->status >= 200 && resp->status < 300;
  if (!ok)
    wgg_warn("job %s: delivery to the app failed: %s", f->due.name,
             resp ? "the app answered a non-2xx status" : errmsg ? errmsg : "failed");
  wgg_err e;
  if (wgg_jobstore_done(__atomic_load_n(&f->jobs->store, __ATOMIC_ACQUIRE), &f->due, ok, now_ms(), RETRY_MS, MAX_RETRIES, &e))
    wgg_warn("job %s: %s", f->due.name, e.msg);
  inflight_drop(f);
}

/* The app-side path of a job: "/job/" + name, bytes outside RFC 3986's
 * unreserved set percent-encoded. */
static char *job_target(const char *name) {
  wgg_buf b = {0};
  int bad = wgg_buf_append(&b, "/job/", 5);
  for (const unsigned char *p = (const unsigned char *)name; *p && !bad; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
      bad = wgg_buf_append(&b, p, 1);
    else
      bad = wgg_buf_printf(&b, "%%%02X", *p);
  }
  if (!bad) bad = wgg_buf_append(&b, "", 1);
  if (bad) {
    wgg_buf_free(&b);
    return NULL;
  }
  return b.data;
}

static void on_tick(uv_timer_t *t) {
  wgg_jobs *j = t->data;
  wgg_jobstore *store = __atomic_load_n(&j->store, __ATOMIC_ACQUIRE);
  if (!store || __atomic_load_n(&j->stopping, __ATOMIC_ACQUIRE) || !wgg_app_healthy(j->api)) return;
  wgg_job_due *due;
  size_t n;
  wgg_err e;
  if (wgg_jobstore_due(store, now_ms(), BATCH, &due, &n, &e)) {
    wgg_warn("jobs: %s", e.msg);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    bool busy = false;
    for (inflight *f = j->busy; f && !busy; f = f->next) busy = !strcmp(f->due.name, due[i].name);
    if (busy) continue;
    inflight *f = calloc(1, sizeof *f);
    char *target = job_target(due[i].name);
    if (!f || !target) {
      free(f);
      free(target);
      continue;
    }
    f->jobs = j;
    f->due = due[i];
    memset(&due[i], 0, sizeof due[i]);
    f->next = j->busy;
    j->busy = f;
    wgg_buf kind = {0}; /* a gRPC app: OnJobEventAlpha1 */
    wgg_buf_printf(&kind, "job\x1f%s", f->due.name);
    const wgg_http_header ct[] = {{"Content-Type", "application/json"}, {WGG_APP_CALL_KIND, kind.data ? kind.data : "job"}};
    const char *why = NULL, *body = f->due.data ? f->due.data : "";
    int rc = wgg_app_call(j->api, j->client, "POST", target, ct, 2, body, strlen(body), NULL, 30000, delivered, f, &why);
    wgg_buf_free(&kind);
    if (rc) {
      wgg_warn("job %s: delivery to the app failed: %s", f->due.name, why ? why : "out of memory");
      if (wgg_jobstore_done(store, &f->due, false, now_ms(), RETRY_MS, MAX_RETRIES, &e))
        wgg_warn("job %s: %s", f->due.name, e.msg);
      inflight_drop(f);
    }
    free(target);
  }
  wgg_job_due_free(due, n);
}

static void on_wake(uv_async_t *a) {
  wgg_jobs *j = a->data;
  if (!__atomic_load_n(&j->stopping, __ATOMIC_ACQUIRE)) {
    on_tick(&j->tick);
    return;
  }
  uv_timer_stop(&j->tick);
  uv_close((uv_handle_t *)&j->tick, NULL);
  uv_close((uv_handle_t *)&j->wake, NULL);
  if (j->client) wgg_http_client_close(j->client); /* calls in flight complete (failed) */
  j->client = NULL;
  wgg_app_limit_thread_close(j->api->app_limit);
}

static void deliver_main(void *p) {
  wgg_jobs *j = p;
  if (wgg_app_limit_thread_init(j->api->app_limit, &j->loop))
    wgg_warn("out of memory: job deliveries are not held to --app-max-concurrency");
  uv_timer_start(&j->tick, on_tick, TICK_MS, TICK_MS);
  uv_run(&j->loop, UV_RUN_DEFAULT);
}

int wgg_api_jobs_init(wgg_api *api, wgg_err *err) {
  const char *path = api->opts->state_file;
  if (!path || !*path) return 0; /* no file: the jobs API answers that jobs are unavailable */
  wgg_jobs *j = calloc(1, sizeof *j);
  if (!j) return wgg_err_set(err, "out of memory");
  j->api = api;
  pthread_mutex_init(&j->open_mu, NULL);
  wgg_err e;
  /* A file that exists may hold jobs from before a restart: open it now so
   * they fire; otherwise the file is created by the first job. */
  if (!(j->path = strdup(path)) || (access(path, F_OK) == 0 && !store_of(j, &e))) {
    bool oom = !j->path;
    pthread_mutex_destroy(&j->open_mu);
    free(j->path);
    free(j);
    return oom ? wgg_err_set(err, "out of memory") : wgg_err_set(err, "%s", e.msg);
  }
  if (wgg_options_has_app(api->opts)) { /* an HTTP app or a wasm app: both through wgg_app_call */
    uv_loop_init(&j->loop);
    uv_async_init(&j->loop, &j->wake, on_wake);
    uv_timer_init(&j->loop, &j->tick);
    j->wake.data = j->tick.data = j;
    j->client = wgg_http_client_new(&j->loop);
    if (!j->client || uv_thread_create(&j->thread, deliver_main, j)) {
      uv_close((uv_handle_t *)&j->wake, NULL);
      uv_close((uv_handle_t *)&j->tick, NULL);
      if (j->client) wgg_http_client_close(j->client);
      uv_run(&j->loop, UV_RUN_DEFAULT);
      uv_loop_close(&j->loop);
      wgg_jobstore_close(j->store);
      pthread_mutex_destroy(&j->open_mu);
      free(j->path);
      free(j);
      return wgg_err_set(err, "cannot start the job delivery thread");
    }
    j->deliver = true;
  }
  api->jobs = j;
  return 0;
}

void wgg_api_jobs_free(wgg_api *api) {
  wgg_jobs *j = api->jobs;
  if (!j) return;
  if (j->deliver) {
    __atomic_store_n(&j->stopping, 1, __ATOMIC_RELEASE);
    uv_async_send(&j->wake);
    uv_thread_join(&j->thread);
    uv_loop_close(&j->loop);
    while (j->busy) inflight_drop(j->busy);
  }
  wgg_jobstore_close(j->store);
  pthread_mutex_destroy(&j->open_mu);
  free(j->path);
  free(j);
  api->jobs = NULL;
}

/* ---- the routes ---- */

typedef struct job_call {
  wgg_jobs *jobs;
  enum wgg_job_op op;
  char *name;
  char *schedule, *due_time, *ttl, *data;
  int64_t repeats;
  bool overwrite;
  int rc;
  json_t *got;
  wgg_err err;
  wgg_job_cb cb;
  void *user;
} job_call;

static void call_free(job_call *c) {
  free(c->name);
  free(c->schedule);
  free(c->due_time);
  free(c->ttl);
  free(c->data);
  json_decref(c->got);
  free(c);
}

static void call_work(void *p) {
  job_call *c = p;
  wgg_jobstore *store = store_of(c->jobs, &c->err);
  if (!store) {
    c->rc = WGG_JOB_ERROR;
    return;
  }
  if (c->op == WGG_JOB_OP_SCHEDULE) {
    wgg_job_spec s = {.name = c->name, .schedule = c->schedule, .due_time = c->due_time, .ttl = c->ttl,
                      .repeats = c->repeats, .data = c->data};
    c->rc = wgg_jobstore_put(store, &s, c->overwrite, now_ms(), &c->err);
  } else if (c->op == WGG_JOB_OP_GET) {
    c->rc = wgg_jobstore_get(store, c->name, &c->got, &c->err);
  } else {
    c->rc = wgg_jobstore_delete(store, c->name, &c->err);
  }
}

static void call_done(void *p) {
  job_call *c = p;
  wgg_api_status st;
  const wgg_api_status *err = &st;
  if (c->rc == WGG_JOB_OK) {
    err = NULL;
    if (c->op == WGG_JOB_OP_SCHEDULE && c->jobs->deliver)
      uv_async_send(&c->jobs->wake); /* a job due now fires without waiting for a tick */
  } else if (c->op == WGG_JOB_OP_SCHEDULE) {
    if (c->rc == WGG_JOB_EXISTS)
      wgg_api_fail(&st, 409, WGG_GRPC_ALREADY_EXISTS, "DAPR_SCHEDULER_SCHEDULE_JOB",
                   "failed to schedule job due to: rpc error: code = AlreadyExists desc = %s", c->err.msg);
    else if (c->rc == WGG_JOB_INVALID)
      wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "DAPR_SCHEDULER_SCHEDULE_JOB",
                   "failed to schedule job due to: rpc error: code = InvalidArgument desc = %s", c->err.msg);
    else
      wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "DAPR_SCHEDULER_SCHEDULE_JOB", "failed to schedule job due to: %s",
                   c->err.msg);
  } else if (c->op == WGG_JOB_OP_GET) {
    if (c->rc == WGG_JOB_NOT_FOUND)
      wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "DAPR_SCHEDULER_GET_JOB",
                   "failed to get job due to: rpc error: code = NotFound desc = job not found: %s", c->name);
    else
      wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "DAPR_SCHEDULER_GET_JOB", "failed to get job due to: %s", c->err.msg);
  } else {
    wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "DAPR_SCHEDULER_DELETE_JOB", "failed to delete job due to: %s",
                 c->err.msg);
  }
  c->cb(c->user, err, err ? NULL : c->got);
  call_free(c);
}

static char *dup_or_null(const char *s, bool *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = true;
  return d;
}

int wgg_job_call(wgg_api *api, uv_loop_t *loop, enum wgg_job_op op, const wgg_job_input *in, wgg_job_cb cb, void *user,
                 wgg_api_status *st) {
  const char *name = in->name ? in->name : "";
  if (!*name || (op == WGG_JOB_OP_SCHEDULE && strchr(name, '|')))
    return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "DAPR_SCHEDULER_JOB_NAME_EMPTY", "Name is empty");
  if (op == WGG_JOB_OP_SCHEDULE && !in->schedule && !in->due_time)
    return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty");
  static const char *const codes[] = {"DAPR_SCHEDULER_SCHEDULE_JOB", "DAPR_SCHEDULER_GET_JOB",
                                      "DAPR_SCHEDULER_DELETE_JOB"};
  static const char *const verbs[] = {"schedule", "get", "delete"};
  if (!api->jobs)
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, codes[op],
                        "failed to %s job due to: jobs need the embedded state file (--state-file)", verbs[op]);
  job_call *c = calloc(1, sizeof *c);
  bool oom = !c;
  if (c) {
    c->jobs = api->jobs;
    c->op = op;
    c->cb = cb;
    c->user = user;
    c->repeats = in->repeats;
    c->overwrite = in->overwrite;
    c->name = dup_or_null(name, &oom);
    c->schedule = dup_or_null(in->schedule, &oom);
    c->due_time = dup_or_null(in->due_time, &oom);
    c->ttl = dup_or_null(in->ttl, &oom);
    c->data = dup_or_null(in->data, &oom);
  }
  if (oom || wgg_api_submit(loop, true, c, call_work, call_done)) {
    if (c) call_free(c);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INTERNAL", "out of memory");
  }
  return 0;
}

/* ---- the HTTP route ---- */

static void http_done(void *user, const wgg_api_status *st, json_t *got) {
  wgg_http_req *req = user;
  if (st) wgg_api_error_status(req, st);
  else if (got) wgg_api_json(req, 200, json_incref(got));
  else wgg_api_empty(req);
}

/* The POST body's fields (owned strings). */
typedef struct job_body {
  char *schedule, *due_time, *ttl, *data;
  int64_t repeats;
  bool overwrite;
} job_body;

/* A string field of the body as protojson reads it: the JSON name or the
 * proto name; absent or null: NULL. Returns -1 for another type. */
static int str_field(json_t *body, const char *json_name, const char *proto_name, char **out) {
  *out = NULL;
  json_t *v = json_object_get(body, json_name);
  if (!v && proto_name) v = json_object_get(body, proto_name);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return -1;
  return (*out = strdup(json_string_value(v))) ? 0 : -1;
}

/* Fills c from the POST body; NULL, or the reason it is malformed. */
static const char *decode(json_t *body, job_body *c) {
  c->repeats = -1;
  if (!body) return NULL;
  if (!json_is_object(body)) return "the body is not a JSON object";
  if (str_field(body, "schedule", NULL, &c->schedule)) return "schedule: not a string";
  if (str_field(body, "dueTime", "due_time", &c->due_time)) return "dueTime: not a string";
  if (str_field(body, "ttl", NULL, &c->ttl)) return "ttl: not a string";
  json_t *r = json_object_get(body, "repeats");
  if (r && !json_is_null(r)) {
    long long n;
    char *end;
    if (json_is_integer(r)) n = json_integer_value(r);
    else if (json_is_string(r) && *json_string_value(r)) n = strtoll(json_string_value(r), &end, 10), n = *end ? -1 : n;
    else return "repeats: not a uint32";
    if (n < 0 || n > 4294967295LL) return "repeats: not a uint32";
    c->repeats = n;
  }
  json_t *o = json_object_get(body, "overwrite");
  if (o && !json_is_null(o)) {
    if (!json_is_boolean(o)) return "overwrite: not a bool";
    c->overwrite = json_is_true(o);
  }
  json_t *d = json_object_get(body, "data");
  if (d && !json_is_null(d)) {
    if (!(c->data = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY))) return "out of memory";
  }
  return NULL;
}

void wgg_api_jobs(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n != 1) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_POST && req->method != HTTP_GET && req->method != HTTP_DELETE) {
    wgg_api_method_not_allowed(req);
    return;
  }
  bool post = req->method == HTTP_POST;
  /* the name of a POST, trimmed of white space as daprd's strings.TrimSpace */
  const char *s = seg[0], *e = s + strlen(s);
  if (post) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f') s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\v' || e[-1] == '\f'))
      e--;
  }
  char *name = strndup(s, (size_t)(e - s));
  job_body b = {.repeats = -1};
  if (!name) {
    wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
    return;
  }
  if (post) {
    json_t *body = NULL;
    if (req->body_len) {
      json_error_t je;
      if (!(body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je))) {
        wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", je.text);
        goto out;
      }
    }
    const char *bad = decode(body, &b);
    json_t *bn = json_is_object(body) ? json_object_get(body, "name") : NULL;
    bool body_name = !bad && json_is_string(bn) && *json_string_value(bn);
    json_decref(body);
    if (bad) {
      wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", bad);
      goto out;
    }
    if (body_name) {
      wgg_api_error(req, 400, "DAPR_SCHEDULER_JOB_NAME", "Set the job name in the url only");
      goto out;
    }
  }
  wgg_job_input in = {.name = name, .schedule = b.schedule, .due_time = b.due_time, .ttl = b.ttl, .data = b.data,
                      .repeats = b.repeats, .overwrite = b.overwrite};
  enum wgg_job_op op = post ? WGG_JOB_OP_SCHEDULE : req->method == HTTP_GET ? WGG_JOB_OP_GET : WGG_JOB_OP_DELETE;
  wgg_api_status st;
  if (wgg_job_call(api, req->loop, op, &in, http_done, req, &st)) wgg_api_error_status(req, &st);
out:
  free(name);
  free(b.schedule);
  free(b.due_time);
  free(b.ttl);
  free(b.data);
}
