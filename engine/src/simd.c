/*
 * simd.c: the 236 SIMD instructions (spec 4.4.3 vector instructions, 4.3
 * numerics lane-wise), one function each, as plain lane loops the C compiler
 * vectorises. Operand layout and conventions: simd.h.
 *
 * Exactness: integer lanes are computed in unsigned arithmetic or a wider
 * type (no undefined behaviour, UBSan stays on); float lanes reuse the scalar
 * helpers of numeric.h (NaN propagation, min/max signed zeros, saturating
 * truncation), so a lane behaves exactly as the scalar instruction does.
 * Lane i of a v128 is at byte offset i * lane size: the layout of a
 * little-endian host, which this file requires.
 */
#include <math.h>
#include <string.h>

#include "numeric.h"
#include "opcodes.h"
#include "simd.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "simd.c assumes a little-endian host (wasm lane order)"
#endif

typedef union v128 {
  uint8_t u8[16];
  int8_t i8[16];
  uint16_t u16[8];
  int16_t i16[8];
  uint32_t u32[4];
  int32_t i32[4];
  uint64_t u64[2];
  int64_t i64[2];
  float f32[4];
  double f64[2];
} v128;

#define OPA (ops[0].s.a)
#define OPB (ops[0].s.b)
#define OPC (ops[1].s.a)
#define DST (ops[1].s.b)

static inline v128 get(const wg_slot *fp, int32_t slot) {
  v128 v;
  memcpy(&v, &fp[slot], 16);
  return v;
}
static inline void put(wg_slot *fp, int32_t slot, const v128 *v) { memcpy(&fp[slot], v, 16); }

/* ---------------------------------------------------------------- shapes */

/* Lane-wise unary: x is lane i of the operand. */
#define VUN(ID, N, FIN, FOUT, EXPR)                         \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), r;                               \
    for (int i = 0; i < N; i++) {                           \
      __typeof__(a.FIN[0]) x = a.FIN[i];                    \
      r.FOUT[i] = (EXPR);                                   \
    }                                                       \
    put(fp, DST, &r);                                       \
  }
/* Lane-wise binary: x, y are lane i of the operands. */
#define VBIN(ID, N, FIN, FOUT, EXPR)                        \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), b = get(fp, OPB), r;             \
    for (int i = 0; i < N; i++) {                           \
      __typeof__(a.FIN[0]) x = a.FIN[i], y = b.FIN[i];      \
      r.FOUT[i] = (EXPR);                                   \
    }                                                       \
    put(fp, DST, &r);                                       \
  }
/* Lane-wise comparison: all ones where EXPR holds. */
#define VCMP(ID, N, FIN, FOUT, EXPR) VBIN(ID, N, FIN, FOUT, (EXPR) ? (__typeof__(r.FOUT[0]))-1 : 0)
/* Shifts by a scalar i32 operand, taken modulo the lane width. */
#define VSHIFT(ID, N, F, BITS, EXPR)                        \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), r;                               \
    uint32_t y = fp[OPB].u32 & (BITS - 1);                  \
    for (int i = 0; i < N; i++) {                           \
      __typeof__(a.F[0]) x = a.F[i];                        \
      r.F[i] = (EXPR);                                      \
    }                                                       \
    put(fp, DST, &r);                                       \
  }
/* Results built from a (half of) the input lanes into wider lanes:
 * lane i of the result from lanes i + OFF of the operands. */
#define VWIDEN(ID, N, OFF, FIN, FOUT, T)                    \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), r;                               \
    for (int i = 0; i < N; i++) r.FOUT[i] = (T)a.FIN[i + OFF]; \
    put(fp, DST, &r);                                       \
  }
#define VEXTMUL(ID, N, OFF, FIN, FOUT, T)                   \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), b = get(fp, OPB), r;             \
    for (int i = 0; i < N; i++) r.FOUT[i] = (T)((T)a.FIN[i + OFF] * (T)b.FIN[i + OFF]); \
    put(fp, DST, &r);                                       \
  }
#define VEXTADD(ID, N, FIN, FOUT, T)                        \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), r;                               \
    for (int i = 0; i < N; i++) r.FOUT[i] = (T)((T)a.FIN[2 * i] + (T)a.FIN[2 * i + 1]); \
    put(fp, DST, &r);                                       \
  }
/* Narrowing with signed saturation of both operands' lanes to [LO, HI]. */
#define VNARROW(ID, N, FIN, FOUT, LO, HI)                   \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA), b = get(fp, OPB), r;             \
    for (int i = 0; i < N; i++) {                           \
      int32_t x = i < N / 2 ? a.FIN[i] : b.FIN[i - N / 2];  \
      r.FOUT[i] = (__typeof__(r.FOUT[0]))(x < LO ? LO : x > HI ? HI : x); \
    }                                                       \
    put(fp, DST, &r);                                       \
  }
#define SPLAT(ID, N, F, SF)                                 \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 r;                                                 \
    for (int i = 0; i < N; i++) r.F[i] = (__typeof__(r.F[0]))fp[OPA].SF; \
    put(fp, DST, &r);                                       \
  }
#define EXTRACT(ID, F, SF, T)                               \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA);                                  \
    T x = (T)a.F[OPC];                                      \
    fp[DST].u64 = 0;                                        \
    fp[DST].SF = x;                                         \
  }
