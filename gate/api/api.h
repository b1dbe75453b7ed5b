/*
 * api.h: the Dapr HTTP API v1.0 routes (docs reference/api/; dapr
 * pkg/api/http). One wgg_api is shared by every loop thread: it is read-only
 * after wgg_api_new except for the `extended` metadata (under a mutex) and
 * the readiness flag (atomic).
 */
#ifndef WGG_API_API_H
#define WGG_API_API_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <uv.h>

#include "components/bindings/binding.h"
#include "components/state/store.h"
#include "config/component.h"
#include "config/configuration.h"
#include "pubsub/runtime.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "wggate.h"

/* A loaded state store and the component it came from. */
typedef struct wgg_store_entry {
  const wgg_component *comp; /* borrowed from wgg_api.components */
  wgg_state_store *store;    /* owned */
  struct wgg_exec *exec;     /* owned: the blocking store's thread (api/executor.h), NULL otherwise */
  size_t index;              /* position in wgg_api.stores */
  struct wgg_metrics *metrics; /* borrowed: the api's (observe/metrics.h) */
} wgg_store_entry;

/* A loaded output binding and its component. */
typedef struct wgg_binding_entry {
  const wgg_component *comp; /* borrowed from wgg_api.components */
  wgg_binding *binding;      /* owned */
} wgg_binding_entry;

/* A loaded secret store and its component (components/secretstores/secretstore.h). */
typedef struct wgg_secretstore_entry {
  const wgg_component *comp;     /* borrowed from wgg_api.components */
  struct wgg_secretstore *store; /* owned */
} wgg_secretstore_entry;

/* A loaded lock store and its component (api/lock.c; components/lock/lock.h). */
typedef struct wgg_lock_entry {
  const wgg_component *comp;    /* borrowed from wgg_api.components */
  struct wgg_lock_store *store; /* owned */
  struct wgg_exec *exec;        /* owned: the blocking store's thread, NULL otherwise */
  char *key_prefix;             /* owned: metadata keyPrefix, lower-cased ("appid" by default) */
} wgg_lock_entry;

/* A loaded configuration store and its component (api/configuration.c). */
typedef struct wgg_config_entry {
  const wgg_component *comp;      /* borrowed from wgg_api.components */
  struct wgg_config_store *store; /* owned */
  struct wgg_exec *exec;          /* owned: the blocking store's thread, NULL otherwise */
  struct wgg_api *api;            /* back pointer for change notifications */
} wgg_config_entry;

typedef struct wgg_jobs wgg_jobs;

/* The wasm apps hosted in this process besides the sidecar's own app (`--app-wasm ID=URL`, `kind:
 * WasmApp` resources; docs/wasm-apps.md section 7): one wgg_api per app ID, built like the sidecar's
 * own from the same flags and resources but scoped to its ID (runtime/hosted.h). The table is
 * shared by the sidecar's api and every hosted one; read-only once the sidecar serves. */
typedef struct wgg_hosted_apps {
  struct wgg_api **apis; /* owned by runtime/hosted.c */
  size_t n;
} wgg_hosted_apps;

