/*
 * bulk.c: bulk subscribe (docs developing-applications/building-blocks/pubsub/
 * pubsub-bulk.md; dapr pkg/runtime/subscription/bulksubscribe*.go and
 * postman/http). A subscription with bulkSubscribe.enabled collects up to
 * maxMessagesCount messages, or what arrived within maxAwaitDurationMs, and
 * POSTs them per route as one JSON document
 *   {"id","entries":[{"entryId","event","contentType","metadata"}],"metadata",
 *    "topic","pubsubname","type":"com.dapr.event.sent.bulk"}
 * The app answers {"statuses":[{"entryId","status"}]}: SUCCESS acks, DROP drops
 * (to the dead-letter topic when set), RETRY, an unknown status or a missing
 * entry retries that entry; 404 drops the whole request, any other non-2xx,
 * an unreadable body or no answer retries it. Retries follow the same policy
 * as single deliveries; one batch per subscription is in flight at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pubsub/cloudevent.h"
#include "pubsub/runtime_internal.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/uuid.h"

enum { E_PENDING, E_ACK, E_RETRY, E_DROP, E_DONE };

typedef struct bentry {
  wgg_pubsub_msg *msg;
  json_t *ce;
  char id[37];
  const char *path; /* borrowed from the subscription's rules */
  int state;
} bentry;

typedef struct batch {
  psub *s;
  bentry *e;
  size_t n;
  int attempt;
  uint64_t backoff_ms;
  int requests; /* in flight to the app */
  uv_timer_t timer;
  uv_work_t work;
  wgg_ps_retry retry;
} batch;

typedef struct breq {
  batch *b;
  const char *path;
} breq;

static void round_start(batch *b);

static void batch_freed(uv_handle_t *h) {
  batch *b = h->data;
  for (size_t i = 0; i < b->n; i++) json_decref(b->e[i].ce);
  free(b->e);
  free(b);
}

/* Completes every entry in state `from` with the broker verdict ack. */
static void settle(batch *b, int from, bool ack) {
  for (size_t i = 0; i < b->n; i++)
    if (b->e[i].state == from) {
      b->e[i].msg->done(b->e[i].msg, ack);
      b->e[i].msg = NULL;
      b->e[i].state = E_DONE;
    }
}

static void batch_end(batch *b) {
  psub *s = b->s;
  s->inflight--;
  uv_close((uv_handle_t *)&b->timer, batch_freed);
  wgg_psrt_pump(s);
}

static void dlq_work(uv_work_t *w) {
  batch *b = w->data;
  wgg_pubsub *ps = b->s->ps->ps;
  for (size_t i = 0; i < b->n; i++) {
    if (b->e[i].state != E_DROP) continue;
    wgg_err e;
    if (ps->ops->publish(ps, b->s->spec.dead_letter, b->e[i].msg->data, b->e[i].msg->len, &e)) {
      wgg_error("pubsub %s: cannot send a message to dead-letter topic %s: %s", b->s->spec.pubsub,
                b->s->spec.dead_letter, e.msg);
      b->e[i].state = E_RETRY; /* handed back to the broker below */
    }
  }
}

static void dlq_done(uv_work_t *w, int status) {
  batch *b = w->data;
  (void)status;
  settle(b, E_DROP, true);
  settle(b, E_RETRY, false);
  batch_end(b);
}

/* The end of the batch: dropped entries to the dead-letter topic (or acked),
 * retried ones back to the broker. */
static void finalize(batch *b) {
  settle(b, E_ACK, true);
  bool drops = false;
  for (size_t i = 0; i < b->n; i++) drops |= b->e[i].state == E_DROP;
  if (!b->s->spec.dead_letter) {
    settle(b, E_DROP, true);
    settle(b, E_RETRY, false);
    batch_end(b);
    return;
  }
  for (size_t i = 0; i < b->n; i++) /* retries exhausted with a dead-letter topic: dead-letter them too */
    if (b->e[i].state == E_RETRY) b->e[i].state = E_DROP, drops = true;
  b->work.data = b;
  if (!drops) {
    batch_end(b);
  } else if (!b->s->ps->ps->blocking) {
    dlq_work(&b->work);
    dlq_done(&b->work, 0);
  } else if (uv_queue_work(&b->s->rt->loop, &b->work, dlq_work, dlq_done)) {
    settle(b, E_DROP, false);
    batch_end(b);
  }
}

static void on_timer(uv_timer_t *t) {
  round_start(t->data);
}

