/*
 * pipeline.h: the HTTP middleware chain (Dapr Configuration
 * spec.httpPipeline / spec.appHttpPipeline; docs
 * operations/components/middleware). Handlers run in listed order on the
 * request and in reverse order on the response. The only handler type is
 * middleware.http.wasm (an http-wasm guest, shared/reference/http-wasm-abi.md
 * 2.1), whose instances come from bounded per-loop pools.
 *
 * Threading: a pipeline is built once and shared by every loop thread; each
 * request runs on its loop thread. The request path takes no lock: pools are
 * per loop, and the current module of a middleware is swapped atomically by
 * wgg_wasm_mw_reload (any thread).
 */
#ifndef WGG_PIPELINE_PIPELINE_H
#define WGG_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/component.h"
#include "http/client.h"
#include "http/server.h"
#include "pipeline/exchange.h"
#include "wggate.h"

/* ---- middleware.http.wasm ---- */

typedef struct wgg_wasm_mw wgg_wasm_mw;

/* Loop threads the pools are spread over (set before building middleware;
 * default 1): the default pool bound is WGG_WASM_MW_PER_LOOP per loop. */
void wgg_pipeline_set_loops(size_t n_loops);
enum { WGG_WASM_MW_PER_LOOP = 8, WGG_WASM_MW_MAX_LOOPS = 64 };

/* Creates a middleware.http.wasm handler from its component (Dapr
 * components-contrib middleware/http/wasm metadata): `url` (required;
 * file://PATH relative to the working directory or absolute; http:// and
 * https:// are fetched), `guestConfig` (bytes for get_config), `strictSandbox`
 * ("true"/"false"; forced true when force_strict, the Configuration's
 * spec.wasm.strictSandbox), wasmgate's own `maxConcurrency` (instances across
 * all loops, default loops x WGG_WASM_MW_PER_LOOP), `requestTimeout` (guest time
 * per request, Go duration, default 100ms), `poolTimeout` (how long a request
 * waits for a free instance before 503, default 1s) and `maxMemory` (guest
 * memory cap, quantity, default 64Mi). The guest is compiled and one instance
 * is created now, so a broken guest fails here with host-go's texts, prefixed
 * as Dapr does ("wasm: failed to parse metadata: missing url", "wasm: error
 * compiling guest: ...", "wasm: error instantiating guest: ..."). NULL + err. */
wgg_wasm_mw *wgg_wasm_mw_new(const wgg_component *c, bool force_strict, wgg_err *err);

/* Recompiles the guest from its url and swaps it in atomically when it
 * compiles and instantiates; requests in flight finish on the old module,
 * whose instances are discarded when they come back. Any thread (not
 * concurrently with itself for one middleware). 0, or -1 with err (the old
 * module stays). */
int wgg_wasm_mw_reload(wgg_wasm_mw *mw, wgg_err *err);

/* The file a file:// url names (for change watching), or NULL. Borrowed. */
const char *wgg_wasm_mw_file(const wgg_wasm_mw *mw);
const char *wgg_wasm_mw_name(const wgg_wasm_mw *mw);

/* Frees the middleware: every loop must have stopped (no request in flight). */
void wgg_wasm_mw_free(wgg_wasm_mw *mw);

/* ---- the chain ---- */

typedef struct wgg_pipeline {
  wgg_wasm_mw **mws; /* owned, in order */
  size_t n;
  struct wgg_pipeline_watch *watch; /* file watchers, when watched */
} wgg_pipeline;

/* Appends mw (ownership moves in). 0 or -1 (OOM; mw is freed). */
int wgg_pipeline_add(wgg_pipeline *pl, wgg_wasm_mw *mw);
/* Frees every middleware and the array (not pl). */
void wgg_pipeline_free(wgg_pipeline *pl);

/* Serves a server request through the chain, then through `next` (the API
 * router), whose answer (captured with the request's respond hook) flows back
 * through the chain before it is sent. The request the router sees carries
 * the guests' changes. On req->loop. Guests run in time slices (issue 18.9):
 * a CPU-bound guest parks between slices and the request is answered on a
 * later loop iteration; while a guest is parked the chain owns req->on_gone
 * (a client that goes away abandons the call and the request gets 500). */
void wgg_pipeline_serve(wgg_pipeline *pl, wgg_http_req *req, wgg_http_handler_fn next, void *user);

/* An outbound call through the chain (appHttpPipeline): the exchange starts
 * with method/target/headers/body (copied; `source` is the original client's
 * address), the guests run, then the request goes to host:port with `cl`
 * (see wgg_http_client_request), the response flows back through the chain
 * and cb gets it. cb runs exactly once, maybe during this call. 0, or -1
 * (OOM; cb not called). */
int wgg_pipeline_call(wgg_pipeline *pl, uv_loop_t *loop, wgg_http_client *cl, const char *host, int port,
                      const char *method, const char *target, const wgg_http_header *headers, size_t n,
                      const char *body, size_t len, const char *source, uint64_t timeout_ms,
                      wgg_http_client_cb cb, void *user);

/* The transport behind an outbound chain when it is not the HTTP client (a wasm app hosted
 * in-process, wasmhost/app.h): sends the request as the guests left it, with
 * wgg_http_client_request's contract (cb runs once unless it returns -1). */
/* Whether no guest of pl can see or change a body (none imports read_body
 * or write_body; checked against the current modules, which a reload may
 * change): a request body may then stream past the chain. */
