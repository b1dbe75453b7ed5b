/*
 * input_bindings.c: app probing, scheduling and delivery of input binding
 * events (see input_bindings.h).
 */
#include "observe/metrics.h"
#include "api/appchannel.h"
#include "api/input_bindings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "components/bindings/cron.h"
#include "config/resiliency.h"
#include "http/client.h"
#include "util/err.h"
#include "util/log.h"

enum { DELIVERY_TIMEOUT_MS = 60000, PROBE_RETRY_MS = 1000, PROBE_TRIES = 30 };

enum { S_WAIT_APP, S_PROBING, S_RUNNING, S_OFF };

typedef struct input {
  struct wgg_inputs *owner;
  const wgg_component *comp;
  wgg_cron cron;
  char route[512];
  bool skip_probe;
  int state, probes;
  uv_timer_t timer;
  time_t last; /* the previous activation (seconds) */
  wgg_res_policy pol;
} input;

/* One event on its way to the app (with its retries). */
typedef struct delivery {
  input *in;
  char read_time[80];
  int64_t retries;
  uint64_t backoff;
  bool allowed;
  bool sending; /* a request is in flight (its callback ends or retries the delivery) */
  uv_timer_t *timer;
  struct delivery *next, *prev;
} delivery;

struct wgg_inputs {
  uv_loop_t *loop;
  wgg_api *api;
  wgg_http_client *client;
  uv_timer_t wait_app;
  input *items;
  size_t n;
  size_t open_handles; /* timers not yet closed */
  size_t in_flight;    /* requests whose callback has not run */
  bool stopping;
  delivery *deliveries;
};

bool wgg_input_binding_type_supported(const char *type) {
  return !strcmp(type, "bindings.cron");
}

static void maybe_free(wgg_inputs *s) {
  if (!s->stopping || s->open_handles || s->in_flight) return;
  free(s->items);
  free(s);
}

static void handle_closed(uv_handle_t *h) {
  wgg_inputs *s = h->data;
  s->open_handles--;
  maybe_free(s);
}

static void delivery_timer_closed(uv_handle_t *h) {
  delivery *d = h->data;
  wgg_inputs *s = d->in->owner;
  free(h);
  free(d);
  s->open_handles--;
  maybe_free(s);
}

static void delivery_end(delivery *d) {
  wgg_inputs *s = d->in->owner;
  if (d->prev) d->prev->next = d->next;
  else s->deliveries = d->next;
  if (d->next) d->next->prev = d->prev;
  if (d->timer) {
    d->timer->data = d;
    uv_close((uv_handle_t *)d->timer, delivery_timer_closed);
  } else {
    free(d);
  }
}

static void schedule(input *in);
static void deliver(delivery *d);

static void on_retry_timer(uv_timer_t *t) {
  deliver(t->data);
}

static void on_delivered(void *user, const wgg_http_response *resp, const char *errmsg) {
  delivery *d = user;
  input *in = d->in;
  wgg_inputs *s = in->owner;
  s->in_flight--;
  d->sending = false;
  bool ok = resp && resp->status / 100 == 2;
  if (d->allowed) wgg_breaker_record(in->pol.breaker, ok, wgg_res_now_ms());
  if (!ok && !s->stopping && wgg_retry_more(in->pol.retry, d->retries)) {
    if (!d->timer && (d->timer = malloc(sizeof *d->timer))) {
      uv_timer_init(s->loop, d->timer);
      s->open_handles++;
    }
    if (d->timer) {
      d->timer->data = d;
      d->retries++;
      uv_timer_start(d->timer, on_retry_timer, wgg_retry_backoff_ms(in->pol.retry, &d->backoff), 0);
      return;
    }
  }
  static const char *const names[] = {"component", "success"};
  const char *values[] = {in->comp->name, ok ? "true" : "false"};
  wgg_metrics_count(s->api->metrics, WGG_MF_INPUT_BINDING, names, values, 2);
  if (!ok)
    wgg_warn("input binding %s: delivery to %s failed: %s%s", in->comp->name, in->route,
             resp ? "status " : (errmsg ? errmsg : "error"), resp ? wgg_http_reason(resp->status) : "");
  else {
    wgg_debug("input binding %s: event delivered to %s", in->comp->name, in->route);
    wgg_input_reply(s->loop, s->api, in->comp->name, resp->body, resp->body_len);
  }
  delivery_end(d);
  maybe_free(s);
}

