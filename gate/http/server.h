/*
 * server.h: an HTTP/1.1 server on one libuv loop, parsing with http-parser.
 * Keep-alive and pipelining (requests on one connection are answered in
 * order, one at a time; parsing pauses while more than 1 MiB or 64 answers
 * wait unread, and a queue that makes no progress for write_timeout_ms
 * closes), limits on the request head (431, counted exactly) and body (413),
 * RFC 9112 framing checks (400/501/505: see docs/sidecar.md), header-read,
 * whole-request-read and keep-alive idle timeouts, a lingering close after
 * error answers, accept back-off on EMFILE/ENFILE, and a drain for graceful
 * shutdown. Answers may be streamed (wgg_http_stream_*) and, for requests
 * the handler asks for at the end of their head (stream_body), so may request
 * bodies (wgg_http_req_body_read), with back-pressure both ways. One server per loop thread; several servers may listen on the
 * same port (SO_REUSEPORT) so the kernel spreads connections.
 */
#ifndef WGG_HTTP_SERVER_H
#define WGG_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wggate.h"

typedef struct wgg_http_header {
  const char *name; /* as received */
  const char *value;
} wgg_http_header;

typedef struct wgg_http_conn wgg_http_conn;
typedef struct wgg_http_req wgg_http_req;

/* See wgg_http_req.respond_hook. */
typedef void (*wgg_http_respond_hook)(wgg_http_req *req, int status, const char *content_type,
                                      const wgg_http_header *headers, size_t n, const char *body, size_t len);

/* A parsed request. Owned by the server; valid until wgg_http_respond. */
struct wgg_http_req {
  int method;              /* enum http_method of http_parser.h */
  const char *method_name; /* "GET", ... */
  char *url;               /* raw request target, e.g. "/v1.0/state/s/k?metadata.x=1" */
  char *path;              /* url up to '?', not percent-decoded */
  char *query;             /* after '?', "" when none */
  wgg_http_header *headers;
  size_t n_headers;
  char *body; /* NUL-terminated for convenience; body_len excludes the NUL */
  size_t body_len;
  bool keep_alive;
  int tag;             /* set by the handler (a route id for metrics); 0 by default */
  uint64_t start_ns;   /* uv_hrtime() when the request was dispatched */
  uv_loop_t *loop;     /* the loop the request runs on */
  int http_major, http_minor; /* protocol version, e.g. 1.1 */
  char remote_addr[64];       /* the client, "ip:port" or "[ip6]:port" ("" when unknown) */
  /* Optional interception (the middleware pipeline): when set, wgg_http_respond
   * clears it and passes the response to it instead of sending it; req stays
   * alive, and whoever set the hook answers it later with wgg_http_respond. */
  wgg_http_respond_hook respond_hook;
  void *hook_user;
  /* Optional: called once on the loop thread when the client goes away (its
   * connection reads EOF or an error, or is closed) while this request is in
   * flight, as Go's request context is cancelled; the handler still answers
   * it later with wgg_http_respond (into the void). Never called after that. */
  void (*on_gone)(wgg_http_req *req, void *user);
  void *gone_user;
  /* Set when the request was dispatched at the end of its head, before its
   * body was read (wgg_http_server_config.stream_body said so): body is ""
   * until the handler reads it with wgg_http_req_body_read (streamed) or
   * wgg_http_req_body_buffer (whole, into body/body_len). body_length is the
   * announced Content-Length, or -1 when the body is chunked. */
  bool body_streams;
  int64_t body_length;
  wgg_http_conn *conn; /* private */
  size_t own_size;     /* private: the bytes of the request's own block (wgg_http_req_free_part) */
};

/* Frees part, a string or array that req points to (url, path, headers,
 * body) and that the caller is replacing: the server keeps some of them
 * inside the request's own allocation, where they must not be freed alone
 * (then this does nothing). NULL is fine. For requests the server built;
 * on any other wgg_http_req (own_size 0) it is free(part). */
void wgg_http_req_free_part(const wgg_http_req *req, void *part);

/* Whether part lies in req's own allocation (see wgg_http_req_free_part):
 * it cannot be moved elsewhere or reallocated, only copied. */
bool wgg_http_req_in_block(const wgg_http_req *req, const void *part);

