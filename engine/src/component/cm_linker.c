/*
 * cm_linker.c: the component linker (the shape of wasmtime's
 * wasmtime_component_linker_t): host functions and resource types defined
 * from C by interface name and item name, and the resolution of a
 * component's imports against them with semver-compatible interface
 * versions (wasmtime's rule: `wasi:io/streams@0.2.3` is satisfied by a
 * definition at 0.2.12; 1.x by any 1.y; 0.0.x only exactly).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_host.h"
#include "../diag.h"

enum { LK_FUNC, LK_RESOURCE, LK_TYPE };

/* A match of an import type against a typed function: its type node in
 * component `comp` (wg_component.id), at linker generation `gen`. While the
 * linker is unchanged, the same import binds its resources to the same host
 * ones, so the match holds for every later instantiation of that component.
 * Immutable once published (in the linker's arena). */
typedef struct lk_ok {
  const cm_type *ft;
  uint64_t comp;
  uint32_t gen;
} lk_ok;

typedef struct lk_item {
  char *inst; /* NULL: top level */
  char *name;
  uint8_t kind; /* LK_FUNC, LK_RESOURCE, LK_TYPE */
  wg_component_host_fn fn;
  void *env;
  void (*finalizer)(void *);
  wg_component_resource_type *res;
  /* a resource's node (CM_RESOURCE, host = res); a typed function's or a
   * named type's type, parsed from `text` when first needed (under the
   * linker's lock; published with release order) */
  const cm_type *_Atomic type;
  const char *text; /* the type text (in the arena), or NULL */
  /* the last import this typed function was found to satisfy: a component
   * instantiated again (a fresh instance per request) skips the check */
  const struct lk_ok *_Atomic ok;
  bool busy;        /* being parsed (a type that names itself) */
  uint32_t vnext; /* the next item with the same versionless key (item index + 1; 0: none) */
  uint32_t blen;  /* the length of inst without its "@version" */
} lk_item;

struct wg_component_linker {
  lk_item *v;
  uint32_t n, cap;
  /* open-addressing index of v by (inst, name, kind): entries are
   * item index + 1 (0: empty); capacity a power of two, at least 2n */
  uint32_t *index, index_cap;
  /* the same by (interface name without its @version, name, kind): the
   * head of a chain through lk_item.vnext of every version defined, so an
   * import at another compatible version is found without a scan (the same
   * capacity as index) */
  uint32_t *vindex;
  bool allow_unknown;
  wg_arena arena;     /* host types and their texts */
  uint32_t gen;       /* bumped by every definition: a new one may change how imports resolve */
  pthread_mutex_t mu; /* parsing the types of a linker shared between threads */
};

wg_component_linker *wg_component_linker_new(void) {
  wg_component_linker *l = calloc(1, sizeof(wg_component_linker));
  if (l && pthread_mutex_init(&l->mu, NULL)) {
    free(l);
    return NULL;
  }
  return l;
}

void wg_component_linker_delete(wg_component_linker *l) {
  if (!l) return;
  for (uint32_t i = 0; i < l->n; i++) {
    if (l->v[i].finalizer) l->v[i].finalizer(l->v[i].env);
    free(l->v[i].res);
  }
  free(l->v);
  wg_arena_free(&l->arena);
  pthread_mutex_destroy(&l->mu);
  free(l->index);
  free(l->vindex);
  free(l);
}

void wg_component_linker_allow_unknown_imports(wg_component_linker *l, bool allow) { l->allow_unknown = allow; }

static bool streq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static bool lk_err(wg_error **err, wg_error_kind kind, const char *msg, const char *a, const char *b) {
  if (err) {
    char buf[512];
    snprintf(buf, sizeof buf, msg, a ? a : "", b ? b : "");
    *err = wg_error_make(kind, SIZE_MAX, buf);
  }
  return false;
}

/* FNV-1a over inst, a separator and name. */
static uint32_t key_hash(const char *inst, const char *name) {
  uint32_t h = 2166136261u;
  for (const char *p = inst ? inst : ""; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  h = (h ^ (inst ? 1u : 2u)) * 16777619u;
  for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  return h;
}

/* The slot of (inst, name, kind) in the index, whose key_hash is h: the
 * item's or the empty one where it would go. The index must exist. The
 * kinds of one (inst, name) share a probe sequence (the hash leaves the
 * kind out), so a lookup of a name as a type, then as a resource, hashes
 * once. */
static uint32_t *index_slot_h(const wg_component_linker *l, uint32_t h, const char *inst, const char *name,
                              uint8_t kind) {
  uint32_t mask = l->index_cap - 1;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t e = l->index[i];
    if (!e) return &l->index[i];
    const lk_item *it = &l->v[e - 1];
    if (it->kind == kind && streq(it->inst, inst) && !strcmp(it->name, name)) return &l->index[i];
  }
}

