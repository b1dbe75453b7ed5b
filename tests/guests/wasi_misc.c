/* wasi_misc.c: arguments, environment, stdin, clocks, random bytes and exit
 * codes. usage: wasi_misc MODE [ARGS...]; MODE is args | env | stdin | clock |
 * random | exit N | trap | spin | poll MS | sleep MS. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *mode = argv[1];
  if (!strcmp(mode, "args")) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  } else if (!strcmp(mode, "env")) {
    for (char **e = environ; *e; e++) printf("%s\n", *e);
  } else if (!strcmp(mode, "stdin")) {
    char buf[4096];
    size_t n, total = 0;
    unsigned sum = 0;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
      for (size_t i = 0; i < n; i++) sum = sum * 31 + (unsigned char)buf[i];
      total += n;
    }
    printf("stdin: %zu bytes, hash %08x\n", total, sum);
  } else if (!strcmp(mode, "clock")) {
    struct timespec a, b, r;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_getres(CLOCK_MONOTONIC, &r);
    printf("monotonic %lld.%09ld then %lld.%09ld, res %ld ns\n", (long long)a.tv_sec, a.tv_nsec,
           (long long)b.tv_sec, b.tv_nsec, r.tv_nsec);
    printf("realtime after 2020: %d\n", time(NULL) > 1577836800);
  } else if (!strcmp(mode, "random")) {
    uint8_t bytes[16];
    arc4random_buf(bytes, sizeof bytes);
    for (int i = 0; i < 16; i++) printf("%02x", bytes[i]);
    printf("\n");
  } else if (!strcmp(mode, "exit")) {
    printf("exiting with %d\n", atoi(argv[2]));
    fflush(stdout);
    exit(atoi(argv[2]));
  } else if (!strcmp(mode, "trap")) {
    __builtin_trap();
  } else if (!strcmp(mode, "poll")) {
    struct pollfd p = {0, POLLIN, 0};
    int r = poll(&p, 1, atoi(argv[2]));
    printf("%s\n", r > 0 && (p.revents & POLLIN) ? "ready" : r == 0 ? "timeout" : "error");
  } else if (!strcmp(mode, "sleep")) {
    struct timespec a, b, d = {0, atoi(argv[2]) * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
    printf("slept: %s\n", ms >= atoi(argv[2]) ? "the time asked" : "returned early");
  } else if (!strcmp(mode, "spin")) {
    volatile unsigned x = 0;
    for (;;) x++;
  }
  return 0;
}
