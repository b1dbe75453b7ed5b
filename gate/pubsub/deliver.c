/*
 * deliver.c: one message to the app, as dapr pkg/runtime/subscription/
 * subscription.go and postman/http/http.go do it: parse the CloudEvent (or
 * wrap a raw payload), drop it when expired, pick the route, POST it with
 * Content-Type application/cloudevents+json, read the answer:
 *   2xx with no body, a non-JSON body, no status or "SUCCESS" -> ack;
 *   2xx "RETRY" or an unknown status, a non-2xx other than 404, a transport
 *   error -> retry by the policy;
 *   2xx "DROP", 404 -> drop (to the deadLetterTopic when set).
 * A message no rule routes goes to the deadLetterTopic when set, else is
 * acknowledged and skipped. When the retries are exhausted the message goes
 * to the deadLetterTopic when set, else back to the broker unacknowledged.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "observe/metrics.h"
#include "pubsub/cloudevent.h"
#include "config/resiliency.h"
#include "pubsub/runtime_internal.h"
#include "util/buf.h"
#include "util/log.h"

enum { OUT_ACK, OUT_RETRY, OUT_DROP };

static void delivery_free(uv_handle_t *h) {
  delivery *d = h->data;
  json_decref(d->ce);
  free(d->path);
  free(d->body);
  free(d);
}

/* The list of deliveries d is on: its lane's, or the delivery loop's. */
static delivery **active_of(delivery *d) {
  return d->lane ? &d->lane->active : &d->s->rt->active;
}

/* Takes d off its list and its slot and closes it (freed once closed). */
static void unlink_close(delivery *d) {
  if (d->prev) d->prev->next = d->next;
  else *active_of(d) = d->next;
  if (d->next) d->next->prev = d->prev;
  if (d->lane) d->lane->inflight--;
  else d->s->inflight--;
  uv_close((uv_handle_t *)&d->timer, delivery_free);
}

/* Completes d: the broker verdict, the slot, the memory. */
static void finish(delivery *d, bool ack) {
  struct wgg_ps_lane *lane = d->lane;
  psub *s = d->s;
  d->msg->done(d->msg, ack);
  d->msg = NULL;
  unlink_close(d);
  if (!lane) {
    wgg_psrt_pump(s);
  } else if (lane->detached) {
    wgg_psrt_lane_release(lane);
  } else {
    wgg_psrt_lane_pump(lane);
  }
}

wgg_pubsub_msg *wgg_psrt_lane_take(delivery *d) {
  if (d->in_dlq) return NULL;
  uv_timer_stop(&d->timer);
  if (d->allowed) wgg_breaker_record(d->s->breaker, false, wgg_res_now_ms()); /* the attempt failed */
  d->allowed = d->awaiting = d->waiting = false;
  wgg_pubsub_msg *m = d->msg;
  d->msg = NULL;
  unlink_close(d);
  return m;
}

/* The dead-letter topic of d: its stream's, else its subscription's, else NULL. */
static const char *dead_letter_of(const delivery *d) {
  return d->lane && d->lane->dead_letter ? d->lane->dead_letter : d->s->spec.dead_letter;
}

static void dlq_work(uv_work_t *w) {
  delivery *d = w->data;
  wgg_err e;
  wgg_pubsub *ps = d->s->ps->ps;
  const char *dl = dead_letter_of(d);
  d->work_rc = ps->ops->publish(ps, dl, d->msg->data, d->msg->len, &e);
  if (d->work_rc) wgg_error("pubsub %s: cannot send the message to dead-letter topic %s: %s", d->s->spec.pubsub, dl, e.msg);
}

static void dlq_done(uv_work_t *w, int status) {
  delivery *d = w->data;
  d->in_dlq = false;
  finish(d, status == 0 && d->work_rc == 0);
}

/* Sends d's message to the dead-letter topic when the subscription has one
 * (acknowledging it once published), else acknowledges it (dropped). */
static void drop(delivery *d) {
  psub *s = d->s;
  const char *dl = dead_letter_of(d);
  if (!dl) {
    finish(d, true);
    return;
  }
  wgg_debug("pubsub %s: message on topic %s goes to dead-letter topic %s", s->spec.pubsub, s->spec.topic, dl);
  d->work.data = d;
  if (!s->ps->ps->blocking) {
    dlq_work(&d->work);
    dlq_done(&d->work, 0);
  } else if (uv_queue_work(d->lane ? d->lane->loop : &s->rt->loop, &d->work, dlq_work, dlq_done)) {
    finish(d, false);
  } else {
    d->in_dlq = true;
  }
}

