/*
 * p2_keyvalue.c: wasi:keyvalue for components, on Dapr state store
 * components (p2_cloud.h; docs/components.md "The cloud interfaces"):
 * store and atomics, the operation every call runs as, and the definitions
 * (batch and list-keys: p2_keyvalue_batch.c).
 *
 * Two versions are served side by side, from our own transcription of the
 * WIT of WebAssembly/wasi-keyvalue:
 *   0.2.0-draft  (commit 219ea36; wasmtime, wasmCloud): store (open, bucket
 *                get/set/delete/exists/list-keys with an option<u64>
 *                cursor), atomics (increment u64), batch;
 *   0.2.0-draft2 (commit 6630aef; Spin): the same with an option<string>
 *                cursor, increment in s64, and the `cas` resource (new,
 *                current, swap -> cas-error).
 *
 * A bucket's rep is its store's index in the app's wgg_api + 1 (stores never
 * change once the api is built), so buckets need no host state. A cas
 * holds the key, the value read and its ETag: swap writes with that ETag
 * (first-write when the key did not exist), so a concurrent writer makes it
 * fail with a fresh cas, as the WIT asks. increment is the same
 * read-then-write-with-ETag loop, retried on a mismatch.
 *
 * Every call that reaches the store is a kv_op (p2_keyvalue_internal.h):
 * its store calls go through wgg_state_call_start (Resiliency applies) and
 * park the guest on the store's answer where it can park.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/state_internal.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_keyvalue_internal.h"

#define KV_RETRIES 100     /* increment attempts against concurrent writers */
#define KV_MAX_CAS 65536   /* live cas handles per linker */

/* ---------------------------------------------------------------- values */

wg_trap *kv_oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

wg_cval *kv_box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

static wg_cval *kv_error(int kind, const char *msg) {
  wg_cval *e = kv_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {(uint32_t)kind, NULL}});
  if (e && kind == E_OTHER) {
    wg_cval *s = wg_cval_array(1);
    if (!s || !wg_cval_string(s, msg, strlen(msg))) {
      free(s);
      free(e);
      return NULL;
    }
    e->of.var.val = s;
  }
  return e;
}

wg_trap *kv_ok(wg_cval *r, wg_cval *ok) {
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, ok}};
  return NULL;
}

wg_trap *kv_err(wg_cval *r, int kind, const char *msg) {
  wg_cval *e = kv_error(kind, msg);
  if (!e) return kv_oom();
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, e}};
  return NULL;
}

wg_cval *kv_bytes(const char *p, size_t n) {
  wg_cval *l = kv_box((wg_cval){.kind = WG_CVAL_LIST});
  if (!l) return NULL;
  if (!(l->of.seq.ptr = wg_cval_array(n ? n : 1))) {
    free(l);
    return NULL;
  }
  l->of.seq.len = n;
  for (size_t i = 0; i < n; i++) l->of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_U8, .of.u = (uint8_t)p[i]};
  return l;
}

wg_cval *kv_opt_bytes(bool found, const char *p, size_t n) {
  if (!found) return kv_box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {0, NULL}});
  wg_cval *b = kv_bytes(p, n);
  wg_cval *o = b ? kv_box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, b}}) : NULL;
  if (b && !o) {
    wg_cval_free(b);
    free(b);
  }
  return o;
}

/* An empty key, a key with "||" or a NUL byte are refused, as the state API refuses them. */
char *kv_arg_key(kv_host *h, const wg_cval *v, char *msg, size_t cap) {
  const char *s = v->of.str.ptr;
  size_t n = v->of.str.len;
  if (!n) return snprintf(msg, cap, "\"key\" is a required field"), NULL;
  if (memchr(s, 0, n)) return snprintf(msg, cap, "the key contains a NUL byte"), NULL;
  char *k = malloc(n + 1);
  if (!k) return snprintf(msg, cap, "out of memory"), NULL;
  memcpy(k, s, n);
  k[n] = '\0';
  if (strstr(k, "||")) {
    snprintf(msg, cap, "input key/keyPrefix '%.200s' can't contain '||'", k);
    free(k);
    return NULL;
  }
  char *p = wgg_state_prefixed(h->api, k);
  free(k);
  if (!p) snprintf(msg, cap, "out of memory");
  return p;
}

