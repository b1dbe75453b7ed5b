/*
 * pipeline.c: running a request through the middleware chain
 * (shared/reference/http-wasm-abi.md 1.6, host-go nethttp guest.ServeHTTP
 * generalised to a chain): for each handler in order, take an instance and
 * call handle_request; a guest that does not continue answers the request
 * itself; after the last one, the next handler (router or app call) runs;
 * then handle_response runs on each pinned instance in reverse order. A
 * guest failure (trap, deadline, memory cap) answers 500 with a short body,
 * discards the instance, and the handlers outside it still see the response
 * (is_error = 1 when the failure was in an inner handle_response, as a Go
 * panic in next would be).
 *
 * Guests run in time slices (wasmhost/slice.h, issue 18.9): a guest still
 * running at the end of its slice parks (its instance stays pinned to this
 * run) and continues on a later loop iteration, so one CPU-bound guest
 * delays the loop's other requests by a slice, not by its whole
 * requestTimeout. While parked, the run waits for nothing else; a client that
 * goes away meanwhile abandons the call and discards the instances.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/pipeline.h"
#include "util/err.h"
#include "util/log.h"
#include "wasmhost/httpwasm.h"
#include "wasmhost/slice.h"

typedef struct stage {
  wgg_hw_instance *inst; /* pinned from handle_request to handle_response */
  wgg_hw_call call;
  uint32_t req_ctx;
} stage;

typedef struct run run;
typedef void (*run_fn)(run *r);

/* How the app's answer passes a call's chain (run.smode). */
enum {
  S_NONE,    /* buffered whole (call_response), as it always is when a guest may see bodies */
  S_HELD,    /* its head is in the exchange and handle_response runs; body pieces wait in resp_body */
  S_FORWARD, /* the caller streams it: pieces and the end go to its callbacks */
  S_BUFFER,  /* the caller wants it whole after all: pieces gather in resp_body, cb at the end */
  S_FAIL,    /* a guest failed in handle_response: the caller gets its 500, the rest is dropped */
};

struct run {
  wgg_exchange ex;
  wgg_pipeline *pl;
  uv_loop_t *loop;
  size_t cur;      /* the handler being entered */
  bool is_error;   /* next failed (an inner handle_response trapped) */
  run_fn terminal; /* the next handler after the chain */
  run_fn done;     /* the response is in ex */
  wgg_pool_wait wait;
  /* serve() */
  wgg_http_req *req;
  wgg_http_handler_fn next;
  void *next_user;
  /* call() */
  wgg_http_client *cl;
  char *host;
  int port;
  uint64_t timeout_ms;
  wgg_http_client_cb cb;
  void *cb_user;
  char *call_err; /* why the app call failed (no response) */
  wgg_pipeline_send_fn send; /* the transport when it is not cl (wgg_pipeline_call_via) */
  bool has_src;              /* the request body streams from src (wgg_pipeline_call_src) */
  wgg_http_body_source src;
  /* the answer streaming past the chain (wgg_pipeline_call_src with stream; see answer_head) */
  bool has_scb;              /* scb are the caller's stream callbacks (user: cb_user) */
  wgg_http_stream_cbs scb;
  int smode;                 /* S_* */
  wgg_http_client_stream *s; /* the app's answer, while it streams (S_HELD .. its on_end) */
  int64_t s_len;             /* its announced length (-1: unknown) */
  bool s_ended;              /* it ended while the guests still ran (S_HELD) */
  void *send_ctx;
  /* time slices */
  wgg_slice slice;  /* queued while stage `parked` waits for its next slice */
  size_t parked;    /* the parked stage (valid while slice.queued) */
  bool gone;        /* the client went away (serve) */
  stage st[];
};

int wgg_pipeline_add(wgg_pipeline *pl, wgg_wasm_mw *mw) {
  wgg_wasm_mw **v = realloc(pl->mws, (pl->n + 1) * sizeof *v);
  if (!v) {
    wgg_wasm_mw_free(mw);
    return -1;
  }
  pl->mws = v;
  pl->mws[pl->n++] = mw;
  return 0;
}

