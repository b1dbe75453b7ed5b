/*
 * invoke_remote.c: resilient app calls and sidecar-to-sidecar invocation
 * (see mesh.h). One call is a small state machine on the request's loop:
 * [resolve the target sidecar (cache, else SQLite on the thread pool)] ->
 * circuit breaker check -> request with the per-attempt timeout -> on
 * failure, a retry timer (policy back-off) and again; the last outcome
 * answers the request. Dapr's order of wrapping is kept: retries around the
 * breaker around the timeout, and an open breaker ends the retries at once
 * (dapr pkg/resiliency/policy.go).
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/acl.h"
#include "api/appchannel.h"
#include "api/appchannel_grpc.h"
#include "api/invoke_path.h"
#include "api/invoke_pipe.h"
#include "api/mesh.h"
#include "components/nameres/nameres.h"
#include "config/resiliency.h"
#include "grpc/wire.h"
#include "util/buf.h"
#include "util/log.h"

enum { DEFAULT_TIMEOUT_MS = 60000 };

/* DaprBuiltInServiceRetries: 3 retries 1 s apart, on connection failures
 * only (docs operations/resiliency/policies.md, "Overriding default retries"). */
static const wgg_retry_policy builtin_service_retries = {
    .name = "DaprBuiltInServiceRetries", .duration_ms = 1000, .max_interval_ms = 1000, .max_retries = 3};

/* The public names of the WGG_INVOKE_GRPC_* headers (api/appchannel_grpc.h) on a hop's
 * answer between sidecars: a gRPC app's status reaches the caller's sidecar
 * as it would over daprd's internal gRPC. */
static const struct { const char *internal, *wire; } grpc_names[] = {
    {WGG_INVOKE_GRPC_STATUS, "wasmgate-grpc-status"},
    {WGG_INVOKE_GRPC_MESSAGE, "wasmgate-grpc-message"},
    {WGG_INVOKE_GRPC_DETAILS, "wasmgate-grpc-details"},
    {WGG_INVOKE_GRPC_TYPE_URL, "wasmgate-grpc-type-url"},
    {WGG_INVOKE_GRPC_CONTENT_TYPE, "wasmgate-grpc-content-type"},
    {WGG_INVOKE_GRPC_TRAILER, "wasmgate-trailer-"},
    {WGG_INVOKE_GRPC_BIN, "wasmgate-bin-"}}; /* these two: prefixes of a name */

bool wgg_invoke_internal_header(const char *name) {
  if (name[0] == ':') return true;
  if ((name[0] | 0x20) != 'w' || strncasecmp(name, "wasmgate-", 9)) return false; /* most names, at once */
  return !strncasecmp(name + 9, "grpc-", 5) || !strncasecmp(name + 9, "trailer-", 8) || !strncasecmp(name + 9, "bin-", 4);
}

/* One header of an answer as req gets it, appended to h (names and values
 * made here kept in *own): the WGG_INVOKE_GRPC_* ones stay for an internal
 * caller (InvokeService), go out under their public names to a hop, and are
 * dropped for an HTTP caller; their public forms are trusted from another
 * sidecar only. 0, or -1 on OOM. */
static int pass_header(wgg_http_req *req, bool from_sidecar, const wgg_http_header *in, wgg_http_header *h,
                       size_t *n, wgg_buf *own, size_t *offs, size_t *n_offs) {
  const char *name = in->name, *value = in->value;
  if (wgg_http_hop_header(name)) return 0;
  if (!wgg_invoke_internal_header(name)) {
    h[(*n)++] = *in;
    return 0;
  }
  bool internal = name[0] == ':';
  size_t k = 0, nk = sizeof grpc_names / sizeof *grpc_names;
  if (!internal && !from_sidecar) return 0; /* an app's look-alike */
  for (; k < nk; k++) {
    const char *mine = internal ? grpc_names[k].internal : grpc_names[k].wire;
    bool prefix = k >= nk - 2;
    if (prefix ? !strncasecmp(name, mine, strlen(mine)) : !strcasecmp(name, mine)) break;
  }
  if (k == nk) return 0;
  const char *rest = name + strlen(internal ? grpc_names[k].internal : grpc_names[k].wire);
  bool keep_internal = wgg_invoke_internal_caller(req);
  bool to_hop = !keep_internal && wgg_http_req_header(req, WGG_HOP_HEADER);
  if (!keep_internal && !to_hop) return 0;
  if (internal == keep_internal) {
    h[(*n)++] = *in;
    return 0;
  }
  /* name and value into own, as offsets (own may move) */
  char *v = NULL;
  if (!strcmp(grpc_names[k].internal, WGG_INVOKE_GRPC_MESSAGE))
    v = keep_internal ? wgg_grpc_percent_decode(value) : wgg_grpc_percent_encode(value);
  offs[(*n_offs)++] = own->len;
  if (wgg_buf_printf(own, "%s%s", keep_internal ? grpc_names[k].internal : grpc_names[k].wire, rest) ||
      wgg_buf_append(own, "", 1) || wgg_buf_printf(own, "%s", v ? v : value) || wgg_buf_append(own, "", 1)) {
    free(v);
    return -1;
  }
  free(v);
  h[(*n)++] = (wgg_http_header){NULL, NULL}; /* filled in once own is final */
  return 0;
}

