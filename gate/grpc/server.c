/*
 * server.c: unary gRPC over h2c on libuv with libnghttp2 (see server.h).
 * A connection owns an nghttp2 server session; bytes read go to
 * nghttp2_session_mem_recv, bytes nghttp2 wants to send are collected with
 * nghttp2_session_mem_send and written with uv_write. A call lives from its
 * HEADERS frame until both the stream is closed and its handler has
 * answered (two references; a third while its deadline timer is open).
 */
#include <errno.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc/server.h"
#include "grpc/wire.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

enum { MAX_STREAMS = 100, MAX_HEADERS = 64, OUT_HIGH_WATER = 1 << 20 };

typedef struct conn conn;

typedef struct hdr {
  char *name, *value;
} hdr;

struct wgg_grpc_call {
  conn *c;           /* NULL once the connection is gone */
  wgg_grpc_call *prev, *next; /* in c->calls while the stream is open */
  int32_t stream_id;
  int refs;          /* stream + handler (+ timer while open) */
  bool dispatched;   /* the handler has it */
  bool answered;     /* a response was submitted (or the stream is gone) */
  bool stream_open;
  bool failed_early; /* answered before the request ended (size limit...) */
  size_t hoff[MAX_HEADERS][2]; /* offsets of name and value in hbuf (NUL-terminated) */
  size_t n_hdrs, head_bytes;
  wgg_buf hbuf;
  wgg_buf in;        /* the request body: prefix + message */
  uint8_t *out;      /* the response: prefix + message */
  size_t out_len, out_off;
  char status[4];
  char *message;     /* grpc-message, percent-encoded */
  char *details;     /* grpc-status-details-bin, base64, or NULL */
  hdr resp_hdrs[16];
  size_t n_resp_hdrs;
  uv_timer_t deadline;
  bool timer_on;
  uint64_t start_ns; /* uv_hrtime() at dispatch */
  /* streaming (wgg_grpc_stream_*) */
  bool streaming;       /* dispatched at its HEADERS; messages both ways */
  bool head_sent;       /* the response HEADERS and its data source are submitted */
  bool deferred;        /* the data source waits for more output */
  bool fin;             /* wgg_grpc_stream_finish called: trailers after the output */
  bool peer_done;       /* the client half-closed (or the stream is gone): on_end was called */
  wgg_buf sout;         /* output messages not yet taken by nghttp2 */
  size_t sout_off;
  int fin_code;
  wgg_grpc_stream_msg_fn on_msg;
  wgg_grpc_stream_end_fn on_end;
  void *sctx;
};

struct conn {
  wgg_grpc_server *srv;
  uv_tcp_t tcp;
  nghttp2_session *h2;
  uv_timer_t idle;
  conn *prev, *next;
  wgg_grpc_call *calls; /* calls whose stream is open */
  wgg_buf scratch;      /* output being collected by conn_flush */
  size_t out_queued; /* bytes handed to uv_write, not yet written */
  size_t in_held;    /* request bytes buffered by this connection's calls */
  bool reading, closing;
  bool in_recv; /* inside nghttp2_session_mem_recv: on_read flushes once after it */
  bool dead;    /* GOAWAY sent after an error: reading and dropping until EOF, then closed */
  char peer[64];
};

typedef struct listener {
  uv_tcp_t tcp;
  wgg_grpc_server *srv;
  struct listener *next;
} listener;

struct wgg_grpc_server {
  uv_loop_t *loop;
  wgg_grpc_server_config cfg;
  listener *listeners;
  conn *conns;
  bool draining;
};

static void conn_flush(conn *c);
static void conn_close(conn *c);
static void stream_peer_done(wgg_grpc_call *k, bool gone);

/* ---- calls ---- */

static void call_unref(wgg_grpc_call *k) {
  if (--k->refs > 0) return;
  wgg_buf_free(&k->hbuf);
  for (size_t i = 0; i < k->n_resp_hdrs; i++) {
    free(k->resp_hdrs[i].name);
    free(k->resp_hdrs[i].value);
  }
  wgg_buf_free(&k->in);
  wgg_buf_free(&k->sout);
  free(k->out);
  free(k->message);
  free(k->details);
  free(k);
}

/* Releases the request bytes of k (after its handler ran, or when it ends early). */
static void drop_input(wgg_grpc_call *k) {
  if (k->c) k->c->in_held -= k->in.len;
  wgg_buf_free(&k->in);
}

