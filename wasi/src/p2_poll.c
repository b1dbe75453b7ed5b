/*
 * p2_poll.c: wasi:io/poll 0.2 and the clocks' subscriptions: a pollable is
 * a monotonic-clock deadline (subscribe-duration, subscribe-instant) or
 * always ready (a stream's subscribe: stdio and files never block here), or
 * a socket's readiness (wasi:sockets, p2_net.c: its descriptor in poll(2)).
 * poll(list<borrow<pollable>>) waits until one is ready and returns the
 * indices of the ready ones; under the strict sandbox clock sleeps return at
 * once, as preview1's poll_oneoff does.
 */
#include <errno.h>
#include <poll.h>
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

wg_trap *p2_pollable_new(p2 *p, uint64_t at, p2_sock *sock, short events, wg_cval *r) {
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
  p->polls[i].sock = sock;
  p->polls[i].events = events;
  if (sock) p2_sock_ref(sock);
  *r = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {i, p->pollable}};
  return NULL;
}

static void pollable_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  if (rep < p->npolls && p->polls[rep].used) {
    p->polls[rep].used = false;
    if (p->polls[rep].sock) p2_sock_unref(p->polls[rep].sock);
    p->polls[rep].sock = NULL;
  }
}

/* Waits until at least one of pollables reps[0..n) is ready (block: as long as it takes; else
 * not at all) and sets ready[i] for each one that is. A deadline is ready when it has passed
 * (always under the strict sandbox, which never sleeps); a socket's pollable when poll(2)
 * reports its descriptor ready for the events it waits on, or at once when its state waits
 * on nothing. One ppoll(2) serves both: the earliest deadline is its timeout. */
static wg_trap *wait_ready(p2 *p, const uint32_t *reps, size_t n, bool block, bool *ready) {
  struct pollfd *fds = calloc(n ? n : 1, sizeof *fds);
  size_t *at = calloc(n ? n : 1, sizeof *at);
  if (!fds || !at) {
    free(fds), free(at);
    return oom();
  }
  for (;;) {
    size_t nfds = 0;
    bool any = false;
    uint64_t first = UINT64_MAX, now = mono(p);
    for (size_t i = 0; i < n; i++) {
      uint32_t r = reps[i];
      ready[i] = false;
      if (r >= p->npolls || !p->polls[r].used) {
        ready[i] = any = true;
        continue;
      }
      if (!p->polls[r].sock) {
        uint64_t d = p->polls[r].at;
        if (wasi_strict(p->w) || d <= now) ready[i] = any = true;
        else if (d < first) first = d;
        continue;
      }
      short want = 0;
      int fd = p2_sock_pollfd(p->polls[r].sock, p->polls[r].events, &want);
      if (fd < 0) {
        ready[i] = any = true;
        continue;
      }
      fds[nfds] = (struct pollfd){.fd = fd, .events = want};
      at[nfds++] = i;
    }
    struct timespec ts = {0, 0}, *tp = &ts;
    if (!any && block) {
      if (first == UINT64_MAX) tp = NULL;
      else ts = (struct timespec){(time_t)((first - now) / 1000000000u), (long)((first - now) % 1000000000u)};
    }
    if (nfds || tp != &ts || ts.tv_sec || ts.tv_nsec) {
      int k = ppoll(fds, nfds, tp, NULL);
      for (size_t j = 0; k > 0 && j < nfds; j++)
        if (fds[j].revents) ready[at[j]] = any = true;
    }
    if (!any && block && first != UINT64_MAX && mono(p) >= first) continue; /* the deadline passed: mark it */
    if (any || !block) break;
  }
  free(fds);
  free(at);
  return NULL;
}

