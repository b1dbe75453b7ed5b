/*
 * query.c: the parser of daprd's state query language (query.h; the
 * contract is components-contrib state/query/query.go and filter.go, read as
 * documentation: same operators, same shape rules, same error texts).
 */
#include "components/state/query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

enum { MAX_DEPTH = 32 };

static const char *const op_names[] = {"EQ", "NEQ", "GT", "GTE", "LT", "LTE", "IN", "AND", "OR"};

/* Go's encoding/json matches struct fields case-insensitively; the last match wins. */
static json_t *field(json_t *obj, const char *name) {
  json_t *found = NULL, *v;
  const char *k;
  json_object_foreach(obj, k, v) if (!strcasecmp(k, name)) found = v;
  return found;
}

static const char *go_type(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER:
  case JSON_REAL: return "number";
  case JSON_TRUE:
  case JSON_FALSE: return "bool";
  default: return "null";
  }
}

static void filter_free(wgg_qfilter *f) {
  free(f->key);
  json_decref(f->val);
  for (size_t i = 0; i < f->n_kids; i++) filter_free(&f->kids[i]);
  free(f->kids);
  memset(f, 0, sizeof *f);
}

static int parse_filter(json_t *obj, wgg_qfilter *f, int depth, wgg_err *err);

static int parse_list(const char *name, json_t *v, wgg_qfilter *f, int depth, wgg_err *err) {
  if (!json_is_array(v)) return wgg_err_set(err, "%s filter must be an array", name);
  size_t n = json_array_size(v);
  if (n < 2) return wgg_err_set(err, "%s filter must contain at least two entries", name);
  if (!(f->kids = calloc(n, sizeof *f->kids))) return wgg_err_set(err, "out of memory");
  f->n_kids = n;
  for (size_t i = 0; i < n; i++)
    if (parse_filter(json_array_get(v, i), &f->kids[i], depth + 1, err)) return -1;
  return 0;
}

static int parse_filter(json_t *obj, wgg_qfilter *f, int depth, wgg_err *err) {
  if (depth > MAX_DEPTH) return wgg_err_set(err, "filter nested deeper than %d levels", MAX_DEPTH);
  if (!json_is_object(obj)) return wgg_err_set(err, "filter unit must be a map");
  if (json_object_size(obj) != 1) return wgg_err_set(err, "filter unit must have a single element");
  const char *name = json_object_iter_key(json_object_iter(obj));
  json_t *v = json_object_iter_value(json_object_iter(obj));
  size_t op = 0;
  while (op < sizeof op_names / sizeof *op_names && strcmp(op_names[op], name)) op++;
  if (op == sizeof op_names / sizeof *op_names) return wgg_err_set(err, "unsupported filter \"%s\"", name);
  f->op = (wgg_qop)op;
  if (f->op == WGG_Q_AND || f->op == WGG_Q_OR) return parse_list(name, v, f, depth, err);
  if (!json_is_object(v)) return wgg_err_set(err, "%s filter must be a map", name);
  if (json_object_size(v) != 1) return wgg_err_set(err, "%s filter must contain a single key/value pair", name);
  const char *key = json_object_iter_key(json_object_iter(v));
  json_t *val = json_object_iter_value(json_object_iter(v));
  if (f->op == WGG_Q_IN) {
    if (!json_is_array(val)) return wgg_err_set(err, "IN filter value must be an array");
    if (!json_array_size(val)) return wgg_err_set(err, "empty IN operator for key \"%s\"", key);
  }
  if (!(f->key = strdup(key))) return wgg_err_set(err, "out of memory");
  f->val = json_incref(val);
  return 0;
}

static int parse_sort(json_t *v, wgg_query *q, wgg_err *err) {
  if (!v || json_is_null(v)) return 0;
  if (!json_is_array(v))
    return wgg_err_set(err, "json: cannot unmarshal %s into Go struct field QueryFields.sort of type []query.Sorting",
                       go_type(v));
  size_t n = json_array_size(v);
  if (!n) return 0;
  if (!(q->sort = calloc(n, sizeof *q->sort))) return wgg_err_set(err, "out of memory");
  q->n_sort = n;
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(v, i);
    if (!json_is_object(s))
      return wgg_err_set(err, "json: cannot unmarshal %s into Go struct field QueryFields.sort of type query.Sorting",
                         go_type(s));
    json_t *k = field(s, "key"), *o = field(s, "order");
    if ((k && !json_is_string(k) && !json_is_null(k)) || (o && !json_is_string(o) && !json_is_null(o)))
      return wgg_err_set(err, "json: cannot unmarshal %s into Go struct field Sorting.sort.%s of type string",
                         go_type(k && !json_is_string(k) && !json_is_null(k) ? k : o),
                         k && !json_is_string(k) && !json_is_null(k) ? "key" : "order");
    const char *ks = json_is_string(k) ? json_string_value(k) : "";
    const char *os = json_is_string(o) ? json_string_value(o) : "";
    if (!*ks) return wgg_err_set(err, "sort key must not be empty");
    if (*os && strcasecmp(os, "ASC") && strcasecmp(os, "DESC"))
      return wgg_err_set(err, "invalid sort order \"%s\" (ASC or DESC)", os);
    if (!(q->sort[i].key = strdup(ks))) return wgg_err_set(err, "out of memory");
    q->sort[i].desc = *os && !strcasecmp(os, "DESC");
  }
  return 0;
}