static void timer_closed(uv_handle_t *h) {
  call_unref(h->data);
}

static void stop_timer(wgg_grpc_call *k) {
  if (!k->timer_on) return;
  k->timer_on = false;
  uv_close((uv_handle_t *)&k->deadline, timer_closed);
}

const char *wgg_grpc_call_path(const wgg_grpc_call *k) {
  const char *p = wgg_grpc_call_header(k, ":path");
  return p ? p : "";
}

const char *wgg_grpc_call_header(const wgg_grpc_call *k, const char *name) {
  for (size_t i = 0; i < k->n_hdrs; i++)
    if (!strcmp(k->hbuf.data + k->hoff[i][0], name)) return k->hbuf.data + k->hoff[i][1];
  return NULL;
}

const uint8_t *wgg_grpc_call_msg(const wgg_grpc_call *k, size_t *len) {
  *len = k->in.len >= 5 ? k->in.len - 5 : 0;
  return k->in.len >= 5 ? (const uint8_t *)k->in.data + 5 : (const uint8_t *)"";
}

uv_loop_t *wgg_grpc_call_loop(const wgg_grpc_call *k) {
  return k->c ? k->c->srv->loop : NULL;
}

const char *wgg_grpc_call_peer(const wgg_grpc_call *k) {
  return k->c ? k->c->peer : "";
}

bool wgg_grpc_call_cancelled(const wgg_grpc_call *k) {
  return !k->c || !k->stream_open || k->answered;
}

int wgg_grpc_call_add_header(wgg_grpc_call *k, const char *name, const char *value) {
  if (k->n_resp_hdrs >= sizeof k->resp_hdrs / sizeof k->resp_hdrs[0]) return -1;
  hdr *h = &k->resp_hdrs[k->n_resp_hdrs];
  if (!(h->name = strdup(name)) || !(h->value = strdup(value))) {
    free(h->name);
    return -1;
  }
  k->n_resp_hdrs++;
  return 0;
}

int wgg_grpc_call_set_details(wgg_grpc_call *k, const uint8_t *status, size_t len) {
  char *out = wgg_grpc_base64(status, len);
  if (!out) return -1;
  free(k->details);
  k->details = out;
  return 0;
}

