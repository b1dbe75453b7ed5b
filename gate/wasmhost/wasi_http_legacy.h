/*
 * wasi_http_legacy.h: the pre-standard wasi-http host functions that Dapr's
 * bindings.wasm links (github.com/stealthrocket/wasi-go imports/wasi_http,
 * the ABI of dev-wasm's TinyGo and C clients): import modules "types",
 * "streams" and "default-outgoing-HTTP", handles as u32, results written
 * into guest memory, strings allocated in the guest through its exported
 * cabi_realloc. Outbound requests go through libcurl (loaded lazily) on the
 * calling thread, which is a thread-pool thread, never an event loop.
 *
 * Behaviour follows the Go host (read, not copied): handles start at 2 and
 * count up per kind; an unknown handle gives 0 or leaves the result
 * untouched as it does; a failed request logs and makes `handle` return 0.
 * Where the Go host would end the whole process (log.Fatalf) or panic, the
 * guest's call traps instead. Unlike it, what a run may hold is bounded:
 * WGG_WASI_HTTP_MAX_BYTES of request and response bodies, and
 * WGG_WASI_HTTP_MAX_HANDLES live handles per kind.
 */
#ifndef WGG_WASMHOST_WASI_HTTP_LEGACY_H
#define WGG_WASMHOST_WASI_HTTP_LEGACY_H

#include <stdbool.h>
#include <stdint.h>

#include "util/cancel.h"
#include "wasmgate.h"
#include "wggate.h"

/* Bodies (sent and received) one guest run may hold in the host, in bytes. */
#define WGG_WASI_HTTP_MAX_BYTES (64u << 20)
/* Live handles of one kind (fields, requests, responses, streams) per run. */
#define WGG_WASI_HTTP_MAX_HANDLES 4096

/* Whether m imports from "default-outgoing-HTTP": Dapr then links all three
 * modules (components-contrib bindings/wasm detectImports). */
bool wgg_wasi_http_legacy_wanted(const wg_module *m);

/* Whether `module` (len bytes) is one of the three modules this file serves. */
bool wgg_wasi_http_legacy_module(const char *module, size_t len);

/* Loads libcurl for the outbound requests (once). -1 with err when missing. */
int wgg_wasi_http_legacy_init(wgg_err *err);

typedef struct wgg_wasi_http wgg_wasi_http;

/* Per-run state: the handle tables of one guest run. `cancel` (may be NULL,
 * borrowed) aborts an outbound request when it fires; deadline_ms (0: none)
 * is the run's end on CLOCK_MONOTONIC in ms, also the outbound requests'
 * bound. NULL on OOM. */
wgg_wasi_http *wgg_wasi_http_new(wgg_cancel *cancel, uint64_t deadline_ms);
/* Frees the state (after the store that linked it is deleted). NULL ignored. */
void wgg_wasi_http_delete(wgg_wasi_http *h);

/* Fills imports[i] for every import of m from "types", "streams" and
 * "default-outgoing-HTTP" with host functions made in `store` (owned by the
 * store; h must outlive it). Returns 0, or -1 with err naming the import
 * ("wasm: unknown import types.x", "wasm: import streams.read has the wrong
 * type", out of memory). Imports from other modules are left untouched. */
int wgg_wasi_http_link(wgg_wasi_http *h, wg_store *store, const wg_module *m, wg_extern *imports, wgg_err *err);

#endif
