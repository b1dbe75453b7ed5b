/*
 * fuzz_resources.c: libFuzzer target for the sidecar's YAML loading
 * (gate/config/resource.c and component_yaml.c): every input is parsed as a
 * resources file, as Dapr resources of any kind and as Components.
 * Invariants checked on success: every resource has a kind, a JSON object
 * document, a name and api_version (possibly empty) and lines >= 1 for the
 * nodes asked about; the document serialises. On failure the error message is
 * non-empty and names the file. Leaks, overflows and unbounded allocations
 * (alias expansion) are caught by the sanitizers and libFuzzer's limits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/component.h"
#include "config/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "invariant failed: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wgg_resource_list l = {0};
  wgg_err e = {{0}};
  int rc = wgg_resources_parse("in.yaml", (const char *)data, size, NULL, "app", &l, &e);
  if (rc) check(!strncmp(e.msg, "in.yaml", 7), "resource error names the file");
  for (size_t i = 0; i < l.n; i++) {
    wgg_resource *r = &l.items[i];
    check(r->kind && *r->kind && r->name && r->api_version && r->file, "resource fields set");
    check(json_is_object(r->doc), "document is an object");
    check(r->line >= 1 && wgg_resource_line(r, "/spec") >= 1 && wgg_resource_line(r, "") == r->line,
          "lines are 1-based");
    char *text = json_dumps(r->doc, JSON_COMPACT);
    check(text != NULL, "document serialises");
    free(text);
    char tmp[64];
    (void)wgg_json_scalar(json_object_get(r->doc, "apiVersion"), tmp, sizeof tmp);
  }
  wgg_resource_list_free(&l);

  wgg_component_list cl = {0};
  e.msg[0] = '\0';
  rc = wgg_components_parse("in.yaml", (const char *)data, size, "app", &cl, &e);
  if (rc) check(e.msg[0] != '\0', "component error has a message");
  for (size_t i = 0; i < cl.n; i++)
    check(cl.items[i].name && *cl.items[i].name && cl.items[i].type && cl.items[i].file, "component fields set");
  wgg_component_list_free(&cl);
  return 0;
}
