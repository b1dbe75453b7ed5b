/*
 * router.c: builds the API state (stores from components) and routes each
 * request: API token check (dapr pkg/api/http/middlewares.go), then the
 * httpPipeline, then the
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
#include "api/invoke_path.h"
#include "api/invoke_pipe.h"
#include "components/secretstores/secretstore.h"
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
  bool oom = !(api->metrics = wgg_metrics_new(opts->app_id));
  api->app_limit = wgg_app_limit_new(wgg_options_has_app(opts) ? opts->app_max_concurrency : 0, &oom);
  api->extended = json_object();
  if (opts->config_name ? wgg_configuration_load_named(opts->resources_paths, opts->n_resources_paths,
                                                       opts->config_name, &api->config, err)
                        : wgg_configuration_load(opts->config_paths, opts->n_config_paths, &api->config, err))
    goto fail;
  if (api->config.file) wgg_info("configuration loaded: %s (%s)", api->config.name, api->config.file);
  if (wgg_api_core_config(api, err)) goto fail;
  api->stores = calloc(api->components.n ? api->components.n : 1, sizeof *api->stores);
  api->bindings = calloc(api->components.n ? api->components.n : 1, sizeof *api->bindings);
  api->pubsubs = calloc(api->components.n ? api->components.n : 1, sizeof *api->pubsubs);
  api->secretstores = calloc(api->components.n ? api->components.n : 1, sizeof *api->secretstores);
  if (!api->extended || !api->stores || !api->bindings || !api->pubsubs || !api->secretstores || oom) {
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
      wgg_binding *b = wgg_binding_new(c, &(wgg_binding_opts){.wasm_strict_sandbox = api->config.wasm_strict_sandbox}, &e);
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
    if (block_is(c->type, "lock")) continue;       /* api/lock.c: wgg_api_locks_init */
    if (block_is(c->type, "configuration")) continue; /* api/configuration.c: wgg_api_configs_init */
    if (block_is(c->type, "secretstores") && wgg_secretstore_type_supported(c->type)) {
      wgg_err e;
      wgg_secretstore *ss = wgg_secretstore_new(c, &e);
      if (!ss && init_failed(c, e.msg, err)) goto fail;
      if (ss) api->secretstores[api->n_secretstores++] = (wgg_secretstore_entry){c, ss}, loaded(c);
      continue;
    }
    if (!block_is(c->type, "state")) {
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
    api->stores[api->n_stores].metrics = api->metrics;
    if (wgg_metrics_set_store(api->metrics, api->n_stores, c->name) && api->n_stores < WGG_METRICS_MAX_STORES) {
      wgg_err_set(err, "out of memory");
      s->ops->destroy(s);
      goto fail;
    }
    if (s->blocking && !(api->stores[api->n_stores].exec = wgg_exec_new(c->name)))
      wgg_warn("component %s: no thread of its own; its calls use the libuv pool", c->name);
    api->stores[api->n_stores++].store = s;
    loaded(c);
  }
  if (wgg_api_locks_init(api, err) || wgg_api_configs_init(api, err)) goto fail;
  if (wgg_api_jobs_init(api, err)) goto fail;
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
                                .deadline_ms = opts->app_wasm_timeout_ms ? opts->app_wasm_timeout_ms : 10000,
                                .max_memory_pages = opts->app_wasm_max_memory_pages,
                                .max_invocations = opts->app_wasm_max_invocations,
                                .api_token = opts->api_token,
                                .http_port = opts->http_port,
                                .route = wgg_api_route,
                                .route_ctx = api,
                                .api = api,
                                .config_store = opts->app_wasm_config_store,
                                .observe = wgg_api_observe,
                                .metrics = api->metrics,
                                .pooled = opts->app_wasm_pooled,
                                .allowed_outbound_hosts = opts->app_wasm_allowed_outbound_hosts};
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
  for (size_t i = 0; i < api->n_secretstores; i++) wgg_secretstore_free(api->secretstores[i].store);
  free(api->secretstores);
  wgg_api_locks_free(api);
  wgg_api_configs_free(api);
  wgg_api_jobs_free(api);
  wgg_pipeline_free(&api->http_pipeline);
  wgg_pipeline_free(&api->app_http_pipeline);
  wgg_component_list_free(&api->components);
  json_decref(api->extended);
  wgg_app_limit_free(api->app_limit);
  wgg_configuration_free(&api->config);
  json_decref(api->features);
  pthread_mutex_destroy(&api->ext_mu);
  wgg_metrics_free(api->metrics);
  free(api);
}

bool wgg_app_healthy(const wgg_api *api) {
  if (!__atomic_load_n(&api->app_ready, __ATOMIC_ACQUIRE)) return false;
  return !api->opts->enable_app_health_check || __atomic_load_n(&api->app_health_ok, __ATOMIC_ACQUIRE);
}

