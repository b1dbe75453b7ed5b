/*
 * cm_check.c: type matching and the canonical ABI's static rules
 * (component-model design/mvp/CanonicalABI.md "Flattening" and "Canonical
 * Definitions": canon lift / canon lower validation).
 *
 * Recursion over types is bounded: cm_type_finish (cm_types.c) rejects
 * types deeper than CM_MAX_TYPE_DEPTH or larger than CM_MAX_TYPE_SIZE
 * when they are defined, so every walk here terminates quickly.
 */
#include <stdlib.h>
#include <string.h>

#include "cm.h"

bool cm_contains(const cm_type *t, cm_kind k1, cm_kind k2) {
  if (!t) return false;
  if (t->kind == k1 || t->kind == k2) return true;
  switch (t->kind) {
  case CM_RECORD: case CM_VARIANT: case CM_TUPLE:
    for (uint32_t i = 0; i < t->n; i++)
      if (cm_contains(t->fields[i].type, k1, k2)) return true;
    return false;
  case CM_LIST: case CM_FIXED_LIST: case CM_OPTION: case CM_RESULT: case CM_MAP:
    return cm_contains(t->elem, k1, k2) || cm_contains(t->elem2, k1, k2);
  default:
    return false; /* own/borrow/stream/future are handles: their payload is elsewhere */
  }
}

/* Whether values of `t` live (partly) in linear memory: strings and lists. */
static bool needs_memory(const cm_type *t) { return cm_contains(t, CM_STRING, CM_LIST) || cm_contains(t, CM_MAP, CM_MAP); }

/* ------------------------------------------------------------ flattening */

static uint8_t join(uint8_t a, uint8_t b) {
  if (a == b) return a;
  if ((a == WG_I32 && b == WG_F32) || (a == WG_F32 && b == WG_I32)) return WG_I32;
  return WG_I64;
}

/* Appends the flattening of `t` at out[*n...], writing only below `cap`;
 * *n counts all (saturating at cap + 1 is enough for the limits). */
static void flatten(const cm_type *t, uint8_t *out, uint32_t cap, uint32_t *n) {
#define PUT(v)                     \
  do {                             \
    if (*n < cap) out[*n] = (v);   \
    if (*n <= cap) (*n)++;         \
  } while (0)
  if (!t) return;
  switch (t->kind) {
  case CM_BOOL: case CM_S8: case CM_U8: case CM_S16: case CM_U16: case CM_S32: case CM_U32: case CM_CHAR:
  case CM_ENUM: case CM_OWN: case CM_BORROW: case CM_STREAM: case CM_FUTURE: case CM_ERROR_CONTEXT:
    PUT(WG_I32);
    return;
  case CM_S64: case CM_U64: PUT(WG_I64); return;
  case CM_F32: PUT(WG_F32); return;
  case CM_F64: PUT(WG_F64); return;
  case CM_STRING: case CM_LIST: case CM_MAP: PUT(WG_I32); PUT(WG_I32); return;
  case CM_FLAGS: if (t->n) PUT(WG_I32); return;
  case CM_FIXED_LIST:
    for (uint32_t i = 0; i < t->len && *n <= cap; i++) flatten(t->elem, out, cap, n);
    return;
  case CM_RECORD: case CM_TUPLE:
    for (uint32_t i = 0; i < t->n && *n <= cap; i++) flatten(t->fields[i].type, out, cap, n);
    return;
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint32_t start = *n;
    PUT(WG_I32);
    uint32_t base = *n, width = 0; /* joined payload occupies [base, base+width) */
    uint32_t ncases = t->kind == CM_VARIANT ? t->n : 2;
    for (uint32_t c = 0; c < ncases; c++) {
      const cm_type *ct = t->kind == CM_VARIANT ? t->fields[c].type
                          : t->kind == CM_OPTION ? (c ? t->elem : NULL)
                                                 : (c ? t->elem2 : t->elem);
      if (!ct) continue;
      uint8_t tmp[CM_MAX_FLAT_PARAMS + 2];
      uint32_t m = 0;
      flatten(ct, tmp, CM_MAX_FLAT_PARAMS + 1, &m);
      for (uint32_t i = 0; i < m; i++) {
        uint32_t at = base + i;
        if (i < width) {
          if (at < cap && i < CM_MAX_FLAT_PARAMS + 1) out[at] = join(out[at], tmp[i]);
        } else if (at < cap && i < CM_MAX_FLAT_PARAMS + 1) {
          out[at] = tmp[i];
        }
      }
      if (m > width) width = m;
    }
    *n = base + width;
    if (*n > cap + 1) *n = cap + 1;
    (void)start;
    return;
  }
  default:
    return;
  }
