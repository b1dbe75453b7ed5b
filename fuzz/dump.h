/*
 * dump.h: FUZZ_DUMP support shared by the fuzz targets (header-only).
 *
 * With FUZZ_DUMP=DIR in the environment, fuzz_dump() writes each module a
 * target hands to the engine to DIR/N.wasm (N counts from 0 in this process)
 * and appends "N valid" or "N invalid KIND OFFSET MESSAGE" to
 * DIR/verdicts.txt. Used to turn a crash input into a module for
 * wasm-objdump, and by fuzz/diff-validate.sh to compare the engine's
 * verdicts with other validators. Without FUZZ_DUMP it does nothing.
 */
#ifndef WG_FUZZ_DUMP_H
#define WG_FUZZ_DUMP_H

#include <stdio.h>
#include <stdlib.h>

#include "wasmgate.h"

/* Records module `bytes`/`len` and the engine's verdict (`err` NULL: valid). */
static void fuzz_dump(const uint8_t *bytes, size_t len, const wg_error *err) {
  static unsigned long n;
  const char *dir = getenv("FUZZ_DUMP");
  if (!dir) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/%lu.wasm", dir, n);
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(bytes, 1, len, f);
    fclose(f);
  }
  snprintf(path, sizeof path, "%s/verdicts.txt", dir);
  f = fopen(path, "a");
  if (f) {
    if (err)
      fprintf(f, "%lu invalid %d %zu %s\n", n, (int)wg_error_kind_of(err), wg_error_offset(err),
              wg_error_message(err));
    else
      fprintf(f, "%lu valid\n", n);
    fclose(f);
  }
  n++;
}

#endif
