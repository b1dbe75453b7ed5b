/*
 * postgres_query.c: the SQL of state.postgresql's query API
 * (postgres_query.h), following components-contrib's PostgreSQL v1 query.
 */
#include "components/state/postgres_query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

typedef struct pq {
  wgg_buf *sql;
  char **params;
  int n, cap;
  wgg_err *err;
  int failed;
} pq;

/* Go's fmt %v of a float64 (strconv.FormatFloat(f, 'g', -1, 64)): the
 * shortest digits that read back as f, in %e form when the decimal exponent
 * is < -4 or >= 6 (the shortest form decides with precision 6), else fixed. */
static void go_float(double f, char *out, size_t cap) {
  if (isnan(f) || isinf(f)) {
    snprintf(out, cap, "%s", isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf");
    return;
  }
  if (f == 0) {
    snprintf(out, cap, "%s", signbit(f) ? "-0" : "0");
    return;
  }
  int digits = 1;
  char e[64];
  for (; digits <= 17; digits++) {
    snprintf(e, sizeof e, "%.*e", digits - 1, f);
    if (strtod(e, NULL) == f) break;
  }
  int exp = atoi(strchr(e, 'e') + 1);
  if (exp < -4 || exp >= 6) {
    snprintf(out, cap, "%s", e);
    return;
  }
  int decimals = digits - (exp + 1);
  snprintf(out, cap, "%.*f", decimals > 0 ? decimals : 0, f);
}

char *wgg_go_sprint(json_t *v) {
  char buf[64];
  switch (json_typeof(v)) {
  case JSON_STRING: return strdup(json_string_value(v));
  case JSON_INTEGER: go_float((double)json_integer_value(v), buf, sizeof buf); return strdup(buf);
  case JSON_REAL: go_float(json_real_value(v), buf, sizeof buf); return strdup(buf);
  case JSON_TRUE: return strdup("true");
  case JSON_FALSE: return strdup("false");
  case JSON_NULL: return strdup("<nil>");
  case JSON_ARRAY: {
    wgg_buf b = {0};
    int bad = wgg_buf_append(&b, "[", 1);
    for (size_t i = 0; i < json_array_size(v) && !bad; i++) {
      char *s = wgg_go_sprint(json_array_get(v, i));
      bad = !s || (i && wgg_buf_append(&b, " ", 1)) || wgg_buf_append(&b, s, strlen(s));
      free(s);
    }
    if (bad || wgg_buf_append(&b, "]", 2)) {
      wgg_buf_free(&b);
      return NULL;
    }
    return b.data;
  }
  default: { /* map[k:v ...], keys sorted as Go prints maps */
    wgg_buf b = {0};
    int bad = wgg_buf_append(&b, "map[", 4);
    const char **keys = calloc(json_object_size(v) + 1, sizeof *keys);
    size_t n = 0;
    const char *k;
    json_t *x;
    if (!keys) bad = 1;
    else json_object_foreach(v, k, x) keys[n++] = k;
    for (size_t i = 1; !bad && i < n; i++)
      for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
        const char *t = keys[j];
        keys[j] = keys[j - 1];
        keys[j - 1] = t;
      }
    for (size_t i = 0; i < n && !bad; i++) {
      char *s = wgg_go_sprint(json_object_get(v, keys[i]));
      bad = !s || (i && wgg_buf_append(&b, " ", 1)) || wgg_buf_printf(&b, "%s:%s", keys[i], s);
      free(s);
    }
    free(keys);
    if (bad || wgg_buf_append(&b, "]", 2)) {
      wgg_buf_free(&b);
      return NULL;
    }
    return b.data;
  }
  }
}

static int push(pq *p, char *s) {
  if (!s) return p->failed = 1, wgg_err_set(p->err, "out of memory"), 0;
  if (p->n == p->cap) {
    int cap = p->cap ? p->cap * 2 : 16;
    char **a = realloc(p->params, (size_t)cap * sizeof *a);
    if (!a) {
      free(s);
      return p->failed = 1, wgg_err_set(p->err, "out of memory"), 0;
    }
    p->params = a;
    p->cap = cap;
  }
  p->params[p->n++] = s;
  return p->n;
}

