/* metrics.c: see metrics.h. */
#include "observe/metrics.h"
#include "observe/metrics_grpc.h"

#include <http_parser.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N_STATUS = 13, N_METHODS = 8, N_BUCKETS = 14, HASH_SLOTS = 2 * WGG_METRICS_MAX_SERIES };

static const int statuses[N_STATUS - 1] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 500, 503};
static const int methods[N_METHODS - 1] = {HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_PATCH, HTTP_HEAD, HTTP_OPTIONS};
static const double bucket_ms[N_BUCKETS] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
static const char *const route_names[WGG_R_COUNT] = {"other", "healthz", "metadata", "state.get", "state.save",
                                                     "state.bulk", "state.delete", "state.transaction", "invoke",
                                                     "bindings", "publish"};
static const char *const op_names[WGG_OP_COUNT] = {"get", "set", "delete", "transaction", "bulk_get"};
/* wg_trap_code names, by code (engine/include/wasmgate.h) */
static const char *const trap_names[] = {"trap", "unreachable", "memory_out_of_bounds", "table_out_of_bounds",
                                         "undefined_element", "uninitialized_element", "indirect_call_type",
                                         "int_div_by_zero", "int_overflow", "invalid_conversion", "stack_exhausted",
                                         "out_of_fuel", "interrupted", "host", "unsupported", "resource"};
static const char *const failure_names[WGG_WF_TRAP] = {"deadline", "timeout", "exit", "output", "instantiate"};

static const struct family {
  const char *name, *help;
} families[WGG_MF_COUNT] = {
    {"dapr_service_invocation_req_sent_total", "Service invocation requests sent, by destination app ID."},
    {"dapr_service_invocation_req_recv_total", "Service invocation requests received, by source app ID."},
    {"dapr_component_pubsub_egress_count", "Messages published, by component and topic."},
    {"dapr_component_pubsub_ingress_count", "Messages delivered to the app, by component, topic and app verdict."},
    {"dapr_component_output_binding_count", "Output binding invocations, by component and operation."},
    {"dapr_component_input_binding_count", "Input binding events delivered to the app, by component."},
};

/* Requests by method and status, and their latency histogram. */
typedef struct reqstat {
  uint64_t count[N_METHODS][N_STATUS];
  uint64_t other_status; /* statuses outside the table: counted under status="other" */
  uint64_t bucket[N_BUCKETS + 1];
  uint64_t sum_us;
} reqstat;

typedef struct series {
  int family;
  char *key;    /* the label values, each followed by a 0x1f byte (the lookup key) */
  char *labels; /* `name="value",...` (escaped), made once when the series is created */
  uint64_t v;
} series;

struct wgg_metrics {
  char *app_id;
  reqstat http[WGG_R_COUNT]; /* the API server, by route */
  reqstat client;            /* the app channel */
  uint64_t state[WGG_METRICS_MAX_STORES][WGG_OP_COUNT][2];
  char *store_names[WGG_METRICS_MAX_STORES];
  uint64_t wasm_calls, wasm_created, wasm_hits, wasm_cpu_ns, wasm_fail[WGG_WF_COUNT];
  int64_t wasm_parked;
  int wasm_seen; /* atomic: the app is a wasm app (its families are shown even at 0) */
  wgg_grpcm *grpc; /* dapr_grpc_io_* (metrics_grpc.c) */
  pthread_mutex_t mu;
  series *tab;  /* HASH_SLOTS slots, under mu */
  int *order;   /* slot of the i-th series, in insertion order */
  size_t n;
  uint64_t dropped;
};

static void add(uint64_t *p, uint64_t v) {
  __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

wgg_metrics *wgg_metrics_new(const char *app_id) {
  wgg_metrics *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->app_id = strdup(app_id ? app_id : "");
  m->tab = calloc(HASH_SLOTS, sizeof *m->tab);
  m->order = calloc(WGG_METRICS_MAX_SERIES, sizeof *m->order);
  m->grpc = wgg_grpcm_new();
  if (!m->app_id || !m->tab || !m->order || !m->grpc) {
    wgg_grpcm_free(m->grpc);
    free(m->app_id);
    free(m->tab);
    free(m->order);
    free(m);
    return NULL;
  }
  pthread_mutex_init(&m->mu, NULL);
  return m;
}

void wgg_metrics_free(wgg_metrics *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    free(m->tab[m->order[i]].labels);
    free(m->tab[m->order[i]].key);
  }
  for (size_t i = 0; i < WGG_METRICS_MAX_STORES; i++) free(m->store_names[i]);
  pthread_mutex_destroy(&m->mu);
  wgg_grpcm_free(m->grpc);
  free(m->tab);
  free(m->order);
  free(m->app_id);
  free(m);
}