static uint32_t *index_slot(const wg_component_linker *l, const char *inst, const char *name, uint8_t kind) {
  return index_slot_h(l, key_hash(inst, name), inst, name, kind);
}

/* The length of inst without its "@version" (all of it when it has none). */
static size_t base_len(const char *inst) {
  const char *at = strrchr(inst, '@');
  return at ? (size_t)(at - inst) : strlen(inst);
}

/* The versionless-index slot of (inst's first blen bytes, name, kind):
 * the chain's or the empty one where it would go. inst is not NULL. */
static uint32_t *vindex_slot(const wg_component_linker *l, const char *inst, size_t blen, const char *name,
                             uint8_t kind) {
  uint32_t h = 2166136261u, mask = l->index_cap - 1;
  for (size_t k = 0; k < blen; k++) h = (h ^ (uint8_t)inst[k]) * 16777619u;
  for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  h = (h ^ (3u + kind)) * 16777619u;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t e = l->vindex[i];
    if (!e) return &l->vindex[i];
    const lk_item *it = &l->v[e - 1];
    if (it->kind == kind && it->blen == blen && !memcmp(it->inst, inst, blen) &&
        !strcmp(it->name, name))
      return &l->vindex[i];
  }
}

/* Puts item i (with an interface) at the head of its versionless chain. */
static void vindex_put(wg_component_linker *l, uint32_t i) {
  lk_item *it = &l->v[i];
  if (!it->inst) return;
  uint32_t *slot = vindex_slot(l, it->inst, it->blen, it->name, it->kind);
  it->vnext = *slot;
  *slot = i + 1;
}

/* Makes room in the indexes for one more item. False on out of memory. */
static bool index_reserve(wg_component_linker *l) {
  if ((l->n + 1) * 2 <= l->index_cap) return true;
  uint32_t cap = l->index_cap ? l->index_cap * 2 : 256;
  uint32_t *ix = calloc(cap, sizeof *ix), *vx = calloc(cap, sizeof *vx);
  if (!ix || !vx) {
    free(ix), free(vx);
    return false;
  }
  free(l->index);
  free(l->vindex);
  l->index = ix;
  l->vindex = vx;
  l->index_cap = cap;
  for (uint32_t i = 0; i < l->n; i++) {
    *index_slot(l, l->v[i].inst, l->v[i].name, l->v[i].kind) = i + 1;
    vindex_put(l, i);
  }
  return true;
}

static lk_item *add(wg_component_linker *l, const char *inst, const char *name, uint8_t kind, wg_error **err) {
  if (!index_reserve(l)) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL), NULL;
  uint32_t *slot = index_slot(l, inst, name, kind);
  if (*slot) return lk_err(err, WG_ERROR_INVALID, "`%s` is already defined in `%s`", name, inst ? inst : "the root"), NULL;
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? l->cap * 2 : 16;
    lk_item *v = realloc(l->v, cap * sizeof *v);
    if (!v) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL), NULL;
    l->v = v;
    l->cap = cap;
  }
  lk_item *it = &l->v[l->n];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  /* names live in the linker's arena; consecutive definitions of one interface (the usual
   * order) share the previous item's copy of its name */
  const lk_item *prev = l->n ? &l->v[l->n - 1] : NULL;
  size_t nl = strlen(name) + 1;
  char *nm = wg_arena_alloc(&l->arena, nl);
  if (!nm) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL), NULL;
  memcpy(nm, name, nl);
  it->name = nm;
  if (inst && prev && prev->inst && !strcmp(prev->inst, inst)) {
    it->inst = prev->inst;
    it->blen = prev->blen;
  } else if (inst) {
    size_t il = strlen(inst) + 1;
    char *in = wg_arena_alloc(&l->arena, il);
    if (!in) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL), NULL;
    memcpy(in, inst, il);
    it->inst = in;
    it->blen = (uint32_t)base_len(in);
  }
  *slot = ++l->n;
  l->gen++;
  vindex_put(l, l->n - 1);
  return it;
}

