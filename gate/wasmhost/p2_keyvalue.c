/*
 * p2_keyvalue.c: wasi:keyvalue for components, on Dapr state store
 * components (p2_cloud.h; docs/components.md "The cloud interfaces").
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
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/state_internal.h"
#include "components/state/query.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_cloud_internal.h"
#include "wasmhost/p2http.h"

#define KV_PAGE 1000       /* keys per list-keys answer */
#define KV_RETRIES 100     /* increment attempts against concurrent writers */
#define KV_MAX_CAS 65536   /* live cas handles per linker */

typedef struct kv_host kv_host;

typedef struct kv_ver {
  kv_host *h;
  bool draft2;
  const wg_component_resource_type *bucket, *cas;
} kv_ver;

typedef struct kv_cas {
  bool used, found;
  size_t store;
  char *key; /* prefixed */
  char *value, *etag;
  size_t len;
} kv_cas;

struct kv_host {
  wgg_api *api;
  pthread_mutex_t mu; /* cas table: a linker may serve instances on several threads */
  kv_cas *cas;
  uint32_t ncas;
  kv_ver v[2];
};

/* ---------------------------------------------------------------- values */

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

/* error: variant { no-such-store, access-denied, other(string) } */
enum { E_NO_SUCH_STORE, E_ACCESS_DENIED, E_OTHER };

static wg_cval *kv_error(int kind, const char *msg) {
  wg_cval *e = box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {(uint32_t)kind, NULL}});
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

/* r = result::ok(ok) (ok boxed, may be NULL for result<_, e>) */
static wg_trap *ok_(wg_cval *r, wg_cval *ok) {
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, ok}};
  return NULL;
}

/* r = result::err(other(msg)) or another kind */
static wg_trap *err_(wg_cval *r, int kind, const char *msg) {
  wg_cval *e = kv_error(kind, msg);
  if (!e) return oom();
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, e}};
  return NULL;
}

static wg_cval *bytes(const char *p, size_t n) {
  wg_cval *l = box((wg_cval){.kind = WG_CVAL_LIST});
  if (!l) return NULL;
  if (!(l->of.seq.ptr = wg_cval_array(n ? n : 1))) {
    free(l);
    return NULL;
  }
  l->of.seq.len = n;
  for (size_t i = 0; i < n; i++) l->of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_U8, .of.u = (uint8_t)p[i]};
  return l;
}

/* option<list<u8>> of a read item */
static wg_cval *opt_bytes(bool found, const char *p, size_t n) {
  if (!found) return box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {0, NULL}});
  wg_cval *b = bytes(p, n);
  wg_cval *o = b ? box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, b}}) : NULL;
  if (b && !o) {
    wg_cval_free(b);
    free(b);
  }
  return o;
}

/* The prefixed store key of a string argument, or NULL with msg set (an
 * empty key, a key with "||" or a NUL byte: the state API's rules). */
