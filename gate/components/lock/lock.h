/*
 * lock.h: distributed lock stores (components-contrib lock/store.go: TryLock,
 * Unlock). A store is shared by every loop thread; a `blocking` store (one
 * that waits on a server) is only called from its executor thread (api/
 * executor.h), the others inline on the loop thread, so every store is
 * thread-safe on its own.
 */
#ifndef WGG_COMPONENTS_LOCK_LOCK_H
#define WGG_COMPONENTS_LOCK_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "config/component.h"
#include "util/err.h"

/* Unlock outcomes, the numbers of Dapr's UnlockResponse.Status
 * (dapr/proto/runtime/v1/dapr.proto; components-contrib lock/responses.go). */
enum {
  WGG_UNLOCK_SUCCESS = 0,
  WGG_UNLOCK_LOCK_DOES_NOT_EXIST = 1,
  WGG_UNLOCK_LOCK_BELONGS_TO_OTHERS = 2,
  WGG_UNLOCK_INTERNAL_ERROR = 3,
};

typedef struct wgg_lock_store wgg_lock_store;

typedef struct wgg_lock_ops {
  /* Takes the lock on resource for owner for expiry_s seconds (> 0) when
   * nobody holds it (an expired lock is free): *acquired tells. A holder,
   * the same owner included, is never extended: the call reports false, as
   * Redis SET NX does. Returns 0, or -1 with err (backend unreachable). */
  int (*try_lock)(wgg_lock_store *s, const char *resource, const char *owner, int32_t expiry_s, bool *acquired,
                  wgg_err *err);
  /* Releases resource when owner holds it: *status is one of WGG_UNLOCK_*.
   * Returns 0, or -1 with err (*status WGG_UNLOCK_INTERNAL_ERROR). */
  int (*unlock)(wgg_lock_store *s, const char *resource, const char *owner, int *status, wgg_err *err);
  void (*destroy)(wgg_lock_store *s);
} wgg_lock_ops;

struct wgg_lock_store {
  const wgg_lock_ops *ops;
  bool blocking; /* calls wait on a server: run them on the store's executor */
};

/* Whether this build loads components of type (e.g. "lock.redis"). */
bool wgg_lock_type_supported(const char *type);

/* Creates the store of component c (lock.redis, lock.in-memory). Returns the
 * store (owned by the caller; ops->destroy frees it) or NULL with err (bad
 * metadata, server unreachable at start, as components-contrib's Init). */
wgg_lock_store *wgg_lock_store_new(const wgg_component *c, wgg_err *err);

wgg_lock_store *wgg_lock_memory_new(const wgg_component *c, wgg_err *err);
wgg_lock_store *wgg_lock_redis_new(const wgg_component *c, wgg_err *err);

#endif
