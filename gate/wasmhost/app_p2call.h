/*
 * app_p2call.h: a component app's instance and request in flight, shared by
 * app_p2http.c (the calls) and app_p2stream.c (issue 14: the request body
 * and the answer as streams, and the wasi:io waits that park the guest on
 * the request's loop). Not for other files.
 */
#ifndef WGG_WASMHOST_APP_P2CALL_H
#define WGG_WASMHOST_APP_P2CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "http/client.h"
#include "wasmhost/app_internal.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2http.h"
#include "wasmhost/slice.h"

/* One instance: its store, WASI contexts and wasi:http state. */
typedef struct p2inst {
  wgg_p2h_inst h; /* first: wg_store_data points here */
  wg_store *store;
  wg_wasi *wasi;
  wg_component_func *handle; /* NULL: the component exports only other handlers (app_p2sub.c) */
  wg_component_instance *ci;
  uint32_t uses;
  wgg_p2_msg_host *msg; /* the app's wasi:messaging host (owned by the linker), NULL: none */
  struct p2inst *next;
} p2inst;

/* One request in flight: the instance, the caller, and while the guest is parked on a host call,
 * the timer of the caller's timeout (time parked included). */
typedef struct p2call {
  wgg_wasm_app *a; /* holds a reference on the generation */
  p2inst *i;
  wgg_http_client_cb cb;
  void *user;
  uint64_t ms;     /* the guest's CPU budget per run (re-armed at each resume) */
  uint64_t timeout_ms;
  uv_timer_t *timer;
  bool parked;
  /* a call made while a guest of this thread runs (its host call invoked an app in-process: the
   * .dapr convention) starts on a later loop iteration from a copy of its request, so that a
   * chain of components calling components cannot grow the thread's stack */
  bool deferred;
  wgg_slice slice;
  uv_loop_t *loop;
  char *method, *target, *body;
  size_t len, n;
  wgg_http_header *headers;
  /* streaming (issue 14): the request body from src as the guest reads it, the answer through scb
   * as it writes it; vs is this call as the body source's and the answer's stream handle */
  bool has_src, has_scb;
  wgg_http_body_source src;
  wgg_http_stream_cbs scb;
  wgg_http_client_stream *vs;
  bool over;        /* src.on_over ran: nothing more is taken from it */
  bool want_more;   /* a write found the body buffer full: src.on_want once the guest made room */
  bool need_want;   /* ... and it did: on the next wake */
  bool streamed;    /* scb.on_head took the answer: scb.on_end ends the call, not cb */
  bool stream_done; /* scb.on_end ran */
  uv_idle_t *wake;  /* p2c_kick's: the next loop iteration looks again */
  uv_timer_t *wtimer; /* a wasi:io wait's clock */
} p2call;

/* Ends a streamed answer (once): true when the answer was streamed (scb.on_end ran now or before),
 * false when the caller still waits for cb. err NULL: complete. (app_p2http.c) */
bool p2c_end_stream(p2call *c, const char *err);
/* Tries the wasi:io wait the guest is parked on; resumes it when done (app_p2http.c). */
void p2c_try_wait(p2call *c);

/* app_p2stream.c: something the guest may wait on changed: look again on a later loop iteration
 * (never from inside the server's or the guest's call stack). */
void p2c_kick(p2call *c);
/* The guest parked on a wasi:io wait: its clock, if it has one, wakes it. */
void p2c_arm_wait(p2call *c);
/* wg_wasi_p2_set_park's hook of every instance (user: its wgg_p2h_inst): parks on a request that
 * can resume it. */
wg_trap *p2c_park_hook(void *user, wg_wasi_p2_wait *w);
/* The call as the body source's and the answer's stream handle (wgg_http_stream_virtual), and as
 * the wasi:http host's io hooks (wgg_p2h_io). */
extern const wgg_http_stream_vt p2c_vs_vt;
extern const wgg_p2h_io p2c_io;

#endif
