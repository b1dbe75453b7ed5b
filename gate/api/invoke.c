/*
 * invoke.c: service invocation of this sidecar's own app
 * (docs reference/api/service_invocation_api.md; dapr
 * pkg/api/http/directmessaging.go): /v1.0/invoke/{appId}/method/{method...}
 * and the `dapr-app-id` header form. The method, query, headers and body go
 * to http://<app-channel-address>:<app-port>/<method>; the app's status,
 * headers and body come back. The target may also be an HTTPEndpoint
 * resource (its baseUrl and headers) or a URL ("http://host:port/base").
 * Other app IDs go to their own sidecar (invoke_remote.c, mesh.h), except
 * the wasm apps hosted in this process (api.h wgg_hosted_find), which are
 * called in-process through their own api.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/acl.h"
#include "api/api.h"
#include "api/appchannel.h"
#include "api/invoke_path.h"
#include "api/invoke_pipe.h"
#include "api/mesh.h"
#include "config/resiliency.h"
#include "http/client.h"
#include "observe/metrics.h"
#include "observe/trace.h"
#include "util/buf.h"
#include "util/log.h"

enum { INVOKE_TIMEOUT_MS = 60000 };

typedef struct invoke_job {
  wgg_invoke_pipe p; /* first: the client's user pointer */
  wgg_app_call_room room; /* the app channel's bookkeeping of the call (api/appchannel.h) */
  char *app_id;      /* id below: the job and its app ID are one allocation */
  char id[];
} invoke_job;

static void job_free(invoke_job *j) {
  free(j);
}

static void on_app_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  invoke_job *j = user;
  if (wgg_invoke_pipe_completed(&j->p)) {
    job_free(j);
    return;
  }
  j->p.req->on_gone = NULL;
  if (!resp) wgg_api_error(j->p.req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", j->app_id, errmsg);
  else wgg_invoke_pass_response(j->p.req, j->app_id, resp, false);
  job_free(j);
}

/* A streamed answer ended (api/invoke_pipe.h). */
static void on_released(wgg_invoke_pipe *p) {
  job_free((invoke_job *)p);
}

/* Where a call goes: host, port, the base path the method is appended to, and
 * extra headers (an HTTPEndpoint's). */
typedef struct target {
  char host[256];
  int port;
  char base[512];
  const wgg_component *endpoint;
} target;

/* Parses "http://host[:port][/base]" into t. Returns 0, or -1 with why. */
static int parse_url(const char *url, target *t, const char **why) {
  if (!strncmp(url, "https://", 8)) return *why = "https endpoints are not supported yet", -1;
  if (strncmp(url, "http://", 7)) return *why = "the URL must start with http://", -1;
  const char *h = url + 7, *slash = strchr(h, '/');
  size_t hl = slash ? (size_t)(slash - h) : strlen(h);
  const char *colon = NULL;
  for (size_t i = 0; i < hl; i++)
    if (h[i] == ':') colon = h + i;
  if (h[0] == '[') { /* [v6]:port */
    const char *close = memchr(h, ']', hl);
    colon = close && close + 1 < h + hl && close[1] == ':' ? close + 1 : NULL;
  }
  size_t name_len = colon ? (size_t)(colon - h) : hl;
  if (!name_len || name_len >= sizeof t->host) return *why = "invalid host in URL", -1;
  memcpy(t->host, h, name_len);
  t->host[name_len] = '\0';
  t->port = 80;
  if (colon) {
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end != h + hl || p <= 0 || p > 65535) return *why = "invalid port in URL", -1;
    t->port = (int)p;
  }
  snprintf(t->base, sizeof t->base, "%s", slash ? slash : "");
  size_t bl = strlen(t->base);
  while (bl && t->base[bl - 1] == '/') t->base[--bl] = '\0';
  return 0;
}

/* The own app goes through the app channel (api/appchannel.h: health,
 * --app-max-concurrency, APP_API_TOKEN, appHttpPipeline). Returns 0 when the call is under
 * way, or -1 after answering req with Dapr's error (j is then the caller's). */
