/*
 * fuzz_module.c: libFuzzer target for the engine's decoder and validator.
 *
 * Each input is handed to wg_module_new (decode + validate). The target then
 * checks the public API's promises (wasmgate.h) and releases everything, so
 * ASan/UBSan/LeakSanitizer and libFuzzer's malloc/RSS limits see every path:
 *   - failure: exactly one error, with a known kind, a non-empty message and
 *     an offset inside the input (or SIZE_MAX);
 *   - success: no error; imports/exports can be listed, their names are
 *     NUL-terminated at *_len, kinds are in range, import indices count up
 *     per kind, export names are unique, out-of-range lookups fail; the
 *     module no longer refers to the caller's bytes (they are poisoned and
 *     freed before the module is inspected); dumping it works.
 * A broken invariant aborts via check(), which libFuzzer reports as a crash.
 * FUZZ_DUMP=DIR records each input and the verdict (dump.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "wasmgate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* wg_module_dump is declared in wasmgate.h but may not be implemented yet on
 * this branch: a weak reference lets the target link either way and exercise
 * the dumper as soon as the engine has it. */
#pragma weak wg_module_dump

/* Reports a broken invariant and aborts (the fuzzer records the input). */
#define check(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_module: invariant failed: %s (%s:%d)\n", #cond, \
              __FILE__, __LINE__);                                           \
      abort();                                                               \
    }                                                                        \
  } while (0)

/* Where wg_module_dump writes; opened once. */
static FILE *sink;

static void check_error(const wg_error *err, size_t size) {
  check(err != NULL);
  const char *msg = wg_error_message(err);
  check(msg != NULL);
  check(msg[0] != '\0');
  check(strlen(msg) < 4096);
  wg_error_kind k = wg_error_kind_of(err);
  check(k == WG_ERROR_MALFORMED || k == WG_ERROR_INVALID || k == WG_ERROR_LIMIT ||
        k == WG_ERROR_RESOURCE);
  size_t off = wg_error_offset(err);
  check(off <= size || off == SIZE_MAX);
}

/* A name as the API describes it: non-NULL and NUL-terminated at len. */
static void check_name(const char *s, size_t len) {
  check(s != NULL);
  check(s[len] == '\0');
}

static int cmp_name(const void *a, const void *b) {
  const wg_extern_desc *x = a, *y = b;
  if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
  return memcmp(x->name, y->name, x->name_len);
}

static void check_imports(const wg_module *m) {
  uint32_t n = wg_module_import_count(m);
  uint32_t per_kind[5] = {0, 0, 0, 0, 0};
  wg_extern_desc d;
  for (uint32_t i = 0; i < n; i++) {
    check(wg_module_import(m, i, &d));
    check_name(d.module, d.module_len);
    check_name(d.name, d.name_len);
    check((unsigned)d.kind <= WG_EXTERN_TAG);
    check(d.index == per_kind[d.kind]);
    per_kind[d.kind]++;
  }
  check(!wg_module_import(m, n, &d));
  check(wg_module_func_count(m) >= per_kind[WG_EXTERN_FUNC]);
}

static void check_exports(const wg_module *m) {
  uint32_t n = wg_module_export_count(m);
  uint32_t nfuncs = wg_module_func_count(m);
  wg_extern_desc *all = calloc(n ? n : 1, sizeof *all);
  check(all != NULL);
  for (uint32_t i = 0; i < n; i++) {
    check(wg_module_export(m, i, &all[i]));
    check(all[i].module == NULL);
    check_name(all[i].name, all[i].name_len);
    check((unsigned)all[i].kind <= WG_EXTERN_TAG);
    if (all[i].kind == WG_EXTERN_FUNC) check(all[i].index < nfuncs);
  }
  wg_extern_desc d;
  check(!wg_module_export(m, n, &d));
  /* Validation requires distinct export names (spec 3.4.10). */
  qsort(all, n, sizeof *all, cmp_name);
  for (uint32_t i = 1; i < n; i++) check(cmp_name(&all[i - 1], &all[i]) != 0);
  free(all);
}

static void check_module(const wg_module *m) {
  check_imports(m);
  check_exports(m);
  uint32_t nfuncs = wg_module_func_count(m);
  for (uint32_t i = 0; i < nfuncs; i++) {
    const char *name = wg_module_func_name(m, i);
    if (name) (void)strlen(name);
  }
  check(wg_module_func_name(m, nfuncs) == NULL);
  if (!wg_module_dump) return;
  if (!sink) sink = fopen("/dev/null", "w");
  if (sink) check(wg_module_dump(m, sink));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A private copy, poisoned and freed once the module exists: the module
   * must have copied what it keeps (wg_module_new's contract). */
  uint8_t *bytes = malloc(size ? size : 1);
  check(bytes != NULL);
  if (size) memcpy(bytes, data, size);

  wg_error *err = (wg_error *)(uintptr_t)1; /* must be overwritten */
  wg_module *m = wg_module_new(bytes, size, &err);
  fuzz_dump(bytes, size, m ? NULL : err);
  memset(bytes, 0xA5, size);
  free(bytes);

  if (!m) {
    check_error(err, size);
    wg_error_delete(err);
    return 0;
  }
  check(err == NULL);
  check_module(m);
  wg_module_delete(m);
  return 0;
}
