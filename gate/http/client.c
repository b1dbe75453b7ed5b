/*
 * client.c: see client.h. Per connection: a uv_tcp_t, an http_parser in
 * response mode and buffers for the response being read. Per request: the
 * serialized request bytes and a timeout timer.
 */
#include "http/client.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"

enum { MAX_IDLE = 64 };

/* An uploading request stops taking body bytes while this much of it waits
 * in the app connection's write queue (the server's response mark). */
#define UP_HIGH_BYTES (1u << 20)

typedef struct wgg_http_client_stream creq;

typedef struct cconn {
  uv_tcp_t tcp;
  uv_connect_t connect;
  struct wgg_http_client *cl;
  char key[96]; /* host:port */
  http_parser parser;
  creq *req; /* NULL when idle */
  struct cconn *next_idle;
  bool closing, reused, got_bytes, done, in_field, in_value, head;
  bool too_large; /* the body passed the client's max_body */
  bool streaming;   /* the body goes to the request's on_chunk, not to body */
  bool in_parse, abort_pending; /* wgg_http_client_stream_abort during a parser callback */
  size_t streamed;  /* body bytes streamed (counted against max_body) */
  size_t up_queued; /* request body bytes waiting in uv_write */
  wgg_buf hdrs, body; /* hdrs: name\0value\0 pairs, written as the parser hands them over */
  size_t n_hdrs;
  wgg_http_header *harr; /* the answer's header array (header_array), kept for the next answer */
  size_t harr_cap;
  bool harr_ready;       /* harr points into this answer's hdrs */
  char rbuf[65536];
} cconn;

struct wgg_http_client_stream {
  struct wgg_http_client *cl;
  char key[96];
  struct sockaddr_storage addr;
  char *wire;
  size_t wire_len;
  uv_timer_t timer;
  wgg_http_client_cb cb;
  void *user;
  cconn *conn;
  int attempts;
  bool head, finished;
  /* streaming (wgg_http_client_request_stream) */
  bool has_stream, streaming, paused;
  wgg_http_stream_cbs scb;
  /* a streamed request body (wgg_http_client_request_full with a source) */
  bool has_src, body_open, body_ended, want_more;
  int up_status; /* the first failed body write (the read side decides the outcome) */
  wgg_http_body_source src;
  int64_t body_sent;
  uint64_t timeout_ms;
  /* DNS: a host that is not an IP literal is resolved (uv_getaddrinfo) before its first connect */
  char host[256];
  int port;
  bool resolved, resolving, free_after_resolve;
  uv_getaddrinfo_t gai;
  /* an in-process transport's stream (wgg_http_stream_virtual): its functions, nothing else used */
  const wgg_http_stream_vt *vt;
  void *vself;
  struct wgg_http_client_stream *live_next, *live_prev; /* the client's requests not finished yet */
};

struct wgg_http_client {
  uv_loop_t *loop;
  cconn *idle;
  size_t n_idle;
  size_t refs; /* live connections + live requests */
  size_t max_body; /* response body limit (wgg_http_client_set_max_body) */
  creq *live;      /* requests not finished yet (wgg_http_client_abort_all) */
  bool closing;
  /* the last host literal parsed, and its address (most calls go to one app) */
  char last_ip[256];
  int last_port;
  bool last_resolved;
  struct sockaddr_storage last_addr;
  void *ext; /* wgg_http_client_set_ext */
  void (*ext_close)(void *);
};

static void conn_close(cconn *c);

bool wgg_http_hop_header(const char *name) {
  /* by length first: a call per header of every request and answer that passes */
  switch (strlen(name)) {
    case 2: return !strcasecmp(name, "te");
    case 4: return !strcasecmp(name, "host");
    case 6: return !strcasecmp(name, "expect");
    case 7: return !strcasecmp(name, "trailer") || !strcasecmp(name, "upgrade");
    case 10: return !strcasecmp(name, "connection") || !strcasecmp(name, "keep-alive");
    case 14: return !strcasecmp(name, "content-length");
    case 16: return !strcasecmp(name, "proxy-connection");
    case 17: return !strcasecmp(name, "transfer-encoding");
    default: return false;
  }
}

