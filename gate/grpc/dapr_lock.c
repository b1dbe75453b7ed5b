/*
 * dapr_lock.c: TryLockAlpha1 and UnlockAlpha1 (dapr pkg/api/universal/
 * lock.go) through wgg_lock_call, the code path of the HTTP lock routes.
 * Their errors are daprd's messages.APIError: a status without details.
 */
#include <stdlib.h>

#include "grpc/dapr_internal.h"

typedef struct lock_ctx {
  wgg_grpc_call *call;
  bool unlock;
} lock_ctx;

static void lock_done(void *user, const wgg_api_status *st, bool acquired, int status) {
  lock_ctx *x = user;
  if (st) {
    wgg_grpc_fail_status(x->call, st);
  } else if (x->unlock) {
    Dapr__Proto__Runtime__V1__UnlockResponse r = DAPR__PROTO__RUNTIME__V1__UNLOCK_RESPONSE__INIT;
    r.status = (Dapr__Proto__Runtime__V1__UnlockResponse__Status)status;
    wgg_grpc_reply(x->call, &r.base);
  } else {
    Dapr__Proto__Runtime__V1__TryLockResponse r = DAPR__PROTO__RUNTIME__V1__TRY_LOCK_RESPONSE__INIT;
    r.success = acquired;
    wgg_grpc_reply(x->call, &r.base);
  }
  free(x);
}

static void lock_rpc(wgg_api *api, wgg_grpc_call *call, bool unlock, const char *store, const char *resource,
                     const char *owner, int32_t expiry) {
  wgg_api_status st;
  lock_ctx *x = malloc(sizeof *x);
  if (!x) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    return;
  }
  x->call = call;
  x->unlock = unlock;
  if (wgg_lock_call(api, wgg_grpc_call_loop(call), unlock, store, resource, owner, expiry, lock_done, x, &st)) {
    free(x);
    wgg_grpc_fail_status(call, &st);
  }
}

void wgg_grpc_try_lock(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__TryLockRequest *q = (void *)m;
  lock_rpc(api, call, false, q->store_name, q->resource_id, q->lock_owner, q->expiry_in_seconds);
  protobuf_c_message_free_unpacked(m, NULL);
}

void wgg_grpc_unlock(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__UnlockRequest *q = (void *)m;
  lock_rpc(api, call, true, q->store_name, q->resource_id, q->lock_owner, 0);
  protobuf_c_message_free_unpacked(m, NULL);
}
