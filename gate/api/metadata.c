/*
 * metadata.c: GET /v1.0/metadata and PUT /v1.0/metadata/{attributeName}
 * (docs reference/api/metadata_api.md; dapr pkg/api/http/metadata.go).
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
#include "components/secretstores/secretstore.h"
#include "api/input_bindings.h"
#include "wasmhost/app.h"

static json_t *capabilities(unsigned f) {
  json_t *a = json_array();
  if (f & WGG_FEAT_ETAG) json_array_append_new(a, json_string("ETAG"));
  if (f & WGG_FEAT_TRANSACTIONAL) json_array_append_new(a, json_string("TRANSACTIONAL"));
  if (f & WGG_FEAT_TTL) json_array_append_new(a, json_string("TTL"));
  if (f & WGG_FEAT_QUERY) json_array_append_new(a, json_string("QUERY_API"));
  return a;
}

static json_t *app_connection(const wgg_options *o) {
  json_t *j = json_object();
  if (o->app_port > 0) json_object_set_new(j, "port", json_integer(o->app_port));
  json_object_set_new(j, "protocol", json_string(o->app_protocol ? o->app_protocol : "http"));
  json_object_set_new(j, "channelAddress", json_string(o->app_channel_address ? o->app_channel_address : "127.0.0.1"));
  if (o->app_max_concurrency > 0) json_object_set_new(j, "maxConcurrency", json_integer(o->app_max_concurrency));
  if (o->enable_app_health_check) {
    char iv[32], to[32];
    snprintf(iv, sizeof iv, "%gs", (double)o->app_health_probe_interval_ms / 1000.0);
    snprintf(to, sizeof to, "%gms", (double)o->app_health_probe_timeout_ms);
    json_object_set_new(j, "health",
                        json_pack("{s:s,s:s,s:s,s:i}", "healthCheckPath", o->app_health_check_path, "healthProbeInterval",
                                  iv, "healthProbeTimeout", to, "healthThreshold", o->app_health_threshold));
  }
  return j;
}

static bool pipeline_has(const wgg_pipeline *pl, const char *name) {
  for (size_t i = 0; i < pl->n; i++)
    if (!strcmp(wgg_wasm_mw_name(pl->mws[i]), name)) return true;
  return false;
}

static bool pipeline_uses(wgg_api *api, const char *name) {
  return pipeline_has(&api->http_pipeline, name) || pipeline_has(&api->app_http_pipeline, name);
}

/* The wasm module behind an app ID ({"url", "abi", "instances", limits}), or NULL for an app process. */
static json_t *wasm_info(const wgg_api *api) {
  const wgg_options *o = api->opts;
  if (!api->wasm_app) return NULL;
  return json_pack("{s:s,s:s,s:s,s:I,s:I}", "url", o->app_wasm, "abi", wgg_wasm_app_abi_name(api->wasm_app),
                   "instances", o->app_wasm_pooled ? "pooled" : "fresh", "maxMemoryPages",
                   (json_int_t)(o->app_wasm_max_memory_pages ? o->app_wasm_max_memory_pages : 1024), "timeoutMs",
                   (json_int_t)(o->app_wasm_timeout_ms ? o->app_wasm_timeout_ms : 10000));
}

/* The other apps hosted in this process, each as its own sidecar would describe it (docs/wasm-apps.md
 * section 7): "wasmApps": [{"id", "wasm", "components", "subscriptions", "appConnectionProperties"}]. */
static json_t *hosted_apps(wgg_api *api) {
  json_t *a = json_array();
  for (size_t i = 0; a && api->hosted && i < api->hosted->n; i++) {
    wgg_api *h = api->hosted->apis[i];
    if (h == api || !h->is_hosted) continue;
    json_t *doc = wgg_metadata_doc(h);
    if (!doc) continue;
    json_t *e = json_pack("{s:O,s:O,s:O,s:O}", "id", json_object_get(doc, "id"), "components",
                          json_object_get(doc, "components"), "subscriptions", json_object_get(doc, "subscriptions"),
                          "appConnectionProperties", json_object_get(doc, "appConnectionProperties"));
    json_t *w = wasm_info(h);
    if (e && w) json_object_set_new(e, "wasm", w);
    else json_decref(w);
    if (e) json_array_append_new(a, e);
    json_decref(doc);
  }
  return a;
}

