/*
 * capi_extern.c: wasm.h's globals, tables and memories made by the host or
 * exported by instances, and externals (the views of those and functions as
 * wasm_extern_t, and their types).
 */
#include <stdlib.h>

#include "capi.h"

static capi_obj *obj(const void *h) { return ((const wasm_ref_t *)h)->obj; }

wg_extern capi_extern_to_wg(const wasm_extern_t *e) {
  const capi_obj *o = obj(e);
  wg_extern ex = {.kind = capi_wg_extern_kind((wasm_externkind_t)o->kind)};
  switch (ex.kind) {
    case WG_EXTERN_FUNC: ex.of.func = o->native; break;
    case WG_EXTERN_TABLE: ex.of.table = o->native; break;
    case WG_EXTERN_MEMORY: ex.of.memory = o->native; break;
    case WG_EXTERN_GLOBAL: ex.of.global = o->native; break;
    case WG_EXTERN_TAG: break; /* wasm.h has no tags (capi_wg_extern_kind never gives one) */
  }
  return ex;
}

static wasm_externtype_t *type_of(const void *h) {
  wg_extern ex = capi_extern_to_wg(h);
  wg_externtype t;
  wg_extern_type(&ex, &t);
  return capi_externtype_from_wg(&t);
}

/* ------------------------------------------------------------------ externals */

wasm_externkind_t wasm_extern_kind(const wasm_extern_t *e) { return (wasm_externkind_t)obj(e)->kind; }
wasm_externtype_t *wasm_extern_type(const wasm_extern_t *e) { return type_of(e); }

#define EXTERN_VIEWS(name, KIND)                                                                        \
  wasm_extern_t *wasm_##name##_as_extern(wasm_##name##_t *h) { return (wasm_extern_t *)h; }             \
  const wasm_extern_t *wasm_##name##_as_extern_const(const wasm_##name##_t *h) {                       \
    return (const wasm_extern_t *)h;                                                                    \
  }                                                                                                     \
  wasm_##name##_t *wasm_extern_as_##name(wasm_extern_t *e) {                                            \
    return e && obj(e)->kind == KIND ? (wasm_##name##_t *)e : NULL;                                     \
  }                                                                                                     \
  const wasm_##name##_t *wasm_extern_as_##name##_const(const wasm_extern_t *e) {                       \
    return e && obj(e)->kind == KIND ? (const wasm_##name##_t *)e : NULL;                               \
  }

EXTERN_VIEWS(func, CAPI_FUNC)
EXTERN_VIEWS(global, CAPI_GLOBAL)
EXTERN_VIEWS(table, CAPI_TABLE)
EXTERN_VIEWS(memory, CAPI_MEMORY)

/* ------------------------------------------------------------------ globals */

wasm_global_t *wasm_global_new(wasm_store_t *st, const wasm_globaltype_t *type, const wasm_val_t *val) {
  const wasm_valtype_t *content = wasm_globaltype_content(type);
  wg_valtype t = capi_wg_valtype(wasm_valtype_kind(content));
  wg_val v;
  if (!t || !capi_val_to_wg(st, t, val, &v)) return NULL;
  wg_global *g = wg_global_new(st->s, &v, wasm_globaltype_mutability(type) == WASM_VAR);
  return (wasm_global_t *)capi_handle_of(st, CAPI_GLOBAL, g);
}

wasm_globaltype_t *wasm_global_type(const wasm_global_t *g) { return (wasm_globaltype_t *)type_of(g); }

void wasm_global_get(const wasm_global_t *g, wasm_val_t *out) {
  wg_val v;
  wg_global_get(obj(g)->native, &v);
  capi_val_from_wg(obj(g)->store, &v, out);
}

void wasm_global_set(wasm_global_t *g, const wasm_val_t *val) {
  wg_extern ex = capi_extern_to_wg((const wasm_extern_t *)g);
  wg_externtype t;
  wg_extern_type(&ex, &t);
  wg_val v;
  if (t.mut && capi_val_to_wg(obj(g)->store, t.type, val, &v)) wg_global_set(ex.of.global, &v);
}

