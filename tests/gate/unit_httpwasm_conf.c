/*
 * unit_httpwasm_conf.c: http-wasm conformance fixes, in process (harness in
 * hw_harness.h): guestConfig as bytes from YAML to get_config, host
 * functions called from a start section, the trailers feature, and guest
 * output validation (no response splitting, no injected request line).
 * usage: gate_unit_httpwasm_conf GUEST_DIR
 */
#include "config/component.h"
#include "hw_harness.h"

/* Builds the pipeline from a component parsed out of YAML text. */
static bool use_yaml(const char *guest, const char *config_scalar, wgg_component_list *list) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n"
           "  type: middleware.http.wasm\n  version: v1\n  metadata:\n  - name: url\n    value: file://%s/%s.wasm\n"
           "  - name: guestConfig\n    value: %s\n",
           guest, guest_dir, guest, config_scalar);
  wgg_err e = {{0}};
  memset(list, 0, sizeof *list);
  if (wgg_components_parse("test.yaml", yaml, strlen(yaml), "app", list, &e)) {
    fprintf(stderr, "parse: %s\n", e.msg);
    return false;
  }
  wgg_pipeline_free(&pl);
  wgg_wasm_mw *mw = wgg_wasm_mw_new(&list->items[0], false, &e);
  if (!mw) fprintf(stderr, "cannot load %s: %s\n", guest, e.msg);
  if (mw) wgg_pipeline_add(&pl, mw);
  return mw != NULL;
}

/* guestConfig is bytes: a "\0" escape in a double-quoted YAML scalar is a
 * byte of the value, and get_config returns all of them (issue 11). */
static void test_config_bytes(void) {
  wgg_component_list list;
  CHECK(use_yaml("hw_start_config", "\"a\\0b\\u00e9\"", &list));
  size_t len = 0;
  const char *v = list.n ? wgg_component_meta_bytes(&list.items[0], "guestconfig", &len) : NULL;
  CHECK(v && len == 5 && !memcmp(v, "a\0b\xc3\xa9", 5));
  /* the C-string accessor refuses it rather than cutting it at the NUL */
  CHECK(list.n && wgg_component_meta(&list.items[0], "guestConfig") == NULL);
  CHECK(list.n && !strncmp(wgg_component_meta(&list.items[0], "url"), "file://", 7));
  /* a copy keeps the length */
  wgg_component_list copy = {0};
  CHECK(list.n && wgg_component_list_add(&copy, &list.items[0]) == 0);
  v = copy.n ? wgg_component_meta_bytes(&copy.items[0], "guestConfig", &len) : NULL;
  CHECK(v && len == 5 && !memcmp(v, "a\0b\xc3\xa9", 5));
  wgg_component_list_free(&copy);
  resp r;
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK(r.status == 200);
  CHECK(r.len == 7 && !memcmp(r.body, "a\0b\xc3\xa9|5", 7));
  if (r.len != 7) fprintf(stderr, "got %zu bytes: %.*s\n", r.len, (int)r.len, r.body ? r.body : "");
  resp_free(&r);
  wgg_component_list_free(&list);
  /* entries built in code (value only, value_len 0) still read as C strings */
  wgg_meta_kv kv = {.name = "k", .value = "text"};
  wgg_component c = {.name = "c", .meta = &kv, .n_meta = 1};
  CHECK(wgg_component_meta_bytes(&c, "k", &len) && len == 4);
  CHECK_STR(wgg_component_meta(&c, "k"), "text");
}

/* get_config from a start section writes into the memory of the instance
 * being created (before: the length came back, nothing was written). */
static void test_start_section(void) {
  wgg_component_list list;
  CHECK(use_yaml("hw_start_config", "\"cfg\"", &list));
  resp r;
  for (int k = 0; k < 2; k++) { /* the load-time instance and the pool's */
    request(&r, "GET", "/", NULL, 0, NULL);
    CHECK(r.status == 200);
    CHECK(r.len == 5 && r.body && !memcmp(r.body, "cfg|3", 5));
    resp_free(&r);
  }
  wgg_component_list_free(&list);
  /* a reactor's _initialize runs (when there is no _start), with the same memory */
  use("hw_initialize", "guestConfig", "init-cfg");
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK(r.status == 200);
  CHECK_STR(r.body, "init-cfg");
  resp_free(&r);
}

/* Trailers (feature 4): kinds 2 and 3 are their own lists, with the
 * before/after-next rules of headers. */
