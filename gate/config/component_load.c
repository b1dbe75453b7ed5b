/*
 * component_load.c: reads the YAML files of --resources-path directories and
 * resolves secretKeyRef through the secret store components
 * (components/secretstores/secretstore.h; docs
 * operations/components/component-secrets.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <strings.h>

#include "config/component.h"
#include "components/secretstores/secretstore.h"
#include "config/resource.h"
#include "util/buf.h"
#include "util/err.h"

static int load_file(const char *path, const char *app_id, wgg_component_list *out, wgg_err *err) {
  wgg_buf text = {0};
  int rc = wgg_yaml_read_file(&text, path, err);
  if (!rc) rc = wgg_components_parse(path, text.data ? text.data : "", text.len, app_id, out, err);
  wgg_buf_free(&text);
  return rc;
}

static int load_dir(const char *dir, const char *app_id, wgg_component_list *out, wgg_err *err) {
  char **files;
  size_t n;
  if (wgg_resource_files(dir, &files, &n, err)) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) rc = load_file(files[i], app_id, out, err);
  wgg_resource_files_free(files, n);
  return rc;
}

/* The value of secretKeyRef {name, key} through the secret store component
 * store, as daprd's secret processor reads it: GetSecret(name), then the
 * entry `key` (`name` when key is empty) of its data
 * (components/secretstores/secretstore.h has the two local stores'
 * semantics). Returns a malloc'd value, or NULL with err. */
static char *store_secret(const wgg_component *store, const char *name, const char *key, size_t *out_len,
                          wgg_err *err) {
  wgg_err e;
  wgg_secretstore *ss = wgg_secretstore_new(store, &e);
  if (!ss) return wgg_err_set(err, "secret store '%s': %s", store->name, e.msg), NULL;
  json_t *data = NULL;
  char *out = NULL;
  const char *k = key && *key ? key : name;
  if (wgg_secretstore_get(ss, name, NULL, &data, &e))
    wgg_err_set(err, "secret '%s' not found in secret store '%s': %s", name, store->name, e.msg);
  else if ((!json_is_string(json_object_get(data, k)) || !*json_string_value(json_object_get(data, k))) &&
           !strcmp(k, name)) /* the env store answers "" for an unset variable; daprd then leaves the value empty */
    wgg_err_set(err, "secret '%s' not found in secret store '%s'", name, store->name);
  else if (!json_is_string(json_object_get(data, k)) || !*json_string_value(json_object_get(data, k)))
    wgg_err_set(err, "secret '%s' has no key '%s' in secret store '%s'", name, k, store->name);
  else { /* a secret may hold NUL bytes (\u0000 in a file store): keep its length */
    json_t *v = json_object_get(data, k);
    if (!(out = wgg_strndup(json_string_value(v), json_string_length(v)))) wgg_err_set(err, "out of memory");
    else *out_len = json_string_length(v);
  }
  json_decref(data);
  wgg_secretstore_free(ss);
  return out;
}

int wgg_components_resolve_secrets(wgg_component_list *list, wgg_err *err) {
  for (size_t i = 0; i < list->n; i++) {
    wgg_component *c = &list->items[i];
    for (size_t j = 0; j < c->n_meta; j++) {
      wgg_meta_kv *kv = &c->meta[j];
      if (!kv->secret_name || kv->value) continue;
      const char *where = c->file ? c->file : "?";
      if (!c->secret_store)
        return wgg_err_set(err, "%s:%d: component '%s': metadata '%s' uses secretKeyRef but auth.secretStore is not set",
                           where, kv->line, c->name, kv->name);
      const wgg_component *store = NULL;
      for (size_t k = 0; k < list->n; k++)
        if (!strcmp(list->items[k].name, c->secret_store)) store = &list->items[k];
      if (!store)
        return wgg_err_set(err, "%s:%d: component '%s': secret store '%s' is not found", where, kv->line, c->name,
                           c->secret_store);
      if (!wgg_secretstore_type_supported(store->type))
        return wgg_err_set(err,
                           "%s:%d: component '%s': secret store '%s' has type %s; only secretstores.local.env and "
                           "secretstores.local.file are supported",
                           where, kv->line, c->name, c->secret_store, store->type);
      wgg_err e;
      if (!(kv->value = store_secret(store, kv->secret_name, kv->secret_key, &kv->value_len, &e)))
        return wgg_err_set(err, "%s:%d: component '%s': %s", where, kv->line, c->name, e.msg);
    }
  }
  return 0;
}

int wgg_components_load(const char *const *paths, size_t n_paths, const char *app_id, wgg_component_list *out,
                        wgg_err *err) {
  out->items = NULL;
  out->n = 0;
  for (size_t i = 0; i < n_paths; i++)
    if (load_dir(paths[i], app_id, out, err)) goto fail;
  if (wgg_components_resolve_secrets(out, err)) goto fail;
  return 0;
fail:
  wgg_component_list_free(out);
  return -1;
}
