/*
 * redis.c: lock.redis (docs reference/components-reference/supported-locks/
 * redis-lock.md; components-contrib lock/redis/standalone.go). A lock is the
 * key holding its owner, taken with SET key owner NX EX expiry, so it frees
 * itself when the expiry passes; unlock is one Lua script that deletes the
 * key only when it still holds the caller's owner (compare-and-delete on the
 * server, atomic). Like components-contrib, Redis with replicas (and
 * Cluster) is refused at start: a lock acknowledged by a primary that fails
 * before replicating would be held twice. hiredis, synchronous: the store is
 * `blocking`; its calls run in order on its executor thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/lock/lock.h"
#include "components/redisconn.h"

/* KEYS[1] the lock, ARGV[1] the caller: -1 no such lock, -2 someone else's,
 * else the number of keys deleted. */
static const char UNLOCK_SCRIPT[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return -1 end\n"
    "if cur ~= ARGV[1] then return -2 end\n"
    "return redis.call('DEL', KEYS[1])\n";

typedef struct rlock {
  wgg_lock_store base;
  pthread_mutex_t mu;
  wgg_redisconn rc;
} rlock;

static int r_try_lock(wgg_lock_store *s, const char *resource, const char *owner, int32_t expiry_s, bool *acquired,
                      wgg_err *err) {
  rlock *st = (rlock *)s;
  char ex[16];
  snprintf(ex, sizeof ex, "%d", (int)expiry_s);
  const char *argv[] = {"SET", resource, owner, "NX", "EX", ex};
  *acquired = false;
  int rc = -1;
  pthread_mutex_lock(&st->mu);
  if (wgg_redisconn_ensure(&st->rc, err) == 0) {
    redisReply *r = wgg_redisconn_cmd(&st->rc, 6, argv, NULL, err);
    if (r) {
      if (r->type == REDIS_REPLY_ERROR) {
        wgg_err_set(err, "%s", r->str);
      } else {
        *acquired = r->type == REDIS_REPLY_STATUS; /* "OK"; a nil reply: someone holds it */
        rc = 0;
      }
      freeReplyObject(r);
    }
  }
  pthread_mutex_unlock(&st->mu);
  return rc;
}

static int r_unlock(wgg_lock_store *s, const char *resource, const char *owner, int *status, wgg_err *err) {
  rlock *st = (rlock *)s;
  const char *argv[] = {"EVAL", UNLOCK_SCRIPT, "1", resource, owner};
  *status = WGG_UNLOCK_INTERNAL_ERROR;
  int rc = -1;
  pthread_mutex_lock(&st->mu);
  if (wgg_redisconn_ensure(&st->rc, err) == 0) {
    redisReply *r = wgg_redisconn_cmd(&st->rc, 5, argv, NULL, err);
    if (r) {
      if (r->type == REDIS_REPLY_INTEGER) {
        *status = r->integer >= 0    ? WGG_UNLOCK_SUCCESS
                  : r->integer == -1 ? WGG_UNLOCK_LOCK_DOES_NOT_EXIST
                  : r->integer == -2 ? WGG_UNLOCK_LOCK_BELONGS_TO_OTHERS
                                     : WGG_UNLOCK_INTERNAL_ERROR;
        rc = 0;
      } else {
        wgg_err_set(err, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply to the unlock script");
      }
      freeReplyObject(r);
    }
  }
  pthread_mutex_unlock(&st->mu);
  return rc;
}

static void r_destroy(wgg_lock_store *s) {
  rlock *st = (rlock *)s;
  wgg_redisconn_close(&st->rc);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

static const wgg_lock_ops redis_ops = {r_try_lock, r_unlock, r_destroy};

/* connected_slaves of INFO replication, or -1 when unknown. */
static long replicas(wgg_redisconn *rc) {
  const char *argv[] = {"INFO", "replication"};
  wgg_err e;
  redisReply *r = wgg_redisconn_cmd(rc, 2, argv, NULL, &e);
  long n = -1;
  if (r && (r->type == REDIS_REPLY_STRING)) {
    const char *p = strstr(r->str, "connected_slaves:");
    if (p) n = strtol(p + 17, NULL, 10);
  }
  if (r) freeReplyObject(r);
  return n;
}

wgg_lock_store *wgg_lock_redis_new(const wgg_component *c, wgg_err *err) {
  rlock *st = calloc(1, sizeof *st);
  if (!st) return wgg_err_set(err, "out of memory"), NULL;
  if (wgg_redisconn_init(&st->rc, c, "lock.redis", err)) {
    free(st);
    return NULL;
  }
  pthread_mutex_init(&st->mu, NULL);
  st->base.ops = &redis_ops;
  st->base.blocking = true;
  wgg_err e;
  if (wgg_redisconn_ensure(&st->rc, &e)) { /* as components-contrib's Init: the server must answer */
    wgg_err_set(err, "error connecting to Redis: %s", e.msg);
    r_destroy(&st->base);
    return NULL;
  }
  if (replicas(&st->rc) > 0) {
    wgg_err_set(err, "replication is not supported");
    r_destroy(&st->base);
    return NULL;
  }
  return &st->base;
}
