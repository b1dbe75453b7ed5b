/*
 * p2_net.h: what the wasi:sockets files share (p2_net.c: grants, addresses,
 * error codes, the object table, network and ip-name-lookup; p2_tcp.c;
 * p2_udp.c). Every wasi:sockets resource's rep is an index into the
 * context's object table (p->objs); the object's kind says what it is, so a
 * rep of one resource type never reaches another's code.
 */
#ifndef WG_P2_NET_H
#define WG_P2_NET_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "p2.h"

#define NET "wasi:sockets/network" P2_V

/* wasi:sockets/network error-code (0.2.x), in declaration order */
enum {
  EC_UNKNOWN, EC_ACCESS_DENIED, EC_NOT_SUPPORTED, EC_INVALID_ARGUMENT, EC_OUT_OF_MEMORY, EC_TIMEOUT,
  EC_CONCURRENCY_CONFLICT, EC_NOT_IN_PROGRESS, EC_WOULD_BLOCK, EC_INVALID_STATE, EC_NEW_SOCKET_LIMIT,
  EC_ADDRESS_NOT_BINDABLE, EC_ADDRESS_IN_USE, EC_REMOTE_UNREACHABLE, EC_CONNECTION_REFUSED,
  EC_CONNECTION_RESET, EC_CONNECTION_ABORTED, EC_DATAGRAM_TOO_LARGE, EC_NAME_UNRESOLVABLE,
  EC_TEMPORARY_RESOLVER_FAILURE, EC_PERMANENT_RESOLVER_FAILURE,
};

typedef enum { OBJ_TCP = 1, OBJ_UDP, OBJ_UDP_IN, OBJ_UDP_OUT, OBJ_RESOLVE } p2_objkind;

/* A TCP socket's states (wasi-sockets TcpSocketOperationalSemantics.md) */
typedef enum {
  TS_UNBOUND, TS_BIND_STARTED, TS_BOUND, TS_LISTEN_STARTED, TS_LISTENING, TS_CONNECT_STARTED, TS_CONNECTED,
  TS_CLOSED
} p2_tcpstate;

struct p2_sock {
  p2_objkind kind;
  int refs;       /* the guest's handle, its streams and pollables: freed at 0 */
  int fd;         /* the host socket (OBJ_TCP, OBJ_UDP), non-blocking; -1: none */
  int family;     /* AF_INET or AF_INET6 */
  p2_tcpstate st; /* TCP; UDP uses TS_UNBOUND, TS_BIND_STARTED, TS_BOUND */
  int connect_err;       /* a connect that failed at start, reported by finish-connect */
  bool rd_shut, wr_shut; /* TCP shutdown(receive / send) */
  int backlog;
  /* UDP: whether stream() set a remote address, and which pair of datagram streams is current */
  bool udp_connected;
  uint32_t gen;
  /* OBJ_UDP_IN, OBJ_UDP_OUT: the socket, the generation made in, and check-send's permit */
  p2_sock *parent;
  uint64_t permit;
  /* OBJ_RESOLVE: the addresses found (sockaddr_in6 or _in), the next one, or the lookup's error */
  struct sockaddr_storage *addrs;
  uint32_t naddrs, next;
  int lookup_err; /* -1: none */
};

/* A new object of `kind` (refs 1, fd -1) in p->objs; its rep in *rep. NULL on OOM or when the
 * context holds 65,536 objects already (creating a socket is then new-socket-limit). */
p2_sock *p2_obj_new(p2 *p, p2_objkind kind, uint32_t *rep);
/* The object at rep (NULL when none: the engine checked the handle's type, so kind matches). */
p2_sock *p2_obj(p2 *p, uint32_t rep);
/* The resource destructor shared by every wasi:sockets type: the slot is freed, the object
 * unreferenced. */
void p2_obj_drop(void *env, uint32_t rep);

/* The grants: whether the context may use TCP / UDP / name lookup at all, and whether it may
 * bind, connect or send to address `sa`. */
bool p2_net_allows(p2 *p, bool udp);
bool p2_net_allows_lookup(p2 *p);
bool p2_net_allows_addr(p2 *p, const struct sockaddr *sa);

/* ip-socket-address <-> sockaddr. from_cval: false when the value is malformed (cannot happen
 * for a typed argument). */
bool p2_addr_from_cval(const wg_cval *v, struct sockaddr_storage *ss, socklen_t *len);
bool p2_addr_to_cval(const struct sockaddr *sa, wg_cval *v);
/* Checks a remote address as connect and send do: its family must be the socket's, and it
 * must not be the any-address, port 0, or (IPv6 socket) IPv4-mapped: EC_INVALID_ARGUMENT or -1. */
int p2_check_remote(int family, const struct sockaddr *sa);
/* Same for a local address (bind): family, and no IPv4-mapped address. */
int p2_check_local(int family, const struct sockaddr *sa);

/* errno -> error-code */
uint32_t p2_errno_code(int e);
/* Results: result<_, error-code> err(code); ok(payload, NULL: none) */
wg_trap *p2_net_err(wg_cval *r, uint32_t code);
wg_trap *p2_net_ok(wg_cval *r, wg_cval *payload);
wg_cval *p2_box(wg_cval v);
wg_trap *p2_oom(void);

/* The socket options shared by TCP and UDP: get/set an int option, results as the WIT wants */
wg_trap *p2_sockopt_get(p2_sock *s, int level, int name, wg_cval_kind kind, uint64_t scale, wg_cval *r);
wg_trap *p2_sockopt_set(p2_sock *s, int level, int name, uint64_t v, uint64_t scale, wg_cval *r);
/* local-address (peer false: getsockname) or remote-address (peer true: getpeername) for either
 * kind, as result<ip-socket-address, error-code>: invalid-state when !ok (unbound, not
 * connected; s is then not read), else the OS's error code or the address. */
wg_trap *p2_sock_address(p2_sock *s, bool ok, bool peer, wg_cval *r);

bool p2_tcp_define(p2 *p, wg_component_linker *l, wg_error **e);
bool p2_udp_define(p2 *p, wg_component_linker *l, wg_error **e);

#endif
