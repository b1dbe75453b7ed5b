/*
 * query.h: daprd's state query language (docs reference/api/state_api.md
 * "Query state"; components-contrib state/query), parsed once into a small
 * tree that each store translates (state.sqlite into parameterised SQL over
 * JSON functions, state.in-memory by evaluating it on the stored JSON).
 *
 *   {"filter": {"EQ": {"a.b": 1}} | {"NEQ"|"GT"|"GTE"|"LT"|"LTE": {...}} |
 *              {"IN": {"a": [1, 2]}} | {"AND"|"OR": [f, f, ...]}   (>= 2),
 *    "sort": [{"key": "a.b", "order": "ASC"|"DESC"}],
 *    "page": {"limit": 10, "token": "<offset>"}}
 *
 * Keys are dot-separated paths into the stored JSON value. The page token is
 * the decimal offset of the next page, as components-contrib's PostgreSQL
 * query returns it.
 */
#ifndef WGG_STATE_QUERY_H
#define WGG_STATE_QUERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wggate.h"

typedef enum wgg_qop {
  WGG_Q_EQ,
  WGG_Q_NEQ,
  WGG_Q_GT,
  WGG_Q_GTE,
  WGG_Q_LT,
  WGG_Q_LTE,
  WGG_Q_IN,
  WGG_Q_AND,
  WGG_Q_OR,
} wgg_qop;

/* One filter node. Comparisons and IN have key and val (IN: a JSON array of
 * one or more values); AND/OR have kids (n_kids >= 2). */
typedef struct wgg_qfilter {
  wgg_qop op;
  char *key;                /* owned; dot path */
  json_t *val;              /* owned reference */
  struct wgg_qfilter *kids; /* owned array */
  size_t n_kids;
} wgg_qfilter;

typedef struct wgg_qsort {
  char *key; /* owned; dot path */
  int desc;  /* 1 for "DESC" */
} wgg_qsort;

typedef struct wgg_query {
  wgg_qfilter *filter; /* owned; NULL = every item */
  wgg_qsort *sort;     /* owned array */
  size_t n_sort;
  int64_t limit;  /* > 0: at most this many results and a token; 0: all */
  int64_t offset; /* from the page token (0 without one) */
} wgg_query;

/* One result row; all strings malloc'd. key is the store's (prefixed) key. */
typedef struct wgg_qitem {
  char *key;
  char *data;
  size_t data_len;
  char *etag;
} wgg_qitem;

typedef struct wgg_qresult {
  wgg_qitem *items; /* owned array */
  size_t n, cap;
} wgg_qresult;

/* Parses the JSON text body[0..len) into *q (zeroed first). Returns 0, or
 * -1 with err holding the reason worded as components-contrib/encoding/json
 * do ("unsupported filter \"X\"", "EQ filter must be a map", "AND filter
 * must contain at least two entries", "empty IN operator for key \"k\"",
 * "strconv.ParseInt: parsing \"x\": invalid syntax", a JSON syntax error,
 * ...). On failure *q is left freed. */
int wgg_query_parse(const char *body, size_t len, wgg_query *q, wgg_err *err);

/* Frees what wgg_query_parse filled and zeroes *q. */
void wgg_query_free(wgg_query *q);

/* Splits key "a.b.c" into its segments: returns the count (0 for an empty
 * key or OOM) and sets *parts to a malloc'd array of malloc'd strings
 * (free with wgg_query_parts_free). */
size_t wgg_query_path(const char *key, char ***parts);
void wgg_query_parts_free(char **parts, size_t n);

/* Appends a row (copies of the arguments). 0, or -1 on OOM. */
int wgg_qresult_add(wgg_qresult *r, const char *key, const char *data, size_t data_len, const char *etag);

/* Frees the rows and zeroes *r. */
void wgg_qresult_free(wgg_qresult *r);

/* Runs q over rows (every live item of a store; consumed: the rows are
 * moved into *out or freed) by evaluating it on each row's JSON value, with
 * the same typed semantics as state.sqlite's SQL (query_eval.c): numbers
 * (true/false as 1/0) compare as numbers, strings by bytes, a number is less
 * than any string, an object or array compares as its compact JSON text, a
 * missing path or a value that is not JSON matches no comparison and sorts
 * first. Results are sorted by q->sort then by key, then paged. Returns 0,
 * or -1 on OOM (both lists freed). */
int wgg_query_run_json(const wgg_query *q, wgg_qresult *rows, wgg_qresult *out);

#endif
