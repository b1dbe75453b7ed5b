/*
 * unit_httpwasm.c: the http-wasm host and the middleware pipeline, in
 * process: a real HTTP server on a loopback port whose handler runs the
 * pipeline under test in front of a TCK-like backend (it echoes what it
 * received in x-next-* headers and the body), and a real HTTP client on the
 * same loop. Guests are the WAT files of tests/gate/guests, assembled at build
 * time. usage: gate_unit_httpwasm GUEST_DIR
 */
#include "hw_harness.h"

/* ---- tests ---- */

static void test_getters(void) {
  use("hw_echo", "guestConfig", "{\"a\":1}");
  wgg_http_header h[] = {{"X-Test", "one"}, {"x-test", "client, proxy1"}, {"Content-Type", "text/plain"}};
  resp r;
  backend_calls = 0;
  char want[256], src[64] = "";
  const char *b;
  request(&r, "POST", "/p%20q/x?q=go+language&x", h, 3, "abcdefg");
  CHECK(r.status == 200);
  CHECK(backend_calls == 0); /* the guest answered */
  CHECK(hdr(&r, "content-type") == NULL); /* set after its first write_body(1): lost, as in host-go */
  b = r.body ? r.body : "";
  /* line 4: the source address, 127.0.0.1:<port> (one ':') */
  const char *line4 = b;
  for (int i = 0; i < 3 && line4; i++) line4 = strchr(line4, '\n') ? strchr(line4, '\n') + 1 : NULL;
  int sl = 0, pl0 = 0;
  CHECK(line4 && sscanf(line4, "%d %d %63s", &pl0, &sl, src) == 3);
  CHECK(pl0 == sl && (size_t)sl == strlen(src));
  CHECK(!strncmp(src, "127.0.0.1:", 10) && strchr(src + 10, ':') == NULL);
  snprintf(want, sizeof want, "4 4 POST\n24 24 /p%%20q/x?q=go+language&x\n8 8 HTTP/1.1\n");
  CHECK(!strncmp(b, want, strlen(want)));
  if (strncmp(b, want, strlen(want))) fprintf(stderr, "got: %s\n", b);
  const char *cfg = strstr(b, "7 7 {\"a\":1}\n");
  CHECK(cfg != NULL);
  if (cfg) {
    const char *p = cfg + strlen("7 7 {\"a\":1}\n");
    static const char exp_names[] = "5 51 connection\0content-length\0content-type\0host\0x-test\0\n";
    CHECK(r.len - (size_t)(p - r.body) >= sizeof exp_names - 1 && !memcmp(p, exp_names, sizeof exp_names - 1));
    p += sizeof exp_names - 1;
    static const char exp_vals[] = "2 19 one\0client, proxy1\0\n";
    CHECK(!memcmp(p, exp_vals, sizeof exp_vals - 1));
    p += sizeof exp_vals - 1;
    CHECK_STR(p, "abc|def|g|");
  }
  resp_free(&r);
  /* a body of exactly 2 x 3 bytes: the third read brings EOF with no data */
  request(&r, "PUT", "/", NULL, 0, "abcdef");
  CHECK(r.body && memmem(r.body, r.len, "\nabc|def||", 10) != NULL);
  CHECK(r.body && memmem(r.body, r.len, "\n0 0 \n", 6) != NULL); /* no x-test: count_len 0 */
  resp_free(&r);
}

static void test_rewrite(void) {
  use("hw_rewrite", NULL, NULL);
  wgg_http_header h[] = {{"x-remove", "gone"}, {"x-multi", "z"}, {"Content-Type", "text/plain"}};
  resp r;
  request(&r, "POST", "/orig?y=2", h, 3, "old body that is long");
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-next-method"), "PUT");
  CHECK_STR(hdr(&r, "x-next-uri"), "/rewritten?x=1");
  CHECK_STR(hdr(&r, "x-next-header-x-added"), "yes");
  CHECK(hdr(&r, "x-next-header-x-remove") == NULL);
  CHECK_STR(hdr(&r, "x-next-header-content-length"), "8");
  CHECK_STR(r.body, "new body");
  CHECK_STR(hdr(&r, "x-ctx"), "ok");
  CHECK_STR(hdr(&r, "x-is-error"), "0");
  int multi = 0;
  for (size_t i = 0; i < r.h.n; i++) multi += !strcasecmp(r.h.v[i].name, "x-next-header-x-multi");
  CHECK(multi == 2);
  CHECK_STR(hdr(&r, "content-type"), "text/echo");
  resp_free(&r);
}

