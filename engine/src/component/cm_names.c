/*
 * cm_names.c: well-formedness of import and export names (component-model
 * Explainer.md "Import and Export Definitions": externname, plainname,
 * label, interfacename with an optional semver version).
 */
#include <string.h>

#include "cm.h"

static bool lower(char c) { return c >= 'a' && c <= 'z'; }
static bool upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool digit(char c) { return c >= '0' && c <= '9'; }

/* label ::= first-fragment ('-' fragment)*; a fragment is all lower-case
 * (a word) or all upper-case (an acronym), digits allowed after the first
 * character of the first fragment. */
static bool is_label(const char *s, size_t n) {
  if (n == 0) return false;
  size_t i = 0;
  bool first = true;
  while (i <= n) {
    size_t j = i;
    while (j < n && s[j] != '-') j++;
    if (j == i) return false; /* empty fragment */
    if (first && !lower(s[i]) && !upper(s[i])) return false;
    bool up = false, low = false;
    for (size_t k = i; k < j; k++) {
      if (upper(s[k])) up = true;
      else if (lower(s[k])) low = true;
      else if (!digit(s[k])) return false;
    }
    if (up && low) return false;
    first = false;
    i = j + 1;
  }
  return true;
}

/* words ::= first-word ('-' word)*: lower-case only. */
static bool is_words(const char *s, size_t n) {
  if (n == 0 || !lower(s[0])) return false;
  for (size_t k = 0; k < n; k++)
    if (!lower(s[k]) && !digit(s[k]) && s[k] != '-') return false;
  if (s[n - 1] == '-') return false;
  for (size_t k = 1; k < n; k++)
    if (s[k] == '-' && s[k - 1] == '-') return false;
  return true;
}

