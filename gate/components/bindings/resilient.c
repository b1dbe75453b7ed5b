/*
 * resilient.c: an output binding wrapped in its component's outbound
 * Resiliency policies (docs operations/resiliency/targets.md, "Components":
 * DefaultBindingComponentOutbound...Policy and targets.components.<name>.
 * outbound). Bindings are invoked on the thread pool, so retries sleep
 * there. A failed invoke (-1) is a failure; the response metadata of the
 * last attempt is the one returned. Timeouts are checked when an attempt
 * returns (the call cannot be interrupted): a late attempt that failed ends
 * the retries, a late success is kept.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/bindings/binding.h"
#include "config/resiliency.h"
#include "util/err.h"
#include "util/log.h"

typedef struct resilient_binding {
  wgg_binding base;
  wgg_binding *inner;
  wgg_res_policy pol;
  const char *name;
} resilient_binding;

static int r_invoke(wgg_binding *b, const char *operation, const char *data, size_t len, json_t *metadata,
                    wgg_cancel *cancel, wgg_binding_result *out, wgg_err *err) {
  resilient_binding *r = (resilient_binding *)b;
  uint64_t backoff = 0;
  for (int64_t retries = 0;; retries++) {
    if (r->pol.breaker && !wgg_breaker_allow(r->pol.breaker, wgg_res_now_ms())) {
      memset(out, 0, sizeof *out);
      return wgg_err_set(err, "circuit breaker is open");
    }
    uint64_t t0 = wgg_res_now_ms();
    int rc = r->inner->ops->invoke(r->inner, operation, data, len, metadata, cancel, out, err);
    bool late = r->pol.timeout_ms && wgg_res_now_ms() - t0 > r->pol.timeout_ms;
    if (r->pol.breaker) wgg_breaker_record(r->pol.breaker, rc == 0, wgg_res_now_ms());
    if (rc == 0 || late || wgg_cancel_requested(cancel) || !wgg_retry_more(r->pol.retry, retries)) return rc;
    uint64_t wait = wgg_retry_backoff_ms(r->pol.retry, &backoff);
    wgg_debug("output binding %s: %s; retry %lld in %llu ms", r->name, err ? err->msg : "error",
              (long long)retries + 1, (unsigned long long)wait);
    wgg_binding_result_free(out);
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(wait % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1) {
    }
  }
}

static void r_destroy(wgg_binding *b) {
  resilient_binding *r = (resilient_binding *)b;
  r->inner->ops->destroy(r->inner);
  free(r);
}

static const wgg_binding_ops resilient_ops = {.invoke = r_invoke, .destroy = r_destroy};

wgg_binding *wgg_binding_resilient_wrap(wgg_binding *inner, struct wgg_resiliency *res, const wgg_component *c) {
  wgg_res_policy p;
  wgg_resiliency_for_component(res, c->name, c->type, WGG_RES_OUTBOUND, &p);
  if (!p.timeout_ms && !p.retry && !p.breaker) return inner;
  resilient_binding *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->base.ops = &resilient_ops;
  r->base.operations = inner->operations;
  r->inner = inner;
  r->pol = p;
  r->name = c->name;
  wgg_info("output binding %s: resiliency timeout %s, retry %s, circuit breaker %s", c->name,
           p.timeout_name ? p.timeout_name : "-", p.retry_name ? p.retry_name : "-",
           p.breaker_name ? p.breaker_name : "-");
  return &r->base;
}
