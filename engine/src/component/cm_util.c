/*
 * cm_util.c: small helpers shared by the component decoder: arena
 * allocation, index spaces, name sets and error reporting.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"

bool cm_oom(cm_ctx *x) { return wg_fail(x->diag, WG_ERROR_RESOURCE, SIZE_MAX, "out of memory"); }

void *cm_alloc(cm_ctx *x, size_t n) {
  void *p = wg_arena_alloc(&x->c->arena, n ? n : 1);
  if (!p) cm_oom(x);
  return p;
}

const char *cm_strdup(cm_ctx *x, const uint8_t *s, uint32_t len) {
  char *p = cm_alloc(x, (size_t)len + 1);
  if (!p) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = 0;
  return p;
}

bool cm_invalid(cm_ctx *x, size_t off, const char *fmt, ...) {
  if (x->diag->kind) return false;
  char buf[sizeof x->diag->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return wg_fail(x->diag, WG_ERROR_INVALID, off, "%s", buf);
}

bool cm_limit(cm_ctx *x, size_t off, const char *what) {
  return wg_fail(x->diag, WG_ERROR_LIMIT, off, "implementation limit: %s", what);
}

cm_type *cm_new_type(cm_ctx *x, cm_kind k) {
  cm_type *t = cm_alloc(x, sizeof *t);
  if (t) {
    t->kind = k;
    t->dtor = UINT32_MAX;
  }
  return t;
}

/* Index spaces are capped so that an index always fits in a u32 and a
 * hostile binary cannot make us grow without bound (each entry costs at
 * least one byte of input anyway). */
#define CM_MAX_SPACE 1000000u

bool cm_space_push(cm_ctx *x, cm_space *s, cm_type *t, size_t off) {
  if (s->n == s->cap) {
    if (s->n >= CM_MAX_SPACE) return cm_limit(x, off, "too many entries in an index space");
    uint32_t cap = s->cap ? s->cap * 2 : 8;
    cm_type **v = realloc(s->v, cap * sizeof *v);
    if (!v) return cm_oom(x);
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = t;
  return true;
}

bool cm_add_extern(cm_ctx *x, cm_extern **v, uint32_t *n, uint32_t *cap, const cm_extern *e) {
  if (*n == *cap) {
    uint32_t nc = *cap ? *cap * 2 : 8;
    if (nc > CM_MAX_SPACE) return cm_limit(x, SIZE_MAX, "too many imports or exports");
    cm_extern *nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return cm_oom(x);
    *v = nv;
    *cap = nc;
  }
  (*v)[(*n)++] = *e;
  return true;
}

/* Strong uniqueness (Explainer.md "Name Uniqueness"): names are compared
 * case-insensitively after canonicalization: `[method]l.l` and `[static]l.l`
 * become `l`, other annotations than `[constructor]` are stripped. So `a`
 * and `A` clash, as do `[method]r.f` and `r.f`, but `[constructor]a` and `a`
 * do not. Writes the canonical form to buf (NUL-terminated). */
static void canonical(const char *s, char *buf, size_t cap) {
  const char *body = s;
  if (s[0] == '[' && strncmp(s, "[constructor]", 13)) {
    const char *e = strchr(s, ']');
    if (e) body = e + 1;
  }
  size_t n = strlen(body);
  const char *dot = strchr(body, '.');
  if (body != s && dot && (size_t)(dot - body) * 2 + 1 == n && !strncmp(body, dot + 1, (size_t)(dot - body)))
    n = (size_t)(dot - body); /* [method]l.l -> l */
  if (n >= cap) n = cap - 1;
  for (size_t i = 0; i < n; i++) buf[i] = (char)(body[i] >= 'A' && body[i] <= 'Z' ? body[i] + 32 : body[i]);
  buf[n] = 0;
}

bool cm_names_add(cm_ctx *x, cm_names *ns, const char *name, size_t off, bool import) {
  size_t la = strlen(name) + 1;
  char *a = cm_alloc(x, la); /* the canonical form, kept for the later comparisons */
  if (!a) return false;
  canonical(name, a, la);
  for (uint32_t i = 0; i < ns->n; i++)
    if (!strcmp(a, ns->canon[i]))
      return cm_invalid(x, off, "%s name `%s` conflicts with previous name `%s`", import ? "import" : "export", name,
                        ns->v[i]);
  if (ns->n == ns->cap) {
    uint32_t cap = ns->cap ? ns->cap * 2 : 8;
    char **v = realloc(ns->v, cap * sizeof *v);
    if (!v) return cm_oom(x);
    ns->v = v;
    char **c = realloc(ns->canon, cap * sizeof *c);
    if (!c) return cm_oom(x);
    ns->canon = c;
    ns->cap = cap;
  }
  ns->canon[ns->n] = a;
  ns->v[ns->n++] = (char *)name;
  return true;
}

void cm_scope_free(cm_scope *s) {
  for (int i = 0; i < CS_COUNT; i++) free(s->space[i].v);
  free(s->import_names.v);
  free(s->export_names.v);
  free(s->import_names.canon);
  free(s->export_names.canon);
  free(s->imports);
  free(s->exports);
  memset(s, 0, sizeof *s);
}

const char *cm_sort_name(cm_sort s) {
  static const char *const names[CS_COUNT] = {"core func", "core table", "core memory", "core global", "core tag",
                                              "core type", "module",    "core instance", "func",       "value",
                                              "type",      "component", "instance"};
  return (unsigned)s < CS_COUNT ? names[s] : "?";
}

bool cm_def_add(cm_ctx *x, cm_scope *s, const cm_def *d) {
  if (s->kind != SCOPE_COMPONENT) return true;
  cm_body *b = s->body;
  if (!b && !(b = s->body = cm_alloc(x, sizeof *b))) return false;
  if (b->n == b->cap) { /* arena storage: the old array is abandoned (amortised 2x) */
    if (b->n >= CM_MAX_SPACE * 4) return cm_limit(x, SIZE_MAX, "too many definitions");
    uint32_t cap = b->cap ? b->cap * 2 : 16;
    cm_def *v = cm_alloc(x, cap * sizeof *v);
    if (!v) return false;
    if (b->n) memcpy(v, b->v, b->n * sizeof *v);
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = *d;
  return true;
}
