/*
 * simd.c: a freestanding C guest using 128-bit SIMD, compiled to wasm only
 * to seed the fuzz corpus with v128 instructions (fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(dot) float dot(const float *a, const float *b, int n) {
  v128_t acc = wasm_f32x4_splat(0);
  for (int i = 0; i + 4 <= n; i += 4)
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  return wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
         wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
}

EXPORT(bytes) int bytes(uint8_t *p, int n) {
  v128_t lo = wasm_i8x16_splat('a'), hi = wasm_i8x16_splat('z');
  int count = 0;
  for (int i = 0; i + 16 <= n; i += 16) {
    v128_t v = wasm_v128_load(p + i);
    v128_t in = wasm_v128_and(wasm_u8x16_ge(v, lo), wasm_u8x16_le(v, hi));
    count += __builtin_popcount(wasm_i8x16_bitmask(in));
    v = wasm_i8x16_shuffle(v, v, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    wasm_v128_store(p + i, wasm_v128_bitselect(wasm_i8x16_sub(v, wasm_i8x16_splat(32)), v, in));
  }
  return count;
}

EXPORT(widen) int64_t widen(const int16_t *p) {
  v128_t v = wasm_v128_load(p);
  v128_t w = wasm_i32x4_extend_low_i16x8(v);
  v128_t d = wasm_f64x2_convert_low_i32x4(w);
  return wasm_i32x4_extract_lane(wasm_i32x4_trunc_sat_f64x2_zero(d), 0) +
         wasm_i32x4_extract_lane(wasm_i32x4_dot_i16x8(v, v), 1);
}
