/*
 * httpwasm_abi.c: the `http_handler` host functions (ABI 1.3-1.5 of
 * shared/reference/http-wasm-abi.md; http-wasm content/http-handler-abi.md;
 * host-go handler/middleware.go). Every function reads the guest's memory
 * base and size afresh (a guest may grow its memory between calls). A "trap"
 * below is a WG_TRAP_HOST trap with host-go's panic text; the pipeline turns
 * it into a 500 for that request only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "wasmhost/guestmem.h"
#include "wasmhost/httpwasm_internal.h"

typedef wg_trap *(*hw_fn)(wgg_hw_instance *i, const wg_val *a, wg_val *r);

/* What a guest may make the host hold for one request, so that a guest
 * writing in a loop fails its request instead of exhausting the host's
 * memory before its deadline: each body, header fields per kind, and the size
 * of one header name or value. */
enum { HW_MAX_BODY = 32u << 20, HW_MAX_FIELDS = 256, HW_MAX_FIELD_LEN = 16u << 10 };

static wg_trap *trap(const char *fmt, const char *arg) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, arg);
  return wg_trap_new(WG_TRAP_HOST, msg);
}

/* Guest bytes [ptr, ptr+len) of the memory of the instance that made the
 * call (set by dispatch), or NULL when out of range or there is none. */
static uint8_t *mem_at(wgg_hw_instance *i, uint32_t ptr, uint32_t len) { return wgg_guest_at(i->cur_mem, ptr, len); }

/* host-go writeIfUnderLimit: writes v only when 0 < len <= limit (out of range: not written). */
static int32_t write_if_under(wgg_hw_instance *i, uint32_t buf, uint32_t limit, const void *v, size_t len) {
  if (len && len <= limit) {
    uint8_t *p = mem_at(i, buf, (uint32_t)len);
    if (p) memcpy(p, v, len);
  }
  return (int32_t)len;
}

#define U32(k) ((uint32_t)a[k].of.i32)
#define NEED_CALL()                                                    \
  do {                                                                 \
    if (!i->call) return trap("%s: no request in flight", __func__ + 3); \
  } while (0)

/* ---- validating what a guest hands back (issue 18.13: no response splitting,
 * no request line injection) ---- */

/* RFC 9110 5.6.2 tchar: methods and field names are tokens. */
static bool is_token(const uint8_t *p, size_t n) {
  if (!n) return false;
  for (size_t k = 0; k < n; k++) {
    uint8_t c = p[k];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c))))
      return false;
  }
  return true;
}

/* RFC 9110 5.5 field-value as Go's httpguts.ValidHeaderFieldValue checks
 * it: no control character but HTAB (so no CR, LF, NUL), no DEL. */
