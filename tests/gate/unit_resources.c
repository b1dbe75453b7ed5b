/* unit_resources.c: the generic resource loader (config/resource.c) and the
 * Configuration reader (config/configuration.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config/configuration.h"
#include "config/resource.h"

static const char subs[] =
    "apiVersion: dapr.io/v2alpha1\n"
    "kind: Subscription\n"
    "metadata:\n"
    "  name: orders\n"
    "spec:\n"
    "  topic: orders\n"
    "  routes:\n"
    "    rules:\n"
    "    - match: event.type == \"a\"\n"
    "      path: /a\n"
    "    default: /other\n"
    "  bulkSubscribe:\n"
    "    enabled: true\n"
    "    maxMessagesCount: 100\n"
    "  ratio: 1.5\n"
    "  quoted: \"42\"\n"
    "  nothing: ~\n"
    "  empty:\n"
    "  hex: 0x1F\n"
    "  word: yes\n"
    "scopes: [app1, app2]\n"
    "---\n"
    "apiVersion: dapr.io/v1alpha1\n"
    "kind: Resiliency\n"
    "metadata:\n"
    "  name: r\n"
    "---\n"
    "kind: Subscription\n"
    "metadata:\n"
    "  name: hidden\n"
    "scopes: [app3]\n";

static void test_parse_types_lines_scopes(void) {
  wgg_resource_list l = {0};
  wgg_err e = {{0}};
  CHECK(wgg_resources_parse("s.yaml", subs, sizeof subs - 1, "Subscription", "app1", &l, &e) == 0);
  CHECK(l.n == 1);
  if (l.n != 1) return;
  wgg_resource *r = &l.items[0];
  CHECK_STR(r->kind, "Subscription");
  CHECK_STR(r->api_version, "dapr.io/v2alpha1");
  CHECK_STR(r->name, "orders");
  CHECK(r->line == 1);
  json_t *spec = json_object_get(r->doc, "spec");
  CHECK(json_is_true(json_object_get(json_object_get(spec, "bulkSubscribe"), "enabled")));
  CHECK(json_integer_value(json_object_get(json_object_get(spec, "bulkSubscribe"), "maxMessagesCount")) == 100);
  CHECK(json_real_value(json_object_get(spec, "ratio")) == 1.5);
  CHECK_STR(json_string_value(json_object_get(spec, "quoted")), "42");
  CHECK(json_is_null(json_object_get(spec, "nothing")));
  CHECK(json_is_null(json_object_get(spec, "empty")));
  CHECK(json_integer_value(json_object_get(spec, "hex")) == 31);
  CHECK_STR(json_string_value(json_object_get(spec, "word")), "yes"); /* YAML 1.2: not a bool */
  CHECK(wgg_resource_line(r, "/spec/routes/rules/0") == 9);
  CHECK(wgg_resource_line(r, "/spec/routes/rules/0/path") == 10);
  CHECK(wgg_resource_line(r, "/spec/routes/default") == 11);
  CHECK(wgg_resource_line(r, "/no/such") == 1);
  char tmp[32];
  CHECK_STR(wgg_json_scalar(json_object_get(spec, "ratio"), tmp, sizeof tmp), "1.5");
  CHECK_STR(wgg_json_scalar(json_object_get(json_object_get(spec, "bulkSubscribe"), "maxMessagesCount"), tmp,
                            sizeof tmp),
            "100");
  CHECK_STR(wgg_json_scalar(json_object_get(json_object_get(spec, "bulkSubscribe"), "enabled"), tmp, sizeof tmp),
            "true");
  CHECK(wgg_json_scalar(json_object_get(spec, "nothing"), tmp, sizeof tmp) == NULL);
  wgg_resource_list_free(&l);

  /* every kind, no scope filtering */
  CHECK(wgg_resources_parse("s.yaml", subs, sizeof subs - 1, NULL, NULL, &l, &e) == 0);
  CHECK(l.n == 3);
  if (l.n == 3) CHECK_STR(l.items[1].kind, "Resiliency");
  wgg_resource_list_free(&l);
}

