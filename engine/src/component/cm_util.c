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
 * case-insensitively with the `[constructor]`/`[method]`/`[static]`
 * annotations stripped, so `a` and `A`, or `[method]r.f` and `r.f` clash.
 * Names are compared as given otherwise (versions included). */
static int ascii_casecmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = (unsigned char)*a, cb = (unsigned char)*b;
    if (ca >= 'A' && ca <= 'Z') ca += 32;
    if (cb >= 'A' && cb <= 'Z') cb += 32;
    if (ca != cb || !ca) return ca - cb;
  }
}

static const char *strip_annotation(const char *s) {
  if (s[0] != '[') return s;
  const char *e = strchr(s, ']');
  return e ? e + 1 : s;
}

bool cm_names_add(cm_ctx *x, cm_names *ns, const char *name, size_t off, bool import) {
  const char *a = strip_annotation(name);
  for (uint32_t i = 0; i < ns->n; i++) {
    const char *b = strip_annotation(ns->v[i]);
    if (ascii_casecmp(a, b) == 0)
      return cm_invalid(x, off, "%s name `%s` conflicts with previous name `%s`", import ? "import" : "export", name,
                        ns->v[i]);
  }
  if (ns->n == ns->cap) {
    uint32_t cap = ns->cap ? ns->cap * 2 : 8;
    char **v = realloc(ns->v, cap * sizeof *v);
    if (!v) return cm_oom(x);
    ns->v = v;
    ns->cap = cap;
  }
  ns->v[ns->n++] = (char *)name;
  return true;
}

void cm_scope_free(cm_scope *s) {
  for (int i = 0; i < CS_COUNT; i++) free(s->space[i].v);
  free(s->import_names.v);
  free(s->export_names.v);
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
