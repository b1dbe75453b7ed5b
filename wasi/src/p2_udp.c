/*
 * p2_udp.c: wasi:sockets/udp and udp-create-socket 0.2.x (WebAssembly/
 * wasi-sockets udp.wit) on non-blocking host sockets: start-bind binds,
 * stream(remote) (dis)connects the socket and returns a new pair of
 * datagram streams (only the latest pair works: older ones fail with
 * invalid-state), incoming-datagram-stream.receive takes up to max-results
 * datagrams without blocking, outgoing-datagram-stream.send sends what
 * check-send permitted (sending more traps, as the spec requires). Every
 * address is checked against the grants (p2_net.c): access-denied unless
 * granted.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2_net.h"

#define V P2_V
#define UDP "wasi:sockets/udp" V
#define MAX_DATAGRAM 65535u
#define SEND_PERMIT 64u /* datagrams check-send allows at once */

static p2_sock *sock_of(void *env, const wg_cval *a) { return p2_obj(P2(env), a[0].of.handle.rep); }

/* create-udp-socket(address-family: ip-address-family) -> result<udp-socket, error-code> */
static wg_trap *create(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  if (!p2_net_allows(p, true)) return p2_net_err(r, EC_ACCESS_DENIED);
  int fam = a[0].of.var.disc ? AF_INET6 : AF_INET;
  int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return p2_net_err(r, p2_errno_code(errno));
  if (fam == AF_INET6) {
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  uint32_t rep;
  p2_sock *s = p2_obj_new(p, OBJ_UDP, &rep);
  if (!s) { /* the context's 65,536 objects, or memory: no new socket */
    close(fd);
    return p2_net_err(r, EC_NEW_SOCKET_LIMIT);
  }
  s->fd = fd;
  s->family = fam;
  return p2_net_ok(r, p2_box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, p->udp}}));
}

static wg_trap *start_bind(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  if (s->st == TS_BIND_STARTED) return p2_net_err(r, EC_CONCURRENCY_CONFLICT);
  if (s->st != TS_UNBOUND) return p2_net_err(r, EC_INVALID_STATE);
  struct sockaddr_storage ss;
  socklen_t len;
  if (!p2_addr_from_cval(&a[2], &ss, &len)) return p2_net_err(r, EC_INVALID_ARGUMENT);
  int c = p2_check_local(s->family, (struct sockaddr *)&ss);
  if (c >= 0) return p2_net_err(r, (uint32_t)c);
  if (!p2_net_allows_addr(p, (struct sockaddr *)&ss)) return p2_net_err(r, EC_ACCESS_DENIED);
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

/* stream(remote-address: option<ip-socket-address>)
 *   -> result<tuple<incoming-datagram-stream, outgoing-datagram-stream>, error-code> */
static wg_trap *stream(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *s = sock_of(env, a);
  if (!s || s->st != TS_BOUND) return p2_net_err(r, EC_INVALID_STATE);
  if (a[1].of.var.disc) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (!p2_addr_from_cval(a[1].of.var.val, &ss, &len)) return p2_net_err(r, EC_INVALID_ARGUMENT);
    int c = p2_check_remote(s->family, (struct sockaddr *)&ss);
    if (c >= 0) return p2_net_err(r, (uint32_t)c);
    if (!p2_net_allows_addr(p, (struct sockaddr *)&ss)) return p2_net_err(r, EC_ACCESS_DENIED);
    if (connect(s->fd, (struct sockaddr *)&ss, len)) return p2_net_err(r, p2_errno_code(errno));
    s->udp_connected = true;
  } else if (s->udp_connected) {
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    connect(s->fd, &un, sizeof un); /* dissolves the association (EAFNOSUPPORT on some kernels, harmless) */
    s->udp_connected = false;
  }
  s->gen++;
  uint32_t ri, ro;
  p2_sock *in = p2_obj_new(p, OBJ_UDP_IN, &ri);
  p2_sock *out = in ? p2_obj_new(p, OBJ_UDP_OUT, &ro) : NULL;
  wg_cval *t = out ? p2_box((wg_cval){.kind = WG_CVAL_TUPLE}) : NULL;
  if (!t || !(t->of.seq.ptr = wg_cval_array(2))) {
    if (in) p2_obj_drop(p, ri);
    if (out) p2_obj_drop(p, ro);
    free(t);
    return p2_oom();
  }
  in->parent = out->parent = s;
  p2_sock_ref(s), p2_sock_ref(s);
  in->gen = out->gen = s->gen;
  t->of.seq.len = 2;
  t->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {ri, p->udp_in}};
  t->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {ro, p->udp_out}};
  return p2_net_ok(r, t);
}

