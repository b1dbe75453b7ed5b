/* http_handler_sdk.c: helpers over the raw http_handler imports (see http_handler.h).
 * Everything here follows the buf/buf_limit contract of the http-wasm handler ABI: a getter always
 * returns the full length and writes only when the value fits, so a value longer than the first
 * buffer is read again into an exact allocation. Compiled into each guest with clang-19
 * --target=wasm32-wasi; unused helpers are dropped by the linker. */
#include "http_handler.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t (*getter_fn)(void *buf, uint32_t buf_limit);

/* Default handle_response for guests that never continue with a request context. */
__attribute__((weak)) void handle_response(int32_t req_ctx, int32_t is_error) {
  (void)req_ctx;
  (void)is_error;
}

/* The guest's `_start`: runs the C constructors once when the host creates an instance (guests do
 * their setup, e.g. hh_enable_features or hh_get_config, in `__attribute__((constructor))`
 * functions). Defining it here, and calling __wasm_call_ctors explicitly, keeps wasm-ld from
 * wrapping every export in a constructor/destructor pair as it does for WASI commands, so globals
 * persist across requests. Link with -nostartfiles (wasi-libc's crt1 defines another _start). */
extern void __wasm_call_ctors(void);
__attribute__((export_name("_start"))) void _start(void) { __wasm_call_ctors(); }

void hh_free(hh_bytes *b) {
  free(b->ptr);
  b->ptr = NULL;
  b->len = 0;
}

/* Copies len bytes of src into a fresh NUL-terminated allocation in *out. */
static int set_bytes(hh_bytes *out, const void *src, uint32_t len) {
  out->ptr = malloc((size_t)len + 1);
  out->len = 0;
  if (!out->ptr) return -1;
  if (len) memcpy(out->ptr, src, len);
  out->ptr[len] = 0;
  out->len = len;
  return 0;
}

/* Reads a (buf, buf_limit) -> len getter whole: first into a stack buffer, then, if the value is
 * longer, into an exact allocation (the value may change between the calls only if the guest
 * changed it, which it does not do here). */
static int get_whole(getter_fn fn, hh_bytes *out) {
  char small[512];
  uint32_t n = fn(small, sizeof small);
  if (n <= sizeof small) return set_bytes(out, small, n);
  out->ptr = malloc((size_t)n + 1);
  out->len = 0;
  if (!out->ptr) return -1;
  uint32_t m = fn(out->ptr, n);
  if (m > n) m = 0; /* grew in between: report empty rather than garbage */
  out->ptr[m] = 0;
  out->len = m;
  return 0;
}

int hh_method(hh_bytes *out) { return get_whole(hh_get_method, out); }
int hh_uri(hh_bytes *out) { return get_whole(hh_get_uri, out); }
int hh_protocol_version(hh_bytes *out) { return get_whole(hh_get_protocol_version, out); }
int hh_source_addr(hh_bytes *out) { return get_whole(hh_get_source_addr, out); }
int hh_config(hh_bytes *out) { return get_whole(hh_get_config, out); }

/* Bounded getter into a caller buffer: NUL-terminated when it fits (L < cap). */
static uint32_t get_into(getter_fn fn, char *buf, uint32_t cap) {
  if (cap == 0) return fn(buf, 0);
  uint32_t n = fn(buf, cap - 1);
  buf[n < cap ? n : 0] = 0;
  return n;
}

uint32_t hh_uri_into(char *buf, uint32_t cap) { return get_into(hh_get_uri, buf, cap); }
uint32_t hh_method_into(char *buf, uint32_t cap) { return get_into(hh_get_method, buf, cap); }

