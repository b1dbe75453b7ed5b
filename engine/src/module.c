/*
 * module.c: the public module API (wasmgate.h): creation by decoding and
 * validating a binary, introspection of imports, exports and names.
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "module.h"
#include "runtime.h"

static void set_err(wg_error **err, const wg_diag *d) {
  if (err) *err = wg_error_from_diag(d);
}

wg_module *wg_module_new(const uint8_t *bytes, size_t len, wg_error **err) {
  return wg_module_new_features(bytes, len, WG_FEATURES_ALL, err);
}

wg_module *wg_module_new_features(const uint8_t *bytes, size_t len, uint32_t features, wg_error **err) {
  if (err) *err = NULL;
  wg_diag d = {0};
  if (len > UINT32_MAX) {
    wg_diag_set(&d, WG_ERROR_LIMIT, 0, "module too large");
    set_err(err, &d);
    return NULL;
  }
  wg_module *m = calloc(1, sizeof *m);
  uint8_t *copy = malloc(len ? len : 1);
  if (!m || !copy) {
    free(m);
    free(copy);
    wg_diag_set(&d, WG_ERROR_RESOURCE, SIZE_MAX, "out of memory");
    set_err(err, &d);
    return NULL;
  }
  if (len) memcpy(copy, bytes, len);
  m->bytes = copy;
  m->len = len;
  m->features = features;
  if (!wg_decode_module(m, &d) || !wg_validate_module(m, &d)) {
    set_err(err, &d);
    wg_module_delete(m);
    return NULL;
  }
  for (uint32_t i = 0; i < m->ntypes; i++) {
    wg_functype *ft = &m->types[i];
    wg_valtype *vt = wg_arena_array(&m->arena, (size_t)ft->nparams + ft->nresults, sizeof *vt);
    if (!vt) {
      wg_diag_set(&d, WG_ERROR_RESOURCE, SIZE_MAX, "out of memory");
      set_err(err, &d);
      wg_module_delete(m);
      return NULL;
    }
    for (uint32_t k = 0; k < ft->nparams; k++) vt[k] = (wg_valtype)ft->params[k];
    for (uint32_t k = 0; k < ft->nresults; k++) vt[ft->nparams + k] = (wg_valtype)ft->results[k];
    ft->vt = vt;
  }
  uint32_t ndefined = m->nfuncs - m->nfunc_imports;
  m->codes = calloc(ndefined ? ndefined : 1, sizeof *m->codes);
  if (!m->codes) {
    wg_diag_set(&d, WG_ERROR_RESOURCE, SIZE_MAX, "out of memory");
    set_err(err, &d);
    wg_module_delete(m);
    return NULL;
  }
  return m;
}

bool wg_module_compile_all(const wg_module *m, wg_error **err) {
  if (err) *err = NULL;
  for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
    const char *why = NULL;
    if (!wg_compile_func(m, f, &why) && why && !strcmp(why, "out of memory")) {
      if (err) *err = wg_error_make(WG_ERROR_RESOURCE, SIZE_MAX, "out of memory");
      return false;
    }
  }
  return true;
}

void wg_module_delete(wg_module *m) {
  if (!m) return;
  if (m->codes)
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++) wg_code_free(atomic_load(&m->codes[i]));
  free(m->codes);
  wg_arena_free(&m->arena);
  free(m->bytes);
  free(m);
}

uint32_t wg_module_import_count(const wg_module *m) { return m->nimports; }
uint32_t wg_module_export_count(const wg_module *m) { return m->nexports; }
uint32_t wg_module_func_count(const wg_module *m) { return m->nfuncs; }

bool wg_module_import(const wg_module *m, uint32_t i, wg_extern_desc *out) {
  if (i >= m->nimports) return false;
  const wg_import *im = &m->imports[i];
  *out = (wg_extern_desc){(const char *)im->module.ptr, im->module.len, (const char *)im->name.ptr,
                          im->name.len, im->kind, im->index};
  return true;
}

bool wg_module_export(const wg_module *m, uint32_t i, wg_extern_desc *out) {
  if (i >= m->nexports) return false;
  const wg_export *ex = &m->exports[i];
  *out = (wg_extern_desc){NULL, 0, (const char *)ex->name.ptr, ex->name.len, ex->kind, ex->index};
  return true;
}

const char *wg_module_func_name(const wg_module *m, uint32_t func) {
  if (!m->func_names || func >= m->nfuncs) return NULL;
  return m->func_names[func];
}

bool wg_module_extern_type(const wg_module *m, wg_extern_kind kind, uint32_t index, wg_externtype *out) {
  memset(out, 0, sizeof *out);
  out->kind = kind;
  switch (kind) {
    case WG_EXTERN_FUNC:
    case WG_EXTERN_TAG: {
      if (index >= (kind == WG_EXTERN_TAG ? m->ntags : m->nfuncs)) return false;
      const wg_functype *ft = &m->types[kind == WG_EXTERN_TAG ? m->tags[index] : m->funcs[index].type];
      out->func.nparams = ft->nparams;
      out->func.nresults = ft->nresults;
      out->func.params = ft->vt;
      out->func.results = ft->vt + ft->nparams;
      return true;
    }
    case WG_EXTERN_TABLE:
      if (index >= m->ntables) return false;
      out->elem = (wg_valtype)m->tables[index].elem;
      out->min = m->tables[index].limits.min;
      out->max = m->tables[index].limits.max;
      out->has_max = m->tables[index].limits.has_max;
      return true;
    case WG_EXTERN_MEMORY:
      if (index >= m->nmems) return false;
      out->min = m->mems[index].min;
      out->max = m->mems[index].max;
      out->has_max = m->mems[index].has_max;
      return true;
    case WG_EXTERN_GLOBAL:
      if (index >= m->nglobals) return false;
      out->type = (wg_valtype)m->globals[index].type.type;
      out->mut = m->globals[index].type.mut;
      return true;
  }
  return false;
}

const char *wg_valtype_name(wg_valtype t) {
  switch (t) {
    case WG_I32: return "i32";
    case WG_I64: return "i64";
    case WG_F32: return "f32";
    case WG_F64: return "f64";
    case WG_V128: return "v128";
    case WG_FUNCREF: return "funcref";
    case WG_EXTERNREF: return "externref";
    case WG_EXNREF: return "exnref";
  }
  return "?";
}

const uint8_t *wg_module_binary(const wg_module *m, size_t *len) {
  *len = m->len;
  return m->bytes;
}
