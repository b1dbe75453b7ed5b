/*
 * server.c: see server.h. Per connection: one uv_tcp_t, one uv_timer_t, an
 * input buffer and an http_parser that is paused after each request so that
 * pipelined requests are handled strictly one after the other.
 */
#include "http/server.h"

#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/acceptor.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

enum timer_mode { T_NONE, T_IDLE, T_HEAD, T_BODY, T_WRITE, T_LINGER };

/* Lingering close after an error answer (413 to a client still sending its
 * body, 400, 408, 431): the write side is shut down and input is read and
 * discarded for at most this long / this much, so the client reads the answer
 * instead of a reset (nginx's lingering_close). */
#define LINGER_MS 5000
#define LINGER_MAX_BYTES (256u << 20)

/* Responses queued for a connection (written by libuv as the client reads)
 * above which the next pipelined request is not parsed: a client that
 * pipelines and never reads holds at most this much, not every answer. */
#define WRITE_HIGH_BYTES (1u << 20)
#define WRITE_HIGH_COUNT 64

/* A listening socket (util/acceptor.h: accepts with an EMFILE back-off). */
typedef struct listener {
  wgg_acceptor *acc;
  struct listener *next;
} listener;

struct wgg_http_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct wgg_http_server *srv;
  wgg_http_conn *prev, *next;
  http_parser parser;
  char *in;
  size_t in_len, in_off, in_cap;
  /* the request being parsed */
  wgg_http_req *cur;
  wgg_buf url, hfield, hvalue, body;
  bool in_value;
  size_t head_bytes;
  wgg_buf hdrs; /* name\0value\0 pairs */
  size_t n_hdrs;
  int n_host, n_te; /* Host and Transfer-Encoding fields seen */
  int fail_status;    /* 400 / 413 / 431 / 501 / 505 set by a callback before failing the parse */
  const char *fail_msg; /* its text (static), NULL for the reason phrase */
  wgg_http_req *ready; /* parsed, waiting for dispatch */
  wgg_http_req *inflight;
  uint64_t msg_start; /* uv_now when the current request began */
  uint64_t fed;       /* bytes of input the parser has consumed on this connection */
  uint64_t msg_base;  /* fed when the current request began (after the previous one) */
  bool in_head;       /* between the first byte of a request and the end of its head */
  bool head_pause;    /* the parser paused at the end of a head (drive checks its size) */
  bool expect_continue; /* answer "100 Continue" once the head is accepted */
  char peer[64];      /* the client's "ip:port" */
  int timer_mode;
  int open_handles; /* tcp + timer */
  int pending_writes;
  size_t queued_bytes; /* bytes of the pending writes */
  bool write_paused;   /* parsing stopped until the queue drains (see drive) */
  bool close_when_written;
  bool lingering, shut_down; /* lingering close (fail_conn) and its write-side shutdown sent */
  size_t linger_bytes;       /* input discarded while lingering */
  uv_shutdown_t shutdown_req;
  bool closing, want_close, eof, driving, reading;
  /* a streamed answer (wgg_http_stream_begin ... _end) */
  bool streaming, stream_chunked;
  int stream_status;
  int64_t stream_left; /* bytes still due under a Content-Length */
  void (*drain_fn)(void *);
  void *drain_user;
  /* a request body streamed after dispatch (cfg.stream_body; wgg_http_req_body_read) */
  bool head_has_body;   /* the head just parsed announces a body */
  bool stream_later;    /* a chunked body the handler wants streamed, once it passes stream_body_min */
  bool stream_now;      /* ... it did: drive dispatches it (the prefix becomes the first piece) */
  bool body_streaming;  /* the in-flight request's body is still being parsed */
  bool body_paused;     /* its reader asked for a pause */
  bool body_msg_done;   /* the parser reached its end (delivered by drive) */
  wgg_http_body_cbs bcb; /* its reader; on_end == NULL while none */
  void *buser;
  size_t body_seen;     /* body bytes parsed (against max_body) */
  wgg_buf pend;         /* body bytes parsed in this drive step, handed over after it */
};

struct wgg_http_server {
  uv_loop_t *loop;
  wgg_http_server_config cfg;
  listener *listeners;
  wgg_http_conn *conns;
  size_t n_conns;
  bool draining;
  void (*on_drained)(void *);
  void *drained_user;
};

typedef struct write_req {
  uv_write_t w;
  wgg_http_conn *c;
  char *data;
  size_t len;
  bool close_after;
} write_req;

static void conn_close(wgg_http_conn *c);
static void conn_finish(wgg_http_conn *c);
static void drive(wgg_http_conn *c);
static void body_fail(wgg_http_conn *c, int status, const char *msg);
static void start_reading(wgg_http_conn *c);
static void notify_gone(wgg_http_conn *c);

/* ---- request objects ---- */

static void req_free(wgg_http_req *r) {
  if (!r) return;
  free(r->url);
  free(r->path);
  free(r->headers);
  free(r->body);
  free(r);
}

