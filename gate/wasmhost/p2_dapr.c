/*
 * p2_dapr.c: dapr:runtime@0.1.0, our own WIT package of the Dapr building
 * blocks for components (wit/dapr; docs/dapr-wit.md), served by the
 * app's Dapr components. Each function is the component form of one dapr:v1
 * host function of core wasm apps (app_dapr.c) and of the HTTP route it
 * stands for, and runs the same transport-neutral call the routes run
 * (api/calls.h: wgg_state_get_call, wgg_state_write_*, wgg_state_delete_call,
 * wgg_publish_call, wgg_secrets_call, wgg_config_get_call), on the calling
 * thread's loop, so scopes, key prefixes, ETag rules and errors are the HTTP API's: a failure
 * is error { code: daprd's errorCode, message, http-status }.
 *
 * Each call parks the guest on the component's answer where it can park
 * (a hosted component app's request on a loop; p2_cloud_internal.h), and
 * runs inline elsewhere; secrets are synchronous (api/calls.h). Every
 * function is defined with its WIT type (wit/dapr), so a component whose
 * import has another type is refused at instantiation.
 *
 * invoke runs wgg_invoke_call, which needs the event loop: under `wasm run`
 * it answers 500 ERR_DIRECT_INVOKE.
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

/* concurrency enum -> the state API's text */
static const char *concurrency(const wg_cval *opts) {
  switch (opts->of.seq.ptr[0].of.var.disc) {
  case 1: return "first-write";
  case 2: return "last-write";
  default: return NULL;
  }
}

/* ---------------------------------------------------------------- completions */

/* One call in flight: its inputs (owned until the answer), its answer, waited for by p2c_wait
 * (parked where the guest can park; p2_cloud_internal.h). */
typedef struct dapr_op {
  p2c_wait w; /* first */
  enum { D_DONE, D_GET, D_CONF, D_BIND, D_INVOKE } what; /* the result's shape: result<_, error>, or get's, ... */
  bool failed;
  wgg_api_status st;
  wgg_state_got got;    /* state get */
  wgg_conf_items items; /* configuration get */
  wg_cval v;            /* output binding: binding-response { data, metadata }; invoke: response */
  bool built;
  char *s[3];           /* string inputs */
  char *data;
  char **keys;
  size_t nkeys;
  json_t *md;
  wgg_http_header *hdrs; /* invoke's headers (strings owned) */
  size_t nhdrs;
} dapr_op;

static void op_free(p2c_wait *w) {
  dapr_op *o = (dapr_op *)w;
  wgg_state_got_free(&o->got);
  wgg_conf_items_free(&o->items);
  if (o->built || o->v.kind) wg_cval_free(&o->v);
  for (int i = 0; i < 3; i++) free(o->s[i]);
  free(o->data);
  for (size_t i = 0; i < o->nkeys; i++) free(o->keys[i]);
  free(o->keys);
  json_decref(o->md);
  for (size_t i = 0; i < o->nhdrs; i++) {
    free((char *)o->hdrs[i].name);
    free((char *)o->hdrs[i].value);
  }
  free(o->hdrs);
  free(o);
}

static wg_trap *op_result(p2c_wait *w, wg_cval *r);

/* A new operation whose answer has the shape `what`; NULL on OOM. */
static dapr_op *op_new(int what) {
  dapr_op *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  p2c_wait_init(&o->w, op_result, op_free);
  o->what = what;
  return o;
}

/* The host function's return after its call: rc -1 (refused before starting: o->st) answers at once. */
static wg_trap *op_end(dapr_op *o, int rc, wg_cval *r) {
  if (rc) {
    o->failed = true;
    p2c_wait_answer(&o->w);
  }
  return p2c_wait_end(&o->w, r);
}

static void keep_status(dapr_op *o, const wgg_api_status *st) {
  if (st) {
    o->failed = true;
    o->st = *st;
  }
}

static void on_done(void *user, const wgg_api_status *st) {
  keep_status(user, st);
  p2c_wait_answer(user);
}

static void on_got(void *user, const wgg_api_status *st, const wgg_state_got *got) {
  dapr_op *o = user;
  keep_status(o, st);
  if (!st && got->found) {
    o->got.found = true;
    o->got.value = malloc(got->value_len + 1);
    o->got.etag = got->etag ? strdup(got->etag) : NULL;
    if (!o->got.value || (got->etag && !o->got.etag)) {
      wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_GET", "out of memory");
      o->failed = true;
    } else {
      memcpy(o->got.value, got->value, got->value_len);
      o->got.value_len = got->value_len;
    }
  }
  p2c_wait_answer(&o->w);
}

