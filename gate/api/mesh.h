/*
 * mesh.h: sidecar-to-sidecar service invocation and resiliency of app calls
 * (docs reference/api/service_invocation_api.md, operations/resiliency/;
 * dapr pkg/messaging/direct_messaging.go). wasmgate sidecars talk HTTP/1.1
 * to each other over the pooled per-loop client (Dapr uses gRPC there): the
 * caller sends the same /v1.0/invoke/{appId}/method/{method} request to the
 * target's sidecar, marked with the header `wasmgate-hop: 1` and carrying
 * `dapr-caller-app-id` and `dapr-callee-app-id`; the target handles it on
 * its own-app path (the same code as a local call, so its appHttpPipeline
 * applies) and the app's status, headers and body travel back unchanged.
 */
#ifndef WGG_API_MESH_H
#define WGG_API_MESH_H

#include <jansson.h>

#include "api/api.h"
#include "http/client.h"

/* The internal marker header of a sidecar-to-sidecar hop. */
#define WGG_HOP_HEADER "wasmgate-hop"

/* Sets up name resolution from api->config's spec.nameResolution (absent:
 * the default sqlite resolver, which only warns when its default file cannot
 * be opened), without registering this sidecar yet (wgg_mesh_register); loads the Resiliency resources of
 * the --resources-path directories (scoped to the app ID). Blocking; called
 * once at start. 0, or -1 with err (invalid nameResolution, a configured
 * database that cannot be opened, a Resiliency error with file:line). */
int wgg_mesh_init(wgg_api *api, wgg_err *err);

/* Registers the app ID in name resolution (blocking): called once the HTTP, gRPC and metrics
 * listeners accept connections, so that no caller finds an address that refuses them. A failure
 * is logged; the renewal timer registers again (wgg_nameres_renew re-registers a lost row). */
void wgg_mesh_register(wgg_api *api);

/* Deregisters and frees what wgg_mesh_init set up (blocking). */
void wgg_mesh_free(wgg_api *api);

/* Renews the name-resolution registration (blocking: run on the thread
 * pool every wgg_mesh_renew_interval_ms). */
void wgg_mesh_renew(wgg_api *api);
uint64_t wgg_mesh_renew_interval_ms(const wgg_api *api);

/* Invokes method (normalised and escaped: wgg_api_invoke_n) on app_id through app_id's sidecar (resolved by name),
 * with the resiliency policies of app_id (DaprBuiltInServiceRetries on
 * connection failures when no retry policy applies). Answers req: the
 * callee's response, or 500 ERR_DIRECT_INVOKE (cannot resolve, unreachable,
 * timeout, circuit breaker open, a hop that reached the wrong sidecar). */
void wgg_invoke_remote(wgg_api *api, wgg_http_req *req, const char *app_id, const char *method);

/* Whether a call to this sidecar's own app must go through
 * wgg_invoke_resilient (a resiliency policy applies to app_id and the
 * request is not a hop from another sidecar, whose caller already applied
 * its policies). */
bool wgg_invoke_wants_resiliency(wgg_api *api, wgg_http_req *req, const char *app_id);

/* Sends one request to this sidecar's app (listening on host:port, named in
 * messages) through the app channel (api/appchannel.h) with app_id's
 * resiliency policies (per-attempt timeout, retries, circuit breaker) and
 * answers req with the response or 500 ERR_DIRECT_INVOKE. headers (n) are borrowed from req or
 * static storage and are copied; target is the request target. */
void wgg_invoke_resilient(wgg_api *api, wgg_http_req *req, const char *app_id, const char *host, int port,
                          const char *target, const wgg_http_header *headers, size_t n);

/* Answers req with an app's response, minus hop-by-hop headers. The
 * internal WGG_INVOKE_GRPC_* headers of a gRPC app's answer (api/appchannel_grpc.h)
 * stay for an internal caller (InvokeService: wgg_invoke_internal_caller), travel
 * under public names ("wasmgate-grpc-status", ...) to a hop from another
 * sidecar, and are dropped for other HTTP callers; from_sidecar says resp
 * came from another sidecar, whose public names are taken back. */
void wgg_invoke_pass_response(wgg_http_req *req, const char *app_id, const wgg_http_response *resp,
                              bool from_sidecar);

/* Whether req is InvokeService's (api/invoke_call.c), the one caller that
 * takes the internal headers; a respond_hook alone says nothing (an
 * httpPipeline sets one for HTTP callers too). */
bool wgg_invoke_internal_caller(const wgg_http_req *req);

/* Whether an answer's header is one of the above (internal or public form):
 * never passed to an HTTP caller. */
bool wgg_invoke_internal_header(const char *name);

/* Access control of a hop from another sidecar (api/acl.h): answers 403
 * ERR_DIRECT_INVOKE and returns false when api->acl denies req's caller
 * method (normalised by wgg_api_invoke_n, exactly what the app receives) and verb; true otherwise (also for requests
 * that are not hops: an app calling itself is not checked, as in Dapr). */
bool wgg_invoke_acl_check(wgg_api *api, wgg_http_req *req, const char *method);

#endif