bool wg_component_linker_define_func(wg_component_linker *l, const char *instance, const char *name,
                                     wg_component_host_fn fn, void *env, void (*finalizer)(void *env),
                                     wg_error **err) {
  return wg_component_linker_define_func_typed(l, instance, name, NULL, fn, env, finalizer, err);
}

/* ------------------------------------------------------------ host types */

/* Type texts are parsed when an instantiation first needs them (or at
 * wg_component_linker_check_types): WASI 0.2 alone defines ~80 typed
 * functions and types, of which a component imports a few, and parsing all
 * of them at every `wasm run` cost ~200,000 instructions. */

static const lk_item *lookup(const wg_component_linker *l, const char *inst, const char *name, uint8_t kind);
static const cm_type *parse_item(wg_component_linker *l, lk_item *it, char *why, size_t n);

typedef struct lk_scope {
  wg_component_linker *l;
  const char *inst;
  char *why; /* where a named type's own error goes */
  size_t whylen;
  bool nested; /* a named type failed: `why` holds its error */
} lk_scope;

/* cm_host_lookup: `name` (in the defining instance) or `iface#name`: a
 * named type (parsed now if it was not), else a resource defined in the
 * linker. Called with the linker's lock held. */
static const cm_type *lk_lookup(void *env, const char *s, size_t len) {
  lk_scope *sc = env;
  char buf[512];
  if (len >= sizeof buf) return NULL;
  memcpy(buf, s, len);
  buf[len] = 0;
  char *hash = strrchr(buf, '#');
  const char *inst = sc->inst, *name = buf;
  if (hash) {
    *hash = 0;
    inst = buf;
    name = hash + 1;
  }
  if (!sc->l->index) return NULL;
  uint32_t h = key_hash(inst, name), e = *index_slot_h(sc->l, h, inst, name, LK_TYPE);
  if (e) {
    const cm_type *t = parse_item(sc->l, &sc->l->v[e - 1], sc->why, sc->whylen);
    if (!t) sc->nested = true;
    return t;
  }
  e = *index_slot_h(sc->l, h, inst, name, LK_RESOURCE);
  const lk_item *it = e ? &sc->l->v[e - 1] : lookup(sc->l, inst, name, LK_RESOURCE); /* or another version's */
  return it ? atomic_load_explicit(&it->type, memory_order_relaxed) : NULL;
}

/* The type of item `it`, parsed from its text if it was not; the caller
 * holds the lock. NULL with `why` filled on an error in the text. */
static const cm_type *parse_item(wg_component_linker *l, lk_item *it, char *why, size_t n) {
  const cm_type *done = atomic_load_explicit(&it->type, memory_order_relaxed);
  if (done || !it->text) return done;
  if (it->busy) {
    snprintf(why, n, "type `%s` refers to itself", it->name);
    return NULL;
  }
  it->busy = true;
  lk_scope sc = {l, it->inst, why, n, false};
  char own[768];
  cm_type *t = cm_host_parse(&l->arena, it->text, it->kind == LK_FUNC, lk_lookup, &sc, own, sizeof own);
  it->busy = false;
  if (!t) {
    if (!sc.nested) snprintf(why, n, "%s", own);
    return NULL;
  }
  if (it->kind == LK_TYPE) {
    if (t->kind == CM_OWN && !strchr(it->text, '<')) t = t->elem; /* another name of a resource: that resource */
    /* a defined type prints by its name; a primitive or another name's
     * node is shared, so it keeps its own */
    else if (t->kind > CM_ERROR_CONTEXT && !t->label && t->kind != CM_OWN && t->kind != CM_BORROW) t->label = it->name;
  }
  atomic_store_explicit(&it->type, t, memory_order_release);
  return t;
}

/* The type of a typed function (NULL: untyped), parsed on first use. On an
 * error in its text, false with `why` filled. Thread-safe. */
static bool func_type(const wg_component_linker *cl, const lk_item *cit, const cm_type **out, char *why, size_t n) {
  *out = atomic_load_explicit(&cit->type, memory_order_acquire);
  if (*out || !cit->text) return true;
  wg_component_linker *l = (wg_component_linker *)cl; /* only the lazily parsed types change, under the lock */
  pthread_mutex_lock(&l->mu);
  *out = parse_item(l, (lk_item *)cit, why, n);
  pthread_mutex_unlock(&l->mu);
  return *out != NULL;
}