static char *arg_key(kv_host *h, const wg_cval *v, char *msg, size_t cap) {
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

/* The store of a bucket handle (own or borrow), or NULL. */
static wgg_store_entry *bucket_of(kv_ver *v, const wg_cval *b) {
  uint32_t rep = b->of.handle.rep;
  if (b->of.handle.type != v->bucket || rep == 0 || rep > v->h->api->n_stores) return NULL;
  return &v->h->api->stores[rep - 1];
}

/* Failure text of a store status. */
static const char *st_msg(int st, const wgg_err *e) {
  switch (st) {
  case WGG_ST_ETAG_MISMATCH: return "etag mismatch";
  case WGG_ST_ETAG_INVALID: return "invalid etag value";
  default: return e->msg[0] ? e->msg : "state store failure";
  }
}

static int st_get(wgg_store_entry *se, const char *key, wgg_state_got *got, wgg_err *e) {
  memset(got, 0, sizeof *got);
  e->msg[0] = '\0';
  return se->store->ops->get(se->store, key, got, e);
}

static int st_apply(wgg_store_entry *se, const wgg_state_op *ops, size_t n, wgg_err *e) {
  e->msg[0] = '\0';
  return se->store->ops->apply(se->store, ops, n, e);
}

/* ---------------------------------------------------------------- parking */

/* One store call of a hosted component app's guest, parked until it answers (get, exists, set,
 * delete): through the async store entry point (wgg_state_call_start, as the state API and the
 * dapr:v1 host functions of core apps), so the loop serves other requests meanwhile. */
typedef struct kv_op {
  wgg_state_call c;
  wgg_p2h_inst *in;  /* NULL once detached: the answer is dropped */
  wgg_store_entry *se;
  enum { OP_GET, OP_EXISTS, OP_WRITE, OP_INCR } what;
  bool starting;     /* inside wgg_state_call_start: an answer now is answered at once */
  bool answered;
  char *key, *val;
  wgg_state_op op;   /* a write's, or the increment's */
  wgg_state_op *ops; /* set-many/delete-many: n ops (keys and values owned) */
  size_t nops;
  wgg_state_got got;
  wgg_err e;
  /* increment: read, then write with the read's ETag (first-write when absent), again on a
   * mismatch; draft2 (s64) or draft (u64) */
  bool draft2, reading;
  int attempt;
  uint64_t du, nu;
  int64_t ds, ns;
  char num[32];
  char msg[600];     /* increment's failure, "" when none */
} kv_op;

static void kv_op_free(kv_op *o) {
  free(o->key);
  free(o->val);
  for (size_t i = 0; i < o->nops; i++) {
    free((char *)o->ops[i].key);
    free((char *)o->ops[i].value);
  }
  free(o->ops);
  wgg_state_got_free(&o->got);
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

/* Sets o->c up for its (next) store call. */
static void kv_op_prepare(kv_op *o) {
  o->c.key = NULL;
  o->c.got = NULL;
  o->c.ops = NULL;
  o->c.n = 0;
  o->e.msg[0] = '\0';
  if (o->what == OP_GET || o->what == OP_EXISTS || (o->what == OP_INCR && o->reading)) {
    wgg_state_got_free(&o->got);
    memset(&o->got, 0, sizeof o->got);
    o->c.key = o->key;
    o->c.got = &o->got;
  } else if (o->what == OP_INCR) {
    o->op = (wgg_state_op){.key = o->key, .value = o->num, .value_len = strlen(o->num),
                           .etag = o->got.found ? o->got.etag : NULL, .first_write = !o->got.found};
    o->c.ops = &o->op;
    o->c.n = 1;
  } else {
    o->c.ops = o->ops ? o->ops : &o->op;
    o->c.n = o->ops ? o->nops : 1;
  }
}

/* After a store call answered: true when the operation is complete, false when it needs another
 * call (increment's write after its read, or its retry after an ETag mismatch). */
static bool kv_op_complete(kv_op *o) {
  if (o->what != OP_INCR) return true;
  int st = o->c.status;
  if (o->reading) {
    if (st != WGG_ST_OK) return snprintf(o->msg, sizeof o->msg, "%s", st_msg(st, &o->e)), true;
    if (!incr_compute(o)) return true;
    o->reading = false;
    return false;
  }
  if (st == WGG_ST_ETAG_MISMATCH && ++o->attempt < KV_RETRIES) { /* a concurrent writer: read again */
    o->reading = true;
    return false;
  }
  if (st == WGG_ST_ETAG_MISMATCH) snprintf(o->msg, sizeof o->msg, "increment: too many concurrent writers");
  else if (st != WGG_ST_OK) snprintf(o->msg, sizeof o->msg, "%s", st_msg(st, &o->e));
  return true;
}

/* The host function's result for a finished operation. */
static wg_trap *kv_op_result(kv_op *o, wg_cval *r) {
  if (o->what == OP_INCR) {
    if (*o->msg) return err_(r, E_OTHER, o->msg);
    wg_cval *v = box(o->draft2 ? (wg_cval){.kind = WG_CVAL_S64, .of.s = o->ns}
                               : (wg_cval){.kind = WG_CVAL_U64, .of.u = o->nu});
    return v ? ok_(r, v) : oom();
  }
  int st = o->c.status;
  if (st != WGG_ST_OK) return err_(r, E_OTHER, st_msg(st, &o->e));
  if (o->what == OP_WRITE) return ok_(r, NULL);
  wg_cval *v = o->what == OP_EXISTS ? box((wg_cval){.kind = WG_CVAL_BOOL, .of.b = o->got.found})
                                    : opt_bytes(o->got.found, o->got.value, o->got.value_len);
  return v ? ok_(r, v) : oom();
}

static void kv_op_cancel(void *p) { ((kv_op *)p)->in = NULL; }

/* Starts o's store calls until one has not answered yet (1: o waits for kv_op_done), or o is
 * complete (0), or the call could not start (-1: out of memory). */
static int kv_op_drive(kv_op *o) {
  for (;;) {
    kv_op_prepare(o);
    o->answered = false;
    o->starting = true;
    int rc = wgg_state_call_start(o->in ? o->in->loop : NULL, o->se, &o->c);
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
  wgg_p2h_inst *in = o->in;
  if (!in) { /* the request went away meanwhile */
    kv_op_free(o);
    return;
  }
  wg_cval r = {0};
  wg_trap *t = NULL;
  if (!kv_op_complete(o)) {
    int rc = kv_op_drive(o);
    if (rc > 0) return; /* the next call is in flight */
    if (rc < 0) snprintf(o->msg, sizeof o->msg, "out of memory");
  }
  t = kv_op_result(o, &r);
  kv_op_free(o);
  if (t) { /* out of memory: the guest gets the trap's message as an error */
    wg_trap_delete(t);
    if (err_(&r, E_OTHER, "out of memory")) return;
  }
  wgg_p2h_resume(in, &r, 1);
}

/* Runs o on the hosted app's loop: parks the guest (returns the SUSPENDED trap), or answers
 * into r when the store answered at once (the in-memory store). Takes o. */
static wg_trap *kv_op_run(kv_op *o, wgg_store_entry *se, wg_cval *r) {
  o->se = se;
  o->c.user = o;
  o->c.done = kv_op_done;
  o->c.err = &o->e;
  int rc = kv_op_drive(o);
  if (rc < 0) {
    kv_op_free(o);
    return oom();
  }
  if (rc > 0) {
    wg_trap *park = wgg_p2h_park(o->in, kv_op_cancel, o);
    if (park) return park;
    /* cannot park (out of memory): the answer, when it comes, is dropped */
    o->in = NULL;
    return oom();
  }
  wg_trap *t = kv_op_result(o, r);
  kv_op_free(o);
  return t;
}

/* A new operation when the calling guest can park (a hosted app's request on a loop), else NULL:
 * the synchronous form runs (a command component, out of memory). */
static kv_op *kv_op_new(int what) {
  wgg_p2h_inst *in = wgg_p2h_current();
  if (!in || !in->loop || !in->pcall || in->cancel) return NULL;
  kv_op *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->in = in;
  o->what = what;
  return o;
}

#define BUCKET(v, a, se)                                                        \
  wgg_store_entry *se = bucket_of(v, &(a));                                     \
  if (!se) return wg_trap_new(WG_TRAP_HOST, "wasi:keyvalue: unknown bucket handle")

#define KEY(h, a, k, r)                                                         \
  char msg_[300];                                                               \
  char *k = arg_key(h, &(a), msg_, sizeof msg_);                                \
  if (!k) return err_(r, E_OTHER, msg_)

/* ---------------------------------------------------------------- store */

/* open: func(identifier: string) -> result<bucket, error> */
static wg_trap *kv_open(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  wgg_api *api = v->h->api;
  for (size_t i = 0; i < api->n_stores; i++) {
    const char *name = api->stores[i].comp->name;
    if (strlen(name) == a[0].of.str.len && !memcmp(name, a[0].of.str.ptr, a[0].of.str.len)) {
      wg_cval *b = box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {(uint32_t)i + 1, v->bucket}});
      return b ? ok_(r, b) : oom();
    }
  }
  return err_(r, E_NO_SUCH_STORE, NULL);
}

/* [method]bucket.get and .exists: func(key: string) -> result<option<list<u8>>, error> and
 * result<bool, error>: one read of the item, answered as its value or as whether it exists. */
static wg_trap *read_item(void *env, const wg_cval *a, size_t na, wg_cval *r, bool exists) {
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  kv_op *op = kv_op_new(exists ? OP_EXISTS : OP_GET);
  if (op) {
    op->key = key;
    return kv_op_run(op, se, r);
  }
  wgg_state_got got;
  wgg_err e;
  int st = st_get(se, key, &got, &e);
  free(key);
  if (st != WGG_ST_OK) return err_(r, E_OTHER, st_msg(st, &e));
  wg_cval *o = exists ? box((wg_cval){.kind = WG_CVAL_BOOL, .of.b = got.found})
                      : opt_bytes(got.found, got.value, got.value_len);
  wgg_state_got_free(&got);
  return o ? ok_(r, o) : oom();
}

static wg_trap *kv_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return read_item(env, a, na, r, false);
}

