/*
 * wasi_http_legacy.c: the host functions of the pre-standard wasi-http ABI
 * that Dapr's bindings.wasm links (wasi_http_legacy.h). Results and out
 * parameters are little-endian u32 words written at guest pointers; strings
 * handed to the guest are allocated with its cabi_realloc(0, 0, 4, size).
 * The outbound request itself is in wasi_http_send.c.
 */
#include "wasmhost/wasi_http_legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "wasmhost/wasi_http_internal.h"

/* ------------------------------------------------------------------ handle tables */

static void body_unref(lh_body *b) {
  if (b && !--b->refs) {
    wgg_buf_free(&b->buf);
    free(b);
  }
}

static lh_body *body_new(void) {
  lh_body *b = calloc(1, sizeof *b);
  if (b) b->refs = 1;
  return b;
}

static void fields_free(lh_fields *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n; i++) {
    free(f->names[i]);
    free(f->values[i]);
  }
  free(f->names);
  free(f->values);
  free(f);
}

static void obj_free(int kind, void *o) {
  if (!o) return;
  if (kind == LH_FIELDS) fields_free(o);
  else if (kind == LH_REQUEST) {
    lh_request *r = o;
    free(r->method);
    free(r->path);
    free(r->query);
    free(r->scheme);
    free(r->authority);
    body_unref(r->body);
    free(r);
  } else if (kind == LH_RESPONSE) {
    lh_response *r = o;
    fields_free(r->headers);
    body_unref(r->body);
    body_unref(r->out_body);
    free(r);
  } else if (kind == LH_STREAM) {
    lh_stream *s = o;
    body_unref(s->body);
    free(s);
  }
}

static void *get(wgg_wasi_http *h, int kind, uint32_t id) {
  lh_table *t = &h->tables[kind];
  for (size_t i = 0; i < t->n; i++)
    if (t->ids[i] == id) return t->objs[i];
  return NULL;
}

/* Adds o under the next id of its kind (Go's counters: base 1, incremented
 * before use). 0 when the table is full or on OOM (o freed). */
static uint32_t put(wgg_wasi_http *h, int kind, void *o) {
  lh_table *t = &h->tables[kind];
  if (!o || t->n >= WGG_WASI_HTTP_MAX_HANDLES) {
    obj_free(kind, o);
    return 0;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    uint32_t *ids = realloc(t->ids, cap * sizeof *ids);
    if (ids) t->ids = ids;
    void **objs = ids ? realloc(t->objs, cap * sizeof *objs) : NULL;
    if (!objs) {
      obj_free(kind, o);
      return 0;
    }
    t->objs = objs;
    t->cap = cap;
  }
  uint32_t id = ++t->next;
  t->ids[t->n] = id;
  t->objs[t->n++] = o;
  return id;
}

static void drop(wgg_wasi_http *h, int kind, uint32_t id) {
  lh_table *t = &h->tables[kind];
  for (size_t i = 0; i < t->n; i++)
    if (t->ids[i] == id) {
      obj_free(kind, t->objs[i]);
      t->ids[i] = t->ids[--t->n];
      t->objs[i] = t->objs[t->n];
      return;
    }
}

wgg_wasi_http *wgg_wasi_http_new(wgg_cancel *cancel, uint64_t deadline_ms) {
  wgg_wasi_http *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->cancel = cancel;
  h->deadline_ms = deadline_ms;
  for (int k = 0; k < LH_KINDS; k++) h->tables[k].next = 1;
  return h;
}

void wgg_wasi_http_delete(wgg_wasi_http *h) {
  if (!h) return;
  for (int k = 0; k < LH_KINDS; k++) {
    for (size_t i = 0; i < h->tables[k].n; i++) obj_free(k, h->tables[k].objs[i]);
    free(h->tables[k].ids);
    free(h->tables[k].objs);
  }
  free(h);
}

/* ------------------------------------------------------------------ guest memory */

static uint8_t *mem_at(wg_instance *caller, uint64_t ptr, uint64_t len) {
  wg_memory *m = caller ? wg_instance_memory(caller) : NULL;
  if (!m || ptr + len > wg_memory_size(m)) return NULL;
  return wg_memory_data(m) + ptr;
}

