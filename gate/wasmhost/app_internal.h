/*
 * app_internal.h: the structures shared by wasmhost/app_*.c (loading and
 * calling wasm apps, the WAGI contract, the dapr:v1 host functions). Not for
 * other layers.
 */
#ifndef WGG_WASMHOST_APP_INTERNAL_H
#define WGG_WASMHOST_APP_INTERNAL_H

#include "pipeline/exchange.h"
#include "util/buf.h"
#include "wasmgate.h"
#include "wasmgate_component.h"
#include "wasmhost/app.h"
#include "wasmhost/httpwasm.h"
#include "wgwasi.h"

/* Name of the import module of the host functions (docs/wasm-apps.md). */
#define WGG_DAPR_MODULE "dapr:v1"

/* A wgg_wasm_app is either the handle the API holds (cur points to the generation in service,
 * url and settings are kept for reloads) or one generation: a compiled module with its settings,
 * reference counted by the handle and by every call in flight on it, so a reload swaps the
 * generation without dropping a request (cur NULL in a generation). */
struct wgg_wasm_app {
  struct wgg_wasm_app *cur; /* handle: the generation in service (under cur_mu) */
  uv_mutex_t cur_mu;
  char *url;
  wgg_wasm_app_settings settings; /* handle: its strings are the generation's (app_id, api_token) */
  int refs;                 /* generation: atomic */
  uv_fs_poll_t *watch;      /* handle: wgg_wasm_app_watch */
  wg_module *mod;          /* WAGI: the compiled module */
  wgg_hw_module *hw;       /* http-wasm: the compiled handler */
  struct wgg_p2app *p2app; /* wasi:http: the component, its linker and pool (app_p2http.c) */
  wg_memimage *memimage;   /* the copy-on-write image of the module's initial memory, NULL when none */
  wgg_app_abi abi;
  char *name, *app_id, *api_token;
  char *outbound;          /* settings.allowed_outbound_hosts (copied; NULL: none allowed) */
  uint64_t deadline_ms;
  uint32_t max_memory_pages;
  size_t max_response;
  int http_port;
  bool imports_wasi;
  void (*route)(wgg_http_req *req, void *ctx);
  void *route_ctx;
  struct wgg_api *api;      /* settings.api */
  char *config_store;       /* settings.config_store (owned), NULL = the only one */
  void (*observe)(int tag, int method, int status, uint64_t ns, void *ctx); /* settings.observe */
  struct wgg_metrics *metrics;                                               /* settings.metrics */
  /* the pooled policy (http-wasm apps): idle instances under pool_mu */
  bool pooled;
  bool reset_fresh;         /* fresh policy: instances are reset and reused (app_module.c recycle_fresh) */
  uint32_t max_invocations;
  uv_mutex_t pool_mu;
  struct pooled *pool;
  size_t pool_n;
};

typedef struct wgg_app_call wgg_app_call;
typedef struct wgg_dapr_op wgg_dapr_op;

/* The dapr:v1 host functions' state for one store (one instance): the call
 * it serves and the last operation's result, which result_* read. */
typedef struct wgg_dapr_env {
  wgg_wasm_app *app;
  wgg_app_call *call;  /* the request in flight (NULL outside one) */
  wgg_dapr_op *op;     /* the operation the guest is parked on, NULL when none */
  int status;          /* last result: HTTP status of the route's answer (0 = none yet) */
  wgg_hdrs headers;    /* its headers (ETag, metadata) */
  wgg_buf body;        /* its body */
  wgg_buf error;       /* "ERR_CODE: message" of the last failed operation */
} wgg_dapr_env;

/* Links the dapr:v1 imports of m into imports[] (wg_module_import_count
 * entries) with host functions made in s whose state is env (which must
 * outlive s). Imports from other modules are left untouched. false with msg
 * for an unknown dapr:v1 function or a wrong signature. */
bool wgg_dapr_link(wgg_dapr_env *env, wg_store *s, const wg_module *m, wg_extern *imports, char *msg, size_t msglen);

/* Frees what env holds (not env). An operation still in flight is detached:
 * its answer is dropped when it arrives. */
void wgg_dapr_env_clear(wgg_dapr_env *env);

/* Called by app_dapr.c when the operation a parked guest waits on completed
 * (on the call's loop, outside any guest code): resumes the guest with the
 * host function's result. */
void wgg_app_call_resume(wgg_app_call *c, int64_t result);

/* The loop the call runs on (host calls are made on it). */
uv_loop_t *wgg_app_call_loop(const wgg_app_call *c);

/* ---- wasi:http components (app_p2http.c) ---- */

/* Takes component `comp` (owned from now on, also on failure) as generation a's app: checks that
 * it exports wasi:http/incoming-handler 0.2.x or a handler of app_p2sub.c, builds its linker and instantiates it once (so
 * that missing imports or a trapping start fail here). 0, or -1 with err ("wasm app NAME: exports
 * neither handle_request (http-wasm), _start (WAGI), wasi:http/incoming-handler (wasi:http) nor a
 * message or event handler",
 * "wasm app NAME: cannot instantiate: ..."). */
int wgg_p2app_load(wgg_wasm_app *a, wg_component *comp, const wgg_wasm_app_settings *s, wgg_err *err);
/* Frees what wgg_p2app_load made (idle instances included). NULL is ignored. */
void wgg_p2app_free(struct wgg_p2app *p);
/* Releases a reference on generation g (freed with the last one). */
void wgg_app_gen_release(wgg_wasm_app *g);
/* wgg_wasm_app_call for a wasi:http component (same contract), on generation a whose reference
 * it takes (released when the call ends, also on failure). The handler runs now; a host call
 * that waits on the loop parks it (wgg_p2h_park) and its answer resumes it there, bounded by
 * timeout_ms (else 30 s) with time parked included. */
int wgg_p2app_call(wgg_wasm_app *a, uv_loop_t *loop, const char *method, const char *target,
                   const wgg_http_header *headers, size_t n, const char *body, size_t len, uint64_t timeout_ms,
                   wgg_http_client_cb cb, void *user);
/* wgg_p2app_call with the request body from src (NULL: body/len) and the answer through stream
 * (NULL: buffered to cb): wgg_wasm_app_call_full. */
int wgg_p2app_call_full(wgg_wasm_app *a, uv_loop_t *loop, const char *method, const char *target,
                        const wgg_http_header *headers, size_t n, const char *body, size_t len,
                        const wgg_http_body_source *src, uint64_t timeout_ms, wgg_http_client_cb cb,
                        const wgg_http_stream_cbs *stream, void *user);

/* ---- WAGI (app_wagi.c) ---- */

/* The CGI environment of a request ("KEY=VALUE" strings, malloc'd, NULL
 * terminated; free with wgg_wagi_env_free). NULL on OOM. */
char **wgg_wagi_env(const wgg_wasm_app *a, const char *method, const char *target, const wgg_http_header *h,
                    size_t n, size_t body_len, const char *source, int *envc);
void wgg_wagi_env_free(char **env);

/* Parses a CGI response from stdout (RFC 3875 6: header lines, a blank line,
 * the body; Status: sets the status, Location: without Status gives 302).
 * Fills status, headers (into hdrs, copied) and the body's offset. -1 with
 * err when there is no header block or a header line is malformed. */
int wgg_wagi_parse(const char *out, size_t len, int *status, wgg_hdrs *hdrs, size_t *body_off, wgg_err *err);

#endif
