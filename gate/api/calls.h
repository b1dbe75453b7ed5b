/*
 * calls.h: the building blocks as transport-neutral calls, shared by the HTTP
 * routes (state*.c, publish.c, bindings.c, metadata.c) and the gRPC API
 * (grpc/dapr_*.c). Each takes plain values (no request object), runs on the
 * calling loop thread and reports through a callback on that loop. A failure
 * is a wgg_api_status carrying both transports' answers, as daprd's errors do
 * (dapr pkg/api/errors, pkg/messages: one message, an HTTP status and a gRPC
 * code per error).
 */
#ifndef WGG_API_CALLS_H
#define WGG_API_CALLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum wgg_grpc_code {
  WGG_GRPC_OK = 0,
  WGG_GRPC_CANCELLED = 1,
  WGG_GRPC_UNKNOWN = 2,
  WGG_GRPC_INVALID_ARGUMENT = 3,
  WGG_GRPC_DEADLINE_EXCEEDED = 4,
  WGG_GRPC_NOT_FOUND = 5,
  WGG_GRPC_ALREADY_EXISTS = 6,
  WGG_GRPC_PERMISSION_DENIED = 7,
  WGG_GRPC_RESOURCE_EXHAUSTED = 8,
  WGG_GRPC_FAILED_PRECONDITION = 9,
  WGG_GRPC_ABORTED = 10,
  WGG_GRPC_OUT_OF_RANGE = 11,
  WGG_GRPC_UNIMPLEMENTED = 12,
  WGG_GRPC_INTERNAL = 13,
  WGG_GRPC_UNAVAILABLE = 14,
  WGG_GRPC_DATA_LOSS = 15,
  WGG_GRPC_UNAUTHENTICATED = 16,
};

/* A building block's error: HTTP status, gRPC code, Dapr errorCode (a static
 * string, e.g. "ERR_STATE_GET") and message. http == 0 means success. The
 * gRPC answer carries a google.rpc.ErrorInfo whose reason is `reason` when
 * set (else derived from code, grpc/dapr.c), none when `plain` (daprd's
 * messages.APIError kind). wgg_api_fail clears both. */
typedef struct wgg_api_status {
  int http;
  int grpc;
  const char *code;
  const char *reason;
  bool plain;
  char msg[1024];
} wgg_api_status;

/* Fills st (returns -1, for `return wgg_api_fail(...)`). */
int wgg_api_fail(wgg_api_status *st, int http, int grpc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Answers an HTTP request with st as {"errorCode","message"} at st->http. */
void wgg_api_error_status(wgg_http_req *req, const wgg_api_status *st);

/* ---- state (state.c, state_write.c, state_bulk.c) ---- */

/* The store named name: NULL with st filled when there is no store at all
 * (500 / FAILED_PRECONDITION ERR_STATE_STORE_NOT_CONFIGURED) or none of that
 * name (400 / INVALID_ARGUMENT "state store %s is not found"). */
wgg_store_entry *wgg_state_lookup(wgg_api *api, const char *name, wgg_api_status *st);

/* Checks a user key: non-empty and without "||" (400 / INVALID_ARGUMENT
 * ERR_MALFORMED_REQUEST). */
bool wgg_state_key_check(const char *key, wgg_api_status *st);

/* Completion of a get: st NULL on success, got then valid during the call
 * (got->found false for an absent key). */
typedef void (*wgg_state_get_cb)(void *user, const wgg_api_status *st, const wgg_state_got *got);

/* Reads key (a checked user key) from se. Returns 0 and cb runs later once,
 * or -1 with st filled (out of memory) and cb not run. */
int wgg_state_get_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *key, wgg_state_get_cb cb,
                       void *user, wgg_api_status *st);

/* Completion of a write, delete or transaction: st NULL on success. */
typedef void (*wgg_state_done_cb)(void *user, const wgg_api_status *st);

/* Deletes key (a checked user key): etag NULL for none, first_write for
 * first-write concurrency. Errors (to cb): 409 / ABORTED etag mismatch,
 * 400 / INVALID_ARGUMENT invalid etag, 500 / INTERNAL otherwise,
 * ERR_STATE_DELETE. Returns 0 or -1 as wgg_state_get_call. */
