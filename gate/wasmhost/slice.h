/*
 * slice.h: round-robin time slices for guests that share an event loop
 * (docs/engine.md "Suspension"; issue 18.9). A CPU-bound guest runs with
 * wg_store_set_yield and yields at its epoch deadline (WG_TRAP_YIELDED); its
 * owner queues it here and continues it from the callback. One slice runs per
 * loop iteration, taking turns in FIFO order among the guests queued on the
 * thread, so the loop's I/O (other requests) is served between any two slices
 * and a spinning guest delays them by one slice, whatever the number of
 * spinning guests.
 *
 * Threading: everything runs on the loop's thread; a thread runs one loop.
 */
#ifndef WGG_WASMHOST_SLICE_H
#define WGG_WASMHOST_SLICE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "wasmhost/wasmhost.h"

/* The deadline to arm with wg_store_set_deadline before each call or resume:
 * the slice ends at the next epoch tick. Once a guest has been queued (until
 * wgg_slice_close), the ticker runs fine (wgg_wasm_ticker_fine) and a slice
 * lasts about 1 ms; a guest's first slice, before any queueing, may last up
 * to 10 ms when no other guest is sliced. */
enum { WGG_SLICE_DEADLINE = 1 };

typedef struct wgg_slice wgg_slice;
typedef void (*wgg_slice_fn)(wgg_slice *s);

/* A guest waiting for its next slice. Zero it before first use; embed it in
 * the owner (who finds itself again from the callback with container-of or
 * `user`). */
struct wgg_slice {
  void *user;
  wgg_slice_fn fn;
  uv_loop_t *loop;
  uv_idle_t *idle;  /* active only while this one is the head of its thread's queue */
  wgg_slice *next;
  bool queued;
  bool fine;        /* counted in wgg_wasm_ticker_fine until wgg_slice_close */
};

/* Queues s on loop: fn(s) runs once, from the loop, when its turn comes (a
 * later loop iteration; FIFO among the thread's queued slices). 0, or -1 on
 * out of memory (nothing queued). s must not be queued already. */
int wgg_slice_queue(wgg_slice *s, uv_loop_t *loop, wgg_slice_fn fn, void *user);

/* Takes s out of the queue (no-op when not queued). */
void wgg_slice_cancel(wgg_slice *s);

/* Cancels s and releases its handle (closed asynchronously; s itself may be
 * freed right after this returns); the guest no longer needs fine ticks.
 * Call when the guest's call is over. */
void wgg_slice_close(wgg_slice *s);

#endif