static void emit(pq *p, const char *s) {
  if (!p->failed && wgg_buf_append(p->sql, s, strlen(s))) p->failed = 1, wgg_err_set(p->err, "out of memory");
}

static void emitf(pq *p, const char *fmt, int a) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, fmt, a);
  emit(p, tmp);
}

/* jsonb_extract_path_text(value, $a, $b, ...) for key "a.b". */
static void path(pq *p, const char *key) {
  char **parts;
  size_t n = wgg_query_path(key, &parts);
  if (!n) {
    p->failed = 1;
    wgg_err_set(p->err, "invalid query key \"%s\"", key ? key : "");
    return;
  }
  emit(p, "jsonb_extract_path_text(value");
  for (size_t i = 0; i < n; i++) {
    int k = push(p, parts[i]);
    parts[i] = NULL;
    if (k) emitf(p, ", $%d::text", k);
  }
  emit(p, ")");
  wgg_query_parts_free(parts, n);
}

static void compare(pq *p, const char *key, const char *op, json_t *v) {
  path(p, key);
  int k = push(p, wgg_go_sprint(v));
  emit(p, op);
  if (k) emitf(p, "$%d::text", k);
}

static void filter(pq *p, const wgg_qfilter *f) {
  static const char *const ops[] = {"=", "!=", ">", ">=", "<", "<="};
  if (p->failed) return;
  switch (f->op) {
  case WGG_Q_GT:
  case WGG_Q_GTE:
  case WGG_Q_LT:
  case WGG_Q_LTE:
    if (json_is_string(f->val)) {
      p->failed = 1;
      wgg_err_set(p->err, "unsupported type of value %s; string type not permitted", json_string_value(f->val));
      return;
    }
    /* fall through */
  case WGG_Q_EQ:
  case WGG_Q_NEQ: compare(p, f->key, ops[f->op], f->val); return;
  case WGG_Q_IN:
    emit(p, "(");
    for (size_t i = 0; i < json_array_size(f->val); i++) {
      if (i) emit(p, " OR ");
      compare(p, f->key, "=", json_array_get(f->val, i));
    }
    emit(p, ")");
    return;
  case WGG_Q_AND:
  case WGG_Q_OR:
    emit(p, "(");
    for (size_t i = 0; i < f->n_kids; i++) {
      if (i) emit(p, f->op == WGG_Q_AND ? " AND " : " OR ");
      filter(p, &f->kids[i]);
    }
    emit(p, ")");
    return;
  }
}

int wgg_pg_query_sql(const char *table, const wgg_query *q, wgg_buf *sql, char ***params, int *n, wgg_err *err) {
  pq p = {.sql = sql, .err = err};
  *params = NULL;
  *n = 0;
  emit(&p, "SELECT key, value::text, xmin::text FROM ");
  emit(&p, table);
  emit(&p, " WHERE (expiredate IS NULL OR expiredate > now())");
  if (q->filter) {
    emit(&p, " AND ");
    filter(&p, q->filter);
  }
  emit(&p, " ORDER BY ");
  for (size_t i = 0; i < q->n_sort; i++) {
    path(&p, q->sort[i].key);
    emit(&p, q->sort[i].desc ? " DESC, " : " ASC, ");
  }
  emit(&p, "key");
  char tail[64];
  if (q->limit > 0) {
    snprintf(tail, sizeof tail, " LIMIT %lld", (long long)q->limit);
    emit(&p, tail);
  }
  if (q->offset > 0) {
    snprintf(tail, sizeof tail, " OFFSET %lld", (long long)q->offset);
    emit(&p, tail);
  }
  if (!p.failed && wgg_buf_append(sql, "", 1)) p.failed = 1, wgg_err_set(err, "out of memory");
  if (p.failed) {
    for (int i = 0; i < p.n; i++) free(p.params[i]);
    free(p.params);
    wgg_buf_free(sql);
    return -1;
  }
  *params = p.params;
  *n = p.n;
  return 0;
}
