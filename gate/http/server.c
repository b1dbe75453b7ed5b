/*
 * server.c: see server.h. Per connection: one uv_tcp_t, one uv_timer_t, an
 * input buffer and an http_parser that is paused after each request so that
 * pipelined requests are handled strictly one after the other. This file
 * owns the server (listen, drain, adopt), the connections' life (accept,
 * read, timers, close) and the request state machine (wgg_hs_drive); the
 * parser callbacks, the write side, streamed request bodies and the
 * lingering close have files of their own (server_internal.h lists them).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/server_internal.h"
#include "util/err.h"
#include "util/log.h"

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

/* Lazily: a request moves the deadline three to five times (head, body,
 * none, idle), and each start or stop of a libuv timer is a heap operation.
 * The timer is only started when the new deadline comes before the time it
 * is due; otherwise it fires early and on_timer starts it again for what is
 * left (once per header timeout on a busy connection, not per request). */
void wgg_hs_arm(wgg_http_conn *c, int mode, uint64_t ms) {
  c->timer_mode = mode;
  if (c->closing) return;
  if (mode == T_NONE || ms == 0) { /* the timer, if due, fires into nothing */
    c->deadline = 0;
    return;
  }
  c->deadline = uv_now(c->srv->loop) + ms;
  if (c->timer_due && c->timer_due <= c->deadline && uv_is_active((uv_handle_t *)&c->timer)) return;
  c->timer_due = c->deadline;
  uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- the connection state machine ---- */

void wgg_hs_dispatch(wgg_http_conn *c) {
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
  wgg_hs_fail_conn(c, status, msg);
}

/* Parses buffered input and dispatches requests while none is in flight
 * (and, while one is, the rest of its streamed body when it has a reader). */
void wgg_hs_drive(wgg_http_conn *c) {
  if (c->driving) return;
  c->driving = true;
  while (!c->closing && c->in_off < c->in_len &&
         (c->inflight ? wgg_hs_body_parse_ok(c) : !c->want_close && !wgg_hs_write_backlogged(c))) {
    size_t n = http_parser_execute(&c->parser, &wgg_hs_parser_settings, c->in + c->in_off, c->in_len - c->in_off);
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
          if (!msg || wgg_hs_send(c, msg, sizeof cont - 1, false)) break;
        }
        wgg_hs_dispatch_early(c);
        continue;
      }
      if (c->inflight && (c->pend.len || c->body_msg_done)) {
        wgg_hs_body_flush(c);
        continue;
      }
      if (c->stream_now) {
        wgg_hs_dispatch_early(c);
        continue;
      }
      if (c->ready) {
        c->msg_base = c->fed;
        wgg_hs_dispatch(c);
      }
      continue;
    }
    if (e == HPE_OK && c->inflight && c->pend.len) {
      wgg_hs_body_flush(c);
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
        wgg_hs_body_flush(c);
        wgg_hs_body_fail(c, st == 413 ? 413 : 400, st == 413 ? "Request Entity Too Large" : msg);
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
    if (wgg_hs_body_parse_ok(c)) {
      if (!c->eof) {
        wgg_hs_start_reading(c);
      } else {
        wgg_hs_body_fail(c, 499, "the client closed the connection before sending the whole body");
        wgg_hs_notify_gone(c);
      }
    }
    return;
  }
  if (c->want_close) return;
  if (wgg_hs_write_backlogged(c)) {
    /* answers pile up unread: stop reading and parsing until they drain;
     * a queue that makes no progress for the write timeout closes */
    c->write_paused = true;
    wgg_hs_stop_reading(c);
    wgg_hs_arm(c, T_WRITE, c->srv->cfg.write_timeout_ms);
    return;
  }
  if (c->eof) {
    wgg_hs_conn_finish(c);
    return;
  }
  if (c->timer_mode == T_NONE) wgg_hs_arm(c, T_IDLE, c->srv->cfg.idle_timeout_ms);
  wgg_hs_start_reading(c);
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
    wgg_hs_linger_read(c, n);
    return;
  }
  if (n == UV_ENOBUFS) {
    wgg_hs_conn_close(c);
    return;
  }
  if (n < 0) {
    c->eof = true;
    wgg_hs_stop_reading(c);
    /* a request cut off in the middle is dropped; a complete one still runs */
    if (!c->inflight) {
      wgg_hs_conn_finish(c);
      return;
    }
    if (c->body_streaming) { /* a half-close after the body: what is buffered is parsed first (drive decides) */
      if (wgg_hs_body_parse_ok(c)) wgg_hs_drive(c);
      return;
    }
    wgg_hs_notify_gone(c);
    return;
  }
  c->in_len += (size_t)n;
  if (c->inflight && wgg_hs_body_parse_ok(c)) { /* the rest of a streamed body */
    wgg_hs_drive(c);
    return;
  }
  if (c->inflight) { /* pipelined bytes wait; stop reading so a client cannot flood the buffer */
    wgg_hs_stop_reading(c);
    return;
  }
  wgg_hs_drive(c);
}

