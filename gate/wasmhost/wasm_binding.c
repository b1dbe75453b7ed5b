/*
 * wasm_binding.c: the bindings.wasm output binding (Dapr
 * supported-bindings/wasm.md; behaviour of components-contrib
 * bindings/wasm/output.go as summarised in shared/reference/http-wasm-abi.md
 * 2.2). The module is loaded and validated once at start-up; every
 * invocation runs a fresh instance of it as a WASI command: stdin is the
 * request data (when not empty), stdout is the response, argv is the guest
 * name followed by the comma-split "args" metadata, no environment and no
 * preopened directories. A trap or a non-zero exit fails the invocation.
 * Each run has a deadline (metadata "timeout", default 30s) so a runaway
 * guest costs one request, never a worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/bindings/binding.h"
#include "util/err.h"
#include "wasmgate.h"
#include "wasmhost/wasmhost.h"
#include "wgwasi.h"

static const char *const operations[] = {"execute", NULL};

typedef struct wasm_binding {
  wgg_binding base;
  wg_module *module;
  char *guest; /* argv[0]: the module's file name without .wasm */
  bool strict;
  uint64_t timeout_ms;
} wasm_binding;

static void destroy(wgg_binding *b) {
  wasm_binding *w = (wasm_binding *)b;
  wg_module_delete(w->module);
  free(w->guest);
  free(w);
}

/* argv = [guest] + split(args, ","), as Dapr does (no trimming). */
static int split_args(const char *guest, const char *args, char ***out) {
  int n = 1;
  for (const char *p = args; p && *p; p++) n += *p == ',';
  if (args && *args) n++;
  char **v = calloc((size_t)n + 1, sizeof *v);
  char *copy = args && *args ? strdup(args) : NULL;
  if (!v || (args && *args && !copy)) {
    free(v);
    free(copy);
    return -1;
  }
  v[0] = (char *)guest;
  int k = 1;
  for (char *s = copy, *comma; s; s = comma ? comma + 1 : NULL) {
    comma = strchr(s, ',');
    if (comma) *comma = 0;
    v[k++] = s;
  }
  *out = v;
  return k;
}

static int invoke(wgg_binding *b, const char *operation, const char *data, size_t len, json_t *metadata,
                  wgg_binding_result *out, wgg_err *err) {
  (void)operation; /* Dapr's wasm binding runs whatever the operation says */
  wasm_binding *w = (wasm_binding *)b;
  memset(out, 0, sizeof *out);
  const char *args = json_string_value(json_object_get(metadata, "args"));
  char **argv = NULL;
  int argc = split_args(w->guest, args, &argv);
  if (argc < 0) return wgg_err_set(err, "out of memory");
  wg_wasi_config cfg = {.argc = argc, .argv = (const char *const *)argv, .stdin_buf = (const uint8_t *)data,
                        .stdin_len = len, .use_stdin_buf = true, .capture_output = true, .strict = w->strict};
  wgg_wasm_run_result r;
  int rc = wgg_wasm_run_command(w->module, &cfg, w->timeout_ms, &r, err);
  if (!rc && r.exit_code != 0) rc = wgg_err_set(err, "module exited with code %d", r.exit_code);
  if (!rc && r.stdout_len) {
    out->data = r.stdout_data;
    out->len = r.stdout_len;
    r.stdout_data = NULL;
  }
  free(r.stdout_data);
  if (argc > 1) free(argv[1]); /* the strdup'd args, split in place */
  free(argv);
  return rc;
}

static const wgg_binding_ops ops = {invoke, destroy};

wgg_binding *wgg_binding_wasm_new(const wgg_component *c, wgg_err *err) {
  const char *url = wgg_component_meta(c, "url");
  if (!url || !*url) return wgg_err_set(err, "wasm: failed to parse metadata: missing url"), NULL;
  wasm_binding *w = calloc(1, sizeof *w);
  if (!w) return wgg_err_set(err, "out of memory"), NULL;
  w->base.ops = &ops;
  w->base.operations = operations;
  const char *strict = wgg_component_meta(c, "strictSandbox");
  w->strict = strict && !strcmp(strict, "true");
  w->timeout_ms = 30000;
  const char *timeout = wgg_component_meta(c, "timeout");
  if (timeout && *timeout && wgg_parse_duration_ms(timeout, &w->timeout_ms, err) < 0) {
    free(w);
    return NULL;
  }
  if (!(w->module = wgg_wasm_load(url, &w->guest, err))) {
    free(w);
    return NULL;
  }
  return &w->base;
}
