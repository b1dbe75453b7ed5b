/*
 * store.c: the store (spec 4.2.3) and its objects made from the host side:
 * host functions, memories, tables and globals; interned function types;
 * memory growth.
 *
 * Memories reserve their maximum size of address space up front (PROT_NONE)
 * and commit pages as they grow, so a memory's base address never moves.
 * Where there is no mmap/mprotect (the engine compiled to WASI), memories are
 * heap blocks that move on growth; the interpreter reloads the base after
 * anything that can grow one.
 */
#include <stdlib.h>
#include <string.h>
#if !defined(__wasi__)
#include <sys/mman.h>
#define WG_HAVE_RESERVE 1
#endif

#include "jit.h"
#include "runtime.h"

#define PAGE 65536u
/* The default max_bytes beyond the memory cap: room for tables, globals,
 * functions and instances (wasmgate.h). */
#define WG_STORE_EXTRA_BYTES (64ull << 20)

struct wg_owned {
  wg_owned *next;
  void *p;
  void (*release)(void *);
};

/* Platform layer for linear memories: reserve, commit, release.
 *
 * Released reservations are recycled: a store per request (a WASI command per
 * binding call, an http-wasm instance) would otherwise pay mmap + mprotect +
 * munmap and fault in fresh pages every time, which is most of the cost of a
 * short call. A released memory whose committed part is small is kept, still
 * committed, in a small process-wide cache; the next memory with the same
 * reservation size takes it and zeroes it then (zeroing on release would
 * cost every short-lived process, `wasm run`, a memset of its memory at
 * exit for a reuse that never comes). A reused memory is indistinguishable
 * from a fresh one: all zero, accessible up to its size (bounds checks are
 * explicit compares against the size, so committed bytes past the size are
 * never reachable from wasm). */
#if WG_HAVE_RESERVE
#include <pthread.h>

#define RECYCLE_SLOTS 16
#define RECYCLE_MAX_COMMITTED (1u << 20) /* zeroing more than this costs more than a fresh mapping */

typedef struct recycled {
  uint8_t *data;
  size_t reserved, committed;
} recycled;

static pthread_mutex_t recycle_mu = PTHREAD_MUTEX_INITIALIZER;
static recycled recycle_cache[RECYCLE_SLOTS];
static size_t recycle_n;