uv_loop_t *wgg_http_client_loop(const wgg_http_client *cl) {
  return cl->loop;
}
static void start(creq *r);
static void resolve(creq *r);

/* s, or "" for NULL. */
static const char *nz(const char *s) {
  return s ? s : "";
}

/* Copies n bytes to w, returns the end. */
static char *put(char *w, const char *p, size_t n) {
  memcpy(w, p, n);
  return w + n;
}

static void client_unref(struct wgg_http_client *cl) {
  if (--cl->refs == 0 && cl->closing) free(cl);
}

/* ---- requests ---- */

static void req_free(creq *r) {
  struct wgg_http_client *cl = r->cl;
  free(r); /* its wire bytes are in the same block */
  client_unref(cl);
}

static void on_req_timer_closed(uv_handle_t *h) {
  creq *r = h->data;
  if (r->resolving) { /* the resolver still holds r: it frees r when it reports */
    r->free_after_resolve = true;
    return;
  }
  req_free(r);
}

/* Completes r exactly once: calls back, then releases it. */
static void finish(creq *r, const wgg_http_response *resp, const char *errmsg) {
  if (r->finished) return;
  r->finished = true;
  if (r->live_prev) r->live_prev->live_next = r->live_next;
  else r->cl->live = r->live_next;
  if (r->live_next) r->live_next->live_prev = r->live_prev;
  r->live_next = r->live_prev = NULL;
  if (r->has_src) { /* the body's source lets go of r */
    r->body_open = false;
    if (r->src.on_over) r->src.on_over(r->src.user);
  }
  if (r->conn) r->conn->req = NULL;
  r->conn = NULL;
  uv_timer_stop(&r->timer);
  if (r->streaming) r->scb.on_end(r->user, errmsg);
  else r->cb(r->user, resp, errmsg);
  uv_close((uv_handle_t *)&r->timer, on_req_timer_closed);
}

static void on_req_timeout(uv_timer_t *t) {
  creq *r = t->data;
  cconn *c = r->conn;
  finish(r, NULL, "timeout waiting for the app's response");
  if (c) conn_close(c);
}

/* ---- connections ---- */

static void on_conn_closed(uv_handle_t *h) {
  cconn *c = h->data;
  struct wgg_http_client *cl = c->cl;
  wgg_buf_free(&c->hdrs);
  wgg_buf_free(&c->body);
  free(c->harr);
  free(c);
  client_unref(cl);
}

static void unlink_idle(cconn *c) {
  for (cconn **p = &c->cl->idle; *p; p = &(*p)->next_idle)
    if (*p == c) {
      *p = c->next_idle;
      c->cl->n_idle--;
      break;
    }
  c->next_idle = NULL;
}

