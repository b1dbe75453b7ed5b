/*
 * greeter_host.c: the embedding API against a component from a real
 * toolchain (greeter.c + greeter.wit, built by run_real.sh with clang-19,
 * `jco embed` and `jco new --wasi-reactor`).
 *
 *   greeter_host GREETER.component.wasm
 *
 * Defines the `log` import as a host function (the reactor's WASI imports
 * are left undefined: allow_unknown_imports makes them trap if called),
 * instantiates, calls greet (string in, string out through realloc and
 * post-return, with a canon lower of `log` in between), area (a variant
 * whose f32 and record payloads join) and sum (a list), and checks every
 * result. Also checks that instantiation without allow_unknown names the
 * first missing import, and the semver rule of instance lookups. Exit 0 when
 * all pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasmgate_component.h"

static int fails;
#define CHECK(c, ...)                                  \
  do {                                                 \
    if (!(c)) {                                        \
      fails++;                                         \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);      \
      printf(__VA_ARGS__);                             \
      printf("\n");                                    \
    }                                                  \
  } while (0)

static char logged[256];
static int nlogs;

static wg_trap *host_log(void *env, const wg_cval *args, size_t nargs, wg_cval *results, size_t nresults) {
  (void)env, (void)results;
  if (nargs != 1 || nresults != 0 || args[0].kind != WG_CVAL_STRING) return wg_trap_new(WG_TRAP_HOST, "bad log call");
  size_t n = args[0].of.str.len < sizeof logged - 1 ? args[0].of.str.len : sizeof logged - 1;
  memcpy(logged, args[0].of.str.ptr, n);
  logged[n] = 0;
  nlogs++;
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FILE *fp = fopen(argv[1], "rb");
  if (!fp) return 2;
  static uint8_t buf[4 << 20];
  size_t len = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  wg_component *c = wg_component_new(buf, len, &err);
  if (!c) {
    printf("FAIL load: %s\n", wg_error_message(err));
    return 1;
  }

  /* without the log function the import is reported */
  wg_component_linker *empty = wg_component_linker_new();
  wg_store *s0 = wg_store_new(NULL, NULL);
  CHECK(!wg_component_linker_instantiate(empty, s0, c, &err, &trap) && err, "instantiated without imports");
  if (err) CHECK(strstr(wg_error_message(err), "matching implementation was not found"), "message: %s", wg_error_message(err));
  wg_error_delete(err);
  err = NULL;
  wg_store_delete(s0);
  wg_component_linker_delete(empty);

  wg_component_linker *l = wg_component_linker_new();
  CHECK(wg_component_linker_define_func(l, NULL, "log", host_log, NULL, NULL, &err), "define log");
  CHECK(!wg_component_linker_define_func(l, NULL, "log", host_log, NULL, NULL, &err) && err, "defined twice");
  wg_error_delete(err);
  err = NULL;
  wg_component_linker_allow_unknown_imports(l, true);
  wg_store *s = wg_store_new(NULL, NULL);
  double t0 = now();
  wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, &err, &trap);
  double t1 = now();
  if (!inst) {
    printf("FAIL instantiate: %s\n", err ? wg_error_message(err) : trap ? wg_trap_message(trap) : "?");
    return 1;
  }

  wg_component_func *greet = wg_component_instance_func(inst, NULL, "greet");
  wg_component_func *area = wg_component_instance_func(inst, NULL, "area");
  wg_component_func *sum = wg_component_instance_func(inst, NULL, "sum");
  CHECK(greet && area && sum, "exports");
  CHECK(!wg_component_instance_func(inst, NULL, "nope"), "unknown export found");
  if (!greet || !area || !sum) return 1;
  CHECK(wg_component_func_param_count(greet) == 1 && wg_component_func_result_count(greet) == 1, "greet arity");

  wg_cval arg, res;
  wg_cval_string(&arg, "world", 5);
  trap = wg_component_func_call(greet, &arg, 1, &res, 1);
  CHECK(!trap, "greet trapped: %s", trap ? wg_trap_message(trap) : "");
  CHECK(res.kind == WG_CVAL_STRING && res.of.str.len == 11 && !memcmp(res.of.str.ptr, "hello world", 11), "greet result");
  CHECK(nlogs == 1 && !strcmp(logged, "hello world"), "log saw '%s' (%d calls)", logged, nlogs);
  wg_cval_free(&res);

  /* a type mismatch is refused before anything runs */
  wg_cval bad = {.kind = WG_CVAL_U32, .of.u = 1};
  trap = wg_component_func_call(greet, &bad, 1, &res, 1);
  CHECK(trap && strstr(wg_trap_message(trap), "type mismatch"), "mismatch not refused");
  wg_trap_delete(trap);

  /* area(circle(2.0), 1.0) and area(rect({3, 4}), 2.0) */
  wg_cval a[2];
  a[0].kind = WG_CVAL_VARIANT;
  a[0].of.var.disc = 0;
  a[0].of.var.val = wg_cval_array(1);
  a[0].of.var.val->kind = WG_CVAL_F32;
  a[0].of.var.val->of.f32 = 2.0f;
  a[1].kind = WG_CVAL_F64;
  a[1].of.f64 = 1.0;
  trap = wg_component_func_call(area, a, 2, &res, 1);
  CHECK(!trap && res.kind == WG_CVAL_F64 && fabs(res.of.f64 - 3.14159 * 4) < 1e-3, "area circle %f", res.of.f64);
  wg_cval_free(&a[0]);
  a[0].kind = WG_CVAL_VARIANT;
  a[0].of.var.disc = 1;
  a[0].of.var.val = wg_cval_array(1);
  a[0].of.var.val->kind = WG_CVAL_RECORD;
  a[0].of.var.val->of.seq.len = 2;
  a[0].of.var.val->of.seq.ptr = wg_cval_array(2);
  a[0].of.var.val->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_S32, .of.s = 3};
  a[0].of.var.val->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_S32, .of.s = 4};
  a[1].of.f64 = 2.0;
  trap = wg_component_func_call(area, a, 2, &res, 1);
  CHECK(!trap && res.kind == WG_CVAL_F64 && res.of.f64 == 24.0, "area rect %f", res.of.f64);
  wg_cval_free(&a[0]);

  wg_cval xs = {.kind = WG_CVAL_LIST};
  xs.of.seq.len = 1000;
  xs.of.seq.ptr = wg_cval_array(1000);
  for (int i = 0; i < 1000; i++) xs.of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_U32, .of.u = (uint64_t)i * 1000000};
  trap = wg_component_func_call(sum, &xs, 1, &res, 1);
  CHECK(!trap && res.kind == WG_CVAL_U64 && res.of.u == 499500ull * 1000000, "sum %llu", (unsigned long long)res.of.u);
  wg_cval_free(&xs);

  /* timing (reported, not asserted): instantiate, and a call with a short
   * string in and out (greet: realloc, a host call, post-return) */
  int n = 20000;
  double t2 = now();
  for (int i = 0; i < n; i++) {
    wg_trap *tr = wg_component_func_call(greet, &arg, 1, &res, 1);
    wg_trap_delete(tr);
    wg_cval_free(&res);
  }
  double t3 = now();
  printf("greeter: instantiate %.1f us, greet(\"world\") call %.0f ns\n", (t1 - t0) * 1e6, (t3 - t2) / n * 1e9);
  wg_cval_free(&arg);

  wg_store_delete(s);
  wg_component_linker_delete(l);

  /* a typed `log`: the right type links, again from the linker's cache of
   * checked imports; a wrong one is refused naming the import, also after a
   * good instantiation of another component (the cache is per component) */
  wg_component_linker *lt = wg_component_linker_new(), *lw = wg_component_linker_new();
  CHECK(wg_component_linker_define_func_typed(lt, NULL, "log", "func(msg: string)", host_log, NULL, NULL, &err) &&
            wg_component_linker_define_func_typed(lw, NULL, "log", "func(msg: list<u8>)", host_log, NULL, NULL, &err),
        "define typed log");
  wg_component_linker_allow_unknown_imports(lt, true);
  wg_component_linker_allow_unknown_imports(lw, true);
  for (int i = 0; i < 2; i++) {
    wg_store *st = wg_store_new(NULL, NULL);
    CHECK(wg_component_linker_instantiate(lt, st, c, &err, &trap), "typed log refused (round %d): %s", i,
          err ? wg_error_message(err) : "");
    wg_store_delete(st);
  }
  wg_store *sw = wg_store_new(NULL, NULL);
  CHECK(!wg_component_linker_instantiate(lw, sw, c, &err, &trap) && err &&
            strstr(wg_error_message(err), "component imports function `log`, but a matching implementation was not "
                                          "found in the linker: type mismatch in parameter 1 (`msg`): the host "
                                          "defines `func(msg: list<u8>)`, the component imports `func(msg: string)`"),
        "wrongly typed log: %s", err ? wg_error_message(err) : "accepted");
  wg_error_delete(err);
  err = NULL;
  wg_store_delete(sw);
  wg_component *c2 = wg_component_new(buf, len, &err); /* the same bytes, another component */
  wg_store *s2 = wg_store_new(NULL, NULL);
  CHECK(c2 && wg_component_linker_instantiate(lt, s2, c2, &err, &trap), "typed log, second component");
  wg_store_delete(s2);
  wg_component_delete(c2);
  wg_component_linker_delete(lt);
  wg_component_linker_delete(lw);
  wg_component_delete(c);
  printf("greeter_host: %s\n", fails ? "FAILED" : "all checks passed");
  return fails ? 1 : 0;
}
