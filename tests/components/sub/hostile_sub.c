/*
 * hostile_sub.c: exports dapr:runtime/subscriber@0.1.0 with other types than
 * wit/dapr's (world hostile-sub, hostile/subscriber.wit): subscriptions()
 * answers list<u32>, handle-event takes a u32 event and answers a u32. The
 * sidecar must refuse both answers without reading them as its own types.
 * Built at test time by tests/gate/p2_subscriber.py.
 */
#include <stddef.h>
#include <stdint.h>

#include "../http/bump_realloc.h"

#define EXPORT(name) __attribute__((export_name(name)))

static const uint32_t items[3] = {1, 2, 3};
static uint32_t list_ret[2];

EXPORT("dapr:runtime/subscriber@0.1.0#subscriptions") uint32_t *subscriptions(void) {
  list_ret[0] = (uint32_t)(uintptr_t)items;
  list_ret[1] = 3;
  return list_ret;
}

EXPORT("dapr:runtime/subscriber@0.1.0#handle-event") uint32_t handle_event(const char *r, uint32_t n, uint32_t ev) {
  (void)r, (void)n, (void)ev;
  return 7;
}
