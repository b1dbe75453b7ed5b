/*
 * capi_types.c: wasm.h's type objects (valtype, functype, globaltype,
 * tabletype, memorytype, externtype, importtype, exporttype), their views as
 * one another, and conversions to and from the native API's types.
 *
 * The four external types are one structure (struct wasm_externtype_t in
 * capi.h) whose `kind` says which fields hold, so the _as_ views cost nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "capi.h"

/* ------------------------------------------------------------------ value types */

wasm_valtype_t *wasm_valtype_new(wasm_valkind_t k) {
  wasm_valtype_t *t = malloc(sizeof *t);
  if (t) t->kind = k;
  return t;
}

wasm_valkind_t wasm_valtype_kind(const wasm_valtype_t *t) { return t->kind; }
void wasm_valtype_delete(wasm_valtype_t *t) { free(t); }
wasm_valtype_t *wasm_valtype_copy(const wasm_valtype_t *t) { return wasm_valtype_new(t->kind); }

wg_valtype capi_wg_valtype(wasm_valkind_t k) {
  switch (k) {
    case WASM_I32: return WG_I32;
    case WASM_I64: return WG_I64;
    case WASM_F32: return WG_F32;
    case WASM_F64: return WG_F64;
    case WASM_EXTERNREF: return WG_EXTERNREF;
    case WASM_FUNCREF: return WG_FUNCREF;
  }
  return (wg_valtype)0;
}

wasm_valkind_t capi_valkind(wg_valtype t) {
  switch (t) {
    case WG_I32: return WASM_I32;
    case WG_I64: return WASM_I64;
    case WG_F32: return WASM_F32;
    case WG_F64: return WASM_F64;
    case WG_EXTERNREF: return WASM_EXTERNREF;
    case WG_FUNCREF: return WASM_FUNCREF;
    case WG_V128: break; /* wasm.h has no v128 */
    case WG_EXNREF: break; /* nor exnref */
  }
  return 0xFF;
}

wg_extern_kind capi_wg_extern_kind(wasm_externkind_t k) {
  switch (k) {
    case WASM_EXTERN_GLOBAL: return WG_EXTERN_GLOBAL;
    case WASM_EXTERN_TABLE: return WG_EXTERN_TABLE;
    case WASM_EXTERN_MEMORY: return WG_EXTERN_MEMORY;
    default: return WG_EXTERN_FUNC;
  }
}

wasm_externkind_t capi_externkind(wg_extern_kind k) {
  switch (k) {
    case WG_EXTERN_GLOBAL: return WASM_EXTERN_GLOBAL;
    case WG_EXTERN_TABLE: return WASM_EXTERN_TABLE;
    case WG_EXTERN_MEMORY: return WASM_EXTERN_MEMORY;
    case WG_EXTERN_FUNC:
    case WG_EXTERN_TAG: break; /* wasm.h has no tags; their exports are NULL (capi_module.c) */
  }
  return WASM_EXTERN_FUNC;
}

/* ------------------------------------------------------------------ external types */

static wasm_externtype_t *type_new(wasm_externkind_t kind) {
  wasm_externtype_t *t = calloc(1, sizeof *t);
  if (t) t->kind = kind;
  return t;
}

void wasm_externtype_delete(wasm_externtype_t *t) {
  if (!t) return;
  wasm_valtype_vec_delete(&t->params);
  wasm_valtype_vec_delete(&t->results);
  wasm_valtype_delete(t->content);
  free(t);
}

wasm_externtype_t *wasm_externtype_copy(const wasm_externtype_t *src) {
  wasm_externtype_t *t = type_new(src->kind);
  if (!t) return NULL;
  *t = *src;
  wasm_valtype_vec_copy(&t->params, &src->params);
  wasm_valtype_vec_copy(&t->results, &src->results);
  t->content = src->content ? wasm_valtype_copy(src->content) : NULL;
  if (t->params.size != src->params.size || t->results.size != src->results.size ||
      (src->content && !t->content)) {
    wasm_externtype_delete(t);
    return NULL;
  }
  return t;
}

wasm_externkind_t wasm_externtype_kind(const wasm_externtype_t *t) { return t->kind; }