void wgg_pipeline_free(wgg_pipeline *pl) {
  for (size_t i = 0; i < pl->n; i++) wgg_wasm_mw_free(pl->mws[i]);
  free(pl->mws);
  pl->mws = NULL;
  pl->n = 0;
}

static run *run_new(wgg_pipeline *pl, uv_loop_t *loop) {
  run *r = calloc(1, sizeof *r + pl->n * sizeof(stage));
  if (!r) return NULL;
  r->pl = pl;
  r->loop = loop;
  return r;
}

static void run_free(run *r) {
  if (r->cl) wgg_http_client_unref(r->cl); /* held since call_via: the run may wait for an instance */
  wgg_slice_close(&r->slice);
  wgg_exchange_free(&r->ex);
  free(r->host);
  free(r->call_err);
  free(r);
}

static void park(run *r, size_t k);

/* Stage k's handle_response ended (rc 0 or -1 with e): releases its instance. */
static void response_done(run *r, size_t k, int rc, const wgg_err *e) {
  stage *s = &r->st[k];
  bool broken = rc != 0;
  if (broken) {
    wgg_exchange_fail(&r->ex, 500, e->msg);
    r->is_error = true;
  }
  wgg_wasm_mw_release(r->pl->mws[k], r->loop, s->inst, broken);
  s->inst = NULL;
}

/* Runs handle_response on the pinned stages from k-1 down to 0, then done. */
static void unwind(run *r, size_t k) {
  while (k-- > 0) {
    stage *s = &r->st[k];
    wgg_err e;
    int rc = wgg_hw_handle_response_sliced(s->inst, &s->call, s->req_ctx, r->is_error, &e);
    if (rc == WGG_HW_PARKED) {
      park(r, k);
      return;
    }
    response_done(r, k, rc, &e);
  }
  if (!r->ex.status) r->ex.status = 200;
  r->done(r);
}

static void enter(run *r);

/* Stage k's handle_request on inst ended (rc 0 with ctx_next, or -1 with e). */
static void request_done(run *r, size_t k, wgg_hw_instance *inst, int rc, uint64_t ctx_next, const wgg_err *e) {
  stage *s = &r->st[k];
  s->inst = NULL;
  if (rc) {
    wgg_wasm_mw_release(r->pl->mws[k], r->loop, inst, true);
    wgg_exchange_fail(&r->ex, 500, e->msg);
    unwind(r, k);
    return;
  }
  if ((uint32_t)ctx_next == 0) { /* the guest answered: no next, no handle_response */
    wgg_wasm_mw_release(r->pl->mws[k], r->loop, inst, false);
    unwind(r, k);
    return;
  }
  s->inst = inst;
  s->req_ctx = (uint32_t)(ctx_next >> 32);
  r->cur++;
  enter(r);
}

/* Runs handle_request of stage r->cur on inst. */
static void on_instance(run *r, wgg_hw_instance *inst) {
  size_t k = r->cur;
  stage *s = &r->st[k];
  memset(&s->call, 0, sizeof s->call);
  s->call.ex = &r->ex;
  uint64_t ctx_next = 0;
  wgg_err e;
  int rc = wgg_hw_handle_request_sliced(inst, &s->call, &ctx_next, &e);
  if (rc == WGG_HW_PARKED) {
    s->inst = inst; /* pinned while parked */
    park(r, k);
    return;
  }
  request_done(r, k, inst, rc, ctx_next, &e);
}

/* A guest is parked and its request cannot go on (why: the client went
 * away, or out of memory): abandon the call and drop every instance the run
 * pins (their guests are mid-request), then answer (into the void). */