static int invoke_own_app(wgg_api *api, wgg_http_req *req, wgg_http_client *cl, const char *app_path,
                          const wgg_http_header *h, size_t n, invoke_job *j) {
  const char *why = NULL;
  bool stream = !req->respond_hook && req->method != HTTP_HEAD;
  if (!wgg_app_call_in(&j->room, api, cl, req->method_name, app_path, h, n, req->body, req->body_len,
                       wgg_invoke_pipe_source(&j->p), req->remote_addr, INVOKE_TIMEOUT_MS, on_app_response,
                       stream ? &wgg_invoke_pipe_stream : NULL, j, &why))
    return 0;
  wgg_invoke_pipe_detach(&j->p);
  wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", j->app_id, why);
  return -1;
}

static void invoke_checked(wgg_api *api, wgg_http_req *req, const char *app_id, const char *norm,
                           const char *method, const char *caller);

/* Whether a caller's header goes on to the app: not hop-by-hop, not the
 * sidecar's own (dapr-api-token, dapr-app-id, the hop marker, traceparent,
 * which is replaced by a child span), nor, when a caller is named, the
 * caller/callee IDs, which are set anew. Lengths first: one strcasecmp at
 * most per candidate of the same length (a call per header per request). */
static bool forwarded(const char *name, bool caller) {
  if (wgg_http_hop_header(name)) return false;
  size_t l = strlen(name);
  if ((name[0] | 0x20) == 'd') {
    if (l == 14 && !strcasecmp(name, "dapr-api-token")) return false;
    if (l == 11 && !strcasecmp(name, "dapr-app-id")) return false;
    if (caller && l == 18 && (!strcasecmp(name, "dapr-caller-app-id") || !strcasecmp(name, "dapr-callee-app-id")))
      return false;
  }
  if (l == 11 && !strcasecmp(name, "traceparent")) return false;
  return !(l == sizeof WGG_HOP_HEADER - 1 && !strcasecmp(name, WGG_HOP_HEADER));
}

void wgg_api_invoke(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method) {
  wgg_api_invoke_n(api, req, app_id, method, strlen(method));
}

/* Whether a call to app_id may take the caller's body as it arrives, as
 * daprd decides (pkg/api/http/directmessaging.go: the request is replayable,
 * so buffered, only when a retry policy applies): an HTTP app whose
 * appHttpPipeline guests, if any, never read or write a body (wasm apps get
 * it whole),
 * an HTTPEndpoint or URL, or another app's sidecar, each without a retry
 * policy. */
static bool body_may_stream(wgg_api *api, const char *app_id) {
  const wgg_options *o = api->opts;
  bool own = *app_id && !strcmp(app_id, o->app_id ? o->app_id : "");
  if (own && !wgg_app_can_upload(api)) return false;
  if (!api->resiliency) return true;
  wgg_res_policy pol;
  wgg_resiliency_for_app(api->resiliency, app_id, &pol);
  return pol.retry == NULL;
}

typedef struct body_wait {
  wgg_api *api;
  char *app_id, *method;
  size_t method_len;
} body_wait;

static void on_body_buffered(wgg_http_req *req, int status, const char *errmsg, void *user) {
  body_wait *w = user;
  if (status == 413) {
    static const char msg[] = "Request Entity Too Large";
    wgg_http_respond(req, 413, "text/plain; charset=utf-8", NULL, 0, msg, sizeof msg - 1);
  } else if (status) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed to read the request body: %s", errmsg);
  } else {
    wgg_api_invoke_n(w->api, req, w->app_id, w->method, w->method_len);
  }
  free(w->app_id);
  free(w->method);
  free(w);
}

/* Reads a streamed body whole before the call goes on (retries, guests).
 * Returns 0 when under way, -1 after answering req (out of memory). */
static int buffer_body_first(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method, size_t ml) {
  body_wait *w = calloc(1, sizeof *w);
  if (w) {
    w->api = api;
    w->app_id = strdup(app_id);
    w->method = malloc(ml + 1);
    w->method_len = ml;
    if (w->method) {
      memcpy(w->method, method, ml);
      w->method[ml] = '\0';
    }
  }
  if (!w || !w->app_id || !w->method || wgg_http_req_body_buffer(req, on_body_buffered, w)) {
    if (w) {
      free(w->app_id);
      free(w->method);
      free(w);
    }
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app_id);
    return -1;
  }
  return 0;
}

