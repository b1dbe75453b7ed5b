/*
 * registry.c: maps a component's type/version to a pub/sub constructor, and
 * the small helpers every pub/sub component shares.
 */
#include <stdlib.h>
#include <string.h>

#include "components/pubsub/pubsub.h"
#include "util/err.h"

static const struct {
  const char *type;
  wgg_pubsub *(*make)(const wgg_component *, const char *, wgg_err *);
} kinds[] = {
    {"pubsub.in-memory", wgg_pubsub_memory_new},
    {"pubsub.redis", wgg_pubsub_redis_new},
    {"pubsub.mqtt3", wgg_pubsub_mqtt_new},
};

bool wgg_pubsub_type_supported(const char *type) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(type, kinds[i].type)) return true;
  return false;
}

wgg_pubsub *wgg_pubsub_new(const wgg_component *c, const char *app_id, wgg_err *err) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (strcmp(c->type, kinds[i].type)) continue;
    if (c->version && *c->version && strcmp(c->version, "v1"))
      return wgg_err_set(err, "couldn't find message bus %s/%s", c->type, c->version), NULL;
    return kinds[i].make(c, app_id ? app_id : "", err);
  }
  return wgg_err_set(err, "couldn't find message bus %s/%s", c->type, c->version ? c->version : "v1"), NULL;
}

int wgg_pubsub_meta_int(const wgg_component *c, const char *name, int min, int *out, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  if (!v || !*v) return 0;
  char *end;
  long n = strtol(v, &end, 10);
  if (*end || n < min || n > 1000000)
    return wgg_err_set(err, "%s: invalid %s '%s' (an integer >= %d expected)", c->type, name, v, min);
  *out = (int)n;
  return 0;
}

wgg_pubsub_msg *wgg_pubsub_msg_new(size_t size, const char *topic, const char *data, size_t len,
                                   void (*done)(wgg_pubsub_msg *, bool)) {
  wgg_pubsub_msg *m = calloc(1, size < sizeof *m ? sizeof *m : size);
  if (!m) return NULL;
  m->topic = strdup(topic);
  m->data = malloc(len + 1);
  if (!m->topic || !m->data) {
    wgg_pubsub_msg_free(m);
    return NULL;
  }
  if (len) memcpy(m->data, data, len);
  m->data[len] = '\0';
  m->len = len;
  m->done = done;
  return m;
}

void wgg_pubsub_msg_free(wgg_pubsub_msg *m) {
  if (!m) return;
  free(m->topic);
  free(m->data);
  free(m);
}