static void test_trailers(void) {
  use("hw_trailers", NULL, NULL);
  resp r;
  request(&r, "GET", "/", NULL, 0, NULL);
  CHECK(r.status == 200);
  static const char want[] = "6\nx-rq\0\none\0two\0\n\n";
  CHECK(r.len == sizeof want - 1 && !memcmp(r.body, want, sizeof want - 1));
  if (r.len != sizeof want - 1) fprintf(stderr, "got %zu: %.*s\n", r.len, (int)r.len, r.body ? r.body : "");
  resp_free(&r);
  /* after next, with buffer_response: response trailers may change; the backend sent none */
  request(&r, "POST", "/x", NULL, 0, "b");
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-trailers"), "x-after,");
  resp_free(&r);
  /* a request trailer after next traps with host-go's text */
  request(&r, "POST", "/after", NULL, 0, "b");
  CHECK(r.status == 500);
  CHECK_STR(r.body, "can't set request trailer after next handler");
  resp_free(&r);
}

/* Guest output is validated: every attack of hw_inject fails its request
 * with 500 and nothing of it reaches the client or the backend. */
static void test_inject(void) {
  use("hw_inject", NULL, NULL);
  static const char *const texts[] = {
      "net/http: invalid method \"GET /x HTTP/1.1\\x0d\\x0aX:\"",
      "net/url: invalid control character in URL",
      "net/http: invalid header field value for \"x-ok\"",
      "net/http: invalid header field name \"X\\x0d\\x0aY\"",
      "net/http: invalid header field value for \"x-ok\"",
      "net/http: invalid header field name \"a b\"",
      "invalid WriteHeader code -1",
      "invalid WriteHeader code 1000",
      "invalid WriteHeader code 99",
      "net/http: invalid header field value for \"x-ok\"",
  };
  resp r;
  for (int c = 0; c < 10; c++) {
    char d[2] = {(char)('0' + c), 0};
    wgg_http_header h[] = {{"x-case", d}};
    backend_calls = 0;
    request(&r, "GET", "/", h, 1, NULL);
    CHECK(r.status == 500);
    CHECK(backend_calls == 0);
    CHECK(hdr(&r, "x") == NULL && hdr(&r, "x-ok") == NULL);
    CHECK_STR(r.body, texts[c]);
    resp_free(&r);
  }
  request(&r, "GET", "/fine", NULL, 0, NULL); /* the control: passes */
  CHECK(r.status == 200);
  CHECK_STR(hdr(&r, "x-next-uri"), "/fine");
  resp_free(&r);
}

/* A file that is not a module fails with wazero's texts (Dapr's
 * Test_middleware_getHandler matches "invalid magic number"). */
static void test_not_wasm(void) {
  wgg_hw_settings st = {.name = "g"};
  wgg_err e = {{0}};
  CHECK(wgg_hw_module_new((const uint8_t *)"package main", 12, &st, &e) == NULL);
  CHECK_STR(e.msg, "wasm: error compiling guest: invalid magic number");
  CHECK(wgg_hw_module_new((const uint8_t *)"\0asm\2\0\0\0", 8, &st, &e) == NULL);
  CHECK_STR(e.msg, "wasm: error compiling guest: invalid version header");
}

/* strictSandbox: all instances of one component read one fake wall clock,
 * as Dapr makes one per component. Two requests held at once by the slow
 * backend pin two instances; their reads are exactly 1 ms apart. */
static void test_strict_shared_walltime(void) {
  use("hw_walltime", "strictSandbox", "true");
  resp a, b;
  send_req(&a, "GET", "/slow", NULL, 0, NULL);
  send_req(&b, "GET", "/slow", NULL, 0, NULL);
  wait_for(&a);
  wait_for(&b);
  CHECK(a.status == 200 && b.status == 200);
  const char *ca = hdr(&a, "x-next-header-x-clock"), *cb = hdr(&b, "x-next-header-x-clock");
  CHECK(ca && cb);
  if (ca && cb) {
    unsigned long long ta = strtoull(ca, NULL, 16), tb = strtoull(cb, NULL, 16);
    unsigned long long lo = ta < tb ? ta : tb, hi = ta < tb ? tb : ta;
    CHECK(hi - lo == 1000000ull);
    CHECK(lo % 1000000000ull == 1000000ull); /* the first read: a whole second + 1 ms */
  }
  resp_free(&a);
  resp_free(&b);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s GUEST_DIR\n", argv[0]);
    return 2;
  }
  hw_setup(argv[1]);
  test_config_bytes();
  test_start_section();
  test_trailers();
  test_inject();
  test_not_wasm();
  test_strict_shared_walltime();
  hw_teardown();
  CHECK_DONE();
}
