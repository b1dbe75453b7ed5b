/*
 * p2_net.c: wasi:sockets 0.2.x, the shared part: the grants (denied unless
 * the embedder grants them, wg_wasi_p2_set_network), ip-socket-address
 * values, error codes, the object table every wasi:sockets resource lives
 * in, wasi:sockets/network, instance-network and ip-name-lookup. TCP is in
 * p2_tcp.c, UDP in p2_udp.c. Interfaces: WebAssembly/wasi-sockets 0.2
 * (network.wit, instance-network.wit, ip-name-lookup.wit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2_net.h"

#define V P2_V

/* ---------------------------------------------------------------- grants */

typedef struct rule {
  int family; /* 0: any address */
  uint8_t addr[16];
  int prefix; /* bits compared */
  int port;   /* -1: any */
} rule;

struct p2_netpolicy {
  bool tcp, udp, lookup;
  size_t n;
  rule *rules;
};

/* "*", or HOST[/PREFIX]:PORT with HOST `*`, an IPv4 address or [an IPv6 address], PORT a
 * number or `*`. */
static bool parse_rule(const char *pat, rule *r) {
  *r = (rule){.family = 0, .port = -1};
  if (!strcmp(pat, "*")) return true;
  const char *colon = strrchr(pat, ':');
  if (!colon || colon == pat) return false;
  if (strcmp(colon + 1, "*")) {
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 0 || port > 65535) return false;
    r->port = (int)port;
  }
  char host[80];
  size_t hl = (size_t)(colon - pat);
  if (hl >= sizeof host) return false;
  memcpy(host, pat, hl);
  host[hl] = 0;
  if (!strcmp(host, "*")) return true;
  char *slash = strrchr(host, '/');
  int prefix = -1;
  if (slash && (!strchr(slash, ']'))) {
    char *end;
    long v = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || v < 0 || v > 128) return false;
    prefix = (int)v;
    *slash = 0;
  }
  if (host[0] == '[') {
    size_t l = strlen(host);
    if (l < 3 || host[l - 1] != ']') return false;
    host[l - 1] = 0;
    if (inet_pton(AF_INET6, host + 1, r->addr) != 1) return false;
    r->family = AF_INET6;
    r->prefix = prefix < 0 ? 128 : prefix;
    return true;
  }
  if (inet_pton(AF_INET, host, r->addr) != 1 || prefix > 32) return false;
  r->family = AF_INET;
  r->prefix = prefix < 0 ? 32 : prefix;
  return true;
}

static void policy_free(struct p2_netpolicy *n) {
  if (n) free(n->rules);
  free(n);
}

bool wg_wasi_p2_set_network(wg_wasi_p2 *p, const wg_wasi_p2_network *net, char *err, size_t errlen) {
  struct p2_netpolicy *n = NULL;
  if (net) {
    n = calloc(1, sizeof *n);
    if (!n || !(n->rules = calloc(net->nallow ? net->nallow : 1, sizeof *n->rules))) {
      policy_free(n);
      snprintf(err, errlen, "out of memory");
      return false;
    }
    for (size_t i = 0; i < net->nallow; i++)
      if (!net->allow[i] || !parse_rule(net->allow[i], &n->rules[i])) {
        snprintf(err, errlen, "bad socket address pattern '%s' (want *, or ADDR:PORT: 127.0.0.1:8080, "
                              "10.0.0.0/8:*, [::1]:*, *:443)", net->allow[i] ? net->allow[i] : "(null)");
        policy_free(n);
        return false;
      }
    n->n = net->nallow;
    n->tcp = !net->no_tcp;
    n->udp = !net->no_udp;
    n->lookup = net->ip_name_lookup;
  }
  policy_free(p->net);
  p->net = n;
  return true;
}

bool p2_net_allows(p2 *p, bool udp) { return p->net && p->net->n && (udp ? p->net->udp : p->net->tcp); }
bool p2_net_allows_lookup(p2 *p) { return p->net && p->net->lookup; }