/* set_uri as host-go stores it (url.ParseRequestURI + EscapedPath; handlertest cases) */
static void expect_uri(const char *set, const char *want) {
  wgg_http_header h[] = {{"x-uri", set}};
  resp r;
  request(&r, "GET", "/orig?o=1", h, 1, NULL);
  if (want) {
    CHECK(r.status == 200);
    CHECK_STR(hdr(&r, "x-next-uri"), want);
  } else {
    CHECK(r.status == 500);
  }
  resp_free(&r);
}

static void test_control(void) {
  use("hw_control", NULL, NULL);
  expect_uri("/a b", "/a%20b");
  expect_uri("/a b?q=go+language", "/a%20b?q=go+language");
  expect_uri("//foo", "//foo");
  expect_uri("/foo?", "/foo?");
  expect_uri("", "/");
  expect_uri("/%7Euser/x%2Fy", "/%7Euser/x%2Fy"); /* a valid encoding is kept as it is */
  expect_uri("http://other:8080/p?q", "/p?q");
  expect_uri("/bad%zz", NULL);
  expect_uri("relative", NULL);
  /* a method http_parser does not know still reaches next by name */
  wgg_http_header h[] = {{"x-method", "PURGE"}};
  resp r;
  request(&r, "GET", "/m", h, 1, NULL);
  CHECK_STR(hdr(&r, "x-next-method"), "PURGE");
  resp_free(&r);
  h[0] = (wgg_http_header){"x-method", "BREW"};
  request(&r, "GET", "/m", h, 1, NULL);
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-next-method"), "BREW");
  resp_free(&r);
  /* without buffer_request, next sees what the guest did not read */
  h[0] = (wgg_http_header){"x-read", "4"};
  request(&r, "POST", "/m", h, 1, "0123456789");
  CHECK_STR(r.body, "456789");
  CHECK_STR(hdr(&r, "x-next-header-content-length"), "6");
  resp_free(&r);
  /* without buffer_response a guest's write before next commits the head (host-go/net/http):
   * next's status and headers and the guest's later headers are lost, next's body is appended */
  h[0] = (wgg_http_header){"x-prefix", "1"};
  request(&r, "POST", "/m", h, 1, "abc");
  CHECK(r.status == 200);
  CHECK_STR(r.body, "prefix:abc");
  CHECK(hdr(&r, "x-next-method") == NULL && hdr(&r, "x-late") == NULL);
  resp_free(&r);
}

static void test_answer(void) {
  use("hw_answer", NULL, NULL);
  resp r;
  backend_calls = 0;
  request(&r, "GET", "/anything", NULL, 0, NULL);
  CHECK(r.status == 418);
  CHECK_STR(r.body, "short and stout");
  CHECK_STR(hdr(&r, "content-type"), "text/plain");
  CHECK(backend_calls == 0);
  resp_free(&r);
}

/* A guest whose initial memory is over 2 pages gets its memory from a copy-on-write image: its
 * data segments are in place, a pooled instance keeps its own writes, and a new instance made after
 * one was discarded (its mapping reset and reused) sees the image again. */
