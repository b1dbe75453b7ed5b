/*
 * client.h: an outbound HTTP/1.1 client on one libuv loop (the sidecar's app
 * channel). Connections to each host:port are kept alive and reused (a small
 * idle pool per client); a request that finds its pooled connection closed by
 * the peer before any response byte is retried once on a new connection.
 * Responses are parsed with http-parser; an answer's body may be streamed
 * (wgg_http_stream_cbs) and so may a request body (wgg_http_body_source).
 * One client per loop thread: not thread-safe.
 */
#ifndef WGG_HTTP_CLIENT_H
#define WGG_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/server.h"

typedef struct wgg_http_client wgg_http_client;

/* A response; everything is owned by the client and valid during the callback only. */
typedef struct wgg_http_response {
  int status;
  wgg_http_header *headers;
  size_t n_headers;
  const char *body;
  size_t body_len;
} wgg_http_response;

/* Completion: resp is NULL on failure, with errmsg saying why (connect
 * refused, timeout, malformed response...). Runs on the client's loop. */
typedef void (*wgg_http_client_cb)(void *user, const wgg_http_response *resp, const char *errmsg);

/* The default response body limit of a client (bytes). */
#define WGG_HTTP_CLIENT_MAX_BODY (256u << 20)

/* Creates a client on loop. Returns NULL on OOM. */
wgg_http_client *wgg_http_client_new(uv_loop_t *loop);

/* Sends one request to host:port (an IPv4/IPv6 literal, or a name resolved
 * with uv_getaddrinfo on the thread pool, IPv4 preferred).
 * target is the request target ("/path?query"); headers (n) are sent as given
 * plus Host, Content-Length and Connection: keep-alive (do not pass
 * those). The call copies what it needs. timeout_ms bounds the whole exchange
 * (0 = none). cb runs exactly once: normally later on the loop, but already
 * during this call when the connection cannot even be attempted. Returns 0,
 * or -1 (out of memory or an invalid host; cb will not run). */
int wgg_http_client_request(wgg_http_client *cl, const char *host, int port, const char *method, const char *target,
                            const wgg_http_header *headers, size_t n, const char *body, size_t len,
                            uint64_t timeout_ms, wgg_http_client_cb cb, void *user);

/* Whether a header is hop-by-hop or framing (connection, keep-alive,
 * transfer-encoding, content-length, host, expect, ...; RFC 9110 7.6.1):
 * a proxy does not forward it, whoever sends recomputes it. Case-insensitive. */
bool wgg_http_hop_header(const char *name);

/* Sets the largest response body cl accepts (bytes; 0: the default,
 * WGG_HTTP_CLIENT_MAX_BODY). A larger body fails the request with errmsg
 * "the response body is larger than the N-byte limit (--max-body-size)"; the
 * sidecar passes --max-body-size, which daprd applies to the app's responses
 * (pkg/channel/http LimitReadCloser). */
void wgg_http_client_set_max_body(wgg_http_client *cl, size_t max_body);

/* Streaming a response (issue 18.3): instead of buffering the body, a
 * request made with wgg_http_client_request_stream hands it over piece by
 * piece. The handle names the request while it streams. */
typedef struct wgg_http_client_stream wgg_http_client_stream;

typedef struct wgg_http_stream_cbs {
  /* The head of a 2xx/3xx answer to a request other than HEAD arrived (resp
   * has status and headers, no body; length is the announced Content-Length,
   * -1 when the body is chunked or delimited by the end of the connection).
   * Return 1 to stream (cb will not run; on_chunk and on_end will), 0 to
   * buffer as wgg_http_client_request does (cb runs), -1 to abort (the app
   * connection is closed, on_end runs with an error). Other statuses and
   * failures before the head always go to cb, buffered, as daprd reads
   * non-2xx/3xx answers whole. */
  int (*on_head)(void *user, wgg_http_client_stream *s, const wgg_http_response *resp, int64_t length);
  /* A piece of the body (valid during the call). Return 0 to go on, 1 to
   * pause reading from the app until wgg_http_client_stream_resume, -1 to
   * abort (the app connection is closed, on_end runs with an error). */
  int (*on_chunk)(void *user, const char *data, size_t len);
  /* The end, exactly once after on_head returned 1 or -1: errmsg NULL when the
   * body arrived complete; otherwise why it did not (the app closed the
   * connection or sent garbage, the body passed the client's max_body
   * (--max-body-size, counted over the streamed bytes as daprd's
   * LimitReadCloser does), no byte for timeout_ms, aborted). */
  void (*on_end)(void *user, const char *errmsg);
} wgg_http_stream_cbs;

