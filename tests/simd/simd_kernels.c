/* simd_kernels.c: small vectorisable kernels for the SIMD test (tests/simd/run.sh).
 * Built twice with clang-19 -O2: natively, and to wasm32-wasi with -msimd128,
 * where the loop vectoriser and the vector extensions below turn into wasm
 * SIMD instructions (the test counts them). Both builds must print the same
 * lines. Only exactly rounded float operations are used (+ - * / sqrt and
 * conversions), so native and wasm results agree bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 4096

typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int16_t i16x8 __attribute__((vector_size(16)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef int8_t i8x16 __attribute__((vector_size(16)));
typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));

static uint8_t a8[N], b8[N], c8[N];
static int16_t a16[N], b16[N], c16[N];
static int32_t a32[N], b32[N], c32[N];
static int64_t a64[N], b64[N], c64[N];
static float af[N], bf[N], cf[N];
static double ad[N], bd[N], cd[N];
static char text[N + 1];

static uint32_t fnv(const void *p, size_t n) {
  const uint8_t *s = p;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

static uint32_t rng = 12345;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void fill(void) {
  for (int i = 0; i < N; i++) {
    a8[i] = (uint8_t)next();
    b8[i] = (uint8_t)next();
    a16[i] = (int16_t)next();
    b16[i] = (int16_t)next();
    a32[i] = (int32_t)next();
    b32[i] = (int32_t)(next() >> 3);
    a64[i] = (int64_t)(((uint64_t)next() << 32) | next());
    b64[i] = (int64_t)(((uint64_t)next() << 32) | next());
    af[i] = (float)(int32_t)next() / 65536.0f;
    bf[i] = (float)(next() % 10000) / 7.0f;
    ad[i] = (double)(int32_t)next() / 1024.0;
    bd[i] = (double)(next() % 100000) / 3.0;
    text[i] = (char)(32 + next() % 95);
  }
  text[N] = 0;
}

/* ---------------------------------------------------------------- auto-vectorised loops */

static void blend_sat(void) { /* i8x16.add_sat_u / sub_sat_u */
  for (int i = 0; i < N; i++) {
    unsigned s = (unsigned)a8[i] + b8[i];
    c8[i] = (uint8_t)(s > 255 ? 255 : s);
  }
  uint32_t h1 = fnv(c8, N);
  for (int i = 0; i < N; i++) c8[i] = (uint8_t)(a8[i] > b8[i] ? a8[i] - b8[i] : 0);
  printf("blend_sat %08x %08x\n", h1, fnv(c8, N));
}

static void dot16(void) { /* widening multiplies and adds */
  int32_t s = 0;
  for (int i = 0; i < N; i++) s += (int32_t)a16[i] * b16[i];
  int64_t t = 0;
  for (int i = 0; i < N; i++) t += (int64_t)a32[i] * b32[i];
  printf("dot16 %d %lld\n", s, (long long)t);
}

