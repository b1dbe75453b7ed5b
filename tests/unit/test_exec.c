/*
 * test_exec.c: the engine's runtime API (wasmgate.h) on a real module
 * (tests/fixtures/valid/exec_api.wat): host functions reaching the caller's
 * memory, host functions calling back into wasm, fuel, deadlines set off by
 * another thread, stack exhaustion, trap backtraces, the store's memory cap,
 * and argument checks of wg_func_call.
 * usage: test_exec PATH/exec_api.wasm
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "wasmgate.h"

static unsigned char *bytes;
static size_t nbytes;
static char logged[64];

typedef struct host_env {
  wg_store *store;
  wg_func *add1;
} host_env;

static wg_trap *host_log(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)results;
  wg_memory *mem = wg_instance_memory(caller);
  uint32_t ptr = (uint32_t)args[0].of.i32, len = (uint32_t)args[1].of.i32;
  if (!mem || (uint64_t)ptr + len > wg_memory_size(mem) || len >= sizeof logged)
    return wg_trap_new(WG_TRAP_HOST, "log: bad buffer");
  memcpy(logged, wg_memory_data(mem) + ptr, len);
  logged[len] = 0;
  return NULL;
}

static wg_trap *host_twice(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  host_env *h = env;
  wg_val v = args[0], r;
  for (int i = 0; i < 2; i++) {
    wg_trap *t = wg_func_call(h->store, h->add1, &v, 1, &r, 1);
    if (t) return t;
    v = r;
  }
  results[0] = v;
  return NULL;
}

typedef struct fixture {
  wg_store *store;
  wg_module *module;
  wg_instance *inst;
  host_env env;
} fixture;

static bool setup_in(fixture *fx, wg_engine *engine, const wg_store_config *cfg);
static bool setup(fixture *fx, const wg_store_config *cfg) { return setup_in(fx, NULL, cfg); }

static bool setup_in(fixture *fx, wg_engine *engine, const wg_store_config *cfg) {
  memset(fx, 0, sizeof *fx);
  wg_error *err = NULL;
  fx->module = wg_module_new(bytes, nbytes, &err);
  if (!fx->module) {
    fprintf(stderr, "module: %s\n", wg_error_message(err));
    wg_error_delete(err);
    return false;
  }
  fx->store = wg_store_new(engine, cfg);
  fx->env.store = fx->store;
  static const wg_valtype ii[] = {WG_I32, WG_I32}, i[] = {WG_I32};
  wg_functype_desc log_t = {2, 0, ii, NULL}, twice_t = {1, 1, i, i};
  wg_extern imports[2] = {
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(fx->store, &log_t, host_log, NULL, NULL)}},
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(fx->store, &twice_t, host_twice, &fx->env, NULL)}},
  };
  wg_trap *trap = NULL;
  fx->inst = wg_instance_new(fx->store, fx->module, imports, 2, &err, &trap);
  if (!fx->inst) {
    fprintf(stderr, "instantiate: %s\n", err ? wg_error_message(err) : wg_trap_message(trap));
    wg_error_delete(err);
    wg_trap_delete(trap);
    return false;
  }
  wg_extern ex;
  if (!wg_instance_export(fx->inst, "add1", 4, &ex)) return false;
  fx->env.add1 = ex.of.func;
  return true;
}

static void teardown(fixture *fx) {
  wg_store_delete(fx->store);
  wg_module_delete(fx->module);
}

static wg_func *export_func(fixture *fx, const char *name) {
  wg_extern ex;
  if (!wg_instance_export(fx->inst, name, strlen(name), &ex) || ex.kind != WG_EXTERN_FUNC) return NULL;
  return ex.of.func;
}

static wg_trap *call1(fixture *fx, const char *name, int32_t arg, int32_t *result) {
  wg_func *f = export_func(fx, name);
  wg_functype_desc t = wg_func_type(f);
  wg_val a = {.kind = WG_I32, .of.i32 = arg}, r = {0};
  wg_trap *trap = wg_func_call(fx->store, f, &a, t.nparams, &r, t.nresults);
  if (!trap && result) *result = r.of.i32;
  return trap;
}

TEST(host_reads_caller_memory) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  CHECK(call1(&fx, "greet", 0, NULL) == NULL);
  CHECK_STR(logged, "hello host");
  teardown(&fx);
}

TEST(host_calls_back_into_wasm) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  int32_t r = 0;
  CHECK(call1(&fx, "use-twice", 5, &r) == NULL);
  CHECK(r == 7);
  teardown(&fx);
}

TEST(fuel) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  CHECK(wg_store_fuel(fx.store) == UINT64_MAX);
  wg_store_set_fuel(fx.store, 1000);
  wg_trap *t = call1(&fx, "spin", 0, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_OUT_OF_FUEL);
  CHECK_STR(wg_trap_message(t), "all fuel consumed");
  wg_trap_delete(t);
  CHECK(wg_store_fuel(fx.store) == 0);
  wg_store_set_fuel(fx.store, 10);
  int32_t r = 0;
  CHECK(call1(&fx, "add1", 41, &r) == NULL && r == 42);
  CHECK(wg_store_fuel(fx.store) == 9); /* one function entry */
  wg_store_disable_fuel(fx.store);
  CHECK(call1(&fx, "add1", 1, &r) == NULL && r == 2);
  teardown(&fx);
}