/* Called on the loop thread for each complete request. The handler must call
 * wgg_http_respond exactly once, now or later from the same loop thread. */
typedef void (*wgg_http_handler_fn)(wgg_http_req *req, void *user);

typedef struct wgg_http_server_config {
  size_t max_body;         /* bytes; larger bodies get 413 */
  size_t max_head;         /* bytes of the request head as sent (request line, header lines, their
                              CRLFs and the empty line); a larger head gets 431 */
  uint64_t header_timeout_ms;
  uint64_t read_timeout_ms;
  uint64_t idle_timeout_ms;
  /* a connection whose queued responses (over 1 MiB or 64 of them, when the
   * next pipelined request waits) make no progress for this long is closed;
   * 0: never */
  uint64_t write_timeout_ms;
  wgg_http_handler_fn handler;
  void *user;
  /* optional: called in wgg_http_respond with the request's tag, its status
   * and the time since dispatch in nanoseconds (for metrics) */
  void (*observe)(int tag, int method, int status, uint64_t ns, void *user);
  /* optional (issue 18.3): called at the end of the head of a request that
   * has a body (req as dispatched, body_streams set, nothing of the body
   * read); true dispatches it now with its body streamed (see
   * wgg_http_req.body_streams), false reads the whole body first as usual
   * (req is then discarded). */
  bool (*stream_body)(const wgg_http_req *req, void *user);
  /* bodies of up to this many bytes are read whole, never streamed: a
   * Content-Length up to it is not offered to stream_body; a chunked body
   * offered and accepted is read this far first and streams only when it is
   * longer (its first piece is then what was read) */
  size_t stream_body_min;
} wgg_http_server_config;

typedef struct wgg_http_server wgg_http_server;

/* Creates a server on loop (cfg copied). Returns NULL with err on OOM. */
wgg_http_server *wgg_http_server_new(uv_loop_t *loop, const wgg_http_server_config *cfg, wgg_err *err);

/* Listens on host:port ("0.0.0.0", "127.0.0.1", "::1" or "[::1]") with
 * SO_REUSEADDR and SO_REUSEPORT. Returns 0, or -1 with err naming the address
 * and the system error. */
int wgg_http_server_listen(wgg_http_server *s, const char *host, int port, wgg_err *err);

/* Starts a graceful drain: stops accepting, closes idle connections, lets
 * in-flight requests finish and answers them with "Connection: close".
 * on_drained(user) runs on the loop once no connection is left. */
void wgg_http_server_drain(wgg_http_server *s, void (*on_drained)(void *), void *user);

/* Closes every connection now (the drain deadline passed). In-flight
 * requests are answered into the void when their handler completes. */
void wgg_http_server_close_all(wgg_http_server *s);

/* Serves fd, an already connected stream socket (non-blocking, e.g. one end
 * of a socketpair: tests and fuzz/fuzz_http.c), as if it had been accepted.
 * The server owns fd from now on. Returns 0, or -1 when it could not be
 * taken (draining, out of memory; fd is closed). */
int wgg_http_server_adopt(wgg_http_server *s, int fd);

/* Number of open connections. */
size_t wgg_http_server_connections(const wgg_http_server *s);

/* Frees the server. Call after the loop has run to completion (all handles
 * closed). */
void wgg_http_server_free(wgg_http_server *s);

/* Answers req and releases it. status is an HTTP status; content_type may be
 * NULL (no header); headers (n of them) are extra response headers; body may
 * be NULL when len is 0. No body is sent for 204/304 or HEAD. Must run on
 * req->loop. headers and body may point into req (its URL, headers or body):
 * they are copied before req is released. After it returns req is gone. */
void wgg_http_respond(wgg_http_req *req, int status, const char *content_type, const wgg_http_header *headers,
                      size_t n, const char *body, size_t len);

/* Streaming a response (issue 18.3: service invocation passes an app's
 * answer through as it arrives). wgg_http_stream_begin sends the head of
 * req's answer: status, headers (n; no framing headers, they are added) and
 * "Content-Length: length", or "Transfer-Encoding: chunked" when length is
 * -1. Not for HEAD, 1xx, 204 or 304, nor while req->respond_hook is set.
 * Returns 0, or -1 when it cannot start (the client is gone, out of memory,
 * not allowed): req must still be ended with wgg_http_stream_end. */
