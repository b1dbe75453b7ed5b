/*
 * store.h: the one interface every state store implements (state.in-memory,
 * state.sqlite, state.redis, state.postgresql).
 *
 * Semantics follow Dapr's state stores (components-contrib state/store.go and
 * docs reference/api/state_api.md):
 *   - keys arrive already prefixed (`<appId>||<key>`); values are opaque bytes
 *     (the JSON text of the request's `value`);
 *   - every stored item has an ETag (opaque; a random UUID for in-memory and
 *     sqlite, the item's version number for redis, the row's xmin for
 *     postgresql); a write or delete that
 *     carries an ETag succeeds only if it matches (else WGG_ST_ETAG_MISMATCH),
 *     and an ETag of the wrong form for the store is WGG_ST_ETAG_INVALID;
 *   - a write with first-write concurrency and no ETag succeeds only if the
 *     key does not exist yet (else WGG_ST_ETAG_MISMATCH);
 *   - ttl_seconds > 0 makes the item expire; expired items read as absent.
 *
 * get/apply/query are synchronous and may block (disk, network). A store
 * with `blocking` set is only ever called that way off the loop threads (its
 * executor thread or the libuv pool); others may be called on a loop thread.
 * Every store is safe to call from several threads.
 *
 * A store may also offer the asynchronous form `start` (state.redis: one
 * pipelined connection per loop thread): the call is issued on a loop thread
 * and completes there, with no thread waiting on the backend, so any number
 * of calls (HTTP, gRPC and wasm-app callers alike, api/state_call.c) wait on
 * one socket.
 */
#ifndef WGG_STATE_STORE_H
#define WGG_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/component.h"
#include "wggate.h"

/* Status of a store call. */
enum wgg_state_status {
  WGG_ST_OK = 0,
  WGG_ST_ERROR = -1,          /* backend failure: err says why (HTTP 500) */
  WGG_ST_ETAG_MISMATCH = -2,  /* HTTP 409 */
  WGG_ST_ETAG_INVALID = -3,   /* HTTP 400 */
  WGG_ST_BAD_REQUEST = -4,    /* invalid input such as a bad ttlInSeconds (err says why) */
};

/* Capability bits, reported by /v1.0/metadata (components-contrib state/feature.go). */
enum {
  WGG_FEAT_ETAG = 1 << 0,          /* "ETAG" */
  WGG_FEAT_TRANSACTIONAL = 1 << 1, /* "TRANSACTIONAL" */
  WGG_FEAT_TTL = 1 << 2,           /* "TTL" */
  WGG_FEAT_QUERY = 1 << 3,         /* "QUERY_API": ops->query is set */
};

/* One write or delete inside apply(). Strings are borrowed from the caller. */
typedef struct wgg_state_op {
  bool is_delete;
  const char *key;      /* prefixed key, NUL-terminated */
  const char *value;    /* upsert only: bytes of the value */
  size_t value_len;
  const char *etag;     /* NULL or "" = no ETag */
  bool first_write;     /* options.concurrency == "first-write" */
  int64_t ttl_seconds;  /* > 0: expire after this many seconds; <= 0: never */
} wgg_state_op;

/* The result of get(). On WGG_ST_OK with found, value and etag are malloc'd
 * and owned by the caller (free with wgg_state_got_free). */
typedef struct wgg_state_got {
  bool found;
  char *value;
  size_t value_len;
  char *etag;
  int64_t expire_unix; /* 0 = no expiry, else seconds since the epoch */
} wgg_state_got;

typedef struct wgg_state_store wgg_state_store;
struct wgg_query;
struct uv_loop_s;

/* One asynchronous store call (ops->start). The caller fills the inputs and
 * keeps them (key, ops and what they point to, got, err) valid until done.
 * A get when got is set, else an apply of ops[0..n). */