static void reset_parse_state(wgg_http_conn *c) {
  wgg_buf_free(&c->url);
  wgg_buf_free(&c->hfield);
  wgg_buf_free(&c->hvalue);
  wgg_buf_free(&c->body);
  wgg_buf_free(&c->hdrs);
  c->n_hdrs = 0;
  c->n_host = c->n_te = 0;
  c->fail_msg = NULL;
  c->in_value = false;
  c->head_bytes = 0;
  c->stream_later = c->stream_now = false;
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

static void arm(wgg_http_conn *c, int mode, uint64_t ms) {
  c->timer_mode = mode;
  if (c->closing) return;
  if (mode == T_NONE || ms == 0) {
    uv_timer_stop(&c->timer);
    return;
  }
  uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- writing ---- */

static void on_shut_down(uv_shutdown_t *req, int status) {
  wgg_http_conn *c = req->handle->data;
  if (status < 0 && status != UV_ECANCELED && !c->closing) conn_close(c);
}

static bool write_backlogged(const wgg_http_conn *c) {
  return c->queued_bytes >= WRITE_HIGH_BYTES || c->pending_writes >= WRITE_HIGH_COUNT;
}

static void on_written(uv_write_t *w, int status) {
  write_req *wr = (write_req *)w;
  wgg_http_conn *c = wr->c;
  free(wr->data);
  c->pending_writes--;
  c->queued_bytes -= wr->len;
  bool close_after = wr->close_after;
  free(wr);
  if (c->closing) return;
  if (status < 0 || close_after || (c->close_when_written && !c->pending_writes)) {
    conn_close(c);
    return;
  }
  if (c->lingering) {
    if (!c->pending_writes && !c->shut_down) {
      c->shut_down = true;
      if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shut_down)) conn_close(c);
    }
    return;
  }
  if (c->streaming && c->drain_fn) { /* a streamed answer waits for the client to read */
    if (c->queued_bytes < WRITE_HIGH_BYTES / 2 && c->pending_writes < WRITE_HIGH_COUNT / 2) {
      void (*fn)(void *) = c->drain_fn;
      c->drain_fn = NULL;
      arm(c, T_NONE, 0);
      fn(c->drain_user);
    } else {
      arm(c, T_WRITE, c->srv->cfg.write_timeout_ms);
    }
    return;
  }
  if (!c->write_paused) return;
  /* the client reads again: resume parsing below half the bound, else give it
   * another write timeout from this progress */
  if (c->queued_bytes < WRITE_HIGH_BYTES / 2 && c->pending_writes < WRITE_HIGH_COUNT / 2) {
    c->write_paused = false;
    arm(c, T_NONE, 0);
    drive(c);
  } else {
    arm(c, T_WRITE, c->srv->cfg.write_timeout_ms);
  }
}

static int send_raw(wgg_http_conn *c, char *data, size_t len, bool close_after) {
  /* Fast path: nothing queued, so write now. A completed uv_write costs an
   * epoll_ctl in libuv (the watcher is re-armed); uv_try_write does not. */
  if (!close_after && !c->pending_writes && len) {
    uv_buf_t t = uv_buf_init(data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &t, 1);
    if (n == (int)len) {
      free(data);
      return 0;
    }
    if (n > 0) { /* the rest goes through uv_write, in order */
      memmove(data, data + n, len - (size_t)n);
      len -= (size_t)n;
    }
  }
  write_req *wr = calloc(1, sizeof *wr);
  if (!wr) {
    free(data);
    conn_close(c);
    return -1;
  }
  wr->c = c;
  wr->data = data;
  wr->len = len;
  wr->close_after = close_after;
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
    free(data);
    free(wr);
    conn_close(c);
    return -1;
  }
  c->pending_writes++;
  c->queued_bytes += len;
  return 0;
}

/* Closes c once every queued response has been written. */
static void conn_finish(wgg_http_conn *c) {
  if (c->pending_writes) c->close_when_written = true;
  else conn_close(c);
}

/* Answers a request that failed to parse (400/408/413/431) and closes. */
static void fail_conn(wgg_http_conn *c, int status, const char *msg) {
  if (c->closing) return;
  wgg_buf b = {0};
  size_t ml = strlen(msg);
  if (wgg_buf_printf(&b,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, wgg_http_reason(status), ml, msg)) {
    conn_close(c);
    return;
  }
  c->want_close = true;
  if (c->eof) { /* the client sent everything: nothing to linger for */
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    arm(c, T_NONE, 0);
    send_raw(c, b.data, b.len, true);
    return;
  }
  /* close lingeringly: the answer, then shutdown(SHUT_WR) once it is written
   * (on_written), reading and discarding until EOF or the linger bound */
  c->lingering = true;
  c->in_off = c->in_len = 0;
  arm(c, T_LINGER, LINGER_MS);
  if (send_raw(c, b.data, b.len, false)) return;
  start_reading(c);
  if (!c->pending_writes && !c->closing && !c->shut_down) {
    c->shut_down = true;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shut_down)) conn_close(c);
  }
}
/* ---- parser callbacks ---- */

static int count_head(wgg_http_conn *c, size_t n) {
  c->head_bytes += n;
  if (c->head_bytes > c->srv->cfg.max_head) {
    c->fail_status = 431;
    return -1;
  }
  return 0;
}

