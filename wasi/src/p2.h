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
  /* pollables: a monotonic deadline (0: ready) */
  struct { bool used; uint64_t at; } *polls;
  uint32_t npolls;
};

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

bool p2_fs_define(p2 *p, wg_component_linker *l, wg_error **e);
bool p2_poll_define(p2 *p, wg_component_linker *l, wg_error **e);

#endif
