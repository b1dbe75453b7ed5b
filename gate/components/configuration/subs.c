/*
 * subs.c: see subs.h.
 */
#include <stdlib.h>
#include <string.h>

#include "components/configuration/subs.h"

struct wgg_conf_sub {
  wgg_conf_sub *next;
  char *id;
  char **keys; /* n_keys 0: every key */
  size_t n_keys;
  wgg_conf_notify_fn fn;
  void *user;
};

static void sub_free(wgg_conf_sub *s) {
  for (size_t i = 0; i < s->n_keys; i++) free(s->keys[i]);
  free(s->keys);
  free(s->id);
  free(s);
}

void wgg_conf_subs_init(wgg_conf_subs *s) {
  pthread_mutex_init(&s->mu, NULL);
  s->head = NULL;
}

void wgg_conf_subs_free(wgg_conf_subs *s) {
  while (s->head) {
    wgg_conf_sub *n = s->head->next;
    sub_free(s->head);
    s->head = n;
  }
  pthread_mutex_destroy(&s->mu);
}

int wgg_conf_subs_add(wgg_conf_subs *s, const char *id, const char *const *keys, size_t n, wgg_conf_notify_fn fn,
                      void *user) {
  wgg_conf_sub *sub = calloc(1, sizeof *sub);
  if (!sub || !(sub->id = strdup(id)) || (n && !(sub->keys = calloc(n, sizeof *sub->keys)))) goto oom;
  for (; sub->n_keys < n; sub->n_keys++)
    if (!(sub->keys[sub->n_keys] = strdup(keys[sub->n_keys]))) goto oom;
  sub->fn = fn;
  sub->user = user;
  pthread_mutex_lock(&s->mu);
  sub->next = s->head;
  s->head = sub;
  pthread_mutex_unlock(&s->mu);
  return 0;
oom:
  if (sub) sub_free(sub);
  return -1;
}

int wgg_conf_subs_remove(wgg_conf_subs *s, const char *id) {
  pthread_mutex_lock(&s->mu);
  wgg_conf_sub **pp = &s->head;
  while (*pp && strcmp((*pp)->id, id)) pp = &(*pp)->next;
  wgg_conf_sub *found = *pp;
  if (found) *pp = found->next;
  pthread_mutex_unlock(&s->mu);
  if (!found) return -1;
  sub_free(found);
  return 0;
}

static bool covers(const wgg_conf_sub *s, const char *key) {
  if (!s->n_keys) return true;
  for (size_t i = 0; i < s->n_keys; i++)
    if (!strcmp(s->keys[i], key)) return true;
  return false;
}

void wgg_conf_subs_changed(wgg_conf_subs *s, const char *key,
                           int (*read)(const char *key, wgg_conf_items *items, void *ctx), void *ctx) {
  pthread_mutex_lock(&s->mu);
  bool any = false;
  for (wgg_conf_sub *c = s->head; c && !any; c = c->next) any = covers(c, key);
  if (any) {
    wgg_conf_items items = {0};
    if (read(key, &items, ctx) == 0) {
      if (!items.n && wgg_conf_items_add(&items, key, "", "")) items.n = 0; /* gone: an empty item */
      for (wgg_conf_sub *c = s->head; c && items.n; c = c->next)
        if (covers(c, key)) c->fn(c->id, &items, c->user);
    }
    wgg_conf_items_free(&items);
  }
  pthread_mutex_unlock(&s->mu);
}
