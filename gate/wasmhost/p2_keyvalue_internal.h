/*
 * p2_keyvalue_internal.h: what the two halves of wasi:keyvalue share
 * (p2_keyvalue.c: store and atomics, the operation driver, definitions;
 * p2_keyvalue_batch.c: batch and list-keys): the host state, the values
 * helpers and the operation every call runs as (kv_op).
 *
 * Every call that reaches the store is a kv_op: one or more store calls
 * through wgg_state_call_start (list-keys: the store's query through
 * wgg_api_submit_store) on the loop p2c_wait_init chose, parked on the
 * store's answer where the guest can park, inline otherwise
 * (p2_cloud_internal.h "parking on a backend answer").
 */
#ifndef WGG_WASMHOST_P2_KEYVALUE_INTERNAL_H
#define WGG_WASMHOST_P2_KEYVALUE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "components/state/query.h"
#include "wasmhost/p2_cloud_internal.h"

typedef struct kv_host kv_host;

typedef struct kv_ver {
  kv_host *h;
  bool draft2;
  const wg_component_resource_type *bucket, *cas;
} kv_ver;

/* A cas handle: the key, the value read and its ETag. */
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

/* error: variant { no-such-store, access-denied, other(string) } */
enum { E_NO_SUCH_STORE, E_ACCESS_DENIED, E_OTHER };

/* What a kv_op does. */
enum kv_what {
  OP_GET,     /* bucket.get */
  OP_EXISTS,  /* bucket.exists */
  OP_WRITE,   /* bucket.set/delete, set-many/delete-many: one apply */
  OP_INCR,    /* increment: read, write with the ETag read, again on a mismatch */
  OP_MANY,    /* get-many: one get per key, in order */
  OP_CAS_NEW, /* cas.new: a read kept as a cas handle */
  OP_SWAP,    /* swap: a write with the cas's ETag; on a mismatch a read for a fresh cas */
  OP_LIST,    /* list-keys: the store's query */
};

typedef struct kv_op kv_op;
struct kv_op {
  p2c_wait w; /* first: the operation is its p2c_wait */
  kv_ver *v;
  wgg_store_entry *se;
  enum kv_what what;
  wgg_state_call c;
  bool starting;     /* inside the store call's start: an answer now is taken by the driver */
  bool answered;
  char *key, *val;   /* prefixed key and value (owned) */
  wgg_state_op op;   /* a one-item write's, the increment's or the swap's */
  wgg_state_op *ops; /* set-many/delete-many: n ops (keys and values owned) */
  size_t nops;
  wgg_state_got got; /* the last read */
  wgg_err e;
  char msg[600];     /* the failure, "" when none */
  /* increment: draft2 (s64) or draft (u64) */
  bool draft2, reading;
  int attempt;
  uint64_t du, nu;
  int64_t ds, ns;
  char num[32];
  /* get-many: keys[i] as the guest wrote them, their prefixed forms, and the values read */
  const char **ukeys; /* n user keys (owned, NUL-terminated) */
  char **pkeys;
  wgg_state_got *gots;
  size_t n, i;
  /* swap: the cas's ETag and whether the key existed when read */
  char *etag;
  bool found;
  /* list-keys: the first key of the page, the query's rows */
  uint64_t offset;
  wgg_qresult res;
};

/* ---- values (p2_keyvalue.c) ---- */
wg_trap *kv_oom(void);
wg_cval *kv_box(wg_cval v);
/* r = result::ok(ok) (ok boxed, NULL for result<_, e>) */
wg_trap *kv_ok(wg_cval *r, wg_cval *ok);
/* r = result::err(kind), other(msg) for E_OTHER */
wg_trap *kv_err(wg_cval *r, int kind, const char *msg);
/* option<list<u8>> of a read item */
wg_cval *kv_opt_bytes(bool found, const char *p, size_t n);
/* a list<u8> boxed */
wg_cval *kv_bytes(const char *p, size_t n);
/* The prefixed store key of a string argument, or NULL with msg set (the state API's rules). */
char *kv_arg_key(kv_host *h, const wg_cval *v, char *msg, size_t cap);
/* The store of a bucket handle (own or borrow), or NULL. */
wgg_store_entry *kv_bucket_of(kv_ver *v, const wg_cval *b);
/* Failure text of a store status. */
const char *kv_st_msg(int st, const wgg_err *e);

/* ---- operations (p2_keyvalue.c) ---- */
/* A new operation of v on se (NULL on OOM). */
kv_op *kv_op_new(kv_ver *v, wgg_store_entry *se, enum kv_what what);
/* Runs o (taken): the host function's return (its result, or the trap that parks the guest). */
wg_trap *kv_op_run(kv_op *o, wg_cval *r);
void kv_op_free(kv_op *o);

/* ---- batch and list-keys (p2_keyvalue_batch.c): host functions ---- */
wg_trap *kv_get_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
wg_trap *kv_set_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
wg_trap *kv_delete_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
wg_trap *kv_list_keys(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
/* The results of a finished OP_MANY / OP_LIST (o->msg empty). */
wg_trap *kv_many_result(kv_op *o, wg_cval *r);
wg_trap *kv_list_result(kv_op *o, wg_cval *r);
/* list-keys' store call: the query on the store's thread (0, or -1 when it cannot be queued). */
int kv_list_start(kv_op *o);

#endif