int wgg_http_stream_begin(wgg_http_req *req, int status, const wgg_http_header *headers, size_t n, int64_t length);

/* Queues len bytes of the body (copied; framed as a chunk when chunked).
 * Returns 0, 1 when the connection's queue is at the back-pressure mark (the
 * 1 MiB of the pipelining bound: stop producing until the drain callback),
 * or -1 when the client is gone or more than the announced length was given. */
int wgg_http_stream_write(wgg_http_req *req, const char *data, size_t len);

/* Calls fn(user) once on the loop when the queue has drained below half the
 * mark (once per registration). A queue that makes no progress for the
 * server's write_timeout_ms closes the connection (req->on_gone runs). */
void wgg_http_stream_on_drain(wgg_http_req *req, void (*fn)(void *user), void *user);

/* Ends a streamed answer and releases req. ok: the body is complete (the
 * terminating chunk is sent; with a Content-Length, all of it must have been
 * written, else it counts as not ok). Not ok: what is queued is written and
 * the connection is closed, so the client sees a cut-off body (short of the
 * Content-Length, or no terminating chunk), never a complete-looking one. */
void wgg_http_stream_end(wgg_http_req *req, bool ok);

/* Reading a streamed request body (wgg_http_req.body_streams). */
typedef struct wgg_http_body_cbs {
  /* A piece of the body (valid during the call). Return 0 to go on, 1 to
   * pause reading from the client (the socket is no longer read, so the
   * client's TCP window closes) until wgg_http_req_body_resume. */
  int (*on_data)(void *user, const char *data, size_t len);
  /* The end, exactly once, unless req is answered first (answering detaches
   * the reader: no call after that). status 0: the body arrived complete;
   * 413: it passed max_body (chunked; an announced Content-Length over it was
   * refused before dispatch); 400: malformed chunked framing; 499: the client
   * closed the connection (or it was closed) before the body was complete.
   * errmsg says why (static), NULL for 0. The handler still answers req. */
  void (*on_end)(void *user, int status, const char *errmsg);
} wgg_http_body_cbs;

/* Starts reading req's streamed body into cbs (copied): pieces are handed
 * over as they are parsed, on req->loop (possibly during this call).
 * Answering req before the end (wgg_http_respond, wgg_http_stream_end) is
 * allowed: the rest of the body is not read, the answer carries
 * "Connection: close" and the connection closes lingeringly after it (as
 * nginx), so the client reads the answer rather than a reset. Returns 0, or
 * -1 when req has no streamed body or a reader already. */
int wgg_http_req_body_read(wgg_http_req *req, const wgg_http_body_cbs *cbs, void *user);

/* Pauses reading a streamed body (as on_data returning 1 does; between two
 * pieces: nothing more is handed over until wgg_http_req_body_resume). */
void wgg_http_req_body_pause(wgg_http_req *req);

/* Resumes a body paused by on_data returning 1 or wgg_http_req_body_pause. No-op otherwise. */
void wgg_http_req_body_resume(wgg_http_req *req);

/* Reads req's streamed body whole into req->body / body_len (NUL-terminated,
 * bounded by max_body), then calls done(req, status, errmsg, user) with
 * on_end's status and errmsg (0 / NULL: body_streams is now false and the
 * request looks as if it had been buffered from the start). On failure the
 * handler answers req (413 "Request Entity Too Large" for 413). A request
 * whose body does not stream calls done at once. Returns 0, or -1 on OOM
 * (done not called). */
int wgg_http_req_body_buffer(wgg_http_req *req, void (*done)(wgg_http_req *req, int status, const char *errmsg, void *user),
                             void *user);

/* Returns the value of header name (case-insensitive), or NULL. */
const char *wgg_http_req_header(const wgg_http_req *req, const char *name);

/* The reason phrase of an HTTP status ("OK", "Not Found", ...). */
const char *wgg_http_reason(int status);

/* The method number (enum http_method of http_parser.h, as
 * wgg_http_req.method) of a method name ("GET", case-sensitive), or -1 for a
 * method http-parser does not know. */
int wgg_http_method_number(const char *name);

#endif
