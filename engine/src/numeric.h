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

/* ---------------------------------------------------------------- operator tables
 *
 * The numeric instructions (spec 4.3, 4.4.1), one entry each, shared by
 * both tiers: the interpreter (interp.c) expands them into handlers, the
 * compiled tier (jit.c) into the C helpers its machine code calls for what
 * it does not inline. One list, so the two tiers cannot drift apart. In
 * every entry x (and y) are the operands read from slot field FIN as type
 * T/TIN, and the expression's value is written to slot field FOUT.
 *
 * WG_NUMERIC_UNOPS(X):      X(ID, TIN, FIN, FOUT, EXPR)   unary, no trap
 * WG_NUMERIC_INT_BINOPS(X): X(ID, T, FIN, FOUT, EXPR)     integer binary, no trap
 *                           (these also have a form with a constant right
 *                           operand, IR_IMM_BASE + op, y = the immediate)
 * WG_NUMERIC_FLOAT_BINOPS(X): X(ID, T, FIN, FOUT, EXPR)   float compare/arithmetic
 *                           (also with a constant right operand: its bits)
 * WG_NUMERIC_DIVOPS(X):     X(ID, T, F, OVERFLOW, EXPR)   integer div/rem: y == 0
 *                           traps "integer divide by zero", OVERFLOW "integer
 *                           overflow"; rem_s by -1 is 0 (C's % is undefined there)
 * WG_NUMERIC_TRUNCS(X):     X(ID, TIN, FIN, FOUT, CHECK, TOUT) trapping
 *                           float-to-int: !CHECK(x) traps "invalid conversion
 *                           to integer" for NaN, else "integer overflow"
 */
#define WG_NUMERIC_UNOPS(X)                                            \
  X(I32_EQZ, uint32_t, u32, i32, x == 0)                               \
  X(I64_EQZ, uint64_t, u64, i32, x == 0)                               \
  X(I32_CLZ, uint32_t, u32, u32, wg_clz32(x))                          \
  X(I32_CTZ, uint32_t, u32, u32, wg_ctz32(x))                          \
  X(I32_POPCNT, uint32_t, u32, u32, (uint32_t)__builtin_popcount(x))   \
  X(I64_CLZ, uint64_t, u64, u64, wg_clz64(x))                          \
  X(I64_CTZ, uint64_t, u64, u64, wg_ctz64(x))                          \
  X(I64_POPCNT, uint64_t, u64, u64, (uint64_t)__builtin_popcountll(x)) \
  X(F32_ABS, float, f32, f32, wg_fabsf(x))                             \
  X(F32_NEG, float, f32, f32, wg_fnegf(x))                             \
  X(F32_CEIL, float, f32, f32, wg_ceilf(x))                            \
  X(F32_FLOOR, float, f32, f32, wg_floorf(x))                          \
  X(F32_TRUNC, float, f32, f32, wg_truncf(x))                          \
  X(F32_NEAREST, float, f32, f32, wg_nearestf(x))                      \
  X(F32_SQRT, float, f32, f32, sqrtf(x))                               \
  X(F64_ABS, double, f64, f64, wg_fabs(x))                             \
  X(F64_NEG, double, f64, f64, wg_fneg(x))                             \
  X(F64_CEIL, double, f64, f64, wg_ceil(x))                            \
  X(F64_FLOOR, double, f64, f64, wg_floor(x))                          \
  X(F64_TRUNC, double, f64, f64, wg_trunc(x))                          \
  X(F64_NEAREST, double, f64, f64, wg_nearest(x))                      \
  X(F64_SQRT, double, f64, f64, sqrt(x))                               \
  X(I32_WRAP_I64, uint64_t, u64, u32, (uint32_t)x)                     \
  X(I64_EXTEND_I32_S, int32_t, i32, i64, (int64_t)x)                   \
  X(I64_EXTEND_I32_U, uint32_t, u32, u64, (uint64_t)x)                 \
  X(F32_CONVERT_I32_S, int32_t, i32, f32, (float)x)                    \
  X(F32_CONVERT_I32_U, uint32_t, u32, f32, (float)x)                   \
  X(F32_CONVERT_I64_S, int64_t, i64, f32, (float)x)                    \
  X(F32_CONVERT_I64_U, uint64_t, u64, f32, (float)x)                   \
  X(F32_DEMOTE_F64, double, f64, f32, (float)x)                        \
  X(F64_CONVERT_I32_S, int32_t, i32, f64, (double)x)                   \
  X(F64_CONVERT_I32_U, uint32_t, u32, f64, (double)x)                  \
  X(F64_CONVERT_I64_S, int64_t, i64, f64, (double)x)                   \
  X(F64_CONVERT_I64_U, uint64_t, u64, f64, (double)x)                  \
  X(F64_PROMOTE_F32, float, f32, f64, (double)x)                       \
  X(I32_REINTERPRET_F32, uint32_t, u32, u32, x)                        \
  X(I64_REINTERPRET_F64, uint64_t, u64, u64, x)                        \
  X(F32_REINTERPRET_I32, uint32_t, u32, u32, x)                        \
  X(F64_REINTERPRET_I64, uint64_t, u64, u64, x)                        \
  X(I32_EXTEND8_S, uint32_t, u32, i32, (int32_t)(int8_t)(uint8_t)x)    \
  X(I32_EXTEND16_S, uint32_t, u32, i32, (int32_t)(int16_t)(uint16_t)x) \
  X(I64_EXTEND8_S, uint64_t, u64, i64, (int64_t)(int8_t)(uint8_t)x)    \
  X(I64_EXTEND16_S, uint64_t, u64, i64, (int64_t)(int16_t)(uint16_t)x) \
  X(I64_EXTEND32_S, uint64_t, u64, i64, (int64_t)(int32_t)(uint32_t)x) \
  X(I32_TRUNC_SAT_F32_S, float, f32, i32, wg_sat_i32((double)x))       \
  X(I32_TRUNC_SAT_F32_U, float, f32, u32, wg_sat_u32((double)x))       \
  X(I32_TRUNC_SAT_F64_S, double, f64, i32, wg_sat_i32(x))              \
  X(I32_TRUNC_SAT_F64_U, double, f64, u32, wg_sat_u32(x))              \
  X(I64_TRUNC_SAT_F32_S, float, f32, i64, wg_sat_i64((double)x))       \
  X(I64_TRUNC_SAT_F32_U, float, f32, u64, wg_sat_u64((double)x))       \
  X(I64_TRUNC_SAT_F64_S, double, f64, i64, wg_sat_i64(x))              \
  X(I64_TRUNC_SAT_F64_U, double, f64, u64, wg_sat_u64(x))