/* Writes n bytes; like the Go host's Memory().Write, a write out of bounds
 * is ignored (false). */
static bool mem_write(wg_instance *caller, uint32_t ptr, const void *p, size_t n) {
  uint8_t *d = mem_at(caller, ptr, n);
  if (!d) return false;
  memcpy(d, p, n);
  return true;
}

static void put_u32(uint8_t *w, uint32_t v) {
  w[0] = (uint8_t)v;
  w[1] = (uint8_t)(v >> 8);
  w[2] = (uint8_t)(v >> 16);
  w[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *w) {
  return (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
}

/* Writes n little-endian words at ptr. */
static bool write_words(wg_instance *caller, uint32_t ptr, const uint32_t *v, size_t n) {
  uint8_t tmp[16];
  for (size_t i = 0; i < n; i++) put_u32(tmp + 4 * i, v[i]);
  return mem_write(caller, ptr, tmp, 4 * n);
}

static wg_trap *trapf(const char *fmt, const char *a, unsigned long long b) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, a, b);
  return wg_trap_new(WG_TRAP_HOST, msg);
}

/* cabi_realloc(0, 0, 4, size): the guest allocates; *ptr its address. */
static wg_trap *guest_malloc(wgg_wasi_http *h, wg_instance *caller, uint32_t size, uint32_t *ptr) {
  wg_extern f;
  if (!caller || !wg_instance_export(caller, "cabi_realloc", 12, &f) || f.kind != WG_EXTERN_FUNC)
    return wg_trap_new(WG_TRAP_HOST, "wasi-http: the guest exports no cabi_realloc");
  wg_val args[4] = {{.kind = WG_I32, .of.i32 = 0}, {.kind = WG_I32, .of.i32 = 0}, {.kind = WG_I32, .of.i32 = 4},
                    {.kind = WG_I32, .of.i32 = (int32_t)size}};
  wg_val res = {.kind = WG_I32};
  wg_functype_desc ty = wg_func_type(f.of.func);
  if (ty.nparams != 4 || ty.nresults != 1 || ty.results[0] != WG_I32)
    return wg_trap_new(WG_TRAP_HOST, "wasi-http: the guest's cabi_realloc has the wrong type");
  for (int i = 0; i < 4; i++)
    if (ty.params[i] != WG_I32) return wg_trap_new(WG_TRAP_HOST, "wasi-http: the guest's cabi_realloc has the wrong type");
  wg_trap *t = wg_func_call(h->store, f.of.func, args, 4, &res, 1);
  if (t) return t;
  *ptr = (uint32_t)res.of.i32;
  return NULL;
}

/* Allocates a copy of s in the guest (Go's allocateWriteString). */
static wg_trap *guest_string(wgg_wasi_http *h, wg_instance *caller, const char *s, size_t n, uint32_t *ptr) {
  wg_trap *t = guest_malloc(h, caller, (uint32_t)n, ptr);
  if (!t) mem_write(caller, *ptr, s, n);
  return t;
}

/* Reads guest bytes into a new string; NULL when out of bounds. */
static char *read_string(wg_instance *caller, uint32_t ptr, uint32_t len) {
  const uint8_t *p = mem_at(caller, ptr, len);
  return p ? wgg_strndup((const char *)p, len) : NULL;
}

#define ARG(i) ((uint32_t)args[i].of.i32)
#define HOST(name) static wg_trap *name(void *env, wg_instance *caller, const wg_val *args, wg_val *results)
#define H ((wgg_wasi_http *)env)

/* ------------------------------------------------------------------ types: fields */

static int fields_add(lh_fields *f, const char *name, size_t nlen, const char *value, size_t vlen) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    char **nn = realloc(f->names, cap * sizeof *nn);
    if (nn) f->names = nn;
    char **vv = nn ? realloc(f->values, cap * sizeof *vv) : NULL;
    if (!vv) return -1;
    f->values = vv;
    f->cap = cap;
  }
  char *n = wgg_strndup(name, nlen), *v = wgg_strndup(value, vlen);
  if (!n || !v) {
    free(n);
    free(v);
    return -1;
  }
  f->names[f->n] = n;
  f->values[f->n++] = v;
  return 0;
}

