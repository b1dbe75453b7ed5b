/*
 * p2_tcp.c: wasi:sockets/tcp and tcp-create-socket 0.2.x (WebAssembly/
 * wasi-sockets tcp.wit, TcpSocketOperationalSemantics.md) on non-blocking
 * host sockets. start-bind binds, start-connect starts a non-blocking
 * connect and finish-connect reports its outcome (would-block while it is
 * in progress; the socket's pollable waits for it), start-listen listens,
 * accept never blocks. A connected socket's streams are wasi:io streams
 * (the embedder-stream mechanism of p2_cli.c) whose pollables wait on the
 * descriptor; blocking-read waits for data, write sends everything
 * (waiting for room as blocking-write-and-flush does). Every operation
 * that names an address is checked against the grants (p2_net.c):
 * access-denied unless granted, and create-tcp-socket is denied when TCP is
 * not granted at all.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2_net.h"

#define V P2_V
#define TCP "wasi:sockets/tcp" V

static p2_sock *sock_of(void *env, const wg_cval *a) { return p2_obj(P2(env), a[0].of.handle.rep); }

/* What every start-* answers first: true with r set (*t: its trap, NULL unless OOM) for an
 * unknown socket (invalid-state) or while another start-* is in progress (concurrency-conflict);
 * false (r untouched) when the call goes on. */
static bool start_refused(const p2_sock *s, wg_cval *r, wg_trap **t) {
  if (!s) return *t = p2_net_err(r, EC_INVALID_STATE), true;
  if (s->st == TS_BIND_STARTED || s->st == TS_CONNECT_STARTED || s->st == TS_LISTEN_STARTED)
    return *t = p2_net_err(r, EC_CONCURRENCY_CONFLICT), true;
  return false;
}

/* ---------------------------------------------------------------- streams */

static int64_t in_read(void *user, uint8_t *buf, size_t n) {
  p2_sock *s = user;
  if (s->rd_shut || s->fd < 0) return -1;
  if (!n) return 0;
  ssize_t k;
  do k = recv(s->fd, buf, n, MSG_DONTWAIT);
  while (k < 0 && errno == EINTR);
  if (k > 0) return k;
  if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  return -1; /* end of stream, or the connection failed */
}

static int64_t out_check(void *user) {
  p2_sock *s = user;
  if (s->wr_shut || s->fd < 0) return -1;
  struct pollfd pf = {.fd = s->fd, .events = POLLOUT};
  if (poll(&pf, 1, 0) < 0) return 0;
  if (pf.revents & (POLLERR | POLLHUP | POLLNVAL)) return -1;
  return pf.revents & POLLOUT ? 65536 : 0;
}

/* All n bytes, waiting for room when the send buffer is full. */
static int out_write(void *user, const uint8_t *buf, size_t n) {
  p2_sock *s = user;
  if (s->wr_shut || s->fd < 0) return -1;
  size_t done = 0;
  while (done < n) {
    ssize_t k = send(s->fd, buf + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k > 0) {
      done += (size_t)k;
    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pf = {.fd = s->fd, .events = POLLOUT};
      if (poll(&pf, 1, -1) < 0 && errno != EINTR) return -1;
    } else if (!(k < 0 && errno == EINTR)) {
      return -1;
    }
  }
  return 0;
}

static void stream_drop(void *user) { p2_sock_unref(user); }

static const wg_wasi_p2_stream_ops in_ops = {.read = in_read, .drop = stream_drop};
static const wg_wasi_p2_stream_ops out_ops = {.check_write = out_check, .write = out_write, .drop = stream_drop};

/* the pair of streams of a connected socket into t[0], t[1] (each holds a reference) */
static bool make_streams(p2 *p, p2_sock *s, wg_cval *t) {
  p2_sock_ref(s);
  if (!wg_wasi_p2_stream(p, false, &in_ops, s, &t[0])) {
    p2_sock_unref(s);
    return false;
  }
  p->streams[t[0].of.handle.rep - P2_STREAM_BASE].sock = s;
  p2_sock_ref(s);
  if (!wg_wasi_p2_stream(p, true, &out_ops, s, &t[1])) {
    p2_sock_unref(s);
    return false;
  }
  p->streams[t[1].of.handle.rep - P2_STREAM_BASE].sock = s;
  return true;
}

