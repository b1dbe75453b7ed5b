/* metrics_grpc.c: see metrics_grpc.h. */
#include "observe/metrics_grpc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_CODES = 17, N_LAT = 34, N_SIZE = 13 };

/* daprd's distributions (pkg/diagnostics: defaultLatencyDistribution in ms, defaultSizeDistribution) */
static const double lat_ms[N_LAT] = {1,   2,   3,   4,   5,   6,    8,    10,   13,   16,    20,    25,
                                     30,  40,  50,  65,  80,  100,  130,  160,  200,  250,   300,   400,
                                     500, 650, 800, 1e3, 2e3, 5e3,  1e4,  2e4,  5e4,  1e5};
static const double size_b[N_SIZE] = {1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
                                      67108864, 268435456, 1073741824, 4294967296.0};
/* grpc-go's codes.Code String() */
static const char *const code_names[N_CODES] = {
    "OK",      "Canceled",   "Unknown",       "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
    "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"};

typedef struct hist {
  uint64_t b[N_LAT + 1]; /* per bucket (not cumulative); the last is +Inf */
  uint64_t sum;          /* µs for latencies, bytes for sizes */
} hist;

typedef struct mstat {
  char *method; /* escaped label value */
  uint64_t done[N_CODES + 1]; /* by code; the last: codes outside 0..16 ("Unknown") */
  hist lat, rx, tx;
} mstat;

struct wgg_grpcm {
  pthread_mutex_t mu;           /* adding a method */
  mstat *m[2][WGG_GRPCM_METHODS + 1]; /* the last: "other" */
  size_t n[2];                  /* published with release: readers scan m[side][0..n) */
};

static void add(uint64_t *p, uint64_t v) { __atomic_add_fetch(p, v, __ATOMIC_RELAXED); }
static uint64_t get(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

wgg_grpcm *wgg_grpcm_new(void) {
  wgg_grpcm *g = calloc(1, sizeof *g);
  if (g) pthread_mutex_init(&g->mu, NULL);
  return g;
}

void wgg_grpcm_free(wgg_grpcm *g) {
  if (!g) return;
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; i <= WGG_GRPCM_METHODS; i++)
      if (g->m[s][i]) {
        free(g->m[s][i]->method);
        free(g->m[s][i]);
      }
  pthread_mutex_destroy(&g->mu);
  free(g);
}

/* The method as a label value: backslash, quote and newline escaped. */
static char *escaped(const char *v) {
  wgg_buf b = {0};
  int rc = 0;
  for (const char *p = v; *p && !rc; p++)
    rc = *p == '\\' ? wgg_buf_append(&b, "\\\\", 2) : *p == '"' ? wgg_buf_append(&b, "\\\"", 2)
         : *p == '\n' ? wgg_buf_append(&b, "\\n", 2) : wgg_buf_append(&b, p, 1);
  if (rc || wgg_buf_append(&b, "", 0)) {
    wgg_buf_free(&b);
    return NULL;
  }
  return b.data;
}

static mstat *find(wgg_grpcm *g, int side, const char *esc_method) {
  size_t n = __atomic_load_n(&g->n[side], __ATOMIC_ACQUIRE);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(g->m[side][i]->method, esc_method)) return g->m[side][i];
  return NULL;
}