static void on_conf(void *user, const wgg_api_status *st, const wgg_conf_items *items) {
  dapr_op *o = user;
  keep_status(o, st);
  for (size_t i = 0; !st && items && i < items->n; i++)
    if (wgg_conf_items_add(&o->items, items->items[i].key, items->items[i].value, items->items[i].version)) {
      wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "out of memory");
      o->failed = true;
      break;
    }
  p2c_wait_answer(&o->w);
}

static void on_bound(void *user, const wgg_api_status *st, const wgg_binding_result *res) {
  dapr_op *o = user;
  keep_status(o, st);
  if (!st)
    o->built = seq(&o->v, WG_CVAL_RECORD, 2) && bytes(&o->v.of.seq.ptr[0], res ? res->data : "", res ? res->len : 0) &&
               pairs(&o->v.of.seq.ptr[1], res ? res->metadata : NULL);
  p2c_wait_answer(&o->w);
}

/* option<item>, item = record { value: list<u8>, etag: option<string> } */
static wg_trap *get_result(dapr_op *o, wg_cval *r) {
  wg_cval opt = {.kind = WG_CVAL_OPTION};
  if (o->got.found) {
    wg_cval it;
    bool good = seq(&it, WG_CVAL_RECORD, 2) && bytes(&it.of.seq.ptr[0], o->got.value, o->got.value_len) &&
                opt_str(&it.of.seq.ptr[1], o->got.etag && *o->got.etag ? o->got.etag : NULL);
    wg_cval *p = good ? box(it) : NULL;
    if (!p) return drop(&it);
    opt.of.var.disc = 1;
    opt.of.var.val = p;
  }
  return ok(r, &opt);
}

/* list<config-item>, config-item = record { key, value, version } */
static wg_trap *conf_result(dapr_op *o, wg_cval *r) {
  wg_cval v;
  bool good = seq(&v, WG_CVAL_LIST, o->items.n);
  for (size_t i = 0; good && i < o->items.n; i++) {
    wg_cval *it = &v.of.seq.ptr[i];
    good = seq(it, WG_CVAL_RECORD, 3) && cstr(&it->of.seq.ptr[0], o->items.items[i].key) &&
           cstr(&it->of.seq.ptr[1], o->items.items[i].value) && cstr(&it->of.seq.ptr[2], o->items.items[i].version);
  }
  return good ? ok(r, &v) : drop(&v);
}

static wg_trap *op_result(p2c_wait *w, wg_cval *r) {
  dapr_op *o = (dapr_op *)w;
  if (o->failed) return fail(r, &o->st);
  switch (o->what) {
  case D_GET: return get_result(o, r);
  case D_CONF: return conf_result(o, r);
  case D_BIND:
  case D_INVOKE:
    if (!o->built) return oom();
    o->built = false; /* moves into the result */
    wg_cval v = o->v;
    o->v = (wg_cval){0};
    return ok(r, &v);
  default: return ok(r, NULL);
  }
}

/* ---------------------------------------------------------------- state */

/* get: func(store: string, key: string, metadata: metadata) -> result<option<item>, error> */
static wg_trap *state_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wgg_api *api = env;
  dapr_op *o = op_new(D_GET);
  if (!o) return oom();
  char *store = o->s[0] = arg_str(&a[0], "store name", &o->st), *key = o->s[1] = store ? arg_str(&a[1], "key", &o->st) : NULL;
  wgg_store_entry *se = key ? wgg_state_lookup(api, store, &o->st) : NULL;
  int rc = se && wgg_state_key_check(key, &o->st) ? wgg_state_get_call(api, o->w.loop, se, key, on_got, o, &o->st) : -1;
  return op_end(o, rc, r);
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
  dapr_op *o = op_new(D_DONE);
  if (!o) return oom();
  char *store = o->s[0] = arg_str(store_v, "store name", &o->st);
  wgg_store_entry *se = store ? wgg_state_lookup(api, store, &o->st) : NULL;
  if (!se || (txn && !wgg_state_txn_supported(se, &o->st))) return op_end(o, -1, r);
  size_t n = list->of.seq.len;
  if (!n) return op_end(o, (p2c_wait_answer(&o->w), 0), r); /* nothing to write: the HTTP API answers 204 */
  wgg_state_write *w = wgg_state_write_new(se, n, txn ? WGG_STATE_WRITE_TXN : WGG_STATE_WRITE_SAVE);
  if (!w) {
    op_free(&o->w);
    return oom();
  }
  for (size_t i = 0; i < n; i++) {
    const wg_cval *e = &list->of.seq.ptr[i];
    bool del = txn && e->of.var.disc == 1;
    if (write_set(api, w, i, del, txn ? e->of.var.val : e, &o->st)) {
      wgg_state_write_free(w);
      return op_end(o, -1, r);
    }
  }
  return op_end(o, wgg_state_write_submit(w, o->w.loop, on_done, o, &o->st), r);
}

