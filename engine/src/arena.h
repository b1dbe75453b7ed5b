/*
 * arena.h: a bump allocator for objects that live exactly as long as their
 * owner (a decoded module). Everything allocated from an arena is released
 * at once by wg_arena_free; there is no per-object free.
 */
#ifndef WG_ARENA_H
#define WG_ARENA_H

#include <stddef.h>

typedef struct wg_arena_chunk wg_arena_chunk;
typedef struct wg_arena {
  wg_arena_chunk *head;
  size_t used, cap; /* in the head chunk */
} wg_arena;

/* Returns `size` bytes aligned to 16, zeroed, or NULL when out of memory
 * (or when size overflows). Owned by the arena. */
void *wg_arena_alloc(wg_arena *a, size_t size);

/* Like wg_arena_alloc for `n` elements of `size` bytes; NULL on overflow. */
void *wg_arena_array(wg_arena *a, size_t n, size_t size);

/* Bytes the arena holds from malloc (its chunks' capacities), for tests and
 * accounting. */
size_t wg_arena_bytes(const wg_arena *a);

/* Releases every allocation of the arena; the arena may be reused. */
void wg_arena_free(wg_arena *a);

#endif