int wgg_state_delete_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *key, const char *etag,
                          bool first_write, wgg_state_done_cb cb, void *user, wgg_api_status *st);

/* A batch of writes run as one atomic apply(): a save (kind SAVE), a
 * transaction (TXN) or a bulk delete (DELETE_BULK); they differ in their
 * error codes and messages (daprd's ErrStateSave, ErrStateTransaction,
 * ErrStateDeleteBulk). */
enum wgg_state_write_kind { WGG_STATE_WRITE_SAVE, WGG_STATE_WRITE_TXN, WGG_STATE_WRITE_DELETE_BULK };
typedef struct wgg_state_write wgg_state_write;

/* A batch of n operations on se. NULL on OOM. */
wgg_state_write *wgg_state_write_new(wgg_store_entry *se, size_t n, enum wgg_state_write_kind kind);

/* Sets operation i: key (user key, checked here), value bytes (upserts),
 * etag (NULL = none), concurrency ("first-write", "last-write", "" or NULL),
 * ttl (ttlInSeconds text or NULL). Everything is copied. Returns 0, or -1
 * with st filled (bad key, unknown concurrency, bad ttl, OOM). */
int wgg_state_write_set(wgg_api *api, wgg_state_write *w, size_t i, bool is_delete, const char *key, const char *value,
                        size_t value_len, const char *etag, const char *concurrency, const char *ttl,
                        wgg_api_status *st);

/* Runs the batch (ownership of w moves in): cb runs once later. Returns 0,
 * or -1 with st filled (w freed, cb not run). */
int wgg_state_write_submit(wgg_state_write *w, uv_loop_t *loop, wgg_state_done_cb cb, void *user, wgg_api_status *st);

/* Whether se supports transactions; false with st filled (500 /
 * UNIMPLEMENTED ERR_STATE_STORE_NOT_SUPPORTED) when not. */
bool wgg_state_txn_supported(const wgg_store_entry *se, wgg_api_status *st);

/* Frees a batch that was not submitted. */
void wgg_state_write_free(wgg_state_write *w);

/* One key of a bulk read. */
typedef struct wgg_state_bulk_item {
  const char *key;   /* the user key */
  bool ok;           /* false: error says why */
  const char *error;
  const wgg_state_got *got;
} wgg_state_bulk_item;

/* Completion of a bulk read: n items in request order, valid during the call. */
typedef void (*wgg_state_bulk_cb)(void *user, const wgg_state_bulk_item *items, size_t n);

/* Reads keys (n checked user keys, copied). Returns 0 and cb runs later, or
 * -1 with st filled (OOM). */
int wgg_state_bulk_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *const *keys, size_t n,
                        wgg_state_bulk_cb cb, void *user, wgg_api_status *st);

/* One row of a state query: the user key (daprd's GetOriginalStateKey), the
 * value's bytes and its etag ("" when none). */
typedef struct wgg_state_query_row {
  const char *key;
  const char *data;
  size_t len;
  const char *etag;
} wgg_state_query_row;

/* Completion of a query: st NULL on success with n rows (valid during the
 * call) and token the next page's token (NULL without a page limit). */
typedef void (*wgg_state_query_cb)(void *user, const wgg_api_status *st, const wgg_state_query_row *rows, size_t n,
                                   const char *token);

/* Runs query (len bytes of daprd's JSON query language) on se (daprd's
 * universal QueryStateAlpha1). Errors: 500 / INTERNAL
 * ERR_STATE_STORE_NOT_SUPPORTED "state store does not support querying"
 * (reason DAPR_STATE_QUERYING_NOT_SUPPORTED), 500 / INTERNAL ERR_STATE_QUERY
 * "state store S query failed: failed to parse JSON query body: ..." or
 * "...: <store error>" (reason DAPR_STATE_QUERY_FAILED). Returns 0 and cb
 * runs later once, or -1 with st filled and cb not run. */
int wgg_state_query_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *query, size_t len,
                         wgg_state_query_cb cb, void *user, wgg_api_status *st);

/* ---- pub/sub (publish.c) ---- */

