/*
 * health.c: the standard gRPC health service, grpc.health.v1.Health
 * (grpc/doc/health-checking.md), for the sidecar itself: Check answers
 * once, Watch streams the status and each change of it. The service "" and
 * "dapr.proto.runtime.v1.Dapr" are known; they are SERVING when GET
 * /v1.0/healthz answers 204 (api/health.c, daprd's readiness probe): every
 * listener is up (api->ready) and the app channel is ready (api->app_ready:
 * the app port accepts, or there is no app), else NOT_SERVING. Neither needs
 * the API token (probes have none).
 */
#include <stdlib.h>
#include <string.h>

#include "grpc/dapr_internal.h"
#include "grpc/health/v1/health.pb-c.h"

enum { WATCH_POLL_MS = 100 };

static bool known_service(const char *s) {
  return !*s || !strcmp(s, "dapr.proto.runtime.v1.Dapr");
}

static int serving(wgg_api *api) {
  bool up = __atomic_load_n(&api->ready, __ATOMIC_ACQUIRE) && __atomic_load_n(&api->app_ready, __ATOMIC_ACQUIRE);
  return up ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

void wgg_grpc_health_check(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Grpc__Health__V1__HealthCheckRequest *q = (void *)m;
  if (!known_service(q->service)) {
    wgg_grpc_fail(call, WGG_GRPC_NOT_FOUND, "unknown service");
  } else {
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = serving(api);
    wgg_grpc_reply(call, &r.base);
  }
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- Watch: a server stream ---- */

typedef struct hwatch {
  wgg_api *api;
  wgg_grpc_call *call; /* NULL once finished */
  uv_timer_t timer;
  int last; /* the status last sent */
  bool started;
} hwatch;

static void watch_free(uv_handle_t *h) {
  free(h->data);
}

static void watch_end(hwatch *w, int code, const char *msg) {
  if (!w->call) return;
  wgg_grpc_stream_finish(w->call, code, "%s", msg ? msg : "");
  w->call = NULL;
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, watch_free);
}

static void watch_send(hwatch *w, int status) {
  Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  r.status = status;
  w->last = status;
  if (wgg_grpc_stream_send(w->call, &r.base)) watch_end(w, WGG_GRPC_INTERNAL, "out of memory");
}

/* While not yet serving: looks again (readiness has no event of its own). */
static void on_tick(uv_timer_t *t) {
  hwatch *w = t->data;
  int now = serving(w->api);
  if (now != w->last) watch_send(w, now);
  if (w->call && now == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) uv_timer_stop(&w->timer);
}

static void watch_msg(wgg_grpc_call *call, const uint8_t *data, size_t len, void *ctx) {
  (void)call;
  hwatch *w = ctx;
  if (w->started) return; /* a server-streaming method reads one request */
  w->started = true;
  Grpc__Health__V1__HealthCheckRequest *q = grpc__health__v1__health_check_request__unpack(NULL, len, data);
  if (!q) {
    watch_end(w, WGG_GRPC_INTERNAL,
              "grpc: error unmarshalling request: invalid grpc.health.v1.HealthCheckRequest message");
    return;
  }
  bool known = known_service(q->service);
  grpc__health__v1__health_check_request__free_unpacked(q, NULL);
  if (!known) { /* grpc-go's health server: SERVICE_UNKNOWN, and the stream stays */
    watch_send(w, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
    return;
  }
  watch_send(w, serving(w->api));
  if (w->call && w->last != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
    uv_timer_start(&w->timer, on_tick, WATCH_POLL_MS, WATCH_POLL_MS);
}

static void watch_end_cb(wgg_grpc_call *call, bool gone, void *ctx) {
  (void)call;
  hwatch *w = ctx;
  if (!gone && w->started) return; /* the client half-closes after its request: the stream goes on */
  watch_end(w, gone ? WGG_GRPC_CANCELLED : WGG_GRPC_UNKNOWN, gone ? "context canceled" : "EOF");
}

void wgg_grpc_health_watch(wgg_api *api, wgg_grpc_call *call) {
  hwatch *w = calloc(1, sizeof *w);
  if (!w) {
    wgg_grpc_stream_finish(call, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  w->api = api;
  w->call = call;
  w->last = -1;
  uv_timer_init(wgg_grpc_call_loop(call), &w->timer);
  w->timer.data = w;
  wgg_grpc_stream_set(call, watch_msg, watch_end_cb, w);
}
