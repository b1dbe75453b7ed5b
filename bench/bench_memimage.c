/*
 * bench_memimage.c: the cost of a fresh instance of one module, with and without the
 * copy-on-write image of its initial memory (wasmgate.h wg_memimage_new), side by side:
 *   off   an ordinary memory: zeroed (a recycled mapping is memset) and the data segments copied;
 *   copy  the image's heap-copy fallback: the initial memory memcpy'd from the image;
 *   cow   the image mapped MAP_PRIVATE (a released mapping reset with madvise and reused).
 * Each round is what a fresh wasm app instance pays around its request: a new store, every import
 * bound to a stub host function, wg_instance_new (no _start), then writes to TOUCH pages of the
 * initial memory (a guest's stack and heap: each first write to a page of a cow memory copies
 * it), and wg_store_delete. Prints the median of 5 runs of N rounds in µs per round. Then the same
 * three as an instance reset for reuse (the fresh policy's default): TOUCH page writes, optionally
 * a memory.grow of one page, and wg_instance_reset, in thread CPU µs per round.
 * usage: bench_memimage MODULE.wasm [N (20000)] [TOUCH (4)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "wasmgate.h"

static wg_trap *stub(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return wg_trap_new(WG_TRAP_HOST, "stub");
}

static wg_module *mod;
static uint32_t nimports;

/* One fresh instance: store, stub imports, instance, page writes, delete. 0 or -1. */
static int round_trip(wg_memimage *img, unsigned touch) {
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 1u << 16, .max_memory_pages = 1024});
  if (!s) return -1;
  wg_store_set_memimage(s, img);
  wg_extern im[256];
  for (uint32_t i = 0; i < nimports && i < 256; i++) {
    wg_externtype t;
    wg_extern_desc d;
    if (!wg_module_import(mod, i, &d) || d.kind != WG_EXTERN_FUNC || !wg_module_extern_type(mod, WG_EXTERN_FUNC, i, &t)) {
      wg_store_delete(s);
      return -1;
    }
    wg_functype_desc ft = {t.func.nparams, t.func.nresults, t.func.params, t.func.results};
    im[i] = (wg_extern){.kind = WG_EXTERN_FUNC, .of.func = wg_func_new_host(s, &ft, stub, NULL, NULL)};
  }
  wg_error *e = NULL;
  wg_trap *tr = NULL;
  wg_instance *inst = wg_instance_new(s, mod, im, nimports, &e, &tr);
  int rc = inst ? 0 : -1;
  if (!inst) fprintf(stderr, "instantiate: %s\n", e ? wg_error_message(e) : tr ? wg_trap_message(tr) : "?");
  wg_error_delete(e);
  wg_trap_delete(tr);
  if (inst) {
    wg_memory *m = wg_instance_memory(inst);
    uint8_t *p = wg_memory_data(m);
    uint64_t size = wg_memory_size(m);
    for (unsigned k = 0; k < touch && (uint64_t)(k + 1) * 16384 <= size; k++) p[size - 1 - (uint64_t)k * 16384] ^= 1;
  }
  wg_store_delete(s);
  return rc;
}

/* CPU time of this thread in seconds (system time included: the resets' system calls). */
static double cpu_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The fresh policy by reset (wg_instance_reset): one instance, then N rounds of TOUCH page writes
 * (and, with `grow`, a memory.grow of 1 page) followed by a reset. Median of 5 runs, CPU µs per
 * round; -1 when the instance cannot be made or reset. */