static void test_errors(void) {
  wgg_resource_list l = {0};
  wgg_err e = {{0}};
  static const char bad[] = "kind: Configuration\nspec:\n  a: [1, 2\n";
  CHECK(wgg_resources_parse("bad.yaml", bad, sizeof bad - 1, NULL, NULL, &l, &e) == -1);
  CHECK(!strncmp(e.msg, "bad.yaml:", 9) && strstr(e.msg, "YAML error"));
  wgg_resource_list_free(&l);
  static const char nokind[] = "a: 1\n---\nmetadata: {name: x}\n";
  CHECK(wgg_resources_parse("nk.yaml", nokind, sizeof nokind - 1, NULL, NULL, &l, &e) == -1);
  CHECK_STR(e.msg, "nk.yaml:1: kind is required");
  wgg_resource_list_free(&l);
  static const char list[] = "- a\n- b\n";
  CHECK(wgg_resources_parse("l.yaml", list, sizeof list - 1, NULL, NULL, &l, &e) == -1);
  CHECK_STR(e.msg, "l.yaml:1: a resource must be a YAML mapping");
  wgg_resource_list_free(&l);
  /* a billion laughs fails on the node budget instead of exhausting memory */
  static const char laughs[] =
      "kind: X\n"
      "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
  CHECK(wgg_resources_parse("x.yaml", laughs, sizeof laughs - 1, NULL, NULL, &l, &e) == -1);
  CHECK(strstr(e.msg, "too large") != NULL);
  wgg_resource_list_free(&l);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_dirs_and_configuration(void) {
  char dir[] = "/tmp/wgg-res-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char a[256], b[256], c[256], bad[256];
  snprintf(a, sizeof a, "%s/b.yaml", dir);
  snprintf(b, sizeof b, "%s/a.yml", dir);
  snprintf(c, sizeof c, "%s/ignored.txt", dir);
  snprintf(bad, sizeof bad, "%s/bad.conf", dir);
  write_file(a,
             "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: second\nspec:\n"
             "  appHttpPipeline:\n    handlers:\n    - name: w2\n      type: middleware.http.wasm\n"
             "  nameResolution:\n    component: sqlite\n");
  write_file(b,
             "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: first\nspec:\n"
             "  httpPipeline:\n    handlers:\n    - name: w1\n      type: middleware.http.wasm\n"
             "    - name: up\n      type: middleware.http.uppercase\n      version: v1\n"
             "  wasm:\n    strictSandbox: true\n");
  write_file(c, "not: yaml: at all: [\n");
  wgg_resource_list l;
  wgg_err e = {{0}};
  const char *paths[] = {dir};
  CHECK(wgg_resources_load(paths, 1, "Configuration", NULL, &l, &e) == 0);
  CHECK(l.n == 2);
  if (l.n == 2) {
    CHECK_STR(l.items[0].name, "first"); /* a.yml sorts before b.yaml */
    CHECK_STR(l.items[1].name, "second");
  }
  wgg_resource_list_free(&l);

  wgg_configuration cfg;
  const char *files[] = {b, a};
  CHECK(wgg_configuration_load(files, 2, &cfg, &e) == 0);
  CHECK_STR(cfg.name, "first");
  CHECK(cfg.n_http_pipeline == 2);
  if (cfg.n_http_pipeline == 2) {
    CHECK_STR(cfg.http_pipeline[0].name, "w1");
    CHECK_STR(cfg.http_pipeline[1].type, "middleware.http.uppercase");
    CHECK_STR(cfg.http_pipeline[1].version, "v1");
    CHECK(cfg.http_pipeline[1].line == 10);
  }
  CHECK(cfg.n_app_http_pipeline == 1);
  CHECK(cfg.wasm_strict_sandbox);
  CHECK_STR(json_string_value(json_object_get(json_object_get(cfg.spec, "nameResolution"), "component")), "sqlite");
  wgg_configuration_free(&cfg);

  CHECK(wgg_configuration_load(NULL, 0, &cfg, &e) == 0);
  CHECK(cfg.name == NULL && cfg.n_http_pipeline == 0 && json_object_size(cfg.spec) == 0);
  wgg_configuration_free(&cfg);

  /* by name from the resources folders (a WasmApp's spec.config naming a Configuration resource) */
  CHECK(wgg_configuration_load_named(paths, 1, "second", &cfg, &e) == 0);
  CHECK_STR(cfg.name, "second");
  CHECK(cfg.n_http_pipeline == 0 && cfg.n_app_http_pipeline == 1 && !cfg.wasm_strict_sandbox);
  CHECK_STR(json_string_value(json_object_get(json_object_get(cfg.spec, "nameResolution"), "component")), "sqlite");
  wgg_configuration_free(&cfg);
  CHECK(wgg_configuration_load_named(paths, 1, "third", &cfg, &e) == -1);
  CHECK_STR(e.msg, "Configuration third not found in the resources paths");
  CHECK(cfg.name == NULL && cfg.spec == NULL);
  CHECK(wgg_configuration_load_named(NULL, 0, "first", &cfg, &e) == -1);

  write_file(bad, "kind: Configuration\nmetadata: {name: x}\nspec:\n  httpPipeline:\n    handlers:\n    - name: x\n");
  const char *badf[] = {bad};
  CHECK(wgg_configuration_load(badf, 1, &cfg, &e) == -1);
  char want[512];
  snprintf(want, sizeof want, "%s:6: spec.httpPipeline.handlers must be a list of {name, type}", bad);
  CHECK_STR(e.msg, want);
  write_file(bad, "kind: Configuration\nspec:\n  wasm:\n    strictSandbox: \"yes\"\n");
  CHECK(wgg_configuration_load(badf, 1, &cfg, &e) == -1);
  snprintf(want, sizeof want, "%s:4: spec.wasm.strictSandbox must be a boolean", bad);
  CHECK_STR(e.msg, want);
  write_file(bad, "kind: Component\nmetadata: {name: x}\n");
  CHECK(wgg_configuration_load(badf, 1, &cfg, &e) == -1);
  snprintf(want, sizeof want, "%s: no Configuration resource", bad);
  CHECK_STR(e.msg, want);
  const char *missing[] = {"/nonexistent/wgg.yaml"};
  CHECK(wgg_configuration_load(missing, 1, &cfg, &e) == -1);
  CHECK(strstr(e.msg, "/nonexistent/wgg.yaml") != NULL);
  const char *nodir[] = {"/nonexistent-dir"};
  CHECK(wgg_resources_load(nodir, 1, NULL, NULL, &l, &e) == -1);
  CHECK_STR(e.msg, "resources path /nonexistent-dir: No such file or directory");

  unlink(a);
  unlink(b);
  unlink(c);
  unlink(bad);
  rmdir(dir);
}

/* Issue 18.6: nesting bombs are rejected by the pre-scan before libyaml's
 * (quadratic) scanner sees them, quickly and with the file named; legitimate
 * brackets, quotes and block scalars are not counted as nesting. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail) {
  size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(hl + ul * times + tl + 1);
  if (!s) return NULL;
  memcpy(s, head, hl);
  for (size_t i = 0; i < times; i++) memcpy(s + hl + i * ul, unit, ul);
  memcpy(s + hl + ul * times, tail, tl + 1);
  return s;
}

static void expect_bomb(const char *what, char *text, const char *msg_part) {
  wgg_resource_list l = {0};
  wgg_err e = {{0}};
  double t0 = now_s();
  int rc = wgg_resources_parse("bomb.yaml", text, strlen(text), NULL, NULL, &l, &e);
  double dt = now_s() - t0;
  if (rc != -1 || !strstr(e.msg, "bomb.yaml") || !strstr(e.msg, msg_part) || dt > 2.0)
    fprintf(stderr, "%s: rc %d in %.2fs: %s\n", what, rc, dt, e.msg);
  CHECK(rc == -1);
  CHECK(strstr(e.msg, "bomb.yaml") != NULL);
  CHECK(strstr(e.msg, msg_part) != NULL);
  CHECK(dt < 2.0);
  wgg_resource_list_free(&l);
  free(text);
}

static void test_nesting_bombs(void) {
  /* 1 MB of unclosed '[' ran for more than 30 s in libyaml before */
  expect_bomb("unclosed [", repeat("a: ", "[", 1000000, ""), "deeper than 10000 flow collections");
  expect_bomb("unclosed {", repeat("a: ", "{a: ", 300000, ""), "deeper than 10000 flow collections");
  expect_bomb("closed [", repeat("a: ", "[", 10001, "]"), "deeper than 10000 flow collections");
  expect_bomb("compact sequences", repeat("", "- ", 500000, "x\n"), "deeper than 10000 block levels");
  expect_bomb("too large", repeat("a: ", "b", WGG_YAML_MAX_BYTES, "\n"), "larger than the");

  /* at the limit the guard lets it through; the converter's own depth limit answers */
  char *at = repeat("a: ", "[", 10000, "");
  wgg_err e = {{0}};
  CHECK(wgg_yaml_guard("ok.yaml", at, strlen(at), &e) == 0);
  free(at);
  /* brackets, quotes and comments that are not nesting */
  static const char fine[] =
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: s\nspec:\n  type: state.in-memory\n"
      "  version: v1\n  metadata:\n  - name: a\n    value: \"[[[[{{{{\"\n  - name: b\n    value: '[[''[[{'\n"
      "  - name: c\n    value: x[y{z # [[[[\n  - name: d\n    value: |\n      [[[[[[\n      {{{{ 'it''s\n"
      "  - name: e\n    value: >-\n      \"[[[\n  - name: f\n    value: [1, [2, {a: [3]}]]\n";
  wgg_resource_list l = {0};
  CHECK(wgg_resources_parse("fine.yaml", fine, sizeof fine - 1, NULL, NULL, &l, &e) == 0);
  CHECK(l.n == 1);
  wgg_resource_list_free(&l);
  /* the text is not NUL-terminated: a document marker cut at the end is read
   * within its length (fuzz_resources found an overread) */
  char *cut = malloc(2);
  memcpy(cut, "--", 2);
  CHECK(wgg_yaml_guard("cut.yaml", cut, 2, &e) == 0);
  free(cut);
  /* a wide but shallow file is fine, however many brackets it has in total */
  char *wide = repeat("a: [", "[1], ", 200000, "2]\n");
  CHECK(wgg_yaml_guard("wide.yaml", wide, strlen(wide), &e) == 0);
  free(wide);
}

int main(void) {
  test_nesting_bombs();
  test_parse_types_lines_scopes();
  test_errors();
  test_dirs_and_configuration();
  CHECK_DONE();
}