static wg_trap *kv_exists(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return read_item(env, a, na, r, true);
}

/* [method]bucket.set: func(key: string, value: list<u8>) -> result<_, error> */
static wg_trap *kv_set(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  size_t n;
  char *val = p2c_bytes_dup(&a[2], &n);
  if (!val) {
    free(key);
    return oom();
  }
  kv_op *o = kv_op_new(OP_WRITE);
  if (o) {
    o->key = key;
    o->val = val;
    o->op = (wgg_state_op){.key = key, .value = val, .value_len = n};
    return kv_op_run(o, se, r);
  }
  wgg_state_op op = {.key = key, .value = val, .value_len = n};
  wgg_err e;
  int st = st_apply(se, &op, 1, &e);
  free(key);
  free(val);
  return st == WGG_ST_OK ? ok_(r, NULL) : err_(r, E_OTHER, st_msg(st, &e));
}

/* [method]bucket.delete: func(key: string) -> result<_, error> (absent keys are fine) */
static wg_trap *kv_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  kv_op *o = kv_op_new(OP_WRITE);
  if (o) {
    o->key = key;
    o->op = (wgg_state_op){.is_delete = true, .key = key};
    return kv_op_run(o, se, r);
  }
  wgg_state_op op = {.is_delete = true, .key = key};
  wgg_err e;
  int st = st_apply(se, &op, 1, &e);
  free(key);
  return st == WGG_ST_OK ? ok_(r, NULL) : err_(r, E_OTHER, st_msg(st, &e));
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* [method]bucket.list-keys: func(cursor: option<u64> | option<string>) -> result<key-response, error>
 * key-response = record { keys: list<string>, cursor: option<u64> | option<string> }.
 * The app's keys (its prefix removed) in byte order, KV_PAGE per answer; the
 * cursor is the offset of the next page. Through the store's query API (every
 * item is read): stores without one (state.redis) answer other(...). */
