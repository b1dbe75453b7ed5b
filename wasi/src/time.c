/*
 * time.c: WASI clocks (real ones, or the strict sandbox's deterministic
 * ones), random bytes, sleeping and poll_oneoff's waiting.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "host_internal.h"

#define MS 1000000ull

struct wg_wasi_walltime {
  _Atomic uint64_t ns; /* the last value read */
};

wg_wasi_walltime *wg_wasi_walltime_new_at(uint64_t start_ns) {
  wg_wasi_walltime *c = malloc(sizeof *c);
  if (c) atomic_init(&c->ns, start_ns);
  return c;
}

wg_wasi_walltime *wg_wasi_walltime_new(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return wg_wasi_walltime_new_at((uint64_t)ts.tv_sec * 1000000000u); /* the current whole second */
}

uint64_t wg_wasi_walltime_read(wg_wasi_walltime *c) { return atomic_fetch_add(&c->ns, MS) + MS; }

void wg_wasi_walltime_delete(wg_wasi_walltime *c) { free(c); }

/* Clocks (preview1 clockid: 0 realtime, 1 monotonic, 2 process, 3 thread). */
int wasi_clock_time(wg_wasi *w, uint32_t id, uint64_t *ns) {
  static const clockid_t ids[4] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
  if (id > 3) return WE_INVAL;
  if (w->strict) {
    /* Dapr's strictSandbox (wgwasi.h): wall time from a whole second, 1 ms
     * added before each read; monotonic 0, 1 ms, 2 ms, ...; no CPU clocks. */
    if (id == 0) return *ns = wg_wasi_walltime_read(w->walltime), 0;
    if (id == 1) return *ns = w->strict_mono, w->strict_mono += MS, 0;
    return WE_INVAL;
  }
  struct timespec ts;
  if (clock_gettime(ids[id], &ts)) return wasi_errno(errno);
  *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return 0;
}

int wasi_clock_res(wg_wasi *w, uint32_t id, uint64_t *ns) {
  static const clockid_t ids[4] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
  if (id > 3) return WE_INVAL;
  if (w->strict) return id == 0 ? (*ns = MS, 0) : id == 1 ? (*ns = 1, 0) : WE_INVAL; /* Dapr: 1 ms; wazero: 1 ns */
  struct timespec ts;
  if (clock_getres(ids[id], &ts)) return wasi_errno(errno);
  *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return 0;
}

int wasi_random(wg_wasi *w, uint8_t *buf, size_t len) {
  if (w->strict) {
    /* wazero's deterministic source: rand.New(rand.NewSource(42)).Read. */
    wg_gorand_read(w->rng, buf, len);
    return 0;
  }
  while (len) {
    ssize_t r = getrandom(buf, len, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return wasi_errno(errno);
    }
    buf += r;
    len -= (size_t)r;
  }
  return 0;
}

int wasi_sleep(wg_wasi *w, uint64_t ns) {
  if (w->strict) return 0;
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) && errno == EINTR) {
  }
  return 0;
}

/* Bytes readable now on a descriptor, as well as can be known. */
static uint64_t readable(wg_wasi *w, wasi_fd *f) {
  if (f->kind == K_STDIN_BUF) return w->in_len - w->in_pos;
  int n = 0;
  if (f->kind == K_HOST && f->type != FT_REG && ioctl(f->host, FIONREAD, &n) == 0 && n > 0) return (uint64_t)n;
  if (f->kind == K_HOST && f->type == FT_REG) {
    struct stat st;
    off_t pos = lseek(f->host, 0, SEEK_CUR);
    if (!fstat(f->host, &st) && pos >= 0 && st.st_size > pos) return (uint64_t)(st.st_size - pos);
  }
  return 0;
}

int wasi_poll(wg_wasi *w, const wasi_sub *subs, uint32_t n, wasi_event *events, uint32_t *nev) {
  struct pollfd *pfds = calloc(n ? n : 1, sizeof *pfds);
  bool *always = calloc(n ? n : 1, sizeof *always); /* buffers and regular files: always ready */
  int64_t *due = calloc(n ? n : 1, sizeof *due);    /* clocks: ms from now */
  if (!pfds || !always || !due) {
    free(pfds);
    free(always);
    free(due);
    return WE_NOMEM;
  }
  int64_t wait_ms = -1; /* -1: no clock, wait for a descriptor */
  bool any_fd = false, ready_now = false;
  *nev = 0;
  for (uint32_t i = 0; i < n; i++) {
    const wasi_sub *s = &subs[i];
    pfds[i].fd = -1;
    if (s->tag == 0) {
      uint64_t rel = s->timeout, now = 0;
      if (s->clock_id > 3) {
        events[(*nev)++] = (wasi_event){s->userdata, WE_INVAL, 0, 0, false};
        continue;
      }
      /* Strict: no clock is read (that would move the fake clocks) and none
       * is waited on: an absolute deadline is due at once. */
      if (s->absolute && w->strict) rel = 0;
      else if (s->absolute && !wasi_clock_time(w, s->clock_id, &now)) rel = s->timeout > now ? s->timeout - now : 0;
      int64_t ms = (int64_t)((rel + 999999) / 1000000);
      due[i] = ms;
      if (wait_ms < 0 || ms < wait_ms) wait_ms = ms;
      continue;
    }
    int err = WE_BADF;
    wasi_fd *f = wasi_get(w, s->fd, s->tag == 1 ? R_FD_READ : R_FD_WRITE, &err);
    if (!f) {
      events[(*nev)++] = (wasi_event){s->userdata, (uint16_t)err, s->tag, 0, false};
      continue;
    }
    any_fd = true;
    if (f->kind == K_HOST && f->type != FT_REG && f->type != FT_DIR) {
      pfds[i].fd = f->host;
      pfds[i].events = s->tag == 1 ? POLLIN : POLLOUT;
    } else {
      always[i] = ready_now = true;
    }
  }
  int r = 0;
  if (*nev == 0 && !ready_now) {
    /* Wait: on the descriptors with the earliest clock as timeout, or just
     * sleep on the clock. Strict mode never waits on a clock. */
    if (any_fd) {
      int timeout = wait_ms < 0 ? -1 : w->strict ? 0 : wait_ms > INT32_MAX ? INT32_MAX : (int)wait_ms;
      if (poll(pfds, n, timeout) < 0 && errno != EINTR) r = wasi_errno(errno);
    } else if (wait_ms > 0) {
      wasi_sleep(w, (uint64_t)wait_ms * 1000000u);
    }
  }
  if (!r && *nev == 0) {
    for (uint32_t i = 0; i < n; i++) {
      const wasi_sub *s = &subs[i];
      if (s->tag == 0 || !(always[i] || pfds[i].revents)) continue;
      wasi_event e = {s->userdata, 0, s->tag, s->tag == 1 ? readable(w, &w->fds[s->fd]) : 0,
                      (pfds[i].revents & POLLHUP) != 0};
      if (pfds[i].revents & (POLLERR | POLLNVAL)) e.error = WE_IO;
      events[(*nev)++] = e;
    }
    /* Nothing ready: the wait ended on the earliest clock(s), which fire. */
    if (*nev == 0)
      for (uint32_t i = 0; i < n; i++)
        if (subs[i].tag == 0 && due[i] <= wait_ms) events[(*nev)++] = (wasi_event){subs[i].userdata, 0, 0, 0, false};
  }
  free(pfds);
  free(always);
  free(due);
  return r;
}
