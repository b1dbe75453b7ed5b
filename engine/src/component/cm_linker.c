/*
 * cm_linker.c: the component linker (the shape of wasmtime's
 * wasmtime_component_linker_t): host functions and resource types defined
 * from C by interface name and item name, and the resolution of a
 * component's imports against them with semver-compatible interface
 * versions (wasmtime's rule: `wasi:io/streams@0.2.3` is satisfied by a
 * definition at 0.2.12; 1.x by any 1.y; 0.0.x only exactly).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_host.h"
#include "../diag.h"

typedef struct lk_item {
  char *inst; /* NULL: top level */
  char *name;
  bool resource;
  wg_component_host_fn fn;
  void *env;
  void (*finalizer)(void *);
  wg_component_resource_type *res;
  const cm_type *type; /* a typed function's type; a resource's node (CM_RESOURCE, host = res) */
  uint32_t vnext; /* the next item with the same versionless key (item index + 1; 0: none) */
} lk_item;

struct wg_component_linker {
  lk_item *v;
  uint32_t n, cap;
  /* open-addressing index of v by (inst, name, resource): entries are
   * item index + 1 (0: empty); capacity a power of two, at least 2n */
  uint32_t *index, index_cap;
  /* the same by (interface name without its @version, name, resource): the
   * head of a chain through lk_item.vnext of every version defined, so an
   * import at another compatible version is found without a scan (the same
   * capacity as index) */
  uint32_t *vindex;
  bool allow_unknown;
  /* named types (wg_component_linker_define_type), found by a scan: only
   * definitions look them up */
  struct lk_named { const char *inst, *name; const cm_type *type; } *named;
  uint32_t nnamed, capnamed;
  wg_arena arena; /* host types, their names and the named types' names */
};

wg_component_linker *wg_component_linker_new(void) { return calloc(1, sizeof(wg_component_linker)); }

void wg_component_linker_delete(wg_component_linker *l) {
  if (!l) return;
  for (uint32_t i = 0; i < l->n; i++) {
    if (l->v[i].finalizer) l->v[i].finalizer(l->v[i].env);
    free(l->v[i].inst);
    free(l->v[i].name);
    free(l->v[i].res);
  }
  free(l->v);
  free(l->named);
  wg_arena_free(&l->arena);
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

/* FNV-1a over inst, a separator, name and the resource flag. */
static uint32_t key_hash(const char *inst, const char *name, bool resource) {
  uint32_t h = 2166136261u;
  for (const char *p = inst ? inst : ""; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  h = (h ^ (inst ? 1u : 2u)) * 16777619u;
  for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  return (h ^ (resource ? 3u : 4u)) * 16777619u;
}

/* The slot of (inst, name, resource) in the index: the item's or the empty
 * one where it would go. The index must exist. */
static uint32_t *index_slot(const wg_component_linker *l, const char *inst, const char *name, bool resource) {
  uint32_t mask = l->index_cap - 1;
  for (uint32_t i = key_hash(inst, name, resource) & mask;; i = (i + 1) & mask) {
    uint32_t e = l->index[i];
    if (!e) return &l->index[i];
    const lk_item *it = &l->v[e - 1];
    if (it->resource == resource && streq(it->inst, inst) && !strcmp(it->name, name)) return &l->index[i];
  }
}

/* The length of inst without its "@version" (all of it when it has none). */
static size_t base_len(const char *inst) {
  const char *at = strrchr(inst, '@');
  return at ? (size_t)(at - inst) : strlen(inst);
}

/* The versionless-index slot of (inst's first blen bytes, name, resource):
 * the chain's or the empty one where it would go. inst is not NULL. */
static uint32_t *vindex_slot(const wg_component_linker *l, const char *inst, size_t blen, const char *name,
                             bool resource) {
  uint32_t h = 2166136261u, mask = l->index_cap - 1;
  for (size_t k = 0; k < blen; k++) h = (h ^ (uint8_t)inst[k]) * 16777619u;
  for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  h = (h ^ (resource ? 3u : 4u)) * 16777619u;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t e = l->vindex[i];
    if (!e) return &l->vindex[i];
    const lk_item *it = &l->v[e - 1];
    if (it->resource == resource && base_len(it->inst) == blen && !memcmp(it->inst, inst, blen) &&
        !strcmp(it->name, name))
      return &l->vindex[i];
  }
}

/* Puts item i (with an interface) at the head of its versionless chain. */
static void vindex_put(wg_component_linker *l, uint32_t i) {
  lk_item *it = &l->v[i];
  if (!it->inst) return;
  uint32_t *slot = vindex_slot(l, it->inst, base_len(it->inst), it->name, it->resource);
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
    *index_slot(l, l->v[i].inst, l->v[i].name, l->v[i].resource) = i + 1;
    vindex_put(l, i);
  }
  return true;
}

static lk_item *add(wg_component_linker *l, const char *inst, const char *name, bool resource, wg_error **err) {
  if (!index_reserve(l)) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL), NULL;
  uint32_t *slot = index_slot(l, inst, name, resource);
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
  it->resource = resource;
  if ((inst && !(it->inst = strdup(inst))) || !(it->name = strdup(name))) {
    free(it->inst);
    return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL), NULL;
  }
  *slot = ++l->n;
  vindex_put(l, l->n - 1);
  return it;
}