static wg_trap *kv_list_keys(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
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
        return err_(r, E_OTHER, "invalid cursor");
    }
  }
  if (!se->store->ops->query) {
    char m[300];
    snprintf(m, sizeof m, "state store %s (%s) cannot list keys: it has no query API", se->comp->name, se->comp->type);
    return err_(r, E_OTHER, m);
  }
  wgg_query q = {0};
  wgg_qresult res = {0};
  wgg_err e = {{0}};
  int st = se->store->ops->query(se->store, &q, &res, &e);
  if (st != WGG_ST_OK) {
    wgg_qresult_free(&res);
    return err_(r, E_OTHER, st_msg(st, &e));
  }
  const char *app = v->h->api->opts->app_id ? v->h->api->opts->app_id : "";
  size_t plen = *app ? strlen(app) + 2 : 0, nk = 0;
  char **keys = malloc((res.n ? res.n : 1) * sizeof *keys);
  if (!keys) {
    wgg_qresult_free(&res);
    return oom();
  }
  for (size_t i = 0; i < res.n; i++) {
    const char *k = res.items[i].key;
    if (plen && (strncmp(k, app, plen - 2) || strncmp(k + plen - 2, "||", 2))) continue;
    keys[nk++] = (char *)k + plen;
  }
  qsort(keys, nk, sizeof *keys, cmp_str);
  size_t from = off < nk ? (size_t)off : nk, to = nk - from > KV_PAGE ? from + KV_PAGE : nk;
  wg_cval *rec = box((wg_cval){.kind = WG_CVAL_RECORD});
  wg_trap *t = NULL;
  if (!rec || !(rec->of.seq.ptr = wg_cval_array(2))) {
    t = oom();
    goto done;
  }
  rec->of.seq.len = 2;
  wg_cval *list = &rec->of.seq.ptr[0], *cur = &rec->of.seq.ptr[1];
  *list = (wg_cval){.kind = WG_CVAL_LIST};
  *cur = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {0, NULL}};
  if (!(list->of.seq.ptr = wg_cval_array(to - from ? to - from : 1))) {
    t = oom();
    goto done;
  }
  list->of.seq.len = to - from;
  for (size_t i = from; i < to && !t; i++)
    if (!wg_cval_string(&list->of.seq.ptr[i - from], keys[i], strlen(keys[i]))) t = oom();
  if (!t && to < nk) {
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%zu", to);
    wg_cval *c = wg_cval_array(1);
    if (!c) t = oom();
    else if (v->draft2 ? !wg_cval_string(c, tmp, strlen(tmp)) : (*c = (wg_cval){.kind = WG_CVAL_U64, .of.u = to}, false))
      free(c), t = oom();
    else
      *cur = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, c}};
  }