typedef struct wgg_api {
  const wgg_options *opts;       /* borrowed */
  wgg_configuration config;      /* owned: the merged --config files (empty when none) */
  wgg_component_list components; /* owned: every loaded component */
  wgg_store_entry *stores;       /* owned */
  size_t n_stores;
  wgg_binding_entry *bindings; /* owned */
  size_t n_bindings;
  wgg_pubsub_entry *pubsubs; /* owned (the components; pubsub/runtime.h) */
  size_t n_pubsubs;
  wgg_psrt *psrt;            /* owned: subscriptions and delivery to the app */
  wgg_secretstore_entry *secretstores; /* owned: the secretstores.* components (api/secrets.c) */
  size_t n_secretstores;
  pthread_mutex_t ext_mu;
  json_t *extended; /* attributes set with PUT /v1.0/metadata/{name} (under ext_mu) */
  wgg_pipeline http_pipeline;     /* spec.httpPipeline: runs before the router (owned) */
  wgg_pipeline app_http_pipeline; /* spec.appHttpPipeline: on calls to the app (owned) */
  int ready;        /* atomic: 1 once every listener is up */
  int app_ready;    /* atomic: 1 once the app port accepts connections (or there is no app port) */
  int app_health_ok; /* atomic: the app health probe's verdict (runtime/apphealth.c); 0 until the first
                        success, as daprd starts unhealthy; only consulted with --enable-app-health-check */
  struct wgg_app_limit *app_limit; /* owned: --app-max-concurrency (api/appchannel.h), NULL = unlimited */
  json_t *features;     /* owned: names of spec.features with enabled: true (api/coreconfig.c) */
  bool metrics_enabled; /* false when the Configuration says spec.metrics.enabled: false */
  double trace_sampling; /* spec.tracing.samplingRate, 0..1 (0 when absent) */
  struct wgg_nameres *nameres;       /* owned: sidecar-to-sidecar name resolution (api/mesh.h) */
  struct wgg_resiliency *resiliency; /* owned: Resiliency policies, NULL when none (api/mesh.h) */
  struct wgg_acl *acl;               /* owned: spec.accessControl, NULL = allow all (api/acl.h) */
  /* POST /v1.0/shutdown (api/shutdown.c): starts the same graceful stop as
   * SIGTERM; set (atomically) by the process that runs the loops, NULL when
   * nothing can stop (the route then answers 204 and does nothing). */
  void (*request_shutdown)(void *ctx);
  void *shutdown_ctx;
  struct wgg_lock_entry *locks; /* owned: the lock.* components (api/lock.c) */
  size_t n_locks;
  wgg_config_entry *configs; /* owned: the configuration.* components (api/configuration.c) */
  size_t n_configs;
  struct wgg_conf_deliver *conf_deliver; /* owned: the thread that posts changes to the app, NULL without app */
  struct wgg_wasm_app *wasm_app;     /* owned: --app-wasm, the app hosted in-process (wasmhost/app.h), or NULL */
  struct wgg_jobs *jobs; /* owned: the Jobs API's store and delivery thread (api/jobs.c), NULL without a state file */
  const wgg_hosted_apps *hosted; /* borrowed: the apps hosted in this process, NULL when none */
  bool is_hosted;                /* this api is a hosted app's (it has no listener of its own) */
  struct wgg_metrics *metrics;   /* owned: this app ID's series (observe/metrics.h); NULL on OOM (nothing recorded) */
} wgg_api;

/* The api of app_id when it is one of the apps hosted in this process (other than api itself), else
 * NULL. Service invocation of such an app stays in-process (api/invoke.c). */
static inline struct wgg_api *wgg_hosted_find(const wgg_api *api, const char *app_id) {
  for (size_t i = 0; api->hosted && i < api->hosted->n; i++)
    if (api->hosted->apis[i] != api && api->hosted->apis[i]->opts->app_id &&
        !strcmp(api->hosted->apis[i]->opts->app_id, app_id))
      return api->hosted->apis[i];
  return NULL;
}

/* Whether the app can take calls now: its port accepted a connection and,
 * with --enable-app-health-check, the last probes did not reach the
 * threshold of failures (daprd's apphealth status). Pub/sub deliveries and
 * input bindings pause while this is false, as daprd stops subscriptions when
 * the app turns unhealthy and restarts them when it recovers. Thread-safe. */
bool wgg_app_healthy(const wgg_api *api);

/* Builds the API from loaded components (ownership of *components moves in;
 * *components is emptied). Loads the Configuration of opts->config_paths
 * (errors: configuration.h's wgg_configuration_load). Creates the state stores; a component that fails
 * to initialise stops the start with err (file, line, name, reason) unless
 * its spec.ignoreErrors is true, in which case it is skipped with a warning.
 * Components of building blocks not implemented yet are skipped with a
 * warning. Builds the Configuration's httpPipeline and appHttpPipeline
 * (pipeline.h wgg_pipeline_build: a missing middleware component or a guest
 * that fails to load stops the start). Returns NULL with err filled. */
wgg_api *wgg_api_new(const wgg_options *opts, wgg_component_list *components, wgg_err *err);

/* Applies the core's part of api->config (spec.features, spec.metrics,
 * spec.tracing; api/coreconfig.c). Returns 0, or -1 with err naming the file
 * and the malformed field. Called by wgg_api_new. */
int wgg_api_core_config(wgg_api *api, wgg_err *err);

/* Frees the API and closes its stores. No request may be in flight. */
void wgg_api_free(wgg_api *api);

/* Reads the app's GET /dapr/config once, as soon as the app is ready
 * (api->app_ready, checked every 50 ms), through the app channel from loop,
 * which must be a worker loop thread with its app channel client in
 * loop->data (wasm middleware pools and time slices are per worker loop),
 * after wgg_exec_thread_init; logs what it says, as daprd does for an app
 * without actors (api/appconfig.c). No-op without an app. */
void wgg_appconfig_watch(wgg_api *api, uv_loop_t *loop);

