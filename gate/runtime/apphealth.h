/*
 * apphealth.h: app health probing (--enable-app-health-check; dapr
 * pkg/apphealth/health.go and the HTTP channel's HealthProbe). Every
 * --app-health-probe-interval a GET of --app-health-check-path goes to the
 * app, bounded by --app-health-probe-timeout; a 2xx is a success. The app
 * starts unhealthy; one success makes it healthy, --app-health-threshold
 * failures in a row make it unhealthy again. The verdict is stored in
 * api->app_health_ok (read through wgg_app_healthy / the app channel).
 */
#ifndef WGG_RUNTIME_APPHEALTH_H
#define WGG_RUNTIME_APPHEALTH_H

#include <uv.h>

#include "api/api.h"

typedef struct wgg_apphealth wgg_apphealth;

/* Starts probing on loop (the first probe runs at once). Returns NULL on OOM
 * (the app then stays unhealthy, with an error logged). */
wgg_apphealth *wgg_apphealth_start(uv_loop_t *loop, wgg_api *api);

/* Stops probing; the object frees itself once its handles are closed and a
 * probe in flight has completed. NULL is ignored. Runs on the loop. */
void wgg_apphealth_stop(wgg_apphealth *h);

#endif
