/*
 * appchannel.c: see appchannel.h. The concurrency limit is a counter under a
 * mutex plus, per registered loop thread, a FIFO of calls waiting for a slot.
 * A finishing call hands its slot straight to a waiter (loops taken round
 * robin) and wakes that waiter's loop with uv_async_send, so a slot is never
 * both free and wanted. Without --app-max-concurrency calls go straight to
 * the client.
 */
#include "api/appchannel.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/appchannel_grpc.h"
#include "observe/metrics.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"
#include "util/log.h"
#include "wasmhost/app.h"

enum { MAX_LOOPS = 1024 };

typedef struct call call;
typedef struct lim_loop lim_loop;

struct wgg_app_limit {
  uv_mutex_t mu;
  int max;
  int in_flight;              /* slots taken (under mu) */
  lim_loop *loops[MAX_LOOPS]; /* registered loops (under mu) */
  size_t n_loops, rr;
  bool warned;
};

struct lim_loop {
  uv_async_t async;
  wgg_app_limit *lim;
  lim_loop *thread_next; /* this thread's other registrations (one per limit: each hosted app has its own) */
  call *wait_head, *wait_tail;   /* waiting for a slot (under lim->mu) */
  call *ready_head, *ready_tail; /* given a slot, to start on this loop (under lim->mu) */
};

/* One limited call. Its strings are borrowed while it starts at once, owned
 * (copied) while it waits. */
struct call {
  call *next;
  wgg_api *api;
  char *source; /* for the app pipeline's guests; NULL when none */
  wgg_app_limit *lim;
  bool has_slot, owned;
  wgg_http_client *cl;
  const char *host;
  int port;
  char *method, *target, *body;
  wgg_http_header *headers;
  size_t n, len;
  uint64_t timeout_ms;
  wgg_http_client_cb cb;
  void *user;
  bool has_scb; /* streamed: scb are the caller's callbacks (wrapped to release the slot at on_end) */
  wgg_http_stream_cbs scb;
  bool has_src; /* the request body streams from src */
  wgg_http_body_source src;
};

static _Thread_local lim_loop *tls_loops; /* this thread's registrations, one per limit */

/* This thread's registration with l, or NULL. */
static lim_loop *tls_find(const wgg_app_limit *l) {
  lim_loop *ll = tls_loops;
  while (ll && ll->lim != l) ll = ll->thread_next;
  return ll;
}

wgg_app_limit *wgg_app_limit_new(int max, bool *oom) {
  *oom = false;
  if (max <= 0) return NULL;
  wgg_app_limit *l = calloc(1, sizeof *l);
  if (!l) return *oom = true, NULL;
  l->max = max;
  uv_mutex_init(&l->mu);
  return l;
}

void wgg_app_limit_free(wgg_app_limit *l) {
  if (!l) return;
  uv_mutex_destroy(&l->mu);
  free(l);
}

static void call_free(call *c) {
  if (c->owned) {
    for (size_t i = 0; i < c->n; i++) {
      free((char *)c->headers[i].name);
      free((char *)c->headers[i].value);
    }
    free(c->headers);
    free(c->method);
    free(c->target);
    free(c->body);
    free(c->source);
  }
  free(c);
}

/* Gives a finished call's slot to the next waiter, or frees it. */
static void slot_release(wgg_app_limit *l) {
  uv_mutex_lock(&l->mu);
  lim_loop *to = NULL;
  for (size_t k = 0; k < l->n_loops && !to; k++) {
    lim_loop *ll = l->loops[(l->rr + k) % l->n_loops];
    if (!ll->wait_head) continue;
    call *c = ll->wait_head;
    ll->wait_head = c->next;
    if (!ll->wait_head) ll->wait_tail = NULL;
    c->next = NULL;
    c->has_slot = true;
    if (ll->ready_tail) ll->ready_tail->next = c;
    else ll->ready_head = c;
    ll->ready_tail = c;
    to = ll;
    l->rr = (l->rr + k + 1) % l->n_loops;
  }
  if (to) uv_async_send(&to->async); /* under mu: the handle cannot be closing (thread_close unlinks first) */
  else l->in_flight--;
  uv_mutex_unlock(&l->mu);
}

