/*
 * match.h: the subset of CEL (github.com/google/cel-spec) that Dapr routing
 * rules use in practice (docs developing-applications/building-blocks/pubsub/
 * howto-route-messages.md): the variable `event` (the CloudEvent) and field
 * selection on it (`event.type`, `event.data.order.kind`, also
 * `event.data["key"]`), string literals ("..." or '...', with \" \' \\ \n \t
 * escapes), integer and decimal numbers, true, false, null, the comparisons
 * == != < <= > >=, the logical operators && || !, and parentheses.
 * Anything else (functions and macros such as has() or size(), `in`,
 * arithmetic, lists, maps) is refused at compile time with an error naming
 * the construct and its offset.
 */
#ifndef WGG_PUBSUB_MATCH_H
#define WGG_PUBSUB_MATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "wggate.h"

typedef struct wgg_match wgg_match;

/* Compiles expr. Returns the compiled rule (free with wgg_match_free) or NULL
 * with err ("unsupported CEL at offset N: ..." or a syntax error). */
wgg_match *wgg_match_compile(const char *expr, wgg_err *err);

/* Evaluates m against the event (a JSON object bound to `event`). A field
 * that is absent makes the comparison that uses it false (CEL would raise
 * "no such key"; Dapr then fails the delivery, we skip the rule instead).
 * Values compare by JSON type: strings with strings, numbers with numbers
 * (integers and decimals compare numerically), booleans and null by equality;
 * == between different types is false, ordering between them is false. */
bool wgg_match_eval(const wgg_match *m, json_t *event);

void wgg_match_free(wgg_match *m);

#endif
