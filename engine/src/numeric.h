/*
 * numeric.h: the numeric operators whose Wasm semantics differ from plain C
 * (spec 4.3): wrapping shifts and rotations, count operations defined at
 * zero, IEEE min/max with Wasm's NaN and signed-zero rules, bitwise
 * abs/neg/copysign that keep NaN payloads, and float-to-integer conversions
 * (trapping checks and saturating versions). Everything is defined behaviour
 * in C, so UBSan stays on in the interpreter.
 */
#ifndef WG_NUMERIC_H
#define WG_NUMERIC_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t wg_f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static inline float wg_f32_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline uint64_t wg_f64_bits(double f) {
  uint64_t u;
  memcpy(&u, &f, 8);
  return u;
}
static inline double wg_f64_of(uint64_t u) {
  double f;
  memcpy(&f, &u, 8);
  return f;
}

static inline uint32_t wg_clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static inline uint32_t wg_ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
static inline uint64_t wg_clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
static inline uint64_t wg_ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }
static inline uint32_t wg_rotl32(uint32_t x, uint32_t k) { k &= 31; return (x << k) | (x >> ((32 - k) & 31)); }
static inline uint32_t wg_rotr32(uint32_t x, uint32_t k) { k &= 31; return (x >> k) | (x << ((32 - k) & 31)); }
static inline uint64_t wg_rotl64(uint64_t x, uint64_t k) { k &= 63; return (x << k) | (x >> ((64 - k) & 63)); }
static inline uint64_t wg_rotr64(uint64_t x, uint64_t k) { k &= 63; return (x >> k) | (x << ((64 - k) & 63)); }

/* min/max (4.3.3): a NaN operand gives a NaN (x + y propagates an arithmetic
 * NaN, canonical when the inputs are); -0 is less than +0. */
static inline float wg_fminf(float x, float y) {
  if (x != x || y != y) return x + y;
  if (x == y) return wg_f32_of(wg_f32_bits(x) | wg_f32_bits(y)); /* -0 wins */
  return x < y ? x : y;
}
static inline float wg_fmaxf(float x, float y) {
  if (x != x || y != y) return x + y;
  if (x == y) return wg_f32_of(wg_f32_bits(x) & wg_f32_bits(y)); /* +0 wins */
  return x > y ? x : y;
}
static inline double wg_fmin(double x, double y) {
  if (x != x || y != y) return x + y;
  if (x == y) return wg_f64_of(wg_f64_bits(x) | wg_f64_bits(y));
  return x < y ? x : y;
}
static inline double wg_fmax(double x, double y) {
  if (x != x || y != y) return x + y;
  if (x == y) return wg_f64_of(wg_f64_bits(x) & wg_f64_bits(y));
  return x > y ? x : y;
}

/* abs, neg, copysign act on the sign bit only (4.3.3), NaNs included. */
static inline float wg_fabsf(float x) { return wg_f32_of(wg_f32_bits(x) & 0x7FFFFFFFu); }
static inline float wg_fnegf(float x) { return wg_f32_of(wg_f32_bits(x) ^ 0x80000000u); }
static inline float wg_fcopysignf(float x, float y) {
  return wg_f32_of((wg_f32_bits(x) & 0x7FFFFFFFu) | (wg_f32_bits(y) & 0x80000000u));
}
static inline double wg_fabs(double x) { return wg_f64_of(wg_f64_bits(x) & 0x7FFFFFFFFFFFFFFFull); }
static inline double wg_fneg(double x) { return wg_f64_of(wg_f64_bits(x) ^ 0x8000000000000000ull); }
static inline double wg_fcopysign(double x, double y) {
  return wg_f64_of((wg_f64_bits(x) & 0x7FFFFFFFFFFFFFFFull) | (wg_f64_bits(y) & 0x8000000000000000ull));
}

/* ceil/floor/trunc of a NaN must give an arithmetic (quiet) NaN; libm may
 * hand a signalling NaN back unchanged, so quiet it (x + x). */
static inline float wg_ceilf(float x) { return x != x ? x + x : ceilf(x); }
static inline float wg_floorf(float x) { return x != x ? x + x : floorf(x); }
static inline float wg_truncf(float x) { return x != x ? x + x : truncf(x); }
static inline float wg_nearestf(float x) { return x != x ? x + x : nearbyintf(x); }
static inline double wg_ceil(double x) { return x != x ? x + x : ceil(x); }
static inline double wg_floor(double x) { return x != x ? x + x : floor(x); }
static inline double wg_trunc(double x) { return x != x ? x + x : trunc(x); }
static inline double wg_nearest(double x) { return x != x ? x + x : nearbyint(x); }

/* Float-to-integer range checks (4.3.4 trunc): true when the truncated value
 * is representable. NaN is never in range. The bounds are exact in double. */
static inline bool wg_in_i32(double x) { return x > -2147483649.0 && x < 2147483648.0; }
static inline bool wg_in_u32(double x) { return x > -1.0 && x < 4294967296.0; }
static inline bool wg_in_i64(double x) { return x >= -9223372036854775808.0 && x < 9223372036854775808.0; }
static inline bool wg_in_u64(double x) { return x > -1.0 && x < 18446744073709551616.0; }

/* Saturating truncations (4.3.4 trunc_sat): NaN is 0, out of range clamps. */
static inline int32_t wg_sat_i32(double x) {
  if (x != x) return 0;
  if (x <= -2147483648.0) return INT32_MIN;
  if (x >= 2147483647.0) return INT32_MAX;
  return (int32_t)x;
}
static inline uint32_t wg_sat_u32(double x) {
  if (x != x || x <= 0) return 0;
  if (x >= 4294967295.0) return UINT32_MAX;
  return (uint32_t)x;
}
static inline int64_t wg_sat_i64(double x) {
  if (x != x) return 0;
  if (x <= -9223372036854775808.0) return INT64_MIN;
  if (x >= 9223372036854775808.0) return INT64_MAX;
  return (int64_t)x;
}
static inline uint64_t wg_sat_u64(double x) {
  if (x != x || x <= 0) return 0;
  if (x >= 18446744073709551616.0) return UINT64_MAX;
  return (uint64_t)x;
}

#endif
