/*
 * cloudpark.c: a wasi:http/proxy component whose handler makes one call of a
 * cloud interface per request, in plain C against the canonical ABI by hand
 * (no bindings generator, no libc), for tests/gate/p2_cloud_park.py: each of
 * these calls parks the guest on the Dapr component's answer instead of
 * blocking the loop thread (issue 14; gate/wasmhost/p2_cloud_wait.c).
 *
 *   /ping                     200 "pong", no call
 *   /cas/STORE/KEY            wasi:keyvalue@0.2.0-draft2 cas.new + swap("swapped"): "ok" | "cas-failed"
 *   /many/STORE               batch.get-many ["a", "b"]: "N found"
 *   /list/STORE               bucket.list-keys(none): "N keys"
 *   /config/KEY               wasi:config/store@0.2.0-draft-2024-09-27 get: the value | "none"
 *   /publish/TOPIC            wasi:messaging@0.2.0-draft connect("bus") + send(TOPIC, "hi"): "ok"
 *   /dapr-get/STORE/KEY       dapr:runtime state.get: the value | "none"
 *   /dapr-publish/PUBSUB/TOPIC dapr:runtime publisher.publish("hi"): "ok"
 *   /dapr-bind/NAME           dapr:runtime output-bindings.invoke-binding(NAME, "get"): "N bytes"
 *   /dapr-invoke/APP/METHOD   dapr:runtime invoke.invoke(APP, "GET", METHOD): "STATUS: BODY"
 *
 * A call's error answers 500 with its message. Built at test time by build.sh
 * (clang-19 --target=wasm32 -nostdlib, `jco embed`, `jco new`); never committed.
 */
#include <stddef.h>
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))
#define HTTP "wasi:http/types@0.2.3"
#define STREAMS "wasi:io/streams@0.2.3"
#define KV "wasi:keyvalue/store@0.2.0-draft2"
#define ATOMICS "wasi:keyvalue/atomics@0.2.0-draft2"
#define BATCH "wasi:keyvalue/batch@0.2.0-draft2"
#define MSG "wasi:messaging/types@0.2.0-draft"

#include "../http/bump_realloc.h" /* cabi_realloc */

