/*
 * app_p2stream.c: a component app's request body and answer as streams, and
 * the waits that park its guest on the request's loop (issue 14;
 * docs/wasm-apps.md "Streams and pollables"). The call is the body source's
 * "app connection" (vs_*, through a virtual stream handle: api/invoke_pipe.c
 * drives it as it drives an HTTP app's connection): bytes go into the
 * wasi:http host's bounded buffer (wgg_p2h_body_*), and past IN_MARK the
 * source is paused until the guest has read half of it. The answer leaves
 * through the stream callbacks (io_*, called by p2http_body.c). wasi:io's
 * blocking calls hand their wait to p2c_park_hook; every change that may
 * finish it (bytes, the end, a drained queue, a clock) kicks the call, which
 * tries the wait on the next loop iteration (an idle handle) and resumes the guest
 * when it is done (app_p2http.c p2c_try_wait).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "wasmhost/app_p2call.h"

static void on_wake(uv_idle_t *h) {
  p2call *c = h->data;
  uv_idle_stop(h);
  if (c->need_want && !c->over && c->has_src) { /* the guest made room: take more of the body */
    c->need_want = false;
    c->src.on_want(c->src.user, c->vs);
  }
  p2c_try_wait(c);
}

/* An idle handle of its own, not a time slice (wgg_slice): a wake runs once, on the next loop
 * iteration, and does not keep the epoch ticker fine for the whole of a long stream. */
void p2c_kick(p2call *c) {
  if (!c->loop) return;
  if (!c->wake) {
    if (!(c->wake = malloc(sizeof *c->wake))) {
      wgg_warn("wasm app: out of memory waking a parked guest");
      return;
    }
    uv_idle_init(c->loop, c->wake);
    c->wake->data = c;
  }
  uv_idle_start(c->wake, on_wake); /* no-op when already started */
}

static void on_wait_clock(uv_timer_t *t) { p2c_try_wait(t->data); }

/* The guest parked on a wasi:io wait: its clock, if it has one, wakes it. */
void p2c_arm_wait(p2call *c) {
  uint64_t ns = wg_wasi_p2_wait_timeout(c->i->h.op);
  if (ns == UINT64_MAX) return;
  if (!c->wtimer) {
    if (!(c->wtimer = malloc(sizeof *c->wtimer))) return;
    uv_timer_init(c->loop, c->wtimer);
    c->wtimer->data = c;
  }
  uv_timer_start(c->wtimer, on_wait_clock, (ns + 999999) / 1000000, 0);
}

static void wait_cancel(void *op) { wg_wasi_p2_wait_free(op); }

/* wg_wasi_p2_set_park's hook of every instance: parks on a request that can resume it. */
wg_trap *p2c_park_hook(void *user, wg_wasi_p2_wait *w) {
  wgg_p2h_inst *h = user;
  wg_trap *t = wgg_p2h_park(h, wait_cancel, w);
  if (t) h->wait = true;
  return t;
}

/* ---- the request body and the answer as streams (issue 14) ---- */

enum { IN_MARK = 256u << 10 }; /* request body bytes buffered before the client is paused */

static int vs_body_write(void *self, const char *data, size_t len) {
  p2call *c = self;
  if (c->over) return -1;
  wgg_p2h_body_data(&c->i->h, data, len);
  p2c_kick(c);
  if (wgg_p2h_body_pending(&c->i->h) < IN_MARK) return 0;
  c->want_more = true;
  return 1;
}
static int vs_body_end(void *self) {
  p2call *c = self;
  if (c->over) return -1;
  wgg_p2h_body_end(&c->i->h, false);
  p2c_kick(c);
  return 0;
}
/* the client's queue drained (a streamed answer) */
static void vs_resume(void *self) {
  p2call *c = self;
  c->i->h.out_full = false;
  p2c_kick(c);
}
/* the caller went away, or its body failed: reads and writes fail from now on */
static void vs_abort(void *self) {
  p2call *c = self;
  if (!c->i->h.in_ended) wgg_p2h_body_end(&c->i->h, true);
  wgg_p2h_out_gone(&c->i->h);
  p2c_kick(c);
}
const wgg_http_stream_vt p2c_vs_vt = {vs_body_write, vs_body_end, vs_resume, vs_abort};

static void io_in_consumed(void *user) {
  p2call *c = user;
  if (c->want_more && wgg_p2h_body_pending(&c->i->h) < IN_MARK / 2) {
    c->want_more = false;
    c->need_want = true;
    p2c_kick(c);
  }
}
static int io_out_head(void *user, int status, const wgg_hdrs *h, int64_t length) {
  p2call *c = user;
  if (!c->has_scb) return 0;
  size_t n = h ? h->n : 0, k = 0;
  wgg_http_header *hv = calloc(n + 1, sizeof *hv);
  if (!hv) return 0;
  for (size_t i = 0; i < n; i++)
    if (!wgg_http_hop_header(h->v[i].name) && strcasecmp(h->v[i].name, "content-length"))
      hv[k++] = (wgg_http_header){h->v[i].name, h->v[i].value};
  wgg_http_response resp = {status, hv, k, "", 0};
  int rc = c->scb.on_head(c->user, c->vs, &resp, length);
  free(hv);
  if (rc) c->streamed = true; /* 1: streams; -1: aborted, on_end still ends it */
  return rc;
}
static int io_out_write(void *user, const uint8_t *p, size_t n) {
  p2call *c = user;
  if (c->stream_done) return -1;
  return c->scb.on_chunk(c->user, (const char *)p, n);
}
static void io_out_end(void *user, bool ok) {
  p2c_end_stream(user, ok ? NULL : "the body did not match its Content-Length");
}
const wgg_p2h_io p2c_io = {io_in_consumed, io_out_head, io_out_write, io_out_end};

