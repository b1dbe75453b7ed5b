/*
 * slice.c: the per-thread round-robin queue of guests waiting for a time
 * slice (slice.h). Only the head's idle handle is active: an idle handle
 * runs once per loop iteration and keeps the poll from blocking, so the
 * loop's I/O is served between two slices. (A 0 ms timer would not do:
 * libuv runs a timer restarted from its own callback again in the same
 * pass; and one active idle handle per guest would run every guest's slice
 * in each iteration, delaying I/O by the sum of them.)
 */
#include "wasmhost/slice.h"

#include <stdlib.h>

static _Thread_local wgg_slice *q_head, *q_tail;

static void on_idle(uv_idle_t *h);

static void start_head(void) {
  if (q_head) uv_idle_start(q_head->idle, on_idle);
}

static void unlink_slice(wgg_slice *s) {
  wgg_slice *prev = NULL;
  for (wgg_slice *p = q_head; p; prev = p, p = p->next)
    if (p == s) {
      if (prev) prev->next = s->next;
      else q_head = s->next;
      if (q_tail == s) q_tail = prev;
      break;
    }
  s->next = NULL;
  s->queued = false;
}

static void on_idle(uv_idle_t *h) {
  wgg_slice *s = h->data;
  uv_idle_stop(h);
  unlink_slice(s);
  start_head(); /* it runs in the next iteration: libuv runs handles started now in the next pass */
  s->fn(s);
}

int wgg_slice_queue(wgg_slice *s, uv_loop_t *loop, wgg_slice_fn fn, void *user) {
  if (!s->idle) {
    if (!(s->idle = malloc(sizeof *s->idle))) return -1;
    uv_idle_init(loop, s->idle);
  }
  if (!s->fine) {
    s->fine = true;
    wgg_wasm_ticker_fine(1);
  }
  s->idle->data = s;
  s->loop = loop;
  s->fn = fn;
  s->user = user;
  s->next = NULL;
  s->queued = true;
  if (q_tail) q_tail->next = s;
  else q_head = s;
  q_tail = s;
  if (q_head == s) start_head();
  return 0;
}

void wgg_slice_cancel(wgg_slice *s) {
  if (!s->queued) return;
  bool was_head = q_head == s;
  if (s->idle) uv_idle_stop(s->idle);
  unlink_slice(s);
  if (was_head) start_head();
}

static void idle_closed(uv_handle_t *h) { free(h); }

void wgg_slice_close(wgg_slice *s) {
  wgg_slice_cancel(s);
  if (s->idle) uv_close((uv_handle_t *)s->idle, idle_closed);
  s->idle = NULL;
  if (s->fine) wgg_wasm_ticker_fine(-1);
  s->fine = false;
}
