/*
 * httpwasm.h: the http-wasm handler ABI host (shared/reference/http-wasm-abi.md;
 * github.com/http-wasm/http-wasm content/http-handler-abi.md, with the
 * behaviour of the reference host http-wasm-host-go where guests depend on it).
 *
 * A wgg_hw_module is one compiled guest with its settings, shared read-only
 * by every loop thread (reference counted, so a reloaded module lives until
 * its last instance is gone). A wgg_hw_instance is one instantiated guest in
 * its own store: used by one thread at a time, it serves one request at a
 * time, from handle_request to handle_response, and keeps its state (globals,
 * heap) across requests. The pool that hands instances out lives in
 * pipeline/.
 */
#ifndef WGG_WASMHOST_HTTPWASM_H
#define WGG_WASMHOST_HTTPWASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/exchange.h"
#include "wasmgate.h"
#include "wggate.h"
#include "wgwasi.h"

/* Feature flags (ABI "features"; host-go api/handler/features.go). */
enum {
  WGG_HW_BUFFER_REQUEST = 1,
  WGG_HW_BUFFER_RESPONSE = 2,
  WGG_HW_TRAILERS = 4, /* header kinds 2 and 3 (request and response trailers) */
  WGG_HW_SUPPORTED = WGG_HW_BUFFER_REQUEST | WGG_HW_BUFFER_RESPONSE | WGG_HW_TRAILERS,
};

/* Settings of a guest (the component's metadata, resolved). */
typedef struct wgg_hw_settings {
  const char *name;          /* guest name for logs and errors (the url's base name); copied */
  const uint8_t *config;     /* guestConfig bytes (get_config); copied; may be NULL */
  size_t config_len;
  bool strict;               /* strictSandbox: deterministic clocks and randomness in WASI */
  uint64_t deadline_ms;      /* guest time allowed per request (handle_request + handle_response); 0 = none */
  uint32_t max_memory_pages; /* cap on the guest's memory, in 64 KiB pages; 0 = engine default */
} wgg_hw_settings;

typedef struct wgg_hw_module wgg_hw_module;

/* Compiles and validates a guest binary (copied) the way host-go's
 * compileGuest does. Errors (err, NULL returned), with host-go's texts:
 *   "wasm: error compiling guest: <engine message>"
 *   "wasm: guest doesn't export func[handle_request]" (and handle_response)
 *   "wasm: guest exports the wrong signature for func[handle_request]. should be () -> (i64)"
 *   "wasm: guest exports the wrong signature for func[handle_response]. should be (i32, 32) -> ()"
 *   "wasm: guest doesn't export memory[memory]"
 * The result has one reference, owned by the caller. */
wgg_hw_module *wgg_hw_module_new(const uint8_t *bytes, size_t len, const wgg_hw_settings *s, wgg_err *err);

/* Reference counting (thread-safe). unref frees the module at zero. */
void wgg_hw_module_ref(wgg_hw_module *m);

/* Whether the guest imports http_handler.read_body or write_body: a guest
 * that does not can never see or change a body, so the body may stream past
 * it (issue 18.3). */
bool wgg_hw_module_touches_body(const wgg_hw_module *m);
void wgg_hw_module_unref(wgg_hw_module *m);
const char *wgg_hw_module_name(const wgg_hw_module *m);
/* Features enabled outside a request (during _start): the middleware-wide set
 * every request starts with. */
uint32_t wgg_hw_module_features(const wgg_hw_module *m);
/* The settings' deadline_ms. */
uint64_t wgg_hw_module_deadline_ms(const wgg_hw_module *m);

typedef struct wgg_hw_instance wgg_hw_instance;

/* Instantiates m in a new store: WASI when the guest imports it (stdout and
 * stderr captured), http_handler for the ABI, then the start section and an
 * exported _start, or, when there is none, an exported _initialize (a WASI
 * reactor), under the module's deadline. Host functions called from any of
 * them work on this instance's memory. Takes a
 * reference on m. NULL with err on failure, e.g.
 * "wasm: error instantiating guest: module[NAME] function[_start] failed: wasm error: unreachable". */
wgg_hw_instance *wgg_hw_instance_new(wgg_hw_module *m, wgg_err *err);

