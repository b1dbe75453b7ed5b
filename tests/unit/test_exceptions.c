/*
 * test_exceptions.c: exception handling (WebAssembly 3.0) at the engine's
 * boundaries, on tests/unit/exceptions.wat (its binary below, made with
 * scripts/npm's jco: `node -e "...parse(wat)..."`, since Debian's wabt
 * cannot assemble try_table): an exception leaving the outermost call is a
 * WG_TRAP_EXCEPTION trap ("uncaught exception"); a host function between two
 * wasm activations passes the inner one's exception on by returning that
 * trap, and the outer try_table catches it; a guest parked at a host call
 * inside a try_table resumes and throws into its handler; throw/catch in a
 * loop still runs out of fuel; catch_all_ref + throw_ref rethrow. Runs on
 * both tiers (unit_exceptions_jit: functions with handlers stay in the
 * interpreter, the others are compiled).
 */
#include <stdlib.h>

#include "test.h"
#include "wasmgate.h"

static const unsigned char exn_wasm[] = {
0x00,0x61,0x73,0x6d,0x01,0x00,0x00,0x00,0x01,0x11,0x04,0x60,0x01,0x7f,0x01,0x7f,
0x60,0x00,0x01,0x7f,0x60,0x01,0x7f,0x00,0x60,0x00,0x00,0x02,0x19,0x02,0x04,0x68,
0x6f,0x73,0x74,0x04,0x63,0x61,0x6c,0x6c,0x00,0x00,0x04,0x68,0x6f,0x73,0x74,0x04,
0x70,0x61,0x72,0x6b,0x00,0x01,0x03,0x08,0x07,0x00,0x00,0x00,0x00,0x01,0x03,0x00,
0x0d,0x03,0x01,0x00,0x02,0x07,0x48,0x07,0x01,0x65,0x04,0x00,0x05,0x69,0x6e,0x6e,
0x65,0x72,0x00,0x02,0x06,0x65,0x73,0x63,0x61,0x70,0x65,0x00,0x03,0x0c,0x74,0x68,
0x72,0x6f,0x75,0x67,0x68,0x5f,0x68,0x6f,0x73,0x74,0x00,0x05,0x0f,0x70,0x61,0x72,
0x6b,0x5f,0x74,0x68,0x65,0x6e,0x5f,0x74,0x68,0x72,0x6f,0x77,0x00,0x06,0x04,0x73,
0x70,0x69,0x6e,0x00,0x07,0x07,0x72,0x65,0x74,0x68,0x72,0x6f,0x77,0x00,0x08,0x0a,
0x79,0x07,0x0d,0x00,0x20,0x00,0x04,0x40,0x20,0x00,0x08,0x00,0x0b,0x41,0x00,0x0b,
0x06,0x00,0x20,0x00,0x10,0x02,0x0b,0x06,0x00,0x20,0x00,0x10,0x00,0x0b,0x14,0x00,
0x02,0x7f,0x1f,0x7f,0x01,0x00,0x00,0x00,0x20,0x00,0x10,0x04,0x0b,0x41,0xe4,0x00,
0x6a,0x0b,0x0b,0x13,0x00,0x02,0x7f,0x1f,0x7f,0x01,0x00,0x00,0x00,0x10,0x01,0x41,
0x01,0x6a,0x08,0x00,0x0b,0x0b,0x0b,0x16,0x00,0x03,0x40,0x02,0x7f,0x1f,0x7f,0x01,
0x00,0x00,0x00,0x41,0x01,0x08,0x00,0x0b,0x0b,0x1a,0x0c,0x00,0x0b,0x0b,0x1b,0x00,
0x02,0x7f,0x1f,0x7f,0x01,0x00,0x00,0x00,0x02,0x69,0x1f,0x7f,0x01,0x03,0x00,0x20,
0x00,0x10,0x02,0x0b,0x0f,0x0b,0x0a,0x0b,0x0b,0x0b,0x00,0x47,0x04,0x6e,0x61,0x6d,
0x65,0x01,0x1b,0x04,0x00,0x04,0x68,0x6f,0x73,0x74,0x01,0x04,0x70,0x61,0x72,0x6b,
0x02,0x05,0x69,0x6e,0x6e,0x65,0x72,0x04,0x05,0x72,0x65,0x6c,0x61,0x79,0x03,0x1d,
0x04,0x05,0x01,0x00,0x01,0x68,0x06,0x01,0x00,0x01,0x68,0x07,0x02,0x00,0x01,0x6c,
0x01,0x01,0x68,0x08,0x02,0x00,0x01,0x68,0x02,0x03,0x61,0x6c,0x6c,0x0b,0x04,0x01,
0x00,0x01,0x65,
};

