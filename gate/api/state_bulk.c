/*
 * state_bulk.c: POST|PUT /v1.0/state/{store}/bulk, {"keys":[...],
 * "parallelism":N} -> 200 [{key, data, etag, metadata, error}] (field names
 * of dapr pkg/api/http BulkGetResponse: "data", not "value"; absent keys
 * carry only "key"). On a store with an asynchronous form (state.redis) every
 * key is read at once (pipelined on the loop's connection); on the others the
 * keys are read one after the other in one job. The parallelism hint is
 * accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "api/calls.h"
#include "api/state_internal.h"

typedef struct bulk_job {
  wgg_state_bulk_cb cb;
  void *user;
  wgg_store_entry *se;
  size_t n;
  char **keys;     /* user keys */
  char **prefixed; /* store keys */
  wgg_state_got *got;
  int *status;
  wgg_err *errs;
  wgg_state_call *calls; /* asynchronous stores: one per key */
  size_t remaining;      /* calls not done yet, plus one while they are being started */
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
  free(j->calls);
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
  wgg_metrics_state(j->se->metrics, wgg_state_index(j->se), WGG_OP_BULK_GET, all_ok);
  wgg_state_bulk_item *items = calloc(j->n ? j->n : 1, sizeof *items);
  for (size_t i = 0; items && i < j->n; i++)
    items[i] = (wgg_state_bulk_item){.key = j->keys[i], .ok = j->status[i] == WGG_ST_OK, .error = j->errs[i].msg,
                                     .got = &j->got[i]};
  j->cb(j->user, items, items ? j->n : 0);
  free(items);
  bulk_free(j);
}

static void bulk_one_done(wgg_state_call *c) {
  bulk_job *j = c->user;
  j->status[c - j->calls] = c->status;
  if (!--j->remaining) bulk_done(j);
}

/* Starts one asynchronous call per key. */
static void bulk_start_each(bulk_job *j, uv_loop_t *loop) {
  j->remaining = j->n + 1;
  for (size_t i = 0; i < j->n; i++) {
    j->calls[i] = (wgg_state_call){.key = j->prefixed[i], .got = &j->got[i], .err = &j->errs[i], .done = bulk_one_done,
                                   .user = j};
    if (wgg_state_call_start(loop, j->se, &j->calls[i])) {
      wgg_err_set(&j->errs[i], "out of memory");
      j->status[i] = WGG_ST_ERROR;
      j->remaining--;
    }
  }
  if (!--j->remaining) bulk_done(j);
}

int wgg_state_bulk_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *const *keys, size_t n,
                        wgg_state_bulk_cb cb, void *user, wgg_api_status *st) {
  bulk_job *j = calloc(1, sizeof *j);
  size_t cap = n ? n : 1;
  if (j) {
    j->cb = cb;
    j->user = user;
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
    ok = (j->keys[i] = strdup(keys[i])) && (j->prefixed[i] = wgg_state_prefixed(api, keys[i]));
  }
  if (ok && se->store->ops->start) {
    if ((j->calls = calloc(cap, sizeof *j->calls))) {
      bulk_start_each(j, loop);
      return 0;
    }
    ok = false;
  }
  if (!ok || wgg_api_submit_store(loop, se, j, bulk_work, bulk_done)) {
    if (j) bulk_free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_BULK_GET", "out of memory");
  }
  return 0;
}

static void http_bulk_done(void *user, const wgg_state_bulk_item *items, size_t n) {
  wgg_http_req *req = user;
  json_t *arr = items ? json_array() : NULL;
  for (size_t i = 0; arr && i < n; i++) {
    json_t *item = json_pack("{s:s}", "key", items[i].key);
    if (!item) break;
    if (!items[i].ok) {
      json_object_set_new(item, "error", json_string(items[i].error));
    } else if (items[i].got->found) {
      const wgg_state_got *g = items[i].got;
      json_error_t je;
      json_t *data = json_loadb(g->value, g->value_len, JSON_DECODE_ANY, &je);
      /* values saved through the HTTP API are JSON; anything else goes back as a JSON string */
      if (!data) data = json_stringn_nocheck(g->value, g->value_len);
      json_object_set_new(item, "data", data);
      json_object_set_new(item, "etag", json_string(g->etag));
    }
    json_array_append_new(arr, item);
  }
  if (!arr) wgg_api_error(req, 500, "ERR_STATE_BULK_GET", "out of memory");
  else wgg_api_json(req, 200, arr);
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
  const char **ks = calloc(n ? n : 1, sizeof *ks);
  for (size_t i = 0; ks && i < n; i++) {
    json_t *k = json_array_get(keys, i);
    if (!json_is_string(k)) {
      json_decref(doc);
      free(ks);
      wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: keys must be strings");
      return;
    }
    if (!wgg_state_key_ok(req, json_string_value(k))) {
      json_decref(doc);
      free(ks);
      return;
    }
    ks[i] = json_string_value(k);
  }
  wgg_api_status st;
  if (!ks) wgg_api_error(req, 500, "ERR_STATE_BULK_GET", "out of memory");
  else if (wgg_state_bulk_call(api, req->loop, se, ks, n, http_bulk_done, req, &st)) wgg_api_error_status(req, &st);
  free(ks);
  json_decref(doc);
}
