/*
 * gorand.c: Go's math/rand source (rngSource) and Rand.Read, bit for bit,
 * for the strict sandbox: Dapr's strictSandbox runs guests on wazero, whose
 * deterministic random_get reads rand.New(rand.NewSource(42)).
 *
 * The generator is an additive lagged Fibonacci generator (Mitchell and
 * Reeds) over 64-bit words: y[t] = y[t-607] + y[t-273] (mod 2^64), kept in a
 * 607-word ring walked downwards (feed starts 334 ahead of tap). Seeding
 * fills the ring from a Park-Miller LCG (x' = 48271 x mod 2^31-1) and XORs
 * in a fixed "cooked" ring: the state of the same generator, seeded with 1
 * through the LCG (three values folded with shifts 20 and 10), after
 * 7.8e12 steps. Go ships that state as a table; here it is computed at
 * first use. Stepping 7.8e12 times would take hours, but the recurrence is
 * linear: y[n] is a fixed combination of the first 607 values, whose
 * coefficients are those of x^n modulo the characteristic polynomial
 * x^607 - x^334 - 1, which square-and-multiply gives in 43 squarings of a
 * 607-term polynomial (a few milliseconds).
 *
 * Rand.Read packs each Int63 (the low 63 bits of a step) into 7 bytes,
 * least significant first, and keeps the unused bytes of the last value
 * for the next call.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wgwasi.h"

enum { LEN = 607, TAP = 273 };
#define COOKED_STEPS 7800000000000ull
#define INT32MAX 2147483647

struct wg_gorand {
  int tap, feed;
  uint64_t vec[LEN];
  uint64_t read_val; /* Rand.Read's leftover value and byte count */
  int read_pos;
};

static uint64_t cooked[LEN];
static pthread_once_t cooked_once = PTHREAD_ONCE_INIT;

/* One step of the seeding LCG: x * 48271 mod (2^31 - 1), by Schrage's method. */
static int32_t seedrand(int32_t x) {
  const int32_t a = 48271, q = 44488, r = 3399;
  int32_t hi = x / q, lo = x % q;
  x = a * lo - r * hi;
  if (x < 0) x += INT32MAX;
  return x;
}

/* p = p * q mod (x^607 - x^334 - 1), coefficients mod 2^64. */
static void polymul_mod(uint64_t *p, const uint64_t *q, uint64_t *tmp /* 2*LEN */) {
  memset(tmp, 0, 2 * LEN * sizeof *tmp);
  for (int i = 0; i < LEN; i++) {
    uint64_t a = p[i];
    if (!a) continue;
    for (int j = 0; j < LEN; j++) tmp[i + j] += a * q[j];
  }
  /* x^k = x^(k-607) * (x^334 + 1) = x^(k-273) + x^(k-607), highest first. */
  for (int k = 2 * LEN - 2; k >= LEN; k--) {
    tmp[k - TAP] += tmp[k];
    tmp[k - LEN] += tmp[k];
  }
  memcpy(p, tmp, LEN * sizeof *p);
}

/* p = p * x mod the polynomial. */
static void polyshift_mod(uint64_t *p) {
  uint64_t top = p[LEN - 1];
  memmove(p + 1, p, (LEN - 1) * sizeof *p);
  p[0] = top;          /* x^607 = 1 + ... */
  p[LEN - TAP] += top; /* ... + x^334 */
}