#define REPLACE(ID, F, SF)                                  \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA);                                  \
    a.F[OPC] = (__typeof__(a.F[0]))fp[OPB].SF;              \
    put(fp, DST, &a);                                       \
  }
#define ALL_TRUE(ID, N, F)                                  \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA);                                  \
    uint32_t all = 1;                                       \
    for (int i = 0; i < N; i++) all &= a.F[i] != 0;         \
    fp[DST].u64 = all;                                      \
  }
#define BITMASK(ID, N, F)                                   \
  static void s_##ID(wg_slot *fp, const wg_cell *ops) {     \
    v128 a = get(fp, OPA);                                  \
    uint32_t m = 0;                                         \
    for (int i = 0; i < N; i++) m |= (uint32_t)(a.F[i] < 0) << i; \
    fp[DST].u64 = m;                                        \
  }

/* Integer lane helpers in unsigned arithmetic (wrapping, no UB). */
#define SAT(v, LO, HI) ((v) < (LO) ? (LO) : (v) > (HI) ? (HI) : (v))
static inline float pminf(float x, float y) { return y < x ? y : x; }
static inline float pmaxf(float x, float y) { return x < y ? y : x; }
static inline double pmin(double x, double y) { return y < x ? y : x; }
static inline double pmax(double x, double y) { return x < y ? y : x; }

/* ---------------------------------------------------------------- constants, lanes, shuffles */

SPLAT(I8X16_SPLAT, 16, u8, u32)
SPLAT(I16X8_SPLAT, 8, u16, u32)
SPLAT(I32X4_SPLAT, 4, u32, u32)
SPLAT(I64X2_SPLAT, 2, u64, u64)
SPLAT(F32X4_SPLAT, 4, u32, u32)
SPLAT(F64X2_SPLAT, 2, u64, u64)
EXTRACT(I8X16_EXTRACT_LANE_S, i8, i32, int32_t)
EXTRACT(I8X16_EXTRACT_LANE_U, u8, u32, uint32_t)
EXTRACT(I16X8_EXTRACT_LANE_S, i16, i32, int32_t)
EXTRACT(I16X8_EXTRACT_LANE_U, u16, u32, uint32_t)
EXTRACT(I32X4_EXTRACT_LANE, u32, u32, uint32_t)
EXTRACT(I64X2_EXTRACT_LANE, u64, u64, uint64_t)
EXTRACT(F32X4_EXTRACT_LANE, u32, u32, uint32_t)
EXTRACT(F64X2_EXTRACT_LANE, u64, u64, uint64_t)
REPLACE(I8X16_REPLACE_LANE, u8, u32)
REPLACE(I16X8_REPLACE_LANE, u16, u32)
REPLACE(I32X4_REPLACE_LANE, u32, u32)
REPLACE(I64X2_REPLACE_LANE, u64, u64)
REPLACE(F32X4_REPLACE_LANE, u32, u32)
REPLACE(F64X2_REPLACE_LANE, u64, u64)

/* i8x16.shuffle: the 16 lane indices (each < 32, validated) are the two
 * immediate cells after the operands. */
static void s_I8X16_SHUFFLE(wg_slot *fp, const wg_cell *ops) {
  uint8_t both[32], lanes[16];
  memcpy(both, &fp[OPA], 16);
  memcpy(both + 16, &fp[OPB], 16);
  memcpy(lanes, &ops[2], 16);
  v128 r;
  for (int i = 0; i < 16; i++) r.u8[i] = both[lanes[i] & 31];
  put(fp, DST, &r);
}
static void s_I8X16_SWIZZLE(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), s = get(fp, OPB), r;
  for (int i = 0; i < 16; i++) r.u8[i] = s.u8[i] < 16 ? a.u8[s.u8[i]] : 0;
  put(fp, DST, &r);
}

/* ---------------------------------------------------------------- comparisons */

