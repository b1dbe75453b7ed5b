/*
 * secretstore.h: secret stores (Dapr secrets building block; docs
 * reference/api/secrets_api.md) behind one small interface. Two local types,
 * with the semantics of components-contrib secretstores/local:
 *
 * - secretstores.local.env: a secret is the environment variable
 *   <prefix><name> (metadata `prefix`, default none); get answers {name:
 *   value}, "" when unset; variables DAPR_* and APP_API_TOKEN (any case) are
 *   never read (get answers "", bulk leaves them out). Bulk: every variable
 *   that starts with the prefix (and is longer than it), the prefix removed.
 * - secretstores.local.file: the JSON object in `secretsFile`, read once at
 *   start (a missing metadata or unreadable/invalid file fails the component).
 *   Nested objects and arrays are flattened into names joined by
 *   `nestedSeparator` (default ":"; array items by index); a value that is not
 *   a string is rendered as Go's fmt "%s" does (true is "%!s(bool=true)", 5 is
 *   "%!s(float64=5)", null is "%!s(<nil>)"). Get answers {name: value}; an
 *   unknown name is an error "secret <name> not found". With `multiValued:
 *   "true"` only the top level names secrets: a string is {name: value}, an
 *   object is its own flattened keys and values; other top-level values are
 *   dropped.
 *
 * Stores are read-only after creation and safe to use from several threads.
 */
#ifndef WGG_SECRETSTORE_H
#define WGG_SECRETSTORE_H

#include <jansson.h>
#include <stdbool.h>

#include "config/component.h"
#include "wggate.h"

typedef struct wgg_secretstore wgg_secretstore;

/* Whether this build implements secret store type `type`. */
bool wgg_secretstore_type_supported(const char *type);

/* Creates the store of component c, or NULL with err (missing secretsFile,
 * unreadable or invalid JSON file, a bad multiValued value, out of memory). */
wgg_secretstore *wgg_secretstore_new(const wgg_component *c, wgg_err *err);

/* The secret `name` as a new JSON object of strings (key -> value) in *out.
 * metadata (borrowed, may be NULL) is the request's metadata.* parameters;
 * the local stores ignore it. Returns 0, or -1 with err (the store's message,
 * e.g. "secret x not found"). */
int wgg_secretstore_get(const wgg_secretstore *s, const char *name, json_t *metadata, json_t **out, wgg_err *err);

/* Every secret as a new JSON object name -> {key: value} in *out. Returns 0
 * or -1 with err. */
int wgg_secretstore_bulk(const wgg_secretstore *s, json_t *metadata, json_t **out, wgg_err *err);

/* The store's features for /v1.0/metadata: "MULTIPLE_KEY_VALUES_PER_SECRET"
 * for a multi-valued file store (components-contrib secretstores/feature.go),
 * else none. A new JSON array. */
json_t *wgg_secretstore_capabilities(const wgg_secretstore *s);

void wgg_secretstore_free(wgg_secretstore *s);

#endif
