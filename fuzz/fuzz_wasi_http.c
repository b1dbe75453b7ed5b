/*
 * fuzz_wasi_http.c: libFuzzer target for the argument handling of the legacy
 * wasi-http host functions of bindings.wasm (gate/wasmhost/wasi_http_legacy.c).
 *
 * A guest module is assembled here once: it imports every function of the
 * ABI (types, streams, default-outgoing-HTTP) and exports, for each, a
 * trampoline "cK" with the same signature that calls it (so the host sees a
 * real calling instance and its memory), plus a one-page memory and a bump
 * cabi_realloc that happily returns pointers past the memory's end. The
 * input is: up to 256 bytes copied into the memory at 0, then a sequence of
 * calls: one byte picks the function, each argument is one byte (< 0xf0:
 * that small value, a likely handle, length or pointer) or 0xf0.. followed
 * by 4 (8 for i64) little-endian bytes. Traps are fine; crashes, sanitizer
 * reports and leaks are not. The outbound request (wgg_lh_send) is replaced
 * by a stub answering from the input, so the fuzzer never touches the
 * network.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "wasmgate.h"
#include "wasmhost/wasi_http_internal.h"
#include "wasmhost/wasi_http_legacy.h"

/* The ABI, as the guest sees it (wasi_http_legacy.h). 'i' = i32, 'I' = i64. */
static const struct {
  const char *module, *name, *params;
  int results;
} abi[] = {
    {"types", "new-outgoing-request", "iiiiiiiiiiiiii", 1},
    {"types", "new-fields", "ii", 1},
    {"types", "drop-fields", "i", 0},
    {"types", "fields-entries", "ii", 0},
    {"types", "drop-outgoing-request", "i", 0},
    {"types", "outgoing-request-write", "ii", 0},
    {"types", "drop-incoming-response", "i", 0},
    {"types", "incoming-response-status", "i", 1},
    {"types", "incoming-response-headers", "i", 1},
    {"types", "incoming-response-consume", "ii", 0},
    {"types", "future-incoming-response-get", "ii", 0},
    {"types", "incoming-request-method", "ii", 0},
    {"types", "incoming-request-path", "ii", 0},
    {"types", "incoming-request-authority", "ii", 0},
    {"types", "incoming-request-headers", "i", 1},
    {"types", "incoming-request-consume", "ii", 0},
    {"types", "drop-incoming-request", "i", 0},
    {"types", "set-response-outparam", "iiiii", 1},
    {"types", "new-outgoing-response", "ii", 1},
    {"types", "outgoing-response-write", "ii", 0},
    {"types", "drop-outgoing-response", "i", 0},
    {"types", "log-it", "ii", 0},
    {"streams", "read", "iIi", 0},
    {"streams", "drop-input-stream", "i", 0},
    {"streams", "write", "iiii", 0},
    {"default-outgoing-HTTP", "request", "iiiiiiiiiiiiii", 1},
    {"default-outgoing-HTTP", "handle", "iiiiiiii", 1},
};
#define NABI (sizeof abi / sizeof abi[0])

/* ------------------------------------------------------------------ the guest, assembled */

typedef struct bytes {
  uint8_t *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}
static void byte(bytes *b, uint8_t v) { put(b, &v, 1); }
static void uleb(bytes *b, uint32_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    byte(b, c | (v ? 0x80 : 0));
  } while (v);
}
static void name(bytes *b, const char *s) {
  uleb(b, (uint32_t)strlen(s));
  put(b, s, strlen(s));
}
static void section(bytes *out, uint8_t id, bytes *body) {
  byte(out, id);
  uleb(out, (uint32_t)body->n);
  put(out, body->p, body->n);
  body->n = 0;
}

