/*
 * p2_keyvalue_batch.c: wasi:keyvalue's batch interface (get-many, set-many,
 * delete-many) and bucket.list-keys, on Dapr state stores, as kv_ops of
 * p2_keyvalue.c (p2_keyvalue_internal.h): they park the guest on the
 * store's answers where it can park.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmhost/p2_keyvalue_internal.h"

#define KV_PAGE 1000 /* keys per list-keys answer */

#define BUCKET(v, a, se)                                                        \
  wgg_store_entry *se = kv_bucket_of(v, &(a));                                  \
  if (!se) return wg_trap_new(WG_TRAP_HOST, "wasi:keyvalue: unknown bucket handle")

/* ---------------------------------------------------------------- batch */

/* get-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<list<option<tuple<string, list<u8>>>>, error>:
 * one read per key, in order; the first failure is the answer. */
wg_trap *kv_get_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  size_t n = a[1].of.seq.len;
  if (!n) {
    wg_cval *list = kv_box((wg_cval){.kind = WG_CVAL_LIST});
    return list ? kv_ok(r, list) : kv_oom();
  }
  kv_op *o = kv_op_new(v, se, OP_MANY);
  if (!o || !(o->ukeys = calloc(n, sizeof *o->ukeys)) || !(o->pkeys = calloc(n, sizeof *o->pkeys)) ||
      !(o->gots = calloc(n, sizeof *o->gots))) {
    if (o) kv_op_free(o);
    return kv_oom();
  }
  o->n = n;
  char m[300];
  for (size_t i = 0; i < n; i++) {
    const wg_cval *k = &a[1].of.seq.ptr[i];
    if (!(o->pkeys[i] = kv_arg_key(v->h, k, m, sizeof m))) {
      kv_op_free(o);
      return kv_err(r, E_OTHER, m);
    }
    char *u = malloc(k->of.str.len + 1);
    if (!u) {
      kv_op_free(o);
      return kv_oom();
    }
    memcpy(u, k->of.str.ptr, k->of.str.len);
    u[k->of.str.len] = '\0';
    o->ukeys[i] = u;
  }
  return kv_op_run(o, r);
}

wg_trap *kv_many_result(kv_op *o, wg_cval *r) {
  wg_cval *list = kv_box((wg_cval){.kind = WG_CVAL_LIST});
  if (!list || !(list->of.seq.ptr = wg_cval_array(o->n))) {
    free(list);
    return kv_oom();
  }
  list->of.seq.len = o->n;
  bool ok = true;
  for (size_t i = 0; i < o->n; i++) {
    list->of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_OPTION};
    if (!ok || !o->gots[i].found) continue;
    wg_cval *tup = kv_box((wg_cval){.kind = WG_CVAL_TUPLE});
    wg_cval *b = kv_bytes(o->gots[i].value, o->gots[i].value_len);
    if (!tup || !b || !(tup->of.seq.ptr = wg_cval_array(2)) ||
        !wg_cval_string(&tup->of.seq.ptr[0], o->ukeys[i], strlen(o->ukeys[i]))) {
      if (tup) wg_cval_free(tup);
      free(tup);
      if (b) wg_cval_free(b);
      free(b);
      ok = false;
      continue;
    }
    tup->of.seq.len = 2;
    tup->of.seq.ptr[1] = *b;
    free(b);
    list->of.seq.ptr[i].of.var.disc = 1;
    list->of.seq.ptr[i].of.var.val = tup;
  }
  if (!ok) {
    wg_cval_free(list);
    free(list);
    return kv_oom();
  }
  return kv_ok(r, list);
}

/* set-many (tuples of key and value) and delete-many (keys): one apply, so
 * all take effect or none does (every store applies a batch atomically). */
static wg_trap *kv_write_many(kv_ver *v, const wg_cval *a, wg_cval *r, bool del) {
  BUCKET(v, a[0], se);
  size_t n = a[1].of.seq.len;
  if (!n) return kv_ok(r, NULL);
  kv_op *o = kv_op_new(v, se, OP_WRITE);
  if (!o || !(o->ops = calloc(n, sizeof *o->ops))) {
    if (o) kv_op_free(o);
    return kv_oom();
  }
  char m[300];
  for (; o->nops < n; o->nops++) {
    const wg_cval *it = &a[1].of.seq.ptr[o->nops];
    char *key = kv_arg_key(v->h, del ? it : &it->of.seq.ptr[0], m, sizeof m);
    if (!key) {
      kv_op_free(o);
      return kv_err(r, E_OTHER, m);
    }
    o->ops[o->nops] = (wgg_state_op){.is_delete = del, .key = key};
    if (!del) {
      size_t len;
      char *val = p2c_bytes_dup(&it->of.seq.ptr[1], &len);
      if (!val) {
        free(key);
        o->ops[o->nops].key = NULL;
        kv_op_free(o);
        return kv_oom();
      }
      o->ops[o->nops].value = val;
      o->ops[o->nops].value_len = len;
    }
  }
  return kv_op_run(o, r);
}