static void test_memimage(void) {
  use("hw_image", "maxConcurrency", "1");
  static const char *const want[] = {"imagedata", "CLOBBERED"};
  for (int i = 0; i < 2; i++) {
    resp r;
    request(&r, "GET", "/", NULL, 0, NULL);
    CHECK(r.status == 200);
    CHECK_STR(hdr(&r, "x-img"), want[i]);
    resp_free(&r);
  }
  for (int k = 0; k < 3; k++) {
    resp r;
    request(&r, "GET", "/trap", NULL, 0, NULL); /* the instance is discarded */
    CHECK(r.status == 500);
    resp_free(&r);
    request(&r, "GET", "/", NULL, 0, NULL); /* a new instance: the image, not the last one's write */
    CHECK(r.status == 200);
    CHECK_STR(hdr(&r, "x-img"), "imagedata");
    resp_free(&r);
  }
}

static void test_features(void) {
  use("hw_features", NULL, NULL);
  for (int i = 0; i < 2; i++) {
    resp r;
    request(&r, "GET", "/", NULL, 0, NULL);
    CHECK_STR(r.body, "0 1 1 3 7"); /* trailers (4) are supported */
    resp_free(&r);
  }
}

static void expect_trap(const char *op, const char *msg) {
  wgg_http_header h[] = {{"x-op", op}};
  resp r;
  request(&r, "POST", "/x", h, 1, "body");
  CHECK(r.status == 500);
  if (!r.body || strcmp(r.body, msg)) fprintf(stderr, "op %s: %d %s\n", op, r.status, r.body ? r.body : "(null)");
  CHECK_STR(r.body, msg);
  resp_free(&r);
}

static void test_rules(void) {
  use("hw_rules", NULL, NULL);
  expect_trap("A", "buf_limit==0 reading body");
  expect_trap("B", "HTTP method cannot be empty");
  expect_trap("C", "HTTP header name cannot be empty");
  expect_trap("D", "unsupported header kind: 9");
  expect_trap("E", "unsupported body kind: 5");
  expect_trap("F", "out of memory reading message");
  { /* G sets a request trailer: allowed (the trailers feature), and a trailer is not a header */
    wgg_http_header h[] = {{"x-op", "G"}};
    resp r;
    request(&r, "POST", "/x", h, 1, "body");
    CHECK(r.status == 200);
    CHECK_STR(hdr(&r, "x-next-header-x-op"), "G");
    resp_free(&r);
  }
  expect_trap("H", "invalid URI for request");
  expect_trap("I", "out of memory reading body");
  expect_trap("J", "out of memory writing header list");
  expect_trap("a", "can't set method after next handler");
  expect_trap("b", "can't set uri after next handler");
  expect_trap("c", "can't set request header after next handler");
  expect_trap("d", "can't write request body after next handler");
  expect_trap("e", "can't set response header after next handler unless buffer_response is enabled");
  expect_trap("f", "can't set status code after next handler unless buffer_response is enabled");
  expect_trap("g", "can't read request body after next handler unless buffer_request is enabled");
  expect_trap("h", "can't write response body after next handler unless buffer_response is enabled");
  expect_trap("i", "can't get status code after next handler unless buffer_response is enabled");
  expect_trap("j", "can't add request header after next handler");
  expect_trap("k", "can't remove response header after next handler unless buffer_response is enabled");
  expect_trap("l", "can't read response body after next handler unless buffer_response is enabled");
  resp r; /* and the middleware still serves */
  request(&r, "GET", "/fine", NULL, 0, NULL);
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-next-uri"), "/fine");
  resp_free(&r);
}

static void test_buffered(void) {
  use("hw_buffered", NULL, NULL);
  resp r;
  request(&r, "POST", "/echo", NULL, 0, "0123456789");
  CHECK(r.status == 201);
  CHECK_STR(r.body, "wrapped:0123456789"); /* next saw the whole body (buffer_request replays it) */
  CHECK(hdr(&r, "x-drop") == NULL);
  CHECK_STR(hdr(&r, "x-wrapped"), "1");
  resp_free(&r);
}

