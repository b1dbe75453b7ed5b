/*
 * limits.c: interrupting guests. Fuel is a per-store budget consumed at
 * function entry and loop iterations (deterministic); epochs are a
 * process-wide counter another thread advances, against which each store may
 * hold a deadline (wall-clock bound without timers in the interpreter).
 * Compilation stops a store's deadline clock (wg_store_compile).
 */
#include <stdlib.h>

#include "runtime.h"

wg_engine wg_default_engine;

wg_engine *wg_engine_new(const wg_store_config *defaults) {
  wg_engine *e = calloc(1, sizeof *e);
  if (e && defaults) e->defaults = *defaults;
  return e;
}

void wg_engine_delete(wg_engine *e) { free(e); }

void wg_store_credit_epochs(wg_store *s, uint64_t deadline, uint64_t before) {
  if (deadline == UINT64_MAX) return;
  uint64_t spent = atomic_load_explicit(s->epoch, memory_order_relaxed) - before;
  /* Every epoch that passes while some compilation runs is credited once;
   * a deadline changed meanwhile (an interruption) is left alone. */
  if (spent) { /* compare-and-swap: an interrupt (wg_store_interrupt) landing meanwhile is never lost */
    uint64_t later = spent > UINT64_MAX - 1 - deadline ? UINT64_MAX - 1 : deadline + spent;
    atomic_compare_exchange_strong_explicit(&s->deadline, &deadline, later, memory_order_relaxed,
                                            memory_order_relaxed);
  }
}

const wg_code *wg_store_compile(wg_store *s, const wg_module *m, uint32_t func, const char **why) {
  uint64_t deadline = atomic_load_explicit(&s->deadline, memory_order_relaxed);
  if (deadline == UINT64_MAX) return wg_compile_func(m, func, why);
  uint64_t before = atomic_load_explicit(s->epoch, memory_order_relaxed);
  const wg_code *code = wg_compile_func(m, func, why);
  wg_store_credit_epochs(s, deadline, before);
  return code;
}

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

void wg_engine_increment_epoch(wg_engine *e) {
  atomic_fetch_add_explicit(&(e ? e : &wg_default_engine)->epoch, 1, memory_order_relaxed);
}

uint64_t wg_engine_epoch(const wg_engine *e) {
  return atomic_load_explicit(&(e ? e : &wg_default_engine)->epoch, memory_order_relaxed);
}

void wg_store_set_deadline(wg_store *s, uint64_t delta) {
  uint64_t now = atomic_load_explicit(s->epoch, memory_order_relaxed);
  s->deadline = delta > UINT64_MAX - now ? UINT64_MAX : now + delta;
}

void wg_store_clear_deadline(wg_store *s) { s->deadline = UINT64_MAX; }

void wg_store_interrupt(wg_store *s) { atomic_store_explicit(&s->deadline, 0, memory_order_relaxed); }
