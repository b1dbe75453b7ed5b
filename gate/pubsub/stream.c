/*
 * stream.c: streaming subscribers (runtime.h, dapr pkg/runtime/pubsub/
 * streamer and pkg/runtime/subscription/postman/streaming): attaching and
 * detaching streams, and each stream's lane: the messages handed to a stream
 * are delivered (deliver.c) on the stream's own loop, so its sends and its
 * verdicts need no thread crossing; a detached stream hands what it holds
 * unanswered to the topic's other streams, else back to the broker.
 */
#include <stdlib.h>
#include <string.h>

#include "pubsub/runtime_internal.h"
#include "pubsub/scopes.h"
#include "util/err.h"
#include "util/log.h"

/* ---- lanes: a stream's deliveries on its own loop ---- */

static void lane_handle_closed(uv_handle_t *h) {
  struct wgg_ps_lane *l = h->data;
  l->open_handles--;
  wgg_psrt_lane_release(l);
}

void wgg_psrt_lane_release(struct wgg_ps_lane *l) {
  if (!l->detached || l->open_handles || l->active) return;
  pthread_mutex_destroy(&l->mu);
  free(l->dead_letter);
  free(l);
}

/* Appends the messages of the list it to l's queue (l's thread). */
static void lane_enqueue(struct wgg_ps_lane *l, psitem *it) {
  while (it) {
    psitem *next = it->next;
    it->next = NULL;
    if (l->qtail) l->qtail->next = it;
    else l->qhead = it;
    l->qtail = it;
    it = next;
  }
}

void wgg_psrt_lane_pump(struct wgg_ps_lane *l) {
  while (!l->detached && l->qhead && l->inflight < l->s->max_inflight) {
    psitem *it = l->qhead;
    l->qhead = it->next;
    if (!l->qhead) l->qtail = NULL;
    wgg_pubsub_msg *m = it->msg;
    free(it);
    wgg_psrt_deliver(l->s, l, m);
  }
}

/* Moves what other threads (or this one, from inside a component's callback)
 * handed to l into its queue and delivers. */
static void lane_drain(struct wgg_ps_lane *l) {
  pthread_mutex_lock(&l->mu);
  psitem *it = l->inbox_head;
  l->inbox_head = l->inbox_tail = NULL;
  pthread_mutex_unlock(&l->mu);
  lane_enqueue(l, it);
  wgg_psrt_lane_pump(l);
}

static void on_lane_async(uv_async_t *a) {
  lane_drain(a->data);
}

static void on_lane_idle(uv_idle_t *h) {
  uv_idle_stop(h);
  lane_drain(h->data);
}

bool wgg_psrt_stream_take(psub *s, wgg_pubsub_msg *m) {
  struct wgg_psrt *rt = s->rt;
  psitem *it = calloc(1, sizeof *it);
  if (!it) return false;
  it->sub = s;
  it->msg = m;
  pthread_mutex_lock(&rt->mu);
  if (!s->n_sinks || rt->stopping) {
    pthread_mutex_unlock(&rt->mu);
    free(it);
    return false;
  }
  struct wgg_ps_lane *l = s->sinks[s->rr++ % s->n_sinks];
  uv_thread_t self = uv_thread_self();
  bool own = uv_thread_equal(&self, &l->owner);
  pthread_mutex_lock(&l->mu);
  if (l->inbox_tail) l->inbox_tail->next = it;
  else l->inbox_head = it;
  l->inbox_tail = it;
  pthread_mutex_unlock(&l->mu);
  /* Never delivered from inside the component's callback (it may hold the
   * component's lock, and a dead-letter publish would take it again): on the
   * lane's own thread later in this loop turn, without a wake-up; else the
   * lane's loop is woken (one crossing, coalesced while it is awake). */
  if (own) uv_idle_start(&l->idle, on_lane_idle);
  else uv_async_send(&l->async);
  pthread_mutex_unlock(&rt->mu); /* held until here: detach waits for it, so l is alive */
  return true;
}

