/*
 * configuration.h: configuration stores (components-contrib
 * configuration/store.go: Get, Subscribe, Unsubscribe). A store is shared by
 * every loop thread; a `blocking` store's get runs on its executor thread
 * (api/executor.h). Subscriptions are watched by the store's own thread,
 * which calls the notify function from there.
 */
#ifndef WGG_COMPONENTS_CONFIGURATION_H
#define WGG_COMPONENTS_CONFIGURATION_H

#include <stdbool.h>
#include <stddef.h>

#include "config/component.h"
#include "util/err.h"

/* One configuration item (configuration.Item). Strings owned by the list. */
typedef struct wgg_conf_item {
  char *key, *value, *version;
} wgg_conf_item;

typedef struct wgg_conf_items {
  wgg_conf_item *items;
  size_t n, cap;
} wgg_conf_items;

/* Appends a copy of key/value/version (version may be NULL: ""). 0 or -1 (OOM). */
int wgg_conf_items_add(wgg_conf_items *l, const char *key, const char *value, const char *version);
void wgg_conf_items_free(wgg_conf_items *l);

/* Called from the store's watcher thread when a subscribed key changed:
 * items holds the key's current item, or the key with an empty value and
 * version when it is gone (components-contrib sends an empty Item then).
 * items is borrowed for the call. */
typedef void (*wgg_conf_notify_fn)(const char *sub_id, const wgg_conf_items *items, void *user);

typedef struct wgg_config_store wgg_config_store;

typedef struct wgg_config_ops {
  /* The items of keys (n 0: every key of the store); keys that do not exist
   * or hold no value are left out. Returns 0, or -1 with err. */
  int (*get)(wgg_config_store *s, const char *const *keys, size_t n, wgg_conf_items *out, wgg_err *err);
  /* Starts watching keys (n 0: every key) under id (the caller's unique
   * id); changes call fn(id, items, user) from the store's thread until
   * unsubscribe. Returns 0, or -1 with err. NULL when unsupported. */
  int (*subscribe)(wgg_config_store *s, const char *id, const char *const *keys, size_t n, wgg_conf_notify_fn fn,
                   void *user, wgg_err *err);
  /* Stops subscription id: 0, or -1 with err ("subscription with id %s
   * does not exist"). fn is not called for id once this returns. */
  int (*unsubscribe)(wgg_config_store *s, const char *id, wgg_err *err);
  /* Stops every subscription and frees s. */
  void (*destroy)(wgg_config_store *s);
} wgg_config_ops;

struct wgg_config_store {
  const wgg_config_ops *ops;
  bool blocking;
};

bool wgg_config_type_supported(const char *type);

/* Creates the store of component c (configuration.redis, configuration.sqlite,
 * configuration.postgresql). Returns it (owned
 * by the caller; ops->destroy frees it) or NULL with err. */
wgg_config_store *wgg_config_store_new(const wgg_component *c, wgg_err *err);

wgg_config_store *wgg_config_redis_new(const wgg_component *c, wgg_err *err);
wgg_config_store *wgg_config_sqlite_new(const wgg_component *c, wgg_err *err);
/* configuration.postgresql (postgres.c): rows of `table`, LISTEN/NOTIFY on `notifyChannel`. */
wgg_config_store *wgg_config_postgres_new(const wgg_component *c, wgg_err *err);

#endif
