/*
 * p2.h: shared state of the WASI 0.2 layer (p2_cli.c, p2_fs.c): the
 * preview1 context it serves, the resource types it defines, and its
 * streams. A stream's rep is the descriptor for stdio (0, 1, 2) and
 * P2_STREAM_BASE + slot for a file stream (a descriptor and its own offset).
 */
#ifndef WG_P2_H
#define WG_P2_H

#include "host.h"
#include "wasmgate_component.h"
#include "wgwasi.h"

#define P2_V "@0.2.12"
#define P2_STREAM_BASE 1024u

typedef struct p2_sock p2_sock; /* p2_net.h: a wasi:sockets object (socket, datagram stream, lookup) */

typedef struct p2_stream {
  bool used, append;
  p2_sock *sock; /* a socket's stream (p2_tcp.c): its subscribe and blocking forms wait on it */
  uint32_t fd;
  uint64_t offset;
  const wg_wasi_p2_stream_ops *ops; /* NULL: a descriptor stream; else the embedder's stream */
  void *user;
} p2_stream;

typedef struct wg_wasi_p2 p2;
struct wg_wasi_p2 {
  wg_wasi *w;
  /* shared mode (wg_wasi_p2_define_shared): this is the linker's template and each call finds its
   * store's context through of_store; NULL in a context that serves calls itself */
  wg_wasi_p2 *(*of_store)(wg_store *s);
  const wg_component_resource_type *output, *input, *error, *descriptor, *dirstream, *pollable;
  p2_stream *streams;
  uint32_t nstreams;
  /* directory-entry-streams: a descriptor and the next cookie */
  struct { bool used; uint32_t fd; uint64_t cookie; } *dirs;
  uint32_t ndirs;
  /* pollables: a monotonic deadline (0: ready), a stream's readiness, the embedder's, or a
   * socket's (sock set: `events` POLLIN/POLLOUT on its descriptor, 0: what its state waits for;
   * p2_net.c) */
  struct {
    bool used;
    uint8_t kind; /* P2_POLL_* */
    uint32_t rep; /* stream: its rep; embedder: the tag */
    uint64_t at;  /* clock: monotonic deadline */
    bool (*ready)(void *user, uint32_t tag);
    void *user;
    p2_sock *sock; /* socket: holds a reference */
    short events;
  } *polls;
  uint32_t npolls;
  /* the embedder's park hook (wg_wasi_p2_set_park), NULL: block */
  wg_wasi_p2_park_fn park;
  void *park_user;
  /* wasi:sockets (p2_net.c, p2_tcp.c, p2_udp.c): resource types, objects by rep, the grants */
  const wg_component_resource_type *network, *tcp, *udp, *udp_in, *udp_out, *resolve;
  p2_sock **objs;
  uint32_t nobjs;
  struct p2_netpolicy *net; /* NULL: everything denied */
};

enum { P2_POLL_CLOCK, P2_POLL_STREAM, P2_POLL_EMBEDDER, P2_POLL_SOCKET };

/* The context a host function serves: its env, or in shared mode its store's. Every host function
 * and destructor resolves its env through this before using it or passing it on: in shared mode env
 * is the linker's template, which has no preview1 context (w is NULL) and whose tables no store owns. */
static inline p2 *P2(void *env) {
  p2 *p = env;
  if (p->of_store) {
    p2 *q = p->of_store(wg_component_host_store());
    if (q) return q;
  }
  return p;
}

/* The embedder's stream rep, or NULL (a descriptor stream, or none). */
p2_stream *p2_stream_ops_at(p2 *p, uint32_t rep);

/* The descriptor and offset (-1: the descriptor's own position) of stream
 * `rep`; false when it does not exist. */
bool p2_stream_get(p2 *p, uint32_t rep, uint32_t *fd, int64_t *offset);
/* Advances a file stream by n bytes (nothing for stdio). */
void p2_stream_advance(p2 *p, uint32_t rep, uint64_t n);
/* A new file stream on fd at offset; its rep, or UINT32_MAX on OOM. */
uint32_t p2_stream_new(p2 *p, uint32_t fd, uint64_t offset, bool append);

/* Whether stream `rep` would make progress now (descriptor streams: always). */
bool p2_stream_ready(p2 *p, uint32_t rep);

/* Waits (p2_poll.c): a blocking call that cannot finish now hands the park hook a wait of
 * `kind` on stream or pollable `rep` (len: the read's length) and returns the hook's trap;
 * NULL when there is no hook or it cannot park (then block). */
enum { P2_WAIT_READ, P2_WAIT_SKIP, P2_WAIT_FLUSH, P2_WAIT_BLOCK, P2_WAIT_POLL };
wg_trap *p2_park(p2 *p, int kind, uint32_t rep, uint64_t len);
/* The non-blocking part of read/skip (p2_cli.c): *empty when nothing was there yet. */
wg_trap *p2_read_now(p2 *p, uint32_t rep, uint64_t len, bool skip, wg_cval *r, bool *empty);
/* flush's answer: ok, or closed when the stream is gone or closed. */
wg_trap *p2_flush_result(p2 *p, uint32_t rep, wg_cval *r);

bool p2_fs_define(p2 *p, wg_component_linker *l, wg_error **e);
bool p2_poll_define(p2 *p, wg_component_linker *l, wg_error **e);
bool p2_net_define(p2 *p, wg_component_linker *l, wg_error **e);

/* A new pollable (p2_poll.c): ready at monotonic time `at` (0: now), or with `sock` when its
 * descriptor is ready for `events` (0: for what the socket's state waits on). The pollable
 * holds a reference on sock. */
wg_trap *p2_pollable_new(p2 *p, uint64_t at, p2_sock *sock, short events, wg_cval *r);
/* Blocks until stream `rep`'s socket is ready for `events` (nothing for other streams). */
void p2_stream_wait(p2 *p, uint32_t rep, short events);
/* The sockets' side of pollables (p2_net.c): the descriptor and events a socket pollable
 * waits on (-1: ready now), and a reference taken / given back. */
int p2_sock_pollfd(p2_sock *s, short events, short *want);
void p2_sock_ref(p2_sock *s);
void p2_sock_unref(p2_sock *s);
/* Frees the context's sockets (wg_wasi_p2_delete). */
void p2_net_free(p2 *p);

#endif
