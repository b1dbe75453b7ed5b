/* metrics.c: see metrics.h. */
#include "observe/metrics.h"

#include <http_parser.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { N_STATUS = 13, N_METHODS = 8, MAX_STORES = 64, N_BUCKETS = 14 };

static const int statuses[N_STATUS - 1] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 500, 503};
static const int methods[N_METHODS - 1] = {HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_PATCH, HTTP_HEAD, HTTP_OPTIONS};
static const double bucket_ms[N_BUCKETS] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
static const char *const route_names[WGG_R_COUNT] = {"other", "healthz", "metadata", "state.get", "state.save",
                                                     "state.bulk", "state.delete", "state.transaction", "invoke",
                                                     "bindings", "publish"};
static const char *const op_names[WGG_OP_COUNT] = {"get", "set", "delete", "transaction", "bulk_get"};

static uint64_t req_count[WGG_R_COUNT][N_METHODS][N_STATUS];
static uint64_t other_status[WGG_R_COUNT]; /* statuses outside the table: counted under status="other" */
static uint64_t lat_bucket[WGG_R_COUNT][N_BUCKETS + 1];
static uint64_t lat_sum_us[WGG_R_COUNT];
static uint64_t state_count[MAX_STORES][WGG_OP_COUNT][2];

static void add(uint64_t *p, uint64_t v) {
  __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void wgg_metrics_http(int route, int method, int status, uint64_t ns) {
  if (route < 0 || route >= WGG_R_COUNT) route = WGG_R_OTHER;
  int m = N_METHODS - 1, s = -1;
  for (int i = 0; i < N_METHODS - 1; i++)
    if (methods[i] == method) m = i;
  for (int i = 0; i < N_STATUS - 1; i++)
    if (statuses[i] == status) s = i;
  if (s < 0) add(&other_status[route], 1);
  else add(&req_count[route][m][s], 1);
  double ms = (double)ns / 1e6;
  int b = 0;
  while (b < N_BUCKETS && ms > bucket_ms[b]) b++;
  add(&lat_bucket[route][b], 1);
  add(&lat_sum_us[route], ns / 1000);
}

const char *wgg_metrics_route_name(int route) {
  return route_names[route < 0 || route >= WGG_R_COUNT ? WGG_R_OTHER : route];
}

void wgg_metrics_state(size_t idx, int op, int success) {
  if (idx >= MAX_STORES || op < 0 || op >= WGG_OP_COUNT) return;
  add(&state_count[idx][op][success ? 1 : 0], 1);
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  fclose(f);
  return rss * sysconf(_SC_PAGESIZE);
}

int wgg_metrics_render(wgg_buf *o, const char *app, const char *const *names, size_t n) {
  int rc = 0;
  rc |= wgg_buf_printf(o, "# HELP dapr_http_server_request_count Number of HTTP requests served.\n"
                          "# TYPE dapr_http_server_request_count counter\n");
  for (int r = 0; r < WGG_R_COUNT; r++) {
    for (int m = 0; m < N_METHODS; m++)
      for (int s = 0; s < N_STATUS - 1; s++) {
        uint64_t v = get(&req_count[r][m][s]);
        if (!v) continue;
        rc |= wgg_buf_printf(o,
                             "dapr_http_server_request_count{app_id=\"%s\",route=\"%s\",method=\"%s\",status=\"%d\"} "
                             "%llu\n",
                             app, route_names[r], m < N_METHODS - 1 ? http_method_str((enum http_method)methods[m]) : "OTHER",
                             statuses[s], (unsigned long long)v);
      }
    uint64_t v = get(&other_status[r]);
    if (v)
      rc |= wgg_buf_printf(o, "dapr_http_server_request_count{app_id=\"%s\",route=\"%s\",method=\"ANY\",status=\"other\"} %llu\n",
                           app, route_names[r], (unsigned long long)v);
  }
  rc |= wgg_buf_printf(o, "# HELP dapr_http_server_latency_ms Time from a complete request to its response, in ms.\n"
                          "# TYPE dapr_http_server_latency_ms histogram\n");
  for (int r = 0; r < WGG_R_COUNT; r++) {
    uint64_t cum = 0;
    for (int b = 0; b <= N_BUCKETS; b++) cum += get(&lat_bucket[r][b]);
    if (!cum) continue;
    cum = 0;
    for (int b = 0; b < N_BUCKETS; b++) {
      cum += get(&lat_bucket[r][b]);
      rc |= wgg_buf_printf(o, "dapr_http_server_latency_ms_bucket{app_id=\"%s\",route=\"%s\",le=\"%g\"} %llu\n", app,
                           route_names[r], bucket_ms[b], (unsigned long long)cum);
    }
    cum += get(&lat_bucket[r][N_BUCKETS]);
    rc |= wgg_buf_printf(o, "dapr_http_server_latency_ms_bucket{app_id=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n", app,
                         route_names[r], (unsigned long long)cum);
    rc |= wgg_buf_printf(o, "dapr_http_server_latency_ms_sum{app_id=\"%s\",route=\"%s\"} %.3f\n", app, route_names[r],
                         (double)get(&lat_sum_us[r]) / 1000.0);
    rc |= wgg_buf_printf(o, "dapr_http_server_latency_ms_count{app_id=\"%s\",route=\"%s\"} %llu\n", app,
                         route_names[r], (unsigned long long)cum);
  }
  rc |= wgg_buf_printf(o, "# HELP dapr_component_state_count State store operations.\n"
                          "# TYPE dapr_component_state_count counter\n");
  for (size_t i = 0; i < n && i < MAX_STORES; i++)
    for (int op = 0; op < WGG_OP_COUNT; op++)
      for (int ok = 0; ok < 2; ok++) {
        uint64_t v = get(&state_count[i][op][ok]);
        if (v)
          rc |= wgg_buf_printf(o,
                               "dapr_component_state_count{app_id=\"%s\",component=\"%s\",operation=\"%s\",success=\"%s\"} "
                               "%llu\n",
                               app, names[i], op_names[op], ok ? "true" : "false", (unsigned long long)v);
      }
  rc |= wgg_buf_printf(o, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                          "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
                       rss_bytes());
  return rc ? -1 : 0;
}
