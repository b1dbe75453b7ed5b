/*
 * httpwasm_internal.h: the structures shared by wasmhost/httpwasm_*.c
 * (module and instance lifecycle, host functions). Not for other layers.
 */
#ifndef WGG_WASMHOST_HTTPWASM_INTERNAL_H
#define WGG_WASMHOST_HTTPWASM_INTERNAL_H

#include "wasmhost/httpwasm.h"

struct wgg_hw_module {
  wg_module *mod;
  char *name;
  uint8_t *config;
  size_t config_len;
  bool strict;
  wg_wasi_walltime *walltime; /* strict: the fake wall clock all instances share, as Dapr makes one per component */
  uint64_t deadline_ms;
  uint32_t max_memory_pages;
  bool imports_wasi;
  bool touches_body; /* imports read_body or write_body: may read or replace a body */
  int refs;          /* atomic */
  uint32_t features; /* atomic: enabled outside a request (middleware-wide) */
  wg_memimage *memimage; /* copy-on-write image of memory 0 for new instances, NULL when none */
};

struct wgg_hw_instance {
  wgg_hw_module *m;
  wg_store *store;
  wg_wasi *wasi;        /* NULL when the guest does not import WASI */
  wg_instance *inst;
  wg_memory *mem;       /* the exported "memory" (NULL while instantiating) */
  wg_memory *cur_mem;   /* during a host call: the memory of the calling instance */
  wg_func *handle_request, *handle_response;
  wgg_hw_call *call;    /* the request in flight, NULL outside handle_request/handle_response */
};

#endif