/* save: func(store: string, items: list<save-item>) -> result<_, error> */
static wg_trap *state_save(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return run_write(env, &a[0], &a[1], false, r);
}

/* transaction: func(store: string, operations: list<operation>, metadata: metadata) -> result<_, error> */
static wg_trap *state_txn(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return run_write(env, &a[0], &a[1], true, r);
}

/* delete: func(store: string, item: delete-item) -> result<_, error> */
static wg_trap *state_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wgg_api *api = env;
  const wg_cval *f = a[1].of.seq.ptr;
  dapr_op *o = op_new(D_DONE);
  if (!o) return oom();
  char *store = o->s[0] = arg_str(&a[0], "store name", &o->st), *etag = NULL;
  char *key = o->s[1] = store ? arg_str(&f[0], "key", &o->st) : NULL;
  wgg_store_entry *se = key && arg_opt(&f[1], "etag", &etag, &o->st) ? wgg_state_lookup(api, store, &o->st) : NULL;
  o->s[2] = etag;
  const char *conc = concurrency(&f[2]);
  int rc = se && wgg_state_key_check(key, &o->st)
               ? wgg_state_delete_call(api, o->w.loop, se, key, etag, conc && !strcmp(conc, "first-write"), on_done,
                                       o, &o->st)
               : -1;
  return op_end(o, rc, r);
}

/* ---------------------------------------------------------------- publish */

/* publish: func(pubsub, topic, data: list<u8>, content-type: option<string>, metadata) -> result<_, error> */
static wg_trap *publish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  dapr_op *o = op_new(D_DONE);
  if (!o) return oom();
  size_t n = 0;
  char *ps = o->s[0] = arg_str(&a[0], "pubsub name", &o->st);
  char *topic = o->s[1] = ps ? arg_str(&a[1], "topic", &o->st) : NULL, *ct = NULL;
  char *data = o->data = topic && arg_opt(&a[3], "content type", &ct, &o->st) ? p2c_bytes_dup(&a[2], &n) : NULL;
  o->s[2] = ct;
  json_t *md = o->md = data ? arg_md(&a[4]) : NULL;
  int rc = -1;
  if (topic && !o->st.http && !data)
    wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_PUBSUB_PUBLISH_MESSAGE", "out of memory");
  if (data && !md)
    wgg_api_fail(&o->st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_REQUEST_METADATA", "invalid metadata");
  if (md) {
    wgg_publish_input in = {.pubsub = ps, .topic = topic, .data = data, .len = n, .content_type = ct, .metadata = md};
    rc = wgg_publish_call(env, o->w.loop, &in, on_done, o, &o->st);
  }
  return op_end(o, rc, r);
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
  (void)na;
  return secrets(env, a, false, r);
}

static wg_trap *secrets_bulk(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  (void)na;
  return secrets(env, a, true, r);
}

/* ---------------------------------------------------------------- configuration */

/* get: func(store, keys: list<string>, metadata) -> result<list<config-item>, error> */
static wg_trap *config_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wgg_api *api = env;
  dapr_op *o = op_new(D_CONF);
  if (!o) return oom();
  size_t n = a[1].of.seq.len;
  char *store = o->s[0] = arg_str(&a[0], "store name", &o->st);
  char **keys = o->keys = store ? calloc(n ? n : 1, sizeof *keys) : NULL;
  if (store && !keys) wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "out of memory");
  while (keys && o->nkeys < n && (keys[o->nkeys] = arg_str(&a[1].of.seq.ptr[o->nkeys], "key", &o->st))) o->nkeys++;
  struct wgg_config_entry *ce = keys && o->nkeys == n ? wgg_config_lookup(api, store, &o->st) : NULL;
  int rc = ce ? wgg_config_get_call(api, o->w.loop, ce, (const char *const *)keys, n, on_conf, o, &o->st) : -1;
  return op_end(o, rc, r);
}

