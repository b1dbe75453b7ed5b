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
} wgg_p2h_inst;

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
