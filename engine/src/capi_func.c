/*
 * capi_func.c: wasm.h's functions (host functions with and without an env,
 * types, arities, calls) and the conversions of values and references
 * between wasm.h and the native API.
 */
#include <stdlib.h>
#include <string.h>

#include "capi.h"

/* ------------------------------------------------------------------ values */

bool capi_ref_to_wg(wasm_store_t *st, wg_valtype t, const wasm_ref_t *r, wg_ref *out) {
  *out = NULL;
  if (!r) return t == WG_FUNCREF || t == WG_EXTERNREF;
  capi_obj *o = r->obj;
  if (t == WG_FUNCREF) {
    if (o->kind != CAPI_FUNC || o->store != st) return false;
    *out = o->native;
    return true;
  }
  if (t != WG_EXTERNREF || (o->store && o->store != st)) return false;
  /* A module or trap must live as long as the store may hold it. */
  if (!capi_store_hold(st, o)) return false;
  *out = o;
  return true;
}

wasm_ref_t *capi_ref_from_wg(wasm_store_t *st, wg_valtype t, wg_ref r) {
  if (!r) return NULL;
  if (t == WG_FUNCREF) return capi_handle_of(st, CAPI_FUNC, r);
  return capi_handle_new((capi_obj *)r);
}

bool capi_val_to_wg(wasm_store_t *st, wg_valtype t, const wasm_val_t *v, wg_val *out) {
  memset(out, 0, sizeof *out);
  out->kind = t;
  switch (t) {
    case WG_I32: out->of.i32 = v->of.i32; return v->kind == WASM_I32;
    case WG_I64: out->of.i64 = v->of.i64; return v->kind == WASM_I64;
    case WG_F32: out->of.f32 = v->of.f32; return v->kind == WASM_F32;
    case WG_F64: out->of.f64 = v->of.f64; return v->kind == WASM_F64;
    case WG_FUNCREF:
    case WG_EXTERNREF:
      /* WASM_REF_VAL always says externref: the slot's type decides. */
      return wasm_valkind_is_ref(v->kind) && capi_ref_to_wg(st, t, v->of.ref, &out->of.ref);
    case WG_V128:
    case WG_EXNREF: break; /* not in wasm.h */
  }
  return false;
}

void capi_val_from_wg(wasm_store_t *st, const wg_val *v, wasm_val_t *out) {
  memset(out, 0, sizeof *out);
  out->kind = capi_valkind(v->kind);
  switch (v->kind) {
    case WG_I32: out->of.i32 = v->of.i32; break;
    case WG_I64: out->of.i64 = v->of.i64; break;
    case WG_F32: out->of.f32 = v->of.f32; break;
    case WG_F64: out->of.f64 = v->of.f64; break;
    case WG_FUNCREF:
    case WG_EXTERNREF: out->of.ref = capi_ref_from_wg(st, v->kind, v->of.ref); break;
    case WG_V128:
    case WG_EXNREF: break;
  }
}

/* ------------------------------------------------------------------ host functions */

/* What a host function made through wasm.h runs with (its native env). */
typedef struct host_env {
  wasm_store_t *store;
  wasm_func_callback_t cb;
  wasm_func_callback_with_env_t cb_env;
  void *env;
  void (*finalizer)(void *);
  uint32_t nparams, nresults;
  wg_valtype results[]; /* nresults */
} host_env;

static void host_env_free(void *p) {
  host_env *h = p;
  if (h->finalizer) h->finalizer(h->env);
  free(h);
}

/* The native callback: converts the arguments, calls the wasm.h callback,
 * converts its results or its trap. Every reference handle made or returned
 * here is deleted before returning (the objects stay in the store). */
static wg_trap *host_call(void *envp, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  host_env *h = envp;
  size_t np = h->nparams, nr = h->nresults;
  wasm_val_t small[16];
  wasm_val_t *vals = np + nr <= 16 ? small : calloc(np + nr, sizeof *vals);
  if (!vals) return wg_trap_new(WG_TRAP_RESOURCE, NULL);
  for (size_t i = 0; i < np; i++) capi_val_from_wg(h->store, &args[i], &vals[i]);
  for (size_t i = 0; i < nr; i++) {
    memset(&vals[np + i], 0, sizeof vals[0]);
    vals[np + i].kind = capi_valkind(h->results[i]);
  }
  wasm_val_vec_t a = {np, vals}, r = {nr, vals + np};
  wasm_trap_t *t = h->cb ? h->cb(&a, &r) : h->cb_env(h->env, &a, &r);
  wg_trap *out = NULL;
  if (t) {
    out = capi_trap_to_wg(t);
  } else {
    for (size_t i = 0; i < nr && !out; i++)
      if (!capi_val_to_wg(h->store, h->results[i], &vals[np + i], &results[i]))
        out = wg_trap_new(WG_TRAP_HOST, "host function result type mismatch");
  }
  for (size_t i = 0; i < np + nr; i++) wasm_val_delete(&vals[i]);
  if (vals != small) free(vals);
  return out;
}