/* What to publish: data (len bytes) with content_type to topic of pubsub;
 * metadata a JSON object of strings (borrowed; rawPayload, ttlInSeconds,
 * cloudevent.*); traceparent/tracestate the caller's (NULL when none). */
typedef struct wgg_publish_input {
  const char *pubsub, *topic;
  const char *data;
  size_t len;
  const char *content_type;
  json_t *metadata;
  const char *traceparent, *tracestate;
} wgg_publish_input;

/* Publishes one event (daprd's PublishEvent): validates the pubsub and topic
 * (not configured, empty, not found, not allowed by scopes), builds the
 * CloudEvent unless rawPayload, and publishes. Returns 0 and cb runs later
 * with NULL or the publish error, or -1 with st filled and cb not run. */
int wgg_publish_call(wgg_api *api, uv_loop_t *loop, const wgg_publish_input *in, wgg_state_done_cb cb, void *user,
                     wgg_api_status *st);

/* One event of a bulk publish: its bytes and content type, and its own
 * metadata (a JSON object of strings or NULL; borrowed) over the request's. */
typedef struct wgg_publish_entry {
  const char *entry_id;
  const char *data;
  size_t len;
  const char *content_type;
  json_t *metadata;
} wgg_publish_entry;

/* An entry the pubsub refused, and why. */
typedef struct wgg_publish_failed {
  const char *entry_id;
  const char *error;
} wgg_publish_failed;

/* Completion of a bulk publish: the n entries that failed (none: all
 * published), valid during the call. */
typedef void (*wgg_publish_bulk_cb)(void *user, const wgg_publish_failed *failed, size_t n);

/* Publishes n events (0 is fine) to in->topic of in->pubsub (in->data is unused):
 * validates as wgg_publish_call, then each entry (entry IDs present and
 * unique: 400 / INVALID_ARGUMENT ERR_PUBSUB_EVENTS_SER in daprd's
 * BulkPublishEventAlpha1 wording; its CloudEvent: ERR_PUBSUB_CLOUD_EVENTS_SER
 * or ERR_PUBSUB_REQUEST_METADATA), and publishes them one by one. Returns 0
 * and cb runs later, or -1 with st filled and cb not run. */
int wgg_publish_bulk_call(wgg_api *api, uv_loop_t *loop, const wgg_publish_input *in, const wgg_publish_entry *ents,
                          size_t n, wgg_publish_bulk_cb cb, void *user, wgg_api_status *st);

/* ---- bindings (bindings.c) ---- */

/* Completion of an output binding: st NULL on success; result holds the
 * binding's data and metadata either way (valid during the call). */
typedef void (*wgg_binding_done_cb)(void *user, const wgg_api_status *st, const wgg_binding_result *result);

/* Invokes output binding name with operation, data (len bytes, copied) and
 * metadata (a JSON object of strings; ownership moves in). Errors: 500 /
 * INTERNAL ERR_INVOKE_OUTPUT_BINDING "error invoking output binding %s: %s".
 * Returns 0 and cb runs later, or -1 with st filled and cb not run. When
 * cancel is not NULL it receives the call's cancel token (util/cancel.h),
 * valid until cb runs: firing it (the caller went away) interrupts the
 * binding, as daprd cancels the request's context. */
struct wgg_cancel;
int wgg_binding_call(wgg_api *api, uv_loop_t *loop, const char *name, const char *operation, const char *data,
                     size_t len, json_t *metadata, wgg_binding_done_cb cb, void *user, struct wgg_cancel **cancel,
                     wgg_api_status *st);

/* ---- secrets (secrets.c) ---- */

/* Reads secret name from secret store store (name NULL: every secret, those
 * the Configuration's secrets scopes deny left out), with request metadata md
 * (a JSON object of strings or NULL). *out receives a new reference: {key:
 * value} for one secret, {name: {key: value}} for all. Synchronous (the
 * local stores answer from memory or the environment). Errors as daprd
 * (pkg/messages): 500 / FAILED_PRECONDITION ERR_SECRET_STORES_NOT_CONFIGURED,
 * 401 / INVALID_ARGUMENT ERR_SECRET_STORE_NOT_FOUND, 403 / PERMISSION_DENIED
 * ERR_PERMISSION_DENIED, 500 / INTERNAL ERR_SECRET_GET. Returns 0 or -1 with
 * st filled. */
