/*
 * wggate.h: the sidecar core's public API (prefix wgg_). The sidecar serves
 * Dapr's HTTP API v1.0 (see /docs/sidecar.md and the Dapr API reference) with
 * components loaded from Dapr-format YAML. It does not depend on the engine.
 *
 * Use: wgg_options_init(&o); set fields (strings are borrowed, they must
 * outlive wgg_run); wgg_run(&o, &err) blocks until SIGTERM/SIGINT.
 */
#ifndef WGGATE_H
#define WGGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An error message filled by a failing call. */
typedef struct wgg_err {
  char msg[512];
} wgg_err;

/* Log levels, as daprd's --log-level: debug, info, warn, error. */
enum wgg_log_level { WGG_LOG_DEBUG = 0, WGG_LOG_INFO, WGG_LOG_WARN, WGG_LOG_ERROR };

/* The options of `wasmgate run`, named after daprd's flags (see
 * dapr:cmd/daprd/options/options.go). Sizes are bytes, times milliseconds.
 * All strings are borrowed. */
typedef struct wgg_options {
  const char *app_id;              /* --app-id, "" default */
  int app_port;                    /* --app-port, 0 = no app channel */
  const char *app_wasm;            /* --app-wasm URL: the app is a wasm module hosted in-process
                                      (docs/wasm-apps.md); NULL/"" = none. Excludes --app-port. */
  const char *app_wasm_allowed_outbound_hosts; /* --app-wasm-allowed-outbound-hosts (spec.allowedOutboundHosts) */
  bool app_wasm_pooled;            /* --app-wasm-instances pooled (default fresh): warm instances reused */
  uint64_t app_wasm_timeout_ms;    /* guest CPU time per request, 0 = 10 s (a WasmApp's spec.timeout) */
  uint32_t app_wasm_max_memory_pages; /* memory cap in 64 KiB pages, 0 = 1024 (64 MiB) (spec.maxMemory) */
  uint32_t app_wasm_max_invocations;  /* pooled: requests per instance, 0 = 10000 (spec.maxInvocations) */
  const char *app_wasm_config_store;  /* --app-wasm-config-store: the configuration store a component app's
                                         wasi:config reads (spec.configStore); NULL = its only one */
  const char **app_wasm_hosted;    /* further --app-wasm ID=URL values whose ID is not --app-id: more apps hosted
                                      in this process, each with its own app ID (docs/wasm-apps.md section 7) */
  size_t n_app_wasm_hosted;
  const char *app_protocol;        /* --app-protocol, "http" */
  const char *app_channel_address; /* --app-channel-address, "127.0.0.1" */
  int http_port;                   /* --dapr-http-port, 3500 */
  int grpc_port;                   /* --dapr-grpc-port, 50001 (0 = no gRPC API) */
  const char *listen_addresses;    /* --dapr-listen-addresses, comma-separated; "" = all (0.0.0.0) */
  const char **resources_paths;    /* --resources-path (repeatable) */
  size_t n_resources_paths;
  const char **config_paths; /* --config (repeatable; merged in order, see config/configuration.h) */
  size_t n_config_paths;
  const char *config_name;   /* a Configuration resource of the resources paths, by metadata.name, used
                                instead of config_paths (a hosted WasmApp's spec.config); NULL: none */
  int log_level;            /* enum wgg_log_level */
  bool log_as_json;         /* --log-as-json */
  int metrics_port;         /* --metrics-port, 9090 */
  const char *metrics_listen_address; /* --metrics-listen-address; NULL/"" = the API's listen addresses */
  bool enable_metrics;      /* --enable-metrics */
  bool enable_api_logging;  /* --enable-api-logging: one info line per API call */
  size_t max_body_size;     /* --max-body-size, 4Mi */
  size_t read_buffer_size;  /* --read-buffer-size, 4Ki: the request head (line + headers) limit */
  int app_max_concurrency;  /* --app-max-concurrency, -1 (unlimited): in-flight calls to the app */
  bool enable_app_health_check;
  const char *app_health_check_path; /* "/healthz" */
  uint64_t app_health_probe_interval_ms; /* 5000 */
  uint64_t app_health_probe_timeout_ms;  /* 500 */
  int app_health_threshold;              /* 3 */
  uint64_t graceful_shutdown_ms;   /* --dapr-graceful-shutdown-seconds, 5 s */
  const char *api_token;           /* DAPR_API_TOKEN, NULL/"" = no check */
  const char *app_api_token;       /* APP_API_TOKEN */
  /* wasmgate's own knobs (not daprd flags) */
  uint64_t header_timeout_ms;      /* --http-header-timeout: first byte to end of headers, 10 s */
  uint64_t read_timeout_ms;        /* --http-read-timeout: first byte to end of body, 60 s */
  uint64_t idle_timeout_ms;        /* --http-idle-timeout: keep-alive idle, 60 s */
  int threads;                     /* --threads: event-loop threads, 0 = wgg_default_loop_threads() */
  const char *state_file;          /* file of the embedded default state.sqlite store */
  bool serve_app;                  /* `wasmgate serve`: every request on the HTTP port goes to the app
                                      (--app-wasm), whatever its path; the Dapr API is not served there */
} wgg_options;

