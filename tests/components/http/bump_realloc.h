/*
 * bump_realloc.h: the cabi_realloc of the test components in this folder
 * (echo.c, kvcount.c), built with -nostdlib: a bump allocator over the
 * memory after __heap_base, growing it as needed and never freeing (a
 * fresh instance serves one request; a pooled one only grows). Included
 * once by each component's source.
 */
#ifndef WG_TEST_BUMP_REALLOC_H
#define WG_TEST_BUMP_REALLOC_H

#include <stddef.h>
#include <stdint.h>

extern unsigned char __heap_base;
static uintptr_t heap_top;

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_len, size_t align, size_t len) {
  if (!heap_top) heap_top = (uintptr_t)&__heap_base;
  uintptr_t p = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t end = p + len;
  size_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) < 0) __builtin_trap();
  heap_top = end;
  unsigned char *d = (unsigned char *)p, *s = old;
  for (size_t i = 0; old && i < old_len && i < len; i++) d[i] = s[i];
  return d;
}

#endif
