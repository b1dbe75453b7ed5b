/*
 * p2_poll.c: wasi:io/poll 0.2 and the clocks' subscriptions: a pollable is
 * a monotonic-clock deadline (subscribe-duration, subscribe-instant), a
 * stream's readiness, the embedder's, or a socket's (wasi:sockets, p2_net.c:
 * its descriptor in poll(2)).
 * poll(list<borrow<pollable>>) returns the indices of the ready ones; when
 * none is, it parks the guest through the embedder's park hook (an event
 * loop: wgwasi.h "waiting on an event loop"), or without one sleeps until
 * the earliest clock is due; under the strict sandbox sleeps return at once,
 * as preview1's poll_oneoff does. A stream's pollable is ready when its
 * embedder's ops say so (descriptor streams always are; a socket stream's
 * is its socket's); the embedder's own pollables (wg_wasi_p2_pollable) ask
 * it. Without a park hook, one ppoll(2) waits for clocks and sockets
 * together. Sockets do not wake a parked guest (the sidecar grants none:
 * wgwasi.h wg_wasi_p2_set_network).
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

/* A new pollable: a clock's (ready at monotonic time `at`, 0: now), a stream's, the embedder's,
 * or a socket's (sock: a reference is taken). */
static wg_trap *new_pollable_of(p2 *p, uint8_t kind, uint32_t rep, uint64_t at, bool (*ready_fn)(void *, uint32_t),
                                void *user, p2_sock *sock, short events, wg_cval *r) {
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
  p->polls[i].kind = kind;
  p->polls[i].rep = rep;
  p->polls[i].at = at;
  p->polls[i].ready = ready_fn;
  p->polls[i].user = user;
  p->polls[i].sock = sock;
  p->polls[i].events = events;
  if (sock) p2_sock_ref(sock);
  *r = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {i, p->pollable}};
  return NULL;
}
static wg_trap *new_pollable(p2 *p, uint64_t at, wg_cval *r) {
  return new_pollable_of(p, P2_POLL_CLOCK, 0, at, NULL, NULL, NULL, 0, r);
}
wg_trap *p2_pollable_new(p2 *p, uint64_t at, p2_sock *sock, short events, wg_cval *r) {
  return new_pollable_of(p, sock ? P2_POLL_SOCKET : P2_POLL_CLOCK, 0, at, NULL, NULL, sock, events, r);
}

static void pollable_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  if (rep < p->npolls && p->polls[rep].used) {
    p->polls[rep].used = false;
    if (p->polls[rep].sock) p2_sock_unref(p->polls[rep].sock);
    p->polls[rep].sock = NULL;
  }
}

/* A socket pollable's descriptor and the events it waits for; -1 when its state waits on
 * nothing (ready at once). */
static int sock_fd(p2 *p, uint32_t rep, short *want) {
  return p2_sock_pollfd(p->polls[rep].sock, p->polls[rep].events, want);
}

/* A clock pollable's deadline; 0 (due) for the others and unknown ones. */
static uint64_t deadline(p2 *p, uint32_t rep) {
  return rep < p->npolls && p->polls[rep].kind == P2_POLL_CLOCK ? p->polls[rep].at : 0;
}
static bool is_clock(p2 *p, uint32_t rep) { return rep < p->npolls && p->polls[rep].kind == P2_POLL_CLOCK; }

/* Whether pollable rep is ready at monotonic time now (an unknown one is). */
static bool is_ready(p2 *p, uint32_t rep, uint64_t now) {
  if (rep >= p->npolls || !p->polls[rep].used) return true;
  switch (p->polls[rep].kind) {
  case P2_POLL_STREAM: return p2_stream_ready(p, p->polls[rep].rep);
  case P2_POLL_EMBEDDER: return !p->polls[rep].ready || p->polls[rep].ready(p->polls[rep].user, p->polls[rep].rep);
  case P2_POLL_SOCKET: {
    short want = 0;
    int fd = sock_fd(p, rep, &want);
    struct pollfd pf = {.fd = fd, .events = want};
    return fd < 0 || (poll(&pf, 1, 0) > 0 && pf.revents);
  }
  default: return wasi_strict(p->w) || p->polls[rep].at <= now;
  }
}

/* Without a park hook: waits until at least one of pollables reps[0..n) is ready and sets
 * ready[i] for each one that is. A deadline is ready when it has passed (always under the strict
 * sandbox, which never sleeps); a socket's pollable when poll(2) reports its descriptor ready for
 * the events it waits on, or at once when its state waits on nothing. One ppoll(2) serves both:
 * the earliest deadline is its timeout. A stream's or the embedder's pollable cannot be waited
 * for without a loop, so it counts as ready (no deadlock). */
