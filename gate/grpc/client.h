/*
 * client.h: a gRPC client on one libuv loop, for the app channel of a gRPC
 * app (--app-protocol grpc): HTTP/2 with prior knowledge (h2c; RFC 9113
 * 3.3) through libnghttp2, unary calls only (grpc/doc/PROTOCOL-HTTP2.md:
 * HEADERS with te: trailers and grpc-timeout, one length-prefixed message,
 * END_STREAM; the answer's message and its grpc-status/grpc-message
 * trailers, or a trailers-only answer).
 *
 * One connection per client (so one per loop thread), opened on the first
 * call; its calls are multiplexed as streams (beyond the app's
 * SETTINGS_MAX_CONCURRENT_STREAMS nghttp2 holds them until a stream ends).
 * A GOAWAY from the app lets the streams it accepted finish on the old
 * connection while new calls open a new one; streams the app refused
 * (REFUSED_STREAM, or above the GOAWAY's last stream id) are retried once on
 * a new connection, as grpc-go retries them transparently. A connection the
 * app closes fails its open calls with UNAVAILABLE; the next call dials
 * again. Calls that ask for a deadline get grpc-timeout and are cancelled
 * (RST_STREAM CANCEL) with DEADLINE_EXCEEDED when it passes. An answer
 * whose message exceeds max_msg, or whose metadata exceed 64 KiB, is reset
 * and fails with RESOURCE_EXHAUSTED; reading from an app that does not read
 * pauses once 1 MiB of output waits.
 *
 * Compression (grpc/doc/compression.md): requests are sent uncompressed and
 * say `grpc-accept-encoding: gzip`; an answer compressed with gzip is
 * gunzipped (bounded by max_msg after decompression: RESOURCE_EXHAUSTED
 * "grpc: received message after decompression larger than max N", as
 * grpc-go), another encoding fails INTERNAL as grpc-go's client does. The
 * answer's grpc-encoding and grpc-accept-encoding are not in its metadata.
 */
#ifndef WGG_GRPC_CLIENT_H
#define WGG_GRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/client.h"

typedef struct wgg_grpc_client wgg_grpc_client;

/* gRPC status codes (grpc/doc/statuscodes.md) used by the client. */
enum {
  WGG_GRPC_OK = 0,
  WGG_GRPC_CANCELLED = 1,
  WGG_GRPC_UNKNOWN = 2,
  WGG_GRPC_DEADLINE_EXCEEDED = 4,
  WGG_GRPC_RESOURCE_EXHAUSTED = 8,
  WGG_GRPC_UNIMPLEMENTED = 12,
  WGG_GRPC_INTERNAL = 13,
  WGG_GRPC_UNAVAILABLE = 14,
};

/* The outcome of one call, valid during the callback only. code is the gRPC
 * status (WGG_GRPC_OK or another), message its grpc-message (decoded; ""
 * when none), msg/len the answer's message without its 5-byte prefix (NULL/0
 * when the call failed or the app sent none), md the answer's headers and
 * trailers (lower-case names, pseudo-headers and grpc-status/-message
 * left out; grpc-status-details-bin kept, base64 as received): md[0..n_head)
 * came with the response headers, the rest with the trailers (all of a
 * trailers-only answer's are trailers). */
typedef struct wgg_grpc_result {
  int code;
  const char *message;
  const uint8_t *msg;
  size_t len;
  const wgg_http_header *md;
  size_t n_md;
  size_t n_head;
} wgg_grpc_result;

typedef void (*wgg_grpc_client_cb)(void *user, const wgg_grpc_result *r);

/* Creates a client of host:port (an IPv4 or IPv6 literal, brackets allowed;
 * "localhost" is 127.0.0.1) on loop. max_msg bounds an answer's message
 * (RESOURCE_EXHAUSTED beyond it; 0: 4 MiB, grpc-go's default). Nothing is
 * dialed yet. Returns NULL on OOM or a host that is not an address. */
wgg_grpc_client *wgg_grpc_client_new(uv_loop_t *loop, const char *host, int port, size_t max_msg);

/* Starts a unary call of path ("/package.Service/Method") with the request
 * message msg/len (copied) and metadata md (n entries, copied; names must be
 * lower-case; pseudo-headers and connection-specific names are skipped).
 * timeout_ms > 0 sets the deadline. cb runs exactly once on the loop:
 * later, or during this call when nghttp2 refuses the stream at once (cb
 * then gets UNAVAILABLE). Returns 0, or -1 on OOM or after
 * wgg_grpc_client_close (cb not run). */
int wgg_grpc_client_call(wgg_grpc_client *c, const char *path, const wgg_http_header *md, size_t n,
                         const uint8_t *msg, size_t len, uint64_t timeout_ms, wgg_grpc_client_cb cb, void *user);

/* Uses fd, an already connected stream socket (ownership moves in; a
 * socketpair end works too), as the client's connection for its next calls:
 * for tests and fuzzing. Returns 0 or -1. */
int wgg_grpc_client_adopt(wgg_grpc_client *cl, int fd);

/* Closes the client: calls in flight still complete (their deadlines hold),
 * then the connections close and the client is freed. Idle connections
 * close now. NULL is fine. */
void wgg_grpc_client_close(wgg_grpc_client *c);

#endif
