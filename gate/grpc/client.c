/*
 * client.c: see client.h. A call (gcall) belongs to one connection (gconn)
 * from its start to its end; it is submitted when the connection is up and
 * answered from on_stream_close (or earlier by its deadline, which detaches
 * it from its stream and resets that). nghttp2 callbacks never free a
 * connection: connections are torn down from the read and connect callbacks
 * once nghttp2 has returned (conn_reap).
 */
#include "grpc/client.h"

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/gzip.h"
#include "util/buf.h"
#include "util/log.h"

enum { DEFAULT_MAX_MSG = 4 << 20, OUT_HIGH_WATER = 1 << 20, MAX_MD_BYTES = 64 << 10 };

typedef struct gconn gconn;
typedef struct gcall gcall;

struct gcall {
  gcall *prev, *next; /* in conn->calls */
  wgg_grpc_client *cl;
  gconn *conn;
  int32_t stream_id; /* 0 until submitted */
  nghttp2_nv *nv;    /* one block: the array and its strings */
  size_t nnv;
  uint8_t *out; /* 5-byte prefix + message */
  size_t out_len, out_off;
  uint64_t timeout_ms;
  uv_timer_t timer;
  wgg_buf in;
  wgg_buf plain; /* the answer's message gunzipped (grpc-encoding: gzip) */
  char *encoding; /* the answer's grpc-encoding, NULL when none */
  wgg_http_header *md;
  size_t n_md, cap_md, md_bytes;
  size_t n_head; /* md[0..n_head) came with the response headers, the rest with the trailers */
  int http_status;
  int code; /* -1 until grpc-status arrives */
  char *message;
  bool got_headers, retried, answered;
  wgg_grpc_client_cb cb;
  void *user;
};

struct gconn {
  gconn *next; /* in cl->conns */
  wgg_grpc_client *cl;
  uv_tcp_t tcp;
  uv_connect_t connect;
  nghttp2_session *h2;
  gcall *calls;
  size_t n_calls;
  wgg_buf scratch;
  size_t out_queued;
  bool connected, goaway, dead, killing, closing, in_recv, reading;
};

struct wgg_grpc_client {
  uv_loop_t *loop;
  struct sockaddr_storage addr;
  char authority[300];
  char dial[300]; /* "ip:port" for messages */
  size_t max_msg;
  gconn *cur; /* where new calls go; NULL: dial a new one */
  gconn *conns;
  size_t live; /* connections not yet freed (the client goes with the last one once closed) */
  bool closing;
};

static void conn_flush(gconn *c);
static void conn_reap(gconn *c);
static int attach(wgg_grpc_client *cl, gcall *k);

/* ---- calls ---- */

static void call_free_cb(uv_handle_t *h) {
  gcall *k = h->data;
  for (size_t i = 0; i < k->n_md; i++) {
    free((char *)k->md[i].name);
    free((char *)k->md[i].value);
  }
  free(k->md);
  free(k->nv);
  free(k->out);
  free(k->message);
  free(k->encoding);
  wgg_buf_free(&k->in);
  wgg_buf_free(&k->plain);
  free(k);
}

static void detach(gcall *k) {
  gconn *c = k->conn;
  if (!c) return;
  if (k->prev) k->prev->next = k->next;
  else c->calls = k->next;
  if (k->next) k->next->prev = k->prev;
  k->prev = k->next = NULL;
  c->n_calls--;
  if (k->stream_id && c->h2 && !c->dead) nghttp2_session_set_stream_user_data(c->h2, k->stream_id, NULL);
  k->conn = NULL;
}

/* Frees k once its stream is over (or was never opened). */
static void release(gcall *k) {
  gconn *c = k->conn;
  detach(k);
  uv_timer_stop(&k->timer);
  uv_close((uv_handle_t *)&k->timer, call_free_cb);
  if (c) conn_reap(c);
}

/* Fills r with the compressed answer p/n of k gunzipped, or with grpc-go's
 * error for it (an encoding we did not offer, a broken stream, a message
 * over max_msg once decompressed); buf (size bytes) may hold the message. */