/* After a round: ack what succeeded at once, then retry the rest or end. */
static void round_end(batch *b) {
  settle(b, E_ACK, true);
  bool retry = false;
  for (size_t i = 0; i < b->n; i++) retry |= b->e[i].state == E_RETRY;
  bool stopping = wgg_psrt_stopping(b->s->rt);
  if (retry && !stopping && (b->retry.max_retries < 0 || b->attempt < b->retry.max_retries)) {
    b->attempt++;
    uint64_t wait = b->retry.exponential ? (b->backoff_ms ? b->backoff_ms : b->retry.initial_ms) : b->retry.duration_ms;
    if (b->retry.exponential) {
      uint64_t next = wait + wait / 2;
      b->backoff_ms = b->retry.max_interval_ms && next > b->retry.max_interval_ms ? b->retry.max_interval_ms : next;
    }
    for (size_t i = 0; i < b->n; i++)
      if (b->e[i].state == E_RETRY) b->e[i].state = E_PENDING;
    uv_timer_start(&b->timer, on_timer, wait ? wait : 1, 0);
    return;
  }
  if (stopping) {
    settle(b, E_DROP, false);
    settle(b, E_RETRY, false);
    batch_end(b);
    return;
  }
  finalize(b);
}

static void on_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  breq *q = user;
  batch *b = q->b;
  const char *path = q->path;
  free(q);
  int all = -1; /* a verdict for every entry of the request, or -1: per entry */
  json_t *j = NULL;
  if (!resp) {
    wgg_warn("pubsub %s: bulk delivery to /%s failed: %s; will retry", b->s->spec.pubsub, path, errmsg ? errmsg : "error");
    all = E_RETRY;
  } else if (resp->status == 404) {
    wgg_error("pubsub %s: non-retriable error returned from app while processing bulk pub/sub event: status 404",
              b->s->spec.pubsub);
    all = E_DROP;
  } else if (resp->status < 200 || resp->status > 299) {
    wgg_warn("pubsub %s: bulk delivery to /%s answered %d; will retry", b->s->spec.pubsub, path, resp->status);
    all = E_RETRY;
  } else if ((j = json_loadb(resp->body, resp->body_len, 0, NULL)), !json_is_array(json_object_get(j, "statuses"))) {
    /* (json_is_array evaluates its argument twice: load first) */
    wgg_warn("pubsub %s: failed unmarshalling app response for bulk subscribe; will retry", b->s->spec.pubsub);
    all = E_RETRY;
  }
  for (size_t i = 0; i < b->n; i++) {
    bentry *e = &b->e[i];
    if (e->state != E_PENDING || strcmp(e->path, path)) continue;
    if (all >= 0) {
      e->state = all;
      continue;
    }
    e->state = E_RETRY; /* missing from the answer */
    size_t k;
    json_t *st;
    json_array_foreach(json_object_get(j, "statuses"), k, st) {
      const char *id = json_string_value(json_object_get(st, "entryId"));
      const char *v = json_string_value(json_object_get(st, "status"));
      if (!id || strcmp(id, e->id)) continue;
      e->state = v && !strcasecmp(v, "SUCCESS") ? E_ACK : v && !strcasecmp(v, "DROP") ? E_DROP : E_RETRY;
      break;
    }
  }
  json_decref(j);
  if (--b->requests == 0) round_end(b);
}