typedef struct env {
  wg_store *store;
  wg_instance *inst;
  wg_trap_code inner_code; /* what the nested call gave the host */
} env;

static wg_func *export_func(wg_instance *inst, const char *name) {
  wg_extern ex;
  if (!wg_instance_export(inst, name, strlen(name), &ex) || ex.kind != WG_EXTERN_FUNC) return NULL;
  return ex.of.func;
}

/* host.call: calls the guest's "inner" and returns its trap as its own. */
static wg_trap *host_call(void *p, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  env *e = p;
  wg_val r = {.kind = WG_I32};
  wg_trap *t = wg_func_call(e->store, export_func(e->inst, "inner"), args, 1, &r, 1);
  e->inner_code = t ? wg_trap_code_of(t) : 0;
  results[0].of.i32 = r.of.i32;
  return t;
}

static wg_trap *host_park(void *p, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)p, (void)caller, (void)args, (void)results;
  return wg_trap_new(WG_TRAP_SUSPENDED, NULL);
}

static wg_module *module;

static wg_instance *instantiate(env *e) {
  e->store = wg_store_new(NULL, NULL);
  static const wg_valtype i32[] = {WG_I32};
  wg_functype_desc call_t = {1, 1, i32, i32}, park_t = {0, 1, NULL, i32};
  wg_extern imports[2] = {
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(e->store, &call_t, host_call, e, NULL)}},
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(e->store, &park_t, host_park, e, NULL)}},
  };
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  e->inst = wg_instance_new(e->store, module, imports, 2, &err, &trap);
  if (err) fprintf(stderr, "instantiate: %s\n", wg_error_message(err));
  wg_error_delete(err);
  wg_trap_delete(trap);
  return e->inst;
}

static wg_trap *call1(env *e, const char *name, int32_t arg, int32_t *out) {
  wg_val a = {.kind = WG_I32, .of.i32 = arg}, r = {.kind = WG_I32};
  wg_func *f = export_func(e->inst, name);
  wg_functype_desc t = wg_func_type(f);
  wg_trap *trap = wg_func_call(e->store, f, &a, t.nparams, &r, t.nresults);
  if (out) *out = r.of.i32;
  return trap;
}

TEST(uncaught_is_a_trap) {
  env e = {0};
  REQUIRE(instantiate(&e));
  int32_t r = -1;
  CHECK(call1(&e, "escape", 0, &r) == NULL && r == 0);
  wg_trap *t = call1(&e, "escape", 5, NULL);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_EXCEPTION);
  CHECK(!strcmp(wg_trap_message(t), "uncaught exception"));
  wg_trap_delete(t);
  /* the store is usable afterwards */
  CHECK(call1(&e, "escape", 0, &r) == NULL && r == 0);
  wg_store_delete(e.store);
}

TEST(through_a_host_function) {
  env e = {0};
  REQUIRE(instantiate(&e));
  int32_t r = -1;
  /* no exception: the host's result plus 100 */
  CHECK(call1(&e, "through_host", 0, &r) == NULL && r == 100);
  /* inner throws 7 under the host; the host returns that trap; caught above it */
  CHECK(call1(&e, "through_host", 7, &r) == NULL && r == 7);
  CHECK(e.inner_code == WG_TRAP_EXCEPTION);
  wg_store_delete(e.store);
}

TEST(suspended_inside_try_table) {
  env e = {0};
  REQUIRE(instantiate(&e));
  int32_t r = -1;
  wg_trap *t = call1(&e, "park_then_throw", 0, &r);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_SUSPENDED);
  wg_trap_delete(t);
  CHECK(wg_store_suspended(e.store));
  wg_val host = {.kind = WG_I32, .of.i32 = 41}, res = {.kind = WG_I32};
  t = wg_func_resume(e.store, &host, 1, &res, 1);
  CHECK(t == NULL && res.of.i32 == 42);
  wg_trap_delete(t);
  wg_store_delete(e.store);
}

TEST(fuel_still_counts) {
  env e = {0};
  REQUIRE(instantiate(&e));
  wg_store_set_fuel(e.store, 20000);
  wg_trap *t = wg_func_call(e.store, export_func(e.inst, "spin"), NULL, 0, NULL, 0);
  REQUIRE(t != NULL);
  CHECK(wg_trap_code_of(t) == WG_TRAP_OUT_OF_FUEL);
  wg_trap_delete(t);
  wg_store_delete(e.store);
}

TEST(catch_all_ref_and_throw_ref) {
  env e = {0};
  REQUIRE(instantiate(&e));
  int32_t r = -1;
  CHECK(call1(&e, "rethrow", 0, &r) == NULL && r == 0);
  CHECK(call1(&e, "rethrow", 3, &r) == NULL && r == 3);
  /* many rethrown exceptions: each kept one is the store's until it goes */
  for (int i = 1; i < 2000; i++) CHECK(call1(&e, "rethrow", i, &r) == NULL && r == i);
  wg_store_delete(e.store);
}

