/*
 * echo.c: a wasi:http/proxy component in plain C, written against the
 * canonical ABI by hand (no bindings generator, no libc): it exports
 * wasi:http/incoming-handler#handle and answers every request with
 *   status 200 (or N for a path /status/N),
 *   content-type: text/plain, x-echo-method: METHOD, x-echo-path: PATH,
 *   x-echo-test: the request's x-test header (when present),
 *   body: "METHOD PATH\n" followed by the request body.
 * Every answer carries x-instance-requests: the requests this instance has
 * served (1 under a fresh-instance policy; counting up when pooled).
 * Paths /trap (unreachable), /noanswer (returns without setting the
 * response) and /loop (never returns) test the host's failure paths; GET /dapr/subscribe subscribes
 * the app to topic `orders` of `pubsub` (route /orders), whose body the
 * instance keeps, writes to stdout, and GET /last returns. GET /fields
 * answers one line of numbers from the wasi:http fields rules; GET /outbound
 * builds an outgoing request with options and sends it (the host denies it).
 * POST /stream, /stream-poll and /cl/N stream the request body back as it
 * arrives (stream_echo); GET /sleep/MS waits MS ms on a monotonic-clock
 * pollable first (wasi:io/poll).
 *
 * Built at test time (tests/components/http/build.sh): clang-19 --target=wasm32
 * -mbulk-memory -nostdlib (copies are memory.copy), then `jco embed` with the wasi:http@0.2.3 WIT (so the host's
 * 0.2.12 definitions serve it semver-compatibly) and `jco new`.
 */
#include <stddef.h>
#include <stdint.h>

#define V "@0.2.3"
#define IMPORT(mod, name) __attribute__((import_module(mod V), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

#include "bump_realloc.h" /* cabi_realloc */

/* ---- imports (CanonicalABI.md flattening: results of more than one flat value come back through a
 * return pointer) */