const char *wgg_metrics_route_name(int route) {
  return route_names[route < 0 || route >= WGG_R_COUNT ? WGG_R_OTHER : route];
}

static void reqstat_add(reqstat *r, int method, int status, uint64_t ns) {
  int m = N_METHODS - 1, s = -1;
  for (int i = 0; i < N_METHODS - 1; i++)
    if (methods[i] == method) m = i;
  for (int i = 0; i < N_STATUS - 1; i++)
    if (statuses[i] == status) s = i;
  if (s < 0) add(&r->other_status, 1);
  else add(&r->count[m][s], 1);
  double ms = (double)ns / 1e6;
  int b = 0;
  while (b < N_BUCKETS && ms > bucket_ms[b]) b++;
  add(&r->bucket[b], 1);
  add(&r->sum_us, ns / 1000);
}

void wgg_metrics_http(wgg_metrics *m, int route, int method, int status, uint64_t ns) {
  if (!m) return;
  if (route < 0 || route >= WGG_R_COUNT) route = WGG_R_OTHER;
  reqstat_add(&m->http[route], method, status, ns);
}

void wgg_metrics_app_call(wgg_metrics *m, const char *method, int status, uint64_t ns) {
  if (!m) return;
  int code = -1;
  for (int i = 0; method && i < N_METHODS - 1; i++)
    if (!strcmp(method, http_method_str((enum http_method)methods[i]))) code = methods[i];
  reqstat_add(&m->client, code, status, ns);
}

void wgg_metrics_grpc(wgg_metrics *m, bool client, const char *method, int code, uint64_t ns, uint64_t received,
                      uint64_t sent) {
  if (m) wgg_grpcm_record(m->grpc, client ? 1 : 0, method, code, ns, received, sent);
}

void wgg_metrics_state(wgg_metrics *m, size_t idx, int op, int success) {
  if (!m || idx >= WGG_METRICS_MAX_STORES || op < 0 || op >= WGG_OP_COUNT) return;
  add(&m->state[idx][op][success ? 1 : 0], 1);
}

int wgg_metrics_set_store(wgg_metrics *m, size_t idx, const char *name) {
  if (!m) return 0;
  if (idx >= WGG_METRICS_MAX_STORES) return -1;
  free(m->store_names[idx]);
  return (m->store_names[idx] = strdup(name ? name : "")) ? 0 : -1;
}

/* Appends v as a label value (text format 0.0.4: backslash, double quote and newline escaped). */
static int esc(wgg_buf *b, const char *v) {
  int rc = 0;
  for (const char *p = v ? v : ""; *p && !rc; p++) {
    if (*p == '\\') rc = wgg_buf_append(b, "\\\\", 2);
    else if (*p == '"') rc = wgg_buf_append(b, "\\\"", 2);
    else if (*p == '\n') rc = wgg_buf_append(b, "\\n", 2);
    else rc = wgg_buf_append(b, p, 1);
  }
  return rc;
}

