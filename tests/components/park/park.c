/*
 * park.c: a reactor implementing park.wit by hand through the canonical ABI,
 * for park_host.c (host calls that park the guest and resume it). Built by
 * run_park.sh with clang-19, `jco embed` and `jco new --wasi-reactor`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HOST(name) __attribute__((import_module("wasmgate:test/host"), import_name(name)))
HOST("open") int32_t host_open(const char *p, size_t n);
HOST("fetch") void host_fetch(const char *p, size_t n, uint32_t *ret);
HOST("tick") void host_tick(void);
HOST("[method]blob.read") void blob_read(int32_t self, uint32_t *ret);
HOST("[resource-drop]blob") void blob_drop(int32_t self);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n);
}

static char *out;
static size_t outn;
static void append(const char *p, size_t n) {
  out = realloc(out, outn + n);
  memcpy(out + outn, p, n);
  outn += n;
}

static uint32_t ret[2];

__attribute__((export_name("run"))) uint32_t *run(char *name, size_t namelen, uint32_t n) {
  out = NULL;
  outn = 0;
  int32_t b = host_open(name, namelen);
  free(name);
  for (uint32_t i = 0; i < n; i++) {
    char key[16] = {'k', (char)('0' + i % 10)};
    uint32_t r[2];
    host_fetch(key, 2, r);
    append((const char *)(uintptr_t)r[0], r[1]);
    free((void *)(uintptr_t)r[0]);
    host_tick();
    blob_read(b, r); /* the last one right before the drop: the borrow must be returned at resume */
    append((const char *)(uintptr_t)r[0], r[1]);
    free((void *)(uintptr_t)r[0]);
  }
  blob_drop(b);
  ret[0] = (uint32_t)(uintptr_t)out;
  ret[1] = (uint32_t)outn;
  return ret;
}

__attribute__((export_name("cabi_post_run"))) void post_run(uint32_t *r) {
  free((void *)(uintptr_t)r[0]);

}