TEST(tag_export_and_wasm2) {
  wg_extern_desc d;
  bool found = false;
  for (uint32_t i = 0; i < wg_module_export_count(module); i++) {
    wg_module_export(module, i, &d);
    if (d.kind == WG_EXTERN_TAG && d.name_len == 1 && d.name[0] == 'e') found = true;
  }
  CHECK(found);
  /* WebAssembly 2.0 decoding rejects the tag section */
  wg_error *err = NULL;
  CHECK(wg_module_new_features(exn_wasm, sizeof exn_wasm, WG_FEATURES_WASM2, &err) == NULL);
  CHECK(err && !strcmp(wg_error_message(err), "malformed section id"));
  wg_error_delete(err);
}

/* exnref (0x69) in every place a type is read: with exception handling a
 * valid module; as WebAssembly 2.0 (spec-driver --wasm2) malformed, with the
 * words and offset a byte naming no type gets there. Before, 2.0 decoding
 * accepted all of them. */
TEST(exnref_is_no_wasm2_type) {
#define H 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
#define TF 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00 /* type () -> (), one function */
  static const unsigned char param[] = {H, 0x01, 0x05, 0x01, 0x60, 0x01, 0x69, 0x00};
  static const unsigned char local[] = {H, TF, 0x0a, 0x06, 0x01, 0x04, 0x01, 0x01, 0x69, 0x0b};
  static const unsigned char block[] = {H, TF, 0x0a, 0x0a, 0x01, 0x08, 0x00, 0x02, 0x69, 0xd0, 0x69, 0x0b, 0x1a, 0x0b};
  static const unsigned char refnull[] = {H, TF, 0x0a, 0x07, 0x01, 0x05, 0x00, 0xd0, 0x69, 0x1a, 0x0b};
  /* unreachable, then select (result exnref): no ref.null exn before it */
  static const unsigned char select[] = {H, TF, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x00, 0x1c, 0x01, 0x69, 0x1a, 0x0b};
  static const unsigned char table[] = {H, 0x04, 0x04, 0x01, 0x69, 0x00, 0x00};
  static const unsigned char global[] = {H, 0x06, 0x06, 0x01, 0x69, 0x00, 0xd0, 0x69, 0x0b};
#undef H
#undef TF
  static const struct {
    const unsigned char *b;
    size_t n;
    const char *msg;
    size_t at;
  } cases[] = {
      {param, sizeof param, "malformed value type", 0x0d},
      {local, sizeof local, "malformed value type", 0x18},
      {block, sizeof block, "malformed block type", 0x18},
      {refnull, sizeof refnull, "malformed reference type", 0x18},
      {select, sizeof select, "malformed value type", 0x1a},
      {table, sizeof table, "malformed reference type", 0x0b},
      {global, sizeof global, "malformed value type", 0x0b},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wg_error *err = NULL;
    wg_module *m = wg_module_new_features(cases[i].b, cases[i].n, WG_FEATURES_ALL, &err);
    CHECK(m != NULL);
    if (!m) fprintf(stderr, "case %zu (3.0): %s\n", i, err ? wg_error_message(err) : "?");
    wg_module_delete(m);
    wg_error_delete(err);
    err = NULL;
    m = wg_module_new_features(cases[i].b, cases[i].n, WG_FEATURES_WASM2, &err);
    CHECK(m == NULL);
    CHECK(err && !strcmp(wg_error_message(err), cases[i].msg) && wg_error_offset(err) == cases[i].at);
    if (err && (strcmp(wg_error_message(err), cases[i].msg) || wg_error_offset(err) != cases[i].at))
      fprintf(stderr, "case %zu (2.0): %s at 0x%zx\n", i, wg_error_message(err), wg_error_offset(err));
    wg_module_delete(m);
    wg_error_delete(err);
  }
}

int main(void) {
  wg_error *err = NULL;
  module = wg_module_new(exn_wasm, sizeof exn_wasm, &err);
  if (!module) {
    fprintf(stderr, "module: %s\n", err ? wg_error_message(err) : "?");
    return 1;
  }
  RUN(uncaught_is_a_trap);
  RUN(through_a_host_function);
  RUN(suspended_inside_try_table);
  RUN(fuel_still_counts);
  RUN(catch_all_ref_and_throw_ref);
  RUN(tag_export_and_wasm2);
  RUN(exnref_is_no_wasm2_type);
  wg_module_delete(module);
  return test_summary();
}
