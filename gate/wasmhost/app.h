/*
 * app.h: wasm apps hosted in-process (`wasmgate run --app-wasm URL`), the app
 * channel's second transport (docs/wasm-apps.md). The app is a module; its
 * ABI is detected from its exports:
 *   - http-wasm handler ABI (exports handle_request): the app is a handler
 *     whose `next` has nothing behind it; whatever it writes is the response
 *     (wasmhost/httpwasm.h is the host);
 *   - WAGI (a WASI preview1 command exporting _start): CGI 1.1 (RFC 3875)
 *     over WASI, as Spin's WAGI executor: the request in environment
 *     variables, the body on stdin, the response on stdout;
 *   - wasi:http (a component exporting wasi:http/incoming-handler 0.2.x):
 *     each request is an incoming-request handed to its `handle`, as
 *     `wasmtime serve` and Spin do (app_p2http.c).
 * Either kind may import the `dapr:v1` host functions (app_dapr.c) to call
 * the building blocks; they reach the same API routes as HTTP callers
 * through settings.route. A host function that waits on a backend parks the
 * guest (wg_func_resume, engine/include/wasmgate.h): the loop thread serves
 * other requests meanwhile and the guest resumes when the answer arrives.
 *
 * Instances: a fresh instance (new store) per request, the default of Spin
 * and wasmCloud, or (settings.pooled, http-wasm apps) warm instances reused.
 * A trap, a deadline or the memory cap fails that request only (500) and
 * the instance is discarded.
 *
 * Threading: the app (compiled module, settings) is shared read-only by
 * every loop thread; each call runs on the loop it was made on.
 */
#ifndef WGG_WASMHOST_APP_H
#define WGG_WASMHOST_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/client.h"
#include "http/server.h"
#include "wggate.h"

/* How the guest is called (detected from its exports). */
typedef enum wgg_app_abi { WGG_APP_ABI_HTTP_WASM = 1, WGG_APP_ABI_WAGI = 2, WGG_APP_ABI_WASI_HTTP = 3 } wgg_app_abi;

typedef struct wgg_wasm_app_settings {
  const char *app_id;         /* the app's ID (copied): DAPR_APP_ID for WAGI, the caller of host calls */
  uint64_t deadline_ms;       /* guest CPU time allowed per request (time parked excluded); 0 = none */
  uint32_t max_memory_pages;  /* memory cap in 64 KiB pages; 0 = 1024 (64 MiB) */
  size_t max_response;        /* bytes a WAGI app may write to stdout; 0 = 4 MiB */
  const char *api_token;      /* DAPR_API_TOKEN that the host calls carry (copied), NULL/"" = none */
  int http_port;              /* the sidecar's HTTP port (DAPR_HTTP_PORT for WAGI apps) */
  /* The API router the dapr host functions reach (api.h wgg_api_route): it
   * gets a request built in memory with a respond hook and answers it now or
   * later on req->loop. */
  void (*route)(wgg_http_req *req, void *ctx);
  void *route_ctx;
  /* The app's API instance (borrowed, outlives the app; may be NULL): a wasi:http component app's
   * wasi:keyvalue, wasi:config and wasi:messaging imports are served by its components
   * (wasmhost/p2_cloud.h), those its sidecar loaded for this app ID. */
  struct wgg_api *api;
  /* The configuration store component (of api) a component app's wasi:config reads (copied); NULL:
   * the app's only one (wasmhost/p2_cloud.h wgg_p2_config_define). */
  const char *config_store;
  /* Instance policy: false = fresh (a new instance per request, the default); true = pooled
   * (http-wasm apps: an instance that served a request well goes back to a process-wide pool of
   * at most 64 idle instances and serves up to max_invocations requests; globals and heap persist
   * across them). A failed request discards its instance either way. WAGI apps are always fresh. */
  bool pooled;
  uint32_t max_invocations;   /* 0 = 10000 */
  /* wasi:http components: the hosts outgoing-handler may reach (Spin's allowed_outbound_hosts;
   * docs/wasm-apps.md "Outbound requests"): entries "SCHEME://HOST[:PORT]" separated by commas
   * or spaces, `*` for any scheme, host or port, "*.example.com" for its subdomains; NULL or ""
   * allows none. `http://<app-id>.dapr/...` (service invocation) needs no entry. Copied. */
  const char *allowed_outbound_hosts;
  /* Metrics (observe/metrics.h; both may be NULL): observe(tag, method, status, ns, route_ctx) is
   * called for every dapr:v1 operation's answer (the app's calls to its sidecar API, as
   * wgg_http_server_config.observe is for HTTP callers); metrics (borrowed, outlives the app)
   * counts the app's calls, instances, pool hits, parked guests, failures and guest CPU time. */
  void (*observe)(int tag, int method, int status, uint64_t ns, void *route_ctx);
  struct wgg_metrics *metrics;
} wgg_wasm_app_settings;

typedef struct wgg_wasm_app wgg_wasm_app;

