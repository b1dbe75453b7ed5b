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
 * does, get-all every key (GetConfiguration without keys), both through
 * wgg_config_get_call: parked on the store's answer where the guest can
 * park (p2_cloud_internal.h). A store failure is `upstream(message)`, in
 * the API's words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
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

/* One get or get-all in flight: the configuration store's answer, waited for by p2c_wait
 * (parked where the guest can park). */
typedef struct cfg_op {
  p2c_wait w; /* first */
  char *key;  /* get's key; NULL: get-all */
  size_t klen;
  bool failed;
  char msg[1024];
  wgg_conf_items items;
} cfg_op;

static void cfg_op_free(p2c_wait *w) {
  cfg_op *o = (cfg_op *)w;
  free(o->key);
  wgg_conf_items_free(&o->items);
  free(o);
}

static void cfg_done(void *user, const wgg_api_status *st, const wgg_conf_items *items) {
  cfg_op *o = user;
  if (st) {
    o->failed = true;
    snprintf(o->msg, sizeof o->msg, "%s", st->msg);
  }
  for (size_t i = 0; !st && items && i < items->n; i++)
    if (wgg_conf_items_add(&o->items, items->items[i].key, items->items[i].value, items->items[i].version)) {
      o->failed = true;
      snprintf(o->msg, sizeof o->msg, "out of memory");
      break;
    }
  p2c_wait_answer(&o->w);
}

static int by_key(const void *x, const void *y) {
  return strcmp(((const wgg_conf_item *)x)->key, ((const wgg_conf_item *)y)->key);
}

/* get's result: option<string> of the key's value */
static wg_trap *get_result(cfg_op *o, wg_cval *r) {
  wg_cval *opt = NULL;
  for (size_t i = 0; i < o->items.n && !opt; i++) {
    if (strlen(o->items.items[i].key) != o->klen || memcmp(o->items.items[i].key, o->key, o->klen)) continue;
    wg_cval *s = wg_cval_array(1);
    if (!s || !wg_cval_string(s, o->items.items[i].value, strlen(o->items.items[i].value)) ||
        !(opt = box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, s}}))) {
      if (s) wg_cval_free(s);
      free(s);
      return oom();
    }
  }
  if (!opt && !(opt = box((wg_cval){.kind = WG_CVAL_OPTION}))) return oom();
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, opt}};
  return NULL;
}

/* get-all's result: list<tuple<string, string>> in key order */
static wg_trap *all_result(cfg_op *o, wg_cval *r) {
  wgg_conf_items *items = &o->items;
  qsort(items->items, items->n, sizeof *items->items, by_key);
  wg_cval *list = box((wg_cval){.kind = WG_CVAL_LIST});
  bool ok = list && (list->of.seq.ptr = wg_cval_array(items->n ? items->n : 1));
  if (ok) list->of.seq.len = items->n;
  for (size_t i = 0; ok && i < items->n; i++) {
    wg_cval *t = &list->of.seq.ptr[i];
    t->kind = WG_CVAL_TUPLE;
    ok = (t->of.seq.ptr = wg_cval_array(2)) != NULL;
    if (ok) t->of.seq.len = 2;
    ok = ok && wg_cval_string(&t->of.seq.ptr[0], items->items[i].key, strlen(items->items[i].key)) &&
         wg_cval_string(&t->of.seq.ptr[1], items->items[i].value, strlen(items->items[i].value));
  }
  if (!ok) {
    if (list) wg_cval_free(list);
    free(list);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, list}};
  return NULL;
}

static wg_trap *cfg_result(p2c_wait *w, wg_cval *r) {
  cfg_op *o = (cfg_op *)w;
  if (o->failed) return upstream(r, o->msg);
  return o->key ? get_result(o, r) : all_result(o, r);
}

/* Reads key (NULL: every key) through wgg_config_get_call, as GET /v1.0/configuration/{store}
 * does (errors in its words: "failed to get [k] from Configuration store S: ..."). */
static wg_trap *cfg_read(cfg_host *h, const wg_cval *keyv, wg_cval *r) {
  char msg[300];
  wgg_config_entry *ce = store_of(h, msg, sizeof msg);
  if (!ce) return upstream(r, msg);
  cfg_op *o = calloc(1, sizeof *o);
  if (!o) return oom();
  p2c_wait_init(&o->w, cfg_result, cfg_op_free);
  if (keyv) {
    o->klen = keyv->of.str.len;
    if (!(o->key = malloc(o->klen + 1))) {
      free(o);
      return oom();
    }
    memcpy(o->key, keyv->of.str.ptr, o->klen);
    o->key[o->klen] = '\0';
  }
  const char *keys[1] = {o->key};
  wgg_api_status st;
  if (wgg_config_get_call(h->api, o->w.loop, ce, keys, o->key ? 1 : 0, cfg_done, o, &st)) {
    cfg_op_free(&o->w);
    return upstream(r, st.msg);
  }
  return p2c_wait_end(&o->w, r);
}

/* get: func(key: string) -> result<option<string>, error> */
static wg_trap *cfg_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  if (memchr(a[0].of.str.ptr, 0, a[0].of.str.len)) return upstream(r, "the key contains a NUL byte");
  return cfg_read(env, &a[0], r);
}

/* get-all: func() -> result<list<tuple<string, string>>, error>, in key order */
static wg_trap *cfg_get_all(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  return cfg_read(env, NULL, r);
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