/* Sends the pending entries, one request per route. */
static void round_start(batch *b) {
  struct wgg_psrt *rt = b->s->rt;
  if (rt->app.healthy && !rt->app.healthy(rt->app.ctx)) { /* paused while the app is unhealthy (deliver.c) */
    bool stopping = wgg_psrt_stopping(rt);
    if (stopping) {
      settle(b, E_PENDING, false);
      batch_end(b);
    } else {
      uv_timer_start(&b->timer, on_timer, WGG_PS_UNHEALTHY_WAIT_MS, 0);
    }
    return;
  }
  b->requests = 1; /* held while sending, so a synchronous failure cannot end the round early */
  for (size_t i = 0; i < b->n; i++) {
    const char *path = b->e[i].path;
    bool first = b->e[i].state == E_PENDING;
    for (size_t k = 0; first && k < i; k++)
      if (b->e[k].state == E_PENDING && !strcmp(b->e[k].path, path)) first = false;
    if (!first) continue;
    char id[37];
    wgg_uuid_new(id);
    json_t *entries = json_array();
    for (size_t k = i; k < b->n; k++)
      if (b->e[k].state == E_PENDING && !strcmp(b->e[k].path, path))
        json_array_append_new(entries, json_pack("{s:s,s:O,s:s,s:{}}", "entryId", b->e[k].id, "event", b->e[k].ce,
                                                 "contentType", "application/cloudevents+json", "metadata"));
    json_t *doc = json_pack("{s:s,s:o,s:{},s:s,s:s,s:s}", "id", id, "entries", entries, "metadata", "topic",
                            b->s->spec.topic, "pubsubname", b->s->spec.pubsub, "type", "com.dapr.event.sent.bulk");
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    wgg_buf target = {0}, kind = {0}; /* kind: OnBulkTopicEventAlpha1 with the route's path, for a gRPC app */
    wgg_buf_printf(&kind, "bulk\x1f%s\x1f%s\x1f%s", b->s->spec.pubsub, b->s->spec.topic, path);
    wgg_http_header h[2] = {{"Content-Type", "application/json"}, {WGG_APP_CALL_KIND, kind.data ? kind.data : "bulk"}};
    breq *q = malloc(sizeof *q);
    b->requests++;
    if (q) *q = (breq){b, path};
    const char *why = "cannot start the request to the app";
    if (!q || !body || !rt->client || wgg_buf_printf(&target, "/%s", path[0] == '/' ? path + 1 : path) ||
        rt->app.call(rt->app.ctx, rt->client, "POST", target.data, h, 2, body, strlen(body), b->s->timeout_ms,
                     on_response, q, &why)) {
      if (q) on_response(q, NULL, why);
      else b->requests--;
    }
    wgg_buf_free(&target);
    wgg_buf_free(&kind);
    free(body);
  }
  if (--b->requests == 0) round_end(b);
}

/* Takes up to bulk_max queued messages of s into a batch and sends it. */
static void batch_start(psub *s) {
  batch *b = calloc(1, sizeof *b);
  size_t max = (size_t)s->spec.bulk_max;
  if (!b || !(b->e = calloc(max, sizeof *b->e))) {
    free(b);
    return;
  }
  b->s = s;
  b->retry = s->retry;
  uv_timer_init(&s->rt->loop, &b->timer);
  b->timer.data = b;
  s->inflight++;
  while (s->qhead && b->n < max) {
    psitem *it = s->qhead;
    s->qhead = it->next;
    if (!s->qhead) s->qtail = NULL;
    bentry *e = &b->e[b->n++];
    e->msg = it->msg;
    free(it);
    wgg_uuid_new(e->id);
    e->ce = s->spec.raw ? wgg_ce_from_raw(s->spec.pubsub, e->msg->topic, e->msg->data, e->msg->len)
                        : json_loadb(e->msg->data, e->msg->len, 0, NULL);
    if (!json_is_object(e->ce)) {
      wgg_error("pubsub %s: error deserializing cloud event on topic %s", s->spec.pubsub, e->msg->topic);
      e->state = E_DROP;
    } else if (wgg_ce_expired(e->ce)) {
      wgg_warn("pubsub %s: dropping expired pub/sub event on topic %s", s->spec.pubsub, e->msg->topic);
      e->state = E_ACK;
    } else if (!(e->path = wgg_sub_route(&s->spec, e->ce))) {
      e->state = E_DROP;
    }
  }
  settle(b, E_ACK, true);
  round_start(b);
}

static void on_await(uv_timer_t *t) {
  psub *s = t->data;
  if (s->qhead && s->inflight == 0) batch_start(s);
}

static void await_closed(uv_handle_t *h) {
  free(h);
}

void wgg_psrt_bulk_pump(psub *s) {
  if (s->inflight > 0 || !s->qhead) return;
  size_t n = 0;
  for (psitem *it = s->qhead; it && n < (size_t)s->spec.bulk_max; it = it->next) n++;
  if (n >= (size_t)s->spec.bulk_max || s->spec.bulk_await_ms == 0) {
    if (s->bulk_timer) uv_timer_stop(s->bulk_timer);
    batch_start(s);
    return;
  }
  if (!s->bulk_timer) {
    if (!(s->bulk_timer = malloc(sizeof *s->bulk_timer))) return;
    uv_timer_init(&s->rt->loop, s->bulk_timer);
    s->bulk_timer->data = s;
  }
  if (!uv_is_active((uv_handle_t *)s->bulk_timer)) uv_timer_start(s->bulk_timer, on_await, (uint64_t)s->spec.bulk_await_ms, 0);
}

void wgg_psrt_bulk_close(psub *s) {
  if (s->bulk_timer && !uv_is_closing((uv_handle_t *)s->bulk_timer)) uv_close((uv_handle_t *)s->bulk_timer, await_closed);
  s->bulk_timer = NULL;
}