/* The method's stats, made on its first call (the "other" entry when the table is full). */
static mstat *stat_of(wgg_grpcm *g, int side, const char *method) {
  char stack[256];
  bool plain = strlen(method) < sizeof stack && !strpbrk(method, "\\\"\n");
  char *esc = plain ? strcpy(stack, method) : escaped(method);
  if (!esc) return NULL;
  mstat *s = find(g, side, esc);
  if (!s) {
    pthread_mutex_lock(&g->mu);
    if (!(s = find(g, side, esc))) {
      size_t n = g->n[side];
      size_t at = n < WGG_GRPCM_METHODS ? n : WGG_GRPCM_METHODS;
      if (!g->m[side][at] && (g->m[side][at] = calloc(1, sizeof(mstat))) &&
          !(g->m[side][at]->method = strdup(at == n ? esc : "other"))) {
        free(g->m[side][at]);
        g->m[side][at] = NULL;
      }
      s = g->m[side][at];
      if (s && at == n) __atomic_store_n(&g->n[side], n + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&g->mu);
  }
  if (esc != stack) free(esc);
  return s;
}

static void hist_add(hist *h, const double *bounds, int nb, double v, uint64_t sum) {
  int b = 0;
  while (b < nb && v > bounds[b]) b++;
  add(&h->b[b], 1);
  add(&h->sum, sum);
}

void wgg_grpcm_record(wgg_grpcm *g, int side, const char *method, int code, uint64_t ns, uint64_t rx, uint64_t tx) {
  if (!g || side < 0 || side > 1) return;
  mstat *s = stat_of(g, side, method && *method ? method : "unknown");
  if (!s) return;
  add(&s->done[code >= 0 && code < N_CODES ? code : N_CODES], 1);
  hist_add(&s->lat, lat_ms, N_LAT, (double)ns / 1e6, ns / 1000);
  hist_add(&s->rx, size_b, N_SIZE, (double)rx, rx);
  hist_add(&s->tx, size_b, N_SIZE, (double)tx, tx);
}

static int hist_render(wgg_buf *o, const char *name, const char *app, const char *key, const char *method,
                       const hist *h, const double *bounds, int nb, double sum_scale) {
  uint64_t cum = 0;
  int rc = 0;
  for (int b = 0; b < nb; b++) {
    cum += get(&h->b[b]);
    rc |= wgg_buf_printf(o, "%s_bucket{app_id=\"%s\",%s=\"%s\",le=\"%.10g\"} %llu\n", name, app, key, method, bounds[b],
                         (unsigned long long)cum);
  }
  cum += get(&h->b[nb]);
  rc |= wgg_buf_printf(o, "%s_bucket{app_id=\"%s\",%s=\"%s\",le=\"+Inf\"} %llu\n", name, app, key, method,
                       (unsigned long long)cum);
  rc |= wgg_buf_printf(o, "%s_sum{app_id=\"%s\",%s=\"%s\"} %.3f\n", name, app, key, method,
                       (double)get(&h->sum) * sum_scale);
  rc |= wgg_buf_printf(o, "%s_count{app_id=\"%s\",%s=\"%s\"} %llu\n", name, app, key, method, (unsigned long long)cum);
  return rc;
}

int wgg_grpcm_render(wgg_buf *o, wgg_grpcm *const *gs, char *const *apps, size_t n) {
  static const struct {
    const char *side, *completed, *latency, *lat_help, *rx, *tx;
  } sides[2] = {{"server", "dapr_grpc_io_server_completed_rpcs", "dapr_grpc_io_server_server_latency",
                 "Distribution of server latency in milliseconds, by method.",
                 "dapr_grpc_io_server_received_bytes_per_rpc", "dapr_grpc_io_server_sent_bytes_per_rpc"},
                {"client", "dapr_grpc_io_client_completed_rpcs", "dapr_grpc_io_client_roundtrip_latency",
                 "Distribution of round-trip latency in milliseconds, by method.",
                 "dapr_grpc_io_client_received_bytes_per_rpc", "dapr_grpc_io_client_sent_bytes_per_rpc"}};
  int rc = 0;
  for (int s = 0; s < 2; s++) {
    bool any = false;
    for (size_t a = 0; a < n; a++) any |= gs[a] && __atomic_load_n(&gs[a]->n[s], __ATOMIC_ACQUIRE) > 0;
    if (!any) continue;
    char key[32], status[32];
    snprintf(key, sizeof key, "grpc_%s_method", sides[s].side);
    snprintf(status, sizeof status, "grpc_%s_status", sides[s].side);
    rc |= wgg_buf_printf(o, "# HELP %s Count of RPCs by method and status.\n# TYPE %s counter\n", sides[s].completed,
                         sides[s].completed);
    for (size_t a = 0; a < n; a++) {
      size_t nm = gs[a] ? __atomic_load_n(&gs[a]->n[s], __ATOMIC_ACQUIRE) : 0;
      for (size_t i = 0; i <= nm && i <= WGG_GRPCM_METHODS; i++) {
        const mstat *m = i < nm ? gs[a]->m[s][i] : i == WGG_GRPCM_METHODS ? gs[a]->m[s][i] : NULL;
        if (!m) continue;
        for (int c = 0; c <= N_CODES; c++) {
          uint64_t v = get(&m->done[c]);
          if (v)
            rc |= wgg_buf_printf(o, "%s{app_id=\"%s\",%s=\"%s\",%s=\"%s\"} %llu\n", sides[s].completed, apps[a], key,
                                 m->method, status, c < N_CODES ? code_names[c] : "Unknown", (unsigned long long)v);
        }
      }
    }
    const struct {
      const char *name, *help;
      size_t off;
      const double *bounds;
      int nb;
      double scale;
    } hs[3] = {{sides[s].latency, sides[s].lat_help, offsetof(mstat, lat), lat_ms, N_LAT, 1e-3},
               {sides[s].rx, "Distribution of received bytes per RPC, by method.", offsetof(mstat, rx), size_b, N_SIZE, 1},
               {sides[s].tx, "Distribution of total sent bytes per RPC, by method.", offsetof(mstat, tx), size_b, N_SIZE,
                1}};
    for (int h = 0; h < 3; h++) {
      rc |= wgg_buf_printf(o, "# HELP %s %s\n# TYPE %s histogram\n", hs[h].name, hs[h].help, hs[h].name);
      for (size_t a = 0; a < n; a++) {
        size_t nm = gs[a] ? __atomic_load_n(&gs[a]->n[s], __ATOMIC_ACQUIRE) : 0;
        for (size_t i = 0; i <= nm && i <= WGG_GRPCM_METHODS; i++) {
          const mstat *m = i < nm ? gs[a]->m[s][i] : i == WGG_GRPCM_METHODS ? gs[a]->m[s][i] : NULL;
          if (m)
            rc |= hist_render(o, hs[h].name, apps[a], key, m->method, (const hist *)((const char *)m + hs[h].off),
                              hs[h].bounds, hs[h].nb, hs[h].scale);
        }
      }
    }
  }
  return rc ? -1 : 0;
}
