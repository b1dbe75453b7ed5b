/*
 * resilient.c: a state store wrapped in the outbound Resiliency policies of
 * its component (docs operations/resiliency/targets.md, "Components";
 * dapr pkg/resiliency). The wrapper is itself a wgg_state_store, so the
 * state API is unchanged. Only backend failures (WGG_ST_ERROR) count as
 * failures: ETag mismatches and bad requests are answers, not faults, and
 * are neither retried nor counted by the breaker (as Dapr, whose ETag errors
 * are permanent). Retries sleep between attempts, so a wrapped store with a
 * retry policy is always called on the thread pool.
 *
 * Timeouts: the calls are synchronous and cannot be interrupted, so a
 * policy timeout is checked when an attempt returns: a get that took longer
 * is a failure ("context deadline exceeded", retried like one); a write that
 * succeeded late is kept as a success (it happened), one that failed late
 * ends the retries. The store's own timeouts (redis readTimeout, sqlite
 * busyTimeout, ...) bound the wait itself.
 *
 * A store with an asynchronous form (state.redis) keeps it when wrapped: the
 * attempts run through the inner store's `start`, and the wait between two
 * retries is a timer on the caller's loop, not a sleeping thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "components/state/store.h"
#include "config/resiliency.h"
#include "util/err.h"
#include "util/log.h"

typedef struct resilient {
  wgg_state_store base;
  wgg_state_store_ops ops; /* base.ops: get/apply/destroy, query and start when inner has them */
  wgg_state_store *inner;
  wgg_res_policy pol;
  char name[128];
} resilient;

static void sleep_ms(uint64_t ms) {
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1) {
  }
}

/* Runs one store call (get when out is non-NULL, else apply) under the policies. */
static int run(resilient *r, const char *key, wgg_state_got *out, const wgg_state_op *ops, size_t n, wgg_err *err) {
  uint64_t backoff = 0;
  for (int64_t retries = 0;; retries++) {
    if (r->pol.breaker && !wgg_breaker_allow(r->pol.breaker, wgg_res_now_ms()))
      return wgg_err_set(err, "circuit breaker is open"), WGG_ST_ERROR;
    uint64_t t0 = wgg_res_now_ms();
    int st = out ? r->inner->ops->get(r->inner, key, out, err) : r->inner->ops->apply(r->inner, ops, n, err);
    bool late = r->pol.timeout_ms && wgg_res_now_ms() - t0 > r->pol.timeout_ms;
    if (late && out && st == WGG_ST_OK) {
      wgg_state_got_free(out);
      memset(out, 0, sizeof *out);
      st = WGG_ST_ERROR;
      wgg_err_set(err, "context deadline exceeded (timeout %llu ms)", (unsigned long long)r->pol.timeout_ms);
    }
    bool failure = st == WGG_ST_ERROR;
    if (r->pol.breaker) wgg_breaker_record(r->pol.breaker, !failure, wgg_res_now_ms());
    if (!failure || (late && !out) || !wgg_retry_more(r->pol.retry, retries)) return st;
    uint64_t wait = wgg_retry_backoff_ms(r->pol.retry, &backoff);
    wgg_debug("state store %s: %s; retry %lld in %llu ms", r->name, err ? err->msg : "error", (long long)retries + 1,
              (unsigned long long)wait);
    if (out) memset(out, 0, sizeof *out);
    sleep_ms(wait);
  }
}

static int r_get(wgg_state_store *s, const char *key, wgg_state_got *out, wgg_err *err) {
  return run((resilient *)s, key, out, NULL, 0, err);
}

static int r_apply(wgg_state_store *s, const wgg_state_op *ops, size_t n, wgg_err *err) {
  return run((resilient *)s, NULL, NULL, ops, n, err);
}

static void r_destroy(wgg_state_store *s) {
  resilient *r = (resilient *)s;
  r->inner->ops->destroy(r->inner);
  free(r);
}

/* Queries go straight to the inner store (read-only; not retried). */
static int r_query(wgg_state_store *s, const struct wgg_query *q, struct wgg_qresult *out, wgg_err *err) {
  resilient *r = (resilient *)s;
  return r->inner->ops->query(r->inner, q, out, err);
}

/* ---- the asynchronous form ---- */

typedef struct rcall {
  resilient *r;
  wgg_state_call *outer;
  wgg_state_call in; /* the current attempt on the inner store */
  uv_loop_t *loop;
  uv_timer_t timer; /* the wait before a retry; initialised on first use */
  bool timer_init;
  int64_t retries;
  uint64_t backoff, t0;
} rcall;

static void rcall_closed(uv_handle_t *h) {
  free(h->data);
}

static void rcall_finish(rcall *k, int status) {
  wgg_state_call *outer = k->outer;
  outer->status = status;
  if (k->timer_init) uv_close((uv_handle_t *)&k->timer, rcall_closed);
  else free(k);
  outer->done(outer);
}