/* The data source of a response: the message, then the trailers. */
static ssize_t read_out(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *user) {
  (void)user;
  wgg_grpc_call *k = src->ptr;
  size_t n = k->out_len - k->out_off;
  if (n > len) n = len;
  memcpy(buf, k->out + k->out_off, n);
  k->out_off += n;
  if (k->out_off == k->out_len) {
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv tr[] = {{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
    if (nghttp2_submit_trailer(h2, sid, tr, 1)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return (ssize_t)n;
}

/* The data source of a streaming response: queued messages as nghttp2's
 * flow control lets them out, then (once finished) the trailers. */
static ssize_t read_stream_out(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                               nghttp2_data_source *src, void *user) {
  (void)user;
  wgg_grpc_call *k = src->ptr;
  size_t n = k->sout.len - k->sout_off;
  if (n > len) n = len;
  if (n) memcpy(buf, k->sout.data + k->sout_off, n);
  k->sout_off += n;
  if (k->sout_off == k->sout.len) {
    k->sout.len = k->sout_off = 0;
    if (!k->fin) {
      if (n == 0) {
        k->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
      return (ssize_t)n;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv tr[3];
    size_t t = 0;
    snprintf(k->status, sizeof k->status, "%d", k->fin_code);
    tr[t++] = (nghttp2_nv){(uint8_t *)"grpc-status", (uint8_t *)k->status, 11, strlen(k->status), NGHTTP2_NV_FLAG_NONE};
    if (k->fin_code && k->message)
      tr[t++] = (nghttp2_nv){(uint8_t *)"grpc-message", (uint8_t *)k->message, 12, strlen(k->message), NGHTTP2_NV_FLAG_NONE};
    if (k->fin_code && k->details)
      tr[t++] = (nghttp2_nv){(uint8_t *)"grpc-status-details-bin", (uint8_t *)k->details, 23, strlen(k->details),
                             NGHTTP2_NV_FLAG_NONE};
    if (nghttp2_submit_trailer(h2, sid, tr, t)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return (ssize_t)n;
}

#define NV(n, v, vl) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), (vl), NGHTTP2_NV_FLAG_NONE}

/* Fills nv with the response headers of k (:status 200, content-type, then
 * k's own, at most 16); returns how many. */
static size_t response_head(const wgg_grpc_call *k, nghttp2_nv *nv) {
  size_t n = 0;
  nv[n++] = (nghttp2_nv)NV(":status", "200", 3);
  nv[n++] = (nghttp2_nv)NV("content-type", "application/grpc", 16);
  for (size_t i = 0; i < k->n_resp_hdrs; i++)
    nv[n++] = (nghttp2_nv)NV(k->resp_hdrs[i].name, k->resp_hdrs[i].value, strlen(k->resp_hdrs[i].value));
  return n;
}

/* Lets a streaming response's queued output go: submits the headers with
 * read_stream_out as the data source the first time, later resumes that
 * source if it deferred. Returns nghttp2_submit_response's result, else 0. */
static int stream_out_kick(conn *c, wgg_grpc_call *k) {
  if (!k->head_sent) {
    k->head_sent = true;
    nghttp2_nv nv[2 + 16];
    size_t n = response_head(k, nv);
    nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_stream_out};
    return nghttp2_submit_response(c->h2, k->stream_id, nv, n, &dp);
  }
  if (k->deferred) {
    k->deferred = false;
    nghttp2_session_resume_data(c->h2, k->stream_id);
  }
  return 0;
}

/* Submits the response of k: status 0 with k->out as the message, or a
 * Trailers-Only error response (grpc-status, grpc-message). */
static void submit_answer(wgg_grpc_call *k, int code) {
  conn *c = k->c;
  k->answered = true;
  stop_timer(k);
  if (k->dispatched && c && c->srv->cfg.observe)
    c->srv->cfg.observe(wgg_grpc_call_path(k), code, uv_hrtime() - k->start_ns, c->srv->cfg.user);
  if (!c || !k->stream_open || c->closing) return;
  if (k->streaming && (k->head_sent || code == 0)) { /* trailers after what is queued */
    k->fin = true;
    k->fin_code = code;
    /* the trailers come from the data source (OK without a message: headers first) */
    stream_out_kick(c, k);
    conn_flush(c);
    return;
  }
  nghttp2_nv nv[5 + 16];
  size_t n = response_head(k, nv);
  if (code == 0) {
    nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_out};
    nghttp2_submit_response(c->h2, k->stream_id, nv, n, &dp);
  } else {
    snprintf(k->status, sizeof k->status, "%d", code);
    nv[n++] = (nghttp2_nv)NV("grpc-status", k->status, strlen(k->status));
    if (k->message) nv[n++] = (nghttp2_nv)NV("grpc-message", k->message, strlen(k->message));
    if (k->details) nv[n++] = (nghttp2_nv)NV("grpc-status-details-bin", k->details, strlen(k->details));
    /* a request refused before its end (size limit) may still be arriving: the rest is read and
     * dropped (an RST_STREAM here makes grpc-core clients report it instead of our status) */
    nghttp2_submit_response(c->h2, k->stream_id, nv, n, NULL);
  }
  conn_flush(c);
}

static void fail_now(wgg_grpc_call *k, int code, const char *msg) {
  free(k->message);
  k->message = wgg_grpc_percent_encode(msg);
  submit_answer(k, code);
  stream_peer_done(k, true);
}

void wgg_grpc_reply(wgg_grpc_call *k, const ProtobufCMessage *msg) {
  if (!k->answered) {
    size_t len = protobuf_c_message_get_packed_size(msg);
    k->out = malloc(len + 5);
    if (!k->out) {
      fail_now(k, 13, "out of memory");
    } else {
      k->out[0] = 0;
      k->out[1] = (uint8_t)(len >> 24);
      k->out[2] = (uint8_t)(len >> 16);
      k->out[3] = (uint8_t)(len >> 8);
      k->out[4] = (uint8_t)len;
      protobuf_c_message_pack(msg, k->out + 5);
      k->out_len = len + 5;
      submit_answer(k, 0);
    }
  }
  call_unref(k);
}

void wgg_grpc_fail(wgg_grpc_call *k, int code, const char *fmt, ...) {
  if (!k->answered) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_now(k, code ? code : 2, msg);
  }
  call_unref(k);
}

/* The call's timer: before the request ended, the read timeout (the stream is
 * reset, as the HTTP server drops a request that takes too long to arrive);
 * after, the grpc-timeout deadline. */
static void on_deadline(uv_timer_t *t) {
  wgg_grpc_call *k = t->data;
  if (k->answered) return;
  if (!k->dispatched) {
    k->answered = true;
    if (k->c && k->stream_open && !k->c->closing) {
      nghttp2_submit_rst_stream(k->c->h2, NGHTTP2_FLAG_NONE, k->stream_id, NGHTTP2_CANCEL);
      conn_flush(k->c);
    }
    return;
  }
  fail_now(k, 4, "context deadline exceeded");
}

/* Arms the call's timer for ms (opening it the first time). */
static void arm_timer(wgg_grpc_call *k, uint64_t ms) {
  if (!k->timer_on) {
    uv_timer_init(k->c->srv->loop, &k->deadline);
    k->deadline.data = k;
    k->timer_on = true;
    k->refs++;
  }
  uv_timer_start(&k->deadline, on_deadline, ms, 0);
}

/* Whether k's headers make a gRPC request (else it is answered with 415/405). */
static bool check_grpc(wgg_grpc_call *k) {
  const char *ct = wgg_grpc_call_header(k, "content-type");
  const char *method = wgg_grpc_call_header(k, ":method");
  if (!method || strcmp(method, "POST") || !ct || strncmp(ct, "application/grpc", 16) ||
      (ct[16] && ct[16] != '+' && ct[16] != ';')) {
    k->answered = true; /* not gRPC: a plain HTTP answer, as grpc-go's 415 */
    nghttp2_nv nv[] = {NV(":status", method && !strcmp(method, "POST") ? "415" : "405", 3)};
    nghttp2_submit_response(k->c->h2, k->stream_id, nv, 1, NULL);
    conn_flush(k->c);
    return false;
  }
  return true;
}

/* The request is complete: check its framing and hand it to the handler. */
static void dispatch(wgg_grpc_call *k) {
  if (!check_grpc(k)) return;
  const uint8_t *b = (const uint8_t *)k->in.data;
  if (k->in.len < 5) {
    fail_now(k, 13, "grpc: the request has no message");
    return;
  }
  size_t len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
  if (b[0] & 1) {
    const char *enc = wgg_grpc_call_header(k, "grpc-encoding");
    if (enc && strcmp(enc, "identity")) {
      char m[200];
      snprintf(m, sizeof m, "grpc: Decompressor is not installed for grpc-encoding \"%.100s\"", enc);
      fail_now(k, 12, m);
    } else {
      fail_now(k, 13, "grpc: compressed flag set with identity or empty encoding");
    }
    return;
  }
  if (len != k->in.len - 5) {
    fail_now(k, 13, len > k->in.len - 5 ? "grpc: the message is incomplete" : "grpc: more than one message in a unary call");
    return;
  }
  k->dispatched = true;
  k->start_ns = uv_hrtime();
  k->refs++; /* the handler's */
  k->c->srv->cfg.handler(k, k->c->srv->cfg.user);
  drop_input(k); /* the handler has decoded what it needs */
}

/* ---- streaming calls ---- */

void wgg_grpc_stream_set(wgg_grpc_call *k, wgg_grpc_stream_msg_fn on_msg, wgg_grpc_stream_end_fn on_end, void *ctx) {
  k->on_msg = on_msg;
  k->on_end = on_end;
  k->sctx = ctx;
}

/* Tells the handler's owner, once, that no more messages come (half-close or stream gone). */
static void stream_peer_done(wgg_grpc_call *k, bool gone) {
  if (!k->streaming || k->peer_done) return;
  k->peer_done = true;
  if (k->on_end) k->on_end(k, gone, k->sctx);
}

/* Hands every complete message buffered in k->in to the handler's on_msg. */
static void stream_messages(wgg_grpc_call *k) {
  size_t off = 0;
  while (!k->answered && k->in.len - off >= 5) {
    const uint8_t *b = (const uint8_t *)k->in.data + off;
    size_t len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (k->in.len - off - 5 < len) break;
    if (b[0] & 1) {
      fail_now(k, 13, "grpc: compressed flag set with identity or empty encoding");
      break;
    }
    off += 5 + len;
    if (k->on_msg) k->on_msg(k, b + 5, len, k->sctx);
  }
  if (k->answered) {
    drop_input(k);
    return;
  }
  if (off) {
    memmove(k->in.data, k->in.data + off, k->in.len - off);
    k->in.len -= off;
    if (k->c) k->c->in_held -= off;
  }
}

/* A streaming method's HEADERS arrived: the handler gets the call now. */
static void dispatch_stream(wgg_grpc_call *k) {
  if (!check_grpc(k)) return;
  k->streaming = true;
  k->dispatched = true;
  k->start_ns = uv_hrtime();
  const char *t = wgg_grpc_call_header(k, "grpc-timeout");
  int64_t ms = t ? wgg_grpc_parse_timeout(t) : -1;
  if (ms >= 0) arm_timer(k, ms ? (uint64_t)ms : 1);
  else if (k->timer_on) uv_timer_stop(&k->deadline); /* no read timeout on a stream */
  k->refs++; /* the handler's */
  k->c->srv->cfg.handler(k, k->c->srv->cfg.user);
}

int wgg_grpc_stream_send(wgg_grpc_call *k, const ProtobufCMessage *msg) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *tmp = malloc(len ? len : 1);
  if (!tmp) return -1;
  protobuf_c_message_pack(msg, tmp);
  int rc = wgg_grpc_stream_send_raw(k, tmp, len);
  free(tmp);
  return rc;
}

int wgg_grpc_stream_send_raw(wgg_grpc_call *k, const uint8_t *msg, size_t len) {
  if (!k->streaming || k->answered || !k->c || !k->stream_open || k->c->closing) return -1;
  conn *c = k->c;
  size_t at = k->sout.len;
  uint8_t pre[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  if (wgg_buf_append(&k->sout, pre, 5) || wgg_buf_append(&k->sout, msg, len)) {
    k->sout.len = at;
    return -1;
  }
  if (stream_out_kick(c, k)) return -1;
  conn_flush(c);
  return 0;
}

size_t wgg_grpc_stream_queued(const wgg_grpc_call *k) {
  return k->sout.len - k->sout_off;
}

void wgg_grpc_stream_finish(wgg_grpc_call *k, int code, const char *fmt, ...) {
  k->on_msg = NULL;
  k->on_end = NULL;
  if (!k->answered) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(k->message);
    k->message = code ? wgg_grpc_percent_encode(msg) : NULL;
    submit_answer(k, code);
  }
  call_unref(k);
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
  conn *c = user;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  wgg_grpc_call *k = calloc(1, sizeof *k);
  if (!k) return NGHTTP2_ERR_CALLBACK_FAILURE;
  k->c = c;
  k->stream_id = f->hd.stream_id;
  k->refs = 1; /* the stream's */
  k->stream_open = true;
  k->next = c->calls;
  if (c->calls) c->calls->prev = k;
  c->calls = k;
  nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, k);
  uv_timer_stop(&c->idle);
  if (c->srv->cfg.read_timeout_ms) arm_timer(k, c->srv->cfg.read_timeout_ms);
  return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *user) {
  (void)flags;
  conn *c = user;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
  if (!k || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0; /* trailers: ignored */
  k->head_bytes += nl + vl + 32;
  if (k->head_bytes > c->srv->cfg.max_head || k->n_hdrs >= MAX_HEADERS) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  k->hoff[k->n_hdrs][0] = k->hbuf.len;
  k->hoff[k->n_hdrs][1] = k->hbuf.len + nl + 1;
  if (wgg_buf_append(&k->hbuf, name, nl) || wgg_buf_append(&k->hbuf, "", 1) || wgg_buf_append(&k->hbuf, value, vl) ||
      wgg_buf_append(&k->hbuf, "", 1))
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  k->n_hdrs++;
  return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
                         void *user) {
  (void)flags;
  conn *c = user;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, sid);
  if (!k || k->answered) return 0;
  size_t max = c->srv->cfg.max_msg;
  /* every stream may buffer up to max, and the window updates keep coming: bound the sum per connection */
  size_t budget = max * 16 > (64u << 20) ? max * 16 : (64u << 20);
  if (c->in_held + len > budget) {
    k->failed_early = true;
    drop_input(k);
    fail_now(k, 8, "grpc: too many request bytes in flight on this connection");
    return 0;
  }
  if (wgg_buf_append(&k->in, data, len)) {
    drop_input(k);
    fail_now(k, 8, "out of memory");
    return 0;
  }
  c->in_held += len;
  if (k->in.len >= 5) {
    const uint8_t *b = (const uint8_t *)k->in.data;
    size_t mlen = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (mlen > max) {
      char m[160];
      snprintf(m, sizeof m, "grpc: received message larger than max (%zu vs. %zu)", mlen, max);
      k->failed_early = true;
      fail_now(k, 8, m);
      drop_input(k);
    } else if (k->streaming) {
      stream_messages(k);
    } else if (k->in.len > mlen + 5 + 5 + max) { /* a stream of messages on a unary method */
      k->failed_early = true;
      fail_now(k, 13, "grpc: more than one message in a unary call");
      drop_input(k);
    }
  }
  return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
  conn *c = user;
  if (f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) return 0;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
  if (k && !k->dispatched && !k->answered && f->hd.type == NGHTTP2_HEADERS &&
      f->headers.cat == NGHTTP2_HCAT_REQUEST && c->srv->cfg.streaming &&
      c->srv->cfg.streaming(wgg_grpc_call_path(k), c->srv->cfg.user)) {
    dispatch_stream(k);
  }
  if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  if (k && k->streaming) {
    stream_peer_done(k, false);
    return 0;
  }
  if (!k || k->answered || k->dispatched) return 0;
  const char *t = wgg_grpc_call_header(k, "grpc-timeout");
  int64_t ms = t ? wgg_grpc_parse_timeout(t) : -1;
  if (ms >= 0) {
    if (ms == 0) {
      fail_now(k, 4, "context deadline exceeded");
      return 0;
    }
    arm_timer(k, (uint64_t)ms);
  } else if (k->timer_on) {
    uv_timer_stop(&k->deadline); /* the read timeout is over; the handle closes with the call */
  }
  dispatch(k);
  return 0;
}

/* The stream of k is gone (closed, reset, or its connection ended). */
static void stream_gone(conn *c, wgg_grpc_call *k) {
  if (k->prev) k->prev->next = k->next;
  else c->calls = k->next;
  if (k->next) k->next->prev = k->prev;
  k->prev = k->next = NULL;
  k->stream_open = false;
  drop_input(k);
  stop_timer(k);
  stream_peer_done(k, true);
  call_unref(k);
}

static int on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t code, void *user) {
  (void)code;
  conn *c = user;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, sid);
  if (k) {
    nghttp2_session_set_stream_user_data(h2, sid, NULL);
    stream_gone(c, k);
  }
  return 0;
}

/* ---- connections ---- */

typedef struct out_req {
  uv_write_t w;
  conn *c;
  size_t len;
  char data[];
} out_req;

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void on_shutdown(uv_shutdown_t *sh, int status) {
  (void)status;
  free(sh);
}

/* Ends c after a GOAWAY (already submitted): sends what is queued, half-closes, and reads
 * until the peer closes (at most a second): closing with unread input would make the kernel
 * send RST, which can destroy the GOAWAY before the peer reads it. */
static void conn_abort(conn *c);

/* No stream for idle_timeout_ms: GOAWAY and close. A dead connection's grace ends. */
static void on_idle(uv_timer_t *t) {
  conn *c = t->data;
  if (c->dead) {
    conn_close(c);
    return;
  }
  if (c->calls) return;
  nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
  conn_abort(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h;
  (void)hint;
  static __thread char buf[65536];
  b->base = buf;
  b->len = sizeof buf;
}

static void on_written(uv_write_t *w, int status) {
  out_req *o = (out_req *)w;
  conn *c = o->c;
  c->out_queued -= o->len;
  free(o);
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (!c->closing && !c->reading && c->out_queued < OUT_HIGH_WATER / 2) {
    c->reading = true;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  }
  conn_flush(c);
}

/* Writes what nghttp2 has to send; closes the connection when the session is over. */
static void conn_flush(conn *c) {
  if (c->closing || c->in_recv) return;
  /* collect what nghttp2 has to send in the connection's scratch buffer (kept between flushes) */
  c->scratch.len = 0;
  for (;;) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->h2, &data);
    if (n == 0) break;
    if (n < 0 || wgg_buf_append(&c->scratch, data, (size_t)n)) {
      conn_close(c);
      return;
    }
  }
  const char *p = c->scratch.data;
  size_t len = c->scratch.len;
  if (len && c->out_queued == 0) { /* nothing queued: write now (a completed uv_write costs an epoll_ctl) */
    uv_buf_t t = uv_buf_init((char *)p, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &t, 1);
    if (n > 0) p += n, len -= (size_t)n;
  }
  if (len) {
    out_req *o = malloc(sizeof *o + len);
    if (!o) {
      conn_close(c);
      return;
    }
    o->c = c;
    o->len = len;
    memcpy(o->data, p, len);
    uv_buf_t b = uv_buf_init(o->data, (unsigned)len);
    if (uv_write(&o->w, (uv_stream_t *)&c->tcp, &b, 1, on_written)) {
      free(o);
      conn_close(c);
      return;
    }
    c->out_queued += len;
    if (c->out_queued > OUT_HIGH_WATER && c->reading) { /* the peer does not read: stop reading it */
      c->reading = false;
      uv_read_stop((uv_stream_t *)&c->tcp);
    }
  }
  if (c->scratch.cap > 65536) wgg_buf_free(&c->scratch); /* keep a small one only */
  if (c->dead) return; /* on_read or the grace timer closes it */
  if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2) && c->out_queued == 0) {
    conn_close(c);
    return;
  }
  if (!c->calls && c->srv->cfg.idle_timeout_ms && !uv_is_active((uv_handle_t *)&c->idle))
    uv_timer_start(&c->idle, on_idle, c->srv->cfg.idle_timeout_ms, 0);
}