lh_fields *wgg_lh_fields_new(void) { return calloc(1, sizeof(lh_fields)); }
int wgg_lh_fields_add(lh_fields *f, const char *name, size_t nlen, const char *value, size_t vlen) {
  return fields_add(f, name, nlen, value, vlen);
}
void wgg_lh_fields_free(lh_fields *f) { fields_free(f); }

/* new-fields(ptr, len) -> fields: len entries of (key ptr, key len, value ptr, value len). */
HOST(new_fields) {
  (void)caller;
  uint32_t ptr = ARG(0), n = ARG(1);
  results[0].of.i32 = 0;
  const uint8_t *e = mem_at(caller, ptr, (uint64_t)n * 16);
  if (!e) return NULL;
  lh_fields *f = calloc(1, sizeof *f);
  if (!f) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t kp = get_u32(e + 16 * i), kl = get_u32(e + 16 * i + 4), vp = get_u32(e + 16 * i + 8),
             vl = get_u32(e + 16 * i + 12);
    const uint8_t *k = mem_at(caller, kp, kl), *v = mem_at(caller, vp, vl);
    if (!k || !v) {
      fields_free(f);
      return NULL;
    }
    if (fields_add(f, (const char *)k, kl, (const char *)v, vl)) {
      fields_free(f);
      return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
    }
  }
  results[0].of.i32 = (int32_t)put(H, LH_FIELDS, f);
  return NULL;
}

HOST(drop_fields) {
  (void)caller;
  (void)results;
  drop(H, LH_FIELDS, ARG(0));
  return NULL;
}

/* fields-entries(fields, out): out = (list ptr, count); one entry per
 * distinct name (first appearance), with its first value, as the Go host
 * writes a map's first values. */
HOST(fields_entries) {
  (void)results;
  lh_fields *f = get(H, LH_FIELDS, ARG(0));
  if (!f) return NULL;
  uint32_t out = ARG(1), distinct = 0;
  for (size_t i = 0; i < f->n; i++) {
    size_t j = 0;
    while (j < i && strcmp(f->names[j], f->names[i])) j++;
    distinct += j == i;
  }
  if (distinct > UINT32_MAX / 16) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many fields");
  uint32_t list;
  wg_trap *t = guest_malloc(H, caller, distinct * 16, &list);
  if (t) return t;
  write_words(caller, out, (uint32_t[]){list, distinct}, 2);
  uint32_t k = 0;
  for (size_t i = 0; i < f->n; i++) {
    size_t j = 0;
    while (j < i && strcmp(f->names[j], f->names[i])) j++;
    if (j < i) continue;
    uint32_t np, vp;
    size_t nl = strlen(f->names[i]), vl = strlen(f->values[i]);
    if ((t = guest_string(H, caller, f->names[i], nl, &np)) || (t = guest_string(H, caller, f->values[i], vl, &vp)))
      return t;
    write_words(caller, list + 16 * k++, (uint32_t[]){np, (uint32_t)nl, vp, (uint32_t)vl}, 4);
  }
  return NULL;
}

/* ------------------------------------------------------------------ types: requests */

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

/* new-outgoing-request(method, method ptr, method len, path ptr, path len,
 * query ptr, query len, scheme is-some, scheme, scheme ptr, scheme len,
 * authority ptr, authority len, headers) -> request. */
HOST(new_outgoing_request) {
  results[0].of.i32 = 0;
  uint32_t method = ARG(0);
  if (method > 8) return trapf("wasi-http: unknown method: %s%llu", "", method);
  lh_request *r = calloc(1, sizeof *r);
  if (!r || !(r->method = strdup(methods[method]))) {
    free(r);
    return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  }
  uint32_t id = put(H, LH_REQUEST, r);
  if (!id) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many requests");
  if (!(r->path = read_string(caller, ARG(3), ARG(4))) || !(r->query = read_string(caller, ARG(5), ARG(6))))
    return NULL;
  const char *scheme = "https";
  char *custom = NULL;
  if (ARG(7) == 1 && ARG(8) == 0) scheme = "http";
  if (ARG(7) == 1 && ARG(8) == 2) {
    if (!(custom = read_string(caller, ARG(9), ARG(10)))) return NULL;
    scheme = custom;
  }
  r->scheme = custom ? custom : strdup(scheme);
  if (!r->scheme || !(r->authority = read_string(caller, ARG(11), ARG(12)))) return NULL;
  r->headers = ARG(13);
  results[0].of.i32 = (int32_t)id;
  return NULL;
}

