/*
 * dapr_internal.h: shared by the Dapr service files (dapr.c, dapr_state.c,
 * dapr_lock.c, dapr_config.c, dapr_jobs.c, dapr_subscribe.c).
 */
#ifndef WGG_GRPC_DAPR_INTERNAL_H
#define WGG_GRPC_DAPR_INTERNAL_H

#include <jansson.h>

#include "api/calls.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "grpc/dapr.h"

/* Every protobuf-c map entry of string to string has this layout. */
typedef struct wgg_pb_kv {
  ProtobufCMessage base;
  char *key;
  char *value;
} wgg_pb_kv;

/* A map<string,string> field as a JSON object of strings (a new reference;
 * NULL on OOM). entries is the generated array (e.g. req->metadata). */
json_t *wgg_pb_map_json(void *entries, size_t n);

/* The value of key in a map<string,string> field, or NULL. */
const char *wgg_pb_map_get(void *entries, size_t n, const char *key);

/* Builds a map<string,string> field from a JSON object of strings: *out is
 * an array of entries initialised with d, pointing into obj's strings (obj
 * must outlive the message). Free with wgg_pb_map_free. Returns the count. */
size_t wgg_pb_map_from_json(json_t *obj, const ProtobufCMessageDescriptor *d, void ***out);
void wgg_pb_map_free(void **entries, size_t n);

/* Answers call with st's gRPC code and message. */
void wgg_grpc_fail_status(wgg_grpc_call *call, const wgg_api_status *st);

/* The state RPCs (dapr_state.c): each takes the decoded request (owned: it
 * frees it with protobuf_c_message_free_unpacked) and answers call. */
void wgg_grpc_get_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_get_bulk_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_save_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_delete_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_delete_bulk_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_transaction(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_query_state(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);

/* TryLockAlpha1 / UnlockAlpha1 (dapr_lock.c), same contract. */
void wgg_grpc_try_lock(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_unlock(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);

/* GetConfiguration(+Alpha1), UnsubscribeConfiguration(+Alpha1)
 * (dapr_config.c), same contract; SubscribeConfiguration(+Alpha1), a
 * server stream, takes the call at its HEADERS (as below). */
void wgg_grpc_get_configuration(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_unsubscribe_configuration(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_subscribe_configuration(wgg_api *api, wgg_grpc_call *call);

/* ScheduleJobAlpha1, GetJobAlpha1, DeleteJobAlpha1 (dapr_jobs.c), same contract. */
void wgg_grpc_schedule_job(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_get_job(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_delete_job(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);

/* gRPC proxying (proxy.c): whether call is one to relay (a :path outside
 * dapr.proto.runtime.v1.Dapr, grpc.health.v1.Health and reflection with dapr-app-id
 * metadata), and the relay of such a call, taken at its HEADERS as a
 * streaming call. */
bool wgg_grpc_proxy_wanted(const wgg_grpc_call *call);
void wgg_grpc_proxy(wgg_api *api, wgg_grpc_call *call);

/* SubscribeTopicEventsAlpha1 (dapr_subscribe.c): takes the streaming call
 * at its HEADERS and serves it until it ends. */
void wgg_grpc_subscribe_topic_events(wgg_api *api, wgg_grpc_call *call);

/* grpc.health.v1.Health (health.c): Check, a unary RPC as the others, and
 * Watch, which takes the streaming call at its HEADERS and sends the
 * status, then each change, until the client goes away. */
void wgg_grpc_health_check(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);
void wgg_grpc_health_watch(wgg_api *api, wgg_grpc_call *call);

/* Server reflection (reflection.c): whether path is
 * grpc.reflection.v1(alpha).ServerReflection/ServerReflectionInfo, and its
 * bidirectional stream, taken at its HEADERS. */
bool wgg_grpc_is_reflection(const char *path);
void wgg_grpc_reflection(wgg_api *api, wgg_grpc_call *call);

#endif