static wasm_func_t *func_new(wasm_store_t *st, const wasm_functype_t *type, wasm_func_callback_t cb,
                             wasm_func_callback_with_env_t cb_env, void *env, void (*finalizer)(void *)) {
  wg_functype_desc d;
  wg_valtype *buf;
  host_env *h = NULL;
  if (capi_functype_to_wg(type, &d, &buf)) h = malloc(sizeof *h + (d.nresults + 1) * sizeof(wg_valtype));
  if (!h) {
    free(buf);
    if (finalizer) finalizer(env);
    return NULL;
  }
  *h = (host_env){st, cb, cb_env, env, finalizer, d.nparams, d.nresults};
  memcpy(h->results, d.results, d.nresults * sizeof(wg_valtype));
  wg_func *f = wg_func_new_host(st->s, &d, host_call, h, host_env_free);
  free(buf);
  if (!f) {
    host_env_free(h); /* the caller's finalizer runs now, once */
    return NULL;
  }
  return (wasm_func_t *)capi_handle_of(st, CAPI_FUNC, f);
}

wasm_func_t *wasm_func_new(wasm_store_t *st, const wasm_functype_t *type, wasm_func_callback_t cb) {
  return func_new(st, type, cb, NULL, NULL, NULL);
}

wasm_func_t *wasm_func_new_with_env(wasm_store_t *st, const wasm_functype_t *type, wasm_func_callback_with_env_t cb,
                                    void *env, void (*finalizer)(void *)) {
  return func_new(st, type, NULL, cb, env, finalizer);
}

static wg_func *native_func(const wasm_func_t *f) { return ((const wasm_ref_t *)f)->obj->native; }

wasm_functype_t *wasm_func_type(const wasm_func_t *f) {
  wg_functype_desc d = wg_func_type(native_func(f));
  return capi_functype_from_wg(&d);
}

size_t wasm_func_param_arity(const wasm_func_t *f) { return wg_func_type(native_func(f)).nparams; }
size_t wasm_func_result_arity(const wasm_func_t *f) { return wg_func_type(native_func(f)).nresults; }

/* ------------------------------------------------------------------ calls */

static wasm_trap_t *call_error(const char *msg) { return capi_trap_make(msg, strlen(msg) + 1); }

wasm_trap_t *wasm_func_call(const wasm_func_t *func, const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  wasm_store_t *st = ((const wasm_ref_t *)func)->obj->store;
  wg_func *f = native_func(func);
  wg_functype_desc d = wg_func_type(f);
  size_t nargs = args ? args->size : 0, nres = results ? results->size : 0;
  if (nargs != d.nparams) return call_error("wrong number of arguments");
  size_t n = (size_t)d.nparams + d.nresults;
  wg_val small[16];
  wg_val *v = n <= 16 ? small : calloc(n, sizeof *v);
  if (!v) return call_error("out of memory");
  wasm_trap_t *out = NULL;
  for (uint32_t i = 0; i < d.nparams && !out; i++)
    if (!capi_val_to_wg(st, d.params[i], &args->data[i], &v[i])) out = call_error("argument type mismatch");
  if (!out) {
    wg_trap *t = wg_func_call(st->s, f, v, d.nparams, v + d.nparams, d.nresults);
    /* Too small a results vector is reported only after a successful call:
     * programs written for other engines pass an empty one to functions
     * they expect to trap (the upstream trap example does). */
    if (t) out = capi_trap_from_wg(st, t);
    else if (nres < d.nresults) out = call_error("wrong number of results");
    else
      for (uint32_t i = 0; i < d.nresults; i++) capi_val_from_wg(st, &v[d.nparams + i], &results->data[i]);
  }
  if (v != small) free(v);
  return out;
}
