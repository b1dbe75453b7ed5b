/*
 * fuzz_httpwasm.c: libFuzzer target for the http-wasm host functions'
 * argument handling (gate/wasmhost/httpwasm_abi.c; issue 18, "keep them
 * closed"). A fixed module imports every `http_handler` function and
 * re-exports it; each input fills the guest's memory and then calls the
 * functions with fuzzed arguments (pointers, lengths, kinds, levels, status
 * codes) against a live request exchange, flipping the before/after-next
 * state and the features between calls, as a hostile guest could.
 *
 * Input: byte 0 = features enabled for the request; byte 1 = n, then n
 * bytes copied to guest memory at 0 (from 256 on, memory holds fixed
 * strings: tokens, values with CR/LF/NUL, URIs); then records of 21 bytes:
 * an op byte (op % 20: the function index, 19 = flip after_next) and five
 * little-endian u32 arguments; with the op's high bit set the arguments are
 * taken modulo 66000 so that they land in or just past the 64 KiB memory,
 * else modulo 512 (the fuzzed bytes and the fixed strings) unless op bit 6
 * asks for them raw.
 *
 * Invariants after every call, whatever it returned: a trap has a message;
 * what the exchange holds is what a guest may hand back (method and every
 * header/trailer name a token, values without CR/LF/NUL, the URI without
 * control characters, status 0 or 100-999, bodies within their cap); the
 * sanitizers catch out-of-bounds accesses and leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "wasmhost/httpwasm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "invariant failed: %s\n", what);
    abort();
  }
}

/* ---- the guest module, encoded by hand ---- */

typedef struct sig {
  const char *name;
  uint8_t np, nr;
  uint8_t p[5], r;
} sig;

#define I 0x7f
#define L 0x7e
static const sig sigs[] = {
    {"enable_features", 1, 1, {I}, I},        {"get_config", 2, 1, {I, I}, I},
    {"log_enabled", 1, 1, {I}, I},            {"log", 3, 0, {I, I, I}, 0},
    {"get_method", 2, 1, {I, I}, I},          {"set_method", 2, 0, {I, I}, 0},
    {"get_uri", 2, 1, {I, I}, I},             {"set_uri", 2, 0, {I, I}, 0},
    {"get_protocol_version", 2, 1, {I, I}, I}, {"get_header_names", 3, 1, {I, I, I}, L},
    {"get_header_values", 5, 1, {I, I, I, I, I}, L}, {"set_header_value", 5, 0, {I, I, I, I, I}, 0},
    {"add_header_value", 5, 0, {I, I, I, I, I}, 0}, {"remove_header", 3, 0, {I, I, I}, 0},
    {"read_body", 3, 1, {I, I, I}, L},        {"write_body", 3, 0, {I, I, I}, 0},
    {"get_status_code", 0, 1, {0}, I},        {"set_status_code", 1, 0, {I}, 0},
    {"get_source_addr", 2, 1, {I, I}, I},
};
#undef I
#undef L
enum { NFUNCS = sizeof sigs / sizeof sigs[0] };

typedef struct out {
  uint8_t b[4096];
  size_t n;
} out;

static void put(out *o, uint8_t v) { o->b[o->n++] = v; }
static void uleb(out *o, uint32_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    put(o, c | (v ? 0x80 : 0));
  } while (v);
}
static void str(out *o, const char *s) {
  uleb(o, (uint32_t)strlen(s));
  for (; *s; s++) put(o, (uint8_t)*s);
}
static void section(out *m, uint8_t id, const out *body) {
  put(m, id);
  uleb(m, (uint32_t)body->n);
  memcpy(m->b + m->n, body->b, body->n);
  m->n += body->n;
}

static size_t build_module(uint8_t *dst) {
  static out m, s;
  m.n = 0;
  memcpy(m.b, "\0asm\1\0\0\0", 8);
  m.n = 8;
  s.n = 0; /* types: one per function */
  uleb(&s, NFUNCS);
  for (int k = 0; k < NFUNCS; k++) {
    put(&s, 0x60);
    uleb(&s, sigs[k].np);
    for (int p = 0; p < sigs[k].np; p++) put(&s, sigs[k].p[p]);
    uleb(&s, sigs[k].nr);
    if (sigs[k].nr) put(&s, sigs[k].r);
  }
  section(&m, 1, &s);
  s.n = 0; /* imports */
  uleb(&s, NFUNCS);
  for (int k = 0; k < NFUNCS; k++) {
    str(&s, "http_handler");
    str(&s, sigs[k].name);
    put(&s, 0x00);
    uleb(&s, (uint32_t)k);
  }
  section(&m, 2, &s);
  s.n = 0; /* one memory: 1 page, at most 2 */
  uleb(&s, 1);
  put(&s, 0x01);
  uleb(&s, 1);
  uleb(&s, 2);
  section(&m, 5, &s);
  s.n = 0; /* exports: memory and every import again */
  uleb(&s, NFUNCS + 1);
  str(&s, "memory");
  put(&s, 0x02);
  uleb(&s, 0);
  for (int k = 0; k < NFUNCS; k++) {
    char name[8];
    snprintf(name, sizeof name, "f%d", k);
    str(&s, name);
    put(&s, 0x00);
    uleb(&s, (uint32_t)k);
  }
  section(&m, 7, &s);
  memcpy(dst, m.b, m.n);
  return m.n;
}

/* ---- one instance for the whole run ---- */

static struct wgg_hw_module mod;
static struct wgg_hw_instance inst;
static wg_func *funcs[NFUNCS];