int wgg_secrets_call(wgg_api *api, const char *store, const char *name, json_t *md, json_t **out, wgg_api_status *st);

/* ---- metadata (metadata.c) ---- */

/* The sidecar's metadata as GET /v1.0/metadata answers it (a new reference;
 * NULL on OOM). */
json_t *wgg_metadata_doc(wgg_api *api);

/* Sets the extended metadata attribute key to value (len bytes of UTF-8).
 * Returns 0, or -1 with st filled. */
int wgg_metadata_set(wgg_api *api, const char *key, const char *value, size_t len, wgg_api_status *st);

/* ---- configuration (configuration.c) ---- */

/* The configuration store named name: NULL with st filled when there is
 * none at all (500 / FAILED_PRECONDITION ERR_CONFIGURATION_STORE_NOT_CONFIGURED
 * "configuration stores not configured") or none of that name (400 /
 * INVALID_ARGUMENT ERR_CONFIGURATION_STORE_NOT_FOUND "configuration store %s
 * not found"), as daprd's getConfigurationStore. */
struct wgg_config_entry *wgg_config_lookup(wgg_api *api, const char *name, wgg_api_status *st);

/* Completion of a configuration get: st NULL on success with items (valid
 * during the call; none: no key has a value). */
struct wgg_conf_items;
typedef void (*wgg_config_get_cb)(void *user, const wgg_api_status *st, const struct wgg_conf_items *items);

/* Reads keys (n of them, copied; n 0: every key) from ce. Errors (to cb):
 * 500 / INTERNAL ERR_CONFIGURATION_GET "failed to get [a b] from
 * Configuration store S: <error>". Returns 0 and cb runs later (or now) once,
 * or -1 with st filled (OOM) and cb not run. */
int wgg_config_get_call(wgg_api *api, uv_loop_t *loop, struct wgg_config_entry *ce, const char *const *keys, size_t n,
                        wgg_config_get_cb cb, void *user, wgg_api_status *st);

/* Called from the store's watcher thread with a subscription's changed
 * items (borrowed for the call). */
typedef void (*wgg_config_notify_cb)(const char *id, const struct wgg_conf_items *items, void *user);

/* Subscribes to keys (n 0: every key) of ce under a new random id (written
 * to id, a UUID): fn(id, items, user) runs on the store's thread for each
 * change until wgg_config_unsubscribe_call. Errors: 500 / INVALID_ARGUMENT
 * ERR_CONFIGURATION_SUBSCRIBE "failed to subscribe [a b] from Configuration
 * store S: <error>". Returns 0, or -1 with st filled. */
int wgg_config_subscribe_call(wgg_api *api, struct wgg_config_entry *ce, const char *const *keys, size_t n,
                              wgg_config_notify_cb fn, void *user, char id[37], wgg_api_status *st);

/* Ends subscription id of ce: no fn call follows once this returns.
 * Returns 0, or -1 with err (no such subscription). */
int wgg_config_unsubscribe_call(struct wgg_config_entry *ce, const char *id, wgg_err *err);

/* ---- service invocation (invoke_call.c) ---- */

/* An invocation: app_id (this app, another app through its sidecar, an
 * HTTPEndpoint or a URL), the HTTP verb ("POST", ...), the method (method_len
 * bytes, not yet normalised), the query ("" or NULL for none), headers for
 * the app (borrowed, copied; e.g. content-type, traceparent), the body and the
 * caller's address. */
typedef struct wgg_invoke_input {
  const char *app_id, *verb;
  const char *method;
  size_t method_len;
  const char *query;
  const wgg_http_header *headers;
  size_t n;
  const char *data;
  size_t len;
  const char *peer;
} wgg_invoke_input;

/* The app's answer (any status), valid during the callback. */
typedef struct wgg_invoke_result {
  int status;
  const wgg_http_header *headers;
  size_t n;
  const char *body;
  size_t len;
} wgg_invoke_result;

