/*
 * component_load.c: reads the YAML files of --resources-path directories and
 * resolves secretKeyRef through secretstores.local.env
 * (docs operations/components/component-secrets.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <strings.h>

#include "config/component.h"
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

/* Looks secret `name` up in a secretstores.local.file JSON file
 * (docs reference/components-reference/supported-secret-stores/file-secret-store.md):
 * nested objects are flattened with nestedSeparator (default ":"). Returns a
 * malloc'd value, or NULL with err filled. */
static char *file_secret(const wgg_component *store, const char *name, wgg_err *err) {
  const char *path = wgg_component_meta(store, "secretsFile");
  const char *sep = wgg_component_meta(store, "nestedSeparator");
  if (!path || !*path) return wgg_err_set(err, "secret store '%s': secretsFile is required", store->name), NULL;
  if (!sep || !*sep) sep = ":";
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  if (!doc) return wgg_err_set(err, "secret store '%s': %s:%d: %s", store->name, path, je.line, je.text), NULL;
  /* walk the path name = a<sep>b<sep>c through nested objects */
  json_t *cur = doc;
  const char *p = name;
  size_t sl = strlen(sep);
  char *out = NULL;
  while (cur && json_is_object(cur)) {
    json_t *whole = json_object_get(cur, p); /* a key that itself contains the separator */
    if (whole) {
      cur = whole;
      break;
    }
    const char *next = strstr(p, sep);
    if (!next) {
      cur = NULL;
      break;
    }
    char part[256];
    size_t n = (size_t)(next - p) < sizeof part - 1 ? (size_t)(next - p) : sizeof part - 1;
    memcpy(part, p, n);
    part[n] = '\0';
    cur = json_object_get(cur, part);
    p = next + sl;
  }
  if (cur && json_is_string(cur)) out = strdup(json_string_value(cur));
  else if (cur && (json_is_number(cur) || json_is_boolean(cur))) out = json_dumps(cur, JSON_ENCODE_ANY);
  else wgg_err_set(err, "secret '%s' not found in secret store '%s'", name, store->name);
  json_decref(doc);
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
      bool is_env = !strcmp(store->type, "secretstores.local.env");
      if (!is_env && strcmp(store->type, "secretstores.local.file"))
        return wgg_err_set(err,
                           "%s:%d: component '%s': secret store '%s' has type %s; only secretstores.local.env and "
                           "secretstores.local.file are supported",
                           where, kv->line, c->name, c->secret_store, store->type);
      /* Both local stores hold name/value secrets: a secret's only key is its name. */
      if (kv->secret_key && *kv->secret_key && strcmp(kv->secret_key, kv->secret_name))
        return wgg_err_set(err, "%s:%d: component '%s': secret '%s' has no key '%s'", where, kv->line, c->name,
                           kv->secret_name, kv->secret_key);
      if (is_env) {
        const char *v = getenv(kv->secret_name);
        if (!v)
          return wgg_err_set(err, "%s:%d: component '%s': secret '%s' not found in secret store '%s'", where, kv->line,
                             c->name, kv->secret_name, c->secret_store);
        if (!(kv->value = strdup(v))) return wgg_err_set(err, "out of memory");
      } else {
        wgg_err e;
        if (!(kv->value = file_secret(store, kv->secret_name, &e)))
          return wgg_err_set(err, "%s:%d: component '%s': %s", where, kv->line, c->name, e.msg);
      }
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