static bool is_field_value(const uint8_t *p, size_t n) {
  for (size_t k = 0; k < n; k++)
    if ((p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f) return false;
  return true;
}

/* A trap quoting at most 64 bytes of a bad value, escaped (Go's %q). */
static wg_trap *bad_value(const char *fmt, const uint8_t *p, size_t n) {
  char q[300];
  size_t o = 0;
  for (size_t k = 0; k < n && k < 64 && o + 5 < sizeof q; k++)
    o += (size_t)(p[k] >= 0x20 && p[k] < 0x7f && p[k] != '"' && p[k] != '\\'
                      ? snprintf(q + o, sizeof q - o, "%c", p[k])
                      : snprintf(q + o, sizeof q - o, "\\x%02x", p[k]));
  q[o] = '\0';
  return trap(fmt, q);
}

/* host-go mustBeforeNext / mustBeforeNextOrFeature. */
static wg_trap *before_next(wgg_hw_instance *i, const char *op, const char *what) {
  if (!i->call->after_next) return NULL;
  char msg[160];
  snprintf(msg, sizeof msg, "can't %s %s after next handler", op, what);
  return wg_trap_new(WG_TRAP_HOST, msg);
}

static wg_trap *before_next_or(wgg_hw_instance *i, uint32_t feature, const char *op, const char *what) {
  if (!i->call->after_next || (i->call->features & feature)) return NULL;
  char msg[200];
  snprintf(msg, sizeof msg, "can't %s %s after next handler unless %s is enabled", op, what,
           feature == WGG_HW_BUFFER_REQUEST ? "buffer_request" : "buffer_response");
  return wg_trap_new(WG_TRAP_HOST, msg);
}

/* Without buffer_response, host-go's guest writes status and body straight
 * to the ResponseWriter: the response head is committed at that moment. */
static void commit_if_streaming(wgg_hw_instance *i) {
  if (!(i->call->features & WGG_HW_BUFFER_RESPONSE) && !i->call->after_next) i->call->ex->resp_committed = true;
}

/* ---- features, config, logs ---- */

static wg_trap *hw_enable_features(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  uint32_t want = U32(0) & WGG_HW_SUPPORTED;
  if (i->call) {
    i->call->features |= want;
    r[0].of.i32 = (int32_t)i->call->features;
  } else {
    r[0].of.i32 = (int32_t)(__atomic_or_fetch(&i->m->features, want, __ATOMIC_RELAXED));
  }
  return NULL;
}

static wg_trap *hw_get_config(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  r[0].of.i32 = write_if_under(i, U32(0), U32(1), i->m->config, i->m->config_len);
  return NULL;
}

/* http-wasm levels (debug -1, info 0, warn 1, error 2, none 3) to ours; -1 = none. */
static int log_level(int32_t level) {
  switch (level) {
    case -1: return WGG_LOG_DEBUG;
    case 0: return WGG_LOG_INFO;
    case 1: return WGG_LOG_WARN;
    case 2: return WGG_LOG_ERROR;
    default: return -1;
  }
}

static wg_trap *hw_log_enabled(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)i;
  int l = log_level(a[0].of.i32);
  r[0].of.i32 = l >= 0 && l >= wgg_log_get_level();
  return NULL;
}

static wg_trap *hw_log(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  int l = log_level(a[0].of.i32);
  if (l < 0 || l < wgg_log_get_level()) return NULL;
  uint32_t len = U32(2);
  const uint8_t *p = len ? mem_at(i, U32(1), len) : (const uint8_t *)"";
  if (!p) return trap("out of memory reading %s", "message");
  wgg_log(l, "%.*s", (int)(len > 900 ? 900 : len), (const char *)p);
  return NULL;
}

/* ---- method, URI, protocol, source address ---- */

static wg_trap *hw_get_method(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  const char *m = i->call->ex->method;
  r[0].of.i32 = write_if_under(i, U32(0), U32(1), m, strlen(m));
  return NULL;
}

static wg_trap *hw_set_method(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  NEED_CALL();
  wg_trap *t = before_next(i, "set", "method");
  if (t) return t;
  if (!U32(1)) return trap("%s", "HTTP method cannot be empty");
  const uint8_t *p = mem_at(i, U32(0), U32(1));
  if (!p) return trap("out of memory reading %s", "method");
  if (!is_token(p, U32(1))) return bad_value("net/http: invalid method \"%s\"", p, U32(1));
  char *m = wgg_strndup((const char *)p, U32(1));
  if (!m) return trap("%s", "out of memory");
  free(i->call->ex->method);
  i->call->ex->method = m;
  i->call->ex->req_changed = true;
  return NULL;
}

static wg_trap *hw_get_uri(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  const char *u = i->call->ex->uri && *i->call->ex->uri ? i->call->ex->uri : "/";
  r[0].of.i32 = write_if_under(i, U32(0), U32(1), u, strlen(u));
  return NULL;
}

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Characters Go's url.EscapedPath keeps as they are in a path. */
static bool path_char_ok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~!$&'()*+,;=:@/[]", c);
}

/* The origin-form URI a guest gave to set_uri, as host-go stores it
 * (url.ParseRequestURI, then EscapedPath + "?" + RawQuery): "" -> "/",
 * the path re-escaped when it is not a valid encoding ("/a b" -> "/a%20b"),
 * the query kept raw. NULL with *why on an unparsable URI. */