/* ---------------------------------------------------------------- output bindings */

/* invoke-binding: func(name, operation, data: list<u8>, metadata) -> result<binding-response, error> */
static wg_trap *invoke_binding(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  dapr_op *o = op_new(D_BIND);
  if (!o) return oom();
  size_t n = 0;
  char *name = o->s[0] = arg_str(&a[0], "binding name", &o->st);
  char *op = o->s[1] = name ? arg_str(&a[1], "operation", &o->st) : NULL;
  char *data = o->data = op ? p2c_bytes_dup(&a[2], &n) : NULL;
  json_t *md = data ? arg_md(&a[3]) : NULL;
  if (op && !data) wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING", "out of memory");
  if (data && !md)
    wgg_api_fail(&o->st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "invalid metadata");
  int rc = md ? wgg_binding_call(env, o->w.loop, name, op, data, n, md, on_bound, o, NULL, &o->st) : -1; /* md moves in */
  return op_end(o, rc, r);
}

/* ---------------------------------------------------------------- service invocation */

static void on_invoked(void *user, const wgg_api_status *st, const wgg_invoke_result *res) {
  dapr_op *o = user;
  keep_status(o, st);
  if (!st && res) { /* response { status, headers, body } */
    bool good = seq(&o->v, WG_CVAL_RECORD, 3) && seq(&o->v.of.seq.ptr[1], WG_CVAL_LIST, res->n) &&
                bytes(&o->v.of.seq.ptr[2], res->body ? res->body : "", res->len);
    if (good) o->v.of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_U16, .of.u = (uint16_t)res->status};
    for (size_t i = 0; good && i < res->n; i++) {
      wg_cval *t = &o->v.of.seq.ptr[1].of.seq.ptr[i];
      good = seq(t, WG_CVAL_TUPLE, 2) && cstr(&t->of.seq.ptr[0], res->headers[i].name) &&
             cstr(&t->of.seq.ptr[1], res->headers[i].value);
    }
    o->built = good;
  }
  p2c_wait_answer(&o->w);
}

/* invoke: func(app-id, verb, method, headers: metadata, body: list<u8>) -> result<response, error>: as
 * POST|GET|... /v1.0/invoke/{app-id}/method/{method} (name resolution, ACLs, Resiliency, tracing;
 * another wasm app of the process in-process). Needs the event loop: where the guest cannot park
 * (a command component) it answers 500 ERR_DIRECT_INVOKE. */
static wg_trap *invoke(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  dapr_op *o = op_new(D_INVOKE);
  if (!o) return oom();
  size_t n = 0;
  char *app = o->s[0] = arg_str(&a[0], "app id", &o->st), *verb = o->s[1] = app ? arg_str(&a[1], "verb", &o->st) : NULL;
  char *method = o->s[2] = verb ? arg_str(&a[2], "method", &o->st) : NULL;
  char *body = o->data = method ? p2c_bytes_dup(&a[4], &n) : NULL;
  const wg_cval *h = &a[3];
  bool good = body && (o->hdrs = calloc(h->of.seq.len + 1, sizeof *o->hdrs));
  for (size_t i = 0; good && i < h->of.seq.len; i++, o->nhdrs++) {
    const wg_cval *t = h->of.seq.ptr[i].of.seq.ptr;
    good = (o->hdrs[i].name = arg_str(&t[0], "header name", &o->st)) &&
           (o->hdrs[i].value = arg_str(&t[1], "header value", &o->st));
  } /* nhdrs counts entry i too when it failed: its name may have been made */
  if (method && !good && !o->st.http)
    wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_DIRECT_INVOKE", "failed to invoke, id: %s, err: out of memory", app);
  if (good && !o->w.loop) {
    wgg_api_fail(&o->st, 500, WGG_GRPC_INTERNAL, "ERR_DIRECT_INVOKE",
                 "failed to invoke, id: %s, err: service invocation needs a hosted component app's event loop", app);
    good = false;
  }
  int rc = -1;
  if (good) {
    wgg_invoke_input in = {.app_id = app, .verb = verb, .method = method, .method_len = strlen(method),
                           .headers = o->hdrs, .n = o->nhdrs, .data = body, .len = n, .peer = "127.0.0.1"};
    rc = wgg_invoke_call(env, o->w.loop, &in, on_invoked, o, &o->st);
  }
  return op_end(o, rc, r);
}