wgg_store_entry *kv_bucket_of(kv_ver *v, const wg_cval *b) {
  uint32_t rep = b->of.handle.rep;
  if (b->of.handle.type != v->bucket || rep == 0 || rep > v->h->api->n_stores) return NULL;
  return &v->h->api->stores[rep - 1];
}

const char *kv_st_msg(int st, const wgg_err *e) {
  switch (st) {
  case WGG_ST_ETAG_MISMATCH: return "etag mismatch";
  case WGG_ST_ETAG_INVALID: return "invalid etag value";
  default: return e->msg[0] ? e->msg : "state store failure";
  }
}

/* ---------------------------------------------------------------- cas table */

static void cas_clear(kv_cas *c) {
  free(c->key);
  free(c->value);
  free(c->etag);
  memset(c, 0, sizeof *c);
}

static void cas_dtor(void *env, uint32_t rep) {
  kv_host *h = env;
  pthread_mutex_lock(&h->mu);
  if (rep && rep <= h->ncas) cas_clear(&h->cas[rep - 1]);
  pthread_mutex_unlock(&h->mu);
}

/* A new cas handle (own<cas>, boxed) on what o read last (o->got and o->key move into it), or
 * NULL with o->msg (OOM, a full table). */
static wg_cval *cas_add(kv_op *o) {
  kv_host *h = o->v->h;
  pthread_mutex_lock(&h->mu);
  uint32_t i = 0;
  while (i < h->ncas && h->cas[i].used) i++;
  if (i == h->ncas) {
    kv_cas *nv = h->ncas < KV_MAX_CAS ? realloc(h->cas, (h->ncas + 1) * sizeof *nv) : NULL;
    if (!nv) {
      pthread_mutex_unlock(&h->mu);
      snprintf(o->msg, sizeof o->msg, h->ncas < KV_MAX_CAS ? "out of memory" : "too many cas handles");
      return NULL;
    }
    h->cas = nv;
    memset(&h->cas[h->ncas++], 0, sizeof *nv);
  }
  h->cas[i] = (kv_cas){.used = true, .found = o->got.found, .store = (size_t)(o->se - h->api->stores),
                       .key = o->key, .value = o->got.value, .len = o->got.value_len, .etag = o->got.etag};
  pthread_mutex_unlock(&h->mu);
  o->key = NULL;
  memset(&o->got, 0, sizeof o->got);
  wg_cval *own = kv_box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {i + 1, o->v->cas}});
  if (!own) {
    cas_dtor(h, i + 1);
    snprintf(o->msg, sizeof o->msg, "out of memory");
  }
  return own;
}

/* ---------------------------------------------------------------- operations */

kv_op *kv_op_new(kv_ver *v, wgg_store_entry *se, enum kv_what what) {
  kv_op *o = calloc(1, sizeof *o);
  if (o) *o = (kv_op){.v = v, .se = se, .what = what, .draft2 = v->draft2};
  return o;
}

void kv_op_free(kv_op *o) {
  free(o->key);
  free(o->val);
  free(o->etag);
  for (size_t i = 0; i < o->nops; i++) {
    free((char *)o->ops[i].key);
    free((char *)o->ops[i].value);
  }
  free(o->ops);
  for (size_t i = 0; i < o->n; i++) {
    free((char *)(o->ukeys ? o->ukeys[i] : NULL));
    free(o->pkeys ? o->pkeys[i] : NULL);
    if (o->gots) wgg_state_got_free(&o->gots[i]);
  }
  free(o->ukeys);
  free(o->pkeys);
  free(o->gots);
  wgg_state_got_free(&o->got);
  wgg_qresult_free(&o->res);
  free(o);
}