static char *normalize_uri(const char *u, size_t n, const char **why) {
  if (!n) return strdup("/");
  for (size_t k = 0; k < n; k++)
    if ((unsigned char)u[k] < 0x20 || u[k] == 0x7f) return *why = "net/url: invalid control character in URL", NULL;
  const char *path = u;
  size_t plen = n;
  if (u[0] != '/') { /* absolute form "scheme://authority/path?query": keep the origin part */
    const char *sep = memchr(u, ':', n);
    if (!sep || sep == u || sep + 3 > u + n || memcmp(sep, "://", 3)) return *why = "invalid URI for request", NULL;
    const char *slash = memchr(sep + 3, '/', (size_t)(u + n - sep - 3));
    if (!slash) return strdup("/");
    path = slash;
    plen = (size_t)(u + n - slash);
  }
  const char *q = memchr(path, '?', plen);
  size_t pl = q ? (size_t)(q - path) : plen;
  wgg_buf b = {0};
  bool valid = true;
  for (size_t k = 0; k < pl; k++) {
    unsigned char c = (unsigned char)path[k];
    if (c == '%') {
      if (k + 2 >= pl || hexval(path[k + 1]) < 0 || hexval(path[k + 2]) < 0) return *why = "invalid URL escape", NULL;
      k += 2;
    } else if (!path_char_ok(c)) {
      valid = false;
    }
  }
  int rc = 0;
  if (valid) {
    rc = wgg_buf_append(&b, path, pl);
  } else { /* decode, then escape what a path may not hold as is */
    for (size_t k = 0; k < pl && !rc; k++) {
      unsigned char c = (unsigned char)path[k];
      if (c == '%') {
        c = (unsigned char)(hexval(path[k + 1]) * 16 + hexval(path[k + 2]));
        k += 2;
      }
      if (path_char_ok(c) && c != '%') rc = wgg_buf_append(&b, &c, 1);
      else rc = wgg_buf_printf(&b, "%%%02X", c);
    }
  }
  if (!rc && q) rc = wgg_buf_append(&b, q, plen - pl);
  if (rc) {
    wgg_buf_free(&b);
    return *why = "out of memory", NULL;
  }
  if (!b.data) return strdup("/");
  return b.data;
}

static wg_trap *hw_set_uri(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  NEED_CALL();
  wg_trap *t = before_next(i, "set", "uri");
  if (t) return t;
  const uint8_t *p = U32(1) ? mem_at(i, U32(0), U32(1)) : (const uint8_t *)"";
  if (!p) return trap("out of memory reading %s", "uri");
  const char *why = NULL;
  char *u = normalize_uri((const char *)p, U32(1), &why);
  if (!u) return trap("%s", why);
  free(i->call->ex->uri);
  i->call->ex->uri = u;
  i->call->ex->req_changed = true;
  return NULL;
}

static wg_trap *hw_get_protocol_version(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  const char *p = i->call->ex->protocol;
  if (!p || !*p) return trap("%s", "HTTP protocol version cannot be empty");
  r[0].of.i32 = write_if_under(i, U32(0), U32(1), p, strlen(p));
  return NULL;
}

static wg_trap *hw_get_source_addr(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  const char *s = i->call->ex->source_addr;
  r[0].of.i32 = write_if_under(i, U32(0), U32(1), s, strlen(s));
  return NULL;
}

/* ---- headers ---- */

/* The field list of a header kind (0 request, 1 response, 2 request
 * trailers, 3 response trailers), or NULL for another kind. */
static wgg_hdrs *headers_of(wgg_hw_instance *i, int32_t kind) {
  wgg_exchange *ex = i->call->ex;
  switch (kind) {
    case 0: return &ex->req_headers;
    case 1: return &ex->resp_headers;
    case 2: return &ex->req_trailers;
    case 3: return &ex->resp_trailers;
    default: return NULL;
  }
}