/* ---------------------------------------------------------------- definitions */

#define T IFACE "/types" V "#"

/* The named types of the package (wit/dapr), per interface as its WIT names them. */
static const struct {
  const char *iface, *name, *type;
} types[] = {
    {"types", "error", "record { code: string, message: string, http-status: u16 }"},
    {"types", "metadata", "list<tuple<string, string>>"},
    {"types", "concurrency", "enum { unspecified, first-write, last-write }"},
    {"types", "consistency", "enum { unspecified, eventual, strong }"},
    {"types", "state-options", "record { concurrency: concurrency, consistency: consistency }"},
    {"state", "item", "record { value: list<u8>, etag: option<string> }"},
    {"state", "save-item",
     "record { key: string, value: list<u8>, etag: option<string>, options: " T "state-options, metadata: " T
     "metadata }"},
    {"state", "delete-item", "record { key: string, etag: option<string>, options: " T "state-options }"},
    {"state", "operation", "variant { upsert(save-item), delete(delete-item) }"},
    {"configuration", "config-item", "record { key: string, value: string, version: string }"},
    {"output-bindings", "binding-response", "record { data: list<u8>, metadata: " T "metadata }"},
    {"invoke", "response", "record { status: u16, headers: " T "metadata, body: list<u8> }"},
};

/* Each function with its WIT type, checked against the component's import at instantiation
 * (a retyped import is refused there): the functions rely on their arguments' kinds. */
static const struct {
  const char *iface, *name;
  wg_component_host_fn fn;
  const char *type;
} fns[] = {
    {"state", "get", state_get,
     "func(store: string, key: string, metadata: " T "metadata) -> result<option<item>, " T "error>"},
    {"state", "save", state_save, "func(store: string, items: list<save-item>) -> result<_, " T "error>"},
    {"state", "delete", state_delete, "func(store: string, item: delete-item) -> result<_, " T "error>"},
    {"state", "transaction", state_txn,
     "func(store: string, operations: list<operation>, metadata: " T "metadata) -> result<_, " T "error>"},
    {"publisher", "publish", publish,
     "func(pubsub: string, topic: string, data: list<u8>, content-type: option<string>, metadata: " T
     "metadata) -> result<_, " T "error>"},
    {"secrets", "get", secrets_get,
     "func(store: string, key: string, metadata: " T "metadata) -> result<" T "metadata, " T "error>"},
    {"secrets", "get-bulk", secrets_bulk,
     "func(store: string, metadata: " T "metadata) -> result<list<tuple<string, " T "metadata>>, " T "error>"},
    {"configuration", "get", config_get,
     "func(store: string, keys: list<string>, metadata: " T "metadata) -> result<list<config-item>, " T "error>"},
    {"output-bindings", "invoke-binding", invoke_binding,
     "func(name: string, operation: string, data: list<u8>, metadata: " T "metadata) -> result<binding-response, " T
     "error>"},
    {"invoke", "invoke", invoke,
     "func(app-id: string, verb: string, method: string, headers: " T "metadata, body: list<u8>) -> result<response, " T
     "error>"},
};

bool wgg_p2_dapr_define(wg_component_linker *l, wgg_api *api, wgg_err *err) {
  wg_error *e = NULL;
  bool good = true;
  char iface[96];
  for (size_t i = 0; good && i < sizeof types / sizeof *types; i++) {
    snprintf(iface, sizeof iface, IFACE "/%s" V, types[i].iface);
    good = wg_component_linker_define_type(l, iface, types[i].name, types[i].type, &e);
  }
  for (size_t i = 0; good && i < sizeof fns / sizeof *fns; i++) {
    snprintf(iface, sizeof iface, IFACE "/%s" V, fns[i].iface);
    good = wg_component_linker_define_func_typed(l, iface, fns[i].name, fns[i].type, fns[i].fn, api, NULL, &e);
  }
  if (!good) {
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
  }
  return good;
}