bool wg_component_linker_check_types(wg_component_linker *l, wg_error **err) {
  char why[768];
  bool ok = true;
  pthread_mutex_lock(&l->mu);
  for (uint32_t i = 0; ok && i < l->n; i++)
    if (!parse_item(l, &l->v[i], why, sizeof why)) {
      if (!l->v[i].text) continue;
      char buf[1024];
      snprintf(buf, sizeof buf, "%s `%s%s%s`: %s", l->v[i].kind == LK_FUNC ? "host function" : "type",
               l->v[i].inst ? l->v[i].inst : "", l->v[i].inst ? "#" : "", l->v[i].name, why);
      if (err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, buf);
      ok = false;
    }
  pthread_mutex_unlock(&l->mu);
  return ok;
}

static bool keep_text(wg_component_linker *l, lk_item *it, const char *text, wg_error **err) {
  size_t len = strlen(text) + 1;
  char *t = wg_arena_alloc(&l->arena, len);
  if (!t) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
  memcpy(t, text, len);
  it->text = t;
  return true;
}

bool wg_component_linker_define_func_typed(wg_component_linker *l, const char *instance, const char *name,
                                           const char *type, wg_component_host_fn fn, void *env,
                                           void (*finalizer)(void *env), wg_error **err) {
  lk_item *it = add(l, instance, name, LK_FUNC, err);
  if (!it) return false;
  it->fn = fn;
  it->env = env;
  it->finalizer = finalizer;
  return !type || keep_text(l, it, type, err);
}

bool wg_component_linker_define_type(wg_component_linker *l, const char *instance, const char *name,
                                     const char *type, wg_error **err) {
  if (l->index && *index_slot(l, instance, name, LK_RESOURCE))
    return lk_err(err, WG_ERROR_INVALID, "type `%s` is already defined in `%s`", name, instance ? instance : "the root");
  lk_item *it = add(l, instance, name, LK_TYPE, err);
  return it && keep_text(l, it, type, err);
}

bool wg_component_linker_define_resource(wg_component_linker *l, const char *instance, const char *name,
                                         void (*dtor)(void *env, uint32_t rep), void *env,
                                         const wg_component_resource_type **out, wg_error **err) {
  wg_component_resource_type *r = calloc(1, sizeof *r);
  cm_type *node = wg_arena_alloc(&l->arena, sizeof *node); /* the arena's: freed with the linker */
  if (!r || !node) {
    free(r);
    return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
  }
  lk_item *it = add(l, instance, name, LK_RESOURCE, err);
  if (!it) {
    free(r);
    return false;
  }
  node->kind = CM_RESOURCE;
  node->host = r;
  node->label = it->name;
  it->type = node;
  r->name = it->name;
  r->dtor = dtor;
  r->env = env;
  it->res = r;
  if (out) *out = r;
  return true;
}

bool wg_component_linker_define_resource_checked(wg_component_linker *l, const char *instance, const char *name,
                                                 wg_trap *(*dtor)(void *env, uint32_t rep), void *env,
                                                 const wg_component_resource_type **out, wg_error **err) {
  const wg_component_resource_type *r = NULL;
  if (!wg_component_linker_define_resource(l, instance, name, NULL, env, &r, err)) return false;
  ((wg_component_resource_type *)r)->dtor_checked = dtor;
  if (out) *out = r;
  return true;
}

/* ------------------------------------------------------------ semver */

typedef struct semver {
  unsigned long v[3];
  const char *rest; /* pre-release or build suffix, "" when none */
} semver;

static bool parse_semver(const char *s, semver *out) {
  for (int i = 0; i < 3; i++) {
    char *end;
    if (*s < '0' || *s > '9') return false;
    out->v[i] = strtoul(s, &end, 10);
    s = end;
    if (i < 2 && *s++ != '.') return false;
  }
  out->rest = s;
  return true;
}

/* The version part of an interface name ("...@0.2.3"), or NULL. */
static const char *version_of(const char *name, size_t *base_len) {
  const char *at = strrchr(name, '@');
  *base_len = at ? (size_t)(at - name) : strlen(name);
  return at ? at + 1 : NULL;
}

