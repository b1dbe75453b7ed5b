/*
 * exn.c: exception objects of exception handling (WebAssembly 3.0 4.2,
 * exnref). An exception is made by throw (interp.c) with its tag and values.
 * Most are caught by catch/catch_all and freed there; one that anything may
 * still refer to (delivered as an exnref by catch_ref/catch_all_ref, or
 * carried out of the outermost call by a trap) is handed to the store and
 * lives until the store is deleted, charged to the store's max_bytes, so a
 * guest keeping exceptions in a loop stops at the store's limit.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

wg_exn *wg_exn_new(wg_store *s, wg_tag *tag, const wg_slot *vals) {
  uint32_t n = wg_slot_count(tag->type.nparams, tag->type.params);
  wg_exn *e = malloc(sizeof *e + (size_t)n * sizeof(wg_slot));
  if (!e) return NULL;
  e->tag = tag;
  e->store = s;
  e->owned = false;
  e->nslots = n;
  if (n) memcpy(e->vals, vals, (size_t)n * sizeof(wg_slot));
  return e;
}

bool wg_exn_keep(wg_store *s, wg_exn *e) {
  if (e->owned) return true;
  if (!wg_store_charge(s, sizeof *e + (uint64_t)e->nslots * sizeof(wg_slot))) {
    free(e);
    return false;
  }
  if (!wg_store_own(s, e, free)) return false; /* freed by wg_store_own */
  e->owned = true;
  return true;
}

void wg_exn_drop(wg_exn *e) {
  if (e && !e->owned) free(e);
}