static bool prefix_eq(const uint8_t *a, const uint8_t *b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, (size_t)full)) return false;
  return !rest || ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool p2_net_allows_addr(p2 *p, const struct sockaddr *sa) {
  if (!p->net) return false;
  int port;
  const uint8_t *addr;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const void *)sa;
    port = ntohs(in->sin_port);
    addr = (const uint8_t *)&in->sin_addr;
  } else {
    const struct sockaddr_in6 *in = (const void *)sa;
    port = ntohs(in->sin6_port);
    addr = (const uint8_t *)&in->sin6_addr;
  }
  for (size_t i = 0; i < p->net->n; i++) {
    const rule *r = &p->net->rules[i];
    if (r->port >= 0 && r->port != port) continue;
    if (r->family && (r->family != sa->sa_family || !prefix_eq(addr, r->addr, r->prefix))) continue;
    return true;
  }
  return false;
}

/* ---------------------------------------------------------------- values, errors */

wg_trap *p2_oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

wg_cval *p2_box(wg_cval v) {
  wg_cval *b = wg_cval_array(1);
  if (b) *b = v;
  return b;
}

wg_trap *p2_net_err(wg_cval *r, uint32_t code) {
  r->kind = WG_CVAL_RESULT;
  r->of.var.disc = 1;
  r->of.var.val = p2_box((wg_cval){.kind = WG_CVAL_ENUM, .of.var = {code, NULL}});
  return r->of.var.val ? NULL : p2_oom();
}

wg_trap *p2_net_ok(wg_cval *r, wg_cval *payload) {
  r->kind = WG_CVAL_RESULT;
  r->of.var.disc = 0;
  r->of.var.val = payload;
  return NULL;
}

uint32_t p2_errno_code(int e) {
  switch (e) {
  case EACCES: case EPERM: return EC_ACCESS_DENIED;
  case EOPNOTSUPP: case EPROTONOSUPPORT: case EAFNOSUPPORT: return EC_NOT_SUPPORTED;
  case EINVAL: return EC_INVALID_ARGUMENT;
  case ENOMEM: case ENOBUFS: return EC_OUT_OF_MEMORY;
  case ETIMEDOUT: return EC_TIMEOUT;
  case EALREADY: return EC_CONCURRENCY_CONFLICT;
  case EAGAIN: case EINPROGRESS: return EC_WOULD_BLOCK;
  case EMFILE: case ENFILE: return EC_NEW_SOCKET_LIMIT;
  case EADDRNOTAVAIL: return EC_ADDRESS_NOT_BINDABLE;
  case EADDRINUSE: return EC_ADDRESS_IN_USE;
  case EHOSTUNREACH: case EHOSTDOWN: case ENETUNREACH: case ENETDOWN: return EC_REMOTE_UNREACHABLE;
  case ECONNREFUSED: return EC_CONNECTION_REFUSED;
  case ECONNRESET: case EPIPE: return EC_CONNECTION_RESET;
  case ECONNABORTED: return EC_CONNECTION_ABORTED;
  case EMSGSIZE: return EC_DATAGRAM_TOO_LARGE;
  default: return EC_UNKNOWN;
  }
}

/* ip-socket-address: variant { ipv4(record { port: u16, address: tuple<u8 x4> }),
 *                              ipv6(record { port: u16, flow-info: u32, address: tuple<u16 x8>, scope-id: u32 }) } */