/* increment's new value from the value read (o->got), or false with o->msg. */
static bool incr_compute(kv_op *o) {
  char num[32] = "0";
  if (o->got.found) {
    size_t n = o->got.value_len < sizeof num - 1 ? o->got.value_len : sizeof num - 1;
    memcpy(num, o->got.value, n);
    num[n] = '\0';
    if (o->got.value_len >= sizeof num) num[0] = 'x'; /* too long for a 64-bit integer */
  }
  char *end;
  errno = 0;
  bool bad;
  if (o->draft2) {
    o->ns = strtoll(num, &end, 10);
    bad = !*num || *end || errno || !((num[0] >= '0' && num[0] <= '9') || num[0] == '-');
    int64_t d = o->ds;
    if (!bad && ((d > 0 && o->ns > INT64_MAX - d) || (d < 0 && o->ns < INT64_MIN - d)))
      return snprintf(o->msg, sizeof o->msg, "increment overflows a signed 64-bit integer"), false;
    o->ns += d;
  } else {
    o->nu = strtoull(num, &end, 10);
    bad = !*num || *end || errno || num[0] < '0' || num[0] > '9';
    if (!bad && o->nu > UINT64_MAX - o->du)
      return snprintf(o->msg, sizeof o->msg, "increment overflows an unsigned 64-bit integer"), false;
    o->nu += o->du;
  }
  if (bad)
    return snprintf(o->msg, sizeof o->msg, "the value is not a decimal %s integer",
                    o->draft2 ? "signed 64-bit" : "unsigned 64-bit"), false;
  if (o->draft2) snprintf(o->num, sizeof o->num, "%" PRId64, o->ns);
  else snprintf(o->num, sizeof o->num, "%" PRIu64, o->nu);
  return true;
}

/* Whether o's next store call is a read (into o->got). */
static bool reads(const kv_op *o) {
  return o->what == OP_GET || o->what == OP_EXISTS || o->what == OP_CAS_NEW || o->what == OP_MANY ||
         ((o->what == OP_INCR || o->what == OP_SWAP) && o->reading);
}

/* Sets o->c up for its (next) store call. */
static void kv_op_prepare(kv_op *o) {
  o->c.key = NULL;
  o->c.got = NULL;
  o->c.ops = NULL;
  o->c.n = 0;
  o->e.msg[0] = '\0';
  if (reads(o)) {
    wgg_state_got_free(&o->got);
    memset(&o->got, 0, sizeof o->got);
    o->c.key = o->what == OP_MANY ? o->pkeys[o->i] : o->key;
    o->c.got = &o->got;
    return;
  }
  if (o->what == OP_INCR)
    o->op = (wgg_state_op){.key = o->key, .value = o->num, .value_len = strlen(o->num),
                           .etag = o->got.found ? o->got.etag : NULL, .first_write = !o->got.found};
  o->c.ops = o->ops ? o->ops : &o->op;
  o->c.n = o->ops ? o->nops : 1;
}

/* After a store call answered: true when o is complete (o->msg says how it failed), false when
 * it needs another call. */
static bool kv_op_complete(kv_op *o) {
  int st = o->c.status;
  switch (o->what) {
  case OP_INCR:
    if (o->reading) {
      if (st != WGG_ST_OK) return snprintf(o->msg, sizeof o->msg, "%s", kv_st_msg(st, &o->e)), true;
      if (!incr_compute(o)) return true;
      o->reading = false;
      return false;
    }
    if (st == WGG_ST_ETAG_MISMATCH && ++o->attempt < KV_RETRIES) { /* a concurrent writer: read again */
      o->reading = true;
      return false;
    }
    if (st == WGG_ST_ETAG_MISMATCH) snprintf(o->msg, sizeof o->msg, "increment: too many concurrent writers");
    else if (st != WGG_ST_OK) snprintf(o->msg, sizeof o->msg, "%s", kv_st_msg(st, &o->e));
    return true;
  case OP_SWAP:
    if (!o->reading && st == WGG_ST_ETAG_MISMATCH) { /* a concurrent writer: a fresh cas on the current value */
      o->reading = true;
      o->found = true; /* swap failed: the answer is cas-failed, once the read is in */
      return false;
    }
    if (st != WGG_ST_OK) snprintf(o->msg, sizeof o->msg, "%s", kv_st_msg(st, &o->e));
    return true;
  case OP_MANY:
    if (st != WGG_ST_OK) return snprintf(o->msg, sizeof o->msg, "%s", kv_st_msg(st, &o->e)), true;
    o->gots[o->i] = o->got;
    memset(&o->got, 0, sizeof o->got);
    return ++o->i == o->n;
  default:
    if (st != WGG_ST_OK) snprintf(o->msg, sizeof o->msg, "%s", kv_st_msg(st, &o->e));
    return true;
  }
}

