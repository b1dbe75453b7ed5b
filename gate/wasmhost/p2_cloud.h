/*
 * p2_cloud.h: the WASI cloud interfaces for components, served by the Dapr
 * components an app ID reaches (issue 14; docs/components.md "The cloud
 * interfaces"). Each function adds its interfaces to a component linker,
 * for one app: its wgg_api, whose components are already those scoped to
 * its app ID, exactly what its own daprd would have loaded.
 *
 * In a hosted component app whose request runs on a loop, wasi:keyvalue
 * get/exists/set/delete, increment and set-many/delete-many park the guest on
 * the async store entry point
 * (wgg_state_call_start; wgg_p2h_park in p2http.h). The other calls, and
 * every call where no loop can resume the guest (command components), call
 * the component's synchronous form (store.h get/apply/query,
 * configuration.h get) on the calling thread (docs/components.md "Thread
 * model").
 */
#ifndef WGG_WASMHOST_P2_CLOUD_H
#define WGG_WASMHOST_P2_CLOUD_H

#include <stdbool.h>

#include "wasmgate_component.h"
#include "wggate.h"

struct wgg_api;

/* Defines in `l` wasi:keyvalue store, atomics and batch at 0.2.0-draft
 * (wasmtime's and wasmCloud's) and at 0.2.0-draft2 (Spin's: list-keys with
 * a string cursor, atomics with s64 and the `cas` resource).
 *
 * A bucket is a Dapr state store component of `api` by name (`open`); a
 * name the app's sidecar did not load (unknown, or scoped to other app IDs)
 * is `no-such-store`, as daprd answers ERR_STATE_STORE_NOT_FOUND. Keys are
 * prefixed `<app-id>||` as the state API does, so the same items are read
 * and written by GET/POST /v1.0/state/{store} of that app ID; values are
 * the stored bytes as they are (the gRPC API's form). Store failures are
 * `other(message)`. `api` is borrowed and must outlive the linker. False
 * with *err on OOM or a duplicate definition. */
bool wgg_p2_keyvalue_define(wg_component_linker *l, struct wgg_api *api, wgg_err *err);

/* Defines in `l` wasi:config/store at 0.2.0-rc.1 (wasmtime) and at
 * 0.2.0-draft-2024-09-27 (Spin): get and get-all read the Dapr
 * configuration store component `store` of `api` (configuration.sqlite,
 * .redis, .postgresql; keys as they are, values as GetConfiguration answers
 * them). `store` NULL picks the app's only configuration store; with none
 * or several (and no name) the calls answer `upstream(message)`. `api` and
 * `store` are borrowed and must outlive the linker. False with *err on OOM. */
bool wgg_p2_config_define(wg_component_linker *l, struct wgg_api *api, const char *store, wgg_err *err);

/* Defines in `l` wasi:messaging@0.2.0-draft's types (client, message) and
 * producer: `client.connect(name)` is the app's pub/sub component of that
 * name (`connection("pubsub NAME is not found")` otherwise); `send(client,
 * topic, message)` publishes as POST /v1.0/publish/{pubsub}/{topic} does
 * (scopes, the CloudEvent envelope unless the message's metadata says
 * rawPayload, its content type, its metadata as the publish metadata);
 * refused topics are `permission-denied(message)`, other failures
 * `other(message)`. The incoming-handler export is not served yet. Also
 * wasmcloud:messaging@0.2.0's consumer: publish(broker-message) to topic
 * `subject` of the pub/sub component named "pubsub", else the app's only
 * one (errors as strings); request answers an error (no replies in Dapr
 * pub/sub). `api` is borrowed and must outlive the linker. False with
 * *err on OOM. */
bool wgg_p2_messaging_define(wg_component_linker *l, struct wgg_api *api, wgg_err *err);

#endif
