/* native_main.c: runs a benchmark kernel compiled natively, printing
 * "result=R ms=T" like bench_exec. usage: KERNEL N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

long long run(int n);

int main(int argc, char **argv) {
  struct timespec a, b;
  int n = argc > 1 ? atoi(argv[1]) : 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  long long r = run(n);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("result=%lld ms=%.2f\n", r, (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
  return 0;
}