/* set-many: func(bucket: borrow<bucket>, key-values: list<tuple<string, list<u8>>>) -> result<_, error> */
wg_trap *kv_set_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return kv_write_many(env, a, r, false);
}

/* delete-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<_, error> */
wg_trap *kv_delete_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return kv_write_many(env, a, r, true);
}

/* ---------------------------------------------------------------- list-keys */

/* [method]bucket.list-keys: func(cursor: option<u64> | option<string>) -> result<key-response, error>
 * key-response = record { keys: list<string>, cursor: option<u64> | option<string> }.
 * The app's keys (its prefix removed) in byte order, KV_PAGE per answer; the
 * cursor is the offset of the next page. Through the store's query API (every
 * item is read, on the store's thread): stores without one (state.redis) answer other(...). */
wg_trap *kv_list_keys(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  uint64_t off = 0;
  if (a[1].of.var.disc) {
    const wg_cval *c = a[1].of.var.val;
    if (!v->draft2) {
      off = c->of.u;
    } else {
      char tmp[24];
      size_t n = c->of.str.len;
      char *end = NULL;
      if (n && n < sizeof tmp) {
        memcpy(tmp, c->of.str.ptr, n);
        tmp[n] = '\0';
        errno = 0;
        off = strtoull(tmp, &end, 10);
      }
      if (!n || n >= sizeof tmp || *end || errno || tmp[0] < '0' || tmp[0] > '9')
        return kv_err(r, E_OTHER, "invalid cursor");
    }
  }
  if (!se->store->ops->query) {
    char m[300];
    snprintf(m, sizeof m, "state store %s (%s) cannot list keys: it has no query API", se->comp->name, se->comp->type);
    return kv_err(r, E_OTHER, m);
  }
  kv_op *o = kv_op_new(v, se, OP_LIST);
  if (!o) return kv_oom();
  o->offset = off;
  return kv_op_run(o, r);
}

static void list_work(void *p) {
  kv_op *o = p;
  wgg_query q = {0};
  o->c.status = o->se->store->ops->query(o->se->store, &q, &o->res, &o->e);
}

static void list_done(void *p) {
  kv_op *o = p;
  o->c.done(&o->c);
}

int kv_list_start(kv_op *o) {
  wgg_qresult_free(&o->res);
  memset(&o->res, 0, sizeof o->res);
  return wgg_api_submit_store(o->w.loop, o->se, o, list_work, list_done);
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

wg_trap *kv_list_result(kv_op *o, wg_cval *r) {
  const char *app = o->v->h->api->opts->app_id ? o->v->h->api->opts->app_id : "";
  size_t plen = *app ? strlen(app) + 2 : 0, nk = 0;
  char **keys = malloc((o->res.n ? o->res.n : 1) * sizeof *keys);
  if (!keys) return kv_oom();
  for (size_t i = 0; i < o->res.n; i++) {
    const char *k = o->res.items[i].key;
    if (plen && (strncmp(k, app, plen - 2) || strncmp(k + plen - 2, "||", 2))) continue;
    keys[nk++] = (char *)k + plen;
  }
  qsort(keys, nk, sizeof *keys, cmp_str);
  size_t from = o->offset < nk ? (size_t)o->offset : nk, to = nk - from > KV_PAGE ? from + KV_PAGE : nk;
  wg_cval *rec = kv_box((wg_cval){.kind = WG_CVAL_RECORD});
  wg_trap *t = NULL;
  if (!rec || !(rec->of.seq.ptr = wg_cval_array(2))) {
    t = kv_oom();
    goto done;
  }
  rec->of.seq.len = 2;
  wg_cval *list = &rec->of.seq.ptr[0], *cur = &rec->of.seq.ptr[1];
  *list = (wg_cval){.kind = WG_CVAL_LIST};
  *cur = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {0, NULL}};
  if (!(list->of.seq.ptr = wg_cval_array(to - from ? to - from : 1))) {
    t = kv_oom();
    goto done;
  }
  list->of.seq.len = to - from;
  for (size_t i = from; i < to && !t; i++)
    if (!wg_cval_string(&list->of.seq.ptr[i - from], keys[i], strlen(keys[i]))) t = kv_oom();
  if (!t && to < nk) {
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%zu", to);
    wg_cval *c = wg_cval_array(1);
    if (!c) t = kv_oom();
    else if (o->draft2 ? !wg_cval_string(c, tmp, strlen(tmp)) : (*c = (wg_cval){.kind = WG_CVAL_U64, .of.u = to}, false))
      free(c), t = kv_oom();
    else
      *cur = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, c}};
  }
done:
  free(keys);
  if (t) {
    if (rec) wg_cval_free(rec);
    free(rec);
    return t;
  }
  return kv_ok(r, rec);
}
