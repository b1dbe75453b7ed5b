/*
 * wire.c: gRPC's text encodings of metadata (see wire.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/wire.h"

int64_t wgg_grpc_parse_timeout(const char *v) {
  size_t n = strlen(v);
  if (n < 2 || n > 9) return -1;
  int64_t x = 0;
  for (size_t i = 0; i + 1 < n; i++) {
    if (v[i] < '0' || v[i] > '9') return -1;
    x = x * 10 + (v[i] - '0');
  }
  switch (v[n - 1]) {
    case 'H': return x * 3600000;
    case 'M': return x * 60000;
    case 'S': return x * 1000;
    case 'm': return x;
    case 'u': return (x + 999) / 1000;
    case 'n': return (x + 999999) / 1000000;
    default: return -1;
  }
}

char *wgg_grpc_percent_encode(const char *m) {
  size_t n = strlen(m);
  char *out = malloc(3 * n + 1), *p = out;
  if (!out) return NULL;
  for (const unsigned char *s = (const unsigned char *)m; *s; s++) {
    if (*s >= 0x20 && *s <= 0x7e && *s != '%') *p++ = (char)*s;
    else p += sprintf(p, "%%%02X", *s);
  }
  *p = '\0';
  return out;
}

char *wgg_grpc_base64(const uint8_t *in, size_t len) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc(len / 3 * 4 + 5), *p = out;
  if (!out) return NULL;
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *p++ = b64[v >> 18];
    *p++ = b64[(v >> 12) & 63];
    *p++ = b64[(v >> 6) & 63];
    *p++ = b64[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
    *p++ = b64[v >> 18];
    *p++ = b64[(v >> 12) & 63];
    if (i + 1 < len) *p++ = b64[(v >> 6) & 63];
  }
  *p = '\0';
  return out;
}

uint8_t *wgg_grpc_unbase64(const char *s, size_t *len) {
  size_t n = strlen(s);
  while (n && s[n - 1] == '=') n--;
  uint8_t *out = malloc(n / 4 * 3 + 3), *p = out;
  if (!out) return NULL;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    int v = ch >= 'A' && ch <= 'Z'   ? ch - 'A'
            : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
            : ch >= '0' && ch <= '9' ? ch - '0' + 52
            : ch == '+' || ch == '-' ? 62
            : ch == '/' || ch == '_' ? 63
                                     : -1;
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *p++ = (uint8_t)(acc >> bits);
    }
  }
  if (n % 4 == 1) {
    free(out);
    return NULL;
  }
  *len = (size_t)(p - out);
  return out;
}

char *wgg_grpc_percent_decode(const char *v) {
  size_t vl = strlen(v), j = 0;
  char *m = malloc(vl + 1);
  if (!m) return NULL;
  for (size_t i = 0; i < vl; i++) {
    unsigned hi, lo;
    if (v[i] == '%' && i + 2 < vl && sscanf(v + i + 1, "%1x%1x", &hi, &lo) == 2) {
      m[j++] = (char)(hi << 4 | lo);
      i += 2;
    } else {
      m[j++] = v[i];
    }
  }
  m[j] = '\0';
  return m;
}
