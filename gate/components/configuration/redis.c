/*
 * redis.c: configuration.redis (docs reference/components-reference/
 * supported-configuration-stores/redis-configuration-store.md;
 * components-contrib configuration/redis). An item is a plain Redis string
 * "value||version" (a value without "||" has an empty version); get reads
 * the asked keys (none: KEYS *), leaving out keys that are missing, not
 * strings, or empty. Subscriptions follow Redis keyspace notifications
 * (__keyspace@<db>__:<key>; the server must have notify-keyspace-events
 * enabled, e.g. "KA", as the Dapr docs say): one watcher thread per store,
 * started with the first subscription, holds a second connection in
 * PSUBSCRIBE __keyspace@<db>__:* and, for every change of a key some
 * subscription covers, reads the key and notifies it (a key that is gone
 * is notified with an empty item, as components-contrib does). The
 * watcher reconnects by itself when Redis goes away.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/configuration/configuration.h"
#include "components/configuration/subs.h"
#include "components/redisconn.h"
#include "util/log.h"

typedef struct cstore {
  wgg_config_store base;
  pthread_mutex_t mu; /* the data connection */
  wgg_redisconn rc;
  wgg_redisconn watch; /* the watcher's connection (watcher thread only) */
  wgg_conf_subs subs;
  pthread_t thread;
  bool running;
  int stop; /* atomic */
} cstore;

/* value||version, as components-contrib's GetRedisValueAndVersion: the
 * first two parts of the split. */
static int add_item(wgg_conf_items *out, const char *key, const char *raw, size_t len) {
  char *v = malloc(len + 1);
  if (!v) return -1;
  memcpy(v, raw, len);
  v[len] = '\0';
  char *sep = strstr(v, "||"), *ver = "";
  if (sep) {
    *sep = '\0';
    ver = sep + 2;
    char *sep2 = strstr(ver, "||");
    if (sep2) *sep2 = '\0';
  }
  int rc = *v ? wgg_conf_items_add(out, key, v, ver) : 0;
  free(v);
  return rc;
}

/* get with mu held. */
static int get_locked(cstore *st, const char *const *keys, size_t n, wgg_conf_items *out, wgg_err *err) {
  if (wgg_redisconn_ensure(&st->rc, err)) return -1;
  redisReply *all = NULL;
  if (!n) {
    const char *argv[] = {"KEYS", "*"};
    if (!(all = wgg_redisconn_cmd(&st->rc, 2, argv, NULL, err))) return -1;
    if (all->type != REDIS_REPLY_ARRAY) {
      wgg_err_set(err, "%s", all->type == REDIS_REPLY_ERROR ? all->str : "unexpected reply to KEYS");
      freeReplyObject(all);
      return -1;
    }
    n = all->elements;
  }
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *key = all ? all->element[i]->str : keys[i];
    if (!key) continue;
    const char *argv[] = {"GET", key};
    redisReply *r = wgg_redisconn_cmd(&st->rc, 2, argv, NULL, err);
    if (!r) {
      rc = -1;
      break;
    }
    if (r->type == REDIS_REPLY_STRING) {
      if (add_item(out, key, r->str, r->len)) rc = wgg_err_set(err, "out of memory");
    } else if (r->type == REDIS_REPLY_ERROR && !strstr(r->str, "WRONGTYPE")) {
      rc = wgg_err_set(err, "fail to get configuration for redis key=%s, error is %s", key, r->str);
    } /* nil (no such key) and WRONGTYPE (not a string) are left out */
    freeReplyObject(r);
  }
  if (all) freeReplyObject(all);
  return rc;
}

static int c_get(wgg_config_store *s, const char *const *keys, size_t n, wgg_conf_items *out, wgg_err *err) {
  cstore *st = (cstore *)s;
  pthread_mutex_lock(&st->mu);
  int rc = get_locked(st, keys, n, out, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) wgg_conf_items_free(out);
  return rc;
}

static int read_key(const char *key, wgg_conf_items *items, void *ctx) {
  cstore *st = ctx;
  wgg_err err;
  const char *keys[] = {key};
  pthread_mutex_lock(&st->mu);
  int rc = get_locked(st, keys, 1, items, &err);
  pthread_mutex_unlock(&st->mu);
  if (rc) {
    wgg_warn("configuration.redis: get of changed key %s failed: %s", key, err.msg);
    wgg_conf_items_free(items);
  }
  return rc;
}

