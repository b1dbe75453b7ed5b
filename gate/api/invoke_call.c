/*
 * invoke_call.c: service invocation as a transport-neutral call (calls.h,
 * wgg_invoke_call) for the gRPC API's InvokeService. It runs the very code
 * of the HTTP route (wgg_api_invoke_n: method normalisation, the own app
 * through the app channel with its resiliency, HTTPEndpoints, other apps
 * through their sidecars with name resolution and resiliency) on a request
 * object of its own whose respond_hook takes the answer: the one code path
 * per building block, with the transports thin.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
#include "api/mesh.h"
#include "util/buf.h"

typedef struct icall {
  wgg_http_req req; /* first: the hook gets &req */
  wgg_invoke_cb cb;
  void *user;
  char *app_id;
  wgg_http_header *h;
  size_t n;
  char *store; /* header strings, url, body */
} icall;

static void icall_free(icall *c) {
  free(c->app_id);
  free(c->h);
  free(c->store);
  free(c);
}

/* The answer: an app's response comes through wgg_invoke_pass_response
 * (content_type NULL, the app's headers); the sidecar's own errors through
 * wgg_api_error (content_type application/json, no headers, errorCode). */
static void on_answer(wgg_http_req *req, int status, const char *content_type, const wgg_http_header *headers, size_t n,
                      const char *body, size_t len) {
  icall *c = (icall *)req;
  wgg_api_status st;
  bool sidecar_error = content_type && n == 0 && status >= 400;
  if (sidecar_error) {
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "message"));
    const char *code = json_string_value(json_object_get(j, "errorCode"));
    sidecar_error = msg && code;
    if (sidecar_error) {
      wgg_api_fail(&st, status, WGG_GRPC_INTERNAL, "ERR_DIRECT_INVOKE", "%s", msg);
      st.plain = true; /* daprd's messages.ErrDirectInvoke: an APIError */
    }
    json_decref(j);
  }
  if (sidecar_error) c->cb(c->user, &st, NULL);
  else {
    wgg_invoke_result r = {status, headers, n, body, len};
    c->cb(c->user, NULL, &r);
  }
  icall_free(c);
}

bool wgg_invoke_internal_caller(const wgg_http_req *req) {
  return req->respond_hook == on_answer;
}

int wgg_invoke_call(wgg_api *api, uv_loop_t *loop, const wgg_invoke_input *in, wgg_invoke_cb cb, void *user,
                    wgg_api_status *st) {
  int m = wgg_http_method_number(in->verb);
  if (m < 0)
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: bad verb %s",
                        in->app_id, in->verb);
  icall *c = calloc(1, sizeof *c);
  size_t total = 1 + strlen(in->query ? in->query : "") + 2 + in->len + 1;
  for (size_t i = 0; i < in->n; i++) total += strlen(in->headers[i].name) + strlen(in->headers[i].value) + 2;
  if (!c || !(c->app_id = strdup(in->app_id)) || !(c->h = calloc(in->n + 1, sizeof *c->h)) ||
      !(c->store = malloc(total))) {
    if (c) icall_free(c);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory",
                        in->app_id);
  }
  char *p = c->store;
  for (size_t i = 0; i < in->n; i++) {
    size_t ln = strlen(in->headers[i].name) + 1, lv = strlen(in->headers[i].value) + 1;
    c->h[i].name = memcpy(p, in->headers[i].name, ln);
    c->h[i].value = memcpy(p + ln, in->headers[i].value, lv);
    p += ln + lv;
  }
  c->n = in->n;
  const char *q = in->query ? in->query : "";
  size_t ql = strlen(q) + 1;
  char *query = memcpy(p, q, ql);
  p += ql;
  char *empty = p++;
  *empty = '\0';
  char *body = p;
  if (in->len) memcpy(body, in->data, in->len);
  body[in->len] = '\0';
  wgg_http_req *r = &c->req;
  r->method = m;
  r->method_name = http_method_str((enum http_method)m);
  r->url = r->path = empty; /* the method is given apart; the route reads neither */
  r->query = query;
  r->headers = c->h;
  r->n_headers = c->n;
  r->body = body;
  r->body_len = in->len;
  r->keep_alive = true;
  r->start_ns = uv_hrtime();
  r->loop = loop;
  r->http_major = r->http_minor = 1;
  snprintf(r->remote_addr, sizeof r->remote_addr, "%s", in->peer ? in->peer : "");
  r->respond_hook = on_answer;
  c->cb = cb;
  c->user = user;
  wgg_api_invoke_n(api, r, c->app_id, in->method, in->method_len); /* answers through on_answer, now or later */
  return 0;
}
