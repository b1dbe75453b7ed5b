/*
 * p2app_internal.h: what app_p2sub.c (the message, event and input-binding
 * handlers a component app exports) uses of app_p2http.c (the component
 * app's instances and their calls). Not for other layers.
 */
#ifndef WGG_WASMHOST_P2APP_INTERNAL_H
#define WGG_WASMHOST_P2APP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "wasmgate_component.h"
#include "wasmhost/app_internal.h"
#include "wasmhost/p2_cloud.h"

/* The handlers besides wasi:http/incoming-handler a component may export (a bit set). */
enum {
  WGG_P2X_DAPR_SUB = 1,      /* dapr:runtime/subscriber@0.1.0 (subscriptions, handle-event) */
  WGG_P2X_DAPR_INPUT = 2,    /* dapr:runtime/input-bindings@0.1.0 (handle-binding) */
  WGG_P2X_WASI_MSG = 4,      /* wasi:messaging/incoming-handler@0.2.0-draft (handle) */
  WGG_P2X_WASMCLOUD_MSG = 8, /* wasmcloud:messaging/handler@0.2.0 (handle-message) */
};

/* The WGG_P2X_* handlers component c exports (app_p2sub.c). */
unsigned wgg_p2app_exports_of(const wg_component *c);

/* Of a loaded component app (generation a): its WGG_P2X_* handlers; whether it exports
 * wasi:http/incoming-handler; wasi:messaging's host of its linker (NULL without an API). */
unsigned wgg_p2app_exports(const wgg_wasm_app *a);
bool wgg_p2app_has_http(const wgg_wasm_app *a);
wgg_p2_msg_host *wgg_p2app_msg_host(const wgg_wasm_app *a);

/* An instance for one call: an idle pooled one or a new one (NULL with err when it cannot be
 * made). Give it back with wgg_p2app_give (ok false after a trap: it is discarded). */
struct p2inst *wgg_p2app_take(wgg_wasm_app *a, wgg_err *err);
void wgg_p2app_give(wgg_wasm_app *a, struct p2inst *i, bool ok);

/* The instance's exported function `name` of interface `iface` (semver-compatible), or NULL. */
wg_component_func *wgg_p2inst_func(struct p2inst *i, const char *iface, const char *name);

/* Calls f under the app's deadline (else timeout_ms, else 30 s), as the HTTP handler is called:
 * results as wg_component_func_call's (the caller frees them); the guest's output logged. False
 * after a trap, with msg ("wasm error: unreachable", "wasm error: interrupted (deadline of N
 * ms)", a host trap's text), logged with its backtrace. */
bool wgg_p2inst_call(wgg_wasm_app *a, struct p2inst *i, wg_component_func *f, const wg_cval *args, size_t nargs,
                     wg_cval *results, size_t nresults, uint64_t timeout_ms, char *msg, size_t cap);

/* The app-channel call of kind `kind` (http/client.h WGG_APP_CALL_KIND's value: "topic\x1fPUBSUB
 * \x1fTOPIC\x1fPATH", "subscriptions", "binding\x1fNAME", "bindings\x1fNAME", "health" ...) made
 * to the component's exported handler when it has one for that kind (app_p2sub.c; the contract
 * of wgg_wasm_app_callback in app.h). 1: not served by an export (send the HTTP request). */
int wgg_p2app_callback(wgg_wasm_app *a, const char *kind, const wgg_http_header *headers, size_t n,
                       const char *body, size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user);

#endif
