/*
 * acl.c: spec.accessControl evaluation (see acl.h).
 */
#include "api/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

typedef struct acl_op {
  const char *name;  /* borrowed from the JSON */
  json_t *verbs;     /* array of strings, or NULL = any */
  bool allow;
} acl_op;

typedef struct acl_policy {
  const char *app, *ns, *td;
  bool allow;
  acl_op *ops;
  size_t n_ops;
} acl_policy;

struct wgg_acl {
  json_t *spec; /* owned reference: the strings above live in it */
  bool allow;   /* global default */
  const char *td;
  acl_policy *pols;
  size_t n;
};

static int action(json_t *v, bool def, bool *out, const char *where, wgg_err *err) {
  *out = def;
  if (!v || json_is_null(v)) return 0;
  const char *s = json_string_value(v);
  if (s && !strcasecmp(s, "allow")) return *out = true, 0;
  if (s && !strcasecmp(s, "deny")) return *out = false, 0;
  return wgg_err_set(err, "accessControl: %s must be allow or deny", where);
}

void wgg_acl_free(wgg_acl *acl) {
  if (!acl) return;
  for (size_t i = 0; i < acl->n; i++) free(acl->pols[i].ops);
  free(acl->pols);
  json_decref(acl->spec);
  free(acl);
}

int wgg_acl_new(json_t *ac, wgg_acl **out, wgg_err *err) {
  *out = NULL;
  if (!ac || json_is_null(ac)) return 0;
  if (!json_is_object(ac)) return wgg_err_set(err, "accessControl must be a mapping");
  json_t *pols = json_object_get(ac, "policies"), *def = json_object_get(ac, "defaultAction");
  if (pols && !json_is_null(pols) && !json_is_array(pols)) return wgg_err_set(err, "accessControl.policies must be a list");
  if ((!def || json_is_null(def)) && !json_array_size(pols)) return 0; /* rule 2: as if absent */
  wgg_acl *a = calloc(1, sizeof *a);
  if (!a || !(a->pols = calloc(json_array_size(pols) + 1, sizeof *a->pols))) {
    free(a);
    return wgg_err_set(err, "out of memory");
  }
  a->spec = json_incref(ac);
  const char *td = json_string_value(json_object_get(ac, "trustDomain"));
  a->td = td && *td ? td : "public";
  if (action(def, false, &a->allow, "defaultAction", err)) goto fail; /* rule 3: deny when only policies */
  size_t i;
  json_t *p;
  json_array_foreach(pols, i, p) {
    acl_policy *pol = &a->pols[a->n];
    const char *app = json_string_value(json_object_get(p, "appId"));
    if (!app || !*app) {
      wgg_err_set(err, "accessControl.policies[%zu]: appId is required", i);
      goto fail;
    }
    pol->app = app;
    pol->ns = json_string_value(json_object_get(p, "namespace"));
    const char *ptd = json_string_value(json_object_get(p, "trustDomain"));
    pol->td = ptd && *ptd ? ptd : "public";
    char where[96];
    snprintf(where, sizeof where, "policies[%zu].defaultAction", i);
    if (action(json_object_get(p, "defaultAction"), a->allow, &pol->allow, where, err)) goto fail;
    json_t *ops = json_object_get(p, "operations");
    if (ops && !json_is_null(ops) && !json_is_array(ops)) {
      wgg_err_set(err, "accessControl.policies[%zu].operations must be a list", i);
      goto fail;
    }
    pol->ops = calloc(json_array_size(ops) + 1, sizeof *pol->ops);
    if (!pol->ops) {
      wgg_err_set(err, "out of memory");
      goto fail;
    }
    a->n++;
    size_t k;
    json_t *o;
    json_array_foreach(ops, k, o) {
      acl_op *op = &pol->ops[pol->n_ops];
      op->name = json_string_value(json_object_get(o, "name"));
      json_t *verbs = json_object_get(o, "httpVerb");
      if (!op->name || !*op->name || (verbs && !json_is_null(verbs) && !json_is_array(verbs))) {
        wgg_err_set(err, "accessControl.policies[%zu].operations[%zu]: want {name, httpVerb: [..], action}", i, k);
        goto fail;
      }
      op->verbs = json_is_array(verbs) ? verbs : NULL;
      snprintf(where, sizeof where, "policies[%zu].operations[%zu].action", i, k);
      if (action(json_object_get(o, "action"), true, &op->allow, where, err)) goto fail;
      pol->n_ops++;
    }
  }
  *out = a;
  return 0;
fail:
  wgg_acl_free(a);
  return -1;
}

const char *wgg_acl_trust_domain(const wgg_acl *acl) {
  return acl ? acl->td : "public";
}

/* Matches path against pattern: segments equal, `*` one segment, `**` the rest. */
static bool path_match(const char *pat, const char *path) {
  while (*pat == '/') pat++;
  while (*path == '/') path++;
  for (;;) {
    size_t pl = strcspn(pat, "/"), sl = strcspn(path, "/");
    if (pl == 2 && !strncmp(pat, "**", 2)) return true;
    if (!pl && !sl) return true;
    if (!pl || !sl) return false;
    if (!(pl == 1 && *pat == '*') && (pl != sl || strncmp(pat, path, pl))) return false;
    pat += pl;
    path += sl;
    while (*pat == '/') pat++;
    while (*path == '/') path++;
  }
}

static bool verb_match(json_t *verbs, const char *verb) {
  if (!verbs) return true;
  size_t i;
  json_t *v;
  json_array_foreach(verbs, i, v) {
    const char *s = json_string_value(v);
    if (s && (!strcmp(s, "*") || !strcasecmp(s, verb))) return true;
  }
  return false;
}

bool wgg_acl_allowed(const wgg_acl *acl, const char *caller, const char *ns, const char *td, const char *method,
                     const char *verb, char *why, size_t why_len) {
  if (!acl) return true;
  ns = ns && *ns ? ns : "default";
  td = td && *td ? td : "public";
  char op[512];
  const char *m = method[0] == '/' ? method + 1 : method;
  size_t ml = strcspn(m, "?");
  snprintf(op, sizeof op, "/%.*s", (int)(ml < sizeof op - 2 ? ml : sizeof op - 2), m);
  bool allow = acl->allow;
  const acl_policy *pol = NULL;
  for (size_t i = 0; caller && i < acl->n && !pol; i++) {
    const acl_policy *p = &acl->pols[i];
    if (!strcmp(p->app, caller) && !strcmp(p->td, td) && (!p->ns || !*p->ns || !strcmp(p->ns, ns))) pol = p;
  }
  if (pol) {
    allow = pol->allow;
    for (size_t k = 0; k < pol->n_ops; k++)
      if (path_match(pol->ops[k].name, op) && verb_match(pol->ops[k].verbs, verb)) {
        allow = pol->ops[k].allow;
        break;
      }
  }
  if (!allow)
    snprintf(why, why_len, "access control policy has denied access to id: spiffe://%s/ns/%s/%s operation: %s verb: %s",
             td, ns, caller ? caller : "(unverified)", op + 1, verb);
  return allow;
}
