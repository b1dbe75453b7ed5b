/*
 * test_suspend.c: parking a guest at a host call and resuming it
 * (wasmgate.h "suspending and resuming guests") on
 * tests/fixtures/valid/suspend.wat: results delivered on resume, wasm frames
 * and memory kept across a suspension, many stores parked at once and
 * resumed in another order, calls refused while suspended, abandon, nested
 * activations that cannot park, multi-value results, and time slices
 * (yield at the epoch deadline). Run under ASan in `make test SANITIZE=1`.
 * usage: test_suspend PATH/suspend.wasm
 */
#include <stdlib.h>

#include "test.h"
#include "wasmgate.h"

static unsigned char *bytes;
static size_t nbytes;
static wg_module *module;

/* The host's side of one store: the argument of the parked get(), and
 * whether get() parks or answers at once. */
typedef struct env {
  wg_store *store;
  wg_instance *inst;
  bool park;
  int32_t arg;
  int calls;
} env;

static wg_trap *host_get(void *p, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  env *e = p;
  e->calls++;
  e->arg = args[0].of.i32;
  if (e->park) return wg_trap_new(WG_TRAP_SUSPENDED, NULL);
  results[0].of.i32 = e->arg * 2;
  return NULL;
}

static wg_trap *host_reenter(void *p, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  env *e = p;
  wg_extern ex;
  wg_instance_export(e->inst, "run", 3, &ex);
  wg_val r = {.kind = WG_I32};
  wg_trap *t = wg_func_call(e->store, ex.of.func, args, 1, &r, 1);
  if (t) return t;
  results[0] = r;
  return NULL;
}

static bool setup(env *e) {
  memset(e, 0, sizeof *e);
  e->store = wg_store_new(NULL, NULL);
  static const wg_valtype i[] = {WG_I32};
  wg_functype_desc t = {1, 1, i, i};
  wg_extern imports[2] = {
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(e->store, &t, host_get, e, NULL)}},
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(e->store, &t, host_reenter, e, NULL)}},
  };
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  e->inst = wg_instance_new(e->store, module, imports, 2, &err, &trap);
  wg_error_delete(err);
  wg_trap_delete(trap);
  return e->inst != NULL;
}

static wg_func *fn(env *e, const char *name) {
  wg_extern ex;
  if (!wg_instance_export(e->inst, name, strlen(name), &ex)) return NULL;
  return ex.of.func;
}

static wg_trap *call(env *e, const char *name, int32_t arg, int32_t *out) {
  wg_val a = {.kind = WG_I32, .of.i32 = arg}, r = {.kind = WG_I32};
  wg_trap *t = wg_func_call(e->store, fn(e, name), &a, 1, &r, 1);
  if (!t) *out = r.of.i32;
  return t;
}

/* Resumes with get()'s answer (arg * 2) until the call completes; returns the number of resumes. */
static int drive(env *e, wg_trap *t, int32_t *out) {
  int n = 0;
  while (t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED) {
    wg_trap_delete(t);
    CHECK(wg_store_suspended(e->store));
    wg_val hv = {.kind = WG_I32, .of.i32 = e->arg * 2}, r = {.kind = WG_I32};
    t = wg_func_resume(e->store, &hv, 1, &r, 1);
    n++;
    if (!t) *out = r.of.i32;
  }
  CHECK(t == NULL);
  if (t) {
    fprintf(stderr, "trap: %s\n", wg_trap_message(t));
    wg_trap_delete(t);
  }
  CHECK(!wg_store_suspended(e->store));
  return n;
}

TEST(resume_delivers_host_results) {
  env e;
  REQUIRE(setup(&e));
  int32_t direct = 0, parked = 0;
  CHECK(call(&e, "run", 10, &direct) == NULL);
  CHECK(direct == 90); /* 2 * (0 + ... + 9) */
  e.park = true;
  wg_trap *t = call(&e, "run", 10, &parked);
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  CHECK_STR(wg_trap_message(t), "suspended");
  CHECK(drive(&e, t, &parked) == 10);
  CHECK(parked == 90);
  wg_store_delete(e.store);
}

TEST(frames_survive_a_suspension) {
  env e;
  REQUIRE(setup(&e));
  e.park = true;
  int32_t out = 0;
  wg_trap *t = call(&e, "deep", 500, &out); /* 501 wasm frames parked */
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  CHECK(e.arg == 100);
  CHECK(drive(&e, t, &out) == 1);
  CHECK(out == 200 + 500);
  wg_store_delete(e.store);
}