/* a datagram stream that still works: the latest pair of a socket that is still there */
static p2_sock *current(void *env, const wg_cval *a) {
  p2_sock *d = sock_of(env, a);
  return d && d->parent && d->parent->gen == d->gen ? d : NULL;
}

/* receive(max-results: u64) -> result<list<incoming-datagram>, error-code> */
static wg_trap *receive(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *d = current(env, a);
  if (!d) return p2_net_err(r, EC_INVALID_STATE);
  size_t max = a[1].of.u > SEND_PERMIT ? SEND_PERMIT : (size_t)a[1].of.u;
  wg_cval *list = p2_box((wg_cval){.kind = WG_CVAL_LIST});
  uint8_t *buf = malloc(MAX_DATAGRAM);
  if (!list || !buf || !(list->of.seq.ptr = wg_cval_array(max ? max : 1))) {
    free(list), free(buf);
    return p2_oom();
  }
  int err = 0;
  while (list->of.seq.len < max) {
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    ssize_t k = recvfrom(d->parent->fd, buf, MAX_DATAGRAM, MSG_DONTWAIT, (struct sockaddr *)&ss, &l);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    wg_cval *rec = &list->of.seq.ptr[list->of.seq.len++];
    rec->kind = WG_CVAL_RECORD;
    bool ok = (rec->of.seq.ptr = wg_cval_array(2)) != NULL;
    if (ok) rec->of.seq.len = 2;
    if (!ok || !wg_cval_bytes(&rec->of.seq.ptr[0], buf, (size_t)k) ||
        !p2_addr_to_cval((struct sockaddr *)&ss, &rec->of.seq.ptr[1])) {
      free(buf);
      wg_cval_free(list);
      free(list);
      return p2_oom();
    }
  }
  free(buf);
  if (err && !list->of.seq.len) { /* an error is reported only when nothing was received */
    wg_cval_free(list);
    free(list);
    return p2_net_err(r, p2_errno_code(err) == EC_CONNECTION_REFUSED ? EC_REMOTE_UNREACHABLE : p2_errno_code(err));
  }
  return p2_net_ok(r, list);
}

/* check-send() -> result<u64, error-code>: how many datagrams the next send may take */
static wg_trap *check_send(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *d = current(env, a);
  if (!d) return p2_net_err(r, EC_INVALID_STATE);
  struct pollfd pf = {.fd = d->parent->fd, .events = POLLOUT};
  d->permit = poll(&pf, 1, 0) > 0 && (pf.revents & POLLOUT) ? SEND_PERMIT : 0;
  return p2_net_ok(r, p2_box((wg_cval){.kind = WG_CVAL_U64, .of.u = d->permit}));
}