#undef PUT
}

uint32_t cm_flatten(const cm_type *t, uint8_t *out, uint32_t cap) {
  uint32_t n = 0;
  flatten(t, out, cap, &n);
  return n;
}

/* Flattens a function's parameters (all of them) or result. */
static uint32_t flatten_params(const cm_type *ft, uint8_t *out, uint32_t cap) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < ft->n && n <= cap; i++) flatten(ft->fields[i].type, out, cap, &n);
  return n;
}

/* ------------------------------------------------------------ sizes */

static uint64_t align_to(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
#define SAT (UINT64_C(1) << 40) /* saturate: far above the 2^28 limit, no overflow */

static uint64_t disc_size(uint32_t ncases) { return ncases <= 256 ? 1 : ncases <= 65536 ? 2 : 4; }

/* elem_size and alignment of CanonicalABI.md with 64-bit pointers (the
 * "i64" of the validation rule), saturating at SAT. */
static uint64_t elem_size(const cm_type *t, uint64_t *align) {
  *align = 1;
  if (!t) return 0;
  switch (t->kind) {
  case CM_BOOL: case CM_S8: case CM_U8: return 1;
  case CM_S16: case CM_U16: *align = 2; return 2;
  case CM_S32: case CM_U32: case CM_F32: case CM_CHAR: case CM_OWN: case CM_BORROW: case CM_STREAM: case CM_FUTURE:
  case CM_ERROR_CONTEXT:
    *align = 4;
    return 4;
  case CM_S64: case CM_U64: case CM_F64: *align = 8; return 8;
  case CM_STRING: case CM_LIST: case CM_MAP: *align = 8; return 16;
  case CM_FLAGS: { uint64_t n = t->n <= 8 ? 1 : t->n <= 16 ? 2 : 4; *align = n; return n; }
  case CM_ENUM: { uint64_t n = disc_size(t->n); *align = n; return n; }
  case CM_FIXED_LIST: {
    uint64_t s = elem_size(t->elem, align);
    if (t->len && s > SAT / t->len) return SAT;
    s *= t->len;
    return s > SAT ? SAT : s;
  }
  case CM_RECORD: case CM_TUPLE: {
    uint64_t s = 0;
    for (uint32_t i = 0; i < t->n; i++) {
      uint64_t a, fs = elem_size(t->fields[i].type, &a);
      s = align_to(s, a) + fs;
      if (a > *align) *align = a;
      if (s > SAT) s = SAT;
    }
    return align_to(s, *align);
  }
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint32_t ncases = t->kind == CM_VARIANT ? t->n : 2;
    uint64_t ds = disc_size(ncases), maxs = 0, maxa = 1;
    for (uint32_t c = 0; c < ncases; c++) {
      const cm_type *ct = t->kind == CM_VARIANT ? t->fields[c].type
                          : t->kind == CM_OPTION ? (c ? t->elem : NULL)
                                                 : (c ? t->elem2 : t->elem);
      uint64_t a, cs = elem_size(ct, &a);
      if (cs > maxs) maxs = cs;
      if (a > maxa) maxa = a;
    }
    *align = maxa > ds ? maxa : ds;
    uint64_t s = align_to(ds, maxa) + maxs;
    return align_to(s > SAT ? SAT : s, *align);
  }
  default:
    return 0;
  }
}

bool cm_check_byte_size(cm_ctx *x, const cm_type *t, size_t off) {
  uint64_t a, s = elem_size(t, &a);
  if (s >= (UINT64_C(1) << 28))
    return cm_invalid(x, off, "type exceeds maximum byte size of 2^28 (%llu bytes)", (unsigned long long)s);
  return true;
}

/* ------------------------------------------------------------ equality */

static bool str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static const cm_extern *lookup(const cm_extern *v, uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (!strcmp(v[i].name, name)) return &v[i];
  return NULL;
}

static bool match(const cm_type *a, const cm_type *b, cm_match *mc);

/* Every entry of bv must be in av with av's type a subtype of bv's; for
 * equality the counts agree too. Imports are contravariant: callers pass the
 * expected type's imports as av and the provided type's as bv. */
