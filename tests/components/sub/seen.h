/*
 * seen.h: what the subscriber components in this folder share: they are
 * written against the canonical ABI by hand (clang-19 --target=wasm32
 * -nostdlib, no libc), and count what they receive with
 * wasi:keyvalue@0.2.0-draft atomics.increment in bucket "seen" (a Dapr state
 * store of that name), so the test reads the counts through the sidecar's
 * state API. Included once by each component's source.
 */
#ifndef WG_TEST_SEEN_H
#define WG_TEST_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "../http/bump_realloc.h" /* cabi_realloc */

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("wasi:keyvalue/store@0.2.0-draft", "open") void kv_open(const char *id, size_t n, void *ret);
IMPORT("wasi:keyvalue/store@0.2.0-draft", "[resource-drop]bucket") void kv_drop(int32_t b);
IMPORT("wasi:keyvalue/atomics@0.2.0-draft", "increment")
void kv_incr(int32_t b, const char *k, size_t kn, uint64_t delta, void *ret);

static char key[512];
static size_t key_len;

static void key_reset(void) { key_len = 0; }
static void key_add(const char *p, size_t n) {
  for (size_t i = 0; i < n && key_len < sizeof key; i++) key[key_len++] = p[i];
}
static void key_str(const char *s) {
  while (*s) key_add(s++, 1);
}

static int same(const char *p, size_t n, const char *s) {
  size_t i = 0;
  for (; i < n && s[i]; i++)
    if (p[i] != s[i]) return 0;
  return i == n && !s[i];
}

/* Adds 1 to key[] in bucket "seen": the new count, 0 when the store failed. */
static uint64_t seen(void) {
  uint8_t r[24] __attribute__((aligned(8)));
  kv_open("seen", 4, r); /* result<bucket, error> */
  if (r[0]) return 0;
  int32_t b = *(int32_t *)(r + 4);
  kv_incr(b, key, key_len, 1, r); /* result<u64, error> */
  kv_drop(b);
  return r[0] ? 0 : *(uint64_t *)(r + 8);
}

#endif