/* Fails the parse with status and msg (a static string). Returns -1. */
static int reject(wgg_http_conn *c, int status, const char *msg) {
  c->fail_status = status;
  c->fail_msg = msg;
  return -1;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Ends one header field: checks the name is a token (RFC 9112 §5.1: no
 * whitespace before the colon, which http-parser lets through as part of the
 * name), turns obs-fold line breaks in the value into spaces (§5.2), counts
 * Host and Transfer-Encoding, and appends name\0value\0 to the block. */
static int push_header(wgg_http_conn *c) {
  if (!c->hfield.len) return 0;
  for (size_t i = 0; i < c->hfield.len; i++)
    if (!is_tchar((unsigned char)c->hfield.data[i]))
      return reject(c, 400, "malformed MIME header: invalid character in a header field name");
  for (size_t i = 0; i < c->hvalue.len; i++) {
    if (c->hvalue.data[i] == '\r' || c->hvalue.data[i] == '\n') c->hvalue.data[i] = ' ';
    else if (!c->hvalue.data[i]) return reject(c, 400, "malformed MIME header: NUL in a header field value");
  }
  if (c->hfield.len == 4 && !strncasecmp(c->hfield.data, "host", 4)) c->n_host++;
  if (c->hfield.len == 17 && !strncasecmp(c->hfield.data, "transfer-encoding", 17)) {
    c->n_te++;
    /* chunked is the only coding we decode (Go answers 501 to the others) */
    const char *v = c->hvalue.data ? c->hvalue.data : "";
    size_t a = 0, b = c->hvalue.len;
    while (a < b && (v[a] == ' ' || v[a] == '\t')) a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) b--;
    if (b - a != 7 || strncasecmp(v + a, "chunked", 7)) return reject(c, 501, "Unsupported transfer encoding");
  }
  if (wgg_buf_append(&c->hdrs, c->hfield.data, c->hfield.len + 1) ||
      wgg_buf_append(&c->hdrs, c->hvalue.data ? c->hvalue.data : "", c->hvalue.len + 1))
    return -1;
  c->n_hdrs++;
  c->hfield.len = c->hvalue.len = 0;
  if (c->hfield.data) c->hfield.data[0] = '\0';
  if (c->hvalue.data) c->hvalue.data[0] = '\0';
  return 0;
}

