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

typedef struct p2_stream {
  bool used, append;
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
  /* pollables: a monotonic deadline (0: ready), a stream's readiness, or the embedder's */
  struct {
    bool used;
    uint8_t kind; /* P2_POLL_* */
    uint32_t rep; /* stream: its rep; embedder: the tag */
    uint64_t at;  /* clock: monotonic deadline */
    bool (*ready)(void *user, uint32_t tag);
    void *user;
  } *polls;
  uint32_t npolls;
  /* the embedder's park hook (wg_wasi_p2_set_park), NULL: block */
  wg_wasi_p2_park_fn park;
  void *park_user;
};

enum { P2_POLL_CLOCK, P2_POLL_STREAM, P2_POLL_EMBEDDER };

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

#endif
