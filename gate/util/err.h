/*
 * err.h: errors as values for the sidecar. A function that can fail takes a
 * `wgg_err *` (may be NULL) and fills it with a human-readable message.
 */
#ifndef WGG_UTIL_ERR_H
#define WGG_UTIL_ERR_H

#include "wggate.h"

/* Formats a message into err (printf-style; truncated to fit). err may be NULL.
 * Always returns -1 so callers can write `return wgg_err_set(err, ...);`. */
int wgg_err_set(wgg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