/* send(datagrams: list<outgoing-datagram>) -> result<u64, error-code> */
static wg_trap *send_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  p2_sock *d = current(env, a);
  if (!d) return p2_net_err(r, EC_INVALID_STATE);
  size_t n = a[1].of.seq.len;
  if (n > d->permit)
    return wg_trap_new(WG_TRAP_HOST, "outgoing-datagram-stream.send: more datagrams than check-send permitted");
  d->permit = 0;
  p2_sock *s = d->parent;
  uint64_t sent = 0;
  int code = -1;
  for (size_t i = 0; i < n && code < 0; i++) {
    const wg_cval *dg = &a[1].of.seq.ptr[i];
    const wg_cval *data = &dg->of.seq.ptr[0], *ra = &dg->of.seq.ptr[1];
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (ra->of.var.disc) {
      if (!p2_addr_from_cval(ra->of.var.val, &ss, &len)) code = EC_INVALID_ARGUMENT;
      else code = p2_check_remote(s->family, (struct sockaddr *)&ss);
      if (code < 0 && s->udp_connected) { /* in connected mode, only to the connected peer */
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        if (getpeername(s->fd, (struct sockaddr *)&peer, &pl) || pl != len || memcmp(&peer, &ss, len))
          code = EC_INVALID_ARGUMENT;
        len = 0; /* send() on the connected socket */
      }
      if (code < 0 && len && !p2_net_allows_addr(p, (struct sockaddr *)&ss)) code = EC_ACCESS_DENIED;
    } else if (!s->udp_connected) {
      code = EC_INVALID_ARGUMENT;
    }
    if (code >= 0) break;
    if (data->of.bytes.len > MAX_DATAGRAM) {
      code = EC_DATAGRAM_TOO_LARGE;
      break;
    }
    ssize_t k;
    do k = len ? sendto(s->fd, data->of.bytes.ptr, data->of.bytes.len, MSG_DONTWAIT | MSG_NOSIGNAL,
                        (struct sockaddr *)&ss, len)
               : send(s->fd, data->of.bytes.ptr, data->of.bytes.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (k < 0 && errno == EINTR);
    if (k < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      code = (int)p2_errno_code(errno);
      if (code == EC_CONNECTION_REFUSED) code = EC_REMOTE_UNREACHABLE;
      break;
    }
    sent++;
  }
  if (code >= 0 && !sent) return p2_net_err(r, (uint32_t)code);
  return p2_net_ok(r, p2_box((wg_cval){.kind = WG_CVAL_U64, .of.u = sent}));
}

static wg_trap *local_address(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  return p2_sock_address(s, s->st != TS_UNBOUND, false, r);
}

static wg_trap *remote_address(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  return p2_sock_address(s, s && s->udp_connected, true, r);
}

static wg_trap *address_family(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  *r = (wg_cval){.kind = WG_CVAL_ENUM, .of.var = {s && s->family == AF_INET6 ? 1 : 0, NULL}};
  return NULL;
}

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
static wg_trap *bufsize(void *env, const wg_cval *a, int opt, wg_cval *r) {
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  return p2_sockopt_get(s, SOL_SOCKET, opt, WG_CVAL_U64, 1, r);
}
static wg_trap *set_bufsize(void *env, const wg_cval *a, int opt, wg_cval *r) {
  p2_sock *s = sock_of(env, a);
  if (!s) return p2_net_err(r, EC_INVALID_STATE);
  if (!a[1].of.u) return p2_net_err(r, EC_INVALID_ARGUMENT);
  return p2_sockopt_set(s, SOL_SOCKET, opt, a[1].of.u, 1, r);
}
static wg_trap *rcvbuf(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return bufsize(env, a, SO_RCVBUF, r);
}
static wg_trap *sndbuf(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return bufsize(env, a, SO_SNDBUF, r);
}
static wg_trap *set_rcvbuf(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return set_bufsize(env, a, SO_RCVBUF, r);
}
static wg_trap *set_sndbuf(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return set_bufsize(env, a, SO_SNDBUF, r);
}

/* a udp-socket's pollable is always ready (no operation of its own waits); a datagram
 * stream's waits on the socket (receive: readable, send: writable) */
static wg_trap *subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *s = sock_of(env, a);
  return p2_pollable_new(P2(env), 0, s, 0, r);
}