/* Whether the sidecar has an app to call: an --app-port or an --app-wasm. */
static inline bool wgg_options_has_app(const wgg_options *o) {
  return o->app_port > 0 || (o->app_wasm && *o->app_wasm);
}

/* Fills o with daprd's defaults (the values in the comments above). */
void wgg_options_init(wgg_options *o);

/* Runs the sidecar: loads the components, listens, and serves until SIGTERM or
 * SIGINT, then drains in-flight requests for at most o->graceful_shutdown_ms.
 * Returns 0 after a clean shutdown, or -1 with err filled when the sidecar
 * cannot start (invalid component, YAML error with file and line, port in use,
 * bad option). */
int wgg_run(const wgg_options *o, wgg_err *err);

/* The number of event-loop threads when --threads is not given: half the
 * CPUs this process may run on (sched_getaffinity, so a cpuset or taskset
 * counts; else the online CPUs), at least 1. A sidecar shares its machine
 * with its app and the app's clients: a loop thread per core left them none,
 * and the kernel then time-sliced busy loop threads away for milliseconds
 * (bench/README.md, "Where the closed-loop tail comes from"). */
size_t wgg_default_loop_threads(void);

/* The WASI cloud interfaces for a component run outside the sidecar
 * (`wasmgate wasm run --resources-path`; wasmhost/p2_cloud_run.c,
 * docs/components.md "The cloud interfaces"): the components of the
 * resources folders `paths`, loaded as app ID `app_id`'s sidecar would load
 * them (scopes applied), serve wasi:keyvalue (state stores), wasi:config
 * (the only configuration store), the wasi:messaging producer (pub/sub) and
 * wasi:blobstore (bindings.localstorage).
 * wgg_cloud_new returns the context (wgg_cloud_free; strings are copied) or
 * NULL with err (a component that fails to load, with its file and line).
 * wgg_cloud_define adds the interfaces to a component linker (0, or -1 with
 * err); the context must outlive the linker. */
typedef struct wgg_cloud wgg_cloud;
struct wg_component_linker;
wgg_cloud *wgg_cloud_new(const char *app_id, const char *const *paths, size_t n_paths, wgg_err *err);
struct wg_wasi_p2;
struct wg_store;
/* p2_of(store): the calling store's WASI 0.2 context, for the wasi:io streams of wasi:blobstore
 * (NULL: blobstore's streams answer errors). */
int wgg_cloud_define(wgg_cloud *c, struct wg_component_linker *l, struct wg_wasi_p2 *(*p2_of)(struct wg_store *s),
                     wgg_err *err);
void wgg_cloud_free(wgg_cloud *c);

/* Parses a Kubernetes-style quantity as daprd's --max-body-size does:
 * "4Mi", "4096", "10k", "1Gi", "2M" (binary Ki/Mi/Gi/Ti, decimal k/M/G/T).
 * Returns 0 and *out in bytes, or -1 with err filled. */
int wgg_parse_quantity(const char *s, size_t *out, wgg_err *err);

/* Parses a Go-style duration: "500ms", "5s", "1m30s", "2h", "250us", or a bare
 * number of seconds ("5"). Returns 0 and *out_ms in milliseconds (rounded down),
 * or -1 with err filled. */
int wgg_parse_duration_ms(const char *s, uint64_t *out_ms, wgg_err *err);

/* Parses a log level name (debug, info, warn, warning, error, fatal);
 * returns the enum wgg_log_level or -1. */
int wgg_parse_log_level(const char *s);

/* The runtime version reported by /v1.0/metadata. */
#define WGG_RUNTIME_VERSION "0.1.0-wasmgate"

#endif
