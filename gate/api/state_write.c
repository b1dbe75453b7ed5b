/*
 * state_write.c: POST|PUT /v1.0/state/{store} (save an array of items) and
 * POST|PUT /v1.0/state/{store}/transaction (docs reference/api/state_api.md).
 * Both run as one atomic apply() on the store.
 */
#include <stdlib.h>
#include <string.h>

#include "api/calls.h"
#include "api/state_internal.h"
#include "util/err.h"

struct wgg_state_write {
  wgg_state_done_cb cb;
  void *user;
  wgg_store_entry *se;
  enum wgg_state_write_kind kind;
  wgg_state_op *ops;
  char **owned; /* 3 per op: prefixed key, value bytes, etag */
  size_t n;
  int status;
  wgg_err err;
  wgg_state_call call;
};
typedef wgg_state_write write_job;

void wgg_state_write_free(wgg_state_write *j) {
  if (!j) return;
  for (size_t i = 0; i < 3 * j->n; i++) free(j->owned[i]);
  free(j->owned);
  free(j->ops);
  free(j);
}
#define job_free wgg_state_write_free

wgg_state_write *wgg_state_write_new(wgg_store_entry *se, size_t n, enum wgg_state_write_kind kind) {
  write_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->se = se;
  j->kind = kind;
  j->n = n;
  j->ops = calloc(n ? n : 1, sizeof *j->ops);
  j->owned = calloc(3 * (n ? n : 1), sizeof *j->owned);
  if (!j->ops || !j->owned) {
    job_free(j);
    return NULL;
  }
  return j;
}

static const char *kind_code(enum wgg_state_write_kind k) {
  return k == WGG_STATE_WRITE_TXN ? "ERR_STATE_TRANSACTION" : k == WGG_STATE_WRITE_SAVE ? "ERR_STATE_SAVE" : "ERR_STATE_BULK_DELETE";
}

int wgg_state_write_set(wgg_api *api, wgg_state_write *j, size_t i, bool is_delete, const char *key, const char *value,
                        size_t value_len, const char *etag, const char *concurrency, const char *ttl,
                        wgg_api_status *st) {
  const char *code = kind_code(j->kind);
  if (!wgg_state_key_check(key, st)) return -1;
  wgg_state_op *op = &j->ops[i];
  op->is_delete = is_delete;
  if (etag) {
    if (!(j->owned[3 * i + 2] = strdup(etag))) goto oom;
    op->etag = j->owned[3 * i + 2];
  }
  bool txn = j->kind == WGG_STATE_WRITE_TXN; /* the store's Multi validates the options in daprd: a transaction error */
  if (concurrency && *concurrency && strcmp(concurrency, "first-write") && strcmp(concurrency, "last-write")) {
    if (txn)
      return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code,
                          "error while executing state transaction: unrecognized concurrency model '%s'", concurrency);
    return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, code, "unrecognized concurrency model '%s'", concurrency);
  }
  op->first_write = concurrency && !strcmp(concurrency, "first-write");
  wgg_err e;
  if (wgg_state_parse_ttl(ttl, &op->ttl_seconds, &e)) {
    if (txn) return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code, "error while executing state transaction: %s", e.msg);
    return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, code, "failed saving state in state store %s: %s",
                        j->se->comp->name, e.msg);
  }
  if (!(j->owned[3 * i] = wgg_state_prefixed(api, key))) goto oom;
  op->key = j->owned[3 * i];
  if (!is_delete) {
    char *v = malloc(value_len + 1);
    if (!v) goto oom;
    if (value_len) memcpy(v, value, value_len);
    v[value_len] = '\0';
    j->owned[3 * i + 1] = v;
    op->value = v;
    op->value_len = value_len;
  }
  return 0;
oom:
  return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code, "out of memory");
}

/* Fills op i of j from a JSON state item {key, value, etag, metadata,
 * options} (the value is stored as its JSON text). Returns 0, or -1 after
 * answering the Dapr error. */
static int parse_item(wgg_api *api, wgg_http_req *req, write_job *j, size_t i, json_t *item, bool is_delete,
                      const char *query_ttl) {
  const char *code = kind_code(j->kind);
  if (!json_is_object(item)) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: state item %zu is not an object", i);
    return -1;
  }
  json_t *k = wgg_json_field(item, "key");
  if (k && !json_is_string(k)) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: \"key\" must be a string");
    return -1;
  }
  json_t *etag = wgg_json_field(item, "etag");
  if (etag && !json_is_null(etag) && !json_is_string(etag)) {
    wgg_api_error(req, 400, j->kind == WGG_STATE_WRITE_TXN ? "ERR_MALFORMED_REQUEST" : code,
                  "failed deserializing HTTP body: \"etag\" must be a string");
    return -1;
  }
  json_t *opts = wgg_json_field(item, "options");
  json_t *conc = opts && json_is_object(opts) ? wgg_json_field(opts, "concurrency") : NULL;
  json_t *md = wgg_json_field(item, "metadata");
  json_t *ttl = md && json_is_object(md) ? json_object_get(md, "ttlInSeconds") : NULL;
  const char *ttl_s = ttl && json_is_string(ttl) ? json_string_value(ttl) : query_ttl;
  char num[32];
  if (ttl && json_is_integer(ttl)) {
    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(ttl));
    ttl_s = num;
  }
  char *text = NULL;
  if (!is_delete) {
    json_t *v = wgg_json_field(item, "value");
    if (!(text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null"))) {
      wgg_api_error(req, 500, code, "out of memory");
      return -1;
    }
  }
  wgg_api_status st;
  int rc = wgg_state_write_set(api, j, i, is_delete, k ? json_string_value(k) : NULL, text, text ? strlen(text) : 0,
                               json_is_string(etag) ? json_string_value(etag) : NULL,
                               json_is_string(conc) ? json_string_value(conc) : NULL, ttl_s, &st);
  free(text);
  if (rc) wgg_api_error_status(req, &st);
  return rc;
}