#define WG_NUMERIC_INT_BINOPS(X)                   \
  X(I32_EQ, uint32_t, u32, i32, x == y)            \
  X(I32_NE, uint32_t, u32, i32, x != y)            \
  X(I32_LT_S, int32_t, i32, i32, x < y)            \
  X(I32_LT_U, uint32_t, u32, i32, x < y)           \
  X(I32_GT_S, int32_t, i32, i32, x > y)            \
  X(I32_GT_U, uint32_t, u32, i32, x > y)           \
  X(I32_LE_S, int32_t, i32, i32, x <= y)           \
  X(I32_LE_U, uint32_t, u32, i32, x <= y)          \
  X(I32_GE_S, int32_t, i32, i32, x >= y)           \
  X(I32_GE_U, uint32_t, u32, i32, x >= y)          \
  X(I64_EQ, uint64_t, u64, i32, x == y)            \
  X(I64_NE, uint64_t, u64, i32, x != y)            \
  X(I64_LT_S, int64_t, i64, i32, x < y)            \
  X(I64_LT_U, uint64_t, u64, i32, x < y)           \
  X(I64_GT_S, int64_t, i64, i32, x > y)            \
  X(I64_GT_U, uint64_t, u64, i32, x > y)           \
  X(I64_LE_S, int64_t, i64, i32, x <= y)           \
  X(I64_LE_U, uint64_t, u64, i32, x <= y)          \
  X(I64_GE_S, int64_t, i64, i32, x >= y)           \
  X(I64_GE_U, uint64_t, u64, i32, x >= y)          \
  X(I32_ADD, uint32_t, u32, u32, x + y)            \
  X(I32_SUB, uint32_t, u32, u32, x - y)            \
  X(I32_MUL, uint32_t, u32, u32, x * y)            \
  X(I32_AND, uint32_t, u32, u32, x & y)            \
  X(I32_OR, uint32_t, u32, u32, x | y)             \
  X(I32_XOR, uint32_t, u32, u32, x ^ y)            \
  X(I32_SHL, uint32_t, u32, u32, x << (y & 31))    \
  X(I32_SHR_S, int32_t, i32, i32, x >> (y & 31))   \
  X(I32_SHR_U, uint32_t, u32, u32, x >> (y & 31))  \
  X(I32_ROTL, uint32_t, u32, u32, wg_rotl32(x, y)) \
  X(I32_ROTR, uint32_t, u32, u32, wg_rotr32(x, y)) \
  X(I64_ADD, uint64_t, u64, u64, x + y)            \
  X(I64_SUB, uint64_t, u64, u64, x - y)            \
  X(I64_MUL, uint64_t, u64, u64, x * y)            \
  X(I64_AND, uint64_t, u64, u64, x & y)            \
  X(I64_OR, uint64_t, u64, u64, x | y)             \
  X(I64_XOR, uint64_t, u64, u64, x ^ y)            \
  X(I64_SHL, uint64_t, u64, u64, x << (y & 63))    \
  X(I64_SHR_S, int64_t, i64, i64, x >> (y & 63))   \
  X(I64_SHR_U, uint64_t, u64, u64, x >> (y & 63))  \
  X(I64_ROTL, uint64_t, u64, u64, wg_rotl64(x, y)) \
  X(I64_ROTR, uint64_t, u64, u64, wg_rotr64(x, y))

