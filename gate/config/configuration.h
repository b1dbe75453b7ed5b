/*
 * configuration.h: the Dapr `Configuration` resource named by --config
 * (docs reference/resource-specs/configuration-schema.md; self-hosted daprd
 * reads it from a file). The pipeline and wasm fields are typed here; every
 * other feature (nameResolution, features, tracing, ...) is read by its
 * consumer from the JSON spec.
 */
#ifndef WGG_CONFIG_CONFIGURATION_H
#define WGG_CONFIG_CONFIGURATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "wggate.h"

/* One entry of spec.httpPipeline.handlers / spec.appHttpPipeline.handlers:
 * a middleware component by name and type (e.g. middleware.http.wasm). */
typedef struct wgg_handler_spec {
  char *name;
  char *type;
  char *version; /* "" when absent */
  char *file;    /* where it was declared, for messages */
  int line;
} wgg_handler_spec;

typedef struct wgg_configuration {
  char *name;                          /* metadata.name; NULL when no --config */
  char *file;                          /* the first --config file; NULL when none */
  wgg_handler_spec *http_pipeline;     /* spec.httpPipeline.handlers, in order */
  size_t n_http_pipeline;
  wgg_handler_spec *app_http_pipeline; /* spec.appHttpPipeline.handlers, in order */
  size_t n_app_http_pipeline;
  bool wasm_strict_sandbox;            /* spec.wasm.strictSandbox */
  json_t *spec;                        /* the merged spec (owned; an empty object when no --config) */
} wgg_configuration;

/* Loads the Configuration documents of files (n of them, daprd's repeatable
 * --config, in order; n may be 0 for an empty configuration). Later files
 * override earlier ones key by key at the top of spec, as daprd merges
 * several configurations. Returns 0 and fills *out (free with
 * wgg_configuration_free), or -1 with err: the file's read or YAML error,
 * "FILE: no Configuration resource", "FILE:LINE: spec.httpPipeline.handlers
 * must be a list of {name, type}", "FILE:LINE: spec.wasm.strictSandbox must
 * be a boolean", out of memory. *out is empty on error. */
int wgg_configuration_load(const char *const *files, size_t n, wgg_configuration *out, wgg_err *err);

/* Loads the Configuration resource whose metadata.name is name from the YAML files of the
 * resources folders paths (as wgg_resources_load reads them; the first of that name wins), as
 * daprd in Kubernetes mode reads the Configuration its dapr.io/config annotation names. Same
 * results as wgg_configuration_load; errors: those of wgg_resources_load, "Configuration NAME
 * not found in the resources paths", the document's errors as wgg_configuration_load's. */
int wgg_configuration_load_named(const char *const *paths, size_t n_paths, const char *name, wgg_configuration *out,
                                 wgg_err *err);

/* Frees the configuration's contents; c is left empty. */
void wgg_configuration_free(wgg_configuration *c);

#endif