static void write_done(wgg_state_call *c) {
  write_job *j = c->user;
  j->status = c->status;
  wgg_metrics_state(j->se->metrics, wgg_state_index(j->se),
                    j->kind == WGG_STATE_WRITE_TXN    ? WGG_OP_TRANSACTION
                    : j->kind == WGG_STATE_WRITE_SAVE ? WGG_OP_SET
                                                      : WGG_OP_DELETE,
                    j->status == WGG_ST_OK);
  const char *store = j->se->comp->name, *code = kind_code(j->kind);
  wgg_api_status st;
  int http = j->kind == WGG_STATE_WRITE_TXN ? 500 /* daprd: every error of the store's Multi (http.go onPostStateTransaction) */
             : j->status == WGG_ST_ETAG_MISMATCH                                           ? 409
             : j->status == WGG_ST_ETAG_INVALID || j->status == WGG_ST_BAD_REQUEST ? 400
                                                                                         : 500;
  /* daprd's gRPC codes: Aborted for a mismatch, InvalidArgument for a bad etag (getStateErrorCode);
   * a transaction fails with Internal whatever the cause */
  int grpc = j->kind == WGG_STATE_WRITE_TXN ? WGG_GRPC_INTERNAL
             : http == 409                  ? WGG_GRPC_ABORTED
             : http == 400                  ? WGG_GRPC_INVALID_ARGUMENT
                                            : WGG_GRPC_INTERNAL;
  const char *mismatch = j->status == WGG_ST_ETAG_MISMATCH ? "possible etag mismatch. error from state store: " : "";
  if (j->status == WGG_ST_OK) {
  } else if (j->kind == WGG_STATE_WRITE_TXN) {
    wgg_api_fail(&st, http, grpc, code, "error while executing state transaction: %s%s", mismatch, j->err.msg);
  } else if (j->kind == WGG_STATE_WRITE_SAVE) {
    wgg_api_fail(&st, http, grpc, code, "failed saving state in state store %s: %s%s", store, mismatch, j->err.msg);
  } else {
    wgg_api_fail(&st, http, grpc, code, "failed deleting state in state store %s: %s%s", store, mismatch, j->err.msg);
  }
  j->cb(j->user, j->status == WGG_ST_OK ? NULL : &st);
  job_free(j);
}

int wgg_state_write_submit(wgg_state_write *j, uv_loop_t *loop, wgg_state_done_cb cb, void *user, wgg_api_status *st) {
  j->cb = cb;
  j->user = user;
  j->call = (wgg_state_call){.ops = j->ops, .n = j->n, .err = &j->err, .done = write_done, .user = j};
  if (wgg_state_call_start(loop, j->se, &j->call)) {
    const char *code = kind_code(j->kind);
    job_free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code, "out of memory");
  }
  return 0;
}

bool wgg_state_txn_supported(const wgg_store_entry *se, wgg_api_status *st) {
  if (se->store->features & WGG_FEAT_TRANSACTIONAL) return true;
  wgg_api_fail(st, 500, WGG_GRPC_UNIMPLEMENTED, "ERR_STATE_STORE_NOT_SUPPORTED",
               "state store %s doesn't support transactions", se->comp->name);
  return false;
}

static void http_done(void *user, const wgg_api_status *st) {
  if (st) wgg_api_error_status(user, st);
  else wgg_api_empty(user);
}

/* Parses the body as JSON, or answers 400 ERR_MALFORMED_REQUEST. */
static json_t *parse_body(wgg_http_req *req) {
  json_error_t je;
  json_t *doc = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je);
  if (!doc) wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", je.text);
  return doc;
}

static void submit(wgg_http_req *req, write_job *j, json_t *doc) {
  json_decref(doc); /* the ops own copies of everything they use */
  wgg_api_status st;
  if (wgg_state_write_submit(j, req->loop, http_done, req, &st)) wgg_api_error_status(req, &st);
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
  write_job *j = wgg_state_write_new(se, n, WGG_STATE_WRITE_SAVE);
  if (!j) {
    json_decref(doc);
    wgg_api_error(req, 500, "ERR_STATE_SAVE", "out of memory");
    return;
  }
  char *qttl = wgg_query_get(req->query, "metadata.ttlInSeconds");
  for (size_t i = 0; i < n; i++) {
    if (parse_item(api, req, j, i, json_array_get(doc, i), false, qttl)) {
      free(qttl);
      json_decref(doc);
      job_free(j);
      return;
    }
  }
  free(qttl);
  submit(req, j, doc);
}

void wgg_state_transaction(wgg_api *api, wgg_http_req *req, wgg_store_entry *se) {
  wgg_api_status st;
  if (!wgg_state_txn_supported(se, &st)) {
    wgg_api_error_status(req, &st);
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
  write_job *j = wgg_state_write_new(se, n, WGG_STATE_WRITE_TXN);
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
    if (bad || parse_item(api, req, j, i, r, is_delete, NULL)) {
      json_decref(doc);
      job_free(j);
      return;
    }
  }
  submit(req, j, doc);
}