static void uncompress(gcall *k, const uint8_t *p, size_t n, wgg_grpc_result *r, char *buf, size_t size) {
  const char *enc = k->encoding;
  if (!enc || !strcmp(enc, "identity")) {
    r->code = WGG_GRPC_INTERNAL;
    r->message = "grpc: compressed flag set with identity or empty encoding";
    return;
  }
  if (strcmp(enc, "gzip")) {
    r->code = WGG_GRPC_INTERNAL;
    snprintf(buf, size, "grpc: Decompressor is not installed for grpc-encoding \"%.60s\"", enc);
    r->message = buf;
    return;
  }
  size_t max = k->cl->max_msg;
  int rc = wgg_grpc_gunzip(p, n, max, &k->plain);
  if (rc == -2) {
    r->code = WGG_GRPC_RESOURCE_EXHAUSTED;
    snprintf(buf, size, "grpc: received message after decompression larger than max %zu", max);
    r->message = buf;
  } else if (rc) {
    r->code = rc == -3 ? WGG_GRPC_RESOURCE_EXHAUSTED : WGG_GRPC_INTERNAL;
    r->message = rc == -3 ? "out of memory" : "grpc: failed to decompress the received message: gzip: invalid header";
  } else {
    r->msg = k->plain.data ? (const uint8_t *)k->plain.data : (const uint8_t *)"";
    r->len = k->plain.len;
  }
}

/* Answers k (once) with code/message, or with what its stream brought when code < 0. */
static void answer(gcall *k, int code, const char *message) {
  if (k->answered) return;
  k->answered = true;
  uv_timer_stop(&k->timer);
  wgg_grpc_result r = {.code = code, .message = message ? message : "", .md = k->md, .n_md = k->n_md, .n_head = k->n_head};
  char buf[160];
  if (code < 0) { /* the stream ended normally: judge what arrived */
    r.code = k->code;
    r.message = k->message ? k->message : "";
    if (k->code < 0) {
      if (k->http_status && k->http_status != 200) { /* grpc/doc/http-grpc-status-mapping.md */
        int s = k->http_status;
        r.code = s == 400 ? WGG_GRPC_INTERNAL : s == 401 ? 16 : s == 403 ? 7 : s == 404 ? WGG_GRPC_UNIMPLEMENTED
                 : (s == 429 || s == 502 || s == 503 || s == 504) ? WGG_GRPC_UNAVAILABLE : WGG_GRPC_UNKNOWN;
        snprintf(buf, sizeof buf, "unexpected HTTP status code received from server: %d", s);
      } else {
        r.code = WGG_GRPC_INTERNAL;
        snprintf(buf, sizeof buf, "server closed the stream without sending trailers");
      }
      r.message = buf;
    } else if (k->code == WGG_GRPC_OK) {
      if (k->in.len >= 5) {
        const uint8_t *p = (const uint8_t *)k->in.data;
        uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        if ((size_t)n + 5 != k->in.len) {
          r.code = WGG_GRPC_INTERNAL;
          r.message = "grpc: the answer is not exactly one message";
        } else if (p[0] == 0) {
          r.msg = p + 5;
          r.len = n;
        } else { /* compressed: grpc-go's recvAndDecompress, bounded by max_msg after decompression */
          uncompress(k, p + 5, n, &r, buf, sizeof buf);
        }
      } else {
        r.code = WGG_GRPC_INTERNAL;
        r.message = k->in.len ? "grpc: truncated message" : "grpc: the server answered OK without a message";
      }
    }
  }
  k->cb(k->user, &r);
}

/* The deadline: answered now; the stream, if open, is reset and k freed when it closes. */
static void on_deadline(uv_timer_t *t) {
  gcall *k = t->data;
  gconn *c = k->conn;
  answer(k, WGG_GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
  if (c && k->stream_id && c->h2 && !c->dead) {
    nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, k->stream_id, NGHTTP2_CANCEL);
    conn_flush(c);
  } else {
    release(k);
  }
}

