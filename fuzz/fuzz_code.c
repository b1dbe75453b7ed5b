/*
 * fuzz_code.c: libFuzzer target for the engine's function-body validator.
 *
 * Random bytes rarely get past section sizes and counts, so this target
 * wraps the input into a fixed, well-formed module and lets the fuzzer spend
 * its effort on one function body. Input layout:
 *   byte        number of params (mod 8), then one byte per param type
 *   byte        number of results (mod 4), then one byte per result type
 *   rest        the function body: locals vector + instructions (+ end)
 * (type bytes index the 7 value types, mod 7). The module around it has:
 * type 0 = that signature, type 1 = [i32]->[i32], type 2 = []->[],
 * type 3 = [i32]->[]; tags 0 (type 2) and 1 (type 3) (exception handling);
 * an imported function (func 0, type 1) and the fuzzed one (func 1, type 0);
 * tables 0 (funcref) and 1 (externref); two memories (1..2 pages each:
 * multi-memory, memory 1 exported as "m1"); globals
 * 0 (mut i32) and 1 (f64); func 1 exported as "r"; a passive element
 * segment holding func 1; a data count of 1 and a passive data segment.
 * Calls to wg_module_new are checked like fuzz_module does: an error must be
 * well-formed, success must mean no error, and everything is freed (leaks are
 * failures). A body that validates is then compiled and run: the module is
 * instantiated (env.f returns zero) and "r" called with zero arguments under
 * fuel and stack limits; traps are fine, crashes and sanitizer reports are not.
 * FUZZ_DUMP=DIR records each wrapped module and the verdict (dump.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "wasmgate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz_code: invariant failed: %s (%s:%d)\n", #cond, \
              __FILE__, __LINE__);                                         \
      abort();                                                             \
    }                                                                      \
  } while (0)

static const uint8_t valtypes[7] = {WG_I32, WG_I64, WG_F32, WG_F64, WG_V128, WG_FUNCREF, WG_EXTERNREF};

/* A growable byte buffer; aborts on out of memory (never in practice). */
typedef struct buf {
  uint8_t *p;
  size_t len, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    check(b->p != NULL);
  }
  if (n) memcpy(b->p + b->len, src, n);
  b->len += n;
}

static void put_byte(buf *b, uint8_t v) { put(b, &v, 1); }

static void put_u32(buf *b, uint32_t v) {
  do {
    uint8_t byte = v & 0x7F;
    v >>= 7;
    put_byte(b, byte | (v ? 0x80 : 0));
  } while (v);
}

/* Appends section `id` with the given contents. */
static void put_section(buf *b, uint8_t id, const uint8_t *contents, size_t n) {
  put_byte(b, id);
  put_u32(b, (uint32_t)n);
  put(b, contents, n);
}

#define SECTION(b, id, ...)                              \
  do {                                                   \
    static const uint8_t s_[] = {__VA_ARGS__};           \
    put_section(b, id, s_, sizeof s_);                   \
  } while (0)

/* Where the code section starts and ends (the data section follows) in the
 * module last built. */
static size_t code_start, code_end;

/* Builds the module around the input; returns false when the input is too
 * short to hold the signature. */
