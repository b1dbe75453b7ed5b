/*
 * server.h: a gRPC server on one libuv loop: HTTP/2 with prior knowledge
 * (h2c; RFC 9113 3.3) through libnghttp2, and gRPC's framing over it
 * (grpc/doc/PROTOCOL-HTTP2.md): for unary calls one length-prefixed message
 * in, one out, then the trailers grpc-status and grpc-message
 * (percent-encoded); streaming methods (the config's `streaming` hook) get
 * any number of messages each way (wgg_grpc_stream_*, at the end of this
 * file). It knows nothing of Dapr: a handler gets each complete call.
 *
 * Limits: messages larger than max_msg are refused with RESOURCE_EXHAUSTED
 * (grpc-go's MaxRecvMsgSize wording), as are request bytes beyond
 * max(16 x max_msg, 64 MiB) buffered at once on one connection (100 streams
 * of max_msg each could otherwise hold 400 MiB); headers larger than max_head reset the
 * stream, at most 100 concurrent streams per connection (SETTINGS), and the
 * grpc-timeout header arms a deadline (DEADLINE_EXCEEDED); a request still
 * incomplete read_timeout_ms after its HEADERS is reset (RST_STREAM CANCEL). A malformed frame
 * ends that connection only (GOAWAY); a stream reset by the client
 * (RST_STREAM) is forgotten, its handler's late answer dropped. A connection
 * idle for idle_timeout_ms with no stream open is closed. When the peer stops
 * reading, reading from it pauses once 1 MiB of output is queued.
 */
#ifndef WGG_GRPC_SERVER_H
#define WGG_GRPC_SERVER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wggate.h"

typedef struct wgg_grpc_server wgg_grpc_server;
typedef struct wgg_grpc_call wgg_grpc_call;

/* Called on the loop for each complete unary call. The handler must answer
 * it exactly once, now or later on the same loop, with wgg_grpc_reply or
 * wgg_grpc_fail. */
typedef void (*wgg_grpc_handler_fn)(wgg_grpc_call *call, void *user);

typedef struct wgg_grpc_server_config {
  size_t max_msg;           /* bytes of one message (--max-body-size) */
  size_t max_head;          /* bytes of a request's header list */
  uint64_t idle_timeout_ms; /* a connection with no open stream is closed after this */
  uint64_t read_timeout_ms; /* a request not complete this long after its HEADERS is reset (0: none) */
  wgg_grpc_handler_fn handler;
  void *user;
  /* optional: called when a dispatched call is answered, with its :path, the
   * gRPC status code, the time since dispatch in nanoseconds, and for a unary
   * call the bytes of its request message (decompressed) and of its answer's
   * message (0 for streaming calls) (logging, metrics); not called for
   * answers dropped because the client is gone */
  void (*observe)(const char *path, int code, uint64_t ns, uint64_t received, uint64_t sent, void *user);
  /* optional: whether the call (its :path and metadata are there) is a
   * streaming one (client and/or server streaming, or a call relayed as
   * such); its handler gets the call as soon as its HEADERS arrive, and uses
   * the wgg_grpc_stream_* functions */
  bool (*streaming)(const wgg_grpc_call *call, void *user);
} wgg_grpc_server_config;

/* Creates a server on loop (cfg copied). NULL with err on OOM. */
wgg_grpc_server *wgg_grpc_server_new(uv_loop_t *loop, const wgg_grpc_server_config *cfg, wgg_err *err);

/* Listens on host:port (as wgg_http_server_listen: SO_REUSEPORT, IPv6 in
 * brackets or not). Returns 0, or -1 with err naming the address. */
int wgg_grpc_server_listen(wgg_grpc_server *s, const char *host, int port, wgg_err *err);

/* Serves one already connected stream socket fd (ownership moves in; a
 * socketpair end works too): for tests and fuzzing. Returns 0 or -1 with err. */
int wgg_grpc_server_adopt(wgg_grpc_server *s, int fd, wgg_err *err);

/* Graceful drain: stops accepting, sends GOAWAY on every connection, which
 * closes once its calls in flight are answered. */
void wgg_grpc_server_drain(wgg_grpc_server *s);

/* Closes every connection now. Calls still running are answered into the void. */
void wgg_grpc_server_close_all(wgg_grpc_server *s);

/* Frees the server once its loop has run to completion. NULL is fine. */
void wgg_grpc_server_free(wgg_grpc_server *s);

/* ---- a call ---- */

/* The :path, e.g. "/dapr.proto.runtime.v1.Dapr/GetState". */
const char *wgg_grpc_call_path(const wgg_grpc_call *c);

/* The value of request metadata name (lower-case), or NULL. */
const char *wgg_grpc_call_header(const wgg_grpc_call *c, const char *name);

