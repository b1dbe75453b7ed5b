/*
 * router.c: builds the API state (stores from components) and routes each
 * request: API token check (dapr pkg/api/http/middlewares.go), then the
 * /v1.0/ building blocks.
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "api/executor.h"
#include "api/input_bindings.h"
#include "util/err.h"
#include "observe/metrics.h"
#include "util/log.h"
#include "wasmhost/app.h"

/* Building blocks whose components this build loads. Other known blocks are
 * skipped with a warning so an existing resources folder still starts. */
static bool block_is(const char *type, const char *block) {
  size_t n = strlen(block);
  return !strncmp(type, block, n) && type[n] == '.';
}

/* A component whose initialisation failed with why: skipped with a warning
 * when it sets spec.ignoreErrors (returns 0), else the start fails (-1 with
 * err naming file, line, component and reason). */
static int init_failed(const wgg_component *c, const char *why, wgg_err *err) {
  if (c->ignore_errors) {
    wgg_warn("component %s (%s:%d): %s; skipped (ignoreErrors)", c->name, c->file, c->line, why);
    return 0;
  }
  return wgg_err_set(err, "%s:%d: component %s (%s/%s): init error: %s", c->file, c->line, c->name, c->type,
                     *c->version ? c->version : "v1", why);
}

static void loaded(const wgg_component *c) {
  wgg_info("component loaded: %s (%s/%s)", c->name, c->type, *c->version ? c->version : "v1");
}

/* A Configuration pipeline's middleware (pipeline/build.c does the work). */
static int build_pipeline(wgg_api *api, const char *what, const wgg_handler_spec *h, size_t n, wgg_pipeline *out,
                          wgg_err *err) {
  if (!n) return 0;
  wgg_pipeline_spec *specs = calloc(n, sizeof *specs);
  if (!specs) return wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < n; i++) specs[i] = (wgg_pipeline_spec){h[i].name, h[i].type};
  int rc = wgg_pipeline_build(out, what, specs, n, &api->components, api->config.wasm_strict_sandbox, err);
  free(specs);
  return rc;
}

wgg_api *wgg_api_new(const wgg_options *opts, wgg_component_list *components, wgg_err *err) {
  wgg_api *api = calloc(1, sizeof *api);
  if (!api) return wgg_err_set(err, "out of memory"), NULL;
  api->opts = opts;
  api->components = *components;
  components->items = NULL;
  components->n = 0;
  pthread_mutex_init(&api->ext_mu, NULL);
  bool oom = false;
  api->app_limit = wgg_app_limit_new(wgg_options_has_app(opts) ? opts->app_max_concurrency : 0, &oom);
  api->extended = json_object();
  if (wgg_configuration_load(opts->config_paths, opts->n_config_paths, &api->config, err)) goto fail;
  if (api->config.file) wgg_info("configuration loaded: %s (%s)", api->config.name, api->config.file);
  if (wgg_api_core_config(api, err)) goto fail;
  api->stores = calloc(api->components.n ? api->components.n : 1, sizeof *api->stores);
  api->bindings = calloc(api->components.n ? api->components.n : 1, sizeof *api->bindings);
  api->pubsubs = calloc(api->components.n ? api->components.n : 1, sizeof *api->pubsubs);
  if (!api->extended || !api->stores || !api->bindings || !api->pubsubs || oom) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < api->components.n; i++) {
    const wgg_component *c = &api->components.items[i];
    if (c->endpoint) {
      wgg_info("HTTPEndpoint loaded: %s (%s)", c->name, c->base_url);
      continue;
    }
    if (block_is(c->type, "bindings") && wgg_input_binding_type_supported(c->type)) continue; /* input_bindings.c */
    if (block_is(c->type, "bindings") && wgg_binding_type_supported(c->type)) {
      wgg_err e;
      wgg_binding *b = wgg_binding_new(c, &e);
      if (!b && init_failed(c, e.msg, err)) goto fail;
      if (b) api->bindings[api->n_bindings++] = (wgg_binding_entry){c, b}, loaded(c);
      continue;
    }
    if (block_is(c->type, "pubsub") && wgg_pubsub_type_supported(c->type)) {
      wgg_err e;
      wgg_pubsub *ps = wgg_pubsub_new(c, opts->app_id, &e);
      if (!ps && init_failed(c, e.msg, err)) goto fail;
      if (ps) api->pubsubs[api->n_pubsubs++] = (wgg_pubsub_entry){c, ps}, loaded(c);
      continue;
    }
    if (block_is(c->type, "middleware")) continue; /* built when a Configuration's pipeline names it */
    if (!block_is(c->type, "state")) {
      if (strcmp(c->type, "secretstores.local.env") && strcmp(c->type, "secretstores.local.file"))
        wgg_warn("component %s (%s, %s:%d): building block not supported yet; skipped", c->name, c->type, c->file,
                 c->line);
      continue;
    }
    wgg_err e;
    wgg_state_store *s = wgg_state_store_new(c, &e);
    if (!s && init_failed(c, e.msg, err)) goto fail;
    if (!s) continue;
    api->stores[api->n_stores].comp = c;
    api->stores[api->n_stores].index = api->n_stores;
    if (s->blocking && !(api->stores[api->n_stores].exec = wgg_exec_new(c->name)))
      wgg_warn("component %s: no thread of its own; its calls use the libuv pool", c->name);
    api->stores[api->n_stores++].store = s;
    loaded(c);
  }
  if (build_pipeline(api, "httpPipeline", api->config.http_pipeline, api->config.n_http_pipeline,
                     &api->http_pipeline, err) ||
      build_pipeline(api, "appHttpPipeline", api->config.app_http_pipeline, api->config.n_app_http_pipeline,
                     &api->app_http_pipeline, err))
    goto fail;
  if (opts->app_wasm && *opts->app_wasm) {
    if (opts->app_port > 0) {
      wgg_err_set(err, "--app-wasm and --app-port exclude each other: the app is either a module or a process");
      goto fail;
    }
    wgg_wasm_app_settings ws = {.app_id = opts->app_id,
                                .deadline_ms = 10000,
                                .api_token = opts->api_token,
                                .http_port = opts->http_port,
                                .route = wgg_api_route,
                                .route_ctx = api,
                                .pooled = opts->app_wasm_pooled};
    if (!(api->wasm_app = wgg_wasm_app_load(opts->app_wasm, &ws, err))) goto fail;
    wgg_info("wasm app loaded: %s (%s ABI) as app %s", wgg_wasm_app_name(api->wasm_app),
             wgg_wasm_app_abi_name(api->wasm_app), opts->app_id ? opts->app_id : "");
  }
  return api;
