/*
 * test_jit.c: the compiled tier (engine/src/jit*.c) against the interpreter
 * on tests/fixtures/valid/jit.wat. Every export t_* : (i32) -> i64 runs on a
 * store of each tier for a range of arguments, under fuel; both must give
 * the same result, or the same trap message and backtrace, and leave the
 * same fuel (fuel is consumed at the same points). The test also checks
 * that the compiled tier did compile what it ran (white-box), that
 * unbounded recursion in compiled code traps "call stack exhausted" when
 * the C stack (not the frame limit) runs out, and that a store's deadline
 * interrupts a compiled loop.
 * usage: test_jit PATH/jit.wasm
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime.h"
#include "test.h"
#include "wasmgate.h"

static wg_module *module;
static unsigned char bytes[1 << 16];
static size_t nbytes;

static wg_trap *host_twice(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller;
  results[0].of.i32 = args[0].of.i32 * 2;
  return NULL;
}

typedef struct tier {
  wg_store *s;
  wg_instance *inst;
} tier;

static bool open_tier(tier *t, uint32_t which, const wg_store_config *base) {
  wg_store_config cfg = base ? *base : (wg_store_config){0};
  cfg.tier = which;
  t->s = wg_store_new(NULL, &cfg);
  if (!t->s) return false;
  static const wg_valtype i[] = {WG_I32};
  wg_functype_desc ft = {1, 1, i, i};
  wg_extern imp = {WG_EXTERN_FUNC, {.func = wg_func_new_host(t->s, &ft, host_twice, NULL, NULL)}};
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  t->inst = wg_instance_new(t->s, module, &imp, 1, &err, &trap);
  wg_error_delete(err);
  wg_trap_delete(trap);
  return t->inst != NULL;
}

static wg_func *export_fn(tier *t, const char *name) {
  wg_extern ex;
  return wg_instance_export(t->inst, name, strlen(name), &ex) && ex.kind == WG_EXTERN_FUNC ? ex.of.func : NULL;
}

/* One call: "result N" or "trap MESSAGE\nBACKTRACE", and the fuel left. */
static void run1(tier *t, const char *name, int32_t arg, char *out, size_t n, uint64_t *fuel) {
  wg_func *f = export_fn(t, name);
  wg_store_set_fuel(t->s, 5000000);
  wg_val a = {.kind = WG_I32, .of.i32 = arg}, r = {.kind = WG_I64};
  wg_trap *trap = wg_func_call(t->s, f, &a, 1, &r, 1);
  if (trap) snprintf(out, n, "trap %s\n%s", wg_trap_message(trap), wg_trap_backtrace(trap));
  else snprintf(out, n, "result %lld", (long long)r.of.i64);
  wg_trap_delete(trap);
  *fuel = wg_store_fuel(t->s);
}

static const char *const exports[] = {"t_int", "t_div", "t_float", "t_mem", "t_ctl", "t_fib", "t_unreachable", "t_callgrow",
                                      "t_pins", "t_simdcall", "t_refusedcall", "t_regops"};

TEST(same_results_traps_and_fuel) {
  static const int32_t args[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 17, 64, 100, 1000, 65535, 65536, 70000, -1};
  for (size_t e = 0; e < sizeof exports / sizeof *exports; e++) {
    for (size_t k = 0; k < sizeof args / sizeof *args; k++) {
      if (!strcmp(exports[e], "t_fib") && args[k] > 25) continue;
      tier in, jt; /* fresh stores: t_mem grows memory and t_ctl updates a global */
      REQUIRE(open_tier(&in, WG_TIER_INTERP, NULL) && open_tier(&jt, WG_TIER_JIT, NULL));
      char a[4096], b[4096];
      uint64_t fa, fb;
      run1(&in, exports[e], args[k], a, sizeof a, &fa);
      run1(&jt, exports[e], args[k], b, sizeof b, &fb);
      if (strcmp(a, b) || fa != fb)
        fprintf(stderr, "%s(%d): interpreter '%s' fuel %llu, jit '%s' fuel %llu\n", exports[e], args[k], a,
                (unsigned long long)fa, b, (unsigned long long)fb);
      CHECK(!strcmp(a, b));
      CHECK(fa == fb);
      wg_store_delete(in.s);
      wg_store_delete(jt.s);
    }
  }
}