#define EC NET "#error-code"
#define RES(T) "result<" T ", " EC ">"
#define ADDR NET "#ip-socket-address"
#define SELF "func(self: borrow<udp-socket>"

static const struct {
  const char *name;
  wg_component_host_fn fn;
  const char *type;
} funcs[] = {
    {"[method]udp-socket.start-bind", start_bind, SELF ", network: borrow<" NET "#network>, local-address: " ADDR ") -> " RES("_")},
    {"[method]udp-socket.finish-bind", finish_bind, SELF ") -> " RES("_")},
    {"[method]udp-socket.stream", stream,
     SELF ", remote-address: option<" ADDR ">) -> " RES("tuple<incoming-datagram-stream, outgoing-datagram-stream>")},
    {"[method]udp-socket.local-address", local_address, SELF ") -> " RES(ADDR)},
    {"[method]udp-socket.remote-address", remote_address, SELF ") -> " RES(ADDR)},
    {"[method]udp-socket.address-family", address_family, SELF ") -> " NET "#ip-address-family"},
    {"[method]udp-socket.unicast-hop-limit", hop_limit, SELF ") -> " RES("u8")},
    {"[method]udp-socket.set-unicast-hop-limit", set_hop_limit, SELF ", value: u8) -> " RES("_")},
    {"[method]udp-socket.receive-buffer-size", rcvbuf, SELF ") -> " RES("u64")},
    {"[method]udp-socket.set-receive-buffer-size", set_rcvbuf, SELF ", value: u64) -> " RES("_")},
    {"[method]udp-socket.send-buffer-size", sndbuf, SELF ") -> " RES("u64")},
    {"[method]udp-socket.set-send-buffer-size", set_sndbuf, SELF ", value: u64) -> " RES("_")},
    {"[method]udp-socket.subscribe", subscribe, SELF ") -> wasi:io/poll" V "#pollable"},
    {"[method]incoming-datagram-stream.receive", receive,
     "func(self: borrow<incoming-datagram-stream>, max-results: u64) -> " RES("list<incoming-datagram>")},
    {"[method]incoming-datagram-stream.subscribe", subscribe,
     "func(self: borrow<incoming-datagram-stream>) -> wasi:io/poll" V "#pollable"},
    {"[method]outgoing-datagram-stream.check-send", check_send,
     "func(self: borrow<outgoing-datagram-stream>) -> " RES("u64")},
    {"[method]outgoing-datagram-stream.send", send_,
     "func(self: borrow<outgoing-datagram-stream>, datagrams: list<outgoing-datagram>) -> " RES("u64")},
    {"[method]outgoing-datagram-stream.subscribe", subscribe,
     "func(self: borrow<outgoing-datagram-stream>) -> wasi:io/poll" V "#pollable"},
};

bool p2_udp_define(p2 *p, wg_component_linker *l, wg_error **e) {
  bool ok = wg_component_linker_define_resource(l, UDP, "udp-socket", p2_obj_drop, p, &p->udp, e) &&
            wg_component_linker_define_resource(l, UDP, "incoming-datagram-stream", p2_obj_drop, p, &p->udp_in, e) &&
            wg_component_linker_define_resource(l, UDP, "outgoing-datagram-stream", p2_obj_drop, p, &p->udp_out, e) &&
            wg_component_linker_define_type(l, UDP, "incoming-datagram",
                                            "record { data: list<u8>, remote-address: " ADDR " }", e) &&
            wg_component_linker_define_type(l, UDP, "outgoing-datagram",
                                            "record { data: list<u8>, remote-address: option<" ADDR "> }", e) &&
            wg_component_linker_define_func_typed(l, "wasi:sockets/udp-create-socket" V, "create-udp-socket",
                                                  "func(address-family: " NET "#ip-address-family) -> result<" UDP
                                                  "#udp-socket, " EC ">",
                                                  create, p, NULL, e);
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, UDP, funcs[i].name, funcs[i].type, funcs[i].fn, p, NULL, e);
  return ok;
}
