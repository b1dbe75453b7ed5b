/*
 * bench_api.c: costs of the embedding API (issue targets in parentheses):
 *   - calling an empty exported function from the host (< 50 ns);
 *   - a host function called from wasm (< 30 ns): a loop calling it, minus
 *     the same loop without the call;
 *   - instantiating a small module (< 10 us), store creation excluded;
 *   - heap memory of the engine for a small module, decoded and instantiated
 *     (glibc mallinfo2), plus the address space its memory reserves.
 * Modules are assembled here, byte by byte (commented).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wasmgate.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* (module (func (export "nop"))) */
static const uint8_t nop_mod[] = {0, 'a', 's', 'm', 1, 0, 0, 0,
                                  1, 4, 1, 0x60, 0, 0,                 /* type ()->() */
                                  3, 2, 1, 0,                          /* func 0 */
                                  7, 7, 1, 3, 'n', 'o', 'p', 0, 0,     /* export "nop" */
                                  10, 4, 1, 2, 0, 0x0b};               /* body: end */

/* (module (import "e" "h" (func))
 *   (func (export "loop") (param i32) (loop (call 0) (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if 0 (local.get 0))))
 *   (func (export "loop0") (param i32) (loop (local.set 0 (i32.sub ...)) (br_if 0 (local.get 0))))
 *   (memory 1) (table 4 funcref) (global (mut i32) (i32.const 0))) */
static const uint8_t host_mod[] = {
    0, 'a', 's', 'm', 1, 0, 0, 0,
    1, 8, 2, 0x60, 0, 0, 0x60, 1, 0x7f, 0,                              /* types: ()->(), (i32)->() */
    2, 7, 1, 1, 'e', 1, 'h', 0, 0,                                      /* import e.h: type 0 */
    3, 3, 2, 1, 1,                                                      /* funcs 1, 2: type 1 */
    4, 4, 1, 0x70, 0, 4,                                                /* table 4 funcref */
    5, 3, 1, 0, 1,                                                      /* memory 1 */
    6, 6, 1, 0x7f, 1, 0x41, 0, 0x0b,                                    /* global (mut i32) 0 */
    7, 16, 2, 4, 'l', 'o', 'o', 'p', 0, 1, 5, 'l', 'o', 'o', 'p', '0', 0, 2, /* exports */
    10, 37, 2,
    18, 0, 0x03, 0x40, 0x10, 0, 0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x20, 0, 0x0d, 0, 0x0b, 0x0b,
    16, 0, 0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x20, 0, 0x0d, 0, 0x0b, 0x0b};

static wg_trap *nothing(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return NULL;
}

static wg_func *export_of(wg_instance *inst, const char *name, size_t len) {
  wg_extern ex;
  return wg_instance_export(inst, name, len, &ex) ? ex.of.func : NULL;
}

static wg_instance *instantiate_host(wg_store *s, wg_module *m) {
  wg_functype_desc t = {0, 0, NULL, NULL};
  wg_extern imp = {WG_EXTERN_FUNC, {.func = wg_func_new_host(s, &t, nothing, NULL, NULL)}};
  return wg_instance_new(s, m, &imp, 1, NULL, NULL);
}

int main(void) {
  const int N = 2000000;
  /* 1. host -> wasm, empty function */
  wg_module *nm = wg_module_new(nop_mod, sizeof nop_mod, NULL);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_instance *ni = wg_instance_new(s, nm, NULL, 0, NULL, NULL);
  wg_func *nop = export_of(ni, "nop", 3);
  if (!nop) return 1;
  wg_func_call(s, nop, NULL, 0, NULL, 0); /* compile */
  double t0 = now_ns();
  for (int i = 0; i < N; i++) wg_trap_delete(wg_func_call(s, nop, NULL, 0, NULL, 0));
  double call_ns = (now_ns() - t0) / N;
  wg_store_delete(s);

  /* 2. wasm -> host */
  wg_module *hm = wg_module_new(host_mod, sizeof host_mod, NULL);
  if (!hm) return 1;
  s = wg_store_new(NULL, NULL);
  wg_instance *hi = instantiate_host(s, hm);
  wg_func *loop = export_of(hi, "loop", 4), *loop0 = export_of(hi, "loop0", 5);
  if (!loop || !loop0) return 1;
  wg_val n = {.kind = WG_I32, .of.i32 = N};
  t0 = now_ns();
  wg_trap_delete(wg_func_call(s, loop, &n, 1, NULL, 0));
  double with = now_ns() - t0;
  t0 = now_ns();
  wg_trap_delete(wg_func_call(s, loop0, &n, 1, NULL, 0));
  double without = now_ns() - t0;
  wg_store_delete(s);

  /* 3. instantiation of a small module (imports, memory, table, global) */
  const int M = 20000;
  double inst_total = 0;
  for (int i = 0; i < M; i++) {
    s = wg_store_new(NULL, NULL);
    t0 = now_ns();
    wg_instance *x = instantiate_host(s, hm);
    inst_total += now_ns() - t0;
    if (!x) return 1;
    wg_store_delete(s);
  }

  /* 4. memory for one small module, decoded and instantiated */
  struct mallinfo2 before = mallinfo2();
  wg_module *mm = wg_module_new(host_mod, sizeof host_mod, NULL);
  s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 4096});
  wg_instance *mi = instantiate_host(s, mm);
  wg_trap_delete(wg_func_call(s, export_of(mi, "loop0", 5), &(wg_val){.kind = WG_I32, .of.i32 = 1}, 1, NULL, 0));
  struct mallinfo2 after = mallinfo2();

  printf("host -> wasm, empty function:  %6.1f ns per call (target < 50)\n", call_ns);
  printf("wasm -> host, no-op host func: %6.1f ns per call (target < 30)\n", (with - without) / N);
  printf("instantiate a small module:    %6.2f us (target < 10; imports, 1-page memory, table, global)\n",
         inst_total / M / 1000);
  printf("heap for that module, decoded, instantiated and run once (value stack 4096 slots): %zu bytes\n",
         after.uordblks - before.uordblks);
  wg_store_delete(s);
  wg_module_delete(mm);
  wg_module_delete(hm);
  wg_module_delete(nm);
  return 0;
}