static wg_trap *wait_blocking(p2 *p, const uint32_t *reps, size_t n, bool *ready) {
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
      if (r >= p->npolls || !p->polls[r].used || p->polls[r].kind == P2_POLL_STREAM ||
          p->polls[r].kind == P2_POLL_EMBEDDER) {
        ready[i] = any = true;
        continue;
      }
      if (p->polls[r].kind == P2_POLL_CLOCK) {
        uint64_t d = p->polls[r].at;
        if (wasi_strict(p->w) || d <= now) ready[i] = any = true;
        else if (d < first) first = d;
        continue;
      }
      short want = 0;
      int fd = sock_fd(p, r, &want);
      if (fd < 0) {
        ready[i] = any = true;
        continue;
      }
      fds[nfds] = (struct pollfd){.fd = fd, .events = want};
      at[nfds++] = i;
    }
    struct timespec ts = {0, 0}, *tp = &ts;
    if (!any) {
      if (first == UINT64_MAX) tp = NULL;
      else ts = (struct timespec){(time_t)((first - now) / 1000000000u), (long)((first - now) % 1000000000u)};
    }
    if (nfds || tp != &ts || ts.tv_sec || ts.tv_nsec) {
      int k = ppoll(fds, nfds, tp, NULL);
      for (size_t j = 0; k > 0 && j < nfds; j++)
        if (fds[j].revents) ready[at[j]] = any = true;
    }
    if (any) break; /* else a deadline passed (marked on the next round) or a signal came */
  }
  free(fds);
  free(at);
  return NULL;
}

static wg_trap *subscribe_duration(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  uint64_t now = mono(p);
  return new_pollable(p, a[0].of.u > UINT64_MAX - now ? UINT64_MAX : now + a[0].of.u, r);
}
static wg_trap *subscribe_instant(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return new_pollable(P2(env), a[0].of.u, r);
}
/* A stream's pollable: a socket stream's waits on its socket's descriptor for `events`, the
 * others ask the stream (p2_stream_ready). */
static wg_trap *stream_subscribe_(p2 *p, uint32_t rep, short events, wg_cval *r) {
  p2_sock *s = rep >= P2_STREAM_BASE && rep - P2_STREAM_BASE < p->nstreams && p->streams[rep - P2_STREAM_BASE].used
                   ? p->streams[rep - P2_STREAM_BASE].sock
                   : NULL;
  if (s) return new_pollable_of(p, P2_POLL_SOCKET, 0, 0, NULL, NULL, s, events, r);
  return new_pollable_of(p, P2_POLL_STREAM, rep, 0, NULL, NULL, NULL, 0, r);
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
static wg_trap *pollable_ready(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  *r = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = is_ready(p, a[0].of.handle.rep, mono(p))};
  return NULL;
}

/* ---- waits (wgwasi.h "waiting on an event loop") ---- */

struct wg_wasi_p2_wait {
  p2 *p;
  int kind;       /* P2_WAIT_* */
  uint32_t rep;   /* the stream (read, skip, flush) or the pollable (block) */
  uint64_t len;   /* read, skip */
  uint32_t *reps; /* poll: the pollables, n of them */
  size_t n;
};

wg_trap *p2_park(p2 *p, int kind, uint32_t rep, uint64_t len) {
  if (!p->park) return NULL;
  wg_wasi_p2_wait *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  *w = (wg_wasi_p2_wait){.p = p, .kind = kind, .rep = rep, .len = len};
  wg_trap *t = p->park(p->park_user, w);
  if (!t) free(w);
  return t;
}

void wg_wasi_p2_set_park(wg_wasi_p2 *p, wg_wasi_p2_park_fn park, void *user) {
  p->park = park;
  p->park_user = user;
}

void wg_wasi_p2_wait_free(wg_wasi_p2_wait *w) {
  if (!w) return;
  free(w->reps);
  free(w);
}

uint64_t wg_wasi_p2_wait_timeout(const wg_wasi_p2_wait *w) {
  uint64_t first = UINT64_MAX;
  if (w->kind == P2_WAIT_BLOCK && is_clock(w->p, w->rep)) first = deadline(w->p, w->rep);
  for (size_t i = 0; w->kind == P2_WAIT_POLL && i < w->n; i++)
    if (is_clock(w->p, w->reps[i]) && deadline(w->p, w->reps[i]) < first) first = deadline(w->p, w->reps[i]);
  if (first == UINT64_MAX) return UINT64_MAX;
  if (wasi_strict(w->p->w)) return 0;
  uint64_t now = mono(w->p);
  return first <= now ? 0 : first - now;
}

