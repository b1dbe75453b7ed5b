/*
 * kv_guest.c: a WASI 0.2 command that calls wasi:keyvalue and wasi:config
 * through hand-written canonical ABI imports (CanonicalABI.md: results
 * that flatten to more than one value come back through a return area
 * whose layout is commented at each call). Built twice by
 * tests/gate/p2_keyvalue.py: for 0.2.0-draft + config 0.2.0-rc.1 (world
 * draft/kv.wit) and, with -DDRAFT2, for 0.2.0-draft2 + config
 * 0.2.0-draft-2024-09-27 (draft2/kv.wit); clang-19, `jco embed`,
 * `jco new --wasi-command`.
 *
 *   kv_guest STORE         the whole script below against bucket STORE
 *   kv_guest STORE KEY     prints the value of KEY (or "none")
 *   kv_guest STORE --bench N   sets key k, then gets it N times (bench/p2_keyvalue.sh)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DRAFT2
#define KV "@0.2.0-draft2"
#define CFG "wasi:config/store@0.2.0-draft-2024-09-27"
#else
#define KV "@0.2.0-draft"
#define CFG "wasi:config/store@0.2.0-rc.1"
#endif
#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define STORE "wasi:keyvalue/store" KV
#define ATOMICS "wasi:keyvalue/atomics" KV
#define BATCH "wasi:keyvalue/batch" KV

/* wasm-ld wraps every export of a command but _start with the constructors
 * and destructors, so each cabi_realloc ends with libc's exit-time stdio
 * flush: a write to stdout while the canonical ABI forbids leaving the
 * instance ("cannot leave component instance", as in wasmtime). main makes
 * stdout unbuffered so that flush has nothing to write. */
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

typedef struct { const char *p; size_t n; } str;

IMPORT(STORE, "open") void kv_open(const char *id, size_t n, void *ret);
IMPORT(STORE, "[resource-drop]bucket") void kv_bucket_drop(int32_t b);
IMPORT(STORE, "[method]bucket.get") void kv_get(int32_t b, const char *k, size_t kn, void *ret);
IMPORT(STORE, "[method]bucket.set") void kv_set(int32_t b, const char *k, size_t kn, const void *v, size_t vn, void *ret);
IMPORT(STORE, "[method]bucket.delete") void kv_delete(int32_t b, const char *k, size_t kn, void *ret);
IMPORT(STORE, "[method]bucket.exists") void kv_exists(int32_t b, const char *k, size_t kn, void *ret);
#ifdef DRAFT2
IMPORT(STORE, "[method]bucket.list-keys") void kv_list(int32_t b, int32_t has, const char *c, size_t cn, void *ret);
IMPORT(ATOMICS, "increment") void kv_incr(int32_t b, const char *k, size_t kn, int64_t d, void *ret);
IMPORT(ATOMICS, "[static]cas.new") void kv_cas_new(int32_t b, const char *k, size_t kn, void *ret);
IMPORT(ATOMICS, "[method]cas.current") void kv_cas_current(int32_t c, void *ret);
IMPORT(ATOMICS, "[resource-drop]cas") void kv_cas_drop(int32_t c);
IMPORT(ATOMICS, "swap") void kv_swap(int32_t c, const void *v, size_t vn, void *ret);
#else
IMPORT(STORE, "[method]bucket.list-keys") void kv_list(int32_t b, int32_t has, int64_t c, void *ret);
IMPORT(ATOMICS, "increment") void kv_incr(int32_t b, const char *k, size_t kn, uint64_t d, void *ret);
#endif
IMPORT(BATCH, "get-many") void kv_get_many(int32_t b, const str *keys, size_t n, void *ret);
IMPORT(BATCH, "set-many") void kv_set_many(int32_t b, const str *kvs, size_t n, void *ret);
IMPORT(BATCH, "delete-many") void kv_delete_many(int32_t b, const str *keys, size_t n, void *ret);
IMPORT(CFG, "get") void cfg_get(const char *k, size_t kn, void *ret);
IMPORT(CFG, "get-all") void cfg_get_all(void *ret);