static wg_trap *subscribe_duration(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  return p2_pollable_new(p, mono(p) + a[0].of.u, NULL, 0, r);
}
static wg_trap *subscribe_instant(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return p2_pollable_new(P2(env), a[0].of.u, NULL, 0, r);
}
/* A stream's pollable: a socket stream's waits on its descriptor, the others are always ready. */
static wg_trap *stream_subscribe_(p2 *p, uint32_t rep, short events, wg_cval *r) {
  p2_sock *s = rep >= P2_STREAM_BASE && rep - P2_STREAM_BASE < p->nstreams && p->streams[rep - P2_STREAM_BASE].used
                   ? p->streams[rep - P2_STREAM_BASE].sock
                   : NULL;
  return p2_pollable_new(p, 0, s, s ? events : 0, r);
}
static wg_trap *in_subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return stream_subscribe_(P2(env), a[0].of.handle.rep, POLLIN, r);
}
static wg_trap *out_subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return stream_subscribe_(P2(env), a[0].of.handle.rep, POLLOUT, r);
}

void p2_stream_wait(p2 *p, uint32_t rep, short events) {
  if (rep < P2_STREAM_BASE || rep - P2_STREAM_BASE >= p->nstreams) return;
  p2_stream *st = &p->streams[rep - P2_STREAM_BASE];
  short want = 0;
  int fd = st->used && st->sock ? p2_sock_pollfd(st->sock, events, &want) : -1;
  if (fd < 0) return;
  struct pollfd pf = {.fd = fd, .events = want};
  while (poll(&pf, 1, -1) < 0 && errno == EINTR) {
  }
}

static wg_trap *ready(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  bool ok = false;
  wg_trap *t = wait_ready(P2(env), &a[0].of.handle.rep, 1, false, &ok);
  *r = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = ok};
  return t;
}
static wg_trap *block(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  bool ok = false;
  return wait_ready(P2(env), &a[0].of.handle.rep, 1, true, &ok);
}

/* poll(in: list<borrow<pollable>>) -> list<u32> */
static wg_trap *poll_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  size_t n = a[0].of.seq.len;
  if (!n) return wg_trap_new(WG_TRAP_HOST, "poll: the list of pollables is empty");
  if (n > 65536) return wg_trap_new(WG_TRAP_HOST, "poll: too many pollables");
  uint32_t *reps = malloc(n * sizeof *reps);
  bool *rd = calloc(n, sizeof *rd);
  wg_trap *t = reps && rd ? NULL : oom();
  for (size_t i = 0; !t && i < n; i++) reps[i] = a[0].of.seq.ptr[i].of.handle.rep;
  if (!t) t = wait_ready(p, reps, n, true, rd);
  r->kind = WG_CVAL_LIST;
  if (!t && !(r->of.seq.ptr = wg_cval_array(n))) t = oom();
  for (size_t i = 0; !t && i < n; i++)
    if (rd[i]) r->of.seq.ptr[r->of.seq.len++] = (wg_cval){.kind = WG_CVAL_U32, .of.u = i};
  free(reps);
  free(rd);
  return t;
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
    {"wasi:io/streams" V, "[method]output-stream.subscribe", out_subscribe,
     "func(self: borrow<output-stream>) -> wasi:io/poll" V "#pollable"},
    {"wasi:io/streams" V, "[method]input-stream.subscribe", in_subscribe,
     "func(self: borrow<input-stream>) -> wasi:io/poll" V "#pollable"},
};

bool p2_poll_define(p2 *p, wg_component_linker *l, wg_error **e) {
  bool ok = wg_component_linker_define_resource(l, "wasi:io/poll" V, "pollable", pollable_drop, p, &p->pollable, e);
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, funcs[i].inst, funcs[i].name, funcs[i].type, funcs[i].fn, p, NULL, e);
  return ok;
}

bool wg_wasi_p2_pollable_ready(wg_wasi_p2 *p, wg_cval *out) {
  wg_trap *t = p2_pollable_new(p, 0, NULL, 0, out);
  if (!t) return true;
  wg_trap_delete(t);
  return false;
}