static void on_done(void *user, const wgg_http_response *resp, const char *errmsg) {
  call *c = user;
  if (c->has_slot) slot_release(c->lim);
  c->cb(c->user, resp, errmsg);
  call_free(c);
}

static int on_stream_head(void *user, wgg_http_client_stream *s, const wgg_http_response *resp, int64_t length) {
  call *c = user;
  return c->scb.on_head(c->user, s, resp, length);
}

static int on_stream_chunk(void *user, const char *data, size_t len) {
  call *c = user;
  return c->scb.on_chunk(c->user, data, len);
}

static void on_stream_end(void *user, const char *errmsg) {
  call *c = user;
  if (c->has_slot) slot_release(c->lim); /* the slot is held until the body has passed */
  c->scb.on_end(c->user, errmsg);
  call_free(c);
}

static const wgg_http_stream_cbs wrapped_stream = {on_stream_head, on_stream_chunk, on_stream_end};

/* A wasi:http component app without an appHttpPipeline takes its request body and gives its answer
 * as streams (wasmhost/app.h wgg_wasm_app_streams). */
static bool component_streams(const wgg_api *api) {
  return api->wasm_app && !api->app_http_pipeline.n && wgg_wasm_app_streams(api->wasm_app);
}

bool wgg_app_can_stream(const wgg_api *api) {
  /* through an appHttpPipeline too: it streams the answer when no guest may see it (wgg_pipeline_call_src) */
  if (api->wasm_app) return component_streams(api);
  return !wgg_app_is_grpc(api->opts);
}

bool wgg_app_can_upload(wgg_api *api) {
  if (api->wasm_app) return component_streams(api);
  return !api->app_http_pipeline.n || wgg_pipeline_body_opaque(&api->app_http_pipeline);
}

/* The health checks' verdict (always true without --enable-app-health-check;
 * a wasm app is probed as an HTTP app is: runtime/apphealth.c).
 * Unlike wgg_app_healthy, it does not wait for the app port to accept
 * connections: a call to an app that is not up yet fails on its own. */
static bool app_health_ok(const wgg_api *api) {
  return !api->opts->enable_app_health_check || __atomic_load_n(&api->app_health_ok, __ATOMIC_ACQUIRE);
}

/* The in-process transport behind the appHttpPipeline (wgg_pipeline_send_fn). */
static int send_to_wasm_app(void *ctx, uv_loop_t *loop, const char *method, const char *target,
                            const wgg_http_header *headers, size_t n, const char *body, size_t len,
                            uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  return wgg_wasm_app_call(ctx, loop, method, target, headers, n, body, len, NULL, timeout_ms, cb, user);
}

/* Sends a request to the app, through the appHttpPipeline when it has
 * handlers. The transport is the one branch point: an app process over
 * HTTP (the client), over gRPC (appchannel_grpc.h: AppCallback, no
 * pipeline, as daprd), or the wasm app hosted in-process (wasmhost/app.h).
 * A last WGG_APP_CALL_KIND header is for the gRPC transport and for a
 * component app's exported handlers (wasmhost/app.h wgg_wasm_app_callback).
 * Returns wgg_http_client_request's result. */
static int send_to_app(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                       const wgg_http_header *headers, size_t n, const char *body, size_t len,
                       const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                       wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user) {
  const wgg_options *o = api->opts;
  if (wgg_app_is_grpc(o))
    return wgg_app_grpc_send(api, cl, method, target, headers, n, body, len, timeout_ms, cb, user);
  if (n && !strcmp(headers[n - 1].name, WGG_APP_CALL_KIND)) {
    n--;
    /* a component app's exported subscriber or binding handler: called as AppCallback is for a
     * gRPC app (no appHttpPipeline, as daprd) */
    int rc = api->wasm_app ? wgg_wasm_app_callback(api->wasm_app, headers[n].value, headers, n, body, len,
                                                   timeout_ms, cb, user)
                           : 1;
    if (rc != 1) return rc;
  }
  if (api->wasm_app && api->app_http_pipeline.n)
    return wgg_pipeline_call_via(&api->app_http_pipeline, wgg_http_client_loop(cl), send_to_wasm_app, api->wasm_app,
                                 "localhost", o->http_port, method, target, headers, n, body, len, source, timeout_ms,
                                 cb, user);
  if (api->wasm_app)
    return wgg_wasm_app_call_full(api->wasm_app, wgg_http_client_loop(cl), method, target, headers, n, body, len,
                                  src, source, timeout_ms, cb, stream, user);
  if (api->app_http_pipeline.n)
    return wgg_pipeline_call_src(&api->app_http_pipeline, wgg_http_client_loop(cl), cl, o->app_channel_address,
                                 o->app_port, method, target, headers, n, body, len, src, source, timeout_ms, cb,
                                 stream, user);
  return wgg_http_client_request_full(cl, o->app_channel_address, o->app_port, method, target, headers, n, body,
                                      len, src, timeout_ms, cb, stream, user);
}

