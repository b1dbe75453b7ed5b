/*
 * acceptor.c: see acceptor.h.
 */
#include "util/acceptor.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"

/* Pauses after EMFILE/ENFILE: from 5 ms, doubling, up to 1 s (as Go's Serve). */
#define BACKOFF_MIN_MS 5
#define BACKOFF_MAX_MS 1000
/* Connections accepted per readiness event before the loop serves others. */
#define ACCEPT_BATCH 64
/* At most one "accept failed" warning per this many ms. */
#define WARN_EVERY_MS 10000

struct wgg_acceptor {
  uv_poll_t poll;
  uv_timer_t backoff;   /* restarts polling after a pause */
  int fd;
  int open_handles;     /* poll + backoff */
  bool closing;
  uint64_t backoff_ms;  /* current pause, 0 while accepting normally */
  uint64_t warned_ms;   /* uv_now of the last warning (0: none yet) */
  uint64_t suppressed;  /* failures since that warning */
  char label[16];
  wgg_acceptor_fn on_fd;
  void *user;
};

static void on_ready(uv_poll_t *h, int status, int events);

static void on_backoff_done(uv_timer_t *t) {
  wgg_acceptor *a = t->data;
  if (!a->closing) uv_poll_start(&a->poll, UV_READABLE, on_ready);
}

static void warn_failure(wgg_acceptor *a, int e) {
  uint64_t now = uv_now(a->poll.loop);
  a->suppressed++;
  if (a->warned_ms && now - a->warned_ms < WARN_EVERY_MS) return;
  wgg_warn("%s: accept: %s (%llu failure(s)); pausing accepts, existing connections are still served", a->label,
           strerror(e), (unsigned long long)a->suppressed);
  a->warned_ms = now ? now : 1;
  a->suppressed = 0;
}

static void on_ready(uv_poll_t *h, int status, int events) {
  wgg_acceptor *a = h->data;
  (void)events;
  if (status < 0) {
    wgg_warn("%s: listening socket: %s", a->label, uv_strerror(status));
    return;
  }
  for (int i = 0; i < ACCEPT_BATCH && !a->closing; i++) {
    int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      a->backoff_ms = 0;
      a->on_fd(fd, a->user);
      continue;
    }
    int e = errno;
    if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) return;
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
      warn_failure(a, e);
      a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : BACKOFF_MIN_MS;
      if (a->backoff_ms > BACKOFF_MAX_MS) a->backoff_ms = BACKOFF_MAX_MS;
      uv_poll_stop(&a->poll);
      uv_timer_start(&a->backoff, on_backoff_done, a->backoff_ms, 0);
      return;
    }
    wgg_warn("%s: accept: %s", a->label, strerror(e));
    return;
  }
}

static void on_closed(uv_handle_t *h) {
  wgg_acceptor *a = h->data;
  if (--a->open_handles) return;
  close(a->fd);
  free(a);
}

void wgg_acceptor_close(wgg_acceptor *a) {
  if (!a || a->closing) return;
  a->closing = true;
  uv_close((uv_handle_t *)&a->poll, on_closed);
  uv_close((uv_handle_t *)&a->backoff, on_closed);
}

/* Addresses this process has checked for other listeners (every loop binds
 * its own SO_REUSEPORT socket to the same address after the first). */
static pthread_mutex_t probed_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sockaddr_storage probed[64];
static size_t n_probed;

/* SO_REUSEPORT would let this process silently share a port with another
 * process of the same user (the kernel then splits connections between
 * them); daprd (Go) fails with "address already in use". So the first bind
 * of each address in this process is tried once without SO_REUSEPORT:
 * EADDRINUSE there means someone else listens. Returns 0 or an errno. */
static int check_not_in_use(const struct sockaddr_storage *ss, socklen_t sl, int family) {
  pthread_mutex_lock(&probed_mu);
  for (size_t i = 0; i < n_probed; i++)
    if (!memcmp(&probed[i], ss, sl)) {
      pthread_mutex_unlock(&probed_mu);
      return 0;
    }
  int e = 0, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT leftovers are not listeners */
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)ss, sl) < 0 && errno == EADDRINUSE) e = EADDRINUSE;
    close(fd);
  }
  if (!e && n_probed < sizeof probed / sizeof probed[0]) memcpy(&probed[n_probed++], ss, sizeof *ss);
  pthread_mutex_unlock(&probed_mu);
  return e;
}

wgg_acceptor *wgg_acceptor_listen(uv_loop_t *loop, const char *host, int port, const char *label,
                                  wgg_acceptor_fn on_fd, void *user, wgg_err *err) {
  char h[128];
  snprintf(h, sizeof h, "%s", host);
  size_t hl = strlen(h);
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
    memmove(h, h + 1, hl - 2);
    h[hl - 2] = '\0';
  }
  struct sockaddr_storage ss;
  int family = strchr(h, ':') ? AF_INET6 : AF_INET;
  int rc = family == AF_INET6 ? uv_ip6_addr(h, port, (struct sockaddr_in6 *)&ss)
                              : uv_ip4_addr(h, port, (struct sockaddr_in *)&ss);
  if (rc) return wgg_err_set(err, "invalid listen address '%s': %s", host, uv_strerror(rc)), NULL;
  socklen_t probe_len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (port > 0 && check_not_in_use(&ss, probe_len, family))
    return wgg_err_set(err, "%s listen on %s:%d: %s (another process listens there)", label, host, port,
                       strerror(EADDRINUSE)),
           NULL;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return wgg_err_set(err, "socket: %s", strerror(errno)), NULL;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  socklen_t sl = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
    int e = errno;
    close(fd);
    return wgg_err_set(err, "%s listen on %s:%d: %s", label, host, port, strerror(e)), NULL;
  }
  wgg_acceptor *a = calloc(1, sizeof *a);
  if (!a) {
    close(fd);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  a->fd = fd;
  a->on_fd = on_fd;
  a->user = user;
  snprintf(a->label, sizeof a->label, "%s", label);
  if ((rc = uv_poll_init_socket(loop, &a->poll, fd))) {
    close(fd);
    free(a);
    return wgg_err_set(err, "%s listen on %s:%d: %s", label, host, port, uv_strerror(rc)), NULL;
  }
  uv_timer_init(loop, &a->backoff);
  a->poll.data = a->backoff.data = a;
  a->open_handles = 2;
  if ((rc = uv_poll_start(&a->poll, UV_READABLE, on_ready))) {
    wgg_acceptor_close(a);
    return wgg_err_set(err, "%s listen on %s:%d: %s", label, host, port, uv_strerror(rc)), NULL;
  }
  return a;
}
