/*
 * registry.c: maps a component's type/version to a state store constructor.
 */
#include <stdlib.h>
#include <string.h>

#include "components/state/store.h"
#include "util/err.h"

static const struct {
  const char *type;
  wgg_state_store *(*make)(const wgg_component *, wgg_err *);
} kinds[] = {
    {"state.in-memory", wgg_state_memory_new},
    {"state.sqlite", wgg_state_sqlite_new},
    {"state.redis", wgg_state_redis_new},
    {"state.postgresql", wgg_state_postgres_new},
};

bool wgg_state_type_supported(const char *type) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(type, kinds[i].type)) return true;
  return false;
}

wgg_state_store *wgg_state_store_new(const wgg_component *c, wgg_err *err) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (strcmp(c->type, kinds[i].type)) continue;
    if (c->version && *c->version && strcmp(c->version, "v1"))
      return wgg_err_set(err, "couldn't find state store %s/%s", c->type, c->version), NULL;
    return kinds[i].make(c, err);
  }
  return wgg_err_set(err, "couldn't find state store %s/%s", c->type, c->version ? c->version : "v1"), NULL;
}

const char *wgg_state_mismatch_msg(const wgg_state_op *op) {
  return op->etag && *op->etag ? "etag mismatch" : "the key already exists (first-write)";
}

void wgg_state_got_free(wgg_state_got *g) {
  free(g->value);
  free(g->etag);
  memset(g, 0, sizeof *g);
}