TEST(many_stores_parked_resume_in_any_order) {
  enum { N = 64 };
  env *e = calloc(N, sizeof *e);
  REQUIRE(e);
  for (int i = 0; i < N; i++) {
    REQUIRE(setup(&e[i]));
    e[i].park = true;
    int32_t out;
    wg_trap *t = call(&e[i], "deep", i, &out);
    CHECK(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
    wg_trap_delete(t);
  }
  for (int k = N - 1; k >= 0; k--) { /* last parked, first resumed */
    wg_val hv = {.kind = WG_I32, .of.i32 = 1000 + k}, r = {.kind = WG_I32};
    wg_trap *t = wg_func_resume(e[k].store, &hv, 1, &r, 1);
    CHECK(t == NULL);
    wg_trap_delete(t);
    CHECK(r.of.i32 == 1000 + k + k);
  }
  for (int i = 0; i < N; i++) wg_store_delete(e[i].store);
  free(e);
}

TEST(suspended_store_refuses_calls_until_abandoned) {
  env e;
  REQUIRE(setup(&e));
  e.park = true;
  int32_t out = 0;
  wg_trap *t = call(&e, "deep", 20, &out);
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  wg_trap_delete(t);
  t = call(&e, "run", 1, &out);
  CHECK(t && wg_trap_code_of(t) == WG_TRAP_HOST);
  wg_trap_delete(t);
  /* wrong result counts and kinds are refused and keep the call parked */
  wg_val bad = {.kind = WG_I64, .of.i64 = 1}, r = {.kind = WG_I32};
  t = wg_func_resume(e.store, &bad, 1, &r, 1);
  CHECK(t && wg_trap_code_of(t) == WG_TRAP_HOST);
  wg_trap_delete(t);
  t = wg_func_resume(e.store, NULL, 0, &r, 1);
  CHECK(t && wg_trap_code_of(t) == WG_TRAP_HOST);
  wg_trap_delete(t);
  CHECK(wg_store_suspended(e.store));
  wg_store_abandon(e.store);
  CHECK(!wg_store_suspended(e.store));
  t = wg_func_resume(e.store, NULL, 0, &r, 1);
  CHECK(t && wg_trap_code_of(t) == WG_TRAP_HOST); /* nothing to resume */
  wg_trap_delete(t);
  e.park = false;
  CHECK(call(&e, "run", 4, &out) == NULL);
  CHECK(out == 12);
  wg_store_delete(e.store);
}

TEST(nested_activation_cannot_park) {
  env e;
  REQUIRE(setup(&e));
  e.park = true;
  int32_t out = 0;
  wg_trap *t = call(&e, "nested", 3, &out);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_HOST);
  CHECK(strstr(wg_trap_message(t), "cannot suspend") != NULL);
  CHECK(!wg_store_suspended(e.store));
  wg_trap_delete(t);
  e.park = false; /* the store is usable afterwards */
  CHECK(call(&e, "nested", 3, &out) == NULL);
  CHECK(out == 6);
  wg_store_delete(e.store);
}

TEST(multi_value_results_after_resume) {
  env e;
  REQUIRE(setup(&e));
  e.park = true;
  wg_val a = {.kind = WG_I32, .of.i32 = 7}, r[2] = {{.kind = WG_I32}, {.kind = WG_I64}};
  wg_trap *t = wg_func_call(e.store, fn(&e, "pair"), &a, 1, r, 2);
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  wg_trap_delete(t);
  wg_val hv = {.kind = WG_I32, .of.i32 = 41};
  t = wg_func_resume(e.store, &hv, 1, r, 2);
  CHECK(t == NULL);
  CHECK(r[0].of.i32 == 41 && r[1].of.i64 == 21);
  wg_store_delete(e.store);
}

