/*
 * p2_dapr.h: dapr:runtime@0.1.0 for components (wit/dapr;
 * docs/dapr-wit.md), served by the Dapr components of one app.
 */
#ifndef WGG_WASMHOST_P2_DAPR_H
#define WGG_WASMHOST_P2_DAPR_H

#include <stdbool.h>

#include "wasmgate_component.h"
#include "wggate.h"

struct wgg_api;

/* Defines in `l` the imports of dapr:runtime@0.1.0 that are served: state
 * (get, save, delete, transaction), publisher.publish, secrets (get,
 * get-bulk) and configuration.get, each running the call its HTTP route
 * runs (GET/POST/DELETE /v1.0/state/{store}[/{key}|/transaction], POST
 * /v1.0/publish/{pubsub}/{topic}, GET /v1.0/secrets/{store}/{key|bulk},
 * GET /v1.0/configuration/{store}) for `api`'s app ID: the same key prefix,
 * scopes, ETag checks and errors, a failure being error { code (daprd's
 * errorCode), message, http-status }. State metadata honours ttlInSeconds;
 * consistency is accepted and not used (as by the HTTP API's stores here).
 * Calls block the calling thread (p2_cloud.h). A function imported with
 * another type traps. invoke and output-bindings are not defined yet.
 * `api` is borrowed and must outlive the linker. False with *err on OOM or
 * a duplicate definition. */
bool wgg_p2_dapr_define(wg_component_linker *l, struct wgg_api *api, wgg_err *err);

#endif