/* ---------------------------------------------------------------- create, bind, connect, listen, accept */

static int family_of(const wg_cval *v) { return v->of.var.disc ? AF_INET6 : AF_INET; }

/* create-tcp-socket(address-family: ip-address-family) -> result<tcp-socket, error-code> */
static wg_trap *create(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  if (!p2_net_allows(p, false)) return p2_net_err(r, EC_ACCESS_DENIED);
  int fam = family_of(&a[0]);
  int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return p2_net_err(r, p2_errno_code(errno));
  if (fam == AF_INET6) { /* no dual-stack: an IPv6 socket speaks IPv6 only, as in wasmtime */
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  uint32_t rep;
  p2_sock *s = p2_obj_new(p, OBJ_TCP, &rep);
  if (!s) { /* the context's 65,536 objects, or memory: no new socket */
    close(fd);
    return p2_net_err(r, EC_NEW_SOCKET_LIMIT);
  }
  s->fd = fd;
  s->family = fam;
  s->backlog = 128;
  return p2_net_ok(r, p2_box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, p->tcp}}));
}

/* start-bind(network: borrow<network>, local-address: ip-socket-address): binds now; finish-bind
 * completes. */
static wg_trap *start_bind(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *s = sock_of(env, a);
  wg_trap *t;
  if (start_refused(s, r, &t)) return t;
  if (s->st != TS_UNBOUND) return p2_net_err(r, EC_INVALID_STATE);
  struct sockaddr_storage ss;
  socklen_t len;
  if (!p2_addr_from_cval(&a[2], &ss, &len)) return p2_net_err(r, EC_INVALID_ARGUMENT);
  int c = p2_check_local(s->family, (struct sockaddr *)&ss);
  if (c >= 0) return p2_net_err(r, (uint32_t)c);
  if (!p2_net_allows_addr(p, (struct sockaddr *)&ss)) return p2_net_err(r, EC_ACCESS_DENIED);
  int one = 1; /* as the spec asks: a listener can rebind while old connections linger */
  setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s->fd, (struct sockaddr *)&ss, len)) return p2_net_err(r, p2_errno_code(errno));
  s->st = TS_BIND_STARTED;
  return p2_net_ok(r, NULL);
}

static wg_trap *finish_bind(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s || s->st != TS_BIND_STARTED) return p2_net_err(r, EC_NOT_IN_PROGRESS);
  s->st = TS_BOUND;
  return p2_net_ok(r, NULL);
}

/* start-connect(network: borrow<network>, remote-address: ip-socket-address) */
static wg_trap *start_connect(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *s = sock_of(env, a);
  wg_trap *t;
  if (start_refused(s, r, &t)) return t;
  if (s->st != TS_UNBOUND && s->st != TS_BOUND) return p2_net_err(r, EC_INVALID_STATE);
  struct sockaddr_storage ss;
  socklen_t len;
  if (!p2_addr_from_cval(&a[2], &ss, &len)) return p2_net_err(r, EC_INVALID_ARGUMENT);
  int c = p2_check_remote(s->family, (struct sockaddr *)&ss);
  if (c >= 0) return p2_net_err(r, (uint32_t)c);
  if (!p2_net_allows_addr(p, (struct sockaddr *)&ss)) return p2_net_err(r, EC_ACCESS_DENIED);
  int k;
  do k = connect(s->fd, (struct sockaddr *)&ss, len);
  while (k < 0 && errno == EINTR);
  s->connect_err = k < 0 && errno != EINPROGRESS ? errno : 0;
  s->st = TS_CONNECT_STARTED;
  return p2_net_ok(r, NULL);
}

/* finish-connect() -> result<tuple<input-stream, output-stream>, error-code> */
static wg_trap *finish_connect(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *s = sock_of(env, a);
  if (!s || s->st != TS_CONNECT_STARTED) return p2_net_err(r, EC_NOT_IN_PROGRESS);
  int err = s->connect_err;
  if (!err) {
    struct pollfd pf = {.fd = s->fd, .events = POLLOUT};
    if (poll(&pf, 1, 0) == 0) return p2_net_err(r, EC_WOULD_BLOCK);
    socklen_t l = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l)) err = errno;
  }
  if (err) { /* a failed connect leaves the socket closed: only drop is left */
    s->st = TS_CLOSED;
    return p2_net_err(r, p2_errno_code(err));
  }
  s->st = TS_CONNECTED;
  wg_cval *t = p2_box((wg_cval){.kind = WG_CVAL_TUPLE});
  if (!t || !(t->of.seq.ptr = wg_cval_array(2))) {
    free(t);
    return p2_oom();
  }
  t->of.seq.len = 2;
  if (!make_streams(p, s, t->of.seq.ptr)) {
    wg_cval_free(t);
    free(t);
    return p2_oom();
  }
  return p2_net_ok(r, t);
}