static void test_counter(void) {
  use("hw_counter", "maxConcurrency", "1");
  for (int i = 1; i <= 3; i++) {
    resp r;
    request(&r, "GET", "/", NULL, 0, NULL);
    char want[8];
    snprintf(want, sizeof want, "%d", i);
    CHECK_STR(hdr(&r, "x-count"), want); /* the state persists on the one instance */
    CHECK_STR(hdr(&r, "x-pinned"), "ok");
    resp_free(&r);
  }
  /* two concurrent requests with one instance: the second waits for the first (async next) */
  resp a, b;
  send_req(&a, "GET", "/slow", NULL, 0, NULL);
  send_req(&b, "GET", "/slow", NULL, 0, NULL);
  wait_for(&a);
  wait_for(&b);
  CHECK(a.status == 200 && b.status == 200);
  CHECK_STR(hdr(&a, "x-pinned"), "ok");
  CHECK_STR(hdr(&b, "x-pinned"), "ok");
  CHECK(hdr(&a, "x-count") && hdr(&b, "x-count") && strcmp(hdr(&a, "x-count"), hdr(&b, "x-count")));
  resp_free(&a);
  resp_free(&b);
  /* with a short pool timeout the second one gets 503 */
  use("hw_counter", "poolTimeout", "20ms");
  wgg_pipeline_free(&pl);
  wgg_err e;
  char url[512];
  snprintf(url, sizeof url, "file://%s/hw_counter.wasm", guest_dir);
  wgg_meta_kv meta[] = {{.name = "url", .value = url}, {.name = "maxConcurrency", .value = "1"},
                        {.name = "poolTimeout", .value = "20ms"}};
  wgg_component c = {.name = "c", .type = "middleware.http.wasm", .meta = meta, .n_meta = 3};
  wgg_wasm_mw *mw = wgg_wasm_mw_new(&c, false, &e);
  CHECK(mw != NULL);
  wgg_pipeline_add(&pl, mw);
  send_req(&a, "GET", "/slow", NULL, 0, NULL);
  send_req(&b, "GET", "/slow", NULL, 0, NULL);
  wait_for(&a);
  wait_for(&b);
  CHECK((a.status == 200 && b.status == 503) || (a.status == 503 && b.status == 200));
  resp_free(&a);
  resp_free(&b);
}

static void test_chain_order(void) {
  /* rewrite (outer) then counter (inner): the inner guest sees the rewritten request;
   * the response passes inner first, then outer */
  wgg_pipeline_free(&pl);
  wgg_err e;
  wgg_pipeline_add(&pl, mw_from("hw_rewrite", NULL, NULL, &e));
  wgg_pipeline_add(&pl, mw_from("hw_buffered", NULL, NULL, &e));
  resp r;
  request(&r, "POST", "/a", NULL, 0, "xyz");
  CHECK(r.status == 201);                      /* inner handle_response: 200 + 1 */
  CHECK_STR(r.body, "wrapped:new body");       /* the inner guest and next saw the outer rewrite */
  CHECK_STR(hdr(&r, "x-ctx"), "ok");           /* outer handle_response ran after the inner */
  CHECK_STR(hdr(&r, "x-wrapped"), "1");
  resp_free(&r);
  /* an inner trap in handle_response: the outer sees is_error=1 and a 500 */
  wgg_pipeline_free(&pl);
  wgg_pipeline_add(&pl, mw_from("hw_rewrite", NULL, NULL, &e));
  wgg_pipeline_add(&pl, mw_from("hw_rules", NULL, NULL, &e));
  wgg_http_header h[] = {{"x-op", "a"}};
  request(&r, "POST", "/a", h, 1, "xyz");
  CHECK(r.status == 500);
  CHECK_STR(hdr(&r, "x-is-error"), "1");
  resp_free(&r);
}