static void rcall_done(wgg_state_call *c);

/* Starts one attempt. Returns 0 (k completes through rcall_done or was
 * finished) or WGG_STATE_START_SYNC from the inner store (k untouched). */
static int rcall_attempt(rcall *k) {
  resilient *r = k->r;
  wgg_state_call *o = k->outer;
  if (r->pol.breaker && !wgg_breaker_allow(r->pol.breaker, wgg_res_now_ms())) {
    wgg_err_set(o->err, "circuit breaker is open");
    rcall_finish(k, WGG_ST_ERROR);
    return 0;
  }
  k->in = (wgg_state_call){.key = o->key, .got = o->got, .ops = o->ops, .n = o->n, .err = o->err,
                           .done = rcall_done, .user = k};
  k->t0 = wgg_res_now_ms();
  return r->inner->ops->start(r->inner, k->loop, &k->in);
}

static void rcall_retry(uv_timer_t *t) {
  rcall *k = t->data;
  if (rcall_attempt(k) == WGG_STATE_START_SYNC) { /* the loop is closing: no more attempts */
    wgg_err_set(k->outer->err, "the store is shutting down");
    rcall_finish(k, WGG_ST_ERROR);
  }
}

/* The same decisions as run(), after an attempt completed. */
static void rcall_done(wgg_state_call *c) {
  rcall *k = c->user;
  resilient *r = k->r;
  wgg_state_call *o = k->outer;
  int st = c->status;
  bool get = o->got != NULL;
  bool late = r->pol.timeout_ms && wgg_res_now_ms() - k->t0 > r->pol.timeout_ms;
  if (late && get && st == WGG_ST_OK) {
    wgg_state_got_free(o->got);
    memset(o->got, 0, sizeof *o->got);
    st = WGG_ST_ERROR;
    wgg_err_set(o->err, "context deadline exceeded (timeout %llu ms)", (unsigned long long)r->pol.timeout_ms);
  }
  bool failure = st == WGG_ST_ERROR;
  if (r->pol.breaker) wgg_breaker_record(r->pol.breaker, !failure, wgg_res_now_ms());
  if (!failure || (late && !get) || !wgg_retry_more(r->pol.retry, k->retries)) {
    rcall_finish(k, st);
    return;
  }
  uint64_t wait = wgg_retry_backoff_ms(r->pol.retry, &k->backoff);
  k->retries++;
  wgg_debug("state store %s: %s; retry %lld in %llu ms", r->name, o->err ? o->err->msg : "error", (long long)k->retries,
            (unsigned long long)wait);
  if (get) memset(o->got, 0, sizeof *o->got);
  if (!k->timer_init) {
    uv_timer_init(k->loop, &k->timer);
    k->timer.data = k;
    k->timer_init = true;
  }
  uv_timer_start(&k->timer, rcall_retry, wait, 0);
}

static int r_start(wgg_state_store *s, uv_loop_t *loop, wgg_state_call *c) {
  resilient *r = (resilient *)s;
  rcall *k = calloc(1, sizeof *k);
  if (!k) return WGG_STATE_START_SYNC; /* the synchronous way reports the shortage */
  *k = (rcall){.r = r, .outer = c, .loop = loop};
  if (rcall_attempt(k) == WGG_STATE_START_SYNC) {
    free(k);
    return WGG_STATE_START_SYNC;
  }
  return 0;
}

/* Wraps inner (ownership moves in) in component c's outbound policies from
 * res. Returns inner itself when no policy applies, the wrapper otherwise,
 * or NULL on OOM (inner is then left untouched, still owned by the caller). */
wgg_state_store *wgg_state_resilient_wrap(wgg_state_store *inner, wgg_resiliency *res, const wgg_component *c) {
  wgg_res_policy p;
  wgg_resiliency_for_component(res, c->name, c->type, WGG_RES_OUTBOUND, &p);
  if (!p.timeout_ms && !p.retry && !p.breaker) return inner;
  resilient *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->ops = (wgg_state_store_ops){.get = r_get, .apply = r_apply, .destroy = r_destroy,
                                 .query = inner->ops->query ? r_query : NULL,
                                 .start = inner->ops->start ? r_start : NULL};
  r->base.ops = &r->ops;
  r->base.features = inner->features;
  r->base.blocking = inner->blocking || p.retry != NULL;
  r->inner = inner;
  r->pol = p;
  snprintf(r->name, sizeof r->name, "%s", c->name);
  wgg_info("state store %s: resiliency timeout %s, retry %s, circuit breaker %s", c->name,
           p.timeout_name ? p.timeout_name : "-", p.retry_name ? p.retry_name : "-",
           p.breaker_name ? p.breaker_name : "-");
  return &r->base;
}
