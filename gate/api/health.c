/*
 * health.c: GET /v1.0/healthz and /v1.0/healthz/outbound
 * (docs reference/api/health_api.md; dapr pkg/api/http/healthz.go).
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static void method_not_allowed(wgg_http_req *req) {
  wgg_api_method_not_allowed(req);
}

void wgg_api_healthz(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n > 1 || (n == 1 && strcmp(seg[0], "outbound"))) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
    method_not_allowed(req);
    return;
  }
  /* /healthz also waits for the app channel; /healthz/outbound does not (dapr pkg/api/http/healthz.go) */
  if (n == 1 && !__atomic_load_n(&api->ready, __ATOMIC_ACQUIRE)) { /* messages.ErrOutboundHealthNotReady */
    wgg_api_error(req, 500, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready");
    return;
  }
  if (!__atomic_load_n(&api->ready, __ATOMIC_ACQUIRE) || (n == 0 && !__atomic_load_n(&api->app_ready, __ATOMIC_ACQUIRE))) {
    wgg_api_error(req, 500, "ERR_HEALTH_NOT_READY", "dapr is not ready");
    return;
  }
  char *appid = n == 0 ? wgg_query_get(req->query, "appid") : NULL;
  if (appid && strcmp(appid, api->opts->app_id ? api->opts->app_id : "")) {
    free(appid);
    wgg_api_error(req, 500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
    return;
  }
  free(appid);
  wgg_api_empty(req);
}
