/*
 * appchannel_grpc.h: the app channel's transport to a gRPC app
 * (--app-protocol grpc): every call the sidecar makes to its app arrives
 * here in the HTTP shape the rest of the sidecar speaks (method, target,
 * headers, body; an HTTP-shaped answer back) and goes out as a call of the
 * app's dapr.proto.runtime.v1.AppCallback service, as daprd's gRPC app
 * channel makes it (pkg/channel/grpc, pkg/runtime/subscription/postman/grpc,
 * pkg/runtime/processor/binding). Which method is meant is said by a last
 * header named WGG_APP_CALL_KIND (the HTTP transports drop it): a word and
 * its arguments, separated by 0x1F (written with spaces below):
 *
 *   (none)              OnInvoke: InvokeRequest{method = target's path without
 *                       the leading '/', data = Any{value = body}, content_type,
 *                       http_extension{verb, querystring}}; the request headers
 *                       as metadata (HTTP's permanent headers as "dapr-<name>",
 *                       traceparent also as grpc-trace-bin). The answer is 200
 *                       with data.value and content_type; an error status is
 *                       HTTP's equivalent (daprd's HTTPStatusFromCode) with
 *                       {"code","message"} as the body.
 *   "subscriptions"     ListTopicSubscriptions, answered as GET /dapr/subscribe's
 *                       JSON; UNIMPLEMENTED is 404 (no subscriptions).
 *   "topic <pubsub> <topic> <path>"
 *                       OnTopicEvent with the CloudEvent body (grpc/topic_event.h),
 *                       the subscription's pubsub and topic and the route's path
 *                       as written; SUCCESS/RETRY/DROP answer 200
 *                       {"status": ...}; UNIMPLEMENTED 404 (dropped), other
 *                       errors 500 (retried), as daprd.
 *   "bulk <pubsub> <topic> <path>"
 *                       OnBulkTopicEventAlpha1 with the bulk envelope; the
 *                       statuses come back as {"statuses":[{entryId,status}]}.
 *   "bindings <name>"   ListInputBindings: 200 when name is listed, else 404.
 *   "binding <name>"    OnBindingEvent{name, data = body, metadata = headers};
 *                       the answer as input_reply.c's JSON document.
 *   "job <name>"        OnJobEventAlpha1{name, data = Any{value = body},
 *                       method "job/<name>", POST}: 200, or the status as for
 *                       OnInvoke.
 *   "health"            AppCallbackHealthCheck.HealthCheck: 200 or 500.
 *
 * Each calling loop has its own gRPC client (grpc/client.h), attached to
 * the loop's HTTP client (wgg_http_client_set_ext) and closed with it.
 */
#ifndef WGG_API_APPCHANNEL_GRPC_H
#define WGG_API_APPCHANNEL_GRPC_H

#include "api/api.h"
#include "http/client.h"

/* Whether the app channel speaks gRPC (--app-protocol grpc with an app port). */
bool wgg_app_is_grpc(const wgg_options *o);

/* Sends one HTTP-shaped call to the gRPC app as above. cl is the calling
 * loop's HTTP client; everything is copied. cb runs exactly once later with
 * an HTTP-shaped answer (never with resp NULL: gRPC failures are statuses).
 * Returns 0, or -1 on OOM or an unparsable body (cb not run). */
int wgg_app_grpc_send(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                      const wgg_http_header *headers, size_t n, const char *body, size_t len, uint64_t timeout_ms,
                      wgg_http_client_cb cb, void *user);

/* Whether k (any case) is one of the HTTP headers daprd passes to and from
 * gRPC as "dapr-<name>" (pkg/messaging/v1 isPermanentHTTPHeader). */
bool wgg_permanent_http_header(const char *k);

/* Internal headers of an invocation's answer (the ':' keeps them off the
 * wire: wgg_invoke_pass_response drops them for HTTP callers) that carry a
 * gRPC app's OnInvoke answer through the HTTP-shaped invoke path to
 * InvokeService, which daprd answers with the app's own status, headers and
 * trailers: the status code (always there for a gRPC app, "0" when OK), its
 * message, its grpc-status-details-bin (base64 as received), the type_url
 * of the answer's Any with the answer's own content_type (the HTTP answer
 * then says application/x-protobuf, as daprd's), and each trailer as
 * WGG_INVOKE_GRPC_TRAILER<name>. */
#define WGG_INVOKE_GRPC_STATUS ":wg-grpc-status"
#define WGG_INVOKE_GRPC_MESSAGE ":wg-grpc-message"
#define WGG_INVOKE_GRPC_DETAILS ":wg-grpc-details"
#define WGG_INVOKE_GRPC_TYPE_URL ":wg-grpc-type-url"
#define WGG_INVOKE_GRPC_CONTENT_TYPE ":wg-grpc-content-type"
#define WGG_INVOKE_GRPC_TRAILER ":wg-trailer:"
/* A binary ("-bin") response header of the app's, base64 as received:
 * passed to InvokeService callers (daprd's InternalMetadataToGrpcMetadata),
 * never to HTTP callers (InternalMetadataToHTTPHeader skips them). */
#define WGG_INVOKE_GRPC_BIN ":wg-bin:"

#endif