/* m to another stream of s, else back to the broker unacknowledged. */
static void hand_on(psub *s, wgg_pubsub_msg *m) {
  if (wgg_psrt_stream_take(s, m)) return;
  wgg_debug("pubsub %s: no stream subscribed to topic %s; the message goes back to the broker", s->spec.pubsub,
            s->spec.topic);
  m->done(m, false);
}

void wgg_psrt_stream_verdict(wgg_ps_lane *lane, uint64_t token, int outcome) {
  if (lane && token && !lane->detached) wgg_psrt_lane_outcome(lane, token, outcome);
}

/* The subscription of pubsub/topic, or NULL. Under rt->mu. */
static psub *find_sub(struct wgg_psrt *rt, const char *pubsub, const char *topic) {
  for (size_t i = 0; i < rt->n_subs; i++)
    if (!strcmp(rt->subs[i]->spec.pubsub, pubsub) && !strcmp(rt->subs[i]->spec.topic, topic)) return rt->subs[i];
  return NULL;
}

/* A new streaming subscription of e/topic, subscribed on its component; NULL with err. */
static psub *new_stream_sub(struct wgg_psrt *rt, wgg_pubsub_entry *e, const char *topic, json_t *metadata,
                            wgg_err *err) {
  json_t *j = json_pack("{s:s,s:s,s:s,s:o}", "pubsubname", e->comp->name, "topic", topic, "route", "/", "metadata",
                        json_is_object(metadata) ? json_incref(metadata) : json_object());
  psub *s = calloc(1, sizeof *s);
  if (!j || !s) {
    json_decref(j);
    free(s);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  int rc = wgg_sub_parse(j, WGG_SUB_STREAMING, NULL, &s->spec, err);
  json_decref(j);
  if (rc) {
    free(s);
    return NULL;
  }
  s->spec.kind = WGG_SUB_STREAMING;
  if (wgg_psrt_sub_init(rt, s, e)) {
    wgg_sub_free(&s->spec);
    free(s);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  return s;
}

/* A new lane for a stream on loop (its thread), not attached yet; NULL when out of memory. */
static struct wgg_ps_lane *lane_new(struct wgg_psrt *rt, const char *dead_letter, uv_loop_t *loop,
                                    const wgg_ps_sink *sink) {
  struct wgg_ps_lane *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  if (dead_letter && *dead_letter && !(l->dead_letter = strdup(dead_letter))) {
    free(l);
    return NULL;
  }
  l->rt = rt;
  l->sink = *sink;
  l->loop = loop;
  l->owner = uv_thread_self();
  pthread_mutex_init(&l->mu, NULL);
  uv_async_init(loop, &l->async, on_lane_async);
  uv_idle_init(loop, &l->idle);
  l->async.data = l->idle.data = l;
  l->open_handles = 2;
  return l;
}

/* Closes the handles of a lane that never took a message (or was detached). */
static void lane_close(struct wgg_ps_lane *l) {
  l->detached = true;
  uv_close((uv_handle_t *)&l->async, lane_handle_closed);
  uv_close((uv_handle_t *)&l->idle, lane_handle_closed);
}

wgg_ps_lane *wgg_psrt_stream_attach(wgg_psrt *rt, const char *pubsub, const char *topic, json_t *metadata,
                                    const char *dead_letter, uv_loop_t *loop, const wgg_ps_sink *sink, wgg_err *err) {
  wgg_pubsub_entry *e = NULL;
  for (size_t i = 0; rt && i < rt->n_pubsubs && !e; i++)
    if (!strcmp(rt->pubsubs[i].comp->name, pubsub)) e = &rt->pubsubs[i];
  if (!e) return wgg_err_set(err, "pubsub %s is not found", pubsub), NULL;
  if (!wgg_pubsub_topic_allowed(e->comp, rt->opts->app_id, topic, false))
    return wgg_err_set(err, "topic %s is not allowed for app id %s", topic, rt->opts->app_id ? rt->opts->app_id : ""),
           NULL;
  struct wgg_ps_lane *l = lane_new(rt, dead_letter, loop, sink);
  if (!l) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_lock(&rt->attach_mu);
  pthread_mutex_lock(&rt->mu);
  psub *s = rt->started && !rt->stopping ? find_sub(rt, pubsub, topic) : NULL;
  bool down = !rt->started || rt->stopping;
  pthread_mutex_unlock(&rt->mu);
  uint64_t id = 0;
  if (down) {
    wgg_err_set(err, "subscriber is closed");
    goto out;
  }
  if (s && s->spec.kind != WGG_SUB_STREAMING) {
    wgg_err_set(err, "failed to create subscription for %s: topic %s is already subscribed by the app", pubsub, topic);
    goto out;
  }
  bool fresh = !s;
  if (fresh) {
    /* room in rt->subs first (as add_sub does): once the component delivers to s, s must be listed */
    pthread_mutex_lock(&rt->mu);
    psub **room = realloc(rt->subs, (rt->n_subs + 1) * sizeof *room);
    if (room) rt->subs = room;
    pthread_mutex_unlock(&rt->mu);
    if (!room) {
      wgg_err_set(err, "out of memory");
      goto out;
    }
    if (!(s = new_stream_sub(rt, e, topic, metadata, err))) goto out;
    wgg_err e2;
    if (e->ps->ops->subscribe(e->ps, topic, wgg_psrt_on_message, s, &e2)) {
      wgg_err_set(err, "failed to create subscription for %s: %s", pubsub, e2.msg);
      wgg_sub_free(&s->spec);
      free(s);
      goto out;
    }
  }
  pthread_mutex_lock(&rt->mu);
  struct wgg_ps_lane **grown = realloc(s->sinks, (s->n_sinks + 1) * sizeof *grown);
  if (grown) s->sinks = grown;
  if (fresh) rt->subs[rt->n_subs++] = s; /* the component now delivers to it: it stays (room made above) */
  if (grown) {
    id = l->id = ++rt->next_sink_id;
    l->s = s;
    s->sinks[s->n_sinks++] = l;
  } else {
    wgg_err_set(err, "out of memory");
  }
  pthread_mutex_unlock(&rt->mu);
  if (id) wgg_info("Subscribing to pubsub '%s' topic '%s' (stream %llu)", pubsub, topic, (unsigned long long)id);
out:
  pthread_mutex_unlock(&rt->attach_mu);
  if (id) return l;
  lane_close(l);
  return NULL;
}

void wgg_psrt_stream_detach(wgg_ps_lane *l) {
  if (!l) return;
  struct wgg_psrt *rt = l->rt;
  psub *s = l->s;
  pthread_mutex_lock(&rt->mu); /* from here on no message is handed to l */
  for (size_t k = 0; k < s->n_sinks; k++) {
    if (s->sinks[k] != l) continue;
    memmove(&s->sinks[k], &s->sinks[k + 1], (s->n_sinks - k - 1) * sizeof *s->sinks);
    s->n_sinks--;
    break;
  }
  pthread_mutex_unlock(&rt->mu);
  wgg_info("Unsubscribed from pubsub '%s' topic '%s' (stream %llu)", s->spec.pubsub, s->spec.topic,
           (unsigned long long)l->id);
  lane_close(l); /* no more sends: pumping stops */
  /* what l holds unanswered, oldest first: the attempts in flight (the list
   * is newest first), then the queue, then the inbox */
  delivery *d = l->active;
  while (d && d->next) d = d->next;
  size_t n = 0;
  for (delivery *prev; d; d = prev) {
    prev = d->prev;
    wgg_pubsub_msg *m = wgg_psrt_lane_take(d); /* NULL: its dead-letter publish runs on; it finishes on l */
    if (m) hand_on(s, m), n++;
  }
  pthread_mutex_lock(&l->mu);
  psitem *inbox = l->inbox_head;
  l->inbox_head = l->inbox_tail = NULL;
  pthread_mutex_unlock(&l->mu);
  lane_enqueue(l, inbox);
  for (psitem *it = l->qhead, *next; it; it = next) {
    next = it->next;
    hand_on(s, it->msg);
    free(it);
    n++;
  }
  l->qhead = l->qtail = NULL;
  if (n) wgg_debug("pubsub %s: %zu message(s) the closed stream %llu held handed on", s->spec.pubsub, n,
                   (unsigned long long)l->id);
  wgg_psrt_lane_release(l);
}