void wgg_invoke_pass_response(wgg_http_req *req, const char *app_id, const wgg_http_response *resp,
                              bool from_sidecar) {
  /* on the stack unless the app answers with many headers (once per request) */
  size_t cap = resp->n_headers ? resp->n_headers : 1;
  wgg_http_header hstack[32];
  size_t ostack[32];
  bool small = cap <= sizeof hstack / sizeof *hstack;
  wgg_http_header *h = small ? hstack : calloc(cap, sizeof *h);
  size_t *offs = small ? ostack : calloc(cap, sizeof *offs);
  wgg_buf own = {0};
  size_t n = 0, n_offs = 0;
  int rc = h && offs ? 0 : -1;
  for (size_t i = 0; !rc && i < resp->n_headers; i++)
    rc = pass_header(req, from_sidecar, &resp->headers[i], h, &n, &own, offs, &n_offs);
  for (size_t i = 0, o = 0; !rc && i < n; i++)
    if (!h[i].name) {
      h[i].name = own.data + offs[o];
      h[i].value = h[i].name + strlen(h[i].name) + 1;
      o++;
    }
  if (rc) wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app_id);
  else wgg_http_respond(req, resp->status, NULL, h, n, resp->body, resp->body_len);
  if (!small) {
    free(h);
    free(offs);
  }
  wgg_buf_free(&own);
}

typedef struct rcall {
  wgg_invoke_pipe p; /* first: the client's user pointer (api/invoke_pipe.h) */
  wgg_api *api;
  wgg_http_req *req;
  char *app_id;
  bool remote; /* resolve app_id's sidecar before each attempt */
  bool own_app; /* this sidecar's app: through the app channel (api/appchannel.h) */
  char host[256];
  int port;
  char *target;
  wgg_http_header *h;
  size_t n;
  char *owned[4]; /* header values this call allocated */
  char *hstore;   /* copies of the caller's header strings (they may live on its stack) */
  wgg_res_policy pol;
  const wgg_retry_policy *conn_retry; /* remote: retries of connection failures without a policy */
  int64_t retries;
  uint64_t backoff;
  bool allowed; /* the breaker let the current attempt through */
  uv_timer_t *timer;
  /* thread-pool resolution */
  char addr[160];
  wgg_err rerr;
  int rrc;
} rcall;

static void timer_closed(uv_handle_t *h) {
  free(h);
}

static void rcall_free(rcall *c) {
  if (c->timer) uv_close((uv_handle_t *)c->timer, timer_closed);
  for (size_t i = 0; i < sizeof c->owned / sizeof c->owned[0]; i++) free(c->owned[i]);
  free(c->hstore);
  free(c->app_id);
  free(c->target);
  free(c->h);
  free(c);
}

