/*
 * invoke_path.c: the invocation target and method of a request and the
 * method's normalisation (see invoke_path.h; dapr directmessaging.go
 * findTargetIDAndMethod, pkg/messaging/method/normalize.go).
 */
#include "api/invoke_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long wgg_pct_decode_into(const char *s, size_t n, bool plus, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
      int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return -1;
      out[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[o++] = plus && s[i] == '+' ? ' ' : s[i];
    }
  }
  out[o] = '\0';
  return (long)o;
}

char *wgg_pct_decode(const char *s, size_t n, bool plus, size_t *out_len) {
  *out_len = 1;
  char *out = malloc(n + 1);
  if (!out) return NULL;
  long o = wgg_pct_decode_into(s, n, plus, out);
  if (o < 0) {
    free(out);
    *out_len = 0;
    return NULL;
  }
  *out_len = (size_t)o;
  return out;
}

char *wgg_path_clean(const char *p, size_t n, size_t *out_len) {
  char *out = malloc(n + 3);
  if (out) *out_len = wgg_path_clean_into(p, n, out);
  return out;
}

size_t wgg_path_clean_into(const char *p, size_t n, char *out) {
  size_t w = 0, r = 0, dotdot = 0;
  bool rooted = n && p[0] == '/';
  if (rooted) out[w++] = '/', r = 1, dotdot = 1;
  while (r < n) {
    if (p[r] == '/') {
      r++;
    } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
      r++;
    } else if (p[r] == '.' && r + 1 < n && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
      r += 2;
      if (w > dotdot) {
        w--;
        while (w > dotdot && out[w] != '/') w--;
      } else if (!rooted) {
        if (w > 0) out[w++] = '/';
        out[w++] = '.';
        out[w++] = '.';
        dotdot = w;
      }
    } else {
      if ((rooted && w != 1) || (!rooted && w != 0)) out[w++] = '/';
      for (; r < n && p[r] != '/'; r++) out[w++] = p[r];
    }
  }
  if (w == 0) out[w++] = '.';
  out[w] = '\0';
  return w;
}

/* Go's pathHasPrefix(path, "v1.0", "invoke"): the index after the prefix
 * parts and the slashes after them, or -1. */
static long invoke_prefix(const char *path, size_t pl) {
  static const char *parts[] = {"v1.0", "invoke"};
  size_t i, start = 0, found = 0;
  if (!pl) return -1;
  for (i = 0; i < pl; i++) {
    if (path[i] != '/') {
      if (found >= 2) return (long)i;
      continue;
    }
    if (i > start) {
      if (i - start == strlen(parts[found]) && !memcmp(path + start, parts[found], i - start)) found++;
      else return -1;
    }
    start = i + 1;
  }
  return found >= 2 ? (long)i : -1;
}

/* Standard padded base64 (Go's base64.StdEncoding: the length a multiple of
 * 4, at most two '=' at the end) into a new buffer; NULL when malformed. */
static char *b64_decode(const char *s, size_t *len) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t sl = strlen(s);
  if (sl % 4) return NULL;
  char *out = malloc(sl + 1);
  if (!out) return NULL;
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  const char *p = s;
  for (; *p && *p != '='; p++) {
    const char *q = strchr(abc, *p);
    if (!q) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (unsigned)(q - abc);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (char)((acc >> bits) & 0xff);
    }
  }
  const char *pad = p;
  for (; *p == '='; p++) continue;
  if (*p || p - pad > 2) { /* something after the padding, or too much of it */
    free(out);
    return NULL;
  }
  out[n] = '\0';
  *len = n;
  return out;
}

/* Scratch for the decoded path: on the stack up to this size, else on the heap. */
enum { PATH_STACK = 1024 };

/* The header and basic-auth forms: the ID (id_len bytes of id) and, as the
 * method, the decoded, cleaned path without its leading '/', both in one new
 * block (*out_id; *method points into it). Returns 1, -1 (malformed escape)
 * or -2 (out of memory). */
/* size bytes: room when they fit there, else a new block (NULL when out of memory). */
static char *block_for(size_t size, char *room, size_t room_cap) {
  return room && size <= room_cap ? room : malloc(size);
}

static int whole_path_target(const wgg_http_req *req, const char *id, size_t id_len, char *room, size_t room_cap,
                             char **out_id, size_t *out_id_len, char **method, size_t *mlen) {
  size_t pl = strlen(req->path);
  char stack[PATH_STACK], *dec = pl < sizeof stack ? stack : malloc(pl + 1);
  if (!dec) return -2;
  long dl = wgg_pct_decode_into(req->path, pl, false, dec);
  char *blk = dl < 0 ? NULL : block_for(id_len + 1 + (size_t)dl + 3, room, room_cap);
  int rc = dl < 0 ? -1 : blk ? 1 : -2;
  if (blk) {
    memcpy(blk, id, id_len);
    blk[id_len] = '\0';
    char *c = blk + id_len + 1;
    size_t cl = wgg_path_clean_into(dec, (size_t)dl, c);
    size_t skip = c[0] == '/' ? 1 : 0;
    *out_id = blk;
    *out_id_len = id_len;
    *method = c + skip;
    *mlen = cl - skip;
  }
  if (dec != stack) free(dec);
  return rc;
}

int wgg_invoke_find_target(const wgg_http_req *req, char **id, size_t *id_len, char **method, size_t *method_len) {
  return wgg_invoke_find_target_in(req, NULL, 0, id, id_len, method, method_len);
}