static void abandon(run *r, const char *why) {
  size_t k = r->parked;
  wgg_slice_cancel(&r->slice);
  wgg_warn("wasm: middleware %s: %s; the parked guest call is abandoned", wgg_wasm_mw_name(r->pl->mws[k]), why);
  wgg_hw_abandon(r->st[k].inst, &r->st[k].call);
  for (size_t j = r->pl->n; j-- > 0;) /* the parked stage and the pinned ones outside it */
    if (r->st[j].inst) {
      wgg_wasm_mw_release(r->pl->mws[j], r->loop, r->st[j].inst, true);
      r->st[j].inst = NULL;
    }
  wgg_exchange_fail(&r->ex, 500, "context canceled");
  r->is_error = true;
  r->done(r);
}

static void on_gone(wgg_http_req *req, void *user) {
  (void)req;
  run *r = user;
  r->gone = true;
  if (r->slice.queued) abandon(r, "the client went away");
}

/* The parked stage's next slice. */
static void on_slice(wgg_slice *sl) {
  run *r = sl->user;
  size_t k = r->parked;
  stage *s = &r->st[k];
  bool req = s->call.parked == WGG_HW_PARKED_REQUEST;
  uint64_t ctx_next = 0;
  wgg_err e;
  int rc = wgg_hw_continue(s->inst, &s->call, &ctx_next, &e);
  if (rc == WGG_HW_PARKED) {
    park(r, k);
    return;
  }
  if (req) {
    request_done(r, k, s->inst, rc, ctx_next, &e);
  } else {
    response_done(r, k, rc, &e);
    unwind(r, k);
  }
}

/* Stage k's guest yielded: it continues on a later loop iteration. */
static void park(run *r, size_t k) {
  r->parked = k;
  if (r->req) { /* serve: a client that goes away meanwhile abandons the call */
    r->req->on_gone = on_gone;
    r->req->gone_user = r;
  }
  if (r->gone) {
    abandon(r, "the client went away");
    return;
  }
  if (wgg_slice_queue(&r->slice, r->loop, on_slice, r)) {
    abandon(r, "out of memory");
  }
}

static void on_pool(void *user, wgg_hw_instance *inst, int status, const char *msg) {
  run *r = user;
  if (inst) {
    on_instance(r, inst);
    return;
  }
  /* a busy pool is routine under overload: debug; a guest that cannot be instantiated is not */
  wgg_log(status == 503 ? WGG_LOG_DEBUG : WGG_LOG_WARN, "wasm: middleware %s: %s", wgg_wasm_mw_name(r->pl->mws[r->cur]),
          msg);
  wgg_exchange_fail(&r->ex, status, status == 503 ? "wasm middleware busy" : msg);
  unwind(r, r->cur);
}

/* Enters handler r->cur, or the next handler after the last one. */
static void enter(run *r) {
  if (r->cur == r->pl->n) {
    r->terminal(r);
    return;
  }
  wgg_err e;
  int status = 0;
  wgg_hw_instance *inst = wgg_wasm_mw_acquire(r->pl->mws[r->cur], r->loop, &r->wait, on_pool, r, &e, &status);
  if (inst) on_instance(r, inst);
  else if (status) on_pool(r, NULL, status, e.msg);
  /* else: waiting; on_pool runs later */
}

/* Whether a field of next's response is hop-by-hop (RFC 9110 7.6.1: the
 * connection options and the fields the Connection header lists): it
 * describes the connection to the app, so guests do not see it and it is
 * not forwarded, as daprd (Go's client and reverse proxy) strips it. Framing
 * (Content-Length) stays visible; the sender recomputes it. */
