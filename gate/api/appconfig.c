/*
 * appconfig.c: the app's configuration, GET /dapr/config, read once the app
 * is ready (from the first worker loop, through the app channel), as daprd
 * does at start (dapr pkg/runtime/runtime.go
 * loadAppConfiguration; pkg/channel/http GetAppConfig: a GET with
 * Content-Type application/json and the dapr-app-id header; anything but
 * 200 means an empty configuration; a body that is not JSON is an error,
 * logged, and ignored). Every field of daprd's ApplicationConfig
 * (pkg/config/app_configuration.go) configures actors (entities,
 * actorIdleTimeout, drainOngoingCallTimeout, drainRebalancedActors,
 * reentrancy, entitiesConfig), which wasmgate does not host yet: the
 * configuration is logged ("Application configuration loaded", daprd's
 * deprecation warnings for remindersStoragePartitions) and actor types the
 * app declares are reported as not hosted. Nothing else changes.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "util/log.h"
#include "util/loophooks.h"

#define APPCONFIG_TIMEOUT_MS 10000

typedef struct appcfg {
  wgg_api *api;
  uv_loop_t *loop;
  uv_timer_t ready; /* polls api->app_ready until the app can be asked */
} appcfg;

static void on_answer(void *user, const wgg_http_response *resp, const char *errmsg) {
  (void)user;
  if (!resp) {
    wgg_debug("GET /dapr/config: %s; no application configuration", errmsg ? errmsg : "error");
  } else if (resp->status == 200) {
    json_error_t je;
    json_t *cfg = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &je);
    if (!json_is_object(cfg)) {
      wgg_error("GET /dapr/config: the answer is not a JSON object (%s); ignored", cfg ? "wrong type" : je.text);
    } else {
      wgg_info("Application configuration loaded");
      if (json_integer_value(json_object_get(cfg, "remindersStoragePartitions")) > 0)
        wgg_warn("remindersStoragePartitions is deprecated and will be removed in future versions");
      size_t i;
      json_t *e;
      json_array_foreach(json_object_get(cfg, "entitiesConfig"), i, e) {
        if (json_integer_value(json_object_get(e, "remindersStoragePartitions")) > 0)
          wgg_warn("remindersStoragePartitions is deprecated and will be removed in future versions (entity: %zu)", i);
      }
      json_t *ents = json_object_get(cfg, "entities");
      if (json_array_size(ents)) {
        char *list = json_dumps(ents, JSON_COMPACT);
        wgg_warn("the application declares actor types %s: actors are not supported by wasmgate yet; not hosted",
                 list ? list : "");
        free(list);
      }
    }
    json_decref(cfg);
  } else {
    wgg_debug("GET /dapr/config answered %d; no application configuration", resp->status);
  }
}

static void on_ready_tick(uv_timer_t *t) {
  appcfg *a = t->data;
  if (!__atomic_load_n(&a->api->app_ready, __ATOMIC_ACQUIRE)) return;
  uv_timer_stop(t);
  wgg_http_client *cl = a->loop->data; /* the loop's app channel client (runtime/sidecar.c) */
  const char *app_id = a->api->opts->app_id ? a->api->opts->app_id : "";
  wgg_http_header h[] = {{"Content-Type", "application/json"}, {"dapr-app-id", app_id}};
  const char *why = "no app channel client on this loop";
  if (!cl || wgg_app_call(a->api, cl, "GET", "/dapr/config", h, 2, NULL, 0, NULL, APPCONFIG_TIMEOUT_MS, on_answer, NULL,
                          &why))
    on_answer(NULL, NULL, why);
}

static void ready_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_loop_close(void *p) { /* util/loophooks.h: the worker drains */
  appcfg *a = p;
  uv_close((uv_handle_t *)&a->ready, ready_closed);
}

void wgg_appconfig_watch(wgg_api *api, uv_loop_t *loop) {
  if (!wgg_options_has_app(api->opts)) return;
  appcfg *a = calloc(1, sizeof *a);
  if (!a) return;
  a->api = api;
  a->loop = loop;
  uv_timer_init(loop, &a->ready);
  a->ready.data = a;
  uv_unref((uv_handle_t *)&a->ready);
  if (wgg_loop_hooks_add(loop, on_loop_close, a)) {
    uv_close((uv_handle_t *)&a->ready, ready_closed);
    return;
  }
  uv_timer_start(&a->ready, on_ready_tick, 0, 50);
}
