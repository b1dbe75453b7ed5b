/*
 * serve.c: `wasmgate serve` (wggate.h wgg_options.serve_app): every request on
 * the HTTP port goes to the app through the app channel, whatever its path,
 * as `wasmtime serve` hands every request to its component. The answer is
 * passed back as it came (status, headers, body); an app that cannot be
 * called gets 500 with the reason, an app that failed answers 500 itself.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "http/client.h"
#include "util/log.h"

enum { SERVE_TIMEOUT_MS = 60000 };

static void on_answer(void *user, const wgg_http_response *resp, const char *errmsg) {
  wgg_http_req *req = user;
  if (!resp) {
    wgg_http_respond(req, 500, "text/plain; charset=utf-8", NULL, 0, errmsg, strlen(errmsg));
    return;
  }
  wgg_http_header *h = calloc(resp->n_headers + 1, sizeof *h);
  size_t k = 0;
  for (size_t i = 0; h && i < resp->n_headers; i++) {
    if (!wgg_http_hop_header(resp->headers[i].name) && strcasecmp(resp->headers[i].name, "content-length"))
      h[k++] = resp->headers[i];
  }
  wgg_http_respond(req, resp->status, NULL, h, k, resp->body, resp->body_len);
  free(h);
}

void wgg_api_serve_app(wgg_api *api, wgg_http_req *req) {
  wgg_http_client *cl = req->loop->data; /* the loop's app channel client (runtime/sidecar.c) */
  const char *why = "no app channel client on this loop";
  wgg_http_header *h = calloc(req->n_headers + 1, sizeof *h);
  size_t k = 0;
  for (size_t i = 0; h && i < req->n_headers; i++)
    if (!strcasecmp(req->headers[i].name, "host") ||
        (!wgg_http_hop_header(req->headers[i].name) && strcasecmp(req->headers[i].name, "content-length")))
      h[k++] = req->headers[i]; /* Host too: a wasi:http request's authority */
  if (!h) why = "out of memory";
  if (!h || !cl ||
      wgg_app_call(api, cl, req->method_name, req->url, h, k, req->body, req->body_len, req->remote_addr,
                   SERVE_TIMEOUT_MS, on_answer, req, &why)) {
    free(h);
    wgg_http_respond(req, 500, "text/plain; charset=utf-8", NULL, 0, why, strlen(why));
    return;
  }
  free(h);
}
