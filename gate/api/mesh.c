/*
 * mesh.c: start-up and shutdown of the mesh pieces of the API (see mesh.h):
 * the name resolver with this sidecar's registration, and the Resiliency
 * policies.
 */
#include "api/mesh.h"

#include "api/acl.h"

#include "components/nameres/nameres.h"
#include "config/resource.h"
#include "config/resiliency.h"
#include "util/err.h"
#include "util/log.h"

#include <stdio.h>

int wgg_mesh_init(wgg_api *api, wgg_err *err) {
  const wgg_options *o = api->opts;
  json_t *nr_spec = json_object_get(api->config.spec, "nameResolution");
  if (json_is_null(nr_spec)) nr_spec = NULL;
  char self[200];
  wgg_nameres_self_addr(o->listen_addresses, o->http_port, self, sizeof self);
  char self_grpc[200] = "";
  if (o->grpc_port > 0) wgg_nameres_self_addr(o->listen_addresses, o->grpc_port, self_grpc, sizeof self_grpc);
  wgg_err e;
  /* registered by wgg_mesh_register once the listeners are up */
  if (!(api->nameres = wgg_nameres_new_unregistered(nr_spec, o->app_id, self, self_grpc, &e))) {
    if (nr_spec) return wgg_err_set(err, "%s: %s", api->config.file ? api->config.file : "--config", e.msg);
    wgg_warn("%s; other apps cannot be invoked by app ID (set spec.nameResolution in the Configuration)", e.msg);
  }
  wgg_err ae;
  if (wgg_acl_new(json_object_get(api->config.spec, "accessControl"), &api->acl, &ae))
    return wgg_err_set(err, "%s: %s", api->config.file ? api->config.file : "--config", ae.msg);
  if (api->acl && !(o->api_token && *o->api_token))
    wgg_warn("accessControl: without DAPR_API_TOKEN the callers' app IDs cannot be trusted; the global defaultAction "
             "decides every call from another app");
  if (!o->n_resources_paths) return 0;
  wgg_resource_list docs = {0};
  if (wgg_resources_load(o->resources_paths, o->n_resources_paths, "Resiliency", o->app_id, &docs, err)) return -1;
  int rc = 0;
  if (docs.n && !(api->resiliency = wgg_resiliency_new())) rc = wgg_err_set(err, "out of memory");
  for (size_t i = 0; rc == 0 && i < docs.n; i++) {
    char where[1100];
    snprintf(where, sizeof where, "%s:%d (Resiliency %s)", docs.items[i].file, docs.items[i].line, docs.items[i].name);
    rc = wgg_resiliency_add(api->resiliency, docs.items[i].doc, where, err);
  }
  if (rc == 0 && docs.n) {
    wgg_info("resiliency: %zu document(s), %zu policies", docs.n, wgg_resiliency_count(api->resiliency));
    for (size_t i = 0; rc == 0 && i < api->n_stores; i++) { /* components: state stores' outbound policies */
      wgg_state_store *w = wgg_state_resilient_wrap(api->stores[i].store, api->resiliency, api->stores[i].comp);
      if (!w) rc = wgg_err_set(err, "out of memory");
      else api->stores[i].store = w;
    }
    for (size_t i = 0; rc == 0 && i < api->n_bindings; i++) { /* output bindings' outbound policies */
      wgg_binding *w = wgg_binding_resilient_wrap(api->bindings[i].binding, api->resiliency, api->bindings[i].comp);
      if (!w) rc = wgg_err_set(err, "out of memory");
      else api->bindings[i].binding = w;
    }
  }
  wgg_resource_list_free(&docs);
  return rc;
}

void wgg_mesh_free(wgg_api *api) {
  wgg_nameres_free(api->nameres);
  api->nameres = NULL;
  wgg_resiliency_free(api->resiliency);
  api->resiliency = NULL;
  wgg_acl_free(api->acl);
  api->acl = NULL;
}

void wgg_mesh_register(wgg_api *api) {
  wgg_err e;
  if (api->nameres && wgg_nameres_register(api->nameres, &e))
    wgg_warn("name resolution: %s; other apps cannot invoke this one by app ID until a renewal succeeds", e.msg);
}

uint64_t wgg_mesh_renew_interval_ms(const wgg_api *api) {
  return api->nameres ? wgg_nameres_renew_interval_ms(api->nameres) : 0;
}

void wgg_mesh_renew(wgg_api *api) {
  wgg_err e;
  if (api->nameres && wgg_nameres_renew(api->nameres, &e)) wgg_warn("name resolution: %s", e.msg);
}