/* cas-error = variant { store-error(error), cas-failed(cas) } as result::err */
static wg_trap *swap_failed(wg_cval *r, uint32_t disc, wg_cval *payload) {
  wg_cval *ce = payload ? kv_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {disc, payload}}) : NULL;
  if (!ce) {
    if (payload) wg_cval_free(payload);
    free(payload);
    return kv_oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, ce}};
  return NULL;
}

/* The host function's result for a finished operation. */
static wg_trap *kv_op_result(p2c_wait *w, wg_cval *r) {
  kv_op *o = (kv_op *)w;
  wg_cval *v = NULL;
  if (o->what == OP_SWAP) {
    if (*o->msg) return swap_failed(r, 0, kv_error(E_OTHER, o->msg));
    if (!o->found) return kv_ok(r, NULL);
    wg_cval *own = cas_add(o);
    return own ? swap_failed(r, 1, own) : swap_failed(r, 0, kv_error(E_OTHER, o->msg));
  }
  if (*o->msg) return kv_err(r, E_OTHER, o->msg);
  switch (o->what) {
  case OP_WRITE: return kv_ok(r, NULL);
  case OP_INCR:
    v = kv_box(o->draft2 ? (wg_cval){.kind = WG_CVAL_S64, .of.s = o->ns} : (wg_cval){.kind = WG_CVAL_U64, .of.u = o->nu});
    break;
  case OP_EXISTS: v = kv_box((wg_cval){.kind = WG_CVAL_BOOL, .of.b = o->got.found}); break;
  case OP_GET: v = kv_opt_bytes(o->got.found, o->got.value, o->got.value_len); break;
  case OP_CAS_NEW:
    if (!(v = cas_add(o))) return kv_err(r, E_OTHER, o->msg);
    break;
  case OP_MANY: return kv_many_result(o, r);
  case OP_LIST: return kv_list_result(o, r);
  default: break;
  }
  return v ? kv_ok(r, v) : kv_oom();
}

static void kv_op_destroy(p2c_wait *w) { kv_op_free((kv_op *)w); }

/* Starts o's store calls until one has not answered yet (1: o waits for kv_op_done), or o is
 * complete (0), or the call could not start (-1: out of memory). */
static int kv_op_drive(kv_op *o) {
  for (;;) {
    kv_op_prepare(o);
    o->answered = false;
    o->starting = true;
    int rc = o->what == OP_LIST ? kv_list_start(o) : wgg_state_call_start(o->w.loop, o->se, &o->c);
    o->starting = false;
    if (rc) return -1;
    if (!o->answered) return 1;
    if (kv_op_complete(o)) return 0;
  }
}

static void kv_op_done(wgg_state_call *c) {
  kv_op *o = c->user;
  o->answered = true;
  if (o->starting) return; /* answered inside start: the driver goes on */
  if (p2c_wait_detached(&o->w)) { /* the request went away: no further store call */
    kv_op_free(o);
    return;
  }
  if (!kv_op_complete(o)) {
    int rc = kv_op_drive(o);
    if (rc > 0) return; /* the next call is in flight */
    if (rc < 0) snprintf(o->msg, sizeof o->msg, "out of memory");
  }
  p2c_wait_answer(&o->w);
}

wg_trap *kv_op_run(kv_op *o, wg_cval *r) {
  p2c_wait_init(&o->w, kv_op_result, kv_op_destroy);
  o->c.user = o;
  o->c.done = kv_op_done;
  o->c.err = &o->e;
  int rc = kv_op_drive(o);
  if (rc < 0) {
    kv_op_free(o);
    return kv_oom();
  }
  if (rc == 0) p2c_wait_answer(&o->w);
  return p2c_wait_end(&o->w, r);
}

#define BUCKET(v, a, se)                                                        \
  wgg_store_entry *se = kv_bucket_of(v, &(a));                                  \
  if (!se) return wg_trap_new(WG_TRAP_HOST, "wasi:keyvalue: unknown bucket handle")

#define KEY(h, a, k, r)                                                         \
  char msg_[300];                                                               \
  char *k = kv_arg_key(h, &(a), msg_, sizeof msg_);                             \
  if (!k) return kv_err(r, E_OTHER, msg_)