static int outcome_of(const wgg_http_response *resp, const char *errmsg, const delivery *d) {
  const char *id = json_string_value(json_object_get(d->ce, "id"));
  if (!resp) {
    wgg_warn("pubsub %s: delivering event %s on topic %s to /%s failed: %s; will retry", d->s->spec.pubsub,
             id ? id : "?", d->s->spec.topic, d->path, errmsg ? errmsg : "error");
    return OUT_RETRY;
  }
  if (resp->status == 404) {
    wgg_error("pubsub %s: non-retriable error returned from app while processing pub/sub event %s: status 404",
              d->s->spec.pubsub, id ? id : "?");
    return OUT_DROP;
  }
  if (resp->status < 200 || resp->status > 299) {
    wgg_warn("pubsub %s: retriable error returned from app while processing pub/sub event %s, topic: %s, status code: %d",
             d->s->spec.pubsub, id ? id : "?", d->s->spec.topic, resp->status);
    return OUT_RETRY;
  }
  json_t *j = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
  const char *st = json_string_value(json_object_get(j, "status"));
  int out = OUT_ACK;
  if (!st || !*st || !strcasecmp(st, "SUCCESS")) {
    out = OUT_ACK;
  } else if (!strcasecmp(st, "DROP")) {
    wgg_warn("pubsub %s: DROP status returned from app while processing pub/sub event %s", d->s->spec.pubsub,
             id ? id : "?");
    out = OUT_DROP;
  } else {
    if (strcasecmp(st, "RETRY"))
      wgg_warn("pubsub %s: unknown status returned from app while processing pub/sub event %s: %s", d->s->spec.pubsub,
               id ? id : "?", st);
    out = OUT_RETRY;
  }
  json_decref(j);
  return out;
}

static void send_event(delivery *d);

static void on_retry_timer(uv_timer_t *t) {
  delivery *d = t->data;
  d->waiting = false;
  send_event(d);
}

/* The wait before retry number d->attempt (1-based), or 0 when the policy
 * allows no more. */
static uint64_t next_wait(delivery *d) {
  const wgg_ps_retry *p = &d->s->retry;
  if (p->max_retries >= 0 && d->attempt > p->max_retries) return 0;
  if (!p->exponential) return p->duration_ms ? p->duration_ms : 1;
  /* dapr/kit (cenkalti/backoff): interval * rand[0.5, 1.5], then interval *= 1.5, capped */
  uint64_t cur = d->backoff_ms ? d->backoff_ms : (p->initial_ms ? p->initial_ms : 500);
  unsigned r = 0;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = 0x7fffffff;
  uint64_t wait = (uint64_t)((double)cur * (0.5 + (double)r / 4294967296.0));
  uint64_t next = cur + cur / 2;
  d->backoff_ms = p->max_interval_ms && next > p->max_interval_ms ? p->max_interval_ms : next;
  if (p->max_interval_ms && wait > p->max_interval_ms) wait = p->max_interval_ms;
  return wait ? wait : 1;
}

static void retry_or_give_up(delivery *d) {
  struct wgg_psrt *rt = d->s->rt;
  bool stopping = wgg_psrt_stopping(rt);
  d->attempt++;
  uint64_t wait = stopping ? 0 : next_wait(d);
  if (wait) {
    d->waiting = true;
    uv_timer_start(&d->timer, on_retry_timer, wait, 0);
    return;
  }
  if (stopping) {
    finish(d, false);
  } else if (dead_letter_of(d)) {
    drop(d);
  } else {
    wgg_warn("pubsub %s: retries exhausted for a message on topic %s; handing it back to the broker", d->s->spec.pubsub,
             d->s->spec.topic);
    finish(d, false);
  }
}

