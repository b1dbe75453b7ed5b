/*
 * greeter.c: a reactor implementing greeter.wit by hand through the
 * canonical ABI (CanonicalABI.md, flattening with MAX_FLAT_PARAMS 16 and
 * MAX_FLAT_RESULTS 1), turned into a component by `jco embed` + `jco new`
 * in run_real.sh. Exercises canon lift with realloc and post-return, a
 * variant whose payloads join (f32 and s32 flatten to i32), and canon lower.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("$root"), import_name("log"))) void host_log(const char *p, size_t n);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn;
  (void)align;
  return realloc(old, n);
}

static uint32_t ret[2];

/* greet: func(name: string) -> string: (ptr, len) -> pointer to (ptr, len). */
__attribute__((export_name("greet"))) uint32_t *greet(char *p, size_t n) {
  char *out = malloc(n + 6);
  memcpy(out, "hello ", 6);
  memcpy(out + 6, p, n);
  host_log(out, n + 6);
  ret[0] = (uint32_t)(uintptr_t)out;
  ret[1] = (uint32_t)(n + 6);
  return ret;
}

__attribute__((export_name("cabi_post_greet"))) void post_greet(uint32_t *r) { free((void *)(uintptr_t)r[0]); }

/* area: func(s: shape, scale: f64) -> f64, shape = variant { circle(f32), rect(point), none }:
 * discriminant, then the joined payload (i32 i32): f32 bits or point.x, point.y. */
__attribute__((export_name("area"))) double area(int32_t tag, int32_t a, int32_t b, double scale) {
  if (tag == 0) {
    float r;
    memcpy(&r, &a, sizeof r);
    return 3.14159 * r * r * scale;
  }
  return tag == 1 ? (double)a * b * scale : 0.0;
}

/* sum: func(xs: list<u32>) -> u64. */
__attribute__((export_name("sum"))) uint64_t sum(uint32_t *xs, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) s += xs[i];
  return s;
}
