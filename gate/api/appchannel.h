/*
 * appchannel.h: every call the sidecar makes to its own app goes through
 * wgg_app_call (service invocation now; pub/sub delivery and input bindings
 * should use it too). It applies what daprd's HTTP app channel applies
 * (dapr pkg/channel/http/http_channel.go):
 *   - no --app-port: "app channel is not initialized";
 *   - --enable-app-health-check and the app is unhealthy: refused with
 *     "app is not in a healthy state" (the probe itself is runtime/apphealth.c);
 *   - --app-max-concurrency N: at most N calls in flight process-wide; more
 *     wait in FIFO order per loop thread (daprd's semaphore);
 *   - APP_API_TOKEN as the dapr-api-token header;
 *   - --max-body-size bounds the app's answer (the caller's client is set
 *     to it: pub/sub, bindings, jobs and configuration deliveries included);
 *   - the Configuration's appHttpPipeline (pipeline/pipeline.h), when it has
 *     handlers: the guests see and may change every call to the app.
 */
#ifndef WGG_API_APPCHANNEL_H
#define WGG_API_APPCHANNEL_H

#include <uv.h>

#include "api/api.h"
#include "http/client.h"

/* The process-wide limit of --app-max-concurrency. Thread-safe. */
typedef struct wgg_app_limit wgg_app_limit;

/* Creates the limit for max calls in flight. Returns NULL when max <= 0 (no
 * limit) or on OOM (*oom set). */
wgg_app_limit *wgg_app_limit_new(int max, bool *oom);

/* Frees the limit. Every loop thread must have called wgg_app_limit_thread_close. */
void wgg_app_limit_free(wgg_app_limit *l);

/* Registers the calling thread's loop (one per loop thread, before its first
 * call): calls that must wait are resumed on it through a uv_async_t. l may be
 * NULL (no limit: nothing to do). Returns 0 or -1 (OOM: this thread's calls
 * then bypass the limit, with a warning). */
int wgg_app_limit_thread_init(wgg_app_limit *l, uv_loop_t *loop);

/* Unregisters the calling thread's loop (on its shutdown): calls still
 * waiting on it complete with an error ("the sidecar is shutting down"); the
 * async handle is closed. */
void wgg_app_limit_thread_close(wgg_app_limit *l);

/* Sends one request to the app (http://<app-channel-address>:<app-port>),
 * as wgg_http_client_request does (target "/path?query", headers without
 * Host/Content-Length/Connection; everything is copied), with the checks
 * above, through the appHttpPipeline. cl is the calling loop's client
 * (req->loop->data). source is the original client's address for the
 * pipeline's guests (get_source_addr), NULL for calls the sidecar makes on
 * its own (pub/sub delivery, input bindings). Returns 0 and cb
 * runs exactly once later (or during the call, as the client may), or -1 with
 * *why set to Dapr's reason (a static string) and cb not run:
 * "app channel is not initialized", "rpc error: code = Internal desc = app is
 * not in a healthy state" (daprd's text, status.Error formatted by Go), or
 * "out of memory". */
int wgg_app_call(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                 const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                 uint64_t timeout_ms, wgg_http_client_cb cb, void *user, const char **why);

/* wgg_app_call with the answer's body streamed through stream (see
 * http/client.h wgg_http_stream_cbs), when the call goes to an app process
 * over HTTP, through its appHttpPipeline only when no guest there imports
 * read_body or write_body (pipeline.h wgg_pipeline_call_src; a guest that may
 * read the body gets it whole, as http-wasm-host-go buffers only then);
 * otherwise stream is ignored and cb gets the buffered answer. With --app-max-concurrency the slot is held
 * until on_end (or cb) runs. stream may be NULL. */
int wgg_app_call_stream(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                        const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                        uint64_t timeout_ms, wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user,
                        const char **why);

/* wgg_app_call_stream with, when src is not NULL, the request body streamed
 * from src (http/client.h wgg_http_body_source; body/len ignored). Only where
 * wgg_app_can_upload: otherwise -1 with *why set. */
int wgg_app_call_full(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                      const wgg_http_header *headers, size_t n, const char *body, size_t len,
                      const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                      wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user, const char **why);

/* What the app channel keeps for one call while it is under way (the metrics
 * of dapr_http_client_*: start time, method, status, the caller's callbacks).
 * Opaque; see wgg_app_call_in. */
typedef struct wgg_app_call_room {
  void *m;
  uint64_t t0;
  int status;
  bool owned;
  char method[16];
  wgg_http_client_cb cb;
  const wgg_http_stream_cbs *scb;
  void *user;
} wgg_app_call_room;

/* wgg_app_call_full keeping its bookkeeping in room instead of an allocation
 * of its own (one less per call; issue 17). room must stay valid until cb or
 * stream->on_end has been called; the channel does not touch it after
 * calling either, so they may free the memory holding it. room NULL is
 * wgg_app_call_full. */
int wgg_app_call_in(wgg_app_call_room *room, wgg_api *api, wgg_http_client *cl, const char *method,
                    const char *target, const wgg_http_header *headers, size_t n, const char *body, size_t len,
                    const wgg_http_body_source *src, const char *source, uint64_t timeout_ms, wgg_http_client_cb cb,
                    const wgg_http_stream_cbs *stream, void *user, const char **why);

/* Whether a request body may stream to the app: an app process over HTTP
 * whose appHttpPipeline, if any, has no guest that imports read_body or
 * write_body (a guest that asks for the body gets it whole, as the http-wasm
 * host buffers only for such guests). */
bool wgg_app_can_upload(wgg_api *api);

/* Whether wgg_app_call_stream may stream (an HTTP app; through an
 * appHttpPipeline only answers no guest may see: wgg_pipeline_call_src). */
bool wgg_app_can_stream(const wgg_api *api);

/* The app channel as a wgg_app_channel (http/client.h) for layers below the
 * API: call is wgg_app_call (source NULL), thread_init/thread_close are
 * wgg_app_limit_thread_init/_close, healthy the health checks' verdict. api
 * must outlive its users. */
wgg_app_channel wgg_app_channel_of(wgg_api *api);

#endif