done:
  free(keys);
  wgg_qresult_free(&res);
  if (t) {
    if (rec) wg_cval_free(rec);
    free(rec);
    return t;
  }
  return ok_(r, rec);
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
  kv_op *ko = kv_op_new(OP_INCR);
  if (ko) { /* read, then write with its ETag, on the loop: parks */
    ko->key = key;
    ko->draft2 = v->draft2;
    ko->reading = true;
    if (v->draft2) ko->ds = a[2].of.s;
    else ko->du = a[2].of.u;
    return kv_op_run(ko, se, r);
  }
  /* no loop (a command component): the same read-then-write, synchronously */
  kv_op o = {.draft2 = v->draft2, .ds = a[2].of.s, .du = a[2].of.u};
  bool done = false;
  for (int attempt = 0; attempt < KV_RETRIES && !done; attempt++) {
    wgg_state_got_free(&o.got);
    int st = st_get(se, key, &o.got, &o.e);
    if (st != WGG_ST_OK) {
      snprintf(o.msg, sizeof o.msg, "%s", st_msg(st, &o.e));
      break;
    }
    if (!incr_compute(&o)) break;
    wgg_state_op op = {.key = key, .value = o.num, .value_len = strlen(o.num),
                       .etag = o.got.found ? o.got.etag : NULL, .first_write = !o.got.found};
    st = st_apply(se, &op, 1, &o.e);
    if (st == WGG_ST_ETAG_MISMATCH) continue;
    if (st != WGG_ST_OK) snprintf(o.msg, sizeof o.msg, "%s", st_msg(st, &o.e));
    done = true;
  }
  if (!done && !*o.msg) snprintf(o.msg, sizeof o.msg, "increment: too many concurrent writers");
  o.what = OP_INCR;
  wg_trap *t = kv_op_result(&o, r);
  wgg_state_got_free(&o.got);
  free(key);
  return t;
}

/* ---------------------------------------------------------------- atomics: cas (draft2) */

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