bool p2_addr_from_cval(const wg_cval *v, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (v->kind != WG_CVAL_VARIANT || !v->of.var.val || v->of.var.val->kind != WG_CVAL_RECORD) return false;
  const wg_cval *f = v->of.var.val->of.seq.ptr;
  size_t nf = v->of.var.val->of.seq.len;
  if (v->of.var.disc == 0) {
    if (nf != 2 || f[1].of.seq.len != 4) return false;
    struct sockaddr_in *in = (void *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)f[0].of.u);
    uint8_t *b = (uint8_t *)&in->sin_addr;
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)f[1].of.seq.ptr[i].of.u;
    *len = sizeof *in;
    return true;
  }
  if (nf != 4 || f[2].of.seq.len != 8) return false;
  struct sockaddr_in6 *in = (void *)ss;
  in->sin6_family = AF_INET6;
  in->sin6_port = htons((uint16_t)f[0].of.u);
  in->sin6_flowinfo = htonl((uint32_t)f[1].of.u);
  for (int i = 0; i < 8; i++) {
    uint16_t w = (uint16_t)f[2].of.seq.ptr[i].of.u;
    in->sin6_addr.s6_addr[2 * i] = (uint8_t)(w >> 8);
    in->sin6_addr.s6_addr[2 * i + 1] = (uint8_t)w;
  }
  in->sin6_scope_id = (uint32_t)f[3].of.u;
  *len = sizeof *in;
  return true;
}

/* the tuple of an address's parts (u8 x4 or u16 x8) */
static bool addr_tuple(const struct sockaddr *sa, wg_cval *t) {
  bool v4 = sa->sa_family == AF_INET;
  size_t n = v4 ? 4 : 8;
  t->kind = WG_CVAL_TUPLE;
  if (!(t->of.seq.ptr = wg_cval_array(n))) return false;
  t->of.seq.len = n;
  const uint8_t *b = v4 ? (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
                        : ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
  for (size_t i = 0; i < n; i++)
    t->of.seq.ptr[i] = v4 ? (wg_cval){.kind = WG_CVAL_U8, .of.u = b[i]}
                          : (wg_cval){.kind = WG_CVAL_U16, .of.u = (uint64_t)b[2 * i] << 8 | b[2 * i + 1]};
  return true;
}

bool p2_addr_to_cval(const struct sockaddr *sa, wg_cval *v) {
  bool v4 = sa->sa_family == AF_INET;
  wg_cval *rec = p2_box((wg_cval){.kind = WG_CVAL_RECORD});
  *v = (wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {v4 ? 0 : 1, rec}};
  if (!rec || !(rec->of.seq.ptr = wg_cval_array(v4 ? 2 : 4))) return false;
  rec->of.seq.len = v4 ? 2 : 4;
  wg_cval *f = rec->of.seq.ptr;
  if (v4) {
    const struct sockaddr_in *in = (const void *)sa;
    f[0] = (wg_cval){.kind = WG_CVAL_U16, .of.u = ntohs(in->sin_port)};
    return addr_tuple(sa, &f[1]);
  }
  const struct sockaddr_in6 *in = (const void *)sa;
  f[0] = (wg_cval){.kind = WG_CVAL_U16, .of.u = ntohs(in->sin6_port)};
  f[1] = (wg_cval){.kind = WG_CVAL_U32, .of.u = ntohl(in->sin6_flowinfo)};
  f[3] = (wg_cval){.kind = WG_CVAL_U32, .of.u = in->sin6_scope_id};
  return addr_tuple(sa, &f[2]);
}

int p2_check_local(int family, const struct sockaddr *sa) {
  if (sa->sa_family != family) return EC_INVALID_ARGUMENT;
  if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr))
    return EC_INVALID_ARGUMENT;
  return -1;
}

int p2_check_remote(int family, const struct sockaddr *sa) {
  int c = p2_check_local(family, sa);
  if (c >= 0) return c;
  if (family == AF_INET) {
    const struct sockaddr_in *in = (const void *)sa;
    if (!in->sin_port || in->sin_addr.s_addr == htonl(INADDR_ANY)) return EC_INVALID_ARGUMENT;
  } else {
    const struct sockaddr_in6 *in = (const void *)sa;
    if (!in->sin6_port || IN6_IS_ADDR_UNSPECIFIED(&in->sin6_addr)) return EC_INVALID_ARGUMENT;
  }
  return -1;
}

