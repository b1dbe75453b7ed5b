/*
 * sock.c: a WASI 0.2 command exercising wasi:sockets 0.2.0 (built at test
 * time by tests/components/sockets.py: clang-19 --target=wasm32-wasi, `jco
 * embed` with sock.wit, `jco new --wasi-command`; never committed). The
 * wasi:sockets imports are declared by hand against the canonical ABI
 * (CanonicalABI.md flattening: at most 16 flat parameters, results through a
 * return pointer); printing and arguments go through wasi-libc and the
 * preview1 adapter.
 *
 *   sock tcp-echo PORT     connect to 127.0.0.1:PORT, send a line, read the echo
 *   sock tcp-echo6 PORT    the same over IPv6, to [::1]:PORT
 *   sock tcp-listen        listen on 127.0.0.1 (prints the port), accept, answer
 *   sock udp PORT          send "ping" to 127.0.0.1:PORT, receive the answer
 *   sock lookup NAME       resolve NAME, print its addresses
 *   sock denied PORT       every operation, printing its error code
 *   sock hostile PORT      misuse: wrong families, bad states, huge lengths
 *   sock drop-parent PORT  drop a connected socket before its streams (traps)
 *   sock unpermitted PORT  send more datagrams than check-send allowed (traps)
 *
 * Each step prints one line: what it did and the outcome (an error code's
 * WIT name), so the output can be compared with `jco run`'s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n))) extern
#define V "@0.2.0"
#define TCP "wasi:sockets/tcp" V
#define UDP "wasi:sockets/udp" V
#define LOOKUP "wasi:sockets/ip-name-lookup" V
#define POLL "wasi:io/poll" V
#define STREAMS "wasi:io/streams" V

/* an ip-socket-address flattened: the case, then the joined slots of both records (11) */
typedef struct { int32_t v[12]; } addr;
#define A(x) x.v[0], x.v[1], x.v[2], x.v[3], x.v[4], x.v[5], x.v[6], x.v[7], x.v[8], x.v[9], x.v[10], x.v[11]
#define AP int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t

IMPORT("wasi:sockets/instance-network" V, "instance-network") int32_t instance_network(void);
IMPORT("wasi:sockets/network" V, "[resource-drop]network") void drop_network(int32_t);
IMPORT("wasi:sockets/tcp-create-socket" V, "create-tcp-socket") void create_tcp(int32_t af, void *ret);
IMPORT("wasi:sockets/udp-create-socket" V, "create-udp-socket") void create_udp(int32_t af, void *ret);

