/*
 * p2_dapr.c: dapr:runtime@0.1.0, our own WIT package of the Dapr building
 * blocks for components (wit/dapr; docs/dapr-wit.md), served by the
 * app's Dapr components. Each function is the component form of one dapr:v1
 * host function of core wasm apps (app_dapr.c) and of the HTTP route it
 * stands for, and runs the same transport-neutral call the routes run
 * (api/calls.h: wgg_state_get_call, wgg_state_write_*, wgg_state_delete_call,
 * wgg_publish_call, wgg_secrets_call, wgg_config_get_call), on the calling
 * thread (loop NULL: the store work runs inline, as p2_cloud.h explains), so
 * scopes, key prefixes, ETag rules and errors are the HTTP API's: a failure
 * is error { code: daprd's errorCode, message, http-status }.
 *
 * invoke is part of the package's `imports` world but not served yet: a
 * component importing it does not link (docs say so).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
#include "components/bindings/binding.h"
#include "components/configuration/configuration.h"
#include "wasmhost/p2_cloud_internal.h"
#include "wasmhost/p2_dapr.h"

#define V "@0.1.0"
#define IFACE "dapr:runtime"

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static wg_trap *bad(const char *name) {
  char m[160];
  snprintf(m, sizeof m, IFACE ": `%s` is imported with the wrong type", name);
  return wg_trap_new(WG_TRAP_HOST, m);
}

/* ---------------------------------------------------------------- values */

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

/* v becomes a seq of kind with n zeroed elements; false on OOM. */
static bool seq(wg_cval *v, wg_cval_kind kind, size_t n) {
  *v = (wg_cval){.kind = kind};
  if (!(v->of.seq.ptr = wg_cval_array(n ? n : 1))) return false;
  v->of.seq.len = n;
  return true;
}

static bool bytes(wg_cval *v, const char *p, size_t n) {
  if (!seq(v, WG_CVAL_LIST, n)) return false;
  for (size_t i = 0; i < n; i++) v->of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_U8, .of.u = (uint8_t)p[i]};
  return true;
}

static bool cstr(wg_cval *v, const char *s) { return wg_cval_string(v, s ? s : "", s ? strlen(s) : 0); }

/* option<string>: none when s is NULL */
static bool opt_str(wg_cval *v, const char *s) {
  *v = (wg_cval){.kind = WG_CVAL_OPTION};
  if (!s) return true;
  wg_cval *p = wg_cval_array(1);
  if (!p || !cstr(p, s)) return free(p), false;
  v->of.var.disc = 1;
  v->of.var.val = p;
  return true;
}

/* A JSON object's string members as list<tuple<string, string>> (others as JSON text). */
static bool pairs(wg_cval *v, json_t *obj) {
  if (!seq(v, WG_CVAL_LIST, json_is_object(obj) ? json_object_size(obj) : 0)) return false;
  size_t i = 0;
  const char *k;
  json_t *x;
  json_object_foreach(obj, k, x) {
    wg_cval *t = &v->of.seq.ptr[i++];
    if (!seq(t, WG_CVAL_TUPLE, 2) || !cstr(&t->of.seq.ptr[0], k)) return false;
    if (json_is_string(x)) {
      if (!wg_cval_string(&t->of.seq.ptr[1], json_string_value(x), json_string_length(x))) return false;
    } else {
      char *s = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
      bool ok = s && cstr(&t->of.seq.ptr[1], s);
      free(s);
      if (!ok) return false;
    }
  }
  return true;
}

/* Frees the partial tree v and answers OOM. */
static wg_trap *drop(wg_cval *v) {
  wg_cval_free(v);
  return oom();
}

/* r = result::ok(payload) (payload boxed from *v, or none when v is NULL) */
static wg_trap *ok(wg_cval *r, wg_cval *v) {
  wg_cval *p = NULL;
  if (v && !(p = box(*v))) return drop(v);
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, p}};
  return NULL;
}

/* r = result::err(error { code, message, http-status }) from st */
static wg_trap *fail(wg_cval *r, const wgg_api_status *st) {
  wg_cval e;
  if (!seq(&e, WG_CVAL_RECORD, 3) || !cstr(&e.of.seq.ptr[0], st->code) || !cstr(&e.of.seq.ptr[1], st->msg))
    return drop(&e);
  e.of.seq.ptr[2] = (wg_cval){.kind = WG_CVAL_U16, .of.u = (uint16_t)st->http};
  wg_cval *p = box(e);
  if (!p) return drop(&e);
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, p}};
  return NULL;
}