/* wgg_http_client_request with streaming of the answer's body through
 * stream (copied; see wgg_http_stream_cbs). While streaming, timeout_ms bounds
 * each wait for the app's next bytes (not counting pauses) instead of the
 * whole exchange. Returns 0 or -1 as wgg_http_client_request. */
int wgg_http_client_request_stream(wgg_http_client *cl, const char *host, int port, const char *method,
                                   const char *target, const wgg_http_header *headers, size_t n, const char *body,
                                   size_t len, uint64_t timeout_ms, wgg_http_client_cb cb,
                                   const wgg_http_stream_cbs *stream, void *user);

/* Resumes reading a stream paused by on_chunk returning 1. No-op once ended. */
void wgg_http_client_stream_resume(wgg_http_client_stream *s);

/* Aborts a stream: closes the app connection; on_end runs with "aborted"
 * (now, or when the current parse step returns when called from a callback). */
void wgg_http_client_stream_abort(wgg_http_client_stream *s);

/* Streaming a request body (issue 18.3): a request made with
 * wgg_http_client_request_full and a body source sends its head with
 * "Content-Length: length" (or "Transfer-Encoding: chunked" when length is
 * -1) on a fresh connection (never a pooled one: a body that has begun to
 * flow cannot be sent again on a stale connection), then takes the body from
 * the source as the source writes it. */
typedef struct wgg_http_body_source {
  int64_t length; /* bytes, or -1: unknown (sent chunked) */
  /* The client takes body bytes now: first once the connection is up and
   * the head is on its way, then each time the app connection's write queue
   * drained below half the mark after wgg_http_client_body_write returned 1.
   * Never after the request completed (cb or on_end ran). */
  void (*on_want)(void *user, wgg_http_client_stream *s);
  /* Optional: the request is over (it completed, failed or was aborted; called
   * once, before cb / on_end): s is no longer valid. */
  void (*on_over)(void *user);
  void *user; /* on_want's and on_over's user (not the request's: layers between may wrap that) */
} wgg_http_body_source;

/* Queues len bytes of the request body (copied; framed as a chunk when the
 * length is unknown). Returns 0, 1 when the app connection's queue is at the
 * back-pressure mark (1 MiB: write no more until on_want), or -1 when the
 * request is over or more than the announced length was given (the request
 * is then failed: cb / on_end runs with an error). Only during on_want and
 * after it, on the client's loop. */
int wgg_http_client_body_write(wgg_http_client_stream *s, const char *data, size_t len);

/* Ends the request body (the final chunk when chunked). Returns 0, or -1 when
 * fewer bytes than the announced length were written (the request is failed:
 * cb / on_end runs with an error) or the request is over. */
int wgg_http_client_body_end(wgg_http_client_stream *s);

/* An in-process transport (a component wasm app, wasmhost/app_p2http.c) in
 * the place of an app connection: a stream handle whose
 * wgg_http_client_body_write, _body_end, _stream_resume and _stream_abort
 * call these with self (same contracts as for a connection), so a body
 * source and streamed-answer callbacks (api/invoke_pipe.c) drive either
 * alike. */
typedef struct wgg_http_stream_vt {
  int (*body_write)(void *self, const char *data, size_t len);
  int (*body_end)(void *self);
  void (*resume)(void *self);
  void (*abort)(void *self);
} wgg_http_stream_vt;

/* A stream handle on vt/self (vt must outlive it); NULL on OOM. Freed with
 * wgg_http_stream_virtual_free (its owner's call, after the last use). */