/* Reads key of store se into a new cas entry; its rep (0: failure, m set). */
static uint32_t cas_read(kv_host *h, size_t store, char *key, char *m, size_t cap) {
  wgg_state_got got;
  wgg_err e;
  int st = st_get(&h->api->stores[store], key, &got, &e);
  if (st != WGG_ST_OK) {
    snprintf(m, cap, "%s", st_msg(st, &e));
    free(key);
    return 0;
  }
  pthread_mutex_lock(&h->mu);
  uint32_t i = 0;
  while (i < h->ncas && h->cas[i].used) i++;
  if (i == h->ncas) {
    kv_cas *nv = h->ncas < KV_MAX_CAS ? realloc(h->cas, (h->ncas + 1) * sizeof *nv) : NULL;
    if (!nv) {
      pthread_mutex_unlock(&h->mu);
      snprintf(m, cap, h->ncas < KV_MAX_CAS ? "out of memory" : "too many cas handles");
      wgg_state_got_free(&got);
      free(key);
      return 0;
    }
    h->cas = nv;
    memset(&h->cas[h->ncas++], 0, sizeof *nv);
  }
  h->cas[i] = (kv_cas){.used = true, .found = got.found, .store = store, .key = key, .value = got.value,
                       .len = got.value_len, .etag = got.etag};
  pthread_mutex_unlock(&h->mu);
  return i + 1;
}

/* [static]cas.new: func(bucket: borrow<bucket>, key: string) -> result<cas, error> */
static wg_trap *cas_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  KEY(v->h, a[1], key, r);
  char m[300];
  uint32_t rep = cas_read(v->h, (size_t)(se - v->h->api->stores), key, m, sizeof m);
  if (!rep) return err_(r, E_OTHER, m);
  wg_cval *c = box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, v->cas}});
  if (!c) {
    cas_dtor(v->h, rep);
    return oom();
  }
  return ok_(r, c);
}

/* [method]cas.current: func() -> result<option<list<u8>>, error>: the value read by new */
static wg_trap *cas_current(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  kv_host *h = v->h;
  uint32_t rep = a[0].of.handle.rep;
  pthread_mutex_lock(&h->mu);
  kv_cas *c = a[0].of.handle.type == v->cas && rep && rep <= h->ncas && h->cas[rep - 1].used ? &h->cas[rep - 1] : NULL;
  wg_cval *o = c ? opt_bytes(c->found, c->value, c->len) : NULL;
  pthread_mutex_unlock(&h->mu);
  if (!c) return wg_trap_new(WG_TRAP_HOST, "wasi:keyvalue: unknown cas handle");
  return o ? ok_(r, o) : oom();
}

/* swap: func(cas: cas, value: list<u8>) -> result<_, cas-error>,
 * cas-error = variant { store-error(error), cas-failed(cas) }. The cas is
 * the host's again (an own argument): freed, or reused for cas-failed. */
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
  size_t n;
  char *val = p2c_bytes_dup(&a[1], &n);
  if (!val) {
    cas_clear(&c);
    return oom();
  }
  wgg_state_op op = {.key = c.key, .value = val, .value_len = n, .etag = c.found ? c.etag : NULL,
                     .first_write = !c.found};
  wgg_err e;
  int st = st_apply(&h->api->stores[c.store], &op, 1, &e);
  free(val);
  if (st == WGG_ST_OK) {
    cas_clear(&c);
    return ok_(r, NULL);
  }
  char m[300];
  wg_cval *ce = NULL;
  if (st == WGG_ST_ETAG_MISMATCH) { /* a fresh cas on the current value */
    char *key = c.key;
    c.key = NULL;
    size_t store = c.store;
    cas_clear(&c);
    uint32_t nrep = cas_read(h, store, key, m, sizeof m);
    if (nrep) {
      wg_cval *own = box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {nrep, v->cas}});
      if (!own) {
        cas_dtor(h, nrep);
        return oom();
      }
      ce = box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {1, own}});
      if (!ce) {
        free(own);
        cas_dtor(h, nrep);
        return oom();
      }
    }
  } else {
    snprintf(m, sizeof m, "%s", st_msg(st, &e));
    cas_clear(&c);
  }
  if (!ce) { /* store-error(other(m)) */
    wg_cval *se = kv_error(E_OTHER, m);
    if (!se || !(ce = box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {0, se}}))) {
      if (se) wg_cval_free(se);
      free(se);
      return oom();
    }
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, ce}};
  return NULL;
}

/* ---------------------------------------------------------------- batch */

