/* unit_components.c: the Component YAML loader (config/component_*.c). */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config/component.h"

static const char two_docs[] =
    "apiVersion: dapr.io/v1alpha1\n"
    "kind: Component\n"
    "metadata:\n"
    "  name: statestore\n"
    "spec:\n"
    "  type: state.sqlite\n"
    "  version: v1\n"
    "  metadata:\n"
    "  - name: connectionString\n"
    "    value: \"{appID}.db\"\n"
    "  - name: tableName\n"
    "    value: t1\n"
    "---\n"
    "apiVersion: dapr.io/v1alpha1\n"
    "kind: Configuration\n"
    "metadata:\n"
    "  name: appconfig\n"
    "spec: {}\n"
    "---\n"
    "apiVersion: dapr.io/v1alpha1\n"
    "kind: Component\n"
    "metadata:\n"
    "  name: other\n"
    "spec:\n"
    "  type: state.in-memory\n"
    "  metadata: []\n"
    "scopes: [app2]\n";

static void test_parse_ok(void) {
  wgg_component_list l = {0};
  wgg_err e = {{0}};
  CHECK(wgg_components_parse("two.yaml", two_docs, sizeof two_docs - 1, "app1", &l, &e) == 0);
  CHECK(l.n == 1); /* Configuration skipped, `other` scoped to app2 */
  if (l.n == 1) {
    CHECK_STR(l.items[0].name, "statestore");
    CHECK_STR(l.items[0].type, "state.sqlite");
    CHECK_STR(l.items[0].version, "v1");
    CHECK_STR(wgg_component_meta(&l.items[0], "connectionString"), "app1.db");
    CHECK_STR(wgg_component_meta(&l.items[0], "TABLENAME"), "t1");
    CHECK(wgg_component_meta(&l.items[0], "nope") == NULL);
    CHECK(l.items[0].line == 1);
  }
  wgg_component_list_free(&l);
  CHECK(wgg_components_parse("two.yaml", two_docs, sizeof two_docs - 1, "app2", &l, &e) == 0);
  CHECK(l.n == 2);
  wgg_component_list_free(&l);
}

static void expect_error(const char *yaml, const char *needle) {
  wgg_component_list l = {0};
  wgg_err e = {{0}};
  int rc = wgg_components_parse("bad.yaml", yaml, strlen(yaml), "app", &l, &e);
  CHECK(rc == -1);
  if (!strstr(e.msg, needle)) {
    check_failures++;
    fprintf(stderr, "expected error containing \"%s\", got \"%s\"\n", needle, e.msg);
  }
  wgg_component_list_free(&l);
}

static void test_errors(void) {
  expect_error("kind: Component\nmetadata:\n  name: a\nspec:\n  type: [unclosed\n", "bad.yaml:6:");
  expect_error("kind: Component\nmetadata:\n  name: a\nspec:\n  version: v1\n", "bad.yaml:5: spec.type is required");
  expect_error("kind: Component\nmetadata: {}\nspec:\n  type: state.sqlite\n", "metadata.name is required");
  expect_error("kind: Component\nmetadata:\n  name: a\nspec:\n  type: state.sqlite\n  metadata:\n    x: 1\n",
               "bad.yaml:7: spec.metadata must be a list");
  expect_error("kind: Component\nmetadata:\n  name: a\nspec:\n  type: state.sqlite\n  metadata:\n  - value: 1\n",
               "bad.yaml:7: spec.metadata[].name is required");
  expect_error("kind: Component\nmetadata:\n  name: a\nspec:\n  type: x.y\n---\nkind: Component\nmetadata:\n  name: a\n"
               "spec:\n  type: x.y\n",
               "bad.yaml:7: component 'a' is already declared in bad.yaml:1");
  expect_error("- just\n- a list\n", "bad.yaml:1: a resource must be a YAML mapping");
}

