/*
 * limits.c: interrupting guests. Fuel is a per-store budget consumed at
 * function entry and loop iterations (deterministic); epochs are a
 * process-wide counter another thread advances, against which each store may
 * hold a deadline (wall-clock bound without timers in the interpreter).
 */
#include "runtime.h"

_Atomic uint64_t wg_epoch_counter;

void wg_store_set_fuel(wg_store *s, uint64_t fuel) {
  s->fuel_on = true;
  s->fuel = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
}

void wg_store_disable_fuel(wg_store *s) {
  s->fuel_on = false;
  s->fuel = INT64_MAX;
}

uint64_t wg_store_fuel(const wg_store *s) {
  if (!s->fuel_on) return UINT64_MAX;
  return s->fuel < 0 ? 0 : (uint64_t)s->fuel;
}

void wg_epoch_increment(void) { atomic_fetch_add_explicit(&wg_epoch_counter, 1, memory_order_relaxed); }

uint64_t wg_epoch_current(void) { return atomic_load_explicit(&wg_epoch_counter, memory_order_relaxed); }

void wg_store_set_deadline(wg_store *s, uint64_t delta) {
  uint64_t now = wg_epoch_current();
  s->deadline = delta > UINT64_MAX - now ? UINT64_MAX : now + delta;
}

void wg_store_clear_deadline(wg_store *s) { s->deadline = UINT64_MAX; }
