/*
 * p2http_body.c: the bodies of wasi:http/types 0.2.x as wasi:io streams (the
 * WASI 0.2 layer's embedder streams, wgwasi.h wg_wasi_p2_stream_ops):
 * incoming-body.stream, outgoing-body.write and .finish, and the answer's
 * head at response-outparam.set (p2http_types.c calls p2h_answer_head).
 *
 * Bodies stream when the call gives io hooks (wgg_p2h_inst.io: app_p2http.c,
 * issue 14): the request body is read as it arrives (a bounded buffer fed by
 * wgg_p2h_body_*; a read finds nothing yet, and the blocking forms, subscribe
 * and poll park the guest: wgwasi.h "waiting on an event loop"), and the
 * answer's head goes out at response-outparam.set, its body as the guest
 * writes it (check-write is 0 while the client's queue is full). A declared
 * Content-Length is kept to, as wasmtime-wasi-http does: a longer write fails
 * (last-operation-failed), finish of a shorter body returns
 * HTTP-response-body-size(some(written)) and the answer is cut off. Without
 * io the incoming body is in memory before the handler starts and the
 * outgoing body is collected until the handler returns (docs/wasm-apps.md
 * 2.3, "Streams and pollables").
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wasmhost/p2http_internal.h"

enum { OUT_WINDOW = 64u << 10 }; /* check-write of a streaming answer */

static int64_t in_read(void *user, uint8_t *buf, size_t n) {
  p2h_obj *o = user;
  if (o->stale) return -1;
  if (o->live) { /* the request body as it arrives */
    wgg_p2h_inst *in = o->inst;
    size_t have = in->in_buf.len - in->in_off;
    if (!have) return in->in_failed ? -2 : in->in_ended ? -1 : 0;
    size_t k = have < n ? have : n;
    memcpy(buf, in->in_buf.data + in->in_off, k);
    in->in_off += k;
    if (in->in_off == in->in_buf.len) in->in_off = in->in_buf.len = 0;
    if (in->io && in->io->in_consumed) in->io->in_consumed(in->io_user);
    return (int64_t)k;
  }
  if (o->off >= o->data.len) return -1;
  size_t k = o->data.len - o->off < n ? o->data.len - o->off : n;
  memcpy(buf, o->data.data + o->off, k);
  o->off += k;
  return (int64_t)k;
}
static bool in_ready(void *user) {
  p2h_obj *o = user;
  if (o->stale || !o->live) return true;
  wgg_p2h_inst *in = o->inst;
  return in->in_buf.len > in->in_off || in->in_ended || in->in_failed;
}

void wgg_p2h_body_data(wgg_p2h_inst *in, const char *data, size_t len) {
  if (in->in_off && in->in_off >= in->in_buf.len / 2) { /* keep the buffer bounded: drop what was read */
    memmove(in->in_buf.data, in->in_buf.data + in->in_off, in->in_buf.len - in->in_off);
    in->in_buf.len -= in->in_off;
    in->in_off = 0;
  }
  if (wgg_buf_append(&in->in_buf, data, len)) in->in_failed = true;
}
void wgg_p2h_body_end(wgg_p2h_inst *in, bool failed) {
  if (failed) in->in_failed = true;
  else in->in_ended = true;
}
size_t wgg_p2h_body_pending(const wgg_p2h_inst *in) { return in->in_buf.len - in->in_off; }
void wgg_p2h_out_gone(wgg_p2h_inst *in) {
  if (in->out_mode == 1) in->out_mode = -1;
  in->out_full = false;
}

/* A write to a streaming answer's body: Content-Length kept (more fails the body: the answer is
 * cut off, as wasmtime fails the write), then to the client. 0 or -1 (closed) / -2 (failed). */
static int answer_write(wgg_p2h_inst *in, const uint8_t *buf, size_t n) {
  if (in->out_mode < 0 || in->out_failed) return -1;
  if (in->out_length >= 0 && in->out_written + n > (uint64_t)in->out_length) {
    in->out_failed = true;
    return -2;
  }
  in->out_written += n;
  if (!n) return 0;
  int rc = in->io->out_write(in->io_user, buf, n);
  if (rc < 0) {
    in->out_mode = -1;
    return -1;
  }
  if (rc == 1) in->out_full = true;
  return 0;
}

