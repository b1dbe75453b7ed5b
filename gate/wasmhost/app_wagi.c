/*
 * app_wagi.c: the WAGI contract (CGI 1.1, RFC 3875, over WASI preview1, as
 * deislabs/wagi and Spin's WAGI executor run it; docs/wasm-apps.md "WAGI"):
 * the request becomes meta-variables in the environment, and the guest's
 * stdout is parsed as a CGI response.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "wasmhost/app_internal.h"

typedef struct envb {
  char **v;
  int n, cap;
  bool oom;
} envb;

static void env_add(envb *e, const char *k, const char *v, size_t vlen) {
  if (e->oom) return;
  if (e->n + 2 > e->cap) {
    int cap = e->cap ? e->cap * 2 : 48;
    char **nv = realloc(e->v, (size_t)cap * sizeof *nv);
    if (!nv) {
      e->oom = true;
      return;
    }
    e->v = nv;
    e->cap = cap;
  }
  size_t kl = strlen(k);
  char *s = malloc(kl + vlen + 2);
  if (!s) {
    e->oom = true;
    return;
  }
  memcpy(s, k, kl);
  s[kl] = '=';
  memcpy(s + kl + 1, v, vlen);
  s[kl + 1 + vlen] = '\0';
  e->v[e->n++] = s;
  e->v[e->n] = NULL;
}

static void env_adds(envb *e, const char *k, const char *v) { env_add(e, k, v, strlen(v)); }

void wgg_wagi_env_free(char **env) {
  if (!env) return;
  for (char **p = env; *p; p++) free(*p);
  free(env);
}

/* Decodes %XX escapes of n bytes (PATH_INFO is decoded, as RFC 3875 4.1.5
 * says; X_RAW_PATH_INFO keeps the raw form). A malformed escape is kept. */
static char *pct_decode(const char *s, size_t n) {
  char *o = malloc(n + 1);
  if (!o) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      char c = (char)strtol(hex, NULL, 16);
      if (c) { /* never a NUL inside an environment value */
        o[k++] = c;
        i += 2;
        continue;
      }
    }
    o[k++] = s[i];
  }
  o[k] = '\0';
  return o;
}

char **wgg_wagi_env(const wgg_wasm_app *a, const char *method, const char *target, const wgg_http_header *h,
                    size_t n, size_t body_len, const char *source, int *envc) {
  envb e = {0};
  const char *q = strchr(target, '?');
  size_t plen = q ? (size_t)(q - target) : strlen(target);
  char num[32];
  env_adds(&e, "GATEWAY_INTERFACE", "CGI/1.1");
  env_adds(&e, "SERVER_SOFTWARE", "WAGI/1");
  env_adds(&e, "SERVER_PROTOCOL", "HTTP/1.1");
  env_adds(&e, "SERVER_NAME", "localhost");
  snprintf(num, sizeof num, "%d", a->http_port);
  env_adds(&e, "SERVER_PORT", num);
  env_adds(&e, "REQUEST_METHOD", method);
  env_adds(&e, "SCRIPT_NAME", "");
  char *path = pct_decode(target, plen);
  if (!path) e.oom = true;
  else env_adds(&e, "PATH_INFO", path);
  env_add(&e, "X_RAW_PATH_INFO", target, plen);
  env_adds(&e, "PATH_TRANSLATED", path ? path : "");
  free(path);
  env_adds(&e, "QUERY_STRING", q ? q + 1 : "");
  env_adds(&e, "X_MATCHED_ROUTE", "/...");
  env_adds(&e, "X_COMPONENT_ROUTE", "/...");
  env_add(&e, "X_RELATIVE_PATH", target + (plen && target[0] == '/'), plen - (plen && target[0] == '/'));
  char url[512];
  snprintf(url, sizeof url, "http://localhost:%d%s", a->http_port, target);
  env_adds(&e, "X_FULL_URL", url);
  /* REMOTE_ADDR: the client's IP without the port (RFC 3875 4.1.8) */
  char addr[64] = "";
  if (source && *source) {
    snprintf(addr, sizeof addr, "%s", source);
    char *colon = strrchr(addr, ':');
    if (addr[0] == '[') {
      char *close = strchr(addr, ']');
      if (close) {
        *close = '\0';
        memmove(addr, addr + 1, strlen(addr + 1) + 1);
      }
    } else if (colon && strchr(addr, ':') == colon) {
      *colon = '\0';
    }
  }
  env_adds(&e, "REMOTE_ADDR", *addr ? addr : "127.0.0.1");
  env_adds(&e, "REMOTE_HOST", *addr ? addr : "127.0.0.1");
  env_adds(&e, "REMOTE_USER", "");
  env_adds(&e, "AUTH_TYPE", "");
  snprintf(num, sizeof num, "%zu", body_len);
  env_adds(&e, "CONTENT_LENGTH", num);
  const char *ctype = "";
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(h[i].name, "content-type")) ctype = h[i].value;
  env_adds(&e, "CONTENT_TYPE", ctype);
  /* the app's own identity, as an HTTP app gets it from its environment */
  env_adds(&e, "APP_ID", a->app_id);
  env_adds(&e, "DAPR_APP_ID", a->app_id);
  snprintf(num, sizeof num, "%d", a->http_port);
  env_adds(&e, "DAPR_HTTP_PORT", num);
  /* HTTP_* for every header but Content-Type/Content-Length (RFC 3875
   * 4.1.18); Authorization is passed too, as WAGI does */
  for (size_t i = 0; i < n; i++) {
    const char *nm = h[i].name;
    if (!strcasecmp(nm, "content-type") || !strcasecmp(nm, "content-length")) continue;
    char key[300];
    size_t k = 0;
    memcpy(key, "HTTP_", 5);
    k = 5;
    for (const char *p = nm; *p && k < sizeof key - 1; p++)
      key[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    key[k] = '\0';
    env_adds(&e, key, h[i].value);
  }
  if (e.oom || !e.v) {
    if (e.v) e.v[e.n] = NULL;
    wgg_wagi_env_free(e.v);
    return NULL;
  }
  *envc = e.n;
  return e.v;
}