TEST(time_slices_yield_and_resume) {
  env e;
  REQUIRE(setup(&e));
  int32_t out = 0;
  /* without yield, a reached deadline traps */
  wg_store_set_deadline(e.store, 1);
  wg_engine_increment_epoch(NULL);
  wg_trap *t = call(&e, "spin", 1000, &out);
  CHECK(t && wg_trap_code_of(t) == WG_TRAP_INTERRUPTED);
  wg_trap_delete(t);
  /* with yield, it parks at the loop and continues where it was */
  wg_store_set_yield(e.store, true);
  wg_store_set_deadline(e.store, 1);
  wg_engine_increment_epoch(NULL);
  t = call(&e, "spin", 100000, &out);
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_YIELDED);
  CHECK_STR(wg_trap_message(t), "yielded");
  wg_trap_delete(t);
  int slices = 1;
  wg_val r = {.kind = WG_I32};
  /* each resume runs one more slice: the deadline is reached again at once */
  for (; slices < 3; slices++) {
    t = wg_func_resume(e.store, NULL, 0, &r, 1);
    CHECK(t && wg_trap_code_of(t) == WG_TRAP_YIELDED);
    wg_trap_delete(t);
  }
  wg_store_clear_deadline(e.store);
  t = wg_func_resume(e.store, NULL, 0, &r, 1);
  CHECK(t == NULL);
  CHECK(r.of.i32 == 100000);
  wg_store_delete(e.store);
}

TEST(deleting_a_parked_store) {
  env e;
  REQUIRE(setup(&e));
  e.park = true;
  int32_t out;
  wg_trap *t = call(&e, "deep", 100, &out);
  CHECK(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  wg_trap_delete(t);
  wg_store_delete(e.store); /* no leak, no crash (ASan) */
}

/* wg_func_resume_with's fill runs in the parked host function's place: it may call into the
 * instance (a nested activation above the parked frames, as a guest allocator is called to place
 * an answer) and its trap unwinds the parked call. */
static wg_trap *fill_nested(void *p, wg_val *hv, size_t n) {
  env *e = p;
  int32_t got = 0;
  e->park = false; /* the nested run's get() answers at once (it could not park) */
  wg_trap *t = call(e, "run", 4, &got);
  if (t) return t;
  CHECK(n == 1);
  hv[0].of.i32 = got; /* 2 * (0 + 1 + 2 + 3) = 12 */
  return NULL;
}
static wg_trap *fill_trap(void *p, wg_val *hv, size_t n) {
  (void)p, (void)hv, (void)n;
  return wg_trap_new(WG_TRAP_HOST, "no answer");
}

TEST(resume_with_calls_into_the_parked_instance) {
  env e;
  REQUIRE(setup(&e));
  e.park = true;
  int32_t out = 0;
  wg_trap *t = call(&e, "deep", 50, &out); /* 51 frames parked */
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  wg_trap_delete(t);
  wg_val r = {.kind = WG_I32};
  t = wg_func_resume_with(e.store, fill_nested, &e, &r, 1);
  CHECK(t == NULL);
  CHECK(r.of.i32 == 12 + 50);
  CHECK(!wg_store_suspended(e.store));
  /* a trap from fill unwinds the parked call; the store runs new calls afterwards */
  e.park = true;
  t = call(&e, "deep", 3, &out);
  REQUIRE(t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  wg_trap_delete(t);
  t = wg_func_resume_with(e.store, fill_trap, &e, &r, 1);
  REQUIRE(t != NULL);
  CHECK_STR(wg_trap_message(t), "no answer");
  wg_trap_delete(t);
  CHECK(!wg_store_suspended(e.store));
  e.park = false;
  CHECK(call(&e, "deep", 3, &out) == NULL);
  CHECK(out == 200 + 3);
  t = wg_func_resume_with(e.store, fill_trap, &e, &r, 1);
  REQUIRE(t != NULL);
  CHECK_STR(wg_trap_message(t), "nothing to resume");
  wg_trap_delete(t);
  wg_store_delete(e.store);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_suspend suspend.wasm\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  bytes = malloc(1 << 16);
  nbytes = fread(bytes, 1, 1 << 16, f);
  fclose(f);
  wg_error *err = NULL;
  module = wg_module_new(bytes, nbytes, &err);
  if (!module) {
    fprintf(stderr, "module: %s\n", wg_error_message(err));
    return 2;
  }
  RUN(resume_delivers_host_results);
  RUN(frames_survive_a_suspension);
  RUN(many_stores_parked_resume_in_any_order);
  RUN(suspended_store_refuses_calls_until_abandoned);
  RUN(nested_activation_cannot_park);
  RUN(multi_value_results_after_resume);
  RUN(time_slices_yield_and_resume);
  RUN(deleting_a_parked_store);
  RUN(resume_with_calls_into_the_parked_instance);
  wg_module_delete(module);
  free(bytes);
  return test_summary();
}