static ssize_t read_out(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *user) {
  (void)s, (void)id, (void)user;
  gcall *k = src->ptr; /* alive while its stream is */
  size_t n = k->out_len - k->out_off;
  if (n > len) n = len;
  memcpy(buf, k->out + k->out_off, n);
  k->out_off += n;
  if (k->out_off == k->out_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

/* Submits k on its connection's session. On failure k is answered. */
static void submit(gcall *k) {
  gconn *c = k->conn;
  nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_out};
  int32_t id = nghttp2_submit_request(c->h2, NULL, k->nv, k->nnv, &dp, k);
  if (id < 0) {
    answer(k, WGG_GRPC_UNAVAILABLE, nghttp2_strerror(id));
    release(k);
    return;
  }
  k->stream_id = id;
}

/* ---- nghttp2 callbacks ---- */

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *user) {
  (void)flags, (void)user;
  gcall *k = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
  if (!k || k->answered) return 0;
  k->got_headers = true;
  if (nl == 7 && !memcmp(name, ":status", 7)) {
    k->http_status = atoi((const char *)value);
    return 0;
  }
  if (nl && name[0] == ':') return 0;
  if (nl == 11 && !memcmp(name, "grpc-status", 11)) {
    k->code = atoi((const char *)value);
    return 0;
  }
  if (nl == 13 && !memcmp(name, "grpc-encoding", 13)) { /* how the answer is compressed: ours to undo, not passed on */
    free(k->encoding);
    k->encoding = wgg_strndup((const char *)value, vl);
    return 0;
  }
  if (nl == 20 && !memcmp(name, "grpc-accept-encoding", 20)) return 0; /* the app's, about our requests */
  if (nl == 12 && !memcmp(name, "grpc-message", 12)) { /* percent-decoded */
    free(k->message);
    char *m = k->message = malloc(vl + 1);
    if (!m) return 0;
    size_t j = 0;
    for (size_t i = 0; i < vl; i++) {
      unsigned hi, lo;
      if (value[i] == '%' && i + 2 < vl && sscanf((const char *)value + i + 1, "%1x%1x", &hi, &lo) == 2) {
        m[j++] = (char)(hi << 4 | lo);
        i += 2;
      } else {
        m[j++] = (char)value[i];
      }
    }
    m[j] = '\0';
    return 0;
  }
  if ((k->md_bytes += nl + vl + 32) > MAX_MD_BYTES) { /* what we advertised (SETTINGS_MAX_HEADER_LIST_SIZE) */
    /* grpc-go's client: the stream reset with FRAME_SIZE_ERROR, the connection kept */
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_FRAME_SIZE_ERROR);
    answer(k, WGG_GRPC_INTERNAL, "peer header list size exceeded limit"); /* grpc-go's client */
    return 0;
  }
  if (k->n_md == k->cap_md) {
    size_t cap = k->cap_md ? k->cap_md * 2 : 8;
    wgg_http_header *g = realloc(k->md, cap * sizeof *g);
    if (!g) return 0;
    k->md = g;
    k->cap_md = cap;
  }
  char *n = wgg_strndup((const char *)name, nl), *v = wgg_strndup((const char *)value, vl);
  if (!n || !v) {
    free(n);
    free(v);
    return 0;
  }
  k->md[k->n_md++] = (wgg_http_header){n, v};
  /* the response's HEADERS (not a trailers-only answer) come before its trailers */
  if (f->headers.cat == NGHTTP2_HCAT_RESPONSE && !(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) k->n_head = k->n_md;
  return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user) {
  (void)flags, (void)user;
  gcall *k = nghttp2_session_get_stream_user_data(s, id);
  if (!k || k->answered) return 0;
  size_t max = k->cl->max_msg;
  if (k->in.len + len > max + 5) {
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    char m[128];
    snprintf(m, sizeof m, "grpc: received message larger than max (%zu vs. %zu)", k->in.len + len - 5, max);
    answer(k, WGG_GRPC_RESOURCE_EXHAUSTED, m);
    return 0;
  }
  if (wgg_buf_append(&k->in, data, len)) {
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    answer(k, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
  }
  return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *user) {
  gconn *c = user;
  gcall *k = nghttp2_session_get_stream_user_data(s, id);
  if (!k) return 0;
  if (error_code == NGHTTP2_REFUSED_STREAM && !k->got_headers && !k->retried && !k->answered && !k->cl->closing) {
    /* never processed by the app: once more on a new connection (grpc-go's transparent retry) */
    detach(k);
    k->retried = true;
    k->stream_id = 0;
    k->out_off = 0;
    if (c == c->cl->cur) c->cl->cur = NULL;
    c->goaway = true;
    if (!attach(k->cl, k)) return 0;
    answer(k, WGG_GRPC_UNAVAILABLE, "the app refused the stream");
    release(k);
    return 0;
  }
  if (error_code != NGHTTP2_NO_ERROR && k->code < 0) {
    char m[96];
    snprintf(m, sizeof m, "stream terminated by RST_STREAM with error code: %s", nghttp2_http2_strerror(error_code));
    answer(k, error_code == NGHTTP2_REFUSED_STREAM ? WGG_GRPC_UNAVAILABLE : WGG_GRPC_INTERNAL, m);
  } else {
    answer(k, -1, NULL);
  }
  release(k);
  return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user) {
  (void)s;
  gconn *c = user;
  if (f->hd.type == NGHTTP2_GOAWAY) {
    c->goaway = true; /* no new streams here; nghttp2 closes those above last_stream_id (REFUSED_STREAM) */
    if (c->cl->cur == c) c->cl->cur = NULL;
  }
  return 0;
}

/* ---- connections ---- */

typedef struct out_req {
  uv_write_t w;
  gconn *c;
  size_t len;
  char data[];
} out_req;

static void on_closed(uv_handle_t *h) {
  gconn *c = h->data;
  wgg_grpc_client *cl = c->cl;
  if (c->h2) nghttp2_session_del(c->h2);
  wgg_buf_free(&c->scratch);
  free(c);
  if (--cl->live == 0 && cl->closing) free(cl);
}

/* Fails every call of c with UNAVAILABLE and closes it (not from inside nghttp2). */
static void conn_kill(gconn *c, const char *why) {
  if (c->closing || c->killing) return;
  c->killing = true;
  c->dead = true;
  if (c->cl->cur == c) c->cl->cur = NULL;
  while (c->calls) {
    gcall *k = c->calls;
    char m[400];
    snprintf(m, sizeof m, "connection error: desc = \"%s\"", why);
    answer(k, WGG_GRPC_UNAVAILABLE, m);
    release(k);
  }
  c->closing = true;
  for (gconn **p = &c->cl->conns; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* Closes c once it has no calls and no new call may come (GOAWAY, client closed). */
static void conn_reap(gconn *c) {
  if (c->closing || c->killing || c->in_recv || c->n_calls) return;
  if (c->goaway || c->dead || c->cl->closing) conn_kill(c, "closed");
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h, (void)hint;
  static __thread char buf[65536];
  b->base = buf;
  b->len = sizeof buf;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void on_written(uv_write_t *w, int status) {
  out_req *o = (out_req *)w;
  gconn *c = o->c;
  c->out_queued -= o->len;
  free(o);
  if (c->closing) return;
  if (status < 0) {
    conn_kill(c, uv_strerror(status));
    return;
  }
  if (!c->reading && c->out_queued < OUT_HIGH_WATER / 2) {
    c->reading = true;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  }
  conn_flush(c);
}

static void conn_flush(gconn *c) {
  if (c->closing || c->in_recv || !c->connected) return;
  c->scratch.len = 0;
  for (;;) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->h2, &data);
    if (n == 0) break;
    if (n < 0 || wgg_buf_append(&c->scratch, data, (size_t)n)) {
      conn_kill(c, n < 0 ? nghttp2_strerror((int)n) : "out of memory");
      return;
    }
  }
  const char *p = c->scratch.data;
  size_t len = c->scratch.len;
  if (len && c->out_queued == 0) { /* nothing queued: write now (a queued uv_write costs an epoll_ctl) */
    uv_buf_t t = uv_buf_init((char *)p, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &t, 1);
    if (n > 0) p += n, len -= (size_t)n;
  }
  if (len) {
    out_req *o = malloc(sizeof *o + len);
    if (!o) {
      conn_kill(c, "out of memory");
      return;
    }
    o->c = c;
    o->len = len;
    memcpy(o->data, p, len);
    uv_buf_t b = uv_buf_init(o->data, (unsigned)o->len);
    int rc = uv_write(&o->w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc) {
      free(o);
      conn_kill(c, uv_strerror(rc));
      return;
    }
    c->out_queued += o->len;
    if (c->out_queued > OUT_HIGH_WATER && c->reading) { /* the app does not read: stop reading it */
      c->reading = false;
      uv_read_stop((uv_stream_t *)&c->tcp);
    }
  }
  if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2) && !c->out_queued)
    conn_kill(c, "the session ended");
  else conn_reap(c);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  gconn *c = st->data;
  if (n == 0 || c->closing) return;
  if (n < 0) {
    conn_kill(c, n == UV_EOF ? "error reading from server: EOF" : uv_strerror((int)n));
    return;
  }
  c->in_recv = true;
  ssize_t rv = nghttp2_session_mem_recv(c->h2, (const uint8_t *)b->base, (size_t)n);
  c->in_recv = false;
  if (rv < 0) {
    conn_kill(c, nghttp2_strerror((int)rv));
    return;
  }
  conn_flush(c);
}