IMPORT(TCP, "[method]tcp-socket.start-bind") void tcp_start_bind(int32_t, int32_t, AP, void *);
IMPORT(TCP, "[method]tcp-socket.finish-bind") void tcp_finish_bind(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.start-connect") void tcp_start_connect(int32_t, int32_t, AP, void *);
IMPORT(TCP, "[method]tcp-socket.finish-connect") void tcp_finish_connect(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.start-listen") void tcp_start_listen(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.finish-listen") void tcp_finish_listen(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.accept") void tcp_accept(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.local-address") void tcp_local_address(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.remote-address") void tcp_remote_address(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.is-listening") int32_t tcp_is_listening(int32_t);
IMPORT(TCP, "[method]tcp-socket.address-family") int32_t tcp_address_family(int32_t);
IMPORT(TCP, "[method]tcp-socket.set-listen-backlog-size") void tcp_set_backlog(int32_t, int64_t, void *);
IMPORT(TCP, "[method]tcp-socket.set-hop-limit") void tcp_set_hop_limit(int32_t, int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.keep-alive-enabled") void tcp_keep_alive(int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-enabled") void tcp_set_keep_alive(int32_t, int32_t, void *);
IMPORT(TCP, "[method]tcp-socket.subscribe") int32_t tcp_subscribe(int32_t);
IMPORT(TCP, "[method]tcp-socket.shutdown") void tcp_shutdown(int32_t, int32_t, void *);
IMPORT(TCP, "[resource-drop]tcp-socket") void drop_tcp(int32_t);

IMPORT(UDP, "[method]udp-socket.start-bind") void udp_start_bind(int32_t, int32_t, AP, void *);
IMPORT(UDP, "[method]udp-socket.finish-bind") void udp_finish_bind(int32_t, void *);
IMPORT(UDP, "[method]udp-socket.stream") void udp_stream(int32_t, int32_t, AP, void *);
IMPORT(UDP, "[method]udp-socket.local-address") void udp_local_address(int32_t, void *);
IMPORT(UDP, "[method]incoming-datagram-stream.receive") void udp_receive(int32_t, int64_t, void *);
IMPORT(UDP, "[method]incoming-datagram-stream.subscribe") int32_t udp_in_subscribe(int32_t);
IMPORT(UDP, "[method]outgoing-datagram-stream.check-send") void udp_check_send(int32_t, void *);
IMPORT(UDP, "[method]outgoing-datagram-stream.send") void udp_send(int32_t, void *, int32_t, void *);
IMPORT(UDP, "[resource-drop]udp-socket") void drop_udp(int32_t);
IMPORT(UDP, "[resource-drop]incoming-datagram-stream") void drop_udp_in(int32_t);
IMPORT(UDP, "[resource-drop]outgoing-datagram-stream") void drop_udp_out(int32_t);

IMPORT(LOOKUP, "resolve-addresses") void resolve_addresses(int32_t, const char *, int32_t, void *);
IMPORT(LOOKUP, "[method]resolve-address-stream.resolve-next-address") void resolve_next(int32_t, void *);
IMPORT(LOOKUP, "[method]resolve-address-stream.subscribe") int32_t resolve_subscribe(int32_t);
IMPORT(LOOKUP, "[resource-drop]resolve-address-stream") void drop_resolve(int32_t);

IMPORT(POLL, "[method]pollable.block") void pollable_block(int32_t);
IMPORT(POLL, "[resource-drop]pollable") void drop_pollable(int32_t);
IMPORT(STREAMS, "[method]input-stream.blocking-read") void blocking_read(int32_t, int64_t, void *);
IMPORT(STREAMS, "[method]output-stream.blocking-write-and-flush") void blocking_write(int32_t, const void *, int32_t, void *);
IMPORT(STREAMS, "[resource-drop]input-stream") void drop_in(int32_t);
IMPORT(STREAMS, "[resource-drop]output-stream") void drop_out(int32_t);

/* the canonical ABI's realloc for what the host returns (lists, strings); see main on stdout */
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldsz, size_t align, size_t n) {
  (void)oldsz, (void)align;
  return realloc(old, n ? n : 1);
}

static const char *const codes[] = {
    "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
    "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
    "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused", "connection-reset",
    "connection-aborted", "datagram-too-large", "name-unresolvable", "temporary-resolver-failure",
    "permanent-resolver-failure"};
static const char *code(uint8_t c) { return c < sizeof codes / sizeof *codes ? codes[c] : "?"; }

static _Alignas(8) uint8_t ret[64];
static uint32_t u32at(int off) { uint32_t v; memcpy(&v, ret + off, 4); return v; }
static uint64_t u64at(int off) { uint64_t v; memcpy(&v, ret + off, 8); return v; }
static uint16_t u16at(int off) { uint16_t v; memcpy(&v, ret + off, 2); return v; }

/* result<_, error-code>: disc u8 @0, code u8 @1; result<T, error-code> with T aligned to 4: code @4 */
static int ok0(void) { return ret[0] == 0; }
static const char *err0(void) { return code(ret[1]); }
static const char *err4(void) { return code(ret[4]); }

static addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int port) {
  addr x = {{0, port, a, b, c, d}};
  return x;
}
static addr v6_loopback(int port) {
  addr x = {{1, port, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}};
  return x;
}

/* ip-socket-address in memory at `off` (a variant: disc u8, record at off+4) */
static void print_addr(const char *what, int off, int with_port) {
  if (ret[off] == 0)
    printf("%s ipv4 %u.%u.%u.%u", what, ret[off + 6], ret[off + 7], ret[off + 8], ret[off + 9]);
  else
    printf("%s ipv6 %x:%x:%x:%x:%x:%x:%x:%x", what, u16at(off + 12), u16at(off + 14), u16at(off + 16),
           u16at(off + 18), u16at(off + 20), u16at(off + 22), u16at(off + 24), u16at(off + 26));
  if (with_port) printf(" port %u", u16at(off + 4));
  printf("\n");
}

