/* kernels.c: small compute kernels (sorting, hashing, matrix product,
 * string formatting), compiled to wasm32-wasi by the build; a real clang
 * output exercising loops, indirect calls and libc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static uint32_t fnv1a(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static void matmul(int n, const double *a, const double *b, double *c) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 64;
  int *xs = malloc(sizeof *xs * (size_t)n);
  double *a = malloc(sizeof *a * (size_t)n * (size_t)n), *c = malloc(sizeof *c * (size_t)n * (size_t)n);
  if (!xs || !a || !c) return 1;
  for (int i = 0; i < n; i++) xs[i] = (i * 7919) % 1009;
  qsort(xs, (size_t)n, sizeof *xs, cmp_int);
  for (int i = 0; i < n * n; i++) a[i] = i % 17 * 0.5;
  matmul(n, a, a, c);
  char buf[128];
  int len = snprintf(buf, sizeof buf, "%d %d %.3f", xs[0], xs[n - 1], c[n * n - 1]);
  printf("%s %08x\n", buf, fnv1a(buf, (size_t)len));
  free(xs);
  free(a);
  free(c);
  return 0;
}
