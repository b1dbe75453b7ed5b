/*
 * cm_hosttype.c: the types of host functions (wg_component_linker_define_func_typed):
 * WIT-like type text (WIT's type syntax, component-model design/mvp/WIT.md
 * "Item: type"; a function as `func(name: type, ...) -> type`) parsed into
 * the same cm_type nodes the decoder makes, and the check of a component's
 * import type against them at instantiation (Explainer.md "Type Checking":
 * an import is satisfied by a definition whose type is a subtype of the
 * import's; value types match structurally with labels by name, resources
 * by identity: the host resource the import was bound to).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_host.h"

/* ------------------------------------------------------------ parsing */

typedef struct hp {
  wg_arena *a;
  const char *text, *p;
  cm_host_lookup look;
  void *env;
  char *err;
  size_t errlen;
  bool failed;
  unsigned depth;
} hp;

static bool perr(hp *x, const char *fmt, const char *what, size_t len) {
  if (!x->failed) {
    char w[96];
    snprintf(w, sizeof w, "%.*s", (int)(len < 80 ? len : 80), what ? what : "");
    char m[160];
    snprintf(m, sizeof m, fmt, w);
    snprintf(x->err, x->errlen, "%s at offset %zu of `%s`", m, (size_t)(x->p - x->text), x->text);
    x->failed = true;
  }
  return false;
}

static void ws(hp *x) {
  while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r') x->p++;
}

/* The punctuation `c` next (after blanks): consumed, true; else false. */
static bool eat(hp *x, char c) {
  ws(x);
  if (*x->p != c) return false;
  x->p++;
  return true;
}

static bool need(hp *x, char c) {
  if (eat(x, c)) return true;
  char s[2] = {c, 0};
  return perr(x, "expected `%s`", s, 1);
}

