/*
 * registry.c: the lock component types this build loads.
 */
#include <string.h>

#include "components/lock/lock.h"

bool wgg_lock_type_supported(const char *type) {
  return !strcmp(type, "lock.redis") || !strcmp(type, "lock.in-memory");
}

wgg_lock_store *wgg_lock_store_new(const wgg_component *c, wgg_err *err) {
  if (!strcmp(c->type, "lock.redis")) return wgg_lock_redis_new(c, err);
  if (!strcmp(c->type, "lock.in-memory")) return wgg_lock_memory_new(c, err);
  wgg_err_set(err, "couldn't find lock store %s/%s", c->type, *c->version ? c->version : "v1");
  return NULL;
}
