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
#include "api/mesh.h"
#include "http/client.h"
#include "observe/trace.h"
#include "util/buf.h"
#include "util/log.h"

enum { INVOKE_TIMEOUT_MS = 60000 };

typedef struct invoke_job {
  wgg_http_req *req;
  char *app_id;
  wgg_http_client_stream *stream; /* the app's answer, while it streams */
} invoke_job;

static void on_app_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  invoke_job *j = user;
  if (!resp) wgg_api_error(j->req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", j->app_id, errmsg);
  else wgg_invoke_pass_response(j->req, j->app_id, resp);
  free(j->app_id);
  free(j);
}

/* ---- streaming the app's answer (issue 18.3) ----
 * A 2xx/3xx answer with a body passes through as it arrives: the head goes to
 * the caller at once, each piece of the body is queued on the caller's
 * connection, and reading from the app pauses while that queue is at the
 * server's back-pressure mark. A caller that goes away aborts the app
 * connection; an app that fails mid-body (or passes --max-body-size, counted
 * over the streamed bytes as daprd's LimitReadCloser does) cuts the caller's
 * response off: daprd likewise has sent the head by then and can only log. */

static void on_stream_drained(void *user) {
  invoke_job *j = user;
  if (j->stream) wgg_http_client_stream_resume(j->stream);
}

static void on_caller_gone(wgg_http_req *req, void *user) {
  invoke_job *j = user;
  (void)req;
  if (j->stream) wgg_http_client_stream_abort(j->stream); /* on_end runs and releases req */
}

static int on_stream_head(void *user, wgg_http_client_stream *s, const wgg_http_response *resp, int64_t length) {
  invoke_job *j = user;
  wgg_http_req *req = j->req;
  if (req->respond_hook || length == 0 || resp->status == 204 || resp->status == 304) return 0; /* buffered */
  wgg_http_header *h = calloc(resp->n_headers ? resp->n_headers : 1, sizeof *h);
  size_t n = 0;
  for (size_t i = 0; h && i < resp->n_headers; i++)
    if (!wgg_http_hop_header(resp->headers[i].name)) h[n++] = resp->headers[i];
  int rc = h ? wgg_http_stream_begin(req, resp->status, h, n, length) : -1;
  free(h);
  if (rc) return -1; /* the caller is gone (or out of memory): the app connection is closed */
  j->stream = s;
  req->on_gone = on_caller_gone;
  req->gone_user = j;
  return 1;
}

static int on_stream_chunk(void *user, const char *data, size_t len) {
  invoke_job *j = user;
  int rc = wgg_http_stream_write(j->req, data, len);
  if (rc == 1) wgg_http_stream_on_drain(j->req, on_stream_drained, j);
  return rc;
}

static void on_stream_end(void *user, const char *errmsg) {
  invoke_job *j = user;
  j->req->on_gone = NULL;
  j->stream = NULL;
  if (errmsg)
    wgg_warn("invoke %s: the app's response was cut off after its head was sent: %s", j->app_id, errmsg);
  wgg_http_stream_end(j->req, errmsg == NULL);
  free(j->app_id);
  free(j);
}

static const wgg_http_stream_cbs invoke_stream = {on_stream_head, on_stream_chunk, on_stream_end};

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
  if (!wgg_app_call_stream(api, cl, req->method_name, app_path, h, n, req->body, req->body_len, req->remote_addr,
                           INVOKE_TIMEOUT_MS, on_app_response, stream ? &invoke_stream : NULL, j, &why))
    return 0;
  wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", j->app_id, why);
  return -1;
}

static void invoke_checked(wgg_api *api, wgg_http_req *req, const char *app_id, const char *norm,
                           const char *method, const char *caller);

void wgg_api_invoke(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method) {
  wgg_api_invoke_n(api, req, app_id, method, strlen(method));
}

void wgg_api_invoke_n(wgg_api *api, wgg_http_req *req, const char *app_id, const char *raw_method, size_t raw_len) {
  /* the method is normalised once (dapr directMessaging.Invoke, NormalizeMethod): what accessControl checks
   * is what the app receives, escaped for the request target */
  char *norm = NULL, why_norm[400];
  if (wgg_invoke_normalize_method(raw_method, raw_len, &norm, why_norm, sizeof why_norm)) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE",
                  "failed to invoke, id: %s, err: rpc error: code = InvalidArgument desc = invalid method: %s", app_id,
                  why_norm);
    return;
  }
  char *method = wgg_invoke_escape_path(norm);
  if (!method) {
    free(norm);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app_id);
    return;
  }
  invoke_checked(api, req, app_id, norm, method, NULL);
  free(norm);
  free(method);
}

/* wgg_api_invoke_n after normalisation: norm is the normalised method (for
 * accessControl), method the same escaped for the request target. caller is
 * the app ID of an in-process call from another app hosted in this process
 * (passed to the app as dapr-caller-app-id, as a hop from another sidecar
 * is), NULL otherwise. */
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
    invoke_checked(hosted, req, app_id, norm, method, from);
    return;
  }
  if (own) {
    if (!wgg_invoke_acl_check(api, req, norm)) return; /* accessControl, for hops from other sidecars */
    if (!wgg_options_has_app(o)) why = "app channel is not initialized";
    snprintf(t.host, sizeof t.host, "%s", o->app_channel_address);
    t.port = o->app_port;
  } else if (!strncmp(app_id, "http://", 7) || !strncmp(app_id, "https://", 8)) {
    parse_url(app_id, &t, &why);
  } else {
    for (size_t i = 0; i < api->components.n && !t.endpoint; i++)
      if (api->components.items[i].endpoint && !strcmp(api->components.items[i].name, app_id))
        t.endpoint = &api->components.items[i];
    if (!t.endpoint) { /* another app: through its sidecar */
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
  wgg_buf path = {0};
  int rc = wgg_buf_printf(&path, "%s%s%s%s%s", t.base, method[0] == '/' ? "" : "/", method, *req->query ? "?" : "",
                          req->query);
  size_t extra = t.endpoint ? t.endpoint->n_meta : 0;
  wgg_http_header *h = calloc(req->n_headers + extra + 4, sizeof *h);
  size_t n = 0;
  for (size_t i = 0; h && i < req->n_headers; i++) {
    const char *name = req->headers[i].name;
    if (wgg_http_hop_header(name) || !strcasecmp(name, "dapr-api-token") || !strcasecmp(name, "dapr-app-id") ||
        !strcasecmp(name, WGG_HOP_HEADER) || !strcasecmp(name, "traceparent") ||
        (caller && (!strcasecmp(name, "dapr-caller-app-id") || !strcasecmp(name, "dapr-callee-app-id"))))
      continue;
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
    wgg_invoke_resilient(api, req, app_id, t.host, t.port, path.data, h, n);
    free(h);
    wgg_buf_free(&path);
    return;
  }
  invoke_job *j = calloc(1, sizeof *j);
  if (j) {
    j->req = req;
    j->app_id = strdup(app_id);
  }
  if (own && !rc && h && j && j->app_id) { /* the app channel */
    if (invoke_own_app(api, req, cl, path.data, h, n, j)) {
      free(j->app_id);
      free(j);
    }
  } else if (rc || !h || !j || !j->app_id ||
             wgg_http_client_request(cl, t.host, t.port, req->method_name, path.data, h, n, req->body,
                                     req->body_len, INVOKE_TIMEOUT_MS, on_app_response, j)) {
    if (j) free(j->app_id);
    free(j);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: cannot reach %s:%d", app_id, t.host,
                  t.port);
  }
  free(h);
  wgg_buf_free(&path);
}
