/*
 * subs.h: the subscriptions of one configuration store (ids, their keys,
 * the notify functions), shared by the store types. Thread-safe: the
 * store's watcher thread notifies under the list's mutex, so once
 * wgg_conf_subs_remove returns, that subscription is never notified again.
 */
#ifndef WGG_COMPONENTS_CONFIGURATION_SUBS_H
#define WGG_COMPONENTS_CONFIGURATION_SUBS_H

#include <pthread.h>

#include "components/configuration/configuration.h"

typedef struct wgg_conf_sub wgg_conf_sub;

typedef struct wgg_conf_subs {
  pthread_mutex_t mu;
  wgg_conf_sub *head;
} wgg_conf_subs;

void wgg_conf_subs_init(wgg_conf_subs *s);

/* Frees every subscription and the mutex. */
void wgg_conf_subs_free(wgg_conf_subs *s);

/* Adds subscription id for keys (n 0: every key). 0, or -1 (OOM). */
int wgg_conf_subs_add(wgg_conf_subs *s, const char *id, const char *const *keys, size_t n, wgg_conf_notify_fn fn,
                      void *user);

/* Removes subscription id: 0, or -1 when there is none. */
int wgg_conf_subs_remove(wgg_conf_subs *s, const char *id);

/* Key key changed: when some subscription covers it, read(key, &items,
 * ctx) fills its current item (0, or -1 to skip the event), a key that is
 * gone becomes an empty item, and every covering subscription is notified,
 * all under the list's mutex. */
void wgg_conf_subs_changed(wgg_conf_subs *s, const char *key,
                           int (*read)(const char *key, wgg_conf_items *items, void *ctx), void *ctx);

#endif