IMPORT(HTTP, "[method]incoming-request.path-with-query") void req_path(int32_t req, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void drop_request(int32_t);
IMPORT(HTTP, "[constructor]fields") int32_t fields_new(void);
IMPORT(HTTP, "[constructor]outgoing-response") int32_t resp_new(int32_t headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code") int32_t resp_status(int32_t r, int32_t code);
IMPORT(HTTP, "[method]outgoing-response.body") void resp_body(int32_t r, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write") void obody_write(int32_t b, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish") void obody_finish(int32_t b, int32_t has_trailers, int32_t t, void *ret);
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(int32_t param, int32_t is_err, int32_t resp, int32_t a, int64_t b, int32_t c, int32_t d, int32_t e,
                  int32_t f);
IMPORT(STREAMS, "[method]output-stream.blocking-write-and-flush") void out_write(int32_t s, const void *p, size_t n, void *ret);
IMPORT(STREAMS, "[resource-drop]output-stream") void drop_out(int32_t);

IMPORT(KV, "open") void kv_open(const char *id, size_t n, void *ret);
IMPORT(KV, "[resource-drop]bucket") void kv_drop(int32_t b);
IMPORT(KV, "[method]bucket.list-keys") void kv_list(int32_t b, int32_t some, const char *c, size_t cn, void *ret);
IMPORT(ATOMICS, "[static]cas.new") void cas_new(int32_t b, const char *k, size_t kn, void *ret);
IMPORT(ATOMICS, "swap") void cas_swap(int32_t cas, const void *v, size_t vn, void *ret);
IMPORT(ATOMICS, "[resource-drop]cas") void cas_drop(int32_t c);
IMPORT(BATCH, "get-many") void kv_get_many(int32_t b, const void *keys, size_t n, void *ret);
IMPORT("wasi:config/store@0.2.0-draft-2024-09-27", "get") void cfg_get(const char *k, size_t kn, void *ret);
IMPORT(MSG, "[static]client.connect") void msg_connect(const char *n, size_t nl, void *ret);
IMPORT(MSG, "[resource-drop]client") void msg_client_drop(int32_t c);
IMPORT(MSG, "[constructor]message") int32_t msg_new(const void *d, size_t n);
IMPORT("wasi:messaging/producer@0.2.0-draft", "send") void msg_send(int32_t c, const char *t, size_t tn, int32_t m, void *ret);
IMPORT("dapr:runtime/state@0.1.0", "get")
void dapr_get(const char *s, size_t sn, const char *k, size_t kn, const void *md, size_t mdn, void *ret);
IMPORT("dapr:runtime/publisher@0.1.0", "publish")
void dapr_publish(const char *p, size_t pn, const char *t, size_t tn, const void *d, size_t dn, int32_t ct_some,
                  const char *ct, size_t ctn, const void *md, size_t mdn, void *ret);
IMPORT("dapr:runtime/output-bindings@0.1.0", "invoke-binding")
void dapr_bind(const char *n, size_t nn, const char *op, size_t opn, const void *d, size_t dn, const void *md, size_t mdn,
               void *ret);

IMPORT("dapr:runtime/invoke@0.1.0", "invoke")
void dapr_invoke(const char *a, size_t an, const char *v, size_t vn, const char *m, size_t mn, const void *h, size_t hn,
                 const void *b, size_t bn, void *ret);

static char out[512];
static size_t out_len;

static void put(const char *p, size_t n) {
  for (size_t i = 0; i < n && out_len < sizeof out; i++) out[out_len++] = p[i];
}

static void put_num(uint32_t v) {
  char d[10];
  size_t k = 0;
  do d[k++] = (char)('0' + v % 10); while (v /= 10);
  while (k) put(&d[--k], 1);
}

/* A string (pointer, length) at p. */
static void put_str_at(const uint8_t *p) {
  const uint32_t *s = (const uint32_t *)p;
  put((const char *)(uintptr_t)s[0], s[1]);
}

/* wasi:keyvalue error at e (variant { no-such-store, access-denied, other(string) }): 500 */
static int32_t kv_error(const uint8_t *e) {
  put(e[0] == 0 ? "no-such-store" : e[0] == 1 ? "access-denied" : "other: ", e[0] < 2 ? 13 : 7);
  if (e[0] == 2) put_str_at(e + 4);
  return 500;
}

/* "STORE/REST": the bucket of STORE (0 with the answer's status in *st), *rest the part after '/' */
static int32_t bucket(const char *s, size_t n, const char **rest, size_t *rn, int32_t *st) {
  size_t k = 0;
  while (k < n && s[k] != '/') k++;
  *rest = s + (k < n ? k + 1 : n);
  *rn = k < n ? n - k - 1 : 0;
  uint8_t r[16] __attribute__((aligned(4)));
  kv_open(s, k, r);
  if (r[0]) {
    *st = kv_error(r + 4);
    return 0;
  }
  return *(int32_t *)(r + 4);
}

static int32_t do_cas(const char *s, size_t n) {
  const char *key;
  size_t kn;
  int32_t st = 500, b = bucket(s, n, &key, &kn, &st);
  if (!b) return st;
  uint8_t r[24] __attribute__((aligned(4)));
  cas_new(b, key, kn, r); /* result<cas, error> */
  kv_drop(b);
  if (r[0]) return kv_error(r + 4);
  cas_swap(*(int32_t *)(r + 4), "swapped", 7, r); /* result<_, cas-error> */
  if (!r[0]) {
    put("ok", 2);
    return 200;
  }
  if (r[4] == 1) { /* cas-failed(cas) */
    cas_drop(*(int32_t *)(r + 8));
    put("cas-failed", 10);
    return 409;
  }
  return kv_error(r + 8);
}

static int32_t do_many(const char *s, size_t n) {
  const char *rest;
  size_t rn;
  int32_t st = 500, b = bucket(s, n, &rest, &rn, &st);
  if (!b) return st;
  static const char a[] = "a", bb[] = "b";
  uint32_t keys[4] = {(uint32_t)(uintptr_t)a, 1, (uint32_t)(uintptr_t)bb, 1};
  uint8_t r[16] __attribute__((aligned(4)));
  kv_get_many(b, keys, 2, r); /* result<list<option<tuple<string, list<u8>>>>, error> */
  kv_drop(b);
  if (r[0]) return kv_error(r + 4);
  const uint8_t *el = (const uint8_t *)(uintptr_t) * (uint32_t *)(r + 4);
  uint32_t len = *(uint32_t *)(r + 8), found = 0;
  for (uint32_t i = 0; i < len; i++) found += el[20 * i] != 0;
  put_num(found);
  put(" found", 6);
  return 200;
}

static int32_t do_list(const char *s, size_t n) {
  const char *rest;
  size_t rn;
  int32_t st = 500, b = bucket(s, n, &rest, &rn, &st);
  if (!b) return st;
  uint8_t r[28] __attribute__((aligned(4)));
  kv_list(b, 0, 0, 0, r); /* result<key-response { keys, cursor: option<string> }, error> */
  kv_drop(b);
  if (r[0]) return kv_error(r + 4);
  put_num(*(uint32_t *)(r + 8));
  put(" keys", 5);
  return 200;
}

static int32_t do_config(const char *k, size_t n) {
  uint32_t r[4];
  cfg_get(k, n, r); /* result<option<string>, error { upstream(string), io(string) }> */
  if (!(uint8_t)r[0] && !(uint8_t)r[1]) {
    put("none", 4);
    return 200;
  }
  put((const char *)(uintptr_t)r[2], r[3]);
  return (uint8_t)r[0] ? 500 : 200;
}

static int32_t do_publish(const char *t, size_t n) {
  uint8_t r[16] __attribute__((aligned(4)));
  msg_connect("bus", 3, r); /* result<client, error> */
  if (r[0]) {
    put("connect: ", 9);
    if (r[4]) put_str_at(r + 8);
    return 500;
  }
  int32_t c = *(int32_t *)(r + 4);
  msg_send(c, t, n, msg_new("hi", 2), r); /* result<_, error> */
  msg_client_drop(c);
  if (r[0]) {
    if (r[4]) put_str_at(r + 8);
    return 500;
  }
  put("ok", 2);
  return 200;
}

/* dapr:runtime's error record { code, message, http-status } at e */
static int32_t dapr_error(const uint8_t *e) {
  put_str_at(e + 8);
  return 500;
}

static int32_t do_dapr_get(const char *s, size_t n) {
  size_t k = 0;
  while (k < n && s[k] != '/') k++;
  if (k == n) return 400;
  uint8_t r[28] __attribute__((aligned(4)));
  dapr_get(s, k, s + k + 1, n - k - 1, 0, 0, r); /* result<option<item>, error> */
  if (r[0]) return dapr_error(r + 4);
  if (!r[4]) put("none", 4);
  else put_str_at(r + 8);
  return 200;
}

static int32_t do_dapr_publish(const char *s, size_t n) {
  size_t k = 0;
  while (k < n && s[k] != '/') k++;
  if (k == n) return 400;
  uint8_t r[24] __attribute__((aligned(4)));
  dapr_publish(s, k, s + k + 1, n - k - 1, "hi", 2, 0, 0, 0, 0, 0, r); /* result<_, error> */
  if (r[0]) return dapr_error(r + 4);
  put("ok", 2);
  return 200;
}

static int32_t do_dapr_bind(const char *s, size_t n) {
  uint8_t r[24] __attribute__((aligned(4)));
  dapr_bind(s, n, "get", 3, 0, 0, 0, 0, r); /* result<binding-response { data, metadata }, error> */
  if (r[0]) return dapr_error(r + 4);
  put_num(*(uint32_t *)(r + 8));
  put(" bytes", 6);
  return 200;
}

static int32_t do_dapr_invoke(const char *s, size_t n) {
  size_t k = 0;
  while (k < n && s[k] != '/') k++;
  if (k == n) return 400;
  uint8_t r[28] __attribute__((aligned(4)));
  dapr_invoke(s, k, "GET", 3, s + k + 1, n - k - 1, 0, 0, 0, 0, r); /* result<response { status, headers, body }, error> */
  if (r[0]) return dapr_error(r + 4);
  put_num(*(uint16_t *)(r + 4));
  put(": ", 2);
  put_str_at(r + 16);
  return 200;
}

static int prefix(const char *p, size_t n, const char *w) {
  size_t i = 0;
  for (; w[i]; i++)
    if (i >= n || p[i] != w[i]) return 0;
  return (int)i;
}

EXPORT("wasi:http/incoming-handler@0.2.3#handle") void handle(int32_t req, int32_t outparam) {
  struct { uint8_t some; const char *p; size_t n; } pq __attribute__((aligned(4)));
  req_path(req, &pq);
  int32_t status = 400;
  static const struct {
    const char *prefix;
    int32_t (*fn)(const char *, size_t);
  } routes[] = {{"/cas/", do_cas},       {"/many/", do_many},         {"/list/", do_list},
                {"/config/", do_config}, {"/publish/", do_publish},   {"/dapr-get/", do_dapr_get},
                {"/dapr-publish/", do_dapr_publish}, {"/dapr-bind/", do_dapr_bind},
                {"/dapr-invoke/", do_dapr_invoke}};
  int k = 0;
  for (size_t i = 0; pq.some && i < sizeof routes / sizeof *routes; i++)
    if ((k = prefix(pq.p, pq.n, routes[i].prefix))) {
      status = routes[i].fn(pq.p + k, pq.n - k);
      break;
    }
  if (pq.some && !k && prefix(pq.p, pq.n, "/ping")) {
    put("pong", 4);
    status = 200;
  }
  drop_request(req);
  int32_t resp = resp_new(fields_new());
  if (resp_status(resp, status)) __builtin_trap();
  struct { uint8_t err; int32_t handle; } r __attribute__((aligned(4)));
  resp_body(resp, &r);
  if (r.err) __builtin_trap();
  int32_t ob = r.handle;
  outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
  obody_write(ob, &r);
  if (r.err) __builtin_trap();
  uint8_t wr[12] __attribute__((aligned(4)));
  out_write(r.handle, out, out_len, wr);
  if (wr[0]) __builtin_trap();
  drop_out(r.handle);
  uint8_t fin[40] __attribute__((aligned(8)));
  obody_finish(ob, 0, 0, fin);
}