static _Alignas(8) uint8_t ret[32];

static uint32_t u32(size_t off) { uint32_t v; memcpy(&v, ret + off, 4); return v; }
static const char *ptr(size_t off) { return (const char *)(uintptr_t)u32(off); }

/* error = variant { no-such-store, access-denied, other(string) } at ret + off */
static void print_error(size_t off) {
  static const char *const names[] = {"no-such-store", "access-denied", "other"};
  uint8_t d = ret[off];
  printf("error %s", d < 3 ? names[d] : "?");
  if (d == 2) printf(": %.*s", (int)u32(off + 8), ptr(off + 4));
  printf("\n");
}

/* result<_, error> (payload at 4) */
static int unit_result(const char *what) {
  printf("%s: ", what);
  if (ret[0]) return print_error(4), -1;
  printf("ok\n");
  return 0;
}

/* option<list<u8>> at ret + off */
static void print_opt_bytes(size_t off) {
  if (!ret[off]) printf("none\n");
  else printf("%.*s\n", (int)u32(off + 8), ptr(off + 4));
}

static int32_t open_(const char *name) {
  kv_open(name, strlen(name), ret); /* result<bucket, error>: handle at 4 */
  printf("open %s: ", name);
  if (ret[0]) return print_error(4), -1;
  printf("ok\n");
  return (int32_t)u32(4);
}

static void get(int32_t b, const char *k) {
  kv_get(b, k, strlen(k), ret); /* result<option<list<u8>>, error>: option at 4 */
  printf("get %s: ", k);
  if (ret[0]) print_error(4);
  else print_opt_bytes(4);
}

static void set(int32_t b, const char *k, const char *v) {
  char what[80];
  kv_set(b, k, strlen(k), v, strlen(v), ret);
  snprintf(what, sizeof what, "set %s", k);
  unit_result(what);
}

static void exists(int32_t b, const char *k) {
  kv_exists(b, k, strlen(k), ret); /* result<bool, error> */
  printf("exists %s: ", k);
  if (ret[0]) print_error(4);
  else printf("%s\n", ret[4] ? "true" : "false");
}

static void incr(int32_t b, const char *k, long long d) {
  kv_incr(b, k, strlen(k), d, ret); /* result<u64|s64, error>: value (or error) at 8 */
  printf("increment %s %lld: ", k, d);
  if (ret[0]) return print_error(8);
  int64_t v;
  memcpy(&v, ret + 8, 8);
#ifdef DRAFT2
  printf("%lld\n", (long long)v);
#else
  printf("%llu\n", (unsigned long long)(uint64_t)v);
#endif
}

/* list-keys from cursor (NULL: none); prints the count, the first and last
 * key and the next cursor; returns the next cursor (malloc'd) or NULL */
static char *list(int32_t b, const char *cursor) {
  char *next = NULL;
  size_t keys, n, base;
#ifdef DRAFT2
  kv_list(b, cursor != NULL, cursor ? cursor : "", cursor ? strlen(cursor) : 0, ret);
  base = 4; /* key-response at 4: keys (4, 8), cursor option<string> (12; 16, 20) */
#else
  kv_list(b, cursor != NULL, cursor ? atoll(cursor) : 0, ret);
  base = 8; /* key-response at 8: keys (8, 12), cursor option<u64> (16; 24) */
#endif
  printf("list-keys %s: ", cursor ? cursor : "-");
  if (ret[0]) return print_error(base), NULL;
  keys = u32(base);
  n = u32(base + 4);
  const str *k = (const str *)(uintptr_t)keys;
  printf("%zu keys", n);
  if (n) printf(" %.*s .. %.*s", (int)k[0].n, k[0].p, (int)k[n - 1].n, k[n - 1].p);
  for (size_t i = 0; n <= 4 && i < n; i++) printf("%s%.*s%s", i ? "," : " [", (int)k[i].n, k[i].p, i + 1 == n ? "]" : "");
#ifdef DRAFT2
  if (ret[12]) {
    next = malloc(u32(20) + 1);
    memcpy(next, ptr(16), u32(20));
    next[u32(20)] = '\0';
  }
#else
  if (ret[16]) {
    uint64_t c;
    memcpy(&c, ret + 24, 8);
    next = malloc(24);
    snprintf(next, 24, "%llu", (unsigned long long)c);
  }
#endif
  printf(", cursor %s\n", next ? next : "none");
  return next;
}

