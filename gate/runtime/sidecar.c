/*
 * sidecar.c: wgg_run. Loads the components (or the embedded defaults), then
 * runs N worker threads, each with its own libuv loop and HTTP server on the
 * same port (SO_REUSEPORT), while the main thread waits for SIGTERM/SIGINT
 * and drives the graceful shutdown (dapr --dapr-graceful-shutdown-seconds).
 */
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "api/invoke_pipe.h"
#include "api/appchannel.h"
#include "wasmhost/app.h"
#include "api/executor.h"
#include "api/input_bindings.h"
#include "api/mesh.h"
#include "grpc/dapr.h"
#include "grpc/server.h"
#include "http/client.h"
#include "http/server.h"
#include "observe/metrics.h"
#include "runtime/apphealth.h"
#include "runtime/hosted.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/loophooks.h"

void wgg_options_init(wgg_options *o) {
  memset(o, 0, sizeof *o);
  o->app_id = "";
  o->app_protocol = "http";
  o->app_channel_address = "127.0.0.1";
  o->http_port = 3500;
  o->grpc_port = 50001;
  o->listen_addresses = "";
  o->log_level = WGG_LOG_INFO;
  o->metrics_port = 9090;
  o->enable_metrics = true;
  o->max_body_size = 4u << 20;
  o->read_buffer_size = 4u << 10;
  o->app_max_concurrency = -1;
  o->app_health_check_path = "/healthz";
  o->app_health_probe_interval_ms = 5000;
  o->app_health_probe_timeout_ms = 500;
  o->app_health_threshold = 3;
  o->graceful_shutdown_ms = 5000;
  o->header_timeout_ms = 10000;
  o->read_timeout_ms = 60000;
  o->idle_timeout_ms = 60000;
  o->state_file = "wasmgate-state.db";
}

struct worker;

typedef struct mainctx {
  uv_loop_t *loop;
  uv_signal_t sigterm, sigint, sighup;
  uv_timer_t deadline;
  uv_async_t worker_done;
  struct worker *workers;
  size_t n_workers;
  bool stopping;
  uint64_t grace_ms;
  uv_mutex_t notify_mu;
  bool notify_closed; /* worker_done is closed (under notify_mu) */
  wgg_http_server *metrics; /* the Prometheus endpoint, on the main loop */
  wgg_api *api;
  uv_timer_t app_probe; /* retries a TCP connect to the app port until it answers */
  uv_tcp_t *probe_tcp;
  bool probe_resolving;
  uint64_t probe_attempts;
  wgg_apphealth *health; /* --enable-app-health-check: probes once the app port answers */
  uv_timer_t nr_renew; /* renews the name-resolution registration (api/mesh.h) */
  wgg_inputs *inputs;  /* input bindings, on this loop (api/input_bindings.h) */
  wgg_hosted *hosted;  /* the further wasm apps hosted in this process (runtime/hosted.h), NULL when none */
  int shutdown_requested; /* atomic: POST /v1.0/shutdown asked for a graceful stop (api/shutdown.c) */
} mainctx;

/* Wakes the main loop; safe against the main loop closing the handle. */
static void notify_main(mainctx *m) {
  uv_mutex_lock(&m->notify_mu);
  if (!m->notify_closed) uv_async_send(&m->worker_done);
  uv_mutex_unlock(&m->notify_mu);
}

typedef struct worker {
  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t cmd_async;
  uv_sem_t started;
  uv_mutex_t mu;
  int cmd;     /* 1 drain, 2 close now (under mu) */
  bool exited; /* the async handle is closed (under mu) */
  bool failed;
  wgg_err err;
  wgg_http_server *srv;
  wgg_grpc_server *gsrv; /* the gRPC API (grpc/), NULL without --dapr-grpc-port */
  wgg_api *api;
  const wgg_options *opts;
  char **addrs;
  size_t n_addrs;
  struct mainctx *main; /* woken through worker_done when the worker's loop is done */
  wgg_hosted *hosted;   /* borrowed: the hosted apps, whose concurrency limits this loop registers with */
} worker;