/* A string argument as a C string, or NULL with st filled (a NUL byte:
 * 400 ERR_MALFORMED_REQUEST, as a key no HTTP path can carry) or on OOM. */
static char *arg_str(const wg_cval *s, const char *what, wgg_api_status *st) {
  if (memchr(s->of.str.ptr, '\0', s->of.str.len)) {
    wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "the %s contains a NUL byte", what);
    return NULL;
  }
  char *p = malloc(s->of.str.len + 1);
  if (!p) {
    wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INTERNAL", "out of memory");
    return NULL;
  }
  memcpy(p, s->of.str.ptr, s->of.str.len);
  p[s->of.str.len] = '\0';
  return p;
}

/* option<string> argument: *out NULL for none. False with st filled. */
static bool arg_opt(const wg_cval *o, const char *what, char **out, wgg_api_status *st) {
  *out = NULL;
  if (!o->of.var.disc) return true;
  return (*out = arg_str(o->of.var.val, what, st)) != NULL;
}

/* metadata argument as a JSON object of strings (NULL on OOM or a NUL byte). */
static json_t *arg_md(const wg_cval *l) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < l->of.seq.len; i++) {
    const wg_cval *t = l->of.seq.ptr[i].of.seq.ptr;
    char *k = malloc(t[0].of.str.len + 1);
    if (!k || memchr(t[0].of.str.ptr, '\0', t[0].of.str.len)) {
      free(k);
      json_decref(o);
      return NULL;
    }
    memcpy(k, t[0].of.str.ptr, t[0].of.str.len);
    k[t[0].of.str.len] = '\0';
    json_t *s = json_stringn(t[1].of.str.ptr, t[1].of.str.len);
    if (!s || json_object_set_new(o, k, s)) {
      free(k);
      json_decref(o);
      return NULL;
    }
    free(k);
  }
  return o;
}

