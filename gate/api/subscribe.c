/*
 * subscribe.c: sets up the subscriber side of pub/sub for the API: the
 * declarative Subscription resources of --resources-path (docs
 * reference/resource-specs/subscription-schema.md) and the delivery runtime
 * (pubsub/runtime.h), started once the sidecar serves.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/err.h"
#include "util/log.h"

int wgg_api_start_pubsub(wgg_api *api, wgg_err *err) {
  if (!api->n_pubsubs) return 0;
  api->psrt = wgg_psrt_new(api->opts, api->pubsubs, api->n_pubsubs, NULL, 0, err);
  if (!api->psrt) return -1;
  return wgg_psrt_start(api->psrt, &api->app_ready, err);
}
