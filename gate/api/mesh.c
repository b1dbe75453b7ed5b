/*
 * mesh.c: start-up and shutdown of the mesh pieces of the API (see mesh.h):
 * the name resolver with this sidecar's registration, and the Resiliency
 * policies.
 */
#include "api/mesh.h"

#include "components/nameres/nameres.h"
#include "config/resiliency.h"
#include "util/err.h"
#include "util/log.h"

int wgg_mesh_init(wgg_api *api, json_t *nr_spec, json_t *resiliency_docs, wgg_err *err) {
  const wgg_options *o = api->opts;
  char self[200];
  wgg_nameres_self_addr(o->listen_addresses, o->http_port, self, sizeof self);
  wgg_err e;
  if (!(api->nameres = wgg_nameres_new(nr_spec, o->app_id, self, &e))) {
    if (nr_spec) return wgg_err_set(err, "%s", e.msg); /* configured: must work */
    wgg_warn("%s; other apps cannot be invoked by app ID (set spec.nameResolution in the Configuration)", e.msg);
  }
  if (json_array_size(resiliency_docs)) {
    if (!(api->resiliency = wgg_resiliency_new())) return wgg_err_set(err, "out of memory");
    size_t i;
    json_t *d;
    json_array_foreach(resiliency_docs, i, d) {
      json_t *f = json_object_get(d, "file");
      if (wgg_resiliency_add(api->resiliency, d, json_string_value(f), err)) return -1;
    }
    wgg_info("resiliency: %zu document(s), %zu policies", json_array_size(resiliency_docs),
             wgg_resiliency_count(api->resiliency));
  }
  return 0;
}

void wgg_mesh_free(wgg_api *api) {
  wgg_nameres_free(api->nameres);
  api->nameres = NULL;
  wgg_resiliency_free(api->resiliency);
  api->resiliency = NULL;
}

uint64_t wgg_mesh_renew_interval_ms(const wgg_api *api) {
  return api->nameres ? wgg_nameres_renew_interval_ms(api->nameres) : 0;
}

void wgg_mesh_renew(wgg_api *api) {
  wgg_err e;
  if (api->nameres && wgg_nameres_renew(api->nameres, &e)) wgg_warn("name resolution: %s", e.msg);
}
