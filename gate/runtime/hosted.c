/*
 * hosted.c: see hosted.h. Each hosted app is a wgg_api built from a copy of the sidecar's options
 * with the app's ID, module and limits; everything else (ports, Configuration, resources paths)
 * is the sidecar's.
 */
#include "runtime/hosted.h"

#include <stdlib.h>
#include <string.h>

#include "api/appchannel.h"
#include "api/input_bindings.h"
#include "api/mesh.h"
#include "config/resource.h"
#include "runtime/apphealth.h"
#include "util/err.h"
#include "util/log.h"
#include "wasmhost/app.h"

typedef struct hosted_app {
  wgg_options o; /* the sidecar's options with this app's ID, module and limits */
  char *id, *url;
  char *config;      /* spec.config: a Configuration file path or resource name, or NULL (owned) */
  char *config_store; /* spec.configStore: the configuration store wasi:config reads, or NULL (owned) */
  char *outbound;    /* spec.allowedOutboundHosts joined by commas, or NULL (owned) */
  bool config_is_path;     /* config is a file path (else a Configuration resource's name) */
  const char *config_path; /* config when it is a path: a->o.config_paths points here */
  wgg_api *api;
  wgg_inputs *inputs;
  wgg_apphealth *health;
  bool watched;
} hosted_app;

struct wgg_hosted {
  wgg_api *primary;
  hosted_app *apps;
  size_t n, cap;
  wgg_hosted_apps table; /* the sidecar's api, then each hosted app's */
};

/* A new slot for app id (copied) with module url (copied), its options copied from o. */
static hosted_app *add_app(wgg_hosted *h, const wgg_options *o, const char *id, size_t id_len, const char *url,
                           wgg_err *err) {
  char *idc = strndup(id, id_len);
  if (!idc) return wgg_err_set(err, "out of memory"), NULL;
  if (!*idc || (o->app_id && !strcmp(idc, o->app_id))) {
    wgg_err_set(err, "app ID '%s' cannot be hosted: it is %s", idc, *idc ? "the sidecar's own --app-id" : "empty");
    free(idc);
    return NULL;
  }
  for (size_t i = 0; i < h->n; i++)
    if (!strcmp(h->apps[i].id, idc)) {
      wgg_err_set(err, "app ID %s is hosted twice", idc);
      free(idc);
      return NULL;
    }
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 4;
    hosted_app *a = realloc(h->apps, cap * sizeof *a);
    if (!a) {
      free(idc);
      return wgg_err_set(err, "out of memory"), NULL;
    }
    h->apps = a;
    h->cap = cap;
  }
  hosted_app *a = &h->apps[h->n];
  memset(a, 0, sizeof *a);
  a->id = idc;
  if (!(a->url = strdup(url))) {
    free(idc);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  h->n++;
  a->o = *o;
  a->o.app_id = a->id;
  a->o.app_wasm = a->url;
  a->o.app_port = 0;
  a->o.app_wasm_hosted = NULL;
  a->o.n_app_wasm_hosted = 0;
  return a;
}

/* A WasmApp resource's spec field key as text (NULL when absent); errors name file:line. */
static int spec_text(const wgg_resource *r, const char *key, const char **out, char *tmp, size_t tmp_size,
                     wgg_err *err) {
  json_t *v = json_object_get(json_object_get(r->doc, "spec"), key);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  char ptr[64];
  snprintf(ptr, sizeof ptr, "/spec/%s", key);
  if (!(*out = wgg_json_scalar(v, tmp, tmp_size)))
    return wgg_err_set(err, "%s:%d: WasmApp %s: spec.%s must be a scalar", r->file, wgg_resource_line(r, ptr), r->name,
                       key);
  return 0;
}

