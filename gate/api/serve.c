/*
 * serve.c: `wasmgate serve` (wggate.h wgg_options.serve_app): every request on
 * the HTTP port goes to the app through the app channel, whatever its path,
 * as `wasmtime serve` hands every request to its component. The answer is
 * passed back as it came (status, headers, body), streamed both ways where
 * the app streams (a wasi:http component: api/invoke_pipe.h, as service
 * invocation); an app that cannot be called gets 500 with the reason, an
 * app that failed answers 500 itself.
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "api/invoke_pipe.h"
#include "http/client.h"
#include "util/log.h"

enum { SERVE_TIMEOUT_MS = 60000 };

/* One call: the pipe first (the client's user pointer, api/invoke_pipe.h). */
typedef struct serve_call {
  wgg_invoke_pipe p;
} serve_call;

static void on_released(wgg_invoke_pipe *p) { free(p); }

static void on_answer(void *user, const wgg_http_response *resp, const char *errmsg) {
  serve_call *sc = user;
  wgg_http_req *req = sc->p.req;
  if (wgg_invoke_pipe_completed(&sc->p)) {
    free(sc);
    return;
  }
  wgg_invoke_pipe_detach(&sc->p);
  free(sc);
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
  serve_call *sc = calloc(1, sizeof *sc);
  size_t k = 0;
  for (size_t i = 0; h && i < req->n_headers; i++)
    if (!strcasecmp(req->headers[i].name, "host") ||
        (!wgg_http_hop_header(req->headers[i].name) && strcasecmp(req->headers[i].name, "content-length")))
      h[k++] = req->headers[i]; /* Host too: a wasi:http request's authority */
  if (!h || !sc) why = "out of memory";
  if (sc) wgg_invoke_pipe_init(&sc->p, req, "app", true, on_released);
  /* the body streams in when the router let it (wgg_api_stream_body), the answer out when the app can */
  bool stream = req->method != HTTP_HEAD;
  if (!h || !sc || !cl ||
      wgg_app_call_full(api, cl, req->method_name, req->url, h, k, req->body, req->body_len,
                        wgg_invoke_pipe_source(&sc->p), req->remote_addr, SERVE_TIMEOUT_MS, on_answer,
                        stream ? &wgg_invoke_pipe_stream : NULL, sc, &why)) {
    if (sc) wgg_invoke_pipe_detach(&sc->p);
    free(sc);
    free(h);
    wgg_http_respond(req, 500, "text/plain; charset=utf-8", NULL, 0, why, strlen(why));
    return;
  }
  free(h);
}
