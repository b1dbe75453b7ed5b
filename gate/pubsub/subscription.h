/*
 * subscription.h: a topic subscription, programmatic (the app's answer to
 * GET /dapr/subscribe) or declarative (a `Subscription` resource, dapr.io/
 * v2alpha1 or v1alpha1; docs reference/resource-specs/subscription-schema.md,
 * dapr pkg/runtime/pubsub/subscriptions.go).
 */
#ifndef WGG_PUBSUB_SUBSCRIPTION_H
#define WGG_PUBSUB_SUBSCRIPTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pubsub/match.h"
#include "wggate.h"

enum { WGG_SUB_DECLARATIVE = 0, WGG_SUB_PROGRAMMATIC = 1, WGG_SUB_STREAMING = 2 };

typedef struct wgg_sub_rule {
  char *match;       /* the CEL text, NULL for the default route */
  wgg_match *expr;   /* compiled (NULL for the default route) */
  char *path;
} wgg_sub_rule;

typedef struct wgg_sub_spec {
  int kind;            /* WGG_SUB_* */
  char *name;          /* resource name (declarative) or NULL */
  char *pubsub, *topic;
  char *dead_letter;   /* deadLetterTopic or NULL */
  wgg_sub_rule *rules; /* rules in order, then the default route (match NULL) when there is one */
  size_t n_rules;
  json_t *metadata;    /* object of strings (owned) */
  bool raw;            /* metadata.rawPayload == "true" */
  bool bulk;           /* bulkSubscribe.enabled */
  int bulk_max;        /* bulkSubscribe.maxMessagesCount (default 100) */
  int bulk_await_ms;   /* bulkSubscribe.maxAwaitDurationMs (default 1000) */
} wgg_sub_spec;

/* Reads one subscription from j: the fields pubsubname, topic, route (v1),
 * routes {rules [{match, path}], default} (v2), metadata, deadLetterTopic,
 * bulkSubscribe. For a declarative resource pass its `spec`. Returns 0 or -1
 * with err (missing pubsubname/topic, no route at all, a rule without path,
 * an unsupported or malformed match expression). */
int wgg_sub_parse(json_t *j, int kind, const char *name, wgg_sub_spec *out, wgg_err *err);

/* The route for event: the path of the first rule whose match is true, else
 * the default route; NULL when nothing matches. */
const char *wgg_sub_route(const wgg_sub_spec *s, json_t *event);

/* The entry of GET /v1.0/metadata's `subscriptions` for s. */
json_t *wgg_sub_to_json(const wgg_sub_spec *s);

void wgg_sub_free(wgg_sub_spec *s);

#endif
