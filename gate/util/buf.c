/* buf.c: see buf.h. */
#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
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

size_t wgg_str_dec(char *d, unsigned long long v) {
  char t[24], *p = t + sizeof t;
  do *--p = (char)('0' + v % 10);
  while (v /= 10);
  size_t k = (size_t)(t + sizeof t - p);
  memcpy(d, p, k);
  return k;
}

/* Appends the decimal digits of v (negative when neg). Returns 0 or -1. */
static int append_num(wgg_buf *b, unsigned long long v, bool neg) {
  char d[25];
  d[0] = '-';
  return wgg_buf_append(b, neg ? d : d + 1, wgg_str_dec(d + 1, v) + neg);
}

/* The formats of the HTTP heads (literal text, %s, %d, %u, %zu, %lld, %llu,
 * %%) without vsnprintf, which costs about a thousand instructions a call
 * (callgrind: a quarter of the sidecar's work per invocation). Returns 0,
 * -1 (out of memory) or 1 when fmt holds anything else; on -1 and 1 the
 * buffer's text is as before. */
static int fast_printf(wgg_buf *b, const char *fmt, va_list ap) {
  size_t len0 = b->len;
  int rc = 0;
  const char *p = fmt;
  while (*p && !rc) {
    const char *lit = p;
    while (*p && *p != '%') p++;
    if (p > lit) rc = wgg_buf_append(b, lit, (size_t)(p - lit));
    if (rc || !*p) break;
    p++; /* the '%' */
    if (*p == '%') {
      rc = wgg_buf_append(b, "%", 1), p++;
    } else if (*p == 's') {
      const char *v = va_arg(ap, const char *);
      if (!v) v = "(null)"; /* as glibc */
      rc = wgg_buf_append(b, v, strlen(v)), p++;
    } else if (*p == 'd') {
      int v = va_arg(ap, int);
      rc = append_num(b, v < 0 ? 0ull - (unsigned long long)(long long)v : (unsigned long long)v, v < 0), p++;
    } else if (*p == 'u') {
      rc = append_num(b, va_arg(ap, unsigned), false), p++;
    } else if (p[0] == 'z' && p[1] == 'u') {
      rc = append_num(b, va_arg(ap, size_t), false), p += 2;
    } else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'd') {
      long long v = va_arg(ap, long long);
      rc = append_num(b, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, v < 0), p += 3;
    } else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'u') {
      rc = append_num(b, va_arg(ap, unsigned long long), false), p += 3;
    } else {
      rc = 1;
    }
  }
  if (rc) {
    b->len = len0;
    if (b->data) b->data[len0] = '\0';
  } else if (!b->data) {
    rc = wgg_buf_append(b, "", 0); /* an empty format allocates too, as before */
  }
  return rc;
}

/* The common formats go through fast_printf; others are formatted into the
 * room the buffer has, and only what does not fit is formatted a second
 * time, after growing (a request's head lines mostly fit). */
int wgg_buf_printf(wgg_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int fast = fast_printf(b, fmt, ap);
  va_end(ap);
  if (fast <= 0) return fast;
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

size_t wgg_str_join(char *dst, size_t cap, const char *const *parts, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(parts[i]);
    if (total < cap - 1) {
      size_t room = cap - 1 - total;
      memcpy(dst + total, parts[i], l < room ? l : room);
    }
    total += l;
  }
  dst[total < cap - 1 ? total : cap - 1] = '\0';
  return total;
}

size_t wgg_str_copy(char *dst, size_t cap, const char *src) {
  return wgg_str_join(dst, cap, &src, 1);
}