/* Splits path (after the leading '/') into percent-decoded segments, all in
 * one buffer: stack (stack_cap bytes) when they fit, else a new block
 * (*block, the caller frees it; NULL when the stack took them). Returns the
 * count, or -1 on a malformed escape/OOM. *nul is set
 * when a segment decodes to a NUL byte (%00): such a segment cannot be a key
 * or a name of the C-string routes, see nul_rejected. */
static int split(const char *path, char **seg, int max, bool *nul, char *stack, size_t stack_cap, char **block) {
  int n = 0;
  const char *p = path;
  *nul = false;
  if (*p == '/') p++;
  /* decoded segments are no longer than their text; the '/' between two
   * becomes the first one's NUL, a trailing slash's empty segment needs one more */
  size_t need = strlen(p) + 2;
  char *out = need <= stack_cap ? stack : (*block = malloc(need));
  if (!out) return -1;
  while (*p && n < max) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    long dl = wgg_pct_decode_into(p, len, false, out);
    if (dl < 0) {
      free(*block);
      *block = NULL;
      return -1;
    }
    if (strlen(out) != (size_t)dl) *nul = true;
    seg[n++] = out;
    out += dl + 1;
    if (!slash) break;
    p = slash + 1;
    if (!*p) { /* trailing slash: an empty last segment */
      if (n < max) *out = '\0', seg[n++] = out;
      break;
    }
  }
  return n;
}

/* Keys, store, topic and binding names are C strings in the state, publish,
 * bindings and metadata routes: a NUL decoded from %00 would cut them
 * ("secret%00junk" would name "secret"), so such a request is refused whole
 * (400 ERR_MALFORMED_REQUEST) instead. Answers req and returns true then. */
static bool nul_rejected(wgg_http_req *req, bool nul) {
  if (!nul) return false;
  wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST",
                "the request path holds a NUL byte (%%00); keys and names cannot contain NUL");
  return true;
}

/* Service invocation, daprd's onDirectMessage: the /v1.0/invoke/ route and
 * the fallback for every path no other route takes (a dapr-app-id header or
 * basic-auth target; api/invoke_path.h). The target is found on the decoded
 * path; wgg_api_invoke_n normalises the method. */
static void invoke_route(wgg_api *api, wgg_http_req *req) {
  char *id = NULL, *method = NULL, room[512]; /* the ID and method: on the stack unless long */
  size_t il = 0, ml = 0;
  int rc = wgg_invoke_find_target_in(req, room, sizeof room, &id, &il, &method, &ml);
  if (rc == -1) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "malformed percent-encoding in the request path");
  } else if (rc == -2) {
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "out of memory");
  } else if (rc == 0 || !il) { /* messages.ErrDirectInvokeNoAppID (also an empty basic-auth password) */
    wgg_api_error(req, 404, "ERR_DIRECT_INVOKE",
                  "failed getting app id either from the URL path or the header dapr-app-id");
  } else if (strlen(id) != il) { /* an ID is a byte string: never cut at a NUL */
    char q[300];
    wgg_go_quote(id, il, q, sizeof q);
    wgg_api_error(req, 500, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: couldn't find service: %s", q, q);
  } else {
    req->tag = WGG_R_INVOKE;
    wgg_api_invoke_n(api, req, id, method, ml);
  }
  if (id != room) free(id); /* method points into the same block */
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
  if (api->opts->serve_app && !req->respond_hook) { /* wasmgate serve: the app answers every path */
    wgg_api_serve_app(api, req);
    return;
  }
  char *seg[16] = {0}, *block = NULL, stack[512];
  bool nul;
  int n = split(req->path, seg, 16, &nul, stack, sizeof stack, &block);
  if (n < 0) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "malformed percent-encoding in the request path");
    return;
  }
  if (n >= 2 && !strcmp(seg[0], "v1.0")) {
    if (!strcmp(seg[1], "healthz")) {
      if (nul_rejected(req, nul)) goto out;
      req->tag = WGG_R_HEALTHZ;
      wgg_api_healthz(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "metadata")) {
      if (nul_rejected(req, nul)) goto out;
      req->tag = WGG_R_METADATA;
      wgg_api_metadata(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "state")) {
      if (nul_rejected(req, nul)) goto out;
      wgg_api_state(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "bindings")) {
      if (nul_rejected(req, nul)) goto out;
      req->tag = WGG_R_BINDINGS;
      wgg_api_bindings(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "publish")) {
      if (nul_rejected(req, nul)) goto out;
      wgg_api_publish(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "secrets") && n == 4) {
      if (nul_rejected(req, nul)) goto out;
      wgg_api_secrets(api, req, seg + 2, 2);
      goto out;
    }
    if (!strcmp(seg[1], "shutdown")) {
      wgg_api_shutdown(api, req, seg + 2, (size_t)n - 2);
      goto out;
    }
    if (!strcmp(seg[1], "invoke")) {
      req->tag = WGG_R_INVOKE;
      invoke_route(api, req);
      goto out;
    }
  }
  if (n >= 3 && !strcmp(seg[0], "v1.0-alpha1") && !strcmp(seg[1], "publish") && !strcmp(seg[2], "bulk")) {
    if (nul_rejected(req, nul)) goto out;
    wgg_api_publish_bulk(api, req, seg + 3, (size_t)n - 3);
    goto out;
  }
  if (n >= 2 && (!strcmp(seg[0], "v1.0") || !strcmp(seg[0], "v1.0-alpha1")) && !strcmp(seg[1], "configuration")) {
    if (nul_rejected(req, nul)) goto out;
    wgg_api_configuration(api, req, seg + 2, (size_t)n - 2);
    goto out;
  }
  if (n >= 2 && !strcmp(seg[0], "v1.0-alpha1") && !strcmp(seg[1], "jobs")) {
    if (nul_rejected(req, nul)) goto out;
    wgg_api_jobs(api, req, seg + 2, (size_t)n - 2);
    goto out;
  }
  if (n >= 3 && !strcmp(seg[0], "v1.0-alpha1") && !strcmp(seg[1], "state")) {
    if (nul_rejected(req, nul)) goto out;
    wgg_api_state_query(api, req, seg + 2, (size_t)n - 2);
    goto out;
  }
  if (n >= 2 && !strcmp(seg[0], "v1.0-alpha1") && (!strcmp(seg[1], "lock") || !strcmp(seg[1], "unlock"))) {
    if (nul_rejected(req, nul)) goto out;
    wgg_api_lock(api, req, seg[1][0] == 'u', seg + 2, (size_t)n - 2);
    goto out;
  }
  invoke_route(api, req); /* daprd's fallback: invocation (dapr-app-id header, basic auth) or 404 */