/* Answers 500 ERR_DIRECT_INVOKE with Dapr's message shape and ends the call. */
static void fail(rcall *c, const char *detail) {
  if (c->allowed) wgg_breaker_record(c->pol.breaker, false, wgg_res_now_ms());
  wgg_api_error(c->req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", c->app_id, detail);
  rcall_free(c);
}

static void attempt(rcall *c);

static void on_timer(uv_timer_t *t) {
  attempt(t->data);
}

/* Schedules the next attempt when the policies allow one. */
static bool retry_later(rcall *c, bool transport_failure) {
  const wgg_retry_policy *p = c->pol.retry ? c->pol.retry : transport_failure ? c->conn_retry : NULL;
  if (!p || !wgg_retry_more(p, c->retries)) return false;
  if (!c->timer) {
    if (!(c->timer = malloc(sizeof *c->timer))) return false;
    uv_timer_init(c->req->loop, c->timer);
    c->timer->data = c;
  }
  uint64_t wait = wgg_retry_backoff_ms(p, &c->backoff);
  c->retries++;
  wgg_debug("invoke %s: retry %lld in %llu ms (policy %s)", c->app_id, (long long)c->retries,
            (unsigned long long)wait, p->name);
  uv_timer_start(c->timer, on_timer, wait, 0);
  return true;
}

static void on_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  rcall *c = user;
  if (wgg_invoke_pipe_completed(&c->p)) { /* the caller's body failed: answered with its status */
    if (c->allowed) wgg_breaker_record(c->pol.breaker, true, wgg_res_now_ms()); /* not the app's fault */
    rcall_free(c);
    return;
  }
  /* without a retry or breaker policy an app's status is just passed on */
  bool failure =
      !resp || ((c->pol.retry || c->pol.breaker) && wgg_retry_status_is_error(c->pol.retry, resp->status));
  if (c->allowed) wgg_breaker_record(c->pol.breaker, !failure, wgg_res_now_ms());
  c->allowed = false;
  if (!resp && c->remote) wgg_nameres_forget(c->api->nameres, c->app_id);
  /* the built-in retries are for connection failures only, not for a timeout (gRPC Unavailable vs
   * DeadlineExceeded in Dapr); the client reports a timeout as such in errmsg */
  bool conn_failure = !resp && !(errmsg && strstr(errmsg, "timeout"));
  if (failure && wgg_invoke_pipe_can_retry(&c->p) && retry_later(c, conn_failure)) return;
  if (resp) {
    wgg_invoke_pass_response(c->req, c->app_id, resp, c->remote);
    rcall_free(c);
    return;
  }
  fail(c, errmsg ? errmsg : "request failed");
}

static void send_attempt(rcall *c) {
  wgg_http_client *cl = c->req->loop->data;
  if (!cl) {
    fail(c, "the sidecar is shutting down");
    return;
  }
  uint64_t timeout = c->pol.timeout_ms ? c->pol.timeout_ms : DEFAULT_TIMEOUT_MS;
  wgg_http_req *req = c->req;
  const wgg_http_stream_cbs *stream =
      !req->respond_hook && req->method != HTTP_HEAD ? &wgg_invoke_pipe_stream : NULL;
  if (c->own_app) {
    const char *why = NULL;
    if (wgg_app_call_full(c->api, cl, req->method_name, c->target, c->h, c->n, req->body, req->body_len,
                          wgg_invoke_pipe_source(&c->p), req->remote_addr, timeout, on_response, stream, c, &why))
      fail(c, why);
    return;
  }
  if (wgg_http_client_request_full(cl, c->host, c->port, req->method_name, c->target, c->h, c->n, req->body,
                                   req->body_len, wgg_invoke_pipe_source(&c->p), timeout, on_response, stream, c)) {
    char where[300];
    snprintf(where, sizeof where, "cannot reach %s:%d", c->host, c->port);
    fail(c, where);
  }
}

/* "host:port" or "[v6]:port" into c->host/port. */
static int parse_addr(rcall *c, const char *addr) {
  const char *colon = strrchr(addr, ':');
  if (!colon || colon == addr) return -1;
  const char *h = addr;
  size_t hl = (size_t)(colon - addr);
  if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') h++, hl -= 2;
  if (hl >= sizeof c->host) return -1;
  memcpy(c->host, h, hl);
  c->host[hl] = '\0';
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || p <= 0 || p > 65535) return -1;
  c->port = (int)p;
  return 0;
}

static void resolve_work(void *p) {
  rcall *c = p;
  c->rrc = wgg_nameres_resolve(c->api->nameres, c->app_id, c->addr, sizeof c->addr, &c->rerr);
}

