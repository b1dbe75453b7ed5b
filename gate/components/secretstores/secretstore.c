/*
 * secretstore.c: secretstores.local.env and secretstores.local.file (see
 * secretstore.h; components-contrib secretstores/local/env/envstore.go and
 * secretstores/local/file/filestore.go are the reference semantics).
 */
#include "components/secretstores/secretstore.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/err.h"

extern char **environ;

struct wgg_secretstore {
  bool is_env;
  char *prefix;   /* env: the variables' prefix ("" when none) */
  bool multi;     /* file: multiValued */
  json_t *secrets; /* file: name -> string, or (multi) name -> object of strings */
};

bool wgg_secretstore_type_supported(const char *type) {
  return !strcmp(type, "secretstores.local.env") || !strcmp(type, "secretstores.local.file");
}

/* Go's strconv.ParseBool, as Dapr's metadata decoding takes booleans. */
static int parse_bool(const char *s, bool *out) {
  static const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"}, *no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < 6; i++) {
    if (!strcmp(s, yes[i])) return *out = true, 0;
    if (!strcmp(s, no[i])) return *out = false, 0;
  }
  return -1;
}

/* The text Go's fmt.Sprintf("%s", v) gives a JSON scalar decoded into an
 * interface{} (string, float64, bool, nil). A new string, NULL when out of memory. */
static char *go_sprint(json_t *v) {
  char buf[64];
  if (json_is_string(v)) return strdup(json_string_value(v));
  if (json_is_true(v) || json_is_false(v)) return strdup(json_is_true(v) ? "%!s(bool=true)" : "%!s(bool=false)");
  if (json_is_null(v)) return strdup("%!s(<nil>)");
  double d = json_number_value(v);
  /* Go's %v of a float64: the shortest text that reads back, exponent form below 1e-4 and from 1e21 */
  char num[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(num, sizeof num, "%.*g", prec, d);
    if (strtod(num, NULL) == d) break;
  }
  double a = fabs(d);
  bool go_exp = a != 0 && (a < 1e-4 || a >= 1e21); /* then both write e+21, e-05 */
  if (!go_exp && strchr(num, 'e')) { /* %g chose an exponent Go would not: write it out in full */
    char full[400];
    snprintf(full, sizeof full, "%.17f", d);
    char *end = full + strlen(full) - 1;
    while (end > full && *end == '0') *end-- = '\0';
    if (*end == '.') *end = '\0';
    snprintf(num, sizeof num, "%.39s", full);
  }
  snprintf(buf, sizeof buf, "%%!s(float64=%s)", num);
  return strdup(buf);
}

/* filestore's visitJSONObject: every scalar of v under path (joined by sep)
 * into out (name -> string). The first value of a name wins. Returns 0 or -1
 * when out of memory. */
static int flatten(json_t *v, wgg_buf *path, const char *sep, json_t *out, int depth) {
  if (depth > 1000) return 0; /* deeper than any real secrets file; Go would recurse on */
  size_t mark = path->len;
  if (json_is_object(v) || json_is_array(v)) {
    size_t n = json_is_object(v) ? json_object_size(v) : json_array_size(v);
    const char *k;
    json_t *child;
    void *it = json_is_object(v) ? json_object_iter(v) : NULL;
    for (size_t i = 0; i < n; i++) {
      char idx[32];
      if (json_is_object(v)) {
        k = json_object_iter_key(it);
        child = json_object_iter_value(it);
        it = json_object_iter_next(v, it);
      } else {
        snprintf(idx, sizeof idx, "%zu", i);
        k = idx;
        child = json_array_get(v, i);
      }
      if ((mark && wgg_buf_append(path, sep, strlen(sep))) || wgg_buf_append(path, k, strlen(k))) return -1;
      int rc = flatten(child, path, sep, out, depth + 1);
      path->len = mark;
      if (path->data) path->data[mark] = '\0';
      if (rc) return rc;
    }
    return 0;
  }
  const char *name = path->data ? path->data : "";
  if (json_object_get(out, name)) return 0;
  if (json_is_string(v)) return json_object_set(out, name, v) ? -1 : 0; /* kept whole: it may hold NUL bytes */
  char *s = go_sprint(v);
  int rc = s ? json_object_set_new(out, name, json_string(s)) : -1;
  free(s);
  return rc ? -1 : 0;
}