static bool is_kebab(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'; }

/* A label (kebab-case, an optional leading `%`): *len bytes at the result. */
static const char *label(hp *x, size_t *len) {
  ws(x);
  if (*x->p == '%') x->p++;
  const char *s = x->p;
  while (is_kebab(*x->p)) x->p++;
  *len = (size_t)(x->p - s);
  if (!*len) perr(x, "expected a name%s", NULL, 0);
  return s;
}

/* A type name: a label, `_`, or a qualified `ns:pkg/iface@1.2.3#name`. */
static const char *tname(hp *x, size_t *len) {
  ws(x);
  const char *s = x->p;
  while (is_kebab(*x->p) || *x->p == '_' || *x->p == ':' || *x->p == '/' || *x->p == '@' || *x->p == '.' ||
         *x->p == '#' || *x->p == '+' || *x->p == '%')
    x->p++;
  *len = (size_t)(x->p - s);
  if (!*len) perr(x, "expected a type%s", NULL, 0);
  return s;
}

static cm_type *node(hp *x, cm_kind k) {
  cm_type *t = wg_arena_alloc(x->a, sizeof *t);
  if (!t) perr(x, "out of memory%s", NULL, 0);
  else t->kind = k;
  return t;
}

static char *dup(hp *x, const char *s, size_t len) {
  char *d = wg_arena_alloc(x->a, len + 1);
  if (!d) return perr(x, "out of memory%s", NULL, 0), NULL;
  memcpy(d, s, len);
  return d;
}

static cm_type *valtype(hp *x);

/* A growing member list in the arena (old copies stay until the arena goes). */
static bool push_field(hp *x, cm_type *t, uint32_t *cap, const char *name, size_t len, cm_type *ft) {
  if (t->n == *cap) {
    uint32_t c = *cap ? *cap * 2 : 8;
    cm_field *v = wg_arena_array(x->a, c, sizeof *v);
    if (!v) return perr(x, "out of memory%s", NULL, 0);
    if (t->n) memcpy(v, t->fields, t->n * sizeof *v);
    t->fields = v;
    *cap = c;
  }
  cm_field *f = &t->fields[t->n++];
  f->name = name ? dup(x, name, len) : NULL;
  f->name_len = (uint32_t)len;
  f->type = ft;
  return !name || f->name;
}

/* `{ a, b(T) }` (variant), `{ a: T }` (record) or `{ a, b }` (enum, flags). */
static cm_type *members(hp *x, cm_kind k) {
  cm_type *t = node(x, k);
  uint32_t cap = 0;
  if (!t || !need(x, '{')) return NULL;
  while (!eat(x, '}')) {
    size_t len;
    const char *name = label(x, &len);
    if (x->failed) return NULL;
    cm_type *ft = NULL;
    if (k == CM_RECORD) {
      if (!need(x, ':') || !(ft = valtype(x))) return NULL;
    } else if (k == CM_VARIANT && eat(x, '(')) {
      if (!(ft = valtype(x)) || !need(x, ')')) return NULL;
    }
    if (!push_field(x, t, &cap, name, len, ft)) return NULL;
    if (!eat(x, ',')) {
      if (!need(x, '}')) return NULL;
      break;
    }
  }
  if (!t->n) return perr(x, "`%s` needs at least one member", k == CM_RECORD ? "record" : k == CM_VARIANT ? "variant" : k == CM_ENUM ? "enum" : "flags", 6), NULL;
  if (k == CM_FLAGS && t->n > 32) return perr(x, "more than 32 flags%s", NULL, 0), NULL;
  return t;
}

/* Whether the len bytes at s are the literal w. */
#define word(s, len, w) ((len) == sizeof(w) - 1 && !memcmp(s, w, sizeof(w) - 1))

static const struct {
  const char *name;
  uint8_t len;
  cm_kind kind;
} prims[] = {{"bool", 4, CM_BOOL}, {"s8", 2, CM_S8},   {"u8", 2, CM_U8},   {"s16", 3, CM_S16},
             {"u16", 3, CM_U16},   {"s32", 3, CM_S32}, {"u32", 3, CM_U32}, {"s64", 3, CM_S64},
             {"u64", 3, CM_U64},   {"f32", 3, CM_F32}, {"f64", 3, CM_F64}, {"char", 4, CM_CHAR},
             {"string", 6, CM_STRING}};

/* A resource named by the text, for own<> and borrow<>. */
static const cm_type *resource(hp *x) {
  size_t len;
  const char *s = tname(x, &len);
  if (x->failed) return NULL;
  const cm_type *r = x->look(x->env, s, len);
  if (!r || r->kind != CM_RESOURCE) {
    x->p = s;
    return perr(x, "`%s` is not a resource", s, len), NULL;
  }
  return r;
}

/* `_` (nothing, in result<_, E>) gives *t NULL. */
static bool optional(hp *x, cm_type **t) {
  ws(x);
  if (x->p[0] == '_' && !is_kebab(x->p[1])) {
    x->p++;
    *t = NULL;
    return true;
  }
  return (*t = valtype(x)) != NULL;
}

static cm_type *valtype(hp *x) {
  if (++x->depth > 64) return perr(x, "type nested too deeply%s", NULL, 0), NULL;
  size_t len;
  const char *s = tname(x, &len);
  cm_type *t = NULL;
  if (x->failed) return NULL;
  for (size_t i = 0; i < sizeof prims / sizeof *prims; i++)
    if (len == prims[i].len && *s == *prims[i].name && !memcmp(s, prims[i].name, len)) {
      x->depth--;
      return cm_prim(prims[i].kind);
    }
  if (word(s, len, "list") || word(s, len, "option")) {
    if (!(t = node(x, *s == 'l' ? CM_LIST : CM_OPTION)) || !need(x, '<') || !(t->elem = valtype(x))) return NULL;
    if (t->kind == CM_LIST && eat(x, ',')) { /* list<T, N>: a fixed-length list */
      ws(x);
      char *end;
      unsigned long n = strtoul(x->p, &end, 10);
      if (end == x->p || !n || n > UINT32_MAX) return perr(x, "expected a length%s", NULL, 0), NULL;
      x->p = end;
      t->kind = CM_FIXED_LIST;
      t->len = (uint32_t)n;
    }
    if (!need(x, '>')) return NULL;
  } else if (word(s, len, "result")) {
    if (!(t = node(x, CM_RESULT))) return NULL;
    if (eat(x, '<')) {
      if (!optional(x, &t->elem) && x->failed) return NULL;
      if (eat(x, ',') && !(t->elem2 = valtype(x))) return NULL;
      if (!need(x, '>')) return NULL;
      if (!t->elem && !t->elem2) return perr(x, "`result<_>` is written `result`%s", NULL, 0), NULL;
    }
  } else if (word(s, len, "tuple")) {
    uint32_t cap = 0;
    if (!(t = node(x, CM_TUPLE)) || !need(x, '<')) return NULL;
    do {
      cm_type *e = valtype(x);
      if (!e || !push_field(x, t, &cap, NULL, 0, e)) return NULL;
    } while (eat(x, ','));
    if (!need(x, '>')) return NULL;
  } else if (word(s, len, "own") || word(s, len, "borrow")) {
    if (!(t = node(x, *s == 'o' ? CM_OWN : CM_BORROW)) || !need(x, '<') || !(t->elem = (cm_type *)resource(x)) ||
        !need(x, '>'))
      return NULL;
  } else if (word(s, len, "record")) {
    t = members(x, CM_RECORD);
  } else if (word(s, len, "variant")) {
    t = members(x, CM_VARIANT);
  } else if (word(s, len, "enum")) {
    t = members(x, CM_ENUM);
  } else if (word(s, len, "flags")) {
    t = members(x, CM_FLAGS);
  } else {
    const cm_type *named = x->look(x->env, s, len);
    if (!named) {
      x->p = s;
      return perr(x, "unknown type `%s`", s, len), NULL;
    }
    if (named->kind != CM_RESOURCE) {
      x->depth--;
      return (cm_type *)named;
    }
    if ((t = node(x, CM_OWN))) t->elem = (cm_type *)named; /* a resource's name alone: own<r> (WIT) */
  }
  x->depth--;
  return t;
}

cm_type *cm_host_parse(wg_arena *a, const char *text, bool func, cm_host_lookup look, void *env, char *err,
                       size_t errlen) {
  hp x = {.a = a, .text = text, .p = text, .look = look, .env = env, .err = err, .errlen = errlen};
  cm_type *t;
  if (!func) {
    t = valtype(&x);
  } else {
    size_t len;
    const char *s = tname(&x, &len);
    if (x.failed) return NULL;
    if (!word(s, len, "func")) return perr(&x, "expected `func`%s", NULL, 0), NULL;
    uint32_t cap = 0;
    if (!(t = node(&x, CM_FUNC)) || !need(&x, '(')) return NULL;
    while (!eat(&x, ')')) {
      const char *name = label(&x, &len);
      cm_type *pt;
      if (x.failed || !need(&x, ':') || !(pt = valtype(&x)) || !push_field(&x, t, &cap, name, len, pt)) return NULL;
      if (!eat(&x, ',')) {
        if (!need(&x, ')')) return NULL;
        break;
      }
    }
    ws(&x);
    if (x.p[0] == '-' && x.p[1] == '>') {
      x.p += 2;
      if (!(t->elem = valtype(&x))) return NULL;
    }
  }
  if (t) {
    ws(&x);
    if (*x.p) return perr(&x, "unexpected `%s`", x.p, strlen(x.p)), NULL;
  }
  return t;
}

/* ------------------------------------------------------------ matching */

/* The host resource import resource `t` was bound to in rt, or NULL. */
static const wg_component_resource_type *bound_host(const cm_rt *rt, const cm_type *t) {
  t = cm_root(t);
  for (uint32_t i = rt->nviews; i-- > 0;)
    if (rt->views[i].type == t) return rt->views[i].res ? rt->views[i].res->host : NULL;
  return NULL;
}

static bool same_label(const cm_field *a, const cm_field *b) {
  return a->name_len == b->name_len && (!a->name_len || !memcmp(a->name, b->name, a->name_len));
}

static bool match(const cm_type *a, const cm_type *b, const cm_rt *rt, unsigned depth) {
  a = cm_root(a);
  b = cm_root(b);
  if (!a || !b) return a == b;
  if (a->kind != b->kind || depth > 200) return false;
  switch (a->kind) {
  case CM_BOOL: case CM_S8: case CM_U8: case CM_S16: case CM_U16: case CM_S32: case CM_U32: case CM_S64:
  case CM_U64: case CM_F32: case CM_F64: case CM_CHAR: case CM_STRING:
    return true;
  case CM_RECORD: case CM_VARIANT: case CM_ENUM: case CM_FLAGS: case CM_TUPLE:
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++)
      if ((a->kind != CM_TUPLE && !same_label(&a->fields[i], &b->fields[i])) ||
          !match(a->fields[i].type, b->fields[i].type, rt, depth + 1))
        return false;
    return true;
  case CM_FIXED_LIST:
    if (a->len != b->len) return false;
    /* fall through */
  case CM_LIST: case CM_OPTION:
    return match(a->elem, b->elem, rt, depth + 1);
  case CM_RESULT:
    return match(a->elem, b->elem, rt, depth + 1) && match(a->elem2, b->elem2, rt, depth + 1);
  case CM_OWN: case CM_BORROW: {
    const wg_component_resource_type *h = bound_host(rt, a->elem);
    return h && h == cm_root(b->elem)->host;
  }
  default:
    return false; /* stream, future, map, error-context: no host type has them */
  }
}

