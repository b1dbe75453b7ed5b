/*
 * runtime.c: the delivery thread (see runtime.h): waits for the app, reads
 * GET /dapr/subscribe (dapr pkg/runtime/pubsub/subscriptions.go: read once,
 * 404 or a failure means no programmatic subscriptions), subscribes, and
 * moves received messages from the components' threads to the loop.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pubsub/runtime_internal.h"
#include "pubsub/scopes.h"
#include "util/err.h"
#include "util/log.h"

enum { SUBSCRIBE_ATTEMPTS = 5, SUBSCRIBE_TIMEOUT_MS = 5000 };

/* Dapr's component retry defaults (dapr/kit retry.DefaultConfig: constant
 * 5 s, unlimited) and the component's backOff* metadata. */
static int retry_from_component(const wgg_component *c, wgg_ps_retry *p, wgg_err *err) {
  *p = (wgg_ps_retry){false, 5000, 500, 60000, -1};
  const char *pol = wgg_component_meta(c, "backOffPolicy");
  if (pol && *pol) {
    if (!strcasecmp(pol, "exponential")) p->exponential = true;
    else if (strcasecmp(pol, "constant")) return wgg_err_set(err, "invalid backOffPolicy '%s' (constant or exponential)", pol);
  }
  static const struct {
    const char *name;
    size_t off;
  } durs[] = {{"backOffDuration", offsetof(wgg_ps_retry, duration_ms)},
              {"backOffInitialInterval", offsetof(wgg_ps_retry, initial_ms)},
              {"backOffMaxInterval", offsetof(wgg_ps_retry, max_interval_ms)}};
  for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
    const char *v = wgg_component_meta(c, durs[i].name);
    wgg_err e;
    if (v && *v && wgg_parse_duration_ms(v, (uint64_t *)((char *)p + durs[i].off), &e))
      return wgg_err_set(err, "%s: %s", durs[i].name, e.msg);
  }
  const char *mr = wgg_component_meta(c, "backOffMaxRetries");
  if (mr && *mr) {
    char *end;
    p->max_retries = strtol(mr, &end, 10);
    if (*end || p->max_retries < -1) return wgg_err_set(err, "invalid backOffMaxRetries '%s'", mr);
  }
  return 0;
}

/* ---- messages from component threads ---- */

void wgg_psrt_on_message(void *user, wgg_pubsub_msg *m) {
  psub *s = user;
  struct wgg_psrt *rt = s->rt;
  if (s->spec.kind == WGG_SUB_STREAMING) { /* straight to a stream's lane, on the stream's loop */
    if (wgg_psrt_stream_take(s, m)) return;
    wgg_debug("pubsub %s: no stream subscribed to topic %s; the message goes back to the broker", s->spec.pubsub,
              s->spec.topic);
    m->done(m, false);
    return;
  }
  psitem *it = calloc(1, sizeof *it);
  pthread_mutex_lock(&rt->mu);
  bool stopping = rt->stopping;
  if (it && !stopping) {
    it->sub = s;
    it->msg = m;
    if (rt->inbox_tail) rt->inbox_tail->next = it;
    else rt->inbox_head = it;
    rt->inbox_tail = it;
    uv_async_send(&rt->wake);
  }
  pthread_mutex_unlock(&rt->mu);
  if (!it || stopping) {
    free(it);
    m->done(m, false);
  }
}

static void nack_queue(psub *s) {
  while (s->qhead) {
    psitem *it = s->qhead;
    s->qhead = it->next;
    it->msg->done(it->msg, false);
    free(it);
  }
  s->qtail = NULL;
}