static void test_secrets(void) {
  static const char y[] =
      "kind: Component\nmetadata:\n  name: envsecrets\nspec:\n  type: secretstores.local.env\n  version: v1\n"
      "  metadata: []\n---\n"
      "kind: Component\nmetadata:\n  name: s\nauth:\n  secretStore: envsecrets\nspec:\n  type: state.sqlite\n"
      "  metadata:\n  - name: connectionString\n    secretKeyRef:\n      name: WGG_TEST_SECRET\n      key: WGG_TEST_SECRET\n";
  wgg_component_list l = {0};
  wgg_err e = {{0}};
  CHECK(wgg_components_parse("s.yaml", y, sizeof y - 1, "app", &l, &e) == 0);
  unsetenv("WGG_TEST_SECRET");
  CHECK(wgg_components_resolve_secrets(&l, &e) == -1);
  CHECK(strstr(e.msg, "s.yaml:17: component 's': secret 'WGG_TEST_SECRET' not found in secret store 'envsecrets'") != NULL);
  setenv("WGG_TEST_SECRET", "from-env.db", 1);
  CHECK(wgg_components_resolve_secrets(&l, &e) == 0);
  CHECK(l.n == 2 && !strcmp(wgg_component_meta(&l.items[1], "connectionString"), "from-env.db"));
  wgg_component_list_free(&l);

  static const char nostore[] =
      "kind: Component\nmetadata:\n  name: s\nspec:\n  type: state.sqlite\n"
      "  metadata:\n  - name: connectionString\n    secretKeyRef: {name: X, key: X}\n";
  CHECK(wgg_components_parse("n.yaml", nostore, sizeof nostore - 1, "app", &l, &e) == 0);
  CHECK(wgg_components_resolve_secrets(&l, &e) == -1 && strstr(e.msg, "auth.secretStore is not set"));
  wgg_component_list_free(&l);
}