bool wg_component_linker_define_func(wg_component_linker *l, const char *instance, const char *name,
                                     wg_component_host_fn fn, void *env, void (*finalizer)(void *env),
                                     wg_error **err) {
  return wg_component_linker_define_func_typed(l, instance, name, NULL, fn, env, finalizer, err);
}

/* ------------------------------------------------------------ host types */

static const lk_item *lookup(const wg_component_linker *l, const char *inst, const char *name, bool resource);

typedef struct lk_scope {
  const wg_component_linker *l;
  const char *inst;
} lk_scope;

/* cm_host_lookup: `name` (in the defining instance) or `iface#name`: a
 * named type, else a resource defined in the linker. */
static const cm_type *lk_lookup(void *env, const char *s, size_t len) {
  const lk_scope *sc = env;
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
  for (uint32_t i = 0; i < sc->l->nnamed; i++)
    if (streq(sc->l->named[i].inst, inst) && !strcmp(sc->l->named[i].name, name)) return sc->l->named[i].type;
  const lk_item *it = lookup(sc->l, inst, name, true);
  return it ? it->type : NULL;
}

static const cm_type *parse(wg_component_linker *l, const char *inst, const char *text, bool func, wg_error **err) {
  lk_scope sc = {l, inst};
  char why[768];
  cm_type *t = cm_host_parse(&l->arena, text, func, lk_lookup, &sc, why, sizeof why);
  if (!t && err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, why);
  return t;
}

bool wg_component_linker_define_func_typed(wg_component_linker *l, const char *instance, const char *name,
                                           const char *type, wg_component_host_fn fn, void *env,
                                           void (*finalizer)(void *env), wg_error **err) {
  const cm_type *t = NULL;
  if (type && !(t = parse(l, instance, type, true, err))) return false;
  lk_item *it = add(l, instance, name, false, err);
  if (!it) return false;
  it->fn = fn;
  it->env = env;
  it->finalizer = finalizer;
  it->type = t;
  return true;
}

bool wg_component_linker_define_type(wg_component_linker *l, const char *instance, const char *name,
                                     const char *type, wg_error **err) {
  lk_scope sc = {l, instance};
  if (lk_lookup(&sc, name, strlen(name)))
    return lk_err(err, WG_ERROR_INVALID, "type `%s` is already defined in `%s`", name, instance ? instance : "the root");
  cm_type *t = (cm_type *)parse(l, instance, type, false, err);
  if (!t) return false;
  if (t->kind == CM_OWN && !strchr(type, '<')) t = t->elem; /* another name of a resource: that resource */
  if (l->nnamed == l->capnamed) {
    uint32_t cap = l->capnamed ? l->capnamed * 2 : 16;
    struct lk_named *v = realloc(l->named, cap * sizeof *v);
    if (!v) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
    l->named = v;
    l->capnamed = cap;
  }
  size_t ni = instance ? strlen(instance) + 1 : 0, nn = strlen(name) + 1;
  char *s = wg_arena_alloc(&l->arena, ni + nn);
  if (!s) return lk_err(err, WG_ERROR_RESOURCE, "out of memory%s%s", NULL, NULL);
  if (instance) memcpy(s, instance, ni);
  memcpy(s + ni, name, nn);
  /* a defined type prints by its name; a primitive or another name's node
   * is shared, so it keeps its own */
  if (t->kind > CM_ERROR_CONTEXT && !t->label && t->kind != CM_OWN && t->kind != CM_BORROW) t->label = s + ni;
  l->named[l->nnamed++] = (struct lk_named){instance ? s : NULL, s + ni, t};
  return true;
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
  lk_item *it = add(l, instance, name, true, err);
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

static const lk_item *lookup(const wg_component_linker *l, const char *inst, const char *name, bool resource) {
  if (l->index) { /* an exact definition first; then the newest compatible version of its chain */
    uint32_t e = *index_slot(l, inst, name, resource);
    if (e) return &l->v[e - 1];
    if (!inst || !strchr(inst, '@')) return NULL;
    const lk_item *best = NULL;
    for (e = *vindex_slot(l, inst, base_len(inst), name, resource); e; e = l->v[e - 1].vnext) {
      const lk_item *it = &l->v[e - 1];
      if (cm_names_compatible(inst, it->inst) && (!best || semver_cmp(it->inst, best->inst) > 0)) best = it;
    }
    return best;
  }
  const lk_item *best = NULL;
  for (uint32_t i = 0; i < l->n; i++) {
    const lk_item *it = &l->v[i];
    if (it->resource != resource || strcmp(it->name, name)) continue;
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

static bool resolve_func(const wg_component_linker *l, cm_rt *rt, const char *inst, const char *name,
                         const cm_type *ft, void **out, wg_error **err) {
  const lk_item *it = lookup(l, inst, name, false);
  if (!it && !l->allow_unknown) {
    if (inst)
      return lk_err(err, WG_ERROR_INVALID,
                    "component imports instance `%s`, but a matching implementation was not found in the linker: "
                    "function `%s` is missing", inst, name);
    return lk_err(err, WG_ERROR_INVALID,
                  "component imports function `%s`%s, but a matching implementation was not found in the linker",
                  name, NULL);
  }
  char why[128];
  if (it && it->type && !cm_host_match(ft, it->type, rt, why, sizeof why)) {
    if (err) {
      char want[384], have[384], buf[1400];
      cm_host_print(it->type, want, sizeof want);
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
  const lk_item *it = lookup(l, inst, name, true);
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