/* Completion: st (the sidecar's own failure: 500 / INTERNAL
 * ERR_DIRECT_INVOKE "failed to invoke, id: X, err: ...", no rich details) or
 * res (whatever the app answered). */
typedef void (*wgg_invoke_cb)(void *user, const wgg_api_status *st, const wgg_invoke_result *res);

/* Invokes as POST /v1.0/invoke/{app_id}/method/{method} does, through the
 * same code (wgg_api_invoke_n). Returns 0 and cb runs once (now or later),
 * or -1 with st filled (an unknown verb, OOM) and cb not run. */
int wgg_invoke_call(wgg_api *api, uv_loop_t *loop, const wgg_invoke_input *in, wgg_invoke_cb cb, void *user,
                    wgg_api_status *st);

/* ---- jobs (jobs.c) ---- */

enum wgg_job_op { WGG_JOB_OP_SCHEDULE, WGG_JOB_OP_GET, WGG_JOB_OP_DELETE };

/* A job call's input: name, and for a schedule the job (NULL strings:
 * absent; repeats -1: absent; data the JSON text of a value or NULL). */
typedef struct wgg_job_input {
  const char *name;
  const char *schedule, *due_time, *ttl, *data;
  int64_t repeats;
  bool overwrite;
} wgg_job_input;

/* Completion of a job call: st NULL on success; got (GET only, borrowed for
 * the call) is the job as GET /v1.0-alpha1/jobs answers it: {"name",
 * "schedule","repeats","dueTime","ttl","data":{"@type":...,"value":...}}. */
typedef void (*wgg_job_cb)(void *user, const wgg_api_status *st, json_t *got);

/* ScheduleJobAlpha1 / GetJobAlpha1 / DeleteJobAlpha1 as daprd's universal
 * jobs.go (errors carry daprd's ErrorInfo reason as code): name empty (or
 * holding '|' for a schedule): 400 / INVALID_ARGUMENT
 * DAPR_SCHEDULER_JOB_NAME_EMPTY "Name is empty"; no schedule nor dueTime:
 * DAPR_SCHEDULER_SCHEDULE_EMPTY "Schedule is empty"; the store's answer:
 * 409 / ALREADY_EXISTS or 400 / INVALID_ARGUMENT or 500 / INTERNAL
 * DAPR_SCHEDULER_SCHEDULE_JOB "failed to schedule job due to: ...", 500 /
 * INTERNAL DAPR_SCHEDULER_GET_JOB (also for a job that does not exist) and
 * DAPR_SCHEDULER_DELETE_JOB. Strings are copied. Returns 0 and cb runs later
 * once, or -1 with st filled and cb not run. */
int wgg_job_call(wgg_api *api, uv_loop_t *loop, enum wgg_job_op op, const wgg_job_input *in, wgg_job_cb cb, void *user,
                 wgg_api_status *st);

/* ---- distributed lock (lock.c) ---- */

/* Completion of a lock call: st NULL on success, then acquired (TryLock) or
 * status (Unlock: 0 success, 1 lock does not exist, 2 belongs to others). */
typedef void (*wgg_lock_cb)(void *user, const wgg_api_status *st, bool acquired, int status);

/* TryLockAlpha1 (unlock false; expiry in seconds) or UnlockAlpha1 on lock
 * store `store`, as daprd's universal lock.go: checks in its order (expiry
 * not positive, no lock store: 500 / FAILED_PRECONDITION
 * ERR_LOCK_STORE_NOT_CONFIGURED, resource or owner empty: 400 /
 * INVALID_ARGUMENT ERR_MALFORMED_REQUEST, store not found: 400 /
 * INVALID_ARGUMENT ERR_LOCK_STORE_NOT_FOUND), all without rich details;
 * failures of the store: 500 / INTERNAL ERR_TRY_LOCK "failed to try
 * acquiring lock: %s" or ERR_UNLOCK "failed to release lock: %s". Strings
 * are copied. Returns 0 and cb runs later (or now) once, or -1 with st
 * filled and cb not run. */
int wgg_lock_call(wgg_api *api, uv_loop_t *loop, bool unlock, const char *store, const char *resource,
                  const char *owner, int32_t expiry, wgg_lock_cb cb, void *user, wgg_api_status *st);

#endif