static void test_file_secrets(void) {
  char path[] = "/tmp/wgg-secrets-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("{\"db\": {\"conn\": \"nested.db\"}, \"flat\": \"flat.db\", \"port\": 6379, \"bin\": \"a\\u0000b\"}", f);
  fclose(f);
  char y[1024];
  snprintf(y, sizeof y,
           "kind: Component\nmetadata:\n  name: files\nspec:\n  type: secretstores.local.file\n  metadata:\n"
           "  - name: secretsFile\n    value: %s\n---\n"
           "kind: Component\nmetadata:\n  name: s\nauth:\n  secretStore: files\nspec:\n  type: state.sqlite\n"
           "  metadata:\n  - name: a\n    secretKeyRef: {name: \"db:conn\", key: \"db:conn\"}\n"
           "  - name: b\n    secretKeyRef: {name: flat}\n  - name: c\n    secretKeyRef: {name: port}\n"
           "  - name: d\n    secretKeyRef: {name: bin}\n",
           path);
  wgg_component_list l = {0};
  wgg_err e = {{0}};
  CHECK(wgg_components_parse("f.yaml", y, strlen(y), "app", &l, &e) == 0);
  CHECK(wgg_components_resolve_secrets(&l, &e) == 0);
  if (l.n == 2) {
    CHECK_STR(wgg_component_meta(&l.items[1], "a"), "nested.db");
    CHECK_STR(wgg_component_meta(&l.items[1], "b"), "flat.db");
    /* components-contrib's file store formats non-string scalars with Go's "%s": daprd sets this text */
    CHECK_STR(wgg_component_meta(&l.items[1], "c"), "%!s(float64=6379)");
    size_t len = 0; /* a JSON \u0000 stays in the value (and the text accessor refuses it) */
    const char *d = wgg_component_meta_bytes(&l.items[1], "d", &len);
    CHECK(d && len == 3 && !memcmp(d, "a\0b", 3));
    CHECK(wgg_component_meta(&l.items[1], "d") == NULL);
  }
  wgg_component_list_free(&l);
  snprintf(y, sizeof y,
           "kind: Component\nmetadata:\n  name: files\nspec:\n  type: secretstores.local.file\n  metadata:\n"
           "  - name: secretsFile\n    value: %s\n---\n"
           "kind: Component\nmetadata:\n  name: s\nauth:\n  secretStore: files\nspec:\n  type: state.sqlite\n"
           "  metadata:\n  - name: a\n    secretKeyRef: {name: \"db:nope\"}\n",
           path);
  CHECK(wgg_components_parse("f.yaml", y, strlen(y), "app", &l, &e) == 0);
  CHECK(wgg_components_resolve_secrets(&l, &e) == -1 && strstr(e.msg, "f.yaml:18: component 's': secret 'db:nope' not found"));
  wgg_component_list_free(&l);
  /* multiValued: secretKeyRef.key picks an entry of the secret, as daprd's secret processor does */
  snprintf(y, sizeof y,
           "kind: Component\nmetadata:\n  name: files\nspec:\n  type: secretstores.local.file\n  metadata:\n"
           "  - name: secretsFile\n    value: %s\n  - name: multiValued\n    value: \"true\"\n---\n"
           "kind: Component\nmetadata:\n  name: s\nauth:\n  secretStore: files\nspec:\n  type: state.sqlite\n"
           "  metadata:\n  - name: a\n    secretKeyRef: {name: db, key: conn}\n"
           "  - name: b\n    secretKeyRef: {name: flat}\n",
           path);
  CHECK(wgg_components_parse("m.yaml", y, strlen(y), "app", &l, &e) == 0);
  CHECK(wgg_components_resolve_secrets(&l, &e) == 0);
  if (l.n == 2) {
    CHECK_STR(wgg_component_meta(&l.items[1], "a"), "nested.db");
    CHECK_STR(wgg_component_meta(&l.items[1], "b"), "flat.db");
  }
  wgg_component_list_free(&l);
  snprintf(y, sizeof y,
           "kind: Component\nmetadata:\n  name: files\nspec:\n  type: secretstores.local.file\n  metadata:\n"
           "  - name: secretsFile\n    value: %s\n  - name: multiValued\n    value: \"true\"\n---\n"
           "kind: Component\nmetadata:\n  name: s\nauth:\n  secretStore: files\nspec:\n  type: state.sqlite\n"
           "  metadata:\n  - name: a\n    secretKeyRef: {name: db, key: user}\n",
           path);
  CHECK(wgg_components_parse("m.yaml", y, strlen(y), "app", &l, &e) == 0);
  CHECK(wgg_components_resolve_secrets(&l, &e) == -1 && strstr(e.msg, "secret 'db' has no key 'user'"));
  wgg_component_list_free(&l);
  unlink(path);
}

/* Metadata values are bytes: "\0" in a double-quoted scalar is kept, and so
 * are {appID} expansions around it. */
static void test_value_bytes(void) {
  static const char y[] = "kind: Component\nmetadata:\n  name: c\nspec:\n  type: state.sqlite\n  metadata:\n"
                          "  - name: k\n    value: \"x\\0{appID}\\0\"\n  - name: t\n    value: plain\n";
  wgg_component_list l = {0};
  wgg_err e = {{0}};
  CHECK(wgg_components_parse("v.yaml", y, sizeof y - 1, "app", &l, &e) == 0);
  size_t len = 0;
  const char *v = l.n ? wgg_component_meta_bytes(&l.items[0], "K", &len) : NULL;
  CHECK(v && len == 6 && !memcmp(v, "x\0app\0", 6));
  CHECK(l.n && wgg_component_meta(&l.items[0], "k") == NULL); /* refused, not cut to "x" */
  CHECK(l.n && wgg_component_meta_bytes(&l.items[0], "t", &len) && len == 5);
  CHECK(l.n && wgg_component_meta_bytes(&l.items[0], "absent", &len) == NULL && len == 0);
  wgg_component_list_free(&l);
}

int main(void) {
  test_parse_ok();
  test_value_bytes();
  test_errors();
  test_secrets();
  test_file_secrets();
  CHECK_DONE();
}