/* Frees the instance and its store; drops its reference on the module. */
void wgg_hw_instance_free(wgg_hw_instance *i);

/* The module the instance was made from (borrowed). */
wgg_hw_module *wgg_hw_instance_module(const wgg_hw_instance *i);

/* Per-request state of one guest (host-go requestState): the features of
 * this request, whether next has run, and the body stream positions. Zero it,
 * then set ex; wgg_hw_handle_request fills the rest. */
typedef struct wgg_hw_call {
  wgg_exchange *ex;     /* the request/response the guest sees (borrowed) */
  uint32_t features;
  bool after_next;      /* set by wgg_hw_handle_response */
  size_t req_read;      /* bytes of the request body read by the guest */
  bool req_written;     /* the guest wrote the request body (first write replaced it) */
  size_t resp_read;
  bool resp_writer;     /* the response body writer exists (its creation after next cleared next's body) */
  uint64_t guest_ns;    /* guest time used so far in this request */
  uint8_t parked;       /* sliced calls: 0, or the phase parked at a yield (WGG_HW_PARKED_*) */
} wgg_hw_call;

enum { WGG_HW_PARKED_REQUEST = 1, WGG_HW_PARKED_RESPONSE = 2 };
/* What the sliced calls return besides 0 and -1: the guest yielded. */
enum { WGG_HW_PARKED = 1 };

/* Calls the guest's handle_request for c->ex. Returns 0 and *ctx_next (high
 * 32 bits: reqCtx, low 32 bits: next), or -1 with err holding a short text
 * ("wasm error: unreachable", "wasm error: interrupted (deadline of 100 ms)",
 * ...) after logging the trap and its backtrace; the instance must then be
 * discarded. On a continue (low word != 0) the request body is prepared for
 * next: without buffer_request, next sees what the guest did not read. */
int wgg_hw_handle_request(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err);

/* Calls handle_response(req_ctx, is_error) after next produced the response
 * in c->ex. Same errors as wgg_hw_handle_request. */
int wgg_hw_handle_response(wgg_hw_instance *i, wgg_hw_call *c, uint32_t req_ctx, bool is_error, wgg_err *err);

/* Time slices (issue 18.9, wasmhost/slice.h): wgg_hw_handle_request and
 * wgg_hw_handle_response run the guest to the end on the caller's thread. The
 * _sliced variants run it for one slice (at most WGG_SLICE_DEADLINE epoch
 * ticks) and return WGG_HW_PARKED when it yielded with budget left: the
 * instance is parked (pinned to c, c->parked says which call), nothing else may
 * run on it, and the caller continues it later with wgg_hw_continue (or drops
 * it with wgg_hw_abandon). Otherwise they return what the plain calls return
 * (0, or -1 with err). The request's budget (the module's deadline_ms) counts
 * guest time over all slices; a guest that uses it up fails with the same
 * "wasm error: interrupted (deadline of N ms)" as an unsliced one. */
int wgg_hw_handle_request_sliced(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err);
int wgg_hw_handle_response_sliced(wgg_hw_instance *i, wgg_hw_call *c, uint32_t req_ctx, bool is_error,
                                  wgg_err *err);

/* Continues a parked call for one more slice. Returns WGG_HW_PARKED again, or
 * how the parked call ended: 0 (for a parked handle_request with *ctx_next set,
 * as wgg_hw_handle_request) or -1 with err; the instance must be discarded
 * after -1. */
int wgg_hw_continue(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err);

/* Drops a parked call (wg_store_abandon): the request went away. The instance
 * must be discarded (its guest state is mid-call). No-op when not parked. */
void wgg_hw_abandon(wgg_hw_instance *i, wgg_hw_call *c);

/* Logs (at debug, "wasm stdout: ..."/"wasm stderr: ...") and clears what the
 * guest wrote to stdout/stderr since the last call. */
void wgg_hw_flush_output(wgg_hw_instance *i);

/* ---- internal to wasmhost/httpwasm_*.c ---- */

/* Links the http_handler imports of the instance's module into imports[]
 * (wg_module_import_count entries). false with msg on an unknown function or
 * a wrong signature. */
bool wgg_hw_link_host(wgg_hw_instance *i, wg_store *s, const wg_module *m, wg_extern *imports, char *msg,
                      size_t msglen);

#endif