static void conn_up(gconn *c);

static void on_connect(uv_connect_t *req, int status) {
  gconn *c = req->data;
  if (c->closing) return;
  if (status < 0) {
    char m[360];
    snprintf(m, sizeof m, "transport: Error while dialing: dial tcp %s: connect: %s", c->cl->dial, uv_strerror(status));
    conn_kill(c, m);
    return;
  }
  conn_up(c);
}

/* Starts the HTTP/2 session of c, whose socket is connected, and submits its waiting calls. */
static void conn_up(gconn *c) {
  uv_tcp_nodelay(&c->tcp, 1);
  nghttp2_session_callbacks *cb;
  if (nghttp2_session_callbacks_new(&cb)) {
    conn_kill(c, "out of memory");
    return;
  }
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  int rc = nghttp2_session_client_new(&c->h2, cb, c);
  nghttp2_session_callbacks_del(cb);
  if (rc) {
    c->h2 = NULL;
    conn_kill(c, "out of memory");
    return;
  }
  /* the header list size we take: an app's gRPC library then fails a call whose
   * metadata would exceed it (grpc-go: RST_STREAM INTERNAL) instead of sending
   * a field libnghttp2 cannot decode (> 64 KiB: a connection error, failing
   * every call on the connection) */
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
                                 {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_MD_BYTES}};
  nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof *iv);
  nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 16 << 20);
  c->connected = true;
  /* submit what waited for the connection (finish may unlink entries: walk a snapshot order) */
  for (gcall *k = c->calls; k;) {
    gcall *next = k->next;
    submit(k);
    k = next;
  }
  c->reading = true;
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  conn_flush(c);
}