static const addr nowhere; /* the flat slots of an absent option<ip-socket-address> */

static void wait_on(int32_t pollable) {
  pollable_block(pollable);
  drop_pollable(pollable);
}

/* a connected (or failed) client socket: the streams in *in, *out; 0 or the error code + 1 */
static int connect_to(int32_t net, int32_t s, addr a, int32_t *in, int32_t *out) {
  tcp_start_connect(s, net, A(a), ret);
  if (!ok0()) {
    printf("start-connect: %s\n", err0());
    return ret[1] + 1;
  }
  for (;;) {
    tcp_finish_connect(s, ret);
    if (ret[0] == 0) break;
    if (ret[4] != 8) { /* not would-block */
      printf("finish-connect: %s\n", err4());
      return ret[4] + 1;
    }
    wait_on(tcp_subscribe(s));
  }
  *in = (int32_t)u32at(4);
  *out = (int32_t)u32at(8);
  return 0;
}

static int32_t new_tcp(int af) {
  create_tcp(af, ret);
  if (ret[0]) {
    printf("create-tcp-socket: %s\n", err4());
    return -1;
  }
  return (int32_t)u32at(4);
}

static int write_all(int32_t out, const char *s, size_t n) {
  blocking_write(out, s, (int32_t)n, ret);
  if (ret[0]) printf("write: %s\n", ret[4] == 1 ? "closed" : "last-operation-failed");
  return ret[0] == 0;
}

/* reads until `want` bytes or a newline arrived, or the stream ended; the count */
static size_t read_some(int32_t in, char *buf, size_t want, int64_t len) {
  size_t got = 0;
  while (got < want) {
    blocking_read(in, len, ret);
    if (ret[0]) return got;
    uint8_t *p = (uint8_t *)(uintptr_t)u32at(4);
    size_t n = u32at(8);
    if (n > want - got) n = want - got;
    memcpy(buf + got, p, n);
    free(p);
    got += n;
    if (got && buf[got - 1] == '\n') break;
  }
  return got;
}

static int tcp_echo(int port, int af) {
  int32_t net = instance_network(), in, out;
  int32_t s = new_tcp(af);
  if (s < 0) return 1;
  printf("address-family: %s\n", tcp_address_family(s) ? "ipv6" : "ipv4");
  if (connect_to(net, s, af ? v6_loopback(port) : v4(127, 0, 0, 1, port), &in, &out)) return 1;
  printf("connected\n");
  tcp_local_address(s, ret);
  if (ret[0] == 0) print_addr("local-address", 4, 0);
  tcp_remote_address(s, ret);
  if (ret[0] == 0) print_addr("remote-address", 4, 1);
  tcp_keep_alive(s, ret);
  printf("keep-alive-enabled: %s\n", ret[0] ? err0() : ret[1] ? "true" : "false");
  const char msg[] = "hello, sockets\n";
  if (!write_all(out, msg, sizeof msg - 1)) return 1;
  char buf[64] = {0};
  /* a huge length: the host gives what it has, never more than it can */
  size_t n = read_some(in, buf, sizeof msg - 1, (int64_t)1 << 40);
  printf("echo: %.*s", (int)n, buf);
  tcp_shutdown(s, 1, ret); /* send: the server sees the end and closes */
  printf("shutdown(send): %s\n", ok0() ? "ok" : err0());
  blocking_write(out, "x", 1, ret);
  printf("write after shutdown: %s\n", ret[0] ? (ret[4] == 1 ? "closed" : "last-operation-failed") : "ok");
  blocking_read(in, 16, ret);
  printf("read at the end: %s\n", ret[0] ? "closed" : "data");
  drop_in(in);
  drop_out(out);
  drop_tcp(s);
  drop_network(net);
  return 0;
}