static uint64_t hash(int family, const char *s) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)family;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void wgg_metrics_count(wgg_metrics *m, int family, const char *const *names, const char *const *values, size_t n) {
  if (!m || family < 0 || family >= WGG_MF_COUNT) return;
  /* the lookup key is the raw values (no formatting, no allocation on this path: it runs per call) */
  char stack[256];
  wgg_buf kb = {0};
  char *key = stack;
  size_t kl = 0;
  for (size_t i = 0; i < n; i++) {
    const char *v = values[i] ? values[i] : "";
    size_t vl = strlen(v);
    if (key == stack && kl + vl + 2 > sizeof stack) { /* a long key: on the heap */
      if (wgg_buf_append(&kb, stack, kl)) goto oom;
      key = NULL;
    }
    if (key == stack) {
      memcpy(stack + kl, v, vl);
      stack[kl + vl] = 0x1f;
      kl += vl + 1;
    } else if (wgg_buf_append(&kb, v, vl) || wgg_buf_append(&kb, "\x1f", 1)) {
      goto oom;
    }
  }
  if (key == stack) stack[kl] = '\0';
  else if (wgg_buf_append(&kb, "", 0) || !(key = kb.data)) goto oom;
  pthread_mutex_lock(&m->mu);
  size_t slot = hash(family, key) % HASH_SLOTS;
  while (m->tab[slot].key && (m->tab[slot].family != family || strcmp(m->tab[slot].key, key)))
    slot = (slot + 1) % HASH_SLOTS;
  if (m->tab[slot].key) {
    m->tab[slot].v++;
    pthread_mutex_unlock(&m->mu);
    wgg_buf_free(&kb);
    return;
  }
  pthread_mutex_unlock(&m->mu);
  /* a new label set: format its labels outside the lock, then insert (unless another thread did) */
  wgg_buf lb = {0};
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++)
    rc = wgg_buf_printf(&lb, "%s%s=\"", i ? "," : "", names[i]) | esc(&lb, values[i]) | wgg_buf_append(&lb, "\"", 1);
  char *kcopy = strdup(key);
  if (rc || !lb.data || !kcopy) {
    free(kcopy);
    wgg_buf_free(&lb);
    goto oom;
  }
  pthread_mutex_lock(&m->mu);
  slot = hash(family, key) % HASH_SLOTS;
  while (m->tab[slot].key && (m->tab[slot].family != family || strcmp(m->tab[slot].key, key)))
    slot = (slot + 1) % HASH_SLOTS;
  if (m->tab[slot].key) {
    m->tab[slot].v++;
  } else if (m->n < WGG_METRICS_MAX_SERIES) {
    m->tab[slot] = (series){family, kcopy, lb.data, 1};
    m->order[m->n++] = (int)slot;
    kcopy = NULL;
    lb.data = NULL;
  } else {
    add(&m->dropped, 1);
  }
  pthread_mutex_unlock(&m->mu);
  free(kcopy);
  wgg_buf_free(&lb);
  wgg_buf_free(&kb);
  return;
oom:
  wgg_buf_free(&kb);
  add(&m->dropped, 1);
}

void wgg_metrics_wasm_app(wgg_metrics *m) {
  if (m && !__atomic_load_n(&m->wasm_seen, __ATOMIC_RELAXED)) __atomic_store_n(&m->wasm_seen, 1, __ATOMIC_RELAXED);
}

void wgg_metrics_wasm_call(wgg_metrics *m, bool pool_hit) {
  if (!m) return;
  wgg_metrics_wasm_app(m);
  add(&m->wasm_calls, 1);
  add(pool_hit ? &m->wasm_hits : &m->wasm_created, 1);
}

void wgg_metrics_wasm_parked(wgg_metrics *m, int delta) {
  if (m) __atomic_add_fetch(&m->wasm_parked, delta, __ATOMIC_RELAXED);
}

void wgg_metrics_wasm_failure(wgg_metrics *m, int kind) {
  if (m && kind >= 0 && kind < WGG_WF_COUNT) add(&m->wasm_fail[kind], 1);
}

void wgg_metrics_wasm_cpu(wgg_metrics *m, uint64_t ns) {
  if (m) add(&m->wasm_cpu_ns, ns);
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  fclose(f);
  return rss * sysconf(_SC_PAGESIZE);
}

static const char *method_label(int m) {
  return m < N_METHODS - 1 ? http_method_str((enum http_method)methods[m]) : "OTHER";
}

/* The series of one reqstat: name_count{app_id,<extra>,method,status} and the histogram
 * name_latency{app_id,<extra>}. extra is `route="x",` or "". */
static int render_counts(wgg_buf *o, const char *name, const char *app, const char *extra, const reqstat *r) {
  int rc = 0;
  for (int m = 0; m < N_METHODS; m++)
    for (int s = 0; s < N_STATUS - 1; s++) {
      uint64_t v = get(&r->count[m][s]);
      if (v)
        rc |= wgg_buf_printf(o, "%s{app_id=\"%s\",%smethod=\"%s\",status=\"%d\"} %llu\n", name, app, extra,
                             method_label(m), statuses[s], (unsigned long long)v);
    }
  uint64_t v = get(&r->other_status);
  if (v)
    rc |= wgg_buf_printf(o, "%s{app_id=\"%s\",%smethod=\"ANY\",status=\"other\"} %llu\n", name, app, extra,
                         (unsigned long long)v);
  return rc;
}