/* The verdict on d's attempt, from the app's answer or a stream's. */
static void apply_outcome(delivery *d, int out) {
  static const char *const names[] = {"component", "process_status", "topic"};
  const char *values[] = {d->s->spec.pubsub, out == OUT_ACK ? "success" : out == OUT_DROP ? "drop" : "retry",
                          d->s->spec.topic};
  wgg_metrics_count(d->s->rt->metrics, WGG_MF_PUBSUB_INGRESS, names, values, 3);
  if (d->allowed) wgg_breaker_record(d->s->breaker, out != OUT_RETRY, wgg_res_now_ms());
  d->allowed = false;
  switch (out) {
    case OUT_ACK: finish(d, true); break;
    case OUT_DROP: drop(d); break;
    default: retry_or_give_up(d); break;
  }
}

static void on_response(void *user, const wgg_http_response *resp, const char *errmsg) {
  apply_outcome(user, outcome_of(resp, errmsg, user));
}

/* A stream's attempt got no verdict in time. */
static void on_stream_timeout(uv_timer_t *t) {
  delivery *d = t->data;
  if (!d->awaiting) return;
  d->awaiting = false;
  wgg_warn("pubsub %s: no answer from the stream to event %s on topic %s in time; will retry", d->s->spec.pubsub,
           json_string_value(json_object_get(d->ce, "id")) ? json_string_value(json_object_get(d->ce, "id")) : "?",
           d->s->spec.topic);
  apply_outcome(d, OUT_RETRY);
}

void wgg_psrt_lane_outcome(struct wgg_ps_lane *l, uint64_t token, int outcome) {
  for (delivery *d = l->active; d; d = d->next) {
    if (!d->awaiting || d->token != token) continue;
    d->awaiting = false;
    uv_timer_stop(&d->timer);
    const char *id = json_string_value(json_object_get(d->ce, "id"));
    int out = OUT_RETRY;
    if (outcome == WGG_PS_SUCCESS) {
      out = OUT_ACK;
    } else if (outcome == WGG_PS_DROP) {
      wgg_warn("pubsub %s: DROP status returned from app while processing pub/sub event %s", d->s->spec.pubsub,
               id ? id : "?");
      out = OUT_DROP;
    } else if (outcome != WGG_PS_RETRY) {
      wgg_warn("pubsub %s: unknown status returned from app while processing pub/sub event %s, status: %d",
               d->s->spec.pubsub, id ? id : "?", outcome);
    }
    apply_outcome(d, out);
    return;
  }
}

/* Sends d's attempt on its lane's stream and waits for the verdict. The send
 * may end the stream (a failed write closes its connection): the stream's
 * detach then takes d off the lane before the send returns. */
static void send_to_stream(delivery *d) {
  struct wgg_ps_lane *l = d->lane;
  d->token = ++l->next_token;
  d->awaiting = true;
  uv_timer_start(&d->timer, on_stream_timeout, d->s->timeout_ms, 0);
  int rc = l->sink.send(l->sink.ctx, d->ce, d->token);
  if (!d->msg) return; /* handed on by the detach; d is closing */
  if (rc) {
    d->awaiting = false;
    uv_timer_stop(&d->timer);
    apply_outcome(d, OUT_RETRY);
  }
}

static void send_event(delivery *d) {
  struct wgg_psrt *rt = d->s->rt;
  /* An unhealthy app (daprd pauses subscriptions) or an open Resiliency
   * circuit breaker pauses the delivery without spending a retry. */
  bool stream = d->s->spec.kind == WGG_SUB_STREAMING;
  bool paused = !stream && rt->app.healthy && !rt->app.healthy(rt->app.ctx);
  if (!paused && d->s->breaker) {
    d->allowed = wgg_breaker_allow(d->s->breaker, wgg_res_now_ms()); /* true: one record owed */
    paused = !d->allowed;
  }
  if (paused) {
    if (wgg_psrt_stopping(rt)) {
      finish(d, false);
      return;
    }
    d->waiting = true;
    uv_timer_start(&d->timer, on_retry_timer, WGG_PS_UNHEALTHY_WAIT_MS, 0);
    return;
  }
  if (stream && d->lane) {
    send_to_stream(d);
    return;
  }
  if (stream) { /* not reached: a streaming subscription's messages go to lanes only */
    finish(d, false);
    return;
  }
  wgg_http_header h[5];
  size_t n = 0;
  h[n++] = (wgg_http_header){"Content-Type", "application/cloudevents+json"};
  const char *tp = json_string_value(json_object_get(d->ce, "traceparent"));
  const char *ts = json_string_value(json_object_get(d->ce, "tracestate"));
  if (tp && *tp) h[n++] = (wgg_http_header){"traceparent", tp};
  if (ts && *ts) h[n++] = (wgg_http_header){"tracestate", ts};
  wgg_buf target = {0}, kind = {0}; /* kind: OnTopicEvent with the route's own path, for a gRPC app */
  const char *why = "cannot start the request to the app";
  if (!wgg_buf_printf(&kind, "topic\x1f%s\x1f%s\x1f%s", d->s->spec.pubsub, d->s->spec.topic, d->path)) h[n++] = (wgg_http_header){WGG_APP_CALL_KIND, kind.data};
  if (!rt->client || !kind.data || wgg_buf_printf(&target, "/%s", d->path[0] == '/' ? d->path + 1 : d->path) ||
      rt->app.call(rt->app.ctx, rt->client, "POST", target.data, h, n, d->body, strlen(d->body), d->s->timeout_ms,
                   on_response, d, &why)) {
    wgg_buf_free(&target);
    wgg_buf_free(&kind);
    on_response(d, NULL, why);
    return;
  }
  wgg_buf_free(&target);
  wgg_buf_free(&kind);
}