static wg_trap *start_listen(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  wg_trap *t;
  if (start_refused(s, r, &t)) return t;
  if (s->st != TS_BOUND) return p2_net_err(r, EC_INVALID_STATE); /* unbound, connected or listening */
  if (listen(s->fd, s->backlog)) return p2_net_err(r, p2_errno_code(errno));
  s->st = TS_LISTEN_STARTED;
  return p2_net_ok(r, NULL);
}

static wg_trap *finish_listen(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s || s->st != TS_LISTEN_STARTED) return p2_net_err(r, EC_NOT_IN_PROGRESS);
  s->st = TS_LISTENING;
  return p2_net_ok(r, NULL);
}

/* accept() -> result<tuple<tcp-socket, input-stream, output-stream>, error-code> */
static wg_trap *accept_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *s = sock_of(env, a);
  if (!s || s->st != TS_LISTENING) return p2_net_err(r, EC_INVALID_STATE);
  int fd;
  for (;;) {
    fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) break;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return p2_net_err(r, EC_WOULD_BLOCK);
    /* transient errors of the native accept are skipped, as the spec asks */
    if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO && errno != ENETDOWN && errno != ENOPROTOOPT &&
        errno != EHOSTDOWN && errno != ENONET && errno != EHOSTUNREACH && errno != EOPNOTSUPP && errno != ENETUNREACH)
      return p2_net_err(r, p2_errno_code(errno));
  }
  uint32_t rep;
  p2_sock *c = p2_obj_new(p, OBJ_TCP, &rep);
  wg_cval *t = p2_box((wg_cval){.kind = WG_CVAL_TUPLE});
  if (!c || !t || !(t->of.seq.ptr = wg_cval_array(3))) {
    if (c) p2_obj_drop(p, rep);
    free(t);
    close(fd);
    return p2_oom();
  }
  c->fd = fd;
  c->family = s->family;
  c->st = TS_CONNECTED;
  t->of.seq.len = 3;
  t->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, p->tcp}};
  if (!make_streams(p, c, t->of.seq.ptr + 1)) {
    wg_cval_free(t);
    free(t);
    return p2_oom();
  }
  return p2_net_ok(r, t);
}

/* ---------------------------------------------------------------- addresses, state, options */

static wg_trap *local_address(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  return p2_sock_address(s, s->st != TS_UNBOUND && s->st != TS_CLOSED, false, r);
}

static wg_trap *remote_address(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  return p2_sock_address(s, s && s->st == TS_CONNECTED, true, r);
}

static wg_trap *is_listening(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  *r = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = s && s->st == TS_LISTENING};
  return NULL;
}

static wg_trap *address_family(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = p2_obj(P2(env), a[0].of.handle.rep);
  *r = (wg_cval){.kind = WG_CVAL_ENUM, .of.var = {s && s->family == AF_INET6 ? 1 : 0, NULL}};
  return NULL;
}

static wg_trap *set_backlog(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  if (!a[1].of.u) return p2_net_err(r, EC_INVALID_ARGUMENT);
  if (s->st == TS_CONNECT_STARTED || s->st == TS_CONNECTED) return p2_net_err(r, EC_INVALID_STATE);
  s->backlog = a[1].of.u > 4096 ? 4096 : (int)a[1].of.u;
  if (s->st == TS_LISTENING && listen(s->fd, s->backlog)) return p2_net_err(r, p2_errno_code(errno));
  return p2_net_ok(r, NULL);
}

/* Options: the socket option, its WIT kind and the unit a WIT value has in it (durations are
 * nanoseconds in WIT and seconds in TCP_KEEPIDLE / TCP_KEEPINTVL). A zero value is
 * invalid-argument for all but keep-alive-enabled. */