fail:
  wgg_api_free(api);
  return NULL;
}

void wgg_api_free(wgg_api *api) {
  if (!api) return;
  wgg_psrt_stop(api->psrt, api->opts->graceful_shutdown_ms);
  wgg_wasm_app_free(api->wasm_app); /* the loops have ended: no call is in flight */
  for (size_t i = 0; i < api->n_pubsubs; i++) api->pubsubs[i].ps->ops->destroy(api->pubsubs[i].ps);
  free(api->pubsubs);
  wgg_psrt_free(api->psrt);
  for (size_t i = 0; i < api->n_stores; i++) {
    wgg_exec_free(api->stores[i].exec); /* no call is in flight any more: the loops have ended */
    api->stores[i].store->ops->destroy(api->stores[i].store);
  }
  free(api->stores);
  for (size_t i = 0; i < api->n_bindings; i++) api->bindings[i].binding->ops->destroy(api->bindings[i].binding);
  free(api->bindings);
  wgg_pipeline_free(&api->http_pipeline);
  wgg_pipeline_free(&api->app_http_pipeline);
  wgg_component_list_free(&api->components);
  json_decref(api->extended);
  wgg_app_limit_free(api->app_limit);
  wgg_configuration_free(&api->config);
  json_decref(api->features);
  pthread_mutex_destroy(&api->ext_mu);
  free(api);
}

bool wgg_app_healthy(const wgg_api *api) {
  if (!__atomic_load_n(&api->app_ready, __ATOMIC_ACQUIRE)) return false;
  return !api->opts->enable_app_health_check || __atomic_load_n(&api->app_health_ok, __ATOMIC_ACQUIRE);
}

/* Splits path (after the leading '/') into percent-decoded segments.
 * Returns the count, or -1 on a malformed escape/OOM. */
static int split(const char *path, char **seg, int max) {
  int n = 0;
  const char *p = path;
  if (*p == '/') p++;
  while (*p && n < max) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (!(seg[n] = wgg_url_decode(p, len, false))) {
      while (n) free(seg[--n]);
      return -1;
    }
    n++;
    if (!slash) break;
    p = slash + 1;
    if (!*p) { /* trailing slash: an empty last segment */
      if (n < max && (seg[n] = strdup(""))) n++;
      break;
    }
  }
  return n;
}

/* /v1.0/invoke/{appId}/method/{method...}, where appId is an app ID, an
 * HTTPEndpoint name, or a URL, escaped (http%3A%2F%2Fhost%3A80) or raw
 * (http://host:80). The method is the raw rest of the path. */
static void invoke_route(wgg_api *api, wgg_http_req *req) {
  static const char prefix[] = "/v1.0/invoke/";
  const char *rest = strncmp(req->path, prefix, sizeof prefix - 1) ? "" : req->path + sizeof prefix - 1;
  const char *m;
  if (!strncmp(rest, "http://", 7) || !strncmp(rest, "https://", 8)) m = strstr(rest + 7, "/method/");
  else if ((m = strchr(rest, '/')) && strncmp(m, "/method/", 8) && strcmp(m, "/method")) m = NULL;
  if (!m) {
    static const char nf[] = "404 page not found\n";
    wgg_http_respond(req, 404, "text/plain; charset=utf-8", NULL, 0, nf, sizeof nf - 1);
    return;
  }
  char *id = wgg_url_decode(rest, (size_t)(m - rest), false);
  if (!id) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "malformed percent-encoding in the request path");
    return;
  }
  wgg_api_invoke(api, req, id, m[7] ? m + 8 : "");
  free(id);
}

