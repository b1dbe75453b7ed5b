/*
 * test_capi.c: the standard wasm-c-api (engine/include/wasm.h) on a real
 * module (tests/fixtures/valid/capi.wat): vectors and types, module
 * reflection and serialization, host callbacks, multi-value, globals,
 * memory growth and bounds, funcref and externref tables, traps with
 * messages and frames, re-entrant calls through the host, host info and env
 * finalizers (run once), link errors, a module shared with another thread.
 * Run under ASan in `make test SANITIZE=1`, so leaks fail it too.
 * usage: test_capi PATH/capi.wasm
 */
#include <pthread.h>
#include <stdlib.h>

#include "test.h"
#include "wasm.h"

static wasm_byte_vec_t binary;
static int add_calls, finalized, info_finalized;

/* ------------------------------------------------------------------ host functions */

static wasm_trap_t *host_add(const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  add_calls++;
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = args->data[0].of.i32 + args->data[1].of.i32;
  return NULL;
}

typedef struct env {
  wasm_store_t *store;
  wasm_func_t *dec; /* the instance's "dec", set after instantiation */
} env;

/* Calls back into the instance: reenter(n) = dec(n). */
static wasm_trap_t *host_reenter(void *envp, const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  env *e = envp;
  wasm_val_t a[1] = {WASM_I32_VAL(args->data[0].of.i32)}, r[1] = {WASM_INIT_VAL};
  wasm_val_vec_t av = WASM_ARRAY_VEC(a), rv = WASM_ARRAY_VEC(r);
  wasm_trap_t *t = wasm_func_call(e->dec, &av, &rv);
  if (t) return t;
  results->data[0] = r[0];
  return NULL;
}

static wasm_trap_t *host_fail(void *envp, const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  (void)args, (void)results;
  env *e = envp;
  wasm_message_t msg;
  wasm_name_new_from_string_nt(&msg, "host says no");
  wasm_trap_t *t = wasm_trap_new(e->store, &msg);
  wasm_name_delete(&msg);
  return t;
}

/* Returns its externref argument: the host sees and returns the same object. */
static wasm_trap_t *host_id(const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  wasm_val_copy(&results->data[0], &args->data[0]);
  return NULL;
}

static void count_finalize(void *p) { (*(int *)p)++; }
static void info_finalize(void *p) {
  (void)p;
  info_finalized++;
}

/* ------------------------------------------------------------------ fixture */

typedef struct fixture {
  wasm_engine_t *engine;
  wasm_store_t *store;
  wasm_module_t *module;
  wasm_instance_t *inst;
  wasm_global_t *g;
  wasm_extern_vec_t exports;
  wasm_exporttype_vec_t export_types;
  env env;
} fixture;

static wasm_extern_t *get(fixture *fx, const char *name) {
  for (size_t i = 0; i < fx->export_types.size; i++) {
    const wasm_name_t *n = wasm_exporttype_name(fx->export_types.data[i]);
    if (n->size == strlen(name) && !memcmp(n->data, name, n->size)) return fx->exports.data[i];
  }
  return NULL;
}

static wasm_func_t *func(fixture *fx, const char *name) { return wasm_extern_as_func(get(fx, name)); }