HOST(drop_outgoing_request) {
  (void)caller;
  (void)results;
  drop(H, LH_REQUEST, ARG(0));
  return NULL;
}

/* Budget of body bytes for the run. */
static bool spend(wgg_wasi_http *h, size_t n) {
  if (n > WGG_WASI_HTTP_MAX_BYTES - h->bytes) return false;
  h->bytes += n;
  return true;
}
bool wgg_lh_spend(wgg_wasi_http *h, size_t n) { return spend(h, n); }

/* A new output stream over a fresh body; *body receives a reference too. */
static uint32_t new_output_stream(wgg_wasi_http *h, lh_body **body) {
  lh_body *b = body_new();
  lh_stream *s = b ? calloc(1, sizeof *s) : NULL;
  if (!s) {
    body_unref(b);
    return 0;
  }
  s->body = b;
  s->writable = true;
  b->refs++;
  body_unref(*body);
  *body = b;
  return put(h, LH_STREAM, s);
}

/* outgoing-request-write(request, out): out = (0, stream) over a new body. */
HOST(outgoing_request_write) {
  (void)results;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  if (!r) {
    wgg_warn("wasm: wasi-http: failed to find request: %u", ARG(0));
    return NULL;
  }
  uint32_t s = new_output_stream(H, &r->body);
  if (!s) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many streams");
  write_words(caller, ARG(1), (uint32_t[]){0, s}, 2);
  return NULL;
}

HOST(incoming_request_method) {
  (void)results;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  if (!r) return NULL;
  uint32_t m = 0;
  while (m < 9 && strcmp(methods[m], r->method)) m++;
  if (m == 9) return trapf("wasi-http: unknown method: %s%.0llu", r->method, 0);
  write_words(caller, ARG(1), &m, 1);
  return NULL;
}

/* Writes (ptr, len) of a guest copy of s at out (Go's WriteString). */
static wg_trap *out_string(wgg_wasi_http *h, wg_instance *caller, uint32_t out, const char *s) {
  uint32_t p;
  size_t n = strlen(s);
  wg_trap *t = guest_string(h, caller, s, n, &p);
  if (t) return t;
  if (!write_words(caller, out, (uint32_t[]){p, (uint32_t)n}, 2))
    return wg_trap_new(WG_TRAP_HOST, "wasi-http: failed to write struct");
  return NULL;
}

HOST(incoming_request_path) {
  (void)results;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  return r ? out_string(H, caller, ARG(1), r->path ? r->path : "") : NULL;
}

HOST(incoming_request_authority) {
  (void)results;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  return r ? out_string(H, caller, ARG(1), r->authority ? r->authority : "") : NULL;
}

HOST(incoming_request_headers) {
  (void)caller;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  results[0].of.i32 = r ? (int32_t)r->headers : 0;
  return NULL;
}

/* incoming-request-consume: unsupported, as in the Go host: (1, 0). */
HOST(incoming_request_consume) {
  (void)env;
  (void)results;
  write_words(caller, ARG(1), (uint32_t[]){1, 0}, 2);
  return NULL;
}

HOST(drop_incoming_request) {
  (void)caller;
  (void)results;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  if (!r) return NULL;
  drop(H, LH_FIELDS, r->headers);
  drop(H, LH_REQUEST, ARG(0));
  return NULL;
}

/* ------------------------------------------------------------------ types: responses */

HOST(drop_incoming_response) {
  (void)caller;
  (void)results;
  drop(H, LH_RESPONSE, ARG(0));
  return NULL;
}

HOST(drop_outgoing_response) {
  (void)env;
  (void)caller;
  (void)args;
  (void)results;
  return NULL;
}

HOST(incoming_response_status) {
  (void)caller;
  lh_response *r = get(H, LH_RESPONSE, ARG(0));
  if (!r) wgg_debug("wasm: wasi-http: unknown handle: %u", ARG(0));
  results[0].of.i32 = r ? r->status : 0;
  return NULL;
}

