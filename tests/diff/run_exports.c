/*
 * run_exports.c: prints what a module does when each of its exports is
 * called, for the differential test against V8 (diff_v8.sh; run_exports.mjs
 * prints the same format from node). The module may import binaryen's
 * "fuzzing-support" log functions, which print their argument. Before each
 * export (other than hangLimitInitializer) that export is called, as
 * binaryen's own harness does. Exports get zero arguments.
 * Output lines: "log TYPE VALUE", "call NAME", "result V...", "trap",
 * "exhaustion". Floats print as their bits in hex, or "nan" for any NaN (the
 * spec lets NaN payloads differ); i64 as unsigned decimal.
 * v128 values print as the hex of their 16 bytes (memory order). v128
 * cannot cross V8's JS boundary (a TypeError, which run_exports.mjs prints
 * as "trap"), so an export with v128 in its type prints "trap" here without
 * running; log-v128 is logged on both sides (run_exports.mjs imports a
 * small wasm function for it that passes the four i32 lanes to JS).
 * usage: run_exports MODULE.wasm
 *        run_exports --sigs MODULE.wasm   (the exports' signatures as JSON,
 *                                          for run_exports.mjs)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate.h"

static void print_val(const wg_val *v) {
  uint32_t b32;
  uint64_t b64;
  switch (v->kind) {
    case WG_I32: printf(" %" PRIu32, (uint32_t)v->of.i32); break;
    case WG_I64: printf(" %" PRIu64, (uint64_t)v->of.i64); break;
    case WG_F32:
      if (v->of.f32 != v->of.f32) { printf(" nan"); break; }
      memcpy(&b32, &v->of.f32, 4);
      printf(" 0x%08" PRIx32, b32);
      break;
    case WG_F64:
      if (v->of.f64 != v->of.f64) { printf(" nan"); break; }
      memcpy(&b64, &v->of.f64, 8);
      printf(" 0x%016" PRIx64, b64);
      break;
    case WG_V128:
      printf(" ");
      for (int i = 0; i < 16; i++) printf("%02x", v->of.v128[i]);
      break;
    default: printf(" %s", v->of.ref ? "ref" : "null"); break;
  }
}

static wg_trap *log_value(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller, (void)results;
  printf("log %s", (const char *)env);
  print_val(&args[0]);
  printf("\n");
  return NULL;
}

/* Prints a trap; false when the run must stop (exhaustion-like). */
static bool report(wg_trap *t) {
  wg_trap_code c = wg_trap_code_of(t);
  bool stop = c == WG_TRAP_STACK_EXHAUSTED || c == WG_TRAP_OUT_OF_FUEL || c == WG_TRAP_UNSUPPORTED;
  printf("%s\n", stop ? "exhaustion" : "trap");
  wg_trap_delete(t);
  return !stop;
}

static void print_sigs(const wg_module *m) {
  printf("{");
  bool first = true;
  for (uint32_t i = 0; i < wg_module_export_count(m); i++) {
    wg_extern_desc d;
    wg_externtype t;
    wg_module_export(m, i, &d);
    if (d.kind != WG_EXTERN_FUNC) continue;
    wg_module_extern_type(m, d.kind, d.index, &t);
    printf("%s\"%s\":{\"params\":[", first ? "" : ",", d.name);
    for (uint32_t k = 0; k < t.func.nparams; k++) printf("%s\"%s\"", k ? "," : "", wg_valtype_name(t.func.params[k]));
    printf("],\"results\":[");
    for (uint32_t k = 0; k < t.func.nresults; k++)
      printf("%s\"%s\"", k ? "," : "", wg_valtype_name(t.func.results[k]));
    printf("]}");
    first = false;
  }
  printf("}\n");
}

int main(int argc, char **argv) {
  bool sigs = argc == 3 && !strcmp(argv[1], "--sigs");
  if (argc != 2 && !sigs) return 2;
  FILE *f = fopen(argv[sigs ? 2 : 1], "rb");
  if (!f) return 2;
  static uint8_t bytes[1 << 22];
  size_t len = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  wg_error *err = NULL;
  wg_module *m = wg_module_new(bytes, len, &err);
  if (!m) {
    printf(sigs ? "{}\n" : "invalid\n");
    wg_error_delete(err);
    return 0;
  }
  if (sigs) {
    print_sigs(m);
    wg_module_delete(m);
    return 0;
  }
  wg_store *s = wg_store_new(NULL, NULL);
  uint32_t n = wg_module_import_count(m);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    wg_externtype t;
    wg_module_import(m, i, &d);
    wg_module_extern_type(m, d.kind, d.index, &t);
    if (d.kind != WG_EXTERN_FUNC || t.func.nparams != 1 || strncmp(d.name, "log-", 4)) {
      printf("unsupported import %s\n", d.name);
      return 1;
    }
    wg_functype_desc ft = {1, 0, t.func.params, NULL};
    imports[i] = (wg_extern){WG_EXTERN_FUNC, {.func = wg_func_new_host(s, &ft, log_value, (void *)(d.name + 4), NULL)}};
  }
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(s, m, imports, n, &err, &trap);
  if (!inst) {
    printf(trap ? "trap\n" : "link error\n");
    return 0;
  }
  wg_extern hang;
  bool has_hang = wg_instance_export(inst, "hangLimitInitializer", 20, &hang);
  wg_store_set_fuel(s, 50000000); /* a safety net; binaryen's hang limit ends loops first */
  bool go = true;
  for (uint32_t i = 0; go && i < wg_module_export_count(m); i++) {
    wg_extern_desc d;
    wg_extern ex;
    wg_module_export(m, i, &d);
    if (d.kind != WG_EXTERN_FUNC || !strcmp(d.name, "hangLimitInitializer")) continue;
    wg_instance_export(inst, d.name, d.name_len, &ex);
    if (has_hang) wg_trap_delete(wg_func_call(s, hang.of.func, NULL, 0, NULL, 0));
    wg_functype_desc ft = wg_func_type(ex.of.func);
    wg_val args[64], results[64];
    if (ft.nparams > 64 || ft.nresults > 64) continue;
    memset(args, 0, sizeof args);
    for (uint32_t k = 0; k < ft.nparams; k++) args[k].kind = ft.params[k];
    printf("call %s\n", d.name);
    fflush(stdout);
    bool v128 = false;
    for (uint32_t k = 0; k < ft.nparams; k++) v128 |= ft.params[k] == WG_V128;
    for (uint32_t k = 0; k < ft.nresults; k++) v128 |= ft.results[k] == WG_V128;
    if (v128) {
      printf("trap\n");
      continue;
    }
    wg_trap *t = wg_func_call(s, ex.of.func, args, ft.nparams, results, ft.nresults);
    if (t) {
      go = report(t);
      continue;
    }
    printf("result");
    for (uint32_t k = 0; k < ft.nresults; k++) print_val(&results[k]);
    printf("\n");
  }
  free(imports);
  wg_store_delete(s);
  wg_module_delete(m);
  return 0;
}