static void resolved(rcall *c) {
  if (c->rrc) {
    if (c->allowed) wgg_breaker_record(c->pol.breaker, false, wgg_res_now_ms());
    c->allowed = false;
    if (retry_later(c, false)) return; /* a retry policy also waits for an app to come (back) */
    char msg[700];
    snprintf(msg, sizeof msg, "couldn't find service: %s (name resolution %s: %s)", c->app_id,
             wgg_nameres_kind(c->api->nameres), c->rerr.msg);
    fail(c, msg);
    return;
  }
  if (parse_addr(c, c->addr)) {
    char msg[300];
    snprintf(msg, sizeof msg, "invalid address registered for the app: %s", c->addr);
    fail(c, msg);
    return;
  }
  send_attempt(c);
}

static void resolve_done(void *p) {
  resolved(p);
}

/* One attempt: the breaker first (it wraps resolution and the call, as
 * Dapr's policy runner wraps the whole operation), then resolve and send. */
static void attempt(rcall *c) {
  c->allowed = false;
  if (c->pol.breaker) {
    if (!wgg_breaker_allow(c->pol.breaker, wgg_res_now_ms())) {
      fail(c, "circuit breaker is open");
      return;
    }
    c->allowed = true;
  }
  if (!c->remote) {
    send_attempt(c);
    return;
  }
  if (wgg_nameres_cached(c->api->nameres, c->app_id, c->addr, sizeof c->addr) == 0) {
    c->rrc = 0;
    resolved(c);
    return;
  }
  if (wgg_api_submit(c->req->loop, true, c, resolve_work, resolve_done)) fail(c, "out of memory");
}

/* Allocates a call with a copy of the headers (array and strings: a retry
 * runs after the caller has returned). */
/* A 2xx/3xx head: streams unless a retry policy counts its status as a
 * failure (then it is buffered and goes to on_response); a streamed answer
 * is the breaker's success. */
static bool rcall_may_stream(wgg_invoke_pipe *p, int status) {
  rcall *c = (rcall *)p;
  if ((c->pol.retry || c->pol.breaker) && wgg_retry_status_is_error(c->pol.retry, status)) return false;
  if (c->allowed) wgg_breaker_record(c->pol.breaker, true, wgg_res_now_ms());
  c->allowed = false;
  return true;
}

static void rcall_released(wgg_invoke_pipe *p) {
  rcall_free((rcall *)p);
}

static rcall *rcall_new(wgg_api *api, wgg_http_req *req, const char *app_id, const wgg_http_header *h, size_t n,
                        size_t extra) {
  rcall *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->api = api;
  c->req = req;
  c->app_id = strdup(app_id);
  if (c->app_id) {
    wgg_invoke_pipe_init(&c->p, req, c->app_id, true, rcall_released);
    c->p.may_stream = rcall_may_stream;
  }
  c->h = calloc(n + extra + 1, sizeof *c->h);
  size_t total = 1;
  for (size_t i = 0; i < n; i++) total += strlen(h[i].name) + strlen(h[i].value) + 2;
  c->hstore = malloc(total);
  if (!c->app_id || !c->h || !c->hstore) {
    rcall_free(c);
    return NULL;
  }
  char *p = c->hstore;
  for (size_t i = 0; i < n; i++) {
    size_t ln = strlen(h[i].name) + 1, lv = strlen(h[i].value) + 1;
    c->h[i].name = memcpy(p, h[i].name, ln);
    c->h[i].value = memcpy(p + ln, h[i].value, lv);
    p += ln + lv;
  }
  c->n = n;
  return c;
}

bool wgg_invoke_wants_resiliency(wgg_api *api, wgg_http_req *req, const char *app_id) {
  if (!api->resiliency || wgg_http_req_header(req, WGG_HOP_HEADER)) return false;
  wgg_res_policy p;
  wgg_resiliency_for_app(api->resiliency, app_id, &p);
  return p.timeout_ms || p.retry || p.breaker;
}

void wgg_invoke_resilient(wgg_api *api, wgg_http_req *req, const char *app_id, const char *host, int port,
                          const char *target, const wgg_http_header *headers, size_t n) {
  rcall *c = rcall_new(api, req, app_id, headers, n, 0);
  if (!c || !(c->target = strdup(target)) || strlen(host) >= sizeof c->host) {
    if (c) rcall_free(c);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app_id);
    return;
  }
  snprintf(c->host, sizeof c->host, "%s", host);
  c->port = port;
  c->own_app = true;
  wgg_resiliency_for_app(api->resiliency, app_id, &c->pol);
  attempt(c);
}