int wgg_invoke_find_target_in(const wgg_http_req *req, char *room, size_t room_cap, char **id, size_t *id_len,
                              char **method, size_t *method_len) {
  *id = *method = NULL;
  const char *hdr = wgg_http_req_header(req, "dapr-app-id");
  if (hdr && *hdr) return whole_path_target(req, hdr, strlen(hdr), room, room_cap, id, id_len, method, method_len);
  const char *auth = wgg_http_req_header(req, "authorization");
  if (auth && !strncmp(auth, "Basic ", 6)) {
    size_t dl;
    char *dec = b64_decode(auth + 6, &dl);
    char *colon = dec ? memchr(dec, ':', dl) : NULL;
    if (colon && !memchr(colon + 1, ':', dl - (size_t)(colon + 1 - dec)) && colon - dec == 11 &&
        !strncasecmp(dec, "dapr-app-id", 11)) {
      int rc = whole_path_target(req, colon + 1, dl - 12, room, room_cap, id, id_len, method, method_len);
      free(dec);
      return rc;
    }
    free(dec);
  }
  size_t rl = strlen(req->path);
  char stack[PATH_STACK], *path = rl < sizeof stack ? stack : malloc(rl + 1);
  if (!path) return -2;
  long dl = wgg_pct_decode_into(req->path, rl, false, path);
  if (dl < 0) {
    if (path != stack) free(path);
    return -1;
  }
  size_t pl = (size_t)dl;
  long at = invoke_prefix(path, pl);
  int rc = 0;
  if (at > 0) {
    const char *rest = path + at, *end = path + pl, *m = NULL;
    for (const char *p = rest + 1; p + 8 <= end && !m; p++) /* strings.Index(rest, "/method/") > 0 */
      if (!memcmp(p, "/method/", 8)) m = p;
    if (m) {
      /* the ID (at most its raw length) and the cleaned method (at most its length + 2) in one block */
      size_t raw_len = (size_t)(m - rest), ml = (size_t)(end - m - 8);
      char *blk = block_for(raw_len + 1 + ml + 3, room, room_cap);
      if (!blk) {
        rc = -2;
      } else {
        long tl = wgg_pct_decode_into(rest, raw_len, true, blk); /* url.QueryUnescape, kept when it fails or is empty */
        if (tl <= 0) memcpy(blk, rest, raw_len), blk[raw_len] = '\0', tl = (long)raw_len;
        char *c = blk + raw_len + 1;
        size_t cl = wgg_path_clean_into(m + 8, ml, c);
        if (cl == 1 && c[0] == '.') c[0] = '\0', cl = 0;
        *id = blk, *id_len = (size_t)tl;
        *method = c, *method_len = cl;
        rc = 1;
      }
    }
  }
  if (path != stack) free(path);
  return rc;
}

void wgg_go_quote(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  if (cap < 3) {
    if (cap) out[0] = '\0';
    return;
  }
  out[o++] = '"';
  for (size_t i = 0; i < n && o + 6 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') out[o++] = '\\', out[o++] = (char)c;
    else if (c == '\n') out[o++] = '\\', out[o++] = 'n';
    else if (c == '\r') out[o++] = '\\', out[o++] = 'r';
    else if (c == '\t') out[o++] = '\\', out[o++] = 't';
    else if (c < 0x20 || c == 0x7f || c >= 0x80) o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    else out[o++] = (char)c;
  }
  out[o++] = '"';
  out[o] = '\0';
}

int wgg_invoke_normalize_method_into(const char *m, size_t n, char *out, size_t *out_len, char *why, size_t why_len) {
  char q[300];
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if (c == '#' || c == '?' || c == 0) {
      wgg_go_quote(m, n, q, sizeof q);
      snprintf(why, why_len, "method contains forbidden character: %s", q);
      return -1;
    }
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if (c < 0x20 || c == 0x7f) {
      wgg_go_quote(m, n, q, sizeof q);
      snprintf(why, why_len, "method contains control character at position %zu: %s", i, q);
      return -1;
    }
  }
  size_t cl = wgg_path_clean_into(m, n, out);
  size_t skip = 0;
  while (cl - skip >= 3 && !memcmp(out + skip, "../", 3)) skip += 3;
  if ((cl - skip == 2 && !memcmp(out + skip, "..", 2)) || (cl - skip == 1 && out[skip] == '.')) skip = cl;
  memmove(out, out + skip, cl - skip);
  out[cl - skip] = '\0';
  *out_len = cl - skip;
  return 0;
}

int wgg_invoke_normalize_method(const char *m, size_t n, char **out, char *why, size_t why_len) {
  *out = NULL;
  char *c = malloc(n + 3);
  if (!c) return snprintf(why, why_len, "out of memory"), -1;
  size_t cl;
  if (wgg_invoke_normalize_method_into(m, n, c, &cl, why, why_len)) {
    free(c);
    return -1;
  }
  *out = c;
  return 0;
}

size_t wgg_invoke_escape_path_into(const char *m, size_t n, char *out) {
  static const char keep[] = "-._~!$&'()*+,;=:@/", hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(keep, c))) {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = '\0';
  return o;
}

char *wgg_invoke_escape_path(const char *m) {
  size_t n = strlen(m);
  char *out = malloc(3 * n + 1);
  if (out) wgg_invoke_escape_path_into(m, n, out);
  return out;
}
