/* buf.c: see buf.h. */
#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(wgg_buf *b, size_t extra) {
  if (extra > SIZE_MAX - b->len - 1) return -1;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int wgg_buf_append(wgg_buf *b, const void *p, size_t n) {
  if (reserve(b, n)) return -1;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

/* Formats into the room the buffer has; only what does not fit is formatted
 * a second time, after growing (a request's head lines mostly fit). */
int wgg_buf_printf(wgg_buf *b, const char *fmt, ...) {
  va_list ap;
  size_t room = b->cap > b->len ? b->cap - b->len : 0; /* with the NUL; 0 before the first append */
  va_start(ap, fmt);
  int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < room) {
    b->len += (size_t)n;
    return 0;
  }
  if (room) b->data[b->len] = '\0'; /* what was cut off is not part of the buffer */
  if (n < 0 || reserve(b, (size_t)n)) return -1;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

int wgg_buf_read_file(wgg_buf *b, const char *path, wgg_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wgg_err_set(err, "%s: %s", path, strerror(errno));
  int rc = 0;
  for (;;) {
    if (reserve(b, 8192)) {
      rc = wgg_err_set(err, "%s: out of memory", path);
      break;
    }
    size_t n = fread(b->data + b->len, 1, b->cap - b->len - 1, f);
    b->len += n;
    b->data[b->len] = '\0';
    if (n == 0) break;
  }
  if (!rc && ferror(f)) rc = wgg_err_set(err, "%s: read error", path);
  fclose(f);
  return rc;
}

void wgg_buf_free(wgg_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *wgg_strndup(const char *p, size_t n) {
  char *s = malloc(n + 1);
  if (!s) return NULL;
  if (n) memcpy(s, p, n);
  s[n] = '\0';
  return s;
}
