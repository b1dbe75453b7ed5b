/*
 * p2_cloud_wait.c: parking a component guest on a Dapr component's answer,
 * shared by every cloud-interface host function (p2_cloud_internal.h
 * "parking on a backend answer"; docs/components.md "Thread model").
 */
#include "wasmhost/p2_cloud_internal.h"
#include "wasmhost/p2http.h"

enum { W_STARTING, W_PARKED, W_DETACHED };

void p2c_wait_init(p2c_wait *w, wg_trap *(*result)(p2c_wait *w, wg_cval *r), void (*destroy)(p2c_wait *w)) {
  wgg_p2h_inst *in = wgg_p2h_current();
  bool can = in && in->loop && in->pcall && !in->cancel; /* a request on a loop, nothing pending */
  *w = (p2c_wait){.in = can ? in : NULL, .loop = can ? in->loop : NULL, .state = W_STARTING,
                  .result = result, .destroy = destroy};
}

static void on_cancel(void *op) { ((p2c_wait *)op)->state = W_DETACHED; }

wg_trap *p2c_wait_end(p2c_wait *w, wg_cval *r) {
  if (w->answered) {
    wg_trap *t = w->result(w, r);
    w->destroy(w);
    return t;
  }
  w->state = W_DETACHED; /* unless it parks: its answer, when it comes, frees it */
  if (!w->in) return wg_trap_new(WG_TRAP_HOST, "a Dapr component call did not complete on a thread with no loop");
  wg_trap *park = wgg_p2h_park(w->in, on_cancel, w);
  if (!park) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  w->state = W_PARKED;
  return park;
}

bool p2c_wait_detached(const p2c_wait *w) { return w->state == W_DETACHED; }

void p2c_wait_answer(p2c_wait *w) {
  w->answered = true;
  if (w->state == W_STARTING) return; /* answered inside the host function: p2c_wait_end goes on */
  if (w->state == W_DETACHED) { /* the request went away meanwhile */
    w->destroy(w);
    return;
  }
  wgg_p2h_inst *in = w->in;
  wg_cval r = {0};
  wg_trap *t = w->result(w, &r);
  w->destroy(w);
  if (t) { /* out of memory: a value of no type makes the resumed guest trap */
    wg_trap_delete(t);
    wg_cval_free(&r);
    r = (wg_cval){0};
  }
  wgg_p2h_resume(in, &r, 1);
}
