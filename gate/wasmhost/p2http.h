/*
 * p2http.h: the wasi:http 0.2 host (p2http_types.c, p2http_outgoing.c) that component wasm apps
 * (app_p2http.c) are served by: wasi:http/types (fields, incoming-request,
 * outgoing-request, request-options, response-outparam, incoming-response,
 * incoming-body, future-trailers, outgoing-response, outgoing-body,
 * future-incoming-response, http-error-code) and wasi:http/outgoing-handler,
 * defined once per linker at 0.2.12 (imports 0.2.0 .. 0.2.x resolve
 * semver-compatibly) and serving many stores: each host call finds its
 * store's state (wgg_p2h_inst) through wg_store_data. Bodies are wasi:io
 * streams of the WASI 0.2 layer's one stream mechanism (wgwasi.h
 * wg_wasi_p2_stream). docs/wasm-apps.md "WASI 0.2 HTTP components".
 *
 * Not for other layers than wasmhost/.
 */
#ifndef WGG_WASMHOST_P2HTTP_H
#define WGG_WASMHOST_P2HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/server.h"
#include "pipeline/exchange.h"
#include "util/buf.h"
#include "wasmgate_component.h"
#include "wgwasi.h"

/* The version the host defines (the newest 0.2.x it implements). */
#define WGG_P2H_VERSION "@0.2.12"

typedef struct wgg_p2h_types wgg_p2h_types;
typedef struct p2h_obj p2h_obj;

/* A request whose body arrives while the guest reads it and whose answer goes out as the guest
 * writes it (issue 14): app_p2http.c's hooks, called by the bodies' streams (p2http_types.c). */
typedef struct wgg_p2h_io {
  /* the guest took bytes of the live request body (there may be room for more now) */
  void (*in_consumed)(void *user);
  /* response-outparam.set gave a response: its head (status, headers, the declared Content-Length
   * or -1). 1: the answer streams (out_write, out_end follow); 0: it is collected and given whole
   * when the handler returns; -1: the client is gone (the body's writes fail) */
  int (*out_head)(void *user, int status, const wgg_hdrs *h, int64_t length);
  /* body bytes of a streaming answer: 0, 1 (taken, but the client's queue is full: check-write is
   * 0 until the io user clears out_full once it drained), -1 (the client is gone) */
  int (*out_write)(void *user, const uint8_t *p, size_t n);
  /* the streaming answer is complete (ok) or cut off (!ok: a body of the wrong length) */
  void (*out_end)(void *user, bool ok);
} wgg_p2h_io;

/* One store's wasi:http state: its WASI contexts and the host objects (rep
 * i + 1 is objs[i]) of the request in flight. wg_store_data of a component
 * app's store points to it; other interface hosts of the app (wasi:keyvalue,
 * wasi:config ...) reach the app and the call from here. */
typedef struct wgg_p2h_inst {
  const wgg_p2h_types *types;
  wg_wasi *wasi;     /* preview1 context under the WASI 0.2 layer (stdio capture) */
  wg_wasi_p2 *p2;    /* its WASI 0.2 context */
  p2h_obj **objs;
  uint32_t nobjs, capobjs;
  void *app;         /* the wgg_wasm_app generation the instance belongs to */
  void *call;        /* the request in flight (app_p2http.c), NULL outside one */
  /* the answer: set by response-outparam.set */
  bool answered;     /* set was called */
  uint32_t response; /* rep of the outgoing-response, 0 when set with an error */
  char error[96];    /* the error-code case given to set, "" when none */
  /* parking (app_p2http.c): set while a request runs on a loop that can resume the guest */
  struct uv_loop_s *loop; /* the request's loop; NULL: host calls answer at once */
  void *pcall;            /* the request (app_p2http.c's); NULL: host calls cannot park */
  void (*cancel)(void *op); /* the operation the guest is parked on: drops its answer */
  void *op;
  bool wait;              /* op is a wasi:io wait (wgwasi.h wg_wasi_p2_wait) */
  /* streaming (issue 14; app_p2http.c sets io for a call whose body or answer streams) */
  const wgg_p2h_io *io;
  void *io_user;
  bool in_live;           /* the request body arrives through wgg_p2h_body_* (else it is o->data) */
  bool in_ended;          /* ... and has ended */
  bool in_failed;         /* ... or failed (the client went away, or sent a bad body) */
  wgg_buf in_buf;         /* its bytes not read yet, from in_buf.data + in_off */
  size_t in_off;
  int out_mode;           /* the answer: 0 not set, 1 streams, 2 collected, -1 the client is gone */
  bool out_full;          /* a streaming answer waits for the client to drain */
  bool out_failed;        /* its body broke its Content-Length (the answer is cut off) */
  bool out_ended;         /* out_end was called */
  int64_t out_length;     /* the declared Content-Length, -1 */
  uint64_t out_written;
} wgg_p2h_inst;