static bool externs_match(const cm_extern *av, uint32_t an, const cm_extern *bv, uint32_t bn, cm_match *mc) {
  if (!mc->sub && an != bn) return false;
  for (uint32_t i = 0; i < bn; i++) {
    const cm_extern *e = lookup(av, an, bv[i].name);
    if (!e) return false;
    if (e->sort != bv[i].sort || !str_eq(e->module, bv[i].module)) return false;
    if (!match(e->type, bv[i].type, mc)) return false;
  }
  return true;
}

static bool match(const cm_type *a, const cm_type *b, cm_match *mc) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (cm_root(a) == cm_root(b)) return true;
  a = cm_root(a);
  b = cm_root(b);
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case CM_RESOURCE:
    /* An abstract resource (imported, or a `sub resource` bound) expected by a
     * type is bound to the first resource offered for it; later uses must
     * offer the same one (Binary.md: each type import supplied is substituted
     * for all later uses). */
    if (!mc->sub || b->local) {
      mc->why = "resource types are not the same";
      return false;
    }
    for (uint32_t i = 0; i < mc->n; i++)
      if (mc->from[i] == b) {
        if (mc->to[i] == a) return true;
        mc->why = "resource types are not the same";
        return false;
      }
    if (mc->n < CM_MAX_BINDINGS) {
      mc->from[mc->n] = b;
      mc->to[mc->n++] = a;
    }
    return true;
  case CM_RECORD: case CM_VARIANT: case CM_TUPLE: case CM_FLAGS: case CM_ENUM: case CM_FUNC:
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++) {
      if (!str_eq(a->fields[i].name, b->fields[i].name)) return false;
      if (!match(a->fields[i].type, b->fields[i].type, mc)) return false;
    }
    if (a->kind == CM_FUNC) return a->async == b->async && match(a->elem, b->elem, mc);
    return true;
  case CM_FIXED_LIST:
    if (a->len != b->len) return false;
    /* fall through */
  case CM_LIST: case CM_OPTION: case CM_RESULT: case CM_OWN: case CM_BORROW: case CM_STREAM: case CM_FUTURE:
  case CM_MAP:
    return match(a->elem, b->elem, mc) && match(a->elem2, b->elem2, mc);
  case CM_INSTANCE:
    return externs_match(a->exports, a->nexports, b->exports, b->nexports, mc);
  case CM_COMPONENT: case CM_CORE_MODULE:
    /* a may import less than b allows, and must export what b expects */
    return externs_match(b->imports, b->nimports, a->imports, a->nimports, mc) &&
           externs_match(a->exports, a->nexports, b->exports, b->nexports, mc);
  case CM_CORE_INSTANCE:
    return externs_match(a->exports, a->nexports, b->exports, b->nexports, mc);
  case CM_CORE_FUNC: case CM_CORE_TAG:
    return a->ncparams == b->ncparams && a->ncresults == b->ncresults &&
           !memcmp(a->cparams, b->cparams, a->ncparams) && !memcmp(a->cresults, b->cresults, a->ncresults);
  case CM_CORE_TABLE: case CM_CORE_MEMORY:
    if (a->elemtype != b->elemtype || a->shared != b->shared || a->is64 != b->is64) return false;
    if (!mc->sub) return a->min == b->min && a->has_max == b->has_max && a->max == b->max;
    if (a->min < b->min) return false;
    return !b->has_max || (a->has_max && a->max <= b->max);
  case CM_CORE_GLOBAL:
    return a->elemtype == b->elemtype && a->mut == b->mut;
  default:
    return true; /* primitives: same kind */
  }
}

bool cm_type_equal(const cm_type *a, const cm_type *b) {
  cm_match mc = {.sub = false};
  return match(a, b, &mc);
}

bool cm_subtype_in(cm_match *mc, const cm_type *a, const cm_type *b) {
  mc->sub = true;
  mc->why = NULL;
  return match(a, b, mc);
}

bool cm_subtype(const cm_type *a, const cm_type *b) {
  cm_match mc = {.sub = true};
  return match(a, b, &mc);
}

/* ------------------------------------------------------ substitution */

static cm_extern *subst_externs(cm_ctx *x, cm_extern *v, uint32_t n, const cm_match *mc, bool *changed) {
  cm_extern *out = NULL;
  for (uint32_t i = 0; i < n; i++) {
    cm_type *t = cm_substitute(x, v[i].type, mc);
    if (!t) return NULL;
    if (t != v[i].type && !out) {
      if (!(out = cm_alloc(x, n * sizeof *out))) return NULL;
      memcpy(out, v, n * sizeof *out);
    }
    if (out) out[i].type = t;
  }
  if (out) *changed = true;
  return out ? out : v;
}

