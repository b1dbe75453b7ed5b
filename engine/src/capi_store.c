/*
 * capi_store.c: wasm.h's configuration, engine and store; the object
 * records that give runtime objects identity and host info (capi.h); the
 * reference functions every reference type shares (delete, copy, same, host
 * info, views as wasm_ref_t); foreign objects.
 */
#include <stdint.h>
#include <stdlib.h>

#include "capi.h"

/* ------------------------------------------------------------------ config, engine */

struct wasm_config_t {
  int unused;
};

wasm_config_t *wasm_config_new(void) { return calloc(1, sizeof(wasm_config_t)); }
void wasm_config_delete(wasm_config_t *c) { free(c); }

wasm_engine_t *wasm_engine_new(void) {
  wasm_engine_t *e = malloc(sizeof *e);
  if (!e) return NULL;
  e->e = wg_engine_new(NULL);
  if (!e->e) {
    free(e);
    return NULL;
  }
  return e;
}

wasm_engine_t *wasm_engine_new_with_config(wasm_config_t *c) {
  wasm_config_delete(c);
  return wasm_engine_new();
}

void wasm_engine_delete(wasm_engine_t *e) {
  if (!e) return;
  wg_engine_delete(e->e);
  free(e);
}

/* ------------------------------------------------------------------ store */

wasm_store_t *wasm_store_new(wasm_engine_t *e) {
  wasm_store_t *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->s = wg_store_new(e ? e->e : NULL, NULL);
  if (!st->s) {
    free(st);
    return NULL;
  }
  return st;
}

void wasm_store_delete(wasm_store_t *st) {
  if (!st) return;
  /* Host info finalizers first (the objects still exist), then the native
   * store (host function env finalizers), then the modules its instances
   * used, which must outlive the native store. */
  for (capi_obj *o = st->objs, *next; o; o = next) {
    next = o->next;
    if (o->finalizer) o->finalizer(o->info);
    free(o);
  }
  wg_store_delete(st->s);
  for (size_t i = 0; i < st->nheld; i++) capi_obj_release(st->held[i]);
  free(st->held);
  free(st->map);
  free(st);
}

/* ------------------------------------------------------------------ records */

/* murmur3's 64-bit finalizer: every pointer bit reaches the low bits. */
static size_t map_slot(const wasm_store_t *st, const void *native) {
  uint64_t h = (uint64_t)(uintptr_t)native;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return (size_t)h & (st->map_cap - 1);
}

static bool map_grow(wasm_store_t *st) {
  size_t cap = st->map_cap ? st->map_cap * 2 : 64;
  capi_obj **old = st->map;
  size_t old_cap = st->map_cap;
  st->map = calloc(cap, sizeof *st->map);
  if (!st->map) {
    st->map = old;
    return false;
  }
  st->map_cap = cap;
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i]) continue;
    size_t k = map_slot(st, old[i]->native);
    while (st->map[k]) k = (k + 1) & (cap - 1);
    st->map[k] = old[i];
  }
  free(old);
  return true;
}

capi_obj *capi_obj_of(wasm_store_t *st, capi_kind kind, void *native) {
  if (native) {
    if (st->map_cap) {
      for (size_t k = map_slot(st, native); st->map[k]; k = (k + 1) & (st->map_cap - 1))
        if (st->map[k]->native == native) return st->map[k];
    }
    if ((st->map_len + 1) * 2 > st->map_cap && !map_grow(st)) return NULL;
  }
  capi_obj *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->kind = kind;
  o->native = native;
  o->store = st;
  o->next = st->objs;
  st->objs = o;
  if (native) {
    size_t k = map_slot(st, native);
    while (st->map[k]) k = (k + 1) & (st->map_cap - 1);
    st->map[k] = o;
    st->map_len++;
  }
  return o;
}

static void trap_free(capi_trap *t) {
  free(t->msg);
  free(t->frames);
  free(t);
}

static void counted_native_free(capi_kind kind, void *native) {
  if (kind == CAPI_MODULE) wg_module_delete(native);
  else if (kind == CAPI_TRAP) trap_free(native);
}

wasm_ref_t *capi_counted_new(capi_kind kind, void *native) {
  capi_obj *o = calloc(1, sizeof *o);
  wasm_ref_t *r = malloc(sizeof *r);
  if (!o || !r) {
    free(o);
    free(r);
    counted_native_free(kind, native);
    return NULL;
  }
  o->kind = kind;
  o->native = native;
  atomic_init(&o->refs, 1);
  r->obj = o;
  r->counted = true;
  return r;
}

void capi_obj_release(capi_obj *o) {
  if (!o || o->store) return;
  if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1) return;
  if (o->finalizer) o->finalizer(o->info);
  counted_native_free(o->kind, o->native);
  free(o);
}