/* Closes the worker's command handle once (the drain callback and a forced
 * close may both get here); the loop then ends when its connections are gone. */
static void worker_drained(void *p) {
  worker *w = p;
  uv_mutex_lock(&w->mu);
  bool was = w->exited;
  w->exited = true;
  uv_mutex_unlock(&w->mu);
  if (was) return;
  uv_close((uv_handle_t *)&w->cmd_async, NULL);
  wgg_app_limit_thread_close(w->api->app_limit); /* calls still waiting for a slot fail now */
  wgg_hosted_thread_close(w->hosted);
  wgg_exec_thread_close();                       /* closes once the store calls it submitted complete */
  if (w->loop.data) wgg_http_client_close(w->loop.data); /* in-flight app calls still complete */
  w->loop.data = NULL;
}

static void on_cmd(uv_async_t *a) {
  worker *w = a->data;
  uv_mutex_lock(&w->mu);
  int cmd = w->cmd;
  bool exited = w->exited;
  uv_mutex_unlock(&w->mu);
  if (exited) return;
  if (cmd == 2) {
    /* the grace is over: what the loop still waits for fails now (a guest parked on an outgoing
     * request resumes with the error and answers; the app channel's calls fail), as daprd's exit */
    if (w->loop.data) wgg_http_client_abort_all(w->loop.data, "shutting down");
    wgg_loop_hooks_abort(); /* and the loop's backend connections (Redis) fail theirs when closed below */
    wgg_grpc_server_close_all(w->gsrv);
    wgg_http_server_close_all(w->srv);
    worker_drained(w);
  } else if (cmd == 1) {
    wgg_grpc_server_drain(w->gsrv);
    wgg_http_server_drain(w->srv, worker_drained, w);
  }
}

static void worker_main(void *p) {
  worker *w = p;
  const wgg_options *o = w->opts;
  wgg_http_server_config cfg = {
      .max_body = o->max_body_size,
      /* daprd's net/http server: MaxHeaderBytes = --read-buffer-size, and Go
       * reads a head of up to MaxHeaderBytes + 4096 bytes before its 431 */
      .max_head = o->read_buffer_size + 4096,
      .header_timeout_ms = o->header_timeout_ms,
      .read_timeout_ms = o->read_timeout_ms,
      .idle_timeout_ms = o->idle_timeout_ms,
      .write_timeout_ms = o->idle_timeout_ms, /* a client that stops reading is idle */
      .handler = wgg_api_handle,
      .user = w->api,
      .observe = wgg_api_observe,
      .stream_body = wgg_api_stream_body,
      .stream_body_min = WGG_INVOKE_STREAM_MIN,
  };
  uv_loop_init(&w->loop);
  w->loop.data = wgg_http_client_new(&w->loop); /* the app channel of this loop (NULL: OOM, invoke answers 500) */
  if (w->loop.data) wgg_http_client_set_max_body(w->loop.data, o->max_body_size);
  if (wgg_exec_thread_init(&w->loop)) wgg_warn("out of memory: state stores of this thread use the libuv pool");
  if (wgg_app_limit_thread_init(w->api->app_limit, &w->loop))
    wgg_warn("out of memory: calls from this thread are not held to --app-max-concurrency");
  if (w == &w->main->workers[0]) wgg_appconfig_watch(w->api, &w->loop); /* GET /dapr/config once the app is ready */
  wgg_hosted_thread_init(w->hosted, &w->loop);
  uv_async_init(&w->loop, &w->cmd_async, on_cmd);
  w->cmd_async.data = w;
  w->srv = wgg_http_server_new(&w->loop, &cfg, &w->err);
  if (!w->srv) w->failed = true;
  for (size_t i = 0; !w->failed && i < w->n_addrs; i++)
    if (wgg_http_server_listen(w->srv, w->addrs[i], o->http_port, &w->err)) w->failed = true;
  wgg_grpc_server_config gcfg = {.max_msg = o->max_body_size, .max_head = o->read_buffer_size > 16384 ? o->read_buffer_size : 16384,
                                 .idle_timeout_ms = o->idle_timeout_ms, .read_timeout_ms = o->read_timeout_ms,
                                 .handler = wgg_grpc_dapr_handle, .user = w->api, .observe = wgg_grpc_dapr_observe,
                                 .streaming = wgg_grpc_dapr_streaming};
  if (!w->failed && o->grpc_port > 0 && !(w->gsrv = wgg_grpc_server_new(&w->loop, &gcfg, &w->err))) w->failed = true;
  for (size_t i = 0; !w->failed && w->gsrv && i < w->n_addrs; i++)
    if (wgg_grpc_server_listen(w->gsrv, w->addrs[i], o->grpc_port, &w->err)) w->failed = true;
  if (w->failed) {
    wgg_grpc_server_close_all(w->gsrv);
    if (w->srv) wgg_http_server_close_all(w->srv);
    worker_drained(w);
  }
  uv_sem_post(&w->started);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  wgg_http_server_free(w->srv);
  w->srv = NULL;
  wgg_grpc_server_free(w->gsrv);
  w->gsrv = NULL;
  uv_loop_close(&w->loop);
  notify_main(w->main);
}