static void compute_cooked(void) {
  /* The ring of gen_cooked's seed 1. */
  uint64_t ring[LEN];
  int32_t x = 1;
  for (int i = -20; i < LEN; i++) {
    x = seedrand(x);
    if (i >= 0) {
      uint64_t u = (uint64_t)(int64_t)x << 20;
      x = seedrand(x);
      u ^= (uint64_t)(int64_t)x << 10;
      x = seedrand(x);
      u ^= (uint64_t)(int64_t)x;
      ring[i] = u;
    }
  }
  /* As a sequence: step t (t >= 1) writes ring position (334 - t) mod 607,
   * reading the values written 607 and 273 steps before. z[k] = y[k - 606]:
   * z[0..606] is the initial ring, z[k] = z[k-607] + z[k-273]. */
  uint64_t *z = malloc(2 * LEN * sizeof *z), *c = calloc(LEN, sizeof *c), *tmp = malloc(2 * LEN * sizeof *tmp);
  uint64_t *base = calloc(LEN, sizeof *base);
  if (!z || !c || !tmp || !base) abort(); /* a few KiB at first use */
  for (int k = 0; k < LEN; k++) z[k] = ring[(334 + 606 - k) % LEN];
  for (int k = LEN; k < 2 * LEN; k++) z[k] = z[k - LEN] + z[k - TAP];
  /* c = x^N mod P, N = the step count, by square-and-multiply. */
  c[0] = 1;
  int top = 63;
  while (!(COOKED_STEPS >> top & 1)) top--;
  for (int b = top; b >= 0; b--) {
    memcpy(base, c, LEN * sizeof *c);
    polymul_mod(c, base, tmp);
    if (COOKED_STEPS >> b & 1) polyshift_mod(c);
  }
  /* After N steps, ring position p holds y[t] for the last t <= N with
   * t = 334 - p (mod 607): t = N - 606 + i, which is z[N + i]. */
  for (int i = 0; i < LEN; i++) {
    uint64_t v = 0;
    for (int j = 0; j < LEN; j++) v += c[j] * z[j + i];
    uint64_t t = COOKED_STEPS - 606 + (uint64_t)i;
    int p = (int)((334 + (uint64_t)LEN * 20000000000ull - t) % LEN); /* (334 - t) mod 607 */
    cooked[p] = v;
  }
  free(z);
  free(c);
  free(tmp);
  free(base);
}

const uint64_t *wg_gorand_cooked(void) {
  pthread_once(&cooked_once, compute_cooked);
  return cooked;
}

void wg_gorand_seed(wg_gorand *r, int64_t seed) {
  const uint64_t *ck = wg_gorand_cooked();
  r->tap = 0;
  r->feed = LEN - TAP;
  r->read_pos = 0;
  r->read_val = 0;
  seed %= INT32MAX;
  if (seed < 0) seed += INT32MAX;
  if (seed == 0) seed = 89482311;
  int32_t x = (int32_t)seed;
  for (int i = -20; i < LEN; i++) {
    x = seedrand(x);
    if (i >= 0) {
      uint64_t u = (uint64_t)(int64_t)x << 40;
      x = seedrand(x);
      u ^= (uint64_t)(int64_t)x << 20;
      x = seedrand(x);
      u ^= (uint64_t)(int64_t)x;
      r->vec[i] = u ^ ck[i];
    }
  }
}

wg_gorand *wg_gorand_new(int64_t seed) {
  wg_gorand *r = malloc(sizeof *r);
  if (r) wg_gorand_seed(r, seed);
  return r;
}

void wg_gorand_delete(wg_gorand *r) { free(r); }

uint64_t wg_gorand_uint64(wg_gorand *r) {
  if (--r->tap < 0) r->tap += LEN;
  if (--r->feed < 0) r->feed += LEN;
  uint64_t x = r->vec[r->feed] + r->vec[r->tap];
  r->vec[r->feed] = x;
  return x;
}

int64_t wg_gorand_int63(wg_gorand *r) { return (int64_t)(wg_gorand_uint64(r) & ~(1ull << 63)); }

void wg_gorand_read(wg_gorand *r, uint8_t *buf, size_t len) {
  for (size_t n = 0; n < len; n++) {
    if (r->read_pos == 0) {
      r->read_val = (uint64_t)wg_gorand_int63(r);
      r->read_pos = 7;
    }
    buf[n] = (uint8_t)r->read_val;
    r->read_val >>= 8;
    r->read_pos--;
  }
}
