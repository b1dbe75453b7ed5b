/*
 * wasi_http_internal.h: the state shared by the legacy wasi-http host
 * functions (wasi_http_legacy.c) and the outbound request (wasi_http_send.c).
 */
#ifndef WGG_WASMHOST_WASI_HTTP_INTERNAL_H
#define WGG_WASMHOST_WASI_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "wasmhost/wasi_http_legacy.h"

enum { LH_FIELDS, LH_REQUEST, LH_RESPONSE, LH_STREAM, LH_KINDS };

/* Header fields in order; names and values as given (NUL-terminated copies). */
typedef struct lh_fields {
  char **names, **values;
  size_t n, cap;
} lh_fields;

/* A body shared by its request or response and the streams over it. */
typedef struct lh_body {
  wgg_buf buf;
  size_t off; /* read position of the input streams */
  int refs;
} lh_body;

typedef struct lh_request {
  char *method, *path, *query, *scheme, *authority;
  uint32_t headers; /* a fields handle */
  lh_body *body;    /* NULL until outgoing-request-write */
} lh_request;

typedef struct lh_response {
  int32_t status;
  lh_fields *headers;     /* received (canonical names, in order) */
  uint32_t header_handle; /* made on first incoming-response-headers */
  lh_body *body;          /* received */
  lh_body *out_body;      /* outgoing-response-write */
} lh_response;

typedef struct lh_stream {
  lh_body *body;
  bool writable;
} lh_stream;

typedef struct lh_table {
  uint32_t *ids;
  void **objs;
  size_t n, cap;
  uint32_t next;
} lh_table;

struct wgg_wasi_http {
  lh_table tables[LH_KINDS];
  wg_store *store;
  wgg_cancel *cancel;
  uint64_t deadline_ms; /* CLOCK_MONOTONIC ms, 0: none */
  size_t bytes;         /* body bytes held, against WGG_WASI_HTTP_MAX_BYTES */
};

lh_fields *wgg_lh_fields_new(void);
int wgg_lh_fields_add(lh_fields *f, const char *name, size_t nlen, const char *value, size_t vlen);
void wgg_lh_fields_free(lh_fields *f);
/* Counts n more body bytes against the run's budget; false past it. */
bool wgg_lh_spend(wgg_wasi_http *h, size_t n);

/* Sends request r with header fields hdr (may be NULL) as Go's
 * http.DefaultClient would (redirects, transparent gzip), filling res
 * (status, canonical headers, whole body). Blocks; bounded by the run's
 * deadline, its cancel token and its body budget. -1 with err. */
int wgg_lh_send(wgg_wasi_http *h, const lh_request *r, const lh_fields *hdr, lh_response *res, wgg_err *err);

#endif
