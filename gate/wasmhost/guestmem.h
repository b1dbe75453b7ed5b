/*
 * guestmem.h: bounds checks on a guest's linear memory, shared by the host
 * functions of wasmhost/ (http-wasm, dapr:v1). Not for other layers.
 */
#ifndef WGG_WASMHOST_GUESTMEM_H
#define WGG_WASMHOST_GUESTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "wasmgate.h"

/* Whether guest bytes [ptr, ptr+len) lie inside m (false when m is NULL). */
static inline bool wgg_guest_span(wg_memory *m, uint32_t ptr, uint32_t len) {
  return m && (uint64_t)ptr + len <= wg_memory_size(m);
}

/* Guest bytes [ptr, ptr+len) of m, or NULL when out of range or m is NULL. */
static inline uint8_t *wgg_guest_at(wg_memory *m, uint32_t ptr, uint32_t len) {
  return wgg_guest_span(m, ptr, len) ? wg_memory_data(m) + ptr : NULL;
}

#endif