/* The four views: functype & co. are wasm_externtype_t under another name. */
#define TYPE_VIEWS(name, KIND)                                                                            \
  void wasm_##name##_delete(wasm_##name##_t *t) { wasm_externtype_delete((wasm_externtype_t *)t); }       \
  wasm_##name##_t *wasm_##name##_copy(const wasm_##name##_t *t) {                                         \
    return (wasm_##name##_t *)wasm_externtype_copy((const wasm_externtype_t *)t);                         \
  }                                                                                                       \
  wasm_externtype_t *wasm_##name##_as_externtype(wasm_##name##_t *t) { return (wasm_externtype_t *)t; }  \
  const wasm_externtype_t *wasm_##name##_as_externtype_const(const wasm_##name##_t *t) {                 \
    return (const wasm_externtype_t *)t;                                                                  \
  }                                                                                                       \
  wasm_##name##_t *wasm_externtype_as_##name(wasm_externtype_t *t) {                                      \
    return t && t->kind == KIND ? (wasm_##name##_t *)t : NULL;                                            \
  }                                                                                                       \
  const wasm_##name##_t *wasm_externtype_as_##name##_const(const wasm_externtype_t *t) {                 \
    return t && t->kind == KIND ? (const wasm_##name##_t *)t : NULL;                                      \
  }

TYPE_VIEWS(functype, WASM_EXTERN_FUNC)
TYPE_VIEWS(globaltype, WASM_EXTERN_GLOBAL)
TYPE_VIEWS(tabletype, WASM_EXTERN_TABLE)
TYPE_VIEWS(memorytype, WASM_EXTERN_MEMORY)

#define AS_TYPE(t) ((const wasm_externtype_t *)(t))

wasm_functype_t *wasm_functype_new(wasm_valtype_vec_t *params, wasm_valtype_vec_t *results) {
  wasm_externtype_t *t = type_new(WASM_EXTERN_FUNC);
  if (!t) {
    wasm_valtype_vec_delete(params);
    wasm_valtype_vec_delete(results);
    return NULL;
  }
  /* Takes the vectors' contents over; the caller's vectors are left as they were. */
  t->params = *params;
  t->results = *results;
  return (wasm_functype_t *)t;
}

const wasm_valtype_vec_t *wasm_functype_params(const wasm_functype_t *t) { return &AS_TYPE(t)->params; }
const wasm_valtype_vec_t *wasm_functype_results(const wasm_functype_t *t) { return &AS_TYPE(t)->results; }

wasm_globaltype_t *wasm_globaltype_new(wasm_valtype_t *content, wasm_mutability_t mut) {
  wasm_externtype_t *t = type_new(WASM_EXTERN_GLOBAL);
  if (!t) {
    wasm_valtype_delete(content);
    return NULL;
  }
  t->content = content;
  t->mut = mut;
  return (wasm_globaltype_t *)t;
}

const wasm_valtype_t *wasm_globaltype_content(const wasm_globaltype_t *t) { return AS_TYPE(t)->content; }
wasm_mutability_t wasm_globaltype_mutability(const wasm_globaltype_t *t) { return AS_TYPE(t)->mut; }

wasm_tabletype_t *wasm_tabletype_new(wasm_valtype_t *elem, const wasm_limits_t *limits) {
  wasm_externtype_t *t = type_new(WASM_EXTERN_TABLE);
  if (!t) {
    wasm_valtype_delete(elem);
    return NULL;
  }
  t->content = elem;
  t->limits = *limits;
  return (wasm_tabletype_t *)t;
}

const wasm_valtype_t *wasm_tabletype_element(const wasm_tabletype_t *t) { return AS_TYPE(t)->content; }
const wasm_limits_t *wasm_tabletype_limits(const wasm_tabletype_t *t) { return &AS_TYPE(t)->limits; }

wasm_memorytype_t *wasm_memorytype_new(const wasm_limits_t *limits) {
  wasm_externtype_t *t = type_new(WASM_EXTERN_MEMORY);
  if (!t) return NULL;
  t->limits = *limits;
  return (wasm_memorytype_t *)t;
}

const wasm_limits_t *wasm_memorytype_limits(const wasm_memorytype_t *t) { return &AS_TYPE(t)->limits; }

/* ------------------------------------------------------------------ native conversions */

static bool valtypes_from_wg(wasm_valtype_vec_t *out, uint32_t n, const wg_valtype *types) {
  wasm_valtype_vec_new_uninitialized(out, n);
  if (out->size != n) return false;
  for (uint32_t i = 0; i < n; i++)
    if (!(out->data[i] = wasm_valtype_new(capi_valkind(types[i])))) return false;
  return true;
}

wasm_functype_t *capi_functype_from_wg(const wg_functype_desc *d) {
  wasm_externtype_t *t = type_new(WASM_EXTERN_FUNC);
  if (!t) return NULL;
  if (!valtypes_from_wg(&t->params, d->nparams, d->params) ||
      !valtypes_from_wg(&t->results, d->nresults, d->results)) {
    wasm_externtype_delete(t);
    return NULL;
  }
  return (wasm_functype_t *)t;
}