VCMP(I8X16_EQ, 16, u8, u8, x == y)
VCMP(I8X16_NE, 16, u8, u8, x != y)
VCMP(I8X16_LT_S, 16, i8, u8, x < y)
VCMP(I8X16_LT_U, 16, u8, u8, x < y)
VCMP(I8X16_GT_S, 16, i8, u8, x > y)
VCMP(I8X16_GT_U, 16, u8, u8, x > y)
VCMP(I8X16_LE_S, 16, i8, u8, x <= y)
VCMP(I8X16_LE_U, 16, u8, u8, x <= y)
VCMP(I8X16_GE_S, 16, i8, u8, x >= y)
VCMP(I8X16_GE_U, 16, u8, u8, x >= y)
VCMP(I16X8_EQ, 8, u16, u16, x == y)
VCMP(I16X8_NE, 8, u16, u16, x != y)
VCMP(I16X8_LT_S, 8, i16, u16, x < y)
VCMP(I16X8_LT_U, 8, u16, u16, x < y)
VCMP(I16X8_GT_S, 8, i16, u16, x > y)
VCMP(I16X8_GT_U, 8, u16, u16, x > y)
VCMP(I16X8_LE_S, 8, i16, u16, x <= y)
VCMP(I16X8_LE_U, 8, u16, u16, x <= y)
VCMP(I16X8_GE_S, 8, i16, u16, x >= y)
VCMP(I16X8_GE_U, 8, u16, u16, x >= y)
VCMP(I32X4_EQ, 4, u32, u32, x == y)
VCMP(I32X4_NE, 4, u32, u32, x != y)
VCMP(I32X4_LT_S, 4, i32, u32, x < y)
VCMP(I32X4_LT_U, 4, u32, u32, x < y)
VCMP(I32X4_GT_S, 4, i32, u32, x > y)
VCMP(I32X4_GT_U, 4, u32, u32, x > y)
VCMP(I32X4_LE_S, 4, i32, u32, x <= y)
VCMP(I32X4_LE_U, 4, u32, u32, x <= y)
VCMP(I32X4_GE_S, 4, i32, u32, x >= y)
VCMP(I32X4_GE_U, 4, u32, u32, x >= y)
VCMP(I64X2_EQ, 2, u64, u64, x == y)
VCMP(I64X2_NE, 2, u64, u64, x != y)
VCMP(I64X2_LT_S, 2, i64, u64, x < y)
VCMP(I64X2_GT_S, 2, i64, u64, x > y)
VCMP(I64X2_LE_S, 2, i64, u64, x <= y)
VCMP(I64X2_GE_S, 2, i64, u64, x >= y)
VCMP(F32X4_EQ, 4, f32, u32, x == y)
VCMP(F32X4_NE, 4, f32, u32, x != y)
VCMP(F32X4_LT, 4, f32, u32, x < y)
VCMP(F32X4_GT, 4, f32, u32, x > y)
VCMP(F32X4_LE, 4, f32, u32, x <= y)
VCMP(F32X4_GE, 4, f32, u32, x >= y)
VCMP(F64X2_EQ, 2, f64, u64, x == y)
VCMP(F64X2_NE, 2, f64, u64, x != y)
VCMP(F64X2_LT, 2, f64, u64, x < y)
VCMP(F64X2_GT, 2, f64, u64, x > y)
VCMP(F64X2_LE, 2, f64, u64, x <= y)
VCMP(F64X2_GE, 2, f64, u64, x >= y)

/* ---------------------------------------------------------------- bitwise */

VUN(V128_NOT, 2, u64, u64, ~x)
VBIN(V128_AND, 2, u64, u64, x & y)
VBIN(V128_ANDNOT, 2, u64, u64, x & ~y)
VBIN(V128_OR, 2, u64, u64, x | y)
VBIN(V128_XOR, 2, u64, u64, x ^ y)
static void s_V128_BITSELECT(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), b = get(fp, OPB), c = get(fp, OPC), r;
  for (int i = 0; i < 2; i++) r.u64[i] = (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]);
  put(fp, DST, &r);
}
static void s_V128_ANY_TRUE(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA);
  fp[DST].u64 = (a.u64[0] | a.u64[1]) != 0;
}

/* ---------------------------------------------------------------- integer arithmetic */

VUN(I8X16_ABS, 16, i8, u8, x < 0 ? (uint8_t)(0u - (uint8_t)x) : (uint8_t)x)
VUN(I8X16_NEG, 16, u8, u8, (uint8_t)(0u - x))
VUN(I8X16_POPCNT, 16, u8, u8, (uint8_t)__builtin_popcount(x))
ALL_TRUE(I8X16_ALL_TRUE, 16, u8)
BITMASK(I8X16_BITMASK, 16, i8)
VNARROW(I8X16_NARROW_I16X8_S, 16, i16, i8, -128, 127)
VNARROW(I8X16_NARROW_I16X8_U, 16, i16, u8, 0, 255)
VSHIFT(I8X16_SHL, 16, u8, 8, (uint8_t)(x << y))
VSHIFT(I8X16_SHR_S, 16, i8, 8, (int8_t)(x >> y))
VSHIFT(I8X16_SHR_U, 16, u8, 8, (uint8_t)(x >> y))
VBIN(I8X16_ADD, 16, u8, u8, (uint8_t)(x + y))
VBIN(I8X16_ADD_SAT_S, 16, i8, i8, (int8_t)SAT(x + y, -128, 127))
VBIN(I8X16_ADD_SAT_U, 16, u8, u8, (uint8_t)SAT(x + y, 0, 255))
VBIN(I8X16_SUB, 16, u8, u8, (uint8_t)(x - y))
VBIN(I8X16_SUB_SAT_S, 16, i8, i8, (int8_t)SAT(x - y, -128, 127))
VBIN(I8X16_SUB_SAT_U, 16, u8, u8, (uint8_t)SAT(x - y, 0, 255))
VBIN(I8X16_MIN_S, 16, i8, i8, x < y ? x : y)
VBIN(I8X16_MIN_U, 16, u8, u8, x < y ? x : y)
VBIN(I8X16_MAX_S, 16, i8, i8, x > y ? x : y)
VBIN(I8X16_MAX_U, 16, u8, u8, x > y ? x : y)
VBIN(I8X16_AVGR_U, 16, u8, u8, (uint8_t)((x + y + 1) >> 1))