void wgg_api_invoke_n(wgg_api *api, wgg_http_req *req, const char *app_id, const char *raw_method, size_t raw_len) {
  if (req->body_streams && !body_may_stream(api, app_id)) {
    buffer_body_first(api, req, app_id, raw_method, raw_len);
    return;
  }
  /* the method is normalised once (dapr directMessaging.Invoke, NormalizeMethod): what accessControl checks
   * is what the app receives, escaped for the request target; both in one buffer, on the stack unless long */
  size_t need = (raw_len + 3) + 3 * (raw_len + 3) + 1;
  char stack[1024], *buf = need <= sizeof stack ? stack : malloc(need);
  if (!buf) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app_id);
    return;
  }
  char *norm = buf, why_norm[400];
  size_t nl;
  if (wgg_invoke_normalize_method_into(raw_method, raw_len, norm, &nl, why_norm, sizeof why_norm)) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE",
                  "failed to invoke, id: %s, err: rpc error: code = InvalidArgument desc = invalid method: %s", app_id,
                  why_norm);
  } else {
    char *method = buf + raw_len + 3;
    wgg_invoke_escape_path_into(norm, nl, method);
    invoke_checked(api, req, app_id, norm, method, NULL);
  }
  if (buf != stack) free(buf);
}

/* wgg_api_invoke_n after normalisation: norm is the normalised method (for
 * accessControl), method the same escaped for the request target. caller is
 * the app ID of an in-process call from another app hosted in this process
 * (passed to the app as dapr-caller-app-id, as a hop from another sidecar
 * is), NULL otherwise. */
/* dapr_service_invocation_req_sent_total / req_recv_total of api's app ID (observe/metrics.h). */
static void count_invocation(wgg_api *api, bool sent, const char *peer) {
  static const char *const sent_names[] = {"destination_app_id", "type"}, *const recv_names[] = {"source_app_id", "type"};
  const char *values[] = {peer ? peer : "", "http"};
  wgg_metrics_count(api->metrics, sent ? WGG_MF_INVOKE_SENT : WGG_MF_INVOKE_RECV, sent ? sent_names : recv_names,
                    values, 2);
}