/* Whether a definition named `have` satisfies an import named `want`. */
bool cm_names_compatible(const char *want, const char *have) {
  if (!strcmp(want, have)) return true;
  size_t bw, bh;
  const char *vw = version_of(want, &bw), *vh = version_of(have, &bh);
  if (!vw || !vh || bw != bh || memcmp(want, have, bw)) return false;
  semver a, b;
  if (!parse_semver(vw, &a) || !parse_semver(vh, &b) || *a.rest || *b.rest) return false;
  if (a.v[0] != b.v[0]) return false;
  if (a.v[0] == 0 && a.v[1] != b.v[1]) return false;
  if (a.v[0] == 0 && a.v[1] == 0 && a.v[2] != b.v[2]) return false;
  return true;
}

static int semver_cmp(const char *a, const char *b) {
  size_t la, lb;
  const char *va = version_of(a, &la), *vb = version_of(b, &lb);
  semver x, y;
  if (!va || !vb || !parse_semver(va, &x) || !parse_semver(vb, &y)) return 0;
  for (int i = 0; i < 3; i++)
    if (x.v[i] != y.v[i]) return x.v[i] < y.v[i] ? -1 : 1;
  return 0;
}

static const lk_item *lookup(const wg_component_linker *l, const char *inst, const char *name, uint8_t kind) {
  if (l->index) { /* an exact definition first; then the newest compatible version of its chain */
    uint32_t e = *index_slot(l, inst, name, kind);
    if (e) return &l->v[e - 1];
    if (!inst || !strchr(inst, '@')) return NULL;
    const lk_item *best = NULL;
    for (e = *vindex_slot(l, inst, base_len(inst), name, kind); e; e = l->v[e - 1].vnext) {
      const lk_item *it = &l->v[e - 1];
      if (cm_names_compatible(inst, it->inst) && (!best || semver_cmp(it->inst, best->inst) > 0)) best = it;
    }
    return best;
  }
  const lk_item *best = NULL;
  for (uint32_t i = 0; i < l->n; i++) {
    const lk_item *it = &l->v[i];
    if (it->kind != kind || strcmp(it->name, name)) continue;
    if (!inst || !it->inst) {
      if (!inst && !it->inst) return it;
      continue;
    }
    if (!strcmp(inst, it->inst)) return it;
    if (cm_names_compatible(inst, it->inst) && (!best || semver_cmp(it->inst, best->inst) > 0)) best = it;
  }
  return best;
}

/* ------------------------------------------------------------ resolution */

/* Publishes that typed function `it` satisfies import type `ft` of component
 * `comp` (nothing when out of memory: the next instantiation checks again). */
static void remember(const wg_component_linker *cl, const lk_item *it, const cm_type *ft, uint64_t comp) {
  wg_component_linker *l = (wg_component_linker *)cl; /* the arena and the cache only, under the lock */
  pthread_mutex_lock(&l->mu);
  lk_ok *ok = wg_arena_alloc(&l->arena, sizeof *ok);
  if (ok) {
    *ok = (lk_ok){ft, comp, l->gen};
    atomic_store_explicit(&((lk_item *)it)->ok, ok, memory_order_release);
  }
  pthread_mutex_unlock(&l->mu);
}

