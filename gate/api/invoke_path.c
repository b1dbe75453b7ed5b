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
  if (!out) return NULL;
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
  *out_len = w;
  return out;
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

/* The method of the header and basic-auth forms: the decoded, cleaned path without its leading '/'. */
static int whole_path_method(const wgg_http_req *req, char **method, size_t *mlen) {
  size_t dl;
  char *dec = wgg_pct_decode(req->path, strlen(req->path), false, &dl);
  if (!dec) return dl ? -2 : -1;
  size_t cl;
  char *c = wgg_path_clean(dec, dl, &cl);
  free(dec);
  if (!c) return -2;
  size_t skip = c[0] == '/' ? 1 : 0;
  memmove(c, c + skip, cl - skip + 1);
  *method = c;
  *mlen = cl - skip;
  return 1;
}

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n), d[n] = '\0';
  return d;
}

int wgg_invoke_find_target(const wgg_http_req *req, char **id, size_t *id_len, char **method, size_t *method_len) {
  *id = *method = NULL;
  const char *hdr = wgg_http_req_header(req, "dapr-app-id");
  if (hdr && *hdr) {
    if (!(*id = strdup(hdr))) return -2;
    *id_len = strlen(hdr);
    int rc = whole_path_method(req, method, method_len);
    if (rc != 1) free(*id), *id = NULL;
    return rc;
  }
  const char *auth = wgg_http_req_header(req, "authorization");
  if (auth && !strncmp(auth, "Basic ", 6)) {
    size_t dl;
    char *dec = b64_decode(auth + 6, &dl);
    char *colon = dec ? memchr(dec, ':', dl) : NULL;
    if (colon && !memchr(colon + 1, ':', dl - (size_t)(colon + 1 - dec)) && colon - dec == 11 &&
        !strncasecmp(dec, "dapr-app-id", 11)) {
      *id_len = dl - 12;
      *id = dup_n(colon + 1, *id_len);
      free(dec);
      if (!*id) return -2;
      int rc = whole_path_method(req, method, method_len);
      if (rc != 1) free(*id), *id = NULL;
      return rc;
    }
    free(dec);
  }
  size_t pl;
  char *path = wgg_pct_decode(req->path, strlen(req->path), false, &pl);
  if (!path) return pl ? -2 : -1;
  long at = invoke_prefix(path, pl);
  int rc = 0;
  if (at > 0) {
    const char *rest = path + at, *end = path + pl, *m = NULL;
    for (const char *p = rest + 1; p + 8 <= end && !m; p++) /* strings.Index(rest, "/method/") > 0 */
      if (!memcmp(p, "/method/", 8)) m = p;
    if (m) {
      size_t raw_len = (size_t)(m - rest), tl;
      char *t = wgg_pct_decode(rest, raw_len, true, &tl); /* url.QueryUnescape, kept when it fails or is empty */
      if (t && tl) *id = t, *id_len = tl;
      else free(t), *id = dup_n(rest, raw_len), *id_len = raw_len;
      size_t cl;
      char *c = *id ? wgg_path_clean(m + 8, (size_t)(end - m - 8), &cl) : NULL;
      if (c && cl == 1 && c[0] == '.') c[0] = '\0', cl = 0;
      if (!*id || !c) {
        free(*id), free(c), *id = NULL;
        rc = -2;
      } else {
        *method = c, *method_len = cl;
        rc = 1;
      }
    }
  }
  free(path);
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

int wgg_invoke_normalize_method(const char *m, size_t n, char **out, char *why, size_t why_len) {
  char q[300];
  *out = NULL;
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
  size_t cl;
  char *c = wgg_path_clean(m, n, &cl);
  if (!c) return snprintf(why, why_len, "out of memory"), -1;
  size_t skip = 0;
  while (cl - skip >= 3 && !memcmp(c + skip, "../", 3)) skip += 3;
  if ((cl - skip == 2 && !memcmp(c + skip, "..", 2)) || (cl - skip == 1 && c[skip] == '.')) skip = cl;
  memmove(c, c + skip, cl - skip);
  c[cl - skip] = '\0';
  *out = c;
  return 0;
}

char *wgg_invoke_escape_path(const char *m) {
  static const char keep[] = "-._~!$&'()*+,;=:@/";
  size_t n = strlen(m);
  char *out = malloc(3 * n + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(keep, c)))
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, 4, "%%%02X", c);
  }
  out[o] = '\0';
  return out;
}
