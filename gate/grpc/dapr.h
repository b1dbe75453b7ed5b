/*
 * dapr.h: the dapr.proto.runtime.v1.Dapr service (and grpc.health.v1.Health)
 * on the gRPC server of grpc/server.h. Each RPC decodes its protobuf-c
 * request, calls the same building-block code as the HTTP route that does the
 * same thing (api/calls.h) and encodes the answer; errors carry daprd's gRPC
 * codes and messages. Served RPCs and gaps: docs/grpc.md.
 */
#ifndef WGG_GRPC_DAPR_H
#define WGG_GRPC_DAPR_H

#include "api/api.h"
#include "grpc/server.h"

/* The server's handler (a wgg_grpc_handler_fn; user is the wgg_api): the
 * dapr-api-token check when DAPR_API_TOKEN is set (UNAUTHENTICATED, as
 * daprd), then the method; unknown services and methods get UNIMPLEMENTED
 * with grpc-go's wording. */
void wgg_grpc_dapr_handle(wgg_grpc_call *call, void *user);

/* The server's observe hook (user is the wgg_api): the dapr_grpc_io_server_* metrics of
 * the sidecar's app ID, and with --enable-api-logging
 * one info line per answered call, "gRPC API Called: method=<path>
 * code=<grpc-go code name> duration=<ms>". */
void wgg_grpc_dapr_observe(const char *path, int code, uint64_t ns, uint64_t received, uint64_t sent, void *user);

/* The server's streaming hook: whether the call is a streaming method
 * (SubscribeTopicEventsAlpha1, SubscribeConfiguration(+Alpha1), Health/Watch) or one to
 * relay (gRPC proxying: a method outside the Dapr and health services with
 * dapr-app-id metadata). */
bool wgg_grpc_dapr_streaming(const wgg_grpc_call *call, void *user);

#endif
