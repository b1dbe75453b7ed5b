/*
 * bench_exec.c: runs one benchmark kernel on wasmgate's engine.
 * usage: bench_exec KERNEL.wasm N
 * The kernel exports `run(i32) -> i64` and needs no imports. Prints
 * "result=R ms=T": R to cross-check against native code and V8, T the time of
 * the call alone (compilation of the called functions included, module
 * decoding and validation excluded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wasmgate.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_exec KERNEL.wasm N\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  static unsigned char bytes[1 << 22];
  size_t len = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  wg_error *err = NULL;
  wg_module *m = wg_module_new(bytes, len, &err);
  if (!m) {
    fprintf(stderr, "%s: %s\n", argv[1], wg_error_message(err));
    return 1;
  }
  wg_store *s = wg_store_new(NULL, NULL);
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(s, m, NULL, 0, &err, &trap);
  wg_extern run;
  if (!inst || !wg_instance_export(inst, "run", 3, &run) || run.kind != WG_EXTERN_FUNC) {
    fprintf(stderr, "%s: cannot instantiate or no export run\n", argv[1]);
    return 1;
  }
  wg_val arg = {.kind = WG_I32, .of.i32 = atoi(argv[2])}, result;
  double t0 = now_ms();
  trap = wg_func_call(s, run.of.func, &arg, 1, &result, 1);
  double t1 = now_ms();
  if (trap) {
    fprintf(stderr, "trap: %s\n%s", wg_trap_message(trap), wg_trap_backtrace(trap));
    return 1;
  }
  printf("result=%lld ms=%.2f\n", (long long)result.of.i64, t1 - t0);
  wg_store_delete(s);
  wg_module_delete(m);
  return 0;
}
