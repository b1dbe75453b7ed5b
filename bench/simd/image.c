/* image.c: a SIMD benchmark kernel (bench/simd.sh): an image pipeline on a
 * generated 512x512 RGBA picture, repeated ITER times (argv[1], default 20):
 * grayscale (integer weights), a 3x3 box blur (u16 sums, divide by 9 by a
 * multiply and shift), a histogram-free threshold count, and a float
 * brightness/contrast pass with a dot product over the result. Built with
 * clang-19 -O2, natively and for wasm32-wasi with -msimd128: the loop
 * vectoriser and the vector extensions turn it into v128 loads and stores,
 * i16x8/i32x4 arithmetic, shuffles (narrowing, widening), compares and
 * f32x4 arithmetic. Only exact operations (integers, and float + - * in a
 * fixed order, no contraction), so both builds print the same checksums. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define W 512
#define H 512

typedef float f32x4 __attribute__((vector_size(16)));

static uint8_t rgba[W * H * 4], gray[W * H], blur[W * H];
static float fl[W * H];

static uint32_t rng = 2463534242u;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void grayscale(void) {
  for (int i = 0; i < W * H; i++) {
    uint32_t r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    gray[i] = (uint8_t)((77 * r + 150 * g + 29 * b) >> 8);
  }
}

static void box_blur(void) {
  for (int y = 1; y < H - 1; y++) {
    const uint8_t *p = gray + (y - 1) * W, *q = gray + y * W, *s = gray + (y + 1) * W;
    uint8_t *o = blur + y * W;
    for (int x = 1; x < W - 1; x++) {
      uint32_t sum = (uint32_t)p[x - 1] + p[x] + p[x + 1] + q[x - 1] + q[x] + q[x + 1] + s[x - 1] + s[x] + s[x + 1];
      o[x] = (uint8_t)((sum * 7282u) >> 16);
    }
  }
}

static uint32_t threshold(uint8_t t) {
  uint32_t n = 0;
  for (int i = 0; i < W * H; i++) n += blur[i] > t;
  return n;
}

/* Brightness and contrast in floats, four lanes at a time, and a dot
 * product with fixed per-lane accumulation order. */
static float adjust(float gain, float bias) {
  for (int i = 0; i < W * H; i++) fl[i] = (float)blur[i];
  f32x4 acc = {0, 0, 0, 0}, g = {gain, gain, gain, gain}, b = {bias, bias, bias, bias};
  for (int i = 0; i < W * H; i += 4) {
    f32x4 v;
    __builtin_memcpy(&v, &fl[i], 16);
    v = v * g + b;
    __builtin_memcpy(&fl[i], &v, 16);
    acc += v * v;
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

int main(int argc, char **argv) {
  int iter = argc > 1 ? atoi(argv[1]) : 20;
  for (int i = 0; i < W * H * 4; i++) rgba[i] = (uint8_t)next();
  uint32_t h = 2166136261u;
  float dot = 0;
  for (int k = 0; k < iter; k++) {
    rgba[k % (W * H * 4)] ^= (uint8_t)k;
    grayscale();
    box_blur();
    h = (h ^ threshold((uint8_t)(100 + k % 50))) * 16777619u;
    for (int i = 0; i < W * H; i += 97) h = (h ^ blur[i]) * 16777619u;
    dot = adjust(0.75f + (float)(k % 4) * 0.125f, -3.5f);
  }
  printf("image %dx%d x%d: checksum %08x dot %.9g\n", W, H, iter, h, (double)dot);
  return 0;
}