static int parse_page(json_t *v, wgg_query *q, wgg_err *err) {
  if (!v || json_is_null(v)) return 0;
  if (!json_is_object(v))
    return wgg_err_set(err, "json: cannot unmarshal %s into Go struct field QueryFields.page of type query.Pagination",
                       go_type(v));
  json_t *l = field(v, "limit"), *t = field(v, "token");
  if (l && !json_is_null(l)) {
    if (!json_is_integer(l))
      return wgg_err_set(err, "json: cannot unmarshal %s into Go struct field Pagination.page.limit of type int",
                         json_is_real(l) ? "number" : go_type(l));
    q->limit = json_integer_value(l);
    if (q->limit < 0) q->limit = 0; /* contrib: only a limit > 0 limits */
  }
  if (t && !json_is_null(t)) {
    if (!json_is_string(t))
      return wgg_err_set(err, "json: cannot unmarshal %s into Go struct field Pagination.page.token of type string",
                         go_type(t));
    const char *s = json_string_value(t);
    if (*s) {
      char *end;
      errno = 0;
      long long n = strtoll(s, &end, 10);
      if (*end || errno || end == s) return wgg_err_set(err, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
      if (n < 0) return wgg_err_set(err, "invalid page token \"%s\"", s);
      q->offset = n;
    }
  }
  return 0;
}

int wgg_query_parse(const char *body, size_t len, wgg_query *q, wgg_err *err) {
  memset(q, 0, sizeof *q);
  json_error_t je;
  json_t *root = json_loadb(body ? body : "", len, JSON_DECODE_ANY, &je);
  if (!root) return wgg_err_set(err, "%s", je.text);
  int rc = -1;
  if (!json_is_object(root)) {
    wgg_err_set(err, "json: cannot unmarshal %s into Go value of type query.Query", go_type(root));
    goto out;
  }
  json_t *f = field(root, "filter");
  if (f && !json_is_null(f) && !json_is_object(f)) {
    wgg_err_set(err, "json: cannot unmarshal %s into Go struct field QueryFields.filter of type map[string]interface {}",
                go_type(f));
    goto out;
  }
  if (parse_sort(field(root, "sort"), q, err) || parse_page(field(root, "page"), q, err)) goto out;
  if (f && json_object_size(f)) {
    if (!(q->filter = calloc(1, sizeof *q->filter))) {
      wgg_err_set(err, "out of memory");
      goto out;
    }
    if (parse_filter(f, q->filter, 0, err)) goto out;
  }
  rc = 0;
out:
  json_decref(root);
  if (rc) wgg_query_free(q);
  return rc;
}

void wgg_query_free(wgg_query *q) {
  if (q->filter) filter_free(q->filter);
  free(q->filter);
  for (size_t i = 0; i < q->n_sort; i++) free(q->sort[i].key);
  free(q->sort);
  memset(q, 0, sizeof *q);
}

size_t wgg_query_path(const char *key, char ***parts) {
  *parts = NULL;
  if (!key || !*key) return 0;
  size_t n = 1;
  for (const char *p = key; *p; p++) n += *p == '.';
  char **v = calloc(n, sizeof *v);
  if (!v) return 0;
  const char *s = key;
  for (size_t i = 0; i < n; i++) {
    const char *dot = strchr(s, '.');
    size_t l = dot ? (size_t)(dot - s) : strlen(s);
    if (!(v[i] = strndup(s, l))) {
      wgg_query_parts_free(v, i);
      return 0;
    }
    s += l + 1;
  }
  *parts = v;
  return n;
}

void wgg_query_parts_free(char **parts, size_t n) {
  for (size_t i = 0; i < n; i++) free(parts[i]);
  free(parts);
}

int wgg_qresult_add(wgg_qresult *r, const char *key, const char *data, size_t data_len, const char *etag) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    wgg_qitem *a = realloc(r->items, cap * sizeof *a);
    if (!a) return -1;
    r->items = a;
    r->cap = cap;
  }
  wgg_qitem *it = &r->items[r->n];
  it->key = strdup(key);
  it->data = malloc(data_len + 1);
  it->etag = strdup(etag ? etag : "");
  if (!it->key || !it->data || !it->etag) {
    free(it->key);
    free(it->data);
    free(it->etag);
    return -1;
  }
  memcpy(it->data, data, data_len);
  it->data[data_len] = 0;
  it->data_len = data_len;
  r->n++;
  return 0;
}

void wgg_qresult_free(wgg_qresult *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->items[i].key);
    free(r->items[i].data);
    free(r->items[i].etag);
  }
  free(r->items);
  memset(r, 0, sizeof *r);
}