/* The value of key in a metadata argument, or NULL (copied). */
static char *md_get(const wg_cval *l, const char *key) {
  for (size_t i = 0; i < l->of.seq.len; i++) {
    const wg_cval *t = l->of.seq.ptr[i].of.seq.ptr;
    if (t[0].of.str.len == strlen(key) && !memcmp(t[0].of.str.ptr, key, t[0].of.str.len)) {
      char *v = malloc(t[1].of.str.len + 1);
      if (v) {
        memcpy(v, t[1].of.str.ptr, t[1].of.str.len);
        v[t[1].of.str.len] = '\0';
      }
      return v;
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------- shapes */

/* state-options: record { concurrency: enum(3), consistency: enum(3) } */
static bool is_opts(const wg_cval *v) {
  return v->kind == WG_CVAL_RECORD && v->of.seq.len == 2 && v->of.seq.ptr[0].kind == WG_CVAL_ENUM &&
         v->of.seq.ptr[1].kind == WG_CVAL_ENUM;
}

/* save-item: record { key: string, value: list<u8>, etag: option<string>, options, metadata } */
static bool is_save(const wg_cval *v) {
  const wg_cval *f = v->of.seq.ptr;
  return v->kind == WG_CVAL_RECORD && v->of.seq.len == 5 && p2c_arg_ok(&f[0], 's') && p2c_arg_ok(&f[1], 'l') &&
         p2c_arg_ok(&f[2], 'C') && is_opts(&f[3]) && p2c_arg_ok(&f[4], 'M');
}

/* delete-item: record { key: string, etag: option<string>, options } */
static bool is_del(const wg_cval *v) {
  const wg_cval *f = v->of.seq.ptr;
  return v->kind == WG_CVAL_RECORD && v->of.seq.len == 3 && p2c_arg_ok(&f[0], 's') && p2c_arg_ok(&f[1], 'C') &&
         is_opts(&f[2]);
}

static bool is_list_of(const wg_cval *v, bool (*each)(const wg_cval *)) {
  if (v->kind != WG_CVAL_LIST) return false;
  for (size_t i = 0; i < v->of.seq.len; i++)
    if (!each(&v->of.seq.ptr[i])) return false;
  return true;
}

/* operation: variant { upsert(save-item), delete(delete-item) } */
static bool is_op(const wg_cval *v) {
  return v->kind == WG_CVAL_VARIANT && v->of.var.val &&
         (v->of.var.disc == 0 ? is_save(v->of.var.val) : v->of.var.disc == 1 && is_del(v->of.var.val));
}

/* concurrency enum -> the state API's text */
static const char *concurrency(const wg_cval *opts) {
  switch (opts->of.seq.ptr[0].of.var.disc) {
  case 1: return "first-write";
  case 2: return "last-write";
  default: return NULL;
  }
}

/* ---------------------------------------------------------------- completions */

typedef struct done_res {
  bool done, failed;
  wgg_api_status st;
  wgg_state_got got; /* state get */
  wgg_conf_items items; /* configuration get */
} done_res;

static void keep_status(done_res *d, const wgg_api_status *st) {
  d->done = true;
  if (st) {
    d->failed = true;
    d->st = *st;
  }
}

static void on_done(void *user, const wgg_api_status *st) { keep_status(user, st); }

static void on_got(void *user, const wgg_api_status *st, const wgg_state_got *got) {
  done_res *d = user;
  keep_status(d, st);
  if (st || !got->found) return;
  d->got.found = true;
  d->got.value = malloc(got->value_len + 1);
  d->got.etag = got->etag ? strdup(got->etag) : NULL;
  if (!d->got.value || (got->etag && !d->got.etag)) {
    wgg_api_fail(&d->st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_GET", "out of memory");
    d->failed = true;
    return;
  }
  memcpy(d->got.value, got->value, got->value_len);
  d->got.value_len = got->value_len;
}

static void on_conf(void *user, const wgg_api_status *st, const wgg_conf_items *items) {
  done_res *d = user;
  keep_status(d, st);
  for (size_t i = 0; !st && items && i < items->n; i++)
    if (wgg_conf_items_add(&d->items, items->items[i].key, items->items[i].value, items->items[i].version)) {
      wgg_api_fail(&d->st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "out of memory");
      d->failed = true;
      return;
    }
}

/* After a call that returned 0: the trap when it did not complete inline. */
static wg_trap *unfinished(const done_res *d, const char *name) {
  if (d->done) return NULL;
  char m[160];
  snprintf(m, sizeof m, IFACE ": %s did not complete", name);
  return wg_trap_new(WG_TRAP_HOST, m);
}

/* ---------------------------------------------------------------- state */

/* get: func(store: string, key: string, metadata: metadata) -> result<option<item>, error> */
static wg_trap *state_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad_ = p2c_args(a, na, "ssM", IFACE, "state.get");
  if (bad_) return bad_;
  wgg_api *api = env;
  done_res d = {0};
  char *store = arg_str(&a[0], "store name", &d.st), *key = store ? arg_str(&a[1], "key", &d.st) : NULL;
  wgg_store_entry *se = key ? wgg_state_lookup(api, store, &d.st) : NULL;
  int rc = se && wgg_state_key_check(key, &d.st) ? wgg_state_get_call(api, NULL, se, key, on_got, &d, &d.st) : -1;
  free(store);
  free(key);
  wg_trap *t = rc ? NULL : unfinished(&d, "state.get");
  if (t) return t;
  if (rc || d.failed) {
    wgg_state_got_free(&d.got);
    return fail(r, &d.st);
  }
  wg_cval o = {.kind = WG_CVAL_OPTION};
  if (d.got.found) {
    wg_cval it;
    bool good = seq(&it, WG_CVAL_RECORD, 2) && bytes(&it.of.seq.ptr[0], d.got.value, d.got.value_len) &&
                opt_str(&it.of.seq.ptr[1], d.got.etag && *d.got.etag ? d.got.etag : NULL);
    wg_cval *p = good ? box(it) : NULL;
    wgg_state_got_free(&d.got);
    if (!p) return drop(&it);
    o.of.var.disc = 1;
    o.of.var.val = p;
  }
  return ok(r, &o);
}

/* Sets operation i of w from a save-item or delete-item. 0 or -1 with st. */
static int write_set(wgg_api *api, wgg_state_write *w, size_t i, bool del, const wg_cval *item, wgg_api_status *st) {
  const wg_cval *f = item->of.seq.ptr;
  char *key = arg_str(&f[0], "key", st), *etag = NULL, *value = NULL, *ttl = NULL;
  size_t n = 0;
  int rc = -1;
  if (key && arg_opt(&f[del ? 1 : 2], "etag", &etag, st)) {
    if (!del) {
      value = p2c_bytes_dup(&f[1], &n);
      ttl = md_get(&f[4], "ttlInSeconds");
    }
    if (!del && !value) wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_SAVE", "out of memory");
    else rc = wgg_state_write_set(api, w, i, del, key, value, n, etag, concurrency(&f[del ? 2 : 3]), ttl, st);
  }
  free(key);
  free(etag);
  free(value);
  free(ttl);
  return rc;
}

/* Runs a batch of n items (save-items, or operations when txn). */
static wg_trap *run_write(wgg_api *api, const wg_cval *store_v, const wg_cval *list, bool txn, wg_cval *r) {
  done_res d = {0};
  char *store = arg_str(store_v, "store name", &d.st);
  wgg_store_entry *se = store ? wgg_state_lookup(api, store, &d.st) : NULL;
  free(store);
  if (!se || (txn && !wgg_state_txn_supported(se, &d.st))) return fail(r, &d.st);
  size_t n = list->of.seq.len;
  if (!n) return ok(r, NULL); /* nothing to write: the HTTP API answers 204 */
  wgg_state_write *w = wgg_state_write_new(se, n, txn ? WGG_STATE_WRITE_TXN : WGG_STATE_WRITE_SAVE);
  if (!w) return oom();
  for (size_t i = 0; i < n; i++) {
    const wg_cval *e = &list->of.seq.ptr[i];
    bool del = txn && e->of.var.disc == 1;
    if (write_set(api, w, i, del, txn ? e->of.var.val : e, &d.st)) {
      wgg_state_write_free(w);
      return fail(r, &d.st);
    }
  }
  if (wgg_state_write_submit(w, NULL, on_done, &d, &d.st)) return fail(r, &d.st);
  wg_trap *t = unfinished(&d, txn ? "state.transaction" : "state.save");
  if (t) return t;
  return d.failed ? fail(r, &d.st) : ok(r, NULL);
}

/* save: func(store: string, items: list<save-item>) -> result<_, error> */
static wg_trap *state_save(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  if (na != 2 || !p2c_arg_ok(&a[0], 's') || !is_list_of(&a[1], is_save)) return bad("state.save");
  return run_write(env, &a[0], &a[1], false, r);
}

/* transaction: func(store: string, operations: list<operation>, metadata: metadata) -> result<_, error> */
static wg_trap *state_txn(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  if (na != 3 || !p2c_arg_ok(&a[0], 's') || !is_list_of(&a[1], is_op) || !p2c_arg_ok(&a[2], 'M'))
    return bad("state.transaction");
  return run_write(env, &a[0], &a[1], true, r);
}

/* delete: func(store: string, item: delete-item) -> result<_, error> */
static wg_trap *state_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  if (na != 2 || !p2c_arg_ok(&a[0], 's') || !is_del(&a[1])) return bad("state.delete");
  wgg_api *api = env;
  const wg_cval *f = a[1].of.seq.ptr;
  done_res d = {0};
  char *store = arg_str(&a[0], "store name", &d.st), *key = store ? arg_str(&f[0], "key", &d.st) : NULL, *etag = NULL;
  wgg_store_entry *se = key && arg_opt(&f[1], "etag", &etag, &d.st) ? wgg_state_lookup(api, store, &d.st) : NULL;
  const char *conc = concurrency(&f[2]);
  int rc = se && wgg_state_key_check(key, &d.st)
               ? wgg_state_delete_call(api, NULL, se, key, etag, conc && !strcmp(conc, "first-write"), on_done, &d,
                                       &d.st)
               : -1;
  free(store);
  free(key);
  free(etag);
  wg_trap *t = rc ? NULL : unfinished(&d, "state.delete");
  if (t) return t;
  return rc || d.failed ? fail(r, &d.st) : ok(r, NULL);
}

/* ---------------------------------------------------------------- publish */

/* publish: func(pubsub, topic, data: list<u8>, content-type: option<string>, metadata) -> result<_, error> */
static wg_trap *publish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad_ = p2c_args(a, na, "sslCM", IFACE, "publisher.publish");
  if (bad_) return bad_;
  done_res d = {0};
  size_t n = 0;
  char *ps = arg_str(&a[0], "pubsub name", &d.st), *topic = ps ? arg_str(&a[1], "topic", &d.st) : NULL, *ct = NULL;
  char *data = topic && arg_opt(&a[3], "content type", &ct, &d.st) ? p2c_bytes_dup(&a[2], &n) : NULL;
  json_t *md = data ? arg_md(&a[4]) : NULL;
  int rc = -1;
  if (topic && !d.st.http && !data)
    wgg_api_fail(&d.st, 500, WGG_GRPC_INTERNAL, "ERR_PUBSUB_PUBLISH_MESSAGE", "out of memory");
  if (data && !md)
    wgg_api_fail(&d.st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_REQUEST_METADATA", "invalid metadata");
  if (md) {
    wgg_publish_input in = {.pubsub = ps, .topic = topic, .data = data, .len = n, .content_type = ct, .metadata = md};
    rc = wgg_publish_call(env, NULL, &in, on_done, &d, &d.st);
  }
  free(ps);
  free(topic);
  free(ct);
  free(data);
  json_decref(md);
  wg_trap *t = rc ? NULL : unfinished(&d, "publisher.publish");
  if (t) return t;
  return rc || d.failed ? fail(r, &d.st) : ok(r, NULL);
}

/* ---------------------------------------------------------------- secrets */

/* get: func(store, key, metadata) -> result<metadata, error>;
 * get-bulk: func(store, metadata) -> result<list<tuple<string, metadata>>, error> */
static wg_trap *secrets(wgg_api *api, const wg_cval *a, bool bulk, wg_cval *r) {
  wgg_api_status st = {0};
  char *store = arg_str(&a[0], "store name", &st), *key = store && !bulk ? arg_str(&a[1], "key", &st) : NULL;
  json_t *md = store && (bulk || key) ? arg_md(&a[bulk ? 1 : 2]) : NULL, *out = NULL;
  int rc = md ? wgg_secrets_call(api, store, bulk ? NULL : key, md, &out, &st) : -1;
  if (store && (bulk || key) && !md)
    wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "invalid metadata");
  free(store);
  free(key);
  json_decref(md);
  if (rc) return fail(r, &st);
  wg_cval v;
  bool good;
  if (!bulk) {
    good = pairs(&v, out);
  } else {
    good = seq(&v, WG_CVAL_LIST, json_object_size(out));
    size_t i = 0;
    const char *k;
    json_t *x;
    json_object_foreach(out, k, x) {
      wg_cval *t = &v.of.seq.ptr[i++];
      if (!good || !(good = seq(t, WG_CVAL_TUPLE, 2) && cstr(&t->of.seq.ptr[0], k) && pairs(&t->of.seq.ptr[1], x)))
        break;
    }
  }
  json_decref(out);
  return good ? ok(r, &v) : drop(&v);
}

static wg_trap *secrets_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad_ = p2c_args(a, na, "ssM", IFACE, "secrets.get");
  if (bad_) return bad_;
  return secrets(env, a, false, r);
}

