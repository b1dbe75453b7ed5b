/*
 * metrics_grpc.h: daprd's gRPC families (OpenCensus ocgrpc's views under the dapr_ prefix, as
 * daprd's pkg/diagnostics exposes them), kept per app ID by metrics.c; internal to observe/.
 *   dapr_grpc_io_server_completed_rpcs{app_id,grpc_server_method,grpc_server_status}
 *   dapr_grpc_io_server_server_latency (histogram, ms){app_id,grpc_server_method}
 *   dapr_grpc_io_server_received_bytes_per_rpc / _sent_bytes_per_rpc (histograms, bytes)
 *   dapr_grpc_io_client_completed_rpcs{app_id,grpc_client_method,grpc_client_status}
 *   dapr_grpc_io_client_roundtrip_latency (histogram, ms){app_id,grpc_client_method}
 *   dapr_grpc_io_client_sent_bytes_per_rpc / _received_bytes_per_rpc (histograms, bytes)
 * The server side is the sidecar's gRPC API; the client side is the gRPC app channel
 * (--app-protocol grpc). Methods are the full gRPC method ("/package.Service/Method"); statuses
 * are grpc-go's code names ("OK", "NotFound", ...). At most WGG_GRPCM_METHODS methods per side and
 * app; calls of further methods are counted under grpc_*_method="other".
 */
#ifndef WGG_OBSERVE_METRICS_GRPC_H
#define WGG_OBSERVE_METRICS_GRPC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum { WGG_GRPCM_METHODS = 96 };

typedef struct wgg_grpcm wgg_grpcm;

/* A new, empty set (NULL on OOM); free with wgg_grpcm_free (NULL ignored). */
wgg_grpcm *wgg_grpcm_new(void);
void wgg_grpcm_free(wgg_grpcm *g);

/* Records one completed RPC: side 0 server, 1 client; code the gRPC status code; ns its latency;
 * rx and tx the message bytes received and sent. Thread-safe, no allocation once a method is
 * known. */
void wgg_grpcm_record(wgg_grpcm *g, int side, const char *method, int code, uint64_t ns, uint64_t rx, uint64_t tx);

/* Appends the eight families (HELP/TYPE once each, then every app's series) for gs[i] labelled
 * with app_id apps[i] (already escaped). Families with no series are left out. -1 on OOM. */
int wgg_grpcm_render(wgg_buf *o, wgg_grpcm *const *gs, char *const *apps, size_t n);

#endif
