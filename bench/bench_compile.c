/*
 * bench_compile.c: compile speed of the engine's two code generators on one
 * module: the slot IR compiler (compile.c, what the interpreter runs) and
 * the compiled tier (jit_x64.c, machine code from that IR). Every function
 * is compiled; a fresh module is decoded for each timed run, so nothing is
 * cached between runs. Prints the code section's function bodies in bytes
 * and, for each generator, the median time and the throughput in MB of wasm
 * code per second (the machine-code figures are IR + machine code): the
 * whole module into one code block, as the compiled tier does for modules
 * up to WG_JIT_BATCH_BYTES (jit.h), and one function per block, as it does
 * for larger ones.
 * usage: bench_compile FILE.wasm [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "jit.h"
#include "runtime.h"
#include "wasmgate.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machines are shared */
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: bench_compile FILE.wasm [RUNS]\n"), 2;
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  if (runs < 1 || runs > 100) runs = 5;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  static unsigned char bytes[1 << 26];
  size_t len = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  double ir[100], jit[100], one[100];
  size_t code_bytes = 0;
  uint32_t nfuncs = 0, njit = 0;
  wg_store *s = wg_store_new(NULL, NULL);
  for (int r = 0; r < runs; r++) {
    wg_error *err = NULL;
    wg_module *m = wg_module_new(bytes, len, &err);
    if (!m) return fprintf(stderr, "%s: %s\n", argv[1], wg_error_message(err)), 1;
    code_bytes = 0;
    nfuncs = m->nfuncs - m->nfunc_imports;
    for (uint32_t i = 0; i < nfuncs; i++) code_bytes += m->funcs[m->nfunc_imports + i].body.len;
    double t0 = now_ms();
    for (uint32_t i = 0; i < nfuncs; i++) wg_compile_func(m, m->nfunc_imports + i, NULL);
    double t1 = now_ms();
    njit = 0;
    for (uint32_t i = 0; i < nfuncs; i++) {
      const wg_code *c = wg_compile_func(m, m->nfunc_imports + i, NULL);
      if (c && wg_jit_entry(s, m, c)) njit++;
    }
    double t2 = now_ms();
    /* One function per block (the lazy path of large modules). */
    void **entries = calloc(nfuncs ? nfuncs : 1, sizeof *entries);
    if (!entries) return 1;
    double t3 = now_ms();
    for (uint32_t i = 0; i < nfuncs; i++) {
      const wg_code *c = wg_compile_func(m, m->nfunc_imports + i, NULL);
      const char *why;
      if (c) wg_jit_compile_arch(m, &c, NULL, 1, &entries[i], &why);
    }
    double t4 = now_ms();
    for (uint32_t i = 0; i < nfuncs; i++) wg_jit_free(entries[i]);
    free(entries);
    ir[r] = t1 - t0;
    jit[r] = t2 - t1;
    one[r] = t4 - t3;
    wg_module_delete(m);
  }
  qsort(ir, (size_t)runs, sizeof *ir, cmp);
  qsort(jit, (size_t)runs, sizeof *jit, cmp);
  qsort(one, (size_t)runs, sizeof *one, cmp);
  double ti = ir[runs / 2], tj = jit[runs / 2], to = one[runs / 2], mb = (double)code_bytes / 1e6;
  printf("%s: %u functions (%u compiled to machine code), %zu bytes of code\n", argv[1], nfuncs, njit, code_bytes);
  printf("  slot IR:        %8.2f ms  %8.1f MB/s\n", ti, mb / (ti / 1e3));
  printf("  IR + x86-64:    %8.2f ms  %8.1f MB/s  (one block for the module)\n", ti + tj, mb / ((ti + tj) / 1e3));
  printf("  IR + x86-64:    %8.2f ms  %8.1f MB/s  (one block per function)\n", ti + to, mb / ((ti + to) / 1e3));
  wg_store_delete(s);
  return 0;
}
