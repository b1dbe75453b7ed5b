/*
 * registry.c: maps a component's type/version to an output binding constructor.
 */
#include <stdlib.h>
#include <string.h>

#include "components/bindings/binding.h"
#include "components/bindings/localstorage.h"
#include "util/err.h"

static const struct {
  const char *type;
  wgg_binding *(*make)(const wgg_component *, const wgg_binding_opts *, wgg_err *);
} kinds[] = {
    {"bindings.wasm", wgg_binding_wasm_new},
    {"bindings.http", wgg_binding_http_new},
    {"bindings.localstorage", wgg_binding_localstorage_new},
};

bool wgg_binding_type_supported(const char *type) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(type, kinds[i].type)) return true;
  return false;
}

wgg_binding *wgg_binding_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err) {
  static const wgg_binding_opts defaults = {0};
  if (!opts) opts = &defaults;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (strcmp(c->type, kinds[i].type)) continue;
    if (c->version && *c->version && strcmp(c->version, "v1"))
      return wgg_err_set(err, "couldn't find binding %s/%s", c->type, c->version), NULL;
    return kinds[i].make(c, opts, err);
  }
  return wgg_err_set(err, "couldn't find binding %s/%s", c->type, c->version ? c->version : "v1"), NULL;
}

void wgg_binding_result_free(wgg_binding_result *r) {
  free(r->data);
  json_decref(r->metadata);
  r->data = NULL;
  r->metadata = NULL;
  r->len = 0;
}
