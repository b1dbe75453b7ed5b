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

/* Defines in `l` the imports of dapr:runtime@0.1.0 that are served, each
 * running the call its HTTP route runs for `api`'s app ID: state get, save,
 * delete, transaction (GET/POST/DELETE /v1.0/state/{store}[/{key}],
 * POST .../transaction), publisher.publish (POST
 * /v1.0/publish/{pubsub}/{topic}), secrets get and get-bulk (GET
 * /v1.0/secrets/{store}/{key|bulk}), configuration.get (GET
 * /v1.0/configuration/{store}) and output-bindings.invoke-binding (POST
 * /v1.0/bindings/{name}): the same key prefix, scopes, ETag checks and
 * errors, a failure being error { code (daprd's errorCode), message,
 * http-status }. State save metadata honours ttlInSeconds; consistency is
 * accepted and not used. Calls block the calling thread (p2_cloud.h). A
 * function imported with another type traps. invoke is not defined yet.
 * `api` is borrowed and must outlive the linker. False with *err on OOM or
 * a duplicate definition. */
bool wgg_p2_dapr_define(wg_component_linker *l, struct wgg_api *api, wgg_err *err);

#endif
