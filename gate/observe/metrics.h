/*
 * metrics.h: counters and latency histograms per app ID, exposed in the Prometheus text format
 * (version 0.0.4) on --metrics-port. One wgg_metrics belongs to each API instance (the sidecar's
 * own app and every wasm app hosted in the process, runtime/hosted.h), so every series carries the
 * app_id of the app it is about, as if each app had its own sidecar. Names follow Dapr's
 * (docs operations/observability/metrics; dapr pkg/diagnostics) where they exist:
 *   dapr_http_server_request_count{app_id,route,method,status}      the sidecar's API (HTTP port,
 *   dapr_http_server_latency_ms (histogram){app_id,route}             and a wasm app's dapr:v1 calls)
 *   dapr_http_client_completed_count{app_id,method,status}          the app channel: calls to the app
 *   dapr_http_client_roundtrip_latency_ms (histogram){app_id}
 *   dapr_grpc_io_server_* and dapr_grpc_io_client_* (completed_rpcs, server_latency /
 *     roundtrip_latency, received/sent_bytes_per_rpc){app_id,grpc_*_method[,grpc_*_status]}:
 *     the sidecar's gRPC API, and the gRPC app channel (observe/metrics_grpc.h)
 *   dapr_service_invocation_req_sent_total{app_id,destination_app_id,type}
 *   dapr_service_invocation_req_recv_total{app_id,source_app_id,type}
 *   dapr_component_state_count{app_id,component,operation,success}
 *   dapr_component_pubsub_egress_count{app_id,component,success,topic}
 *   dapr_component_pubsub_ingress_count{app_id,component,process_status,topic}
 *   dapr_component_output_binding_count{app_id,component,operation,success}
 *   dapr_component_input_binding_count{app_id,component,success}   events delivered to the app
 * and wasmgate's own, for wasm apps (wasmhost/app.h):
 *   wasmgate_wasm_app_calls_total{app_id}               requests and messages given to the guest
 *   wasmgate_wasm_app_instances_created_total{app_id}   instances made (none idle to reuse)
 *   wasmgate_wasm_app_pool_hits_total{app_id}           calls served by an idle instance (fresh: reset)
 *   wasmgate_wasm_app_parked{app_id} (gauge)            guests parked on a host call now
 *   wasmgate_wasm_app_failures_total{app_id,kind}       failed calls by cause (trap names, deadline,...)
 *   wasmgate_wasm_app_cpu_seconds_total{app_id}         guest CPU time (time parked excluded)
 *   process_resident_memory_bytes
 * Recording is thread-safe: the fixed tables are relaxed atomics; labelled series with free-form
 * labels (peer app IDs, topics) live in a small table under a mutex, at most WGG_METRICS_MAX_SERIES
 * per app (further label sets are counted in wasmgate_metrics_series_dropped_total).
 */
#ifndef WGG_OBSERVE_METRICS_H
#define WGG_OBSERVE_METRICS_H

#include <stdbool.h>
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

/* Why a wasm app call failed (wasmgate_wasm_app_failures_total's kind label). A wasm trap is
 * WGG_WF_TRAP + its wg_trap_code (engine/include/wasmgate.h), labelled with the trap's name
 * ("unreachable", "memory_out_of_bounds", ...). */
enum wgg_wasm_failure {
  WGG_WF_DEADLINE = 0, /* the CPU budget per request ran out */
  WGG_WF_TIMEOUT,      /* the caller's timeout (time parked included) */
  WGG_WF_EXIT,         /* proc_exit with a non-zero code */
  WGG_WF_OUTPUT,       /* WAGI output too large or malformed */
  WGG_WF_INSTANTIATE,  /* the instance could not be made */
  WGG_WF_TRAP,         /* + wg_trap_code, up to WGG_WF_COUNT */
  WGG_WF_COUNT = WGG_WF_TRAP + 20
};