/* Applies a WasmApp's spec (url aside) to a's options. */
static int apply_spec(hosted_app *a, const wgg_resource *r, wgg_err *err) {
  char tmp[64];
  const char *v;
  wgg_err e;
  int line = r->line;
#define FIELD_ERR(k, why) wgg_err_set(err, "%s:%d: WasmApp %s: spec.%s: %s", r->file, line, r->name, k, why)
  if (spec_text(r, "instances", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/instances");
  if (v && strcmp(v, "fresh") && strcmp(v, "pooled")) return FIELD_ERR("instances", "expected fresh or pooled");
  if (v) a->o.app_wasm_pooled = !strcmp(v, "pooled");
  if (spec_text(r, "maxInvocations", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/maxInvocations");
  if (v) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000000000) return FIELD_ERR("maxInvocations", "expected an integer from 1");
    a->o.app_wasm_max_invocations = (uint32_t)n;
  }
  if (spec_text(r, "maxConcurrency", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/maxConcurrency");
  if (v) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < -1 || n > (1 << 30)) return FIELD_ERR("maxConcurrency", "expected an integer (-1: unlimited)");
    a->o.app_max_concurrency = (int)n;
  }
  if (spec_text(r, "maxMemory", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/maxMemory");
  if (v) {
    size_t bytes;
    if (wgg_parse_quantity(v, &bytes, &e)) return FIELD_ERR("maxMemory", e.msg);
    if (bytes < 65536 || bytes > ((size_t)65536 << 16)) return FIELD_ERR("maxMemory", "expected 64Ki to 4Gi");
    a->o.app_wasm_max_memory_pages = (uint32_t)(bytes / 65536);
  }
  if (spec_text(r, "timeout", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/timeout");
  if (v) {
    uint64_t ms;
    if (wgg_parse_duration_ms(v, &ms, &e)) return FIELD_ERR("timeout", e.msg);
    if (!ms) return FIELD_ERR("timeout", "must be at least 1ms");
    a->o.app_wasm_timeout_ms = ms;
  }
  if (spec_text(r, "configStore", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/configStore");
  if (v) {
    if (!*v) return FIELD_ERR("configStore", "must not be empty");
    free(a->config_store);
    if (!(a->config_store = strdup(v))) return wgg_err_set(err, "out of memory");
    a->o.app_wasm_config_store = a->config_store;
  }
  if (spec_text(r, "config", &v, tmp, sizeof tmp, err)) return -1;
  line = wgg_resource_line(r, "/spec/config");
  if (v) {
    if (!*v) return FIELD_ERR("config", "must not be empty");
    if (!(a->config = strdup(v))) return wgg_err_set(err, "out of memory");
    /* As daprd's --config: a file path in self-hosted mode, the name of a Configuration resource in
     * Kubernetes mode (dapr.io/config). A value with a '/' or a .yaml/.yml suffix is a path. */
    size_t len = strlen(v);
    a->config_is_path = strchr(v, '/') || (len > 5 && !strcmp(v + len - 5, ".yaml")) ||
                        (len > 4 && !strcmp(v + len - 4, ".yml"));
  }
  /* allowedOutboundHosts: a list of SCHEME://HOST[:PORT] (Spin's allowed_outbound_hosts) */
  json_t *hosts = json_object_get(json_object_get(r->doc, "spec"), "allowedOutboundHosts");
  line = wgg_resource_line(r, "/spec/allowedOutboundHosts");
  if (hosts && !json_is_null(hosts)) {
    if (!json_is_array(hosts)) return FIELD_ERR("allowedOutboundHosts", "expected a list of SCHEME://HOST[:PORT]");
    wgg_buf b = {0};
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
      const char *s = json_string_value(h);
      if (!s || !strstr(s, "://") || strchr(s, ',') || strchr(s, ' ')) {
        wgg_buf_free(&b);
        return FIELD_ERR("allowedOutboundHosts", "expected a list of SCHEME://HOST[:PORT]");
      }
      if ((i && wgg_buf_append(&b, ",", 1)) || wgg_buf_append(&b, s, strlen(s))) {
        wgg_buf_free(&b);
        return wgg_err_set(err, "out of memory");
      }
    }
    if (b.data && !(a->outbound = strndup(b.data, b.len))) {
      wgg_buf_free(&b);
      return wgg_err_set(err, "out of memory");
    }
    wgg_buf_free(&b);
    a->o.app_wasm_allowed_outbound_hosts = a->outbound;
  }
#undef FIELD_ERR
  return 0;
}

/* Whether a resource's top-level scopes admit app_id (NULL: the sidecar has no --app-id), as for a
 * Component: no or an empty list admits every ID. */
static bool in_scope(const wgg_resource *r, const char *app_id) {
  json_t *scopes = json_object_get(r->doc, "scopes"), *s;
  size_t i;
  if (!json_is_array(scopes) || !json_array_size(scopes)) return true;
  json_array_foreach(scopes, i, s) if (app_id && json_is_string(s) && !strcmp(json_string_value(s), app_id)) return true;
  return false;
}

/* The WasmApp resources of the --resources-path folders (those whose scopes admit --app-id). */
static int load_resources(wgg_hosted *h, const wgg_options *o, wgg_err *err) {
  if (!o->n_resources_paths) return 0;
  wgg_resource_list docs = {0};
  if (wgg_resources_load(o->resources_paths, o->n_resources_paths, "WasmApp", NULL, &docs, err)) return -1;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < docs.n; i++) {
    const wgg_resource *r = &docs.items[i];
    char tmp[64];
    const char *url;
    if (!in_scope(r, o->app_id)) {
      wgg_info("WasmApp %s (%s:%d) is not hosted: its scopes do not include app ID %s", r->name, r->file, r->line,
               o->app_id ? o->app_id : "(none)");
      continue;
    }
    if (strcmp(r->api_version, "wasmgate.io/v1alpha1"))
      rc = wgg_err_set(err, "%s:%d: WasmApp %s: apiVersion must be wasmgate.io/v1alpha1", r->file, r->line, r->name);
    else if (!*r->name)
      rc = wgg_err_set(err, "%s:%d: WasmApp: metadata.name (the app ID) is required", r->file, r->line);
    else if (spec_text(r, "url", &url, tmp, sizeof tmp, err))
      rc = -1;
    else if (!url || !*url)
      rc = wgg_err_set(err, "%s:%d: WasmApp %s: spec.url is required", r->file, r->line, r->name);
    else {
      wgg_err e;
      hosted_app *a = add_app(h, o, r->name, strlen(r->name), url, &e);
      if (!a) rc = wgg_err_set(err, "%s:%d: WasmApp %s: %s", r->file, r->line, r->name, e.msg);
      else rc = apply_spec(a, r, err);
    }
  }
  wgg_resource_list_free(&docs);
  return rc;
}

/* Loads app a's components (scoped to its ID), builds its api and registers its ID. */
static int build_app(hosted_app *a, wgg_default_components_fn defaults, wgg_err *err) {
  wgg_component_list comps = {0};
  wgg_err e;
  if (a->config) { /* set here: the apps array no longer moves */
    a->config_path = a->config;
    a->o.config_paths = a->config_is_path ? &a->config_path : NULL;
    a->o.n_config_paths = a->config_is_path ? 1 : 0;
    a->o.config_name = a->config_is_path ? NULL : a->config;
  }
  if (a->o.n_resources_paths) {
    if (wgg_components_load(a->o.resources_paths, a->o.n_resources_paths, a->id, &comps, &e))
      return wgg_err_set(err, "wasm app %s: %s", a->id, e.msg);
  } else if (defaults(&a->o, &comps, &e)) {
    return wgg_err_set(err, "wasm app %s: %s", a->id, e.msg);
  }
  a->api = wgg_api_new(&a->o, &comps, &e);
  wgg_component_list_free(&comps);
  if (!a->api) return wgg_err_set(err, "wasm app %s: %s", a->id, e.msg);
  a->api->is_hosted = true;
  if (wgg_mesh_init(a->api, &e)) return wgg_err_set(err, "wasm app %s: %s", a->id, e.msg);
  wgg_info("hosting wasm app %s: %s (%s ABI, %s instances%s%s)", a->id, a->url,
           wgg_wasm_app_abi_name(a->api->wasm_app), a->o.app_wasm_pooled ? "pooled" : "fresh",
           a->config ? ", configuration " : "", a->config ? a->config : "");
  return 0;
}

int wgg_hosted_new(wgg_api *primary, const wgg_options *o, wgg_default_components_fn defaults, wgg_hosted **out,
                   wgg_err *err) {
  *out = NULL;
  wgg_hosted *h = calloc(1, sizeof *h);
  if (!h) return wgg_err_set(err, "out of memory");
  h->primary = primary;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < o->n_app_wasm_hosted; i++) {
    const char *v = o->app_wasm_hosted[i], *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1]) rc = wgg_err_set(err, "--app-wasm %s: expected ID=URL", v);
    else if (!add_app(h, o, v, (size_t)(eq - v), eq + 1, err)) rc = -1;
  }
  if (rc == 0) rc = load_resources(h, o, err);
  if (rc == 0 && h->n && !(h->table.apis = calloc(h->n + 1, sizeof *h->table.apis))) rc = wgg_err_set(err, "out of memory");
  for (size_t i = 0; rc == 0 && i < h->n; i++) rc = build_app(&h->apps[i], defaults, err);
  if (rc || !h->n) {
    wgg_hosted_free(h);
    return rc;
  }
  h->table.apis[h->table.n++] = primary;
  for (size_t i = 0; i < h->n; i++) h->table.apis[h->table.n++] = h->apps[i].api;
  for (size_t i = 0; i < h->table.n; i++) h->table.apis[i]->hosted = &h->table;
  *out = h;
  return 0;
}

void wgg_hosted_thread_init(wgg_hosted *h, uv_loop_t *loop) {
  for (size_t i = 0; h && i < h->n; i++)
    if (wgg_app_limit_thread_init(h->apps[i].api->app_limit, loop))
      wgg_warn("out of memory: calls to app %s from this thread are not held to its maxConcurrency", h->apps[i].id);
}

void wgg_hosted_thread_close(wgg_hosted *h) {
  for (size_t i = 0; h && i < h->n; i++) wgg_app_limit_thread_close(h->apps[i].api->app_limit);
}

int wgg_hosted_start(wgg_hosted *h, uv_loop_t *loop, wgg_err *err) {
  for (size_t i = 0; h && i < h->n; i++) {
    hosted_app *a = &h->apps[i];
    wgg_err e;
    __atomic_store_n(&a->api->app_ready, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&a->api->ready, 1, __ATOMIC_RELEASE);
    if (wgg_api_start_pubsub(a->api, &e)) return wgg_err_set(err, "wasm app %s: %s", a->id, e.msg);
    if (!(a->inputs = wgg_inputs_start(loop, a->api, &e))) return wgg_err_set(err, "wasm app %s: %s", a->id, e.msg);
    if (a->o.enable_app_health_check) a->health = wgg_apphealth_start(loop, a->api);
    a->watched = !wgg_wasm_app_watch(a->api->wasm_app, loop, 500);
  }
  return 0;
}

void wgg_hosted_register(wgg_hosted *h) {
  for (size_t i = 0; h && i < h->n; i++) wgg_mesh_register(h->apps[i].api);
}

void wgg_hosted_stop(wgg_hosted *h) {
  for (size_t i = 0; h && i < h->n; i++) {
    hosted_app *a = &h->apps[i];
    wgg_inputs_stop(a->inputs);
    a->inputs = NULL;
    wgg_apphealth_stop(a->health);
    a->health = NULL;
    if (a->watched) wgg_wasm_app_unwatch(a->api->wasm_app);
    a->watched = false;
  }
}

void wgg_hosted_reload(wgg_hosted *h) {
  for (size_t i = 0; h && i < h->n; i++) {
    wgg_err e;
    if (wgg_wasm_app_reload(h->apps[i].api->wasm_app, &e))
      wgg_error("wasm app %s not reloaded (the old one keeps serving): %s", h->apps[i].id, e.msg);
    else wgg_info("wasm app %s reloaded", h->apps[i].id);
  }
}

void wgg_hosted_renew(wgg_hosted *h) {
  for (size_t i = 0; h && i < h->n; i++) wgg_mesh_renew(h->apps[i].api);
}

void wgg_hosted_free(wgg_hosted *h) {
  if (!h) return;
  if (h->primary && h->primary->hosted == &h->table) h->primary->hosted = NULL;
  for (size_t i = 0; i < h->n; i++) {
    if (h->apps[i].api) {
      wgg_mesh_free(h->apps[i].api);
      wgg_api_free(h->apps[i].api);
    }
    free(h->apps[i].id);
    free(h->apps[i].url);
    free(h->apps[i].config);
    free(h->apps[i].config_store);
    free(h->apps[i].outbound);
  }
  free(h->apps);
  free(h->table.apis);
  free(h);
}
