/*
 * sqlite_query.c: state.sqlite's query API (sqlite_query.h), a wasmgate
 * addition: components-contrib's SQLite store has no query support, so this
 * follows the semantics of its PostgreSQL one (common/component/postgresql/
 * v1/postgresql_query.go: paths into the value, ORDER BY the sort keys,
 * LIMIT/OFFSET with the offset as page token) using SQLite's JSON functions.
 */
#include "components/state/sqlite_query.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/state/store.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct builder {
  wgg_buf sql;
  json_t *params; /* array of bound values: JSON strings for paths */
  wgg_err *err;
  int status;
} builder;

/* A key path as an SQLite JSON path: $."a"."b" (quoted labels, so any
 * character but '"' is allowed). Pushed as a parameter; returns its number or 0. */
static int path_param(builder *b, const char *key) {
  char **parts;
  size_t n = wgg_query_path(key, &parts);
  if (!n) {
    b->status = WGG_ST_BAD_REQUEST;
    return wgg_err_set(b->err, "invalid query key \"%s\"", key ? key : ""), 0;
  }
  wgg_buf p = {0};
  int bad = wgg_buf_append(&p, "$", 1);
  for (size_t i = 0; i < n && !bad; i++) {
    if (strchr(parts[i], '"') || !*parts[i]) {
      b->status = WGG_ST_BAD_REQUEST;
      wgg_err_set(b->err, "invalid query key \"%s\": empty segment or '\"'", key);
      bad = 1;
      break;
    }
    bad = wgg_buf_printf(&p, ".\"%s\"", parts[i]);
  }
  wgg_query_parts_free(parts, n);
  if (!bad) bad = json_array_append_new(b->params, json_stringn(p.data, p.len));
  wgg_buf_free(&p);
  if (bad) {
    if (b->status == WGG_ST_OK) b->status = WGG_ST_ERROR, wgg_err_set(b->err, "out of memory");
    return 0;
  }
  return (int)json_array_size(b->params);
}

static int value_param(builder *b, json_t *v) {
  if (json_array_append(b->params, v)) {
    b->status = WGG_ST_ERROR;
    return wgg_err_set(b->err, "out of memory"), 0;
  }
  return (int)json_array_size(b->params);
}

static void emit(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(builder *b, const char *fmt, ...) {
  if (b->status != WGG_ST_OK) return;
  va_list ap;
  va_start(ap, fmt);
  char tmp[256];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp || wgg_buf_append(&b->sql, tmp, (size_t)n))
    b->status = WGG_ST_ERROR, wgg_err_set(b->err, "out of memory");
}

#define EXTRACT "json_extract(CASE WHEN json_valid(value) THEN value END, ?%d)"

static void compare(builder *b, const char *key, const char *op, json_t *v) {
  int p = path_param(b, key);
  if (!p) return;
  if (json_is_null(v)) { /* null has no ordering: EQ/NEQ test presence of a JSON null */
    if (strcmp(op, "=") && strcmp(op, "!=")) {
      emit(b, "0");
      return;
    }
    emit(b, "(json_type(CASE WHEN json_valid(value) THEN value END, ?%d) %s 'null')", p, op);
    return;
  }
  int q = value_param(b, v);
  if (q) emit(b, "(" EXTRACT " %s ?%d)", p, op, q);
}

static void filter(builder *b, const wgg_qfilter *f) {
  static const char *const ops[] = {"=", "!=", ">", ">=", "<", "<="};
  switch (f->op) {
  case WGG_Q_EQ:
  case WGG_Q_NEQ:
  case WGG_Q_GT:
  case WGG_Q_GTE:
  case WGG_Q_LT:
  case WGG_Q_LTE: compare(b, f->key, ops[f->op], f->val); return;
  case WGG_Q_IN:
    emit(b, "(");
    for (size_t i = 0; i < json_array_size(f->val); i++) {
      if (i) emit(b, " OR ");
      compare(b, f->key, "=", json_array_get(f->val, i));
    }
    emit(b, ")");
    return;
  case WGG_Q_AND:
  case WGG_Q_OR:
    emit(b, "(");
    for (size_t i = 0; i < f->n_kids; i++) {
      if (i) emit(b, f->op == WGG_Q_AND ? " AND " : " OR ");
      filter(b, &f->kids[i]);
    }
    emit(b, ")");
    return;
  }
}

static int bind(sqlite3_stmt *st, json_t *params) {
  for (size_t i = 0; i < json_array_size(params); i++) {
    json_t *v = json_array_get(params, i);
    int n = (int)i + 1, rc;
    switch (json_typeof(v)) {
    case JSON_STRING: rc = sqlite3_bind_text(st, n, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT); break;
    case JSON_INTEGER: rc = sqlite3_bind_int64(st, n, json_integer_value(v)); break;
    case JSON_REAL: rc = sqlite3_bind_double(st, n, json_real_value(v)); break;
    case JSON_TRUE: rc = sqlite3_bind_int(st, n, 1); break;
    case JSON_FALSE: rc = sqlite3_bind_int(st, n, 0); break;
    default: { /* object or array: compared with json_extract's minified JSON text */
      char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      if (!s) return SQLITE_NOMEM;
      rc = sqlite3_bind_text(st, n, s, -1, free);
    }
    }
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

int wgg_sqlite_query(sqlite3 *db, const char *table, const wgg_query *q, wgg_qresult *out, wgg_err *err) {
  builder b = {.params = json_array(), .err = err, .status = WGG_ST_OK};
  if (!b.params) return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
  emit(&b, "SELECT key, value, etag FROM %s WHERE (expiration_time IS NULL OR expiration_time > "
           "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now'))", table);
  if (q->filter) {
    emit(&b, " AND ");
    filter(&b, q->filter);
  }
  emit(&b, " ORDER BY ");
  for (size_t i = 0; i < q->n_sort; i++) {
    int p = path_param(&b, q->sort[i].key);
    if (p) emit(&b, EXTRACT " %s, ", p, q->sort[i].desc ? "DESC" : "ASC");
  }
  emit(&b, "key");
  if (q->limit > 0) emit(&b, " LIMIT %lld", (long long)q->limit);
  else if (q->offset > 0) emit(&b, " LIMIT -1");
  if (q->offset > 0) emit(&b, " OFFSET %lld", (long long)q->offset);
  int status = b.status;
  sqlite3_stmt *st = NULL;
  if (status == WGG_ST_OK && wgg_buf_append(&b.sql, "", 1)) status = WGG_ST_ERROR, wgg_err_set(err, "out of memory");
  if (status == WGG_ST_OK) {
    int rc = sqlite3_prepare_v2(db, b.sql.data, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = bind(st, b.params);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
      rc = sqlite3_step(st);
      if (rc != SQLITE_ROW) break;
      const char *v = (const char *)sqlite3_column_blob(st, 1);
      if (wgg_qresult_add(out, (const char *)sqlite3_column_text(st, 0), v ? v : "", (size_t)sqlite3_column_bytes(st, 1),
                          (const char *)sqlite3_column_text(st, 2))) {
        rc = SQLITE_NOMEM;
        break;
      }
    }
    if (rc != SQLITE_DONE) {
      status = WGG_ST_ERROR;
      wgg_err_set(err, "sqlite: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    }
  }
  sqlite3_finalize(st);
  wgg_buf_free(&b.sql);
  json_decref(b.params);
  if (status != WGG_ST_OK) wgg_qresult_free(out);
  return status;
}