static bool resolve_func(const wg_component_linker *l, cm_rt *rt, const char *inst, const char *name,
                         const cm_type *ft, void **out, wg_error **err) {
  const lk_item *it = lookup(l, inst, name, LK_FUNC);
  if (!it && !l->allow_unknown) {
    if (inst)
      return lk_err(err, WG_ERROR_INVALID,
                    "component imports instance `%s`, but a matching implementation was not found in the linker: "
                    "function `%s` is missing", inst, name);
    return lk_err(err, WG_ERROR_INVALID,
                  "component imports function `%s`%s, but a matching implementation was not found in the linker",
                  name, NULL);
  }
  char why[768];
  const cm_type *ht = NULL;
  if (it && !func_type(l, it, &ht, why, sizeof why)) {
    char buf[1100];
    snprintf(buf, sizeof buf, "host function `%s%s%s`: %s", inst ? inst : "", inst ? "#" : "", name, why);
    if (err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, buf);
    return false;
  }
  const lk_ok *ok = ht ? atomic_load_explicit(&it->ok, memory_order_acquire) : NULL;
  bool known = ok && ok->ft == ft && ok->comp == rt->comp->id && ok->gen == l->gen;
  if (ht && !known && cm_host_match(ft, ht, rt, why, sizeof why)) {
    remember(l, it, ft, rt->comp->id);
  } else if (ht && !known) {
    if (err) {
      char want[384], have[384], buf[2400];
      cm_host_print(ht, want, sizeof want);
      cm_host_print(ft, have, sizeof have);
      if (inst)
        snprintf(buf, sizeof buf,
                 "component imports instance `%s`, but a matching implementation was not found in the linker: "
                 "instance export `%s` has the wrong type: %s: the host defines `%s`, the component imports `%s`",
                 inst, name, why, want, have);
      else
        snprintf(buf, sizeof buf,
                 "component imports function `%s`, but a matching implementation was not found in the linker: "
                 "%s: the host defines `%s`, the component imports `%s`", name, why, want, have);
      *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, buf);
    }
    return false;
  }
  cm_rfunc *f = cm_rt_alloc(rt, sizeof *f);
  char *full = cm_rt_alloc(rt, (inst ? strlen(inst) + 1 : 0) + strlen(name) + 1);
  if (!f || !full) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
  sprintf(full, "%s%s%s", inst ? inst : "", inst ? "#" : "", name);
  f->kind = it ? RF_HOST : RF_TRAP;
  f->type = ft;
  f->rt = rt;
  f->name = full;
  if (it) {
    f->fn = it->fn;
    f->env = it->env;
  }
  *out = f;
  return true;
}

static bool resolve_resource(const wg_component_linker *l, cm_rt *rt, const char *inst, const char *name,
                             const cm_type *t, void **val, wg_error **err) {
  /* a type an earlier import already bound (an instance's `use` of another's
   * resource: `(export "bucket" (type (eq N)))`) is that same resource */
  for (uint32_t i = rt->nviews; i-- > 0;)
    if (rt->views[i].type == cm_root(t)) {
      *val = rt->views[i].res;
      return true;
    }
  const lk_item *it = lookup(l, inst, name, LK_RESOURCE);
  if (!it && !l->allow_unknown)
    return lk_err(err, WG_ERROR_INVALID,
                  "component imports resource `%s` of `%s`, but a matching implementation was not found in the linker",
                  name, inst ? inst : "the root");
  cm_rres *r = cm_rt_alloc(rt, sizeof *r);
  if (!r || !cm_rt_bind(rt->top, t, r)) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
  r->host = it ? it->res : NULL;
  *val = r;
  return true;
}

bool cm_linker_resolve(const wg_component_linker *l, cm_rt *rt, const cm_def *d, void **out, wg_error **err) {
  static const wg_component_linker empty;
  if (!l) l = &empty;
  switch (d->sort) {
  case CS_FUNC: return resolve_func(l, rt, NULL, d->name, d->type, out, err);
  case CS_TYPE:
    *out = d->type;
    return cm_root(d->type)->kind != CM_RESOURCE || resolve_resource(l, rt, NULL, d->name, d->type, out, err);
  case CS_INSTANCE: {
    const cm_type *it = d->type;
    cm_rinst *r = cm_rt_alloc(rt, sizeof *r);
    uint32_t n = it->nexports ? it->nexports : 1;
    if (!r || !(r->names = cm_rt_alloc(rt, n * sizeof *r->names)) || !(r->sorts = cm_rt_alloc(rt, n * sizeof *r->sorts)) ||
        !(r->vals = cm_rt_alloc(rt, n * sizeof *r->vals)))
      return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
    for (uint32_t i = 0; i < it->nexports; i++) {
      const cm_extern *e = &it->exports[i];
      r->names[i] = e->name;
      r->sorts[i] = e->sort;
      if (e->sort == CS_FUNC) {
        if (!resolve_func(l, rt, d->name, e->name, e->type, &r->vals[i], err)) return false;
      } else if (e->sort == CS_TYPE) {
        r->vals[i] = e->type;
        if (cm_root(e->type)->kind == CM_RESOURCE && !resolve_resource(l, rt, d->name, e->name, e->type, &r->vals[i], err))
          return false;
      } else {
        return lk_err(err, WG_ERROR_INVALID, "import `%s`: exports of sort %s are not supported from the host", d->name,
                      cm_sort_name(e->sort));
      }
    }
    r->n = it->nexports;
    *out = r;
    return true;
  }
  default:
    return lk_err(err, WG_ERROR_INVALID, "import `%s`: imports of sort %s are not supported", d->name,
                  cm_sort_name(d->sort));
  }
}
