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

#define P2_V "@0.2.12"
#define P2_STREAM_BASE 1024u

typedef struct p2_stream {
  bool used, append;
  uint32_t fd;
  uint64_t offset;
} p2_stream;

typedef struct p2 {
  wg_wasi *w;
  const wg_component_resource_type *output, *input, *error, *descriptor, *dirstream, *pollable;
  p2_stream *streams;
  uint32_t nstreams;
  /* directory-entry-streams: a descriptor and the next cookie */
  struct { bool used; uint32_t fd; uint64_t cookie; } *dirs;
  uint32_t ndirs;
  /* pollables: a monotonic deadline (0: ready) */
  struct { bool used; uint64_t at; } *polls;
  uint32_t npolls;
} p2;

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
