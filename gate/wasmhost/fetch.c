/*
 * fetch.c: downloading a guest from an http:// url at load time (Dapr
 * components-contrib common/wasm GetInitMetadata: a GET whose non-200 answer
 * fails with `received <code> status code from "<url>"`). Runs a private
 * libuv loop on the calling thread, so call it at start-up or from a
 * non-worker loop (reload), never on a worker loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "http/client.h"
#include "util/buf.h"
#include "util/err.h"
#include "wasmhost/wasmhost.h"

enum { FETCH_TIMEOUT_MS = 30000 };

typedef struct fetch {
  bool done;
  int status;
  wgg_buf *out;
  char err[256];
} fetch;

static void on_fetched(void *user, const wgg_http_response *r, const char *errmsg) {
  fetch *f = user;
  f->done = true;
  if (!r) {
    snprintf(f->err, sizeof f->err, "%s", errmsg ? errmsg : "request failed");
    return;
  }
  f->status = r->status;
  if (r->status == 200 && wgg_buf_append(f->out, r->body, r->body_len))
    snprintf(f->err, sizeof f->err, "out of memory");
}

int wgg_wasm_fetch(const char *url, wgg_buf *out, wgg_err *err) {
  if (!strncmp(url, "https://", 8))
    return wgg_err_set(err, "https urls are not supported by this build (no TLS client): %s", url);
  if (strncmp(url, "http://", 7)) return wgg_err_set(err, "not an http url: %s", url);
  const char *h = url + 7, *slash = strchr(h, '/');
  size_t hl = slash ? (size_t)(slash - h) : strlen(h);
  char host[256];
  int port = 80;
  const char *colon = NULL;
  if (h[0] == '[') {
    const char *close = memchr(h, ']', hl);
    if (!close) return wgg_err_set(err, "invalid URL: %s", url);
    snprintf(host, sizeof host, "%.*s", (int)(close - h - 1), h + 1);
    if (close + 1 < h + hl && close[1] == ':') colon = close + 1;
  } else {
    colon = memchr(h, ':', hl);
    size_t nl = colon ? (size_t)(colon - h) : hl;
    if (!nl || nl >= sizeof host) return wgg_err_set(err, "invalid URL: %s", url);
    snprintf(host, sizeof host, "%.*s", (int)nl, h);
  }
  if (colon) {
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end != h + hl || p <= 0 || p > 65535) return wgg_err_set(err, "invalid URL: %s", url);
    port = (int)p;
  }
  uv_loop_t loop;
  if (uv_loop_init(&loop)) return wgg_err_set(err, "cannot create an event loop");
  wgg_http_client *cl = wgg_http_client_new(&loop);
  fetch f = {.out = out};
  int rc = 0;
  if (!cl || wgg_http_client_request(cl, host, port, "GET", slash ? slash : "/", NULL, 0, NULL, 0, FETCH_TIMEOUT_MS,
                                     on_fetched, &f))
    rc = wgg_err_set(err, "cannot fetch %s: out of memory or invalid host", url);
  while (!rc && !f.done && uv_run(&loop, UV_RUN_ONCE)) {
  }
  if (cl) wgg_http_client_close(cl);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (rc) return rc;
  if (!f.done || *f.err) return wgg_err_set(err, "cannot fetch %s: %s", url, *f.err ? f.err : "no answer");
  if (f.status != 200) return wgg_err_set(err, "received %d status code from \"%s\"", f.status, url);
  return 0;
}
