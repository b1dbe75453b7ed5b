/*
 * cloudevent.h: CloudEvents 1.0 envelopes as Dapr builds and reads them
 * (components-contrib pubsub/envelope.go; dapr pkg/runtime/pubsub/cloudevents.go;
 * docs developing-applications/building-blocks/pubsub/pubsub-cloudevents.md).
 */
#ifndef WGG_PUBSUB_CLOUDEVENT_H
#define WGG_PUBSUB_CLOUDEVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wggate.h"

/* What a publish knows about the event it wraps. Strings borrowed; NULL = absent. */
typedef struct wgg_ce_input {
  const char *app_id;       /* source */
  const char *pubsub;       /* pubsubname */
  const char *topic;        /* topic */
  const char *content_type; /* the request's Content-Type (NULL/"" = text/plain) */
  const char *data;         /* the request body */
  size_t len;
  const char *traceparent;  /* W3C trace context of the request (NULL: a new one is made) */
  const char *tracestate;
} wgg_ce_input;

/* Builds the envelope for in (or completes the app's own envelope when the
 * content type is application/cloudevents+json: missing id, source, type,
 * specversion, time, traceid/traceparent/tracestate are filled, topic and
 * pubsubname are set). JSON content types (application/json, *+json) put the
 * parsed body under `data` (the raw text as a string when it does not parse),
 * application/octet-stream puts it base64-encoded under `data_base64`, every
 * other type puts the text under `data`. Returns a new object, or NULL with
 * err when the app's own envelope is not a JSON object. */
json_t *wgg_ce_build(const wgg_ce_input *in, wgg_err *err);

/* Applies publish metadata to an envelope: `cloudevent.<field>` overrides
 * (id, source, type, traceid, traceparent, tracestate, subject, time, ...) and
 * `ttlInSeconds`, which sets `expiration` to now + ttl (RFC 3339, UTC).
 * metadata is a JSON object of strings. Returns 0, or -1 with err for an
 * invalid ttlInSeconds. */
int wgg_ce_apply_metadata(json_t *ce, json_t *metadata, wgg_err *err);

/* The envelope Dapr makes around a raw payload for a rawPayload
 * subscription: a new id, type com.dapr.event.sent, datacontenttype
 * application/octet-stream and the bytes under data_base64. */
json_t *wgg_ce_from_raw(const char *pubsub, const char *topic, const char *data, size_t len);

/* True when ce has an `expiration` (RFC 3339) in the past. */
bool wgg_ce_expired(json_t *ce);

/* Writes an RFC 3339 UTC timestamp of now + add_seconds into out. */
void wgg_ce_time(char out[40], int64_t add_seconds);

/* True when ct is a JSON content type (application/json..., *+json). */
bool wgg_ce_is_json_type(const char *ct);

/* Standard base64 of n bytes (malloc'd, NUL-terminated) or NULL on OOM. */
char *wgg_base64(const char *p, size_t n);

#endif