static void test_hostile(void) {
  /* a request budget of 1 s: writing 32 MiB under ASan on a loaded machine can take more than 100 ms */
  wgg_pipeline_free(&pl);
  char url[512];
  snprintf(url, sizeof url, "file://%s/hw_hostile.wasm", guest_dir);
  wgg_meta_kv meta[] = {{.name = "url", .value = url}, {.name = "maxMemory", .value = "2Mi"},
                        {.name = "requestTimeout", .value = "1s"}};
  wgg_component c = {.name = "hw_hostile", .type = "middleware.http.wasm", .version = "v1", .meta = meta, .n_meta = 3};
  wgg_err e = {{0}};
  wgg_wasm_mw *mw = wgg_wasm_mw_new(&c, false, &e);
  CHECK(mw != NULL);
  if (mw) wgg_pipeline_add(&pl, mw);
  static const struct { const char *op, *msg; } cases[] = {
      {"loop", "wasm error: interrupted (deadline of 1000 ms)"},
      {"bomb", "wasm error: unreachable"},
      {"recurse", "wasm error: call stack exhausted"},
      {"unreachable", "wasm error: unreachable"},
      {"div", "wasm error: integer divide by zero"},
      {"write", "error writing body: a body is limited to 32 MiB"},
      {"headers", "too many header fields (256 at most)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wgg_http_header h[] = {{"x-hostile", cases[i].op}};
    resp r;
    uint64_t t0 = uv_hrtime();
    request(&r, "GET", "/", h, 1, NULL);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    CHECK(r.status == 500);
    if (!r.body || strcmp(r.body, cases[i].msg)) fprintf(stderr, "%s: %s\n", cases[i].op, r.body ? r.body : "");
    CHECK_STR(r.body, cases[i].msg);
    CHECK(ms < 2000);
    resp_free(&r);
    request(&r, "GET", "/after", NULL, 0, NULL); /* the middleware keeps serving */
    CHECK(r.status == 200);
    resp_free(&r);
  }
}

static void test_load_errors(void) {
  static const struct { const char *guest, *msg; } cases[] = {
      {"hw_start_trap", "wasm: error instantiating guest: module[hw_start_trap] function[_start] failed: wasm error: unreachable"},
      {"hw_no_memory", "wasm: guest doesn't export memory[memory]"},
      {"hw_bad_sig", "wasm: guest exports the wrong signature for func[handle_request]. should be () -> (i64)"},
      {"hw_no_response", "wasm: guest doesn't export func[handle_response]"},
      {"hw_bad_import", "wasm: error instantiating guest: \"get_everything\" is not exported in module \"http_handler\""},
      {"missing", "wasm: failed to parse metadata: "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wgg_err e = {{0}};
    wgg_wasm_mw *mw = mw_from(cases[i].guest, NULL, NULL, &e);
    CHECK(mw == NULL);
    if (strncmp(e.msg, cases[i].msg, strlen(cases[i].msg))) fprintf(stderr, "%s: %s\n", cases[i].guest, e.msg);
    CHECK(!strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)));
    wgg_wasm_mw_free(mw);
  }
  wgg_err e;
  wgg_meta_kv meta[] = {{.name = "url", .value = "ftp://x.wasm"}};
  wgg_component c = {.name = "c", .type = "middleware.http.wasm", .meta = meta, .n_meta = 1};
  CHECK(wgg_wasm_mw_new(&c, false, &e) == NULL);
  CHECK_STR(e.msg, "wasm: failed to parse metadata: unsupported URL scheme: ftp");
  c.n_meta = 0;
  CHECK(wgg_wasm_mw_new(&c, false, &e) == NULL);
  CHECK_STR(e.msg, "wasm: failed to parse metadata: missing url");
  meta[0].value = "nocolon";
  c.n_meta = 1;
  CHECK(wgg_wasm_mw_new(&c, false, &e) == NULL);
  CHECK_STR(e.msg, "wasm: failed to parse metadata: invalid URL: nocolon");
}

static void test_bad_metadata(void) {
  static const struct { const char *name, *value, *msg; } cases[] = {
      {"maxConcurrency", "0", "wasm: failed to parse metadata: maxConcurrency must be a positive integer, got 0"},
      {"maxConcurrency", "x", "wasm: failed to parse metadata: maxConcurrency must be a positive integer, got x"},
      {"requestTimeout", "soon", "wasm: failed to parse metadata: "},
      {"maxMemory", "lots", "wasm: failed to parse metadata: "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wgg_err e = {{0}};
    wgg_wasm_mw *mw = mw_from("hw_noop", cases[i].name, cases[i].value, &e);
    CHECK(mw == NULL);
    if (strncmp(e.msg, cases[i].msg, strlen(cases[i].msg))) fprintf(stderr, "%s: %s\n", cases[i].name, e.msg);
    CHECK(!strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)));
    wgg_wasm_mw_free(mw);
  }
}

