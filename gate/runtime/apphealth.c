/*
 * apphealth.c: see apphealth.h. Runs on the main loop with its own HTTP
 * client, or for a wasm app (--app-wasm) a call to the module in-process on
 * the main loop (probes do not count against --app-max-concurrency, as in daprd).
 */
#include "api/appchannel_grpc.h"
#include "runtime/apphealth.h"

#include <stdlib.h>
#include <string.h>

#include "http/client.h"
#include "util/log.h"
#include "wasmhost/app.h"

struct wgg_apphealth {
  uv_loop_t *loop;
  wgg_api *api;
  uv_timer_t timer;
  wgg_http_client *cl;
  char path[512];
  int failures; /* consecutive; starts at the threshold (unhealthy until the first success) */
  bool in_flight, stopping, timer_closed;
};

static void maybe_free(wgg_apphealth *h) {
  if (h->stopping && h->timer_closed && !h->in_flight) free(h);
}

static void on_timer_closed(uv_handle_t *t) {
  wgg_apphealth *h = t->data;
  h->timer_closed = true;
  maybe_free(h);
}

/* daprd's setResult: a success resets the count (healthy again if it was at
 * the threshold); a failure that reaches the threshold turns the app unhealthy. */
static void result(wgg_apphealth *h, bool ok, const char *why) {
  const wgg_options *o = h->api->opts;
  if (ok) {
    int prev = h->failures;
    h->failures = 0;
    if (prev >= o->app_health_threshold) {
      __atomic_store_n(&h->api->app_health_ok, 1, __ATOMIC_RELEASE);
      wgg_info("App entered healthy status%s%s", h->api->is_hosted ? ": " : "", h->api->is_hosted ? o->app_id : "");
    }
    return;
  }
  if (h->failures < o->app_health_threshold) h->failures++;
  wgg_debug("app health probe failed (%d/%d): %s", h->failures, o->app_health_threshold, why);
  if (h->failures == o->app_health_threshold && __atomic_load_n(&h->api->app_health_ok, __ATOMIC_ACQUIRE)) {
    __atomic_store_n(&h->api->app_health_ok, 0, __ATOMIC_RELEASE);
    wgg_warn("App entered un-healthy status%s%s (%s)", h->api->is_hosted ? ": " : "", h->api->is_hosted ? o->app_id : "",
             why);
  }
}

static void on_probe(void *user, const wgg_http_response *resp, const char *errmsg) {
  wgg_apphealth *h = user;
  h->in_flight = false;
  if (!h->stopping) {
    char why[64];
    if (resp) snprintf(why, sizeof why, "status %d", resp->status);
    result(h, resp && resp->status >= 200 && resp->status < 300, resp ? why : errmsg);
  }
  maybe_free(h);
}

static void on_tick(uv_timer_t *t) {
  wgg_apphealth *h = t->data;
  const wgg_options *o = h->api->opts;
  if (h->in_flight || h->stopping) return; /* one probe at a time */
  wgg_http_header tok = {"dapr-api-token", o->app_api_token};
  size_t n = o->app_api_token && *o->app_api_token ? 1 : 0;
  h->in_flight = true;
  /* the app's transport: a wasm app is called in-process on this loop, a gRPC app through
   * AppCallbackHealthCheck, an app process over HTTP */
  wgg_http_header gh[2] = {tok, {WGG_APP_CALL_KIND, "health"}};
  int rc = h->api->wasm_app ? wgg_wasm_app_call(h->api->wasm_app, h->loop, "GET", h->path, &tok, n, NULL, 0, NULL,
                                                o->app_health_probe_timeout_ms, on_probe, h)
           : wgg_app_is_grpc(o) ? wgg_app_grpc_send(h->api, h->cl, "GET", h->path, n ? gh : gh + 1, n + 1, NULL, 0,
                                                    o->app_health_probe_timeout_ms, on_probe, h)
                                : wgg_http_client_request(h->cl, o->app_channel_address, o->app_port, "GET", h->path,
                                                          &tok, n, NULL, 0, o->app_health_probe_timeout_ms, on_probe, h);
  if (rc) {
    h->in_flight = false;
    result(h, false, "cannot send the probe");
  }
}

wgg_apphealth *wgg_apphealth_start(uv_loop_t *loop, wgg_api *api) {
  const wgg_options *o = api->opts;
  wgg_apphealth *h = calloc(1, sizeof *h);
  if (!h || !(h->cl = wgg_http_client_new(loop))) {
    free(h);
    wgg_error("app health checks: out of memory; the app stays unhealthy");
    return NULL;
  }
  h->loop = loop;
  h->api = api;
  h->failures = o->app_health_threshold;
  const char *p = o->app_health_check_path && *o->app_health_check_path ? o->app_health_check_path : "/healthz";
  snprintf(h->path, sizeof h->path, "%s%s", p[0] == '/' ? "" : "/", p);
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  uv_timer_start(&h->timer, on_tick, 0, o->app_health_probe_interval_ms ? o->app_health_probe_interval_ms : 5000);
  wgg_info("app health checks: GET %s every %llu ms, timeout %llu ms, threshold %d", h->path,
           (unsigned long long)o->app_health_probe_interval_ms, (unsigned long long)o->app_health_probe_timeout_ms,
           o->app_health_threshold);
  return h;
}

void wgg_apphealth_stop(wgg_apphealth *h) {
  if (!h || h->stopping) return;
  h->stopping = true;
  wgg_http_client_close(h->cl); /* a probe in flight still completes (on_probe) */
  uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}
