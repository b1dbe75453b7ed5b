/*
 * error.c: the public error object (wasmgate.h) and the internal
 * first-error-wins diagnostic (diag.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

struct wg_error {
  wg_error_kind kind;
  size_t offset;
  char msg[]; /* NUL-terminated */
};

void wg_diag_set(wg_diag *d, wg_error_kind kind, size_t offset, const char *fmt, ...) {
  if (d->kind) return;
  d->kind = kind;
  d->offset = offset;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
}

wg_error *wg_error_make(wg_error_kind kind, size_t offset, const char *msg) {
  size_t n = strlen(msg);
  wg_error *e = malloc(sizeof *e + n + 1);
  if (!e) return NULL;
  e->kind = kind;
  e->offset = offset;
  memcpy(e->msg, msg, n + 1);
  return e;
}

wg_error *wg_error_from_diag(const wg_diag *d) {
  return wg_error_make(d->kind ? d->kind : WG_ERROR_RESOURCE, d->offset, d->kind ? d->msg : "unknown error");
}

const char *wg_error_message(const wg_error *err) { return err->msg; }
size_t wg_error_offset(const wg_error *err) { return err->offset; }
wg_error_kind wg_error_kind_of(const wg_error *err) { return err->kind; }
void wg_error_delete(wg_error *err) { free(err); }
