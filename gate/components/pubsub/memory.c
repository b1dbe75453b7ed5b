/*
 * memory.c: pubsub.in-memory (docs reference/components-reference/
 * supported-pubsub/setup-inmemory.md): topics live inside this sidecar only.
 * A message published to a topic nobody subscribed to is discarded, as in
 * Dapr; a message the runtime gives back (not acknowledged after its retries)
 * is lost, since there is no broker to keep it. publish never blocks: it
 * hands the message to the runtime's queue.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "components/pubsub/pubsub.h"
#include "util/err.h"
#include "util/log.h"

typedef struct msub {
  char *topic;
  wgg_pubsub_deliver_fn fn;
  void *user;
  struct msub *next;
} msub;

typedef struct mbus {
  wgg_pubsub base;
  pthread_mutex_t mu;
  msub *subs;
} mbus;

static void m_done(wgg_pubsub_msg *m, bool ack) {
  if (!ack) wgg_warn("pubsub.in-memory: message on topic %s was not handled and is lost (no broker redelivery)", m->topic);
  wgg_pubsub_msg_free(m);
}

static int m_publish(wgg_pubsub *ps, const char *topic, const char *data, size_t len, wgg_err *err) {
  mbus *b = (mbus *)ps;
  pthread_mutex_lock(&b->mu);
  msub *s = b->subs;
  while (s && strcmp(s->topic, topic)) s = s->next;
  int rc = 0;
  if (s) {
    wgg_pubsub_msg *m = wgg_pubsub_msg_new(sizeof *m, topic, data, len, m_done);
    if (m) s->fn(s->user, m);
    else rc = wgg_err_set(err, "out of memory");
  }
  pthread_mutex_unlock(&b->mu);
  return rc;
}

static int m_subscribe(wgg_pubsub *ps, const char *topic, wgg_pubsub_deliver_fn fn, void *user, wgg_err *err) {
  mbus *b = (mbus *)ps;
  msub *s = calloc(1, sizeof *s);
  if (!s || !(s->topic = strdup(topic))) {
    free(s);
    return wgg_err_set(err, "out of memory");
  }
  s->fn = fn;
  s->user = user;
  pthread_mutex_lock(&b->mu);
  for (msub *o = b->subs; o; o = o->next)
    if (!strcmp(o->topic, topic)) {
      pthread_mutex_unlock(&b->mu);
      free(s->topic);
      free(s);
      return wgg_err_set(err, "topic %s is already subscribed", topic);
    }
  s->next = b->subs;
  b->subs = s;
  pthread_mutex_unlock(&b->mu);
  return 0;
}

static void m_destroy(wgg_pubsub *ps) {
  mbus *b = (mbus *)ps;
  while (b->subs) {
    msub *s = b->subs;
    b->subs = s->next;
    free(s->topic);
    free(s);
  }
  pthread_mutex_destroy(&b->mu);
  free(b);
}

static const wgg_pubsub_ops memory_ops = {m_publish, m_subscribe, m_destroy};

wgg_pubsub *wgg_pubsub_memory_new(const wgg_component *c, const char *app_id, wgg_err *err) {
  (void)app_id;
  mbus *b = calloc(1, sizeof *b);
  if (!b) return wgg_err_set(err, "out of memory"), NULL;
  b->base.ops = &memory_ops;
  b->base.concurrency = 10;
  pthread_mutex_init(&b->mu, NULL);
  if (wgg_pubsub_meta_int(c, "concurrency", 1, &b->base.concurrency, err)) {
    m_destroy(&b->base);
    return NULL;
  }
  return &b->base;
}
