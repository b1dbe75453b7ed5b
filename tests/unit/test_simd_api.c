/*
 * test_simd_api.c: v128 values through the native API (wasmgate.h), on
 * tests/fixtures/valid/simd_api.wat: wg_func_call with v128 arguments and
 * results, a host function with v128 params and results called from wasm
 * (the packed slot layout at the host boundary), and a v128 global shared
 * between the host and the guest.
 * usage: test_simd_api PATH/simd_api.wasm
 */
#include <stdlib.h>

#include "test.h"
#include "wasmgate.h"

static unsigned char *bytes;
static size_t nbytes;

static wg_val v128_of(uint8_t first) {
  wg_val v = {.kind = WG_V128};
  for (int i = 0; i < 16; i++) v.of.v128[i] = (uint8_t)(first + i);
  return v;
}

/* mix(i32 a, v128 x, f64 d, v128 y) -> (v128 y reversed, i64 a * 1000 + d * 10 + x[0] + y[15]) */
static wg_trap *host_mix(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller;
  if (args[0].kind != WG_I32 || args[1].kind != WG_V128 || args[2].kind != WG_F64 || args[3].kind != WG_V128)
    return wg_trap_new(WG_TRAP_HOST, "mix: argument kinds");
  results[0].kind = WG_V128;
  for (int i = 0; i < 16; i++) results[0].of.v128[i] = args[3].of.v128[15 - i];
  results[1].kind = WG_I64;
  results[1].of.i64 = args[0].of.i32 * 1000 + (int64_t)(args[2].of.f64 * 10) + args[1].of.v128[0] + args[3].of.v128[15];
  return NULL;
}

typedef struct fixture {
  wg_store *store;
  wg_module *module;
  wg_instance *inst;
  wg_global *g;
} fixture;

static bool setup(fixture *fx) {
  memset(fx, 0, sizeof *fx);
  wg_error *err = NULL;
  fx->module = wg_module_new(bytes, nbytes, &err);
  if (!fx->module) return false;
  fx->store = wg_store_new(NULL, NULL);
  static const wg_valtype params[] = {WG_I32, WG_V128, WG_F64, WG_V128}, results[] = {WG_V128, WG_I64};
  wg_functype_desc mix_t = {4, 2, params, results};
  wg_val init = v128_of(100);
  fx->g = wg_global_new(fx->store, &init, true);
  wg_extern imports[2] = {
      {WG_EXTERN_FUNC, {.func = wg_func_new_host(fx->store, &mix_t, host_mix, NULL, NULL)}},
      {WG_EXTERN_GLOBAL, {.global = fx->g}},
  };
  wg_trap *trap = NULL;
  fx->inst = wg_instance_new(fx->store, fx->module, imports, 2, &err, &trap);
  return fx->inst != NULL;
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

TEST(host_function_with_v128_params_and_results) {
  fixture fx;
  REQUIRE(setup(&fx));
  wg_func *f = export_func(&fx, "call_mix");
  REQUIRE(f);
  wg_val args[2] = {v128_of(0), v128_of(16)}, res[3];
  wg_trap *t = wg_func_call(fx.store, f, args, 2, res, 3);
  CHECK(t == NULL);
  if (t) {
    fprintf(stderr, "trap: %s\n", wg_trap_message(t));
    wg_trap_delete(t);
  }
  CHECK(res[0].kind == WG_V128 && res[1].kind == WG_I64 && res[2].kind == WG_V128);
  for (int i = 0; i < 16; i++) CHECK(res[0].of.v128[i] == 31 - i); /* y reversed */
  CHECK(res[1].of.i64 == 7 * 1000 + 25 + 0 + 31);
  for (int i = 0; i < 16; i++) CHECK(res[2].of.v128[i] == 100 + i); /* the global */
  teardown(&fx);
}

TEST(v128_global_shared_with_the_host) {
  fixture fx;
  REQUIRE(setup(&fx));
  wg_func *set = export_func(&fx, "set_g");
  REQUIRE(set);
  wg_val arg = v128_of(1);
  CHECK(wg_func_call(fx.store, set, &arg, 1, NULL, 0) == NULL);
  wg_val v;
  wg_global_get(fx.g, &v);
  CHECK(v.kind == WG_V128);
  for (int i = 0; i < 16; i++) CHECK(v.of.v128[i] == (uint8_t)(101 + 2 * i));
  wg_val z = {.kind = WG_V128};
  CHECK(wg_global_set(fx.g, &z));
  CHECK(wg_func_call(fx.store, set, &arg, 1, NULL, 0) == NULL);
  wg_global_get(fx.g, &v);
  for (int i = 0; i < 16; i++) CHECK(v.of.v128[i] == 1 + i);
  teardown(&fx);
}

TEST(v128_arguments_and_locals) {
  fixture fx;
  REQUIRE(setup(&fx));
  wg_func *dot = export_func(&fx, "dot");
  REQUIRE(dot);
  wg_val args[2] = {{.kind = WG_V128}, {.kind = WG_V128}}, r;
  int16_t a[8] = {1, -2, 3, -4, 5, -6, 7, -32768}, b[8] = {8, 7, 6, 5, 4, 3, 2, -32768};
  memcpy(args[0].of.v128, a, 16);
  memcpy(args[1].of.v128, b, 16);
  CHECK(wg_func_call(fx.store, dot, args, 2, &r, 1) == NULL);
  int64_t want = 0;
  for (int i = 0; i < 8; i++) want += (int64_t)a[i] * b[i];
  CHECK(r.kind == WG_I32 && r.of.i32 == (int32_t)(uint32_t)want);
  teardown(&fx);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_simd_api simd_api.wasm\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  bytes = malloc(1 << 16);
  nbytes = fread(bytes, 1, 1 << 16, f);
  fclose(f);
  RUN(host_function_with_v128_params_and_results);
  RUN(v128_global_shared_with_the_host);
  RUN(v128_arguments_and_locals);
  free(bytes);
  return test_summary();
}
