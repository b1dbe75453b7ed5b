/*
 * state_write.c: POST|PUT /v1.0/state/{store} (save an array of items) and
 * POST|PUT /v1.0/state/{store}/transaction (docs reference/api/state_api.md).
 * Both run as one atomic apply() on the store.
 */
#include <stdlib.h>
#include <string.h>

#include "api/state_internal.h"
#include "util/err.h"

typedef struct write_job {
  wgg_http_req *req;
  wgg_store_entry *se;
  bool txn;
  wgg_state_op *ops;
  char **owned; /* 3 per op: prefixed key, value text, etag */
  size_t n;
  int status;
  wgg_err err;
} write_job;

static void job_free(write_job *j) {
  if (!j) return;
  for (size_t i = 0; i < 3 * j->n; i++) free(j->owned[i]);
  free(j->owned);
  free(j->ops);
  free(j);
}

static write_job *job_new(wgg_http_req *req, wgg_store_entry *se, size_t n, bool txn) {
  write_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->req = req;
  j->se = se;
  j->txn = txn;
  j->ops = calloc(n ? n : 1, sizeof *j->ops);
  j->owned = calloc(3 * (n ? n : 1), sizeof *j->owned);
  if (!j->ops || !j->owned) {
    job_free(j);
    return NULL;
  }
  return j;
}

/* Fills op i of j from a state item {key, value, etag, metadata, options}.
 * Every string the op points to is owned by the job. Returns 0, or -1 after
 * answering the Dapr error. */
static int parse_item(wgg_api *api, write_job *j, size_t i, json_t *item, bool is_delete, const char *query_ttl) {
  wgg_http_req *req = j->req;
  const char *code = j->txn ? "ERR_STATE_TRANSACTION" : "ERR_STATE_SAVE";
  if (!json_is_object(item)) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: state item %zu is not an object", i);
    return -1;
  }
  json_t *k = wgg_json_field(item, "key");
  if (k && !json_is_string(k)) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: \"key\" must be a string");
    return -1;
  }
  if (!wgg_state_key_ok(req, k ? json_string_value(k) : NULL)) return -1;
  wgg_state_op *op = &j->ops[i];
  op->is_delete = is_delete;
  json_t *etag = wgg_json_field(item, "etag");
  if (etag && !json_is_null(etag) && !json_is_string(etag)) {
    wgg_api_error(req, 400, j->txn ? "ERR_MALFORMED_REQUEST" : code, "failed deserializing HTTP body: \"etag\" must be a string");
    return -1;
  }
  if (etag && json_is_string(etag)) {
    if (!(j->owned[3 * i + 2] = strdup(json_string_value(etag)))) goto oom;
    op->etag = j->owned[3 * i + 2];
  }
  json_t *opts = wgg_json_field(item, "options");
  json_t *conc = opts && json_is_object(opts) ? wgg_json_field(opts, "concurrency") : NULL;
  if (conc && json_is_string(conc)) {
    const char *c = json_string_value(conc);
    if (*c && strcmp(c, "first-write") && strcmp(c, "last-write")) {
      if (j->txn) /* the store's Multi validates the options in daprd: a transaction error */
        wgg_api_error(req, 500, code, "error while executing state transaction: unrecognized concurrency model '%s'", c);
      else wgg_api_error(req, 400, code, "unrecognized concurrency model '%s'", c);
      return -1;
    }
    op->first_write = !strcmp(c, "first-write");
  }
  json_t *md = wgg_json_field(item, "metadata");
  json_t *ttl = md && json_is_object(md) ? json_object_get(md, "ttlInSeconds") : NULL;
  const char *ttl_s = ttl && json_is_string(ttl) ? json_string_value(ttl) : query_ttl;
  char num[32];
  if (ttl && json_is_integer(ttl)) {
    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(ttl));
    ttl_s = num;
  }
  wgg_err e;
  if (wgg_state_parse_ttl(ttl_s, &op->ttl_seconds, &e)) {
    if (j->txn) wgg_api_error(req, 500, code, "error while executing state transaction: %s", e.msg);
    else wgg_api_error(req, 400, code, "failed saving state in state store %s: %s", j->se->comp->name, e.msg);
    return -1;
  }
  if (!(j->owned[3 * i] = wgg_state_prefixed(api, json_string_value(k)))) goto oom;
  op->key = j->owned[3 * i];
  if (!is_delete) {
    json_t *v = wgg_json_field(item, "value");
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
    if (!text) goto oom;
    j->owned[3 * i + 1] = text;
    op->value = text;
    op->value_len = strlen(text);
  }
  return 0;
oom:
  wgg_api_error(req, 500, code, "out of memory");
  return -1;
}

static void write_work(void *p) {
  write_job *j = p;
  j->status = j->se->store->ops->apply(j->se->store, j->ops, j->n, &j->err);
}