/* Decodes standard base64 (with or without padding) into out (size cap,
 * NUL-terminated). Returns the length, or -1 when malformed or too long. */
static int b64_decode(const char *s, char *out, size_t cap) {
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  for (; *s && *s != '='; s++) {
    const char *p = strchr(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", *s);
    if (!p) return -1;
    acc = (acc << 6) | (unsigned)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n + 1 >= cap) return -1;
      out[n++] = (char)((acc >> bits) & 0xff);
    }
  }
  out[n] = '\0';
  return (int)n;
}

/* The basic-auth form of service invocation (dapr pkg/api/http/directmessaging.go
 * findTargetIDAndMethod): "Authorization: Basic base64(dapr-app-id:<id>)".
 * Copies the app ID into id (size cap) and returns true when the header has
 * that form. */
static bool basic_auth_app_id(const wgg_http_req *req, char *id, size_t cap) {
  const char *auth = wgg_http_req_header(req, "authorization");
  char dec[512];
  if (!auth || strncmp(auth, "Basic ", 6) || b64_decode(auth + 6, dec, sizeof dec) < 0) return false;
  char *colon = strchr(dec, ':');
  if (!colon || strchr(colon + 1, ':') || (size_t)(colon - dec) != 11 || strncasecmp(dec, "dapr-app-id", 11) ||
      !colon[1] || strlen(colon + 1) >= cap)
    return false;
  strcpy(id, colon + 1);
  return true;
}

/* Constant-time comparison of two NUL-terminated strings. */
static bool token_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = la != lb;
  for (size_t i = 0; i < la; i++) d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
  return d == 0;
}

static void route(wgg_http_req *req, void *user);

void wgg_api_route(wgg_http_req *req, void *user) { route(req, user); }

static void route(wgg_http_req *req, void *user) {
  wgg_api *api = user;
  char *seg[16] = {0};
  int n = split(req->path, seg, 16);
  if (n < 0) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "malformed percent-encoding in the request path");
    return;
  }
  bool health = n >= 2 && !strcmp(seg[0], "v1.0") && !strcmp(seg[1], "healthz") &&
                (req->method == HTTP_GET || req->method == HTTP_HEAD);
  const char *tok = api->opts->api_token;
  if (tok && *tok && !health) {
    const char *got = wgg_http_req_header(req, "dapr-api-token");
    if (!got || !token_equal(got, tok)) {
      static const char msg[] = "invalid api token";
      wgg_http_respond(req, 401, "text/plain; charset=utf-8", NULL, 0, msg, sizeof msg - 1);
      goto out;
    }
  }
  if (n >= 2 && !strcmp(seg[0], "v1.0")) {
    if (!strcmp(seg[1], "healthz")) {
      req->tag = WGG_R_HEALTHZ;
      wgg_api_healthz(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "metadata")) {
      req->tag = WGG_R_METADATA;
      wgg_api_metadata(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "state")) {
      wgg_api_state(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "bindings")) {
      req->tag = WGG_R_BINDINGS;
      wgg_api_bindings(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "publish")) {
      wgg_api_publish(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "invoke")) {
      req->tag = WGG_R_INVOKE;
      invoke_route(api, req);
      goto out;
    }
  }
  if (n >= 3 && !strcmp(seg[0], "v1.0-alpha1") && !strcmp(seg[1], "publish") && !strcmp(seg[2], "bulk")) {
    wgg_api_publish_bulk(api, req, seg + 3, (size_t)n - 3);
    goto out;
  }
  const char *target = wgg_http_req_header(req, "dapr-app-id");
  char basic_id[256];
  if (!target && basic_auth_app_id(req, basic_id, sizeof basic_id)) target = basic_id;
  if (target && strncmp(req->path, "/v1.0/", 6)) {
    req->tag = WGG_R_INVOKE;
    wgg_api_invoke(api, req, target, req->path[0] == '/' ? req->path + 1 : req->path);
    goto out;
  }
  static const char nf[] = "404 page not found\n";
  wgg_http_respond(req, 404, "text/plain; charset=utf-8", NULL, 0, nf, sizeof nf - 1);
out:
  for (int i = 0; i < n; i++) free(seg[i]);
}

void wgg_api_handle(wgg_http_req *req, void *user) {
  wgg_api *api = user;
  if (api->http_pipeline.n) wgg_pipeline_serve(&api->http_pipeline, req, route, api);
  else route(req, user);
}

void wgg_api_observe(int tag, int method, int status, uint64_t ns, void *user) {
  wgg_api *api = user;
  wgg_metrics_http(tag, method, status, ns);
  /* --enable-api-logging: one line per call, as daprd's "HTTP API Called" */
  if (api && api->opts->enable_api_logging)
    wgg_info("HTTP API Called: method=%s route=%s code=%d duration=%.3fms",
             http_method_str((enum http_method)method), wgg_metrics_route_name(tag), status, (double)ns / 1e6);
}
