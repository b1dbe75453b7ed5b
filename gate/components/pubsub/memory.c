/*
 * memory.c: pubsub.in-memory (docs reference/components-reference/
 * supported-pubsub/setup-inmemory.md): topics live inside this sidecar only.
 * A message published to a topic nobody subscribed to is discarded, as in
 * Dapr; a message the runtime gives back (not acknowledged after its retries)
 * is lost, since there is no broker to keep it. publish never blocks: it
 * hands the message to the runtime's queue.
 *
 * The wasm apps hosted in one process (docs/wasm-apps.md section 7) each
 * load their own instance of the component; instances with the same
 * component name share one hub, and every app ID subscribed to a topic gets
 * its own copy of each message (as each app ID is a consumer group of a
 * real broker). With one app per process this is the plain in-sidecar bus.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "components/pubsub/pubsub.h"
#include "util/err.h"
#include "util/log.h"

struct mbus;

typedef struct msub {
  struct mbus *owner; /* the instance (one app ID's) that subscribed */
  char *topic;
  wgg_pubsub_deliver_fn fn;
  void *user;
  struct msub *next;
} msub;

/* The topics of every instance of one component name in this process. */
typedef struct mhub {
  struct mhub *next;
  char *name;
  int refs; /* under hubs_mu */
  pthread_mutex_t mu;
  msub *subs;
} mhub;

typedef struct mbus {
  wgg_pubsub base;
  mhub *hub;
} mbus;

static pthread_mutex_t hubs_mu = PTHREAD_MUTEX_INITIALIZER;
static mhub *hubs;

/* The hub of component name (a new reference), or NULL on OOM. */
static mhub *hub_get(const char *name) {
  pthread_mutex_lock(&hubs_mu);
  mhub *h = hubs;
  while (h && strcmp(h->name, name)) h = h->next;
  if (!h && (h = calloc(1, sizeof *h)) && !(h->name = strdup(name))) {
    free(h);
    h = NULL;
  } else if (h && !h->refs) {
    pthread_mutex_init(&h->mu, NULL);
    h->next = hubs;
    hubs = h;
  }
  if (h) h->refs++;
  pthread_mutex_unlock(&hubs_mu);
  return h;
}

static void hub_put(mhub *h) {
  pthread_mutex_lock(&hubs_mu);
  bool last = --h->refs == 0;
  if (last)
    for (mhub **p = &hubs; *p; p = &(*p)->next)
      if (*p == h) {
        *p = h->next;
        break;
      }
  pthread_mutex_unlock(&hubs_mu);
  if (!last) return;
  pthread_mutex_destroy(&h->mu);
  free(h->name);
  free(h);
}

static void m_done(wgg_pubsub_msg *m, bool ack) {
  if (!ack) wgg_warn("pubsub.in-memory: message on topic %s was not handled and is lost (no broker redelivery)", m->topic);
  wgg_pubsub_msg_free(m);
}

static int m_publish(wgg_pubsub *ps, const char *topic, const char *data, size_t len, wgg_err *err) {
  mhub *h = ((mbus *)ps)->hub;
  pthread_mutex_lock(&h->mu);
  int rc = 0;
  for (msub *s = h->subs; s && rc == 0; s = s->next) { /* a copy for each subscribed app ID */
    if (strcmp(s->topic, topic)) continue;
    wgg_pubsub_msg *m = wgg_pubsub_msg_new(sizeof *m, topic, data, len, m_done);
    if (m) s->fn(s->user, m);
    else rc = wgg_err_set(err, "out of memory");
  }
  pthread_mutex_unlock(&h->mu);
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
  s->owner = b;
  pthread_mutex_lock(&b->hub->mu);
  for (msub *o = b->hub->subs; o; o = o->next)
    if (o->owner == b && !strcmp(o->topic, topic)) {
      pthread_mutex_unlock(&b->hub->mu);
      free(s->topic);
      free(s);
      return wgg_err_set(err, "topic %s is already subscribed", topic);
    }
  s->next = b->hub->subs;
  b->hub->subs = s;
  pthread_mutex_unlock(&b->hub->mu);
  return 0;
}

static void m_destroy(wgg_pubsub *ps) {
  mbus *b = (mbus *)ps;
  if (b->hub) {
    pthread_mutex_lock(&b->hub->mu);
    for (msub **p = &b->hub->subs; *p;) {
      msub *s = *p;
      if (s->owner != b) {
        p = &s->next;
        continue;
      }
      *p = s->next;
      free(s->topic);
      free(s);
    }
    pthread_mutex_unlock(&b->hub->mu);
    hub_put(b->hub);
  }
  free(b);
}

static const wgg_pubsub_ops memory_ops = {m_publish, m_subscribe, m_destroy};

wgg_pubsub *wgg_pubsub_memory_new(const wgg_component *c, const char *app_id, wgg_err *err) {
  (void)app_id;
  mbus *b = calloc(1, sizeof *b);
  if (!b) return wgg_err_set(err, "out of memory"), NULL;
  b->base.ops = &memory_ops;
  b->base.concurrency = 10;
  if (!(b->hub = hub_get(c->name))) {
    free(b);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  if (wgg_pubsub_meta_int(c, "concurrency", 1, &b->base.concurrency, err)) {
    m_destroy(&b->base);
    return NULL;
  }
  return &b->base;
}