static void deliver(delivery *d) {
  input *in = d->in;
  wgg_inputs *s = in->owner;
  d->allowed = false;
  if (s->stopping || !s->client) {
    delivery_end(d);
    return;
  }
  if (in->pol.breaker) {
    if (!wgg_breaker_allow(in->pol.breaker, wgg_res_now_ms())) {
      wgg_warn("input binding %s: circuit breaker is open; event dropped", in->comp->name);
      delivery_end(d);
      return;
    }
    d->allowed = true;
  }
  char kind[300]; /* a gRPC app: OnBindingEvent of this binding */
  snprintf(kind, sizeof kind, "binding\x1f%s", in->comp->name);
  wgg_http_header h[4] = {{"Content-Type", "application/json"}, {"timeZone", "Local"}, {"readTimeUTC", d->read_time},
                          {WGG_APP_CALL_KIND, kind}};
  s->in_flight++;
  d->sending = true;
  const char *why = "out of memory";
  if (wgg_app_call(s->api, s->client, "POST", in->route, h, 4, "", 0, NULL,
                   in->pol.timeout_ms ? in->pol.timeout_ms : DELIVERY_TIMEOUT_MS, on_delivered, d, &why)) {
    s->in_flight--;
    d->sending = false;
    if (d->allowed) wgg_breaker_record(in->pol.breaker, false, wgg_res_now_ms());
    wgg_warn("input binding %s: cannot deliver (%s)", in->comp->name, why);
    delivery_end(d);
  }
}

/* Go's time.Time.String() of now in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
static void go_time_string(char *out, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char frac[16] = "";
  if (ts.tv_nsec) {
    snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    size_t l = strlen(frac);
    while (frac[l - 1] == '0') frac[--l] = '\0';
  }
  char base[40];
  strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out, n, "%s%s +0000 UTC", base, frac);
}

static void on_fire(uv_timer_t *t) {
  input *in = t->data;
  wgg_inputs *s = in->owner;
  if (s->stopping) return;
  delivery *d = calloc(1, sizeof *d);
  if (d) {
    d->in = in;
    go_time_string(d->read_time, sizeof d->read_time);
    d->next = s->deliveries;
    if (d->next) d->next->prev = d;
    s->deliveries = d;
    wgg_debug("input binding %s: schedule fired", in->comp->name);
    deliver(d);
  }
  schedule(in);
}

/* Arms the timer for the next activation after in->last. */
static void schedule(input *in) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  if (!in->last || (!in->cron.every_s && in->last < tv.tv_sec)) in->last = tv.tv_sec;
  time_t next = wgg_cron_next(&in->cron, in->last);
  if (!next) {
    wgg_warn("input binding %s: the schedule never fires again", in->comp->name);
    return;
  }
  in->last = next;
  int64_t delay = (int64_t)next * 1000 - ((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
  uv_timer_start(&in->timer, on_fire, delay > 0 ? (uint64_t)delay : 0, 0);
}

static void start_input(input *in) {
  in->state = S_RUNNING;
  wgg_info("input binding %s (%s) started: events go to %s", in->comp->name, in->comp->type, in->route);
  in->last = 0;
  schedule(in);
}

static void probe(input *in);

static void on_probe_retry(uv_timer_t *t) {
  probe(t->data);
}

static void on_probed(void *user, const wgg_http_response *resp, const char *errmsg) {
  input *in = user;
  wgg_inputs *s = in->owner;
  s->in_flight--;
  if (s->stopping) {
    maybe_free(s);
    return;
  }
  if (resp && resp->status == 404) {
    in->state = S_OFF;
    wgg_info("input binding %s: the app did not subscribe (OPTIONS %s answered 404)", in->comp->name, in->route);
  } else if (resp && (resp->status / 100 == 2 || resp->status == 405)) {
    start_input(in);
  } else if (++in->probes < PROBE_TRIES) {
    wgg_debug("input binding %s: probing %s failed (%s); retrying", in->comp->name, in->route,
              resp ? wgg_http_reason(resp->status) : errmsg);
    uv_timer_start(&in->timer, on_probe_retry, PROBE_RETRY_MS, 0);
  } else {
    in->state = S_OFF;
    wgg_warn("input binding %s: giving up probing the app at %s (%s)", in->comp->name, in->route,
             resp ? wgg_http_reason(resp->status) : errmsg);
  }
}

static void probe(input *in) {
  wgg_inputs *s = in->owner;
  if (s->stopping || !s->client) return;
  in->state = S_PROBING;
  s->in_flight++;
  const char *why;
  char kind[300]; /* a gRPC app: whether ListInputBindings names this binding */
  snprintf(kind, sizeof kind, "bindings\x1f%s", in->comp->name);
  wgg_http_header h = {WGG_APP_CALL_KIND, kind};
  if (wgg_app_call(s->api, s->client, "OPTIONS", in->route, &h, 1, NULL, 0, NULL, 5000, on_probed, in, &why)) {
    s->in_flight--;
    uv_timer_start(&in->timer, on_probe_retry, PROBE_RETRY_MS, 0);
  }
}

static void on_wait_app(uv_timer_t *t) {
  wgg_inputs *s = t->data;
  if (!__atomic_load_n(&s->api->app_ready, __ATOMIC_ACQUIRE)) return;
  uv_timer_stop(t);
  for (size_t i = 0; i < s->n; i++) {
    input *in = &s->items[i];
    if (in->state != S_WAIT_APP) continue;
    if (in->skip_probe) start_input(in);
    else probe(in);
  }
}

/* Reads direction/route/schedule of component c into in. 0, 1 (no input side) or -1 + err. */
static int configure(input *in, const wgg_component *c, wgg_err *err) {
  const char *dir = wgg_component_meta(c, "direction");
  if (dir && *dir) {
    bool has_in = false;
    char copy[128];
    snprintf(copy, sizeof copy, "%s", dir);
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
      if (!strcasecmp(t, "input")) has_in = true;
      else if (strcasecmp(t, "output"))
        return wgg_err_set(err, "%s:%d: component %s: invalid direction '%s' (input, output or \"input, output\")",
                           c->file, c->line, c->name, dir);
    }
    if (!has_in) return 1;
    in->skip_probe = true;
  }
  const char *route = wgg_component_meta(c, "route");
  if (route && *route) snprintf(in->route, sizeof in->route, "%s%s", route[0] == '/' ? "" : "/", route);
  else snprintf(in->route, sizeof in->route, "/%s", c->name);
  const char *sched = wgg_component_meta(c, "schedule");
  if (!sched || !*sched) return wgg_err_set(err, "%s:%d: component %s (bindings.cron): schedule not set", c->file, c->line, c->name);
  wgg_err e;
  if (wgg_cron_parse(sched, &in->cron, &e))
    return wgg_err_set(err, "%s:%d: component %s (bindings.cron): %s", c->file, c->line, c->name, e.msg);
  return 0;
}

