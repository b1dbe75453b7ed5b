/*
 * hostile_guest.c: imports dapr:runtime/state@0.1.0's get with a u64 store
 * (world hostile/hostile.wit): the host must trap the call instead of
 * reading the number as a string. Run by tests/gate/p2_dapr.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

__attribute__((import_module("dapr:runtime/state@0.1.0"), import_name("get")))
void st_get(int64_t store, const char *k, size_t kn, const void *md, size_t nmd, void *ret);

static _Alignas(8) uint8_t ret[32];

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("calling\n");
  st_get(0x100000010LL, "k", 1, NULL, 0, ret);
  printf("returned %u\n", ret[0]);
  return 0;
}
