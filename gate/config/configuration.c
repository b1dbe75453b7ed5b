/*
 * configuration.c: reads Dapr `Configuration` files through the resource
 * loader and types the fields the sidecar's core acts on.
 */
#include <stdlib.h>
#include <string.h>

#include "config/configuration.h"
#include "config/resource.h"
#include "util/err.h"

static void handlers_free(wgg_handler_spec *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(h[i].name);
    free(h[i].type);
    free(h[i].version);
    free(h[i].file);
  }
  free(h);
}

void wgg_configuration_free(wgg_configuration *c) {
  free(c->name);
  free(c->file);
  handlers_free(c->http_pipeline, c->n_http_pipeline);
  handlers_free(c->app_http_pipeline, c->n_app_http_pipeline);
  json_decref(c->spec);
  memset(c, 0, sizeof *c);
}

/* Reads spec.<key>.handlers of r into *out (replacing what an earlier file set). */
static int read_handlers(const wgg_resource *r, const char *key, wgg_handler_spec **out, size_t *n,
                         wgg_err *err) {
  json_t *pipe = json_object_get(json_object_get(r->doc, "spec"), key);
  if (!pipe) return 0;
  char ptr[64];
  snprintf(ptr, sizeof ptr, "/spec/%s/handlers", key);
  json_t *hs = json_object_get(pipe, "handlers");
  if (!json_is_object(pipe) || (hs && !json_is_array(hs)))
    return wgg_err_set(err, "%s:%d: spec.%s.handlers must be a list of {name, type}", r->file,
                       wgg_resource_line(r, ptr), key);
  size_t count = json_array_size(hs);
  wgg_handler_spec *h = calloc(count ? count : 1, sizeof *h);
  if (!h) return wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < count; i++) {
    json_t *e = json_array_get(hs, i);
    char at[96];
    snprintf(at, sizeof at, "%s/%zu", ptr, i);
    json_t *name = json_object_get(e, "name"), *type = json_object_get(e, "type"), *ver = json_object_get(e, "version");
    if (!json_is_string(name) || !json_is_string(type) || !*json_string_value(name) || !*json_string_value(type) ||
        (ver && !json_is_string(ver))) {
      handlers_free(h, i);
      return wgg_err_set(err, "%s:%d: spec.%s.handlers must be a list of {name, type}", r->file,
                         wgg_resource_line(r, at), key);
    }
    h[i].name = strdup(json_string_value(name));
    h[i].type = strdup(json_string_value(type));
    h[i].version = strdup(ver ? json_string_value(ver) : "");
    h[i].file = strdup(r->file);
    h[i].line = wgg_resource_line(r, at);
    if (!h[i].name || !h[i].type || !h[i].version || !h[i].file) {
      handlers_free(h, i + 1);
      return wgg_err_set(err, "out of memory");
    }
  }
  handlers_free(*out, *n);
  *out = h;
  *n = count;
  return 0;
}

/* Merges one Configuration document into c. */
static int merge(wgg_configuration *c, const wgg_resource *r, wgg_err *err) {
  json_t *spec = json_object_get(r->doc, "spec");
  if (spec && !json_is_object(spec))
    return wgg_err_set(err, "%s:%d: spec must be a mapping", r->file, wgg_resource_line(r, "/spec"));
  if (read_handlers(r, "httpPipeline", &c->http_pipeline, &c->n_http_pipeline, err) ||
      read_handlers(r, "appHttpPipeline", &c->app_http_pipeline, &c->n_app_http_pipeline, err))
    return -1;
  json_t *strict = json_object_get(json_object_get(spec, "wasm"), "strictSandbox");
  if (strict && !json_is_boolean(strict))
    return wgg_err_set(err, "%s:%d: spec.wasm.strictSandbox must be a boolean", r->file,
                       wgg_resource_line(r, "/spec/wasm/strictSandbox"));
  if (strict) c->wasm_strict_sandbox = json_is_true(strict);
  if (spec && json_object_update(c->spec, spec)) return wgg_err_set(err, "out of memory");
  if (!c->name) {
    c->name = strdup(r->name);
    c->file = strdup(r->file);
    if (!c->name || !c->file) return wgg_err_set(err, "out of memory");
  }
  return 0;
}

int wgg_configuration_load(const char *const *files, size_t n, wgg_configuration *out, wgg_err *err) {
  memset(out, 0, sizeof *out);
  if (!(out->spec = json_object())) return wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < n; i++) {
    wgg_resource_list l;
    if (wgg_resource_file_load(files[i], "Configuration", &l, err)) goto fail;
    int rc = l.n ? merge(out, &l.items[0], err) : wgg_err_set(err, "%s: no Configuration resource", files[i]);
    wgg_resource_list_free(&l);
    if (rc) goto fail;
  }
  return 0;
fail:
  wgg_configuration_free(out);
  return -1;
}

int wgg_configuration_load_named(const char *const *paths, size_t n_paths, const char *name, wgg_configuration *out,
                                 wgg_err *err) {
  memset(out, 0, sizeof *out);
  wgg_resource_list l = {0};
  if (wgg_resources_load(paths, n_paths, "Configuration", NULL, &l, err)) return -1;
  const wgg_resource *r = NULL;
  for (size_t i = 0; !r && i < l.n; i++)
    if (!strcmp(l.items[i].name, name)) r = &l.items[i];
  int rc = -1;
  if (!r) wgg_err_set(err, "Configuration %s not found in the resources paths", name);
  else if (!(out->spec = json_object())) wgg_err_set(err, "out of memory");
  else rc = merge(out, r, err);
  wgg_resource_list_free(&l);
  if (rc) wgg_configuration_free(out);
  return rc;
}