static int render_hist(wgg_buf *o, const char *name, const char *app, const char *extra, const reqstat *r) {
  uint64_t cum = 0;
  for (int b = 0; b <= N_BUCKETS; b++) cum += get(&r->bucket[b]);
  if (!cum) return 0;
  int rc = 0;
  cum = 0;
  for (int b = 0; b < N_BUCKETS; b++) {
    cum += get(&r->bucket[b]);
    rc |= wgg_buf_printf(o, "%s_bucket{app_id=\"%s\",%sle=\"%g\"} %llu\n", name, app, extra, bucket_ms[b],
                         (unsigned long long)cum);
  }
  cum += get(&r->bucket[N_BUCKETS]);
  rc |= wgg_buf_printf(o, "%s_bucket{app_id=\"%s\",%sle=\"+Inf\"} %llu\n", name, app, extra, (unsigned long long)cum);
  /* the sum and count carry no trailing comma inside the braces */
  char lab[128];
  snprintf(lab, sizeof lab, "%s", extra);
  size_t ll = strlen(lab);
  if (ll && lab[ll - 1] == ',') lab[ll - 1] = '\0';
  rc |= wgg_buf_printf(o, "%s_sum{app_id=\"%s\"%s%s} %.3f\n", name, app, *lab ? "," : "", lab,
                       (double)get(&r->sum_us) / 1000.0);
  rc |= wgg_buf_printf(o, "%s_count{app_id=\"%s\"%s%s} %llu\n", name, app, *lab ? "," : "", lab,
                       (unsigned long long)cum);
  return rc;
}