static void conn_close(cconn *c) {
  if (c->closing) return;
  c->closing = true;
  if (!c->req) unlink_idle(c);
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void reset_response(cconn *c) {
  c->hdrs.len = c->body.len = 0;
  c->n_hdrs = 0;
  c->harr_ready = false;
  c->in_field = c->in_value = c->done = c->got_bytes = c->too_large = c->streaming = c->abort_pending = false;
  c->streamed = 0;
  http_parser_init(&c->parser, HTTP_RESPONSE);
  c->parser.data = c;
}

/* Ends the header field being read, if any: its value's NUL (and an empty
 * value's), and it counts. */
static int push_header(cconn *c) {
  if (!c->in_field) return 0;
  c->harr_ready = false; /* a trailer after the head: hdrs may move */
  if (wgg_buf_append(&c->hdrs, "\0", c->in_value ? 1 : 2)) return -1;
  c->n_hdrs++;
  c->in_field = c->in_value = false;
  return 0;
}

static int on_hfield(http_parser *p, const char *at, size_t n) {
  cconn *c = p->data;
  if (c->in_value && push_header(c)) return -1;
  c->in_field = true;
  return c->hdrs.len + n > (1u << 20) ? -1 : wgg_buf_append(&c->hdrs, at, n);
}

static int on_hvalue(http_parser *p, const char *at, size_t n) {
  cconn *c = p->data;
  if (!c->in_field) return 0; /* a value without a name (http-parser does not make them) */
  if (!c->in_value && wgg_buf_append(&c->hdrs, "", 1)) return -1; /* the name's NUL */
  c->in_value = true;
  return c->hdrs.len + n > (1u << 20) ? -1 : wgg_buf_append(&c->hdrs, at, n);
}

/* Points c->harr (n_hdrs entries, kept per connection) at the
 * name\0value\0 pairs of c->hdrs, once per response (the head offered to a
 * stream and the answer delivered share it). Returns it, or NULL on OOM. */
static wgg_http_header *header_array(cconn *c) {
  if (c->harr_ready) return c->harr;
  if (c->n_hdrs > c->harr_cap) {
    wgg_http_header *h = realloc(c->harr, c->n_hdrs * sizeof *h);
    if (!h) return NULL;
    c->harr = h;
    c->harr_cap = c->n_hdrs;
  }
  for (size_t i = 0, off = 0; i < c->n_hdrs; i++) {
    c->harr[i].name = c->hdrs.data + off;
    off += strlen(c->harr[i].name) + 1;
    c->harr[i].value = c->hdrs.data + off;
    off += strlen(c->harr[i].value) + 1;
  }
  c->harr_ready = true;
  return c->harr;
}

static int on_headers_complete(http_parser *p) {
  cconn *c = p->data;
  if (push_header(c)) return -1;
  if (c->head) return 1; /* a response to HEAD has no body */
  creq *r = c->req;
  if (!r || !r->has_stream || p->status_code < 200 || p->status_code > 399) return 0;
  int64_t length = (p->flags & F_CHUNKED) || p->content_length == ULLONG_MAX ? -1 : (int64_t)p->content_length;
  if (length > (int64_t)c->cl->max_body) { /* known too large: fail before anything is passed on */
    c->too_large = true;
    return -1;
  }
  wgg_http_header *h = header_array(c);
  if (!h && c->n_hdrs) return -1;
  wgg_http_response resp = {(int)p->status_code, h, c->n_hdrs, "", 0};
  int rc = r->scb.on_head(r->user, r, &resp, length);
  if (rc == 0) return 0;
  r->streaming = c->streaming = true;
  if (rc < 0) c->abort_pending = true;
  return rc < 0 ? -1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  cconn *c = p->data;
  if (c->streaming) {
    creq *r = c->req;
    if (c->abort_pending || !r) return -1;
    if (n > c->cl->max_body - c->streamed) { /* daprd's LimitReadCloser over the streamed bytes */
      c->too_large = true;
      return -1;
    }
    c->streamed += n;
    int rc = r->scb.on_chunk(r->user, at, n);
    if (rc < 0 || c->abort_pending) {
      c->abort_pending = true;
      return -1;
    }
    if (rc == 1) r->paused = true; /* the rest of this read still goes on: at most sizeof rbuf */
    return 0;
  }
  if (c->body.len + n > c->cl->max_body) {
    c->too_large = true;
    return -1;
  }
  return wgg_buf_append(&c->body, at, n);
}

static int on_message_complete(http_parser *p) {
  cconn *c = p->data;
  c->done = true;
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings rsettings = {
    .on_header_field = on_hfield,
    .on_header_value = on_hvalue,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Hands the parsed response to the request and parks or closes the connection. */
static void deliver(cconn *c, bool extra_bytes) {
  creq *r = c->req;
  wgg_http_header *h = c->streaming ? NULL : header_array(c); /* a stream ends with on_end(NULL) */
  bool keep = http_should_keep_alive(&c->parser) && !extra_bytes && !c->cl->closing &&
              (!r->has_src || r->body_ended);
  if (!c->streaming && !h && c->n_hdrs) {
    finish(r, NULL, "out of memory");
    conn_close(c);
    return;
  }
  wgg_http_response resp = {(int)c->parser.status_code, h, c->n_hdrs, c->body.data ? c->body.data : "",
                            c->body.len};
  finish(r, c->streaming ? NULL : &resp, NULL);
  if (!keep || c->closing || c->cl->n_idle >= MAX_IDLE) {
    conn_close(c);
    return;
  }
  reset_response(c);
  c->next_idle = c->cl->idle;
  c->cl->idle = c;
  c->cl->n_idle++;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  cconn *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  cconn *c = s->data;
  creq *r = c->req;
  if (n == 0) return;
  if (!r) { /* idle: the app closed it, or sent something unexpected */
    conn_close(c);
    return;
  }
  if (n < 0) {
    if (n == UV_EOF && c->got_bytes) { /* a body delimited by the end of the connection */
      c->in_parse = true;
      http_parser_execute(&c->parser, &rsettings, NULL, 0);
      c->in_parse = false;
      if (c->done) {
        deliver(c, false);
        conn_close(c);
        return;
      }
    }
    if (!c->got_bytes && c->reused && r->attempts < 2) { /* the pooled connection was stale */
      c->req = NULL;
      r->conn = NULL;
      conn_close(c);
      start(r);
      return;
    }
    char msg[200];
    if (r->up_status)
      snprintf(msg, sizeof msg, "the app connection failed while the request body was being sent: %s",
               uv_strerror(r->up_status));
    else
      snprintf(msg, sizeof msg, "%s%s", n == UV_EOF ? "the app closed the connection before answering" :
               "the app connection failed: ", n == UV_EOF ? "" : uv_strerror((int)n));
    finish(r, NULL, msg);
    conn_close(c);
    return;
  }
  c->got_bytes = true;
  c->in_parse = true;
  size_t used = http_parser_execute(&c->parser, &rsettings, buf->base, (size_t)n);
  c->in_parse = false;
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (c->abort_pending) {
    finish(r, NULL, "aborted by the receiver");
    conn_close(c);
    return;
  }
  if (c->done) {
    deliver(c, used < (size_t)n);
    return;
  }
  if (e != HPE_OK) {
    char msg[160];
    if (c->too_large)
      snprintf(msg, sizeof msg, "the response body is larger than the %zu-byte limit (--max-body-size)",
               c->cl->max_body);
    else
      snprintf(msg, sizeof msg, "malformed response from the app: %s", http_errno_description(e));
    finish(r, NULL, msg);
    conn_close(c);
    return;
  }
  if (r->streaming) { /* the next bytes: within timeout_ms, unless paused by the receiver */
    if (r->paused) {
      uv_read_stop((uv_stream_t *)&c->tcp);
      uv_timer_stop(&r->timer);
    } else if (r->timeout_ms) {
      uv_timer_start(&r->timer, on_req_timeout, r->timeout_ms, 0);
    }
  }
}

static void on_written(uv_write_t *w, int status) {
  cconn *c = w->data;
  free(w);
  if (status < 0 && c->req && !c->closing) {
    creq *r = c->req;
    if (c->reused && r->attempts < 2) {
      c->req = NULL;
      r->conn = NULL;
      conn_close(c);
      start(r);
      return;
    }
    finish(r, NULL, uv_strerror(status));
    conn_close(c);
  }
}

static void send_on(cconn *c, creq *r) {
  c->req = r;
  r->conn = c;
  c->head = r->head;
  /* Fast path (no epoll_ctl, see server_write.c wgg_hs_send); a failure or a partial
   * write falls through to uv_write, which also reports errors as before. */
  size_t off = 0;
  if (c->reused) {
    uv_buf_t t = uv_buf_init(r->wire, (unsigned)r->wire_len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &t, 1);
    if (n == (int)r->wire_len) return;
    if (n > 0) off = (size_t)n;
  }
  uv_write_t *w = malloc(sizeof *w);
  uv_buf_t b = uv_buf_init(r->wire + off, (unsigned)(r->wire_len - off));
  if (!w || uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
    free(w);
    finish(r, NULL, "cannot write to the app connection");
    conn_close(c);
    return;
  }
  w->data = c;
  if (r->has_src) { /* the head is on its way: the body may follow */
    r->body_open = true;
    r->src.on_want(r->src.user, r);
  }
}

/* ---- streamed request bodies ---- */

typedef struct up_write {
  uv_write_t w;
  cconn *c;
  char *data;
  size_t len;
} up_write;

static void on_up_written(uv_write_t *w, int status) {
  up_write *u = (up_write *)w;
  cconn *c = u->c;
  c->up_queued -= u->len;
  free(u->data);
  free(u);
  creq *r = c->req;
  if (c->closing || !r) return;
  if (status < 0) { /* no more body goes out; an answer the app sent before it stopped reading still counts */
    if (!r->up_status) r->up_status = status;
    r->body_open = false;
    r->want_more = false;
    return;
  }
  if (r->timeout_ms && !r->streaming) uv_timer_start(&r->timer, on_req_timeout, r->timeout_ms, 0); /* progress */
  if (r->want_more && c->up_queued < UP_HIGH_BYTES / 2) {
    r->want_more = false;
    r->src.on_want(r->src.user, r);
  }
}

/* Queues data (owned) on r's connection. Returns 0, or -1 (r failed). */
static int up_send(creq *r, char *data, size_t len) {
  cconn *c = r->conn;
  up_write *u = malloc(sizeof *u);
  if (u) *u = (up_write){.c = c, .data = data, .len = len};
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (!u || uv_write(&u->w, (uv_stream_t *)&c->tcp, &b, 1, on_up_written) < 0) {
    free(u);
    free(data);
    finish(r, NULL, "cannot write the request body to the app connection");
    conn_close(c);
    return -1;
  }
  c->up_queued += len;
  return 0;
}

int wgg_http_client_body_write(wgg_http_client_stream *r, const char *data, size_t len) {
  if (r->vt) return r->vt->body_write(r->vself, data, len);
  if (r->finished || !r->body_open || r->body_ended || !r->conn || r->conn->closing) return -1;
  if (r->src.length >= 0 && (int64_t)len > r->src.length - r->body_sent) {
    cconn *c = r->conn;
    finish(r, NULL, "the request body is longer than its Content-Length");
    conn_close(c);
    return -1;
  }
  if (len) {
    char pre[24];
    int pl = r->src.length < 0 ? snprintf(pre, sizeof pre, "%zx\r\n", len) : 0;
    size_t total = (size_t)pl + len + (r->src.length < 0 ? 2 : 0);
    char *out = malloc(total);
    if (!out) {
      cconn *c = r->conn;
      finish(r, NULL, "out of memory");
      conn_close(c);
      return -1;
    }
    memcpy(out, pre, (size_t)pl);
    memcpy(out + pl, data, len);
    if (r->src.length < 0) memcpy(out + pl + len, "\r\n", 2);
    r->body_sent += (int64_t)len;
    if (up_send(r, out, total)) return -1;
  }
  if (r->conn->up_queued >= UP_HIGH_BYTES) {
    r->want_more = true;
    return 1;
  }
  return 0;
}

int wgg_http_client_body_end(wgg_http_client_stream *r) {
  if (r->vt) return r->vt->body_end(r->vself);
  if (r->finished || !r->body_open || r->body_ended || !r->conn || r->conn->closing) return -1;
  r->body_ended = true;
  r->want_more = false;
  if (r->src.length >= 0 && r->body_sent != r->src.length) {
    cconn *c = r->conn;
    finish(r, NULL, "the request body ended before its Content-Length");
    conn_close(c);
    return -1;
  }
  if (r->src.length < 0) {
    char *z = strdup("0\r\n\r\n");
    if (!z) {
      cconn *c = r->conn;
      finish(r, NULL, "out of memory");
      conn_close(c);
      return -1;
    }
    return up_send(r, z, 5);
  }
  return 0;
}

static void on_connect(uv_connect_t *cr, int status) {
  cconn *c = cr->data;
  creq *r = c->req;
  if (c->closing) return;
  if (status < 0) {
    if (r) finish(r, NULL, uv_strerror(status));
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (r) send_on(c, r);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  creq *r = g->data;
  r->resolving = false;
  if (r->finished) { /* timed out meanwhile */
    if (res) uv_freeaddrinfo(res);
    if (r->free_after_resolve) req_free(r);
    return;
  }
  if (status < 0 || !res) {
    char msg[300];
    snprintf(msg, sizeof msg, "cannot resolve %s: %s", r->host, uv_strerror(status));
    if (res) uv_freeaddrinfo(res);
    finish(r, NULL, msg);
    return;
  }
  const struct addrinfo *pick = res;
  for (const struct addrinfo *a = res; a; a = a->ai_next)
    if (a->ai_family == AF_INET) { /* prefer IPv4: most apps listen on 127.0.0.1, not ::1 */
      pick = a;
      break;
    }
  memcpy(&r->addr, pick->ai_addr, pick->ai_addrlen);
  uv_freeaddrinfo(res);
  r->resolved = true;
  r->attempts--; /* start() counts attempts; resolving was not one */
  start(r);
}

static void resolve(creq *r) {
  char port[16];
  snprintf(port, sizeof port, "%d", r->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  r->gai.data = r;
  r->resolving = true;
  int rc = uv_getaddrinfo(r->cl->loop, &r->gai, on_resolved, r->host, port, &hints);
  if (rc < 0) {
    r->resolving = false;
    finish(r, NULL, uv_strerror(rc));
  }
}

/* Sends r on an idle pooled connection or a new one. */
static void start(creq *r) {
  struct wgg_http_client *cl = r->cl;
  r->attempts++;
  for (cconn *c = r->has_src ? NULL : cl->idle; c; c = c->next_idle)
    if (!strcmp(c->key, r->key)) {
      unlink_idle(c);
      c->reused = true;
      send_on(c, r);
      return;
    }
  if (!r->resolved) {
    resolve(r);
    return;
  }
  cconn *c = calloc(1, sizeof *c);
  if (!c) {
    finish(r, NULL, "out of memory");
    return;
  }
  c->cl = cl;
  cl->refs++;
  snprintf(c->key, sizeof c->key, "%s", r->key);
  uv_tcp_init(cl->loop, &c->tcp);
  c->tcp.data = c;
  c->connect.data = c;
  reset_response(c);
  c->req = r;
  r->conn = c;
  int rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&r->addr, on_connect);
  if (rc < 0) {
    finish(r, NULL, uv_strerror(rc));
    conn_close(c);
  }
}

/* ---- public ---- */

wgg_http_client *wgg_http_client_new(uv_loop_t *loop) {
  struct wgg_http_client *cl = calloc(1, sizeof *cl);
  if (!cl) return NULL;
  cl->loop = loop;
  cl->refs = 1; /* the owner's reference, dropped by wgg_http_client_close */
  cl->max_body = WGG_HTTP_CLIENT_MAX_BODY;
  return cl;
}

void wgg_http_client_set_max_body(wgg_http_client *cl, size_t max_body) {
  cl->max_body = max_body ? max_body : WGG_HTTP_CLIENT_MAX_BODY;
}

int wgg_http_client_request(wgg_http_client *cl, const char *host, int port, const char *method, const char *target,
                            const wgg_http_header *headers, size_t n, const char *body, size_t len,
                            uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  return wgg_http_client_request_stream(cl, host, port, method, target, headers, n, body, len, timeout_ms, cb, NULL,
                                        user);
}

void wgg_http_client_stream_resume(wgg_http_client_stream *r) {
  if (r->vt) {
    r->vt->resume(r->vself);
    return;
  }
  if (r->finished || !r->paused) return;
  r->paused = false;
  cconn *c = r->conn;
  if (!c || c->closing || c->in_parse) return; /* in a parse: on_read decides after it */
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (r->timeout_ms) uv_timer_start(&r->timer, on_req_timeout, r->timeout_ms, 0);
}

void wgg_http_client_stream_abort(wgg_http_client_stream *r) {
  if (r->vt) {
    r->vt->abort(r->vself);
    return;
  }
  if (r->finished) return;
  cconn *c = r->conn;
  if (c && c->in_parse) {
    c->abort_pending = true;
    return;
  }
  finish(r, NULL, "aborted by the receiver");
  if (c) conn_close(c);
}

int wgg_http_client_request_stream(wgg_http_client *cl, const char *host, int port, const char *method,
                                   const char *target, const wgg_http_header *headers, size_t n, const char *body,
                                   size_t len, uint64_t timeout_ms, wgg_http_client_cb cb,
                                   const wgg_http_stream_cbs *stream, void *user) {
  return wgg_http_client_request_full(cl, host, port, method, target, headers, n, body, len, NULL, timeout_ms, cb,
                                      stream, user);
}

int wgg_http_client_request_full(wgg_http_client *cl, const char *host, int port, const char *method,
                                 const char *target, const wgg_http_header *headers, size_t n, const char *body,
                                 size_t len, const wgg_http_body_source *src, uint64_t timeout_ms,
                                 wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user) {
  if ((src && !src->on_want) || cl->closing) return -1; /* closed: shutting down, no new requests */
  size_t hl = strlen(host);
  if (hl >= sizeof cl->last_ip || hl == 0 || port <= 0 || port > 65535) return -1;
  char ip[sizeof cl->last_ip];
  memcpy(ip, host, hl + 1);
  if (hl > 2 && ip[0] == '[' && ip[hl - 1] == ']') { /* [::1] */
    memmove(ip, ip + 1, hl - 2);
    ip[hl - 2] = '\0';
  }
  /* the head, written without a format: its exact size first, then one block for the request and its bytes */
  char pd[24], ld[24];
  size_t pdl = wgg_str_dec(pd, (unsigned long long)port);
  pd[pdl] = '\0'; /* for the pool key below */
  bool chunked = src && src->length < 0;
  size_t ldl = chunked ? 0 : wgg_str_dec(ld, src ? (unsigned long long)src->length : (unsigned long long)len);
  static const char te[] = "Transfer-Encoding: chunked\r\n", clen[] = "Content-Length: ",
                    conn[] = "Connection: keep-alive\r\n\r\n";
  size_t ml = strlen(method), tl = strlen(target), size = ml + 1 + tl + 17 + hl + 1 + pdl + 2;
  for (size_t i = 0; i < n; i++) size += strlen(headers[i].name) + 2 + strlen(nz(headers[i].value)) + 2;
  size += chunked ? sizeof te - 1 : sizeof clen - 1 + ldl + 2;
  size += sizeof conn - 1 + (!src ? len : 0);
  creq *r = malloc(sizeof *r + size + 1);
  if (!r) return -1;
  memset(r, 0, sizeof *r);
  char *w = (char *)(r + 1);
  w = put(put(put(put(w, method, ml), " ", 1), target, tl), " HTTP/1.1\r\nHost: ", 17);
  w = put(put(put(put(w, host, hl), ":", 1), pd, pdl), "\r\n", 2);
  for (size_t i = 0; i < n; i++) {
    w = put(put(w, headers[i].name, strlen(headers[i].name)), ": ", 2);
    w = put(put(w, nz(headers[i].value), strlen(nz(headers[i].value))), "\r\n", 2);
  }
  w = chunked ? put(w, te, sizeof te - 1) : put(put(put(w, clen, sizeof clen - 1), ld, ldl), "\r\n", 2);
  w = put(w, conn, sizeof conn - 1);
  if (!src && len) w = put(w, body, len);
  *w = '\0';
  r->wire = (char *)(r + 1);
  r->wire_len = size;
  if (cl->last_port == port && !strcmp(cl->last_ip, ip)) { /* the same address as last time: parsed already */
    r->resolved = cl->last_resolved;
    r->addr = cl->last_addr;
  } else {
    r->resolved = !uv_ip4_addr(ip, port, (struct sockaddr_in *)&r->addr) ||
                  !uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&r->addr);
    memcpy(cl->last_ip, ip, strlen(ip) + 1);
    cl->last_port = port;
    cl->last_resolved = r->resolved;
    cl->last_addr = r->addr;
  }
  r->port = port;
  memcpy(r->host, ip, strlen(ip) + 1);
  r->cl = cl;
  r->cb = cb;
  r->user = user;
  r->head = !strcmp(method, "HEAD");
  r->timeout_ms = timeout_ms;
  if (stream) {
    r->has_stream = true;
    r->scb = *stream;
  }
  if (src) {
    r->has_src = true;
    r->src = *src;
  }
  const char *const kp[] = {ip, ":", pd};
  wgg_str_join(r->key, sizeof r->key, kp, 3);
  cl->refs++;
  r->live_next = cl->live;
  if (cl->live) cl->live->live_prev = r;
  cl->live = r;
  uv_timer_init(cl->loop, &r->timer);
  r->timer.data = r;
  if (timeout_ms) uv_timer_start(&r->timer, on_req_timeout, timeout_ms, 0);
  start(r);
  return 0;
}

void *wgg_http_client_ext(const wgg_http_client *cl) {
  return cl->ext;
}

void wgg_http_client_set_ext(wgg_http_client *cl, void *ext, void (*ext_close)(void *)) {
  cl->ext = ext;
  cl->ext_close = ext_close;
}

void wgg_http_client_hold(wgg_http_client *cl) {
  cl->refs++;
}

void wgg_http_client_release(wgg_http_client *cl) {
  client_unref(cl);
}

void wgg_http_client_abort_all(wgg_http_client *cl, const char *why) {
  cl->closing = true; /* what the callbacks try next is refused */
  /* a request whose connection is in a parse step (a callback of that parse got here) is left to
   * the parse, as wgg_http_client_stream_abort does; every other one finishes (and unlinks) now.
   * From the head each time: a callback may finish other requests. */
  for (;;) {
    creq *r = cl->live;
    while (r && r->conn && r->conn->in_parse) {
      r->conn->abort_pending = true;
      r = r->live_next;
    }
    if (!r) return;
    cconn *c = r->conn;
    finish(r, NULL, why);
    if (c) conn_close(c);
  }
}

void wgg_http_client_close(wgg_http_client *cl) {
  if (cl->ext_close) cl->ext_close(cl->ext);
  cl->ext = NULL;
  cl->ext_close = NULL;
  cl->closing = true;
  while (cl->idle) conn_close(cl->idle);
  client_unref(cl);
}

wgg_http_client_stream *wgg_http_stream_virtual(const wgg_http_stream_vt *vt, void *self) {
  wgg_http_client_stream *s = calloc(1, sizeof *s);
  if (s) {
    s->vt = vt;
    s->vself = self;
  }
  return s;
}

void wgg_http_stream_virtual_free(wgg_http_client_stream *s) {
  if (s && s->vt) free(s);
}
