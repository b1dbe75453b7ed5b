/*
 * input_reply.c: what an app's answer to an input binding event may ask
 * for (docs reference/api/bindings_api.md, "Binding endpoints": the optional
 * response body; dapr pkg/runtime/processor/binding/send.go onAppResponse):
 *   {"storeName": "s", "state": [{"key": "k", "value": <any>}, ...],
 *    "to": ["binding1", ...], "concurrency": "parallel" | "sequential",
 *    "data": <any>}
 * `state` is saved to the store (keys prefixed with the app ID, as the
 * state API does), and `data` is sent to each output binding of `to` with
 * operation "create". The work runs on the thread pool; failures are logged
 * (the event was delivered). Bindings are invoked one after the other in
 * either concurrency mode.
 */
#include <stdlib.h>
#include <string.h>

#include "api/input_bindings.h"
#include "api/state_internal.h"
#include "util/log.h"

typedef struct reply_job {
  wgg_api *api;
  char *binding; /* the input binding's name, for logs */
  json_t *doc;
} reply_job;

static void save_state(reply_job *j, const char *store, json_t *items) {
  wgg_store_entry *se = NULL;
  for (size_t i = 0; i < j->api->n_stores && !se; i++)
    if (!strcmp(j->api->stores[i].comp->name, store)) se = &j->api->stores[i];
  if (!se) {
    wgg_warn("input binding %s: the app's reply names state store %s, which does not exist", j->binding, store);
    return;
  }
  size_t n = json_array_size(items);
  wgg_state_op *ops = calloc(n, sizeof *ops);
  char **keys = calloc(n, sizeof *keys), **vals = calloc(n, sizeof *vals);
  size_t k = 0;
  bool ok = ops && keys && vals;
  for (size_t i = 0; ok && i < n; i++) {
    json_t *it = json_array_get(items, i);
    const char *key = json_string_value(json_object_get(it, "key"));
    json_t *v = json_object_get(it, "value");
    if (!key || !*key) {
      wgg_warn("input binding %s: a state item of the app's reply has no key; skipped", j->binding);
      continue;
    }
    keys[k] = wgg_state_prefixed(j->api, key);
    vals[k] = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    if (!keys[k] || !vals[k]) {
      ok = false;
      k++;
      break;
    }
    const char *etag = json_string_value(json_object_get(it, "etag"));
    ops[k] = (wgg_state_op){.key = keys[k], .value = vals[k], .value_len = strlen(vals[k]), .etag = etag};
    k++;
  }
  wgg_err e = {{0}};
  int st = ok ? se->store->ops->apply(se->store, ops, k, &e) : WGG_ST_ERROR;
  if (st != WGG_ST_OK)
    wgg_warn("input binding %s: saving the app's reply to %s failed: %s", j->binding, store, ok ? e.msg : "out of memory");
  else wgg_debug("input binding %s: %zu item(s) saved to %s", j->binding, k, store);
  for (size_t i = 0; i < k; i++) {
    free(keys[i]);
    free(vals[i]);
  }
  free(ops);
  free(keys);
  free(vals);
}

static void send_to(reply_job *j, const char *name, json_t *data) {
  wgg_binding_entry *be = NULL;
  for (size_t i = 0; i < j->api->n_bindings && !be; i++)
    if (!strcmp(j->api->bindings[i].comp->name, name)) be = &j->api->bindings[i];
  if (!be) {
    wgg_warn("input binding %s: the app's reply names output binding %s, which does not exist", j->binding, name);
    return;
  }
  char *text = json_is_string(data) ? strdup(json_string_value(data))
               : data             ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY)
                                  : NULL;
  json_t *meta = json_object();
  wgg_binding_result r = {0};
  wgg_err e = {{0}};
  if (!meta || be->binding->ops->invoke(be->binding, "create", text, text ? strlen(text) : 0, meta, NULL, &r, &e))
    wgg_warn("input binding %s: sending the app's reply to %s failed: %s", j->binding, name, meta ? e.msg : "out of memory");
  wgg_binding_result_free(&r);
  json_decref(meta);
  free(text);
}

static void reply_work(uv_work_t *w) {
  reply_job *j = w->data;
  json_t *state = json_object_get(j->doc, "state");
  const char *store = json_string_value(json_object_get(j->doc, "storeName"));
  if (json_array_size(state)) {
    if (store && *store) save_state(j, store, state);
    else wgg_warn("input binding %s: the app's reply has state but no storeName", j->binding);
  }
  json_t *to = json_object_get(j->doc, "to");
  for (size_t i = 0; i < json_array_size(to); i++)
    if (json_is_string(json_array_get(to, i)))
      send_to(j, json_string_value(json_array_get(to, i)), json_object_get(j->doc, "data"));
}

static void reply_done(uv_work_t *w, int status) {
  (void)status;
  reply_job *j = w->data;
  json_decref(j->doc);
  free(j->binding);
  free(j);
  free(w);
}

void wgg_input_reply(uv_loop_t *loop, wgg_api *api, const char *binding, const char *body, size_t len) {
  if (!len) return;
  json_t *doc = json_loadb(body, len, 0, NULL);
  if (!json_is_object(doc) || (!json_array_size(json_object_get(doc, "state")) &&
                               !json_array_size(json_object_get(doc, "to")))) {
    json_decref(doc);
    return;
  }
  reply_job *j = calloc(1, sizeof *j);
  uv_work_t *w = calloc(1, sizeof *w);
  if (j && w && (j->binding = strdup(binding))) {
    j->api = api;
    j->doc = doc;
    w->data = j;
    if (uv_queue_work(loop, w, reply_work, reply_done) == 0) return;
    free(j->binding);
  }
  wgg_warn("input binding %s: cannot act on the app's reply (out of memory)", binding);
  json_decref(doc);
  free(j);
  free(w);
}