static void config(void) {
  cfg_get("greeting", 8, ret); /* result<option<string>, error>: option at 4; error upstream|io at 4 */
  printf("config greeting: ");
  if (ret[0]) printf("error %s: %.*s\n", ret[4] ? "io" : "upstream", (int)u32(12), ptr(8));
  else if (!ret[4]) printf("none\n");
  else printf("%.*s\n", (int)u32(12), ptr(8));
  cfg_get("missing", 7, ret);
  printf("config missing: %s\n", ret[0] ? "error" : ret[4] ? "some" : "none");
  cfg_get_all(ret); /* result<list<tuple<string, string>>, error>: list at 4 */
  printf("config all:");
  if (ret[0]) {
    printf(" error %s: %.*s\n", ret[4] ? "io" : "upstream", (int)u32(12), ptr(8));
    return;
  }
  const str *t = (const str *)(uintptr_t)u32(4);
  for (size_t i = 0; i < u32(8); i++) printf(" %.*s=%.*s", (int)t[2 * i].n, t[2 * i].p, (int)t[2 * i + 1].n, t[2 * i + 1].p);
  printf("\n");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0); /* see cabi_realloc */
  const char *store = argc > 1 ? argv[1] : "statestore";
  int32_t b = open_(store);
  if (b < 0) return 1;
  if (argc > 3 && !strcmp(argv[2], "--bench")) {
    kv_set(b, "k", 1, "{\"v\":1}", 7, ret);
    long n = atol(argv[3]);
    for (long i = 0; i < n; i++) {
      kv_get(b, "k", 1, ret); /* result<option<list<u8>>, error>: the value at (8, 12) */
      if (ret[0] || !ret[4]) return printf("get k failed\n"), 1;
      free((void *)ptr(8));
    }
    return 0;
  }
  if (argc > 2) {
    get(b, argv[2]);
    return 0;
  }
  set(b, "a", "hello");
  get(b, "a");
  exists(b, "a");
  exists(b, "zz");
  get(b, "zz");
  kv_delete(b, "a", 1, ret);
  unit_result("delete a");
  exists(b, "a");
  kv_delete(b, "a", 1, ret);
  unit_result("delete a again");
  set(b, "bad||key", "x");
  kv_get(b, "a\0b", 3, ret); /* a key the store could not hold */
  printf("get a\\0b: ");
  if (ret[0]) print_error(4);
  else print_opt_bytes(4);
  kv_set(b, "bin", 3, "a\0\xff", 3, ret); /* bytes, not text */
  kv_get(b, "bin", 3, ret);
  printf("get bin: ");
  if (ret[0]) print_error(4);
  else if (!ret[4]) printf("none\n");
  else printf("%u bytes %02x %02x %02x\n", u32(12), (uint8_t)ptr(8)[0], (uint8_t)ptr(8)[1], (uint8_t)ptr(8)[2]);
  kv_delete(b, "bin", 3, ret);
  incr(b, "n", 5);
  incr(b, "n", 7);
#ifdef DRAFT2
  incr(b, "n", -20);
#endif
  set(b, "text", "abc");
  incr(b, "text", 1); /* not an integer */
  kv_delete(b, "text", 4, ret);
#ifdef DRAFT2
  set(b, "big", "9223372036854775807");
#else
  set(b, "big", "18446744073709551615");
