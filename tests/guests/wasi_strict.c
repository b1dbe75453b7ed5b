/* wasi_strict.c: what a guest sees under the strict sandbox (Dapr's
 * strictSandbox): the fake clocks, their resolutions, the CPU clocks, the
 * deterministic random bytes (Go's math/rand seeded with 42, as wazero), and
 * that sleeping reads no clock. Raw WASI calls, so that wasi-libc's own
 * reads cannot shift the sequence.
 * usage: wasi_strict */
#include <stdio.h>
#include <wasi/api.h>

static void hex(const char *what, const uint8_t *b, size_t n) {
  printf("%s:", what);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}

int main(void) {
  __wasi_timestamp_t w[3], m[4], res;
  for (int i = 0; i < 3; i++) (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &w[i]);
  printf("realtime: whole second + %llu ns, then +%llu, +%llu\n", (unsigned long long)(w[0] % 1000000000u),
         (unsigned long long)(w[1] - w[0]), (unsigned long long)(w[2] - w[1]));
  for (int i = 0; i < 3; i++) (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &m[i]);
  printf("monotonic: %llu %llu %llu\n", (unsigned long long)m[0], (unsigned long long)m[1], (unsigned long long)m[2]);
  (void)__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res);
  printf("realtime resolution: %llu\n", (unsigned long long)res);
  (void)__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res);
  printf("monotonic resolution: %llu\n", (unsigned long long)res);
  printf("process clock: %d, thread clock: %d\n", __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &res),
         __wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &res));
  uint8_t b[16];
  (void)__wasi_random_get(b, 5);
  hex("random 5", b, 5);
  (void)__wasi_random_get(b, 0);
  (void)__wasi_random_get(b, 9);
  hex("random 9", b, 9);
  (void)__wasi_random_get(b, 16);
  hex("random 16", b, 16);
  /* A 10 s sleep, relative and absolute: both return at once, no clock read. */
  __wasi_subscription_t sub[2] = {{.userdata = 1, .u = {.tag = __WASI_EVENTTYPE_CLOCK,
                                                       .u.clock = {.id = __WASI_CLOCKID_MONOTONIC,
                                                                   .timeout = 10000000000ull}}},
                                  {.userdata = 2, .u = {.tag = __WASI_EVENTTYPE_CLOCK,
                                                       .u.clock = {.id = __WASI_CLOCKID_REALTIME,
                                                                   .timeout = w[2] + 10000000000ull,
                                                                   .flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME}}}};
  __wasi_event_t ev[2];
  __wasi_size_t nev = 0;
  for (int i = 0; i < 2; i++) printf("sleep %d: %d, ", i, __wasi_poll_oneoff(&sub[i], &ev[0], 1, &nev));
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &m[3]);
  (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &res);
  printf("then monotonic %llu, realtime +%llu\n", (unsigned long long)m[3], (unsigned long long)(res - w[2]));
  return 0;
}
