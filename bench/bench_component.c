/*
 * bench_component.c: costs of running components (issue 13's numbers).
 *
 *   bench_component HELLO.wasm HELLO.component.wasm HOSTCALL.component.wasm
 *
 * 1. load + validate + instantiate + run a C hello world, as a preview1
 *    module (wg_module_new, wg_wasi_link, _start) and as the same program
 *    adapted into a WASI 0.2 component (wg_component_new, wg_wasi_p2_define,
 *    wasi:cli/run), output captured; median of 15 each, and their ratio;
 * 2. instantiating an already-loaded component (new store + instantiate +
 *    delete), the hello command and bench/component/hostcall.wat;
 * 3. a canon-lowered host call with a 5-byte string (the guest loops; the
 *    host function does nothing), and the cheapest call into a lifted
 *    export from the host (id: u32 -> u32).
 * Prints one line per number. Not a test: nothing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasmgate_component.h"
#include "wgwasi.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *p, size_t *len) {
  FILE *f = fopen(p, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) b = (free(b), NULL);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

static const char *argv0[] = {"hello"};

static double run_p1(const uint8_t *b, size_t len) {
  double t0 = now();
  wg_module *m = wg_module_new(b, len, NULL);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_wasi_config wc = {.argc = 1, .argv = argv0, .capture_output = true};
  char err[256];
  wg_wasi *w = wg_wasi_new(&wc, err, sizeof err);
  uint32_t n = wg_module_import_count(m);
  wg_extern *im = calloc(n + 1, sizeof *im);
  wg_wasi_link(w, s, m, im, err, sizeof err);
  wg_instance *inst = wg_instance_new(s, m, im, n, NULL, NULL);
  wg_extern ex;
  if (inst && wg_instance_export(inst, "_start", 6, &ex)) wg_trap_delete(wg_func_call(s, ex.of.func, NULL, 0, NULL, 0));
  double t1 = now();
  size_t ol;
  wg_wasi_output(w, 1, &ol);
  if (ol != 20) fprintf(stderr, "p1: unexpected output\n");
  free(im);
  wg_store_delete(s);
  wg_wasi_delete(w);
  wg_module_delete(m);
  return t1 - t0;
}

static double run_p2(const uint8_t *b, size_t len) {
  double t0 = now();
  wg_component *c = wg_component_new(b, len, NULL);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_wasi_config wc = {.argc = 1, .argv = argv0, .capture_output = true};
  char err[256];
  wg_wasi *w = wg_wasi_new(&wc, err, sizeof err);
  wg_component_linker *l = wg_component_linker_new();
  wg_wasi_p2_define(w, l, err, sizeof err);
  wg_component_linker_allow_unknown_imports(l, true);
  wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, NULL, NULL);
  wg_component_func *run = inst ? wg_component_instance_func(inst, "wasi:cli/run@0.2.0", "run") : NULL;
  wg_cval r = {0};
  if (run) wg_trap_delete(wg_component_func_call(run, NULL, 0, &r, 1));
  double t1 = now();
  size_t ol;
  wg_wasi_output(w, 1, &ol);
  if (ol != 20) fprintf(stderr, "p2: unexpected output\n");
  wg_cval_free(&r);
  wg_store_delete(s);
  wg_component_linker_delete(l);
  wg_wasi_delete(w);
  wg_component_delete(c);
  return t1 - t0;
}

static wg_trap *nop(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)r, (void)nr;
  return NULL;
}

static double instantiate_us(const wg_component *c, const wg_component_linker *l) {
  double v[201];
  for (int i = 0; i < 201; i++) {
    wg_store *s = wg_store_new(NULL, NULL);
    double t0 = now();
    wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, NULL, NULL);
    v[i] = now() - t0;
    if (!inst) fprintf(stderr, "instantiate failed\n");
    wg_store_delete(s);
  }
  return median(v, 201) * 1e6;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_component HELLO.wasm HELLO.component.wasm HOSTCALL.component.wasm\n");
    return 2;
  }
  size_t l1, l2, l3;
  uint8_t *p1 = slurp(argv[1], &l1), *p2 = slurp(argv[2], &l2), *hc = slurp(argv[3], &l3);
  if (!p1 || !p2 || !hc) return 1;
  double a[15], b[15];
  run_p1(p1, l1), run_p2(p2, l2); /* warm up */
  for (int i = 0; i < 15; i++) a[i] = run_p1(p1, l1), b[i] = run_p2(p2, l2);
  double ma = median(a, 15), mb = median(b, 15);
  printf("hello, load+validate+instantiate+run: preview1 module (%zu B) %.2f ms, component (%zu B) %.2f ms, ratio %.2fx\n",
         l1, ma * 1e3, l2, mb * 1e3, mb / ma);

  wg_component *hello = wg_component_new(p2, l2, NULL), *h = wg_component_new(hc, l3, NULL);
  if (!hello || !h) return 1;
  wg_wasi_config wc = {.argc = 1, .argv = argv0, .capture_output = true};
  char err[256];
  wg_wasi *w = wg_wasi_new(&wc, err, sizeof err);
  wg_component_linker *lw = wg_component_linker_new(), *lh = wg_component_linker_new();
  wg_wasi_p2_define(w, lw, err, sizeof err);
  wg_component_linker_allow_unknown_imports(lw, true);
  wg_component_linker_define_func(lh, NULL, "log", nop, NULL, NULL, NULL);
  printf("instantiate an already-loaded component: hello command %.1f us, hostcall.wat %.1f us (median of 201)\n",
         instantiate_us(hello, lw), instantiate_us(h, lh));

  wg_store *s = wg_store_new(NULL, NULL);
  wg_component_instance *inst = wg_component_linker_instantiate(lh, s, h, NULL, NULL);
  wg_component_func *run = wg_component_instance_func(inst, NULL, "run"), *id = wg_component_instance_func(inst, NULL, "id");
  wg_cval n0 = {.kind = WG_CVAL_U32, .of.u = 0}, n = {.kind = WG_CVAL_U32, .of.u = 1000000}, r;
  double c0[9], c1[9], c2[9];
  for (int k = 0; k < 9; k++) {
    double t0 = now();
    wg_trap_delete(wg_component_func_call(run, &n0, 1, NULL, 0));
    double t1 = now();
    wg_trap_delete(wg_component_func_call(run, &n, 1, NULL, 0));
    double t2 = now();
    for (int i = 0; i < 100000; i++) wg_trap_delete(wg_component_func_call(id, &n0, 1, &r, 1));
    double t3 = now();
    c0[k] = t1 - t0, c1[k] = t2 - t1, c2[k] = t3 - t2;
  }
  printf("guest -> host call with a 5-byte string (canon lower, lifted to a wg_cval): %.0f ns\n",
         (median(c1, 9) - median(c0, 9)) / 1e6 * 1e9);
  printf("host -> guest call of id(u32) -> u32 (canon lift): %.0f ns\n", median(c2, 9) / 1e5 * 1e9);
  wg_store_delete(s);
  wg_component_linker_delete(lw);
  wg_component_linker_delete(lh);
  wg_wasi_delete(w);
  wg_component_delete(hello);
  wg_component_delete(h);
  free(p1), free(p2), free(hc);
  return 0;
}