bool wgg_pipeline_body_opaque(wgg_pipeline *pl);

/* wgg_pipeline_call with, when src is not NULL, the request body streamed
 * from src to the terminal call (body/len ignored; guests see an empty body:
 * only with wgg_pipeline_body_opaque), and, when stream is not NULL, the
 * answer streamed back past the chain (issue 18.3) when none of the guests
 * pinned for handle_response imports read_body or write_body: the head of a
 * 2xx/3xx answer goes through handle_response (reading from the app paused
 * meanwhile; guests may change status and headers), then stream->on_head
 * gets it as the guests left it (with the app's length: a guest cannot change
 * the body), and the body follows through on_chunk/on_end (contract of
 * wgg_http_stream_cbs). Otherwise, and when a guest fails in handle_response
 * or turns the status into an error, the answer is read whole and goes to cb.
 * Without stream, or with a guest that may see bodies, it is read whole as
 * by wgg_pipeline_call. */
int wgg_pipeline_call_src(wgg_pipeline *pl, uv_loop_t *loop, wgg_http_client *cl, const char *host, int port,
                          const char *method, const char *target, const wgg_http_header *headers, size_t n,
                          const char *body, size_t len, const wgg_http_body_source *src, const char *source,
                          uint64_t timeout_ms, wgg_http_client_cb cb, const wgg_http_stream_cbs *stream,
                          void *user);

typedef int (*wgg_pipeline_send_fn)(void *ctx, uv_loop_t *loop, const char *method, const char *target,
                                    const wgg_http_header *headers, size_t n, const char *body, size_t len,
                                    uint64_t timeout_ms, wgg_http_client_cb cb, void *user);

/* wgg_pipeline_call with `send(send_ctx, ...)` as the transport instead of cl (NULL); host:port
 * only name the Host the guests see. */
int wgg_pipeline_call_via(wgg_pipeline *pl, uv_loop_t *loop, wgg_pipeline_send_fn send, void *send_ctx,
                          const char *host, int port, const char *method, const char *target,
                          const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                          uint64_t timeout_ms, wgg_http_client_cb cb, void *user);

/* ---- building and reloading ---- */

/* One entry of a Configuration's spec.httpPipeline.handlers (or
 * appHttpPipeline): the middleware component's metadata.name and spec.type. */
typedef struct wgg_pipeline_spec {
  const char *name;
  const char *type;
} wgg_pipeline_spec;

/* Builds pl from handler specs, in order, finding each component by name
 * and type in comps (Dapr pkg/runtime buildHTTPPipelineForSpec). `what`
 * names the list in messages ("httpPipeline"). force_strict is the
 * Configuration's spec.wasm.strictSandbox. -1 + err (pl freed): "couldn't
 * find middleware component with name N and type T", a type other than
 * middleware.http.wasm, or the middleware's own load error (with the
 * component's file and line). */
int wgg_pipeline_build(wgg_pipeline *pl, const char *what, const wgg_pipeline_spec *specs, size_t n,
                       const wgg_component_list *comps, bool force_strict, wgg_err *err);

/* Reloads every middleware of pl (wgg_wasm_mw_reload), logging the result
 * of each. Returns the number that failed. */
size_t wgg_pipeline_reload(wgg_pipeline *pl);

/* Watches the file:// guests of pl on `loop` (a non-worker loop: reloading
 * compiles there) and reloads a middleware when its file changes (checked
 * every interval_ms). 0 or -1 (OOM). Stop with wgg_pipeline_unwatch on the
 * same loop before the loop ends. */
int wgg_pipeline_watch(wgg_pipeline *pl, uv_loop_t *loop, unsigned interval_ms);
void wgg_pipeline_unwatch(wgg_pipeline *pl);

/* ---- internal to pipeline/ ---- */

typedef struct wgg_hw_instance wgg_hw_instance;
typedef void (*wgg_pool_cb)(void *user, wgg_hw_instance *inst, int status, const char *msg);

/* Takes an instance of mw's current module for a request on `loop`: an idle
 * one, a new one (while the loop's share of maxConcurrency allows), or the
 * next one released within poolTimeout. Returns the instance now, or NULL
 * and later calls cb(user, inst, 0, NULL) on the loop; on failure cb gets
 * inst NULL with status 503 (none free in time) or 500 (instantiation
 * failed, msg says why). *wait must stay valid until cb runs. */
typedef struct wgg_pool_wait {
  struct wgg_pool_wait *next;
  uv_timer_t *timer;
  wgg_hw_instance *granted;
  wgg_pool_cb cb;
  void *user;
  struct wgg_loop_pool *pool;
} wgg_pool_wait;
wgg_hw_instance *wgg_wasm_mw_acquire(wgg_wasm_mw *mw, uv_loop_t *loop, wgg_pool_wait *wait, wgg_pool_cb cb,
                                     void *user, wgg_err *err, int *status);
/* Whether mw's current guest imports read_body or write_body. */
bool wgg_wasm_mw_touches_body(wgg_wasm_mw *mw);
/* Returns an instance after its request: back to the pool, to a waiter, or
 * freed when `broken` (it trapped) or its module was replaced. */
void wgg_wasm_mw_release(wgg_wasm_mw *mw, uv_loop_t *loop, wgg_hw_instance *inst, bool broken);

#endif