static int out_write(void *user, const uint8_t *buf, size_t n) {
  p2h_obj *o = user;
  if (o->stale || o->finished) return -1;
  wgg_p2h_inst *in = o->inst;
  if (o->answer && in->out_mode == 1) return answer_write(in, buf, n);
  if (o->answer && in->out_mode < 0) return -1;
  if (o->answer && in->out_length >= 0 && o->data.len + n > (uint64_t)in->out_length) {
    in->out_failed = true;
    return -2;
  }
  return wgg_buf_append(&o->data, buf, n) ? -1 : 0;
}
static int64_t out_check(void *user) {
  p2h_obj *o = user;
  if (o->stale || o->finished) return -1;
  wgg_p2h_inst *in = o->inst;
  if (o->answer && (in->out_mode < 0 || in->out_failed)) return -1;
  if (o->answer && in->out_mode == 1) return in->out_full ? 0 : OUT_WINDOW;
  return 1 << 20;
}
static bool out_ready(void *user) { return out_check(user) != 0; }
static void stream_drop(void *user) {
  p2h_obj *o = user;
  if (--o->streams == 0 && o->stale) p2h_obj_free(o);
}
static const wg_wasi_p2_stream_ops in_ops = {.read = in_read, .drop = stream_drop, .ready = in_ready};
static const wg_wasi_p2_stream_ops out_ops = {.check_write = out_check, .write = out_write, .drop = stream_drop,
                                              .ready = out_ready};

/* ------------------------------------------------------------ incoming-body */

wg_trap *p2h_ib_stream(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INBODY);
  if (o->taken) return p2h_err_unit(r);
  wg_cval v;
  if (!wg_wasi_p2_stream(in->p2, false, &in_ops, o, &v)) return p2h_oom();
  o->taken = true;
  o->streams++;
  return p2h_result(r, false, p2h_box(v), true);
}
/* ------------------------------------------------------------ outgoing-body, the answer */

wg_trap *p2h_ob_write(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTBODY);
  if (o->taken) return p2h_err_unit(r);
  wg_cval v;
  if (!wg_wasi_p2_stream(in->p2, true, &out_ops, o, &v)) return p2h_oom();
  o->taken = true;
  o->streams++;
  return p2h_result(r, false, p2h_box(v), true);
}
/* The answer's body ends: a streaming answer ends now (cut off when its length is not the declared
 * Content-Length). */
static void answer_end(wgg_p2h_inst *in, p2h_obj *o) {
  uint64_t written = in->out_mode == 1 ? in->out_written : o->data.len;
  if (in->out_length >= 0 && written != (uint64_t)in->out_length) in->out_failed = true;
  if (in->out_mode == 1 && !in->out_ended) {
    in->out_ended = true;
    in->io->out_end(in->io_user, !in->out_failed);
  }
}

/* finish(this, option<trailers>) -> result<_, error-code>: trailers are dropped (HTTP/1.1 answers
 * carry none here); the answer's body of the wrong length is HTTP-response-body-size */
wg_trap *p2h_ob_finish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTBODY);
  o->finished = true;
  if (o->answer) {
    answer_end(in, o);
    if (in->out_failed) { /* HTTP-response-body-size(some(bytes written)), as wasmtime */
      uint64_t written = in->out_mode == 1 ? in->out_written : o->data.len;
      wg_cval *sz = p2h_box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, p2h_box((wg_cval){.kind = WG_CVAL_U64, .of.u = written})}});
      if (!sz || !sz->of.var.val) return p2h_oom();
      return p2h_result(r, true, p2h_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {EC_HTTP_RESPONSE_BODY_SIZE, sz}}), true);
    }
    return p2h_ok_unit(r);
  }
  wg_trap *t = p2h_send_on_finish(in, a[0].of.handle.rep, r);
  if (t || r->kind) return t;
  return p2h_ok_unit(r);
}

/* response-outparam.set gave resp: its declared Content-Length is kept to; with io the head goes out
 * now, and what the guest wrote to the body before is passed on. */
void p2h_answer_head(wgg_p2h_inst *in, p2h_obj *resp) {
  in->out_length = -1;
  for (size_t i = 0; resp->h && i < resp->h->n; i++)
    if (!strcasecmp(resp->h->v[i].name, "content-length")) {
      char *end;
      unsigned long long v = strtoull(resp->h->v[i].value, &end, 10);
      if (!*end && *resp->h->v[i].value >= '0' && *resp->h->v[i].value <= '9') in->out_length = (int64_t)v;
    }
  p2h_obj *b = p2h_get(in, resp->body, K_OUTBODY);
  if (b) b->answer = true;
  in->out_mode = 2;
  if (!in->io) return;
  int rc = in->io->out_head(in->io_user, resp->status, resp->h, in->out_length);
  in->out_mode = rc == 1 ? 1 : rc == 0 ? 2 : -1;
  if (in->out_mode != 1 || !b) return;
  wgg_buf early = b->data; /* written before set */
  b->data = (wgg_buf){0};
  if (early.len) answer_write(in, (const uint8_t *)early.data, early.len);
  wgg_buf_free(&early);
  if (b->finished) answer_end(in, b);
}