static uint32_t memo_slot(const cm_memo *m, const cm_type *t) {
  uint32_t i = (uint32_t)(((uintptr_t)t >> 4) * 2654435761u) & (m->cap - 1);
  while (m->from[i] && m->from[i] != t) i = (i + 1) & (m->cap - 1);
  return i;
}

static cm_type *memo_get(const cm_memo *m, const cm_type *t) {
  if (!m || !m->cap) return NULL;
  uint32_t i = memo_slot(m, t);
  return m->from[i] ? m->to[i] : NULL;
}

static void memo_put(cm_memo *m, const cm_type *t, cm_type *copy) {
  if (!m || m->oom) return;
  if ((m->n + 1) * 2 > m->cap) {
    cm_memo g = {.cap = m->cap ? m->cap * 2 : 64};
    g.from = calloc(g.cap, sizeof *g.from);
    g.to = calloc(g.cap, sizeof *g.to);
    if (!g.from || !g.to) {
      free(g.from), free(g.to);
      m->oom = true; /* no memo from here on: copies may repeat, as without one */
      return;
    }
    for (uint32_t i = 0; i < m->cap; i++)
      if (m->from[i]) {
        uint32_t j = memo_slot(&g, m->from[i]);
        g.from[j] = m->from[i], g.to[j] = m->to[i];
      }
    free(m->from), free(m->to);
    g.n = m->n;
    *m = g;
  }
  uint32_t i = memo_slot(m, t);
  if (!m->from[i]) m->n++;
  m->from[i] = t, m->to[i] = copy;
}

void cm_memo_free(cm_memo *m) {
  free(m->from), free(m->to);
  *m = (cm_memo){0};
}

static cm_type *substitute(cm_ctx *x, cm_type *t, const cm_match *mc);

cm_type *cm_substitute(cm_ctx *x, cm_type *t, const cm_match *mc) {
  if (!t || !mc->n || t->kind <= CM_ERROR_CONTEXT) return t;
  cm_type *done = memo_get(mc->memo, t);
  if (done) return done;
  cm_type *r = substitute(x, t, mc);
  if (r) memo_put(mc->memo, t, r);
  return r;
}

static cm_type *substitute(cm_ctx *x, cm_type *t, const cm_match *mc) {
  for (uint32_t i = 0; i < mc->n; i++) /* a type import supplied by an argument */
    if (mc->from[i] == t) return (cm_type *)mc->to[i];
  if (t->kind == CM_RESOURCE) {
    for (uint32_t i = 0; i < mc->n; i++)
      if (mc->from[i] == cm_root(t)) return (cm_type *)mc->to[i];
    return t;
  }
  cm_type copy = *t;
  bool changed = false;
  if (t->n) {
    cm_field *f = NULL;
    for (uint32_t i = 0; i < t->n; i++) {
      cm_type *ft = cm_substitute(x, t->fields[i].type, mc);
      if (t->fields[i].type && !ft) return NULL;
      if (ft != t->fields[i].type && !f) {
        if (!(f = cm_alloc(x, t->n * sizeof *f))) return NULL;
        memcpy(f, t->fields, t->n * sizeof *f);
      }
      if (f) f[i].type = ft;
    }
    if (f) copy.fields = f, changed = true;
  }
  if (t->elem && (copy.elem = cm_substitute(x, t->elem, mc)) != t->elem) changed = true;
  if (t->elem2 && (copy.elem2 = cm_substitute(x, t->elem2, mc)) != t->elem2) changed = true;
  if ((t->elem && !copy.elem) || (t->elem2 && !copy.elem2)) return NULL;
  if (t->nimports && !(copy.imports = subst_externs(x, t->imports, t->nimports, mc, &changed))) return NULL;
  if (t->nexports && !(copy.exports = subst_externs(x, t->exports, t->nexports, mc, &changed))) return NULL;
  if (!changed) return t;
  cm_type *n = cm_alloc(x, sizeof *n);
  if (n) *n = copy;
  return n;
}

/* ------------------------------------------------------ resource generativity */

typedef struct defs_walk {
  cm_ctx *x;
  uint32_t gen, serial;
  cm_type **v;
  uint32_t n, cap;
  bool oom;
} defs_walk;