static int tcp_listen(void) {
  int32_t net = instance_network();
  int32_t s = new_tcp(0);
  if (s < 0) return 1;
  tcp_start_bind(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  if (!ok0()) return printf("start-bind: %s\n", err0()), 1;
  tcp_finish_bind(s, ret);
  printf("finish-bind: %s\n", ok0() ? "ok" : err0());
  tcp_start_listen(s, ret);
  printf("start-listen: %s\n", ok0() ? "ok" : err0());
  tcp_finish_listen(s, ret);
  printf("finish-listen: %s\n", ok0() ? "ok" : err0());
  printf("is-listening: %s\n", tcp_is_listening(s) ? "true" : "false");
  tcp_local_address(s, ret);
  printf("listening %u\n", u16at(8));
  fflush(stdout);
  for (;;) {
    tcp_accept(s, ret);
    if (ret[0] == 0) break;
    if (ret[4] != 8) return printf("accept: %s\n", err4()), 1;
    wait_on(tcp_subscribe(s));
  }
  int32_t c = (int32_t)u32at(4), in = (int32_t)u32at(8), out = (int32_t)u32at(12);
  tcp_remote_address(c, ret);
  if (ret[0] == 0) print_addr("accepted from", 4, 0);
  char buf[128];
  size_t n = read_some(in, buf, sizeof buf - 1, 4096);
  printf("got: %.*s", (int)n, buf);
  char reply[160];
  int k = snprintf(reply, sizeof reply, "ack: %.*s", (int)n, buf);
  write_all(out, reply, (size_t)k);
  drop_in(in);
  drop_out(out);
  drop_tcp(c);
  drop_tcp(s);
  return 0;
}

/* an outgoing-datagram in memory: data (ptr, len) @0, option<ip-socket-address> @8 (some: @12) */
typedef struct { uint32_t ptr, len; uint8_t some, pad[3]; uint8_t sa[32]; } outgoing;

static int udp(int port) {
  int32_t net = instance_network();
  create_udp(0, ret);
  if (ret[0]) return printf("create-udp-socket: %s\n", err4()), 1;
  int32_t s = (int32_t)u32at(4);
  udp_start_bind(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  if (!ok0()) return printf("start-bind: %s\n", err0()), 1;
  udp_finish_bind(s, ret);
  addr peer = v4(127, 0, 0, 1, port);
  udp_stream(s, 1, A(peer), ret);
  if (ret[0]) return printf("stream: %s\n", err4()), 1;
  int32_t in = (int32_t)u32at(4), out = (int32_t)u32at(8);
  udp_check_send(out, ret);
  printf("check-send: %s\n", ret[0] ? code(ret[8]) : u64at(8) > 0 ? "ready" : "0");
  static const char ping[] = "ping";
  outgoing d = {(uint32_t)(uintptr_t)ping, 4, 0, {0}, {0}};
  udp_send(out, &d, 1, ret);
  printf("send: %s\n", ret[0] ? code(ret[8]) : u64at(8) == 1 ? "1 datagram" : "?");
  for (;;) {
    udp_receive(in, (int64_t)1 << 40, ret); /* a huge max-results */
    if (ret[0]) return printf("receive: %s\n", err4()), 1;
    uint32_t list = u32at(4), n = u32at(8);
    if (n) {
      uint8_t *dg = (uint8_t *)(uintptr_t)list; /* incoming-datagram: data @0, remote-address @8 */
      uint32_t dp, dl;
      memcpy(&dp, dg, 4), memcpy(&dl, dg + 4, 4);
      printf("received %u datagram(s): %.*s from %u.%u.%u.%u\n", n, (int)dl, (char *)(uintptr_t)dp, dg[14], dg[15],
             dg[16], dg[17]);
      break;
    }
    wait_on(udp_in_subscribe(in));
  }
  drop_udp_in(in);
  drop_udp_out(out);
  drop_udp(s);
  return 0;
}

static int lookup(const char *name) {
  int32_t net = instance_network();
  resolve_addresses(net, name, (int32_t)strlen(name), ret);
  if (ret[0]) return printf("resolve-addresses: %s\n", err4()), 0;
  int32_t st = (int32_t)u32at(4);
  for (int i = 0; i < 16; i++) {
    resolve_next(st, ret); /* result<option<ip-address>, error-code>: payload @2 */
    if (ret[0] && ret[2] == 8) { /* would-block: wait for the lookup (jco's is asynchronous) */
      wait_on(resolve_subscribe(st));
      i--;
      continue;
    }
    if (ret[0]) {
      printf("resolve-next-address: %s\n", code(ret[2]));
      break;
    }
    if (!ret[2]) {
      printf("end\n");
      break;
    }
    if (ret[4] == 0)
      printf("ipv4 %u.%u.%u.%u\n", ret[6], ret[7], ret[8], ret[9]);
    else
      printf("ipv6 %x:%x:%x:%x:%x:%x:%x:%x\n", u16at(6), u16at(8), u16at(10), u16at(12), u16at(14), u16at(16),
             u16at(18), u16at(20));
  }
  drop_resolve(st);
  return 0;
}

/* what the grants refuse: socket creation (no grant), or the address (a narrower grant) */
static int denied(int port) {
  int32_t net = instance_network();
  create_tcp(0, ret);
  if (ret[0]) {
    printf("create-tcp-socket: %s\n", err4());
  } else {
    int32_t s = (int32_t)u32at(4), in, out;
    tcp_start_bind(s, net, A(v4(0, 0, 0, 0, 0)), ret);
    printf("tcp start-bind 0.0.0.0:0: %s\n", ok0() ? "ok" : err0());
    connect_to(net, s, v4(127, 0, 0, 1, port), &in, &out);
    drop_tcp(s);
  }
  create_udp(0, ret);
  if (ret[0]) {
    printf("create-udp-socket: %s\n", err4());
  } else {
    int32_t s = (int32_t)u32at(4);
    udp_start_bind(s, net, A(v4(127, 0, 0, 1, port)), ret);
    printf("udp start-bind: %s\n", ok0() ? "ok" : err0());
    drop_udp(s);
  }
  lookup("localhost");
  return 0;
}

static int hostile(int port) {
  int32_t net = instance_network(), in, out;
  int32_t s = new_tcp(0);
  if (s < 0) return 1;
  /* an IPv6 address on an IPv4 socket */
  tcp_start_connect(s, net, A(v6_loopback(port)), ret);
  printf("connect ipv4 socket to ::1: %s\n", ok0() ? "ok" : err0());
  tcp_start_bind(s, net, A(v6_loopback(0)), ret);
  printf("bind ipv4 socket to ::1: %s\n", ok0() ? "ok" : err0());
  tcp_start_connect(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  printf("connect to port 0: %s\n", ok0() ? "ok" : err0());
  tcp_start_connect(s, net, A(v4(0, 0, 0, 0, port)), ret);
  printf("connect to 0.0.0.0: %s\n", ok0() ? "ok" : err0());
  tcp_finish_connect(s, ret);
  printf("finish-connect before start: %s\n", ret[0] ? err4() : "ok");
  tcp_finish_bind(s, ret);
  printf("finish-bind before start: %s\n", ok0() ? "ok" : err0());
  tcp_start_listen(s, ret);
  printf("listen unbound: %s\n", ok0() ? "ok" : err0());
  tcp_accept(s, ret);
  printf("accept unbound: %s\n", ret[0] ? err4() : "ok");
  tcp_remote_address(s, ret);
  printf("remote-address unconnected: %s\n", ret[0] ? err4() : "ok");
  tcp_local_address(s, ret);
  printf("local-address unbound: %s\n", ret[0] ? err4() : "ok");
  tcp_shutdown(s, 2, ret);
  printf("shutdown unconnected: %s\n", ok0() ? "ok" : err0());
  tcp_set_backlog(s, 0, ret);
  printf("set-listen-backlog-size 0: %s\n", ok0() ? "ok" : err0());
  tcp_set_hop_limit(s, 0, ret);
  printf("set-hop-limit 0: %s\n", ok0() ? "ok" : err0());
  /* a listening socket */
  tcp_start_bind(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  printf("bind 127.0.0.1:0: %s\n", ok0() ? "ok" : err0());
  tcp_start_bind(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  printf("bind again while in progress: %s\n", ok0() ? "ok" : err0());
  tcp_finish_bind(s, ret);
  tcp_start_bind(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  printf("bind again: %s\n", ok0() ? "ok" : err0());
  tcp_start_listen(s, ret);
  tcp_finish_listen(s, ret);
  tcp_start_connect(s, net, A(v4(127, 0, 0, 1, port)), ret);
  printf("connect a listening socket: %s\n", ok0() ? "ok" : err0());
  tcp_accept(s, ret);
  printf("accept with nobody waiting: %s\n", ret[0] ? err4() : "ok");
  drop_tcp(s);
  /* nobody listens on PORT: refused, and the socket is closed for good */
  s = new_tcp(0);
  printf("connect to a closed port: %s\n", connect_to(net, s, v4(127, 0, 0, 1, port), &in, &out) ? "failed" : "ok");
  tcp_start_connect(s, net, A(v4(127, 0, 0, 1, port)), ret);
  printf("connect again: %s\n", ok0() ? "ok" : err0());
  drop_tcp(s);
  /* UDP: streams before bind; a name that is no name */
  create_udp(0, ret);
  int32_t u = (int32_t)u32at(4);
  udp_stream(u, 0, A(nowhere), ret);
  printf("udp stream unbound: %s\n", ret[0] ? err4() : "ok");
  udp_local_address(u, ret);
  printf("udp local-address unbound: %s\n", ret[0] ? err4() : "ok");
  drop_udp(u);
  resolve_addresses(net, "no such name!", 13, ret);
  printf("resolve 'no such name!': %s\n", ret[0] ? err4() : "ok");
  create_tcp(7, ret); /* not an ip-address-family case: the canonical ABI traps */
  printf("create-tcp-socket(7): %s\n", ret[0] ? err4() : "ok");
  return 0;
}

/* the streams are the socket's children: dropping the socket first traps */
static int drop_parent(int port) {
  int32_t net = instance_network(), in, out;
  int32_t s = new_tcp(0);
  if (s < 0 || connect_to(net, s, v4(127, 0, 0, 1, port), &in, &out)) return 1;
  printf("dropping the socket before its streams\n");
  fflush(stdout);
  drop_tcp(s);
  printf("not reached\n");
  return 0;
}

static int unpermitted(int port) {
  int32_t net = instance_network();
  create_udp(0, ret);
  int32_t s = (int32_t)u32at(4);
  udp_start_bind(s, net, A(v4(127, 0, 0, 1, 0)), ret);
  udp_finish_bind(s, ret);
  udp_stream(s, 0, A(nowhere), ret);
  int32_t out = (int32_t)u32at(8);
  addr peer = v4(127, 0, 0, 1, port);
  outgoing d = {(uint32_t)(uintptr_t) "x", 1, 1, {0}, {0}};
  d.sa[0] = 0;
  uint16_t p16 = (uint16_t)peer.v[1];
  memcpy(d.sa + 4, &p16, 2);
  d.sa[6] = 127, d.sa[9] = 1;
  printf("send without check-send\n");
  fflush(stdout);
  udp_send(out, &d, 1, ret);
  printf("not reached: %s\n", ret[0] ? code(ret[8]) : "sent");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: sock MODE [ARG]\n"), 2;
  /* unbuffered: wasm-ld wraps every export of a command (cabi_realloc too) in the libc's
   * constructors and destructors, and a destructor flushing stdout inside realloc would call
   * an import where the canonical ABI forbids it; and a trap loses nothing printed before */
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *m = argv[1];
  int port = argc > 2 ? atoi(argv[2]) : 0;
  int rc = !strcmp(m, "tcp-echo")      ? tcp_echo(port, 0)
           : !strcmp(m, "tcp-echo6")   ? tcp_echo(port, 1)
           : !strcmp(m, "tcp-listen")  ? tcp_listen()
           : !strcmp(m, "udp")         ? udp(port)
           : !strcmp(m, "lookup")      ? lookup(argc > 2 ? argv[2] : "localhost")
           : !strcmp(m, "denied")      ? denied(port)
           : !strcmp(m, "hostile")     ? hostile(port)
           : !strcmp(m, "drop-parent") ? drop_parent(port)
           : !strcmp(m, "unpermitted") ? unpermitted(port)
                                       : 2;
  fflush(stdout);
  return rc;
}
