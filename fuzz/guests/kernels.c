/*
 * kernels.c: a freestanding C guest, compiled to wasm only to seed the fuzz
 * corpus (fuzz/make-seeds.sh). It is never run: it just gives the compiler
 * reasons to emit loops, br_table, call_indirect, i64/f32/f64 arithmetic,
 * conversions, globals, memory loads/stores and bulk memory operations.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static uint8_t heap[4096];
static int32_t counter;

typedef int32_t (*binop)(int32_t, int32_t);
static int32_t add(int32_t a, int32_t b) { return a + b; }
static int32_t sub(int32_t a, int32_t b) { return a - b; }
static int32_t mul(int32_t a, int32_t b) { return a * b; }
static int32_t divs(int32_t a, int32_t b) { return b ? a / b : 0; }
static const binop ops[] = {add, sub, mul, divs};

/* call_indirect through a table of function pointers. */
EXPORT(apply) int32_t apply(uint32_t op, int32_t a, int32_t b) {
  counter++;
  return ops[op & 3](a, b);
}

/* A dense switch: br_table. */
EXPORT(classify) int32_t classify(int32_t c) {
  switch (c) {
    case 0: return 10;
    case 1: return 20;
    case 2: return 33;
    case 3: return 41;
    case 4: return 57;
    case 5: return 62;
    case 6: return 79;
    case 7: return 83;
    default: return -1;
  }
}

/* 64-bit integer work, shifts, rotates, counts. */
EXPORT(hash64) uint64_t hash64(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
    h = (h << 13) | (h >> 51);
  }
  return h ^ (uint64_t)__builtin_popcountll(h) ^ (uint64_t)__builtin_clzll(h | 1);
}

/* Floating point and conversions. */
EXPORT(poly) double poly(double x, float y, int32_t k) {
  double acc = 0;
  for (int32_t i = 0; i < k; i++) acc = acc * x + (double)y / (i + 1);
  return acc + (float)acc + (double)(int64_t)acc + __builtin_sqrt(x < 0 ? -x : x);
}

EXPORT(ftoi) int64_t ftoi(float f, double d) { return (int64_t)f + (int32_t)d + (uint32_t)(d * 2); }

/* Memory: stores of every width, memcpy/memset (bulk memory when enabled). */
EXPORT(shuffle) uint32_t shuffle(uint32_t n) {
  n &= 1023;
  __builtin_memset(heap, (int)n, n);
  __builtin_memcpy(heap + 1024, heap, n);
  __builtin_memmove(heap + 1, heap, n);
  uint16_t *h16 = (uint16_t *)(heap + 2048);
  int8_t *s8 = (int8_t *)heap;
  h16[n & 255] = (uint16_t)n;
  return h16[(n * 7) & 255] + (uint32_t)s8[n] + heap[1024 + (n >> 1)];
}

/* Recursion and a loop with an early exit. */
EXPORT(fib) int32_t fib(int32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

EXPORT(find) int32_t find(const int32_t *a, int32_t n, int32_t x) {
  for (int32_t i = 0; i < n; i++)
    if (a[i] == x) return i;
  return -1;
}
