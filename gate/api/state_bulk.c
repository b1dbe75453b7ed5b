/*
 * state_bulk.c: POST|PUT /v1.0/state/{store}/bulk, {"keys":[...],
 * "parallelism":N} -> 200 [{key, data, etag, metadata, error}] (field names
 * of dapr pkg/api/http BulkGetResponse: "data", not "value"; absent keys
 * carry only "key"). The keys are read one after the other in one job; the
 * parallelism hint is accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "api/state_internal.h"

typedef struct bulk_job {
  wgg_http_req *req;
  wgg_store_entry *se;
  size_t n;
  char **keys;     /* user keys */
  char **prefixed; /* store keys */
  wgg_state_got *got;
  int *status;
  wgg_err *errs;
} bulk_job;

static void bulk_free(bulk_job *j) {
  for (size_t i = 0; i < j->n; i++) {
    free(j->keys[i]);
    free(j->prefixed[i]);
    wgg_state_got_free(&j->got[i]);
  }
  free(j->keys);
  free(j->prefixed);
  free(j->got);
  free(j->status);
  free(j->errs);
  free(j);
}

static void bulk_work(void *p) {
  bulk_job *j = p;
  for (size_t i = 0; i < j->n; i++)
    j->status[i] = j->se->store->ops->get(j->se->store, j->prefixed[i], &j->got[i], &j->errs[i]);
}

static void bulk_done(void *p) {
  bulk_job *j = p;
  bool all_ok = true;
  for (size_t i = 0; i < j->n; i++) all_ok &= j->status[i] == WGG_ST_OK;
  wgg_metrics_state(wgg_state_index(j->se), WGG_OP_BULK_GET, all_ok);
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < j->n; i++) {
    json_t *item = json_pack("{s:s}", "key", j->keys[i]);
    if (!item) break;
    if (j->status[i] != WGG_ST_OK) {
      json_object_set_new(item, "error", json_string(j->errs[i].msg));
    } else if (j->got[i].found) {
      json_error_t je;
      json_t *data = json_loadb(j->got[i].value, j->got[i].value_len, JSON_DECODE_ANY, &je);
      /* values saved through the HTTP API are JSON; anything else goes back as a JSON string */
      if (!data) data = json_stringn_nocheck(j->got[i].value, j->got[i].value_len);
      json_object_set_new(item, "data", data);
      json_object_set_new(item, "etag", json_string(j->got[i].etag));
    }
    json_array_append_new(arr, item);
  }
  wgg_api_json(j->req, 200, arr);
  bulk_free(j);
}

void wgg_state_bulk(wgg_api *api, wgg_http_req *req, wgg_store_entry *se) {
  json_error_t je;
  json_t *doc = json_loadb(req->body, req->body_len, 0, &je);
  json_t *keys = doc ? wgg_json_field(doc, "keys") : NULL;
  if (!doc || !json_is_array(keys)) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s",
                  doc ? "expected {\"keys\":[...]}" : je.text);
    json_decref(doc);
    return;
  }
  size_t n = json_array_size(keys);
  for (size_t i = 0; i < n; i++) {
    json_t *k = json_array_get(keys, i);
    if (!json_is_string(k)) {
      json_decref(doc);
      wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: keys must be strings");
      return;
    }
    if (!wgg_state_key_ok(req, json_string_value(k))) {
      json_decref(doc);
      return;
    }
  }
  bulk_job *j = calloc(1, sizeof *j);
  size_t cap = n ? n : 1;
  if (j) {
    j->req = req;
    j->se = se;
    j->keys = calloc(cap, sizeof *j->keys);
    j->prefixed = calloc(cap, sizeof *j->prefixed);
    j->got = calloc(cap, sizeof *j->got);
    j->status = calloc(cap, sizeof *j->status);
    j->errs = calloc(cap, sizeof *j->errs);
  }
  bool ok = j && j->keys && j->prefixed && j->got && j->status && j->errs;
  for (size_t i = 0; ok && i < n; i++) {
    j->n = i + 1;
    const char *k = json_string_value(json_array_get(keys, i));
    ok = (j->keys[i] = strdup(k)) && (j->prefixed[i] = wgg_state_prefixed(api, k));
  }
  json_decref(doc);
  if (!ok || wgg_api_submit_store(req->loop, se, j, bulk_work, bulk_done)) {
    if (j) bulk_free(j);
    wgg_api_error(req, 500, "ERR_STATE_BULK_GET", "out of memory");
  }
}