VEXTADD(I16X8_EXTADD_PAIRWISE_I8X16_S, 8, i8, i16, int16_t)
VEXTADD(I16X8_EXTADD_PAIRWISE_I8X16_U, 8, u8, u16, uint16_t)
VEXTADD(I32X4_EXTADD_PAIRWISE_I16X8_S, 4, i16, i32, int32_t)
VEXTADD(I32X4_EXTADD_PAIRWISE_I16X8_U, 4, u16, u32, uint32_t)

VUN(I16X8_ABS, 8, i16, u16, x < 0 ? (uint16_t)(0u - (uint16_t)x) : (uint16_t)x)
VUN(I16X8_NEG, 8, u16, u16, (uint16_t)(0u - x))
/* (x * y + 2^14) >> 15, saturated: only -32768 * -32768 overflows. */
VBIN(I16X8_Q15MULR_SAT_S, 8, i16, i16, (int16_t)SAT(((int32_t)x * y + 0x4000) >> 15, -32768, 32767))
ALL_TRUE(I16X8_ALL_TRUE, 8, u16)
BITMASK(I16X8_BITMASK, 8, i16)
VNARROW(I16X8_NARROW_I32X4_S, 8, i32, i16, -32768, 32767)
VNARROW(I16X8_NARROW_I32X4_U, 8, i32, u16, 0, 65535)
VWIDEN(I16X8_EXTEND_LOW_I8X16_S, 8, 0, i8, i16, int16_t)
VWIDEN(I16X8_EXTEND_HIGH_I8X16_S, 8, 8, i8, i16, int16_t)
VWIDEN(I16X8_EXTEND_LOW_I8X16_U, 8, 0, u8, u16, uint16_t)
VWIDEN(I16X8_EXTEND_HIGH_I8X16_U, 8, 8, u8, u16, uint16_t)
VSHIFT(I16X8_SHL, 8, u16, 16, (uint16_t)(x << y))
VSHIFT(I16X8_SHR_S, 8, i16, 16, (int16_t)(x >> y))
VSHIFT(I16X8_SHR_U, 8, u16, 16, (uint16_t)(x >> y))
VBIN(I16X8_ADD, 8, u16, u16, (uint16_t)(x + y))
VBIN(I16X8_ADD_SAT_S, 8, i16, i16, (int16_t)SAT(x + y, -32768, 32767))
VBIN(I16X8_ADD_SAT_U, 8, u16, u16, (uint16_t)SAT(x + y, 0, 65535))
VBIN(I16X8_SUB, 8, u16, u16, (uint16_t)(x - y))
VBIN(I16X8_SUB_SAT_S, 8, i16, i16, (int16_t)SAT(x - y, -32768, 32767))
VBIN(I16X8_SUB_SAT_U, 8, u16, u16, (uint16_t)SAT(x - y, 0, 65535))
VBIN(I16X8_MUL, 8, u16, u16, (uint16_t)((uint32_t)x * y))
VBIN(I16X8_MIN_S, 8, i16, i16, x < y ? x : y)
VBIN(I16X8_MIN_U, 8, u16, u16, x < y ? x : y)
VBIN(I16X8_MAX_S, 8, i16, i16, x > y ? x : y)
VBIN(I16X8_MAX_U, 8, u16, u16, x > y ? x : y)
VBIN(I16X8_AVGR_U, 8, u16, u16, (uint16_t)((x + y + 1) >> 1))
VEXTMUL(I16X8_EXTMUL_LOW_I8X16_S, 8, 0, i8, i16, int16_t)
VEXTMUL(I16X8_EXTMUL_HIGH_I8X16_S, 8, 8, i8, i16, int16_t)
VEXTMUL(I16X8_EXTMUL_LOW_I8X16_U, 8, 0, u8, u16, uint16_t)
VEXTMUL(I16X8_EXTMUL_HIGH_I8X16_U, 8, 8, u8, u16, uint16_t)

VUN(I32X4_ABS, 4, i32, u32, x < 0 ? 0u - (uint32_t)x : (uint32_t)x)
VUN(I32X4_NEG, 4, u32, u32, 0u - x)
ALL_TRUE(I32X4_ALL_TRUE, 4, u32)
BITMASK(I32X4_BITMASK, 4, i32)
VWIDEN(I32X4_EXTEND_LOW_I16X8_S, 4, 0, i16, i32, int32_t)
VWIDEN(I32X4_EXTEND_HIGH_I16X8_S, 4, 4, i16, i32, int32_t)
VWIDEN(I32X4_EXTEND_LOW_I16X8_U, 4, 0, u16, u32, uint32_t)
VWIDEN(I32X4_EXTEND_HIGH_I16X8_U, 4, 4, u16, u32, uint32_t)
VSHIFT(I32X4_SHL, 4, u32, 32, x << y)
VSHIFT(I32X4_SHR_S, 4, i32, 32, x >> y)
VSHIFT(I32X4_SHR_U, 4, u32, 32, x >> y)
VBIN(I32X4_ADD, 4, u32, u32, x + y)
VBIN(I32X4_SUB, 4, u32, u32, x - y)
VBIN(I32X4_MUL, 4, u32, u32, x * y)
VBIN(I32X4_MIN_S, 4, i32, i32, x < y ? x : y)
VBIN(I32X4_MIN_U, 4, u32, u32, x < y ? x : y)
VBIN(I32X4_MAX_S, 4, i32, i32, x > y ? x : y)
VBIN(I32X4_MAX_U, 4, u32, u32, x > y ? x : y)
/* Pairwise products summed; only -32768^2 * 2 overflows, and wraps. */
static void s_I32X4_DOT_I16X8_S(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), b = get(fp, OPB), r;
  for (int i = 0; i < 4; i++)
    r.u32[i] = (uint32_t)((int32_t)a.i16[2 * i] * b.i16[2 * i]) + (uint32_t)((int32_t)a.i16[2 * i + 1] * b.i16[2 * i + 1]);
  put(fp, DST, &r);
}
VEXTMUL(I32X4_EXTMUL_LOW_I16X8_S, 4, 0, i16, i32, int32_t)
VEXTMUL(I32X4_EXTMUL_HIGH_I16X8_S, 4, 4, i16, i32, int32_t)
VEXTMUL(I32X4_EXTMUL_LOW_I16X8_U, 4, 0, u16, u32, uint32_t)
VEXTMUL(I32X4_EXTMUL_HIGH_I16X8_U, 4, 4, u16, u32, uint32_t)