/* wg_store_jit_fallbacks: calls that ran on the interpreter because the
 * compiled tier refused the function are counted, with the reason; SIMD
 * functions are compiled (none counted); an interpreter store counts none. */
TEST(fallbacks_counted) {
#if defined(__x86_64__) && defined(__linux__)
  tier jt, in;
  REQUIRE(open_tier(&jt, WG_TIER_JIT, NULL) && open_tier(&in, WG_TIER_INTERP, NULL));
  char out[4096];
  uint64_t fuel;
  const char *why = "unset";
  run1(&jt, "t_simdcall", 5, out, sizeof out, &fuel);
  CHECK(wg_store_jit_fallbacks(jt.s, &why) == 0);
  CHECK(why == NULL);
  run1(&jt, "t_refusedcall", 5, out, sizeof out, &fuel);
  CHECK(wg_store_jit_fallbacks(jt.s, &why) >= 1);
  CHECK(why && strstr(why, "not supported"));
  run1(&in, "t_refusedcall", 5, out, sizeof out, &fuel);
  CHECK(wg_store_jit_fallbacks(in.s, NULL) == 0);
  wg_store_delete(jt.s);
  wg_store_delete(in.s);
#endif
}

TEST(compiled_tier_compiled_them) {
#if defined(__x86_64__) && defined(__linux__)
  tier jt;
  REQUIRE(open_tier(&jt, WG_TIER_JIT, NULL));
  for (size_t e = 0; e < sizeof exports / sizeof *exports; e++) {
    char out[4096];
    uint64_t fuel;
    run1(&jt, exports[e], 4, out, sizeof out, &fuel);
    wg_func *f = export_fn(&jt, exports[e]);
    const wg_code *code = wg_compile_func(f->inst->module, f->index, NULL);
    CHECK(code && atomic_load(&((wg_code *)code)->jit) != NULL);
  }
  wg_store_delete(jt.s);
#endif
}

/* With call depth and value stack limits far above what the C stack holds
 * (8 MiB of C stack is about 260,000 compiled frames), compiled recursion
 * must stop at its own stack guard with the interpreter's trap, and the
 * store stays usable. */
TEST(deep_recursion_traps) {
  wg_store_config cfg = {.max_call_depth = 5000000, .value_stack_slots = 1u << 24};
  tier jt;
  REQUIRE(open_tier(&jt, WG_TIER_JIT, &cfg));
  wg_val a = {.kind = WG_I32, .of.i32 = 0}, r = {.kind = WG_I32};
  wg_trap *trap = wg_func_call(jt.s, export_fn(&jt, "down"), &a, 1, &r, 1);
  CHECK(trap && wg_trap_code_of(trap) == WG_TRAP_STACK_EXHAUSTED);
  CHECK(trap && !strcmp(wg_trap_message(trap), "call stack exhausted"));
  wg_trap_delete(trap);
  wg_val b = {.kind = WG_I32, .of.i32 = 20}, r2 = {.kind = WG_I64};
  trap = wg_func_call(jt.s, export_fn(&jt, "t_fib"), &b, 1, &r2, 1);
  CHECK(!trap && r2.of.i64 == 6765);
  wg_trap_delete(trap);
  wg_store_delete(jt.s);
}

/* The same on a thread with a small stack (256 KiB, as some libraries'
 * worker threads have): the guard adapts to the thread's own stack. */
