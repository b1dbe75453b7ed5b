/*
 * dapr_guest.c: a WASI 0.2 command using dapr:runtime@0.1.0 (wit/dapr,
 * world guest.wit) with hand-written canonical ABI imports; built at test
 * time and run by tests/gate/p2_dapr.py.
 *
 *   dapr_guest STORE PUBSUB SECRETSTORE CONFIGSTORE BINDING
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(i, n) __attribute__((import_module("dapr:runtime/" i "@0.1.0"), import_name(n)))

/* stdout is unbuffered: see tests/components/kv/kv_guest.c */
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

typedef struct { const char *p; size_t n; } str;
typedef struct { str k, v; } pair;
/* save-item: key, value, etag option<string>, options {concurrency, consistency}, metadata */
typedef struct {
  str key, value;
  uint8_t has_etag;
  str etag;
  uint8_t concurrency, consistency;
  const pair *md;
  size_t nmd;
} save_item;
/* operation: variant { upsert(save-item), delete(delete-item { key, etag, options }) } */
typedef struct {
  uint8_t disc;
  union {
    save_item up;
    struct { str key; uint8_t has_etag; str etag; uint8_t concurrency, consistency; } del;
  } u;
} operation;
_Static_assert(sizeof(save_item) == 40, "save-item layout");
_Static_assert(sizeof(operation) == 44, "operation layout");

IMPORT("state", "get")
void st_get(const char *s, size_t sn, const char *k, size_t kn, const pair *md, size_t nmd, void *ret);
IMPORT("state", "save") void st_save(const char *s, size_t sn, const save_item *items, size_t n, void *ret);
IMPORT("state", "delete")
void st_delete(const char *s, size_t sn, const char *k, size_t kn, int32_t has_etag, const char *e, size_t en,
               int32_t concurrency, int32_t consistency, void *ret);
IMPORT("state", "transaction")
void st_txn(const char *s, size_t sn, const operation *ops, size_t n, const pair *md, size_t nmd, void *ret);
IMPORT("publisher", "publish")
void publish_(const char *ps, size_t psn, const char *t, size_t tn, const void *d, size_t dn, int32_t has_ct,
              const char *ct, size_t ctn, const pair *md, size_t nmd, void *ret);
IMPORT("secrets", "get")
void sec_get(const char *s, size_t sn, const char *k, size_t kn, const pair *md, size_t nmd, void *ret);
IMPORT("secrets", "get-bulk") void sec_bulk(const char *s, size_t sn, const pair *md, size_t nmd, void *ret);
IMPORT("output-bindings", "invoke-binding")
void bind_(const char *n, size_t nn, const char *op, size_t opn, const void *d, size_t dn, const pair *md, size_t nmd,
           void *ret);
IMPORT("configuration", "get")
void cfg_get(const char *s, size_t sn, const str *keys, size_t nk, const pair *md, size_t nmd, void *ret);

static _Alignas(8) uint8_t ret[32];
static uint32_t u32(size_t off) { uint32_t v; memcpy(&v, ret + off, 4); return v; }
static const char *ptr(size_t off) { return (const char *)(uintptr_t)u32(off); }
#define S(x) (str){x, sizeof x - 1}
#define ARG(s) s, strlen(s)

static char etag[128];

/* result<T, error>: error = record { code, message, http-status: u16 } at 4 */
static int result(const char *what) {
  printf("%s: ", what);
  if (!ret[0]) return 0;
  uint16_t http;
  memcpy(&http, ret + 20, 2);
  printf("error %u %.*s: %.*s\n", http, (int)u32(8), ptr(4), (int)u32(16), ptr(12));
  return -1;
}

static void get(const char *store, const char *key) {
  char what[64];
  snprintf(what, sizeof what, "get %s", key);
  st_get(ARG(store), ARG(key), NULL, 0, ret);
  if (result(what)) return;
  if (!ret[4]) {
    printf("none\n");
    return;
  }
  printf("%.*s etag %s\n", (int)u32(12), ptr(8), ret[16] ? "yes" : "no");
  if (ret[16]) snprintf(etag, sizeof etag, "%.*s", (int)u32(24), ptr(20));
}

static void save(const char *store, const char *key, const char *value, const char *et, uint8_t conc) {
  save_item it = {.key = {ARG(key)}, .value = {ARG(value)}, .has_etag = et != NULL, .concurrency = conc};
  if (et) it.etag = (str){ARG(et)};
  char what[96];
  snprintf(what, sizeof what, "save %s=%s%s", key, value, et ? " with etag" : "");
  st_save(ARG(store), &it, 1, ret);
  if (!result(what)) printf("ok\n");
}

