/*
 * bench_util.h: what the in-process benchmarks share: a monotonic clock in
 * seconds and the comparison for qsort-ing run results to take a median.
 */
#ifndef WG_BENCH_UTIL_H
#define WG_BENCH_UTIL_H

#include <time.h>

/* CLOCK_MONOTONIC, in seconds. */
static inline double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Ascending order of doubles, for qsort. */
static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#endif
