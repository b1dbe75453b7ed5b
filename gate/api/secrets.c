/*
 * secrets.c: the secrets API (docs reference/api/secrets_api.md; dapr
 * pkg/api/http/secrets.go and pkg/api/universal/secrets.go):
 *
 *   GET /v1.0/secrets/{store}/{name}[?metadata.k=v]  -> 200 {"key": "value", ...}
 *   GET /v1.0/secrets/{store}/bulk[?metadata.k=v]    -> 200 {"name": {"key": "value"}, ...}
 *
 * Errors as daprd: no secret store loaded 500 ERR_SECRET_STORES_NOT_CONFIGURED
 * "secret store is not configured"; an unknown store 401
 * ERR_SECRET_STORE_NOT_FOUND "failed finding secret store with key <store>";
 * a name the Configuration's spec.secrets.scopes deny 403
 * ERR_PERMISSION_DENIED "access denied by policy to get \"<name>\" from
 * \"<store>\"" (bulk leaves denied secrets out); a store error 500
 * ERR_SECRET_GET "failed getting secret with key <name> from secret store
 * <store>: <error>" (bulk: "failed getting secrets from secret store <store>:
 * <error>"). The local stores answer from memory or the environment, so calls
 * run inline on the loop thread.
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/calls.h"
#include "api/invoke_path.h"
#include "components/secretstores/secretstore.h"

/* Whether list (a JSON array of strings, may be NULL) holds key. */
static bool list_has(json_t *list, const char *key) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), key)) return true;
  return false;
}

bool wgg_secret_allowed(const wgg_api *api, const char *store, const char *key) {
  json_t *secrets = json_object_get(api->config.spec, "secrets");
  json_t *scopes = json_is_object(secrets) ? json_object_get(secrets, "scopes") : NULL;
  size_t i;
  json_t *sc;
  json_array_foreach(scopes, i, sc) {
    json_t *name = json_object_get(sc, "storeName");
    if (!json_is_string(name) || strcmp(json_string_value(name), store)) continue;
    /* dapr pkg/config SecretsScope.IsSecretAllowed */
    json_t *def = json_object_get(sc, "defaultAccess");
    bool allow = !(json_is_string(def) && !strcasecmp(json_string_value(def), "deny"));
    json_t *allowed = json_object_get(sc, "allowedSecrets"), *denied = json_object_get(sc, "deniedSecrets");
    if (json_is_array(allowed) && json_array_size(allowed)) return list_has(allowed, key);
    if (json_is_array(denied) && list_has(denied, key)) return false;
    return allow;
  }
  return true; /* no scope for the store: everything */
}

static void answer(wgg_http_req *req, json_t *j) {
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL; /* Go's encoding/json sorts map keys */
  json_decref(j);
  if (!s) {
    wgg_api_error(req, 500, "ERR_SECRET_GET", "out of memory");
    return;
  }
  wgg_http_respond(req, 200, "application/json", NULL, 0, s, strlen(s));
  free(s);
}

int wgg_secrets_call(wgg_api *api, const char *store, const char *name, json_t *md, json_t **out, wgg_api_status *st) {
  *out = NULL;
  if (!api->n_secretstores)
    return wgg_api_fail(st, 500, WGG_GRPC_FAILED_PRECONDITION, "ERR_SECRET_STORES_NOT_CONFIGURED",
                        "secret store is not configured");
  const wgg_secretstore *s = NULL;
  for (size_t i = 0; i < api->n_secretstores && !s; i++)
    if (!strcmp(api->secretstores[i].comp->name, store)) s = api->secretstores[i].store;
  if (!s)
    return wgg_api_fail(st, 401, WGG_GRPC_INVALID_ARGUMENT, "ERR_SECRET_STORE_NOT_FOUND",
                        "failed finding secret store with key %s", store);
  wgg_err e;
  if (!name) {
    if (wgg_secretstore_bulk(s, md, out, &e))
      return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_SECRET_GET", "failed getting secrets from secret store %s: %s",
                          store, e.msg);
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(*out, tmp, k, v) if (!wgg_secret_allowed(api, store, k)) json_object_del(*out, k);
    return 0;
  }
  if (!wgg_secret_allowed(api, store, name)) {
    char qn[300], qs[300]; /* Go's %q */
    wgg_go_quote(name, strlen(name), qn, sizeof qn);
    wgg_go_quote(store, strlen(store), qs, sizeof qs);
    return wgg_api_fail(st, 403, WGG_GRPC_PERMISSION_DENIED, "ERR_PERMISSION_DENIED", "access denied by policy to get %s from %s",
                        qn, qs);
  }
  if (wgg_secretstore_get(s, name, md, out, &e))
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_SECRET_GET",
                        "failed getting secret with key %s from secret store %s: %s", name, store, e.msg);
  return 0;
}

void wgg_api_secrets(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (req->method != HTTP_GET) {
    wgg_api_method_not_allowed(req);
    return;
  }
  const char *store = seg[0], *name = seg[1];
  (void)n;
  json_t *md = wgg_query_metadata(req->query), *out = NULL;
  wgg_api_status st;
  if (wgg_secrets_call(api, store, strcmp(name, "bulk") ? name : NULL, md, &out, &st)) wgg_api_error_status(req, &st);
  else answer(req, out);
  json_decref(md);
}