static void loop_close(struct wgg_psrt *rt) {
  if (!uv_is_closing((uv_handle_t *)&rt->wake)) uv_close((uv_handle_t *)&rt->wake, NULL);
  if (!uv_is_closing((uv_handle_t *)&rt->ready_timer)) uv_close((uv_handle_t *)&rt->ready_timer, NULL);
  if (rt->client) wgg_http_client_close(rt->client);
  rt->client = NULL;
  if (rt->app.thread_close) rt->app.thread_close(rt->app.ctx); /* on the delivery thread, its loop still running */
  rt->app.thread_close = NULL;
}

static void on_wake(uv_async_t *a) {
  struct wgg_psrt *rt = a->data;
  pthread_mutex_lock(&rt->mu);
  psitem *it = rt->inbox_head;
  rt->inbox_head = rt->inbox_tail = NULL;
  bool stopping = rt->stopping;
  pthread_mutex_unlock(&rt->mu);
  while (it) {
    psitem *next = it->next;
    psub *s = it->sub;
    it->next = NULL;
    if (stopping) {
      it->msg->done(it->msg, false);
      free(it);
    } else {
      if (s->qtail) s->qtail->next = it;
      else s->qhead = it;
      s->qtail = it;
      wgg_psrt_pump(s);
    }
    it = next;
  }
  if (stopping) {
    for (size_t i = 0; i < rt->n_subs; i++) {
      nack_queue(rt->subs[i]);
      wgg_psrt_bulk_close(rt->subs[i]);
    }
    wgg_psrt_abort_waiting(rt);
    loop_close(rt);
  }
}

/* ---- subscriptions ---- */

static wgg_pubsub_entry *find_pubsub(struct wgg_psrt *rt, const char *name) {
  for (size_t i = 0; i < rt->n_pubsubs; i++)
    if (!strcmp(rt->pubsubs[i].comp->name, name)) return &rt->pubsubs[i];
  return NULL;
}

/* Registers spec (moved in, emptied) and subscribes it on its component. */
static void add_sub_locked(struct wgg_psrt *rt, wgg_sub_spec *spec) {
  wgg_pubsub_entry *e = find_pubsub(rt, spec->pubsub);
  if (!e) {
    wgg_warn("subscription to topic %s: pubsub %s not found; skipped", spec->topic, spec->pubsub);
    wgg_sub_free(spec);
    return;
  }
  if (!wgg_pubsub_topic_allowed(e->comp, rt->opts->app_id, spec->topic, false)) {
    wgg_warn("subscription to topic %s on pubsub %s is not allowed for app id %s (subscriptionScopes, allowedTopics, "
             "protectedTopics); skipped", spec->topic, spec->pubsub, rt->opts->app_id ? rt->opts->app_id : "");
    wgg_sub_free(spec);
    return;
  }
  pthread_mutex_lock(&rt->mu); /* streams attach from other threads */
  int dup_kind = -1;
  for (size_t i = 0; i < rt->n_subs && dup_kind < 0; i++)
    if (!strcmp(rt->subs[i]->spec.pubsub, spec->pubsub) && !strcmp(rt->subs[i]->spec.topic, spec->topic))
      dup_kind = rt->subs[i]->spec.kind;
  pthread_mutex_unlock(&rt->mu);
  if (dup_kind >= 0) {
    wgg_warn("topic %s of pubsub %s is already subscribed (%s); the %s subscription is ignored", spec->topic,
             spec->pubsub, dup_kind == WGG_SUB_DECLARATIVE ? "declarative" : dup_kind == WGG_SUB_STREAMING ? "by a stream" : "programmatic",
             spec->kind == WGG_SUB_DECLARATIVE ? "declarative" : "programmatic");
    wgg_sub_free(spec);
    return;
  }
  psub *s = calloc(1, sizeof *s);
  pthread_mutex_lock(&rt->mu); /* readers of /v1.0/metadata walk the array under mu */
  psub **grown = s ? realloc(rt->subs, (rt->n_subs + 1) * sizeof *grown) : NULL;
  if (grown) rt->subs = grown;
  pthread_mutex_unlock(&rt->mu);
  wgg_err err;
  if (!grown) {
    free(s);
    wgg_sub_free(spec);
    wgg_error("subscription: out of memory");
    return;
  }
  s->spec = *spec;
  memset(spec, 0, sizeof *spec);
  wgg_psrt_sub_init(rt, s, e);
  if (e->ps->ops->subscribe(e->ps, s->spec.topic, wgg_psrt_on_message, s, &err)) {
    wgg_error("pubsub %s: cannot subscribe to topic %s: %s", s->spec.pubsub, s->spec.topic, err.msg);
    wgg_sub_free(&s->spec);
    free(s);
    return;
  }
  pthread_mutex_lock(&rt->mu);
  rt->subs[rt->n_subs++] = s; /* listed in /v1.0/metadata from now on */
  pthread_mutex_unlock(&rt->mu);
  wgg_info("app is subscribed to topic %s through pubsub=%s (%s)", s->spec.topic, s->spec.pubsub,
           s->spec.kind == WGG_SUB_DECLARATIVE ? "declarative" : "programmatic");
}

