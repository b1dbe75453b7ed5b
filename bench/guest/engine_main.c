/*
 * engine_main.c: the main of "engine.wasm", the benchmark's real-program
 * input: wasmgate's own engine (every .c file of engine/src) compiled to wasm32-wasi with
 * this file as its entry point (bench/make-inputs.sh). It is a genuine,
 * runnable WASI program -- `engine.wasm FILE` validates FILE -- but the
 * benchmark only decodes and validates it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wasmgate.h"

/* Reads a whole file into a malloc'd buffer; returns NULL on failure. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      uint8_t *bigger = realloc(buf, cap *= 2);
      if (!bigger) free(buf);
      buf = bigger;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: engine.wasm FILE.wasm\n");
    return 2;
  }
  size_t len;
  uint8_t *bytes = read_file(argv[1], &len);
  if (!bytes) {
    perror(argv[1]);
    return 1;
  }
  wg_error *err;
  wg_module *m = wg_module_new(bytes, len, &err);
  free(bytes);
  if (!m) {
    printf("%s: invalid at %zu: %s\n", argv[1], wg_error_offset(err), wg_error_message(err));
    wg_error_delete(err);
    return 1;
  }
  printf("%s: valid, %u imports, %u exports, %u functions\n", argv[1], wg_module_import_count(m),
         wg_module_export_count(m), wg_module_func_count(m));
  wg_module_delete(m);
  return 0;
}
