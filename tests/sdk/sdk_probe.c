/* sdk_probe.c: an http-wasm guest that reports what the sdk/c helpers read, for
 * tests/gate/sdk_c_e2e.py. It answers every request under /probe/ itself (ctx_next 0) with
 * text lines "name=value"; other requests go on. Values longer than the helpers' first buffer
 * (512 bytes) and bodies longer than their first allocation (1 KiB) are what the test sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_handler.h"

static hh_bytes config;
static int instance_requests;

static __attribute__((constructor)) void init(void) { hh_config(&config); }

typedef struct report {
  char *p;
  size_t len, cap;
} report;

/* Appends "name=<len bytes of v>\n". */
static void add(report *r, const char *name, const char *v, size_t len) {
  size_t need = r->len + strlen(name) + len + 3;
  if (need > r->cap) {
    size_t cap = need * 2;
    char *p = realloc(r->p, cap);
    if (!p) __builtin_trap();
    r->p = p;
    r->cap = cap;
  }
  r->len += (size_t)sprintf(r->p + r->len, "%s=", name);
  memcpy(r->p + r->len, v, len);
  r->len += len;
  r->p[r->len++] = '\n';
  r->p[r->len] = 0;
}

static void addn(report *r, const char *name, long long n) {
  char v[24];
  add(r, name, v, (size_t)snprintf(v, sizeof v, "%lld", n));
}

static void add_bytes(report *r, const char *name, const hh_bytes *b) {
  add(r, name, b->ptr ? b->ptr : "", b->len);
  char lname[64];
  snprintf(lname, sizeof lname, "%s_len", name);
  addn(r, lname, b->len);
}

/* Reports every entry of a NUL-separated list as name.i=entry. */
static void add_list(report *r, const char *name, const hh_bytes *list, int count) {
  char key[64];
  snprintf(key, sizeof key, "%s_count", name);
  addn(r, key, count);
  const char *cur = NULL, *e;
  for (int i = 0; (e = hh_list_next(list, &cur)); i++) {
    snprintf(key, sizeof key, "%s.%d", name, i);
    add(r, key, e, strlen(e));
  }
}

static long query_num(const char *uri, const char *key, long dflt) {
  const char *q = strchr(uri, '?');
  size_t kl = strlen(key);
  for (const char *p = q; p; p = strchr(p + 1, '&'))
    if (!strncmp(p + 1, key, kl) && p[1 + kl] == '=') return atol(p + 2 + kl);
  return dflt;
}

int64_t handle_request(void) {
  hh_bytes uri = {0};
  if (hh_uri(&uri)) __builtin_trap();
  if (strncmp(uri.ptr, "/probe/", 7)) {
    hh_free(&uri);
    return hh_next(0);
  }
  instance_requests++;
  report r = {0};
  const char *what = uri.ptr + 7;
  if (!strncmp(what, "uri", 3)) {
    add_bytes(&r, "uri", &uri);
    long cap = query_num(uri.ptr, "cap", 16);
    char *buf = malloc((size_t)cap + 1);
    uint32_t n = hh_uri_into(buf, (uint32_t)cap);
    addn(&r, "into_len", n);
    add(&r, "into", buf, strlen(buf));
    free(buf);
    char m[8];
    addn(&r, "method_into_len", hh_method_into(m, sizeof m));
    add(&r, "method_into", m, strlen(m));
  } else if (!strncmp(what, "request", 7)) {
    hh_bytes b = {0};
    hh_method(&b);
    add_bytes(&r, "method", &b);
    hh_free(&b);
    hh_protocol_version(&b);
    add_bytes(&r, "protocol", &b);
    hh_free(&b);
    hh_source_addr(&b);
    add_bytes(&r, "source", &b);
    hh_free(&b);
    add_bytes(&r, "config", &config);
    addn(&r, "instance_requests", instance_requests);
  } else if (!strncmp(what, "headers", 7)) {
    hh_bytes b = {0};
    int n = hh_header_names(HH_HEADER_REQUEST, &b);
    add_list(&r, "names", &b, n);
    hh_free(&b);
    n = hh_header_values(HH_HEADER_REQUEST, "X-Multi", &b);
    add_list(&r, "multi", &b, n);
    hh_free(&b);
    n = hh_header(HH_HEADER_REQUEST, "x-long", &b);
    addn(&r, "long_count", n);
    add_bytes(&r, "long", &b);
    hh_free(&b);
    n = hh_header(HH_HEADER_REQUEST, "x-absent", &b);
    addn(&r, "absent_count", n);
    add_bytes(&r, "absent", &b);
    hh_free(&b);
  } else if (!strncmp(what, "body", 4)) {
    hh_bytes b = {0};
    int more = hh_read_body_all(HH_BODY_REQUEST, &b, (uint32_t)query_num(uri.ptr, "max", 1 << 20));
    addn(&r, "more", more);
    add_bytes(&r, "body", &b);
    hh_free(&b);
  } else if (!strncmp(what, "log", 3)) {
    hh_logf(HH_LOG_INFO, "sdk probe says %s %d", "hello", 42);
    addn(&r, "info_enabled", hh_log_enabled(HH_LOG_INFO));
  }
  hh_free(&uri);
  hh_set_header(HH_HEADER_RESPONSE, "x-probe", "1");
  int64_t ret = hh_respond(200, "text/plain; charset=utf-8", r.p ? r.p : "");
  free(r.p);
  return ret;
}