static wg_trap *secrets_bulk(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad_ = p2c_args(a, na, "sM", IFACE, "secrets.get-bulk");
  if (bad_) return bad_;
  return secrets(env, a, true, r);
}

/* ---------------------------------------------------------------- configuration */

/* get: func(store, keys: list<string>, metadata) -> result<list<config-item>, error> */
static wg_trap *config_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad_ = p2c_args(a, na, "sSM", IFACE, "configuration.get");
  if (bad_) return bad_;
  wgg_api *api = env;
  done_res d = {0};
  size_t n = a[1].of.seq.len, k = 0;
  char *store = arg_str(&a[0], "store name", &d.st), **keys = calloc(n ? n : 1, sizeof *keys);
  if (store && !keys) wgg_api_fail(&d.st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "out of memory");
  while (store && keys && k < n && (keys[k] = arg_str(&a[1].of.seq.ptr[k], "key", &d.st))) k++;
  struct wgg_config_entry *ce = store && keys && k == n ? wgg_config_lookup(api, store, &d.st) : NULL;
  int rc = ce ? wgg_config_get_call(api, NULL, ce, (const char *const *)keys, n, on_conf, &d, &d.st) : -1;
  free(store);
  for (size_t i = 0; i < k; i++) free(keys[i]);
  free(keys);
  wg_trap *t = rc ? NULL : unfinished(&d, "configuration.get");
  if (t) {
    wgg_conf_items_free(&d.items);
    return t;
  }
  if (rc || d.failed) {
    wgg_conf_items_free(&d.items);
    return fail(r, &d.st);
  }
  wg_cval v;
  bool good = seq(&v, WG_CVAL_LIST, d.items.n);
  for (size_t i = 0; good && i < d.items.n; i++) {
    wg_cval *it = &v.of.seq.ptr[i];
    good = seq(it, WG_CVAL_RECORD, 3) && cstr(&it->of.seq.ptr[0], d.items.items[i].key) &&
           cstr(&it->of.seq.ptr[1], d.items.items[i].value) && cstr(&it->of.seq.ptr[2], d.items.items[i].version);
  }
  wgg_conf_items_free(&d.items);
  return good ? ok(r, &v) : drop(&v);
}