/* incoming-response-headers(response) -> fields, made on first use. */
HOST(incoming_response_headers) {
  (void)caller;
  results[0].of.i32 = 0;
  lh_response *r = get(H, LH_RESPONSE, ARG(0));
  if (!r) return NULL;
  if (!r->header_handle) {
    lh_fields *f = calloc(1, sizeof *f);
    for (size_t i = 0; f && r->headers && i < r->headers->n; i++)
      if (fields_add(f, r->headers->names[i], strlen(r->headers->names[i]), r->headers->values[i],
                     strlen(r->headers->values[i]))) {
        fields_free(f);
        f = NULL;
      }
    if (!f || !(r->header_handle = put(H, LH_FIELDS, f)))
      return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many fields");
  }
  results[0].of.i32 = (int32_t)r->header_handle;
  return NULL;
}

/* incoming-response-consume(response, out): (0, input stream) or (1). */
HOST(incoming_response_consume) {
  (void)results;
  lh_response *r = get(H, LH_RESPONSE, ARG(0));
  if (!r) {
    write_words(caller, ARG(1), (uint32_t[]){1}, 1);
    return NULL;
  }
  lh_stream *s = calloc(1, sizeof *s);
  if (!s) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  s->body = r->body;
  if (s->body) s->body->refs++;
  uint32_t id = put(H, LH_STREAM, s);
  if (!id) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many streams");
  write_words(caller, ARG(1), (uint32_t[]){0, id}, 2);
  return NULL;
}

/* future-incoming-response-get(future, out): (1 = some, 0 = ok, future):
 * `handle` already waited, so the future is the response. */
HOST(future_incoming_response_get) {
  (void)env;
  (void)results;
  write_words(caller, ARG(1), (uint32_t[]){1, 0, ARG(0)}, 3);
  return NULL;
}

HOST(new_outgoing_response) {
  (void)caller;
  lh_response *r = calloc(1, sizeof *r);
  if (r) {
    r->status = (int32_t)ARG(0);
    r->header_handle = ARG(1);
  }
  uint32_t id = put(H, LH_RESPONSE, r);
  if (!id) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many responses");
  results[0].of.i32 = (int32_t)id;
  return NULL;
}

HOST(outgoing_response_write) {
  (void)results;
  lh_response *r = get(H, LH_RESPONSE, ARG(0));
  uint32_t w[2] = {1, 0};
  if (r) {
    uint32_t s = new_output_stream(H, &r->out_body);
    if (!s) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many streams");
    w[0] = 0;
    w[1] = s;
  }
  if (!write_words(caller, ARG(1), w, 2)) return wg_trap_new(WG_TRAP_HOST, "wasi-http: failed to write data");
  return NULL;
}

/* set-response-outparam(response, is-err, out, msg ptr, msg len) -> 0 | 1:
 * the serving side, which a binding never uses; recorded as the Go host does. */
HOST(set_response_outparam) {
  (void)env;
  (void)caller;
  results[0].of.i32 = ARG(1) == 1 ? 1 : 0;
  return NULL;
}

/* log-it(ptr, len): the guest's text, into our log. */
HOST(log_it) {
  (void)env;
  (void)results;
  uint32_t n = ARG(1) > 4096 ? 4096 : ARG(1);
  const uint8_t *p = mem_at(caller, ARG(0), n);
  if (p) wgg_info("wasm guest: %.*s", (int)n, (const char *)p);
  return NULL;
}

/* ------------------------------------------------------------------ streams */

/* read(stream, length: u64, out): out = (0, data ptr, data len, 0 = done | 1 = more). */
HOST(stream_read) {
  (void)results;
  lh_stream *s = get(H, LH_STREAM, ARG(0));
  if (!s) return trapf("wasi-http: stream not found: %s%llu", "", ARG(0));
  if (s->writable) return trapf("wasi-http: not a readable stream: %s%llu", "", ARG(0));
  uint64_t want = (uint64_t)args[1].of.i64;
  size_t left = s->body ? s->body->buf.len - s->body->off : 0;
  size_t n = want < left ? (size_t)want : left;
  uint32_t ptr;
  wg_trap *t = guest_malloc(H, caller, (uint32_t)n, &ptr);
  if (t) return t;
  if (n) mem_write(caller, ptr, s->body->buf.data + s->body->off, n);
  if (s->body) s->body->off += n;
  bool done = !s->body || s->body->off == s->body->buf.len;
  write_words(caller, ARG(2), (uint32_t[]){0, ptr, (uint32_t)n, done ? 0 : 1}, 4);
  return NULL;
}