wg_trap *p2_sockopt_get(p2_sock *s, int level, int name, wg_cval_kind kind, uint64_t scale, wg_cval *r) {
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(s->fd, level, name, &v, &l)) return p2_net_err(r, p2_errno_code(errno));
  uint64_t u = (uint64_t)(v < 0 ? 0 : v) * scale;
  return p2_net_ok(r, kind == WG_CVAL_BOOL ? p2_box((wg_cval){.kind = kind, .of.b = v != 0})
                                           : p2_box((wg_cval){.kind = kind, .of.u = u}));
}

wg_trap *p2_sockopt_set(p2_sock *s, int level, int name, uint64_t v, uint64_t scale, wg_cval *r) {
  uint64_t x = v / scale;
  if (scale > 1 && v && !x) x = 1; /* a duration below the option's unit rounds up */
  int iv = x > INT32_MAX ? INT32_MAX : (int)x;
  if (setsockopt(s->fd, level, name, &iv, sizeof iv)) return p2_net_err(r, p2_errno_code(errno));
  return p2_net_ok(r, NULL);
}

wg_trap *p2_sock_address(p2_sock *s, bool ok, bool peer, wg_cval *r) {
  if (!ok) return p2_net_err(r, EC_INVALID_STATE);
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if ((peer ? getpeername : getsockname)(s->fd, (struct sockaddr *)&ss, &l))
    return p2_net_err(r, p2_errno_code(errno));
  wg_cval *v = p2_box((wg_cval){0});
  if (!v || !p2_addr_to_cval((struct sockaddr *)&ss, v)) {
    wg_cval_free(v);
    free(v);
    return p2_oom();
  }
  return p2_net_ok(r, v);
}

/* ---------------------------------------------------------------- objects */

p2_sock *p2_obj_new(p2 *p, p2_objkind kind, uint32_t *rep) {
  uint32_t i = 0;
  while (i < p->nobjs && p->objs[i]) i++;
  if (i == p->nobjs) {
    if (p->nobjs >= 65536) return NULL;
    p2_sock **v = realloc(p->objs, (p->nobjs + 1) * sizeof *v);
    if (!v) return NULL;
    p->objs = v;
    p->objs[p->nobjs++] = NULL;
  }
  p2_sock *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->kind = kind;
  s->refs = 1;
  s->fd = -1;
  s->lookup_err = -1;
  p->objs[i] = s;
  *rep = i;
  return s;
}

p2_sock *p2_obj(p2 *p, uint32_t rep) { return rep < p->nobjs ? p->objs[rep] : NULL; }

void p2_sock_ref(p2_sock *s) { s->refs++; }

void p2_sock_unref(p2_sock *s) {
  if (!s || --s->refs > 0) return;
  if (s->fd >= 0) close(s->fd);
  if (s->parent) p2_sock_unref(s->parent);
  free(s->addrs);
  free(s);
}

void p2_obj_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  p2_sock *s = p2_obj(p, rep);
  if (!s) return;
  p->objs[rep] = NULL;
  p2_sock_unref(s);
}

void p2_net_free(p2 *p) {
  for (uint32_t i = 0; i < p->nobjs; i++) p2_sock_unref(p->objs[i]);
  free(p->objs);
  p->objs = NULL;
  p->nobjs = 0;
  policy_free(p->net);
  p->net = NULL;
}

int p2_sock_pollfd(p2_sock *s, short events, short *want) {
  if (s->kind == OBJ_UDP_IN || s->kind == OBJ_UDP_OUT) {
    *want = s->kind == OBJ_UDP_IN ? POLLIN : POLLOUT;
    return s->parent && s->parent->fd >= 0 ? s->parent->fd : -1;
  }
  if (s->fd < 0) return -1;
  if (events) {
    *want = events;
    return s->fd;
  }
  /* the socket's own pollable: what its state waits on */
  if (s->kind == OBJ_TCP && s->st == TS_CONNECT_STARTED && !s->connect_err) {
    *want = POLLOUT;
    return s->fd;
  }
  if (s->kind == OBJ_TCP && s->st == TS_LISTENING) {
    *want = POLLIN;
    return s->fd;
  }
  return -1;
}