static void upper(void) { /* compares, masks, bitselect */
  char out[N + 1];
  for (int i = 0; i <= N; i++) {
    char ch = text[i];
    out[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
  }
  int digits = 0;
  for (int i = 0; i < N; i++) digits += text[i] >= '0' && text[i] <= '9';
  printf("upper %08x %d\n", fnv(out, N), digits);
}

static void saxpy(void) { /* f32x4 mul/add, then an ordered (scalar) sum */
  for (int i = 0; i < N; i++) cf[i] = 1.5f * af[i] + bf[i];
  for (int i = 0; i < N; i++) cf[i] = cf[i] / (bf[i] + 1.0f) - af[i] * 0.25f;
  float s = 0;
  for (int i = 0; i < N; i++) s += cf[i];
  uint32_t bits;
  memcpy(&bits, &s, 4);
  printf("saxpy %08x %08x\n", fnv(cf, sizeof cf), bits);
}

static void minmax32(void) { /* i32x4 min/max/abs reductions */
  int32_t mn = INT32_MAX, mx = INT32_MIN;
  uint32_t umx = 0;
  int64_t sabs = 0;
  for (int i = 0; i < N; i++) {
    mn = a32[i] < mn ? a32[i] : mn;
    mx = a32[i] > mx ? a32[i] : mx;
    umx = (uint32_t)a32[i] > umx ? (uint32_t)a32[i] : umx;
  }
  for (int i = 0; i < N; i++) c32[i] = a32[i] < 0 ? -(a32[i] >> 1) : a32[i] >> 1;
  for (int i = 0; i < N; i++) sabs += c32[i];
  printf("minmax32 %d %d %u %lld\n", mn, mx, umx, (long long)sabs);
}

static void ops64(void) { /* i64x2 add/mul/shift/compare */
  for (int i = 0; i < N; i++) c64[i] = a64[i] * b64[i] + (a64[i] >> 7) - (b64[i] << 3);
  int n = 0;
  for (int i = 0; i < N; i++) n += a64[i] < b64[i];
  printf("ops64 %08x %d\n", fnv(c64, sizeof c64), n);
}

static void doubles(void) { /* f64x2 arithmetic and sqrt */
  for (int i = 0; i < N; i++) cd[i] = sqrt(ad[i] * ad[i] + bd[i]) - ad[i] / (bd[i] + 2.0);
  double mx = -1e300;
  for (int i = 0; i < N; i++) mx = cd[i] > mx ? cd[i] : mx;
  printf("doubles %08x %.17g\n", fnv(cd, sizeof cd), mx);
}

static void convert(void) { /* f32 <-> i32, i16 <-> i32 */
  for (int i = 0; i < N; i++) c32[i] = (int32_t)(af[i] * 3.0f);
  uint32_t h1 = fnv(c32, sizeof c32);
  for (int i = 0; i < N; i++) cf[i] = (float)a32[i] * 0.5f + (float)(uint32_t)b32[i];
  uint32_t h2 = fnv(cf, sizeof cf);
  for (int i = 0; i < N; i++) {
    int32_t v = (int32_t)a16[i] * 3;
    c16[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
  }
  uint32_t h3 = fnv(c16, sizeof c16);
  for (int i = 0; i < N; i++) cd[i] = (double)a32[i] + (double)b32[i];
  printf("convert %08x %08x %08x %08x\n", h1, h2, h3, fnv(cd, sizeof cd));
}

static void bytes(void) { /* popcount, SAD, average, shifts */
  int pop = 0;
  for (int i = 0; i < N; i++) pop += __builtin_popcount(a8[i]);
  int sad = 0;
  for (int i = 0; i < N; i++) sad += a8[i] > b8[i] ? a8[i] - b8[i] : b8[i] - a8[i];
  for (int i = 0; i < N; i++) c8[i] = (uint8_t)((a8[i] + b8[i] + 1) >> 1);
  uint32_t h1 = fnv(c8, N);
  for (int i = 0; i < N; i++) c16[i] = (int16_t)((a16[i] >> 3) ^ (int16_t)((uint16_t)b16[i] << 2));
  printf("bytes %d %d %08x %08x\n", pop, sad, h1, fnv(c16, sizeof c16));
}

/* ---------------------------------------------------------------- vector extensions */

static void vectors(void) {
  uint32_t h = 2166136261u;
  for (int i = 0; i + 16 <= N; i += 16) {
    u8x16 x, y;
    memcpy(&x, &a8[i], 16);
    memcpy(&y, &b8[i], 16);
    u8x16 rev = __builtin_shufflevector(x, y, 15, 14, 13, 12, 11, 10, 9, 8, 23, 22, 21, 20, 19, 18, 17, 16);
    u8x16 m = (u8x16)(x > y);
    u8x16 sel = (x & m) | (y & ~m);
    i16x8 w = __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7), i16x8);
    i16x8 v;
    memcpy(&v, &a16[i], 16);
    i16x8 prod = w * v + (v >> 2);
    i32x4 q;
    memcpy(&q, &a32[i], 16);
    i32x4 sh = (q << 3) ^ (q >> 5) ^ (i32x4)((u32x4)q >> 7);
    f32x4 f;
    memcpy(&f, &af[i], 16);
    f32x4 g = f * f - (f32x4){1, 2, 3, 4};
    i32x4 gi = __builtin_convertvector(g / (f32x4){8, 8, 8, 8}, i32x4);
    f64x2 d;
    memcpy(&d, &ad[i], 16);
    f64x2 e = d * (f64x2){0.5, -0.25} + __builtin_convertvector(__builtin_shufflevector(q, q, 0, 1), f64x2);
    i64x2 l;
    memcpy(&l, &a64[i], 16);
    l = l * (i64x2){3, -5} + (l >> 13);
    i8x16 sx = (i8x16)x;
    i8x16 neg = -sx;
    h = (h ^ fnv(&rev, 16)) * 16777619u;
    h = (h ^ fnv(&sel, 16)) * 16777619u;
    h = (h ^ fnv(&prod, 16)) * 16777619u;
    h = (h ^ fnv(&sh, 16)) * 16777619u;
    h = (h ^ fnv(&gi, 16)) * 16777619u;
    h = (h ^ fnv(&e, 16)) * 16777619u;
    h = (h ^ fnv(&l, 16)) * 16777619u;
    h = (h ^ fnv(&neg, 16)) * 16777619u;
  }
  printf("vectors %08x\n", h);
}

int main(void) {
  fill();
  blend_sat();
  dot16();
  upper();
  saxpy();
  minmax32();
  ops64();
  doubles();
  convert();
  bytes();
  vectors();
  return 0;
}
