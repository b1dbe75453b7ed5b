/*
 * wasm_binding.c: the bindings.wasm output binding (Dapr
 * supported-bindings/wasm.md; behaviour of components-contrib
 * bindings/wasm/output.go). The module is loaded, validated and its imports
 * checked once at start-up: wasi_snapshot_preview1, and the legacy wasi-http
 * modules when it imports default-outgoing-HTTP (wasi_http_legacy.h; refused
 * with strictSandbox, as Dapr does); any other import stops the start naming
 * it. Every invocation runs a fresh instance as a WASI command: stdin is the
 * request data (when not empty), stdout is the response, argv is the guest
 * name followed by the comma-split "args" metadata, no environment and no
 * preopened directories. A trap or a non-zero exit fails the invocation.
 * strictSandbox (the component's, or the Configuration's
 * spec.wasm.strictSandbox) gives the guest deterministic clocks and random
 * bytes. Bounds (wasmgate's own metadata): "timeout" per run (default 30s),
 * "maxMemory" on linear memory (default 256Mi), "maxOutput" on stdout
 * (default 16Mi, past it the call fails); a caller that disconnects
 * interrupts its guest at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/bindings/binding.h"
#include "util/err.h"
#include "wasmgate.h"
#include "wasmhost/wasi_http_legacy.h"
#include "wasmhost/wasmhost.h"
#include "wgwasi.h"

static const char *const operations[] = {"execute", NULL};

#define WASM_BINDING_MAX_MEMORY (256u << 20)
#define WASM_BINDING_MAX_OUTPUT (16u << 20)

typedef struct wasm_binding {
  wgg_binding base;
  wg_module *module;
  char *guest; /* argv[0]: the module's file name without .wasm */
  bool strict;
  bool wasi_http; /* imports default-outgoing-HTTP */
  uint64_t timeout_ms;
  uint32_t max_pages;
  size_t max_output;
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

static int link_http(void *env, wg_store *s, const wg_module *m, wg_extern *imports, wgg_err *err) {
  return wgg_wasi_http_link(env, s, m, imports, err);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int invoke(wgg_binding *b, const char *operation, const char *data, size_t len, json_t *metadata,
                  wgg_cancel *cancel, wgg_binding_result *out, wgg_err *err) {
  (void)operation; /* Dapr's wasm binding runs whatever the operation says */
  wasm_binding *w = (wasm_binding *)b;
  memset(out, 0, sizeof *out);
  const char *args = json_string_value(json_object_get(metadata, "args"));
  char **argv = NULL;
  int argc = split_args(w->guest, args, &argv);
  if (argc < 0) return wgg_err_set(err, "out of memory");
  wg_wasi_config cfg = {.argc = argc, .argv = (const char *const *)argv, .stdin_buf = (const uint8_t *)data,
                        .stdin_len = len, .use_stdin_buf = true, .capture_output = true, .strict = w->strict};
  wgg_wasm_run_opts o = {.timeout_ms = w->timeout_ms, .max_memory_pages = w->max_pages, .cancel = cancel,
                         .max_output = w->max_output};
  wgg_wasi_http *http = NULL;
  if (w->wasi_http) {
    if (!(http = wgg_wasi_http_new(cancel, w->timeout_ms ? now_ms() + w->timeout_ms : 0))) {
      if (argc > 1) free(argv[1]);
      free(argv);
      return wgg_err_set(err, "out of memory");
    }
    o.link = link_http;
    o.link_env = http;
  }
  wgg_wasm_run_result r;
  int rc = wgg_wasm_run_command_opts(w->module, &cfg, &o, &r, err);
  wgg_wasi_http_delete(http);
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

/* Go's strconv.ParseBool, as Dapr's metadata decoding reads booleans. */
static int parse_bool(const char *v, bool *out) {
  static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"}, *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (int i = 0; i < 6; i++) {
    if (!strcmp(v, t[i])) return *out = true, 0;
    if (!strcmp(v, f[i])) return *out = false, 0;
  }
  return -1;
}

wgg_binding *wgg_binding_wasm_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err) {
  const char *url = wgg_component_meta(c, "url");
  if (!url || !*url) return wgg_err_set(err, "wasm: failed to parse metadata: missing url"), NULL;
  wasm_binding *w = calloc(1, sizeof *w);
  if (!w) return wgg_err_set(err, "out of memory"), NULL;
  w->base.ops = &ops;
  w->base.operations = operations;
  const char *strict = wgg_component_meta(c, "strictSandbox");
  if (strict && *strict && parse_bool(strict, &w->strict)) {
    free(w);
    return wgg_err_set(err, "wasm: failed to parse metadata: cannot parse 'strictSandbox' as bool: "
                            "strconv.ParseBool: parsing \"%.100s\": invalid syntax", strict), NULL;
  }
  w->strict |= opts && opts->wasm_strict_sandbox;
  w->timeout_ms = 30000;
  size_t mem = WASM_BINDING_MAX_MEMORY, outmax = WASM_BINDING_MAX_OUTPUT;
  const char *v;
  wgg_err e;
  if (((v = wgg_component_meta(c, "timeout")) && *v && wgg_parse_duration_ms(v, &w->timeout_ms, &e)) ||
      ((v = wgg_component_meta(c, "maxMemory")) && *v && wgg_parse_quantity(v, &mem, &e)) ||
      ((v = wgg_component_meta(c, "maxOutput")) && *v && wgg_parse_quantity(v, &outmax, &e))) {
    free(w);
    return wgg_err_set(err, "wasm: failed to parse metadata: %s", e.msg), NULL;
  }
  if (mem > (size_t)65536 * 65536) mem = (size_t)65536 * 65536;
  w->max_pages = (uint32_t)((mem + 65535) / 65536);
  if (!w->max_pages) w->max_pages = 1;
  w->max_output = outmax ? outmax : 1;
  if (!(w->module = wgg_wasm_load(url, &w->guest, err))) {
    free(w);
    return NULL;
  }
  /* Dapr's Init: wasi-http when the guest imports default-outgoing-HTTP, never with strictSandbox. */
  w->wasi_http = wgg_wasi_http_legacy_wanted(w->module);
  wgg_wasi_http *probe = NULL;
  int rc = 0;
  if (w->wasi_http && w->strict) rc = wgg_err_set(err, "can not instantiate wasi-http with strict sandbox");
  else if (w->wasi_http && wgg_wasi_http_legacy_init(err)) rc = -1;
  else if (w->wasi_http && !(probe = wgg_wasi_http_new(NULL, 0))) rc = wgg_err_set(err, "out of memory");
  if (!rc) {
    const char *argv0 = w->guest;
    wg_wasi_config cfg = {.argc = 1, .argv = &argv0, .use_stdin_buf = true, .capture_output = true, .strict = w->strict};
    rc = wgg_wasm_check_imports(w->module, &cfg, probe ? link_http : NULL, probe, err);
  }
  wgg_wasi_http_delete(probe);
  if (rc) {
    destroy(&w->base);
    return NULL;
  }
  return &w->base;
}
