/*
 * p2_poll.c: wasi:io/poll 0.2 and the clocks' subscriptions: a pollable is
 * a monotonic-clock deadline (subscribe-duration, subscribe-instant) or
 * always ready (a stream's subscribe: stdio and files never block here).
 * poll(list<borrow<pollable>>) sleeps until the earliest is ready and
 * returns the indices of the ready ones; under the strict sandbox sleeps
 * return at once, as preview1's poll_oneoff does.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2.h"

#define V P2_V

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static uint64_t mono(p2 *p) {
  uint64_t ns = 0;
  wasi_clock_time(p->w, 1, &ns);
  return ns;
}

/* A new pollable ready at monotonic time `at` (0: now). */
static wg_trap *new_pollable(p2 *p, uint64_t at, wg_cval *r) {
  uint32_t i = 0;
  while (i < p->npolls && p->polls[i].used) i++;
  if (i == p->npolls) {
    if (p->npolls >= 65536) return oom();
    void *v = realloc(p->polls, (p->npolls + 1) * sizeof *p->polls);
    if (!v) return oom();
    p->polls = v;
    p->npolls++;
  }
  p->polls[i].used = true;
  p->polls[i].at = at;
  *r = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {i, p->pollable}};
  return NULL;
}

static void pollable_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  if (rep < p->npolls) p->polls[rep].used = false;
}

static uint64_t deadline(p2 *p, uint32_t rep) { return rep < p->npolls ? p->polls[rep].at : 0; }

static void sleep_until(p2 *p, uint64_t at) {
  if (wasi_strict(p->w)) return;
  uint64_t now = mono(p);
  if (at <= now) return;
  uint64_t d = at - now;
  struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
  nanosleep(&ts, NULL);
}

static wg_trap *subscribe_duration(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  return new_pollable(p, mono(p) + a[0].of.u, r);
}
static wg_trap *subscribe_instant(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return new_pollable(P2(env), a[0].of.u, r);
}
static wg_trap *stream_subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  return new_pollable(P2(env), 0, r);
}
static wg_trap *ready(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  *r = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = wasi_strict(p->w) || deadline(p, a[0].of.handle.rep) <= mono(p)};
  return NULL;
}
static wg_trap *block(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  p2 *p = P2(env);
  sleep_until(p, deadline(p, a[0].of.handle.rep));
  return NULL;
}

/* poll(in: list<borrow<pollable>>) -> list<u32> */
static wg_trap *poll_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  size_t n = a[0].of.seq.len;
  if (!n) return wg_trap_new(WG_TRAP_HOST, "poll: the list of pollables is empty");
  uint64_t first = UINT64_MAX;
  for (size_t i = 0; i < n; i++) {
    uint64_t d = deadline(p, a[0].of.seq.ptr[i].of.handle.rep);
    if (d < first) first = d;
  }
  sleep_until(p, first);
  uint64_t now = wasi_strict(p->w) ? UINT64_MAX : mono(p);
  r->kind = WG_CVAL_LIST;
  if (!(r->of.seq.ptr = wg_cval_array(n))) return oom();
  for (size_t i = 0; i < n; i++)
    if (deadline(p, a[0].of.seq.ptr[i].of.handle.rep) <= now || deadline(p, a[0].of.seq.ptr[i].of.handle.rep) == first)
      r->of.seq.ptr[r->of.seq.len++] = (wg_cval){.kind = WG_CVAL_U32, .of.u = i};
  return NULL;
}

/* Each function with its type (WIT wasi:io/poll, clocks 0.2.x), checked at instantiation. */
static const struct {
  const char *inst, *name;
  wg_component_host_fn fn;
  const char *type;
} funcs[] = {
    {"wasi:io/poll" V, "poll", poll_,
     "func(in: list<borrow<pollable>>) -> list<u32>"},
    {"wasi:io/poll" V, "[method]pollable.ready", ready,
     "func(self: borrow<pollable>) -> bool"},
    {"wasi:io/poll" V, "[method]pollable.block", block,
     "func(self: borrow<pollable>)"},
    {"wasi:clocks/monotonic-clock" V, "subscribe-duration", subscribe_duration,
     "func(when: u64) -> wasi:io/poll" V "#pollable"},
    {"wasi:clocks/monotonic-clock" V, "subscribe-instant", subscribe_instant,
     "func(when: u64) -> wasi:io/poll" V "#pollable"},
    {"wasi:io/streams" V, "[method]output-stream.subscribe", stream_subscribe,
     "func(self: borrow<output-stream>) -> wasi:io/poll" V "#pollable"},
    {"wasi:io/streams" V, "[method]input-stream.subscribe", stream_subscribe,
     "func(self: borrow<input-stream>) -> wasi:io/poll" V "#pollable"},
};

bool p2_poll_define(p2 *p, wg_component_linker *l, wg_error **e) {
  bool ok = wg_component_linker_define_resource(l, "wasi:io/poll" V, "pollable", pollable_drop, p, &p->pollable, e);
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, funcs[i].inst, funcs[i].name, funcs[i].type, funcs[i].fn, p, NULL, e);
  return ok;
}

bool wg_wasi_p2_pollable_ready(wg_wasi_p2 *p, wg_cval *out) {
  wg_trap *t = new_pollable(p, 0, out);
  if (!t) return true;
  wg_trap_delete(t);
  return false;
}
