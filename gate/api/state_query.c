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
  wgg_http_req *req;
  wgg_store_entry *se;
  wgg_query q;
  wgg_qresult res;
  int status;
  wgg_err err;
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

static void query_done(void *p) {
  query_job *j = p;
  if (j->status != WGG_ST_OK) {
    wgg_api_error(j->req, 500, "ERR_STATE_QUERY", "state store %s query failed: %s", j->se->comp->name, j->err.msg);
  } else if (!j->res.n) {
    wgg_api_empty(j->req);
  } else {
    json_t *arr = json_array(), *out = json_object();
    for (size_t i = 0; arr && i < j->res.n; i++) {
      wgg_qitem *it = &j->res.items[i];
      json_t *data = json_loadb(it->data, it->data_len, JSON_DECODE_ANY, NULL);
      if (!data) data = json_stringn(it->data, it->data_len); /* not JSON: as text */
      json_t *o = json_pack("{s:s, s:o}", "key", original_key(it->key), "data", data);
      if (o && *it->etag) json_object_set_new(o, "etag", json_string(it->etag));
      json_array_append_new(arr, o);
    }
    json_object_set_new(out, "results", arr);
    if (j->q.limit > 0) {
      char tok[32];
      snprintf(tok, sizeof tok, "%lld", (long long)(j->q.offset + (int64_t)j->res.n));
      json_object_set_new(out, "token", json_string(tok));
    }
    wgg_api_json(j->req, 200, out);
  }
  wgg_query_free(&j->q);
  wgg_qresult_free(&j->res);
  free(j);
}

void wgg_api_state_query(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n != 2 || strcmp(seg[1], "query")) {
    wgg_http_respond(req, 404, "text/plain; charset=utf-8", NULL, 0, "404 page not found\n", 19);
    return;
  }
  if (req->method != HTTP_POST && req->method != HTTP_PUT) {
    wgg_http_respond(req, 405, NULL, NULL, 0, NULL, 0);
    return;
  }
  wgg_store_entry *se = wgg_state_find(api, req, seg[0]);
  if (!se) return;
  if (!se->store->ops->query) {
    wgg_api_error(req, 500, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support querying");
    return;
  }
  query_job *j = calloc(1, sizeof *j);
  if (!j) {
    wgg_api_error(req, 500, "ERR_STATE_QUERY", "state store %s query failed: out of memory", seg[0]);
    return;
  }
  wgg_err e;
  if (wgg_query_parse(req->body, req->body_len, &j->q, &e)) {
    wgg_api_error(req, 500, "ERR_STATE_QUERY", "state store %s query failed: failed to parse JSON query body: %s",
                  seg[0], e.msg);
    free(j);
    return;
  }
  j->req = req;
  j->se = se;
  if (wgg_api_submit_store(req->loop, se, j, query_work, query_done)) {
    wgg_api_error(req, 500, "ERR_STATE_QUERY", "state store %s query failed: out of memory", seg[0]);
    wgg_query_free(&j->q);
    free(j);
  }
}