/* ---------------------------------------------------------------- output bindings */

typedef struct bind_res {
  bool done, failed;
  wgg_api_status st;
  wg_cval v; /* binding-response { data, metadata } */
  bool built;
} bind_res;

static void on_bound(void *user, const wgg_api_status *st, const wgg_binding_result *res) {
  bind_res *b = user;
  b->done = true;
  if (st) {
    b->failed = true;
    b->st = *st;
    return;
  }
  b->built = seq(&b->v, WG_CVAL_RECORD, 2) && bytes(&b->v.of.seq.ptr[0], res ? res->data : "", res ? res->len : 0) &&
             pairs(&b->v.of.seq.ptr[1], res ? res->metadata : NULL);
}

/* invoke-binding: func(name, operation, data: list<u8>, metadata) -> result<binding-response, error> */
static wg_trap *invoke_binding(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad_ = p2c_args(a, na, "sslM", IFACE, "output-bindings.invoke-binding");
  if (bad_) return bad_;
  bind_res b = {0};
  size_t n = 0;
  char *name = arg_str(&a[0], "binding name", &b.st), *op = name ? arg_str(&a[1], "operation", &b.st) : NULL;
  char *data = op ? p2c_bytes_dup(&a[2], &n) : NULL;
  json_t *md = data ? arg_md(&a[3]) : NULL;
  if (op && !data) wgg_api_fail(&b.st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING", "out of memory");
  if (data && !md)
    wgg_api_fail(&b.st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "invalid metadata");
  int rc = md ? wgg_binding_call(env, NULL, name, op, data, n, md, on_bound, &b, NULL, &b.st) : -1; /* md moves in */
  free(name);
  free(op);
  free(data);
  if (!rc && !b.done) return wg_trap_new(WG_TRAP_HOST, IFACE ": output-bindings.invoke-binding did not complete");
  if (rc || b.failed) return fail(r, &b.st);
  return b.built ? ok(r, &b.v) : drop(&b.v);
}

/* ---------------------------------------------------------------- definitions */

static const struct {
  const char *iface, *name;
  wg_component_host_fn fn;
} fns[] = {
    {"state", "get", state_get},
    {"state", "save", state_save},
    {"state", "delete", state_delete},
    {"state", "transaction", state_txn},
    {"publisher", "publish", publish},
    {"secrets", "get", secrets_get},
    {"secrets", "get-bulk", secrets_bulk},
    {"configuration", "get", config_get},
    {"output-bindings", "invoke-binding", invoke_binding},
};

bool wgg_p2_dapr_define(wg_component_linker *l, wgg_api *api, wgg_err *err) {
  wg_error *e = NULL;
  bool good = true;
  char iface[96];
  for (size_t i = 0; good && i < sizeof fns / sizeof *fns; i++) {
    snprintf(iface, sizeof iface, IFACE "/%s" V, fns[i].iface);
    good = wg_component_linker_define_func(l, iface, fns[i].name, fns[i].fn, api, NULL, &e);
  }
  if (!good) {
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
  }
  return good;
}