/* Loads and compiles the app from url (file://PATH, a bare path, http:// or
 * https://; wasmhost.h wgg_wasm_load: blocking, for start-up), detects its
 * ABI, and instantiates it once to check that it links (unknown imports fail
 * here, not on the first request). NULL with err:
 *   "wasm app: <load error>",
 *   "wasm app NAME: exports neither handle_request (http-wasm) nor _start (WAGI)",
 *   "wasm app NAME: unknown import MODULE.NAME", a dapr:v1 import with a wrong
 *   signature, or an http-wasm compile error (httpwasm.h's texts). */
wgg_wasm_app *wgg_wasm_app_load(const char *url, const wgg_wasm_app_settings *s, wgg_err *err);

/* Frees the app. No call may be in flight. NULL is ignored. */
void wgg_wasm_app_free(wgg_wasm_app *a);

/* Loads the app again from its url (as wgg_wasm_app_load) and swaps it in: calls in flight finish
 * on the old module (freed with the last of them), new calls get the new one; a module that does
 * not load leaves the old one in service. Blocking (compiles; may fetch): call it from the main
 * loop (SIGHUP, a file watcher), never from a worker loop. 0, or -1 with err. */
int wgg_wasm_app_reload(wgg_wasm_app *a, wgg_err *err);

/* The file a file:// (or bare path) url names, for change watching; NULL for http(s). Borrowed. */
const char *wgg_wasm_app_file(const wgg_wasm_app *a);

/* Watches the app's file on `loop` (a non-worker loop: reloading compiles there), checked every
 * interval_ms, and reloads the app when it changes (a module that does not load is logged and the
 * old one keeps serving), as the middleware's guests are watched. Nothing for http(s) urls.
 * 0 or -1 (OOM). Stop with wgg_wasm_app_unwatch on the same loop before the loop ends. */
int wgg_wasm_app_watch(wgg_wasm_app *a, uv_loop_t *loop, unsigned interval_ms);
void wgg_wasm_app_unwatch(wgg_wasm_app *a);

wgg_app_abi wgg_wasm_app_abi(const wgg_wasm_app *a);
/* "http-wasm", "wagi" or "wasi-http". */
const char *wgg_wasm_app_abi_name(const wgg_wasm_app *a);
/* The guest's name (the url's file name without .wasm). Borrowed. */
const char *wgg_wasm_app_name(const wgg_wasm_app *a);

/* Calls the app with one request on `loop` (the calling loop thread), with
 * wgg_http_client_request's contract: target "/path?query", headers without
 * Host/Content-Length/Connection (everything is copied), cb runs exactly
 * once, now or later on loop, with the response (valid during cb) or NULL
 * and a message. source is the original client's address ("" or NULL when
 * none) for REMOTE_ADDR. timeout_ms bounds the whole call, time parked
 * included (0 = none): past it cb gets "timeout" and the guest is discarded.
 * A guest failure answers 500 with a short text/plain body naming it
 * ("wasm error: unreachable", "wasm error: interrupted (deadline of N ms)",
 * "wasm app wrote more than N bytes"). Returns 0, or -1 on OOM (cb not run). */
int wgg_wasm_app_call(wgg_wasm_app *a, uv_loop_t *loop, const char *method, const char *target,
                      const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                      uint64_t timeout_ms, wgg_http_client_cb cb, void *user);
/* (timeout_ms is checked while the guest is parked or between two of its time slices; a wasi:http
 * component's guest is held to it per wait: each park, on a backend, a body or a clock, may last
 * that long.) */

/* Whether the app takes a streamed request body and may stream its answer (wgg_wasm_app_call_full):
 * a wasi:http component (its wasi:io streams are backed by the loop, issue 14). */
bool wgg_wasm_app_streams(const wgg_wasm_app *a);

/* wgg_wasm_app_call with, for an app that streams (wgg_wasm_app_streams), the request body taken
 * from src as the guest reads it (http/client.h wgg_http_body_source; body/len ignored; NULL: the
 * body is body/len) and the answer given through stream (http/client.h wgg_http_stream_cbs; its
 * head when the guest sets its response; NULL: cb gets it buffered). Other apps: src must be NULL
 * (-1 otherwise) and stream is ignored. */
int wgg_wasm_app_call_full(wgg_wasm_app *a, uv_loop_t *loop, const char *method, const char *target,
                           const wgg_http_header *headers, size_t n, const char *body, size_t len,
                           const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                           wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user);

/* For a call the sidecar makes on its own whose kind (http/client.h WGG_APP_CALL_KIND's value:
 * "topic\x1fPUBSUB\x1fTOPIC\x1fPATH", "subscriptions", "binding\x1fNAME", "bindings\x1fNAME",
 * "health") a component app serves with an exported handler (dapr:runtime subscriber or
 * input-bindings, wasi:messaging incoming-handler, wasmcloud:messaging handler: app_p2sub.c):
 * calls that handler and answers cb in the HTTP shape an HTTP app's answer would have ({"status":
 * "SUCCESS"|"RETRY"|"DROP"} for a delivery, GET /dapr/subscribe's JSON ...), as
 * wgg_wasm_app_call does (0, or -1 on OOM with cb not run). 1 when the app does not serve the
 * kind that way (any other app, a component without such an export): send the HTTP request. */
int wgg_wasm_app_callback(wgg_wasm_app *a, const char *kind, const wgg_http_header *headers, size_t n,
                          const char *body, size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user);

#endif
