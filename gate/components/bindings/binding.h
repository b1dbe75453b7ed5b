/*
 * binding.h: output bindings behind one small interface (Dapr bindings
 * building block; docs reference/api/bindings_api.md). A binding is created
 * from its component at start-up and invoked from the libuv thread pool, so
 * invoke() may block; it must be safe to call from several threads at once.
 */
#ifndef WGG_BINDING_H
#define WGG_BINDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/component.h"
#include "util/cancel.h"
#include "wggate.h"

typedef struct wgg_binding wgg_binding;

/* What an invocation gives back: response bytes (malloc'd, may be NULL when
 * empty) and response metadata (a JSON object of strings, or NULL). */
typedef struct wgg_binding_result {
  char *data;
  size_t len;
  json_t *metadata;
} wgg_binding_result;

typedef struct wgg_binding_ops {
  /* Runs `operation` with request bytes and metadata (a JSON object of
   * strings, borrowed). `cancel` (may be NULL) fires when the caller went
   * away: a binding that can stops early (as Go's request context). Returns
   * 0, or -1 with err set (HTTP 500 ERR_INVOKE_OUTPUT_BINDING); *out is
   * filled either way. */
  int (*invoke)(wgg_binding *b, const char *operation, const char *data, size_t len, json_t *metadata,
                wgg_cancel *cancel, wgg_binding_result *out, wgg_err *err);
  void (*destroy)(wgg_binding *b);
} wgg_binding_ops;

struct wgg_binding {
  const wgg_binding_ops *ops;
  const char *const *operations; /* for /v1.0/metadata */
};

/* What the runtime's Configuration gives every binding. */
typedef struct wgg_binding_opts {
  bool wasm_strict_sandbox; /* spec.wasm.strictSandbox: bindings.wasm runs every guest strictly */
} wgg_binding_opts;

/* Creates the binding for component c (type "bindings.*") with opts (may be
 * NULL: all defaults), or NULL with err. */
wgg_binding *wgg_binding_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err);

/* Whether this build implements binding type `type`. */
bool wgg_binding_type_supported(const char *type);

/* Frees a result's data and metadata. */
void wgg_binding_result_free(wgg_binding_result *r);

struct wgg_resiliency;

/* Wraps inner (ownership moves in) in component c's outbound Resiliency
 * policies (components/bindings/resilient.c). Returns inner itself when no
 * policy applies, else the wrapper; NULL on OOM (inner still the caller's). */
wgg_binding *wgg_binding_resilient_wrap(wgg_binding *inner, struct wgg_resiliency *res, const wgg_component *c);

/* bindings.http (components/bindings/http.c, libcurl). */
wgg_binding *wgg_binding_http_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err);

/* bindings.wasm (wasmhost/wasm_binding.c). */
wgg_binding *wgg_binding_wasm_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err);

#endif