#define GET(fn, level, opt, kind, scale)                                                   \
  static wg_trap *fn(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {      \
    (void)na, (void)nr;                                                                     \
    p2_sock *s = sock_of(env, a);                                                           \
    if (!s) return p2_net_err(r, EC_INVALID_STATE);                                         \
    return p2_sockopt_get(s, level, opt, kind, scale, r);                                   \
  }
#define SET(fn, level, opt, scale, zero_ok)                                                \
  static wg_trap *fn(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {      \
    (void)na, (void)nr;                                                                     \
    p2_sock *s = sock_of(env, a);                                                           \
    if (!s) return p2_net_err(r, EC_INVALID_STATE);                                         \
    uint64_t v = a[1].kind == WG_CVAL_BOOL ? a[1].of.b : a[1].of.u;                         \
    if (!v && !(zero_ok)) return p2_net_err(r, EC_INVALID_ARGUMENT);                        \
    return p2_sockopt_set(s, level, opt, v, scale, r);                                      \
  }
GET(keepalive, SOL_SOCKET, SO_KEEPALIVE, WG_CVAL_BOOL, 1)
SET(set_keepalive, SOL_SOCKET, SO_KEEPALIVE, 1, true)
GET(keepidle, IPPROTO_TCP, TCP_KEEPIDLE, WG_CVAL_U64, 1000000000u)
SET(set_keepidle, IPPROTO_TCP, TCP_KEEPIDLE, 1000000000u, false)
GET(keepintvl, IPPROTO_TCP, TCP_KEEPINTVL, WG_CVAL_U64, 1000000000u)
SET(set_keepintvl, IPPROTO_TCP, TCP_KEEPINTVL, 1000000000u, false)
GET(keepcnt, IPPROTO_TCP, TCP_KEEPCNT, WG_CVAL_U32, 1)
SET(set_keepcnt, IPPROTO_TCP, TCP_KEEPCNT, 1, false)
GET(rcvbuf, SOL_SOCKET, SO_RCVBUF, WG_CVAL_U64, 1)
SET(set_rcvbuf, SOL_SOCKET, SO_RCVBUF, 1, false)
GET(sndbuf, SOL_SOCKET, SO_SNDBUF, WG_CVAL_U64, 1)
SET(set_sndbuf, SOL_SOCKET, SO_SNDBUF, 1, false)

static wg_trap *hop_limit(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  return s->family == AF_INET ? p2_sockopt_get(s, IPPROTO_IP, IP_TTL, WG_CVAL_U8, 1, r)
                              : p2_sockopt_get(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, WG_CVAL_U8, 1, r);
}
static wg_trap *set_hop_limit(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  if (!a[1].of.u) return p2_net_err(r, EC_INVALID_ARGUMENT);
  return s->family == AF_INET ? p2_sockopt_set(s, IPPROTO_IP, IP_TTL, a[1].of.u, 1, r)
                              : p2_sockopt_set(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, a[1].of.u, 1, r);
}

static wg_trap *subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  return p2_pollable_new(P2(env), 0, s, 0, r);
}

/* shutdown(shutdown-type: shutdown-type): receive, send, both */
static wg_trap *shutdown_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s || s->st != TS_CONNECTED) return p2_net_err(r, EC_INVALID_STATE);
  uint32_t how = a[1].of.var.disc;
  if (shutdown(s->fd, how == 0 ? SHUT_RD : how == 1 ? SHUT_WR : SHUT_RDWR) && errno != ENOTCONN)
    return p2_net_err(r, p2_errno_code(errno));
  if (how != 1) s->rd_shut = true;
  if (how != 0) s->wr_shut = true;
  return p2_net_ok(r, NULL);
}

/* [resource-drop]tcp-socket: its streams and pollables are its children (wasi-sockets tcp.wit,
 * wasmtime's resource table): dropping it before them traps, as in wasmtime. */
static wg_trap *tcp_drop(void *env, uint32_t rep) {
  p2_sock *s = p2_obj(P2(env), rep);
  bool children = s && s->refs > 1;
  p2_obj_drop(env, rep);
  return children ? wg_trap_new(WG_TRAP_HOST, "resource has children") : NULL;
}

/* ---------------------------------------------------------------- definitions */

#define SELF "func(self: borrow<tcp-socket>"
#define EC NET "#error-code"
#define RES(T) "result<" T ", " EC ">"
#define ADDR NET "#ip-socket-address"