/* Bytes of the live request body arrived (appended); the body ended (failed: it broke off). */
void wgg_p2h_body_data(wgg_p2h_inst *in, const char *data, size_t len);
void wgg_p2h_body_end(wgg_p2h_inst *in, bool failed);
/* Bytes of the live request body buffered and not read yet. */
size_t wgg_p2h_body_pending(const wgg_p2h_inst *in);
/* The client of a streaming answer went away: its writes fail from now on. */
void wgg_p2h_out_gone(wgg_p2h_inst *in);
/* The tag of a component app's store data (wg_store_set_data_tagged(store, wgg_p2h_store_tag,
 * &inst)): the host functions find their wgg_p2h_inst only in stores tagged so. */
extern const char wgg_p2h_store_tag[];

/* The calling store's wasi:http state inside a host function of a component app (NULL outside
 * one, or for a store that is not a component app's: no data, or data of another tag). */
wgg_p2h_inst *wgg_p2h_current(void);

/* Parks the guest of `in` on an operation the host function started: returns the
 * WG_TRAP_SUSPENDED trap for the host function to return, or NULL when the guest cannot park
 * (no loop to resume it on, another operation pending, or OOM): then answer at once (block).
 * The operation's answer must come on in->loop, outside guest code, through wgg_p2h_resume;
 * if the request ends first (the caller's timeout, the instance discarded), cancel(op) runs
 * and the answer must then be dropped (op no longer refers to in). */
wg_trap *wgg_p2h_park(wgg_p2h_inst *in, void (*cancel)(void *op), void *op);

/* Resumes the guest of `in` with the parked host function's results (n: 1 when it has a
 * result, else 0; taken in every case), on in->loop. The request goes on: it may park again,
 * or end (its answer is sent, the instance given back); `in` may be freed on return. */
void wgg_p2h_resume(wgg_p2h_inst *in, wg_cval *results, size_t n);

/* Defines wasi:http/types and wasi:http/outgoing-handler in l. The state of
 * each call is wg_store_data(store), a wgg_p2h_inst. Returns the resource
 * types (owned by the linker, freed with it) or NULL with msg on OOM. */
const wgg_p2h_types *wgg_p2h_define(wg_component_linker *l, char *msg, size_t msglen);

/* Makes the incoming-request (own handle in *req) and response-outparam
 * (*out) of one request in inst: method, target ("/path?query"), headers
 * (copied; names lower-cased as HTTP/2 and wasmtime's hyper show them),
 * authority (may be NULL) and body (copied). Clears the previous answer.
 * False on OOM. */
bool wgg_p2h_request(wgg_p2h_inst *inst, const char *method, const char *target, const char *authority,
                     const wgg_http_header *h, size_t n, const char *body, size_t len, wg_cval *req, wg_cval *out);

/* The answer after the handler returned: true with the status, headers
 * (appended to *hdrs, copied) and the body written so far (borrowed from
 * inst: valid until wgg_p2h_reset) when response-outparam.set gave a
 * response; false when it was not called or gave an error (inst->error). */
bool wgg_p2h_response(wgg_p2h_inst *inst, int *status, wgg_hdrs *hdrs, const char **body, size_t *len);

/* Frees the objects of the request (those a still-open stream refers to
 * live until it is dropped), so that a pooled instance starts the next
 * request clean. */
void wgg_p2h_reset(wgg_p2h_inst *inst);

#endif
