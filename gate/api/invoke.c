/*
 * invoke.c: service invocation of this sidecar's own app
 * (docs reference/api/service_invocation_api.md; dapr
 * pkg/api/http/directmessaging.go): /v1.0/invoke/{appId}/method/{method...}
 * and the `dapr-app-id` header form. The method, query, headers and body go
 * to http://<app-channel-address>:<app-port>/<method>; the app's status,
 * headers and body come back. Other app IDs are not reachable yet (500
 * ERR_DIRECT_INVOKE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "http/client.h"
#include "util/buf.h"

enum { INVOKE_TIMEOUT_MS = 60000 };

/* Hop-by-hop and framing headers that a proxy must not forward. */
static bool hop_header(const char *name) {
  static const char *const hop[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                                    "trailer",    "upgrade",    "host",             "content-length",    "expect"};
  for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
    if (!strcasecmp(name, hop[i])) return true;
  return false;
}

typedef struct invoke_job {
  wgg_http_req *req;
  char *app_id;
} invoke_job;

static void on_app_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  invoke_job *j = user;
  if (!resp) {
    wgg_api_error(j->req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: %s", j->app_id, errmsg);
  } else {
    wgg_http_header *h = calloc(resp->n_headers ? resp->n_headers : 1, sizeof *h);
    size_t n = 0;
    for (size_t i = 0; h && i < resp->n_headers; i++)
      if (!hop_header(resp->headers[i].name)) h[n++] = resp->headers[i];
    if (!h) wgg_api_error(j->req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", j->app_id);
    else wgg_http_respond(j->req, resp->status, NULL, h, n, resp->body, resp->body_len);
    free(h);
  }
  free(j->app_id);
  free(j);
}

void wgg_api_invoke(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method) {
  const wgg_options *o = api->opts;
  if (!method || !*method) {
    wgg_api_error(req, 400, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: method name is empty", app_id);
    return;
  }
  if (strcmp(app_id, o->app_id ? o->app_id : "") || !*app_id) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: couldn't find service: %s", app_id,
                  app_id);
    return;
  }
  wgg_http_client *cl = req->loop->data;
  if (o->app_port <= 0 || !cl) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: app channel is not initialized",
                  app_id);
    return;
  }
  wgg_buf target = {0};
  int rc = wgg_buf_printf(&target, "/%s%s%s", method, *req->query ? "?" : "", req->query);
  wgg_http_header *h = calloc(req->n_headers + 1, sizeof *h);
  size_t n = 0;
  for (size_t i = 0; h && i < req->n_headers; i++) {
    const char *name = req->headers[i].name;
    if (hop_header(name) || !strcasecmp(name, "dapr-api-token") || !strcasecmp(name, "dapr-app-id")) continue;
    h[n++] = req->headers[i];
  }
  if (h && o->app_api_token && *o->app_api_token) h[n++] = (wgg_http_header){"dapr-api-token", o->app_api_token};
  invoke_job *j = calloc(1, sizeof *j);
  if (j) {
    j->req = req;
    j->app_id = strdup(app_id);
  }
  if (rc || !h || !j || !j->app_id ||
      wgg_http_client_request(cl, o->app_channel_address, o->app_port, req->method_name, target.data, h, n, req->body,
                              req->body_len, INVOKE_TIMEOUT_MS, on_app_response, j)) {
    if (j) free(j->app_id);
    free(j);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: cannot reach the app at %s:%d",
                  app_id, o->app_channel_address, o->app_port);
  }
  free(h);
  wgg_buf_free(&target);
}
