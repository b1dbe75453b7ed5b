/*
 * state_internal.h: shared by the state API files (state.c, state_write.c,
 * state_bulk.c). Implements docs reference/api/state_api.md and dapr
 * pkg/api/http/http.go (onGetState, onPostState, onDeleteState,
 * onBulkGetState, onPostStateTransaction).
 */
#ifndef WGG_API_STATE_INTERNAL_H
#define WGG_API_STATE_INTERNAL_H

#include "api/api.h"
#include "observe/metrics.h"

/* Finds store name, or answers the Dapr error (500 not configured, 400 not
 * found) and returns NULL. */
wgg_store_entry *wgg_state_find(wgg_api *api, wgg_http_req *req, const char *name);

/* Checks a user key (non-empty, no "||"), or answers 400 and returns false. */
bool wgg_state_key_ok(wgg_http_req *req, const char *key);

/* Returns "<appId>||<key>" (or key when the app ID is empty), malloc'd; NULL on OOM. */
char *wgg_state_prefixed(const wgg_api *api, const char *key);

/* Parses a ttlInSeconds value: *ttl > 0 seconds, 0 = none. Returns 0 or -1
 * with msg (the Dapr wording) filled. */
int wgg_state_parse_ttl(const char *v, int64_t *ttl, wgg_err *msg);

/* The index of se among the API's stores (for metrics). */
size_t wgg_state_index(const wgg_store_entry *se);

/* Routes. */
void wgg_state_get(wgg_api *api, wgg_http_req *req, wgg_store_entry *se, const char *key);
void wgg_state_delete(wgg_api *api, wgg_http_req *req, wgg_store_entry *se, const char *key);
void wgg_state_save(wgg_api *api, wgg_http_req *req, wgg_store_entry *se);
void wgg_state_transaction(wgg_api *api, wgg_http_req *req, wgg_store_entry *se);
void wgg_state_bulk(wgg_api *api, wgg_http_req *req, wgg_store_entry *se);

#endif