static bytes build_guest(void) {
  bytes m = {0}, s = {0};
  put(&m, "\0asm\1\0\0\0", 8);
  uleb(&s, NABI + 1); /* types: one per import, then cabi_realloc's */
  for (size_t k = 0; k < NABI; k++) {
    byte(&s, 0x60);
    uleb(&s, (uint32_t)strlen(abi[k].params));
    for (const char *p = abi[k].params; *p; p++) byte(&s, *p == 'I' ? 0x7e : 0x7f);
    uleb(&s, (uint32_t)abi[k].results);
    if (abi[k].results) byte(&s, 0x7f);
  }
  put(&s, "\x60\x04\x7f\x7f\x7f\x7f\x01\x7f", 8);
  section(&m, 1, &s);
  uleb(&s, NABI); /* imports */
  for (size_t k = 0; k < NABI; k++) {
    name(&s, abi[k].module);
    name(&s, abi[k].name);
    byte(&s, 0);
    uleb(&s, (uint32_t)k);
  }
  section(&m, 2, &s);
  uleb(&s, NABI + 1); /* functions: trampolines, then cabi_realloc */
  for (size_t k = 0; k <= NABI; k++) uleb(&s, (uint32_t)k);
  section(&m, 3, &s);
  put(&s, "\x01\x01\x01\x02", 4); /* memory: 1 page, max 2 */
  section(&m, 5, &s);
  put(&s, "\x01\x7f\x01\x41\x80\x08\x0b", 7); /* global: mut i32 = 1024 (the bump pointer) */
  section(&m, 6, &s);
  uleb(&s, NABI + 2); /* exports */
  name(&s, "memory");
  put(&s, "\x02\x00", 2);
  name(&s, "cabi_realloc");
  byte(&s, 0);
  uleb(&s, (uint32_t)(2 * NABI));
  for (size_t k = 0; k < NABI; k++) {
    char nm[8];
    nm[0] = 'c';
    nm[1] = (char)('a' + k / 26);
    nm[2] = (char)('a' + k % 26);
    nm[3] = 0;
    name(&s, nm);
    byte(&s, 0);
    uleb(&s, (uint32_t)(NABI + k));
  }
  section(&m, 7, &s);
  uleb(&s, NABI + 1); /* code */
  for (size_t k = 0; k <= NABI; k++) {
    bytes f = {0};
    byte(&f, 0); /* no locals */
    if (k < NABI) {
      for (uint32_t i = 0; i < strlen(abi[k].params); i++) {
        byte(&f, 0x20);
        uleb(&f, i);
      }
      byte(&f, 0x10);
      uleb(&f, (uint32_t)k);
    } else { /* old top; top += size */
      put(&f, "\x23\x00\x23\x00\x20\x03\x6a\x24\x00", 9);
    }
    byte(&f, 0x0b);
    uleb(&s, (uint32_t)f.n);
    put(&s, f.p, f.n);
    free(f.p);
  }
  section(&m, 10, &s);
  free(s.p);
  return m;
}

/* ------------------------------------------------------------------ the outbound request, stubbed */

static const uint8_t *g_in;
static size_t g_len, g_off;

int wgg_lh_send(wgg_wasi_http *h, const lh_request *r, const lh_fields *hdr, lh_response *res, wgg_err *err) {
  (void)r;
  (void)hdr;
  if (g_off < g_len && g_in[g_off++] % 4 == 0) return wgg_err_set(err, "refused");
  res->status = 200;
  res->headers = wgg_lh_fields_new();
  res->body = calloc(1, sizeof *res->body);
  if (!res->headers || !res->body) return wgg_err_set(err, "out of memory");
  res->body->refs = 1;
  size_t n = g_off < g_len ? g_in[g_off++] % 64 : 0;
  if (n > g_len - g_off) n = g_len - g_off;
  if (wgg_lh_fields_add(res->headers, "X-A", 3, "b", 1) || wgg_lh_fields_add(res->headers, "X-A", 3, "c", 1) ||
      !wgg_lh_spend(h, n) || wgg_buf_append(&res->body->buf, g_in + g_off, n))
    return wgg_err_set(err, "refused");
  g_off += n;
  return 0;
}

/* ------------------------------------------------------------------ the target */

static wg_module *g_mod;

static uint64_t arg(bool wide) {
  if (g_off >= g_len) return 0;
  uint8_t b = g_in[g_off++];
  if (b < 0xf0) return b;
  uint64_t v = 0;
  for (int i = 0; i < (wide ? 8 : 4) && g_off < g_len; i++) v |= (uint64_t)g_in[g_off++] << (8 * i);
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  if (!g_mod) {
    wgg_log_setup(WGG_LOG_ERROR + 1, false);
    bytes b = build_guest();
    wg_error *e = NULL;
    g_mod = wg_module_new(b.p, b.n, &e);
    free(b.p);
    if (!g_mod) abort(); /* the assembled guest must be valid */
  }
  g_in = data;
  g_len = len;
  g_off = 0;
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 4096});
  wgg_wasi_http *h = wgg_wasi_http_new(NULL, 0);
  wg_extern imports[NABI];
  memset(imports, 0, sizeof imports);
  wgg_err err;
  if (!s || !h || wgg_wasi_http_link(h, s, g_mod, imports, &err)) abort();
  wg_error *e = NULL;
  wg_trap *t = NULL;
  wg_instance *inst = wg_instance_new(s, g_mod, imports, NABI, &e, &t);
  if (!inst) abort();
  size_t pre = len < 256 ? len : 256;
  memcpy(wg_memory_data(wg_instance_memory(inst)), data, pre);
  g_off = pre;
  for (int calls = 0; g_off < g_len && calls < 64; calls++) {
    size_t k = g_in[g_off++] % NABI;
    char nm[4] = {'c', (char)('a' + k / 26), (char)('a' + k % 26), 0};
    wg_extern f;
    if (!wg_instance_export(inst, nm, 3, &f)) abort();
    wg_val args[14], res = {.kind = WG_I32};
    size_t n = strlen(abi[k].params);
    for (size_t i = 0; i < n; i++) {
      bool wide = abi[k].params[i] == 'I';
      args[i].kind = wide ? WG_I64 : WG_I32;
      uint64_t v = arg(wide);
      if (wide) args[i].of.i64 = (int64_t)v;
      else args[i].of.i32 = (int32_t)(uint32_t)v;
    }
    wg_trap *tr = wg_func_call(s, f.of.func, args, n, &res, (size_t)abi[k].results);
    wg_trap_delete(tr);
  }
  wg_store_delete(s);
  wgg_wasi_http_delete(h);
  return 0;
}