/* A numeric identifier of semver: digits, no leading zero. */
static bool semver_num(const char *s, size_t n) {
  if (n == 0) return false;
  for (size_t k = 0; k < n; k++)
    if (!digit(s[k])) return false;
  return n == 1 || s[0] != '0';
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when `numeric_rule` (pre-release). */
static bool semver_idents(const char *s, size_t n, bool numeric_rule) {
  size_t i = 0;
  while (i <= n) {
    size_t j = i;
    while (j < n && s[j] != '.') j++;
    if (j == i) return false;
    bool all_digits = true;
    for (size_t k = i; k < j; k++) {
      if (!digit(s[k]) && !lower(s[k]) && !upper(s[k]) && s[k] != '-') return false;
      if (!digit(s[k])) all_digits = false;
    }
    if (numeric_rule && all_digits && j - i > 1 && s[i] == '0') return false;
    i = j + 1;
  }
  return true;
}

/* A valid semver (semver.org 2.0.0): MAJOR.MINOR.PATCH[-pre][+build]. */
static bool is_semver(const char *s, size_t n) {
  size_t i = 0;
  for (int part = 0; part < 3; part++) {
    size_t j = i;
    while (j < n && digit(s[j])) j++;
    if (!semver_num(s + i, j - i)) return false;
    i = j;
    if (part < 2) {
      if (i >= n || s[i] != '.') return false;
      i++;
    }
  }
  if (i < n && s[i] == '-') {
    size_t j = i + 1;
    while (j < n && s[j] != '+') j++;
    if (!semver_idents(s + i + 1, j - i - 1, true)) return false;
    i = j;
  }
  if (i < n && s[i] == '+') {
    if (!semver_idents(s + i + 1, n - i - 1, false)) return false;
    i = n;
  }
  return i == n;
}

/* interfacename ::= namespace ':' package '/' label ('@' semver)?. Nested
 * namespaces and projections (🪺) are gated future syntax and rejected, as
 * the reference validator does. */
static const char *interface_error(const char *s, size_t n) {
  const char *at = memchr(s, '@', n);
  size_t body = at ? (size_t)(at - s) : n;
  if (at && !is_semver(at + 1, n - body - 1)) return "is not a valid semver";
  const char *colon = memchr(s, ':', body);
  if (!colon || !is_words(s, (size_t)(colon - s))) return "is not a valid extern name";
  const char *pkg = colon + 1;
  const char *slash = memchr(pkg, '/', body - (size_t)(pkg - s));
  const char *colon2 = memchr(pkg, ':', body - (size_t)(pkg - s));
  if (colon2 && (!slash || colon2 < slash)) return "expected `/` after package name";
  if (!slash || !is_words(pkg, (size_t)(slash - pkg))) return "is not a valid extern name";
  const char *iface = slash + 1;
  size_t il = body - (size_t)(iface - s);
  const char *slash2 = memchr(iface, '/', il);
  if (slash2) return "trailing characters found";
  if (!is_label(iface, il)) return "is not a valid extern name";
  return NULL;
}

static bool is_interface_name(const char *s, size_t n) { return interface_error(s, n) == NULL; }

bool cm_check_label(cm_ctx *x, const char *name, uint32_t len, size_t off, const char *what) {
  (void)what;
  if (!is_label(name, len)) return cm_invalid(x, off, "`%s` is not in kebab case", name);
  return true;
}

bool cm_check_extern_name(cm_ctx *x, const char *name, uint32_t len, size_t off, bool import) {
  if (memchr(name, ':', len) || memchr(name, '/', len) || memchr(name, '@', len)) {
    if (import && (!strncmp(name, "url=", 4) || !strncmp(name, "relative-url=", 13) ||
                   !strncmp(name, "integrity=", 10) || !strncmp(name, "locked-dep=", 11) ||
                   !strncmp(name, "unlocked-dep=", 13)))
      return true; /* legacy dependency names (wasm-tools still accepts them on imports) */
    const char *why = interface_error(name, len);
    if (why) return cm_invalid(x, off, "`%s` %s", name, why);
    return true;
  }
  static const struct {
    const char *prefix;
    bool dotted;
  } ann[] = {{"[constructor]", false}, {"[method]", true}, {"[static]", true}};
  for (size_t a = 0; a < 3; a++) {
    size_t pl = strlen(ann[a].prefix);
    if (len < pl || strncmp(name, ann[a].prefix, pl)) continue;
    const char *rest = name + pl;
    size_t rl = len - pl;
    if (ann[a].dotted) {
      const char *dot = memchr(rest, '.', rl);
      if (!dot) return cm_invalid(x, off, "failed to find `.` character in `%s`", name);
      if (!is_label(rest, (size_t)(dot - rest)) || !is_label(dot + 1, rl - (size_t)(dot - rest) - 1))
        return cm_invalid(x, off, "`%s` is not in kebab case", name);
      return true;
    }
    if (!is_label(rest, rl)) return cm_invalid(x, off, "`%s` is not in kebab case", name);
    return true;
  }
  if (len && name[0] == '[') return cm_invalid(x, off, "`%s` is not a valid extern name", name);
  if (!is_label(name, len)) return cm_invalid(x, off, "`%s` is not in kebab case", name);
  return true;
}

/* The name of resource `r` among the type entries of `v`, or NULL. */
static const char *resource_name(const cm_extern *v, uint32_t n, const cm_type *r) {
  for (uint32_t i = 0; i < n; i++)
    if (v[i].sort == CS_TYPE && v[i].type == r) return v[i].name;
  return NULL;
}

/* The resource an own/borrow refers to, as named in `v` (imports or exports
 * of the same scope): checks it is the resource `want` names. */
static bool check_resource(cm_ctx *x, size_t off, const cm_extern *v, uint32_t n, const cm_type *res, const char *want,
                           size_t want_len) {
  const char *have = resource_name(v, n, res);
  if (!have) return cm_invalid(x, off, "resource used in function does not have a name in this context");
  if (strlen(have) != want_len || strncmp(have, want, want_len))
    return cm_invalid(x, off, "function does not match expected resource name `%s`", have);
  return true;
}

/* 🏷️ `implements` (Binary.md notes): an interface name, on an instance with
 * a plain name. */
static bool check_implements(cm_ctx *x, const cm_extern *e, size_t off) {
  const char *in = e->implements;
  if (!in[0]) return cm_invalid(x, off, "`` is not a valid name");
  if (!is_interface_name(in, strlen(in))) return cm_invalid(x, off, "`implements` value `%s` must be an interface name", in);
  if (e->sort != CS_INSTANCE) return cm_invalid(x, off, "only instances can have an `implements` attribute");
  if (!is_label(e->name, e->name_len)) return cm_invalid(x, off, "name `%s` is not valid with `implements`", e->name);
  return true;
}

bool cm_check_annotated(cm_ctx *x, const cm_extern *e, const cm_extern *v, uint32_t n, size_t off) {
  const char *name = e->name;
  if (e->implements && !check_implements(x, e, off)) return false;
  int kind = !strncmp(name, "[constructor]", 13) ? 1 : !strncmp(name, "[method]", 8) ? 2 : !strncmp(name, "[static]", 8) ? 3 : 0;
  if (!kind) return true;
  if (e->sort != CS_FUNC || e->type->kind != CM_FUNC) return cm_invalid(x, off, "`%s` is not a func", name);
  const char *r = strchr(name, ']') + 1;
  const char *dot = strchr(r, '.');
  size_t rl = kind == 1 || !dot ? strlen(r) : (size_t)(dot - r);
  const cm_type *ft = e->type;
  if (kind == 1) {
    const cm_type *t = ft->elem;
    if (!t) return cm_invalid(x, off, "function should return one value");
    if (t->kind == CM_RESULT && t->elem && t->elem->kind == CM_OWN) t = t->elem;
    if (t->kind != CM_OWN) return cm_invalid(x, off, "function should return `(own $T)` or `(result (own $T))`");
    return check_resource(x, off, v, n, t->elem, r, rl);
  }
  if (kind == 2) {
    if (ft->n == 0) return cm_invalid(x, off, "function should have at least one argument");
    if (strcmp(ft->fields[0].name, "self")) return cm_invalid(x, off, "function should have a first argument called `self`");
    const cm_type *t = ft->fields[0].type;
    if (t->kind != CM_BORROW) return cm_invalid(x, off, "function should take a first argument of `(borrow $T)`");
    return check_resource(x, off, v, n, t->elem, r, rl);
  }
  for (uint32_t i = 0; i < n; i++)
    if (v[i].sort == CS_TYPE && v[i].type->kind == CM_RESOURCE && strlen(v[i].name) == rl && !strncmp(v[i].name, r, rl))
      return true;
  return cm_invalid(x, off, "static resource name is not known in this context");
}