static wg_trap *bad_kind(const char *what, int32_t kind) {
  char msg[64];
  snprintf(msg, sizeof msg, "unsupported %s kind: %d", what, kind);
  return wg_trap_new(WG_TRAP_HOST, msg);
}

/* host-go writeNULTerminated: count<<32|len (len counts one NUL per entry);
 * written only when 0 < len <= limit; an out-of-range buffer traps. */
static wg_trap *write_list(wgg_hw_instance *i, uint32_t buf, uint32_t limit, const char *const *v, size_t n,
                           wg_val *r) {
  uint64_t len = 0;
  for (size_t k = 0; k < n; k++) len += strlen(v[k]) + 1;
  r[0].of.i64 = n ? (int64_t)((uint64_t)n << 32 | (uint32_t)len) : 0;
  if (!n || len > limit) return NULL;
  uint8_t *p = mem_at(i, buf, (uint32_t)len);
  if (!p) return trap("out of memory writing %s", "header list");
  for (size_t k = 0; k < n; k++) {
    size_t l = strlen(v[k]) + 1;
    memcpy(p, v[k], l);
    p += l;
  }
  return NULL;
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static wg_trap *hw_get_header_names(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  int32_t kind = a[0].of.i32;
  wgg_hdrs *h = headers_of(i, kind);
  if (!h) return bad_kind("header", kind);
  char **names = calloc(h->n + 1, sizeof *names);
  size_t n = 0;
  wg_trap *t = NULL;
  for (size_t k = 0; names && k < h->n; k++) {
    bool seen = false;
    for (size_t j = 0; j < k && !seen; j++) seen = !strcasecmp(h->v[j].name, h->v[k].name);
    if (seen) continue;
    if (!(names[n] = strdup(h->v[k].name))) break;
    for (char *c = names[n]; *c; c++)
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    n++;
  }
  if (!names) return trap("%s", "out of memory");
  qsort(names, n, sizeof *names, cmp_str);
  t = write_list(i, U32(1), U32(2), (const char *const *)names, n, r);
  for (size_t k = 0; k < n; k++) free(names[k]);
  free(names);
  return t;
}

/* Reads the header name argument (traps on empty or out of range). */
static wg_trap *read_name(wgg_hw_instance *i, uint32_t ptr, uint32_t len, char **out) {
  if (!len) return trap("%s", "HTTP header name cannot be empty");
  const uint8_t *p = mem_at(i, ptr, len);
  if (!p) return trap("out of memory reading %s", "name");
  if (!(*out = wgg_strndup((const char *)p, len))) return trap("%s", "out of memory");
  return NULL;
}

static wg_trap *hw_get_header_values(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  int32_t kind = a[0].of.i32;
  char *name = NULL;
  wg_trap *t = read_name(i, U32(1), U32(2), &name);
  if (t) return t;
  wgg_hdrs *h = headers_of(i, kind);
  if (!h) {
    free(name);
    return bad_kind("header", kind);
  }
  const char **vals = calloc(h->n + 1, sizeof *vals);
  size_t n = 0;
  for (size_t k = 0; vals && k < h->n; k++)
    if (!strcasecmp(h->v[k].name, name)) vals[n++] = h->v[k].value;
  free(name);
  if (!vals) return trap("%s", "out of memory");
  t = write_list(i, U32(3), U32(4), vals, n, r);
  free(vals);
  return t;
}

/* The before/after-next rule of header mutations (host-go mustHeaderMutable). */
static wg_trap *header_mutable(wgg_hw_instance *i, const char *op, int32_t kind) {
  switch (kind) {
    case 0: return before_next(i, op, "request header");
    case 2: return before_next(i, op, "request trailer");
    case 1: return before_next_or(i, WGG_HW_BUFFER_RESPONSE, op, "response header");
    case 3: return before_next_or(i, WGG_HW_BUFFER_RESPONSE, op, "response trailer");
    default: return bad_kind("header", kind);
  }
}

static bool has_field(const wgg_hdrs *h, const char *name, size_t len) {
  for (size_t k = 0; k < h->n; k++)
    if (strlen(h->v[k].name) == len && !strncasecmp(h->v[k].name, name, len)) return true;
  return false;
}

/* set (replace=true) / add a header value. */
static wg_trap *put_header(wgg_hw_instance *i, const wg_val *a, bool replace) {
  NEED_CALL();
  int32_t kind = a[0].of.i32;
  if (!U32(2)) return trap("%s", "HTTP header name cannot be empty");
  wg_trap *t = header_mutable(i, replace ? "set" : "add", kind);
  if (t) return t;
  const uint8_t *n = mem_at(i, U32(1), U32(2));
  if (!n) return trap("out of memory reading %s", "name");
  const uint8_t *v = U32(4) ? mem_at(i, U32(3), U32(4)) : (const uint8_t *)"";
  if (!v) return trap("out of memory reading %s", "value");
  if (!is_token(n, U32(2))) return bad_value("net/http: invalid header field name \"%s\"", n, U32(2));
  if (!is_field_value(v, U32(4))) return bad_value("net/http: invalid header field value for \"%s\"", n, U32(2));
  wgg_hdrs *h = headers_of(i, kind);
  if (U32(2) > HW_MAX_FIELD_LEN || U32(4) > HW_MAX_FIELD_LEN) return trap("%s", "header field too long (16 KiB at most)");
  if (h->n >= HW_MAX_FIELDS && (!replace || !has_field(h, (const char *)n, U32(2))))
    return trap("%s", "too many header fields (256 at most)");
  if (kind == 0) i->call->ex->req_changed = true;
  if (kind == 1 && i->call->ex->resp_committed) return NULL; /* sent already: the change is lost, as in Go */
  int rc = replace ? wgg_hdrs_set(h, (const char *)n, U32(2), (const char *)v, U32(4))
                   : wgg_hdrs_add(h, (const char *)n, U32(2), (const char *)v, U32(4));
  return rc ? trap("%s", "out of memory") : NULL;
}

static wg_trap *hw_set_header_value(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  return put_header(i, a, true);
}

static wg_trap *hw_add_header_value(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  return put_header(i, a, false);
}

static wg_trap *hw_remove_header(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  NEED_CALL();
  int32_t kind = a[0].of.i32;
  if (!U32(2)) return trap("%s", "HTTP header name cannot be empty");
  wg_trap *t = header_mutable(i, "remove", kind);
  if (t) return t;
  const uint8_t *n = mem_at(i, U32(1), U32(2));
  if (!n) return trap("out of memory reading %s", "name");
  if (kind == 0) i->call->ex->req_changed = true;
  if (kind == 1 && i->call->ex->resp_committed) return NULL;
  wgg_hdrs_remove(headers_of(i, kind), (const char *)n, U32(2));
  return NULL;
}

/* ---- bodies and status ---- */

static wg_trap *hw_read_body(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  NEED_CALL();
  int32_t kind = a[0].of.i32;
  wgg_hw_call *c = i->call;
  wg_trap *t = kind == 0   ? before_next_or(i, WGG_HW_BUFFER_REQUEST, "read", "request body")
               : kind == 1 ? before_next_or(i, WGG_HW_BUFFER_RESPONSE, "read", "response body")
                           : bad_kind("body", kind);
  if (t) return t;
  uint32_t limit = U32(2);
  if (!limit) return trap("%s", "buf_limit==0 reading body");
  uint8_t *p = mem_at(i, U32(1), limit);
  if (!p) return trap("out of memory reading %s", "body");
  wgg_buf *b = kind == 0 ? &c->ex->req_body : &c->ex->resp_body;
  size_t *off = kind == 0 ? &c->req_read : &c->resp_read;
  size_t left = *off < b->len ? b->len - *off : 0, n = left < limit ? left : limit;
  if (n) memcpy(p, b->data + *off, n);
  *off += n;
  /* host-go fills the buffer until the limit or EOF: a shorter rest comes with EOF */
  r[0].of.i64 = (int64_t)((n < limit ? (uint64_t)1 << 32 : 0) | n); /* exactly full: EOF on the next read */
  return NULL;
}

static wg_trap *hw_write_body(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  NEED_CALL();
  int32_t kind = a[0].of.i32;
  wgg_hw_call *c = i->call;
  wg_trap *t = kind == 0   ? before_next(i, "write", "request body")
               : kind == 1 ? before_next_or(i, WGG_HW_BUFFER_RESPONSE, "write", "response body")
                           : bad_kind("body", kind);
  if (t) return t;
  const uint8_t *p = U32(2) ? mem_at(i, U32(1), U32(2)) : (const uint8_t *)"";
  if (!p) return trap("out of memory reading %s", "body");
  wgg_buf *b = kind == 0 ? &c->ex->req_body : &c->ex->resp_body;
  bool *made = kind == 0 ? &c->req_written : &c->resp_writer;
  if (kind == 0) c->ex->req_changed = true;
  else commit_if_streaming(i);
  if (!*made) { /* the first write replaces the body (the writer is created once per request) */
    *made = true;
    if (kind == 0 || c->after_next) {
      b->len = 0;
      if (b->data) b->data[0] = '\0';
    }
  }
  if (U32(2) > HW_MAX_BODY - b->len) return trap("%s", "error writing body: a body is limited to 32 MiB");
  return wgg_buf_append(b, p, U32(2)) ? trap("%s", "error writing body: out of memory") : NULL;
}

static wg_trap *hw_get_status_code(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)a;
  NEED_CALL();
  wg_trap *t = before_next_or(i, WGG_HW_BUFFER_RESPONSE, "get", "status code");
  if (t) return t;
  r[0].of.i32 = i->call->ex->status ? i->call->ex->status : 200;
  return NULL;
}

