/*
 * dapr_state.c: the state RPCs of dapr.proto.runtime.v1.Dapr (GetState,
 * GetBulkState, SaveState, DeleteState, DeleteBulkState,
 * ExecuteStateTransaction; dapr pkg/api/grpc/grpc.go) over the state calls of
 * api/calls.h, which the HTTP routes use too. Values are stored as the bytes
 * given (the HTTP API stores the JSON text of "value"), so a value saved over
 * either transport reads back the same over both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/dapr_internal.h"

typedef Dapr__Proto__Runtime__V1__GetStateRequest GetStateRequest;
typedef Dapr__Proto__Runtime__V1__GetBulkStateRequest GetBulkStateRequest;
typedef Dapr__Proto__Runtime__V1__SaveStateRequest SaveStateRequest;
typedef Dapr__Proto__Runtime__V1__DeleteStateRequest DeleteStateRequest;
typedef Dapr__Proto__Runtime__V1__DeleteBulkStateRequest DeleteBulkStateRequest;
typedef Dapr__Proto__Runtime__V1__ExecuteStateTransactionRequest TxnRequest;
typedef Dapr__Proto__Common__V1__StateItem StateItem;

static const char *concurrency_name(const Dapr__Proto__Common__V1__StateOptions *o) {
  if (!o) return NULL;
  switch (o->concurrency) {
    case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_FIRST_WRITE: return "first-write";
    case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_LAST_WRITE: return "last-write";
    default: return NULL;
  }
}

static void done_empty(void *user, const wgg_api_status *st) {
  if (st) {
    wgg_grpc_fail_status(user, st);
    return;
  }
  Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
  wgg_grpc_reply(user, &e.base);
}

/* Answers OK with Empty. */
static void reply_empty(wgg_grpc_call *call) {
  done_empty(call, NULL);
}

/* ---- GetState ---- */

static void get_done(void *user, const wgg_api_status *st, const wgg_state_got *got) {
  wgg_grpc_call *call = user;
  if (st) {
    wgg_grpc_fail_status(call, st);
    return;
  }
  Dapr__Proto__Runtime__V1__GetStateResponse r = DAPR__PROTO__RUNTIME__V1__GET_STATE_RESPONSE__INIT;
  Dapr__Proto__Runtime__V1__GetStateResponse__MetadataEntry ttl =
      DAPR__PROTO__RUNTIME__V1__GET_STATE_RESPONSE__METADATA_ENTRY__INIT;
  Dapr__Proto__Runtime__V1__GetStateResponse__MetadataEntry *mds[1] = {&ttl};
  char when[40];
  if (got->found) {
    r.data.data = (uint8_t *)got->value;
    r.data.len = got->value_len;
    r.etag = got->etag ? got->etag : (char *)"";
    if (got->expire_unix > 0) { /* as the HTTP route's metadata.ttlExpireTime */
      time_t t = (time_t)got->expire_unix;
      struct tm tm;
      gmtime_r(&t, &tm);
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      ttl.key = (char *)"ttlExpireTime";
      ttl.value = when;
      r.n_metadata = 1;
      r.metadata = mds;
    }
  }
  wgg_grpc_reply(call, &r.base);
}

void wgg_grpc_get_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  GetStateRequest *q = (GetStateRequest *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->store_name, &st);
  if (!se || !wgg_state_key_check(q->key, &st) ||
      wgg_state_get_call(api, wgg_grpc_call_loop(call), se, q->key, get_done, call, &st))
    wgg_grpc_fail_status(call, &st);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- GetBulkState ---- */