static void send_cmd(worker *w, int cmd) {
  uv_mutex_lock(&w->mu);
  if (!w->exited && w->cmd < cmd) {
    w->cmd = cmd;
    uv_async_send(&w->cmd_async);
  }
  uv_mutex_unlock(&w->mu);
}

static void probe_closed(uv_handle_t *h);

static bool all_exited(mainctx *m) {
  for (size_t i = 0; i < m->n_workers; i++) {
    uv_mutex_lock(&m->workers[i].mu);
    bool e = m->workers[i].exited;
    uv_mutex_unlock(&m->workers[i].mu);
    if (!e) return false;
  }
  return true;
}

static void main_close(mainctx *m) {
  if (m->metrics) wgg_http_server_close_all(m->metrics);
  wgg_apphealth_stop(m->health);
  m->health = NULL;
  if (!uv_is_closing((uv_handle_t *)&m->app_probe)) uv_close((uv_handle_t *)&m->app_probe, NULL);
  if (!uv_is_closing((uv_handle_t *)&m->nr_renew)) uv_close((uv_handle_t *)&m->nr_renew, NULL);
  wgg_inputs_stop(m->inputs);
  wgg_hosted_stop(m->hosted);
  if (m->probe_tcp && !uv_is_closing((uv_handle_t *)m->probe_tcp)) uv_close((uv_handle_t *)m->probe_tcp, probe_closed);
  m->probe_tcp = NULL;
  if (!uv_is_closing((uv_handle_t *)&m->sigterm)) uv_close((uv_handle_t *)&m->sigterm, NULL);
  if (!uv_is_closing((uv_handle_t *)&m->sigint)) uv_close((uv_handle_t *)&m->sigint, NULL);
  if (!uv_is_closing((uv_handle_t *)&m->sighup)) uv_close((uv_handle_t *)&m->sighup, NULL);
  wgg_pipeline_unwatch(&m->api->http_pipeline);
  wgg_pipeline_unwatch(&m->api->app_http_pipeline);
  wgg_wasm_app_unwatch(m->api->wasm_app);
  if (!uv_is_closing((uv_handle_t *)&m->deadline)) uv_close((uv_handle_t *)&m->deadline, NULL);
  uv_mutex_lock(&m->notify_mu);
  if (!m->notify_closed) uv_close((uv_handle_t *)&m->worker_done, NULL);
  m->notify_closed = true;
  uv_mutex_unlock(&m->notify_mu);
}