static bool hop_by_hop(const char *name, const wgg_http_header *h, size_t n) {
  static const char *const hop[] = {"connection", "keep-alive",          "proxy-connection",   "transfer-encoding",
                                    "te",         "trailer",             "upgrade",            "proxy-authenticate",
                                    "proxy-authorization"};
  for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
    if (!strcasecmp(name, hop[i])) return true;
  size_t nl = strlen(name);
  for (size_t i = 0; i < n; i++) { /* Connection: close, x-private -> x-private is hop-by-hop too */
    if (strcasecmp(h[i].name, "connection")) continue;
    for (const char *p = h[i].value; *p;) {
      while (*p == ' ' || *p == '\t' || *p == ',') p++;
      const char *e = p;
      while (*e && *e != ',') e++;
      const char *t = e;
      while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
      if ((size_t)(t - p) == nl && !strncasecmp(p, name, nl)) return true;
      p = e;
    }
  }
  return false;
}

/* Next's answer: status, headers (next's values replace the guests' values
 * of the same names, others are kept) and body (appended to what a guest
 * wrote before next, as host-go's lazily created writer does). */
static void take_response(run *r, int status, const char *ctype, const wgg_http_header *h, size_t n,
                          const char *body, size_t len) {
  wgg_exchange *ex = &r->ex;
  if (ex->resp_committed) { /* a guest sent the head before next: only next's body still gets through */
    if (len) wgg_buf_append(&ex->resp_body, body, len);
    return;
  }
  ex->status = status;
  for (size_t i = 0; i < n; i++)
    if (!hop_by_hop(h[i].name, h, n)) wgg_hdrs_remove(&ex->resp_headers, h[i].name, strlen(h[i].name));
  if (ctype) wgg_hdrs_set(&ex->resp_headers, "Content-Type", 12, ctype, strlen(ctype));
  for (size_t i = 0; i < n; i++)
    if (!hop_by_hop(h[i].name, h, n))
      wgg_hdrs_add(&ex->resp_headers, h[i].name, strlen(h[i].name), h[i].value, strlen(h[i].value));
  if (len) wgg_buf_append(&ex->resp_body, body, len);
}

/* The exchange's response headers for sending (framing headers dropped:
 * the sender recomputes them). Caller frees the array (strings borrowed). */
static wgg_http_header *out_headers(const wgg_exchange *ex, size_t *n) {
  wgg_http_header *h = calloc(ex->resp_headers.n + 1, sizeof *h);
  *n = 0;
  for (size_t i = 0; h && i < ex->resp_headers.n; i++)
    if (!wgg_http_hop_header(ex->resp_headers.v[i].name))
      h[(*n)++] = (wgg_http_header){ex->resp_headers.v[i].name, ex->resp_headers.v[i].value};
  return h;
}

/* ---- serving the sidecar's API ---- */

static void serve_hook(wgg_http_req *req, int status, const char *ctype, const wgg_http_header *h, size_t n,
                       const char *body, size_t len) {
  run *r = req->hook_user;
  take_response(r, status, ctype, h, n, body, len);
  unwind(r, r->pl->n);
}

static void serve_terminal(run *r) {
  if (wgg_exchange_to_req(&r->ex, r->req)) {
    wgg_exchange_fail(&r->ex, 500, "out of memory");
    unwind(r, r->pl->n);
    return;
  }
  r->req->respond_hook = serve_hook;
  r->req->hook_user = r;
  r->next(r->req, r->next_user);
}

static void serve_done(run *r) {
  size_t n = 0;
  wgg_http_header *h = out_headers(&r->ex, &n);
  if (!h) wgg_http_respond(r->req, 500, "text/plain", NULL, 0, "out of memory", 13);
  else wgg_http_respond(r->req, r->ex.status, NULL, h, n, r->ex.resp_body.data, r->ex.resp_body.len);
  free(h);
  run_free(r);
}

void wgg_pipeline_serve(wgg_pipeline *pl, wgg_http_req *req, wgg_http_handler_fn next, void *user) {
  run *r = run_new(pl, req->loop);
  if (!r || wgg_exchange_from_req(&r->ex, req)) {
    free(r);
    wgg_http_respond(req, 500, "text/plain", NULL, 0, "out of memory", 13);
    return;
  }
  r->req = req;
  r->next = next;
  r->next_user = user;
  r->terminal = serve_terminal;
  r->done = serve_done;
  enter(r);
}