void wgg_invoke_remote(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method) {
  const wgg_options *o = api->opts;
  if (wgg_http_req_header(req, WGG_HOP_HEADER)) { /* a stale registration pointed another sidecar here */
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE",
                  "failed to invoke, id: %s, err: the request reached the sidecar of app %s instead", app_id,
                  o->app_id && *o->app_id ? o->app_id : "(none)");
    return;
  }
  if (!api->nameres) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: couldn't find service: %s", app_id,
                  app_id);
    return;
  }
  wgg_http_header *h = calloc(req->n_headers + 1, sizeof *h);
  size_t n = 0;
  for (size_t i = 0; h && i < req->n_headers; i++) {
    const char *name = req->headers[i].name;
    if (wgg_http_hop_header(name) || !strcasecmp(name, "dapr-api-token") || !strcasecmp(name, "dapr-app-id") ||
        !strcasecmp(name, WGG_HOP_HEADER) || !strcasecmp(name, "dapr-caller-app-id") ||
        !strcasecmp(name, "dapr-callee-app-id") || !strcasecmp(name, "dapr-caller-namespace") ||
        !strcasecmp(name, "dapr-caller-trust-domain"))
      continue;
    h[n++] = req->headers[i];
  }
  rcall *c = h ? rcall_new(api, req, app_id, h, n, 6) : NULL;
  free(h);
  wgg_buf t = {0};
  char *eid = wgg_invoke_escape_path(app_id);
  int prc = eid ? wgg_buf_printf(&t, "/v1.0/invoke/%s/method/%s%s%s", eid, method, *req->query ? "?" : "", req->query)
                : -1;
  free(eid);
  if (!c || prc ||
      !(c->owned[0] = strdup(o->app_id ? o->app_id : ""))) {
    wgg_buf_free(&t);
    if (c) rcall_free(c);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app_id);
    return;
  }
  c->target = t.data; /* ownership moves */
  c->remote = true;
  c->h[c->n++] = (wgg_http_header){WGG_HOP_HEADER, "1"};
  if (*c->owned[0]) c->h[c->n++] = (wgg_http_header){"dapr-caller-app-id", c->owned[0]};
  c->h[c->n++] = (wgg_http_header){"dapr-callee-app-id", c->app_id};
  const char *ns = getenv("NAMESPACE"); /* as daprd: the caller's identity for accessControl (api/acl.h) */
  c->h[c->n++] = (wgg_http_header){"dapr-caller-namespace", ns && *ns ? ns : "default"};
  c->h[c->n++] = (wgg_http_header){"dapr-caller-trust-domain", wgg_acl_trust_domain(api->acl)};
  if (o->api_token && *o->api_token) c->h[c->n++] = (wgg_http_header){"dapr-api-token", o->api_token};
  wgg_resiliency_for_app(api->resiliency, app_id, &c->pol);
  /* daprd's invokeWithRetry: the built-in retries of connection failures apply only when no
   * policy (timeout, retry or circuit breaker) is defined for the target app */
  const wgg_retry_policy *over = wgg_resiliency_retry(api->resiliency, "DaprBuiltInServiceRetries");
  bool policy_defined = c->pol.timeout_ms || c->pol.retry || c->pol.breaker;
  c->conn_retry = policy_defined ? NULL : over ? over : &builtin_service_retries;
  attempt(c);
}

bool wgg_invoke_acl_check(wgg_api *api, wgg_http_req *req, const char *method) {
  if (!api->acl || !wgg_http_req_header(req, WGG_HOP_HEADER)) return true;
  const wgg_options *o = api->opts;
  bool verified = o->api_token && *o->api_token; /* the router checked the hop's token */
  const char *caller = verified ? wgg_http_req_header(req, "dapr-caller-app-id") : NULL;
  char why[700];
  if (wgg_acl_allowed(api->acl, caller, wgg_http_req_header(req, "dapr-caller-namespace"),
                      wgg_http_req_header(req, "dapr-caller-trust-domain"), method, req->method_name, why, sizeof why))
    return true;
  wgg_api_error(req, 403, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", o->app_id ? o->app_id : "", why);
  return false;
}
