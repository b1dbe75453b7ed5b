/*
 * hw_harness.h: the in-process harness of the http-wasm tests (one
 * translation unit each): a real HTTP server on a loopback port whose
 * handler runs the pipeline under test in front of a TCK-like backend (it
 * echoes what it received in x-next-* headers and the body), a real HTTP
 * client on the same loop, and middleware built from the WAT guests of
 * tests/gate/guests. Call hw_setup(argv[1]) first and hw_teardown() last.
 */
#ifndef WG_TESTS_HW_HARNESS_H
#define WG_TESTS_HW_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "http/client.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"
#include "util/log.h"
#include "wasmhost/httpwasm.h"

static const char *guest_dir;
static uv_loop_t loop;
static wgg_pipeline pl;
static int port;
static wgg_http_client *client;
static int backend_calls;

/* ---- the backend (next) ---- */

typedef struct slow {
  uv_timer_t t;
  wgg_http_req *req;
} slow;

static void backend_answer(wgg_http_req *req) {
  wgg_buf hb = {0};
  wgg_http_header h[40];
  size_t n = 0;
  h[n++] = (wgg_http_header){"x-next-method", req->method_name};
  h[n++] = (wgg_http_header){"x-next-uri", req->url};
  h[n++] = (wgg_http_header){"x-drop", "1"};
  char names[20][64];
  for (size_t i = 0; i < req->n_headers && n < 38; i++) {
    snprintf(names[n], sizeof names[n], "x-next-header-%s", req->headers[i].name);
    h[n] = (wgg_http_header){names[n], req->headers[i].value};
    n++;
  }
  wgg_http_respond(req, 200, "text/echo", h, n, req->body, req->body_len);
  wgg_buf_free(&hb);
}

static void slow_fire(uv_timer_t *t) {
  slow *s = t->data;
  backend_answer(s->req);
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static void backend(wgg_http_req *req, void *user) {
  (void)user;
  backend_calls++;
  if (!strncmp(req->path, "/slow", 5)) { /* an asynchronous next */
    slow *s = calloc(1, sizeof *s);
    s->req = req;
    uv_timer_init(req->loop, &s->t);
    s->t.data = s;
    uv_timer_start(&s->t, slow_fire, 150, 0);
    return;
  }
  backend_answer(req);
}

static void front(wgg_http_req *req, void *user) { wgg_pipeline_serve(&pl, req, backend, user); }

/* ---- the client ---- */

typedef struct resp {
  bool done;
  int status;
  char *body;
  size_t len;
  wgg_hdrs h;
} resp;

static void on_resp(void *user, const wgg_http_response *r, const char *err) {
  resp *o = user;
  o->done = true;
  if (!r) {
    fprintf(stderr, "request failed: %s\n", err);
    o->status = -1;
    return;
  }
  o->status = r->status;
  o->body = wgg_strndup(r->body, r->body_len);
  o->len = r->body_len;
  for (size_t i = 0; i < r->n_headers; i++)
    wgg_hdrs_add(&o->h, r->headers[i].name, strlen(r->headers[i].name), r->headers[i].value,
                 strlen(r->headers[i].value));
}

static void send_req(resp *o, const char *method, const char *target, const wgg_http_header *h, size_t n,
                 const char *body) {
  memset(o, 0, sizeof *o);
  wgg_http_client_request(client, "127.0.0.1", port, method, target, h, n, body, body ? strlen(body) : 0, 5000,
                          on_resp, o);
}

static void wait_for(resp *o) {
  while (!o->done) uv_run(&loop, UV_RUN_ONCE);
}

static void request(resp *o, const char *method, const char *target, const wgg_http_header *h, size_t n,
                    const char *body) {
  send_req(o, method, target, h, n, body);
  wait_for(o);
}

static void resp_free(resp *o) {
  free(o->body);
  wgg_hdrs_free(&o->h);
}

static const char *hdr(resp *o, const char *name) { return wgg_hdrs_get(&o->h, name); }

/* ---- building middleware ---- */

static wgg_wasm_mw *mw_from(const char *guest, const char *extra_name, const char *extra_value, wgg_err *e) {
  char url[512];
  snprintf(url, sizeof url, "file://%s/%s.wasm", guest_dir, guest);
  wgg_meta_kv meta[3] = {{.name = "url", .value = url}};
  size_t n = 1;
  if (extra_name) meta[n++] = (wgg_meta_kv){.name = (char *)extra_name, .value = (char *)extra_value};
  wgg_component c = {.name = (char *)guest, .type = "middleware.http.wasm", .version = "v1", .meta = meta, .n_meta = n};
  return wgg_wasm_mw_new(&c, false, e);
}

static void use(const char *guest, const char *extra_name, const char *extra_value) {
  wgg_pipeline_free(&pl);
  wgg_err e = {{0}};
  wgg_wasm_mw *mw = mw_from(guest, extra_name, extra_value, &e);
  if (!mw) fprintf(stderr, "cannot load %s: %s\n", guest, e.msg);
  CHECK(mw != NULL);
  if (mw) wgg_pipeline_add(&pl, mw);
}

static wgg_http_server *hw_srv;

static void hw_setup(const char *dir) {
  guest_dir = dir;
  wgg_log_setup(WGG_LOG_DEBUG, false);
  uv_loop_init(&loop);
  wgg_err e;
  wgg_http_server_config cfg = {.max_body = 1 << 20, .max_head = 16384, .header_timeout_ms = 5000,
                                .read_timeout_ms = 5000, .idle_timeout_ms = 5000, .handler = front};
  hw_srv = wgg_http_server_new(&loop, &cfg, &e);
  for (port = 20000 + (int)(uv_hrtime() % 20000); wgg_http_server_listen(hw_srv, "127.0.0.1", port, &e); port++) {
  }
  client = wgg_http_client_new(&loop);
}

static void hw_teardown(void) {
  wgg_pipeline_free(&pl);
  wgg_http_client_close(client);
  wgg_http_server_close_all(hw_srv);
  uv_run(&loop, UV_RUN_DEFAULT);
  wgg_http_server_free(hw_srv);
  uv_loop_close(&loop);
}

#endif