static gconn *conn_alloc(wgg_grpc_client *cl) {
  gconn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->cl = cl;
  uv_tcp_init(cl->loop, &c->tcp);
  c->tcp.data = c;
  c->connect.data = c;
  c->next = cl->conns;
  cl->conns = c;
  cl->live++;
  return c;
}

static gconn *conn_new(wgg_grpc_client *cl) {
  gconn *c = conn_alloc(cl);
  if (!c) return NULL;
  int rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&cl->addr, on_connect);
  if (rc) {
    c->dead = true;
    c->closing = true;
    cl->conns = c->next;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    return NULL;
  }
  return c;
}

/* Puts k on the current connection (dialing one when needed); submits it when that is up. */
static int attach(wgg_grpc_client *cl, gcall *k) {
  gconn *c = cl->cur;
  if (!c || c->goaway || c->dead || c->closing) {
    if (!(c = conn_new(cl))) return -1;
    cl->cur = c;
  }
  k->conn = c;
  k->next = c->calls;
  if (c->calls) c->calls->prev = k;
  c->calls = k;
  c->n_calls++;
  if (c->connected) submit(k);
  return 0;
}

/* ---- public ---- */

wgg_grpc_client *wgg_grpc_client_new(uv_loop_t *loop, const char *host, int port, size_t max_msg) {
  if (port <= 0 || port > 65535) return NULL;
  char ip[256];
  size_t hl = strlen(host);
  if (!hl || hl >= sizeof ip) return NULL;
  memcpy(ip, host, hl + 1);
  if (hl > 2 && ip[0] == '[' && ip[hl - 1] == ']') {
    memmove(ip, ip + 1, hl - 2);
    ip[hl - 2] = '\0';
  }
  if (!strcmp(ip, "localhost")) strcpy(ip, "127.0.0.1");
  wgg_grpc_client *cl = calloc(1, sizeof *cl);
  if (!cl) return NULL;
  bool v6 = strchr(ip, ':') != NULL;
  if (v6 ? uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&cl->addr) : uv_ip4_addr(ip, port, (struct sockaddr_in *)&cl->addr)) {
    free(cl);
    return NULL;
  }
  snprintf(cl->authority, sizeof cl->authority, v6 ? "[%s]:%d" : "%s:%d", ip, port);
  snprintf(cl->dial, sizeof cl->dial, "%s", cl->authority);
  cl->loop = loop;
  cl->max_msg = max_msg ? max_msg : DEFAULT_MAX_MSG;
  return cl;
}

static bool skipped_md(const char *name) {
  static const char *const skip[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                                     "upgrade", "host", "content-length", "content-type", "grpc-timeout",
                                     "grpc-encoding", "grpc-accept-encoding", "user-agent", "expect", "http2-settings"};
  if (!*name || name[0] == ':') return true;
  for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
    if (!strcmp(name, skip[i])) return true;
  return false;
}

