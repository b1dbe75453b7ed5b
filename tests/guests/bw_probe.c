/* bw_probe.c: a WASI command for the bindings.wasm bounds and sandbox tests
 * (tests/gate/wasm_binding_limits_e2e.py). argv[1] picks what it does:
 *   out N     writes N bytes ('x') to stdout, in 64 KiB writes, then exits
 *   flood     writes to stdout forever
 *   grow N    allocates and touches N MiB; prints "ok", or exits 1 with "oom"
 *   sandbox   prints "<monotonic delta ns> <slept ms> <8 random bytes hex>":
 *             two monotonic reads around a 2 s sleep, measured on the realtime clock
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char chunk[65536];

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  memset(chunk, 'x', sizeof chunk);
  if (!strcmp(mode, "out") && argc > 2) {
    long n = atol(argv[2]);
    while (n > 0) {
      size_t k = n < (long)sizeof chunk ? (size_t)n : sizeof chunk;
      if (write(1, chunk, k) < 0) return 2;
      n -= (long)k;
    }
    return 0;
  }
  if (!strcmp(mode, "flood"))
    for (;;) (void)!write(1, chunk, sizeof chunk);
  if (!strcmp(mode, "grow") && argc > 2) {
    size_t n = (size_t)atol(argv[2]) << 20;
    char *volatile p = malloc(n); /* volatile: the allocation must not be optimised away */
    if (!p) {
      printf("oom");
      return 1;
    }
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    printf("ok");
    return 0;
  }
  if (!strcmp(mode, "sandbox")) {
    struct timespec a, b, w0, w1;
    clock_gettime(CLOCK_REALTIME, &w0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec d = {2, 0};
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_REALTIME, &w1);
    unsigned char r[8];
    getentropy(r, sizeof r);
    long long delta = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    long long slept = (long long)(w1.tv_sec - w0.tv_sec) * 1000LL + (w1.tv_nsec - w0.tv_nsec) / 1000000;
    printf("%lld %lld ", delta, slept);
    for (int i = 0; i < 8; i++) printf("%02x", r[i]);
    return 0;
  }
  return 3;
}