static wg_trap *hw_set_status_code(wgg_hw_instance *i, const wg_val *a, wg_val *r) {
  (void)r;
  NEED_CALL();
  wg_trap *t = before_next_or(i, WGG_HW_BUFFER_RESPONSE, "set", "status code");
  if (t) return t;
  int32_t code = a[0].of.i32;
  if (code < 100 || code > 999) { /* Go's checkWriteHeaderCode panics with this text */
    char msg[64];
    snprintf(msg, sizeof msg, "invalid WriteHeader code %d", code);
    return wg_trap_new(WG_TRAP_HOST, msg);
  }
  if (!i->call->ex->resp_committed) i->call->ex->status = a[0].of.i32; /* Go: a superfluous WriteHeader */
  commit_if_streaming(i);
  return NULL;
}

/* ---- the import table ---- */

typedef struct hw_def {
  const char *name;
  uint8_t np, nr;
  wg_valtype p[5], res;
  hw_fn fn;
} hw_def;

#define I WG_I32
static const hw_def defs[] = {
    {"enable_features", 1, 1, {I}, I, hw_enable_features},
    {"get_config", 2, 1, {I, I}, I, hw_get_config},
    {"log_enabled", 1, 1, {I}, I, hw_log_enabled},
    {"log", 3, 0, {I, I, I}, 0, hw_log},
    {"get_method", 2, 1, {I, I}, I, hw_get_method},
    {"set_method", 2, 0, {I, I}, 0, hw_set_method},
    {"get_uri", 2, 1, {I, I}, I, hw_get_uri},
    {"set_uri", 2, 0, {I, I}, 0, hw_set_uri},
    {"get_protocol_version", 2, 1, {I, I}, I, hw_get_protocol_version},
    {"get_header_names", 3, 1, {I, I, I}, WG_I64, hw_get_header_names},
    {"get_header_values", 5, 1, {I, I, I, I, I}, WG_I64, hw_get_header_values},
    {"set_header_value", 5, 0, {I, I, I, I, I}, 0, hw_set_header_value},
    {"add_header_value", 5, 0, {I, I, I, I, I}, 0, hw_add_header_value},
    {"remove_header", 3, 0, {I, I, I}, 0, hw_remove_header},
    {"read_body", 3, 1, {I, I, I}, WG_I64, hw_read_body},
    {"write_body", 3, 0, {I, I, I}, 0, hw_write_body},
    {"get_status_code", 0, 1, {0}, I, hw_get_status_code},
    {"set_status_code", 1, 0, {I}, 0, hw_set_status_code},
    {"get_source_addr", 2, 1, {I, I}, I, hw_get_source_addr},
};
#undef I

