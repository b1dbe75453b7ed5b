/*
 * openloop: a fixed-rate (open-loop) HTTP/1.1 load generator for the sidecar
 * benchmarks. wrk is closed-loop: a slow response delays the next request,
 * so its percentiles hide stalls ("coordinated omission"). Here request i is
 * due at t0 + i/rate whatever happened before; a due request that finds no
 * idle connection waits in a queue, and its latency is measured from the
 * time it was due, so queueing behind a slow response counts.
 *
 * Wake-ups come from a timerfd with absolute deadlines and 1 ns timer slack
 * (libuv timers have millisecond resolution), watched by a uv_poll_t.
 *
 *   openloop -r RATE -d SECONDS [-w WARMUP_S] [-c CONNS] [-H 'Name: value']... HOST:PORT PATH
 *
 * Prints one line: requests, errors, achieved rate, and p50/p90/p99/p99.9/max
 * in microseconds from the due time; then the same percentiles measured from
 * the moment the request was written (the service time alone).
 */
#include <errno.h>
#include <http_parser.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

enum { MAX_CONNS = 256 };

typedef struct conn {
  uv_tcp_t tcp;
  uv_connect_t cr;
  http_parser parser;
  bool connected, busy, done;
  uint64_t due, sent;
  char buf[16384];
} conn;

static struct {
  uv_loop_t *loop;
  struct sockaddr_in addr;
  conn conns[MAX_CONNS];
  int n_conns;
  char *req;
  size_t req_len;
  uint64_t period_ns, t0, warm_end, end, next_due;
  uint64_t *queue; /* due times of requests waiting for a connection (ring) */
  size_t q_cap, q_head, q_len;
  uint64_t *lat_due, *lat_sent; /* ns, measured requests only */
  size_t n_lat, cap_lat;
  uint64_t errors, scheduled;
  int tfd;
  uv_poll_t poll;
  uv_timer_t stop_timer;
  bool stopping;
} g;

static void conn_open(conn *c);
static void reconnect_later(conn *c);

static void record(uint64_t due, uint64_t sent, uint64_t now) {
  if (due < g.warm_end || g.n_lat >= g.cap_lat) return;
  g.lat_due[g.n_lat] = now - due;
  g.lat_sent[g.n_lat++] = now - sent;
}

static void dispatch(void) {
  for (int i = 0; i < g.n_conns && g.q_len; i++) {
    conn *c = &g.conns[i];
    if (!c->connected || c->busy) continue;
    c->due = g.queue[g.q_head];
    g.q_head = (g.q_head + 1) % g.q_cap;
    g.q_len--;
    c->busy = true;
    c->done = false;
    c->sent = uv_hrtime();
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    uv_buf_t b = uv_buf_init(g.req, (unsigned)g.req_len);
    if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) != (int)g.req_len) /* small request: all or nothing */
      reconnect_later(c);
  }
}

static int on_complete(http_parser *p) {
  conn *c = p->data;
  c->done = true;
  return 0;
}

static const http_parser_settings settings = {.on_message_complete = on_complete};

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)sz;
  conn *c = h->data;
  *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_closed(uv_handle_t *h) {
  if (!g.stopping) conn_open(h->data);
}

static void reconnect_later(conn *c) {
  c->connected = false;
  if (c->busy) g.errors++;
  c->busy = false;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  conn *c = s->data;
  if (n < 0) {
    reconnect_later(c);
    return;
  }
  if (!c->busy || n == 0) return;
  size_t used = http_parser_execute(&c->parser, &settings, b->base, (size_t)n);
  if (c->parser.http_errno != HPE_OK || used != (size_t)n) {
    reconnect_later(c);
    return;
  }
  if (c->done) {
    uint64_t now = uv_hrtime();
    if (c->parser.status_code >= 400) g.errors++;
    else record(c->due, c->sent, now);
    c->busy = false;
    dispatch();
  }
}

static void on_connect(uv_connect_t *cr, int status) {
  conn *c = cr->data;
  if (status < 0) {
    fprintf(stderr, "openloop: connect: %s\n", uv_strerror(status));
    exit(1);
  }
  c->connected = true;
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  dispatch();
}

static void conn_open(conn *c) {
  uv_tcp_init(g.loop, &c->tcp);
  c->tcp.data = c;
  c->cr.data = c;
  uv_tcp_connect(&c->cr, &c->tcp, (struct sockaddr *)&g.addr, on_connect);
}

