/*
 * diag.h: how the decoder and validator report the first error they find.
 *
 * A wg_diag records one failure: its kind, the byte offset in the module
 * binary, and a message in the spec testsuite's wording. Only the first
 * failure is kept: later calls are ignored, so a failing helper can report
 * precisely and its callers just propagate `false`.
 */
#ifndef WG_DIAG_H
#define WG_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmgate.h"

typedef struct wg_diag {
  wg_error_kind kind; /* 0 while no error has been recorded */
  size_t offset;
  char msg[160];
} wg_diag;

/* Records an error at `offset` unless one is already recorded. `fmt` is the
 * spec's message, optionally followed by printf detail. */
void wg_diag_set(wg_diag *d, wg_error_kind kind, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* wg_diag_set, as an expression that is always false, so that callers can
 * write `return wg_fail(...)` (and the compiler sees the false). */
#define wg_fail(d, kind, offset, ...) (wg_diag_set((d), (kind), (offset), __VA_ARGS__), 0)

/* Turns a recorded diagnostic into a public error object (NULL on OOM). */
wg_error *wg_error_from_diag(const wg_diag *d);

/* Makes a public error object from a kind and message (NULL on OOM). */
wg_error *wg_error_make(wg_error_kind kind, size_t offset, const char *msg);

#endif