typedef struct hw_env {
  wgg_hw_instance *i;
  hw_fn fn;
} hw_env;

/* Every host function works on the memory of the instance whose code called
 * it (the engine passes it as caller). That is the instance's exported
 * "memory" after instantiation, and also while it is being instantiated (a
 * start section, _start): i->mem is not known yet then, so the caller's
 * export is looked up. */
static wg_trap *dispatch(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  hw_env *e = env;
  wgg_hw_instance *i = e->i;
  wg_memory *saved = i->cur_mem;
  if (caller && caller == i->inst && i->mem) {
    i->cur_mem = i->mem;
  } else {
    wg_extern x;
    i->cur_mem = caller && wg_instance_export(caller, "memory", 6, &x) && x.kind == WG_EXTERN_MEMORY ? x.of.memory
                                                                                                    : i->mem;
  }
  wg_trap *t = e->fn(i, args, results);
  i->cur_mem = saved;
  return t;
}

static char sig_char(wg_valtype t) { return t == WG_I32 ? 'i' : t == WG_I64 ? 'I' : t == WG_F32 ? 'f' : 'F'; }

bool wgg_hw_link_host(wgg_hw_instance *i, wg_store *s, const wg_module *m, wg_extern *imports, char *msg,
                      size_t msglen) {
  uint32_t n = wg_module_import_count(m);
  for (uint32_t k = 0; k < n; k++) {
    wg_extern_desc d;
    if (!wg_module_import(m, k, &d) || d.module_len != 12 || memcmp(d.module, "http_handler", 12)) continue;
    const hw_def *def = NULL;
    for (size_t j = 0; j < sizeof defs / sizeof defs[0] && !def; j++)
      if (strlen(defs[j].name) == d.name_len && !memcmp(defs[j].name, d.name, d.name_len)) def = &defs[j];
    wg_externtype t;
    if (!def || d.kind != WG_EXTERN_FUNC) {
      snprintf(msg, msglen, "\"%.*s\" is not exported in module \"http_handler\"", (int)d.name_len, d.name);
      return false;
    }
    wg_module_extern_type(m, WG_EXTERN_FUNC, d.index, &t);
    bool ok = t.func.nparams == def->np && t.func.nresults == def->nr && (!def->nr || t.func.results[0] == def->res);
    for (uint32_t p = 0; ok && p < def->np; p++) ok = t.func.params[p] == def->p[p];
    if (!ok) {
      char want[16] = "", got[16] = "";
      for (uint32_t p = 0; p < def->np; p++) want[p] = sig_char(def->p[p]);
      for (uint32_t p = 0; p < t.func.nparams && p < 10; p++) got[p] = sig_char(t.func.params[p]);
      snprintf(msg, msglen, "import func[http_handler.%s]: signature mismatch: %s_%s != %s_%s", def->name, want,
               def->nr ? (def->res == WG_I64 ? "I" : "i") : "", got,
               t.func.nresults ? (t.func.results[0] == WG_I64 ? "I" : "i") : "");
      return false;
    }
    hw_env *e = malloc(sizeof *e);
    if (!e) {
      snprintf(msg, msglen, "out of memory");
      return false;
    }
    *e = (hw_env){i, def->fn};
    wg_valtype res[1] = {def->res};
    wg_functype_desc ft = {def->np, def->nr, def->p, res};
    wg_func *f = wg_func_new_host(s, &ft, dispatch, e, free);
    if (!f) {
      free(e);
      snprintf(msg, msglen, "out of memory");
      return false;
    }
    imports[k] = (wg_extern){.kind = WG_EXTERN_FUNC, .of.func = f};
  }
  return true;
}
