/*
 * bulk.c: the bulk memory and table operations' data movement (spec 4.4.6,
 * 4.4.7: memory.fill/copy/init, table.fill/copy/init), in chunks of 1 MiB
 * with the store's fuel and deadline checked between two chunks, so that one
 * instruction cannot run past a guest's deadline (a 4 GiB memory.fill takes
 * seconds). The interpreter has checked the bounds; an interrupted operation
 * leaves the chunks it finished in place, like any interrupted guest.
 *
 * Fuel: one unit per chunk after the first, so an operation on n bytes
 * (table operations: n elements of 8 bytes) costs ceil(n / 1 MiB) - 1 units
 * on top of the usual ones, and operations up to 1 MiB cost nothing extra.
 */
#include <stdint.h>
#include <string.h>

#include "runtime.h"

#define CHUNK ((size_t)1 << 20)

/* Between two chunks: one unit of fuel, then the deadline; 0 to go on.
 * Mirrors the interpreter's checks at loop headers. */
static wg_trap_code step(wg_store *s) {
  if (--s->fuel < 0) {
    if (s->fuel_on) {
      s->fuel = 0;
      return WG_TRAP_OUT_OF_FUEL;
    }
    s->fuel = INT64_MAX; /* metering off: the counter only wrapped */
  }
  if (atomic_load_explicit(s->epoch, memory_order_relaxed) >= s->deadline) return WG_TRAP_INTERRUPTED;
  return 0;
}

wg_trap_code wg_bulk_fill(wg_store *s, uint8_t *dst, uint8_t v, uint64_t n) {
  if (!n) return 0;
  while (n > CHUNK) {
    memset(dst, v, CHUNK);
    dst += CHUNK;
    n -= CHUNK;
    wg_trap_code c = step(s);
    if (c) return c;
  }
  memset(dst, v, (size_t)n);
  return 0;
}

wg_trap_code wg_bulk_move(wg_store *s, void *dst, const void *src, uint64_t n) {
  uint8_t *d = dst;
  const uint8_t *sr = src;
  if (!n) return 0;
  if ((uintptr_t)d <= (uintptr_t)sr || (uintptr_t)d - (uintptr_t)sr >= n) {
    /* Forward: a chunk never overwrites source bytes a later chunk reads. */
    while (n > CHUNK) {
      memmove(d, sr, CHUNK);
      d += CHUNK, sr += CHUNK, n -= CHUNK;
      wg_trap_code c = step(s);
      if (c) return c;
    }
    memmove(d, sr, (size_t)n);
    return 0;
  }
  /* Overlapping with the destination above the source: from the end down. */
  while (n > CHUNK) {
    n -= CHUNK;
    memmove(d + n, sr + n, CHUNK);
    wg_trap_code c = step(s);
    if (c) return c;
  }
  memmove(d, sr, (size_t)n);
  return 0;
}

wg_trap_code wg_bulk_fill_refs(wg_store *s, wg_ref *dst, wg_ref v, uint64_t n) {
  const uint64_t per = CHUNK / sizeof(wg_ref);
  for (;;) {
    uint64_t k = n < per ? n : per;
    for (uint64_t i = 0; i < k; i++) dst[i] = v;
    dst += k, n -= k;
    if (!n) return 0;
    wg_trap_code c = step(s);
    if (c) return c;
  }
}