static const struct {
  const char *name;
  wg_component_host_fn fn;
  const char *type;
} funcs[] = {
    {"[method]tcp-socket.start-bind", start_bind, SELF ", network: borrow<" NET "#network>, local-address: " ADDR ") -> " RES("_")},
    {"[method]tcp-socket.finish-bind", finish_bind, SELF ") -> " RES("_")},
    {"[method]tcp-socket.start-connect", start_connect, SELF ", network: borrow<" NET "#network>, remote-address: " ADDR ") -> " RES("_")},
    {"[method]tcp-socket.finish-connect", finish_connect,
     SELF ") -> " RES("tuple<wasi:io/streams" V "#input-stream, wasi:io/streams" V "#output-stream>")},
    {"[method]tcp-socket.start-listen", start_listen, SELF ") -> " RES("_")},
    {"[method]tcp-socket.finish-listen", finish_listen, SELF ") -> " RES("_")},
    {"[method]tcp-socket.accept", accept_,
     SELF ") -> " RES("tuple<tcp-socket, wasi:io/streams" V "#input-stream, wasi:io/streams" V "#output-stream>")},
    {"[method]tcp-socket.local-address", local_address, SELF ") -> " RES(ADDR)},
    {"[method]tcp-socket.remote-address", remote_address, SELF ") -> " RES(ADDR)},
    {"[method]tcp-socket.is-listening", is_listening, SELF ") -> bool"},
    {"[method]tcp-socket.address-family", address_family, SELF ") -> " NET "#ip-address-family"},
    {"[method]tcp-socket.set-listen-backlog-size", set_backlog, SELF ", value: u64) -> " RES("_")},
    {"[method]tcp-socket.keep-alive-enabled", keepalive, SELF ") -> " RES("bool")},
    {"[method]tcp-socket.set-keep-alive-enabled", set_keepalive, SELF ", value: bool) -> " RES("_")},
    {"[method]tcp-socket.keep-alive-idle-time", keepidle, SELF ") -> " RES("u64")},
    {"[method]tcp-socket.set-keep-alive-idle-time", set_keepidle, SELF ", value: u64) -> " RES("_")},
    {"[method]tcp-socket.keep-alive-interval", keepintvl, SELF ") -> " RES("u64")},
    {"[method]tcp-socket.set-keep-alive-interval", set_keepintvl, SELF ", value: u64) -> " RES("_")},
    {"[method]tcp-socket.keep-alive-count", keepcnt, SELF ") -> " RES("u32")},
    {"[method]tcp-socket.set-keep-alive-count", set_keepcnt, SELF ", value: u32) -> " RES("_")},
    {"[method]tcp-socket.hop-limit", hop_limit, SELF ") -> " RES("u8")},
    {"[method]tcp-socket.set-hop-limit", set_hop_limit, SELF ", value: u8) -> " RES("_")},
    {"[method]tcp-socket.receive-buffer-size", rcvbuf, SELF ") -> " RES("u64")},
    {"[method]tcp-socket.set-receive-buffer-size", set_rcvbuf, SELF ", value: u64) -> " RES("_")},
    {"[method]tcp-socket.send-buffer-size", sndbuf, SELF ") -> " RES("u64")},
    {"[method]tcp-socket.set-send-buffer-size", set_sndbuf, SELF ", value: u64) -> " RES("_")},
    {"[method]tcp-socket.subscribe", subscribe, SELF ") -> wasi:io/poll" V "#pollable"},
    {"[method]tcp-socket.shutdown", shutdown_, SELF ", shutdown-type: shutdown-type) -> " RES("_")},
};

bool p2_tcp_define(p2 *p, wg_component_linker *l, wg_error **e) {
  bool ok = wg_component_linker_define_resource_checked(l, TCP, "tcp-socket", tcp_drop, p, &p->tcp, e) &&
            wg_component_linker_define_type(l, TCP, "shutdown-type", "enum { receive, send, both }", e) &&
            wg_component_linker_define_func_typed(l, "wasi:sockets/tcp-create-socket" V, "create-tcp-socket",
                                                  "func(address-family: " NET "#ip-address-family) -> result<" TCP
                                                  "#tcp-socket, " EC ">",
                                                  create, p, NULL, e);
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, TCP, funcs[i].name, funcs[i].type, funcs[i].fn, p, NULL, e);
  return ok;
}