static void publish(const char *ps, const char *topic, const char *data, const pair *md, size_t nmd) {
  char what[96];
  snprintf(what, sizeof what, "publish %s", topic);
  publish_(ARG(ps), ARG(topic), ARG(data), 1, ARG("text/plain"), md, nmd, ret);
  if (!result(what)) printf("ok\n");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 6) return 2;
  const char *store = argv[1], *ps = argv[2], *secrets = argv[3], *cfg = argv[4];

  save(store, "k1", "v1", NULL, 0);
  get(store, "k1");
  char first[128];
  snprintf(first, sizeof first, "%s", etag);
  save(store, "k1", "v2", first, 0);
  save(store, "k1", "v3", first, 0); /* stale etag */
  get(store, "k1");
  st_delete(ARG(store), ARG("k1"), 1, ARG(first), 0, 0, ret);
  if (!result("delete k1 stale etag")) printf("ok\n");
  save(store, "bad||key", "x", NULL, 0);
  get("nope", "k1");
  get("hidden", "k1"); /* scoped to another app ID */

  /* a transaction: two upserts and a delete with the current etag */
  operation ops[3] = {{.disc = 0, .u.up = {.key = S("t1"), .value = S("one")}},
                      {.disc = 0, .u.up = {.key = S("t2"), .value = S("two")}},
                      {.disc = 1, .u.del = {.key = S("k1"), .has_etag = 1, .etag = {etag, strlen(etag)}}}};
  st_txn(ARG(store), ops, 3, NULL, 0, ret);
  if (!result("transaction")) printf("ok\n");
  get(store, "k1");
  get(store, "t2");
  st_delete(ARG(store), ARG("t1"), 0, NULL, 0, 1, 0, ret); /* first-write without etag */
  if (!result("delete t1")) printf("ok\n");

  pair raw = {S("rawPayload"), S("true")};
  publish(ps, "orders", "order 1", NULL, 0);
  publish(ps, "orders", "order 2 raw", &raw, 1);
  publish(ps, "forbidden", "x", NULL, 0);

  sec_get(ARG(secrets), ARG("db-password"), NULL, 0, ret);
  if (!result("secret db-password")) {
    for (uint32_t i = 0; i < u32(8); i++) {
      const pair *p = (const pair *)(uintptr_t)u32(4) + i;
      printf("%s%.*s=%.*s", i ? " " : "", (int)p->k.n, p->k.p, (int)p->v.n, p->v.p);
    }
    printf("\n");
  }
  sec_get(ARG(secrets), ARG("nested:inner"), NULL, 0, ret);
  if (!result("secret nested:inner")) printf("%u pair(s)\n", u32(8));
  sec_bulk(ARG(secrets), NULL, 0, ret);
  if (!result("secrets bulk")) { /* list<tuple<string, list<tuple<string, string>>>>: 16 bytes an entry */
    uint32_t pairs = 0;
    for (uint32_t i = 0; i < u32(8); i++) pairs += ((const uint32_t *)(uintptr_t)u32(4))[4 * i + 3];
    printf("%u secret(s), %u pair(s)\n", u32(8), pairs);
  }
  sec_get(ARG("nostore"), ARG("db-password"), NULL, 0, ret);
  if (!result("secret from nostore")) printf("ok\n");

  str keys[2] = {S("greeting"), S("missing")};
  cfg_get(ARG(cfg), keys, 2, NULL, 0, ret);
  if (!result("config")) {
    for (uint32_t i = 0; i < u32(8); i++) {
      const str *it = (const str *)(uintptr_t)u32(4) + 3 * i;
      printf("%.*s=%.*s (version %.*s)", (int)it[0].n, it[0].p, (int)it[1].n, it[1].p, (int)it[2].n, it[2].p);
    }
    printf("\n");
  }

  /* bindings.localstorage: create a file, read it back; an operation it has not */
  pair fname = {S("fileName"), S("hello.txt")};
  bind_(ARG(argv[5]), ARG("create"), ARG("file body"), &fname, 1, ret);
  if (!result("binding create")) {
    printf("%.*s,", (int)u32(8), ptr(4));
    for (uint32_t i = 0; i < u32(16); i++) {
      const pair *p = (const pair *)(uintptr_t)u32(12) + i;
      printf(" %.*s=%.*s", (int)p->k.n, p->k.p, (int)p->v.n, p->v.p);
    }
    printf("\n");
  }
  bind_(ARG(argv[5]), ARG("get"), "", 0, &fname, 1, ret);
  if (!result("binding get")) printf("%.*s\n", (int)u32(8), ptr(4));
  bind_(ARG(argv[5]), ARG("explode"), "", 0, NULL, 0, ret);
  if (!result("binding explode")) printf("ok\n");
  return 0;
}