/* ------------------------------------------------------------------ tables */

static bool limits_to_wg(const wasm_limits_t *l, bool *has_max) {
  *has_max = l->max != wasm_limits_max_default;
  return !*has_max || l->min <= l->max;
}

wasm_table_t *wasm_table_new(wasm_store_t *st, const wasm_tabletype_t *type, wasm_ref_t *init) {
  wg_valtype elem = capi_wg_valtype(wasm_valtype_kind(wasm_tabletype_element(type)));
  const wasm_limits_t *l = wasm_tabletype_limits(type);
  bool has_max;
  wg_ref r;
  if ((elem != WG_FUNCREF && elem != WG_EXTERNREF) || !limits_to_wg(l, &has_max) ||
      !capi_ref_to_wg(st, elem, init, &r))
    return NULL;
  wg_table *t = wg_table_new(st->s, elem, l->min, has_max, l->max, r);
  return (wasm_table_t *)capi_handle_of(st, CAPI_TABLE, t);
}

wasm_tabletype_t *wasm_table_type(const wasm_table_t *t) { return (wasm_tabletype_t *)type_of(t); }

static wg_valtype table_elem(const wasm_table_t *t) {
  wg_extern ex = capi_extern_to_wg((const wasm_extern_t *)t);
  wg_externtype tt;
  wg_extern_type(&ex, &tt);
  return tt.elem;
}

wasm_ref_t *wasm_table_get(const wasm_table_t *t, wasm_table_size_t index) {
  wg_ref r;
  if (!wg_table_get(obj(t)->native, index, &r)) return NULL;
  return capi_ref_from_wg(obj(t)->store, table_elem(t), r);
}

bool wasm_table_set(wasm_table_t *t, wasm_table_size_t index, wasm_ref_t *ref) {
  wg_ref r;
  if (index >= wg_table_size(obj(t)->native)) return false;
  return capi_ref_to_wg(obj(t)->store, table_elem(t), ref, &r) && wg_table_set(obj(t)->native, index, r);
}

wasm_table_size_t wasm_table_size(const wasm_table_t *t) { return wg_table_size(obj(t)->native); }

bool wasm_table_grow(wasm_table_t *t, wasm_table_size_t delta, wasm_ref_t *init) {
  wg_ref r;
  return capi_ref_to_wg(obj(t)->store, table_elem(t), init, &r) && wg_table_grow(obj(t)->native, delta, r) >= 0;
}

/* ------------------------------------------------------------------ memories */

wasm_memory_t *wasm_memory_new(wasm_store_t *st, const wasm_memorytype_t *type) {
  const wasm_limits_t *l = wasm_memorytype_limits(type);
  bool has_max;
  if (!limits_to_wg(l, &has_max)) return NULL;
  wg_memory *m = wg_memory_new(st->s, l->min, has_max, l->max);
  return (wasm_memory_t *)capi_handle_of(st, CAPI_MEMORY, m);
}

wasm_memorytype_t *wasm_memory_type(const wasm_memory_t *m) { return (wasm_memorytype_t *)type_of(m); }
byte_t *wasm_memory_data(wasm_memory_t *m) { return (byte_t *)wg_memory_data(obj(m)->native); }
size_t wasm_memory_data_size(const wasm_memory_t *m) { return (size_t)wg_memory_size(obj(m)->native); }

wasm_memory_pages_t wasm_memory_size(const wasm_memory_t *m) {
  return (wasm_memory_pages_t)(wg_memory_size(obj(m)->native) / MEMORY_PAGE_SIZE);
}

bool wasm_memory_grow(wasm_memory_t *m, wasm_memory_pages_t delta) {
  return wg_memory_grow(obj(m)->native, delta) >= 0;
}
