/*
 * cancel.h: a cancellation token for work that runs on another thread while
 * the request that asked for it may go away (a caller that disconnects, as
 * Go's request context is cancelled when its connection closes). The side
 * that learns of the cancellation calls wgg_cancel_fire; the worker polls
 * wgg_cancel_requested or registers one handler that interrupts what it is
 * blocked on (a running guest's store). Thread-safe.
 */
#ifndef WGG_UTIL_CANCEL_H
#define WGG_UTIL_CANCEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct wgg_cancel {
  pthread_mutex_t mu;
  atomic_bool fired;
  void (*handler)(void *arg); /* called once, under mu, by wgg_cancel_fire */
  void *arg;
} wgg_cancel;

/* Initialises a token (not fired, no handler). */
void wgg_cancel_init(wgg_cancel *c);
/* Releases a token; no other thread may use it any more. */
void wgg_cancel_destroy(wgg_cancel *c);
/* Fires the token (idempotent): later wgg_cancel_requested calls return
 * true, and the registered handler, if any, runs now on the calling thread. */
void wgg_cancel_fire(wgg_cancel *c);
/* Whether the token was fired. c may be NULL (never fired). */
bool wgg_cancel_requested(const wgg_cancel *c);
/* Registers handler(arg) (replacing any other). Returns false, registering
 * nothing, when the token has already fired: the caller stops at once.
 * c may be NULL (returns true, nothing to register). */
bool wgg_cancel_watch(wgg_cancel *c, void (*handler)(void *), void *arg);
/* Removes the handler; once it returns, the handler is not running and will
 * not run (what it refers to may be freed). c may be NULL. */
void wgg_cancel_unwatch(wgg_cancel *c);

#endif
