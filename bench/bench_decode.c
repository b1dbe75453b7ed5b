/*
 * bench_decode.c: decode + validate throughput of the engine (wg_module_new).
 *
 *   bench_decode [-t SECONDS] [-r RUNS] [-n NAME] FILE.wasm
 *
 * Loads FILE, checks once that the engine accepts it, then does RUNS timed
 * runs; each run calls wg_module_new + wg_module_delete in a loop for at
 * least SECONDS (default 0.5 s, at least one call) and yields bytes/second.
 * Prints one line with the median run (MB = 10^6 bytes):
 *   decode+validate: NAME SIZE bytes, X MB/s (median of N; min A, max B; K calls/run)
 * Exit status: 0 on success, 1 when the file can't be read or is rejected
 * (the error is printed), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "wasmgate.h"

enum { MAX_RUNS = 101 };

/* Reads a whole file into a malloc'd buffer (owned by the caller). */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc(size ? (size_t)size : 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* One timed run: returns bytes per second; *calls gets the loop count. */
static double timed_run(const uint8_t *bytes, size_t len, double min_seconds, long *calls) {
  long n = 0;
  double start = bench_now_s(), elapsed;
  do {
    wg_module *m = wg_module_new(bytes, len, NULL);
    if (!m) {
      fprintf(stderr, "bench_decode: module rejected during timing\n");
      exit(1);
    }
    wg_module_delete(m);
    n++;
    elapsed = bench_now_s() - start;
  } while (elapsed < min_seconds);
  *calls = n;
  return (double)len * (double)n / elapsed;
}

int main(int argc, char **argv) {
  double seconds = 0.5;
  int runs = 7;
  const char *name = NULL;
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "-t")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-r")) runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-n")) name = argv[i + 1];
    else break;
  }
  if (i + 1 != argc || runs < 1 || runs > MAX_RUNS || seconds < 0) {
    fprintf(stderr, "usage: bench_decode [-t SECONDS] [-r RUNS (1..%d)] [-n NAME] FILE.wasm\n", MAX_RUNS);
    return 2;
  }
  const char *path = argv[i];
  if (!name) name = path;

  size_t len;
  uint8_t *bytes = read_file(path, &len);
  if (!bytes) {
    perror(path);
    return 1;
  }
  wg_error *err = NULL;
  wg_module *m = wg_module_new(bytes, len, &err);
  if (!m) {
    printf("decode+validate: %s %zu bytes, REJECTED at offset %zu: %s\n", name, len, wg_error_offset(err),
           wg_error_message(err));
    wg_error_delete(err);
    free(bytes);
    return 1;
  }
  wg_module_delete(m);

  double rate[MAX_RUNS];
  long calls = 0;
  for (int r = 0; r < runs; r++) rate[r] = timed_run(bytes, len, seconds, &calls);
  qsort(rate, (size_t)runs, sizeof rate[0], bench_cmp_double);
  printf("decode+validate: %s %zu bytes, %.1f MB/s (median of %d; min %.1f, max %.1f; %ld calls/run)\n", name, len,
         rate[runs / 2] / 1e6, runs, rate[0] / 1e6, rate[runs - 1] / 1e6, calls);
  free(bytes);
  return 0;
}