/* The request handler (a wgg_http_handler_fn; user is the wgg_api): the
 * http pipeline when there is one, then the routes. */
void wgg_api_handle(wgg_http_req *req, void *user);

/* The HTTP server's stream_body (http/server.h; issue 18.3): whether a
 * request with a body is dispatched before its body is read. True for
 * service invocation (/v1.0/invoke/..., or a dapr-app-id header on a path
 * outside the Dapr API) with a body over 64 KiB or chunked, when no
 * httpPipeline guest may read it; the invocation then streams it to the app,
 * or reads it whole first where a retry policy, appHttpPipeline or a wasm
 * app needs it whole. */
bool wgg_api_stream_body(const wgg_http_req *req, void *user);

/* The API routes without the httpPipeline (a wgg_http_handler_fn; user is
 * the wgg_api): what wasm apps' dapr:v1 host functions reach, as an HTTP app
 * reaches the routes (the pipeline is for requests from the network). */
void wgg_api_route(wgg_http_req *req, void *user);

/* `wasmgate serve` (opts->serve_app): passes req, whatever its path, to the app through the app
 * channel and its answer back (api/serve.c). */
void wgg_api_serve_app(wgg_api *api, wgg_http_req *req);

/* The server's observe hook: records request metrics (observe/metrics.h). */
void wgg_api_observe(int tag, int method, int status, uint64_t ns, void *user);

/* ---- helpers shared by the route files ---- */

