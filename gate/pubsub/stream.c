/*
 * stream.c: streaming subscribers (runtime.h, dapr pkg/runtime/pubsub/
 * streamer and pkg/runtime/subscription/postman/streaming): attaching and
 * detaching streams, and their verdicts, moved to the delivery loop the way
 * messages from component threads are (rt->mu, rt->wake).
 */
#include <stdlib.h>
#include <string.h>

#include "pubsub/runtime_internal.h"
#include "pubsub/scopes.h"
#include "util/err.h"
#include "util/log.h"

/* Queues a note for the delivery loop (verdict when token != 0, else a detach). */
static void post_note(struct wgg_psrt *rt, uint64_t token, uint64_t sink_id, int outcome) {
  struct psnote *n = calloc(1, sizeof *n);
  if (!n) return; /* the attempt times out instead */
  n->token = token;
  n->sink_id = sink_id;
  n->outcome = outcome;
  pthread_mutex_lock(&rt->mu);
  if (rt->started && !rt->stopping) {
    struct psnote **p = &rt->notes;
    while (*p) p = &(*p)->next;
    *p = n;
    n = NULL;
    uv_async_send(&rt->wake);
  }
  pthread_mutex_unlock(&rt->mu);
  free(n);
}

void wgg_psrt_stream_notes(struct wgg_psrt *rt) {
  pthread_mutex_lock(&rt->mu);
  struct psnote *n = rt->notes;
  rt->notes = NULL;
  pthread_mutex_unlock(&rt->mu);
  while (n) {
    struct psnote *next = n->next;
    wgg_psrt_stream_outcome(rt, n->token, n->token ? 0 : n->sink_id, n->outcome);
    free(n);
    n = next;
  }
}

void wgg_psrt_stream_verdict(wgg_psrt *rt, uint64_t token, int outcome) {
  if (rt && token) post_note(rt, token, 0, outcome);
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

uint64_t wgg_psrt_stream_attach(wgg_psrt *rt, const char *pubsub, const char *topic, json_t *metadata,
                                const char *dead_letter, const wgg_ps_sink *sink, wgg_err *err) {
  wgg_pubsub_entry *e = NULL;
  for (size_t i = 0; rt && i < rt->n_pubsubs && !e; i++)
    if (!strcmp(rt->pubsubs[i].comp->name, pubsub)) e = &rt->pubsubs[i];
  if (!e) return wgg_err_set(err, "pubsub %s is not found", pubsub), 0;
  if (!wgg_pubsub_topic_allowed(e->comp, rt->opts->app_id, topic, false))
    return wgg_err_set(err, "topic %s is not allowed for app id %s", topic, rt->opts->app_id ? rt->opts->app_id : ""), 0;
  char *dl = dead_letter && *dead_letter ? strdup(dead_letter) : NULL;
  if (dead_letter && *dead_letter && !dl) return wgg_err_set(err, "out of memory"), 0;
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
  struct sinkref *grown = realloc(s->sinks, (s->n_sinks + 1) * sizeof *grown);
  psub **subs = fresh ? realloc(rt->subs, (rt->n_subs + 1) * sizeof *subs) : rt->subs;
  if (grown) s->sinks = grown;
  if (subs) rt->subs = subs;
  if (grown && subs) {
    id = ++rt->next_sink_id;
    s->sinks[s->n_sinks++] = (struct sinkref){id, *sink, dl};
    dl = NULL;
    if (fresh) rt->subs[rt->n_subs++] = s; /* the component now delivers to it: it stays */
  } else if (fresh) {
    rt->subs[rt->n_subs++] = s; /* subscribed on the component: must stay registered */
    wgg_err_set(err, "out of memory");
  } else {
    wgg_err_set(err, "out of memory");
  }
  pthread_mutex_unlock(&rt->mu);
  if (id) wgg_info("Subscribing to pubsub '%s' topic '%s' (stream %llu)", pubsub, topic, (unsigned long long)id);
out:
  pthread_mutex_unlock(&rt->attach_mu);
  free(dl);
  return id;
}

void wgg_psrt_stream_detach(wgg_psrt *rt, uint64_t id) {
  if (!rt || !id) return;
  bool found = false;
  pthread_mutex_lock(&rt->mu);
  for (size_t i = 0; i < rt->n_subs && !found; i++) {
    psub *s = rt->subs[i];
    for (size_t k = 0; k < s->n_sinks; k++) {
      if (s->sinks[k].id != id) continue;
      free(s->sinks[k].dead_letter);
      s->sinks[k] = s->sinks[--s->n_sinks];
      found = true;
      wgg_info("Unsubscribed from pubsub '%s' topic '%s' (stream %llu)", s->spec.pubsub, s->spec.topic,
               (unsigned long long)id);
      break;
    }
  }
  pthread_mutex_unlock(&rt->mu);
  if (found) post_note(rt, 0, id, WGG_PS_RETRY);
}