static void on_deadline(uv_timer_t *t) {
  mainctx *m = t->data;
  wgg_warn("graceful shutdown: %llu ms passed; closing the remaining connections",
           (unsigned long long)m->grace_ms);
  for (size_t i = 0; i < m->n_workers; i++) send_cmd(&m->workers[i], 2);
}

/* Starts the graceful stop: the workers drain, and after grace_ms the
 * remaining connections are closed. why names the cause for the log. */
static void begin_stop(mainctx *m, const char *why) {
  m->stopping = true;
  wgg_info("%s; shutting down gracefully (at most %llu ms)", why, (unsigned long long)m->grace_ms);
  for (size_t i = 0; i < m->n_workers; i++) send_cmd(&m->workers[i], 1);
  uv_timer_start(&m->deadline, on_deadline, m->grace_ms ? m->grace_ms : 1, 0);
  if (all_exited(m)) main_close(m);
}

static void on_worker_done(uv_async_t *a) {
  mainctx *m = a->data;
  if (!m->stopping && __atomic_load_n(&m->shutdown_requested, __ATOMIC_ACQUIRE)) {
    begin_stop(m, "shutdown requested through the API (POST /v1.0/shutdown)");
    return;
  }
  if (m->stopping && all_exited(m)) main_close(m);
}

/* api->request_shutdown: any thread; the main loop starts the stop. */
static void request_shutdown(void *p) {
  mainctx *m = p;
  __atomic_store_n(&m->shutdown_requested, 1, __ATOMIC_RELEASE);
  notify_main(m);
}

static void on_signal(uv_signal_t *s, int signum) {
  mainctx *m = s->data;
  if (m->stopping) { /* a second signal: stop now */
    for (size_t i = 0; i < m->n_workers; i++) send_cmd(&m->workers[i], 2);
    return;
  }
  begin_stop(m, signum == SIGTERM ? "received signal SIGTERM" : "received signal SIGINT");
}

/* SIGHUP: recompile every wasm middleware from its url and swap it in;
 * requests in flight finish on the old guests. */
static void on_sighup(uv_signal_t *s, int signum) {
  (void)signum;
  mainctx *m = s->data;
  if (m->stopping) return;
  size_t n = m->api->http_pipeline.n + m->api->app_http_pipeline.n;
  wgg_info("received signal SIGHUP; reloading %zu wasm middleware guest(s)", n);
  wgg_pipeline_reload(&m->api->http_pipeline);
  wgg_pipeline_reload(&m->api->app_http_pipeline);
  if (m->api->wasm_app) { /* the wasm app too: calls in flight finish on the old module */
    wgg_err e;
    if (wgg_wasm_app_reload(m->api->wasm_app, &e)) wgg_error("wasm app not reloaded (the old one keeps serving): %s", e.msg);
    else wgg_info("wasm app reloaded: %s (%s ABI)", wgg_wasm_app_name(m->api->wasm_app), wgg_wasm_app_abi_name(m->api->wasm_app));
  }
  wgg_hosted_reload(m->hosted);
}

/* GET /metrics (any path) on --metrics-port: the Prometheus text exposition, the series of every
 * app ID of the process (the sidecar's own, then each hosted wasm app's), each labelled with its
 * app_id as its own sidecar would label it. */
static void metrics_handler(wgg_http_req *req, void *user) {
  mainctx *m = user;
  const wgg_hosted_apps *h = m->api->hosted;
  size_t n = 0, cap = h ? h->n + 1 : 1;
  wgg_metrics **ms = calloc(cap, sizeof *ms);
  if (ms && m->api->metrics) ms[n++] = m->api->metrics;
  for (size_t i = 0; ms && h && i < h->n; i++)
    if (h->apis[i] != m->api && h->apis[i]->metrics) ms[n++] = h->apis[i]->metrics;
  wgg_buf b = {0};
  int rc = ms ? wgg_metrics_render(&b, ms, n) : -1;
  free(ms);
  if (rc) {
    wgg_buf_free(&b);
    wgg_http_respond(req, 500, "text/plain", NULL, 0, "out of memory", 13);
    return;
  }
  wgg_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, b.data, b.len);
  wgg_buf_free(&b);
}

