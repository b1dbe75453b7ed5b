/* trace.c: see trace.h. */
#include "observe/trace.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static bool hex_run(const char *s, size_t n, bool *all_zero) {
  *all_zero = true;
  for (size_t i = 0; i < n; i++) {
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    if (s[i] != '0') *all_zero = false;
  }
  return true;
}

bool wgg_traceparent_valid(const char *s) {
  bool z1, z2, z3;
  return s && strlen(s) == WGG_TRACEPARENT_LEN && !strncmp(s, "00-", 3) && s[35] == '-' && s[52] == '-' &&
         hex_run(s + 3, 32, &z1) && !z1 && hex_run(s + 36, 16, &z2) && !z2 && hex_run(s + 53, 2, &z3);
}

/* Random bytes from a per-thread buffer refilled 4 KiB at a time by getrandom(2): a trace
 * context per invocation took three system calls before (perf: getrandom and the kernel's crng
 * were 2-3% of a hello wasm app's profile); with 256 bytes a refill still came every ~10
 * invocations (strace -c: 0.11 getrandom per request), with 4 KiB every ~170. */
static void random_bytes(unsigned char *out, size_t n) {
  static _Thread_local unsigned char pool[4096];
  static _Thread_local size_t left;
  while (n) {
    if (!left) {
      size_t got = 0;
      while (got < sizeof pool) {
        ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
      }
      if (!got) { /* no getrandom: zeros, made non-zero by the callers */
        memset(out, 0, n);
        return;
      }
      memmove(pool + sizeof pool - got, pool, got);
      left = got;
    }
    size_t k = n < left ? n : left;
    memcpy(out, pool + sizeof pool - left, k);
    memset(pool + sizeof pool - left, 0, k); /* a byte is handed out once */
    left -= k;
    out += k;
    n -= k;
  }
}

static void random_hex(char *out, size_t bytes) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  random_bytes(b, bytes);
  if (!memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", bytes)) b[0] |= 1; /* never all zero */
  for (size_t i = 0; i < bytes; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[2 * bytes] = '\0';
}

static int hex_digit(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10; /* lower-case hex, checked by wgg_traceparent_valid */
}

void wgg_traceparent_child(const char *incoming, double sampling_rate, char out[WGG_TRACEPARENT_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  int flags;
  /* "00-" trace "-" span "-" flags, written in place (snprintf and sscanf cost ~2,000 instructions a call) */
  memcpy(out, "00-", 3);
  if (wgg_traceparent_valid(incoming)) {
    memcpy(out + 3, incoming + 3, 32);
    flags = (hex_digit(incoming[53]) * 16 + hex_digit(incoming[54])) & 1;
  } else {
    random_hex(out + 3, 16);
    uint32_t r = 0;
    random_bytes((unsigned char *)&r, sizeof r);
    flags = sampling_rate > 0 && (double)r / 4294967296.0 < sampling_rate;
  }
  out[35] = '-';
  random_hex(out + 36, 8);
  out[52] = '-';
  out[53] = hex[flags >> 4];
  out[54] = hex[flags & 15];
  out[55] = '\0';
}
