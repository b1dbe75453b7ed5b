/* unit_resiliency.c: Resiliency parsing, Dapr's default-policy precedence,
 * retry back-off and status matching, circuit breaker transitions. */
#include "check.h"
#include "config/resiliency.h"

static json_t *doc(const char *text) {
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  if (!j) fprintf(stderr, "bad test JSON: %s\n", je.text);
  return j;
}

int main(void) {
  wgg_err e;
  wgg_resiliency *r = wgg_resiliency_new();
  json_t *d = doc("{\"kind\":\"Resiliency\",\"spec\":{\"policies\":{"
                  "\"timeouts\":{\"general\":\"5s\",\"fast\":\"200ms\",\"DefaultTimeoutPolicy\":\"9s\"},"
                  "\"retries\":{\"five\":{\"policy\":\"constant\",\"duration\":\"100ms\",\"maxRetries\":5,"
                  "\"matching\":{\"httpStatusCodes\":\"429,500-503\"}},"
                  "\"exp\":{\"policy\":\"exponential\",\"maxInterval\":\"2s\",\"maxRetries\":\"-1\"},"
                  "\"DefaultAppRetryPolicy\":{\"duration\":\"1s\",\"maxRetries\":2},"
                  "\"DefaultStatestoreComponentOutboundRetryPolicy\":{\"maxRetries\":1}},"
                  "\"circuitBreakers\":{\"cb\":{\"maxRequests\":2,\"timeout\":\"1s\","
                  "\"trip\":\"consecutiveFailures >= 3 || totalFailures > 10 && requests > 2\"}}},"
                  "\"targets\":{\"apps\":{\"appB\":{\"timeout\":\"fast\",\"retry\":\"five\",\"circuitBreaker\":\"cb\"}},"
                  "\"components\":{\"store1\":{\"outbound\":{\"retry\":\"exp\",\"timeout\":\"general\"}}}}}}");
  CHECK(wgg_resiliency_add(r, d, "r.yaml", &e) == 0);
  json_decref(d);
  CHECK(wgg_resiliency_count(r) == 8);

  wgg_res_policy p;
  wgg_resiliency_for_app(r, "appB", &p);
  CHECK(p.timeout_ms == 200 && p.retry && p.breaker);
  CHECK_STR(p.retry_name, "five");
  CHECK(p.retry->duration_ms == 100 && p.retry->max_retries == 5 && !p.retry->exponential);
  CHECK(wgg_retry_status_is_error(p.retry, 429) && wgg_retry_status_is_error(p.retry, 502));
  CHECK(!wgg_retry_status_is_error(p.retry, 504) && !wgg_retry_status_is_error(p.retry, 404));
  CHECK(wgg_retry_more(p.retry, 4) && !wgg_retry_more(p.retry, 5));
  uint64_t st = 0;
  CHECK(wgg_retry_backoff_ms(p.retry, &st) == 100);

  wgg_resiliency_for_app(r, "other", &p); /* defaults: DefaultAppRetryPolicy, DefaultTimeoutPolicy */
  CHECK(p.timeout_ms == 9000 && p.retry && !p.breaker);
  CHECK_STR(p.retry_name, "DefaultAppRetryPolicy");
  CHECK(wgg_retry_status_is_error(p.retry, 404) && !wgg_retry_status_is_error(p.retry, 204));

  wgg_resiliency_for_component(r, "store1", "state.redis", WGG_RES_OUTBOUND, &p);
  CHECK(p.timeout_ms == 5000 && p.retry && p.retry->exponential);
  st = 0;
  uint64_t prev = 0;
  for (int i = 0; i < 20; i++) prev = wgg_retry_backoff_ms(p.retry, &st);
  CHECK(prev <= 2000 && prev >= 1000);
  CHECK(wgg_retry_more(p.retry, 1000000));
  wgg_resiliency_for_component(r, "store2", "state.sqlite", WGG_RES_OUTBOUND, &p);
  CHECK_STR(p.retry_name, "DefaultStatestoreComponentOutboundRetryPolicy");
  CHECK(p.timeout_ms == 9000);
  wgg_resiliency_for_component(r, "store2", "state.sqlite", WGG_RES_INBOUND, &p);
  CHECK(!p.retry && p.timeout_ms == 9000);
  wgg_resiliency_for_component(r, "pub", "pubsub.redis", WGG_RES_OUTBOUND, &p);
  CHECK(!p.retry);

  /* breaker: consecutiveFailures >= 3 trips; open 1 s; half-open lets 2 through */
  wgg_resiliency_for_app(r, "appB", &p);
  wgg_breaker *b = p.breaker;
  wgg_res_policy p2;
  wgg_resiliency_for_app(r, "appB", &p2);
  CHECK(p2.breaker == b); /* one breaker per policy and target */
  wgg_resiliency_for_app(r, "appC", &p2);
  uint64_t t = 1000;
  for (int i = 0; i < 2; i++) {
    CHECK(wgg_breaker_allow(b, t));
    wgg_breaker_record(b, false, t);
  }
  CHECK(wgg_breaker_state_at(b, t) == WGG_BREAKER_CLOSED);
  CHECK(wgg_breaker_allow(b, t));
  wgg_breaker_record(b, false, t);
  CHECK(wgg_breaker_state_at(b, t) == WGG_BREAKER_OPEN);
  CHECK(!wgg_breaker_allow(b, t + 999));
  CHECK(wgg_breaker_allow(b, t + 1000)); /* half-open */
  CHECK(wgg_breaker_allow(b, t + 1000));
  CHECK(!wgg_breaker_allow(b, t + 1000)); /* maxRequests 2 in flight */
  wgg_breaker_record(b, true, t + 1001);
  CHECK(wgg_breaker_state_at(b, t + 1001) == WGG_BREAKER_HALF_OPEN);
  wgg_breaker_record(b, true, t + 1002);
  CHECK(wgg_breaker_state_at(b, t + 1002) == WGG_BREAKER_CLOSED);
  /* a failure while half-open re-opens */
  for (int i = 0; i < 3; i++) {
    wgg_breaker_allow(b, t + 2000);
    wgg_breaker_record(b, false, t + 2000);
  }
  CHECK(wgg_breaker_state_at(b, t + 2000) == WGG_BREAKER_OPEN);
  CHECK(wgg_breaker_allow(b, t + 3000));
  wgg_breaker_record(b, false, t + 3000);
  CHECK(wgg_breaker_state_at(b, t + 3000) == WGG_BREAKER_OPEN);
  wgg_resiliency_free(r);

  /* errors name the file and field */
  const char *bad[] = {
      "{\"spec\":{\"policies\":{\"timeouts\":{\"t\":\"5x\"}}}}",
      "{\"spec\":{\"policies\":{\"retries\":{\"r\":{\"policy\":\"linear\"}}}}}",
      "{\"spec\":{\"policies\":{\"retries\":{\"r\":{\"matching\":{\"httpStatusCodes\":\"600\"}}}}}}",
      "{\"spec\":{\"policies\":{\"circuitBreakers\":{\"c\":{\"trip\":\"failures() > 2\"}}}}}",
      "{\"spec\":{\"targets\":{\"apps\":{\"a\":{\"retry\":\"nope\"}}}}}",
      "{\"spec\":{\"policies\":{\"retries\":{\"r\":{\"maxRetries\":\"x\"}}}}}",
  };
  const char *why[] = {"timeouts.t", "policy", "httpStatusCodes", "unsupported trip", "'nope' is not defined",
                       "maxRetries"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wgg_resiliency *rb = wgg_resiliency_new();
    json_t *j = doc(bad[i]);
    int rc = wgg_resiliency_add(rb, j, "bad.yaml", &e);
    CHECK(rc == -1 && strstr(e.msg, "bad.yaml") && strstr(e.msg, why[i]));
    if (rc == 0 || !strstr(e.msg, why[i])) fprintf(stderr, "case %zu: %s\n", i, rc ? e.msg : "(accepted)");
    json_decref(j);
    wgg_resiliency_free(rb);
  }
  wgg_code_range *cr;
  size_t n;
  CHECK(wgg_status_ranges_parse(" 429 , 500-599", &cr, &n, &e) == 0 && n == 2 && cr[1].hi == 599);
  free(cr);
  CHECK(wgg_status_ranges_parse("500-400", &cr, &n, &e) == -1);
  CHECK_DONE();
}