static bool build(const uint8_t *data, size_t size, buf *mod) {
  size_t at = 0;
  buf types = {0};
  put_byte(&types, 4); /* four types */
  put_byte(&types, 0x60);
  for (int part = 0; part < 2; part++) {
    if (at >= size) {
      free(types.p);
      return false;
    }
    uint8_t n = data[at++] % (part == 0 ? 8 : 4);
    put_byte(&types, n);
    for (uint8_t i = 0; i < n; i++) put_byte(&types, valtypes[at < size ? data[at++] % 7 : 0]);
  }
  static const uint8_t rest[] = {0x60, 1, WG_I32, 1, WG_I32, 0x60, 0, 0, 0x60, 1, WG_I32, 0};
  put(&types, rest, sizeof rest);

  static const uint8_t magic[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  put(mod, magic, sizeof magic);
  put_section(mod, 1, types.p, types.len);
  free(types.p);
  SECTION(mod, 2, 1, 3, 'e', 'n', 'v', 1, 'f', 0x00, 1);             /* import func 0: type 1 */
  SECTION(mod, 3, 1, 0);                                                  /* func 1: type 0 */
  SECTION(mod, 4, 2, WG_FUNCREF, 0, 1, WG_EXTERNREF, 0, 0);              /* tables */
  SECTION(mod, 5, 2, 1, 1, 2, 1, 1, 2);                                   /* memories 0, 1: 1..2 */
  SECTION(mod, 13, 2, 0, 2, 0, 3);                                        /* tags: [], [i32] */
  SECTION(mod, 6, 2, WG_I32, 1, 0x41, 0, 0x0B,                           /* globals */
          WG_F64, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0B);
  SECTION(mod, 7, 2, 1, 'r', 0x00, 1, 2, 'm', '1', 0x02, 1);              /* "r" = func 1, "m1" = memory 1 */
  SECTION(mod, 9, 1, 1, 0x00, 1, 1);                                      /* passive elem {func 1} */
  SECTION(mod, 12, 1);                                                    /* data count 1 */
  buf code = {0};
  put_byte(&code, 1);
  put_u32(&code, (uint32_t)(size - at));
  put(&code, data + at, size - at);
  code_start = mod->len;
  put_section(mod, 10, code.p, code.len);
  code_end = mod->len;
  free(code.p);
  SECTION(mod, 11, 1, 1, 4, 'w', 'a', 's', 'm');                          /* passive data */
  return true;
}

static wg_trap *zero_host(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return NULL;
}

/* Instantiates the valid wrapper module and calls its fuzzed function. */
static void run(const wg_module *m) {
  wg_store_config cfg = {.value_stack_slots = 1u << 16, .max_call_depth = 400, .max_memory_pages = 16,
                         .max_table_elems = 10000};
  wg_store *s = wg_store_new(NULL, &cfg);
  check(s != NULL);
  static const wg_valtype i32[] = {WG_I32};
  wg_functype_desc ft = {1, 1, i32, i32};
  wg_extern imp = {WG_EXTERN_FUNC, {.func = wg_func_new_host(s, &ft, zero_host, NULL, NULL)}};
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(s, m, &imp, 1, &err, &trap);
  check(inst != NULL || err != NULL || trap != NULL);
  wg_error_delete(err);
  wg_trap_delete(trap);
  wg_extern r;
  if (inst && wg_instance_export(inst, "r", 1, &r)) {
    wg_functype_desc t = wg_func_type(r.of.func);
    wg_val args[8], results[4];
    memset(args, 0, sizeof args);
    for (uint32_t i = 0; i < t.nparams; i++) args[i].kind = t.params[i];
    wg_store_set_fuel(s, 20000);
    trap = wg_func_call(s, r.of.func, args, t.nparams, results, t.nresults);
    check(trap == NULL || wg_trap_message(trap)[0] != '\0');
    wg_trap_delete(trap);
  }
  wg_store_delete(s);
}

/* What runs a module that validated (fuzz_jit.c includes this file and
 * runs it on both execution tiers instead). */
#ifndef FUZZ_CODE_RUN
#define FUZZ_CODE_RUN run
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  buf mod = {0};
  if (!build(data, size, &mod)) return 0;
  wg_error *err = NULL;
  wg_module *m = wg_module_new(mod.p, mod.len, &err);
  fuzz_dump(mod.p, mod.len, err);
  if (m) {
    check(err == NULL);
    check(wg_module_func_count(m) == 2);
    check(wg_module_import_count(m) == 1);
    FUZZ_CODE_RUN(m);
    wg_module_delete(m);
  } else {
    check(err != NULL);
    const char *msg = wg_error_message(err);
    check(msg != NULL && msg[0] != '\0');
    wg_error_kind k = wg_error_kind_of(err);
    check(k >= WG_ERROR_MALFORMED && k <= WG_ERROR_RESOURCE);
    size_t off = wg_error_offset(err);
    check(off <= mod.len || off == SIZE_MAX);
    /* The wrapper is well-formed: a decoding error is in the code section. */
    check(k != WG_ERROR_MALFORMED || (off >= code_start && off <= code_end));
    wg_error_delete(err);
  }
  free(mod.p);
  return 0;
}