/* add_sub_locked under attach_mu: a stream may be subscribing the same topic meanwhile. */
static void add_sub(struct wgg_psrt *rt, wgg_sub_spec *spec) {
  pthread_mutex_lock(&rt->attach_mu);
  add_sub_locked(rt, spec);
  pthread_mutex_unlock(&rt->attach_mu);
}

int wgg_psrt_sub_init(struct wgg_psrt *rt, psub *s, wgg_pubsub_entry *e) {
  wgg_err err;
  if (retry_from_component(e->comp, &s->retry, &err)) {
    wgg_error("pubsub %s: %s; using Dapr's default retries", e->comp->name, err.msg);
    s->retry = (wgg_ps_retry){false, 5000, 500, 60000, -1};
  }
  struct ps_override *ov = &rt->overrides[e - rt->pubsubs];
  if (ov->has_retry) s->retry = ov->retry;
  s->timeout_ms = ov->timeout_ms ? ov->timeout_ms : WGG_PS_DELIVERY_TIMEOUT_MS;
  s->breaker = ov->breaker;
  s->ps = e;
  s->rt = rt;
  s->max_inflight = e->ps->concurrency > 0 ? e->ps->concurrency : 1;
  return 0;
}

static void subscribe_all(struct wgg_psrt *rt, json_t *programmatic) {
  for (size_t i = 0; i < rt->n_decl; i++) add_sub(rt, &rt->decl[i]);
  size_t i;
  json_t *j;
  json_array_foreach(programmatic, i, j) {
    wgg_sub_spec spec;
    wgg_err err;
    if (wgg_sub_parse(j, WGG_SUB_PROGRAMMATIC, NULL, &spec, &err)) {
      wgg_error("GET /dapr/subscribe: entry %zu: %s; skipped", i, err.msg);
      continue;
    }
    add_sub(rt, &spec);
  }
}

static void ask_app(struct wgg_psrt *rt);

static void on_retry_subscribe(uv_timer_t *t) {
  ask_app(t->data);
}

static void on_subscribe_answer(void *user, const wgg_http_response *resp, const char *errmsg) {
  struct wgg_psrt *rt = user;
  bool stopping = wgg_psrt_stopping(rt);
  if (stopping) return;
  if (!resp && ++rt->subscribe_attempts < SUBSCRIBE_ATTEMPTS) {
    wgg_warn("GET /dapr/subscribe: %s; retrying", errmsg ? errmsg : "error");
    uv_timer_start(&rt->ready_timer, on_retry_subscribe, 500, 0);
    return;
  }
  json_t *subs = NULL;
  if (!resp) {
    wgg_error("GET /dapr/subscribe: %s; no programmatic subscriptions", errmsg ? errmsg : "error");
  } else if (resp->status == 200 || (resp->status > 200 && resp->status < 300 && resp->body_len)) {
    json_error_t je;
    subs = json_loadb(resp->body, resp->body_len, 0, &je);
    if (!json_is_array(subs)) {
      wgg_error("GET /dapr/subscribe: the answer is not a JSON array (%s); no programmatic subscriptions",
                subs ? "wrong type" : je.text);
      json_decref(subs);
      subs = NULL;
    }
  } else if (resp->status != 404 && (resp->status < 200 || resp->status > 299)) {
    wgg_warn("GET /dapr/subscribe answered %d; no programmatic subscriptions", resp->status);
  }
  subscribe_all(rt, subs);
  json_decref(subs);
}