/* ---- calls to the app ---- */

static void call_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  run *r = user;
  if (!resp) { /* the guests see a failed next (is_error), the caller the error */
    r->call_err = strdup(errmsg ? errmsg : "error");
    r->is_error = true;
    unwind(r, r->pl->n);
    return;
  }
  take_response(r, resp->status, NULL, resp->headers, resp->n_headers, resp->body, resp->body_len);
  unwind(r, r->pl->n);
}

static const wgg_http_stream_cbs answer_cbs;

static void call_terminal(run *r) {
  size_t n = r->ex.req_headers.n, k = 0;
  wgg_http_header *h = calloc(n + 1, sizeof *h);
  for (size_t i = 0; h && i < n; i++)
    if (!wgg_http_hop_header(r->ex.req_headers.v[i].name))
      h[k++] = (wgg_http_header){r->ex.req_headers.v[i].name, r->ex.req_headers.v[i].value};
  int rc = !h ? -1
           : r->send ? r->send(r->send_ctx, r->loop, r->ex.method, r->ex.uri, h, k, r->ex.req_body.data,
                               r->ex.req_body.len, r->timeout_ms, call_response, r)
                     : wgg_http_client_request_full(r->cl, r->host, r->port, r->ex.method, r->ex.uri, h, k,
                                                    r->ex.req_body.data, r->ex.req_body.len,
                                                    r->has_src ? &r->src : NULL, r->timeout_ms, call_response,
                                                    r->has_scb ? &answer_cbs : NULL, r);
  if (rc) {
    wgg_exchange_fail(&r->ex, 500, "out of memory");
    unwind(r, r->pl->n);
  }
  free(h);
}

/* Hands the buffered outcome to cb (the app call's error, or the exchange's
 * response) and frees r. */
static void deliver(run *r) {
  if (r->call_err) {
    r->cb(r->cb_user, NULL, r->call_err);
  } else {
    size_t n = 0;
    wgg_http_header *h = out_headers(&r->ex, &n);
    wgg_http_response resp = {r->ex.status, h, n, r->ex.resp_body.data ? r->ex.resp_body.data : "",
                              r->ex.resp_body.len};
    r->cb(r->cb_user, h ? &resp : NULL, "out of memory");
    free(h);
  }
  run_free(r);
}

/* Whether every guest pinned for handle_response can neither read nor
 * replace a body (none imports read_body or write_body; asked of the
 * instances' own modules, so a reload in between does not matter). Their
 * features then make no difference to the body either: buffer_response only
 * lets a guest read or rewrite what next wrote, which needs those imports. */
static bool pinned_body_opaque(const run *r) {
  for (size_t k = 0; k < r->pl->n; k++)
    if (!r->st[k].inst || wgg_hw_module_touches_body(wgg_hw_instance_module(r->st[k].inst))) return false;
  return true;
}

/* The head of a streamed 2xx/3xx answer from the app (client stream
 * callback, user r). When no guest can see bodies, the head goes through
 * the guests' handle_response now (S_HELD, reading from the app paused) and
 * the body streams on after them (stream_after_guests); otherwise 0: the
 * answer is read whole and goes through call_response as before. */
static int answer_head(void *user, wgg_http_client_stream *s, const wgg_http_response *resp, int64_t length) {
  run *r = user;
  if (!pinned_body_opaque(r)) return 0;
  take_response(r, resp->status, NULL, resp->headers, resp->n_headers, NULL, 0);
  r->smode = S_HELD;
  r->s = s;
  r->s_len = length;
  unwind(r, r->pl->n); /* call_done runs now or after the guests' last slice */
  return 1;
}