static uint8_t *mem_reserve(wg_memory *mem) {
  pthread_mutex_lock(&recycle_mu);
  for (size_t i = recycle_n; i-- > 0;)
    if (recycle_cache[i].reserved == mem->reserved) {
      mem->committed = recycle_cache[i].committed;
      uint8_t *p = recycle_cache[i].data;
      recycle_cache[i] = recycle_cache[--recycle_n];
      pthread_mutex_unlock(&recycle_mu);
      memset(p, 0, mem->committed);
      return p;
    }
  pthread_mutex_unlock(&recycle_mu);
  mem->committed = 0;
  void *p = mmap(NULL, mem->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}
static bool mem_commit(wg_memory *mem, size_t from, size_t bytes) {
  size_t end = from + bytes;
  if (end <= mem->committed) return true; /* recycled: already committed and zero */
  if (from < mem->committed) from = mem->committed;
  if (mprotect(mem->data + from, end - from, PROT_READ | PROT_WRITE)) return false;
  mem->committed = end;
  return true;
}
static void mem_release(wg_memory *mem) {
  if (mem->committed <= RECYCLE_MAX_COMMITTED) {
    pthread_mutex_lock(&recycle_mu);
    if (recycle_n < RECYCLE_SLOTS) {
      recycle_cache[recycle_n++] = (recycled){mem->data, mem->reserved, mem->committed};
      pthread_mutex_unlock(&recycle_mu);
      return;
    }
    pthread_mutex_unlock(&recycle_mu);
  }
  munmap(mem->data, mem->reserved);
}
#else
static uint8_t *mem_reserve(wg_memory *mem) {
  mem->committed = 0;
  return calloc(1, 1);
}
static bool mem_commit(wg_memory *mem, size_t from, size_t bytes) {
  uint8_t *p = realloc(mem->data, from + bytes);
  if (!p) return false;
  memset(p + from, 0, bytes);
  mem->data = p;
  mem->committed = from + bytes;
  return true;
}
static void mem_release(wg_memory *mem) { free(mem->data); }
#endif

/* Zeroes n bytes of a memory's committed range at p (wg_memory_zero): up to ZERO_BY_STORE_MAX
 * bytes by memset, which keeps the pages resident (the next request writes them without a page
 * fault); a larger range, page-aligned, by madvise(MADV_DONTNEED), which drops the pages of the
 * private mapping (they read as zero again, or as the image's file for a copy-on-write image's
 * pages: callers pass only ranges past any image). memset when madvise fails or is absent. */
#define ZERO_BY_STORE_MAX (256u << 10)
void wg_memory_zero(uint8_t *p, size_t n) {
#if WG_HAVE_RESERVE
  if (n > ZERO_BY_STORE_MAX && (uintptr_t)p % 4096 == 0 && n % 4096 == 0 && madvise(p, n, MADV_DONTNEED) == 0) return;
#endif
  memset(p, 0, n);
}

/* Value stacks: each thread keeps the last one it freed, so that a store
 * per request (half a megabyte of stack for a WASI command) does not go
 * through malloc, free and the allocator's consolidation every time. */
#if WG_HAVE_RESERVE
typedef struct spare_stack {
  wg_slot *p;
  size_t slots;
  void *frames; /* the last frames array freed, with its size in bytes (zeroed when taken) */
  size_t frames_bytes;
} spare_stack;

static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_free(void *p) {
  spare_stack *sp = p;
  free(sp->p);
  free(sp->frames);
  free(sp);
}
static void spare_init(void) { pthread_key_create(&spare_key, spare_free); }

/* This thread's spares, made on first use; NULL when they cannot be (out of memory). */
static spare_stack *spares_of_thread(void) {
  pthread_once(&spare_once, spare_init);
  spare_stack *sp = pthread_getspecific(spare_key);
  if (!sp && (sp = calloc(1, sizeof *sp)) && pthread_setspecific(spare_key, sp)) {
    free(sp);
    sp = NULL;
  }
  return sp;
}

static wg_slot *stack_take(size_t slots) {
  pthread_once(&spare_once, spare_init);
  spare_stack *sp = pthread_getspecific(spare_key);
  if (sp && sp->p && sp->slots == slots) {
    wg_slot *p = sp->p;
    sp->p = NULL;
    return p;
  }
  return malloc(slots * sizeof(wg_slot));
}

/* The call frames array of a new store (bytes, zeroed): this thread's spare one when it has that
 * size, so that a store per request does not go through calloc and free (and the allocator's
 * consolidation) for it every time. */
static void *frames_take(size_t bytes) {
  pthread_once(&spare_once, spare_init);
  spare_stack *sp = pthread_getspecific(spare_key);
  if (sp && sp->frames && sp->frames_bytes == bytes) {
    void *f = sp->frames;
    sp->frames = NULL;
    memset(f, 0, bytes);
    return f;
  }
  return calloc(1, bytes);
}

static void frames_give(void *f, size_t bytes) {
  if (!f) return;
  spare_stack *sp = spares_of_thread();
  if (!sp) {
    free(f);
    return;
  }
  free(sp->frames); /* keep the newest */
  sp->frames = f;
  sp->frames_bytes = bytes;
}

static void stack_give(wg_slot *p, size_t slots) {
  if (!p) return;
  spare_stack *sp = spares_of_thread();
  if (!sp) {
    free(p);
    return;
  }
  free(sp->p); /* keep the newest */
  sp->p = p;
  sp->slots = slots;
}
#else
static void *frames_take(size_t bytes) { return calloc(1, bytes); }
static void frames_give(void *f, size_t bytes) {
  (void)bytes;
  free(f);
}
static wg_slot *stack_take(size_t slots) { return malloc(slots * sizeof(wg_slot)); }
static void stack_give(wg_slot *p, size_t slots) {
  (void)slots;
  free(p);
}
#endif

static void memory_release(void *p) {
  wg_memory *mem = p;
  if (mem->data) mem_release(mem);
  free(mem);
}

static void table_release(void *p) {
  wg_table *t = p;
  free(t->elems);
  free(t);
}

static void func_release(void *p) {
  wg_func *f = p;
  if (f->finalizer) f->finalizer(f->env);
  free(f);
}

void *wg_store_own(wg_store *s, void *p, void (*release)(void *)) {
  if (!p) return NULL;
  wg_owned *o = malloc(sizeof *o);
  if (!o) {
    (release ? release : free)(p);
    return NULL;
  }
  *o = (wg_owned){s->owned, p, release ? release : free};
  s->owned = o;
  return p;
}

wg_store *wg_store_new(wg_engine *e, const wg_store_config *config) {
  if (!e) e = &wg_default_engine;
  wg_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->epoch = &e->epoch;
  s->config = e->defaults;
  if (config) {
    /* The store's own fields win where set. */
    if (config->value_stack_slots) s->config.value_stack_slots = config->value_stack_slots;
    if (config->max_call_depth) s->config.max_call_depth = config->max_call_depth;
    if (config->max_memory_pages) s->config.max_memory_pages = config->max_memory_pages;
    if (config->max_table_elems) s->config.max_table_elems = config->max_table_elems;
    if (config->max_bytes) s->config.max_bytes = config->max_bytes;
    if (config->tier) s->config.tier = config->tier;
  }
  if (!s->config.tier) {
    const char *t = getenv("WASMGATE_TIER");
    s->config.tier = t && !strcmp(t, "jit") ? WG_TIER_JIT : WG_TIER_INTERP;
  }
  s->jit_on = s->config.tier == WG_TIER_JIT;
  if (!s->config.value_stack_slots) s->config.value_stack_slots = 1u << 20;
  if (!s->config.max_call_depth) s->config.max_call_depth = 20000;
  if (!s->config.max_memory_pages || s->config.max_memory_pages > 65536) s->config.max_memory_pages = 65536;
  if (!s->config.max_table_elems) s->config.max_table_elems = WG_MAX_TABLE_SIZE;
  if (!s->config.max_bytes) s->config.max_bytes = (uint64_t)s->config.max_memory_pages * PAGE + WG_STORE_EXTRA_BYTES;
  /* Not zeroed: locals are zeroed on function entry and operands are always
   * written before they are read. */
  s->stack = stack_take(s->config.value_stack_slots);
  s->frames_cap = s->config.max_call_depth < 256 ? s->config.max_call_depth : 256;
  s->frames = frames_take(((size_t)s->frames_cap + 1) * sizeof *s->frames);
  if (!s->stack || !s->frames) {
    wg_store_delete(s);
    return NULL;
  }
  s->stack_end = s->stack + s->config.value_stack_slots;
  s->fuel = INT64_MAX;
  s->deadline = UINT64_MAX;
  s->stack_top = s->stack;
  return s;
}

void wg_store_delete(wg_store *s) {
  if (!s) return;
  for (wg_owned *o = s->owned, *next; o; o = next) {
    next = o->next;
    o->release(o->p);
    free(o);
  }
  for (uint32_t i = 0; i < s->ntypes; i++) free((void *)s->types[i].params);
  free(s->types);
  stack_give(s->stack, s->config.value_stack_slots);
  frames_give(s->frames, ((size_t)s->frames_cap + 1) * sizeof *s->frames);
  free(s);
}

bool wg_store_charge(wg_store *s, uint64_t n) {
  if (n > s->config.max_bytes - s->bytes) return false;
  s->bytes += n;
  return true;
}

uint64_t wg_store_bytes(const wg_store *s) { return s->bytes; }
void wg_store_set_data(wg_store *s, void *data) {
  s->data = data;
  s->data_tag = NULL;
}
void wg_store_set_data_tagged(wg_store *s, const void *tag, void *data) {
  s->data = data;
  s->data_tag = tag;
}
void *wg_store_data_tagged(const wg_store *s, const void *tag) { return tag && s->data_tag == tag ? s->data : NULL; }
void *wg_store_data(const wg_store *s) { return s->data; }

bool wg_store_grow_frames(wg_store *s) {
  if (s->frames_cap >= s->config.max_call_depth) return false;
  uint32_t cap = s->frames_cap * 2 < s->config.max_call_depth ? s->frames_cap * 2 : s->config.max_call_depth;
  wg_frame *f = realloc(s->frames, ((size_t)cap + 1) * sizeof *f);
  if (!f) return false;
  s->frames = f;
  s->frames_cap = cap;
  return true;
}

wg_typeid wg_store_intern_type(wg_store *s, uint32_t np, const uint8_t *params, uint32_t nr, const uint8_t *results) {
  for (uint32_t i = 0; i < s->ntypes; i++) {
    const wg_functype_desc *t = &s->types[i];
    if (t->nparams != np || t->nresults != nr) continue;
    bool same = true;
    for (uint32_t k = 0; k < np && same; k++) same = t->params[k] == (wg_valtype)params[k];
    for (uint32_t k = 0; k < nr && same; k++) same = t->results[k] == (wg_valtype)results[k];
    if (same) return i;
  }
  if (s->ntypes == s->cap_types) {
    uint32_t cap = s->cap_types ? s->cap_types * 2 : 16;
    wg_functype_desc *t = realloc(s->types, cap * sizeof *t);
    if (!t) return UINT32_MAX;
    s->types = t;
    s->cap_types = cap;
  }
  wg_valtype *vt = malloc(((size_t)np + nr + 1) * sizeof *vt);
  if (!vt) return UINT32_MAX;
  for (uint32_t k = 0; k < np; k++) vt[k] = (wg_valtype)params[k];
  for (uint32_t k = 0; k < nr; k++) vt[np + k] = (wg_valtype)results[k];
  s->types[s->ntypes] = (wg_functype_desc){np, nr, vt, vt + np};
  return s->ntypes++;
}

wg_func *wg_func_new_host(wg_store *s, const wg_functype_desc *type, wg_host_callback cb, void *env,
                          void (*finalizer)(void *env)) {
  uint8_t codes[2 * WG_MAX_FUNC_PARAMS];
  if (type->nparams > WG_MAX_FUNC_PARAMS || type->nresults > WG_MAX_FUNC_RESULTS) return NULL;
  for (uint32_t i = 0; i < type->nparams; i++) codes[i] = (uint8_t)type->params[i];
  for (uint32_t i = 0; i < type->nresults; i++) codes[type->nparams + i] = (uint8_t)type->results[i];
  wg_typeid id = wg_store_intern_type(s, type->nparams, codes, type->nresults, codes + type->nparams);
  if (id == UINT32_MAX) return NULL;
  if (!wg_store_charge(s, sizeof(wg_func))) return NULL;
  wg_func *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  *f = (wg_func){.type_id = id, .type = s->types[id], .host = cb, .env = env};
  /* The finalizer is armed only once the store owns the function, so on
   * failure the caller still owns env. */
  if (!wg_store_own(s, f, func_release)) return NULL;
  f->finalizer = finalizer;
  return f;
}

wg_functype_desc wg_func_type(const wg_func *f) { return f->type; }

wg_memory *wg_memory_new(wg_store *s, uint32_t min, bool has_max, uint32_t max) {
  uint32_t cap = s->config.max_memory_pages;
  if (min > cap || (has_max && min > max)) return NULL;
  uint32_t limit = has_max && max < cap ? max : cap;
  const uint64_t cost = sizeof(wg_memory) + (uint64_t)min * PAGE;
  if (!wg_store_charge(s, cost)) return NULL;
  wg_memory *mem = calloc(1, sizeof *mem);
  if (!mem) {
    s->bytes -= cost;
    return NULL;
  }
  mem->store = s;
  mem->max = limit;
  mem->has_max = has_max;
  mem->decl_max = has_max ? max : 0;
  /* Reserve the whole possible size plus one guard page (or what the
   * compiled tier's guard pages need). */
  mem->reserved = wg_jit_memory_reservation(s, limit);
  mem->data = mem_reserve(mem);
  if (!mem->data) {
    free(mem);
    s->bytes -= cost;
    return NULL;
  }
  if (min && !mem_commit(mem, 0, (size_t)min * PAGE)) {
    memory_release(mem);
    s->bytes -= cost;
    return NULL;
  }
  mem->pages = min;
  mem->size = (uint64_t)min * PAGE;
  if (!wg_jit_memory_trim(mem)) {
    memory_release(mem);
    s->bytes -= cost;
    return NULL;
  }
  return wg_store_own(s, mem, memory_release);
}

int64_t wg_memory_grow_pages(wg_memory *mem, uint32_t delta) {
  uint32_t old = mem->pages;
  if (delta == 0) return old;
  if ((uint64_t)old + delta > mem->max) return -1;
  if (!wg_store_charge(mem->store, (uint64_t)delta * PAGE)) return -1;
  if (!mem_commit(mem, (size_t)old * PAGE, (size_t)delta * PAGE)) {
    mem->store->bytes -= (uint64_t)delta * PAGE;
    return -1;
  }
  mem->pages = old + delta;
  mem->size = (uint64_t)mem->pages * PAGE;
  return old;
}

uint8_t *wg_memory_data(wg_memory *mem) { return mem->data; }
uint64_t wg_memory_size(const wg_memory *mem) { return mem->size; }
int64_t wg_memory_grow(wg_memory *mem, uint32_t delta) { return wg_memory_grow_pages(mem, delta); }

wg_table *wg_table_new(wg_store *s, wg_valtype elem, uint32_t min, bool has_max, uint32_t max, wg_ref init) {
  uint32_t cap = s->config.max_table_elems;
  if (min > cap || (has_max && min > max) || (elem != WG_FUNCREF && elem != WG_EXTERNREF)) return NULL;
  const uint64_t cost = sizeof(wg_table) + (uint64_t)min * sizeof(wg_ref);
  if (!wg_store_charge(s, cost)) return NULL;
  wg_table *t = calloc(1, sizeof *t);
  if (!t) {
    s->bytes -= cost;
    return NULL;
  }
  t->store = s;
  t->elem = elem;
  t->size = min;
  t->max = has_max && max < cap ? max : cap;
  t->has_max = has_max;
  t->decl_max = has_max ? max : 0;
  t->elems = calloc(min ? min : 1, sizeof *t->elems);
  if (!t->elems) {
    free(t);
    s->bytes -= cost;
    return NULL;
  }
  if (init)
    for (uint32_t i = 0; i < min; i++) t->elems[i] = init;
  return wg_store_own(s, t, table_release);
}

uint32_t wg_table_size(const wg_table *t) { return t->size; }

bool wg_table_set(wg_table *t, uint32_t i, wg_ref ref) {
  if (i >= t->size) return false;
  t->elems[i] = ref;
  return true;
}

int64_t wg_table_grow(wg_table *t, uint32_t delta, wg_ref init) {
  uint32_t old = t->size;
  if (delta == 0) return old;
  if ((uint64_t)old + delta > t->max) return -1;
  if (!wg_store_charge(t->store, (uint64_t)delta * sizeof(wg_ref))) return -1;
  wg_ref *e = realloc(t->elems, ((size_t)old + delta) * sizeof *e);
  if (!e) {
    t->store->bytes -= (uint64_t)delta * sizeof(wg_ref);
    return -1;
  }
  for (uint32_t i = 0; i < delta; i++) e[old + i] = init;
  t->elems = e;
  t->size = old + delta;
  return old;
}

void wg_extern_type(const wg_extern *ex, wg_externtype *out) {
  memset(out, 0, sizeof *out);
  out->kind = ex->kind;
  switch (ex->kind) {
    case WG_EXTERN_FUNC: {
      const wg_func *f = ex->of.func;
      out->func.nparams = f->type.nparams;
      out->func.nresults = f->type.nresults;
      out->func.params = f->type.params;
      out->func.results = f->type.results;
      break;
    }
    case WG_EXTERN_TABLE:
      out->elem = ex->of.table->elem;
      out->min = ex->of.table->size;
      out->has_max = ex->of.table->has_max;
      out->max = ex->of.table->decl_max;
      break;
    case WG_EXTERN_MEMORY:
      out->min = ex->of.memory->pages;
      out->has_max = ex->of.memory->has_max;
      out->max = ex->of.memory->decl_max;
      break;
    case WG_EXTERN_GLOBAL:
      out->type = ex->of.global->type;
      out->mut = ex->of.global->mut;
      break;
    case WG_EXTERN_TAG:
      out->func.nparams = ex->of.tag->type.nparams;
      out->func.params = ex->of.tag->type.params;
      out->func.results = ex->of.tag->type.results;
      break;
  }
}

bool wg_table_get(const wg_table *t, uint32_t i, wg_ref *out) {
  if (i >= t->size) return false;
  *out = t->elems[i];
  return true;
}

wg_global *wg_global_new(wg_store *s, const wg_val *init, bool mut) {
  if (!wg_store_charge(s, sizeof(wg_global))) return NULL;
  wg_global *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->type = init->kind;
  g->mut = mut;
  wg_slot two[2];
  wg_val_to_slot(init, two);
  g->value = two[0];
  g->value_hi = init->kind == WG_V128 ? two[1] : (wg_slot){0};
  return wg_store_own(s, g, NULL);
}

void wg_global_get(const wg_global *g, wg_val *out) {
  const wg_slot two[2] = {g->value, g->value_hi};
  wg_slot_to_val(g->type, two, out);
}

bool wg_global_set(wg_global *g, const wg_val *v) {
  if (!g->mut || v->kind != g->type) return false;
  wg_slot two[2];
  wg_val_to_slot(v, two);
  g->value = two[0];
  if (v->kind == WG_V128) g->value_hi = two[1];
  return true;
}

uint32_t wg_slot_count(uint32_t n, const wg_valtype *types) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) k += wg_slot_width(types[i]);
  return k;
}