typedef struct wgg_state_call wgg_state_call;
struct wgg_state_call {
  const char *key;          /* get: the prefixed key */
  wgg_state_got *got;       /* get: the result, as get() fills it */
  const wgg_state_op *ops;  /* apply: as apply() takes them */
  size_t n;
  wgg_err *err;             /* filled when status is not WGG_ST_OK */
  int status;               /* set before done: what get()/apply() would return */
  void (*done)(wgg_state_call *c); /* called once, on the loop thread that started the call */
  void *user;               /* the caller's */
};

/* ops->start's answer when it cannot serve the call on this loop (a thread
 * that is not a registered loop thread, or one shutting down): done will not
 * be called; run the synchronous form off the loop instead. */
#define WGG_STATE_START_SYNC 1
struct wgg_qresult;

/* The vtable. */
typedef struct wgg_state_store_ops {
  /* Reads key into *out (out->found false when absent or expired). */
  int (*get)(wgg_state_store *s, const char *key, wgg_state_got *out, wgg_err *err);
  /* Applies ops atomically: all take effect or none does. Returns a status. */
  int (*apply)(wgg_state_store *s, const wgg_state_op *ops, size_t n, wgg_err *err);
  /* Releases the store and its backend resources. */
  void (*destroy)(wgg_state_store *s);
  /* Runs a parsed query (components/state/query.h) over every live item:
   * fills out with the matching rows (store keys, values, ETags) in the
   * query's order, at most q->limit of them from q->offset on. NULL for a
   * store without the query API. Returns WGG_ST_OK, WGG_ST_BAD_REQUEST
   * (a query the store cannot run: err says why) or WGG_ST_ERROR. */
  int (*query)(wgg_state_store *s, const struct wgg_query *q, struct wgg_qresult *out, wgg_err *err);
  /* The asynchronous form of get and apply (NULL: the store has none). Must
   * be called on loop's thread. Returns 0: c->done runs exactly once, on that
   * thread, possibly before start returns; or WGG_STATE_START_SYNC (done
   * will not run). */
  int (*start)(wgg_state_store *s, struct uv_loop_s *loop, wgg_state_call *c);
} wgg_state_store_ops;

/* The common head of every store. */
struct wgg_state_store {
  const wgg_state_store_ops *ops;
  unsigned features; /* WGG_FEAT_* */
  bool blocking;     /* true: call only from the thread pool */
};

/* Creates the state store a component describes (type "state.in-memory",
 * "state.sqlite", "state.redis" or "state.postgresql"; version "" or "v1"). Returns NULL with err filled for an
 * unknown type/version or invalid metadata or a backend that fails to open.
 * The caller owns the store (destroy with s->ops->destroy). */
wgg_state_store *wgg_state_store_new(const wgg_component *c, wgg_err *err);

struct wgg_resiliency;

/* Wraps inner (ownership moves in) in component c's outbound Resiliency
 * policies (resilient.c: retries of backend failures, circuit breaker,
 * timeout checked when a call returns). Returns inner itself when no policy
 * applies, else the wrapper; NULL on OOM (inner still the caller's). */
wgg_state_store *wgg_state_resilient_wrap(wgg_state_store *inner, struct wgg_resiliency *res, const wgg_component *c);

/* True when type names a state store this build implements. */
bool wgg_state_type_supported(const char *type);

/* The message for a WGG_ST_ETAG_MISMATCH of op: "etag mismatch", or "the key
 * already exists (first-write)" for a first-write without ETag. */
const char *wgg_state_mismatch_msg(const wgg_state_op *op);

/* Frees what get() returned and zeroes *g. */
void wgg_state_got_free(wgg_state_got *g);

/* Constructors of the concrete stores (memory.c, sqlite.c). Same contract as
 * wgg_state_store_new. */
wgg_state_store *wgg_state_memory_new(const wgg_component *c, wgg_err *err);
wgg_state_store *wgg_state_sqlite_new(const wgg_component *c, wgg_err *err);
wgg_state_store *wgg_state_redis_new(const wgg_component *c, wgg_err *err);
wgg_state_store *wgg_state_postgres_new(const wgg_component *c, wgg_err *err);

#endif