/* An operation on one key (taken), or NULL after freeing it (OOM). */
static kv_op *key_op(kv_ver *v, wgg_store_entry *se, enum kv_what what, char *key) {
  kv_op *o = kv_op_new(v, se, what);
  if (!o) free(key);
  else o->key = key;
  return o;
}

/* ---------------------------------------------------------------- store */

/* open: func(identifier: string) -> result<bucket, error> */
static wg_trap *kv_open(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  wgg_api *api = v->h->api;
  for (size_t i = 0; i < api->n_stores; i++) {
    const char *name = api->stores[i].comp->name;
    if (strlen(name) == a[0].of.str.len && !memcmp(name, a[0].of.str.ptr, a[0].of.str.len)) {
      wg_cval *b = kv_box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {(uint32_t)i + 1, v->bucket}});
      return b ? kv_ok(r, b) : kv_oom();
    }
  }
  return kv_err(r, E_NO_SUCH_STORE, NULL);
}

/* [method]bucket.get: func(key: string) -> result<option<list<u8>>, error>;
 * [method]bucket.exists: func(key: string) -> result<bool, error>; cas.new (draft2):
 * func(bucket: borrow<bucket>, key: string) -> result<cas, error>: one read of the item. */
static wg_trap *read_item(void *env, const wg_cval *a, wg_cval *r, enum kv_what what) {
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  kv_op *o = key_op(v, se, what, key);
  return o ? kv_op_run(o, r) : kv_oom();
}

static wg_trap *kv_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return read_item(env, a, r, OP_GET);
}

static wg_trap *kv_exists(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return read_item(env, a, r, OP_EXISTS);
}

/* [method]bucket.set: func(key: string, value: list<u8>) -> result<_, error> */
static wg_trap *kv_set(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  kv_op *o = key_op(v, se, OP_WRITE, key);
  size_t n;
  if (!o || !(o->val = p2c_bytes_dup(&a[2], &n))) {
    if (o) kv_op_free(o);
    return kv_oom();
  }
  o->op = (wgg_state_op){.key = o->key, .value = o->val, .value_len = n};
  return kv_op_run(o, r);
}

/* [method]bucket.delete: func(key: string) -> result<_, error> (absent keys are fine) */
static wg_trap *kv_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  kv_op *o = key_op(v, se, OP_WRITE, key);
  if (!o) return kv_oom();
  o->op = (wgg_state_op){.is_delete = true, .key = o->key};
  return kv_op_run(o, r);
}

/* ---------------------------------------------------------------- atomics */

/* increment: func(bucket: borrow<bucket>, key: string, delta: u64 | s64) -> result<u64 | s64, error>.
 * The stored value is a decimal integer (absent: 0); the new one is written
 * with the ETag read (first-write when absent), again on a mismatch. */
static wg_trap *kv_increment(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  kv_op *o = key_op(v, se, OP_INCR, key);
  if (!o) return kv_oom();
  o->reading = true;
  if (v->draft2) o->ds = a[2].of.s;
  else o->du = a[2].of.u;
  return kv_op_run(o, r);
}

/* [static]cas.new: func(bucket: borrow<bucket>, key: string) -> result<cas, error> */
static wg_trap *cas_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return read_item(env, a, r, OP_CAS_NEW);
}

/* [method]cas.current: func() -> result<option<list<u8>>, error>: the value read by new */
static wg_trap *cas_current(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  kv_host *h = v->h;
  uint32_t rep = a[0].of.handle.rep;
  pthread_mutex_lock(&h->mu);
  kv_cas *c = a[0].of.handle.type == v->cas && rep && rep <= h->ncas && h->cas[rep - 1].used ? &h->cas[rep - 1] : NULL;
  wg_cval *o = c ? kv_opt_bytes(c->found, c->value, c->len) : NULL;
  pthread_mutex_unlock(&h->mu);
  if (!c) return wg_trap_new(WG_TRAP_HOST, "wasi:keyvalue: unknown cas handle");
  return o ? kv_ok(r, o) : kv_oom();
}

/* swap: func(cas: cas, value: list<u8>) -> result<_, cas-error>,
 * cas-error = variant { store-error(error), cas-failed(cas) }. The cas is
 * the host's again (an own argument): freed, its key kept for the fresh
 * cas of a cas-failed. */