/* Reads a NUL-terminated list (header names, or values of `name` when name is non-NULL). */
static int get_list(int32_t kind, const char *name, hh_bytes *out) {
  char small[512];
  uint32_t name_len = name ? (uint32_t)strlen(name) : 0;
  uint64_t cl = name ? hh_get_header_values(kind, name, name_len, small, sizeof small)
                     : hh_get_header_names(kind, small, sizeof small);
  uint32_t len = hh_len(cl);
  if (len <= sizeof small) return set_bytes(out, small, len) ? -1 : (int)hh_count(cl);
  out->ptr = malloc((size_t)len + 1);
  out->len = 0;
  if (!out->ptr) return -1;
  cl = name ? hh_get_header_values(kind, name, name_len, out->ptr, len) : hh_get_header_names(kind, out->ptr, len);
  if (hh_len(cl) > len) { /* changed in between */
    out->ptr[0] = 0;
    return 0;
  }
  out->len = hh_len(cl);
  out->ptr[out->len] = 0;
  return (int)hh_count(cl);
}

int hh_header_values(int32_t kind, const char *name, hh_bytes *out) { return get_list(kind, name, out); }
int hh_header_names(int32_t kind, hh_bytes *out) { return get_list(kind, NULL, out); }

int hh_header(int32_t kind, const char *name, hh_bytes *out) {
  int n = get_list(kind, name, out);
  if (n > 0) out->len = (uint32_t)strlen(out->ptr); /* keep the first entry only */
  return n;
}

const char *hh_list_next(const hh_bytes *list, const char **cursor) {
  if (!list->ptr) return NULL;
  const char *end = list->ptr + list->len;
  const char *p = *cursor ? *cursor + strlen(*cursor) + 1 : list->ptr;
  if (p >= end) return NULL;
  *cursor = p;
  return p;
}

void hh_set_header(int32_t kind, const char *name, const char *value) {
  hh_set_header_value(kind, name, (uint32_t)strlen(name), value, (uint32_t)strlen(value));
}

void hh_add_header(int32_t kind, const char *name, const char *value) {
  hh_add_header_value(kind, name, (uint32_t)strlen(name), value, (uint32_t)strlen(value));
}

void hh_del_header(int32_t kind, const char *name) { hh_remove_header(kind, name, (uint32_t)strlen(name)); }

int hh_read_body_all(int32_t kind, hh_bytes *out, uint32_t max) {
  uint32_t cap = max < 1024 ? max : 1024, len = 0; /* invariant: len <= cap <= max */
  char *buf = malloc((size_t)cap + 1);
  out->ptr = NULL;
  out->len = 0;
  if (!buf) return -1;
  for (;;) {
    if (len == max) { /* full: is there more? */
      char probe;
      uint64_t r = hh_read_body(kind, &probe, 1);
      int more = hh_len(r) > 0;
      buf[len] = 0;
      out->ptr = buf;
      out->len = len;
      return more; /* the probed byte is lost: the body is cut anyway */
    }
    if (len == cap) {
      uint32_t ncap = cap > max / 2 ? max : cap * 2;
      char *nb = realloc(buf, (size_t)ncap + 1);
      if (!nb) {
        free(buf);
        return -1;
      }
      buf = nb;
      cap = ncap;
    }
    uint64_t r = hh_read_body(kind, buf + len, cap - len);
    len += hh_len(r);
    if (hh_eof(r) || hh_len(r) == 0) break; /* no progress without EOF would loop forever */
  }
  buf[len] = 0;
  out->ptr = buf;
  out->len = len;
  return 0;
}

void hh_write_body_str(int32_t kind, const char *s) { hh_write_body(kind, s, (uint32_t)strlen(s)); }

void hh_logf(int32_t level, const char *fmt, ...) {
  if (!hh_log_enabled(level)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  hh_log(level, msg, (uint32_t)n < sizeof msg ? (uint32_t)n : (uint32_t)sizeof msg - 1);
}

int64_t hh_respond(uint32_t status, const char *content_type, const char *body) {
  if (content_type) hh_set_header(HH_HEADER_RESPONSE, "content-type", content_type);
  hh_set_status_code(status);
  if (body) hh_write_body_str(HH_BODY_RESPONSE, body);
  return hh_done();
}