static void *recurse_on_thread(void *arg) {
  tier *t = arg;
  wg_val a = {.kind = WG_I32, .of.i32 = 0}, r = {.kind = WG_I32};
  return wg_func_call(t->s, export_fn(t, "down"), &a, 1, &r, 1);
}

TEST(deep_recursion_on_small_thread_stack) {
  wg_store_config cfg = {.max_call_depth = 5000000, .value_stack_slots = 1u << 24};
  tier jt;
  REQUIRE(open_tier(&jt, WG_TIER_JIT, &cfg));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t th;
  void *ret = NULL;
  REQUIRE(pthread_create(&th, &attr, recurse_on_thread, &jt) == 0);
  pthread_join(th, &ret);
  pthread_attr_destroy(&attr);
  wg_trap *trap = ret;
  CHECK(trap && wg_trap_code_of(trap) == WG_TRAP_STACK_EXHAUSTED);
  wg_trap_delete(trap);
  wg_store_delete(jt.s);
}

/* Callees the compiled tier refuses (marked as failed, as a function with
 * an unsupported instruction is): compiled callers hand their frame to the
 * interpreter at the call (deoptimisation) and the results, traps and fuel
 * stay the interpreter's. Functions 1 ($sq, called directly and through the
 * table by t_ctl) and 8 ($fib, recursive, called by t_fib). */
TEST(deopt_to_interpreter) {
  wg_module *saved = module;
  size_t n;
  const uint8_t *b = wg_module_binary(saved, &n);
  wg_module *m2 = wg_module_new(b, n, NULL);
  REQUIRE(m2);
  static const uint32_t refused[] = {1, 8};
  for (size_t k = 0; k < 2; k++) {
    wg_code *c = (wg_code *)wg_compile_func(m2, refused[k], NULL);
    REQUIRE(c);
    atomic_store(&c->jit_failed, true);
  }
  static const char *const names[] = {"t_ctl", "t_fib"};
  static const int32_t args[] = {0, 1, 3, 7, 12, 20};
  for (size_t e = 0; e < 2; e++)
    for (size_t k = 0; k < sizeof args / sizeof *args; k++) {
      tier in, jt;
      module = saved;
      REQUIRE(open_tier(&in, WG_TIER_INTERP, NULL));
      module = m2;
      REQUIRE(open_tier(&jt, WG_TIER_JIT, NULL));
      char x[4096], y[4096];
      uint64_t fx, fy;
      run1(&in, names[e], args[k], x, sizeof x, &fx);
      run1(&jt, names[e], args[k], y, sizeof y, &fy);
      if (strcmp(x, y) || fx != fy) fprintf(stderr, "%s(%d): '%s' %llu vs '%s' %llu\n", names[e], args[k], x,
                                            (unsigned long long)fx, y, (unsigned long long)fy);
      CHECK(!strcmp(x, y) && fx == fy);
      wg_store_delete(in.s);
      wg_store_delete(jt.s);
    }
  /* The callers were compiled, the refused callees were not. */
  CHECK(atomic_load(&((wg_code *)wg_compile_func(m2, 9, NULL))->jit) != NULL);
  CHECK(atomic_load(&((wg_code *)wg_compile_func(m2, 8, NULL))->jit) == NULL);
  module = saved;
  wg_module_delete(m2);
}

/* A deadline already passed interrupts the compiled loop at its first
 * check, as the interpreter's. */
TEST(deadline_interrupts_compiled_loop) {
  tier jt;
  REQUIRE(open_tier(&jt, WG_TIER_JIT, NULL));
  wg_store_interrupt(jt.s);
  wg_val a = {.kind = WG_I32, .of.i32 = 1000000000}, r = {.kind = WG_I64};
  wg_trap *trap = wg_func_call(jt.s, export_fn(&jt, "t_int"), &a, 1, &r, 1);
  CHECK(trap && wg_trap_code_of(trap) == WG_TRAP_INTERRUPTED);
  wg_trap_delete(trap);
  wg_store_delete(jt.s);
}