/* the header list of an exchange: case-insensitive names, set keeps the first position */
static void test_hdrs(void) {
  wgg_hdrs h = {0};
  CHECK(wgg_hdrs_add(&h, "A", 1, "1", 1) == 0);
  CHECK(wgg_hdrs_add(&h, "b", 1, "2", 1) == 0);
  CHECK(wgg_hdrs_add(&h, "a", 1, "3", 1) == 0);
  CHECK(wgg_hdrs_set(&h, "A", 1, "x", 1) == 0);
  CHECK(h.n == 2 && !strcmp(h.v[0].name, "A") && !strcmp(h.v[0].value, "x") && !strcmp(h.v[1].name, "b"));
  CHECK(wgg_hdrs_set(&h, "c", 1, "", 0) == 0);
  CHECK(h.n == 3 && !strcmp(wgg_hdrs_get(&h, "C"), ""));
  wgg_hdrs_remove(&h, "B", 1);
  CHECK(h.n == 2 && wgg_hdrs_get(&h, "b") == NULL);
  wgg_hdrs_remove(&h, "zz", 2);
  CHECK(h.n == 2);
  wgg_hdrs_free(&h);
  CHECK(h.n == 0 && h.v == NULL);
}

static void test_wasi(void) {
  use("hw_wasi", NULL, NULL);
  resp r;
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-debug-enabled"), "1"); /* the log level is debug in this test */
  resp_free(&r);
  wgg_http_header h[] = {{"x-exit", "1"}};
  request(&r, "GET", "/", h, 1, NULL);
  CHECK(r.status == 500);
  CHECK_STR(r.body, "module closed with exit_code(3)");
  resp_free(&r);
  request(&r, "GET", "/", NULL, 0, NULL); /* a fresh instance serves the next request */
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-clock-small"), "0"); /* the host's monotonic clock */
  resp_free(&r);
  use("hw_wasi", "strictSandbox", "true");
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK_STR(hdr(&r, "x-clock-small"), "1"); /* the strict sandbox's clock starts at 0 */
  resp_free(&r);
}

static void test_reload(void) {
  /* swap hw_answer for hw_noop under the same middleware while a request is in flight */
  char path[512], src[512];
  snprintf(path, sizeof path, "%s/reload-test.wasm", guest_dir);
  snprintf(src, sizeof src, "%s/hw_counter.wasm", guest_dir);
  wgg_buf b = {0};
  wgg_err e;
  CHECK(wgg_buf_read_file(&b, src, &e) == 0);
  FILE *f = fopen(path, "wb");
  fwrite(b.data, 1, b.len, f);
  fclose(f);
  wgg_buf_free(&b);
  wgg_pipeline_free(&pl);
  char url[600];
  snprintf(url, sizeof url, "file://%s", path);
  wgg_meta_kv meta[] = {{.name = "url", .value = url}};
  wgg_component c = {.name = "r", .type = "middleware.http.wasm", .meta = meta, .n_meta = 1};
  wgg_wasm_mw *mw = wgg_wasm_mw_new(&c, false, &e);
  CHECK(mw != NULL);
  if (!mw) return;
  wgg_pipeline_add(&pl, mw);
  resp a, r;
  int calls = backend_calls;
  send_req(&a, "GET", "/slow", NULL, 0, NULL);
  while (backend_calls == calls) uv_run(&loop, UV_RUN_ONCE); /* a is now pinned, waiting on next */
  snprintf(src, sizeof src, "%s/hw_answer.wasm", guest_dir);
  CHECK(wgg_buf_read_file(&b, src, &e) == 0);
  f = fopen(path, "wb");
  fwrite(b.data, 1, b.len, f);
  fclose(f);
  wgg_buf_free(&b);
  CHECK(wgg_wasm_mw_reload(mw, &e) == 0);
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK(r.status == 418); /* new requests: the new module */
  resp_free(&r);
  wait_for(&a);
  CHECK(a.status == 200); /* the request in flight finished on the old one */
  CHECK_STR(hdr(&a, "x-pinned"), "ok");
  resp_free(&a);
  /* a broken replacement is refused and the current module stays */
  f = fopen(path, "wb");
  fputs("not wasm", f);
  fclose(f);
  CHECK(wgg_wasm_mw_reload(mw, &e) == -1);
  CHECK(!strncmp(e.msg, "wasm: error compiling guest: ", 29));
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK(r.status == 418);
  resp_free(&r);
  remove(path);
}

