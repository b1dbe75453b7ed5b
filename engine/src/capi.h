/*
 * capi.h: internals shared by the wasm.h implementation (capi_*.c), which is
 * built on the native API (wasmgate.h) only.
 *
 * Every reference (wasm_ref_t, and wasm_func_t, wasm_extern_t, ... which are
 * the same structure viewed under another name) is a small heap handle
 * pointing at an object record, capi_obj. A record gives a runtime object
 * its identity and host info:
 * - store objects (functions, globals, tables, memories, instances, foreign
 *   objects) have one record per native object, interned in their store by
 *   the native pointer, freed (host info finalizers run) with the store;
 * - modules and traps belong to no store: their record is reference-counted
 *   by handles, and freed with the last one.
 * As wasm values, a funcref is the native wg_func * and an externref is the
 * capi_obj * of whatever object the host passed in.
 */
#ifndef WG_CAPI_H
#define WG_CAPI_H

#include <stdatomic.h>

#include "wasm.h"
#include "wasmgate.h"

/* Object kinds; the first four equal wasm_externkind_t. */
typedef enum capi_kind {
  CAPI_FUNC = WASM_EXTERN_FUNC,
  CAPI_GLOBAL = WASM_EXTERN_GLOBAL,
  CAPI_TABLE = WASM_EXTERN_TABLE,
  CAPI_MEMORY = WASM_EXTERN_MEMORY,
  CAPI_INSTANCE,
  CAPI_FOREIGN,
  CAPI_MODULE,
  CAPI_TRAP,
} capi_kind;

typedef struct capi_obj {
  capi_kind kind;
  void *native;        /* wg_func/global/table/memory/instance *, wg_module *, capi_trap *; NULL for foreign */
  wasm_store_t *store; /* store objects; NULL for modules and traps */
  _Atomic size_t refs; /* modules and traps: live handles plus holds */
  void *info;
  void (*finalizer)(void *);
  struct capi_obj *next; /* in the store's list */
} capi_obj;

struct wasm_ref_t {
  capi_obj *obj;
  /* Holds a reference of a refcounted record. Kept in the handle so that a
   * handle to a store object deleted after its store only frees itself. */
  bool counted;
};

struct wasm_engine_t {
  wg_engine *e;
};

struct wasm_store_t {
  wg_store *s;
  capi_obj *objs;          /* every store object's record */
  capi_obj **map;          /* open addressing, keyed by native pointer */
  size_t map_cap, map_len;
  capi_obj **held;         /* modules and traps kept alive by this store */
  size_t nheld, cap_held;
};

/* A trap's contents (capi_obj.native of a CAPI_TRAP). */
typedef struct capi_frame_rec {
  capi_obj *instance; /* NULL when unknown */
  uint32_t func_index;
  size_t func_offset, module_offset;
} capi_frame_rec;

typedef struct capi_trap {
  char *msg;  /* NUL-terminated */
  size_t len; /* bytes including the NUL */
  capi_frame_rec *frames;
  size_t nframes;
} capi_trap;

struct wasm_frame_t {
  wasm_instance_t *instance; /* owned handle, or NULL */
  uint32_t func_index;
  size_t func_offset, module_offset;
};

/* Every type object is one structure; `kind` says which view is valid.
 * wasm_functype_t and the other three are this structure under other names. */
struct wasm_externtype_t {
  wasm_externkind_t kind;
  wasm_valtype_vec_t params, results; /* func */
  wasm_valtype_t *content;            /* global value type, table element type */
  wasm_mutability_t mut;              /* global */
  wasm_limits_t limits;               /* table, memory */
};

struct wasm_valtype_t {
  wasm_valkind_t kind;
};

/* ---- records and handles (capi_store.c) */

/* The record of a store object, made on first use. NULL on OOM. */
capi_obj *capi_obj_of(wasm_store_t *st, capi_kind kind, void *native);
/* A first handle to a new refcounted record (module or trap) for `native`,
 * which it takes over. NULL on OOM, `native` then released. */
wasm_ref_t *capi_counted_new(capi_kind kind, void *native);
/* Drops one reference of a refcounted record; the last one runs the host
 * info finalizer and frees the native object. Store objects: no-op. */
void capi_obj_release(capi_obj *o);
/* Keeps a refcounted record alive until the store is deleted (once per
 * store). False on OOM. Store objects: true. */
bool capi_store_hold(wasm_store_t *st, capi_obj *o);
/* A new handle to `o` (taking a reference of a refcounted record); NULL on OOM. */
wasm_ref_t *capi_handle_new(capi_obj *o);
/* A handle to the record of a store object; NULL for a NULL native or OOM. */
wasm_ref_t *capi_handle_of(wasm_store_t *st, capi_kind kind, void *native);

/* ---- externals (capi_extern.c) */

/* The native external value a wasm_extern_t refers to. */
wg_extern capi_extern_to_wg(const wasm_extern_t *e);

/* ---- types (capi_types.c) */

/* wg_valtype <-> wasm_valkind_t; (wg_valtype)0 / 0xFF for kinds with no counterpart. */
wg_valtype capi_wg_valtype(wasm_valkind_t k);
wasm_valkind_t capi_valkind(wg_valtype t);
/* A new type object for a native type; NULL on OOM. */
wasm_externtype_t *capi_externtype_from_wg(const wg_externtype *t);
/* A new functype for a native function type; NULL on OOM. */
wasm_functype_t *capi_functype_from_wg(const wg_functype_desc *d);
/* Fills a native function type from `ft`; *buf (caller frees) holds the arrays.
 * False on OOM or a value kind the engine does not know. */
bool capi_functype_to_wg(const wasm_functype_t *ft, wg_functype_desc *out, wg_valtype **buf);
wg_extern_kind capi_wg_extern_kind(wasm_externkind_t k);
wasm_externkind_t capi_externkind(wg_extern_kind k);

/* ---- values (capi_func.c) */

/* A reference to put in a slot of type `t` (funcref: the wg_func *, externref:
 * the record). False when `r` cannot have that type (or on OOM). */
bool capi_ref_to_wg(wasm_store_t *st, wg_valtype t, const wasm_ref_t *r, wg_ref *out);
/* A new handle for a reference read from a slot of type `t` (NULL for null or OOM). */
wasm_ref_t *capi_ref_from_wg(wasm_store_t *st, wg_valtype t, wg_ref r);
/* Converts a value to the type `t` it must have; false on a mismatch. */
bool capi_val_to_wg(wasm_store_t *st, wg_valtype t, const wasm_val_t *v, wg_val *out);
/* Converts a native value; references become new handles owned by *out. */
void capi_val_from_wg(wasm_store_t *st, const wg_val *v, wasm_val_t *out);

/* ---- traps (capi_trap.c) */

/* A new trap with a copy of `len` bytes of `msg` (a NUL is added when the
 * bytes do not end with one). NULL on OOM. */
wasm_trap_t *capi_trap_make(const char *msg, size_t len);
/* Converts a native trap (consumed) with its frames; NULL on OOM. */
wasm_trap_t *capi_trap_from_wg(wasm_store_t *st, wg_trap *t);
/* Converts a trap (consumed) to a native trap for the engine. */
wg_trap *capi_trap_to_wg(wasm_trap_t *t);

#endif