void wgg_hs_start_reading(wgg_http_conn *c) {
  if (c->reading || c->closing || c->eof) return;
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
}

void wgg_hs_stop_reading(wgg_http_conn *c) {
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = false;
}

void wgg_hs_conn_maybe_free(wgg_http_conn *c) {
  if (c->open_handles || c->inflight) return;
  struct wgg_http_server *s = c->srv;
  wgg_hs_req_free(c->ready);
  wgg_hs_reset_parse_state(c);
  wgg_buf_free(&c->url);
  wgg_buf_free(&c->hdrs);
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
  wgg_hs_conn_maybe_free(c);
}

/* Tells the in-flight request's handler that its client went away (once). */
void wgg_hs_notify_gone(wgg_http_conn *c) {
  wgg_http_req *r = c->inflight;
  if (!r || !r->on_gone) return;
  void (*fn)(wgg_http_req *, void *) = r->on_gone;
  r->on_gone = NULL;
  fn(r, r->gone_user);
}

void wgg_hs_conn_close(wgg_http_conn *c) {
  if (c->closing) return;
  c->closing = true;
  wgg_hs_body_fail(c, 499, "the connection was closed before the whole body was read");
  wgg_hs_notify_gone(c);
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
  c->timer_due = 0;
  if (c->closing || !c->deadline) return;
  uint64_t now = uv_now(c->srv->loop);
  if (now < c->deadline) { /* moved later since it was started (wgg_hs_arm) */
    c->timer_due = c->deadline;
    uv_timer_start(&c->timer, on_timer, c->deadline - now, 0);
    return;
  }
  c->deadline = 0;
  if (c->inflight && c->streaming && c->timer_mode == T_WRITE) { /* a streamed answer nobody reads */
    wgg_debug("http: closing a connection whose client stopped reading a streamed response");
    wgg_hs_conn_close(c);
    return;
  }
  if (c->inflight) return;
  if (c->timer_mode == T_IDLE) {
    wgg_hs_conn_close(c);
    return;
  }
  if (c->timer_mode == T_LINGER) {
    wgg_hs_conn_close(c);
    return;
  }
  if (c->timer_mode == T_WRITE) {
    wgg_debug("http: closing a connection whose client stopped reading its responses");
    wgg_hs_conn_close(c);
    return;
  }
  wgg_debug("http: closing a connection that was too slow to send its request");
  wgg_hs_fail_conn(c, 408, "Request Timeout");
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
    wgg_hs_conn_close(c);
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
  wgg_hs_arm(c, T_IDLE, s->cfg.idle_timeout_ms);
  wgg_hs_start_reading(c);
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
    bool mid_request = c->in_len > c->in_off || c->url.len || c->hdrs.len;
    if (c->inflight) c->want_close = true;
    else if (!mid_request) wgg_hs_conn_finish(c);
  }
  if (!s->n_conns && s->on_drained) {
    s->on_drained = NULL;
    on_drained(user);
  }
}

void wgg_http_server_close_all(wgg_http_server *s) {
  close_listeners(s);
  while (s->conns) wgg_hs_conn_close(s->conns);
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