static void ask_app(struct wgg_psrt *rt) {
  const char *why = "cannot start the request";
  static const wgg_http_header kind = {WGG_APP_CALL_KIND, "subscriptions"}; /* a gRPC app: ListTopicSubscriptions */
  if (!rt->client || rt->app.call(rt->app.ctx, rt->client, "GET", "/dapr/subscribe", &kind, 1, NULL, 0,
                                  SUBSCRIBE_TIMEOUT_MS, on_subscribe_answer, rt, &why))
    on_subscribe_answer(rt, NULL, why);
}

static void on_ready_timer(uv_timer_t *t) {
  struct wgg_psrt *rt = t->data;
  if (!__atomic_load_n(rt->app_ready, __ATOMIC_ACQUIRE)) return;
  /* with app health checks, subscriptions start once the app is healthy (as daprd) */
  if (rt->app.healthy && !rt->app.healthy(rt->app.ctx)) return;
  uv_timer_stop(t);
  ask_app(rt);
}

static void thread_main(void *p) {
  struct wgg_psrt *rt = p;
  if (rt->app.thread_init) rt->app.thread_init(rt->app.ctx, &rt->loop);
  uv_run(&rt->loop, UV_RUN_DEFAULT);
  pthread_mutex_lock(&rt->mu);
  rt->exited = true;
  pthread_cond_broadcast(&rt->exited_cv);
  pthread_mutex_unlock(&rt->mu);
}

bool wgg_psrt_stopping(struct wgg_psrt *rt) {
  pthread_mutex_lock(&rt->mu);
  bool stopping = rt->stopping;
  pthread_mutex_unlock(&rt->mu);
  return stopping;
}

/* ---- public ---- */

