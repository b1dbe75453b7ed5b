/*
 * hosted.h: one wasmgate, many wasm apps (docs/wasm-apps.md section 7). Besides the sidecar's own
 * app (--app-id with --app-port or --app-wasm URL), a process may host further wasm apps, each
 * given by `--app-wasm ID=URL` (ID not the --app-id) or by a resource of
 *
 *   apiVersion: wasmgate.io/v1alpha1
 *   kind: WasmApp
 *   metadata: {name: ID}
 *   spec: {url: file://..., instances: fresh|pooled, maxInvocations: N, maxMemory: 64Mi,
 *          timeout: 10s, maxConcurrency: N, config: FILE-PATH|CONFIGURATION-NAME}
 *   scopes: [sidecar app IDs that host it]
 *
 * in a --resources-path folder (one whose non-empty scopes leave out --app-id is skipped unread,
 * as daprd skips a Component scoped elsewhere). Each hosted app gets a wgg_api of its own, built
 * exactly as the sidecar's (api.h wgg_api_new) from the same flags and resources, with its app ID
 * and its own Configuration when spec.config names one (a file path, or a Configuration
 * resource's name as in daprd's Kubernetes mode; otherwise --config): so its components are those scoped to it, its state keys carry its prefix, its declarative
 * subscriptions, input bindings, jobs, Resiliency and name-resolution registration are its own,
 * and its instance pool, limits and --app-max-concurrency slots are its own. It behaves as an app
 * with a sidecar of its own, whose HTTP port is shared: every api points at one wgg_hosted_apps
 * table (the sidecar's api first), and service invocation of a hosted ID stays in-process.
 *
 * Threading: built and started on the main thread before/after the worker loops start; the
 * thread_* calls run on each worker loop.
 */
#ifndef WGG_RUNTIME_HOSTED_H
#define WGG_RUNTIME_HOSTED_H

#include <uv.h>

#include "api/api.h"

typedef struct wgg_hosted wgg_hosted;

/* How the embedded default components are made when there is no --resources-path (sidecar.c). */
typedef int (*wgg_default_components_fn)(const wgg_options *o, wgg_component_list *list, wgg_err *err);

/* Builds the hosted apps of o (o->app_wasm_hosted, then the WasmApp resources of
 * o->resources_paths) next to primary, the sidecar's own api (borrowed; it must outlive the
 * result), and points primary and every hosted api at the shared table. Loads, compiles and links
 * each module; the app IDs are registered in name resolution later (wgg_hosted_register). Blocking
 * (start-up). Returns 0 with
 * *out (NULL when no app is hosted), or -1 with err: "--app-wasm VALUE: expected ID=URL",
 * "app ID X is hosted twice", "FILE:LINE: WasmApp X: <field error>", a component, Configuration
 * or module error of that app ("wasm app ID: ...", e.g. "wasm app ID: Configuration NAME not
 * found in the resources paths"). */
int wgg_hosted_new(wgg_api *primary, const wgg_options *o, wgg_default_components_fn defaults, wgg_hosted **out,
                   wgg_err *err);

/* Registers this worker loop with each hosted app's --app-max-concurrency (appchannel.h). */
void wgg_hosted_thread_init(wgg_hosted *h, uv_loop_t *loop);
/* Undoes wgg_hosted_thread_init on this worker loop (calls still waiting fail). */
void wgg_hosted_thread_close(wgg_hosted *h);

/* Starts, on the main loop, what each hosted app runs once the sidecar serves: pub/sub delivery
 * (programmatic subscriptions from its /dapr/subscribe, declarative ones), input bindings, the
 * health probes (with --enable-app-health-check), the file watcher. 0, or -1 with err. */
int wgg_hosted_start(wgg_hosted *h, uv_loop_t *loop, wgg_err *err);

/* Stops what wgg_hosted_start started (main loop, graceful shutdown). NULL is ignored. */
void wgg_hosted_stop(wgg_hosted *h);

/* SIGHUP: reloads every hosted module (calls in flight finish on the old one). */
void wgg_hosted_reload(wgg_hosted *h);

/* Registers each hosted app ID in name resolution (blocking; main thread, once the sidecar's
 * listeners accept connections). NULL is ignored. */
void wgg_hosted_register(wgg_hosted *h);
/* Renews the name-resolution registrations (blocking: the thread pool). */
void wgg_hosted_renew(wgg_hosted *h);

/* Frees the hosted apps (deregistering their IDs). No call may be in flight. NULL is ignored. */
void wgg_hosted_free(wgg_hosted *h);

#endif