static bool token_char(char c) {
  return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

int wgg_wagi_parse(const char *out, size_t len, int *status, wgg_hdrs *hdrs, size_t *body_off, wgg_err *err) {
  *status = 0;
  size_t i = 0;
  bool location = false;
  for (;;) {
    const char *nl = memchr(out + i, '\n', len - i);
    if (!nl) return wgg_err_set(err, "wasm app: the CGI response has no blank line after its headers");
    size_t end = (size_t)(nl - out), le = end;
    if (le > i && out[le - 1] == '\r') le--;
    if (le == i) { /* the blank line */
      *body_off = end + 1;
      break;
    }
    const char *colon = memchr(out + i, ':', le - i);
    if (!colon || colon == out + i) return wgg_err_set(err, "wasm app: malformed CGI header line");
    size_t nlen = (size_t)(colon - (out + i));
    for (size_t k = 0; k < nlen; k++)
      if (!token_char(out[i + k])) return wgg_err_set(err, "wasm app: malformed CGI header name");
    size_t v = (size_t)(colon - out) + 1;
    while (v < le && (out[v] == ' ' || out[v] == '\t')) v++;
    size_t ve = le;
    while (ve > v && (out[ve - 1] == ' ' || out[ve - 1] == '\t')) ve--;
    for (size_t k = v; k < ve; k++)
      if (out[k] == '\0' || out[k] == '\r') return wgg_err_set(err, "wasm app: malformed CGI header value");
    if (nlen == 6 && !strncasecmp(out + i, "status", 6)) {
      /* "Status: 404 Not Found" */
      int s = 0;
      size_t k = v;
      for (; k < ve && k < v + 3 && out[k] >= '0' && out[k] <= '9'; k++) s = s * 10 + (out[k] - '0');
      if (k != v + 3 || s < 100 || s > 999) return wgg_err_set(err, "wasm app: malformed CGI Status header");
      *status = s;
    } else {
      if (nlen == 8 && !strncasecmp(out + i, "location", 8)) location = true;
      if (wgg_hdrs_add(hdrs, out + i, nlen, out + v, ve - v)) return wgg_err_set(err, "out of memory");
    }
    i = end + 1;
  }
  if (!*status) *status = location ? 302 : 200;
  return 0;
}
