/*
 * fuzz_resiliency.c: libFuzzer target for the mesh's parsers: the first line
 * of the input is a bindings.cron schedule (gate/components/bindings/cron.c),
 * the rest a resources file whose Resiliency documents go through
 * wgg_resiliency_add (gate/config/resiliency.c), followed by policy lookups,
 * back-off steps and breaker transitions. Invariants: a parsed schedule's
 * next activation is 0 or later than its start; parse errors say "invalid
 * schedule format"; a Resiliency error names the file; back-off never exceeds
 * the larger of duration and maxInterval; a breaker's state is one of three.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/bindings/cron.h"
#include "config/resiliency.h"
#include "config/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "invariant failed: %s\n", what);
    abort();
  }
}

static void policies(wgg_res_policy *p) {
  if (p->retry) {
    uint64_t st = 0, cap = p->retry->duration_ms > p->retry->max_interval_ms ? p->retry->duration_ms
                                                                            : p->retry->max_interval_ms;
    for (int i = 0; i < 8; i++) check(wgg_retry_backoff_ms(p->retry, &st) <= cap, "back-off within bounds");
    (void)wgg_retry_status_is_error(p->retry, 503);
  }
  if (p->breaker) {
    for (uint64_t t = 0; t < 10; t++) {
      if (wgg_breaker_allow(p->breaker, t * 700)) wgg_breaker_record(p->breaker, t % 3 != 0, t * 700);
      int s = wgg_breaker_state_at(p->breaker, t * 700);
      check(s >= WGG_BREAKER_CLOSED && s <= WGG_BREAKER_OPEN, "breaker state");
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t first = nl ? (size_t)(nl - data) : size;
  char *spec = malloc(first + 1);
  if (!spec) return 0;
  memcpy(spec, data, first);
  spec[first] = '\0';
  wgg_cron c;
  wgg_err e = {{0}};
  if (strlen(spec) == first) {
    if (wgg_cron_parse(spec, &c, &e) == 0) {
      time_t start = 1700000000, next = wgg_cron_next(&c, start);
      check(next == 0 || next > start, "next activation after the start");
    } else {
      check(strstr(e.msg, "invalid schedule format") != NULL, "cron error wording");
    }
  }
  free(spec);
  if (!nl) return 0;
  wgg_resource_list l = {0};
  const char *rest = (const char *)nl + 1;
  if (wgg_resources_parse("in.yaml", rest, size - first - 1, "Resiliency", NULL, &l, &e) == 0) {
    wgg_resiliency *r = wgg_resiliency_new();
    for (size_t i = 0; r && i < l.n; i++) {
      if (wgg_resiliency_add(r, l.items[i].doc, "in.yaml", &e)) {
        check(strstr(e.msg, "in.yaml") != NULL || strstr(e.msg, "out of memory") != NULL, "error names the file");
        break;
      }
    }
    wgg_res_policy p;
    static const char *const names[] = {"a", "b", "statestore", "pubsub", "x"};
    for (size_t i = 0; r && i < sizeof names / sizeof names[0]; i++) {
      wgg_resiliency_for_app(r, names[i], &p);
      policies(&p);
      wgg_resiliency_for_component(r, names[i], "state.redis", (int)(i & 1), &p);
      policies(&p);
    }
    wgg_resiliency_free(r);
  }
  wgg_resource_list_free(&l);
  return 0;
}