/* Connects the watcher and PSUBSCRIBEs; -1 when Redis is not there. */
static int watch_connect(cstore *st) {
  wgg_err err;
  if (wgg_redisconn_ensure(&st->watch, &err)) return -1;
  char pat[64];
  snprintf(pat, sizeof pat, "__keyspace@%d__:*", st->watch.db);
  if (redisAppendCommand(st->watch.ctx, "PSUBSCRIBE %s", pat) != REDIS_OK) return -1;
  int done = 0;
  while (!done)
    if (redisBufferWrite(st->watch.ctx, &done) != REDIS_OK) return -1;
  return 0;
}

static void *watcher(void *p) {
  cstore *st = p;
  char prefix[64];
  snprintf(prefix, sizeof prefix, "__keyspace@%d__:", st->watch.db);
  size_t pl = strlen(prefix);
  while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
    if (!st->watch.ctx && watch_connect(st)) {
      wgg_redisconn_close_conn(&st->watch);
      struct timespec ts = {0, 250 * 1000000};
      nanosleep(&ts, NULL);
      continue;
    }
    void *rp = NULL;
    if (redisReaderGetReply(st->watch.ctx->reader, &rp) != REDIS_OK) {
      wgg_redisconn_close_conn(&st->watch);
      continue;
    }
    if (!rp) {
      struct pollfd pf = {.fd = st->watch.ctx->fd, .events = POLLIN};
      int pr = poll(&pf, 1, 200);
      if (pr > 0 && redisBufferRead(st->watch.ctx) != REDIS_OK) wgg_redisconn_close_conn(&st->watch);
      continue;
    }
    redisReply *r = rp;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 && r->element[0]->type == REDIS_REPLY_STRING &&
        !strcmp(r->element[0]->str, "pmessage") && r->element[2]->type == REDIS_REPLY_STRING &&
        !strncmp(r->element[2]->str, prefix, pl))
      wgg_conf_subs_changed(&st->subs, r->element[2]->str + pl, read_key, st);
    freeReplyObject(r);
  }
  wgg_redisconn_close_conn(&st->watch);
  return NULL;
}

static int c_subscribe(wgg_config_store *s, const char *id, const char *const *keys, size_t n, wgg_conf_notify_fn fn,
                       void *user, wgg_err *err) {
  cstore *st = (cstore *)s;
  pthread_mutex_lock(&st->mu);
  int rc = 0;
  if (!st->running) { /* the watcher starts with the first subscription */
    if (pthread_create(&st->thread, NULL, watcher, st)) rc = wgg_err_set(err, "cannot start the watcher thread");
    else st->running = true;
  }
  pthread_mutex_unlock(&st->mu);
  if (rc == 0 && wgg_conf_subs_add(&st->subs, id, keys, n, fn, user)) rc = wgg_err_set(err, "out of memory");
  return rc;
}

static int c_unsubscribe(wgg_config_store *s, const char *id, wgg_err *err) {
  cstore *st = (cstore *)s;
  if (wgg_conf_subs_remove(&st->subs, id)) return wgg_err_set(err, "subscription with id %s does not exist", id);
  return 0;
}

static void c_destroy(wgg_config_store *s) {
  cstore *st = (cstore *)s;
  if (st->running) {
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    pthread_join(st->thread, NULL);
  }
  wgg_conf_subs_free(&st->subs);
  wgg_redisconn_close(&st->rc);
  wgg_redisconn_close(&st->watch);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

static const wgg_config_ops redis_ops = {c_get, c_subscribe, c_unsubscribe, c_destroy};

wgg_config_store *wgg_config_redis_new(const wgg_component *c, wgg_err *err) {
  cstore *st = calloc(1, sizeof *st);
  if (!st) return wgg_err_set(err, "out of memory"), NULL;
  if (wgg_redisconn_init(&st->rc, c, "configuration.redis", err)) {
    free(st);
    return NULL;
  }
  if (wgg_redisconn_init(&st->watch, c, "configuration.redis", err)) {
    wgg_redisconn_close(&st->rc);
    free(st);
    return NULL;
  }
  pthread_mutex_init(&st->mu, NULL);
  wgg_conf_subs_init(&st->subs);
  st->base.ops = &redis_ops;
  st->base.blocking = true;
  wgg_err e;
  if (wgg_redisconn_ensure(&st->rc, &e)) { /* as components-contrib's Init: the server must answer */
    wgg_err_set(err, "redis store: error connecting to redis at %s:%d: %s", st->rc.host, st->rc.port, e.msg);
    c_destroy(&st->base);
    return NULL;
  }
  return &st->base;
}
