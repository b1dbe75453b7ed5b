/*
 * fetch.c: a wasi:http/proxy component that forwards its request through
 * wasi:http/outgoing-handler, in plain C against the canonical ABI by hand,
 * for tests/gate/wasm_app_p2http_out.py (docs/wasm-apps.md "Outbound
 * requests"). A request to /fetch/AUTHORITY/REST is sent as
 * METHOD http://AUTHORITY/REST with the caller's body: without a body the
 * request goes at `handle` (the guest parks there until the response); with
 * one, `handle` comes first and the body is written and finished after it (the
 * guest parks at `outgoing-body.finish`), as Spin's SDK does. The answer is
 * the upstream's status and body; `handle`'s error-code gives 403 "denied
 * CASE", the future's gives 502 "error-code CASE". /fetch1s/AUTHORITY/REST
 * does the same with request-options' first-byte-timeout set to 1 s. Any
 * other path: 400.
 *
 * Built at test time by tests/components/http/build.sh (clang-19
 * --target=wasm32 -nostdlib, `jco embed` with wasi:http@0.2.3, `jco new`).
 */
#include <stddef.h>
#include <stdint.h>

#define V "@0.2.3"
#define IMPORT(mod, name) __attribute__((import_module(mod V), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

#include "bump_realloc.h" /* cabi_realloc */

IMPORT("wasi:http/types", "[method]incoming-request.method") void req_method(int32_t req, void *ret);
IMPORT("wasi:http/types", "[method]incoming-request.path-with-query") void req_path(int32_t req, void *ret);
IMPORT("wasi:http/types", "[method]incoming-request.consume") void req_consume(int32_t req, void *ret);
IMPORT("wasi:http/types", "[method]incoming-body.stream") void ibody_stream(int32_t body, void *ret);
IMPORT("wasi:http/types", "[constructor]fields") int32_t fields_new(void);
IMPORT("wasi:http/types", "[constructor]outgoing-request") int32_t oreq_new(int32_t headers);
IMPORT("wasi:http/types", "[method]outgoing-request.set-method") int32_t oreq_set_method(int32_t r, int32_t disc, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.set-path-with-query") int32_t oreq_set_path(int32_t r, int32_t some, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.set-authority") int32_t oreq_set_authority(int32_t r, int32_t some, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.set-scheme") int32_t oreq_set_scheme(int32_t r, int32_t some, int32_t disc, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.body") void oreq_body(int32_t r, void *ret);
IMPORT("wasi:http/types", "[constructor]request-options") int32_t opts_new(void);
IMPORT("wasi:http/types", "[method]request-options.set-first-byte-timeout") int32_t opts_set_first_byte(int32_t o, int32_t some, int64_t ns);
IMPORT("wasi:http/outgoing-handler", "handle") void out_handle(int32_t req, int32_t has_opts, int32_t opts, void *ret);
IMPORT("wasi:http/types", "[method]future-incoming-response.get") void fut_get(int32_t f, void *ret);
IMPORT("wasi:http/types", "[method]future-incoming-response.subscribe") int32_t fut_subscribe(int32_t f);
IMPORT("wasi:io/poll", "[method]pollable.block") void poll_block(int32_t p);
IMPORT("wasi:io/poll", "[resource-drop]pollable") void drop_pollable(int32_t p);
IMPORT("wasi:http/types", "[method]incoming-response.status") int32_t iresp_status(int32_t r);
IMPORT("wasi:http/types", "[method]incoming-response.consume") void iresp_consume(int32_t r, void *ret);
IMPORT("wasi:http/types", "[constructor]outgoing-response") int32_t resp_new(int32_t headers);
IMPORT("wasi:http/types", "[method]outgoing-response.set-status-code") int32_t resp_status(int32_t r, int32_t code);
IMPORT("wasi:http/types", "[method]outgoing-response.body") void resp_body(int32_t r, void *ret);
IMPORT("wasi:http/types", "[method]outgoing-body.write") void obody_write(int32_t b, void *ret);
IMPORT("wasi:http/types", "[static]outgoing-body.finish") void obody_finish(int32_t b, int32_t has_trailers, int32_t t, void *ret);
IMPORT("wasi:http/types", "[static]response-outparam.set")
void outparam_set(int32_t param, int32_t is_err, int32_t resp, int32_t a, int64_t b, int32_t c, int32_t d, int32_t e,
                  int32_t f);
IMPORT("wasi:io/streams", "[method]input-stream.blocking-read") void in_read(int32_t s, int64_t len, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.blocking-write-and-flush")
void out_write(int32_t s, const void *p, size_t len, void *ret);
IMPORT("wasi:io/streams", "[resource-drop]input-stream") void drop_in(int32_t);
IMPORT("wasi:io/streams", "[resource-drop]output-stream") void drop_out(int32_t);

static char out[1 << 16];
static size_t out_len;
static char in[1 << 16];
static size_t in_len;

static void put(const char *p, size_t n) {
  for (size_t i = 0; i < n && out_len < sizeof out; i++) out[out_len++] = p[i];
}
static void putnum(unsigned v) {
  char d[12];
  size_t k = 0;
  do d[k++] = (char)('0' + v % 10); while (v /= 10);
  while (k) put(&d[--k], 1);
}

/* All of an input stream into buf (at most cap bytes kept). */
static size_t read_all(int32_t s, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    struct { uint8_t err; const uint8_t *p; size_t n; } r __attribute__((aligned(4)));
    in_read(s, 65536, &r);
    if (r.err) break; /* closed */
    for (size_t i = 0; i < r.n && n < cap; i++) buf[n++] = (char)r.p[i];
  }
  drop_in(s);
  return n;
}