/* Series families with free-form labels (wgg_metrics_count). */
enum wgg_metric_family {
  WGG_MF_INVOKE_SENT = 0, /* dapr_service_invocation_req_sent_total: destination_app_id */
  WGG_MF_INVOKE_RECV,     /* dapr_service_invocation_req_recv_total: source_app_id */
  WGG_MF_PUBSUB_EGRESS,   /* dapr_component_pubsub_egress_count: component, success, topic */
  WGG_MF_PUBSUB_INGRESS,  /* dapr_component_pubsub_ingress_count: component, process_status, topic */
  WGG_MF_OUTPUT_BINDING,  /* dapr_component_output_binding_count: component, operation, success */
  WGG_MF_INPUT_BINDING,   /* dapr_component_input_binding_count: component, success */
  WGG_MF_COUNT
};

enum { WGG_METRICS_MAX_SERIES = 1024, WGG_METRICS_MAX_STORES = 64 };

typedef struct wgg_metrics wgg_metrics;

/* A new, empty set of metrics for app_id (copied; NULL = ""). NULL on OOM. Free with
 * wgg_metrics_free (NULL is ignored). */
wgg_metrics *wgg_metrics_new(const char *app_id);
void wgg_metrics_free(wgg_metrics *m);

/* The label of a route ("state.get", ...; "other" when out of range). */
const char *wgg_metrics_route_name(int route);

/* Each recorder ignores m == NULL (metrics off, or a caller without an API). */

/* One response of the sidecar's HTTP API (route: enum wgg_route; method: http_parser's
 * enum http_method; ns: from the complete request to the response). */
void wgg_metrics_http(wgg_metrics *m, int route, int method, int status, uint64_t ns);

/* One call to the app through the app channel (either transport): method is the request's
 * method name, status the app's status (0 = no answer: transport error or timeout). */
void wgg_metrics_app_call(wgg_metrics *m, const char *method, int status, uint64_t ns);

/* One state store operation on store number idx of the app (< WGG_METRICS_MAX_STORES; others are
 * not counted). Store names are given to wgg_metrics_set_store. */
/* One completed gRPC call: answered by the sidecar's gRPC API (client false) or made to the app
 * over the gRPC app channel (client true); method the full method ("/pkg.Service/Method"), code
 * its gRPC status code, ns its latency, received and sent its message bytes (dapr_grpc_io_*). */
void wgg_metrics_grpc(wgg_metrics *m, bool client, const char *method, int code, uint64_t ns, uint64_t received,
                      uint64_t sent);
void wgg_metrics_state(wgg_metrics *m, size_t idx, int op, int success);
/* Names store number idx (copied). 0, or -1 (OOM or idx too large). Start-up only. */
int wgg_metrics_set_store(wgg_metrics *m, size_t idx, const char *name);

/* Adds 1 to the series of family f whose labels are the (name, value) pairs names[i], values[i]
 * (n of them, in a fixed order per family; values are escaped as Prometheus requires). */
void wgg_metrics_count(wgg_metrics *m, int family, const char *const *names, const char *const *values, size_t n);

/* Wasm app instances (wasmhost/app.h). wgg_metrics_wasm_app marks m as a wasm app's (its wasm
 * families are shown from then on, at 0 before its first call). */
void wgg_metrics_wasm_app(wgg_metrics *m);
void wgg_metrics_wasm_call(wgg_metrics *m, bool pool_hit); /* a call got an instance: idle (reset or warm) or made */
void wgg_metrics_wasm_parked(wgg_metrics *m, int delta);    /* +1 when a guest parks, -1 when it leaves */
void wgg_metrics_wasm_failure(wgg_metrics *m, int kind);    /* enum wgg_wasm_failure */
void wgg_metrics_wasm_cpu(wgg_metrics *m, uint64_t ns);     /* guest CPU time of one call */

/* Appends the whole exposition of the n sets in ms (one per app ID: the sidecar's first, then
 * the hosted apps'), each series labelled with its set's app_id; every family's HELP and TYPE
 * come once, its series grouped, as the text format requires. Returns 0 or -1 (out of memory). */
int wgg_metrics_render(wgg_buf *out, wgg_metrics *const *ms, size_t n);

#endif