#define WG_NUMERIC_FLOAT_BINOPS(X)                       \
  X(F32_EQ, float, f32, i32, x == y)                     \
  X(F32_NE, float, f32, i32, x != y)                     \
  X(F32_LT, float, f32, i32, x < y)                      \
  X(F32_GT, float, f32, i32, x > y)                      \
  X(F32_LE, float, f32, i32, x <= y)                     \
  X(F32_GE, float, f32, i32, x >= y)                     \
  X(F64_EQ, double, f64, i32, x == y)                    \
  X(F64_NE, double, f64, i32, x != y)                    \
  X(F64_LT, double, f64, i32, x < y)                     \
  X(F64_GT, double, f64, i32, x > y)                     \
  X(F64_LE, double, f64, i32, x <= y)                    \
  X(F64_GE, double, f64, i32, x >= y)                    \
  X(F32_ADD, float, f32, f32, x + y)                     \
  X(F32_SUB, float, f32, f32, x - y)                     \
  X(F32_MUL, float, f32, f32, x * y)                     \
  X(F32_DIV, float, f32, f32, x / y)                     \
  X(F32_MIN, float, f32, f32, wg_fminf(x, y))            \
  X(F32_MAX, float, f32, f32, wg_fmaxf(x, y))            \
  X(F32_COPYSIGN, float, f32, f32, wg_fcopysignf(x, y))  \
  X(F64_ADD, double, f64, f64, x + y)                    \
  X(F64_SUB, double, f64, f64, x - y)                    \
  X(F64_MUL, double, f64, f64, x * y)                    \
  X(F64_DIV, double, f64, f64, x / y)                    \
  X(F64_MIN, double, f64, f64, wg_fmin(x, y))            \
  X(F64_MAX, double, f64, f64, wg_fmax(x, y))            \
  X(F64_COPYSIGN, double, f64, f64, wg_fcopysign(x, y))

#define WG_NUMERIC_DIVOPS(X)                                   \
  X(I32_DIV_S, int32_t, i32, x == INT32_MIN && y == -1, x / y) \
  X(I32_DIV_U, uint32_t, u32, false, x / y)                    \
  X(I32_REM_S, int32_t, i32, false, y == -1 ? 0 : x % y)       \
  X(I32_REM_U, uint32_t, u32, false, x % y)                    \
  X(I64_DIV_S, int64_t, i64, x == INT64_MIN && y == -1, x / y) \
  X(I64_DIV_U, uint64_t, u64, false, x / y)                    \
  X(I64_REM_S, int64_t, i64, false, y == -1 ? 0 : x % y)       \
  X(I64_REM_U, uint64_t, u64, false, x % y)

#define WG_NUMERIC_TRUNCS(X)                                \
  X(I32_TRUNC_F32_S, float, f32, i32, wg_in_i32, int32_t)   \
  X(I32_TRUNC_F32_U, float, f32, u32, wg_in_u32, uint32_t)  \
  X(I32_TRUNC_F64_S, double, f64, i32, wg_in_i32, int32_t)  \
  X(I32_TRUNC_F64_U, double, f64, u32, wg_in_u32, uint32_t) \
  X(I64_TRUNC_F32_S, float, f32, i64, wg_in_i64, int64_t)   \
  X(I64_TRUNC_F32_U, float, f32, u64, wg_in_u64, uint64_t)  \
  X(I64_TRUNC_F64_S, double, f64, i64, wg_in_i64, int64_t)  \
  X(I64_TRUNC_F64_U, double, f64, u64, wg_in_u64, uint64_t)

#endif