static int start_metrics(mainctx *m, const wgg_options *o, char **addrs, size_t n_addrs, wgg_err *err) {
  wgg_http_server_config cfg = {.max_body = 4096, .max_head = 8192, .header_timeout_ms = 10000,
                                .read_timeout_ms = 10000, .idle_timeout_ms = 60000, .write_timeout_ms = 60000,
                                .handler = metrics_handler, .user = m};
  m->metrics = wgg_http_server_new(m->loop, &cfg, err);
  if (!m->metrics) return -1;
  const char *only = o->metrics_listen_address && *o->metrics_listen_address ? o->metrics_listen_address : NULL;
  for (size_t i = 0; i < (only ? 1 : n_addrs); i++) {
    wgg_err e;
    if (wgg_http_server_listen(m->metrics, only ? only : addrs[i], o->metrics_port, &e))
      return wgg_err_set(err, "metrics server (--metrics-port): %s", e.msg);
  }
  return 0;
}

/* App channel readiness: like daprd, wait until the app port accepts a TCP
 * connection; /v1.0/healthz answers 500 until then. */
static void probe_closed(uv_handle_t *h) {
  free(h);
}

static void on_probe_connect(uv_connect_t *cr, int status) {
  mainctx *m = cr->data;
  uv_tcp_t *t = (uv_tcp_t *)cr->handle;
  free(cr);
  if (m->probe_tcp == t) m->probe_tcp = NULL;
  if (!uv_is_closing((uv_handle_t *)t)) uv_close((uv_handle_t *)t, probe_closed);
  if (status == UV_ECANCELED || m->stopping) return;
  const wgg_options *o = m->api->opts;
  if (status == 0) {
    __atomic_store_n(&m->api->app_ready, 1, __ATOMIC_RELEASE);
    wgg_info("application discovered on %s:%d", o->app_channel_address, o->app_port);
    uv_timer_stop(&m->app_probe);
    if (o->enable_app_health_check && !m->health) m->health = wgg_apphealth_start(m->loop, m->api);
  } else if (++m->probe_attempts % 50 == 1) {
    wgg_info("waiting for the application to listen on %s:%d (%s)", o->app_channel_address, o->app_port,
             uv_strerror(status));
  }
}

static void probe_connect(mainctx *m, const struct sockaddr *sa) {
  uv_tcp_t *tcp = malloc(sizeof *tcp);
  uv_connect_t *cr = malloc(sizeof *cr);
  if (!tcp || !cr) {
    free(tcp);
    free(cr);
    return;
  }
  uv_tcp_init(m->loop, tcp);
  cr->data = m;
  if (uv_tcp_connect(cr, tcp, sa, on_probe_connect)) {
    free(cr);
    uv_close((uv_handle_t *)tcp, probe_closed);
    return;
  }
  m->probe_tcp = tcp;
}

static void on_probe_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  mainctx *m = g->data;
  free(g);
  m->probe_resolving = false;
  if (status == 0 && res && !m->stopping) {
    const struct addrinfo *pick = res;
    for (const struct addrinfo *a = res; a; a = a->ai_next)
      if (a->ai_family == AF_INET) {
        pick = a;
        break;
      }
    probe_connect(m, pick->ai_addr);
  } else if (status < 0 && ++m->probe_attempts % 50 == 1) {
    wgg_warn("cannot resolve the app channel address %s: %s", m->api->opts->app_channel_address, uv_strerror(status));
  }
  if (res) uv_freeaddrinfo(res);
}