HOST(drop_input_stream) {
  (void)caller;
  (void)results;
  drop(H, LH_STREAM, ARG(0));
  return NULL;
}

/* write(stream, ptr, len, out): out = (0, bytes written). */
HOST(stream_write) {
  (void)results;
  const uint8_t *p = mem_at(caller, ARG(1), ARG(2));
  if (!p) {
    wgg_warn("wasm: wasi-http: body read failed");
    return NULL;
  }
  lh_stream *s = get(H, LH_STREAM, ARG(0));
  uint32_t n = 0;
  if (!s || !s->writable) {
    wgg_warn("wasm: wasi-http: failed to write: stream %u %s", ARG(0), s ? "is not writeable" : "not found");
  } else {
    if (!spend(H, ARG(2)))
      return trapf("wasi-http: request bodies larger than %s%llu bytes", "", WGG_WASI_HTTP_MAX_BYTES);
    if (wgg_buf_append(&s->body->buf, p, ARG(2))) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
    n = ARG(2);
  }
  write_words(caller, ARG(3), (uint32_t[]){0, n}, 2);
  return NULL;
}

/* ------------------------------------------------------------------ default-outgoing-HTTP */

/* request(...): serving, unimplemented in the Go host: 0. */
HOST(outgoing_request_serve) {
  (void)env;
  (void)caller;
  (void)args;
  results[0].of.i32 = 0;
  return NULL;
}

/* handle(request, options...) -> response (0 when it failed, logged). */
HOST(handle) {
  (void)caller;
  results[0].of.i32 = 0;
  lh_request *r = get(H, LH_REQUEST, ARG(0));
  if (!r) {
    wgg_warn("wasm: wasi-http: failed to get request: %u", ARG(0));
    return NULL;
  }
  if (!r->path || !r->query || !r->scheme || !r->authority) { /* new-outgoing-request gave 0 for it */
    wgg_warn("wasm: wasi-http: request %u is incomplete", ARG(0));
    return NULL;
  }
  lh_response *res = calloc(1, sizeof *res);
  if (!res) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  wgg_err err;
  if (wgg_lh_send(H, r, get(H, LH_FIELDS, r->headers), res, &err)) {
    obj_free(LH_RESPONSE, res);
    if (wgg_cancel_requested(H->cancel)) return wg_trap_new(WG_TRAP_INTERRUPTED, "module closed with context canceled");
    wgg_warn("wasm: wasi-http: %s", err.msg);
    return NULL;
  }
  uint32_t id = put(H, LH_RESPONSE, res);
  if (!id) return wg_trap_new(WG_TRAP_RESOURCE, "wasi-http: too many responses");
  results[0].of.i32 = (int32_t)id;
  return NULL;
}

/* ------------------------------------------------------------------ linking */

#define I WG_I32
typedef struct lh_func {
  const char *module, *name;
  wg_host_callback cb;
  uint8_t nparams, nresults;
  wg_valtype params[14];
} lh_func;