static void setup(void) {
  static uint8_t bytes[4096];
  size_t len = build_module(bytes);
  wg_error *e = NULL;
  mod.mod = wg_module_new(bytes, len, &e);
  check(mod.mod != NULL, "the fuzz module is valid");
  static uint8_t cfg[] = "cfg\0with\0nuls";
  mod.config = cfg;
  mod.config_len = sizeof cfg - 1;
  mod.name = "fuzz";
  inst.m = &mod;
  inst.store = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 4096, .max_memory_pages = 2});
  wg_extern imports[NFUNCS];
  char msg[128];
  check(wgg_hw_link_host(&inst, inst.store, mod.mod, imports, msg, sizeof msg), "link");
  wg_trap *t = NULL;
  inst.inst = wg_instance_new(inst.store, mod.mod, imports, NFUNCS, &e, &t);
  check(inst.inst != NULL, "instantiate");
  wg_extern x;
  check(wg_instance_export(inst.inst, "memory", 6, &x), "memory export");
  inst.mem = x.of.memory;
  for (int k = 0; k < NFUNCS; k++) {
    char name[8];
    snprintf(name, sizeof name, "f%d", k);
    check(wg_instance_export(inst.inst, name, strlen(name), &x), "function export");
    funcs[k] = x.of.func;
  }
  wgg_log_setup(WGG_LOG_ERROR + 1, false); /* guest logs: enabled levels checked, nothing printed */
}

/* ---- invariants ---- */

static int tchar(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("!#$%&'*+-.^_`|~", c));
}
static int token(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!tchar((uint8_t)*s)) return 0;
  return 1;
}
static int field_value(const char *s) {
  for (; *s; s++)
    if (((uint8_t)*s < 0x20 && *s != '\t') || (uint8_t)*s == 0x7f) return 0;
  return 1;
}
static void check_hdrs(const wgg_hdrs *h) {
  for (size_t k = 0; k < h->n; k++) {
    check(token(h->v[k].name), "header names are tokens");
    check(field_value(h->v[k].value), "header values have no CR/LF/NUL");
  }
}
static void check_exchange(const wgg_exchange *ex) {
  check(token(ex->method), "the method is a token");
  for (const char *p = ex->uri; *p; p++) check((uint8_t)*p >= 0x20 && (uint8_t)*p != 0x7f, "the URI has no CTL");
  check_hdrs(&ex->req_headers);
  check_hdrs(&ex->resp_headers);
  check_hdrs(&ex->req_trailers);
  check_hdrs(&ex->resp_trailers);
  check(ex->status == 0 || (ex->status >= 100 && ex->status <= 999), "status 0 or 100-999");
  check(ex->req_body.len <= (32u << 20) && ex->resp_body.len <= (32u << 20), "bodies within the cap");
}

static uint32_t u32le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!mod.mod) setup();
  if (!size) return 0;
  wgg_exchange ex;
  memset(&ex, 0, sizeof ex);
  ex.method = strdup("GET");
  ex.uri = strdup("/a%20b?q=1");
  ex.protocol = "HTTP/1.1";
  snprintf(ex.source_addr, sizeof ex.source_addr, "127.0.0.1:4242");
  wgg_hdrs_add(&ex.req_headers, "Host", 4, "example", 7);
  wgg_hdrs_add(&ex.req_headers, "X-Multi", 7, "a, b", 4);
  wgg_hdrs_add(&ex.req_headers, "x-multi", 7, "c", 1);
  wgg_buf_append(&ex.req_body, "hello body", 10);
  wgg_hdrs_add(&ex.resp_headers, "Content-Type", 12, "text/plain", 10);
  wgg_buf_append(&ex.resp_body, "next's body", 11);
  wgg_hw_call call;
  memset(&call, 0, sizeof call);
  call.ex = &ex;
  call.features = data[0] & WGG_HW_SUPPORTED;
  inst.call = &call;
  uint8_t *mem = wg_memory_data(inst.mem);
  size_t mem_len = (size_t)wg_memory_size(inst.mem);
  memset(mem, 0, mem_len);
  static const char fixed[] = "x-name\0a\r\nb\0GET\0/p?q\0a b\0\x01\x7f\0HTTP/1.1\r\nX: y\0content-length\0";
  memcpy(mem + 256, fixed, sizeof fixed);
  size_t pre = size > 1 ? data[1] : 0;
  if (pre > size - 2 && size >= 2) pre = size - 2;
  if (size >= 2) memcpy(mem, data + 2, pre);
  for (size_t at = 2 + pre; at + 21 <= size; at += 21) {
    uint8_t op = data[at];
    uint32_t a[5];
    for (int k = 0; k < 5; k++) {
      a[k] = u32le(data + at + 1 + 4 * k);
      if (op & 0x80) a[k] %= 66000u;
      else if (!(op & 0x40)) a[k] %= 512u;
    }
    int fn = (op & 0x3f) % (NFUNCS + 1);
    if (fn == NFUNCS) {
      call.after_next = !call.after_next;
      continue;
    }
    const sig *s = &sigs[fn];
    wg_val args[5], res[1];
    for (int k = 0; k < s->np; k++) args[k] = (wg_val){.kind = WG_I32, .of.i32 = (int32_t)a[k]};
    res[0].kind = s->r == 0x7e ? WG_I64 : WG_I32;
    wg_trap *t = wg_func_call(inst.store, funcs[fn], args, s->np, res, s->nr);
    if (t) {
      const char *m = wg_trap_message(t);
      check(m && *m, "a trap has a message");
      wg_trap_delete(t);
    }
    check_exchange(&ex);
  }
  inst.call = NULL;
  wgg_exchange_free(&ex);
  return 0;
}
