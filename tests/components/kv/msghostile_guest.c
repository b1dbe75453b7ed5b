/*
 * msghostile_guest.c: imports wasi:messaging/producer@0.2.0-draft's send
 * with a u64 topic instead of a string (world msghostile/msg.wit). The host
 * must refuse the component at instantiation (the typed definition of send
 * does not match the import) instead of reading the number as a string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define TYPES "wasi:messaging/types@0.2.0-draft"
IMPORT(TYPES, "[static]client.connect") void connect_(const char *n, size_t nl, void *ret);
IMPORT(TYPES, "[constructor]message") int32_t message_new(const void *d, size_t n);
IMPORT("wasi:messaging/producer@0.2.0-draft", "send") void send_(int32_t c, uint64_t topic, int32_t m, void *ret);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

static _Alignas(8) uint8_t ret[16];

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  connect_("bus", 3, ret);
  printf("connect: %s\n", ret[0] ? "error" : "ok");
  send_(*(int32_t *)(ret + 4), 0x4141414141414141ull, message_new("x", 1), ret);
  printf("send returned\n");
  return 0;
}