/* ---------------------------------------------------------------- network, instance-network */

static wg_trap *instance_network(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  *r = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {0, P2(env)->network}};
  return NULL;
}

/* ---------------------------------------------------------------- ip-name-lookup */

/* a host name as getaddrinfo may take it: letters, digits, '-', '_', '.', 1..253 bytes */
static bool valid_name(const char *s, size_t n) {
  if (!n || n > 253) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == ':' || c == '[' || c == ']'))
      return false;
  }
  return true;
}

static uint32_t eai_code(int e) {
  switch (e) {
  case EAI_NONAME: case EAI_NODATA: case EAI_ADDRFAMILY: return EC_NAME_UNRESOLVABLE;
  case EAI_AGAIN: return EC_TEMPORARY_RESOLVER_FAILURE;
  case EAI_FAIL: return EC_PERMANENT_RESOLVER_FAILURE;
  case EAI_MEMORY: return EC_OUT_OF_MEMORY;
  default: return EC_UNKNOWN;
  }
}

/* resolve-addresses(network: borrow<network>, name: string) -> result<resolve-address-stream, error-code>:
 * the lookup runs here (getaddrinfo; the run may block, as wasmtime's CLI does in a worker);
 * its outcome is read with resolve-next-address. An IP address literal resolves to itself. */
static wg_trap *resolve_addresses(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  if (!p2_net_allows_lookup(p)) return p2_net_err(r, EC_ACCESS_DENIED);
  const char *s = a[1].of.str.ptr;
  size_t n = a[1].of.str.len;
  if (!valid_name(s, n)) return p2_net_err(r, EC_INVALID_ARGUMENT);
  char name[256];
  memcpy(name, s, n);
  name[n] = 0;
  if (name[0] == '[' && name[n - 1] == ']' && n > 2) { /* "[::1]" */
    memmove(name, name + 1, n - 2);
    name[n - 2] = 0;
  }
  uint32_t rep;
  p2_sock *o = p2_obj_new(p, OBJ_RESOLVE, &rep);
  if (!o) return p2_oom();
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  int e = getaddrinfo(name, NULL, &hints, &res);
  if (e) {
    o->lookup_err = (int)eai_code(e);
  } else {
    uint32_t cnt = 0;
    for (struct addrinfo *i = res; i; i = i->ai_next) cnt++;
    if (!(o->addrs = calloc(cnt ? cnt : 1, sizeof *o->addrs))) {
      freeaddrinfo(res);
      p2_obj_drop(p, rep);
      return p2_oom();
    }
    for (struct addrinfo *i = res; i; i = i->ai_next) {
      if (i->ai_family != AF_INET && i->ai_family != AF_INET6) continue;
      if (i->ai_family == AF_INET6 &&
          IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)(const void *)i->ai_addr)->sin6_addr))
        continue; /* never an IPv4-mapped address */
      struct sockaddr_storage ss = {0};
      memcpy(&ss, i->ai_addr, i->ai_addrlen);
      bool dup = false;
      for (uint32_t k = 0; k < o->naddrs && !dup; k++) dup = !memcmp(&o->addrs[k], &ss, sizeof ss);
      if (!dup) o->addrs[o->naddrs++] = ss;
    }
    freeaddrinfo(res);
    if (!o->naddrs) o->lookup_err = EC_NAME_UNRESOLVABLE;
  }
  return p2_net_ok(r, p2_box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, p->resolve}}));
}

