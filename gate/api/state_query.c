/*
 * state_query.c: POST|PUT /v1.0-alpha1/state/{store}/query (docs
 * reference/api/state_api.md "Query state"; dapr pkg/api/http/http.go
 * onQueryStateHandler and pkg/api/universal/state_query.go).
 *
 * Answers, as daprd 1.16:
 *   200 {"results":[{"key","data","etag"}],"token"}  (token only with a page limit)
 *   204 when nothing matches
 *   500 ERR_STATE_STORE_NOT_CONFIGURED / 400 ERR_STATE_STORE_NOT_FOUND
 *   500 ERR_STATE_STORE_NOT_SUPPORTED "state store does not support querying"
 *   500 ERR_STATE_QUERY "state store S query failed: failed to parse JSON query body: ..."
 *   500 ERR_STATE_QUERY "state store S query failed: <store error>"
 * Keys come back as daprd's GetOriginalStateKey makes them: the part after
 * the last "||". Like daprd's PostgreSQL query, the query is not limited to
 * the calling app's keys.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/calls.h"
#include "api/state_internal.h"
#include "components/state/query.h"
#include "util/err.h"

typedef struct query_job {
  wgg_store_entry *se;
  wgg_query q;
  wgg_qresult res;
  int status;
  wgg_err err;
  wgg_state_query_cb cb;
  void *user;
} query_job;

static void query_work(void *p) {
  query_job *j = p;
  j->status = j->se->store->ops->query(j->se->store, &j->q, &j->res, &j->err);
}

static const char *original_key(const char *k) {
  const char *p = k, *last = k;
  while ((p = strstr(p, "||"))) last = p += 2;
  return last;
}

static int query_fail(wgg_api_status *st, const char *name, const char *fmt, const char *detail) {
  char m[900];
  snprintf(m, sizeof m, fmt, detail);
  wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_QUERY", "state store %s query failed: %s", name, m);
  st->reason = "DAPR_STATE_QUERY_FAILED";
  return -1;
}

static void query_done(void *p) {
  query_job *j = p;
  if (j->status != WGG_ST_OK) {
    wgg_api_status st;
    query_fail(&st, j->se->comp->name, "%s", j->err.msg);
    j->cb(j->user, &st, NULL, 0, NULL);
  } else {
    wgg_state_query_row *rows = calloc(j->res.n ? j->res.n : 1, sizeof *rows);
    if (!rows) {
      wgg_api_status st;
      query_fail(&st, j->se->comp->name, "%s", "out of memory");
      j->cb(j->user, &st, NULL, 0, NULL);
    } else {
      for (size_t i = 0; i < j->res.n; i++) {
        wgg_qitem *it = &j->res.items[i];
        rows[i] = (wgg_state_query_row){original_key(it->key), it->data, it->data_len, it->etag};
      }
      char tok[32];
      if (j->q.limit > 0) snprintf(tok, sizeof tok, "%lld", (long long)(j->q.offset + (int64_t)j->res.n));
      j->cb(j->user, NULL, rows, j->res.n, j->q.limit > 0 ? tok : NULL);
      free(rows);
    }
  }
  wgg_query_free(&j->q);
  wgg_qresult_free(&j->res);
  free(j);
}

int wgg_state_query_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *query, size_t len,
                         wgg_state_query_cb cb, void *user, wgg_api_status *st) {
  (void)api;
  if (!se->store->ops->query) {
    wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support querying");
    st->reason = "DAPR_STATE_QUERYING_NOT_SUPPORTED";
    return -1;
  }
  query_job *j = calloc(1, sizeof *j);
  if (!j) return query_fail(st, se->comp->name, "%s", "out of memory");
  wgg_err e;
  if (wgg_query_parse(query, len, &j->q, &e)) {
    free(j);
    return query_fail(st, se->comp->name, "failed to parse JSON query body: %s", e.msg);
  }
  j->se = se;
  j->cb = cb;
  j->user = user;
  if (wgg_api_submit_store(loop, se, j, query_work, query_done)) {
    wgg_query_free(&j->q);
    free(j);
    return query_fail(st, se->comp->name, "%s", "out of memory");
  }
  return 0;
}

/* ---- the HTTP route ---- */

static void http_done(void *user, const wgg_api_status *st, const wgg_state_query_row *rows, size_t n,
                      const char *token) {
  wgg_http_req *req = user;
  if (st) {
    wgg_api_error_status(req, st);
    return;
  }
  if (!n) {
    wgg_api_empty(req);
    return;
  }
  json_t *arr = json_array(), *out = json_object();
  for (size_t i = 0; arr && i < n; i++) {
    json_t *data = json_loadb(rows[i].data, rows[i].len, JSON_DECODE_ANY, NULL);
    if (!data) data = json_stringn(rows[i].data, rows[i].len); /* not JSON: as text */
    json_t *o = json_pack("{s:s, s:o}", "key", rows[i].key, "data", data);
    if (o && *rows[i].etag) json_object_set_new(o, "etag", json_string(rows[i].etag));
    json_array_append_new(arr, o);
  }
  json_object_set_new(out, "results", arr);
  if (token) json_object_set_new(out, "token", json_string(token));
  wgg_api_json(req, 200, out);
}

void wgg_api_state_query(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n != 2 || strcmp(seg[1], "query")) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_POST && req->method != HTTP_PUT) {
    wgg_api_method_not_allowed(req);
    return;
  }
  wgg_store_entry *se = wgg_state_find(api, req, seg[0]);
  if (!se) return;
  wgg_api_status st;
  if (wgg_state_query_call(api, req->loop, se, req->body, req->body_len, http_done, req, &st))
    wgg_api_error_status(req, &st);
}