/* Sends c now; on failure calls back with an error (c is consumed either way). */
static void call_start(call *c) {
  if (send_to_app(c->api, c->cl, c->method, c->target, c->headers, c->n, c->body, c->len,
                  c->has_src ? &c->src : NULL, c->source, c->timeout_ms, on_done,
                  c->has_scb ? &wrapped_stream : NULL, c)) {
    if (c->has_slot) slot_release(c->lim);
    c->cb(c->user, NULL, "out of memory");
    call_free(c);
  }
}

static void on_async(uv_async_t *a) {
  lim_loop *ll = a->data;
  uv_mutex_lock(&ll->lim->mu);
  call *c = ll->ready_head;
  ll->ready_head = ll->ready_tail = NULL;
  uv_mutex_unlock(&ll->lim->mu);
  while (c) {
    call *next = c->next;
    call_start(c);
    c = next;
  }
}

int wgg_app_limit_thread_init(wgg_app_limit *l, uv_loop_t *loop) {
  if (!l) return 0;
  lim_loop *ll = calloc(1, sizeof *ll);
  if (!ll) return -1;
  ll->lim = l;
  uv_async_init(loop, &ll->async, on_async);
  ll->async.data = ll;
  uv_mutex_lock(&l->mu);
  bool ok = l->n_loops < MAX_LOOPS;
  if (ok) l->loops[l->n_loops++] = ll;
  uv_mutex_unlock(&l->mu);
  if (!ok) {
    uv_close((uv_handle_t *)&ll->async, (uv_close_cb)free);
    return -1;
  }
  ll->thread_next = tls_loops;
  tls_loops = ll;
  return 0;
}

static void fail_list(call *c) {
  while (c) {
    call *next = c->next;
    if (c->has_slot) slot_release(c->lim);
    c->cb(c->user, NULL, "the sidecar is shutting down");
    call_free(c);
    c = next;
  }
}

void wgg_app_limit_thread_close(wgg_app_limit *l) {
  lim_loop *ll = l ? tls_find(l) : NULL;
  if (!ll) return;
  for (lim_loop **p = &tls_loops; *p; p = &(*p)->thread_next)
    if (*p == ll) {
      *p = ll->thread_next;
      break;
    }
  uv_mutex_lock(&l->mu);
  for (size_t i = 0; i < l->n_loops; i++)
    if (l->loops[i] == ll) {
      l->loops[i] = l->loops[--l->n_loops];
      break;
    }
  if (l->rr >= l->n_loops) l->rr = 0;
  call *ready = ll->ready_head, *waiting = ll->wait_head;
  ll->ready_head = ll->ready_tail = ll->wait_head = ll->wait_tail = NULL;
  uv_mutex_unlock(&l->mu);
  fail_list(ready);
  fail_list(waiting);
  uv_close((uv_handle_t *)&ll->async, (uv_close_cb)free);
}

/* Copies the borrowed strings of c so that it can wait. Returns 0 or -1. */
static int call_own(call *c) {
  const char *m = c->method, *t = c->target, *b = c->body, *src = c->source;
  const wgg_http_header *h = c->headers;
  c->owned = true;
  c->source = src ? strdup(src) : NULL;
  if (src && !c->source) return -1;
  c->method = strdup(m);
  c->target = strdup(t);
  c->body = malloc(c->len ? c->len : 1);
  c->headers = calloc(c->n ? c->n : 1, sizeof *c->headers);
  if (!c->method || !c->target || !c->body || !c->headers) {
    if (!c->headers) c->n = 0;
    return -1;
  }
  if (c->len) memcpy(c->body, b, c->len);
  for (size_t i = 0; i < c->n; i++) {
    c->headers[i].name = strdup(h[i].name);
    c->headers[i].value = strdup(h[i].value);
    if (!c->headers[i].name || !c->headers[i].value) return -1;
  }
  return 0;
}

