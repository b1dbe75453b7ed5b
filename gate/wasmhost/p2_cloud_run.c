/*
 * p2_cloud_run.c: the WASI cloud interfaces for `wasmgate wasm run` of a
 * component (wggate.h wgg_cloud_*): an API instance built from resources
 * folders as app ID ID's sidecar would build it (scopes applied, no
 * listener, no app channel, no jobs), whose components serve
 * wasi:keyvalue, wasi:config, wasi:messaging and wasi:blobstore (p2_cloud.h).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "config/component.h"
#include "util/err.h"
#include "util/log.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_dapr.h"

struct wgg_cloud {
  wgg_options o; /* borrowed by api */
  char *app_id;
  char **paths;
  size_t n;
  wgg_api *api;
};

void wgg_cloud_free(wgg_cloud *c) {
  if (!c) return;
  if (c->api) wgg_api_free(c->api);
  for (size_t i = 0; i < c->n; i++) free(c->paths[i]);
  free(c->paths);
  free(c->app_id);
  free(c);
}

wgg_cloud *wgg_cloud_new(const char *app_id, const char *const *paths, size_t n, wgg_err *err) {
  if (wgg_log_get_level() < WGG_LOG_WARN) wgg_log_setup(WGG_LOG_WARN, false); /* no "component loaded" lines */
  wgg_cloud *c = calloc(1, sizeof *c);
  if (!c || !(c->app_id = strdup(app_id ? app_id : "")) || !(c->paths = calloc(n ? n : 1, sizeof *c->paths))) {
    wgg_cloud_free(c);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  for (; c->n < n; c->n++)
    if (!(c->paths[c->n] = strdup(paths[c->n]))) {
      wgg_cloud_free(c);
      return wgg_err_set(err, "out of memory"), NULL;
    }
  wgg_options_init(&c->o);
  c->o.app_id = c->app_id;
  c->o.resources_paths = (const char **)c->paths;
  c->o.n_resources_paths = n;
  c->o.state_file = NULL; /* no jobs */
  wgg_component_list comps = {0};
  if (wgg_components_load((const char *const *)c->paths, n, c->app_id, &comps, err)) {
    wgg_cloud_free(c);
    return NULL;
  }
  c->api = wgg_api_new(&c->o, &comps, err);
  wgg_component_list_free(&comps);
  if (!c->api) {
    wgg_cloud_free(c);
    return NULL;
  }
  return c;
}

int wgg_cloud_define(wgg_cloud *c, struct wg_component_linker *l, struct wg_wasi_p2 *(*p2_of)(struct wg_store *s),
                     wgg_err *err) {
  return wgg_p2_keyvalue_define(l, c->api, err) && wgg_p2_config_define(l, c->api, NULL, err) &&
                 wgg_p2_messaging_define(l, c->api, err) && wgg_p2_blobstore_define(l, c->api, p2_of, err) &&
                 wgg_p2_dapr_define(l, c->api, err)
             ? 0
             : -1;
}