static int load_file(wgg_secretstore *s, const wgg_component *c, wgg_err *err) {
  const char *file = wgg_component_meta(c, "secretsFile");
  const char *sep = wgg_component_meta(c, "nestedSeparator");
  const char *multi = wgg_component_meta(c, "multiValued");
  if (!file || !*file) return wgg_err_set(err, "missing local secrets file in metadata");
  if (!sep || !*sep) sep = ":";
  if (multi && *multi && parse_bool(multi, &s->multi))
    return wgg_err_set(err, "multiValued: invalid boolean value '%s'", multi);
  json_error_t je;
  json_t *doc = json_load_file(file, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  if (!doc) return wgg_err_set(err, "%s:%d: %s", file, je.line, je.text);
  if (!json_is_object(doc)) {
    json_decref(doc);
    return wgg_err_set(err, "%s: the secrets file must hold a JSON object", file);
  }
  s->secrets = json_object();
  wgg_buf path = {0};
  int rc = s->secrets ? 0 : -1;
  if (!rc && s->multi) {
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
      if (json_is_string(v)) {
        rc = json_object_set(s->secrets, k, v);
      } else if (json_is_object(v)) {
        json_t *inner = json_object();
        path.len = 0;
        rc = inner ? flatten(v, &path, sep, inner, 0) : -1;
        if (!rc) rc = json_object_set_new(s->secrets, k, inner);
        else json_decref(inner);
      }
      if (rc) break;
    }
  } else if (!rc) {
    rc = flatten(doc, &path, sep, s->secrets, 0);
  }
  wgg_buf_free(&path);
  json_decref(doc);
  return rc ? wgg_err_set(err, "out of memory") : 0;
}

wgg_secretstore *wgg_secretstore_new(const wgg_component *c, wgg_err *err) {
  wgg_secretstore *s = calloc(1, sizeof *s);
  if (!s) return wgg_err_set(err, "out of memory"), NULL;
  s->is_env = !strcmp(c->type, "secretstores.local.env");
  if (s->is_env) {
    const char *p = wgg_component_meta(c, "prefix");
    if (!(s->prefix = strdup(p ? p : ""))) {
      wgg_err_set(err, "out of memory");
      goto fail;
    }
    return s;
  }
  if (!strcmp(c->type, "secretstores.local.file") && !load_file(s, c, err)) return s;
  if (strcmp(c->type, "secretstores.local.file")) wgg_err_set(err, "secret store type %s is not supported", c->type);
fail:
  wgg_secretstore_free(s);
  return NULL;
}

/* envstore's isKeyAllowed: DAPR_* and APP_API_TOKEN are the sidecar's own. */
static bool env_allowed(const char *key, size_t n) {
  if (n == 13 && !strncasecmp(key, "APP_API_TOKEN", 13)) return false;
  return !(n >= 5 && !strncasecmp(key, "DAPR_", 5));
}

/* A secret's data: the string value as {name: value}, an object as a copy. */
static json_t *secret_data(const char *name, json_t *v) {
  return json_is_string(v) ? json_pack("{s:O}", name, v) : json_deep_copy(v);
}

int wgg_secretstore_get(const wgg_secretstore *s, const char *name, json_t *metadata, json_t **out, wgg_err *err) {
  (void)metadata;
  *out = NULL;
  if (s->is_env) {
    wgg_buf key = {0};
    if (wgg_buf_printf(&key, "%s%s", s->prefix, name)) return wgg_err_set(err, "out of memory");
    const char *v = env_allowed(key.data, key.len) ? getenv(key.data) : NULL;
    wgg_buf_free(&key);
    *out = json_pack("{s:s}", name, v ? v : "");
  } else {
    json_t *v = json_object_get(s->secrets, name);
    if (!v) return wgg_err_set(err, "secret %s not found", name);
    *out = secret_data(name, v);
  }
  return *out ? 0 : wgg_err_set(err, "out of memory");
}

int wgg_secretstore_bulk(const wgg_secretstore *s, json_t *metadata, json_t **out, wgg_err *err) {
  (void)metadata;
  json_t *all = json_object();
  if (!all) return wgg_err_set(err, "out of memory");
  if (s->is_env) {
    size_t pl = strlen(s->prefix);
    for (char **e = environ; e && *e; e++) {
      const char *eq = strchr(*e, '=');
      size_t kl = eq ? (size_t)(eq - *e) : strlen(*e);
      if (pl && (kl <= pl || strncmp(*e, s->prefix, pl))) continue;
      if (!env_allowed(*e, kl)) continue;
      char *name = strndup(*e + pl, kl - pl);
      json_t *one = name ? json_pack("{s:s}", name, eq ? eq + 1 : "") : NULL;
      if (!one || json_object_set_new(all, name, one)) {
        free(name);
        json_decref(all);
        return wgg_err_set(err, "out of memory");
      }
      free(name);
    }
  } else {
    const char *k;
    json_t *v;
    json_object_foreach(s->secrets, k, v) {
      json_t *one = secret_data(k, v);
      if (!one || json_object_set_new(all, k, one)) {
        json_decref(all);
        return wgg_err_set(err, "out of memory");
      }
    }
  }
  *out = all;
  return 0;
}

json_t *wgg_secretstore_capabilities(const wgg_secretstore *s) {
  json_t *caps = json_array();
  if (caps && !s->is_env && s->multi) json_array_append_new(caps, json_string("MULTIPLE_KEY_VALUES_PER_SECRET"));
  return caps;
}

void wgg_secretstore_free(wgg_secretstore *s) {
  if (!s) return;
  free(s->prefix);
  json_decref(s->secrets);
  free(s);
}