static void walk_defs(defs_walk *w, cm_type *t);
static void walk_externs(defs_walk *w, const cm_extern *v, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) walk_defs(w, v[i].type);
}

/* Each node once per walk (types are DAGs whose trees may be huge). */
static void walk_defs(defs_walk *w, cm_type *t) {
  if (!t || t->kind <= CM_ERROR_CONTEXT || w->oom) return; /* primitives are shared statics */
  if (t->alias_of) t = (cm_type *)t->alias_of;
  if (t->mark == w->gen) return;
  t->mark = w->gen;
  if (t->kind == CM_RESOURCE) {
    if (t->born != w->serial || t->imported) return;
    if (w->n == w->cap) {
      uint32_t cap = w->cap ? w->cap * 2 : 8;
      cm_type **nv = realloc(w->v, cap * sizeof *nv);
      if (!nv) { w->oom = true; return; }
      w->v = nv;
      w->cap = cap;
    }
    w->v[w->n++] = t;
    return;
  }
  for (uint32_t i = 0; i < t->n; i++) walk_defs(w, t->fields[i].type);
  walk_defs(w, t->elem);
  walk_defs(w, t->elem2);
  walk_externs(w, t->imports, t->nimports);
  walk_externs(w, t->exports, t->nexports);
}

typedef struct free_walk {
  uint32_t gen, lo, hi;
} free_walk;

static bool walk_free(free_walk *w, const cm_type *t) {
  if (!t || t->kind <= CM_ERROR_CONTEXT) return false;
  cm_type *m = (cm_type *)cm_root(t);
  if (m->mark == w->gen) return false;
  m->mark = w->gen;
  if (m->kind == CM_RESOURCE) return m->born < w->lo || m->born > w->hi;
  for (uint32_t i = 0; i < m->n; i++)
    if (walk_free(w, m->fields[i].type)) return true;
  if (walk_free(w, m->elem) || walk_free(w, m->elem2)) return true;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (walk_free(w, m->imports[i].type)) return true;
  for (uint32_t i = 0; i < m->nexports; i++)
    if (walk_free(w, m->exports[i].type)) return true;
  return false;
}

bool cm_refers_free_resource(cm_ctx *x, const cm_type *t) {
  const cm_type *m = cm_root(t);
  bool scoped = m && (m->kind == CM_COMPONENT || m->kind == CM_INSTANCE) && m->serial_lo;
  free_walk w = {.gen = ++x->walk, .lo = scoped ? m->serial_lo : 1, .hi = scoped ? m->serial_hi : 0};
  return walk_free(&w, t);
}

bool cm_collect_defs(cm_ctx *x, cm_type *t, uint32_t serial) {
  defs_walk w = {.x = x, .gen = ++x->walk, .serial = serial};
  walk_externs(&w, t->exports, t->nexports);
  bool ok = !w.oom;
  if (ok && w.n) {
    if ((t->defs = cm_alloc(x, w.n * sizeof *t->defs))) {
      memcpy(t->defs, w.v, w.n * sizeof *t->defs);
      t->ndefs = w.n;
    } else {
      ok = false;
    }
  }
  free(w.v);
  return ok || cm_oom(x);
}

cm_extern *cm_freshen(cm_ctx *x, const cm_extern *v, uint32_t n, cm_type *const *defs, uint32_t ndefs, uint32_t serial,
                      bool imported) {
  cm_extern *out = cm_alloc(x, (n ? n : 1) * sizeof *out);
  if (!out) return NULL;
  if (n) memcpy(out, v, n * sizeof *out);
  /* cm_match holds CM_MAX_BINDINGS pairs: substitute in batches (a fresh
   * resource is never among the later batches' originals) */
  for (uint32_t at = 0; at < ndefs; at += CM_MAX_BINDINGS) {
    cm_memo memo = {0}; /* a type reached through two exports stays one type */
    cm_match mc = {.sub = true, .memo = &memo};
    for (uint32_t i = at; i < ndefs && mc.n < CM_MAX_BINDINGS; i++) {
      cm_type *r = cm_alloc(x, sizeof *r);
      if (!r) return cm_memo_free(&memo), NULL;
      *r = *defs[i];
      r->alias_of = NULL;
      r->local = false; /* seen from outside its instance: not local */
      r->born = serial;
      r->imported = imported;
      r->mark = 0;
      mc.from[mc.n] = defs[i];
      mc.to[mc.n++] = r;
    }
    for (uint32_t i = 0; i < n; i++)
      if (!(out[i].type = cm_substitute(x, out[i].type, &mc))) return cm_memo_free(&memo), NULL;
    cm_memo_free(&memo);
  }
  return out;
}