static void idle_closed(uv_handle_t *h) {
  conn *c = h->data; /* its last handle is closed */
  wgg_buf_free(&c->scratch);
  free(c);
}

static void conn_closed(uv_handle_t *h) {
  conn *c = h->data;
  uv_close((uv_handle_t *)&c->idle, idle_closed);
}

static void conn_close(conn *c) {
  if (c->closing) return;
  c->closing = true;
  wgg_grpc_server *s = c->srv;
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  uv_timer_stop(&c->idle);
  while (c->calls) { /* their handlers' answers go nowhere now */
    wgg_grpc_call *k = c->calls;
    k->c = NULL;
    stream_gone(c, k);
  }
  nghttp2_session_del(c->h2);
  c->h2 = NULL;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_abort(conn *c) {
  if (c->closing || c->dead) return;
  c->dead = true; /* conn_flush must not close it when the GOAWAY is out */
  conn_flush(c);
  if (c->closing) return;
  uv_shutdown_t *sh = malloc(sizeof *sh);
  if (!sh || uv_shutdown(sh, (uv_stream_t *)&c->tcp, on_shutdown)) {
    free(sh);
    conn_close(c);
    return;
  }
  if (!c->reading) {
    c->reading = true;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  }
  uv_timer_start(&c->idle, on_idle, 1000, 0);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  conn *c = st->data;
  if (n == 0) return;
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (c->dead) return; /* dropped */
  uv_timer_stop(&c->idle);
  c->in_recv = true; /* answers given inside the callbacks go out in one write after */
  ssize_t rv = nghttp2_session_mem_recv(c->h2, (const uint8_t *)b->base, (size_t)n);
  c->in_recv = false;
  if (rv < 0) { /* bad preface or a fatal protocol error: GOAWAY if we can, then close */
    wgg_debug("grpc: connection from %s: %s", c->peer, nghttp2_strerror((int)rv));
    nghttp2_session_terminate_session(c->h2, NGHTTP2_PROTOCOL_ERROR);
    conn_abort(c);
    return;
  }
  conn_flush(c);
}

/* Sets up the HTTP/2 session of c, whose socket is open, and starts reading. Returns 0, or -1
 * (c closed). */
static int conn_start(conn *c) {
  wgg_grpc_server *s = c->srv;
  uv_tcp_nodelay(&c->tcp, 1);
  struct sockaddr_storage ss;
  int sl = sizeof ss;
  if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl)) {
    char ip[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
      snprintf(c->peer, sizeof c->peer, "[%s]:%d", ip, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else if (ss.ss_family == AF_INET) {
      uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
      snprintf(c->peer, sizeof c->peer, "%s:%d", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
  }
  nghttp2_session_callbacks *cb;
  if (nghttp2_session_callbacks_new(&cb)) goto fail;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  int rc = nghttp2_session_server_new(&c->h2, cb, c);
  nghttp2_session_callbacks_del(cb);
  if (rc) goto fail;
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
                                 {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)s->cfg.max_head}};
  nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 3);
  nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 4 << 20);
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  if (s->draining) nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
  c->reading = true;
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  conn_flush(c);
  return 0;
