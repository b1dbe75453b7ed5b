/*
 * bulk.c: the bulk memory and table operations' data movement (spec 4.4.6,
 * 4.4.7: memory.fill/copy/init, table.fill/copy/init), in chunks of 1 MiB
 * with the store's fuel and deadline checked between two chunks, so that one
 * instruction cannot run past a guest's deadline (a 4 GiB memory.fill takes
 * seconds). The interpreter has checked the bounds.
 *
 * Restartable: the operands (destination, source, count) are updated in
 * place after every chunk, so when an operation stops early the operand
 * slots describe exactly the work left, and executing the same instruction
 * again with them finishes it (what a host that parks a guest at a deadline
 * instead of trapping needs). A trapped guest keeps the chunks done, as any
 * interrupted guest keeps its stores.
 *
 * Fuel: one unit per chunk after the first, so an operation on n bytes
 * (table operations: n elements of 8 bytes) costs ceil(n / 1 MiB) - 1 units
 * on top of the usual ones, and operations up to 1 MiB cost nothing extra.
 */
#include <stdint.h>
#include <string.h>

#include "runtime.h"

#define CHUNK ((uint32_t)1 << 20)

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

wg_trap_code wg_bulk_fill(wg_store *s, uint8_t *base, uint32_t *d, uint8_t v, uint32_t *n) {
  for (;;) {
    uint32_t k = *n < CHUNK ? *n : CHUNK;
    if (k) memset(base + *d, v, k);
    *d += k, *n -= k;
    if (!*n) return 0;
    wg_trap_code c = step(s);
    if (c) return c;
  }
}

wg_trap_code wg_bulk_move(wg_store *s, void *dbase, uint32_t *d, const void *sbase, uint32_t *sr, uint32_t *n,
                          uint32_t elem) {
  uint8_t *db = dbase;
  const uint8_t *sb = sbase;
  const uint32_t per = CHUNK / elem;
  /* Overlapping with the destination above the source: from the end down,
   * so that no chunk overwrites source elements a later chunk reads. */
  bool down = dbase == sbase && *d > *sr && *d - *sr < *n;
  for (;;) {
    uint32_t k = *n < per ? *n : per;
    if (down) {
      if (k) memmove(db + ((size_t)*d + *n - k) * elem, sb + ((size_t)*sr + *n - k) * elem, (size_t)k * elem);
    } else {
      if (k) memmove(db + (size_t)*d * elem, sb + (size_t)*sr * elem, (size_t)k * elem);
      *d += k, *sr += k;
    }
    *n -= k;
    if (!*n) return 0;
    wg_trap_code c = step(s);
    if (c) return c;
  }
}

wg_trap_code wg_bulk_fill_refs(wg_store *s, wg_ref *base, uint32_t *i, wg_ref v, uint32_t *n) {
  const uint32_t per = CHUNK / sizeof(wg_ref);
  for (;;) {
    uint32_t k = *n < per ? *n : per;
    for (uint32_t j = 0; j < k; j++) base[*i + j] = v;
    *i += k, *n -= k;
    if (!*n) return 0;
    wg_trap_code c = step(s);
    if (c) return c;
  }
}
