/*
 * component_load.c: reads the YAML files of --resources-path directories and
 * resolves secretKeyRef through secretstores.local.env
 * (docs operations/components/component-secrets.md).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/component.h"
#include "util/err.h"

static int has_yaml_ext(const char *n) {
  size_t l = strlen(n);
  return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml"));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(const char *path, const char *app_id, wgg_component_list *out, wgg_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wgg_err_set(err, "%s: %s", path, strerror(errno));
  char *text = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *g = realloc(text, cap);
      if (!g) {
        rc = wgg_err_set(err, "%s: out of memory", path);
        break;
      }
      text = g;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  if (!rc && ferror(f)) rc = wgg_err_set(err, "%s: read error", path);
  fclose(f);
  if (!rc) rc = wgg_components_parse(path, text ? text : "", len, app_id, out, err);
  free(text);
  return rc;
}

static int load_dir(const char *dir, const char *app_id, wgg_component_list *out, wgg_err *err) {
  DIR *d = opendir(dir);
  if (!d) return wgg_err_set(err, "resources path %s: %s", dir, strerror(errno));
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !has_yaml_ext(e->d_name)) continue;
    char **g = realloc(names, (n + 1) * sizeof *g);
    if (!g || !(g[n] = strdup(e->d_name))) {
      if (g) names = g;
      rc = wgg_err_set(err, "out of memory");
      break;
    }
    names = g;
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n && !rc; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    rc = load_file(path, app_id, out, err);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
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
      if (strcmp(store->type, "secretstores.local.env"))
        return wgg_err_set(err, "%s:%d: component '%s': secret store '%s' has type %s; only secretstores.local.env is supported",
                           where, kv->line, c->name, c->secret_store, store->type);
      /* secretstores.local.env: the secret `name` is an environment variable; its only key is the name itself. */
      if (kv->secret_key && *kv->secret_key && strcmp(kv->secret_key, kv->secret_name))
        return wgg_err_set(err, "%s:%d: component '%s': secret '%s' has no key '%s'", where, kv->line, c->name,
                           kv->secret_name, kv->secret_key);
      const char *v = getenv(kv->secret_name);
      if (!v)
        return wgg_err_set(err, "%s:%d: component '%s': secret '%s' not found in secret store '%s'", where, kv->line,
                           c->name, kv->secret_name, c->secret_store);
      if (!(kv->value = strdup(v))) return wgg_err_set(err, "out of memory");
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
