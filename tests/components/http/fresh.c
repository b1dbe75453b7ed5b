/*
 * fresh.c: a wasi:http/proxy component that reports and then changes every
 * kind of state an instance has, in plain C against the canonical ABI by
 * hand (no libc), to prove that the `fresh` policy gives each request an
 * instance in its post-instantiation state also when the host reuses one
 * reset (wg_component_instance_reset; tests/gate/wasm_app_p2_fresh.py).
 *
 * /mutate answers 200 "counter=C scratch=S pages=P heap=H handle=N out=O"
 * with what it found: a static counter and a static buffer's first byte (0
 * in a new instance), the memory's size in pages, how far the bump
 * allocator (bump_realloc.h) had got when the host lowered the path (its
 * global and its memory), the handle index a new `fields` gets (the handle
 * table) and how much the static answer buffer held; then it changes all of
 * them: counter and buffer written, 64 pages grown (4 MiB), a `fields`
 * handle left undropped, the answer buffer kept. /mutate?trap does the
 * same and then traps before answering; /spin loops until the deadline
 * stops it. Any other path: 404.
 *
 * Built at test time by tests/components/http/build.sh; never committed.
 */
#include <stddef.h>
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))
#define HTTP "wasi:http/types@0.2.3"
#define STREAMS "wasi:io/streams@0.2.3"

#include "bump_realloc.h" /* cabi_realloc, heap_top */

IMPORT(HTTP, "[method]incoming-request.path-with-query") void req_path(int32_t req, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void drop_request(int32_t);
IMPORT(HTTP, "[constructor]fields") int32_t fields_new(void);
IMPORT(HTTP, "[resource-drop]fields") void drop_fields(int32_t);
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

static int32_t counter;
static uint8_t scratch[4096];
static char out[512];
static size_t out_len;

static void put(const char *p, size_t n) {
  for (size_t i = 0; i < n && out_len < sizeof out; i++) out[out_len++] = p[i];
}
static void puts_(const char *s) {
  while (*s) put(s++, 1);
}
static void putnum(uint64_t v) {
  char d[20];
  size_t k = 0;
  do d[k++] = (char)('0' + v % 10); while (v /= 10);
  while (k) put(&d[--k], 1);
}

static int same(const char *p, size_t n, const char *w) {
  size_t i = 0;
  for (; w[i]; i++)
    if (i >= n || p[i] != w[i]) return 0;
  return i == n;
}

EXPORT("wasi:http/incoming-handler@0.2.3#handle") void handle(int32_t req, int32_t outparam) {
  struct { uint8_t some; const char *p; size_t n; } pq __attribute__((aligned(4)));
  req_path(req, &pq);
  uintptr_t heap = heap_top - (uintptr_t)&__heap_base; /* after lowering the path */
  int32_t status = 404;
  size_t found_out = out_len;
  if (pq.some && same(pq.p, pq.n, "/spin")) {
    for (volatile int spin = 1; spin;) {
    }
  }
  if (pq.some && (same(pq.p, pq.n, "/mutate") || same(pq.p, pq.n, "/mutate?trap"))) {
    int32_t h = fields_new(); /* left undropped below */
    puts_("counter=");
    putnum((uint64_t)counter);
    puts_(" scratch=");
    putnum(scratch[0]);
    puts_(" pages=");
    putnum(__builtin_wasm_memory_size(0));
    puts_(" heap=");
    putnum(heap);
    puts_(" handle=");
    putnum((uint64_t)h);
    puts_(" out=");
    putnum(found_out);
    counter++;
    scratch[0] = 7;
    if (__builtin_wasm_memory_grow(0, 64) < 0) __builtin_trap();
    if (pq.n > 7) __builtin_trap(); /* ?trap: everything changed, no answer */
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
  out_write(r.handle, out + found_out, out_len - found_out, wr);
  if (wr[0]) __builtin_trap();
  drop_out(r.handle);
  uint8_t fin[40] __attribute__((aligned(8)));
  obody_finish(ob, 0, 0, fin);
}
