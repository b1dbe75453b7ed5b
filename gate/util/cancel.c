/*
 * cancel.c: cancellation tokens (cancel.h).
 */
#include "util/cancel.h"

#include <stddef.h>

void wgg_cancel_init(wgg_cancel *c) {
  pthread_mutex_init(&c->mu, NULL);
  atomic_init(&c->fired, false);
  c->handler = NULL;
  c->arg = NULL;
}

void wgg_cancel_destroy(wgg_cancel *c) { pthread_mutex_destroy(&c->mu); }

void wgg_cancel_fire(wgg_cancel *c) {
  pthread_mutex_lock(&c->mu);
  bool was = atomic_exchange(&c->fired, true);
  if (!was && c->handler) c->handler(c->arg);
  pthread_mutex_unlock(&c->mu);
}

bool wgg_cancel_requested(const wgg_cancel *c) { return c && atomic_load(&c->fired); }

bool wgg_cancel_watch(wgg_cancel *c, void (*handler)(void *), void *arg) {
  if (!c) return true;
  pthread_mutex_lock(&c->mu);
  bool ok = !atomic_load(&c->fired);
  if (ok) {
    c->handler = handler;
    c->arg = arg;
  }
  pthread_mutex_unlock(&c->mu);
  return ok;
}

void wgg_cancel_unwatch(wgg_cancel *c) {
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  c->handler = NULL;
  c->arg = NULL;
  pthread_mutex_unlock(&c->mu);
}