void wgg_psrt_deliver(psub *s, struct wgg_ps_lane *lane, wgg_pubsub_msg *msg) {
  struct wgg_psrt *rt = s->rt;
  delivery *d = calloc(1, sizeof *d);
  if (!d) {
    msg->done(msg, false);
    return;
  }
  if (lane) lane->inflight++;
  else s->inflight++;
  d->s = s;
  d->lane = lane;
  d->msg = msg;
  uv_timer_init(lane ? lane->loop : &rt->loop, &d->timer);
  d->timer.data = d;
  delivery **head = active_of(d);
  d->next = *head;
  if (*head) (*head)->prev = d;
  *head = d;
  if (s->spec.raw) {
    d->ce = wgg_ce_from_raw(s->spec.pubsub, msg->topic, msg->data, msg->len);
  } else {
    json_error_t je;
    d->ce = json_loadb(msg->data, msg->len, 0, &je);
    if (!json_is_object(d->ce)) {
      wgg_error("pubsub %s: error deserializing cloud event on topic %s: %s", s->spec.pubsub, msg->topic,
                d->ce ? "not a JSON object" : je.text);
      json_decref(d->ce);
      d->ce = NULL;
      drop(d);
      return;
    }
  }
  if (!d->ce) {
    finish(d, false);
    return;
  }
  if (wgg_ce_expired(d->ce)) {
    wgg_warn("pubsub %s: dropping expired pub/sub event %s on topic %s", s->spec.pubsub,
             json_string_value(json_object_get(d->ce, "id")) ? json_string_value(json_object_get(d->ce, "id")) : "?",
             msg->topic);
    finish(d, true);
    return;
  }
  const char *path = wgg_sub_route(&s->spec, d->ce);
  if (!path) {
    wgg_debug("pubsub %s: no matching route for an event on topic %s; skipping", s->spec.pubsub, msg->topic);
    drop(d);
    return;
  }
  d->path = strdup(path);
  d->body = json_dumps(d->ce, JSON_COMPACT);
  if (!d->path || !d->body) {
    finish(d, false);
    return;
  }
  send_event(d);
}

void wgg_psrt_abort_waiting(struct wgg_psrt *rt) {
  delivery *d = rt->active;
  while (d) {
    delivery *next = d->next;
    if (d->waiting || d->awaiting) {
      uv_timer_stop(&d->timer);
      d->waiting = d->awaiting = false;
      finish(d, false);
    }
    d = next;
  }
}

void wgg_psrt_pump(psub *s) {
  bool stopping = wgg_psrt_stopping(s->rt);
  if (stopping) return; /* the stop path hands the queue back to the broker */
  if (s->spec.bulk) {
    wgg_psrt_bulk_pump(s);
    return;
  }
  while (s->qhead && s->inflight < s->max_inflight) {
    psitem *it = s->qhead;
    s->qhead = it->next;
    if (!s->qhead) s->qtail = NULL;
    wgg_pubsub_msg *m = it->msg;
    free(it);
    wgg_psrt_deliver(s, NULL, m);
  }
}