/* The mapping of /proc/self/maps holding address p: its bounds and
 * permissions ("r-xp"); false when none does. */
static bool mapping_of(const void *p, uintptr_t *lo, uintptr_t *hi, char perms[5]) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return false;
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx %4s", &a, &b, perms) == 3 && (uintptr_t)p >= a && (uintptr_t)p < b) {
      *lo = a, *hi = b;
      found = true;
    }
  }
  fclose(f);
  return found;
}

/* No mapping of the process is writable and executable at once. */
static bool no_wx_mapping(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return false;
  char line[512], perms[5];
  bool ok = true;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx %4s", &a, &b, perms) == 3 && perms[1] == 'w' && perms[2] == 'x') ok = false;
  }
  fclose(f);
  return ok;
}

/* A small module is compiled whole at its first call into one read-execute
 * mapping (code packing, jit.c): functions not called yet have their code
 * too, all entries lie in the same mapping, nothing is ever writable and
 * executable, and the mapping goes away with the module. */
TEST(module_compiled_into_one_block) {
#if defined(__x86_64__) && defined(__linux__)
  wg_error *err = NULL;
  wg_module *m = wg_module_new(bytes, nbytes, &err);
  REQUIRE(m);
  wg_store_config cfg = {.tier = WG_TIER_JIT};
  wg_store *s = wg_store_new(NULL, &cfg);
  REQUIRE(s);
  static const wg_valtype i[] = {WG_I32};
  wg_functype_desc ft = {1, 1, i, i};
  wg_extern imp = {WG_EXTERN_FUNC, {.func = wg_func_new_host(s, &ft, host_twice, NULL, NULL)}};
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(s, m, &imp, 1, &err, &trap);
  REQUIRE(inst);
  wg_extern ex;
  REQUIRE(wg_instance_export(inst, "t_int", 5, &ex) && ex.kind == WG_EXTERN_FUNC);
  wg_val a = {.kind = WG_I32, .of.i32 = 3}, r = {.kind = WG_I64};
  trap = wg_func_call(s, ex.of.func, &a, 1, &r, 1);
  CHECK(!trap);
  wg_trap_delete(trap);
  uintptr_t lo = 0, hi = 0;
  char perms[5] = "";
  uint32_t compiled = 0;
  for (uint32_t k = 0; k < m->nfuncs - m->nfunc_imports; k++) {
    wg_code *c = atomic_load(&m->codes[k]);
    void *e = c ? atomic_load(&c->jit) : NULL;
    if (!e) continue;
    uintptr_t l, h;
    char p[5];
    CHECK(mapping_of(e, &l, &h, p));
    CHECK(!strcmp(p, "r-xp"));
    if (compiled++ == 0) lo = l, hi = h, memcpy(perms, p, 5);
    CHECK(l == lo && h == hi);
  }
  CHECK(compiled >= 8); /* every t_* export and what they call, not only t_int */
  CHECK(no_wx_mapping());
  wg_store_delete(s);
  wg_module_delete(m);
  char p[5];
  uintptr_t l, h;
  CHECK(!mapping_of((void *)lo, &l, &h, p) || strcmp(p, "r-xp") || l != lo || h != hi);
#endif
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_jit jit.wasm\n"), 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  size_t n = nbytes = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  wg_error *err = NULL;
  module = wg_module_new(bytes, n, &err);
  if (!module) return fprintf(stderr, "%s\n", wg_error_message(err)), 1;
  RUN(same_results_traps_and_fuel);
  RUN(compiled_tier_compiled_them);
  RUN(fallbacks_counted);
  RUN(deep_recursion_traps);
  RUN(deep_recursion_on_small_thread_stack);
  RUN(deopt_to_interpreter);
  RUN(deadline_interrupts_compiled_loop);
  RUN(module_compiled_into_one_block);
  wg_module_delete(module);
  return test_summary();
}