static void bulk_done(void *user, const wgg_state_bulk_item *items, size_t n) {
  wgg_grpc_call *call = user;
  if (!items) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    return;
  }
  Dapr__Proto__Runtime__V1__GetBulkStateResponse r = DAPR__PROTO__RUNTIME__V1__GET_BULK_STATE_RESPONSE__INIT;
  Dapr__Proto__Runtime__V1__BulkStateItem *it = calloc(n ? n : 1, sizeof *it);
  Dapr__Proto__Runtime__V1__BulkStateItem **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  if (!it || !ptrs) {
    free(it);
    free(ptrs);
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    dapr__proto__runtime__v1__bulk_state_item__init(&it[i]);
    it[i].key = (char *)items[i].key;
    if (!items[i].ok) {
      it[i].error = (char *)items[i].error;
    } else if (items[i].got->found) {
      it[i].data.data = (uint8_t *)items[i].got->value;
      it[i].data.len = items[i].got->value_len;
      it[i].etag = items[i].got->etag ? items[i].got->etag : (char *)"";
    }
    ptrs[i] = &it[i];
  }
  r.n_items = n;
  r.items = ptrs;
  wgg_grpc_reply(call, &r.base);
  free(it);
  free(ptrs);
}

void wgg_grpc_get_bulk_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  GetBulkStateRequest *q = (GetBulkStateRequest *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->store_name, &st);
  bool ok = se != NULL;
  for (size_t i = 0; ok && i < q->n_keys; i++) ok = wgg_state_key_check(q->keys[i], &st);
  if (ok && q->n_keys == 0) {
    Dapr__Proto__Runtime__V1__GetBulkStateResponse r = DAPR__PROTO__RUNTIME__V1__GET_BULK_STATE_RESPONSE__INIT;
    wgg_grpc_reply(call, &r.base);
  } else if (!ok || wgg_state_bulk_call(api, wgg_grpc_call_loop(call), se, (const char *const *)q->keys, q->n_keys,
                                        bulk_done, call, &st)) {
    wgg_grpc_fail_status(call, &st);
  }
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- SaveState, DeleteBulkState, ExecuteStateTransaction: one batch ---- */

/* Adds item as operation i of w. Returns 0 or -1 with st filled. */
static int add_item(wgg_api *api, wgg_state_write *w, size_t i, const StateItem *s, bool is_delete,
                    wgg_api_status *st) {
  static const StateItem empty = DAPR__PROTO__COMMON__V1__STATE_ITEM__INIT;
  if (!s) s = &empty;
  return wgg_state_write_set(api, w, i, is_delete, s->key, (const char *)s->value.data, s->value.len,
                             s->etag ? s->etag->value : NULL, concurrency_name(s->options),
                             wgg_pb_map_get(s->metadata, s->n_metadata, "ttlInSeconds"), st);
}

/* Starts a batch of n writes on se; on failure fills st with err_code's out
 * of memory. */
static wgg_state_write *write_new(wgg_store_entry *se, size_t n, enum wgg_state_write_kind kind, const char *err_code,
                                  wgg_api_status *st) {
  wgg_state_write *w = wgg_state_write_new(se, n, kind);
  if (!w) wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, err_code, "out of memory");
  return w;
}

/* Ends a batch handler and frees m: if ok, submits w (an empty reply when
 * there is no w), else frees w and fails call with st. */
static void write_end(wgg_grpc_call *call, ProtobufCMessage *m, wgg_state_write *w, bool ok, wgg_api_status *st) {
  if (ok && !w)
    reply_empty(call);
  else if (!ok || wgg_state_write_submit(w, wgg_grpc_call_loop(call), done_empty, call, st)) {
    if (!ok) wgg_state_write_free(w); /* a failed submit has freed it */
    wgg_grpc_fail_status(call, st);
  }
  protobuf_c_message_free_unpacked(m, NULL);
}

void wgg_grpc_save_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  SaveStateRequest *q = (SaveStateRequest *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->store_name, &st);
  wgg_state_write *w = NULL;
  bool ok = se && (!q->n_states || (w = write_new(se, q->n_states, WGG_STATE_WRITE_SAVE, "ERR_STATE_SAVE", &st)));
  for (size_t i = 0; ok && w && i < q->n_states; i++) {
    if (!q->states[i]->key || !*q->states[i]->key) { /* daprd's gRPC wording */
      wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_STATE_SAVE", "state key cannot be empty");
      ok = false;
    } else {
      ok = !add_item(api, w, i, q->states[i], false, &st);
    }
  }
  write_end(call, m, w, ok, &st);
}