static int header(wgg_buf *o, const char *name, const char *help, const char *type) {
  return wgg_buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int wgg_metrics_render(wgg_buf *o, wgg_metrics *const *ms, size_t n) {
  int rc = 0;
  char extra[64];
  /* app IDs are escaped once */
  char **apps = calloc(n ? n : 1, sizeof *apps);
  if (!apps) return -1;
  for (size_t a = 0; a < n; a++) {
    wgg_buf b = {0};
    if (esc(&b, ms[a]->app_id) || wgg_buf_append(&b, "", 0)) rc = -1;
    apps[a] = b.data ? b.data : strdup("");
    if (!apps[a]) rc = -1;
  }
  if (rc) goto done;
  rc |= header(o, "dapr_http_server_request_count", "Number of HTTP requests served.", "counter");
  for (size_t a = 0; a < n; a++)
    for (int r = 0; r < WGG_R_COUNT; r++) {
      snprintf(extra, sizeof extra, "route=\"%s\",", route_names[r]);
      rc |= render_counts(o, "dapr_http_server_request_count", apps[a], extra, &ms[a]->http[r]);
    }
  rc |= header(o, "dapr_http_server_latency_ms", "Time from a complete request to its response, in ms.", "histogram");
  for (size_t a = 0; a < n; a++)
    for (int r = 0; r < WGG_R_COUNT; r++) {
      snprintf(extra, sizeof extra, "route=\"%s\",", route_names[r]);
      rc |= render_hist(o, "dapr_http_server_latency_ms", apps[a], extra, &ms[a]->http[r]);
    }
  rc |= header(o, "dapr_http_client_completed_count", "Calls to the app through the app channel, by status (0: no answer).",
               "counter");
  for (size_t a = 0; a < n; a++) {
    rc |= render_counts(o, "dapr_http_client_completed_count", apps[a], "", &ms[a]->client);
    /* no answer (transport error, timeout): status 0, not in the status table */
  }
  rc |= header(o, "dapr_http_client_roundtrip_latency_ms", "Time from a call to the app to its answer, in ms.",
               "histogram");
  for (size_t a = 0; a < n; a++) rc |= render_hist(o, "dapr_http_client_roundtrip_latency_ms", apps[a], "", &ms[a]->client);
  rc |= header(o, "dapr_component_state_count", "State store operations.", "counter");
  for (size_t a = 0; a < n; a++)
    for (size_t i = 0; i < WGG_METRICS_MAX_STORES; i++)
      for (int op = 0; op < WGG_OP_COUNT; op++)
        for (int ok = 0; ok < 2; ok++) {
          uint64_t v = get(&ms[a]->state[i][op][ok]);
          if (!v) continue;
          wgg_buf cn = {0};
          if (esc(&cn, ms[a]->store_names[i] ? ms[a]->store_names[i] : "") || wgg_buf_append(&cn, "", 0)) rc = -1;
          rc |= wgg_buf_printf(o,
                               "dapr_component_state_count{app_id=\"%s\",component=\"%s\",operation=\"%s\",success=\"%s\"} "
                               "%llu\n",
                               apps[a], cn.data ? cn.data : "", op_names[op], ok ? "true" : "false", (unsigned long long)v);
          wgg_buf_free(&cn);
        }
  wgg_grpcm **gs = calloc(n ? n : 1, sizeof *gs);
  if (!gs) rc = -1;
  for (size_t a = 0; gs && a < n; a++) gs[a] = ms[a]->grpc;
  if (gs) rc |= wgg_grpcm_render(o, gs, apps, n);
  free(gs);
  for (int f = 0; f < WGG_MF_COUNT; f++) {
    rc |= header(o, families[f].name, families[f].help, "counter");
    for (size_t a = 0; a < n; a++) {
      wgg_metrics *m = ms[a];
      pthread_mutex_lock(&m->mu);
      for (size_t i = 0; i < m->n; i++) {
        const series *s = &m->tab[m->order[i]];
        if (s->family == f)
          rc |= wgg_buf_printf(o, "%s{app_id=\"%s\",%s} %llu\n", families[f].name, apps[a], s->labels,
                               (unsigned long long)s->v);
      }
      pthread_mutex_unlock(&m->mu);
    }
  }
  bool wasm = false;
  for (size_t a = 0; a < n; a++) wasm |= __atomic_load_n(&ms[a]->wasm_seen, __ATOMIC_RELAXED);
  if (wasm) {
    static const struct {
      const char *name, *help, *type;
      size_t off;
    } w[] = {
        {"wasmgate_wasm_app_calls_total", "Requests and messages given to the wasm app.", "counter",
         offsetof(wgg_metrics, wasm_calls)},
        {"wasmgate_wasm_app_instances_created_total", "Wasm app instances made (none idle to reuse).",
         "counter", offsetof(wgg_metrics, wasm_created)},
        {"wasmgate_wasm_app_pool_hits_total", "Calls served by an idle instance: a warm pooled one, or (fresh policy) one reset to its initial state.", "counter",
         offsetof(wgg_metrics, wasm_hits)},
    };
    for (size_t k = 0; k < sizeof w / sizeof *w; k++) {
      rc |= header(o, w[k].name, w[k].help, w[k].type);
      for (size_t a = 0; a < n; a++)
        if (__atomic_load_n(&ms[a]->wasm_seen, __ATOMIC_RELAXED))
          rc |= wgg_buf_printf(o, "%s{app_id=\"%s\"} %llu\n", w[k].name, apps[a],
                               (unsigned long long)get((const uint64_t *)((const char *)ms[a] + w[k].off)));
    }
    rc |= header(o, "wasmgate_wasm_app_parked", "Guests parked on a host call now.", "gauge");
    for (size_t a = 0; a < n; a++)
      if (__atomic_load_n(&ms[a]->wasm_seen, __ATOMIC_RELAXED))
        rc |= wgg_buf_printf(o, "wasmgate_wasm_app_parked{app_id=\"%s\"} %lld\n", apps[a],
                             (long long)__atomic_load_n(&ms[a]->wasm_parked, __ATOMIC_RELAXED));
    rc |= header(o, "wasmgate_wasm_app_failures_total", "Failed wasm app calls by cause (the instance is discarded).",
                 "counter");
    for (size_t a = 0; a < n; a++)
      for (int k = 0; k < WGG_WF_COUNT; k++) {
        uint64_t v = get(&ms[a]->wasm_fail[k]);
        if (!v) continue;
        int tc = k - WGG_WF_TRAP;
        const char *kind = k < WGG_WF_TRAP ? failure_names[k]
                           : tc >= 0 && (size_t)tc < sizeof trap_names / sizeof *trap_names ? trap_names[tc]
                                                                                             : "trap";
        rc |= wgg_buf_printf(o, "wasmgate_wasm_app_failures_total{app_id=\"%s\",kind=\"%s\"} %llu\n", apps[a], kind,
                             (unsigned long long)v);
      }
    rc |= header(o, "wasmgate_wasm_app_cpu_seconds_total", "Guest CPU time (time parked on host calls excluded).",
                 "counter");
    for (size_t a = 0; a < n; a++)
      if (__atomic_load_n(&ms[a]->wasm_seen, __ATOMIC_RELAXED))
        rc |= wgg_buf_printf(o, "wasmgate_wasm_app_cpu_seconds_total{app_id=\"%s\"} %.6f\n", apps[a],
                             (double)get(&ms[a]->wasm_cpu_ns) / 1e9);
  }
  uint64_t dropped = 0;
  for (size_t a = 0; a < n; a++) dropped += get(&ms[a]->dropped);
  if (dropped)
    rc |= header(o, "wasmgate_metrics_series_dropped_total", "Label sets not recorded (the per-app series limit).",
                 "counter") |
          wgg_buf_printf(o, "wasmgate_metrics_series_dropped_total %llu\n", (unsigned long long)dropped);
  rc |= wgg_buf_printf(o, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                          "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
                       rss_bytes());
done:
  for (size_t a = 0; a < n; a++) free(apps[a]);
  free(apps);
  return rc ? -1 : 0;
}
