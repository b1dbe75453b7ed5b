/*
 * p2_cloud.h: the WASI cloud interfaces for components, served by the Dapr
 * components an app ID reaches (issue 14; docs/components.md "The cloud
 * interfaces"). Each function adds its interfaces to a component linker,
 * for one app: its wgg_api, whose components are already those scoped to
 * its app ID, exactly what its own daprd would have loaded.
 *
 * Every call that waits on a Dapr component (wasi:keyvalue, wasi:config,
 * wasi:messaging's send and wasmcloud's publish, dapr:runtime's state,
 * publish, configuration and output bindings) goes through the one
 * "park on a backend answer" mechanism of p2_cloud_internal.h
 * (p2_cloud_wait.c): in a hosted component app whose request runs on a
 * loop the guest parks on the building block's asynchronous call
 * (wgg_p2h_park in p2http.h) and the loop serves other requests meanwhile;
 * everywhere else (command components of `wasm run`, subscriber exports,
 * a store whose embedder data is not tagged as a component app's) the same
 * call runs inline on the calling thread (docs/components.md "Thread
 * model"). dapr:runtime's secrets are synchronous (api/calls.h).
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
 * `other(message)`. The incoming-handler export is called by the app host
 * (app_p2sub.c) with messages made by wgg_p2_messaging_incoming. Also
 * wasmcloud:messaging@0.2.0's consumer: publish(broker-message) to topic
 * `subject` of the pub/sub component named "pubsub", else the app's only
 * one (errors as strings); request answers an error (no replies in Dapr
 * pub/sub). `api` is borrowed and must outlive the linker. False with
 * *err on OOM. */
bool wgg_p2_messaging_define(wg_component_linker *l, struct wgg_api *api, wgg_err *err);

/* Defines in `l` wasi:blobstore@0.2.0-draft (types, container, blobstore; as wasmCloud serves
 * it): a container is the app's bindings.localstorage output binding of that name (not created or
 * deleted at run time: containers are Dapr components, so scopes decide which the app reaches),
 * its objects the binding's files, written and read through the binding's create/get/delete/list
 * as POST /v1.0/bindings/{name} runs them (bytes stored as they are). Values move through wasi:io
 * streams made in the calling store's WASI context, which p2_of(store) returns (NULL: the
 * stream-returning calls answer errors). Failures are the error strings (daprd's texts for the
 * binding's). `api` is borrowed and must outlive the linker. False with *err on OOM. */
struct wg_wasi_p2;
struct wg_store;
bool wgg_p2_blobstore_define(wg_component_linker *l, struct wgg_api *api,
                             struct wg_wasi_p2 *(*p2_of)(struct wg_store *s), wgg_err *err);

/* The state of the messaging interfaces one linker serves (owned by the linker). */
typedef struct wgg_p2_msg_host wgg_p2_msg_host;

/* wgg_p2_messaging_define, also giving the host (*out, may be NULL), through which delivered
 * messages are made for a component's wasi:messaging incoming-handler (wgg_p2_messaging_incoming). */
bool wgg_p2_messaging_define_host(wg_component_linker *l, struct wgg_api *api, wgg_p2_msg_host **out,
                                  wgg_err *err);

/* A message delivered on `topic` (copied: data, content type or NULL, nmeta key/value pairs
 * meta[2i], meta[2i+1]) as an `own<message>` in *v, for wasi:messaging/incoming-handler.handle:
 * its topic() answers `topic`. The guest owns it from the call on (its drop frees it); `owner`
 * is the instance it is delivered to (its wgg_p2h_inst), whose end frees it if the guest did
 * not (wgg_p2_messaging_release). False on OOM or when the linker's table of live messages is
 * full (65,536). */
bool wgg_p2_messaging_incoming(wgg_p2_msg_host *h, const void *owner, const char *topic, const void *data, size_t len,
                               const char *ctype, const char *const *meta, size_t nmeta, wg_cval *v);

/* Frees every message still held by the guest of `owner` (a component app instance's
 * wgg_p2h_inst: messages delivered to it, and those its guest made), when that instance is freed:
 * a guest that trapped, or ended without dropping a message, leaves none behind in the table.
 * h or owner NULL: nothing. Thread-safe. */
void wgg_p2_messaging_release(wgg_p2_msg_host *h, const void *owner);

/* The number of live messages in h's table (tests). */
size_t wgg_p2_messaging_live(wgg_p2_msg_host *h);

#endif