static void *ticker(void *arg) {
  (void)arg;
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  wg_engine_increment_epoch(NULL);
  return NULL;
}

TEST(deadline_interrupts_tight_loop) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  wg_store_set_deadline(fx.store, 1);
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, ticker, NULL) == 0);
  wg_trap *t = call1(&fx, "spin", 0, NULL);
  pthread_join(th, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_INTERRUPTED);
  CHECK_STR(wg_trap_message(t), "interrupted");
  wg_trap_delete(t);
  wg_store_clear_deadline(fx.store);
  int32_t r = 0;
  CHECK(call1(&fx, "add1", 1, &r) == NULL && r == 2);
  teardown(&fx);
}

static void *interrupter(void *store) {
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  wg_store_interrupt(store);
  return NULL;
}

/* wg_store_interrupt from another thread stops a guest long before its
 * deadline (no epoch passes meanwhile); a later wg_store_set_deadline
 * rearms the store. */
TEST(interrupt_from_another_thread) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  wg_store_set_deadline(fx.store, UINT64_MAX / 2); /* far away: checks on, never reached */
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, interrupter, fx.store) == 0);
  wg_trap *t = call1(&fx, "spin", 0, NULL);
  pthread_join(th, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_INTERRUPTED);
  wg_trap_delete(t);
  int32_t r = 0;
  t = call1(&fx, "add1", 1, &r); /* still interrupted */
  CHECK(t != NULL && wg_trap_code_of(t) == WG_TRAP_INTERRUPTED);
  wg_trap_delete(t);
  wg_store_set_deadline(fx.store, 1000000);
  CHECK(call1(&fx, "add1", 1, &r) == NULL && r == 2);
  teardown(&fx);
}

/* Deadlines follow the store's own engine, not the default one; the engine's
 * defaults become the store's limits. */
TEST(engines_have_their_own_epochs_and_defaults) {
  wg_engine *e = wg_engine_new(&(wg_store_config){.max_memory_pages = 2});
  REQUIRE(e != NULL);
  fixture fx;
  REQUIRE(setup_in(&fx, e, NULL));
  int32_t r = 0;
  CHECK(call1(&fx, "grow", 2, &r) == NULL && r == -1); /* 1 + 2 > the engine's cap of 2 pages */
  wg_store_set_deadline(fx.store, 1);
  wg_engine_increment_epoch(NULL); /* the default engine: not this store's */
  wg_store_set_fuel(fx.store, 5000);
  wg_trap *t = call1(&fx, "spin", 0, NULL);
  CHECK(t != NULL && wg_trap_code_of(t) == WG_TRAP_OUT_OF_FUEL);
  wg_trap_delete(t);
  uint64_t before = wg_engine_epoch(e);
  wg_engine_increment_epoch(e);
  CHECK(wg_engine_epoch(e) == before + 1);
  wg_store_set_fuel(fx.store, 5000);
  t = call1(&fx, "spin", 0, NULL);
  CHECK(t != NULL && wg_trap_code_of(t) == WG_TRAP_INTERRUPTED);
  wg_trap_delete(t);
  teardown(&fx);
  wg_engine_delete(e);
}

TEST(stack_exhaustion_is_a_trap) {
  fixture fx;
  wg_store_config cfg = {.max_call_depth = 500};
  REQUIRE(setup(&fx, &cfg));
  wg_trap *t = call1(&fx, "deep", 0, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_STACK_EXHAUSTED);
  CHECK_STR(wg_trap_message(t), "call stack exhausted");
  wg_trap_delete(t);
  int32_t r = 0;
  CHECK(call1(&fx, "add1", 1, &r) == NULL && r == 2); /* the store is still usable */
  teardown(&fx);
}