VUN(I64X2_ABS, 2, i64, u64, x < 0 ? 0u - (uint64_t)x : (uint64_t)x)
VUN(I64X2_NEG, 2, u64, u64, 0u - x)
ALL_TRUE(I64X2_ALL_TRUE, 2, u64)
BITMASK(I64X2_BITMASK, 2, i64)
VWIDEN(I64X2_EXTEND_LOW_I32X4_S, 2, 0, i32, i64, int64_t)
VWIDEN(I64X2_EXTEND_HIGH_I32X4_S, 2, 2, i32, i64, int64_t)
VWIDEN(I64X2_EXTEND_LOW_I32X4_U, 2, 0, u32, u64, uint64_t)
VWIDEN(I64X2_EXTEND_HIGH_I32X4_U, 2, 2, u32, u64, uint64_t)
VSHIFT(I64X2_SHL, 2, u64, 64, x << y)
VSHIFT(I64X2_SHR_S, 2, i64, 64, x >> y)
VSHIFT(I64X2_SHR_U, 2, u64, 64, x >> y)
VBIN(I64X2_ADD, 2, u64, u64, x + y)
VBIN(I64X2_SUB, 2, u64, u64, x - y)
VBIN(I64X2_MUL, 2, u64, u64, x * y)
/* 32 x 32 -> 64 products: signed ones cannot overflow, unsigned wrap-free. */
VEXTMUL(I64X2_EXTMUL_LOW_I32X4_S, 2, 0, i32, i64, int64_t)
VEXTMUL(I64X2_EXTMUL_HIGH_I32X4_S, 2, 2, i32, i64, int64_t)
VEXTMUL(I64X2_EXTMUL_LOW_I32X4_U, 2, 0, u32, u64, uint64_t)
VEXTMUL(I64X2_EXTMUL_HIGH_I32X4_U, 2, 2, u32, u64, uint64_t)

/* ---------------------------------------------------------------- floating point */

VUN(F32X4_ABS, 4, f32, f32, wg_fabsf(x))
VUN(F32X4_NEG, 4, f32, f32, wg_fnegf(x))
VUN(F32X4_SQRT, 4, f32, f32, sqrtf(x))
VUN(F32X4_CEIL, 4, f32, f32, wg_ceilf(x))
VUN(F32X4_FLOOR, 4, f32, f32, wg_floorf(x))
VUN(F32X4_TRUNC, 4, f32, f32, wg_truncf(x))
VUN(F32X4_NEAREST, 4, f32, f32, wg_nearestf(x))
VBIN(F32X4_ADD, 4, f32, f32, x + y)
VBIN(F32X4_SUB, 4, f32, f32, x - y)
VBIN(F32X4_MUL, 4, f32, f32, x * y)
VBIN(F32X4_DIV, 4, f32, f32, x / y)
VBIN(F32X4_MIN, 4, f32, f32, wg_fminf(x, y))
VBIN(F32X4_MAX, 4, f32, f32, wg_fmaxf(x, y))
VBIN(F32X4_PMIN, 4, f32, f32, pminf(x, y))
VBIN(F32X4_PMAX, 4, f32, f32, pmaxf(x, y))
VUN(F64X2_ABS, 2, f64, f64, wg_fabs(x))
VUN(F64X2_NEG, 2, f64, f64, wg_fneg(x))
VUN(F64X2_SQRT, 2, f64, f64, sqrt(x))
VUN(F64X2_CEIL, 2, f64, f64, wg_ceil(x))
VUN(F64X2_FLOOR, 2, f64, f64, wg_floor(x))
VUN(F64X2_TRUNC, 2, f64, f64, wg_trunc(x))
VUN(F64X2_NEAREST, 2, f64, f64, wg_nearest(x))
VBIN(F64X2_ADD, 2, f64, f64, x + y)
VBIN(F64X2_SUB, 2, f64, f64, x - y)
VBIN(F64X2_MUL, 2, f64, f64, x * y)
VBIN(F64X2_DIV, 2, f64, f64, x / y)
VBIN(F64X2_MIN, 2, f64, f64, wg_fmin(x, y))
VBIN(F64X2_MAX, 2, f64, f64, wg_fmax(x, y))
VBIN(F64X2_PMIN, 2, f64, f64, pmin(x, y))
VBIN(F64X2_PMAX, 2, f64, f64, pmax(x, y))