IMPORT("wasi:http/types", "[method]incoming-request.method") void req_method(int32_t req, void *ret);
IMPORT("wasi:http/types", "[method]incoming-request.path-with-query") void req_path(int32_t req, void *ret);
IMPORT("wasi:http/types", "[method]incoming-request.headers") int32_t req_headers(int32_t req);
IMPORT("wasi:http/types", "[method]incoming-request.consume") void req_consume(int32_t req, void *ret);
IMPORT("wasi:http/types", "[method]incoming-body.stream") void body_stream(int32_t body, void *ret);
IMPORT("wasi:http/types", "[static]incoming-body.finish") int32_t body_finish(int32_t body);
IMPORT("wasi:http/types", "[method]fields.get") void fields_get(int32_t f, const char *n, size_t nl, void *ret);
IMPORT("wasi:http/types", "[constructor]fields") int32_t fields_new(void);
IMPORT("wasi:http/types", "[method]fields.append")
void fields_append(int32_t f, const char *n, size_t nl, const void *v, size_t vl, void *ret);
IMPORT("wasi:http/types", "[method]fields.has") int32_t fields_has(int32_t f, const char *n, size_t nl);
IMPORT("wasi:http/types", "[method]fields.delete") void fields_delete(int32_t f, const char *n, size_t nl, void *ret);
IMPORT("wasi:http/types", "[method]fields.set") void fields_set(int32_t f, const char *n, size_t nl, const void *vals, size_t nv, void *ret);
IMPORT("wasi:http/types", "[method]fields.entries") void fields_entries(int32_t f, void *ret);
IMPORT("wasi:http/types", "[method]fields.clone") int32_t fields_clone(int32_t f);
IMPORT("wasi:http/types", "[constructor]outgoing-response") int32_t resp_new(int32_t headers);
IMPORT("wasi:http/types", "[constructor]outgoing-request") int32_t oreq_new(int32_t headers);
IMPORT("wasi:http/types", "[method]outgoing-request.set-method") int32_t oreq_set_method(int32_t r, int32_t disc, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.method") void oreq_method(int32_t r, void *ret);
IMPORT("wasi:http/types", "[method]outgoing-request.set-path-with-query") int32_t oreq_set_path(int32_t r, int32_t some, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.path-with-query") void oreq_path(int32_t r, void *ret);
IMPORT("wasi:http/types", "[method]outgoing-request.set-authority") int32_t oreq_set_authority(int32_t r, int32_t some, const char *p, size_t n);
IMPORT("wasi:http/types", "[method]outgoing-request.set-scheme") int32_t oreq_set_scheme(int32_t r, int32_t some, int32_t disc, const char *p, size_t n);
IMPORT("wasi:http/types", "[constructor]request-options") int32_t opts_new(void);
IMPORT("wasi:http/types", "[method]request-options.set-connect-timeout") int32_t opts_set_connect(int32_t o, int32_t some, int64_t ns);
IMPORT("wasi:http/types", "[method]request-options.connect-timeout") void opts_connect(int32_t o, void *ret);
IMPORT("wasi:http/outgoing-handler", "handle") void out_handle(int32_t req, int32_t has_opts, int32_t opts, void *ret);
IMPORT("wasi:http/types", "[method]outgoing-response.set-status-code") int32_t resp_status(int32_t r, int32_t code);
IMPORT("wasi:http/types", "[method]outgoing-response.body") void resp_body(int32_t r, void *ret);
IMPORT("wasi:http/types", "[method]outgoing-body.write") void obody_write(int32_t b, void *ret);
IMPORT("wasi:http/types", "[static]outgoing-body.finish") void obody_finish(int32_t b, int32_t has_trailers, int32_t t, void *ret);
IMPORT("wasi:http/types", "[static]response-outparam.set")
void outparam_set(int32_t param, int32_t is_err, int32_t resp, int32_t a, int64_t b, int32_t c, int32_t d, int32_t e,
                  int32_t f);
IMPORT("wasi:http/types", "[resource-drop]incoming-request") void drop_request(int32_t);
IMPORT("wasi:http/types", "[resource-drop]incoming-body") void drop_ibody(int32_t);
IMPORT("wasi:http/types", "[resource-drop]future-trailers") void drop_trailers(int32_t);
IMPORT("wasi:http/types", "[resource-drop]fields") void drop_fields(int32_t);
IMPORT("wasi:io/streams", "[method]input-stream.blocking-read") void in_read(int32_t s, int64_t len, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.blocking-write-and-flush")
void out_write(int32_t s, const void *p, size_t len, void *ret);
IMPORT("wasi:io/streams", "[resource-drop]input-stream") void drop_in(int32_t);
IMPORT("wasi:io/streams", "[method]input-stream.read") void in_read_nb(int32_t s, int64_t len, void *ret);
IMPORT("wasi:io/streams", "[method]input-stream.subscribe") int32_t in_subscribe(int32_t s);
IMPORT("wasi:io/streams", "[method]output-stream.check-write") void out_check(int32_t s, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.write") void out_write_nb(int32_t s, const void *p, size_t len, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.subscribe") int32_t out_subscribe(int32_t s);
IMPORT("wasi:io/streams", "[method]output-stream.blocking-flush") void out_flush(int32_t s, void *ret);
IMPORT("wasi:io/poll", "poll") void poll_list(const int32_t *p, size_t n, void *ret);
IMPORT("wasi:io/poll", "[resource-drop]pollable") void drop_pollable(int32_t);
IMPORT("wasi:clocks/monotonic-clock", "subscribe-duration") int32_t sub_duration(int64_t ns);
IMPORT("wasi:io/error", "[resource-drop]error") void drop_error(int32_t);
IMPORT("wasi:cli/stdout", "get-stdout") int32_t get_stdout(void);
IMPORT("wasi:io/streams", "[resource-drop]output-stream") void drop_out(int32_t);

/* ---- helpers */
typedef struct { const char *ptr; size_t len; } str;
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

static size_t slen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
static int starts(str s, const char *p) {
  size_t n = slen(p);
  if (s.len < n) return 0;
  for (size_t i = 0; i < n; i++)
    if (s.ptr[i] != p[i]) return 0;
  return 1;
}
static int eq(str s, const char *p) { return s.len == slen(p) && starts(s, p); }

static unsigned char out[1 << 16], last[4096];
static size_t out_len, last_len;
static unsigned served;
static void put(const void *p, size_t n) {
  for (size_t i = 0; i < n && out_len < sizeof out; i++) out[out_len++] = ((const unsigned char *)p)[i];
}

static void header(int32_t f, const char *name, const void *v, size_t vl) {
  uint8_t ret[4] __attribute__((aligned(4)));
  fields_append(f, name, slen(name), v, vl, ret);
  if (ret[0]) __builtin_trap();
}

static void putnum(unsigned v) {
  char b[12];
  size_t n = 0;
  do b[n++] = (char)('0' + v % 10); while (v /= 10);
  while (n) put(&b[--n], 1);
}

/* header-error case of a result<_, header-error> (0..2), or 9 when ok */
static unsigned herr(const uint8_t *ret) { return ret[0] ? ret[1] : 9; }

/* GET /fields: the fields rules, one number per check (the test compares the line) */
static void fields_checks(int32_t req_headers) {
  uint8_t ret[4] __attribute__((aligned(4)));
  int32_t f = fields_new();
  put("fields:", 7);
  fields_append(f, "bad name", 8, "v", 1, ret); /* not a token: invalid-syntax (0) */
  put(" ", 1), putnum(herr(ret));
  fields_append(f, "x-a", 3, "a\nb", 3, ret);   /* a newline in the value: invalid-syntax (0) */
  put(" ", 1), putnum(herr(ret));
  fields_append(f, "Connection", 10, "close", 5, ret); /* hop-by-hop: forbidden (1) */
  put(" ", 1), putnum(herr(ret));
  fields_append(req_headers, "x-a", 3, "1", 1, ret); /* a request's headers: immutable (2) */
  put(" ", 1), putnum(herr(ret));
  fields_append(f, "X-A", 3, "1", 1, ret);
  fields_append(f, "x-a", 3, "2", 1, ret);
  put(" ", 1), putnum(herr(ret));
  struct { str *v; size_t n; } got __attribute__((aligned(4)));
  fields_get(f, "x-A", 3, &got); /* case-insensitive: both values */
  put(" get=", 5), putnum((unsigned)got.n);
  put(" has=", 5), putnum((unsigned)fields_has(f, "X-a", 3));
  str vals[3] = {{"p", 1}, {"q", 1}, {"r", 1}};
  fields_set(f, "x-b", 3, vals, 3, ret);
  struct { void *v; size_t n; } ent __attribute__((aligned(4)));
  fields_entries(f, &ent);
  put(" entries=", 9), putnum((unsigned)ent.n);
  int32_t c = fields_clone(f);
  fields_delete(f, "x-a", 3, ret);
  put(" delete=", 8), putnum(herr(ret));
  put(" has=", 5), putnum((unsigned)fields_has(f, "x-a", 3));
  put(" clone-has=", 11), putnum((unsigned)fields_has(c, "x-a", 3));
  put("\n", 1);
  drop_fields(c);
  drop_fields(f);
}

/* GET /outbound: builds an outgoing request and sends it; the host denies it (no allowed hosts) */
static void outbound_checks(void) {
  int32_t r = oreq_new(fields_new());
  put("outbound:", 9);
  put(" set-method=", 12), putnum((unsigned)oreq_set_method(r, 2, 0, 0)); /* post: ok (0) */
  put(" bad-method=", 12), putnum((unsigned)oreq_set_method(r, 9, "BAD METHOD", 10)); /* not a token: err (1) */
  struct { uint8_t disc; str other; } m __attribute__((aligned(4)));
  oreq_method(r, &m);
  put(" method=", 8), putnum(m.disc);
  oreq_set_path(r, 1, "/v1/x?y=1", 9);
  struct { uint8_t some; str s; } pq __attribute__((aligned(4)));
  oreq_path(r, &pq);
  put(" path=", 6), put(pq.s.ptr, pq.some ? pq.s.len : 0);
  oreq_set_authority(r, 1, "example.com", 11);
  oreq_set_scheme(r, 1, 1, 0, 0); /* HTTPS */
  int32_t o = opts_new();
  opts_set_connect(o, 1, 5000000000LL);
  struct { uint8_t some; uint64_t ns; } ct __attribute__((aligned(8)));
  opts_connect(o, &ct);
  put(" connect-timeout=", 17), putnum((unsigned)(ct.ns / 1000000));
  /* result<own<future-incoming-response>, error-code>: the error-code's case at offset 8 */
  uint8_t res[40] __attribute__((aligned(8)));
  out_handle(r, 1, o, res);
  put(" handle-err=", 12), putnum(res[0]);
  put(" code=", 6), putnum(res[8]);
  put("\n", 1);
}

/* Waits on one pollable with poll (parks the guest on a loop host) and drops it. */
static void wait_on(int32_t p) {
  struct { uint32_t *v; size_t n; } got __attribute__((aligned(4)));
  poll_list(&p, 1, &got);
  drop_pollable(p);
}

static unsigned parse_num(str s, size_t from) {
  unsigned v = 0;
  for (size_t i = from; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++) v = v * 10 + (unsigned)(s.ptr[i] - '0');
  return v;
}

/* POST /stream, /stream-poll, /cl/N: the request body streamed back as it arrives (issue 14). The
 * response is set first (its head goes out), then the body is read 64 KiB at a time, with
 * blocking-read (/stream, /cl/N) or subscribe + poll + read (/stream-poll, which also writes with
 * check-write + write + blocking-flush), and written back; /cl/N declares content-length: N
 * whatever the body's size (the host must keep to it). Memory stays bounded: the bump heap is
 * rewound after each piece. Answers with a last-operation-failed or write error stop early. */
static void stream_echo(int32_t req, int32_t outparam, int poll_mode, int declared, unsigned n_declared) {
  struct { uint8_t err; int32_t handle; } r __attribute__((aligned(4)));
  req_consume(req, &r);
  if (r.err) __builtin_trap();
  int32_t body = r.handle;
  body_stream(body, &r);
  if (r.err) __builtin_trap();
  int32_t in = r.handle;
  int32_t f = fields_new();
  header(f, "content-type", "application/octet-stream", 24);
  if (declared) {
    char num[12];
    size_t nl = 0;
    unsigned v = n_declared;
    do num[nl++] = (char)('0' + v % 10); while (v /= 10);
    for (size_t i = 0; i < nl / 2; i++) {
      char c = num[i];
      num[i] = num[nl - 1 - i];
      num[nl - 1 - i] = c;
    }
    header(f, "content-length", num, nl);
  }
  int32_t resp = resp_new(f);
  resp_body(resp, &r);
  if (r.err) __builtin_trap();
  int32_t ob = r.handle;
  outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
  obody_write(ob, &r);
  if (r.err) __builtin_trap();
  int32_t os = r.handle;
  cabi_realloc(0, 0, 1, 0);
  uintptr_t mark = heap_top;
  for (int failed = 0; !failed;) {
    struct { uint8_t err; union { struct { const unsigned char *p; size_t n; } ok; struct { uint8_t d; int32_t e; } er; } u; }
        rd __attribute__((aligned(8)));
    if (poll_mode) {
      wait_on(in_subscribe(in));
      in_read_nb(in, 65536, &rd);
    } else {
      in_read(in, 65536, &rd);
    }
    if (rd.err) {
      if (rd.u.er.d == 0) drop_error(rd.u.er.e); /* last-operation-failed: the client broke off */
      break;
    }
    for (size_t off = 0; off < rd.u.ok.n && !failed;) {
      uint8_t wr[12] __attribute__((aligned(4)));
      size_t n = rd.u.ok.n - off;
      if (poll_mode) {
        struct { uint8_t err; uint64_t n; } cw __attribute__((aligned(8)));
        out_check(os, &cw);
        if (cw.err) break;
        if (!cw.n) {
          wait_on(out_subscribe(os));
          continue;
        }
        if (n > cw.n) n = (size_t)cw.n;
        out_write_nb(os, rd.u.ok.p + off, n, wr);
      } else {
        if (n > 4096) n = 4096; /* blocking-write-and-flush takes at most 4096 bytes */
        out_write(os, rd.u.ok.p + off, n, wr);
      }
      if (wr[0]) failed = 1;
      off += n;
    }
    heap_top = mark;
  }
  if (poll_mode) {
    uint8_t wr[12] __attribute__((aligned(4)));
    out_flush(os, wr);
  }
  drop_out(os);
  drop_in(in);
  drop_trailers(body_finish(body));
  drop_request(req);
  uint8_t fin[40] __attribute__((aligned(8)));
  obody_finish(ob, 0, 0, fin);
}

EXPORT("wasi:http/incoming-handler" V "#handle") void handle(int32_t req, int32_t outparam) {
  out_len = 0; /* a host may call one instance many times */
  served++;
  /* method: variant { get, ..., patch, other(string) } */
  struct { uint8_t disc; str other; } m __attribute__((aligned(4)));
  req_method(req, &m);
  str method = m.disc < 9 ? (str){methods[m.disc], slen(methods[m.disc])} : m.other;
  struct { uint8_t some; str s; } pq __attribute__((aligned(4)));
  req_path(req, &pq);
  str path = pq.some ? pq.s : (str){"/", 1};
  if (eq(path, "/trap")) __builtin_trap();
  if (eq(path, "/noanswer")) return;
  if (eq(path, "/loop")) /* never returns: the host's deadline must stop it */
    for (volatile unsigned spin = 0;; spin++) {
    }
  if (eq(path, "/stream") || eq(path, "/stream-poll") || starts(path, "/cl/")) {
    stream_echo(req, outparam, eq(path, "/stream-poll"), starts(path, "/cl/"), parse_num(path, 4));
    return;
  }
  if (starts(path, "/sleep/")) /* GET /sleep/MS: monotonic-clock.subscribe-duration + poll, then the echo */
    wait_on(sub_duration((int64_t)parse_num(path, 7) * 1000000));
  /* x-test: list<list<u8>> */
  int32_t h = req_headers(req);
  struct { str *v; size_t n; } xs __attribute__((aligned(4)));
  fields_get(h, "x-test", 6, &xs);
  if (eq(path, "/fields")) fields_checks(h);
  if (eq(path, "/outbound")) outbound_checks();
  drop_fields(h);
  /* the body */
  struct { uint8_t err; int32_t handle; } r __attribute__((aligned(4)));
  int sub = eq(path, "/dapr/subscribe"), getlast = eq(path, "/last"), orders = eq(path, "/orders");
  if (sub) {
    static const char js[] = "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"}]";
    put(js, sizeof js - 1);
  } else if (getlast) {
    put(last, last_len);
  } else if (!eq(path, "/fields") && !eq(path, "/outbound")) {
    put(method.ptr, method.len);
    put(" ", 1);
    put(path.ptr, path.len);
    put("\n", 1);
  }
  size_t body_at = out_len;
  req_consume(req, &r);
  if (!r.err) {
    int32_t body = r.handle;
    body_stream(body, &r);
    if (!r.err) {
      int32_t in = r.handle;
      for (;;) {
        struct { uint8_t err; union { struct { const char *p; size_t n; } ok; struct { uint8_t d; int32_t e; } er; } u; }
            rd __attribute__((aligned(8)));
        in_read(in, 65536, &rd);
        if (rd.err) break; /* closed: the end of the body */
        put(rd.u.ok.p, rd.u.ok.n);
      }
      drop_in(in);
    }
    drop_trailers(body_finish(body));
  }
  if (orders) { /* kept, and logged on stdout (the host logs it) */
    last_len = 0;
    for (size_t i = body_at; i < out_len && last_len < sizeof last; i++) last[last_len++] = out[i];
    int32_t so = get_stdout();
    uint8_t wr[12] __attribute__((aligned(4)));
    out_write(so, "delivered: ", 11, wr);
    out_write(so, last, last_len, wr);
    drop_out(so);
  }
  if (sub || getlast) out_len = body_at; /* their answers do not echo the request body */
  drop_request(req);
  /* the response */
  int32_t f = fields_new();
  if (sub) header(f, "content-type", "application/json", 16);
  else header(f, "content-type", "text/plain", 10);
  char num[12];
  size_t nl = 0;
  for (unsigned v = served; nl == 0 || v; v /= 10) num[nl++] = (char)('0' + v % 10);
  for (size_t i = 0; i < nl / 2; i++) {
    char c = num[i];
    num[i] = num[nl - 1 - i];
    num[nl - 1 - i] = c;
  }
  header(f, "x-instance-requests", num, nl);
  header(f, "x-echo-method", method.ptr, method.len);
  header(f, "x-echo-path", path.ptr, path.len);
  if (xs.n) header(f, "x-echo-test", xs.v[0].ptr, xs.v[0].len);
  int32_t resp = resp_new(f);
  int32_t status = 200;
  if (starts(path, "/status/")) {
    status = 0;
    for (size_t i = 8; i < path.len && path.ptr[i] >= '0' && path.ptr[i] <= '9'; i++) status = status * 10 + (path.ptr[i] - '0');
  }
  if (resp_status(resp, status)) __builtin_trap();
  resp_body(resp, &r);
  if (r.err) __builtin_trap();
  int32_t ob = r.handle;
  outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
  obody_write(ob, &r);
  if (r.err) __builtin_trap();
  int32_t os = r.handle;
  uint8_t wr[12] __attribute__((aligned(4)));
  for (size_t off = 0; off < out_len;) { /* blocking-write-and-flush takes at most 4096 bytes */
    size_t n = out_len - off > 4096 ? 4096 : out_len - off;
    out_write(os, out + off, n, wr);
    if (wr[0]) __builtin_trap();
    off += n;
  }
  drop_out(os);
  uint8_t fin[40] __attribute__((aligned(8)));
  obody_finish(ob, 0, 0, fin);
}
