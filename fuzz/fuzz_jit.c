/*
 * fuzz_jit.c: differential libFuzzer target for the compiled tier. The input
 * is wrapped into a module exactly as fuzz_code does (fuzz_code.c is
 * included: same input layout and seeds); each module that validates is
 * instantiated twice, on a store with the interpreter and on one with the
 * compiled tier (wg_store_config.tier), and the fuzzed function is called
 * with zero arguments under the same fuel and stack limits. The interpreter
 * is the oracle: the outcomes must be equal (results, with every NaN printed
 * as "nan"; or the trap message), and so must the fuel left and the bytes of
 * memories 0 and 1 (multi-memory: functions using memory 1 run in the
 * interpreter on both stores, calls between them and compiled ones do not). A difference aborts with both outcomes on stderr; crashes and
 * sanitizer reports are findings as usual.
 */
static void run_both(const void *m);
#define FUZZ_CODE_RUN(m) run_both(m)
#include "fuzz_code.c"

#include <math.h>

typedef struct outcome {
  char text[512];
  uint64_t fuel;
  uint64_t mem_hash;
} outcome;

static void print_val(char *p, size_t n, const wg_val *v) {
  switch (v->kind) {
    case WG_I32: snprintf(p, n, "i32:%d ", v->of.i32); break;
    case WG_I64: snprintf(p, n, "i64:%lld ", (long long)v->of.i64); break;
    case WG_F32: isnan(v->of.f32) ? snprintf(p, n, "f32:nan ") : snprintf(p, n, "f32:%a ", (double)v->of.f32); break;
    case WG_F64: isnan(v->of.f64) ? snprintf(p, n, "f64:nan ") : snprintf(p, n, "f64:%a ", v->of.f64); break;
    default: snprintf(p, n, "ref:%s ", v->of.ref ? "non-null" : "null"); break;
  }
}

static void run_tier(const wg_module *m, uint32_t tier, outcome *o) {
  memset(o, 0, sizeof *o);
  wg_store_config cfg = {.value_stack_slots = 1u << 16, .max_call_depth = 400, .max_memory_pages = 16,
                         .max_table_elems = 10000, .tier = tier};
  wg_store *s = wg_store_new(NULL, &cfg);
  check(s != NULL);
  static const wg_valtype i32[] = {WG_I32};
  wg_functype_desc ft = {1, 1, i32, i32};
  wg_extern imp = {WG_EXTERN_FUNC, {.func = wg_func_new_host(s, &ft, zero_host, NULL, NULL)}};
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(s, m, &imp, 1, &err, &trap);
  wg_error_delete(err);
  wg_trap_delete(trap);
  wg_extern r;
  if (!inst || !wg_instance_export(inst, "r", 1, &r)) {
    snprintf(o->text, sizeof o->text, "no instance");
    wg_store_delete(s);
    return;
  }
  wg_functype_desc t = wg_func_type(r.of.func);
  wg_val args[8], results[4];
  memset(args, 0, sizeof args);
  for (uint32_t i = 0; i < t.nparams; i++) args[i].kind = t.params[i];
  wg_store_set_fuel(s, 20000);
  trap = wg_func_call(s, r.of.func, args, t.nparams, results, t.nresults);
  if (trap) {
    snprintf(o->text, sizeof o->text, "trap: %s", wg_trap_message(trap));
    wg_trap_delete(trap);
  } else {
    size_t at = 0;
    for (uint32_t i = 0; i < t.nresults && at < sizeof o->text - 64; i++) {
      print_val(o->text + at, sizeof o->text - at, &results[i]);
      at += strlen(o->text + at);
    }
  }
  o->fuel = wg_store_fuel(s);
  wg_extern m1;
  wg_memory *mems[2] = {wg_instance_memory(inst), wg_instance_export(inst, "m1", 2, &m1) ? m1.of.memory : NULL};
  uint64_t h = 1469598103934665603ull;
  for (int k = 0; k < 2; k++) {
    if (!mems[k]) continue;
    const uint8_t *d = wg_memory_data(mems[k]);
    for (uint64_t i = 0, n = wg_memory_size(mems[k]); i < n; i++) h = (h ^ d[i]) * 1099511628211ull;
  }
  o->mem_hash = h;
  wg_store_delete(s);
}

static void run_both(const void *mv) {
  const wg_module *m = mv;
  (void)run; /* fuzz_code's single-tier runner is not used here */
  outcome a, b;
  run_tier(m, WG_TIER_INTERP, &a);
  run_tier(m, WG_TIER_JIT, &b);
  if (strcmp(a.text, b.text) || a.fuel != b.fuel || a.mem_hash != b.mem_hash) {
    fprintf(stderr, "fuzz_jit: tiers differ\n  interpreter: %s (fuel %llu, memory %016llx)\n  jit:         %s (fuel %llu, memory %016llx)\n",
            a.text, (unsigned long long)a.fuel, (unsigned long long)a.mem_hash, b.text, (unsigned long long)b.fuel,
            (unsigned long long)b.mem_hash);
    abort();
  }
}