static wg_trap *cas_swap(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  kv_host *h = v->h;
  uint32_t rep = a[0].of.handle.rep;
  pthread_mutex_lock(&h->mu);
  kv_cas c = {0};
  if (a[0].of.handle.type == v->cas && rep && rep <= h->ncas && h->cas[rep - 1].used) {
    c = h->cas[rep - 1];
    memset(&h->cas[rep - 1], 0, sizeof c);
  }
  pthread_mutex_unlock(&h->mu);
  if (!c.used) return wg_trap_new(WG_TRAP_HOST, "wasi:keyvalue: unknown cas handle");
  kv_op *o = kv_op_new(v, &h->api->stores[c.store], OP_SWAP);
  size_t n;
  if (!o || !(o->val = p2c_bytes_dup(&a[1], &n))) {
    if (o) kv_op_free(o);
    cas_clear(&c);
    return kv_oom();
  }
  o->key = c.key;
  o->etag = c.etag;
  c.key = c.etag = NULL;
  o->op = (wgg_state_op){.key = o->key, .value = o->val, .value_len = n, .etag = c.found ? o->etag : NULL,
                         .first_write = !c.found};
  cas_clear(&c);
  return kv_op_run(o, r);
}

/* ---------------------------------------------------------------- definitions */

/* Each function with its type (WIT wasi:keyvalue 0.2.0-draft and -draft2; `%C` is the
 * list-keys cursor, option<u64> in draft and option<string> in draft2, `%D` increment's
 * delta, u64 and s64), checked against the component's import at instantiation: the
 * functions rely on their arguments' kinds. atomics and batch name store's bucket and
 * error through types of their own (WIT's `use store.{bucket, error}`). */
static const struct {
  const char *iface, *name;
  wg_component_host_fn fn;
  bool draft2_only;
  const char *type;
} fns[] = {
    {"store", "open", kv_open, false, "func(identifier: string) -> result<bucket, error>"},
    {"store", "[method]bucket.get", kv_get, false,
     "func(self: borrow<bucket>, key: string) -> result<option<list<u8>>, error>"},
    {"store", "[method]bucket.set", kv_set, false,
     "func(self: borrow<bucket>, key: string, value: list<u8>) -> result<_, error>"},
    {"store", "[method]bucket.delete", kv_delete, false, "func(self: borrow<bucket>, key: string) -> result<_, error>"},
    {"store", "[method]bucket.exists", kv_exists, false,
     "func(self: borrow<bucket>, key: string) -> result<bool, error>"},
    {"store", "[method]bucket.list-keys", kv_list_keys, false,
     "func(self: borrow<bucket>, cursor: %C) -> result<key-response, error>"},
    {"atomics", "increment", kv_increment, false,
     "func(bucket: borrow<bucket>, key: string, delta: %D) -> result<%D, error>"},
    {"atomics", "[static]cas.new", cas_new, true, "func(bucket: borrow<bucket>, key: string) -> result<cas, error>"},
    {"atomics", "[method]cas.current", cas_current, true, "func(self: borrow<cas>) -> result<option<list<u8>>, error>"},
    {"atomics", "swap", cas_swap, true, "func(cas: cas, value: list<u8>) -> result<_, cas-error>"},
    {"batch", "get-many", kv_get_many, false,
     "func(bucket: borrow<bucket>, keys: list<string>) -> result<list<option<tuple<string, list<u8>>>>, error>"},
    {"batch", "set-many", kv_set_many, false,
     "func(bucket: borrow<bucket>, key-values: list<tuple<string, list<u8>>>) -> result<_, error>"},
    {"batch", "delete-many", kv_delete_many, false, "func(bucket: borrow<bucket>, keys: list<string>) -> result<_, error>"},
};

/* fns[i].type for one version: %C and %D replaced. False when it does not fit. */
static bool version_type(const char *t, bool draft2, char *out, size_t n) {
  size_t k = 0;
  for (; *t; t++) {
    const char *rep = NULL;
    if (t[0] == '%' && t[1] == 'C') rep = draft2 ? "option<string>" : "option<u64>";
    else if (t[0] == '%' && t[1] == 'D') rep = draft2 ? "s64" : "u64";
    if (rep) {
      size_t l = strlen(rep);
      if (k + l >= n) return false;
      memcpy(out + k, rep, l);
      k += l;
      t++;
    } else {
      if (k + 1 >= n) return false;
      out[k++] = *t;
    }
  }
  out[k] = 0;
  return true;
}