/* The app channel's client is closed (shutdown) while pipeline calls wait
 * for a guest instance: each call still ends, with the app's answer (the one
 * started before the close) or a 500, and the closed client is not used
 * after it is freed (a sidecar crashed with SIGSEGV on SIGTERM in
 * wgg_http_client_request_full, and ASan saw the use after free here, before
 * a pipeline run held its client). */
static wgg_http_server *closing_app;

static void test_client_closed_while_instance_made(void) {
  char url[512];
  snprintf(url, sizeof url, "file://%s/hw_noop.wasm", guest_dir);
  wgg_meta_kv meta[] = {{.name = "url", .value = url}, {.name = "maxConcurrency", .value = "1"},
                        {.name = "poolTimeout", .value = "30s"}}; /* the other calls wait for the first's instance */
  wgg_component c = {.name = "closing", .type = "middleware.http.wasm", .version = "v1", .meta = meta, .n_meta = 3};
  wgg_err e = {{0}};
  wgg_pipeline_free(&pl);
  wgg_wasm_mw *mw = wgg_wasm_mw_new(&c, false, &e);
  CHECK(mw != NULL);
  if (!mw) return;
  wgg_pipeline_add(&pl, mw);
  wgg_http_server_config cfg = {.max_body = 1 << 20, .max_head = 16384, .header_timeout_ms = 5000,
                                .read_timeout_ms = 5000, .idle_timeout_ms = 5000, .handler = backend};
  wgg_http_server *app = wgg_http_server_new(&loop, &cfg, &e); /* the app: the backend without the pipeline */
  CHECK(app != NULL);
  int app_port = port + 1;
  while (app && wgg_http_server_listen(app, "127.0.0.1", app_port, &e)) app_port++;
  wgg_http_client *cl2 = wgg_http_client_new(&loop);
  CHECK(cl2 != NULL);
  enum { N = 4 };
  resp r[N];
  for (int i = 0; i < N; i++) {
    memset(&r[i], 0, sizeof r[i]);
    CHECK(wgg_pipeline_call(&pl, &loop, cl2, "127.0.0.1", app_port, "GET", "/closing", NULL, 0, NULL, 0, NULL, 5000,
                            on_resp, &r[i]) == 0);
  }
  wgg_http_client_close(cl2); /* the calls waiting for an instance hold it */
  int ok = 0, refused = 0;
  for (int i = 0; i < N; i++) {
    wait_for(&r[i]);
    if (r[i].status == 200) ok++;
    if (r[i].status == 500) refused++;
    resp_free(&r[i]);
  }
  CHECK(ok + refused == N);
  CHECK(ok == 1 && refused == N - 1); /* only the first started before the close */
  wgg_http_server_close_all(app);
  closing_app = app; /* freed after the loop has run to completion (hw_teardown) */
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s GUEST_DIR\n", argv[0]);
    return 2;
  }
  hw_setup(argv[1]);
  test_getters();
  test_rewrite();
  test_answer();
  test_control();
  test_features();
  test_rules();
  test_buffered();
  test_counter();
  test_memimage();
  test_chain_order();
  test_hostile();
  test_load_errors();
  test_bad_metadata();
  test_hdrs();
  test_wasi();
  test_reload();
  test_client_closed_while_instance_made();
  hw_teardown();
  wgg_http_server_free(closing_app);
  CHECK_DONE();
}
