/*
 * fuzz_exec.c: libFuzzer target that runs what it decodes. Each valid module
 * is instantiated with host stand-ins for its imports (functions returning
 * zeros, fresh tables, memories and globals of the declared types), then
 * every exported function is called with zero arguments under small limits
 * (fuel, call depth, value stack, memory and table caps). Traps are expected;
 * crashes, sanitizer reports, leaks and hangs are findings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate.h"

static wg_trap *zeros(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return NULL; /* results arrive preset to zero of their types */
}

static void zero_val(wg_valtype t, wg_val *v) {
  memset(v, 0, sizeof *v);
  v->kind = t;
}

static void check_trap(wg_trap *t) {
  if (!t) return;
  if (!wg_trap_message(t)[0] || !wg_trap_backtrace(t)) abort(); /* invariant: a message, a backtrace */
  wg_trap_delete(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wg_module *m = wg_module_new(data, size, NULL);
  if (!m) return 0;
  wg_store_config cfg = {.value_stack_slots = 1u << 16, .max_call_depth = 400, .max_memory_pages = 16,
                         .max_table_elems = 10000};
  wg_store *s = wg_store_new(NULL, &cfg);
  uint32_t n = wg_module_import_count(m);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  bool ok = s && imports;
  for (uint32_t i = 0; ok && i < n; i++) {
    wg_extern_desc d;
    wg_externtype t;
    wg_module_import(m, i, &d);
    wg_module_extern_type(m, d.kind, d.index, &t);
    imports[i].kind = d.kind;
    switch (d.kind) {
      case WG_EXTERN_FUNC: {
        wg_functype_desc ft = {t.func.nparams, t.func.nresults, t.func.params, t.func.results};
        ok = (imports[i].of.func = wg_func_new_host(s, &ft, zeros, NULL, NULL)) != NULL;
        break;
      }
      case WG_EXTERN_TABLE:
        ok = (imports[i].of.table = wg_table_new(s, t.elem, t.min, t.has_max, t.max, NULL)) != NULL;
        break;
      case WG_EXTERN_MEMORY:
        ok = (imports[i].of.memory = wg_memory_new(s, t.min, t.has_max, t.max)) != NULL;
        break;
      case WG_EXTERN_GLOBAL: {
        wg_val v;
        zero_val(t.type, &v);
        ok = (imports[i].of.global = wg_global_new(s, &v, t.mut)) != NULL;
        break;
      }
      case WG_EXTERN_TAG: /* the API makes no host tags: such a module is decoded, not run */
        ok = false;
        break;
    }
  }
  wg_instance *inst = NULL;
  if (ok) {
    wg_error *err = NULL;
    wg_trap *trap = NULL;
    inst = wg_instance_new(s, m, imports, n, &err, &trap);
    wg_error_delete(err);
    check_trap(trap);
  }
  for (uint32_t i = 0; inst && i < wg_module_export_count(m); i++) {
    wg_extern_desc d;
    wg_extern ex;
    wg_module_export(m, i, &d);
    if (d.kind != WG_EXTERN_FUNC || !wg_instance_export(inst, d.name, d.name_len, &ex)) continue;
    wg_functype_desc ft = wg_func_type(ex.of.func);
    wg_val args[16], results[16];
    if (ft.nparams > 16 || ft.nresults > 16) continue;
    for (uint32_t k = 0; k < ft.nparams; k++) zero_val(ft.params[k], &args[k]);
    wg_store_set_fuel(s, 20000);
    check_trap(wg_func_call(s, ex.of.func, args, ft.nparams, results, ft.nresults));
  }
  free(imports);
  wg_store_delete(s);
  wg_module_delete(m);
  return 0;
}