/* get-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<list<option<tuple<string, list<u8>>>>, error> */
static wg_trap *kv_get_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  kv_ver *v = env;
  BUCKET(v, a[0], se);
  size_t n = a[1].of.seq.len;
  wg_cval *list = box((wg_cval){.kind = WG_CVAL_LIST});
  if (!list || !(list->of.seq.ptr = wg_cval_array(n ? n : 1))) {
    free(list);
    return oom();
  }
  list->of.seq.len = n;
  for (size_t i = 0; i < n; i++) list->of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_OPTION};
  char m[300] = "";
  wg_trap *t = NULL;
  for (size_t i = 0; i < n && !t && !*m; i++) {
    const wg_cval *k = &a[1].of.seq.ptr[i];
    char *key = arg_key(v->h, k, m, sizeof m);
    if (!key) break;
    wgg_state_got got;
    wgg_err e;
    int st = st_get(se, key, &got, &e);
    free(key);
    if (st != WGG_ST_OK) {
      snprintf(m, sizeof m, "%s", st_msg(st, &e));
      break;
    }
    if (got.found) {
      wg_cval *tup = box((wg_cval){.kind = WG_CVAL_TUPLE});
      wg_cval *b = bytes(got.value, got.value_len);
      if (!tup || !b || !(tup->of.seq.ptr = wg_cval_array(2)) ||
          !wg_cval_string(&tup->of.seq.ptr[0], k->of.str.ptr, k->of.str.len)) {
        if (tup) wg_cval_free(tup);
        free(tup);
        if (b) wg_cval_free(b);
        free(b);
        t = oom();
      } else {
        tup->of.seq.len = 2;
        tup->of.seq.ptr[1] = *b;
        free(b);
        list->of.seq.ptr[i].of.var.disc = 1;
        list->of.seq.ptr[i].of.var.val = tup;
      }
    }
    wgg_state_got_free(&got);
  }
  if (t || *m) {
    wg_cval_free(list);
    free(list);
    return t ? t : err_(r, E_OTHER, m);
  }
  return ok_(r, list);
}

/* set-many (tuples of key and value) and delete-many (keys): one apply, so
 * all take effect or none does (every store applies a batch atomically). */
static wg_trap *kv_write_many(kv_ver *v, const wg_cval *a, wg_cval *r, bool del) {
  BUCKET(v, a[0], se);
  size_t n = a[1].of.seq.len;
  wgg_state_op *ops = calloc(n ? n : 1, sizeof *ops);
  char m[300] = "";
  if (!ops) return oom();
  size_t i = 0;
  bool nomem = false;
  for (; i < n; i++) {
    const wg_cval *it = &a[1].of.seq.ptr[i];
    const wg_cval *k = del ? it : &it->of.seq.ptr[0];
    char *key = arg_key(v->h, k, m, sizeof m);
    if (!key) break;
    ops[i] = (wgg_state_op){.is_delete = del, .key = key};
    if (!del) {
      size_t len;
      char *val = p2c_bytes_dup(&it->of.seq.ptr[1], &len);
      if (!val) {
        free(key);
        nomem = true;
        break;
      }
      ops[i].value = val;
      ops[i].value_len = len;
    }
  }
  kv_op *op = i == n && n && !nomem && !*m ? kv_op_new(OP_WRITE) : NULL;
  if (op) { /* one atomic apply on the loop: parks */
    op->ops = ops;
    op->nops = n;
    return kv_op_run(op, se, r);
  }
  int st = WGG_ST_OK;
  wgg_err e;
  if (i == n && n) st = st_apply(se, ops, n, &e);
  for (size_t j = 0; j < i; j++) {
    free((char *)ops[j].key);
    free((char *)ops[j].value);
  }
  free(ops);
  if (nomem) return oom();
  if (*m) return err_(r, E_OTHER, m);
  return st == WGG_ST_OK ? ok_(r, NULL) : err_(r, E_OTHER, st_msg(st, &e));
}

/* set-many: func(bucket: borrow<bucket>, key-values: list<tuple<string, list<u8>>>) -> result<_, error> */
static wg_trap *kv_set_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return kv_write_many(env, a, r, false);
}

/* delete-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<_, error> */
static wg_trap *kv_delete_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return kv_write_many(env, a, r, true);
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