static void on_probe_timer(uv_timer_t *t) {
  mainctx *m = t->data;
  const wgg_options *o = m->api->opts;
  if (m->probe_tcp || m->probe_resolving || m->stopping) return; /* one attempt at a time */
  struct sockaddr_storage ss;
  if (!uv_ip4_addr(o->app_channel_address, o->app_port, (struct sockaddr_in *)&ss) ||
      !uv_ip6_addr(o->app_channel_address, o->app_port, (struct sockaddr_in6 *)&ss)) {
    probe_connect(m, (struct sockaddr *)&ss);
    return;
  }
  uv_getaddrinfo_t *g = malloc(sizeof *g); /* a name: resolve on the thread pool */
  if (!g) return;
  g->data = m;
  char port[16];
  snprintf(port, sizeof port, "%d", o->app_port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  if (uv_getaddrinfo(m->loop, g, on_probe_resolved, o->app_channel_address, port, &hints)) free(g);
  else m->probe_resolving = true;
}

/* Name-resolution heartbeat: the SQLite update runs on the thread pool. */
static void renew_work(uv_work_t *w) {
  mainctx *m = w->data;
  wgg_mesh_renew(m->api);
  wgg_hosted_renew(m->hosted);
}

static void renew_done(uv_work_t *w, int status) {
  (void)status;
  free(w);
}

static void on_renew_timer(uv_timer_t *t) {
  mainctx *m = t->data;
  uv_work_t *w = malloc(sizeof *w);
  if (!w || m->stopping) {
    free(w);
    return;
  }
  w->data = m;
  if (uv_queue_work(m->loop, w, renew_work, renew_done)) free(w);
}

/* Splits --dapr-listen-addresses; "" means all IPv4 interfaces. */
static char **split_addrs(const char *s, size_t *n) {
  *n = 0;
  char *copy = strdup(s && *s ? s : "0.0.0.0");
  char **out = calloc(16, sizeof *out);
  if (!copy || !out) {
    free(copy);
    free(out);
    return NULL;
  }
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && *n < 16; t = strtok_r(NULL, ",", &save)) {
    while (*t == ' ') t++;
    if (*t && !(out[(*n)++] = strdup(t))) break;
  }
  free(copy);
  return out;
}

static int default_components(const wgg_options *o, wgg_component_list *list, wgg_err *err) {
  wgg_meta_kv meta[] = {{.name = "connectionString", .value = (char *)o->state_file}};
  wgg_component c = {.name = "statestore",
                     .type = "state.sqlite",
                     .version = "v1",
                     .meta = meta,
                     .n_meta = 1,
                     .file = "(embedded default)",
                     .line = 0};
  if (wgg_component_list_add(list, &c)) return wgg_err_set(err, "out of memory");
  /* Dapr self-hosted's default pub/sub is named "pubsub"; ours is in-memory (no broker to run). */
  wgg_component ps = {.name = "pubsub", .type = "pubsub.in-memory", .version = "v1", .file = "(embedded default)"};
  if (wgg_component_list_add(list, &ps)) return wgg_err_set(err, "out of memory");
  /* A distributed lock that needs no server (ours; daprd has no default lock store). */
  wgg_component lk = {.name = "lockstore", .type = "lock.in-memory", .version = "v1", .file = "(embedded default)"};
  if (wgg_component_list_add(list, &lk)) return wgg_err_set(err, "out of memory");
  /* A configuration store that needs no server (ours): table `configuration` of the state file. */
  wgg_component cf = {.name = "configstore", .type = "configuration.sqlite", .version = "v1", .meta = meta,
                      .n_meta = 1, .file = "(embedded default)"};
  if (wgg_component_list_add(list, &cf)) return wgg_err_set(err, "out of memory");
  return 0;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit, as Go's runtime does at
 * start (os/rlimit.go): every connection is a descriptor. */
static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max) return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl)) wgg_debug("could not raise the open-files limit from %llu: %s",
                                                (unsigned long long)was, strerror(errno));
}

size_t wgg_default_loop_threads(void) {
  long n = 0;
  cpu_set_t set;
  if (!sched_getaffinity(0, sizeof set, &set)) n = CPU_COUNT(&set); /* a cpuset or taskset limits us */
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 2 ? (size_t)n / 2 : 1;
}

