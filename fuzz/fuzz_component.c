/*
 * fuzz_component.c: libFuzzer target for the Component Model decoder and
 * validator (wasmgate_component.h, engine/src/component/).
 *
 * Each input gets the component preamble (version 0x0d, layer 1) unless it
 * already starts with one, so the fuzzer spends its time in the sections,
 * and is handed to wg_component_new. The target then checks the API's
 * promises and releases everything, so ASan/UBSan/LeakSanitizer and
 * libFuzzer's malloc/RSS limits see every path:
 *   - failure: exactly one error, with a known kind, a non-empty message and
 *     an offset inside the input (or SIZE_MAX);
 *   - success: no error; imports/exports can be listed, names are
 *     NUL-terminated at name_len and strongly unique per list (so never
 *     equal), sorts are in range, out-of-range lookups fail, every type prints,
 *     core modules are reachable; the component no longer refers to the
 *     caller's bytes (poisoned and freed first); dumping it works;
 *   - instantiation (every import defined as trapping, 100k fuel, a 16 MiB
 *     store) either succeeds or fails with an error or trap, never with the
 *     runtime's "internal error" (the recorded definitions disagreeing with
 *     the validated index spaces). A few names the test suites' components
 *     import (top-level `f`, `g`, `log`; instance `i` with `f`, `g` and a
 *     resource `r`) are typed host functions, so the check of an import's
 *     type against the host's (cm_hosttype.c) sees the fuzzed types.
 * A broken invariant aborts via check(), which libFuzzer reports as a crash.
 * FUZZ_DUMP=DIR records each input and the verdict (dump.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "wasmgate_component.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The typed host functions: a call traps, as the unknown imports' do. */
static wg_trap *trap_fn(void *env, const wg_cval *args, size_t nargs, wg_cval *results, size_t nresults) {
  (void)env, (void)args, (void)nargs, (void)results, (void)nresults;
  return wg_trap_new(WG_TRAP_HOST, "host function called");
}

#define check(cond)                                                             \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "fuzz_component: invariant failed: %s (%s:%d)\n", #cond, \
              __FILE__, __LINE__);                                              \
      abort();                                                                  \
    }                                                                           \
  } while (0)

static FILE *sink;

static void check_error(const wg_error *err, size_t size) {
  check(err != NULL);
  const char *msg = wg_error_message(err);
  check(msg != NULL && msg[0] != '\0' && strlen(msg) < 4096);
  wg_error_kind k = wg_error_kind_of(err);
  check(k == WG_ERROR_MALFORMED || k == WG_ERROR_INVALID || k == WG_ERROR_LIMIT || k == WG_ERROR_RESOURCE);
  size_t off = wg_error_offset(err);
  check(off <= size || off == SIZE_MAX);
}

static void check_list(const wg_component *c, bool imports) {
  uint32_t n = imports ? wg_component_import_count(c) : wg_component_export_count(c);
  wg_component_extern e, prev[64];
  for (uint32_t i = 0; i < n; i++) {
    check(imports ? wg_component_import(c, i, &e) : wg_component_export(c, i, &e));
    check(e.name != NULL && e.name[e.name_len] == '\0');
    check((unsigned)e.sort <= WG_COMPONENT_INSTANCE);
    for (uint32_t j = 0; j < i && j < 64; j++)
      check(prev[j].name_len != e.name_len || memcmp(prev[j].name, e.name, e.name_len) != 0);
    if (i < 64) prev[i] = e;
    check(imports ? wg_component_import_type_print(c, i, sink, 0) : wg_component_export_type_print(c, i, sink, 0));
  }
  check(!(imports ? wg_component_import(c, n, &e) : wg_component_export(c, n, &e)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t preamble[8] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  if (!sink) sink = fopen("/dev/null", "w");
  check(sink != NULL);
  size_t pre = size >= 8 && !memcmp(data, preamble, 8) ? 0 : 8;
  size_t len = size + pre;
  uint8_t *bytes = malloc(len);
  check(bytes != NULL);
  if (pre) memcpy(bytes, preamble, 8);
  if (size) memcpy(bytes + pre, data, size);

  wg_error *err = (wg_error *)(uintptr_t)1; /* must be overwritten */
  wg_component *c = wg_component_new(bytes, len, &err);
  fuzz_dump(bytes, len, c ? NULL : err);
  memset(bytes, 0xA5, len);
  free(bytes);

  if (!c) {
    check_error(err, len);
    wg_error_delete(err);
    return 0;
  }
  check(err == NULL);
  check_list(c, true);
  check_list(c, false);
  uint32_t nm = wg_component_core_module_count(c);
  for (uint32_t i = 0; i < nm; i++) check(wg_component_core_module(c, i) != NULL);
  check(wg_component_core_module(c, nm) == NULL);
  check(wg_component_dump(c, sink));

  wg_component_linker *l = wg_component_linker_new();
  check(l != NULL);
  static const char *const typed[][3] = {
      {NULL, "f", "func()"},
      {NULL, "g", "func(a: u32, b: string) -> list<u8>"},
      {NULL, "log", "func(msg: string)"},
      {"i", "f", "func(x: borrow<r>, y: option<t>) -> result<own<r>, t>"},
      {"i", "g", "func(v: variant { a, b(tuple<s8, char>), c(list<flags { x, y }>) }) -> enum { p, q }"},
  };
  check(wg_component_linker_define_resource(l, "i", "r", NULL, NULL, NULL, NULL));
  check(wg_component_linker_define_type(l, "i", "t", "record { a: u64, b: f32 }", NULL));
  for (size_t i = 0; i < sizeof typed / sizeof *typed; i++)
    check(wg_component_linker_define_func_typed(l, typed[i][0], typed[i][1], typed[i][2], trap_fn, NULL, NULL, NULL));
  check(wg_component_linker_check_types(l, NULL));
  wg_component_linker_allow_unknown_imports(l, true);
  wg_store_config cfg = {.max_memory_pages = 256, .max_bytes = 16u << 20};
  wg_store *s = wg_store_new(NULL, &cfg);
  check(s != NULL);
  wg_store_set_fuel(s, 100000);
  wg_trap *trap = NULL;
  err = NULL;
  wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, &err, &trap);
  if (!inst) {
    check(err || trap);
    if (err) check(!strstr(wg_error_message(err), "internal error"));
  }
  wg_error_delete(err);
  wg_trap_delete(trap);
  wg_store_delete(s);
  wg_component_linker_delete(l);
  wg_component_delete(c);
  return 0;
}