/* Writes p into outgoing-body b (then drops the stream). */
static void write_body(int32_t b, const char *p, size_t n) {
  struct { uint8_t err; int32_t h; } r __attribute__((aligned(4)));
  obody_write(b, &r);
  if (r.err) __builtin_trap();
  uint8_t wr[12] __attribute__((aligned(4)));
  if (n) out_write(r.h, p, n, wr);
  drop_out(r.h);
}

static int32_t fetch(uint8_t mdisc, const char *auth, size_t alen, const char *rest, size_t rlen, int timeout) {
  int32_t r = oreq_new(fields_new());
  oreq_set_method(r, mdisc, 0, 0);
  oreq_set_scheme(r, 1, 0, 0, 0); /* HTTP */
  oreq_set_authority(r, 1, auth, alen);
  oreq_set_path(r, 1, rest, rlen);
  int32_t body = -1;
  if (in_len) {
    struct { uint8_t err; int32_t h; } b __attribute__((aligned(4)));
    oreq_body(r, &b);
    if (b.err) __builtin_trap();
    body = b.h;
  }
  uint8_t res[48] __attribute__((aligned(8)));
  int32_t opts = 0;
  if (timeout) {
    opts = opts_new();
    opts_set_first_byte(opts, 1, 1000000000LL);
  }
  out_handle(r, timeout, opts, res); /* result<own<future>, error-code>: payload at 8 */
  if (res[0]) {
    put("denied ", 7), putnum(res[8]);
    return 403;
  }
  int32_t fut = *(int32_t *)(res + 8);
  if (body >= 0) { /* the body after handle: sent at finish */
    write_body(body, in, in_len);
    uint8_t fin[40] __attribute__((aligned(8)));
    obody_finish(body, 0, 0, fin);
    if (fin[0]) {
      put("finish error ", 13), putnum(fin[8]);
      return 502;
    }
  }
  /* option<result<result<own<incoming-response>, error-code>>>: some at 0, outer result at 8,
   * inner result at 16, the response handle or the error-code at 24 */
  uint8_t g[64] __attribute__((aligned(8)));
  int32_t pl = fut_subscribe(fut); /* wait for the response, as the spec asks before get */
  poll_block(pl);
  drop_pollable(pl);
  fut_get(fut, g);
  if (!g[0] || g[8]) {
    put("not ready", 9);
    return 500;
  }
  if (g[16]) {
    put("error-code ", 11), putnum(g[24]);
    return 502;
  }
  int32_t resp = *(int32_t *)(g + 24);
  int32_t status = iresp_status(resp);
  struct { uint8_t err; int32_t h; } c __attribute__((aligned(4)));
  iresp_consume(resp, &c);
  if (c.err) __builtin_trap();
  ibody_stream(c.h, &c);
  if (c.err) __builtin_trap();
  out_len = read_all(c.h, out, sizeof out);
  return status;
}

EXPORT("wasi:http/incoming-handler" V "#handle") void handle(int32_t req, int32_t outparam) {
  out_len = in_len = 0;
  struct { uint8_t disc; const char *p; size_t n; } m __attribute__((aligned(4)));
  req_method(req, &m);
  struct { uint8_t some; const char *p; size_t n; } pq __attribute__((aligned(4)));
  req_path(req, &pq);
  struct { uint8_t err; int32_t h; } b __attribute__((aligned(4)));
  req_consume(req, &b);
  if (!b.err) {
    ibody_stream(b.h, &b);
    if (!b.err) in_len = read_all(b.h, in, sizeof in);
  }
  int32_t status = 400;
  const char *p = pq.p;
  size_t n = pq.some ? pq.n : 0;
  size_t s = 0;
  if (n > 7 && p[0] == '/' && p[1] == 'f' && p[2] == 'e' && p[3] == 't' && p[4] == 'c' && p[5] == 'h')
    s = p[6] == '/' ? 7 : (n > 10 && p[6] == '1' && p[7] == 's' && p[8] == '/') ? 9 : 0;
  if (s) {
    size_t a = s;
    while (a < n && p[a] != '/') a++;
    status = fetch(m.disc, p + s, a - s, a < n ? p + a : "/", a < n ? n - a : 1, s == 9);
  }
  int32_t resp = resp_new(fields_new());
  resp_status(resp, status);
  struct { uint8_t err; int32_t h; } r __attribute__((aligned(4)));
  resp_body(resp, &r);
  if (r.err) __builtin_trap();
  int32_t ob = r.h;
  outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
  write_body(ob, out, out_len);
  uint8_t fin[40] __attribute__((aligned(8)));
  obody_finish(ob, 0, 0, fin);
}