bool capi_store_hold(wasm_store_t *st, capi_obj *o) {
  if (o->store) return true;
  for (size_t i = 0; i < st->nheld; i++)
    if (st->held[i] == o) return true;
  if (st->nheld == st->cap_held) {
    size_t cap = st->cap_held ? st->cap_held * 2 : 8;
    capi_obj **h = realloc(st->held, cap * sizeof *h);
    if (!h) return false;
    st->held = h;
    st->cap_held = cap;
  }
  atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
  st->held[st->nheld++] = o;
  return true;
}

wasm_ref_t *capi_handle_new(capi_obj *o) {
  wasm_ref_t *r = malloc(sizeof *r);
  if (!r) return NULL;
  r->obj = o;
  r->counted = !o->store;
  if (r->counted) atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
  return r;
}

wasm_ref_t *capi_handle_of(wasm_store_t *st, capi_kind kind, void *native) {
  if (!native) return NULL;
  capi_obj *o = capi_obj_of(st, kind, native);
  return o ? capi_handle_new(o) : NULL;
}

/* ------------------------------------------------------------------ shared reference functions */

static void handle_delete(wasm_ref_t *r) {
  if (!r) return;
  if (r->counted) capi_obj_release(r->obj);
  free(r);
}

static wasm_ref_t *handle_copy(const wasm_ref_t *r) { return r ? capi_handle_new(r->obj) : NULL; }

static bool handle_same(const wasm_ref_t *a, const wasm_ref_t *b) {
  if (!a || !b) return a == b;
  return a->obj == b->obj;
}

static bool is_extern_kind(capi_kind k) { return k <= CAPI_MEMORY; }

#define KIND_IS(K) \
  static bool is_##K(capi_kind k) { return k == K; }
KIND_IS(CAPI_FUNC)
KIND_IS(CAPI_GLOBAL)
KIND_IS(CAPI_TABLE)
KIND_IS(CAPI_MEMORY)
KIND_IS(CAPI_INSTANCE)
KIND_IS(CAPI_FOREIGN)
KIND_IS(CAPI_MODULE)
KIND_IS(CAPI_TRAP)

/* Host info lives in the record, so every reference to an object sees it. */
#define REF_BASE(name)                                                                                     \
  void wasm_##name##_delete(wasm_##name##_t *h) { handle_delete((wasm_ref_t *)h); }                        \
  wasm_##name##_t *wasm_##name##_copy(const wasm_##name##_t *h) {                                          \
    return (wasm_##name##_t *)handle_copy((const wasm_ref_t *)h);                                          \
  }                                                                                                        \
  bool wasm_##name##_same(const wasm_##name##_t *a, const wasm_##name##_t *b) {                            \
    return handle_same((const wasm_ref_t *)a, (const wasm_ref_t *)b);                                      \
  }                                                                                                        \
  void *wasm_##name##_get_host_info(const wasm_##name##_t *h) { return ((const wasm_ref_t *)h)->obj->info; } \
  void wasm_##name##_set_host_info(wasm_##name##_t *h, void *info) {                                       \
    capi_obj *o = ((wasm_ref_t *)h)->obj;                                                                  \
    o->info = info;                                                                                        \
    o->finalizer = NULL;                                                                                   \
  }                                                                                                        \
  void wasm_##name##_set_host_info_with_finalizer(wasm_##name##_t *h, void *info, void (*fin)(void *)) {   \
    capi_obj *o = ((wasm_ref_t *)h)->obj;                                                                  \
    o->info = info;                                                                                        \
    o->finalizer = fin;                                                                                    \
  }

#define REF(name, accepts)                                                                            \
  REF_BASE(name)                                                                                      \
  wasm_ref_t *wasm_##name##_as_ref(wasm_##name##_t *h) { return (wasm_ref_t *)h; }                    \
  const wasm_ref_t *wasm_##name##_as_ref_const(const wasm_##name##_t *h) { return (const wasm_ref_t *)h; } \
  wasm_##name##_t *wasm_ref_as_##name(wasm_ref_t *r) {                                                \
    return r && accepts(r->obj->kind) ? (wasm_##name##_t *)r : NULL;                                  \
  }                                                                                                   \
  const wasm_##name##_t *wasm_ref_as_##name##_const(const wasm_ref_t *r) {                            \
    return r && accepts(r->obj->kind) ? (const wasm_##name##_t *)r : NULL;                            \
  }

REF_BASE(ref)
REF(trap, is_CAPI_TRAP)
REF(foreign, is_CAPI_FOREIGN)
REF(module, is_CAPI_MODULE)
REF(func, is_CAPI_FUNC)
REF(global, is_CAPI_GLOBAL)
REF(table, is_CAPI_TABLE)
REF(memory, is_CAPI_MEMORY)
REF(extern, is_extern_kind)
REF(instance, is_CAPI_INSTANCE)

/* ------------------------------------------------------------------ foreign objects */

wasm_foreign_t *wasm_foreign_new(wasm_store_t *st) {
  capi_obj *o = capi_obj_of(st, CAPI_FOREIGN, NULL);
  return o ? (wasm_foreign_t *)capi_handle_new(o) : NULL;
}