void wg_vals_to_slots(uint32_t n, const wg_val *vals, wg_slot *slots) {
  for (uint32_t i = 0; i < n; i++) {
    wg_val_to_slot(&vals[i], slots);
    slots += wg_slot_width(vals[i].kind);
  }
}

void wg_slots_to_vals(uint32_t n, const wg_valtype *types, const wg_slot *slots, wg_val *vals) {
  for (uint32_t i = 0; i < n; i++) {
    wg_slot_to_val(types[i], slots, &vals[i]);
    slots += wg_slot_width(types[i]);
  }
}

/* A v128 fills out[0] (low bytes) and out[1]; other values out[0]. */
void wg_val_to_slot(const wg_val *v, wg_slot *out) {
  out->u64 = 0;
  switch (v->kind) {
    case WG_I32: out->i32 = v->of.i32; break;
    case WG_I64: out->i64 = v->of.i64; break;
    case WG_F32: out->f32 = v->of.f32; break;
    case WG_F64: out->f64 = v->of.f64; break;
    case WG_FUNCREF:
    case WG_EXTERNREF:
    case WG_EXNREF: out->ref = v->of.ref; break;
    case WG_V128: memcpy(out, v->of.v128, 16); break;
  }
}

void wg_slot_to_val(wg_valtype t, const wg_slot *in, wg_val *out) {
  memset(out, 0, sizeof *out);
  out->kind = t;
  switch (t) {
    case WG_I32: out->of.i32 = in->i32; break;
    case WG_I64: out->of.i64 = in->i64; break;
    case WG_F32: out->of.f32 = in->f32; break;
    case WG_F64: out->of.f64 = in->f64; break;
    case WG_FUNCREF:
    case WG_EXTERNREF:
    case WG_EXNREF: out->of.ref = in->ref; break;
    case WG_V128: memcpy(out->of.v128, in, 16); break;
  }
}
