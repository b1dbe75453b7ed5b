/*
 * buf.h: a growable byte buffer (always NUL-terminated for convenience).
 */
#ifndef WGG_UTIL_BUF_H
#define WGG_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef struct wgg_buf {
  char *data; /* owned; NULL until the first append */
  size_t len;
  size_t cap;
} wgg_buf;

/* Appends n bytes. Returns 0, or -1 when out of memory (buffer unchanged). */
int wgg_buf_append(wgg_buf *b, const void *p, size_t n);

/* Appends a printf-formatted string. Returns 0 or -1 (out of memory). */
int wgg_buf_printf(wgg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the whole file at path. Returns 0, or -1 with err set to
 * "PATH: reason" (open or read failure, out of memory). */
int wgg_buf_read_file(wgg_buf *b, const char *path, wgg_err *err);

/* Frees the data and resets b to empty. */
void wgg_buf_free(wgg_buf *b);

/* Returns a malloc'd copy of n bytes plus a NUL, or NULL when out of memory. */
char *wgg_strndup(const char *p, size_t n);

/* Writes the n strings of parts one after the other into dst (cap bytes,
 * cap > 0), NUL-terminated, as snprintf("%s%s...") would without parsing a
 * format (the hot path's target and names). Returns the length of the whole
 * concatenation: when it is >= cap, dst holds the cut-off prefix. */
size_t wgg_str_join(char *dst, size_t cap, const char *const *parts, size_t n);

/* wgg_str_join of one string: copies src into dst (cap > 0), cut off when
 * too long. Returns strlen(src). */
size_t wgg_str_copy(char *dst, size_t cap, const char *src);

/* Writes the decimal digits of v into d (room for 20 bytes, no NUL) and
 * returns how many: the heads' numbers without a format. */
size_t wgg_str_dec(char *d, unsigned long long v);

#endif