static double run_reset(wg_memimage *img, long n, unsigned touch, bool grow) {
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 1u << 16, .max_memory_pages = 1024});
  if (!s) return -1;
  wg_store_set_memimage(s, img);
  wg_extern im[256];
  for (uint32_t i = 0; i < nimports && i < 256; i++) {
    wg_externtype t;
    wg_module_extern_type(mod, WG_EXTERN_FUNC, i, &t);
    wg_functype_desc ft = {t.func.nparams, t.func.nresults, t.func.params, t.func.results};
    im[i] = (wg_extern){.kind = WG_EXTERN_FUNC, .of.func = wg_func_new_host(s, &ft, stub, NULL, NULL)};
  }
  wg_error *e = NULL;
  wg_trap *tr = NULL;
  wg_instance *inst = wg_instance_new(s, mod, im, nimports, &e, &tr);
  double runs[5] = {-1, -1, -1, -1, -1};
  for (int r = 0; inst && r < 5; r++) {
    double t0 = cpu_now_s();
    for (long i = 0; i < n; i++) {
      wg_memory *m = wg_instance_memory(inst);
      if (grow) wg_memory_grow(m, 1);
      uint8_t *p = wg_memory_data(m);
      uint64_t size = wg_memory_size(m);
      for (unsigned k = 0; k < touch && (uint64_t)(k + 1) * 16384 <= size; k++) p[size - 1 - (uint64_t)k * 16384] ^= 1;
      if (!wg_instance_reset(inst, &e, &tr)) {
        runs[r] = -1;
        break;
      }
    }
    runs[r] = (cpu_now_s() - t0) / (double)n * 1e6;
  }
  wg_error_delete(e);
  wg_trap_delete(tr);
  wg_store_delete(s);
  qsort(runs, 5, sizeof runs[0], bench_cmp_double);
  return runs[2];
}

static double run(wg_memimage *img, long n, unsigned touch) {
  double runs[5];
  for (int r = 0; r < 5; r++) {
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
      if (round_trip(img, touch)) return -1;
    runs[r] = (bench_now_s() - t0) / (double)n * 1e6;
  }
  qsort(runs, 5, sizeof runs[0], bench_cmp_double);
  return runs[2];
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_memimage MODULE.wasm [N] [TOUCH]\n");
    return 2;
  }
  long n = argc > 2 ? atol(argv[2]) : 20000;
  unsigned touch = argc > 3 ? (unsigned)atoi(argv[3]) : 4;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len);
  if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) return fprintf(stderr, "cannot read %s\n", argv[1]), 1;
  fclose(f);
  wg_error *e = NULL;
  if (!(mod = wg_module_new(b, (size_t)len, &e))) return fprintf(stderr, "%s\n", wg_error_message(e)), 1;
  nimports = wg_module_import_count(mod);
  wg_memimage *copy = wg_memimage_new(mod, WG_MEMIMAGE_NO_COW, &e), *cow = wg_memimage_new(mod, 0, &e);
  if (!copy || !cow) return fprintf(stderr, "memory image: %s\n", wg_error_message(e)), 1;
  wg_externtype mt;
  wg_module_extern_type(mod, WG_EXTERN_MEMORY, 0, &mt);
  printf("fresh instance of %s (%u imports, initial memory %u pages), %u pages written, N=%ld\n", argv[1], nimports,
         mt.min, touch, n);
  double off = run(NULL, n, touch), cp = run(copy, n, touch), cw = run(cow, n, touch);
  printf("%-6s %10s %8s\n", "memory", "µs/round", "vs off");
  printf("%-6s %10.2f %7.2fx\n", "off", off, 1.0);
  printf("%-6s %10.2f %7.2fx\n", "copy", cp, off / cp);
  printf("%-6s %10.2f %7.2fx%s\n", "cow", cw, off / cw, wg_memimage_is_cow(cow) ? "" : " (no memfd: heap copy)");
  printf("reset for reuse instead (wg_instance_reset), CPU µs per round (TOUCH page writes + reset)\n");
  printf("%-6s %10s %14s\n", "memory", "reset", "grown+reset");
  wg_memimage *imgs[3] = {NULL, copy, cow};
  const char *names[3] = {"off", "copy", "cow"};
  for (int k = 0; k < 3; k++)
    printf("%-6s %10.2f %14.2f\n", names[k], run_reset(imgs[k], n, touch, false), run_reset(imgs[k], n, touch, true));
  wg_memimage_delete(copy);
  wg_memimage_delete(cow);
  wg_module_delete(mod);
  free(b);
  return 0;
}
