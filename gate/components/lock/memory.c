/*
 * memory.c: lock.in-memory, a wasmgate addition (daprd ships only
 * lock.redis): locks held in this process, for one sidecar and for tests. A
 * hash table of {resource, owner, deadline} under one mutex; a lock whose
 * deadline (CLOCK_MONOTONIC) has passed counts as free and is dropped when
 * met. Not blocking: calls run inline on the loop thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/lock/lock.h"

#define NBUCKETS 1024

typedef struct held {
  struct held *next;
  char *resource, *owner;
  uint64_t deadline_ms;
} held;

typedef struct mstore {
  wgg_lock_store base;
  pthread_mutex_t mu;
  held *buckets[NBUCKETS];
} mstore;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t bucket(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)(h % NBUCKETS);
}

static void held_free(held *h) {
  free(h->resource);
  free(h->owner);
  free(h);
}

/* The live entry for resource in its bucket (expired entries met on the way
 * are dropped). Caller holds mu. */
static held **find(mstore *st, const char *resource, uint64_t now) {
  held **pp = &st->buckets[bucket(resource)];
  while (*pp) {
    held *h = *pp;
    if (h->deadline_ms <= now) {
      *pp = h->next;
      held_free(h);
      continue;
    }
    if (!strcmp(h->resource, resource)) return pp;
    pp = &h->next;
  }
  return pp;
}

static int m_try_lock(wgg_lock_store *s, const char *resource, const char *owner, int32_t expiry_s, bool *acquired,
                      wgg_err *err) {
  mstore *st = (mstore *)s;
  uint64_t now = now_ms();
  pthread_mutex_lock(&st->mu);
  held **pp = find(st, resource, now);
  *acquired = false;
  int rc = 0;
  if (!*pp) {
    held *h = calloc(1, sizeof *h);
    if (h && (h->resource = strdup(resource)) && (h->owner = strdup(owner))) {
      h->deadline_ms = now + (uint64_t)(expiry_s > 0 ? expiry_s : 0) * 1000u;
      *pp = h;
      *acquired = true;
    } else {
      if (h) held_free(h);
      rc = wgg_err_set(err, "out of memory");
    }
  }
  pthread_mutex_unlock(&st->mu);
  return rc;
}

static int m_unlock(wgg_lock_store *s, const char *resource, const char *owner, int *status, wgg_err *err) {
  (void)err;
  mstore *st = (mstore *)s;
  pthread_mutex_lock(&st->mu);
  held **pp = find(st, resource, now_ms());
  if (!*pp) {
    *status = WGG_UNLOCK_LOCK_DOES_NOT_EXIST;
  } else if (strcmp((*pp)->owner, owner)) {
    *status = WGG_UNLOCK_LOCK_BELONGS_TO_OTHERS;
  } else {
    held *h = *pp;
    *pp = h->next;
    held_free(h);
    *status = WGG_UNLOCK_SUCCESS;
  }
  pthread_mutex_unlock(&st->mu);
  return 0;
}

static void m_destroy(wgg_lock_store *s) {
  mstore *st = (mstore *)s;
  for (size_t i = 0; i < NBUCKETS; i++)
    while (st->buckets[i]) {
      held *h = st->buckets[i];
      st->buckets[i] = h->next;
      held_free(h);
    }
  pthread_mutex_destroy(&st->mu);
  free(st);
}

static const wgg_lock_ops memory_ops = {m_try_lock, m_unlock, m_destroy};

wgg_lock_store *wgg_lock_memory_new(const wgg_component *c, wgg_err *err) {
  (void)c;
  mstore *st = calloc(1, sizeof *st);
  if (!st) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&st->mu, NULL);
  st->base.ops = &memory_ops;
  return &st->base;
}