/* resolve-next-address() -> result<option<ip-address>, error-code> */
static wg_trap *resolve_next(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_sock *o = p2_obj(P2(env), a[0].of.handle.rep);
  if (!o) return p2_net_err(r, EC_INVALID_STATE);
  if (o->lookup_err >= 0) return p2_net_err(r, (uint32_t)o->lookup_err);
  if (o->next >= o->naddrs) return p2_net_ok(r, p2_box((wg_cval){.kind = WG_CVAL_OPTION}));
  const struct sockaddr *sa = (const struct sockaddr *)&o->addrs[o->next++];
  wg_cval *t = p2_box((wg_cval){0});
  wg_cval *ip = p2_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {sa->sa_family == AF_INET ? 0 : 1, t}});
  wg_cval *opt = p2_box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, ip}});
  if (!t || !ip || !opt || !addr_tuple(sa, t)) {
    if (opt) wg_cval_free(opt), free(opt);
    else if (ip) wg_cval_free(ip), free(ip);
    else free(t);
    return p2_oom();
  }
  return p2_net_ok(r, opt);
}

static wg_trap *resolve_subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  return p2_pollable_new(P2(env), 0, NULL, 0, r); /* the lookup is done: always ready */
}

/* ---------------------------------------------------------------- definitions */

static const char *const types[][2] = {
    {"error-code", "enum { unknown, access-denied, not-supported, invalid-argument, out-of-memory, timeout, "
                   "concurrency-conflict, not-in-progress, would-block, invalid-state, new-socket-limit, "
                   "address-not-bindable, address-in-use, remote-unreachable, connection-refused, connection-reset, "
                   "connection-aborted, datagram-too-large, name-unresolvable, temporary-resolver-failure, "
                   "permanent-resolver-failure }"},
    {"ip-address-family", "enum { ipv4, ipv6 }"},
    {"ipv4-address", "tuple<u8, u8, u8, u8>"},
    {"ipv6-address", "tuple<u16, u16, u16, u16, u16, u16, u16, u16>"},
    {"ip-address", "variant { ipv4(ipv4-address), ipv6(ipv6-address) }"},
    {"ipv4-socket-address", "record { port: u16, address: ipv4-address }"},
    {"ipv6-socket-address", "record { port: u16, flow-info: u32, address: ipv6-address, scope-id: u32 }"},
    {"ip-socket-address", "variant { ipv4(ipv4-socket-address), ipv6(ipv6-socket-address) }"},
};

bool p2_net_define(p2 *p, wg_component_linker *l, wg_error **e) {
  bool ok = wg_component_linker_define_resource(l, NET, "network", NULL, NULL, &p->network, e);
  for (size_t i = 0; ok && i < sizeof types / sizeof *types; i++)
    ok = wg_component_linker_define_type(l, NET, types[i][0], types[i][1], e);
  const char *ipl = "wasi:sockets/ip-name-lookup" V;
  ok = ok && wg_component_linker_define_resource(l, ipl, "resolve-address-stream", p2_obj_drop, p, &p->resolve, e) &&
       wg_component_linker_define_func_typed(l, "wasi:sockets/instance-network" V, "instance-network",
                                             "func() -> " NET "#network", instance_network, p, NULL, e) &&
       wg_component_linker_define_func_typed(
           l, ipl, "resolve-addresses",
           "func(network: borrow<" NET "#network>, name: string) -> result<resolve-address-stream, " NET "#error-code>",
           resolve_addresses, p, NULL, e) &&
       wg_component_linker_define_func_typed(
           l, ipl, "[method]resolve-address-stream.resolve-next-address",
           "func(self: borrow<resolve-address-stream>) -> result<option<" NET "#ip-address>, " NET "#error-code>",
           resolve_next, p, NULL, e) &&
       wg_component_linker_define_func_typed(l, ipl, "[method]resolve-address-stream.subscribe",
                                             "func(self: borrow<resolve-address-stream>) -> wasi:io/poll" V "#pollable",
                                             resolve_subscribe, p, NULL, e);
  return ok && p2_tcp_define(p, l, e) && p2_udp_define(p, l, e);
}