/* The named types of version `ver` (store's error and key-response, atomics' and batch's
 * names for store's bucket and error, draft2's cas-error). */
static bool define_types(wg_component_linker *l, const char *ver, bool draft2, wg_error **e) {
  char store[64], atomics[64], batch[64], bucket[96], error[96];
  snprintf(store, sizeof store, "wasi:keyvalue/store%s", ver);
  snprintf(atomics, sizeof atomics, "wasi:keyvalue/atomics%s", ver);
  snprintf(batch, sizeof batch, "wasi:keyvalue/batch%s", ver);
  snprintf(bucket, sizeof bucket, "%s#bucket", store);
  snprintf(error, sizeof error, "%s#error", store);
  return wg_component_linker_define_type(l, store, "error", "variant { no-such-store, access-denied, other(string) }",
                                         e) &&
         wg_component_linker_define_type(l, store, "key-response",
                                         draft2 ? "record { keys: list<string>, cursor: option<string> }"
                                                : "record { keys: list<string>, cursor: option<u64> }",
                                         e) &&
         wg_component_linker_define_type(l, atomics, "bucket", bucket, e) &&
         wg_component_linker_define_type(l, atomics, "error", error, e) &&
         wg_component_linker_define_type(l, batch, "bucket", bucket, e) &&
         wg_component_linker_define_type(l, batch, "error", error, e) &&
         (!draft2 || wg_component_linker_define_type(l, atomics, "cas-error", "variant { store-error(error), cas-failed(cas) }", e));
}

static void host_free(kv_host *h) {
  for (uint32_t i = 0; i < h->ncas; i++) cas_clear(&h->cas[i]);
  free(h->cas);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

/* The finalizer of the first definition, whose env is h->v[0]. */
static void host_fin(void *env) { host_free(((kv_ver *)env)->h); }

bool wgg_p2_keyvalue_define(wg_component_linker *l, wgg_api *api, wgg_err *err) {
  static const char *const versions[2] = {"@0.2.0-draft", "@0.2.0-draft2"};
  kv_host *h = calloc(1, sizeof *h);
  if (!h) return wgg_err_set(err, "out of memory"), false;
  h->api = api;
  h->v[0].h = h;
  pthread_mutex_init(&h->mu, NULL);
  wg_error *e = NULL;
  char iface[64];
  /* the first definition owns h: host_free runs when the linker is deleted */
  if (!wg_component_linker_define_func_typed(l, "wasi:keyvalue/store@0.2.0-draft", "open", fns[0].type, kv_open,
                                             &h->v[0], host_fin, &e)) {
    host_free(h);
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
    return false;
  }
  bool ok = true;
  for (int ver = 0; ok && ver < 2; ver++) {
    kv_ver *v = &h->v[ver];
    *v = (kv_ver){.h = h, .draft2 = ver == 1};
    snprintf(iface, sizeof iface, "wasi:keyvalue/store%s", versions[ver]);
    ok = wg_component_linker_define_resource(l, iface, "bucket", NULL, NULL, &v->bucket, &e) &&
         define_types(l, versions[ver], v->draft2, &e);
    if (ok && v->draft2) {
      snprintf(iface, sizeof iface, "wasi:keyvalue/atomics%s", versions[ver]);
      ok = wg_component_linker_define_resource(l, iface, "cas", cas_dtor, h, &v->cas, &e);
    }
    for (size_t i = 0; ok && i < sizeof fns / sizeof *fns; i++) {
      if ((fns[i].draft2_only && !v->draft2) || (ver == 0 && i == 0)) continue; /* draft's open: above */
      snprintf(iface, sizeof iface, "wasi:keyvalue/%s%s", fns[i].iface, versions[ver]);
      char type[256];
      ok = version_type(fns[i].type, v->draft2, type, sizeof type) &&
           wg_component_linker_define_func_typed(l, iface, fns[i].name, type, fns[i].fn, v, NULL, &e);
    }
  }
  if (!ok) {
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
  }
  return ok;
}