bool cm_host_match(const cm_type *imp, const cm_type *host, const cm_rt *rt, char *why, size_t whylen) {
  if (imp->kind != CM_FUNC || host->kind != CM_FUNC) return match(imp, host, rt, 0);
  if (imp->n != host->n) {
    snprintf(why, whylen, "expected %u parameters, found %u", host->n, imp->n);
    return false;
  }
  for (uint32_t i = 0; i < imp->n; i++)
    if (!match(imp->fields[i].type, host->fields[i].type, rt, 0)) {
      snprintf(why, whylen, "type mismatch in parameter %u (`%s`)", i + 1, imp->fields[i].name ? imp->fields[i].name : "");
      return false;
    }
  if (!match(imp->elem, host->elem, rt, 0)) {
    snprintf(why, whylen, "type mismatch in the result");
    return false;
  }
  return true;
}

void cm_host_print(const cm_type *t, char *buf, size_t n) {
  if (!n) return;
  buf[0] = 0;
  FILE *f = fmemopen(buf, n, "w");
  if (!f) return;
  setvbuf(f, NULL, _IONBF, 0);
  cm_print_type(f, t, 0, false);
  long end = ftell(f);
  fclose(f);
  buf[end >= 0 && (size_t)end < n ? (size_t)end : n - 1] = 0;
}