TEST(value_stack_exhaustion_is_a_trap) {
  fixture fx;
  wg_store_config cfg = {.value_stack_slots = 4096};
  REQUIRE(setup(&fx, &cfg));
  wg_trap *t = call1(&fx, "deep", 0, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_STACK_EXHAUSTED);
  wg_trap_delete(t);
  teardown(&fx);
}

TEST(backtrace_names_frames) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  wg_trap *t = call1(&fx, "nested-trap", 0, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_UNREACHABLE);
  const char *bt = wg_trap_backtrace(t);
  const char *inner = strstr(bt, "at inner"), *middle = strstr(bt, "at middle");
  CHECK(inner != NULL && middle != NULL && inner < middle);
  if (!inner || !middle) fprintf(stderr, "backtrace:\n%s", bt);
  wg_trap_delete(t);
  teardown(&fx);
}

/* Frames: instance, function and instruction offsets, innermost first
 * (offsets as `wasm-objdump -d` gives them: each body here starts with an
 * empty locals vector, so its first instruction is at func_offset 1). */
TEST(trap_frames_have_offsets) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  wg_trap *t = call1(&fx, "nested-trap", 0, NULL);
  REQUIRE(t != NULL);
  REQUIRE(wg_trap_frame_count(t) == 3);
  wg_trap_frame_info fi[3];
  for (size_t i = 0; i < 3; i++) CHECK(wg_trap_frame(t, i, &fi[i]));
  CHECK(!wg_trap_frame(t, 3, &fi[0]));
  CHECK(fi[0].func_index == 7 && fi[1].func_index == 8 && fi[2].func_index == 9); /* inner, middle, nested-trap */
  for (size_t i = 0; i < 3; i++) {
    CHECK(fi[i].instance == fx.inst);
    CHECK(fi[i].func_offset == 1 && fi[i].module_offset > fi[i].func_offset);
  }
  CHECK(fi[0].module_offset < fi[1].module_offset && fi[1].module_offset < fi[2].module_offset);
  wg_trap_delete(t);

  /* Out of fuel in a loop: the frame is at the loop (offset 1), not at the br. */
  wg_store_set_fuel(fx.store, 50);
  t = call1(&fx, "spin", 0, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_OUT_OF_FUEL);
  CHECK(wg_trap_frame_count(t) == 1 && wg_trap_frame(t, 0, &fi[0]) && fi[0].func_offset == 1);
  wg_trap_delete(t);
  wg_store_disable_fuel(fx.store);

  /* A host-made trap has no frames until a host appends some. */
  t = wg_trap_new(WG_TRAP_HOST, "re-raised");
  CHECK(wg_trap_frame_count(t) == 0);
  wg_trap_frame_info mine = {fx.inst, 7, 3, 99};
  CHECK(wg_trap_append_frame(t, &mine));
  CHECK(wg_trap_frame_count(t) == 1 && wg_trap_frame(t, 0, &fi[0]) && fi[0].module_offset == 99);
  wg_trap_delete(t);
  teardown(&fx);
}

TEST(memory_cap) {
  fixture fx;
  wg_store_config cfg = {.max_memory_pages = 2};
  REQUIRE(setup(&fx, &cfg));
  int32_t r = 0;
  CHECK(call1(&fx, "grow", 1, &r) == NULL && r == 1);
  CHECK(call1(&fx, "grow", 1, &r) == NULL && r == -1);
  CHECK(call1(&fx, "grow", 0, &r) == NULL && r == 2);
  CHECK(wg_memory_size(wg_instance_memory(fx.inst)) == 2 * 65536);
  teardown(&fx);
}

/* A store's memory is recycled for the next one with the same reservation
 * (store.c): the next memory must be all zero, of its own size, and grow
 * into zero pages, whatever the previous owner wrote and however far it grew. */