fail:
  c->closing = true;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
  return -1;
}

static conn *conn_new(wgg_grpc_server *s) {
  conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->srv = s;
  uv_tcp_init(s->loop, &c->tcp);
  c->tcp.data = c;
  uv_timer_init(s->loop, &c->idle);
  c->idle.data = c;
  return c;
}

static void on_connection(uv_stream_t *ls, int status) {
  listener *l = ls->data;
  if (status < 0) return;
  conn *c = conn_new(l->srv);
  if (!c) return;
  if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return;
  }
  conn_start(c);
}

int wgg_grpc_server_adopt(wgg_grpc_server *s, int fd, wgg_err *err) {
  conn *c = conn_new(s);
  if (!c) return wgg_err_set(err, "out of memory");
  int rc = uv_tcp_open(&c->tcp, fd);
  if (rc) {
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return wgg_err_set(err, "cannot use socket %d: %s", fd, uv_strerror(rc));
  }
  return conn_start(c) ? wgg_err_set(err, "out of memory") : 0;
}

wgg_grpc_server *wgg_grpc_server_new(uv_loop_t *loop, const wgg_grpc_server_config *cfg, wgg_err *err) {
  wgg_grpc_server *s = calloc(1, sizeof *s);
  if (!s) return wgg_err_set(err, "out of memory"), NULL;
  s->loop = loop;
  s->cfg = *cfg;
  if (s->cfg.max_head < 1024) s->cfg.max_head = 1024;
  return s;
}

