/*
 * hostile_guest.c: imports wasi:keyvalue/store@0.2.0-draft's bucket.get
 * with a u64 key instead of a string (world hostile/kv.wit). The host must
 * refuse the component at instantiation (the typed definition of
 * bucket.get does not match the import) instead of reading the number as a
 * string pointer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
IMPORT("wasi:keyvalue/store@0.2.0-draft", "open") void kv_open(const char *id, size_t n, void *ret);
IMPORT("wasi:keyvalue/store@0.2.0-draft", "[method]bucket.get") void kv_get(int32_t b, uint64_t key, void *ret);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

static _Alignas(8) uint8_t ret[16];

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  kv_open("mem", 3, ret);
  printf("open mem: %s\n", ret[0] ? "error" : "ok");
  kv_get(*(int32_t *)(ret + 4), 0x4141414141414141ull, ret);
  printf("get returned\n");
  return 0;
}