int wgg_run(const wgg_options *o, wgg_err *err) {
  wgg_log_setup(o->log_level, o->log_as_json);
  signal(SIGPIPE, SIG_IGN);
  raise_nofile();
  if (o->http_port <= 0 || o->http_port > 65535) return wgg_err_set(err, "invalid --dapr-http-port %d", o->http_port);
  if (o->grpc_port < 0 || o->grpc_port > 65535) return wgg_err_set(err, "invalid --dapr-grpc-port %d", o->grpc_port);
  if (o->app_port > 0 && o->app_protocol && strcmp(o->app_protocol, "http") && strcmp(o->app_protocol, "grpc"))
    return wgg_err_set(err, "--app-protocol %s is not supported yet: the app channel speaks plain HTTP/1.1 (http) or h2c gRPC (grpc)",
                       o->app_protocol);
  size_t n_workers = o->threads > 0 ? (size_t)o->threads : wgg_default_loop_threads();
  wgg_pipeline_set_loops(n_workers); /* wasm middleware pools are sized per loop */
  wgg_component_list comps = {0};
  if (o->n_resources_paths) {
    if (wgg_components_load(o->resources_paths, o->n_resources_paths, o->app_id, &comps, err)) return -1;
  } else if (default_components(o, &comps, err)) {
    return -1;
  }
  wgg_api *api = wgg_api_new(o, &comps, err);
  wgg_component_list_free(&comps);
  if (!api) return -1;
  wgg_hosted *hosted = NULL;
  if (wgg_mesh_init(api, err) || wgg_hosted_new(api, o, default_components, &hosted, err)) {
    wgg_mesh_free(api);
    wgg_api_free(api);
    return -1;
  }

  size_t n_addrs = 0;
  char **addrs = split_addrs(o->listen_addresses, &n_addrs);
  worker *workers = calloc(n_workers, sizeof *workers);
  uv_loop_t loop;
  uv_loop_init(&loop);
  mainctx m = {.loop = &loop, .workers = workers, .grace_ms = o->graceful_shutdown_ms, .api = api, .hosted = hosted};
  int rc = 0;
  if (!addrs || !workers) {
    rc = wgg_err_set(err, "out of memory");
    n_workers = 0;
  }
  uv_mutex_init(&m.notify_mu);
  uv_async_init(&loop, &m.worker_done, on_worker_done);
  m.worker_done.data = &m;
  /* Signals are caught before the first worker serves: a SIGTERM that comes
   * while the rest starts (CI saw one right after the first answers) is
   * handled once the main loop runs, never the default action (exit -15). */
  uv_signal_init(&loop, &m.sigterm);
  uv_signal_init(&loop, &m.sigint);
  uv_signal_init(&loop, &m.sighup);
  m.sighup.data = m.sigterm.data = m.sigint.data = &m;
  uv_signal_start(&m.sigterm, on_signal, SIGTERM);
  uv_signal_start(&m.sigint, on_signal, SIGINT);
  uv_signal_start(&m.sighup, on_sighup, SIGHUP);
  if (rc == 0 && !(m.inputs = wgg_inputs_start(&loop, api, err))) rc = -1;
  size_t started = 0;
  for (; rc == 0 && started < n_workers; started++) {
    worker *w = &workers[started];
    w->api = api;
    w->opts = o;
    w->addrs = addrs;
    w->n_addrs = n_addrs;
    w->main = &m;
    w->hosted = hosted;
    uv_sem_init(&w->started, 0);
    uv_mutex_init(&w->mu);
    if (uv_thread_create(&w->thread, worker_main, w)) {
      uv_sem_destroy(&w->started);
      uv_mutex_destroy(&w->mu);
      rc = wgg_err_set(err, "cannot start a worker thread");
      break;
    }
    uv_sem_wait(&w->started);
    if (w->failed) {
      rc = wgg_err_set(err, "%s", w->err.msg);
      started++;
      break;
    }
  }
  m.n_workers = started;
  if (rc == 0 && o->enable_metrics && o->metrics_port > 0 && !api->metrics_enabled)
    wgg_info("metrics disabled by the configuration (spec.metrics.enabled: false)");
  else if (rc == 0 && o->enable_metrics && o->metrics_port > 0) rc = start_metrics(&m, o, addrs, n_addrs, err);
  if (rc == 0) rc = wgg_api_start_pubsub(api, err);
  if (rc == 0) rc = wgg_hosted_start(hosted, &loop, err);
  uv_timer_init(&loop, &m.deadline);
  uv_timer_init(&loop, &m.app_probe);
  uv_timer_init(&loop, &m.nr_renew);
  m.deadline.data = m.app_probe.data = m.nr_renew.data = &m;
  if (rc == 0) {
    wgg_pipeline_watch(&api->http_pipeline, &loop, 500); /* a changed file:// guest is reloaded */
    wgg_pipeline_watch(&api->app_http_pipeline, &loop, 500);
    api->shutdown_ctx = &m;
    __atomic_store_n(&api->request_shutdown, request_shutdown, __ATOMIC_RELEASE);
    if (api->wasm_app) wgg_wasm_app_watch(api->wasm_app, &loop, 500); /* a changed file:// app is reloaded */
    __atomic_store_n(&api->ready, 1, __ATOMIC_RELEASE);
    if (o->app_port > 0) uv_timer_start(&m.app_probe, on_probe_timer, 0, 100);
    else __atomic_store_n(&api->app_ready, 1, __ATOMIC_RELEASE);
    if (api->wasm_app && o->enable_app_health_check) m.health = wgg_apphealth_start(&loop, api); /* probed in-process */
    /* the HTTP and gRPC listeners (bound by the workers before they signalled `started`) and the
     * metrics listener accept connections now: only now may callers find this sidecar's address */
    wgg_mesh_register(api);
    wgg_hosted_register(hosted);
    uint64_t every = wgg_mesh_renew_interval_ms(api);
    if (every) uv_timer_start(&m.nr_renew, on_renew_timer, every, every);
    for (size_t i = 0; i < n_addrs; i++) {
      wgg_info("HTTP API listening on %s:%d (%zu event-loop threads)", addrs[i], o->http_port, n_workers);
      if (o->grpc_port > 0) wgg_info("gRPC API listening on %s:%d", addrs[i], o->grpc_port);
    }
    if (m.metrics) {
      const char *ma = o->metrics_listen_address && *o->metrics_listen_address ? o->metrics_listen_address : NULL;
      for (size_t i = 0; i < (ma ? 1 : n_addrs); i++)
        wgg_info("metrics on http://%s:%d/metrics", ma ? ma : addrs[i], o->metrics_port);
    }
    if (o->n_resources_paths == 0)
      wgg_info("no --resources-path: embedded default components (statestore: state.sqlite in %s; pubsub: pubsub.in-memory; lockstore: lock.in-memory; configstore: configuration.sqlite)", o->state_file);
    wgg_info("app id %s is up and running", o->app_id && *o->app_id ? o->app_id : "(none)");
  } else {
    m.stopping = true;
    for (size_t i = 0; i < started; i++) send_cmd(&workers[i], 2);
    if (all_exited(&m)) main_close(&m);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  for (size_t i = 0; i < started; i++) {
    uv_thread_join(&workers[i].thread);
    uv_sem_destroy(&workers[i].started);
    uv_mutex_destroy(&workers[i].mu);
  }
  uv_loop_close(&loop);
  if (m.metrics) wgg_http_server_free(m.metrics);
  uv_mutex_destroy(&m.notify_mu);
  if (rc == 0) wgg_info("shutdown complete");
  for (size_t i = 0; addrs && i < n_addrs; i++) free(addrs[i]);
  free(addrs);
  free(workers);
  wgg_hosted_free(hosted); /* the loops have ended: no call to a hosted app is in flight */
  wgg_mesh_free(api);
  wgg_api_free(api);
  return rc;
}