static void write_done(void *p) {
  write_job *j = p;
  wgg_metrics_state(wgg_state_index(j->se), j->txn ? WGG_OP_TRANSACTION : WGG_OP_SET, j->status == WGG_ST_OK);
  const char *store = j->se->comp->name;
  if (j->txn) {
    int st = 500; /* daprd: every error of the store's Multi is 500 ERR_STATE_TRANSACTION (http.go onPostStateTransaction) */
    if (j->status == WGG_ST_OK) wgg_api_empty(j->req);
    else if (j->status == WGG_ST_ETAG_MISMATCH)
      wgg_api_error(j->req, st, "ERR_STATE_TRANSACTION",
                    "error while executing state transaction: possible etag mismatch. error from state store: %s", j->err.msg);
    else wgg_api_error(j->req, st, "ERR_STATE_TRANSACTION", "error while executing state transaction: %s", j->err.msg);
  } else {
    switch (j->status) {
      case WGG_ST_OK: wgg_api_empty(j->req); break;
      case WGG_ST_ETAG_MISMATCH:
        wgg_api_error(j->req, 409, "ERR_STATE_SAVE",
                      "failed saving state in state store %s: possible etag mismatch. error from state store: %s", store,
                      j->err.msg);
        break;
      case WGG_ST_ETAG_INVALID:
        wgg_api_error(j->req, 400, "ERR_STATE_SAVE", "failed saving state in state store %s: %s", store, j->err.msg);
        break;
      default:
        wgg_api_error(j->req, j->status == WGG_ST_BAD_REQUEST ? 400 : 500, "ERR_STATE_SAVE",
                      "failed saving state in state store %s: %s", store, j->err.msg);
    }
  }
  job_free(j);
}

/* Parses the body as JSON, or answers 400 ERR_MALFORMED_REQUEST. */
static json_t *parse_body(wgg_http_req *req) {
  json_error_t je;
  json_t *doc = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je);
  if (!doc) wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", je.text);
  return doc;
}

static void submit(write_job *j, json_t *doc) {
  json_decref(doc); /* the ops own copies of everything they use */
  wgg_http_req *req = j->req;
  if (wgg_api_submit_store(req->loop, j->se, j, write_work, write_done)) {
    const char *code = j->txn ? "ERR_STATE_TRANSACTION" : "ERR_STATE_SAVE";
    job_free(j);
    wgg_api_error(req, 500, code, "out of memory");
  }
}

void wgg_state_save(wgg_api *api, wgg_http_req *req, wgg_store_entry *se) {
  json_t *doc = parse_body(req);
  if (!doc) return;
  if (!json_is_array(doc)) {
    json_decref(doc);
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: expected a JSON array of state items");
    return;
  }
  size_t n = json_array_size(doc);
  write_job *j = job_new(req, se, n, false);
  if (!j) {
    json_decref(doc);
    wgg_api_error(req, 500, "ERR_STATE_SAVE", "out of memory");
    return;
  }
  char *qttl = wgg_query_get(req->query, "metadata.ttlInSeconds");
  for (size_t i = 0; i < n; i++) {
    if (parse_item(api, j, i, json_array_get(doc, i), false, qttl)) {
      j->n = i + 1;
      free(qttl);
      json_decref(doc);
      job_free(j);
      return;
    }
  }
  free(qttl);
  j->n = n;
  submit(j, doc);
}

void wgg_state_transaction(wgg_api *api, wgg_http_req *req, wgg_store_entry *se) {
  if (!(se->store->features & WGG_FEAT_TRANSACTIONAL)) {
    wgg_api_error(req, 500, "ERR_STATE_STORE_NOT_SUPPORTED", "state store %s doesn't support transaction",
                  se->comp->name);
    return;
  }
  json_t *doc = parse_body(req);
  if (!doc) return;
  json_t *ops = json_is_object(doc) ? wgg_json_field(doc, "operations") : NULL;
  if (!ops || !json_is_array(ops)) {
    json_decref(doc);
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST",
                  "failed deserializing HTTP body: expected {\"operations\":[...]} with an array of operations");
    return;
  }
  size_t n = json_array_size(ops);
  write_job *j = job_new(req, se, n, true);
  if (!j) {
    json_decref(doc);
    wgg_api_error(req, 500, "ERR_STATE_TRANSACTION", "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_array_get(ops, i);
    json_t *kind = json_is_object(o) ? wgg_json_field(o, "operation") : NULL;
    json_t *r = json_is_object(o) ? wgg_json_field(o, "request") : NULL;
    const char *ks = json_is_string(kind) ? json_string_value(kind) : "";
    bool is_delete = !strcmp(ks, "delete");
    int bad = 0;
    if (!is_delete && strcmp(ks, "upsert")) {
      wgg_api_error(req, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION", "operation type %s not supported", ks);
      bad = 1;
    } else if (!r) {
      wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: operation %zu has no request", i);
      bad = 1;
    }
    if (bad || parse_item(api, j, i, r, is_delete, NULL)) {
      j->n = i + 1;
      json_decref(doc);
      job_free(j);
      return;
    }
  }
  j->n = n;
  submit(j, doc);
}