cm_type *cm_fresh_instance(cm_ctx *x, cm_type *t, uint32_t serial, bool imported) {
  t = (cm_type *)cm_root(t);
  if (t->kind != CM_INSTANCE || !t->ndefs) return t;
  cm_type *c = cm_alloc(x, sizeof *c);
  if (!c) return NULL;
  *c = *t;
  c->defs = NULL;
  c->ndefs = 0;
  c->mark = 0;
  if (!(c->exports = cm_freshen(x, t->exports, t->nexports, t->defs, t->ndefs, serial, imported))) return NULL;
  return c;
}

/* ------------------------------------------------------ names, visibility */

cm_type *cm_rename(cm_ctx *x, cm_type *t, const char *name) {
  if (t->kind <= CM_ERROR_CONTEXT) return t; /* primitives need no name */
  cm_type *c = cm_alloc(x, sizeof *c);
  if (!c) return NULL;
  *c = *t;
  c->alias_of = cm_root(t);
  c->label = name;
  return c;
}

typedef struct named_list {
  const cm_extern *v;
  uint32_t n;
  const struct named_list *next;
} named_list;

/* Whether `t` is a type export of `v`, or of an instance among `v` (types
 * reached through an imported or exported instance are named by it). */
static bool names(const cm_extern *v, uint32_t n, const cm_type *t) {
  for (uint32_t i = 0; i < n; i++) {
    if (v[i].sort == CS_TYPE && v[i].type == t) return true;
    if (v[i].sort == CS_INSTANCE && names(v[i].type->exports, v[i].type->nexports, t)) return true;
  }
  return false;
}

static bool is_named(const named_list *l, const cm_type *t) {
  for (; l; l = l->next)
    if (names(l->v, l->n, t)) return true;
  return false;
}

static bool visible(const cm_type *t, const named_list *l, bool self);
/* An instance or component type names its own type imports and exports. */
static bool visible_externs(const cm_type *t, const named_list *l) {
  named_list ex = {t->exports, t->nexports, l}, im = {t->imports, t->nimports, &ex};
  for (uint32_t i = 0; i < t->nimports; i++)
    if (!visible(t->imports[i].type, &im, t->imports[i].sort == CS_TYPE)) return false;
  for (uint32_t i = 0; i < t->nexports; i++)
    if (!visible(t->exports[i].type, &im, t->exports[i].sort == CS_TYPE)) return false;
  return true;
}

/* `self`: t is itself being named (a type import/export): only its parts
 * must be visible. */
static bool visible(const cm_type *t, const named_list *l, bool self) {
  if (!t || t->kind <= CM_ERROR_CONTEXT) return true;
  if (!self && is_named(l, t)) return true;
  switch (t->kind) {
  case CM_RECORD: case CM_VARIANT: case CM_ENUM: case CM_FLAGS: case CM_RESOURCE:
    if (!self) return false;
    /* fall through */
  case CM_TUPLE: case CM_FUNC:
    for (uint32_t i = 0; i < t->n; i++)
      if (!visible(t->fields[i].type, l, false)) return false;
    return visible(t->elem, l, false);
  case CM_LIST: case CM_FIXED_LIST: case CM_OPTION: case CM_RESULT: case CM_MAP: case CM_STREAM: case CM_FUTURE:
  case CM_OWN: case CM_BORROW:
    return visible(t->elem, l, false) && visible(t->elem2, l, false);
  case CM_INSTANCE: case CM_COMPONENT:
    return visible_externs(t, l);
  default:
    return true;
  }
}

bool cm_check_visible(cm_ctx *x, const cm_extern *e, const cm_extern *imports, uint32_t ni, const cm_extern *exports,
                      uint32_t ne, bool import, size_t off) {
  named_list ex = {exports, import ? 0 : ne, NULL}, im = {imports, ni, &ex};
  if (e->sort == CS_CORE_MODULE || visible(e->type, &im, e->sort == CS_TYPE)) return true;
  return cm_invalid(x, off, "%s not valid to be used as %s", cm_sort_name(e->sort), import ? "import" : "export");
}

/* ------------------------------------------------------ lift and lower */