static int answer_chunk(void *user, const char *data, size_t len) {
  run *r = user;
  switch (r->smode) {
  case S_HELD: /* the rest of the current read still arrives while paused: kept for the caller */
    return wgg_buf_append(&r->ex.resp_body, data, len) ? -1 : 1;
  case S_BUFFER:
    return wgg_buf_append(&r->ex.resp_body, data, len) ? -1 : 0;
  case S_FORWARD:
    return r->scb.on_chunk(r->cb_user, data, len);
  default: /* S_FAIL: the caller gets the guest's error */
    return 0;
  }
}

static void answer_end(void *user, const char *errmsg) {
  run *r = user;
  r->s = NULL;
  switch (r->smode) {
  case S_HELD: /* the guests are still at work: call_done finishes */
    r->s_ended = true;
    if (errmsg && !r->call_err) r->call_err = strdup(errmsg);
    return;
  case S_FORWARD:
    r->scb.on_end(r->cb_user, errmsg);
    run_free(r);
    return;
  case S_BUFFER:
    if (errmsg && !r->call_err) r->call_err = strdup(errmsg);
    deliver(r);
    return;
  default: /* S_FAIL */
    deliver(r);
    return;
  }
}

static const wgg_http_stream_cbs answer_cbs = {answer_head, answer_chunk, answer_end};

/* The guests are done with a streamed answer's head (S_HELD): hands status
 * and headers as they left them to the caller's on_head, then the pieces
 * read so far and the rest as it arrives. */
static void stream_after_guests(run *r) {
  wgg_http_client_stream *s = r->s;
  if (r->s_ended) { /* the whole answer is here already */
    if (r->call_err && r->is_error) { /* a guest failed too: its 500 wins */
      free(r->call_err);
      r->call_err = NULL;
    }
    deliver(r);
    return;
  }
  if (r->is_error) { /* a guest failed in handle_response: the caller gets its 500 */
    r->smode = S_FAIL;
    wgg_http_client_stream_abort(s); /* answer_end delivers */
    return;
  }
  if (r->ex.status < 200 || r->ex.status > 399) { /* a guest made it an error: whole, as errors are */
    r->smode = S_BUFFER;
    wgg_http_client_stream_resume(s);
    return;
  }
  size_t n = 0;
  wgg_http_header *h = out_headers(&r->ex, &n);
  if (!h) {
    r->smode = S_FAIL;
    wgg_exchange_fail(&r->ex, 500, "out of memory");
    wgg_http_client_stream_abort(s);
    return;
  }
  wgg_http_response resp = {r->ex.status, h, n, NULL, 0};
  int rc = r->scb.on_head(r->cb_user, s, &resp, r->s_len);
  free(h);
  if (rc == 0) { /* the caller reads it whole */
    r->smode = S_BUFFER;
    wgg_http_client_stream_resume(s);
    return;
  }
  r->smode = S_FORWARD; /* on_end goes to the caller from now on */
  if (rc < 0) {
    wgg_http_client_stream_abort(s);
    return;
  }
  wgg_buf held = r->ex.resp_body;
  memset(&r->ex.resp_body, 0, sizeof r->ex.resp_body);
  int wrc = held.len ? r->scb.on_chunk(r->cb_user, held.data, held.len) : 0;
  wgg_buf_free(&held);
  if (wrc < 0) wgg_http_client_stream_abort(s);
  else if (wrc == 0) wgg_http_client_stream_resume(s);
  /* 1: the caller paused; it resumes s when it drained */
}

static void call_done(run *r) {
  if (r->smode == S_HELD) stream_after_guests(r);
  else deliver(r);
}

int wgg_pipeline_call(wgg_pipeline *pl, uv_loop_t *loop, wgg_http_client *cl, const char *host, int port,
                      const char *method, const char *target, const wgg_http_header *headers, size_t n,
                      const char *body, size_t len, const char *source, uint64_t timeout_ms,
                      wgg_http_client_cb cb, void *user) {
  return wgg_pipeline_call_via(pl, loop, NULL, cl, host, port, method, target, headers, n, body, len, source,
                               timeout_ms, cb, user);
}