/* --app-max-concurrency: takes a slot, or queues c on this thread's loop. */
static int limited(wgg_app_limit *l, call *c) {
  lim_loop *ll = tls_find(l);
  uv_mutex_lock(&l->mu);
  bool slot = l->in_flight < l->max;
  if (slot) l->in_flight++;
  else if (!ll && !l->warned) {
    l->warned = true;
    wgg_warn("a call to the app from a thread without an app-channel loop bypasses --app-max-concurrency");
  }
  uv_mutex_unlock(&l->mu);
  c->has_slot = slot;
  if (slot || !ll) {
    call_start(c);
    return 0;
  }
  if (call_own(c)) {
    call_free(c);
    return -1;
  }
  uv_mutex_lock(&l->mu);
  if (l->in_flight < l->max) { /* a slot came free meanwhile */
    l->in_flight++;
    c->has_slot = true;
  } else {
    if (ll->wait_tail) ll->wait_tail->next = c;
    else ll->wait_head = c;
    ll->wait_tail = c;
  }
  uv_mutex_unlock(&l->mu);
  if (c->has_slot) call_start(c);
  return 0;
}

/* ---- metrics: every call to the app is observed (dapr_http_client_*, observe/metrics.h) ---- */

typedef wgg_app_call_room obs; /* owned: malloc'd here, else the caller's room */

static void obs_record(obs *o, int status) {
  wgg_metrics_app_call(o->m, o->method, status, uv_hrtime() - o->t0);
}

static void obs_done(void *user, const wgg_http_response *resp, const char *errmsg) {
  obs *o = user;
  obs_record(o, resp ? resp->status : 0);
  bool owned = o->owned; /* a caller's room may be freed by cb */
  o->cb(o->user, resp, errmsg);
  if (owned) free(o);
}

static int obs_head(void *user, wgg_http_client_stream *s, const wgg_http_response *resp, int64_t length) {
  obs *o = user;
  o->status = resp ? resp->status : 0;
  return o->scb->on_head(o->user, s, resp, length);
}

static int obs_chunk(void *user, const char *data, size_t len) {
  obs *o = user;
  return o->scb->on_chunk(o->user, data, len);
}

static void obs_end(void *user, const char *errmsg) {
  obs *o = user;
  obs_record(o, o->status);
  bool owned = o->owned; /* a caller's room may be freed by on_end */
  o->scb->on_end(o->user, errmsg);
  if (owned) free(o);
}

static const wgg_http_stream_cbs obs_stream = {obs_head, obs_chunk, obs_end};

static int call_observed(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                         const wgg_http_header *headers, size_t n, const char *body, size_t len,
                         const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                         wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user, const char **why);

int wgg_app_call(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                 const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                 uint64_t timeout_ms, wgg_http_client_cb cb, void *user, const char **why) {
  return wgg_app_call_stream(api, cl, method, target, headers, n, body, len, source, timeout_ms, cb, NULL, user, why);
}

int wgg_app_call_stream(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                        const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                        uint64_t timeout_ms, wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user,
                        const char **why) {
  return wgg_app_call_full(api, cl, method, target, headers, n, body, len, NULL, source, timeout_ms, cb, stream, user,
                           why);
}

int wgg_app_call_full(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                      const wgg_http_header *headers, size_t n, const char *body, size_t len,
                      const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                      wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user, const char **why) {
  return wgg_app_call_in(NULL, api, cl, method, target, headers, n, body, len, src, source, timeout_ms, cb, stream,
                         user, why);
}

int wgg_app_call_in(wgg_app_call_room *room, wgg_api *api, wgg_http_client *cl, const char *method,
                    const char *target, const wgg_http_header *headers, size_t n, const char *body, size_t len,
                    const wgg_http_body_source *src, const char *source, uint64_t timeout_ms, wgg_http_client_cb cb,
                    const wgg_http_stream_cbs *stream, void *user, const char **why) {
  obs *o = !api->metrics ? NULL : room ? room : malloc(sizeof *o);
  if (!o)
    return call_observed(api, cl, method, target, headers, n, body, len, src, source, timeout_ms, cb, stream, user, why);
  *o = (obs){.m = api->metrics, .t0 = uv_hrtime(), .cb = cb, .user = user, .owned = o != room};
  if (!wgg_app_can_stream(api)) stream = NULL;
  o->scb = stream;
  wgg_str_copy(o->method, sizeof o->method, method ? method : "");
  int rc = call_observed(api, cl, method, target, headers, n, body, len, src, source, timeout_ms, obs_done,
                         stream ? &obs_stream : NULL, o, why);
  if (rc && o->owned) free(o); /* the callback does not run */
  return rc;
}

