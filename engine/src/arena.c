/*
 * arena.c: chunked bump allocation (see arena.h).
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct wg_arena_chunk {
  wg_arena_chunk *next;
  size_t cap;
  _Alignas(16) unsigned char data[];
};

#define CHUNK_MIN 4096

void *wg_arena_alloc(wg_arena *a, size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (size == 0) size = 16;
  if (!a->head || a->cap - a->used < size) {
    size_t cap = a->head ? a->head->cap * 2 : CHUNK_MIN;
    if (cap > (1u << 20)) cap = 1u << 20;
    if (cap < size) cap = size;
    if (cap > SIZE_MAX - sizeof(wg_arena_chunk)) return NULL;
    wg_arena_chunk *c = malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->next = a->head;
    c->cap = cap;
    a->head = c;
    a->used = 0;
    a->cap = cap;
  }
  void *p = a->head->data + a->used;
  a->used += size;
  memset(p, 0, size);
  return p;
}

void *wg_arena_array(wg_arena *a, size_t n, size_t size) {
  if (size && n > (SIZE_MAX - 16) / size) return NULL;
  return wg_arena_alloc(a, n * size);
}

size_t wg_arena_bytes(const wg_arena *a) {
  size_t n = 0;
  for (const wg_arena_chunk *c = a->head; c; c = c->next) n += c->cap;
  return n;
}

void wg_arena_free(wg_arena *a) {
  wg_arena_chunk *c = a->head;
  while (c) {
    wg_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
  a->used = a->cap = 0;
}