static void listener_closed(uv_handle_t *h) {
  free(h->data);
}

int wgg_grpc_server_listen(wgg_grpc_server *s, const char *host, int port, wgg_err *err) {
  char h[128];
  snprintf(h, sizeof h, "%s", host);
  size_t hl = strlen(h);
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
    memmove(h, h + 1, hl - 2);
    h[hl - 2] = '\0';
  }
  struct sockaddr_storage ss;
  int family = strchr(h, ':') ? AF_INET6 : AF_INET;
  int rc = family == AF_INET6 ? uv_ip6_addr(h, port, (struct sockaddr_in6 *)&ss)
                              : uv_ip4_addr(h, port, (struct sockaddr_in *)&ss);
  if (rc) return wgg_err_set(err, "invalid listen address '%s': %s", host, uv_strerror(rc));
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return wgg_err_set(err, "socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  socklen_t sl = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return wgg_err_set(err, "gRPC listen on %s:%d: %s", host, port, strerror(e));
  }
  listener *l = calloc(1, sizeof *l);
  if (!l) {
    close(fd);
    return wgg_err_set(err, "out of memory");
  }
  l->srv = s;
  uv_tcp_init(s->loop, &l->tcp);
  l->tcp.data = l;
  if ((rc = uv_tcp_open(&l->tcp, fd)) || (rc = uv_listen((uv_stream_t *)&l->tcp, 1024, on_connection))) {
    uv_close((uv_handle_t *)&l->tcp, listener_closed);
    return wgg_err_set(err, "gRPC listen on %s:%d: %s", host, port, uv_strerror(rc));
  }
  l->next = s->listeners;
  s->listeners = l;
  return 0;
}

static void close_listeners(wgg_grpc_server *s) {
  for (listener *l = s->listeners, *next; l; l = next) {
    next = l->next;
    uv_close((uv_handle_t *)&l->tcp, listener_closed);
  }
  s->listeners = NULL;
}

void wgg_grpc_server_drain(wgg_grpc_server *s) {
  if (!s) return;
  s->draining = true;
  close_listeners(s);
  for (conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    /* GOAWAY naming the last stream taken: the session ends when those are answered */
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2), NGHTTP2_NO_ERROR,
                          NULL, 0);
    conn_flush(c);
    for (wgg_grpc_call *k = c->calls, *kn; k && !c->closing; k = kn) { /* streams never end by themselves */
      kn = k->next;
      if (k->streaming && !k->answered) {
        fail_now(k, 2, "api server closed");
      }
    }
    if (!c->closing && !c->calls) conn_close(c);
  }
}

void wgg_grpc_server_close_all(wgg_grpc_server *s) {
  if (!s) return;
  s->draining = true;
  close_listeners(s);
  while (s->conns) conn_close(s->conns);
}

void wgg_grpc_server_free(wgg_grpc_server *s) {
  free(s);
}