/* Conversions. The _zero forms fill the upper lanes with zeros. */
VUN(I32X4_TRUNC_SAT_F32X4_S, 4, f32, i32, wg_sat_i32((double)x))
VUN(I32X4_TRUNC_SAT_F32X4_U, 4, f32, u32, wg_sat_u32((double)x))
VUN(F32X4_CONVERT_I32X4_S, 4, i32, f32, (float)x)
VUN(F32X4_CONVERT_I32X4_U, 4, u32, f32, (float)x)
static void s_I32X4_TRUNC_SAT_F64X2_S_ZERO(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), r = {{0}};
  for (int i = 0; i < 2; i++) r.i32[i] = wg_sat_i32(a.f64[i]);
  put(fp, DST, &r);
}
static void s_I32X4_TRUNC_SAT_F64X2_U_ZERO(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), r = {{0}};
  for (int i = 0; i < 2; i++) r.u32[i] = wg_sat_u32(a.f64[i]);
  put(fp, DST, &r);
}
static void s_F64X2_CONVERT_LOW_I32X4_S(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), r;
  for (int i = 0; i < 2; i++) r.f64[i] = (double)a.i32[i];
  put(fp, DST, &r);
}
static void s_F64X2_CONVERT_LOW_I32X4_U(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), r;
  for (int i = 0; i < 2; i++) r.f64[i] = (double)a.u32[i];
  put(fp, DST, &r);
}
static void s_F32X4_DEMOTE_F64X2_ZERO(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), r = {{0}};
  for (int i = 0; i < 2; i++) r.f32[i] = (float)a.f64[i];
  put(fp, DST, &r);
}
static void s_F64X2_PROMOTE_LOW_F32X4(wg_slot *fp, const wg_cell *ops) {
  v128 a = get(fp, OPA), r;
  for (int i = 0; i < 2; i++) r.f64[i] = (double)a.f32[i];
  put(fp, DST, &r);
}

/* ---------------------------------------------------------------- memory */

/* Loads write DST; `m` points at the bounds-checked bytes. */
static void m_V128_LOAD(wg_slot *fp, const wg_cell *ops, uint8_t *m) { memcpy(&fp[DST], m, 16); }
#define LOAD_EXT(ID, N, TIN, FOUT, TOUT)                              \
  static void m_##ID(wg_slot *fp, const wg_cell *ops, uint8_t *m) {   \
    TIN in[N];                                                        \
    v128 r;                                                           \
    memcpy(in, m, sizeof in);                                         \
    for (int i = 0; i < N; i++) r.FOUT[i] = (TOUT)in[i];              \
    put(fp, DST, &r);                                                 \
  }
LOAD_EXT(V128_LOAD8X8_S, 8, int8_t, i16, int16_t)
LOAD_EXT(V128_LOAD8X8_U, 8, uint8_t, u16, uint16_t)
LOAD_EXT(V128_LOAD16X4_S, 4, int16_t, i32, int32_t)
LOAD_EXT(V128_LOAD16X4_U, 4, uint16_t, u32, uint32_t)
LOAD_EXT(V128_LOAD32X2_S, 2, int32_t, i64, int64_t)
LOAD_EXT(V128_LOAD32X2_U, 2, uint32_t, u64, uint64_t)
#define LOAD_SPLAT(ID, N, T, F)                                       \
  static void m_##ID(wg_slot *fp, const wg_cell *ops, uint8_t *m) {   \
    T x;                                                              \
    v128 r;                                                           \
    memcpy(&x, m, sizeof x);                                          \
    for (int i = 0; i < N; i++) r.F[i] = x;                           \
    put(fp, DST, &r);                                                 \
  }
LOAD_SPLAT(V128_LOAD8_SPLAT, 16, uint8_t, u8)
LOAD_SPLAT(V128_LOAD16_SPLAT, 8, uint16_t, u16)
LOAD_SPLAT(V128_LOAD32_SPLAT, 4, uint32_t, u32)
LOAD_SPLAT(V128_LOAD64_SPLAT, 2, uint64_t, u64)
#define LOAD_ZERO(ID, N)                                              \
  static void m_##ID(wg_slot *fp, const wg_cell *ops, uint8_t *m) {   \
    v128 r = {{0}};                                                   \
    memcpy(&r, m, N);                                                 \
    put(fp, DST, &r);                                                 \
  }
LOAD_ZERO(V128_LOAD32_ZERO, 4)
LOAD_ZERO(V128_LOAD64_ZERO, 8)
/* Lane loads and stores: the lane index is ops[1].s.a >> 8. */
#define LOAD_LANE(ID, N)                                              \
  static void m_##ID(wg_slot *fp, const wg_cell *ops, uint8_t *m) {   \
    v128 r = get(fp, OPB);                                            \
    memcpy(&r.u8[(OPC >> 8) * N], m, N);                              \
    put(fp, DST, &r);                                                 \
  }
