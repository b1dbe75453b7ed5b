/*
 * capi_module.c: wasm.h's modules (compile, validate, imports and exports,
 * serialize, sharing between threads) and instances.
 *
 * A module is a reference-counted wg_module, so it can be deleted while
 * instances made from it live: each store that instantiates it holds one
 * reference until the store is deleted. Serializing gives the module's
 * original binary; deserializing compiles it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi.h"

static capi_obj *obj(const void *h) { return ((const wasm_ref_t *)h)->obj; }
static const wg_module *native_module(const wasm_module_t *m) { return obj(m)->native; }

/* ------------------------------------------------------------------ modules */

wasm_module_t *wasm_module_new(wasm_store_t *st, const wasm_byte_vec_t *binary) {
  (void)st;
  wg_module *m = wg_module_new((const uint8_t *)binary->data, binary->size, NULL);
  return m ? (wasm_module_t *)capi_counted_new(CAPI_MODULE, m) : NULL;
}

bool wasm_module_validate(wasm_store_t *st, const wasm_byte_vec_t *binary) {
  (void)st;
  wg_module *m = wg_module_new((const uint8_t *)binary->data, binary->size, NULL);
  wg_module_delete(m);
  return m != NULL;
}

static wasm_externtype_t *entity_type(const wg_module *m, const wg_extern_desc *d) {
  wg_externtype t;
  return wg_module_extern_type(m, d->kind, d->index, &t) ? capi_externtype_from_wg(&t) : NULL;
}

void wasm_module_imports(const wasm_module_t *module, wasm_importtype_vec_t *out) {
  const wg_module *m = native_module(module);
  wasm_importtype_vec_new_uninitialized(out, wg_module_import_count(m));
  for (size_t i = 0; i < out->size; i++) {
    wg_extern_desc d;
    wg_module_import(m, (uint32_t)i, &d);
    wasm_name_t mod, name;
    wasm_name_new(&mod, d.module_len, d.module);
    wasm_name_new(&name, d.name_len, d.name);
    out->data[i] = wasm_importtype_new(&mod, &name, entity_type(m, &d));
  }
}

void wasm_module_exports(const wasm_module_t *module, wasm_exporttype_vec_t *out) {
  const wg_module *m = native_module(module);
  wasm_exporttype_vec_new_uninitialized(out, wg_module_export_count(m));
  for (size_t i = 0; i < out->size; i++) {
    wg_extern_desc d;
    wg_module_export(m, (uint32_t)i, &d);
    wasm_name_t name;
    wasm_name_new(&name, d.name_len, d.name);
    out->data[i] = wasm_exporttype_new(&name, entity_type(m, &d));
  }
}

void wasm_module_serialize(const wasm_module_t *module, wasm_byte_vec_t *out) {
  size_t len;
  const uint8_t *bytes = wg_module_binary(native_module(module), &len);
  wasm_byte_vec_new(out, len, (const wasm_byte_t *)bytes);
}

wasm_module_t *wasm_module_deserialize(wasm_store_t *st, const wasm_byte_vec_t *bytes) {
  return wasm_module_new(st, bytes);
}

/* A shared module is one more reference to the same record (the record's
 * count is atomic; a wg_module is immutable and usable from any thread). */
struct wasm_shared_module_t {
  capi_obj *module;
};

wasm_shared_module_t *wasm_module_share(const wasm_module_t *module) {
  wasm_shared_module_t *s = malloc(sizeof *s);
  wasm_ref_t *r = s ? capi_handle_new(obj(module)) : NULL;
  if (!r) {
    free(s);
    return NULL;
  }
  s->module = r->obj; /* the handle's reference moves to the shared module */
  free(r);
  return s;
}

wasm_module_t *wasm_module_obtain(wasm_store_t *st, const wasm_shared_module_t *s) {
  (void)st;
  return (wasm_module_t *)capi_handle_new(s->module);
}

void wasm_shared_module_delete(wasm_shared_module_t *s) {
  if (!s) return;
  capi_obj_release(s->module);
  free(s);
}

/* ------------------------------------------------------------------ instances */

static wasm_instance_t *fail(wasm_trap_t **trap, const char *msg) {
  if (trap) *trap = capi_trap_make(msg, strlen(msg) + 1);
  return NULL;
}

wasm_instance_t *wasm_instance_new(wasm_store_t *st, const wasm_module_t *module, const wasm_extern_vec_t *imports,
                                   wasm_trap_t **trap) {
  if (trap) *trap = NULL;
  const wg_module *m = native_module(module);
  uint32_t n = wg_module_import_count(m);
  size_t given = imports ? imports->size : 0;
  char msg[128];
  if (given != n) {
    snprintf(msg, sizeof msg, "wrong number of imports: the module has %u, %zu given", n, given);
    return fail(trap, msg);
  }
  wg_extern *ex = calloc((size_t)n + 1, sizeof *ex);
  if (!ex) return fail(trap, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    const wasm_extern_t *e = imports->data[i];
    if (!e || obj(e)->store != st) {
      free(ex);
      snprintf(msg, sizeof msg, "import %u is %s", i, e ? "from another store" : "null");
      return fail(trap, msg);
    }
    ex[i] = capi_extern_to_wg(e);
  }
  /* The store keeps the module alive: its instances point into it. */
  if (!capi_store_hold(st, obj(module))) {
    free(ex);
    return fail(trap, "out of memory");
  }
  wg_error *err = NULL;
  wg_trap *wt = NULL;
  wg_instance *inst = wg_instance_new(st->s, m, ex, n, &err, &wt);
  free(ex);
  if (!inst) {
    if (err) fail(trap, wg_error_message(err));
    wg_error_delete(err);
    if (wt && trap) *trap = capi_trap_from_wg(st, wt); /* consumes wt */
    else wg_trap_delete(wt);
    return NULL;
  }
  return (wasm_instance_t *)capi_handle_of(st, CAPI_INSTANCE, inst);
}

void wasm_instance_exports(const wasm_instance_t *instance, wasm_extern_vec_t *out) {
  capi_obj *o = obj(instance);
  const wg_instance *inst = o->native;
  const wg_module *m = wg_instance_module(inst);
  wasm_extern_vec_new_uninitialized(out, wg_module_export_count(m));
  for (size_t i = 0; i < out->size; i++) {
    wg_extern_desc d;
    wg_extern ex;
    wg_module_export(m, (uint32_t)i, &d);
    if (!wg_instance_extern(inst, d.kind, d.index, &ex)) continue;
    void *native = NULL;
    switch (ex.kind) {
      case WG_EXTERN_FUNC: native = ex.of.func; break;
      case WG_EXTERN_TABLE: native = ex.of.table; break;
      case WG_EXTERN_MEMORY: native = ex.of.memory; break;
      case WG_EXTERN_GLOBAL: native = ex.of.global; break;
      case WG_EXTERN_TAG: break; /* wasm.h has no tags: the entry stays NULL */
    }
    if (!native) {
      out->data[i] = NULL;
      continue;
    }
    out->data[i] = (wasm_extern_t *)capi_handle_of(o->store, (capi_kind)capi_externkind(d.kind), native);
  }
}
