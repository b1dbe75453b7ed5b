/*
 * server.c: unary and streaming gRPC over h2c on libuv with libnghttp2 (see
 * server.h): connections, listening and drain. A connection owns an nghttp2
 * server session; bytes read go to nghttp2_session_mem_recv, bytes nghttp2
 * wants to send are collected with nghttp2_session_mem_send and written with
 * uv_write. Calls: server_call.c; streaming: server_stream.c.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc/server_internal.h"
#include "util/err.h"
#include "util/log.h"

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
    wgg_grpcs_conn_close(c);
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
    wgg_grpcs_conn_close(c);
    return;
  }
  if (!c->closing && !c->reading && c->out_queued < OUT_HIGH_WATER / 2) {
    c->reading = true;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  }
  wgg_grpcs_conn_flush(c);
}

/* Writes what nghttp2 has to send; closes the connection when the session is over. */
void wgg_grpcs_conn_flush(conn *c) {
  if (c->closing || c->in_recv) return;
  /* collect what nghttp2 has to send in the connection's scratch buffer (kept between flushes) */
  c->scratch.len = 0;
  for (;;) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->h2, &data);
    if (n == 0) break;
    if (n < 0 || wgg_buf_append(&c->scratch, data, (size_t)n)) {
      wgg_grpcs_conn_close(c);
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
      wgg_grpcs_conn_close(c);
      return;
    }
    o->c = c;
    o->len = len;
    memcpy(o->data, p, len);
    uv_buf_t b = uv_buf_init(o->data, (unsigned)len);
    if (uv_write(&o->w, (uv_stream_t *)&c->tcp, &b, 1, on_written)) {
      free(o);
      wgg_grpcs_conn_close(c);
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
    wgg_grpcs_conn_close(c);
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

void wgg_grpcs_conn_close(conn *c) {
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
    wgg_grpcs_stream_gone(c, k);
  }
  nghttp2_session_del(c->h2);
  c->h2 = NULL;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_abort(conn *c) {
  if (c->closing || c->dead) return;
  c->dead = true; /* wgg_grpcs_conn_flush must not close it when the GOAWAY is out */
  wgg_grpcs_conn_flush(c);
  if (c->closing) return;
  uv_shutdown_t *sh = malloc(sizeof *sh);
  if (!sh || uv_shutdown(sh, (uv_stream_t *)&c->tcp, on_shutdown)) {
    free(sh);
    wgg_grpcs_conn_close(c);
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
    wgg_grpcs_conn_close(c);
    return;
  }
  if (c->dead) return; /* dropped */
  uv_timer_stop(&c->idle);
  c->in_recv = true; /* answers given inside the callbacks go out in one write after */
  ssize_t rv = nghttp2_session_mem_recv(c->h2, (const uint8_t *)b->base, (size_t)n);
  c->in_recv = false;
  if (rv >= 0) wgg_grpcs_arm_reads(c);
  if (rv < 0) { /* bad preface or a fatal protocol error: GOAWAY if we can, then close */
    wgg_debug("grpc: connection from %s: %s", c->peer, nghttp2_strerror((int)rv));
    nghttp2_session_terminate_session(c->h2, NGHTTP2_PROTOCOL_ERROR);
    conn_abort(c);
    return;
  }
  wgg_grpcs_conn_flush(c);
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
  wgg_grpcs_set_callbacks(cb);
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
  wgg_grpcs_conn_flush(c);
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

/* The acceptor's callback: a new connection, unless draining. */
static void on_accepted(int fd, void *user) {
  wgg_grpc_server *s = user;
  if (s->draining) {
    close(fd);
    return;
  }
  conn *c = conn_new(s);
  if (!c) {
    close(fd);
    return;
  }
  if (uv_tcp_open(&c->tcp, fd)) {
    close(fd);
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

int wgg_grpc_server_listen(wgg_grpc_server *s, const char *host, int port, wgg_err *err) {
  listener *l = calloc(1, sizeof *l);
  if (!l) return wgg_err_set(err, "out of memory");
  if (!(l->acc = wgg_acceptor_listen(s->loop, host, port, "gRPC", on_accepted, s, err))) {
    free(l);
    return -1;
  }
  l->next = s->listeners;
  s->listeners = l;
  return 0;
}

static void close_listeners(wgg_grpc_server *s) {
  for (listener *l = s->listeners, *next; l; l = next) {
    next = l->next;
    wgg_acceptor_close(l->acc);
    free(l);
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
    wgg_grpcs_conn_flush(c);
    for (wgg_grpc_call *k = c->calls, *kn; k && !c->closing; k = kn) { /* streams never end by themselves */
      kn = k->next;
      if (k->streaming && !k->answered) {
        wgg_grpcs_fail_now(k, 2, "api server closed");
      }
    }
    if (!c->closing && !c->calls) wgg_grpcs_conn_close(c);
  }
}

void wgg_grpc_server_close_all(wgg_grpc_server *s) {
  if (!s) return;
  s->draining = true;
  close_listeners(s);
  while (s->conns) wgg_grpcs_conn_close(s->conns);
}

void wgg_grpc_server_free(wgg_grpc_server *s) {
  free(s);
}
