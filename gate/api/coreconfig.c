/*
 * coreconfig.c: the parts of the Configuration (--config; docs
 * reference/resource-specs/configuration-schema.md) that belong to the
 * sidecar core: spec.features (preview features, reported by the metadata API
 * as enabledFeatures), spec.metrics / spec.metric .enabled (false: no metrics
 * endpoint) and spec.tracing.samplingRate (W3C trace context toward the app,
 * observe/trace.h). The pipelines, nameResolution and accessControl are read
 * by their own parts.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/err.h"
#include "util/log.h"

int wgg_api_core_config(wgg_api *api, wgg_err *err) {
  json_t *spec = api->config.spec;
  const char *file = api->config.file ? api->config.file : "--config";
  api->features = json_array();
  api->metrics_enabled = true;
  api->trace_sampling = 0;
  if (!api->features) return wgg_err_set(err, "out of memory");
  json_t *feats = json_object_get(spec, "features");
  if (feats && !json_is_array(feats)) return wgg_err_set(err, "%s: spec.features must be a list of {name, enabled}", file);
  size_t i;
  json_t *f;
  json_array_foreach(feats, i, f) {
    json_t *name = json_object_get(f, "name"), *en = json_object_get(f, "enabled");
    if (!json_is_string(name) || !*json_string_value(name) || (en && !json_is_boolean(en)))
      return wgg_err_set(err, "%s: spec.features[%zu] must be {name: string, enabled: true|false}", file, i);
    if (json_is_true(en)) json_array_append_new(api->features, json_string(json_string_value(name)));
  }
  json_t *m = json_object_get(spec, "metrics");
  if (!m) m = json_object_get(spec, "metric"); /* daprd reads both spellings */
  if (m) {
    json_t *en = json_object_get(m, "enabled");
    if (!json_is_object(m) || (en && !json_is_boolean(en)))
      return wgg_err_set(err, "%s: spec.metrics.enabled must be true or false", file);
    if (json_is_false(en)) api->metrics_enabled = false;
  }
  json_t *tr = json_object_get(spec, "tracing");
  if (tr) {
    json_t *rate = json_object_get(tr, "samplingRate");
    if (!json_is_object(tr) || (rate && !json_is_string(rate) && !json_is_number(rate)))
      return wgg_err_set(err, "%s: spec.tracing.samplingRate must be a number from 0 to 1 (a string, as \"1\")", file);
    if (rate) {
      char *end = NULL;
      double r = json_is_number(rate) ? json_number_value(rate) : strtod(json_string_value(rate), &end);
      if ((end && (*end || end == json_string_value(rate))) || r < 0 || r > 1)
        return wgg_err_set(err, "%s: spec.tracing.samplingRate must be a number from 0 to 1, not %s", file,
                           json_is_string(rate) ? json_string_value(rate) : "that");
      api->trace_sampling = r;
    }
  }
  if (json_array_size(api->features)) wgg_info("preview features enabled by the configuration: %zu", json_array_size(api->features));
  return 0;
}