TEST(recycled_memory_is_fresh) {
  wg_store_config cfg = {.max_memory_pages = 8};
  wg_store *s1 = wg_store_new(NULL, &cfg);
  REQUIRE(s1 != NULL);
  wg_memory *m1 = wg_memory_new(s1, 1, false, 0);
  REQUIRE(m1 != NULL);
  CHECK(wg_memory_grow(m1, 2) == 1);
  uint8_t *d1 = wg_memory_data(m1);
  memset(d1, 0xAB, 3 * 65536);
  wg_store_delete(s1);

  wg_store *s2 = wg_store_new(NULL, &cfg);
  REQUIRE(s2 != NULL);
  wg_memory *m2 = wg_memory_new(s2, 1, false, 0);
  REQUIRE(m2 != NULL);
  uint8_t *d2 = wg_memory_data(m2);
  CHECK(d2 == d1); /* the same reservation, recycled */
  CHECK(wg_memory_size(m2) == 65536);
  size_t nonzero = 0;
  for (size_t i = 0; i < 65536; i++) nonzero += d2[i] != 0;
  CHECK(nonzero == 0);
  CHECK(wg_memory_grow(m2, 4) == 1);
  CHECK(wg_memory_size(m2) == 5 * 65536);
  d2 = wg_memory_data(m2);
  for (size_t i = 0; i < 5 * 65536; i++) nonzero += d2[i] != 0;
  CHECK(nonzero == 0);
  d2[5 * 65536 - 1] = 1; /* the grown pages are writable */
  CHECK(wg_memory_grow(m2, 4) == -1); /* the store's cap still holds */
  wg_store_delete(s2);
}

TEST(call_argument_checks) {
  fixture fx;
  REQUIRE(setup(&fx, NULL));
  wg_func *f = export_func(&fx, "add1");
  wg_val a = {.kind = WG_I64, .of.i64 = 1}, r;
  wg_trap *t = wg_func_call(fx.store, f, &a, 1, &r, 1);
  CHECK(t != NULL && wg_trap_code_of(t) == WG_TRAP_HOST);
  wg_trap_delete(t);
  t = wg_func_call(fx.store, f, NULL, 0, &r, 1);
  CHECK(t != NULL);
  wg_trap_delete(t);
  teardown(&fx);
}

TEST(link_errors) {
  wg_error *err = NULL;
  wg_module *m = wg_module_new(bytes, nbytes, &err);
  REQUIRE(m != NULL);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_trap *trap = NULL;
  CHECK(wg_instance_new(s, m, NULL, 0, &err, &trap) == NULL);
  CHECK(err != NULL && trap == NULL);
  wg_error_delete(err);
  err = NULL;
  wg_memory *mem = wg_memory_new(s, 1, false, 0);
  wg_extern wrong[2] = {{WG_EXTERN_MEMORY, {.memory = mem}}, {WG_EXTERN_MEMORY, {.memory = mem}}};
  CHECK(wg_instance_new(s, m, wrong, 2, &err, &trap) == NULL);
  CHECK(err != NULL && strstr(wg_error_message(err), "incompatible import type") != NULL);
  wg_error_delete(err);
  wg_store_delete(s);
  wg_module_delete(m);
}

/* Import matching uses the declared limits, not the store's growth cap: a
 * memory declared 1..2 in a store capped at 2 pages has a maximum. */
TEST(import_limits_are_the_declared_ones) {
  /* (module (import "e" "m" (memory 1 3))) */
  static const uint8_t mod[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 2, 9, 1, 1, 'e', 1, 'm', 2, 1, 1, 3};
  wg_module *m = wg_module_new(mod, sizeof mod, NULL);
  REQUIRE(m != NULL);
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.max_memory_pages = 2});
  wg_extern with_max = {WG_EXTERN_MEMORY, {.memory = wg_memory_new(s, 1, true, 2)}};
  wg_extern no_max = {WG_EXTERN_MEMORY, {.memory = wg_memory_new(s, 1, false, 0)}};
  wg_error *err = NULL;
  CHECK(wg_instance_new(s, m, &with_max, 1, &err, NULL) != NULL);
  wg_error_delete(err);
  err = NULL;
  CHECK(wg_instance_new(s, m, &no_max, 1, &err, NULL) == NULL);
  CHECK(err != NULL && strstr(wg_error_message(err), "incompatible import type") != NULL);
  wg_error_delete(err);
  wg_store_delete(s);
  wg_module_delete(m);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_exec exec_api.wasm\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  bytes = malloc(1 << 20);
  nbytes = fread(bytes, 1, 1 << 20, f);
  fclose(f);
  RUN(host_reads_caller_memory);
  RUN(host_calls_back_into_wasm);
  RUN(fuel);
  RUN(deadline_interrupts_tight_loop);
  RUN(interrupt_from_another_thread);
  RUN(engines_have_their_own_epochs_and_defaults);
  RUN(stack_exhaustion_is_a_trap);
  RUN(value_stack_exhaustion_is_a_trap);
  RUN(backtrace_names_frames);
  RUN(trap_frames_have_offsets);
  RUN(memory_cap);
  RUN(recycled_memory_is_fresh);
  RUN(call_argument_checks);
  RUN(link_errors);
  RUN(import_limits_are_the_declared_ones);
  free(bytes);
  return test_summary();
}