static bool setup(fixture *fx) {
  memset(fx, 0, sizeof *fx);
  fx->engine = wasm_engine_new();
  fx->store = wasm_store_new(fx->engine);
  fx->module = wasm_module_new(fx->store, &binary);
  if (!fx->module) return false;
  fx->env.store = fx->store;
  wasm_functype_t *binop = wasm_functype_new_2_1(wasm_valtype_new_i32(), wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_functype_t *i_i = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_functype_t *v_v = wasm_functype_new_0_0();
  wasm_functype_t *e_e = wasm_functype_new_1_1(wasm_valtype_new_externref(), wasm_valtype_new_externref());
  wasm_globaltype_t *gt = wasm_globaltype_new(wasm_valtype_new_i32(), WASM_VAR);
  wasm_val_t g0 = WASM_I32_VAL(41);
  wasm_func_t *add = wasm_func_new(fx->store, binop, host_add);
  wasm_func_t *reenter = wasm_func_new_with_env(fx->store, i_i, host_reenter, &fx->env, NULL);
  wasm_func_t *fail = wasm_func_new_with_env(fx->store, v_v, host_fail, &fx->env, NULL);
  wasm_func_t *id = wasm_func_new(fx->store, e_e, host_id);
  fx->g = wasm_global_new(fx->store, gt, &g0);
  wasm_extern_t *ims[] = {wasm_func_as_extern(add), wasm_func_as_extern(reenter), wasm_func_as_extern(fail),
                          wasm_global_as_extern(fx->g), wasm_func_as_extern(id)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(ims);
  wasm_trap_t *trap = NULL;
  fx->inst = wasm_instance_new(fx->store, fx->module, &imports, &trap);
  wasm_func_delete(add);
  wasm_func_delete(reenter);
  wasm_func_delete(fail);
  wasm_func_delete(id);
  wasm_functype_delete(binop);
  wasm_functype_delete(i_i);
  wasm_functype_delete(v_v);
  wasm_functype_delete(e_e);
  wasm_globaltype_delete(gt);
  if (!fx->inst) {
    wasm_trap_delete(trap);
    return false;
  }
  wasm_instance_exports(fx->inst, &fx->exports);
  wasm_module_exports(fx->module, &fx->export_types);
  fx->env.dec = func(fx, "dec");
  return fx->exports.size == 19 && fx->export_types.size == 19;
}

static void teardown(fixture *fx) {
  wasm_extern_vec_delete(&fx->exports);
  wasm_exporttype_vec_delete(&fx->export_types);
  wasm_instance_delete(fx->inst);
  wasm_global_delete(fx->g);
  wasm_module_delete(fx->module);
  wasm_store_delete(fx->store);
  wasm_engine_delete(fx->engine);
}

/* Calls `f` with i32 arguments; returns the trap (or NULL) and results in `res`. */
static wasm_trap_t *call(wasm_func_t *f, wasm_val_t *args, size_t nargs, wasm_val_t *res, size_t nres) {
  wasm_val_vec_t a = {nargs, args}, r = {nres, res};
  return wasm_func_call(f, &a, &r);
}

static int32_t call_i32(wasm_func_t *f, int32_t x, int32_t y, size_t nargs) {
  wasm_val_t a[2] = {WASM_I32_VAL(x), WASM_I32_VAL(y)}, r[1] = {WASM_I32_VAL(-999)};
  wasm_trap_t *t = call(f, a, nargs, r, 1);
  if (t) {
    wasm_trap_delete(t);
    return -12345;
  }
  return r[0].of.i32;
}

/* The trap's message as a C string (caller frees), for comparisons. */
static char *message_of(const wasm_trap_t *t) {
  wasm_message_t m;
  wasm_trap_message(t, &m);
  const char *text = (m.size && m.data[m.size - 1] == 0) ? m.data : "(not NUL-terminated)";
  char *s = malloc(strlen(text) + 1);
  if (s) strcpy(s, text);
  wasm_byte_vec_delete(&m);
  return s;
}

#define CHECK_TRAP(trap, want)    \
  do {                            \
    wasm_trap_t *t_ = (trap);     \
    CHECK(t_ != NULL);            \
    if (t_) {                     \
      char *m_ = message_of(t_);  \
      CHECK_STR(m_, want);        \
      free(m_);                   \
      wasm_trap_delete(t_);       \
    }                             \
  } while (0)

/* ------------------------------------------------------------------ tests */

TEST(vectors_and_types) {
  wasm_byte_vec_t b, c;
  wasm_name_new_from_string(&b, "abc");
  CHECK(b.size == 3);
  wasm_name_new_from_string_nt(&c, "abc");
  CHECK(c.size == 4 && c.data[3] == 0);
  wasm_byte_vec_delete(&c);
  wasm_byte_vec_copy(&c, &b);
  CHECK(c.size == 3 && !memcmp(c.data, "abc", 3) && c.data != b.data);
  wasm_byte_vec_delete(&b);
  wasm_byte_vec_delete(&c);
  CHECK(b.size == 0 && b.data == NULL);
  wasm_byte_vec_new_empty(&b);
  CHECK(b.size == 0);
  wasm_byte_vec_new_uninitialized(&b, 5);
  CHECK(b.size == 5);
  wasm_byte_vec_delete(&b);

  wasm_functype_t *ft = wasm_functype_new_2_1(wasm_valtype_new_i64(), wasm_valtype_new_funcref(), wasm_valtype_new_f32());
  CHECK(wasm_functype_params(ft)->size == 2 && wasm_functype_results(ft)->size == 1);
  CHECK(wasm_valtype_kind(wasm_functype_params(ft)->data[1]) == WASM_FUNCREF);
  CHECK(wasm_valtype_is_ref(wasm_functype_params(ft)->data[1]));
  CHECK(wasm_valtype_is_num(wasm_functype_results(ft)->data[0]));
  wasm_externtype_t *et = wasm_functype_as_externtype(ft);
  CHECK(wasm_externtype_kind(et) == WASM_EXTERN_FUNC);
  CHECK(wasm_externtype_as_functype(et) == ft && wasm_externtype_as_globaltype(et) == NULL);
  CHECK(wasm_externtype_as_memorytype_const(et) == NULL && wasm_externtype_as_tabletype(et) == NULL);
  wasm_functype_t *ft2 = wasm_functype_copy(ft);
  CHECK(ft2 != ft && wasm_functype_params(ft2)->size == 2);
  CHECK(wasm_valtype_kind(wasm_functype_params(ft2)->data[0]) == WASM_I64);

  wasm_limits_t lim = {1, wasm_limits_max_default};
  wasm_memorytype_t *mt = wasm_memorytype_new(&lim);
  CHECK(wasm_memorytype_limits(mt)->min == 1 && wasm_memorytype_limits(mt)->max == 0xffffffff);
  wasm_limits_t tl = {2, 8};
  wasm_tabletype_t *tt = wasm_tabletype_new(wasm_valtype_new_externref(), &tl);
  CHECK(wasm_valtype_kind(wasm_tabletype_element(tt)) == WASM_EXTERNREF && wasm_tabletype_limits(tt)->max == 8);
  wasm_globaltype_t *gt = wasm_globaltype_new(wasm_valtype_new_f64(), WASM_CONST);
  CHECK(wasm_globaltype_mutability(gt) == WASM_CONST && wasm_valtype_kind(wasm_globaltype_content(gt)) == WASM_F64);
  CHECK(wasm_externtype_as_globaltype_const(wasm_globaltype_as_externtype_const(gt)) == gt);

  /* A vector of external types owns them: deleting it deletes all four. */
  wasm_externtype_t *all[] = {et, wasm_memorytype_as_externtype(mt), wasm_tabletype_as_externtype(tt),
                              wasm_globaltype_as_externtype(gt)};
  wasm_externtype_vec_t v, v2;
  wasm_externtype_vec_new(&v, 4, all);
  wasm_externtype_vec_copy(&v2, &v);
  CHECK(v2.size == 4 && wasm_externtype_kind(v2.data[2]) == WASM_EXTERN_TABLE);
  CHECK(wasm_tabletype_limits(wasm_externtype_as_tabletype(v2.data[2]))->min == 2);
  wasm_externtype_vec_delete(&v);
  wasm_externtype_vec_delete(&v2);
  wasm_functype_delete(ft2);

  wasm_name_t mod, name, name2;
  wasm_name_new_from_string(&mod, "m");
  wasm_name_new_from_string(&name, "x");
  wasm_name_new_from_string(&name2, "y");
  wasm_importtype_t *it = wasm_importtype_new(&mod, &name, wasm_memorytype_as_externtype(wasm_memorytype_new(&lim)));
  wasm_importtype_t *it2 = wasm_importtype_copy(it);
  CHECK(wasm_importtype_module(it2)->size == 1 && wasm_importtype_name(it2)->data[0] == 'x');
  CHECK(wasm_externtype_kind(wasm_importtype_type(it2)) == WASM_EXTERN_MEMORY);
  wasm_exporttype_t *xt = wasm_exporttype_new(&name2, wasm_globaltype_as_externtype(wasm_globaltype_new(wasm_valtype_new_i32(), WASM_VAR)));
  wasm_exporttype_vec_t xv;
  wasm_exporttype_vec_new(&xv, 1, &xt);
  CHECK(wasm_exporttype_name(xv.data[0])->data[0] == 'y');
  wasm_exporttype_vec_delete(&xv);
  wasm_importtype_delete(it);
  wasm_importtype_delete(it2);

  wasm_valtype_vec_t vt;
  wasm_valtype_vec_new_uninitialized(&vt, 3);
  CHECK(vt.size == 3 && vt.data[0] == NULL);
  vt.data[1] = wasm_valtype_new(WASM_F64);
  wasm_valtype_vec_delete(&vt); /* partly filled: fine */
}

TEST(module_reflection_and_serialization) {
  wasm_engine_t *engine = wasm_engine_new_with_config(wasm_config_new());
  wasm_store_t *store = wasm_store_new(engine);
  CHECK(wasm_module_validate(store, &binary));
  wasm_byte_vec_t bad;
  wasm_byte_vec_new(&bad, 8, "\0asm\2\0\0\0");
  CHECK(!wasm_module_validate(store, &bad));
  CHECK(wasm_module_new(store, &bad) == NULL);
  wasm_byte_vec_delete(&bad);

  wasm_module_t *m = wasm_module_new(store, &binary);
  REQUIRE(m != NULL);
  wasm_importtype_vec_t imports;
  wasm_module_imports(m, &imports);
  REQUIRE(imports.size == 5);
  CHECK(!memcmp(wasm_importtype_module(imports.data[3])->data, "host", 4));
  CHECK(wasm_importtype_name(imports.data[3])->size == 1 && wasm_importtype_name(imports.data[3])->data[0] == 'g');
  const wasm_globaltype_t *g = wasm_externtype_as_globaltype_const(wasm_importtype_type(imports.data[3]));
  CHECK(g && wasm_globaltype_mutability(g) == WASM_VAR && wasm_valtype_kind(wasm_globaltype_content(g)) == WASM_I32);
  const wasm_functype_t *idt = wasm_externtype_as_functype_const(wasm_importtype_type(imports.data[4]));
  CHECK(idt && wasm_valtype_kind(wasm_functype_params(idt)->data[0]) == WASM_EXTERNREF);
  wasm_importtype_vec_delete(&imports);

  wasm_exporttype_vec_t exports;
  wasm_module_exports(m, &exports);
  REQUIRE(exports.size == 19);
  const wasm_memorytype_t *mt = wasm_externtype_as_memorytype_const(wasm_exporttype_type(exports.data[0]));
  CHECK(mt && wasm_memorytype_limits(mt)->min == 1 && wasm_memorytype_limits(mt)->max == 3);
  const wasm_tabletype_t *tt = wasm_externtype_as_tabletype_const(wasm_exporttype_type(exports.data[2]));
  CHECK(tt && wasm_tabletype_limits(tt)->max == wasm_limits_max_default);
  const wasm_functype_t *swap = wasm_externtype_as_functype_const(wasm_exporttype_type(exports.data[6]));
  CHECK(swap && wasm_functype_params(swap)->size == 4 && wasm_functype_results(swap)->size == 4);
  CHECK(swap && wasm_valtype_kind(wasm_functype_results(swap)->data[0]) == WASM_F64);
  wasm_exporttype_vec_delete(&exports);

  /* Serialize gives the binary back; deserialize compiles it again. */
  wasm_byte_vec_t ser;
  wasm_module_serialize(m, &ser);
  CHECK(ser.size == binary.size && !memcmp(ser.data, binary.data, ser.size));
  wasm_module_t *m2 = wasm_module_deserialize(store, &ser);
  CHECK(m2 != NULL);
  wasm_module_exports(m2, &exports);
  CHECK(exports.size == 19);
  wasm_exporttype_vec_delete(&exports);
  wasm_byte_vec_delete(&ser);

  /* Host info on a module: its finalizer runs with the last reference. */
  info_finalized = 0;
  wasm_module_t *m3 = wasm_module_copy(m2);
  CHECK(wasm_module_same(m2, m3));
  wasm_module_set_host_info_with_finalizer(m2, (void *)7, info_finalize);
  CHECK(wasm_module_get_host_info(m3) == (void *)7);
  wasm_module_delete(m2);
  CHECK(info_finalized == 0);
  wasm_module_delete(m3);
  CHECK(info_finalized == 1);
  wasm_module_delete(m);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

TEST(callback_multi_value_and_reentrancy) {
  fixture fx;
  REQUIRE(setup(&fx));
  add_calls = 0;
  CHECK(call_i32(func(&fx, "sum"), 2, 3, 2) == 5);
  CHECK(add_calls == 1);
  CHECK(wasm_func_param_arity(func(&fx, "sum")) == 2 && wasm_func_result_arity(func(&fx, "sum")) == 1);

  wasm_val_t a[4] = {WASM_I32_VAL(1), WASM_I64_VAL(-2), WASM_F32_VAL(3.5f), WASM_F64_VAL(4.25)}, r[4];
  wasm_trap_t *t = call(func(&fx, "swap"), a, 4, r, 4);
  CHECK(t == NULL);
  CHECK(r[0].kind == WASM_F64 && r[0].of.f64 == 4.25);
  CHECK(r[1].kind == WASM_F32 && r[1].of.f32 == 3.5f);
  CHECK(r[2].kind == WASM_I64 && r[2].of.i64 == -2);
  CHECK(r[3].kind == WASM_I32 && r[3].of.i32 == 1);
  wasm_functype_t *ft = wasm_func_type(func(&fx, "swap"));
  CHECK(wasm_functype_results(ft)->size == 4 && wasm_valtype_kind(wasm_functype_params(ft)->data[1]) == WASM_I64);
  wasm_functype_delete(ft);

  /* dec(6): wasm -> host -> wasm ... six levels deep. */
  CHECK(call_i32(func(&fx, "dec"), 6, 0, 1) == 6);

  /* Argument checks. */
  CHECK_TRAP(call(func(&fx, "sum"), a, 1, r, 1), "wrong number of arguments");
  CHECK_TRAP(call(func(&fx, "sum"), a, 2, r, 1), "argument type mismatch"); /* a[1] is i64 */
  CHECK_TRAP(call(func(&fx, "sum"), a, 0, r, 0), "wrong number of arguments");
  teardown(&fx);
}

TEST(globals) {
  fixture fx;
  REQUIRE(setup(&fx));
  wasm_val_t none[1];
  wasm_trap_t *t = call(func(&fx, "bump_g"), none, 0, none, 0);
  CHECK(t == NULL);
  wasm_val_t v;
  wasm_global_get(fx.g, &v);
  CHECK(v.kind == WASM_I32 && v.of.i32 == 42);
  wasm_val_t nv = WASM_I32_VAL(100);
  wasm_global_set(fx.g, &nv);
  CHECK(call(func(&fx, "bump_g"), none, 0, none, 0) == NULL);
  wasm_global_get(fx.g, &v);
  CHECK(v.of.i32 == 101);

  wasm_global_t *pi = wasm_extern_as_global(get(&fx, "pi"));
  REQUIRE(pi != NULL);
  wasm_val_t other = WASM_F64_VAL(1.0);
  wasm_global_set(pi, &other); /* immutable: ignored */
  wasm_global_get(pi, &v);
  CHECK(v.kind == WASM_F64 && v.of.f64 == 3.5);
  wasm_globaltype_t *gt = wasm_global_type(pi);
  CHECK(wasm_globaltype_mutability(gt) == WASM_CONST);
  wasm_globaltype_delete(gt);

  wasm_global_t *count = wasm_extern_as_global(get(&fx, "count"));
  wasm_val_t wrong = WASM_I32_VAL(5), right = WASM_I64_VAL(5);
  wasm_global_set(count, &wrong); /* wrong type: ignored */
  wasm_global_get(count, &v);
  CHECK(v.kind == WASM_I64 && v.of.i64 == 0);
  wasm_global_set(count, &right);
  wasm_global_get(count, &v);
  CHECK(v.of.i64 == 5);

  wasm_globaltype_t *i64t = wasm_globaltype_new(wasm_valtype_new_i64(), WASM_VAR);
  CHECK(wasm_global_new(fx.store, i64t, &wrong) == NULL); /* value of another type */
  wasm_globaltype_delete(i64t);
  teardown(&fx);
}

TEST(memory_growth_and_bounds) {
  fixture fx;
  REQUIRE(setup(&fx));
  wasm_memory_t *mem = wasm_extern_as_memory(get(&fx, "mem"));
  REQUIRE(mem != NULL);
  CHECK(wasm_memory_size(mem) == 1 && wasm_memory_data_size(mem) == 65536);
  CHECK(call_i32(func(&fx, "store"), 100, 0x01020304, 2) == -999); /* no result written */
  CHECK(wasm_memory_data(mem)[100] == 4 && wasm_memory_data(mem)[103] == 1);
  wasm_memory_data(mem)[65532] = 9;
  CHECK(call_i32(func(&fx, "load"), 65532, 0, 1) == 9);
  wasm_val_t a[1] = {WASM_I32_VAL(65533)}, r[1];
  CHECK_TRAP(call(func(&fx, "load"), a, 1, r, 1), "out of bounds memory access");

  CHECK(wasm_memory_grow(mem, 1));
  CHECK(wasm_memory_size(mem) == 2);
  CHECK(call_i32(func(&fx, "load"), 65533, 0, 1) == 0); /* in bounds now */
  CHECK(call_i32(func(&fx, "grow"), 1, 0, 1) == 2);
  CHECK(wasm_memory_data_size(mem) == 3 * 65536);
  CHECK(call_i32(func(&fx, "grow"), 1, 0, 1) == -1); /* past the maximum */
  CHECK(!wasm_memory_grow(mem, 1));
  wasm_memorytype_t *mt = wasm_memory_type(mem);
  CHECK(wasm_memorytype_limits(mt)->min == 3 && wasm_memorytype_limits(mt)->max == 3);
  wasm_memorytype_delete(mt);

  wasm_limits_t lim = {0, 2}, bad = {3, 2};
  wasm_memorytype_t *t0 = wasm_memorytype_new(&lim), *tb = wasm_memorytype_new(&bad);
  wasm_memory_t *m0 = wasm_memory_new(fx.store, t0);
  CHECK(m0 && wasm_memory_size(m0) == 0 && wasm_memory_grow(m0, 2) && !wasm_memory_grow(m0, 1));
  CHECK(wasm_memory_new(fx.store, tb) == NULL);
  wasm_memory_delete(m0);
  wasm_memorytype_delete(t0);
  wasm_memorytype_delete(tb);
  teardown(&fx);
}

TEST(tables) {
  fixture fx;
  REQUIRE(setup(&fx));
  wasm_table_t *tab = wasm_extern_as_table(get(&fx, "tab"));
  REQUIRE(tab != NULL);
  CHECK(wasm_table_size(tab) == 2);
  /* The element is the very function exported as "sum". */
  wasm_ref_t *e0 = wasm_table_get(tab, 0);
  CHECK(e0 && wasm_ref_same(e0, wasm_func_as_ref(func(&fx, "sum"))));
  CHECK(wasm_ref_as_func(e0) != NULL && wasm_ref_as_global(e0) == NULL);
  wasm_ref_delete(e0);
  CHECK(wasm_table_get(tab, 2) == NULL);

  wasm_val_t a[3] = {WASM_I32_VAL(0), WASM_I32_VAL(20), WASM_I32_VAL(22)}, r[1];
  CHECK(call(func(&fx, "call_tab"), a, 3, r, 1) == NULL && r[0].of.i32 == 42);
  a[0].of.i32 = 1;
  CHECK_TRAP(call(func(&fx, "call_tab"), a, 3, r, 1), "indirect call type mismatch");

  /* A host function stored by the host is called by wasm. */
  wasm_functype_t *binop = wasm_functype_new_2_1(wasm_valtype_new_i32(), wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_func_t *add = wasm_func_new(fx.store, binop, host_add);
  CHECK(wasm_table_set(tab, 1, wasm_func_as_ref(add)));
  CHECK(call(func(&fx, "call_tab"), a, 3, r, 1) == NULL && r[0].of.i32 == 42);
  CHECK(!wasm_table_set(tab, 2, wasm_func_as_ref(add)));
  wasm_foreign_t *fo = wasm_foreign_new(fx.store);
  CHECK(!wasm_table_set(tab, 0, wasm_foreign_as_ref(fo))); /* not a function */

  CHECK(wasm_table_grow(tab, 3, NULL) && wasm_table_size(tab) == 5);
  CHECK(wasm_table_get(tab, 4) == NULL);
  a[0].of.i32 = 4;
  CHECK_TRAP(call(func(&fx, "call_tab"), a, 3, r, 1), "uninitialized element");
  CHECK(wasm_table_grow(tab, 5, wasm_func_as_ref(add)) && !wasm_table_grow(tab, 1, NULL)); /* max 10 */
  wasm_tabletype_t *tt = wasm_table_type(tab);
  CHECK(wasm_tabletype_limits(tt)->min == 10 && wasm_tabletype_limits(tt)->max == 10);
  CHECK(wasm_valtype_kind(wasm_tabletype_element(tt)) == WASM_FUNCREF);
  wasm_tabletype_delete(tt);

  /* A host-made externref table. */
  wasm_limits_t lim = {2, 4};
  wasm_tabletype_t *ett = wasm_tabletype_new(wasm_valtype_new_externref(), &lim);
  wasm_table_t *et = wasm_table_new(fx.store, ett, wasm_foreign_as_ref(fo));
  REQUIRE(et != NULL);
  wasm_ref_t *x = wasm_table_get(et, 1);
  CHECK(x && wasm_ref_same(x, wasm_foreign_as_ref(fo)) && wasm_ref_as_foreign(x) != NULL);
  wasm_ref_delete(x);
  wasm_table_delete(et);
  wasm_tabletype_delete(ett);
  wasm_foreign_delete(fo);
  wasm_func_delete(add);
  wasm_functype_delete(binop);
  teardown(&fx);
}

TEST(traps_with_messages_and_frames) {
  fixture fx;
  REQUIRE(setup(&fx));
  /* Offsets below are those of `wasm-objdump -d` on capi.wasm: func_offset
   * counts from the body's start (its locals vector), module_offset from the
   * binary's. */
  wasm_val_t a[2] = {WASM_I32_VAL(1), WASM_I32_VAL(0)}, r[1];
  wasm_trap_t *t = call(func(&fx, "div"), a, 2, r, 1);
  REQUIRE(t != NULL);
  char *m = message_of(t);
  CHECK_STR(m, "integer divide by zero");
  free(m);
  wasm_frame_t *origin = wasm_trap_origin(t);
  REQUIRE(origin != NULL);
  CHECK(wasm_frame_func_index(origin) == 9); /* $div: 4 imported functions come first */
  CHECK(wasm_frame_func_offset(origin) == 5 && wasm_frame_module_offset(origin) == 0x185); /* i32.div_s */
  wasm_frame_delete(origin);
  wasm_trap_delete(t);

  t = call(func(&fx, "deep"), a, 0, r, 0);
  REQUIRE(t != NULL);
  m = message_of(t);
  CHECK_STR(m, "unreachable");
  free(m);
  origin = wasm_trap_origin(t);
  REQUIRE(origin != NULL);
  CHECK(wasm_frame_func_index(origin) == 10); /* $inner */
  CHECK(wasm_frame_func_offset(origin) == 1 && wasm_frame_module_offset(origin) == 0x189);
  CHECK(wasm_instance_same(wasm_frame_instance(origin), fx.inst));
  wasm_frame_t *copy = wasm_frame_copy(origin);
  CHECK(wasm_frame_func_index(copy) == 10 && wasm_frame_module_offset(copy) == 0x189);
  CHECK(wasm_instance_same(wasm_frame_instance(copy), fx.inst));
  wasm_frame_delete(copy);
  wasm_frame_delete(origin);
  wasm_frame_vec_t trace;
  wasm_trap_trace(t, &trace);
  REQUIRE(trace.size == 2);
  CHECK(wasm_frame_func_index(trace.data[1]) == 11); /* $deep, at its call */
  CHECK(wasm_frame_func_offset(trace.data[1]) == 1 && wasm_frame_module_offset(trace.data[1]) == 0x18d);
  wasm_frame_vec_delete(&trace);
  /* Copies are the same trap, with the same host info. */
  info_finalized = 0;
  wasm_trap_t *t2 = wasm_trap_copy(t);
  wasm_trap_set_host_info_with_finalizer(t, (void *)3, info_finalize);
  CHECK(wasm_trap_same(t, t2) && wasm_trap_get_host_info(t2) == (void *)3);
  wasm_trap_delete(t);
  CHECK(info_finalized == 0);
  wasm_trap_delete(t2);
  CHECK(info_finalized == 1);

  /* A host trap keeps its message and gets the wasm frames that led to it. */
  t = call(func(&fx, "fail"), a, 0, r, 0);
  REQUIRE(t != NULL);
  m = message_of(t);
  CHECK_STR(m, "host says no");
  free(m);
  origin = wasm_trap_origin(t);
  CHECK(origin && wasm_frame_func_index(origin) == 12 && wasm_frame_module_offset(origin) == 0x192);
  wasm_frame_delete(origin);
  wasm_trap_delete(t);

  /* A trap two activations deep: dec -> host reenter -> load out of bounds.
   * The trace has the inner activation's frame, then the outer one's. */
  fx.env.dec = func(&fx, "load");
  wasm_val_t big[1] = {WASM_I32_VAL(70000)};
  t = call(func(&fx, "dec"), big, 1, r, 1);
  REQUIRE(t != NULL);
  m = message_of(t);
  CHECK_STR(m, "out of bounds memory access");
  free(m);
  wasm_trap_trace(t, &trace);
  CHECK(trace.size == 2);
  if (trace.size == 2) {
    CHECK(wasm_frame_func_index(trace.data[0]) == 6 && wasm_frame_module_offset(trace.data[0]) == 0x16a);
    CHECK(wasm_frame_func_index(trace.data[1]) == 14 && wasm_frame_func_offset(trace.data[1]) == 0xe);
  }
  wasm_frame_vec_delete(&trace);
  wasm_trap_delete(t);

  /* A host trap raised three levels deep unwinds through the host. */
  wasm_message_t msg;
  wasm_name_new_from_string(&msg, "no NUL here");
  t = wasm_trap_new(fx.store, &msg);
  wasm_name_delete(&msg);
  m = message_of(t);
  CHECK_STR(m, "no NUL here");
  free(m);
  CHECK(wasm_trap_origin(t) == NULL);
  wasm_trap_trace(t, &trace);
  CHECK(trace.size == 0);
  wasm_frame_vec_delete(&trace);
  wasm_trap_delete(t);
  teardown(&fx);
}

TEST(externref_identity_and_host_info) {
  fixture fx;
  REQUIRE(setup(&fx));
  info_finalized = 0;
  wasm_foreign_t *fo = wasm_foreign_new(fx.store);
  wasm_foreign_set_host_info_with_finalizer(fo, (void *)99, info_finalize);
  wasm_val_t a[2] = {WASM_REF_VAL(wasm_foreign_as_ref(fo))}, r[1];
  REQUIRE(call(func(&fx, "call_id"), a, 1, r, 1) == NULL);
  CHECK(r[0].kind == WASM_EXTERNREF && r[0].of.ref && wasm_ref_same(r[0].of.ref, wasm_foreign_as_ref(fo)));
  CHECK(r[0].of.ref && wasm_ref_get_host_info(r[0].of.ref) == (void *)99);
  wasm_val_delete(&r[0]);

  /* Through an externref table, and null stays null. */
  wasm_val_t s[2] = {WASM_I32_VAL(1), WASM_REF_VAL(wasm_foreign_as_ref(fo))};
  CHECK(call(func(&fx, "ext_set"), s, 2, r, 0) == NULL);
  wasm_val_t i1[1] = {WASM_I32_VAL(1)}, i0[1] = {WASM_I32_VAL(0)};
  CHECK(call(func(&fx, "ext_get"), i1, 1, r, 1) == NULL);
  CHECK(r[0].of.ref && wasm_foreign_get_host_info(wasm_ref_as_foreign(r[0].of.ref)) == (void *)99);
  wasm_val_delete(&r[0]);
  CHECK(call(func(&fx, "ext_get"), i0, 1, r, 1) == NULL && r[0].of.ref == NULL);

  /* A function passed as an externref comes back as a function. */
  wasm_val_t fv[1] = {WASM_REF_VAL(wasm_func_as_ref(func(&fx, "sum")))};
  CHECK(call(func(&fx, "call_id"), fv, 1, r, 1) == NULL);
  wasm_func_t *back = r[0].of.ref ? wasm_ref_as_func(r[0].of.ref) : NULL;
  CHECK(back && call_i32(back, 20, 22, 2) == 42);
  wasm_val_delete(&r[0]);

  /* Host info belongs to the object: copies and exports see it. */
  wasm_func_set_host_info(func(&fx, "sum"), (void *)5);
  wasm_extern_vec_t again;
  wasm_instance_exports(fx.inst, &again);
  CHECK(wasm_func_get_host_info(wasm_extern_as_func(again.data[5])) == (void *)5);
  CHECK(wasm_extern_get_host_info(again.data[5]) == (void *)5);
  CHECK(wasm_extern_kind(again.data[5]) == WASM_EXTERN_FUNC && wasm_extern_as_memory(again.data[5]) == NULL);
  wasm_externtype_t *et = wasm_extern_type(again.data[0]);
  CHECK(wasm_externtype_kind(et) == WASM_EXTERN_MEMORY);
  wasm_externtype_delete(et);
  wasm_extern_vec_delete(&again);
  wasm_instance_set_host_info_with_finalizer(fx.inst, (void *)1, info_finalize);

  wasm_foreign_delete(fo);
  CHECK(info_finalized == 0); /* store objects live until the store goes */
  teardown(&fx);
  CHECK(info_finalized == 2); /* the foreign object and the instance, once each */
}

TEST(env_finalizers_run_once) {
  finalized = 0;
  wasm_engine_t *engine = wasm_engine_new();
  wasm_store_t *store = wasm_store_new(engine);
  wasm_functype_t *v_v = wasm_functype_new_0_0();
  wasm_func_t *f = wasm_func_new_with_env(store, v_v, host_fail, &finalized, count_finalize);
  wasm_func_t *f2 = wasm_func_copy(f);
  wasm_func_delete(f);
  CHECK(finalized == 0);
  /* A type the engine cannot take: no function, and the finalizer runs now. */
  wasm_valtype_t *odd = wasm_valtype_new(77);
  wasm_functype_t *bad = wasm_functype_new_1_0(odd);
  CHECK(wasm_func_new_with_env(store, bad, host_fail, &finalized, count_finalize) == NULL);
  CHECK(finalized == 1);
  wasm_functype_delete(bad);
  wasm_functype_delete(v_v);
  wasm_store_delete(store);
  CHECK(finalized == 2);
  wasm_func_delete(f2); /* a reference outliving its store may still be deleted */
  wasm_engine_delete(engine);
}

TEST(instantiation_errors) {
  wasm_engine_t *engine = wasm_engine_new();
  wasm_store_t *store = wasm_store_new(engine);
  wasm_module_t *m = wasm_module_new(store, &binary);
  REQUIRE(m != NULL);
  wasm_extern_vec_t none = WASM_EMPTY_VEC;
  wasm_trap_t *trap = NULL;
  CHECK(wasm_instance_new(store, m, &none, &trap) == NULL);
  CHECK_TRAP(trap, "wrong number of imports: the module has 5, 0 given");

  /* A memory where a function is expected. */
  wasm_limits_t lim = {1, 1};
  wasm_memorytype_t *mt = wasm_memorytype_new(&lim);
  wasm_memory_t *mem = wasm_memory_new(store, mt);
  wasm_extern_t *ims[5] = {wasm_memory_as_extern(mem), wasm_memory_as_extern(mem), wasm_memory_as_extern(mem),
                           wasm_memory_as_extern(mem), wasm_memory_as_extern(mem)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(ims);
  trap = NULL;
  CHECK(wasm_instance_new(store, m, &imports, &trap) == NULL);
  CHECK_TRAP(trap, "incompatible import type for host.add");
  CHECK(wasm_instance_new(store, m, &imports, NULL) == NULL); /* no trap wanted */

  /* (module (func unreachable) (start 0)): the start function's trap. */
  static const char start_wasm[] = "\0asm\1\0\0\0\1\4\1\x60\0\0\3\2\1\0\10\1\0\12\5\1\3\0\0\13";
  wasm_byte_vec_t sb;
  wasm_byte_vec_new(&sb, sizeof start_wasm - 1, start_wasm);
  wasm_module_t *sm = wasm_module_new(store, &sb);
  REQUIRE(sm != NULL);
  trap = NULL;
  CHECK(wasm_instance_new(store, sm, &none, &trap) == NULL);
  CHECK_TRAP(trap, "unreachable");
  wasm_byte_vec_delete(&sb);
  wasm_module_delete(sm);
  wasm_memory_delete(mem);
  wasm_memorytype_delete(mt);
  wasm_module_delete(m);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

/* A module shared with another thread, instantiated in that thread's store. */
typedef struct share_job {
  wasm_engine_t *engine;
  wasm_shared_module_t *shared;
  int32_t result;
} share_job;

static void *share_thread(void *p) {
  share_job *job = p;
  wasm_store_t *store = wasm_store_new(job->engine);
  wasm_module_t *m = wasm_module_obtain(store, job->shared);
  wasm_exporttype_vec_t ex;
  wasm_module_exports(m, &ex);
  job->result = (int32_t)ex.size;
  wasm_exporttype_vec_delete(&ex);
  wasm_module_delete(m);
  wasm_store_delete(store);
  return NULL;
}

TEST(module_shared_across_threads) {
  wasm_engine_t *engine = wasm_engine_new();
  wasm_store_t *store = wasm_store_new(engine);
  wasm_module_t *m = wasm_module_new(store, &binary);
  REQUIRE(m != NULL);
  share_job job = {engine, wasm_module_share(m), -1};
  wasm_module_delete(m); /* the shared module keeps it alive */
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, share_thread, &job) == 0);
  pthread_join(th, NULL);
  CHECK(job.result == 19);
  wasm_shared_module_delete(job.shared);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_capi PATH/capi.wasm\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  wasm_byte_vec_new_uninitialized(&binary, (size_t)n);
  size_t got = fread(binary.data, 1, (size_t)n, f);
  fclose(f);
  if (got != (size_t)n) return 2;
  RUN(vectors_and_types);
  RUN(module_reflection_and_serialization);
  RUN(callback_multi_value_and_reentrancy);
  RUN(globals);
  RUN(memory_growth_and_bounds);
  RUN(tables);
  RUN(traps_with_messages_and_frames);
  RUN(externref_identity_and_host_info);
  RUN(env_finalizers_run_once);
  RUN(instantiation_errors);
  RUN(module_shared_across_threads);
  wasm_byte_vec_delete(&binary);
  return test_summary();
}
