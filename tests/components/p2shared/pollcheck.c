/*
 * pollcheck.c: a command component written against the canonical ABI by hand (no libc, no
 * preview1 adapter; built by run_p2shared.sh with ../mkcomponent.py --nostdlib) that checks
 * wasi:clocks/monotonic-clock.subscribe-instant and wasi:io/poll's pollable.ready in the store
 * that calls them: an instant 60 s ahead is not ready, one in the past is. wasi:cli/run returns
 * ok when both hold, err otherwise (exit status 1).
 */
#include <stdint.h>

#include "../http/bump_realloc.h"

#define V "@0.2.12"
#define IMPORT(mod, name) __attribute__((import_module(mod V), import_name(name)))

IMPORT("wasi:clocks/monotonic-clock", "now") uint64_t mono_now(void);
IMPORT("wasi:clocks/monotonic-clock", "subscribe-instant") int32_t subscribe_instant(uint64_t when);
IMPORT("wasi:io/poll", "[method]pollable.ready") int32_t pollable_ready(int32_t self);
IMPORT("wasi:io/poll", "[resource-drop]pollable") void pollable_drop(int32_t self);

__attribute__((export_name("wasi:cli/run" V "#run"))) int32_t run(void) {
  uint64_t now = mono_now();
  int32_t later = subscribe_instant(now + 60000000000ull), past = subscribe_instant(now > 1 ? now - 1 : 0);
  int ok = !pollable_ready(later) && pollable_ready(past);
  pollable_drop(later);
  pollable_drop(past);
  return ok ? 0 : 1; /* result<_, _>: 0 ok, 1 err */
}
