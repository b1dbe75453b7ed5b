/*
 * exchange.h: the request and response a middleware chain works on
 * (shared/reference/http-wasm-abi.md 1.6-1.7). Unlike wgg_http_req, every
 * part is mutable: guests rewrite the method, the URI, headers and bodies, or
 * build the whole response themselves. The pipeline copies a server request
 * into an exchange, runs the guests, then hands the (possibly rewritten)
 * request to the next handler and captures its answer back into the
 * exchange.
 */
#ifndef WGG_PIPELINE_EXCHANGE_H
#define WGG_PIPELINE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"
#include "util/buf.h"

/* One header field; name and value are malloc'd and NUL-terminated. The
 * name keeps the case it was received or set with. */
typedef struct wgg_hdr {
  char *name;
  char *value;
} wgg_hdr;

/* An ordered list of header fields (several may share a name). */
typedef struct wgg_hdrs {
  wgg_hdr *v;
  size_t n, cap;
} wgg_hdrs;

/* Appends a field (name nlen bytes, value vlen bytes; copied). 0 or -1 (OOM). */
int wgg_hdrs_add(wgg_hdrs *h, const char *name, size_t nlen, const char *value, size_t vlen);
/* Removes every field named `name` (case-insensitive). */
void wgg_hdrs_remove(wgg_hdrs *h, const char *name, size_t nlen);
/* Replaces every field named `name` with one field holding value. 0 or -1. */
int wgg_hdrs_set(wgg_hdrs *h, const char *name, size_t nlen, const char *value, size_t vlen);
/* First value of `name` (case-insensitive), or NULL. Borrowed. */
const char *wgg_hdrs_get(const wgg_hdrs *h, const char *name);
/* Frees every field and the array; h becomes empty. */
void wgg_hdrs_free(wgg_hdrs *h);

typedef struct wgg_exchange {
  /* the request */
  char *method;          /* malloc'd, e.g. "GET" */
  char *uri;             /* malloc'd origin form "/path?query", still percent-encoded */
  const char *protocol;  /* static: "HTTP/1.1", "HTTP/1.0" */
  char source_addr[64];  /* "ip:port", "[v6]:port", "" when unknown */
  wgg_hdrs req_headers;
  wgg_buf req_body;
  wgg_hdrs req_trailers; /* header kind 2 (the trailers feature): set by guests, seen by the guests
                            after them; the HTTP/1.1 hops wasmgate makes carry no trailers */
  bool req_changed;      /* a guest changed the request (set by the ABI's setters) */
  /* the response */
  int status;            /* 0 until set by a guest or the next handler (reported as 200) */
  wgg_hdrs resp_headers;
  wgg_buf resp_body;
  wgg_hdrs resp_trailers; /* header kind 3: as req_trailers */
  bool resp_committed;   /* status and headers were sent (host-go: a guest without buffer_response
                            called set_status_code or write_body(1) before next): later status and
                            header changes, next's included, do not reach the client */
} wgg_exchange;

/* Fills ex from a server request: method, URI, headers are copied; the
 * body moves into ex (req->body becomes NULL until wgg_exchange_to_req).
 * 0 or -1 (OOM; ex is then freed, req untouched). */
int wgg_exchange_from_req(wgg_exchange *ex, wgg_http_req *req);

/* Hands ex's request back to req for the next handler. When a guest changed
 * it (ex->req_changed), req's method, url/path/query and headers are
 * rewritten (Content-Length recomputed, Transfer-Encoding dropped); the body
 * moves back either way (ex's body is then empty). 0 or -1 (OOM; req keeps
 * its old fields, the body stays in ex). */
int wgg_exchange_to_req(wgg_exchange *ex, wgg_http_req *req);

/* Sets the response to status with a short text/plain body (replacing
 * headers and body), for errors raised by the pipeline itself. */
void wgg_exchange_fail(wgg_exchange *ex, int status, const char *msg);


/* Frees what ex owns (not ex itself). */
void wgg_exchange_free(wgg_exchange *ex);

#endif