void wgg_grpc_delete_bulk_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  DeleteBulkStateRequest *q = (DeleteBulkStateRequest *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->store_name, &st);
  wgg_state_write *w = NULL;
  bool ok = se && (!q->n_states ||
                   (w = write_new(se, q->n_states, WGG_STATE_WRITE_DELETE_BULK, "ERR_STATE_BULK_DELETE", &st)));
  for (size_t i = 0; ok && w && i < q->n_states; i++) ok = !add_item(api, w, i, q->states[i], true, &st);
  write_end(call, m, w, ok, &st);
}

void wgg_grpc_transaction(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  TxnRequest *q = (TxnRequest *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->storename, &st);
  wgg_state_write *w = NULL;
  /* no early reply for zero operations: the batch itself answers */
  bool ok = se && wgg_state_txn_supported(se, &st) &&
            (w = write_new(se, q->n_operations, WGG_STATE_WRITE_TXN, "ERR_STATE_TRANSACTION", &st));
  for (size_t i = 0; ok && i < q->n_operations; i++) {
    const char *kind = q->operations[i]->operationtype;
    bool del = !strcmp(kind, "delete");
    if (!del && strcmp(kind, "upsert")) {
      wgg_api_fail(&st, 500, WGG_GRPC_UNIMPLEMENTED, "ERR_NOT_SUPPORTED_STATE_OPERATION", "operation type %s not supported",
                   kind);
      ok = false;
    } else {
      ok = !add_item(api, w, i, q->operations[i]->request, del, &st);
    }
  }
  write_end(call, m, w, ok, &st);
}

/* ---- DeleteState ---- */

void wgg_grpc_delete_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  DeleteStateRequest *q = (DeleteStateRequest *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->store_name, &st);
  const char *conc = concurrency_name(q->options);
  if (!se || !wgg_state_key_check(q->key, &st) ||
      wgg_state_delete_call(api, wgg_grpc_call_loop(call), se, q->key, q->etag ? q->etag->value : NULL,
                            conc && !strcmp(conc, "first-write"), done_empty, call, &st))
    wgg_grpc_fail_status(call, &st);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- QueryStateAlpha1 (dapr pkg/api/universal/state_query.go) ---- */

static void query_done(void *user, const wgg_api_status *st, const wgg_state_query_row *rows, size_t n,
                       const char *token) {
  wgg_grpc_call *call = user;
  if (st) {
    wgg_grpc_fail_status(call, st);
    return;
  }
  Dapr__Proto__Runtime__V1__QueryStateResponse r = DAPR__PROTO__RUNTIME__V1__QUERY_STATE_RESPONSE__INIT;
  Dapr__Proto__Runtime__V1__QueryStateItem *items = calloc(n ? n : 1, sizeof *items);
  Dapr__Proto__Runtime__V1__QueryStateItem **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  if (!items || !ptrs) {
    free(items);
    free(ptrs);
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    dapr__proto__runtime__v1__query_state_item__init(&items[i]);
    items[i].key = (char *)rows[i].key;
    items[i].data.data = (uint8_t *)rows[i].data;
    items[i].data.len = rows[i].len;
    items[i].etag = (char *)rows[i].etag;
    ptrs[i] = &items[i];
  }
  if (n) { /* daprd answers an empty response, without token, when nothing matched */
    r.n_results = n;
    r.results = ptrs;
    if (token) r.token = (char *)token;
  }
  wgg_grpc_reply(call, &r.base);
  free(items);
  free(ptrs);
}

void wgg_grpc_query_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__QueryStateRequest *q = (void *)m;
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, q->store_name, &st);
  if (!se || wgg_state_query_call(api, wgg_grpc_call_loop(call), se, q->query, strlen(q->query), query_done, call, &st))
    wgg_grpc_fail_status(call, &st);
  protobuf_c_message_free_unpacked(m, NULL);
}