static int call_via(wgg_pipeline *pl, uv_loop_t *loop, wgg_pipeline_send_fn send, void *send_ctx, const char *host,
                    int port, const char *method, const char *target, const wgg_http_header *headers, size_t n,
                    const char *body, size_t len, const wgg_http_body_source *src,
                    const wgg_http_stream_cbs *stream, const char *source, uint64_t timeout_ms,
                    wgg_http_client_cb cb, void *user);

bool wgg_pipeline_body_opaque(wgg_pipeline *pl) {
  for (size_t i = 0; i < pl->n; i++)
    if (wgg_wasm_mw_touches_body(pl->mws[i])) return false;
  return true;
}

int wgg_pipeline_call_src(wgg_pipeline *pl, uv_loop_t *loop, wgg_http_client *cl, const char *host, int port,
                          const char *method, const char *target, const wgg_http_header *headers, size_t n,
                          const char *body, size_t len, const wgg_http_body_source *src, const char *source,
                          uint64_t timeout_ms, wgg_http_client_cb cb, const wgg_http_stream_cbs *stream,
                          void *user) {
  return call_via(pl, loop, NULL, cl, host, port, method, target, headers, n, src ? NULL : body, src ? 0 : len, src,
                  stream, source, timeout_ms, cb, user);
}

int wgg_pipeline_call_via(wgg_pipeline *pl, uv_loop_t *loop, wgg_pipeline_send_fn send, void *send_ctx,
                          const char *host, int port, const char *method, const char *target,
                          const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                          uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  return call_via(pl, loop, send, send_ctx, host, port, method, target, headers, n, body, len, NULL, NULL, source,
                  timeout_ms, cb, user);
}

static int call_via(wgg_pipeline *pl, uv_loop_t *loop, wgg_pipeline_send_fn send, void *send_ctx, const char *host,
                    int port, const char *method, const char *target, const wgg_http_header *headers, size_t n,
                    const char *body, size_t len, const wgg_http_body_source *src,
                    const wgg_http_stream_cbs *stream, const char *source, uint64_t timeout_ms,
                    wgg_http_client_cb cb, void *user) {
  run *r = run_new(pl, loop);
  if (!r) return -1;
  if (src && !send) {
    r->has_src = true;
    r->src = *src;
  }
  if (stream && !send) {
    r->has_scb = true;
    r->scb = *stream;
  }
  r->send = send;
  r->send_ctx = send ? send_ctx : NULL;
  wgg_http_client *cl = send ? NULL : send_ctx;
  wgg_exchange *ex = &r->ex;
  ex->method = strdup(method);
  ex->uri = strdup(target && *target ? target : "/");
  ex->protocol = "HTTP/1.1";
  snprintf(ex->source_addr, sizeof ex->source_addr, "%s", source ? source : "");
  r->host = strdup(host);
  int rc = !ex->method || !ex->uri || !r->host ? -1 : 0;
  char hostport[300]; /* guests see the Host the client will send (host-go reports r.Host as "host") */
  snprintf(hostport, sizeof hostport, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
  if (!rc) rc = wgg_hdrs_add(&ex->req_headers, "Host", 4, hostport, strlen(hostport));
  for (size_t i = 0; !rc && i < n; i++)
    rc = wgg_hdrs_add(&ex->req_headers, headers[i].name, strlen(headers[i].name), headers[i].value,
                      strlen(headers[i].value));
  if (!rc && len) rc = wgg_buf_append(&ex->req_body, body, len);
  if (rc) {
    run_free(r);
    return -1;
  }
  r->cl = cl;
  if (cl) wgg_http_client_ref(cl); /* a close meanwhile (shutdown) must not free it under the run */
  r->port = port;
  r->timeout_ms = timeout_ms;
  r->cb = cb;
  r->cb_user = user;
  r->terminal = call_terminal;
  r->done = call_done;
  enter(r);
  return 0;
}
