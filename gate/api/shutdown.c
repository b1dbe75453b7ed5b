/*
 * shutdown.c: POST /v1.0/shutdown (docs reference/api/shutdown_api.md; dapr
 * pkg/api/http/shutdown.go and pkg/api/universal/shutdown.go). daprd answers
 * 204 and, once that response is done, runs the same graceful stop as
 * SIGTERM; so do we: the route answers first, then asks the process for its
 * graceful stop (api->request_shutdown), which drains the listeners within
 * --dapr-graceful-shutdown-seconds.
 */
#include <http_parser.h>
#include <jansson.h>

#include "api/api.h"

void wgg_api_shutdown(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  (void)seg;
  if (n) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_POST) {
    wgg_api_method_not_allowed(req);
    return;
  }
  /* The body is a ShutdownRequest (no fields): daprd's protojson decoding
   * refuses a body that is not a JSON object and ignores unknown fields. */
  if (req->body_len) {
    json_error_t je;
    json_t *b = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    bool obj = b && json_is_object(b);
    json_decref(b);
    if (!obj) {
      wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s",
                    b ? "the body is not a JSON object" : je.text);
      return;
    }
  }
  wgg_api_empty(req);
  void (*fn)(void *) = __atomic_load_n(&api->request_shutdown, __ATOMIC_ACQUIRE);
  if (fn) fn(api->shutdown_ctx);
}
