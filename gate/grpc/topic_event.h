/*
 * topic_event.h: a CloudEvent (the JSON the pub/sub runtime delivers) as a
 * dapr.proto.runtime.v1.TopicEventRequest, as daprd builds it
 * (pkg/runtime/pubsub GRPCEnvelopeFromSubscriptionMessage): id, source,
 * type, specversion and datacontenttype as fields; data as bytes (the
 * decoded data_base64, a string's text for text/ and xml content types,
 * JSON text for JSON and CloudEvent content types); every other attribute
 * in extensions. Shared by streaming subscriptions and the AppCallback
 * client of gRPC apps.
 */
#ifndef WGG_GRPC_TOPIC_EVENT_H
#define WGG_GRPC_TOPIC_EVENT_H

#include <jansson.h>

#include "grpc/pbjson.h"
#include <stdbool.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"

/* What a converted event points into besides the CloudEvent itself. */
typedef struct wgg_topic_event_scratch {
  wgg_pb_arena arena; /* the extensions (grpc/pbjson.h) */
  uint8_t *data;
  char *dumped;
} wgg_topic_event_scratch;

/* Fills *ev (initialised here) from ce with pubsub, topic and path (all
 * borrowed, as are ce's strings: ce and sc must outlive ev). Returns 0, or
 * -1 on a malformed data_base64, a non-string data with a text content type,
 * or OOM (sc is then already freed). Free sc with wgg_grpc_topic_event_free. */
int wgg_grpc_topic_event(json_t *ce, const char *pubsub, const char *topic, const char *path,
                         Dapr__Proto__Runtime__V1__TopicEventRequest *ev, wgg_topic_event_scratch *sc);

void wgg_grpc_topic_event_free(wgg_topic_event_scratch *sc);

/* The string attribute k of ce, or "" (never NULL; borrowed from ce). */
const char *wgg_ce_str(json_t *ce, const char *k);

#endif
