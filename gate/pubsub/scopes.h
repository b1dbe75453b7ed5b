/*
 * scopes.h: topic scoping of a pub/sub component (docs
 * developing-applications/building-blocks/pubsub/pubsub-scopes.md; dapr
 * pkg/runtime/pubsub/scopes.go and IsOperationAllowed): the component
 * metadata allowedTopics ("t1,t2"), protectedTopics, publishingScopes and
 * subscriptionScopes ("app1=t1,t2;app2=;app3=t3"; "app2=" means no topic).
 */
#ifndef WGG_PUBSUB_SCOPES_H
#define WGG_PUBSUB_SCOPES_H

#include <stdbool.h>

#include "config/component.h"

/* True when app_id may publish (publish true) or subscribe to topic on the
 * component c, as Dapr decides: a topic outside a non-empty allowedTopics, or
 * in protectedTopics, needs the app's scope to list it; an app with a scope
 * may only use the topics it lists; otherwise everything is allowed. */
bool wgg_pubsub_topic_allowed(const wgg_component *c, const char *app_id, const char *topic, bool publish);

#endif