/* poll's answer: the indices of the ready ones (none: *none set, r untouched). */
static wg_trap *ready_list(p2 *p, const uint32_t *reps, size_t n, wg_cval *r, bool *none) {
  uint64_t now = mono(p);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += is_ready(p, reps[i], now);
  *none = !k;
  if (!k) return NULL;
  r->kind = WG_CVAL_LIST;
  r->of.seq.len = 0;
  if (!(r->of.seq.ptr = wg_cval_array(k))) return oom();
  for (size_t i = 0; i < n && r->of.seq.len < k; i++)
    if (is_ready(p, reps[i], now)) r->of.seq.ptr[r->of.seq.len++] = (wg_cval){.kind = WG_CVAL_U32, .of.u = i};
  return NULL;
}

bool wg_wasi_p2_wait_try(wg_wasi_p2_wait *w, wg_cval *results, size_t *n, wg_trap **trap) {
  p2 *p = w->p;
  bool empty = false;
  *trap = NULL;
  *n = 1;
  memset(results, 0, sizeof *results);
  switch (w->kind) {
  case P2_WAIT_READ:
  case P2_WAIT_SKIP:
    if (!p2_stream_ready(p, w->rep)) return false;
    *trap = p2_read_now(p, w->rep, w->len, w->kind == P2_WAIT_SKIP, results, &empty);
    break;
  case P2_WAIT_FLUSH:
    if (!p2_stream_ready(p, w->rep)) return false;
    *trap = p2_flush_result(p, w->rep, results);
    break;
  case P2_WAIT_BLOCK:
    if (!is_ready(p, w->rep, mono(p))) return false;
    *n = 0;
    break;
  default:
    *trap = ready_list(p, w->reps, w->n, results, &empty);
    if (!*trap && empty) return false;
  }
  if (*trap) {
    wg_cval_free(results);
    *n = 0;
  }
  wg_wasi_p2_wait_free(w);
  return true;
}

static wg_trap *block(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  p2 *p = P2(env);
  uint32_t rep = a[0].of.handle.rep;
  if (is_ready(p, rep, mono(p))) return NULL;
  wg_trap *t = p2_park(p, P2_WAIT_BLOCK, rep, 0);
  if (t) return t;
  bool ok = false;
  return wait_blocking(p, &rep, 1, &ok);
}

/* poll(in: list<borrow<pollable>>) -> list<u32> */
static wg_trap *poll_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  size_t n = a[0].of.seq.len;
  if (!n) return wg_trap_new(WG_TRAP_HOST, "poll: the list of pollables is empty");
  if (n > 65536) return wg_trap_new(WG_TRAP_HOST, "poll: too many pollables");
  uint32_t *reps = malloc(n * sizeof *reps);
  if (!reps) return oom();
  for (size_t i = 0; i < n; i++) reps[i] = a[0].of.seq.ptr[i].of.handle.rep;
  bool none;
  wg_trap *t = ready_list(p, reps, n, r, &none);
  if (t || !none) {
    free(reps);
    return t;
  }
  if (p->park) { /* nothing ready: park until one is */
    wg_wasi_p2_wait *w = calloc(1, sizeof *w);
    if (w) {
      *w = (wg_wasi_p2_wait){.p = p, .kind = P2_WAIT_POLL, .reps = reps, .n = n};
      if ((t = p->park(p->park_user, w))) return t;
      free(w);
    }
  }
  bool *rd = calloc(n, sizeof *rd);
  t = rd ? wait_blocking(p, reps, n, rd) : oom();
  r->kind = WG_CVAL_LIST;
  r->of.seq.len = 0;
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
    {"wasi:io/poll" V, "[method]pollable.ready", pollable_ready,
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
  wg_trap *t = new_pollable(p, 0, out);
  if (!t) return true;
  wg_trap_delete(t);
  return false;
}

bool wg_wasi_p2_pollable(wg_wasi_p2 *p, bool (*is_ready_fn)(void *user, uint32_t tag), void *user, uint32_t tag,
                         wg_cval *out) {
  wg_trap *t = new_pollable_of(p, P2_POLL_EMBEDDER, tag, 0, is_ready_fn, user, NULL, 0, out);
  if (!t) return true;
  wg_trap_delete(t);
  return false;
}