bool capi_functype_to_wg(const wasm_functype_t *ft, wg_functype_desc *out, wg_valtype **buf) {
  const wasm_externtype_t *t = AS_TYPE(ft);
  size_t np = t->params.size, nr = t->results.size;
  *buf = NULL;
  if (np > UINT32_MAX || nr > UINT32_MAX) return false;
  wg_valtype *v = malloc((np + nr + 1) * sizeof *v);
  if (!v) return false;
  for (size_t i = 0; i < np + nr; i++) {
    const wasm_valtype_t *vt = i < np ? t->params.data[i] : t->results.data[i - np];
    if (!vt || !(v[i] = capi_wg_valtype(vt->kind))) {
      free(v);
      return false;
    }
  }
  *out = (wg_functype_desc){(uint32_t)np, (uint32_t)nr, v, v + np};
  *buf = v;
  return true;
}

static wasm_limits_t limits_from_wg(const wg_externtype *t) {
  return (wasm_limits_t){t->min, t->has_max ? t->max : wasm_limits_max_default};
}

wasm_externtype_t *capi_externtype_from_wg(const wg_externtype *t) {
  switch (t->kind) {
    case WG_EXTERN_FUNC: {
      wg_functype_desc d = {t->func.nparams, t->func.nresults, t->func.params, t->func.results};
      return (wasm_externtype_t *)capi_functype_from_wg(&d);
    }
    case WG_EXTERN_GLOBAL: {
      wasm_valtype_t *vt = wasm_valtype_new(capi_valkind(t->type));
      return vt ? (wasm_externtype_t *)wasm_globaltype_new(vt, t->mut ? WASM_VAR : WASM_CONST) : NULL;
    }
    case WG_EXTERN_TABLE: {
      wasm_limits_t l = limits_from_wg(t);
      wasm_valtype_t *vt = wasm_valtype_new(capi_valkind(t->elem));
      return vt ? (wasm_externtype_t *)wasm_tabletype_new(vt, &l) : NULL;
    }
    case WG_EXTERN_MEMORY: {
      wasm_limits_t l = limits_from_wg(t);
      return (wasm_externtype_t *)wasm_memorytype_new(&l);
    }
    case WG_EXTERN_TAG: break; /* wasm.h has no tags */
  }
  return NULL;
}

/* ------------------------------------------------------------------ import and export types */

struct wasm_importtype_t {
  wasm_name_t module, name;
  wasm_externtype_t *type;
};

struct wasm_exporttype_t {
  wasm_name_t name;
  wasm_externtype_t *type;
};

wasm_importtype_t *wasm_importtype_new(wasm_name_t *module, wasm_name_t *name, wasm_externtype_t *type) {
  wasm_importtype_t *t = malloc(sizeof *t);
  if (!t) {
    wasm_name_delete(module);
    wasm_name_delete(name);
    wasm_externtype_delete(type);
    return NULL;
  }
  *t = (wasm_importtype_t){*module, *name, type};
  return t;
}

void wasm_importtype_delete(wasm_importtype_t *t) {
  if (!t) return;
  wasm_name_delete(&t->module);
  wasm_name_delete(&t->name);
  wasm_externtype_delete(t->type);
  free(t);
}

wasm_importtype_t *wasm_importtype_copy(const wasm_importtype_t *src) {
  wasm_name_t module, name;
  wasm_name_copy(&module, &src->module);
  wasm_name_copy(&name, &src->name);
  return wasm_importtype_new(&module, &name, wasm_externtype_copy(src->type));
}

const wasm_name_t *wasm_importtype_module(const wasm_importtype_t *t) { return &t->module; }
const wasm_name_t *wasm_importtype_name(const wasm_importtype_t *t) { return &t->name; }
const wasm_externtype_t *wasm_importtype_type(const wasm_importtype_t *t) { return t->type; }

wasm_exporttype_t *wasm_exporttype_new(wasm_name_t *name, wasm_externtype_t *type) {
  wasm_exporttype_t *t = malloc(sizeof *t);
  if (!t) {
    wasm_name_delete(name);
    wasm_externtype_delete(type);
    return NULL;
  }
  *t = (wasm_exporttype_t){*name, type};
  return t;
}

void wasm_exporttype_delete(wasm_exporttype_t *t) {
  if (!t) return;
  wasm_name_delete(&t->name);
  wasm_externtype_delete(t->type);
  free(t);
}

wasm_exporttype_t *wasm_exporttype_copy(const wasm_exporttype_t *src) {
  wasm_name_t name;
  wasm_name_copy(&name, &src->name);
  return wasm_exporttype_new(&name, wasm_externtype_copy(src->type));
}

const wasm_name_t *wasm_exporttype_name(const wasm_exporttype_t *t) { return &t->name; }
const wasm_externtype_t *wasm_exporttype_type(const wasm_exporttype_t *t) { return t->type; }