out:
  free(block);
}

/* daprd's exemptions from the API token (pkg/api/http isRouteExcludedFromAPITokenAuth):
 * GET of v1.0/healthz and v1.0/healthz/outbound, the path trimmed of slashes. */
static bool token_exempt(const wgg_http_req *req) {
  if (req->method != HTTP_GET) return false;
  const char *p = req->path;
  while (*p == '/') p++;
  size_t n = strlen(p);
  while (n && p[n - 1] == '/') n--;
  static const char h[] = "v1.0/healthz", o[] = "v1.0/healthz/outbound";
  return (n == sizeof h - 1 && !strncmp(p, h, n)) || (n == sizeof o - 1 && !strncmp(p, o, n));
}

/* Authentication comes first, before the httpPipeline (daprd registers
 * APITokenAuthMiddleware ahead of the components' middleware): a guest never
 * answers an unauthenticated caller. The token is then removed from the
 * request, so neither pipeline guests nor the app ever see it (daprd deletes
 * the header after checking it). */
static bool authenticate(wgg_api *api, wgg_http_req *req) {
  const char *tok = api->opts->api_token;
  if (!tok || !*tok) return true;
  const char *got = wgg_http_req_header(req, "dapr-api-token");
  if ((!got || !token_equal(got, tok)) && !token_exempt(req)) {
    static const char msg[] = "invalid api token";
    wgg_http_respond(req, 401, "text/plain; charset=utf-8", NULL, 0, msg, sizeof msg - 1);
    return false;
  }
  size_t kept = 0;
  for (size_t i = 0; i < req->n_headers; i++)
    if (strcasecmp(req->headers[i].name, "dapr-api-token")) req->headers[kept++] = req->headers[i];
  req->n_headers = kept;
  return true;
}


bool wgg_api_stream_body(const wgg_http_req *req, void *user) {
  wgg_api *api = user;
  if (api->http_pipeline.n) return false;
  if (api->opts->serve_app) return wgg_app_can_upload(api); /* wasmgate serve: every path is the app's */
  const char *p = req->path;
  if (!strncmp(p, "/v1.0/invoke/", 13)) return true;
  return wgg_http_req_header(req, "dapr-app-id") && strncmp(p, "/v1.0/", 6) && strncmp(p, "/v1.0-alpha1/", 13) &&
         strcmp(p, "/v1.0") && strcmp(p, "/v1.0-alpha1");
}

void wgg_api_handle(wgg_http_req *req, void *user) {
  wgg_api *api = user;
  if (!authenticate(api, req)) return;
  if (api->http_pipeline.n) wgg_pipeline_serve(&api->http_pipeline, req, route, api);
  else route(req, user);
}

void wgg_api_observe(int tag, int method, int status, uint64_t ns, void *user) {
  wgg_api *api = user;
  wgg_metrics_http(api ? api->metrics : NULL, tag, method, status, ns);
  /* --enable-api-logging: one line per call, as daprd's "HTTP API Called" */
  if (api && api->opts->enable_api_logging)
    wgg_info("HTTP API Called: method=%s route=%s code=%d duration=%.3fms",
             http_method_str((enum http_method)method), wgg_metrics_route_name(tag), status, (double)ns / 1e6);
}
