/*
 * metrics.h: process-wide counters and latency histograms, exposed in the
 * Prometheus text format (version 0.0.4) on --metrics-port. Names follow
 * Dapr's where they exist (docs operations/observability/metrics):
 *   dapr_http_server_request_count{app_id,route,method,status}
 *   dapr_http_server_latency_ms (histogram){app_id,route}
 *   dapr_component_state_count{app_id,component,operation,success}
 *   process_resident_memory_bytes, process_open_connections
 * Recording is lock-free (relaxed atomics), safe from any thread.
 */
#ifndef WGG_OBSERVE_METRICS_H
#define WGG_OBSERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Route ids used as wgg_http_req.tag. */
enum wgg_route {
  WGG_R_OTHER = 0,
  WGG_R_HEALTHZ,
  WGG_R_METADATA,
  WGG_R_STATE_GET,
  WGG_R_STATE_SAVE,
  WGG_R_STATE_BULK,
  WGG_R_STATE_DELETE,
  WGG_R_STATE_TRANSACTION,
  WGG_R_INVOKE,
  WGG_R_BINDINGS,
  WGG_R_PUBLISH,
  WGG_R_COUNT
};

/* State store operations. */
enum wgg_state_opkind { WGG_OP_GET = 0, WGG_OP_SET, WGG_OP_DELETE, WGG_OP_TRANSACTION, WGG_OP_BULK_GET, WGG_OP_COUNT };

/* Records one HTTP response (the server's observe hook). */
void wgg_metrics_http(int route, int method, int status, uint64_t ns);

/* The label of a route ("state.get", ...; "other" when out of range). */
const char *wgg_metrics_route_name(int route);

/* Records one state store operation on store number idx (< 64; others are
 * not counted). */
void wgg_metrics_state(size_t idx, int op, int success);

/* Appends the whole exposition to out. app_id labels every series; names[i]
 * is the name of store i (n of them). Returns 0 or -1 (out of memory). */
int wgg_metrics_render(wgg_buf *out, const char *app_id, const char *const *names, size_t n);

#endif