wgg_psrt *wgg_psrt_new(const wgg_options *opts, wgg_pubsub_entry *pubsubs, size_t n, wgg_sub_spec *decl, size_t n_decl,
                       wgg_err *err) {
  struct wgg_psrt *rt = calloc(1, sizeof *rt);
  if (!rt) return wgg_err_set(err, "out of memory"), NULL;
  rt->opts = opts;
  rt->pubsubs = pubsubs;
  rt->n_pubsubs = n;
  if ((n_decl && !(rt->decl = calloc(n_decl, sizeof *rt->decl))) ||
      !(rt->overrides = calloc(n ? n : 1, sizeof *rt->overrides))) {
    free(rt->decl);
    free(rt);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  for (size_t i = 0; i < n_decl; i++) {
    rt->decl[i] = decl[i];
    memset(&decl[i], 0, sizeof decl[i]);
  }
  rt->n_decl = n_decl;
  pthread_mutex_init(&rt->mu, NULL);
  pthread_mutex_init(&rt->attach_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&rt->exited_cv, &ca);
  pthread_condattr_destroy(&ca);
  return rt;
}

void wgg_psrt_set_app_channel(wgg_psrt *rt, const wgg_app_channel *ch) {
  rt->app = *ch;
}

void wgg_psrt_set_metrics(wgg_psrt *rt, struct wgg_metrics *m) {
  rt->metrics = m;
}

int wgg_psrt_set_policy(wgg_psrt *rt, const char *pubsub, const wgg_ps_retry *retry, uint64_t timeout_ms,
                        struct wgg_breaker *breaker) {
  wgg_pubsub_entry *e = find_pubsub(rt, pubsub);
  if (!e) return -1;
  struct ps_override *ov = &rt->overrides[e - rt->pubsubs];
  if (retry) ov->has_retry = true, ov->retry = *retry;
  if (timeout_ms) ov->timeout_ms = timeout_ms;
  ov->breaker = breaker;
  return 0;
}

int wgg_psrt_start(wgg_psrt *rt, const int *app_ready, wgg_err *err) {
  bool no_app = !wgg_options_has_app(rt->opts); /* streaming subscriptions still need the thread */
  if (no_app && rt->n_decl) wgg_info("no --app-port or --app-wasm: declarative subscriptions are not delivered");
  rt->app_ready = app_ready;
  uv_loop_init(&rt->loop);
  uv_async_init(&rt->loop, &rt->wake, on_wake);
  rt->wake.data = rt;
  uv_timer_init(&rt->loop, &rt->ready_timer);
  rt->ready_timer.data = rt;
  rt->client = wgg_http_client_new(&rt->loop);
  if (!no_app) uv_timer_start(&rt->ready_timer, on_ready_timer, 0, 50);
  if (uv_thread_create(&rt->thread, thread_main, rt)) {
    uv_close((uv_handle_t *)&rt->wake, NULL);
    uv_close((uv_handle_t *)&rt->ready_timer, NULL);
    if (rt->client) wgg_http_client_close(rt->client);
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    uv_loop_close(&rt->loop);
    return wgg_err_set(err, "cannot start the pub/sub delivery thread");
  }
  rt->started = true;
  return 0;
}

json_t *wgg_psrt_subscriptions(wgg_psrt *rt) {
  json_t *a = json_array();
  if (!rt) return a;
  pthread_mutex_lock(&rt->mu);
  for (size_t i = 0; i < rt->n_subs; i++)
    if (rt->subs[i]->spec.kind != WGG_SUB_STREAMING || rt->subs[i]->n_sinks) /* a stream's while it is open */
      json_array_append_new(a, wgg_sub_to_json(&rt->subs[i]->spec));
  pthread_mutex_unlock(&rt->mu);
  return a;
}

void wgg_psrt_stop(wgg_psrt *rt, uint64_t wait_ms) {
  if (!rt) return;
  pthread_mutex_lock(&rt->mu);
  rt->stopping = true;
  if (rt->started) uv_async_send(&rt->wake);
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)(wait_ms / 1000);
  until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  int rc = 0;
  while (rt->started && !rt->exited && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&rt->exited_cv, &rt->mu, &until);
  bool exited = !rt->started || rt->exited;
  pthread_mutex_unlock(&rt->mu);
  if (rt->started && exited) {
    uv_thread_join(&rt->thread);
    uv_loop_close(&rt->loop);
    rt->started = false;
  } else if (rt->started) {
    wgg_warn("pub/sub: deliveries still in flight after %llu ms; not waiting for them", (unsigned long long)wait_ms);
    rt->exited = false; /* marks the runtime as leaked: wgg_psrt_free keeps it */
  }
}

void wgg_psrt_free(wgg_psrt *rt) {
  if (!rt) return;
  if (rt->started) return; /* the delivery thread is still running: leave it to the process exit */
  for (size_t i = 0; i < rt->n_subs; i++) {
    nack_queue(rt->subs[i]);
    wgg_sub_free(&rt->subs[i]->spec);
    free(rt->subs[i]->sinks);
    free(rt->subs[i]);
  }
  free(rt->subs);
  for (size_t i = 0; i < rt->n_decl; i++) wgg_sub_free(&rt->decl[i]);
  free(rt->decl);
  free(rt->overrides);
  pthread_mutex_destroy(&rt->attach_mu);
  pthread_cond_destroy(&rt->exited_cv);
  pthread_mutex_destroy(&rt->mu);
  free(rt);
}