static int on_message_begin(http_parser *p) {
  wgg_http_conn *c = p->data;
  reset_parse_state(c);
  c->msg_start = uv_now(c->srv->loop);
  c->in_head = true;
  arm(c, T_HEAD, c->srv->cfg.header_timeout_ms);
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (count_head(c, n)) return -1;
  return wgg_buf_append(&c->url, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (count_head(c, n + 4)) return -1;
  if (c->in_value) {
    if (push_header(c)) return -1;
    c->in_value = false;
  }
  return wgg_buf_append(&c->hfield, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (count_head(c, n)) return -1;
  c->in_value = true;
  return wgg_buf_append(&c->hvalue, at, n);
}

static int on_headers_complete(http_parser *p) {
  wgg_http_conn *c = p->data;
  if (push_header(c)) return -1;
  /* request framing, RFC 9112 §2.3 (version), §3.2 (Host), §6.1 (Transfer-Encoding) */
  if (p->http_major != 1 || p->http_minor > 1) return reject(c, 505, "HTTP Version Not Supported");
  if (p->http_minor == 1 && c->n_host == 0) return reject(c, 400, "missing required Host header");
  if (c->n_host > 1) return reject(c, 400, "too many Host headers");
  if (c->n_te > 1) return reject(c, 400, "too many transfer encodings");
  if (c->n_te && p->http_minor == 0) return reject(c, 400, "Transfer-Encoding in an HTTP/1.0 request");
  if (c->n_te && (p->flags & F_CONTENTLENGTH))
    return reject(c, 400, "both Transfer-Encoding and Content-Length");
  if (p->content_length != ULLONG_MAX && p->content_length > c->srv->cfg.max_body) {
    c->fail_status = 413;
    return -1;
  }
  /* curl and others wait for "100 Continue" before sending a body of more than 1 KB */
  if (p->http_major == 1 && p->http_minor >= 1 && !(p->flags & F_SKIPBODY) &&
      (p->content_length != ULLONG_MAX ? p->content_length > 0 : (p->flags & F_CHUNKED) != 0)) {
    const char *blk = c->hdrs.data;
    for (size_t i = 0, off = 0; blk && i < c->n_hdrs; i++) {
      const char *name = blk + off;
      off += strlen(name) + 1;
      const char *value = blk + off;
      off += strlen(value) + 1;
      if (!strcasecmp(name, "Expect") && !strcasecmp(value, "100-continue")) c->expect_continue = true;
    }
  }
  c->head_has_body = !(p->flags & F_SKIPBODY) &&
                     ((p->flags & F_CHUNKED) || (p->content_length != ULLONG_MAX && p->content_length > 0));
  /* pause here so that drive knows where the head ends and checks its exact
   * size (the callbacks see only parts of it) */
  c->in_head = false;
  c->head_pause = true;
  http_parser_pause(p, 1);
  uint64_t elapsed = uv_now(c->srv->loop) - c->msg_start;
  uint64_t rt = c->srv->cfg.read_timeout_ms;
  arm(c, T_BODY, rt ? (rt > elapsed ? rt - elapsed : 1) : 0);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (c->body_streaming) { /* kept for this drive step, handed to the reader after it (outside the parser) */
    if (n > c->srv->cfg.max_body - c->body_seen) {
      c->fail_status = 413;
      return -1;
    }
    c->body_seen += n;
    return wgg_buf_append(&c->pend, at, n);
  }
  if (c->body.len + n > c->srv->cfg.max_body) {
    c->fail_status = 413;
    return -1;
  }
  if (wgg_buf_append(&c->body, at, n)) return -1;
  if (c->stream_later && c->body.len > c->srv->cfg.stream_body_min) { /* long enough: stream from here */
    c->stream_later = false;
    c->stream_now = true;
    http_parser_pause(p, 1);
  }
  return 0;
}

/* Builds the request of the head just parsed (url, headers) with the body
 * buffered so far (moved). Returns NULL on OOM. */
static wgg_http_req *build_req(wgg_http_conn *c, http_parser *p) {
  wgg_http_req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->method = (int)p->method;
  r->method_name = http_method_str((enum http_method)p->method);
  r->keep_alive = http_should_keep_alive(p) != 0;
  r->loop = c->srv->loop;
  r->conn = c;
  r->http_major = p->http_major;
  r->http_minor = p->http_minor;
  memcpy(r->remote_addr, c->peer, sizeof r->remote_addr);
  r->url = c->url.data ? c->url.data : strdup("/");
  c->url.data = NULL;
  c->url.len = c->url.cap = 0;
  r->body = c->body.data ? c->body.data : strdup("");
  r->body_len = c->body.len;
  c->body.data = NULL;
  c->body.len = c->body.cap = 0;
  r->headers = calloc(c->n_hdrs ? c->n_hdrs : 1, sizeof *r->headers);
  char *q = r->url ? strchr(r->url, '?') : NULL;
  r->path = r->url ? wgg_strndup(r->url, q ? (size_t)(q - r->url) : strlen(r->url)) : NULL;
  if (!r->url || !r->body || !r->headers || !r->path) {
    req_free(r);
    return NULL;
  }
  r->query = q ? q + 1 : r->url + strlen(r->url);
  /* headers point into one block that the request owns: move it after the array */
  size_t arr = (c->n_hdrs ? c->n_hdrs : 1) * sizeof *r->headers;
  wgg_http_header *h = realloc(r->headers, arr + c->hdrs.len + 1);
  if (!h) {
    req_free(r);
    return NULL;
  }
  r->headers = h;
  char *blk = (char *)h + arr;
  if (c->hdrs.len) memcpy(blk, c->hdrs.data, c->hdrs.len);
  /* Transfer-Encoding is ours: the body is decoded now, so nothing after us
   * (pipeline guests, the app) may see it (RFC 9112 §6.1; Go keeps it out of
   * Request.Header too) */
  size_t kept = 0;
  for (size_t i = 0, off = 0; i < c->n_hdrs; i++) {
    const char *name = blk + off;
    off += strlen(blk + off) + 1;
    const char *value = blk + off;
    off += strlen(blk + off) + 1;
    if (!strcasecmp(name, "transfer-encoding")) continue;
    h[kept].name = name;
    h[kept++].value = value;
  }
  r->n_headers = kept;
  return r;
}

static int on_message_complete(http_parser *p) {
  wgg_http_conn *c = p->data;
  if (c->body_streaming) { /* the end of a streamed body: drive tells its reader */
    reset_parse_state(c);
    c->body_msg_done = true;
    http_parser_pause(p, 1);
    return 0;
  }
  wgg_http_req *r = build_req(c, p);
  if (!r) return -1;
  reset_parse_state(c);
  c->ready = r;
  arm(c, T_NONE, 0);
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the connection state machine ---- */

static void dispatch(wgg_http_conn *c) {
  wgg_http_req *r = c->ready;
  c->ready = NULL;
  c->inflight = r;
  r->start_ns = uv_hrtime();
  if (!r->keep_alive || c->srv->draining) c->want_close = true;
  c->srv->cfg.handler(r, c->srv->cfg.user);
}

/* Answers a request that cannot be parsed and closes (lingeringly). */
static void parse_failed(wgg_http_conn *c, int status, const char *msg) {
  c->in_off = c->in_len;
  fail_conn(c, status, msg);
}

/* Whether the in-flight request's body may be parsed now. */
static bool body_parse_ok(const wgg_http_conn *c) {
  return c->body_streaming && c->bcb.on_end && !c->body_paused;
}

/* Detaches the body reader and returns whether there was one. */
static bool body_detach(wgg_http_conn *c, wgg_http_body_cbs *cbs, void **user) {
  bool had = c->bcb.on_end != NULL;
  *cbs = c->bcb;
  *user = c->buser;
  memset(&c->bcb, 0, sizeof c->bcb);
  c->buser = NULL;
  return had;
}

/* The streamed body failed (status as wgg_http_body_cbs.on_end): nothing
 * more is parsed on this connection; its reader, if any, is told. */
static void body_fail(wgg_http_conn *c, int status, const char *msg) {
  if (!c->body_streaming) return;
  c->body_streaming = false;
  c->body_paused = false;
  c->pend.len = 0;
  c->want_close = true;
  c->in_off = c->in_len;
  wgg_http_body_cbs cbs;
  void *user;
  if (body_detach(c, &cbs, &user)) cbs.on_end(user, status, msg);
}

/* Hands the body bytes parsed in the last step to the reader, then its end
 * when the parser reached it. */
static void body_flush(wgg_http_conn *c) {
  if (c->pend.len && c->bcb.on_data) {
    size_t n = c->pend.len;
    c->pend.len = 0;
    if (c->bcb.on_data(c->buser, c->pend.data, n) == 1 && c->body_streaming) c->body_paused = true;
  }
  if (c->body_msg_done && c->body_streaming && c->bcb.on_end) {
    c->body_msg_done = false;
    c->body_streaming = false;
    c->body_paused = false;
    c->msg_base = c->fed;
    wgg_http_body_cbs cbs;
    void *user;
    body_detach(c, &cbs, &user);
    cbs.on_end(user, 0, NULL);
    if (c->eof) notify_gone(c); /* the client half-closed after its body (deferred until the body was read) */
  }
}

/* At the end of a head with a body: dispatches the request now when the
 * server's stream_body says so. Returns whether it did. */
static bool dispatch_early(wgg_http_conn *c) {
  bool later = c->stream_now;
  c->stream_now = false;
  if (!later && (!c->head_has_body || !c->srv->cfg.stream_body)) return false;
  c->head_has_body = false;
  http_parser *p = &c->parser;
  int64_t length = (p->flags & F_CHUNKED) ? -1 : (int64_t)p->content_length;
  if (!later && length >= 0 && (uint64_t)length <= c->srv->cfg.stream_body_min) return false;
  wgg_buf prefix = c->body; /* a chunked body read so far (stream_later): the reader's first piece */
  memset(&c->body, 0, sizeof c->body);
  wgg_http_req *r = build_req(c, p);
  if (!r) { /* parsing goes on; on_message_complete fails the same way */
    c->body = prefix;
    return false;
  }
  r->body_streams = true;
  r->body_length = length;
  if (!later && !c->srv->cfg.stream_body(r, c->srv->cfg.user)) {
    /* give the URL back: the buffered path builds the request again at the end of the body */
    if (!c->url.data && r->url) {
      c->url.data = r->url;
      c->url.len = strlen(r->url);
      c->url.cap = c->url.len + 1;
      r->url = NULL;
    }
    req_free(r);
    return false;
  }
  if (length < 0 && !later && c->srv->cfg.stream_body_min) { /* chunked: read the first stream_body_min bytes first */
    if (!c->url.data && r->url) {
      c->url.data = r->url;
      c->url.len = strlen(r->url);
      c->url.cap = c->url.len + 1;
      r->url = NULL;
    }
    req_free(r);
    c->stream_later = true;
    return false;
  }
  reset_parse_state(c);
  c->body_streaming = true;
  c->body_paused = false;
  c->body_msg_done = false;
  wgg_buf_free(&c->pend);
  c->pend = prefix;
  c->body_seen = prefix.len;
  c->ready = r;
  arm(c, T_NONE, 0);
  dispatch(c);
  return true;
}

/* Parses buffered input and dispatches requests while none is in flight
 * (and, while one is, the rest of its streamed body when it has a reader). */
static void drive(wgg_http_conn *c) {
  if (c->driving) return;
  c->driving = true;
  while (!c->closing && c->in_off < c->in_len &&
         (c->inflight ? body_parse_ok(c) : !c->want_close && !write_backlogged(c))) {
    size_t n = http_parser_execute(&c->parser, &settings, c->in + c->in_off, c->in_len - c->in_off);
    c->in_off += n;
    c->fed += n;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED) {
      http_parser_pause(&c->parser, 0);
      if (c->head_pause) { /* paused on the head's final LF, which is not consumed yet */
        c->head_pause = false;
        if (c->fed + 1 - c->msg_base > c->srv->cfg.max_head) {
          parse_failed(c, 431, "Request Header Fields Too Large");
          break;
        }
        if (c->expect_continue) {
          static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
          char *msg = strdup(cont);
          c->expect_continue = false;
          if (!msg || send_raw(c, msg, sizeof cont - 1, false)) break;
        }
        dispatch_early(c);
        continue;
      }
      if (c->inflight && (c->pend.len || c->body_msg_done)) {
        body_flush(c);
        continue;
      }
      if (c->stream_now) {
        dispatch_early(c);
        continue;
      }
      if (c->ready) {
        c->msg_base = c->fed;
        dispatch(c);
      }
      continue;
    }
    if (e == HPE_OK && c->inflight && c->pend.len) {
      body_flush(c);
      continue;
    }
    if (e == HPE_OK && c->in_head && c->fed - c->msg_base > c->srv->cfg.max_head) {
      parse_failed(c, 431, "Request Header Fields Too Large");
      break;
    }
    if (e != HPE_OK) {
      int st = c->fail_status ? c->fail_status : e == HPE_HEADER_OVERFLOW ? 431 : 400;
      const char *msg = c->fail_msg                ? c->fail_msg
                        : st == 431               ? "Request Header Fields Too Large"
                        : st == 413               ? "Request Entity Too Large"
                        : e == HPE_INVALID_VERSION ? "HTTP Version Not Supported"
                                                  : http_errno_description(e);
      if (!c->fail_status && e == HPE_INVALID_VERSION) st = 505;
      if (c->body_streaming && c->inflight) { /* the in-flight request's body: its handler answers */
        body_flush(c);
        body_fail(c, st == 413 ? 413 : 400, st == 413 ? "Request Entity Too Large" : msg);
        break;
      }
      parse_failed(c, st, msg);
      break;
    }
  }
  if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
  c->driving = false;
  if (c->closing) return;
  if (c->inflight) {
    if (body_parse_ok(c)) {
      if (!c->eof) {
        start_reading(c);
      } else {
        body_fail(c, 499, "the client closed the connection before sending the whole body");
        notify_gone(c);
      }
    }
    return;
  }
  if (c->want_close) return;
  if (write_backlogged(c)) {
    /* answers pile up unread: stop reading and parsing until they drain;
     * a queue that makes no progress for the write timeout closes */
    c->write_paused = true;
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    arm(c, T_WRITE, c->srv->cfg.write_timeout_ms);
    return;
  }
  if (c->eof) {
    conn_finish(c);
    return;
  }
  if (c->timer_mode == T_NONE) arm(c, T_IDLE, c->srv->cfg.idle_timeout_ms);
  start_reading(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  wgg_http_conn *c = h->data;
  (void)suggested;
  if (c->in_cap - c->in_len < 16384) {
    size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
    while (cap - c->in_len < 16384) cap *= 2;
    char *p = realloc(c->in, cap);
    if (!p) {
      *buf = uv_buf_init(NULL, 0);
      return;
    }
    c->in = p;
    c->in_cap = cap;
  }
  *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  wgg_http_conn *c = s->data;
  (void)buf;
  if (c->lingering) { /* discard until EOF or the bound */
    c->in_len = 0;
    if (n < 0 || n == UV_ENOBUFS || (c->linger_bytes += (size_t)n) > LINGER_MAX_BYTES) conn_close(c);
    return;
  }
  if (n == UV_ENOBUFS) {
    conn_close(c);
    return;
  }
  if (n < 0) {
    c->eof = true;
    uv_read_stop(s);
    c->reading = false;
    /* a request cut off in the middle is dropped; a complete one still runs */
    if (!c->inflight) {
      conn_finish(c);
      return;
    }
    if (c->body_streaming) { /* a half-close after the body: what is buffered is parsed first (drive decides) */
      if (body_parse_ok(c)) drive(c);
      return;
    }
    notify_gone(c);
    return;
  }
  c->in_len += (size_t)n;
  if (c->inflight && body_parse_ok(c)) { /* the rest of a streamed body */
    drive(c);
    return;
  }
  if (c->inflight) { /* pipelined bytes wait; stop reading so a client cannot flood the buffer */
    uv_read_stop(s);
    c->reading = false;
    return;
  }
  drive(c);
}

static void start_reading(wgg_http_conn *c) {
  if (c->reading || c->closing || c->eof) return;
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
}

static void conn_maybe_free(wgg_http_conn *c) {
  if (c->open_handles || c->inflight) return;
  struct wgg_http_server *s = c->srv;
  req_free(c->ready);
  reset_parse_state(c);
  wgg_buf_free(&c->pend);
  free(c->in);
  free(c);
  if (s->draining && !s->n_conns && !s->listeners && s->on_drained) {
    void (*cb)(void *) = s->on_drained;
    s->on_drained = NULL;
    cb(s->drained_user);
  }
}

static void on_conn_handle_closed(uv_handle_t *h) {
  wgg_http_conn *c = h->data;
  c->open_handles--;
  conn_maybe_free(c);
}

/* Tells the in-flight request's handler that its client went away (once). */
static void notify_gone(wgg_http_conn *c) {
  wgg_http_req *r = c->inflight;
  if (!r || !r->on_gone) return;
  void (*fn)(wgg_http_req *, void *) = r->on_gone;
  r->on_gone = NULL;
  fn(r, r->gone_user);
}

static void conn_close(wgg_http_conn *c) {
  if (c->closing) return;
  c->closing = true;
  body_fail(c, 499, "the connection was closed before the whole body was read");
  notify_gone(c);
  struct wgg_http_server *s = c->srv;
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->n_conns--;
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_timer(uv_timer_t *t) {
  wgg_http_conn *c = t->data;
  if (c->closing) return;
  if (c->inflight && c->streaming && c->timer_mode == T_WRITE) { /* a streamed answer nobody reads */
    wgg_debug("http: closing a connection whose client stopped reading a streamed response");
    conn_close(c);
    return;
  }
  if (c->inflight) return;
  if (c->timer_mode == T_IDLE) {
    conn_close(c);
    return;
  }
  if (c->timer_mode == T_LINGER) {
    conn_close(c);
    return;
  }
  if (c->timer_mode == T_WRITE) {
    wgg_debug("http: closing a connection whose client stopped reading its responses");
    conn_close(c);
    return;
  }
  wgg_debug("http: closing a connection that was too slow to send its request");
  fail_conn(c, 408, "Request Timeout");
}

/* Takes one accepted descriptor into a new connection (closes it on OOM). */
static void conn_open(struct wgg_http_server *s, int fd) {
  wgg_http_conn *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->srv = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->open_handles = 2;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  if (uv_tcp_open(&c->tcp, fd) < 0) {
    close(fd);
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
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
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  arm(c, T_IDLE, s->cfg.idle_timeout_ms);
  start_reading(c);
}

/* The acceptor's callback: a new connection, unless draining. */
static void on_accepted(int fd, void *user) {
  struct wgg_http_server *s = user;
  if (s->draining) {
    close(fd);
    return;
  }
  conn_open(s, fd);
}

/* ---- responses ---- */

/* The in-flight request was answered: a streamed body not read to its end
 * is abandoned (its reader detached) and the connection must close after the
 * answer. Returns whether that is so. */
static bool body_abandon(wgg_http_conn *c) {
  if (!c->body_streaming) return false;
  c->body_streaming = false;
  c->body_paused = c->body_msg_done = false;
  c->pend.len = 0;
  memset(&c->bcb, 0, sizeof c->bcb);
  c->buser = NULL;
  c->want_close = true;
  return true;
}

/* Sends data (owned) and closes lingeringly: the client may still be sending
 * the body we did not read. */
static void linger_after(wgg_http_conn *c, char *data, size_t len) {
  if (c->eof) { /* the client has stopped sending: nothing to linger for */
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    arm(c, T_NONE, 0);
    if (data) send_raw(c, data, len, true);
    else conn_finish(c);
    return;
  }
  c->lingering = true;
  c->in_off = c->in_len = 0;
  arm(c, T_LINGER, LINGER_MS);
  if (data && send_raw(c, data, len, false)) return;
  start_reading(c);
  if (!c->pending_writes && !c->closing && !c->shut_down) {
    c->shut_down = true;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shut_down)) conn_close(c);
  }
}

int wgg_http_req_body_read(wgg_http_req *req, const wgg_http_body_cbs *cbs, void *user) {
  wgg_http_conn *c = req->conn;
  if (!req->body_streams || c->inflight != req || c->bcb.on_end || !cbs->on_end) return -1;
  req->body_streams = false; /* read once */
  c->bcb = *cbs;
  c->buser = user;
  if (c->closing || !c->body_streaming) { /* gone before the reader came */
    wgg_http_body_cbs k;
    void *u;
    body_detach(c, &k, &u);
    k.on_end(u, 499, "the client closed the connection before sending the whole body");
    return 0;
  }
  if (c->pend.len || c->body_msg_done) body_flush(c);
  if (c->inflight == req && c->body_streaming && !c->driving) drive(c);
  return 0;
}

void wgg_http_req_body_pause(wgg_http_req *req) {
  wgg_http_conn *c = req->conn;
  if (c->inflight == req && c->body_streaming && c->bcb.on_end) c->body_paused = true;
}

void wgg_http_req_body_resume(wgg_http_req *req) {
  wgg_http_conn *c = req->conn;
  if (c->inflight != req || !c->body_paused) return;
  c->body_paused = false;
  if (!c->driving) drive(c);
}

typedef struct body_buffering {
  wgg_http_req *req;
  wgg_buf b;
  void (*done)(wgg_http_req *, int, const char *, void *);
  void *user;
} body_buffering;

static int buffer_data(void *user, const char *data, size_t len) {
  body_buffering *bb = user;
  if (wgg_buf_append(&bb->b, data, len)) { /* out of memory: the body cannot be whole */
    wgg_http_conn *c = bb->req->conn;
    c->body_msg_done = false;
    body_fail(c, 413, "out of memory while reading the request body");
    return 0;
  }
  return 0;
}

static void buffer_end(void *user, int status, const char *errmsg) {
  body_buffering *bb = user;
  wgg_http_req *req = bb->req;
  if (!status) {
    if (!bb->b.data && wgg_buf_append(&bb->b, "", 0)) status = 413, errmsg = "out of memory";
  }
  if (!status) {
    free(req->body);
    req->body = bb->b.data;
    req->body_len = bb->b.len;
  } else {
    wgg_buf_free(&bb->b);
  }
  void (*done)(wgg_http_req *, int, const char *, void *) = bb->done;
  void *u = bb->user;
  free(bb);
  done(req, status, errmsg, u);
}

int wgg_http_req_body_buffer(wgg_http_req *req, void (*done)(wgg_http_req *, int, const char *, void *), void *user) {
  if (!req->body_streams) {
    done(req, 0, NULL, user);
    return 0;
  }
  body_buffering *bb = calloc(1, sizeof *bb);
  if (!bb) return -1;
  bb->req = req;
  bb->done = done;
  bb->user = user;
  static const wgg_http_body_cbs cbs = {buffer_data, buffer_end};
  if (wgg_http_req_body_read(req, &cbs, bb)) {
    free(bb);
    return -1;
  }
  return 0;
}

void wgg_http_respond(wgg_http_req *req, int status, const char *content_type, const wgg_http_header *headers,
                      size_t n, const char *body, size_t len) {
  if (req->respond_hook) {
    wgg_http_respond_hook hook = req->respond_hook;
    req->respond_hook = NULL;
    hook(req, status, content_type, headers, n, body, len);
    return;
  }
  wgg_http_conn *c = req->conn;
  bool head = req->method == HTTP_HEAD;
  if (c->srv->cfg.observe) c->srv->cfg.observe(req->tag, req->method, status, uv_hrtime() - req->start_ns, c->srv->cfg.user);
  req_free(req);
  c->inflight = NULL;
  if (c->closing) {
    conn_maybe_free(c);
    return;
  }
  bool unread = body_abandon(c);
  bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
  if (c->srv->draining || c->eof) c->want_close = true;
  wgg_buf b = {0};
  int rc = wgg_buf_printf(&b, "HTTP/1.1 %d %s\r\n", status, wgg_http_reason(status));
  if (!no_body) rc |= wgg_buf_printf(&b, "Content-Length: %zu\r\n", len);
  if (content_type && !no_body) rc |= wgg_buf_printf(&b, "Content-Type: %s\r\n", content_type);
  for (size_t i = 0; i < n; i++) rc |= wgg_buf_printf(&b, "%s: %s\r\n", headers[i].name, headers[i].value);
  if (c->want_close) rc |= wgg_buf_printf(&b, "Connection: close\r\n");
  rc |= wgg_buf_append(&b, "\r\n", 2);
  if (!no_body && !head && len) rc |= wgg_buf_append(&b, body, len);
  if (rc) {
    wgg_buf_free(&b);
    conn_close(c);
    return;
  }
  if (unread) {
    linger_after(c, b.data, b.len);
    return;
  }
  if (send_raw(c, b.data, b.len, c->want_close)) return;
  if (c->want_close) {
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    return;
  }
  arm(c, T_NONE, 0);
  drive(c);
}

int wgg_http_stream_begin(wgg_http_req *req, int status, const wgg_http_header *headers, size_t n, int64_t length) {
  wgg_http_conn *c = req->conn;
  if (req->respond_hook || c->streaming || c->closing || req->method == HTTP_HEAD || status < 200 || status == 204 ||
      status == 304)
    return -1;
  if (c->srv->draining || c->eof) c->want_close = true;
  wgg_buf b = {0};
  int rc = wgg_buf_printf(&b, "HTTP/1.1 %d %s\r\n", status, wgg_http_reason(status));
  if (length >= 0) rc |= wgg_buf_printf(&b, "Content-Length: %lld\r\n", (long long)length);
  else rc |= wgg_buf_printf(&b, "Transfer-Encoding: chunked\r\n");
  for (size_t i = 0; i < n; i++) rc |= wgg_buf_printf(&b, "%s: %s\r\n", headers[i].name, headers[i].value);
  if (c->want_close) rc |= wgg_buf_printf(&b, "Connection: close\r\n");
  rc |= wgg_buf_append(&b, "\r\n", 2);
  if (rc) {
    wgg_buf_free(&b);
    return -1;
  }
  c->streaming = true;
  c->stream_chunked = length < 0;
  c->stream_left = length;
  c->stream_status = status;
  c->drain_fn = NULL;
  arm(c, T_NONE, 0);
  return send_raw(c, b.data, b.len, false);
}

int wgg_http_stream_write(wgg_http_req *req, const char *data, size_t len) {
  wgg_http_conn *c = req->conn;
  if (!c->streaming || c->closing) return -1;
  if (!len) return write_backlogged(c) ? 1 : 0;
  if (!c->stream_chunked && (uint64_t)len > (uint64_t)c->stream_left) return -1;
  char pre[24];
  int pl = c->stream_chunked ? snprintf(pre, sizeof pre, "%zx\r\n", len) : 0;
  size_t total = (size_t)pl + len + (c->stream_chunked ? 2 : 0);
  char *out = malloc(total);
  if (!out) return -1;
  memcpy(out, pre, (size_t)pl);
  memcpy(out + pl, data, len);
  if (c->stream_chunked) memcpy(out + pl + len, "\r\n", 2);
  else c->stream_left -= (int64_t)len;
  if (send_raw(c, out, total, false)) return -1;
  return write_backlogged(c) ? 1 : 0;
}

void wgg_http_stream_on_drain(wgg_http_req *req, void (*fn)(void *), void *user) {
  wgg_http_conn *c = req->conn;
  if (c->closing || !c->streaming) return;
  c->drain_fn = fn;
  c->drain_user = user;
  if (!write_backlogged(c)) { /* already below the mark: the next write completion calls it */
    if (!c->pending_writes) {
      c->drain_fn = NULL;
      fn(user);
    }
    return;
  }
  arm(c, T_WRITE, c->srv->cfg.write_timeout_ms); /* no progress for this long: the client is gone */
}

void wgg_http_stream_end(wgg_http_req *req, bool ok) {
  wgg_http_conn *c = req->conn;
  bool begun = c->streaming;
  if (c->srv->cfg.observe)
    c->srv->cfg.observe(req->tag, req->method, begun ? c->stream_status : 500, uv_hrtime() - req->start_ns,
                        c->srv->cfg.user);
  req_free(req);
  c->inflight = NULL;
  c->streaming = false;
  c->drain_fn = NULL;
  if (c->closing) {
    conn_maybe_free(c);
    return;
  }
  bool unread = body_abandon(c);
  if (!begun || !ok || (!c->stream_chunked && c->stream_left != 0)) { /* cut off: never complete-looking */
    c->want_close = true;
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    arm(c, T_NONE, 0);
    conn_finish(c);
    return;
  }
  if (c->stream_chunked) {
    char *z = strdup("0\r\n\r\n");
    if (!z) {
      conn_close(c);
      return;
    }
    if (unread) {
      linger_after(c, z, 5);
      return;
    }
    if (send_raw(c, z, 5, c->want_close)) return;
  } else if (unread) {
    linger_after(c, NULL, 0);
    return;
  } else if (c->want_close) {
    conn_finish(c);
  }
  if (c->want_close) {
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    return;
  }
  arm(c, T_NONE, 0);
  drive(c);
}

const char *wgg_http_req_header(const wgg_http_req *req, const char *name) {
  for (size_t i = 0; i < req->n_headers; i++)
    if (!strcasecmp(req->headers[i].name, name)) return req->headers[i].value;
  return NULL;
}

const char *wgg_http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

/* ---- the server ---- */

/* http-parser's own head limit (80 KiB by default, a hard HPE_HEADER_OVERFLOW)
 * is lifted once for the process: each server enforces cfg.max_head itself,
 * on the exact bytes of the head (drive). */
static void lift_parser_limit(void) {
  http_parser_set_max_header_size(UINT32_MAX / 2);
}

wgg_http_server *wgg_http_server_new(uv_loop_t *loop, const wgg_http_server_config *cfg, wgg_err *err) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, lift_parser_limit);
  struct wgg_http_server *s = calloc(1, sizeof *s);
  if (!s) return wgg_err_set(err, "out of memory"), NULL;
  s->loop = loop;
  s->cfg = *cfg;
  return s;
}

int wgg_http_server_listen(wgg_http_server *s, const char *host, int port, wgg_err *err) {
  listener *l = calloc(1, sizeof *l);
  if (!l) return wgg_err_set(err, "out of memory");
  if (!(l->acc = wgg_acceptor_listen(s->loop, host, port, "http", on_accepted, s, err))) {
    free(l);
    return -1;
  }
  l->next = s->listeners;
  s->listeners = l;
  return 0;
}

static void close_listeners(struct wgg_http_server *s) {
  for (listener *l = s->listeners, *next; l; l = next) {
    next = l->next;
    wgg_acceptor_close(l->acc);
    free(l);
  }
  s->listeners = NULL;
}

void wgg_http_server_drain(wgg_http_server *s, void (*on_drained)(void *), void *user) {
  s->draining = true;
  s->on_drained = on_drained;
  s->drained_user = user;
  close_listeners(s);
  for (wgg_http_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    bool mid_request = c->in_len > c->in_off || c->url.len || c->hdrs.len || c->hfield.len;
    if (c->inflight) c->want_close = true;
    else if (!mid_request) conn_finish(c);
  }
  if (!s->n_conns && s->on_drained) {
    s->on_drained = NULL;
    on_drained(user);
  }
}

void wgg_http_server_close_all(wgg_http_server *s) {
  close_listeners(s);
  while (s->conns) conn_close(s->conns);
}

int wgg_http_server_adopt(wgg_http_server *s, int fd) {
  if (s->draining) {
    close(fd);
    return -1;
  }
  size_t before = s->n_conns;
  conn_open(s, fd);
  return s->n_conns > before ? 0 : -1;
}

size_t wgg_http_server_connections(const wgg_http_server *s) {
  return s->n_conns;
}

void wgg_http_server_free(wgg_http_server *s) {
  free(s);
}
