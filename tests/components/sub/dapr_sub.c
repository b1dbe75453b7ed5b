/*
 * dapr_sub.c: a component exporting dapr:runtime@0.1.0's subscriber and
 * input-bindings (wit/dapr, world dapr-sub of sub.wit), built at test time
 * and hosted by tests/gate/p2_subscriber.py:
 *   subscriptions(): one programmatic subscription, topic "prog" of pub/sub
 *     "bus" to route "/prog";
 *   handle-event(route, event): counts "ROUTE:TOPIC:PUBSUB:TYPE:DATA" in
 *     bucket "seen" (seen.h; the route without its leading '/'); data
 *     "retry" answers err(retry) until its third delivery, "drop"
 *     err(drop), anything else ok;
 *   handle-binding(name, data, metadata): counts "binding:NAME:yes" when
 *     the metadata has the cron binding's readTimeUTC ("binding:NAME:no"
 *     otherwise) and answers ok(none).
 */
#include "seen.h"

typedef struct { const char *p; uint32_t n; } str;

static const struct { str pubsub, topic, route, md; } subs[1] = {{{"bus", 3}, {"prog", 4}, {"/prog", 5}, {0, 0}}};
static uint32_t list_ret[2];

EXPORT("dapr:runtime/subscriber@0.1.0#subscriptions") uint32_t *subscriptions(void) {
  list_ret[0] = (uint32_t)(uintptr_t)subs;
  list_ret[1] = 1;
  return list_ret;
}

/* (route: string, event: cloudevent) passed by pointer (more than 16 flat values): the route at
 * 0, then id, source, type, specversion, datacontenttype, data, topic, pubsubname, extensions */
typedef struct { str route, id, source, type, spec, ctype, data, topic, pubsub, ext; } event_args;
static uint8_t ev_ret[2]; /* result<_, event-error{retry, drop}> */

EXPORT("dapr:runtime/subscriber@0.1.0#handle-event") uint8_t *handle_event(const event_args *a) {
  key_reset();
  str route = a->route;
  if (route.n && route.p[0] == '/') route.p++, route.n--;
  const str *parts[] = {&route, &a->topic, &a->pubsub, &a->type, &a->data};
  for (size_t i = 0; i < 5; i++) {
    if (i) key_add(":", 1);
    key_add(parts[i]->p, parts[i]->n);
  }
  uint64_t n = seen();
  ev_ret[0] = ev_ret[1] = 0;
  if (same(a->data.p, a->data.n, "retry") && n < 3) ev_ret[0] = 1, ev_ret[1] = 0;
  if (same(a->data.p, a->data.n, "drop")) ev_ret[0] = 1, ev_ret[1] = 1;
  return ev_ret;
}

static uint32_t bind_ret[4]; /* result<option<list<u8>>, string> */

EXPORT("dapr:runtime/input-bindings@0.1.0#handle-binding")
uint32_t *handle_binding(const char *name, uint32_t nn, const char *data, uint32_t dn, const str *md, uint32_t nmd) {
  (void)data, (void)dn;
  int has = 0; /* metadata: list<tuple<string, string>>, two str each */
  for (uint32_t i = 0; i < nmd; i++) has |= same(md[2 * i].p, md[2 * i].n, "readTimeUTC");
  key_reset();
  key_str("binding:");
  key_add(name, nn);
  key_str(has ? ":yes" : ":no");
  seen();
  bind_ret[0] = bind_ret[1] = 0; /* ok(none) */
  return bind_ret;
}
