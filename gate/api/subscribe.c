/*
 * subscribe.c: sets up the subscriber side of pub/sub for the API: the
 * declarative Subscription resources of --resources-path (docs
 * reference/resource-specs/subscription-schema.md: dapr.io/v2alpha1 with
 * spec.routes, and the older dapr.io/v1alpha1 with spec.route; `scopes`
 * filtering by app ID is the resource loader's) and the delivery runtime
 * (pubsub/runtime.h), started once the sidecar serves.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "config/resiliency.h"
#include "config/resource.h"
#include "util/err.h"
#include "util/log.h"

/* Reads the Subscription resources into *out (n). Returns 0 or -1 with err
 * naming file:line (a YAML error, an unknown apiVersion, a subscription
 * without pubsubname/topic/route, an unsupported match expression). */
static int load_declarative(const wgg_options *o, wgg_sub_spec **out, size_t *n, wgg_err *err) {
  *out = NULL;
  *n = 0;
  if (!o->n_resources_paths) return 0;
  wgg_resource_list l = {0};
  if (wgg_resources_load(o->resources_paths, o->n_resources_paths, "Subscription", o->app_id, &l, err)) return -1;
  int rc = 0;
  if (l.n && !(*out = calloc(l.n, sizeof **out))) rc = wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < l.n && !rc; i++) {
    const wgg_resource *r = &l.items[i];
    if (strcmp(r->api_version, "dapr.io/v2alpha1") && strcmp(r->api_version, "dapr.io/v1alpha1")) {
      rc = wgg_err_set(err, "%s:%d: Subscription %s: unsupported apiVersion '%s' (dapr.io/v2alpha1 or dapr.io/v1alpha1)",
                       r->file, r->line, r->name, r->api_version);
      break;
    }
    json_t *spec = json_object_get(r->doc, "spec");
    wgg_err e;
    if (wgg_sub_parse(spec, WGG_SUB_DECLARATIVE, r->name, &(*out)[*n], &e)) {
      rc = wgg_err_set(err, "%s:%d: Subscription %s: %s", r->file, wgg_resource_line(r, "/spec"), r->name, e.msg);
      break;
    }
    (*n)++;
  }
  wgg_resource_list_free(&l);
  if (rc) {
    for (size_t i = 0; i < *n; i++) wgg_sub_free(&(*out)[i]);
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int wgg_api_start_pubsub(wgg_api *api, wgg_err *err) {
  wgg_sub_spec *decl;
  size_t n_decl;
  if (load_declarative(api->opts, &decl, &n_decl, err)) return -1;
  if (!api->n_pubsubs) {
    for (size_t i = 0; i < n_decl; i++) {
      wgg_warn("Subscription %s: pubsub %s not found; skipped", decl[i].name ? decl[i].name : "", decl[i].pubsub);
      wgg_sub_free(&decl[i]);
    }
    free(decl);
    return 0;
  }
  api->psrt = wgg_psrt_new(api->opts, api->pubsubs, api->n_pubsubs, decl, n_decl, err);
  for (size_t i = 0; i < n_decl; i++) wgg_sub_free(&decl[i]); /* emptied when moved in */
  free(decl);
  if (!api->psrt) return -1;
  /* The Resiliency resource's inbound policies of each pubsub override its
   * backOff* metadata (docs operations/resiliency/targets.md#components). */
  for (size_t i = 0; i < api->n_pubsubs; i++) {
    const wgg_component *c = api->pubsubs[i].comp;
    wgg_res_policy pol;
    wgg_resiliency_for_component(api->resiliency, c->name, c->type, WGG_RES_INBOUND, &pol);
    if (!pol.retry && !pol.timeout_ms && !pol.breaker) continue;
    wgg_ps_retry r = {0};
    if (pol.retry)
      r = (wgg_ps_retry){.exponential = pol.retry->exponential, .duration_ms = pol.retry->duration_ms,
                         .initial_ms = pol.retry->initial_ms, .max_interval_ms = pol.retry->max_interval_ms,
                         .max_retries = (long)pol.retry->max_retries};
    wgg_psrt_set_policy(api->psrt, c->name, pol.retry ? &r : NULL, pol.timeout_ms, pol.breaker);
    wgg_info("pubsub %s: inbound resiliency (retry %s, timeout %s, circuit breaker %s)", c->name,
             pol.retry_name ? pol.retry_name : "-", pol.timeout_name ? pol.timeout_name : "-",
             pol.breaker_name ? pol.breaker_name : "-");
  }
  wgg_app_channel ch = wgg_app_channel_of(api);
  wgg_psrt_set_app_channel(api->psrt, &ch);
  wgg_psrt_set_metrics(api->psrt, api->metrics);
  return wgg_psrt_start(api->psrt, &api->app_ready, err);
}