int wgg_grpc_client_call(wgg_grpc_client *cl, const char *path, const wgg_http_header *md, size_t n,
                         const uint8_t *msg, size_t len, uint64_t timeout_ms, wgg_grpc_client_cb cb, void *user) {
  if (!cl || cl->closing || len > UINT32_MAX) return -1;
  char tmo[32] = "";
  if (timeout_ms) snprintf(tmo, sizeof tmo, "%llum", (unsigned long long)(timeout_ms > 99999999 ? 99999999 : timeout_ms));
  const char *fixed[][2] = {{":method", "POST"}, {":scheme", "http"}, {":path", path}, {":authority", cl->authority},
                            {"content-type", "application/grpc"}, {"te", "trailers"}, {"user-agent", "wasmgate"},
                            {"grpc-accept-encoding", "gzip"}, {"grpc-timeout", tmo}};
  size_t nfixed = timeout_ms ? 9 : 8, total = 0, count = nfixed;
  for (size_t i = 0; i < nfixed; i++) total += strlen(fixed[i][0]) + strlen(fixed[i][1]) + 2;
  for (size_t i = 0; i < n; i++)
    if (!skipped_md(md[i].name)) total += strlen(md[i].name) + strlen(md[i].value) + 2, count++;
  gcall *k = calloc(1, sizeof *k);
  if (!k) return -1;
  k->nv = malloc(count * sizeof *k->nv + total);
  k->out = malloc(5 + len);
  if (!k->nv || !k->out) {
    free(k->nv);
    free(k->out);
    free(k);
    return -1;
  }
  char *p = (char *)(k->nv + count);
  size_t j = 0;
  for (size_t i = 0; i < nfixed + n; i++) {
    const char *name = i < nfixed ? fixed[i][0] : md[i - nfixed].name;
    const char *value = i < nfixed ? fixed[i][1] : md[i - nfixed].value;
    if (i >= nfixed && skipped_md(name)) continue;
    size_t nl = strlen(name), vl = strlen(value);
    memcpy(p, name, nl + 1);
    k->nv[j].name = (uint8_t *)p;
    k->nv[j].namelen = nl;
    p += nl + 1;
    memcpy(p, value, vl + 1);
    k->nv[j].value = (uint8_t *)p;
    k->nv[j].valuelen = vl;
    k->nv[j].flags = NGHTTP2_NV_FLAG_NONE;
    p += vl + 1;
    j++;
  }
  k->nnv = j;
  k->out[0] = 0;
  k->out[1] = (uint8_t)(len >> 24);
  k->out[2] = (uint8_t)(len >> 16);
  k->out[3] = (uint8_t)(len >> 8);
  k->out[4] = (uint8_t)len;
  if (len) memcpy(k->out + 5, msg, len);
  k->out_len = 5 + len;
  k->cl = cl;
  k->code = -1;
  k->cb = cb;
  k->user = user;
  k->timeout_ms = timeout_ms;
  uv_timer_init(cl->loop, &k->timer);
  k->timer.data = k;
  if (attach(cl, k)) {
    uv_close((uv_handle_t *)&k->timer, call_free_cb);
    return -1;
  }
  if (timeout_ms) uv_timer_start(&k->timer, on_deadline, timeout_ms, 0);
  if (k->conn) conn_flush(k->conn);
  return 0;
}

int wgg_grpc_client_adopt(wgg_grpc_client *cl, int fd) {
  if (!cl || cl->closing) return -1;
  gconn *c = conn_alloc(cl);
  if (!c) return -1;
  if (uv_tcp_open(&c->tcp, fd)) {
    c->dead = c->closing = true;
    cl->conns = c->next;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    return -1;
  }
  gconn *old = cl->cur;
  cl->cur = c;
  if (old) {
    old->goaway = true; /* no new calls there */
    conn_reap(old);
  }
  conn_up(c);
  return 0;
}

void wgg_grpc_client_close(wgg_grpc_client *cl) {
  if (!cl) return;
  cl->closing = true;
  cl->cur = NULL;
  for (gconn *c = cl->conns, *next; c; c = next) {
    next = c->next;
    conn_reap(c);
  }
  /* the client is borrowed by its connections: it goes with the last one */
  if (!cl->live) free(cl);
}