#endif
  incr(b, "big", 1); /* overflows */
  kv_delete(b, "big", 3, ret);

  /* batch */
  str kvs[4] = {{"b1", 2}, {"one", 3}, {"b2", 2}, {"two", 3}};
  kv_set_many(b, kvs, 2, ret); /* list<tuple<string, list<u8>>>: (key, value) pairs */
  unit_result("set-many b1 b2");
  str keys[3] = {{"b1", 2}, {"zz", 2}, {"b2", 2}};
  kv_get_many(b, keys, 3, ret); /* result<list<option<tuple<string, list<u8>>>>, error>: list at 4 */
  printf("get-many b1 zz b2:");
  if (ret[0]) print_error(4);
  else {
    const uint8_t *e = (const uint8_t *)ptr(4);
    for (size_t i = 0; i < u32(8); i++, e += 20) { /* disc; key (4, 8); value (12, 16) */
      uint32_t kp, kn, vp, vn;
      memcpy(&kp, e + 4, 4), memcpy(&kn, e + 8, 4), memcpy(&vp, e + 12, 4), memcpy(&vn, e + 16, 4);
      if (!e[0]) printf(" none");
      else printf(" %.*s=%.*s", (int)kn, (const char *)(uintptr_t)kp, (int)vn, (const char *)(uintptr_t)vp);
    }
    printf("\n");
  }
  kv_delete_many(b, keys, 1, ret);
  unit_result("delete-many b1");
  get(b, "b1");

  /* list-keys with pages: 1005 more keys */
  static char names[1005][8];
  static str many[2 * 1005];
  for (int i = 0; i < 1005; i++) {
    snprintf(names[i], sizeof names[i], "p%04d", i);
    many[2 * i] = (str){names[i], 5};
    many[2 * i + 1] = (str){"v", 1};
  }
  kv_set_many(b, many, 1005, ret);
  unit_result("set-many 1005");
  char *c = list(b, NULL);
  if (c) {
    char *c2 = list(b, c);
    free(c2);
    free(c);
  }
  for (int i = 0; i < 1005; i++) many[i] = (str){names[i], 5};
  kv_delete_many(b, many, 1005, ret);
  unit_result("delete-many 1005");
  free(list(b, NULL));
  free(list(b, "999999")); /* past the end: no keys */
#ifdef DRAFT2
  free(list(b, "12abc"));
#endif

#ifdef DRAFT2
  /* compare-and-swap on ETags */
  kv_cas_new(b, "c", 1, ret); /* result<cas, error>: handle at 4 */
  int32_t cas = ret[0] ? -1 : (int32_t)u32(4);
  if (cas < 0) print_error(4);
  kv_cas_current(cas, ret);
  printf("cas current c: ");
  print_opt_bytes(4);
  kv_cas_new(b, "c", 1, ret);
  int32_t cas2 = (int32_t)u32(4);
  kv_swap(cas, "first", 5, ret); /* result<_, cas-error>: cas-error at 4, its payload at 8 */
  unit_result("swap c first");
  kv_swap(cas2, "second", 6, ret); /* cas2 read before the first swap: fails with a fresh cas */
  printf("swap c second: %s\n", !ret[0] ? "ok" : ret[4] == 1 ? "cas-failed" : "store-error");
  if (ret[0] && ret[4] == 1) {
    int32_t cas3 = (int32_t)u32(8);
    kv_cas_current(cas3, ret);
    printf("cas current c: ");
    print_opt_bytes(4);
    kv_swap(cas3, "third", 5, ret);
    unit_result("swap c third");
  }
  get(b, "c");
  kv_cas_new(b, "c", 1, ret);
  kv_cas_drop((int32_t)u32(4)); /* dropped unused: the host forgets it */
  kv_delete(b, "c", 1, ret);
#endif

  kv_delete(b, "n", 1, ret);
  set(b, "kept", "from " KV);
  kv_bucket_drop(b);
  open_("nope");
  open_("hidden");
  config();
  return 0;
}