static int call_observed(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                         const wgg_http_header *headers, size_t n, const char *body, size_t len,
                         const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                         wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user, const char **why) {
  if (!wgg_app_can_stream(api)) stream = NULL;
  if (src && !wgg_app_can_upload(api))
    return *why = "a streamed request body needs an HTTP app whose appHttpPipeline guests do not read bodies", -1;
  const wgg_options *o = api->opts;
  if (!wgg_options_has_app(o)) return *why = "app channel is not initialized", -1;
  if (!app_health_ok(api))
    return *why = "rpc error: code = Internal desc = app is not in a healthy state", -1;
  if (!cl) return *why = "out of memory", -1;
  /* every call to the app reads at most --max-body-size of its answer (daprd's app channel:
   * LimitReadCloser(resp.Body, maxRequestBodySize)), whichever client the caller brings */
  wgg_http_client_set_max_body(cl, o->max_body_size);
  bool token = o->app_api_token && *o->app_api_token;
  wgg_http_header *h = NULL;
  if (token) { /* APP_API_TOKEN replaces any dapr-api-token the caller passed */
    h = calloc(n + 1, sizeof *h);
    if (!h) return *why = "out of memory", -1;
    size_t k = 0;
    bool kind = n && !strcmp(headers[n - 1].name, WGG_APP_CALL_KIND); /* stays last */
    for (size_t i = 0; i + kind < n; i++)
      if (strcasecmp(headers[i].name, "dapr-api-token")) h[k++] = headers[i];
    h[k++] = (wgg_http_header){"dapr-api-token", o->app_api_token};
    if (kind) h[k++] = headers[n - 1];
    headers = h;
    n = k;
  }
  int rc;
  if (!api->app_limit) {
    rc = send_to_app(api, cl, method, target, headers, n, body, len, src, source, timeout_ms, cb, stream, user);
  } else {
    call *c = calloc(1, sizeof *c);
    if (!c) {
      free(h);
      return *why = "out of memory", -1;
    }
    *c = (call){.api = api, .source = (char *)source, .lim = api->app_limit, .cl = cl, .host = o->app_channel_address, .port = o->app_port,
                .method = (char *)method, .target = (char *)target, .body = (char *)body,
                .headers = (wgg_http_header *)headers, .n = n, .len = len, .timeout_ms = timeout_ms,
                .cb = cb, .user = user, .has_scb = stream != NULL, .has_src = src != NULL};
    if (stream) c->scb = *stream;
    if (src) c->src = *src;
    rc = limited(api->app_limit, c);
  }
  free(h);
  if (rc) *why = "out of memory";
  return rc;
}

static int channel_call(void *ctx, wgg_http_client *cl, const char *method, const char *target,
                        const wgg_http_header *headers, size_t n, const char *body, size_t len, uint64_t timeout_ms,
                        wgg_http_client_cb cb, void *user, const char **why) {
  return wgg_app_call(ctx, cl, method, target, headers, n, body, len, NULL, timeout_ms, cb, user, why);
}

static void channel_thread_init(void *ctx, uv_loop_t *loop) {
  wgg_api *api = ctx;
  if (wgg_app_limit_thread_init(api->app_limit, loop))
    wgg_warn("out of memory: this thread's calls to the app bypass --app-max-concurrency");
}

static void channel_thread_close(void *ctx) {
  wgg_api *api = ctx;
  wgg_app_limit_thread_close(api->app_limit);
}

static bool channel_healthy(void *ctx) {
  return app_health_ok(ctx);
}

wgg_app_channel wgg_app_channel_of(wgg_api *api) {
  return (wgg_app_channel){channel_call, channel_thread_init, channel_thread_close, channel_healthy, api};
}