json_t *wgg_metadata_doc(wgg_api *api) {
  json_t *comps = json_array();
  for (size_t i = 0; i < api->n_stores; i++) {
    const wgg_component *c = api->stores[i].comp;
    json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:o}", "name", c->name, "type", c->type, "version",
                                           *c->version ? c->version : "v1", "capabilities",
                                           capabilities(api->stores[i].store->features)));
  }
  /* Middleware components that a pipeline of the Configuration loaded (Dapr
   * lists every loaded component; middleware has no capabilities). */
  for (size_t i = 0; i < api->components.n; i++) {
    const wgg_component *c = &api->components.items[i];
    if (c->endpoint || strncmp(c->type, "middleware.", 11) || !pipeline_uses(api, c->name)) continue;
    json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:[]}", "name", c->name, "type", c->type, "version",
                                           *c->version ? c->version : "v1", "capabilities"));
  }
  /* Output bindings report OUTPUT_BINDING (dapr pkg/runtime/runtime.go). */
  for (size_t i = 0; i < api->n_bindings; i++) {
    const wgg_component *c = api->bindings[i].comp;
    json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:[s]}", "name", c->name, "type", c->type, "version",
                                           *c->version ? c->version : "v1", "capabilities", "OUTPUT_BINDING"));
  }
  /* Input bindings report INPUT_BINDING (api/input_bindings.c). */
  for (size_t i = 0; i < api->components.n; i++) {
    const wgg_component *c = &api->components.items[i];
    if (!c->endpoint && wgg_input_binding_type_supported(c->type))
      json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:[s]}", "name", c->name, "type", c->type, "version",
                                             *c->version ? c->version : "v1", "capabilities", "INPUT_BINDING"));
  }
  /* Pub/sub components report their features (components-contrib pubsub/feature.go). */
  for (size_t i = 0; i < api->n_pubsubs; i++) {
    const wgg_component *c = api->pubsubs[i].comp;
    unsigned f = api->pubsubs[i].ps->features;
    json_t *caps = json_array();
    if (f & WGG_PSFEAT_MESSAGE_TTL) json_array_append_new(caps, json_string("MESSAGE_TTL"));
    if (f & WGG_PSFEAT_SUBSCRIBE_WILDCARDS) json_array_append_new(caps, json_string("SUBSCRIBE_WILDCARDS"));
    if (f & WGG_PSFEAT_BULK_PUBLISH) json_array_append_new(caps, json_string("BULK_PUBLISH"));
    json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:o}", "name", c->name, "type", c->type, "version",
                                           *c->version ? c->version : "v1", "capabilities", caps));
  }
  /* Secret stores report their features (components-contrib secretstores/feature.go). */
  for (size_t i = 0; i < api->n_secretstores; i++) {
    const wgg_component *c = api->secretstores[i].comp;
    json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:o}", "name", c->name, "type", c->type, "version",
                                           *c->version ? c->version : "v1", "capabilities",
                                           wgg_secretstore_capabilities(api->secretstores[i].store)));
  }
  /* Lock and configuration stores have no capabilities (dapr pkg/runtime: none for them). */
  for (size_t i = 0; i < api->n_locks + api->n_configs; i++) {
    const wgg_component *c = i < api->n_locks ? api->locks[i].comp : api->configs[i - api->n_locks].comp;
    json_array_append_new(comps, json_pack("{s:s,s:s,s:s,s:[]}", "name", c->name, "type", c->type, "version",
                                           *c->version ? c->version : "v1", "capabilities"));
  }
  json_t *eps = json_array();
  for (size_t i = 0; i < api->components.n; i++)
    if (api->components.items[i].endpoint)
      json_array_append_new(eps, json_pack("{s:s}", "name", api->components.items[i].name));
  pthread_mutex_lock(&api->ext_mu);
  json_t *ext = json_deep_copy(api->extended);
  pthread_mutex_unlock(&api->ext_mu);
  if (ext) json_object_set_new(ext, "daprRuntimeVersion", json_string(WGG_RUNTIME_VERSION));
  json_t *j = json_pack("{s:s,s:s,s:O,s:[],s:o,s:o,s:o,s:o,s:o}", "id", api->opts->app_id ? api->opts->app_id : "",
                        "runtimeVersion", WGG_RUNTIME_VERSION, "enabledFeatures", api->features, "actors", "components", comps,
                        "httpEndpoints", eps, "subscriptions", wgg_psrt_subscriptions(api->psrt), "extended", ext ? ext : json_object(),
                        "appConnectionProperties", app_connection(api->opts));
  /* daprd always emits actorRuntime and workflows (Go structs, never
   * omitted); without a placement service its actor runtime reports
   * DISABLED and "placement: disconnected" (pkg/actors RuntimeStatus), and
   * no workflow worker is connected ({}). No scheduler: omitted, as daprd
   * does without one. */
  if (j) {
    json_object_set_new(j, "actorRuntime", json_pack("{s:s,s:b,s:s}", "runtimeStatus", "DISABLED", "hostReady", 0,
                                                     "placement", "placement: disconnected"));
    json_object_set_new(j, "workflows", json_object());
    json_t *w = wasm_info(api); /* wasmgate's extensions: the module behind this app ID, the other hosted apps */
    if (w) json_object_set_new(json_object_get(j, "appConnectionProperties"), "wasm", w);
    if (api->hosted && !api->is_hosted) json_object_set_new(j, "wasmApps", hosted_apps(api));
  }
  return j;
}

static void get_metadata(wgg_api *api, wgg_http_req *req) {
  json_t *j = wgg_metadata_doc(api);
  if (j) wgg_api_json(req, 200, j);
  else wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
}

int wgg_metadata_set(wgg_api *api, const char *key, const char *value, size_t len, wgg_api_status *st) {
  json_t *v = json_stringn(value, len);
  if (!v) return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "metadata value must be valid UTF-8 text");
  pthread_mutex_lock(&api->ext_mu);
  int rc = json_object_set_new(api->extended, key, v);
  pthread_mutex_unlock(&api->ext_mu);
  if (rc) return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INTERNAL", "cannot store metadata attribute %s", key);
  return 0;
}

void wgg_api_metadata(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n == 0) {
    if (req->method == HTTP_GET || req->method == HTTP_HEAD) get_metadata(api, req);
    else wgg_api_method_not_allowed(req);
    return;
  }
  if (n != 1 || !*seg[0]) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_PUT) {
    wgg_api_method_not_allowed(req);
    return;
  }
  wgg_api_status st;
  if (wgg_metadata_set(api, seg[0], req->body, req->body_len, &st)) {
    wgg_api_error_status(req, &st);
    return;
  }
  wgg_api_empty(req);
}