/* Request metadata i (0-based, in arrival order, pseudo-headers included):
 * 0 with *name and *value set, or -1 past the last. */
int wgg_grpc_call_header_at(const wgg_grpc_call *c, size_t i, const char **name, const char **value);

/* The request message's bytes (without the 5-byte prefix); valid during the
 * handler's own call only (decode them there). */
const uint8_t *wgg_grpc_call_msg(const wgg_grpc_call *c, size_t *len);

/* The loop the call runs on. */
uv_loop_t *wgg_grpc_call_loop(const wgg_grpc_call *c);

/* The client's address ("ip:port"). */
const char *wgg_grpc_call_peer(const wgg_grpc_call *c);

/* Adds response metadata (sent with the response headers; name lower-case).
 * Returns 0 or -1 on OOM. */
int wgg_grpc_call_add_header(wgg_grpc_call *c, const char *name, const char *value);

/* Adds response trailing metadata (sent with grpc-status; name lower-case;
 * at most 8). Returns 0 or -1 (OOM, full). */
int wgg_grpc_call_add_trailer(wgg_grpc_call *c, const char *name, const char *value);

/* Sets the grpc-status-details-bin trailer of an error answer: status is a
 * serialized google.rpc.Status (copied, sent base64-encoded). Returns 0 or -1
 * on OOM. */
int wgg_grpc_call_set_details(wgg_grpc_call *c, const uint8_t *status, size_t len);

/* As wgg_grpc_call_set_details with the trailer's value as received
 * (base64, copied): for relaying another server's answer. 0 or -1 on OOM. */
int wgg_grpc_call_set_details_b64(wgg_grpc_call *c, const char *b64);

/* Answers OK with msg packed (protobuf-c). The call is gone afterwards. */
void wgg_grpc_reply(wgg_grpc_call *c, const ProtobufCMessage *msg);

/* Answers with status code (non-zero) and a formatted grpc-message. */
void wgg_grpc_fail(wgg_grpc_call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether the client is gone (stream reset, connection closed, deadline
 * passed): the answer will be dropped. */
bool wgg_grpc_call_cancelled(const wgg_grpc_call *c);

/* Whether the call was taken as a streaming one (the config's streaming
 * hook said so at its HEADERS). */
bool wgg_grpc_call_streaming(const wgg_grpc_call *c);

/* ---- streaming calls (grpc/doc/PROTOCOL-HTTP2.md: any number of
 * length-prefixed messages each way on one HTTP/2 stream, interleaved) ----
 *
 * A streaming call's handler runs at its HEADERS, before any message. It
 * registers callbacks with wgg_grpc_stream_set, sends with
 * wgg_grpc_stream_send, and must end its part exactly once with
 * wgg_grpc_stream_finish (also after on_end reported the stream gone). All on
 * the call's loop. */

/* Called for each complete client message (bytes valid during the call only). */
typedef void (*wgg_grpc_stream_msg_fn)(wgg_grpc_call *call, const uint8_t *msg, size_t len, void *ctx);
/* Called when no more client messages come: the client half-closed (gone
 * false), or the stream is gone or was failed (reset, connection closed,
 * deadline, a bad message, drain: gone true; sends are dropped). After a
 * half-close it is called once more, with gone true, should the stream go
 * away before the handler finished it (a server-streaming method keeps
 * sending after the client's half-close). */
typedef void (*wgg_grpc_stream_end_fn)(wgg_grpc_call *call, bool gone, void *ctx);

void wgg_grpc_stream_set(wgg_grpc_call *call, wgg_grpc_stream_msg_fn on_msg, wgg_grpc_stream_end_fn on_end, void *ctx);

/* Queues msg (packed now) on the stream; the response headers go with the
 * first one. nghttp2 writes it as the client's flow-control window allows.
 * Returns 0, or -1 when the stream is gone or finished, or on OOM. */
int wgg_grpc_stream_send(wgg_grpc_call *call, const ProtobufCMessage *msg);

/* As wgg_grpc_stream_send with msg already packed (len bytes, copied). */
int wgg_grpc_stream_send_raw(wgg_grpc_call *call, const uint8_t *msg, size_t len);

/* Bytes queued by wgg_grpc_stream_send not yet taken by HTTP/2 (the client's
 * window is closed when this grows). */
size_t wgg_grpc_stream_queued(const wgg_grpc_call *call);

/* Ends the call with status code (0 = OK; else the formatted grpc-message)
 * after what is queued, and releases the handler's hold: the call is gone
 * for the handler afterwards. No callback is made after it. */
void wgg_grpc_stream_finish(wgg_grpc_call *call, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