static void arm(uint64_t due_hr) {
  /* uv_hrtime is CLOCK_MONOTONIC in ns */
  struct itimerspec its = {.it_value = {.tv_sec = (time_t)(due_hr / 1000000000u), .tv_nsec = (long)(due_hr % 1000000000u)}};
  timerfd_settime(g.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_stop(uv_timer_t *t) {
  uv_stop(t->loop);
}

static void on_tick(uv_poll_t *p, int status, int events) {
  (void)p;
  (void)status;
  (void)events;
  uint64_t exp;
  if (read(g.tfd, &exp, sizeof exp) < 0 && errno != EAGAIN) return;
  uint64_t now = uv_hrtime();
  while (!g.stopping && g.next_due <= now) {
    if (g.next_due >= g.end) {
      g.stopping = true;
      break;
    }
    if (g.q_len == g.q_cap) g.errors++; /* queue overflow: counted as an error */
    else {
      g.queue[(g.q_head + g.q_len) % g.q_cap] = g.next_due;
      g.q_len++;
    }
    g.scheduled++;
    g.next_due += g.period_ns;
  }
  dispatch();
  if (!g.stopping) arm(g.next_due);
  else {
    uv_poll_stop(&g.poll);
    uv_timer_start(&g.stop_timer, on_stop, 2000, 0); /* drain outstanding responses for 2 s */
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p) {
  if (!n) return 0;
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  return (double)v[i] / 1000.0;
}

int main(int argc, char **argv) {
  double rate = 1000, secs = 10, warm = 1;
  int conns = 8;
  const char *hdrs[32];
  int n_hdrs = 0;
  int opt;
  while ((opt = getopt(argc, argv, "r:d:w:c:H:")) != -1) {
    if (opt == 'r') rate = atof(optarg);
    else if (opt == 'd') secs = atof(optarg);
    else if (opt == 'w') warm = atof(optarg);
    else if (opt == 'c') conns = atoi(optarg);
    else if (opt == 'H' && n_hdrs < 32) hdrs[n_hdrs++] = optarg;
    else {
      fprintf(stderr, "usage: openloop -r RATE -d SECONDS [-w WARMUP] [-c CONNS] [-H 'N: v'] HOST:PORT PATH\n");
      return 2;
    }
  }
  if (argc - optind != 2 || rate <= 0 || secs <= 0 || conns < 1 || conns > MAX_CONNS) {
    fprintf(stderr, "usage: openloop -r RATE -d SECONDS [-w WARMUP] [-c CONNS] [-H 'N: v'] HOST:PORT PATH\n");
    return 2;
  }
  char host[256];
  snprintf(host, sizeof host, "%s", argv[optind]);
  char *colon = strrchr(host, ':');
  if (!colon) return fprintf(stderr, "openloop: HOST:PORT expected\n"), 2;
  *colon = '\0';
  if (uv_ip4_addr(host, atoi(colon + 1), &g.addr)) return fprintf(stderr, "openloop: bad address\n"), 2;
  size_t cap = 4096;
  g.req = malloc(cap);
  int len = snprintf(g.req, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n", argv[optind + 1], argv[optind]);
  for (int i = 0; i < n_hdrs; i++) len += snprintf(g.req + len, cap - (size_t)len, "%s\r\n", hdrs[i]);
  len += snprintf(g.req + len, cap - (size_t)len, "\r\n");
  g.req_len = (size_t)len;

  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  g.loop = uv_default_loop();
  g.n_conns = conns;
  g.period_ns = (uint64_t)(1e9 / rate);
  g.q_cap = (size_t)(rate * 2) + 16;
  g.queue = malloc(g.q_cap * sizeof *g.queue);
  g.cap_lat = (size_t)(rate * (secs + 1)) + 16;
  g.lat_due = malloc(g.cap_lat * sizeof *g.lat_due);
  g.lat_sent = malloc(g.cap_lat * sizeof *g.lat_sent);
  g.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (!g.queue || !g.lat_due || !g.lat_sent || g.tfd < 0) return fprintf(stderr, "openloop: setup failed\n"), 1;
  for (int i = 0; i < conns; i++) conn_open(&g.conns[i]);
  /* connect first (a short settle), then start the clock */
  uv_run(g.loop, UV_RUN_NOWAIT);
  usleep(100000);
  uv_run(g.loop, UV_RUN_NOWAIT);
  g.t0 = uv_hrtime() + 10000000;
  g.warm_end = g.t0 + (uint64_t)(warm * 1e9);
  g.end = g.warm_end + (uint64_t)(secs * 1e9);
  g.next_due = g.t0;
  uv_poll_init(g.loop, &g.poll, g.tfd);
  uv_timer_init(g.loop, &g.stop_timer);
  uv_poll_start(&g.poll, UV_READABLE, on_tick);
  arm(g.next_due);
  uv_run(g.loop, UV_RUN_DEFAULT);

  qsort(g.lat_due, g.n_lat, sizeof *g.lat_due, cmp_u64);
  qsort(g.lat_sent, g.n_lat, sizeof *g.lat_sent, cmp_u64);
  double measured = secs;
  printf("rate %.0f/s for %.0fs (+%.0fs warm-up), %d conns: %zu measured, %llu errors, %zu still queued | "
         "from due time us: p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f | "
         "from send us: p50 %.1f p99 %.1f p99.9 %.1f\n",
         (double)g.n_lat / measured, secs, warm, conns, g.n_lat, (unsigned long long)g.errors, g.q_len,
         pct(g.lat_due, g.n_lat, 50), pct(g.lat_due, g.n_lat, 90), pct(g.lat_due, g.n_lat, 99),
         pct(g.lat_due, g.n_lat, 99.9), g.n_lat ? (double)g.lat_due[g.n_lat - 1] / 1000.0 : 0,
         pct(g.lat_sent, g.n_lat, 50), pct(g.lat_sent, g.n_lat, 99), pct(g.lat_sent, g.n_lat, 99.9));
  return g.errors || !g.n_lat ? 1 : 0;
}