wgg_http_client_stream *wgg_http_stream_virtual(const wgg_http_stream_vt *vt, void *self);
void wgg_http_stream_virtual_free(wgg_http_client_stream *s);

/* wgg_http_client_request_stream with, when src is not NULL, the request body
 * taken from src (copied) instead of body/len. Returns 0 or -1 as
 * wgg_http_client_request. Failures before the response (connect refused,
 * the app closing or resetting the connection during the upload: errmsg
 * says so) complete the request through cb. */
int wgg_http_client_request_full(wgg_http_client *cl, const char *host, int port, const char *method,
                                 const char *target, const wgg_http_header *headers, size_t n, const char *body,
                                 size_t len, const wgg_http_body_source *src, uint64_t timeout_ms,
                                 wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user);

/* The loop cl runs on. */
uv_loop_t *wgg_http_client_loop(const wgg_http_client *cl);

/* A way to call the sidecar's own app, for the layers that must not reach
 * into the API (pub/sub delivery): api/appchannel.h makes one
 * (wgg_app_channel_of) that applies the app's health, --app-max-concurrency,
 * APP_API_TOKEN and the Configuration's appHttpPipeline, as every call daprd
 * makes to its app does. call has wgg_app_call's contract (target
 * "/path?query"; cb runs once unless it returns -1 with *why set).
 * thread_init / thread_close register a loop thread that makes calls (on
 * that thread: before its loop runs, and while it still runs at the end).
 * healthy tells whether the app may be called now (always true without
 * --enable-app-health-check): daprd pauses subscriptions while it is not. */
typedef struct wgg_app_channel {
  int (*call)(void *ctx, wgg_http_client *cl, const char *method, const char *target,
              const wgg_http_header *headers, size_t n, const char *body, size_t len, uint64_t timeout_ms,
              wgg_http_client_cb cb, void *user, const char **why);
  void (*thread_init)(void *ctx, uv_loop_t *loop);
  void (*thread_close)(void *ctx);
  bool (*healthy)(void *ctx); /* false while app health checks say the app is down (callers pause) */
  void *ctx;
} wgg_app_channel;

/* The name of an optional last header of a call to the app that says which
 * AppCallback method it is when the app speaks gRPC: a word and its
 * arguments separated by 0x1F ("topic\x1fpubsub\x1ftopic\x1fpath",
 * "subscriptions", ... : api/appchannel_grpc.h); the HTTP transports drop it. */
#define WGG_APP_CALL_KIND ":wg-call"

/* Shutdown's hard close (runtime/sidecar.c, at the end of the grace period): every request of cl
 * still in flight fails now, its callback (cb, or on_end when streaming) running with errmsg why
 * and its connection closed, and cl refuses new requests (those its callbacks try included).
 * A request whose connection is inside a parser callback is aborted when that step returns.
 * Same loop as cl. */
void wgg_http_client_abort_all(wgg_http_client *cl, const char *why);

/* Closes idle pooled connections and marks the client for deletion: it frees
 * itself once its requests in flight have completed (their callbacks still
 * run) and its handles are closed. */
void wgg_http_client_close(wgg_http_client *cl);

/* Keeps cl's memory alive for a holder that may use it later, across an
 * asynchronous gap (a pipeline run waiting for a guest instance from the
 * thread pool): each hold is matched by one wgg_http_client_release, and a
 * closed client is freed only when its requests and its holds are gone.
 * A held client that was closed meanwhile refuses new requests
 * (wgg_http_client_request_full returns -1), so the holder fails its call
 * instead of starting one during shutdown. Same loop as cl. */
void wgg_http_client_hold(wgg_http_client *cl);
void wgg_http_client_release(wgg_http_client *cl);

/* Another transport that lives as long as this client, on its loop (the
 * app channel's gRPC client, api/appchannel_grpc.c): ext is borrowed until
 * wgg_http_client_close, which calls ext_close(ext) first. NULL until set. */
void *wgg_http_client_ext(const wgg_http_client *cl);
void wgg_http_client_set_ext(wgg_http_client *cl, void *ext, void (*ext_close)(void *));

#endif