/* Answers {"errorCode":code,"message":<formatted>} with status. */
void wgg_api_error(wgg_http_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers a JSON document (status, application/json); steals j. */
void wgg_api_json(wgg_http_req *req, int status, json_t *j);

/* Answers 204 No Content. */
void wgg_api_empty(wgg_http_req *req);

/* Answers 404 as Go's http.NotFound does for a path the router of a known
 * route does not match (daprd's mux): text/plain "404 page not found\n". */
void wgg_api_not_found(wgg_http_req *req);

/* Answers 405 with no body: a known path, another method (daprd's mux). */
void wgg_api_method_not_allowed(wgg_http_req *req);

/* Percent-decodes n bytes of s into a new string ('+' kept as is in paths,
 * decoded to ' ' in queries when plus is true). Returns NULL on OOM, a
 * malformed escape or %00 (a NUL would cut the string: refused, never
 * truncated; api/invoke_path.h wgg_pct_decode keeps lengths). */
char *wgg_url_decode(const char *s, size_t n, bool plus);

/* Field `name` of a JSON request object as Go's encoding/json (and
 * mapstructure) find a struct field, which is how daprd reads request
 * bodies: keys match case-insensitively (ASCII) and, when several do, the
 * last one in the document wins ("entryID" is the field entryId). Borrowed;
 * NULL when absent or obj is not an object. Map-valued members (metadata)
 * keep their keys exact. */
json_t *wgg_json_field(json_t *obj, const char *name);

/* Finds query parameter name in query (the part after '?') and returns its
 * decoded value (malloc'd), or NULL when absent. */
char *wgg_query_get(const char *query, const char *name);

/* The metadata.<key> query parameters of query as a JSON object of decoded
 * strings ({"ttlInSeconds": "60"}; Dapr's request metadata). A new
 * reference; NULL when out of memory. */
json_t *wgg_query_metadata(const char *query);

/* Runs job on the libuv thread pool when blocking, else inline; then runs
 * done(job) on loop. With loop NULL (a caller with no loop: the synchronous
 * host functions of components, wasmhost/p2_cloud.h) both run inline on the
 * calling thread, blocking it for the work. Returns 0, or -1 when the work
 * could not be queued (done is not called then). */
int wgg_api_submit(uv_loop_t *loop, bool blocking, void *job, void (*work)(void *), void (*done)(void *));

/* wgg_api_submit for a state store: a blocking store's calls run in order on
 * the store's own thread (api/executor.h), others inline. */
int wgg_api_submit_store(uv_loop_t *loop, const wgg_store_entry *se, void *job, void (*work)(void *),
                         void (*done)(void *));

/* Runs the state store call c (components/state/store.h: a get or an apply)
 * for a caller on loop's thread, the one way every API path reaches a store
 * (api/state_call.c): the store's asynchronous form when it has one and can
 * serve loop (no thread waits on the backend), else the synchronous form
 * through wgg_api_submit_store. c->done runs once on loop, possibly before
 * this returns. Returns 0, or -1 when out of memory (done not called). */
int wgg_state_call_start(uv_loop_t *loop, const wgg_store_entry *se, wgg_state_call *c);

/* Route handlers: rest is the path after the route's fixed prefix, split
 * into decoded segments. */
void wgg_api_healthz(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
void wgg_api_metadata(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
void wgg_api_state(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
/* POST|PUT /v1.0-alpha1/state/{store}/query (seg after "state"; api/state_query.c). */
void wgg_api_state_query(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
void wgg_api_bindings(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
/* /v1.0/publish/... (seg after "publish"; "bulk" first means bulk publish)
 * and /v1.0-alpha1/publish/bulk/... (seg after "bulk"); publish.c. */
void wgg_api_publish(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
void wgg_api_publish_bulk(wgg_api *api, wgg_http_req *req, char **seg, size_t n);
/* GET /v1.0/secrets/{store}/{name|bulk} (seg after "secrets", n == 2; api/secrets.c). */
void wgg_api_secrets(wgg_api *api, wgg_http_req *req, char **seg, size_t n);

/* Whether the Configuration's spec.secrets.scopes let this app read secret
 * key of store (dapr SecretsScope.IsSecretAllowed: allowedSecrets, when not
 * empty, decides alone; then deniedSecrets; then defaultAccess, "allow" by
 * default; no scope for the store allows everything). */
bool wgg_secret_allowed(const wgg_api *api, const char *store, const char *key);

/* POST /v1.0/shutdown (seg after "shutdown", n == 0; api/shutdown.c). */
void wgg_api_shutdown(wgg_api *api, wgg_http_req *req, char **seg, size_t n);

/* POST /v1.0-alpha1/lock/{store} and /v1.0-alpha1/unlock/{store}: unlock is
 * true for the second; seg after "lock"/"unlock" (api/lock.c). */
void wgg_api_lock(wgg_api *api, wgg_http_req *req, bool unlock, char **seg, size_t n);

/* Loads the lock.* components of api->components into api->locks (api/
 * lock.c; called by wgg_api_new). Returns 0, or -1 with err when one fails
 * to initialise without spec.ignoreErrors. */
int wgg_api_locks_init(wgg_api *api, wgg_err *err);

/* Frees api->locks (their stores' connections and threads). */
void wgg_api_locks_free(wgg_api *api);

/* GET /v1.0[-alpha1]/configuration/{store}[/subscribe | /{id}/unsubscribe]
 * (seg after "configuration"; api/configuration.c). */
void wgg_api_configuration(wgg_api *api, wgg_http_req *req, char **seg, size_t n);

/* Loads the configuration.* components into api->configs and, with an app
 * port, starts the thread that delivers their change notifications (api/
 * configuration.c; called by wgg_api_new). 0, or -1 with err. */
int wgg_api_configs_init(wgg_api *api, wgg_err *err);

/* Stops the subscriptions and the delivery thread, frees api->configs. */
void wgg_api_configs_free(wgg_api *api);

/* /v1.0-alpha1/jobs/{name}: POST schedules, GET reads, DELETE removes (seg
 * after "jobs"; api/jobs.c). */
void wgg_api_jobs(wgg_api *api, wgg_http_req *req, char **seg, size_t n);

/* Opens the jobs table in opts->state_file and, with an app port, starts the
 * thread that delivers due jobs to the app at POST /job/{name} (api/jobs.c;
 * called by wgg_api_new). 0, or -1 with err. */
int wgg_api_jobs_init(wgg_api *api, wgg_err *err);

/* Stops the delivery thread and closes the jobs store. */
void wgg_api_jobs_free(wgg_api *api);

/* Starts pub/sub delivery (subscriptions, the delivery thread) once the
 * sidecar serves. Returns 0 or -1 with err. */
int wgg_api_start_pubsub(wgg_api *api, wgg_err *err);

/* Service invocation of app_id's method: method (raw_len bytes, decoded,
 * may hold any byte) is normalised as daprd's NormalizeMethod (api/
 * invoke_path.h; '#', '?', NUL or control bytes: 500 ERR_DIRECT_INVOKE
 * "... invalid method: ..."), then accessControl checks and the app receives
 * that same normalised method ("" is the app's "/"), with req's raw query.
 * Uses the loop's app-channel client, found in req->loop->data (a
 * wgg_http_client, set by the worker that owns the loop). wgg_api_invoke is
 * the same for a NUL-terminated method. */
void wgg_api_invoke_n(wgg_api *api, wgg_http_req *req, const char *app_id, const char *raw_method, size_t raw_len);
void wgg_api_invoke(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method);

#endif
