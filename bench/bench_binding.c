/*
 * bench_binding.c: the cost of one bindings.wasm call without HTTP: what the
 * output binding does per invocation (gate/wasmhost/wasm_binding.c), i.e.
 * wgg_wasm_run_command on a fresh instance of a small C WASI command with the
 * request data as stdin, argv from the metadata and stdout captured. The
 * issue's target is < 20 us per call (Dapr reports 12-40 us).
 * usage: bench_binding [-t SECONDS] [-r RUNS] FILE.wasm
 * Prints the median over RUNS timed runs of >= SECONDS each, in us per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "wasmhost/wasmhost.h"

/* One call as the binding makes it; returns 0, or -1 after printing why. */
static int call_once(const wg_module *m, const char *guest) {
  static const char data[] = "hello wasm";
  const char *argv[] = {guest, "loud"};
  wg_wasi_config cfg = {.argc = 2, .argv = argv, .stdin_buf = (const uint8_t *)data, .stdin_len = sizeof data - 1,
                        .use_stdin_buf = true, .capture_output = true};
  wgg_wasm_run_result r = {0};
  wgg_err err;
  if (wgg_wasm_run_command(m, &cfg, 30000, &r, &err)) {
    fprintf(stderr, "bench_binding: %s\n", err.msg);
    return -1;
  }
  int bad = r.exit_code != 0 || r.stdout_len == 0;
  if (bad) fprintf(stderr, "bench_binding: exit %d, %zu bytes of output\n", r.exit_code, r.stdout_len);
  free(r.stdout_data);
  return bad ? -1 : 0;
}

int main(int argc, char **argv) {
  double secs = 0.5;
  int runs = 7, i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "-t")) secs = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-r")) runs = atoi(argv[i + 1]);
  }
  if (i >= argc || runs < 1 || runs > 99) {
    fprintf(stderr, "usage: bench_binding [-t SECONDS] [-r RUNS] FILE.wasm\n");
    return 2;
  }
  wgg_err err;
  char *guest = NULL;
  wg_module *m = wgg_wasm_load(argv[i], &guest, &err);
  if (!m) {
    fprintf(stderr, "bench_binding: %s\n", err.msg);
    return 1;
  }
  wgg_wasm_ticker_start();
  double us[99];
  long calls = 0;
  for (int k = 0; k < 20; k++)
    if (call_once(m, guest)) return 1; /* warm up */
  for (int run = 0; run < runs; run++) {
    long n = 0;
    double t0 = bench_now_s(), t;
    do {
      for (int k = 0; k < 50; k++, n++)
        if (call_once(m, guest)) return 1;
    } while ((t = bench_now_s()) - t0 < secs);
    us[run] = (t - t0) * 1e6 / (double)n;
    calls = n;
  }
  qsort(us, (size_t)runs, sizeof us[0], bench_cmp_double);
  printf("bindings.wasm call (%s, fresh instance, stdin+argv+stdout): %.1f us per call (median of %d; min %.1f, "
         "max %.1f; %ld calls/run)\n",
         guest, us[runs / 2], runs, us[0], us[runs - 1], calls);
  free(guest);
  wg_module_delete(m);
  return 0;
}
