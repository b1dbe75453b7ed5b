/*
 * registry.c: the configuration component types this build loads, and the
 * item list helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "components/configuration/configuration.h"

bool wgg_config_type_supported(const char *type) {
  return !strcmp(type, "configuration.redis") || !strcmp(type, "configuration.sqlite") ||
         !strcmp(type, "configuration.postgresql");
}

wgg_config_store *wgg_config_store_new(const wgg_component *c, wgg_err *err) {
  if (!strcmp(c->type, "configuration.redis")) return wgg_config_redis_new(c, err);
  if (!strcmp(c->type, "configuration.sqlite")) return wgg_config_sqlite_new(c, err);
  if (!strcmp(c->type, "configuration.postgresql")) return wgg_config_postgres_new(c, err);
  wgg_err_set(err, "couldn't find configuration store %s/%s", c->type, *c->version ? c->version : "v1");
  return NULL;
}

int wgg_conf_items_add(wgg_conf_items *l, const char *key, const char *value, const char *version) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    wgg_conf_item *it = realloc(l->items, cap * sizeof *it);
    if (!it) return -1;
    l->items = it;
    l->cap = cap;
  }
  wgg_conf_item *it = &l->items[l->n];
  it->key = strdup(key);
  it->value = strdup(value ? value : "");
  it->version = strdup(version ? version : "");
  if (!it->key || !it->value || !it->version) {
    free(it->key), free(it->value), free(it->version);
    return -1;
  }
  l->n++;
  return 0;
}

void wgg_conf_items_free(wgg_conf_items *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i].key), free(l->items[i].value), free(l->items[i].version);
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}