static void fmt_types(char *buf, size_t cap, const uint8_t *v, uint32_t n) {
  size_t used = 0;
  buf[0] = 0;
  used += (size_t)snprintf(buf + used, cap - used, "[");
  for (uint32_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", wg_valtype_name((wg_valtype)v[i]));
  if (used < cap) snprintf(buf + used, cap - used, "]");
}

static bool same_core(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn) {
  return an == bn && (an == 0 || !memcmp(a, b, an));
}

bool cm_check_lift(cm_ctx *x, size_t off, const cm_type *ft, const cm_type *core, bool has_memory, bool has_realloc,
                   const cm_type *realloc_type, const cm_type *post_return_type) {
  uint8_t p[CM_MAX_FLAT_PARAMS + 1], r[CM_MAX_FLAT_PARAMS + 1];
  uint32_t np = flatten_params(ft, p, CM_MAX_FLAT_PARAMS + 1);
  uint32_t nr = cm_flatten(ft->elem, r, CM_MAX_FLAT_PARAMS + 1);
  bool spill_p = np > CM_MAX_FLAT_PARAMS, spill_r = nr > CM_MAX_FLAT_RESULTS;
  if (spill_p) np = 1, p[0] = WG_I32;
  if (spill_r) nr = 1, r[0] = WG_I32;
  bool mem_p = spill_p, mem_r = spill_r;
  for (uint32_t i = 0; i < ft->n; i++) mem_p |= needs_memory(ft->fields[i].type);
  mem_r |= needs_memory(ft->elem);
  if ((mem_p || mem_r) && !has_memory) return cm_invalid(x, off, "canonical option `memory` is required");
  if (mem_p && !has_realloc) return cm_invalid(x, off, "canonical option `realloc` is required");
  char want[200], got[200];
  if (!same_core(p, np, core->cparams, core->ncparams)) {
    fmt_types(want, sizeof want, p, np);
    fmt_types(got, sizeof got, core->cparams, core->ncparams);
    return cm_invalid(x, off, "lowered parameter types `%s` do not match parameter types `%s` of core function", want, got);
  }
  if (!same_core(r, nr, core->cresults, core->ncresults)) {
    fmt_types(want, sizeof want, r, nr);
    fmt_types(got, sizeof got, core->cresults, core->ncresults);
    return cm_invalid(x, off, "lowered result types `%s` do not match result types `%s` of core function", want, got);
  }
  if (post_return_type && (!same_core(r, nr, post_return_type->cparams, post_return_type->ncparams) ||
                           post_return_type->ncresults != 0))
    return cm_invalid(x, off, "canonical option `post-return` uses a core function with an incorrect signature");
  (void)realloc_type;
  return true;
}

bool cm_check_lower(cm_ctx *x, size_t off, const cm_type *ft, bool has_memory, bool has_realloc, cm_type **core_out) {
  uint8_t p[CM_MAX_FLAT_PARAMS + 2], r[CM_MAX_FLAT_PARAMS + 1];
  uint32_t np = flatten_params(ft, p, CM_MAX_FLAT_PARAMS + 1);
  uint32_t nr = cm_flatten(ft->elem, r, CM_MAX_FLAT_PARAMS + 1);
  bool spill_p = np > CM_MAX_FLAT_PARAMS, spill_r = nr > CM_MAX_FLAT_RESULTS;
  if (spill_p) np = 1, p[0] = WG_I32;
  if (spill_r) {
    p[np++] = WG_I32; /* the return pointer */
    nr = 0;
  }
  bool mem_p = spill_p, mem_r = spill_r;
  for (uint32_t i = 0; i < ft->n; i++) mem_p |= needs_memory(ft->fields[i].type);
  mem_r |= needs_memory(ft->elem);
  if ((mem_p || mem_r) && !has_memory) return cm_invalid(x, off, "canonical option `memory` is required");
  if (needs_memory(ft->elem) && !has_realloc) return cm_invalid(x, off, "canonical option `realloc` is required");
  cm_type *core = cm_new_type(x, CM_CORE_FUNC);
  if (!core || !(core->cparams = cm_alloc(x, np)) || !(core->cresults = cm_alloc(x, nr ? nr : 1))) return false;
  memcpy(core->cparams, p, np);
  if (nr) memcpy(core->cresults, r, nr);
  core->ncparams = np;
  core->ncresults = nr;
  *core_out = core;
  return true;
}