static const lh_func funcs[] = {
    {"types", "new-outgoing-request", new_outgoing_request, 14, 1, {I, I, I, I, I, I, I, I, I, I, I, I, I, I}},
    {"types", "new-fields", new_fields, 2, 1, {I, I}},
    {"types", "drop-fields", drop_fields, 1, 0, {I}},
    {"types", "fields-entries", fields_entries, 2, 0, {I, I}},
    {"types", "drop-outgoing-request", drop_outgoing_request, 1, 0, {I}},
    {"types", "outgoing-request-write", outgoing_request_write, 2, 0, {I, I}},
    {"types", "drop-incoming-response", drop_incoming_response, 1, 0, {I}},
    {"types", "incoming-response-status", incoming_response_status, 1, 1, {I}},
    {"types", "incoming-response-headers", incoming_response_headers, 1, 1, {I}},
    {"types", "incoming-response-consume", incoming_response_consume, 2, 0, {I, I}},
    {"types", "future-incoming-response-get", future_incoming_response_get, 2, 0, {I, I}},
    {"types", "incoming-request-method", incoming_request_method, 2, 0, {I, I}},
    {"types", "incoming-request-path", incoming_request_path, 2, 0, {I, I}},
    {"types", "incoming-request-authority", incoming_request_authority, 2, 0, {I, I}},
    {"types", "incoming-request-headers", incoming_request_headers, 1, 1, {I}},
    {"types", "incoming-request-consume", incoming_request_consume, 2, 0, {I, I}},
    {"types", "drop-incoming-request", drop_incoming_request, 1, 0, {I}},
    {"types", "set-response-outparam", set_response_outparam, 5, 1, {I, I, I, I, I}},
    {"types", "new-outgoing-response", new_outgoing_response, 2, 1, {I, I}},
    {"types", "outgoing-response-write", outgoing_response_write, 2, 0, {I, I}},
    {"types", "drop-outgoing-response", drop_outgoing_response, 1, 0, {I}},
    {"types", "log-it", log_it, 2, 0, {I, I}},
    {"streams", "read", stream_read, 3, 0, {I, WG_I64, I}},
    {"streams", "drop-input-stream", drop_input_stream, 1, 0, {I}},
    {"streams", "write", stream_write, 4, 0, {I, I, I, I}},
    {"default-outgoing-HTTP", "request", outgoing_request_serve, 14, 1, {I, I, I, I, I, I, I, I, I, I, I, I, I, I}},
    {"default-outgoing-HTTP", "handle", handle, 8, 1, {I, I, I, I, I, I, I, I}},
};
#undef I

static bool is(const char *s, const char *p, size_t n) { return strlen(s) == n && !memcmp(s, p, n); }

bool wgg_wasi_http_legacy_module(const char *module, size_t len) {
  return is("types", module, len) || is("streams", module, len) || is("default-outgoing-HTTP", module, len);
}

bool wgg_wasi_http_legacy_wanted(const wg_module *m) {
  uint32_t n = wg_module_import_count(m);
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    if (wg_module_import(m, i, &d) && is("default-outgoing-HTTP", d.module, d.module_len)) return true;
  }
  return false;
}

int wgg_wasi_http_link(wgg_wasi_http *h, wg_store *store, const wg_module *m, wg_extern *imports, wgg_err *err) {
  h->store = store;
  uint32_t n = wg_module_import_count(m);
  static const wg_valtype i32 = WG_I32;
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    if (!wg_module_import(m, i, &d) || !wgg_wasi_http_legacy_module(d.module, d.module_len)) continue;
    const lh_func *f = NULL;
    for (size_t k = 0; k < sizeof funcs / sizeof funcs[0] && !f; k++)
      if (is(funcs[k].module, d.module, d.module_len) && is(funcs[k].name, d.name, d.name_len)) f = &funcs[k];
    if (!f || d.kind != WG_EXTERN_FUNC)
      return wgg_err_set(err, "wasm: unknown import %.*s.%.*s", (int)d.module_len, d.module, (int)d.name_len, d.name);
    wg_externtype t;
    bool ok = wg_module_extern_type(m, WG_EXTERN_FUNC, d.index, &t) && t.func.nparams == f->nparams &&
              t.func.nresults == f->nresults && (!f->nresults || t.func.results[0] == WG_I32);
    for (uint32_t p = 0; ok && p < f->nparams; p++) ok = t.func.params[p] == f->params[p];
    if (!ok)
      return wgg_err_set(err, "wasm: import %.*s.%.*s has the wrong type", (int)d.module_len, d.module,
                         (int)d.name_len, d.name);
    wg_functype_desc ty = {f->nparams, f->nresults, f->params, &i32};
    wg_func *fn = wg_func_new_host(store, &ty, f->cb, h, NULL);
    if (!fn) return wgg_err_set(err, "out of memory");
    imports[i] = (wg_extern){.kind = WG_EXTERN_FUNC, .of.func = fn};
  }
  return 0;
}
