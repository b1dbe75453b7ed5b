/*
 * p2_config.c: wasi:config/store for components, on a Dapr configuration
 * store component (p2_cloud.h; docs/components.md "The cloud interfaces").
 *
 * Served at 0.2.0-rc.1 (wasmtime) and 0.2.0-draft-2024-09-27 (Spin), from
 * our transcription of WebAssembly/wasi-config's store.wit (both versions
 * have the same shape):
 *   variant error { upstream(string), io(string) }
 *   get: func(key: string) -> result<option<string>, error>;
 *   get-all: func() -> result<list<tuple<string, string>>, error>;
 * get reads one key of the store as GET /v1.0/configuration/{store}?key=K
 * does, get-all every key (GetConfiguration without keys). A store failure
 * is `upstream(message)`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "components/configuration/configuration.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_cloud_internal.h"

typedef struct cfg_host {
  wgg_api *api;
  char *store; /* NULL: the app's only configuration store */
} cfg_host;

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

/* r = result::err(upstream(msg)) */
static wg_trap *upstream(wg_cval *r, const char *msg) {
  wg_cval *s = wg_cval_array(1);
  wg_cval *e = s && wg_cval_string(s, msg, strlen(msg)) ? box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {0, s}})
                                                         : NULL;
  if (!e) {
    if (s) wg_cval_free(s);
    free(s);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, e}};
  return NULL;
}

/* The store the calls read, or NULL with msg set. */
static wgg_config_entry *store_of(cfg_host *h, char *msg, size_t cap) {
  wgg_api *api = h->api;
  if (h->store) {
    for (size_t i = 0; i < api->n_configs; i++)
      if (!strcmp(api->configs[i].comp->name, h->store)) return &api->configs[i];
    snprintf(msg, cap, "configuration store %s is not found", h->store);
    return NULL;
  }
  if (api->n_configs == 1) return &api->configs[0];
  snprintf(msg, cap, api->n_configs ? "several configuration stores are loaded: name the one wasi:config reads"
                                    : "no configuration store is loaded");
  return NULL;
}

/* Reads keys (n 0: all) into out; 0, or -1 with msg. */
static int read_items(cfg_host *h, const char *const *keys, size_t n, wgg_conf_items *out, char *msg, size_t cap) {
  wgg_config_entry *ce = store_of(h, msg, cap);
  if (!ce) return -1;
  wgg_err e = {{0}};
  if (ce->store->ops->get(ce->store, keys, n, out, &e)) {
    snprintf(msg, cap, "failed to get %s from Configuration store %s: %s", n ? keys[0] : "all keys", ce->comp->name,
             e.msg[0] ? e.msg : "error");
    return -1;
  }
  return 0;
}

/* get: func(key: string) -> result<option<string>, error> */
static wg_trap *cfg_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  cfg_host *h = env;
  char msg[700];
  size_t n = a[0].of.str.len;
  if (memchr(a[0].of.str.ptr, 0, n)) return upstream(r, "the key contains a NUL byte");
  char *key = malloc(n + 1);
  if (!key) return oom();
  memcpy(key, a[0].of.str.ptr, n);
  key[n] = '\0';
  wgg_conf_items items = {0};
  const char *keys[1] = {key};
  int rc = read_items(h, keys, 1, &items, msg, sizeof msg);
  free(key);
  if (rc) return upstream(r, msg);
  wg_cval *opt = NULL;
  for (size_t i = 0; i < items.n && !opt; i++) {
    if (strlen(items.items[i].key) != n || memcmp(items.items[i].key, a[0].of.str.ptr, n)) continue;
    wg_cval *s = wg_cval_array(1);
    if (!s || !wg_cval_string(s, items.items[i].value, strlen(items.items[i].value)) ||
        !(opt = box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, s}}))) {
      if (s) wg_cval_free(s);
      free(s);
      wgg_conf_items_free(&items);
      return oom();
    }
  }
  wgg_conf_items_free(&items);
  if (!opt && !(opt = box((wg_cval){.kind = WG_CVAL_OPTION}))) return oom();
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, opt}};
  return NULL;
}

static int by_key(const void *x, const void *y) {
  return strcmp(((const wgg_conf_item *)x)->key, ((const wgg_conf_item *)y)->key);
}

/* get-all: func() -> result<list<tuple<string, string>>, error>, in key order */
static wg_trap *cfg_get_all(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  cfg_host *h = env;
  char msg[700];
  wgg_conf_items items = {0};
  if (read_items(h, NULL, 0, &items, msg, sizeof msg)) return upstream(r, msg);
  qsort(items.items, items.n, sizeof *items.items, by_key);
  wg_cval *list = box((wg_cval){.kind = WG_CVAL_LIST});
  bool ok = list && (list->of.seq.ptr = wg_cval_array(items.n ? items.n : 1));
  if (ok) list->of.seq.len = items.n;
  for (size_t i = 0; ok && i < items.n; i++) {
    wg_cval *t = &list->of.seq.ptr[i];
    t->kind = WG_CVAL_TUPLE;
    ok = (t->of.seq.ptr = wg_cval_array(2)) != NULL;
    if (ok) t->of.seq.len = 2;
    ok = ok && wg_cval_string(&t->of.seq.ptr[0], items.items[i].key, strlen(items.items[i].key)) &&
         wg_cval_string(&t->of.seq.ptr[1], items.items[i].value, strlen(items.items[i].value));
  }
  wgg_conf_items_free(&items);
  if (!ok) {
    if (list) wg_cval_free(list);
    free(list);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, list}};
  return NULL;
}

static void cfg_free(void *env) {
  cfg_host *h = env;
  free(h->store);
  free(h);
}

bool wgg_p2_config_define(wg_component_linker *l, wgg_api *api, const char *store, wgg_err *err) {
  static const char *const ifaces[] = {"wasi:config/store@0.2.0-rc.1", "wasi:config/store@0.2.0-draft-2024-09-27"};
  cfg_host *h = calloc(1, sizeof *h);
  if (!h || (store && !(h->store = strdup(store)))) {
    free(h);
    return wgg_err_set(err, "out of memory"), false;
  }
  h->api = api;
  wg_error *e = NULL;
  /* typed (WIT wasi:config/store, both versions), checked against the import at
   * instantiation: the functions rely on their arguments' kinds */
  static const char get[] = "func(key: string) -> result<option<string>, error>",
                    get_all[] = "func() -> result<list<tuple<string, string>>, error>",
                    error[] = "variant { upstream(string), io(string) }";
  bool ok = wg_component_linker_define_func_typed(l, ifaces[0], "get", get, cfg_get, h, cfg_free, &e);
  if (!ok) cfg_free(h); /* not attached to the linker */
  ok = ok && wg_component_linker_define_func_typed(l, ifaces[0], "get-all", get_all, cfg_get_all, h, NULL, &e) &&
       wg_component_linker_define_func_typed(l, ifaces[1], "get", get, cfg_get, h, NULL, &e) &&
       wg_component_linker_define_func_typed(l, ifaces[1], "get-all", get_all, cfg_get_all, h, NULL, &e) &&
       wg_component_linker_define_type(l, ifaces[0], "error", error, &e) &&
       wg_component_linker_define_type(l, ifaces[1], "error", error, &e);
  if (!ok) {
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
  }
  return ok;
}
