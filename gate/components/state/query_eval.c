/*
 * query_eval.c: evaluates a parsed state query on JSON values in memory
 * (query.h wgg_query_run_json), for stores without a query engine of their
 * own (state.in-memory). The comparison rules are SQLite's for the values
 * json_extract() returns, so state.in-memory and state.sqlite answer a query
 * alike.
 */
#include <stdlib.h>
#include <string.h>

#include "components/state/query.h"

/* A JSON value as SQLite sees what json_extract returns. */
typedef struct sval {
  int cls; /* 0 NULL (missing), 1 number, 2 text */
  double num;
  const char *text;
  size_t len;
  char *owned; /* compact JSON of an object/array */
  int is_json_null;
} sval;

static json_t *at(json_t *doc, char **parts, size_t n) {
  for (size_t i = 0; i < n && doc; i++) doc = json_is_object(doc) ? json_object_get(doc, parts[i]) : NULL;
  return doc;
}

static int to_sval(json_t *v, sval *s) {
  memset(s, 0, sizeof *s);
  if (!v) return 0;
  switch (json_typeof(v)) {
  case JSON_NULL: s->is_json_null = 1; return 0;
  case JSON_INTEGER: s->cls = 1, s->num = (double)json_integer_value(v); return 0;
  case JSON_REAL: s->cls = 1, s->num = json_real_value(v); return 0;
  case JSON_TRUE: s->cls = 1, s->num = 1; return 0;
  case JSON_FALSE: s->cls = 1, s->num = 0; return 0;
  case JSON_STRING: s->cls = 2, s->text = json_string_value(v), s->len = json_string_length(v); return 0;
  default:
    if (!(s->owned = json_dumps(v, JSON_COMPACT))) return -1;
    s->cls = 2, s->text = s->owned, s->len = strlen(s->owned);
    return 0;
  }
}

/* <0, 0, >0 as SQLite orders a and b (NULL first). */
static int cmp(const sval *a, const sval *b) {
  if (a->cls != b->cls) return a->cls - b->cls;
  if (a->cls == 1) return a->num < b->num ? -1 : a->num > b->num;
  if (a->cls == 2) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
  }
  return 0;
}

typedef struct row {
  wgg_qitem item;
  json_t *doc; /* NULL when the value is not JSON */
  sval *keys;  /* one per sort key */
} row;

static int compare_op(wgg_qop op, json_t *doc, const char *key, json_t *want, int *res) {
  char **parts;
  size_t n = wgg_query_path(key, &parts);
  if (!n) return -1;
  json_t *got = doc ? at(doc, parts, n) : NULL;
  wgg_query_parts_free(parts, n);
  *res = 0;
  if (json_is_null(want)) { /* only EQ/NEQ: whether the path holds a JSON null */
    if (got && (op == WGG_Q_EQ || op == WGG_Q_NEQ)) *res = (op == WGG_Q_EQ) == json_is_null(got);
    return 0;
  }
  sval a, b;
  if (to_sval(got, &a) || to_sval(want, &b)) {
    free(a.owned);
    return -1;
  }
  if (a.cls) {
    int c = cmp(&a, &b);
    switch (op) {
    case WGG_Q_EQ:
    case WGG_Q_IN: *res = c == 0; break;
    case WGG_Q_NEQ: *res = c != 0; break;
    case WGG_Q_GT: *res = c > 0; break;
    case WGG_Q_GTE: *res = c >= 0; break;
    case WGG_Q_LT: *res = c < 0; break;
    case WGG_Q_LTE: *res = c <= 0; break;
    default: break;
    }
  }
  free(a.owned);
  free(b.owned);
  return 0;
}

/* *res = whether doc matches f. -1 on OOM. */
static int match(const wgg_qfilter *f, json_t *doc, int *res) {
  switch (f->op) {
  case WGG_Q_AND:
  case WGG_Q_OR:
    for (size_t i = 0; i < f->n_kids; i++) {
      if (match(&f->kids[i], doc, res)) return -1;
      if (f->op == WGG_Q_AND ? !*res : *res) return 0;
    }
    return 0;
  case WGG_Q_IN:
    for (size_t i = 0; i < json_array_size(f->val); i++) {
      if (compare_op(WGG_Q_EQ, doc, f->key, json_array_get(f->val, i), res)) return -1;
      if (*res) return 0;
    }
    return 0;
  default: return compare_op(f->op, doc, f->key, f->val, res);
  }
}

static const wgg_query *sort_q; /* qsort has no context argument; guarded by sort_mu */
#include <pthread.h>
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static int row_cmp(const void *pa, const void *pb) {
  const row *a = pa, *b = pb;
  for (size_t i = 0; i < sort_q->n_sort; i++) {
    int c = cmp(&a->keys[i], &b->keys[i]);
    if (c) return sort_q->sort[i].desc ? -c : c;
  }
  return strcmp(a->item.key, b->item.key);
}

static void row_free(row *r, size_t n_sort) {
  json_decref(r->doc);
  if (r->keys)
    for (size_t i = 0; i < n_sort; i++) free(r->keys[i].owned);
  free(r->keys);
}

int wgg_query_run_json(const wgg_query *q, wgg_qresult *rows, wgg_qresult *out) {
  memset(out, 0, sizeof *out);
  row *kept = calloc(rows->n ? rows->n : 1, sizeof *kept);
  size_t nk = 0;
  int rc = kept ? 0 : -1;
  for (size_t i = 0; i < rows->n; i++) {
    wgg_qitem *it = &rows->items[i];
    if (rc) goto drop;
    json_t *doc = json_loadb(it->data, it->data_len, JSON_DECODE_ANY, NULL);
    int ok = 1;
    if (q->filter && match(q->filter, doc, &ok)) rc = -1;
    if (rc || !ok) {
      json_decref(doc);
      goto drop;
    }
    row *r = &kept[nk++];
    r->item = *it;
    r->doc = doc;
    if (q->n_sort && !(r->keys = calloc(q->n_sort, sizeof *r->keys))) rc = -1;
    for (size_t s = 0; s < q->n_sort && !rc; s++) {
      char **parts;
      size_t n = wgg_query_path(q->sort[s].key, &parts);
      if (!n || to_sval(doc ? at(doc, parts, n) : NULL, &r->keys[s])) rc = -1;
      wgg_query_parts_free(parts, n);
    }
    continue;
  drop:
    free(it->key);
    free(it->data);
    free(it->etag);
  }
  free(rows->items);
  memset(rows, 0, sizeof *rows);
  if (!rc) {
    pthread_mutex_lock(&sort_mu);
    sort_q = q;
    qsort(kept, nk, sizeof *kept, row_cmp);
    pthread_mutex_unlock(&sort_mu);
  }
  size_t from = (size_t)(q->offset > 0 ? q->offset : 0), upto = nk;
  if (q->limit > 0 && from < nk && (size_t)q->limit < nk - from) upto = from + (size_t)q->limit;
  for (size_t i = 0; i < nk; i++) {
    if (!rc && i >= from && i < upto) {
      if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        wgg_qitem *a = realloc(out->items, cap * sizeof *a);
        if (!a) rc = -1;
        else out->items = a, out->cap = cap;
      }
      if (!rc) {
        out->items[out->n++] = kept[i].item;
        row_free(&kept[i], q->n_sort);
        continue;
      }
    }
    free(kept[i].item.key);
    free(kept[i].item.data);
    free(kept[i].item.etag);
    row_free(&kept[i], q->n_sort);
  }
  free(kept);
  if (rc) wgg_qresult_free(out);
  return rc;
}