wgg_inputs *wgg_inputs_start(uv_loop_t *loop, wgg_api *api, wgg_err *err) {
  wgg_inputs *s = calloc(1, sizeof *s);
  if (!s || !(s->items = calloc(api->components.n ? api->components.n : 1, sizeof *s->items))) {
    free(s);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  s->loop = loop;
  s->api = api;
  for (size_t i = 0; i < api->components.n; i++) {
    const wgg_component *c = &api->components.items[i];
    if (c->endpoint || !wgg_input_binding_type_supported(c->type)) continue;
    input *in = &s->items[s->n];
    memset(in, 0, sizeof *in);
    int rc = configure(in, c, err);
    if (rc < 0) {
      free(s->items);
      free(s);
      return NULL;
    }
    if (rc == 1) continue;
    if (!wgg_options_has_app(api->opts)) {
      wgg_warn("input binding %s: no --app-port, so no app to deliver to; not started", c->name);
      continue;
    }
    in->owner = s;
    in->comp = c;
    wgg_resiliency_for_component(api->resiliency, c->name, c->type, WGG_RES_INBOUND, &in->pol);
    s->n++;
  }
  if (s->n && !(s->client = wgg_http_client_new(loop))) {
    free(s->items);
    free(s);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  if (s->n && wgg_app_limit_thread_init(api->app_limit, loop)) /* deliveries count in --app-max-concurrency */
    wgg_warn("out of memory: input bindings bypass --app-max-concurrency");
  for (size_t i = 0; i < s->n; i++) {
    uv_timer_init(loop, &s->items[i].timer);
    s->items[i].timer.data = &s->items[i];
    s->open_handles++;
  }
  uv_timer_init(loop, &s->wait_app);
  s->wait_app.data = s;
  s->open_handles++;
  if (s->n) uv_timer_start(&s->wait_app, on_wait_app, 0, 50);
  return s;
}

void wgg_inputs_stop(wgg_inputs *s) {
  if (!s || s->stopping) return;
  s->stopping = true;
  for (size_t i = 0; i < s->n; i++) {
    s->items[i].timer.data = s;
    uv_close((uv_handle_t *)&s->items[i].timer, handle_closed);
  }
  uv_close((uv_handle_t *)&s->wait_app, handle_closed);
  for (delivery *d = s->deliveries, *next; d; d = next) { /* waiting retries: drop them */
    next = d->next;
    if (d->sending) continue; /* its callback ends it */
    if (d->timer) uv_timer_stop(d->timer);
    delivery_end(d);
  }
  if (s->client) {
    wgg_http_client_close(s->client);
    wgg_app_limit_thread_close(s->api->app_limit);
  }
  s->client = NULL;
}