LOAD_LANE(V128_LOAD8_LANE, 1)
LOAD_LANE(V128_LOAD16_LANE, 2)
LOAD_LANE(V128_LOAD32_LANE, 4)
LOAD_LANE(V128_LOAD64_LANE, 8)
static void m_V128_STORE(wg_slot *fp, const wg_cell *ops, uint8_t *m) { memcpy(m, &fp[OPB], 16); }
#define STORE_LANE(ID, N)                                             \
  static void m_##ID(wg_slot *fp, const wg_cell *ops, uint8_t *m) {   \
    v128 v = get(fp, OPB);                                            \
    memcpy(m, &v.u8[(OPC >> 8) * N], N);                              \
  }
STORE_LANE(V128_STORE8_LANE, 1)
STORE_LANE(V128_STORE16_LANE, 2)
STORE_LANE(V128_STORE32_LANE, 4)
STORE_LANE(V128_STORE64_LANE, 8)

/* ---------------------------------------------------------------- the table */

#define F(ID) [WG_OP_##ID] = {s_##ID, NULL, 0}
#define M(ID, N) [WG_OP_##ID] = {NULL, m_##ID, N}
static const wg_simd_impl impls[WG_OP_COUNT] = {
    M(V128_LOAD, 16), M(V128_LOAD8X8_S, 8), M(V128_LOAD8X8_U, 8), M(V128_LOAD16X4_S, 8), M(V128_LOAD16X4_U, 8),
    M(V128_LOAD32X2_S, 8), M(V128_LOAD32X2_U, 8), M(V128_LOAD8_SPLAT, 1), M(V128_LOAD16_SPLAT, 2),
    M(V128_LOAD32_SPLAT, 4), M(V128_LOAD64_SPLAT, 8), M(V128_STORE, 16), F(I8X16_SHUFFLE), F(I8X16_SWIZZLE),
    F(I8X16_SPLAT), F(I16X8_SPLAT), F(I32X4_SPLAT), F(I64X2_SPLAT), F(F32X4_SPLAT), F(F64X2_SPLAT),
    F(I8X16_EXTRACT_LANE_S), F(I8X16_EXTRACT_LANE_U), F(I8X16_REPLACE_LANE), F(I16X8_EXTRACT_LANE_S),
    F(I16X8_EXTRACT_LANE_U), F(I16X8_REPLACE_LANE), F(I32X4_EXTRACT_LANE), F(I32X4_REPLACE_LANE),
    F(I64X2_EXTRACT_LANE), F(I64X2_REPLACE_LANE), F(F32X4_EXTRACT_LANE), F(F32X4_REPLACE_LANE),
    F(F64X2_EXTRACT_LANE), F(F64X2_REPLACE_LANE),
    F(I8X16_EQ), F(I8X16_NE), F(I8X16_LT_S), F(I8X16_LT_U), F(I8X16_GT_S), F(I8X16_GT_U), F(I8X16_LE_S),
    F(I8X16_LE_U), F(I8X16_GE_S), F(I8X16_GE_U), F(I16X8_EQ), F(I16X8_NE), F(I16X8_LT_S), F(I16X8_LT_U),
    F(I16X8_GT_S), F(I16X8_GT_U), F(I16X8_LE_S), F(I16X8_LE_U), F(I16X8_GE_S), F(I16X8_GE_U), F(I32X4_EQ),
    F(I32X4_NE), F(I32X4_LT_S), F(I32X4_LT_U), F(I32X4_GT_S), F(I32X4_GT_U), F(I32X4_LE_S), F(I32X4_LE_U),
    F(I32X4_GE_S), F(I32X4_GE_U), F(F32X4_EQ), F(F32X4_NE), F(F32X4_LT), F(F32X4_GT), F(F32X4_LE), F(F32X4_GE),
    F(F64X2_EQ), F(F64X2_NE), F(F64X2_LT), F(F64X2_GT), F(F64X2_LE), F(F64X2_GE),
    F(V128_NOT), F(V128_AND), F(V128_ANDNOT), F(V128_OR), F(V128_XOR), F(V128_BITSELECT), F(V128_ANY_TRUE),
    M(V128_LOAD8_LANE, 1), M(V128_LOAD16_LANE, 2), M(V128_LOAD32_LANE, 4), M(V128_LOAD64_LANE, 8),
    M(V128_STORE8_LANE, 1), M(V128_STORE16_LANE, 2), M(V128_STORE32_LANE, 4), M(V128_STORE64_LANE, 8),
    M(V128_LOAD32_ZERO, 4), M(V128_LOAD64_ZERO, 8), F(F32X4_DEMOTE_F64X2_ZERO), F(F64X2_PROMOTE_LOW_F32X4),
    F(I8X16_ABS), F(I8X16_NEG), F(I8X16_POPCNT), F(I8X16_ALL_TRUE), F(I8X16_BITMASK), F(I8X16_NARROW_I16X8_S),
    F(I8X16_NARROW_I16X8_U), F(F32X4_CEIL), F(F32X4_FLOOR), F(F32X4_TRUNC), F(F32X4_NEAREST), F(I8X16_SHL),
    F(I8X16_SHR_S), F(I8X16_SHR_U), F(I8X16_ADD), F(I8X16_ADD_SAT_S), F(I8X16_ADD_SAT_U), F(I8X16_SUB),
    F(I8X16_SUB_SAT_S), F(I8X16_SUB_SAT_U), F(F64X2_CEIL), F(F64X2_FLOOR), F(I8X16_MIN_S), F(I8X16_MIN_U),
    F(I8X16_MAX_S), F(I8X16_MAX_U), F(F64X2_TRUNC), F(I8X16_AVGR_U), F(I16X8_EXTADD_PAIRWISE_I8X16_S),
    F(I16X8_EXTADD_PAIRWISE_I8X16_U), F(I32X4_EXTADD_PAIRWISE_I16X8_S), F(I32X4_EXTADD_PAIRWISE_I16X8_U),
    F(I16X8_ABS), F(I16X8_NEG), F(I16X8_Q15MULR_SAT_S), F(I16X8_ALL_TRUE), F(I16X8_BITMASK),
    F(I16X8_NARROW_I32X4_S), F(I16X8_NARROW_I32X4_U), F(I16X8_EXTEND_LOW_I8X16_S), F(I16X8_EXTEND_HIGH_I8X16_S),
    F(I16X8_EXTEND_LOW_I8X16_U), F(I16X8_EXTEND_HIGH_I8X16_U), F(I16X8_SHL), F(I16X8_SHR_S), F(I16X8_SHR_U),
    F(I16X8_ADD), F(I16X8_ADD_SAT_S), F(I16X8_ADD_SAT_U), F(I16X8_SUB), F(I16X8_SUB_SAT_S), F(I16X8_SUB_SAT_U),
    F(F64X2_NEAREST), F(I16X8_MUL), F(I16X8_MIN_S), F(I16X8_MIN_U), F(I16X8_MAX_S), F(I16X8_MAX_U),
    F(I16X8_AVGR_U), F(I16X8_EXTMUL_LOW_I8X16_S), F(I16X8_EXTMUL_HIGH_I8X16_S), F(I16X8_EXTMUL_LOW_I8X16_U),
    F(I16X8_EXTMUL_HIGH_I8X16_U), F(I32X4_ABS), F(I32X4_NEG), F(I32X4_ALL_TRUE), F(I32X4_BITMASK),
    F(I32X4_EXTEND_LOW_I16X8_S), F(I32X4_EXTEND_HIGH_I16X8_S), F(I32X4_EXTEND_LOW_I16X8_U),
    F(I32X4_EXTEND_HIGH_I16X8_U), F(I32X4_SHL), F(I32X4_SHR_S), F(I32X4_SHR_U), F(I32X4_ADD), F(I32X4_SUB),
    F(I32X4_MUL), F(I32X4_MIN_S), F(I32X4_MIN_U), F(I32X4_MAX_S), F(I32X4_MAX_U), F(I32X4_DOT_I16X8_S),
    F(I32X4_EXTMUL_LOW_I16X8_S), F(I32X4_EXTMUL_HIGH_I16X8_S), F(I32X4_EXTMUL_LOW_I16X8_U),
    F(I32X4_EXTMUL_HIGH_I16X8_U), F(I64X2_ABS), F(I64X2_NEG), F(I64X2_ALL_TRUE), F(I64X2_BITMASK),
    F(I64X2_EXTEND_LOW_I32X4_S), F(I64X2_EXTEND_HIGH_I32X4_S), F(I64X2_EXTEND_LOW_I32X4_U),
    F(I64X2_EXTEND_HIGH_I32X4_U), F(I64X2_SHL), F(I64X2_SHR_S), F(I64X2_SHR_U), F(I64X2_ADD), F(I64X2_SUB),
    F(I64X2_MUL), F(I64X2_EQ), F(I64X2_NE), F(I64X2_LT_S), F(I64X2_GT_S), F(I64X2_LE_S), F(I64X2_GE_S),
    F(I64X2_EXTMUL_LOW_I32X4_S), F(I64X2_EXTMUL_HIGH_I32X4_S), F(I64X2_EXTMUL_LOW_I32X4_U),
    F(I64X2_EXTMUL_HIGH_I32X4_U), F(F32X4_ABS), F(F32X4_NEG), F(F32X4_SQRT), F(F32X4_ADD), F(F32X4_SUB),
    F(F32X4_MUL), F(F32X4_DIV), F(F32X4_MIN), F(F32X4_MAX), F(F32X4_PMIN), F(F32X4_PMAX), F(F64X2_ABS),
    F(F64X2_NEG), F(F64X2_SQRT), F(F64X2_ADD), F(F64X2_SUB), F(F64X2_MUL), F(F64X2_DIV), F(F64X2_MIN),
    F(F64X2_MAX), F(F64X2_PMIN), F(F64X2_PMAX), F(I32X4_TRUNC_SAT_F32X4_S), F(I32X4_TRUNC_SAT_F32X4_U),
    F(F32X4_CONVERT_I32X4_S), F(F32X4_CONVERT_I32X4_U), F(I32X4_TRUNC_SAT_F64X2_S_ZERO),
    F(I32X4_TRUNC_SAT_F64X2_U_ZERO), F(F64X2_CONVERT_LOW_I32X4_S), F(F64X2_CONVERT_LOW_I32X4_U),
};

const wg_simd_impl *wg_simd_impl_of(unsigned op) {
  if (op >= WG_OP_COUNT) return NULL;
  const wg_simd_impl *i = &impls[op];
  return i->fn || i->mem ? i : NULL;
}