static void invoke_checked(wgg_api *api, wgg_http_req *req, const char *app_id, const char *norm,
                           const char *method, const char *caller) {
  const wgg_options *o = api->opts;
  target t;
  memset(&t, 0, sizeof t);
  const char *why = NULL;
  bool own = *app_id && !strcmp(app_id, o->app_id ? o->app_id : "");
  wgg_api *hosted = own ? NULL : wgg_hosted_find(api, app_id);
  if (hosted) { /* an app hosted in this process: its own api (scopes, ACL, resiliency, app channel), no hop */
    bool hop = wgg_http_req_header(req, WGG_HOP_HEADER) != NULL; /* a hop names its own caller */
    const char *from = !hop && o->app_id && *o->app_id ? o->app_id : NULL;
    char why_acl[700];
    if (!hop && hosted->acl && /* as if from another sidecar: the callee's accessControl judges the caller's ID */
        !wgg_acl_allowed(hosted->acl, from, NULL, NULL, norm, req->method_name, why_acl, sizeof why_acl)) {
      wgg_api_error(req, 403, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", app_id, why_acl);
      return;
    }
    if (!hop) count_invocation(api, true, app_id); /* a hop was counted by the sidecar that sent it */
    invoke_checked(hosted, req, app_id, norm, method, from);
    return;
  }
  if (own) {
    if (!wgg_invoke_acl_check(api, req, norm)) return; /* accessControl, for hops from other sidecars */
    const char *hop_caller = wgg_http_req_header(req, WGG_HOP_HEADER) ? wgg_http_req_header(req, "dapr-caller-app-id") : NULL;
    count_invocation(api, false, caller ? caller : hop_caller ? hop_caller : o->app_id);
    if (!wgg_options_has_app(o)) why = "app channel is not initialized";
    wgg_str_copy(t.host, sizeof t.host, o->app_channel_address);
    t.port = o->app_port;
  } else if (!strncmp(app_id, "http://", 7) || !strncmp(app_id, "https://", 8)) {
    parse_url(app_id, &t, &why);
  } else {
    for (size_t i = 0; i < api->components.n && !t.endpoint; i++)
      if (api->components.items[i].endpoint && !strcmp(api->components.items[i].name, app_id))
        t.endpoint = &api->components.items[i];
    if (!t.endpoint) { /* another app: through its sidecar */
      count_invocation(api, true, app_id);
      wgg_invoke_remote(api, req, app_id, method);
      return;
    }
    parse_url(t.endpoint->base_url, &t, &why);
  }
  wgg_http_client *cl = req->loop->data;
  if (!why && !cl) why = "out of memory";
  if (why) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", app_id, why);
    return;
  }
  /* the target and the header array on the stack unless long or many (one call per request) */
  char pstack[1024], *path = pstack;
  const char *sep = method[0] == '/' ? "" : "/", *qm = *req->query ? "?" : "";
  const char *const parts[] = {t.base, sep, method, qm, req->query};
  size_t pl = wgg_str_join(pstack, sizeof pstack, parts, 5);
  if (pl >= sizeof pstack && (path = malloc(pl + 1))) wgg_str_join(path, pl + 1, parts, 5);
  int rc = !path ? -1 : 0;
  size_t extra = t.endpoint ? t.endpoint->n_meta : 0, cap = req->n_headers + extra + 4;
  wgg_http_header hstack[32];
  wgg_http_header *h = cap <= sizeof hstack / sizeof *hstack ? hstack : calloc(cap, sizeof *h);
  size_t n = 0;
  for (size_t i = 0; h && i < req->n_headers; i++) {
    if (!forwarded(req->headers[i].name, caller != NULL)) continue;
    h[n++] = req->headers[i];
  }
  if (h && caller) { /* what a hop from the caller's sidecar carries (invoke_remote.c) */
    h[n++] = (wgg_http_header){"dapr-caller-app-id", caller};
    h[n++] = (wgg_http_header){"dapr-callee-app-id", app_id};
  }
  char tp[WGG_TRACEPARENT_LEN + 1]; /* W3C trace context: a child span of the caller's (observe/trace.h) */
  wgg_traceparent_child(wgg_http_req_header(req, "traceparent"), api->trace_sampling, tp);
  if (h) h[n++] = (wgg_http_header){"traceparent", tp};
  for (size_t i = 0; h && i < extra; i++) /* an HTTPEndpoint's spec.headers */
    h[n++] = (wgg_http_header){t.endpoint->meta[i].name, t.endpoint->meta[i].value ? t.endpoint->meta[i].value : ""};
  if (own && h && !rc && wgg_invoke_wants_resiliency(api, req, app_id)) { /* timeouts, retries, breakers */
    wgg_invoke_resilient(api, req, app_id, t.host, t.port, path, h, n);
    goto out;
  }
  size_t il = strlen(app_id) + 1;
  invoke_job *j = malloc(sizeof *j + il);
  if (j) {
    j->app_id = memcpy(j->id, app_id, il);
    wgg_invoke_pipe_init(&j->p, req, j->app_id, true, on_released);
  }
  bool stream = !req->respond_hook && req->method != HTTP_HEAD;
  if (own && !rc && h && j) { /* the app channel */
    if (invoke_own_app(api, req, cl, path, h, n, j)) job_free(j);
  } else if (rc || !h || !j ||
             wgg_http_client_request_full(cl, t.host, t.port, req->method_name, path, h, n, req->body,
                                          req->body_len, wgg_invoke_pipe_source(&j->p), INVOKE_TIMEOUT_MS,
                                          on_app_response, stream ? &wgg_invoke_pipe_stream : NULL, j)) {
    if (j) wgg_invoke_pipe_detach(&j->p);
    free(j);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: cannot reach %s:%d", app_id, t.host,
                  t.port);
  }
out:
  if (h != hstack) free(h);
  if (path != pstack) free(path);
}
