/*
 * kvcount.c: a wasi:http/proxy component that also imports
 * wasi:keyvalue@0.2.0-draft, in plain C against the canonical ABI by hand (no
 * bindings generator, no libc), to prove a hosted wasi:http app reaches its
 * Dapr state stores through wasi:keyvalue (docs/components.md "The cloud
 * interfaces"). For a request to /count/STORE it opens bucket STORE, adds 1
 * to key "hits" with atomics.increment and answers 200 with the new count
 * as its body; when the bucket cannot be opened or the increment fails it
 * answers 404 (no-such-store) or 500 (any other error) with the error's
 * case name and message. For /config/KEY it reads KEY with
 * wasi:config/store@0.2.0-rc.1 get: 200 with the value, 404 "none", or 500
 * with the error's case and message. /get/STORE/KEY answers the value of KEY
 * in bucket STORE (bucket.get: 200 and the bytes, 404 "absent"); /ping
 * answers 200 "pong" without any keyvalue call. Any other path: 400.
 *
 * Built at test time by tests/components/http/build.sh (clang-19
 * --target=wasm32 -nostdlib, `jco embed` with wasi:http@0.2.3 and the
 * keyvalue WIT of tests/components/kv/draft, `jco new`); never committed.
 */
#include <stddef.h>
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))
#define HTTP "wasi:http/types@0.2.3"
#define STREAMS "wasi:io/streams@0.2.3"

#include "bump_realloc.h" /* cabi_realloc */

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
IMPORT("wasi:keyvalue/store@0.2.0-draft", "open") void kv_open(const char *id, size_t n, void *ret);
IMPORT("wasi:keyvalue/store@0.2.0-draft", "[resource-drop]bucket") void kv_drop(int32_t b);
IMPORT("wasi:keyvalue/store@0.2.0-draft", "[method]bucket.get") void kv_get(int32_t b, const char *k, size_t kn, void *ret);
IMPORT("wasi:keyvalue/atomics@0.2.0-draft", "increment")
void kv_incr(int32_t b, const char *k, size_t kn, uint64_t delta, void *ret);
IMPORT("wasi:config/store@0.2.0-rc.1", "get") void cfg_get(const char *k, size_t kn, void *ret);

static char out[512];
static size_t out_len;

static void put(const char *p, size_t n) {
  for (size_t i = 0; i < n && out_len < sizeof out; i++) out[out_len++] = p[i];
}

/* error = variant { no-such-store, access-denied, other(string) } at e: the status it maps to */
static int32_t put_error(const uint8_t *e) {
  static const char *const names[] = {"no-such-store", "access-denied", "other"};
  uint8_t d = e[0] < 3 ? e[0] : 2;
  for (const char *s = names[d]; *s; s++) put(s, 1);
  if (d == 2) {
    const uint32_t *sv = (const uint32_t *)(e + 4); /* the string: pointer, length */
    put(": ", 2);
    put((const char *)(uintptr_t)sv[0], sv[1]);
  }
  return d == 0 ? 404 : 500;
}

static int32_t count(const char *store, size_t n) {
  uint8_t r[24] __attribute__((aligned(8)));
  kv_open(store, n, r); /* result<bucket, error>: the handle or the error at 4 */
  if (r[0]) return put_error(r + 4);
  int32_t b = *(int32_t *)(r + 4);
  kv_incr(b, "hits", 4, 1, r); /* result<u64, error>: the value or the error at 8 */
  kv_drop(b);
  if (r[0]) return put_error(r + 8);
  uint64_t v = *(uint64_t *)(r + 8);
  char d[20];
  size_t k = 0;
  do d[k++] = (char)('0' + v % 10); while (v /= 10);
  while (k) put(&d[--k], 1);
  return 200;
}

/* result<option<string>, error{upstream(string), io(string)}>: disc, then the option's or the error's disc at 4
 * and a string at 8 */
static int32_t config(const char *k, size_t n) {
  uint32_t r[4];
  cfg_get(k, n, r);
  uint8_t d = (uint8_t)r[0], d2 = (uint8_t)r[1];
  if (!d && !d2) {
    put("none", 4);
    return 404;
  }
  if (d) put(d2 ? "io: " : "upstream: ", d2 ? 4 : 10);
  put((const char *)(uintptr_t)r[2], r[3]);
  return d ? 500 : 200;
}

/* /get/STORE/KEY: s is "STORE/KEY" */
static int32_t get(const char *s, size_t n) {
  size_t k = 0;
  while (k < n && s[k] != '/') k++;
  if (k == n) return 400;
  uint8_t r[24] __attribute__((aligned(8)));
  kv_open(s, k, r);
  if (r[0]) return put_error(r + 4);
  int32_t b = *(int32_t *)(r + 4);
  kv_get(b, s + k + 1, n - k - 1, r); /* result<option<list<u8>>, error>: option at 4, list at 8 */
  kv_drop(b);
  if (r[0]) return put_error(r + 4);
  if (!r[4]) {
    put("absent", 6);
    return 404;
  }
  const uint32_t *l = (const uint32_t *)(r + 8);
  put((const char *)(uintptr_t)l[0], l[1]);
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
  int k;
  if (pq.some && (k = prefix(pq.p, pq.n, "/count/")) && pq.n > 7) status = count(pq.p + k, pq.n - k);
  else if (pq.some && (k = prefix(pq.p, pq.n, "/config/")) && pq.n > 8) status = config(pq.p + k, pq.n - k);
  else if (pq.some && (k = prefix(pq.p, pq.n, "/get/"))) status = get(pq.p + k, pq.n - k);
  else if (pq.some && prefix(pq.p, pq.n, "/ping")) {
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
