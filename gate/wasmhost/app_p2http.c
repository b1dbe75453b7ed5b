/*
 * app_p2http.c: wasm apps that are WASI 0.2 components exporting
 * wasi:http/incoming-handler 0.2.x (the `wasi:http/proxy` world of
 * `wasmtime serve`, Spin and wasmCloud). Every app-channel call becomes an
 * incoming-request (method, path with query, headers, body) handed to the
 * component's `handle` with a response-outparam; what the guest sets there
 * is the answer (status, headers, body), as an HTTP app's would be.
 *
 * The linker is made once per app generation and shared by every loop
 * thread (read-only after load): its host functions find the calling
 * store's state through wg_store_data (a wgg_p2h_inst), so a fresh instance
 * per request costs a store and an instantiation, not a linker. Imports the
 * linker does not define (wasi:sockets, wasi:filesystem ...) trap when
 * called. Interface hosts of the component app are added in one place,
 * define_interfaces() below (wasi:http, and wasi:keyvalue, wasi:config and
 * wasi:messaging on the app's Dapr components).
 *
 * Instance policy: fresh (the default, as wasmtime serve and Spin) or
 * pooled (settings.pooled: idle instances reused up to max_invocations, at
 * most 64 kept; a pooled instance is back in the pool before its caller
 * gets a collected answer, so a caller's sequential requests reuse one
 * instance whatever loop thread they reach). A call with a body source and stream callbacks
 * (wgg_p2app_call_full: service invocation, `serve`) streams: the body is
 * fed to the guest's incoming-body as it arrives (vs_*: this call is the
 * source's "app connection", a virtual stream handle) and the answer goes
 * out through the callbacks from response-outparam.set on (io_*); other
 * calls buffer the body before the handler and collect the answer until it
 * returns. A host call that waits on the loop (wasi:keyvalue's store calls,
 * outgoing-handler, and wasi:io's blocking calls through the WASI layer's
 * park hook: a body with nothing yet, a full client queue, poll on a clock)
 * parks the guest (wgg_p2h_park): the answer resumes it on the request's
 * loop (wgg_p2h_resume; a wasi:io wait is tried again on a later loop
 * iteration whenever one of its sources changed, kick()); each wait is
 * bounded by the caller's timeout (else 30 s). Each run of the guest is
 * bounded by the app's deadline_ms, or else the caller's timeout, or else
 * 30 s of CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "observe/metrics.h"
#include "util/log.h"
#include "wasmhost/app_internal.h"
#include "wasmhost/app_p2call.h"
#include "wasmhost/p2app_internal.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_dapr.h"
#include "wasmhost/p2http.h"
#include "wasmhost/slice.h"
#include "wasmhost/wasmhost.h"

enum { P2_STACK_SLOTS = 1u << 16, P2_DEFAULT_PAGES = 1024, P2_POOL_MAX = 64, P2_DEFAULT_MAX_INVOCATIONS = 10000 };
/* images pay above 1 MiB when every request instantiates (pooled, or fresh with reset off), above
 * 2 pages when fresh instances are reset: a reset copies back the pages the guest dirtied instead
 * of zeroing the whole memory (bench_memimage's reset rows: the same at 3 pages, 3x at 8, 5x at 17) */
enum { P2_DEFAULT_DEADLINE_MS = 30000, MEMIMAGE_MIN_BYTES = 1u << 20, MEMIMAGE_MIN_BYTES_RESET = 2u << 16 };

#define HANDLER "wasi:http/incoming-handler@0.2.0" /* matches any 0.2.x export */

struct wgg_p2app {
  wg_component *comp;
  wg_component_linker *linker;
  const wgg_p2h_types *types;
  wg_wasi_p2 *p2;          /* the WASI 0.2 template of the linker */
  wg_memimage *memimage;   /* of the largest core module's memory, when it pays */
  const char *name;        /* the app's (borrowed from the generation) */
  unsigned exports;        /* WGG_P2X_* handlers besides wasi:http (app_p2sub.c) */
  bool has_http;           /* exports wasi:http/incoming-handler */
  wgg_p2_msg_host *msg;    /* wasi:messaging's host, for delivered messages (owned by the linker) */
  uint32_t max_memory_pages;
  uint64_t deadline_ms;
  bool pooled;
  uint32_t max_invocations;
  bool reset_fresh;        /* fresh policy by instances reset for reuse (recycle_fresh) */
  uv_mutex_t pool_mu;
  p2inst *pool;
  size_t pool_n;
};

static wg_wasi_p2 *p2_of_store(wg_store *s) {
  wgg_p2h_inst *h = s ? wg_store_data_tagged(s, wgg_p2h_store_tag) : NULL;
  return h ? h->p2 : NULL;
}

/* The interfaces the component app's linker serves, besides WASI 0.2 (wasi/src/p2_*.c): wasi:http
 * here, and the cloud interfaces (wasi:keyvalue, wasi:config, wasi:messaging: p2_cloud.h) and
 * dapr:runtime (p2_dapr.h) on the
 * Dapr components of the app's API instance. A new interface host adds its define call below; host
 * functions that need the request in flight reach it with wg_store_data(wg_component_host_store()),
 * a wgg_p2h_inst whose `app` is the generation and `call` the request. */
static int define_interfaces(wgg_wasm_app *a, struct wgg_p2app *p, wg_component_linker *l, wgg_err *err) {
  char msg[256];
  if (!(p->p2 = wg_wasi_p2_define_shared(l, p2_of_store, msg, sizeof msg)) ||
      !(p->types = wgg_p2h_define(l, msg, sizeof msg)))
    return wgg_err_set(err, "wasm app %s: %s", p->name, msg);
  if (a->api && (!wgg_p2_keyvalue_define(l, a->api, err) || !wgg_p2_config_define(l, a->api, a->config_store, err) ||
                 !wgg_p2_messaging_define_host(l, a->api, &p->msg, err) ||
                 !wgg_p2_blobstore_define(l, a->api, p2_of_store, err) || !wgg_p2_dapr_define(l, a->api, err)))
    return -1;
  return 0;
}

static void inst_free(p2inst *i) {
  if (!i) return;
  wgg_p2_messaging_release(i->msg, &i->h); /* messages its guest still held (a trap, no drop) */
  wgg_p2h_reset(&i->h);      /* objects still under an open stream are freed by its drop */
  wg_wasi_p2_delete(i->h.p2); /* drops the streams */
  wg_store_delete(i->store);
  wg_wasi_delete(i->wasi);
  free(i->h.objs);
  free(i);
}

/* Gives instance i a new WASI 0.2 context on its preview1 context, whose wasi:io blocking calls
 * park on the request's loop: at instantiation and at every fresh reset (a context without the
 * park hook would block the loop thread). */
static bool p2_attach(struct wgg_p2app *p, p2inst *i) {
  if (!(i->h.p2 = wg_wasi_p2_new(p->p2, i->wasi))) return false;
  wg_wasi_p2_set_park(i->h.p2, p2c_park_hook, &i->h);
  return true;
}

static p2inst *inst_new(wgg_wasm_app *a, wgg_err *err) {
  struct wgg_p2app *p = a->p2app;
  p2inst *i = calloc(1, sizeof *i);
  char msg[256];
  if (!i) return wgg_err_set(err, "out of memory"), NULL;
  i->h.types = p->types;
  i->h.app = a;
  i->msg = p->msg;
  wg_wasi_config cfg = {.argc = 1, .argv = (const char *const[]){p->name}, .use_stdin_buf = true,
                        .capture_output = true, .capture_max = 64u << 10};
  i->store = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = P2_STACK_SLOTS,
                                                    .max_memory_pages = p->max_memory_pages});
  i->wasi = wg_wasi_new(&cfg, msg, sizeof msg);
  if (!i->store || !i->wasi || !p2_attach(p, i)) {
    inst_free(i);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  wg_store_set_data_tagged(i->store, wgg_p2h_store_tag, &i->h);
  if (p->memimage) wg_store_set_memimage(i->store, p->memimage);
  wg_store_set_deadline(i->store, 1000 / WGG_WASM_TICK_MS + 1); /* instantiation gets its own second */
  wg_error *e = NULL;
  wg_trap *t = NULL;
  wg_component_instance *ci = wg_component_linker_instantiate(p->linker, i->store, p->comp, &e, &t);
  if (ci) i->handle = wg_component_instance_func(ci, HANDLER, "handle");
  i->ci = ci;
  if (!ci || (!i->handle && !p->exports)) {
    wgg_err_set(err, "wasm app %s: cannot instantiate: %s", p->name,
                t ? wg_trap_message(t) : e ? wg_error_message(e) : "no wasi:http/incoming-handler#handle");
    wg_trap_delete(t);
    wg_error_delete(e);
    inst_free(i);
    return NULL;
  }
  return i;
}

/* The copy-on-write image of the initial memory of the component's largest core module (the
 * program: the JavaScript engine's 12 MB heap of a componentize-js app): only where the memory is
 * over 1 MiB (over 2 pages with fresh instances reset, as app_module.c's memimage_make), or when
 * WASMGATE_MEMORY_IMAGE forces it. */
static void memimage_make(struct wgg_p2app *p) {
  const char *how = getenv("WASMGATE_MEMORY_IMAGE");
  if (how && !strcmp(how, "off")) return;
  bool forced = how && (!strcmp(how, "cow") || !strcmp(how, "copy"));
  const wg_module *best = NULL;
  uint64_t best_bytes = 0;
  for (uint32_t k = 0; k < wg_component_core_module_count(p->comp); k++) {
    const wg_module *m = wg_component_core_module(p->comp, k);
    wg_externtype mt;
    bool imported = false;
    for (uint32_t j = 0; j < wg_module_import_count(m); j++) {
      wg_extern_desc d;
      if (wg_module_import(m, j, &d) && d.kind == WG_EXTERN_MEMORY) imported = true;
    }
    if (!imported && wg_module_extern_type(m, WG_EXTERN_MEMORY, 0, &mt) && (uint64_t)mt.min * 65536 > best_bytes) {
      best = m;
      best_bytes = (uint64_t)mt.min * 65536;
    }
  }
  if (!best || (!forced && best_bytes <= (p->reset_fresh ? MEMIMAGE_MIN_BYTES_RESET : MEMIMAGE_MIN_BYTES))) return;
  wg_error *e = NULL;
  p->memimage = wg_memimage_new(best, how && !strcmp(how, "copy") ? WG_MEMIMAGE_NO_COW : 0, &e);
  if (!p->memimage) {
    wgg_debug("wasm app %s: no memory image: %s", p->name, e ? wg_error_message(e) : "?");
  } else if (!forced && !wg_memimage_is_cow(p->memimage)) {
    wg_memimage_delete(p->memimage);
    p->memimage = NULL;
  } else {
    wgg_debug("wasm app %s: %s memory image of %llu bytes", p->name,
              wg_memimage_is_cow(p->memimage) ? "copy-on-write" : "heap-copy", (unsigned long long)best_bytes);
  }
  wg_error_delete(e);
}

static bool exports_handler(const wg_component *c) {
  for (uint32_t i = 0; i < wg_component_export_count(c); i++) {
    wg_component_extern x;
    if (wg_component_export(c, i, &x) && x.sort == WG_COMPONENT_INSTANCE &&
        !strncmp(x.name, "wasi:http/incoming-handler@0.2.", 31))
      return true;
  }
  return false;
}

void wgg_p2app_free(struct wgg_p2app *p) {
  if (!p) return;
  for (p2inst *i = p->pool, *next; i; i = next) {
    next = i->next;
    inst_free(i);
  }
  uv_mutex_destroy(&p->pool_mu);
  wg_memimage_delete(p->memimage);
  wg_component_linker_delete(p->linker);
  wg_component_delete(p->comp);
  free(p);
}

int wgg_p2app_load(wgg_wasm_app *a, wg_component *comp, const wgg_wasm_app_settings *s, wgg_err *err) {
  struct wgg_p2app *p = calloc(1, sizeof *p);
  if (!p) {
    wg_component_delete(comp);
    return wgg_err_set(err, "out of memory");
  }
  uv_mutex_init(&p->pool_mu);
  p->comp = comp;
  p->name = a->name;
  p->max_memory_pages = a->max_memory_pages ? a->max_memory_pages : P2_DEFAULT_PAGES;
  p->deadline_ms = a->deadline_ms;
  p->pooled = s->pooled;
  p->max_invocations = s->max_invocations ? s->max_invocations : P2_DEFAULT_MAX_INVOCATIONS;
  const char *fr = getenv("WASMGATE_FRESH_RESET"); /* off: a new instance per request (benchmarks) */
  p->reset_fresh = !p->pooled && !(fr && !strcmp(fr, "off"));
  a->p2app = p;
  a->abi = WGG_APP_ABI_WASI_HTTP;
  p->exports = wgg_p2app_exports_of(comp);
  p->has_http = exports_handler(comp);
  if (!p->has_http && !p->exports)
    return wgg_err_set(err,
                       "wasm app %s: exports neither handle_request (http-wasm), _start (WAGI), "
                       "wasi:http/incoming-handler (wasi:http) nor a message or event handler", a->name);
  if (!(p->linker = wg_component_linker_new())) return wgg_err_set(err, "out of memory");
  wg_component_linker_allow_unknown_imports(p->linker, true);
  if (define_interfaces(a, p, p->linker, err)) return -1;
  memimage_make(p);
  p2inst *i = inst_new(a, err); /* one instance now: a component that cannot link or start fails here */
  if (!i) return -1;
  inst_free(i);
  return 0;
}

/* ---- one request ---- */

static p2inst *pool_take(struct wgg_p2app *p) {
  if (!p->pooled && !p->reset_fresh) return NULL;
  uv_mutex_lock(&p->pool_mu);
  p2inst *i = p->pool;
  if (i) {
    p->pool = i->next;
    p->pool_n--;
  }
  uv_mutex_unlock(&p->pool_mu);
  return i;
}

/* The fresh policy at a fraction of the cost (docs/wasm-apps.md "Instance policies"): the instance
 * that served a request, whatever its end (answered, trapped, over its deadline, timed out while
 * parked), is reset to the state instantiation left it in and kept for the next request instead
 * of being freed and made again: the component instance (wg_component_instance_reset: every core
 * instance's memories, tables, globals and segments, start functions, handle tables), the WASI
 * 0.2 context (streams: made anew), the preview1 context under it (wg_wasi_reset) and the
 * wasi:http state (wgg_p2h_reset, done by the caller). False when it cannot be reset (free it). */
static bool recycle_fresh(struct wgg_p2app *p, p2inst *i) {
  if (++i->uses >= p->max_invocations) return false;
  char msg[256];
  wg_wasi_config cfg = {.argc = 1, .argv = (const char *const[]){p->name}, .use_stdin_buf = true,
                        .capture_output = true, .capture_max = 64u << 10};
  if (!wg_wasi_reset(i->wasi, &cfg, msg, sizeof msg)) return false;
  wg_wasi_p2_delete(i->h.p2); /* drops the streams (and wasi:http bodies left stale under them) */
  if (!p2_attach(p, i)) return false;
  wg_store_set_yield(i->store, false);
  wg_store_set_deadline(i->store, 1000 / WGG_WASM_TICK_MS + 1); /* start functions get their own second */
  wg_error *e = NULL;
  wg_trap *t = NULL;
  if (wg_component_instance_reset(i->ci, &e, &t)) return true;
  wgg_debug("wasm app %s: instance not reused: %s", p->name, t ? wg_trap_message(t) : e ? wg_error_message(e) : "?");
  wg_trap_delete(t);
  wg_error_delete(e);
  return false;
}

/* Gives an instance back to the pool (pooled: one that served well; fresh: reset), or frees it. */
static void pool_give(struct wgg_p2app *p, p2inst *i, bool ok) {
  if (i->h.cancel) i->h.cancel(i->h.op); /* a parked operation's answer is dropped */
  i->h.cancel = NULL;
  i->h.op = NULL;
  i->h.wait = false;
  if (wg_component_func_suspended(i->handle)) wg_component_func_abandon(i->handle);
  wgg_p2h_reset(&i->h);
  i->h.call = NULL;
  if (p->reset_fresh ? !recycle_fresh(p, i) : !p->pooled || !ok || ++i->uses >= p->max_invocations) {
    inst_free(i);
    return;
  }
  uv_mutex_lock(&p->pool_mu);
  bool keep = p->pool_n < P2_POOL_MAX;
  if (keep) {
    i->next = p->pool;
    p->pool = i;
    p->pool_n++;
  }
  uv_mutex_unlock(&p->pool_mu);
  if (!keep) inst_free(i);
}

/* Logs what the guest wrote to stdout and stderr. */
static void flush_logs(struct wgg_p2app *p, p2inst *i) {
  for (uint32_t fd = 1; fd <= 2; fd++) {
    size_t len = 0;
    const uint8_t *o = wg_wasi_output(i->wasi, fd, &len);
    if (!len) continue;
    while (len && o[len - 1] == '\n') len--;
    wgg_debug("wasm app %s %s: %.*s", p->name, fd == 1 ? "stdout" : "stderr", (int)(len > 900 ? 900 : len),
              (const char *)o);
    wg_wasi_output_clear(i->wasi, fd);
  }
}

static void answer(wgg_http_client_cb cb, void *user, int status, const wgg_hdrs *h, const char *body, size_t len) {
  size_t n = h ? h->n : 0, k = 0;
  wgg_http_header *hv = calloc(n + 1, sizeof *hv);
  for (size_t i = 0; hv && i < n; i++)
    if (!wgg_http_hop_header(h->v[i].name) && strcasecmp(h->v[i].name, "content-length"))
      hv[k++] = (wgg_http_header){h->v[i].name, h->v[i].value};
  wgg_http_response resp = {status, hv, k, body ? body : "", len};
  cb(user, hv ? &resp : NULL, "out of memory");
  free(hv);
}

static void fail(wgg_http_client_cb cb, void *user, const char *msg) {
  wgg_hdrs h = {0};
  wgg_hdrs_add(&h, "Content-Type", 12, "text/plain; charset=utf-8", 25);
  answer(cb, user, 500, &h, msg, strlen(msg));
  wgg_hdrs_free(&h);
}

/* Whether a component guest runs on this thread now (its call or a resume is on the stack). */
static _Thread_local int tls_running;

static void copy_free(p2call *c) {
  for (size_t k = 0; k < c->n && c->headers; k++) {
    free((char *)c->headers[k].name);
    free((char *)c->headers[k].value);
  }
  free(c->headers);
  free(c->method);
  free(c->target);
  free(c->body);
  c->headers = NULL;
  c->method = c->target = c->body = NULL;
}

static void call_end(p2call *c, bool ok) {
  if (c->timer) uv_close((uv_handle_t *)c->timer, (uv_close_cb)free);
  if (c->wtimer) uv_close((uv_handle_t *)c->wtimer, (uv_close_cb)free);
  if (c->wake) uv_close((uv_handle_t *)c->wake, (uv_close_cb)free);
  if (c->deferred) wgg_slice_close(&c->slice);
  wgg_http_stream_virtual_free(c->vs);
  copy_free(c);
  if (c->parked) wgg_metrics_wasm_parked(c->a->metrics, -1);
  c->i->h.pcall = NULL;
  c->i->h.loop = NULL;
  pool_give(c->a->p2app, c->i, ok);
  wgg_app_gen_release(c->a);
  free(c);
}

/* The body source is over for this call (before cb or scb.on_end, once). */
static void src_over(p2call *c) {
  if (c->has_src && !c->over && c->src.on_over) c->src.on_over(c->src.user);
  c->over = true;
}

/* Ends a streamed answer (once): true when the answer was streamed (scb.on_end ran now or before),
 * false when the caller still waits for cb. err NULL: complete. */
bool p2c_end_stream(p2call *c, const char *err) {
  if (!c->streamed) return false;
  if (!c->stream_done) {
    c->stream_done = true;
    c->i->h.out_ended = true;
    src_over(c);
    c->scb.on_end(c->user, err);
  }
  return true;
}

/* The caller's timeout while the guest is parked: the caller gets "timeout"; the operation the
 * guest waits on is detached (its answer is dropped), the guest abandoned and its instance
 * discarded. */
static void on_timeout(uv_timer_t *t) {
  p2call *c = t->data;
  struct wgg_p2app *p = c->a->p2app;
  wgg_warn("wasm app %s: no answer within the caller's timeout; the instance is discarded", p->name);
  wgg_metrics_wasm_failure(c->a->metrics, WGG_WF_TIMEOUT);
  wgg_p2h_inst *h = &c->i->h;
  if (h->cancel) h->cancel(h->op);
  h->cancel = NULL;
  h->op = NULL;
  h->wait = false;
  wg_component_func_abandon(c->i->handle);
  if (!p2c_end_stream(c, "timeout")) {
    src_over(c);
    c->cb(c->user, NULL, "timeout");
  }
  call_end(c, false);
}

/* What came out of the guest after its call or a resume: parked on a host call, or done. */
static void step(p2call *c, wg_trap *t) {
  struct wgg_p2app *p = c->a->p2app;
  p2inst *i = c->i;
  flush_logs(p, i);
  char msg[256];
  if (t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED && wg_component_func_suspended(i->handle)) {
    wg_trap_delete(t); /* parked: the operation's answer resumes it (wgg_p2h_resume) */
    if (!c->parked) wgg_metrics_wasm_parked(c->a->metrics, 1);
    c->parked = true;
    if (!c->timer && (c->timer = malloc(sizeof *c->timer))) {
      uv_timer_init(c->i->h.loop, c->timer);
      c->timer->data = c;
    }
    /* each wait is bounded by the caller's timeout */
    if (c->timer) uv_timer_start(c->timer, on_timeout, c->timeout_ms ? c->timeout_ms : P2_DEFAULT_DEADLINE_MS, 0);
    if (i->h.wait) p2c_arm_wait(c);
    return;
  }
  if (t) {
    wg_trap_code code = wg_trap_code_of(t);
    if (code == WG_TRAP_INTERRUPTED)
      snprintf(msg, sizeof msg, "wasm error: interrupted (deadline of %llu ms)", (unsigned long long)c->ms);
    else
      snprintf(msg, sizeof msg, "%s%s", code == WG_TRAP_HOST ? "" : "wasm error: ", wg_trap_message(t));
    const char *bt = wg_trap_backtrace(t);
    wgg_error("wasm app %s: %s%s%.*s", p->name, msg, bt && *bt ? "\nwasm stack trace:\n" : "", 2000, bt ? bt : "");
    wg_trap_delete(t);
    if (!p2c_end_stream(c, msg)) {
      src_over(c);
      fail(c->cb, c->user, msg);
    }
    call_end(c, false);
    return;
  }
  if (c->streamed) { /* the head went out at set: the body ends now if the guest did not finish it */
    wgg_p2h_inst *h = &i->h;
    if (h->out_mode == 1 && h->out_length >= 0 && h->out_written != (uint64_t)h->out_length) h->out_failed = true;
    p2c_end_stream(c, h->out_mode < 0       ? "the client went away"
                  : h->out_failed       ? "the body did not match its Content-Length"
                                        : NULL);
    call_end(c, !h->out_failed);
    return;
  }
  src_over(c);
  int status = 0;
  wgg_hdrs h = {0};
  const char *rb = NULL;
  size_t rlen = 0;
  if (!wgg_p2h_response(&i->h, &status, &h, &rb, &rlen)) {
    /* wasmtime serve's words: the guest never set a response, or set an error */
    if (i->h.answered) snprintf(msg, sizeof msg, "wasm app answered with error-code %s", i->h.error);
    else snprintf(msg, sizeof msg, "guest never invoked `response-outparam::set` method");
    wgg_warn("wasm app %s: %s", p->name, msg);
    wgg_hdrs_free(&h);
    fail(c->cb, c->user, msg);
    call_end(c, false);
    return;
  }
  if (i->h.out_failed) { /* collected: a body of the wrong length never reaches the client */
    snprintf(msg, sizeof msg, "wasm app's response body (%zu bytes) does not match its Content-Length", rlen);
    wgg_warn("wasm app %s: %s", p->name, msg);
    wgg_hdrs_free(&h);
    fail(c->cb, c->user, msg);
    call_end(c, false);
    return;
  }
  /* a pooled instance is idle again before the caller sees the answer: a caller's next request,
   * which may reach another loop thread as soon as the answer is out, finds it in the pool instead
   * of making a second one (the body, which lives in the instance, is copied first) */
  char *copy = NULL;
  if (p->pooled && (!rlen || (copy = malloc(rlen)))) {
    if (rlen) memcpy(copy, rb, rlen);
    wgg_http_client_cb cb = c->cb;
    void *user = c->user;
    call_end(c, true);
    answer(cb, user, status, &h, copy, rlen);
    free(copy);
  } else { /* fresh instances (or no memory for the copy): the instance goes after the answer */
    answer(c->cb, c->user, status, &h, rb, rlen);
    call_end(c, true);
  }
  wgg_hdrs_free(&h);
}

wg_trap *wgg_p2h_park(wgg_p2h_inst *in, void (*cancel)(void *op), void *op) {
  if (!in || !in->pcall || in->cancel) return NULL;
  wg_trap *t = wg_trap_new(WG_TRAP_SUSPENDED, NULL);
  if (!t) return NULL;
  in->cancel = cancel;
  in->op = op;
  return t;
}

void wgg_p2h_resume(wgg_p2h_inst *in, wg_cval *results, size_t n) {
  p2call *c = in->pcall;
  in->cancel = NULL;
  in->op = NULL;
  in->wait = false;
  if (c->timer) uv_timer_stop(c->timer);
  if (c->wtimer) uv_timer_stop(c->wtimer);
  if (c->parked) wgg_metrics_wasm_parked(c->a->metrics, -1);
  c->parked = false;
  wg_store_set_deadline(c->i->store, c->ms / WGG_WASM_TICK_MS + 1);
  tls_running++;
  wg_trap *t = wg_component_func_resume(c->i->handle, results, n, NULL, 0);
  tls_running--;
  step(c, t);
}

/* Tries the wasi:io wait the guest is parked on; resumes it when done. */
void p2c_try_wait(p2call *c) {
  wgg_p2h_inst *h = &c->i->h;
  if (!h->wait || !c->parked) return;
  wg_cval r;
  size_t n = 0;
  wg_trap *t = NULL;
  if (!wg_wasi_p2_wait_try(h->op, &r, &n, &t)) {
    p2c_arm_wait(c);
    return;
  }
  h->op = NULL; /* freed by the try */
  h->cancel = NULL;
  h->wait = false;
  if (t) { /* no results to give (out of memory): the guest cannot go on */
    wgg_warn("wasm app %s: %s", c->a->p2app->name, wg_trap_message(t));
    wg_trap_delete(t);
    wg_component_func_abandon(c->i->handle);
    if (c->timer) uv_timer_stop(c->timer);
    if (c->parked) wgg_metrics_wasm_parked(c->a->metrics, -1);
    c->parked = false;
    if (!p2c_end_stream(c, "out of memory")) {
      src_over(c);
      fail(c->cb, c->user, "out of memory");
    }
    call_end(c, false);
    return;
  }
  wgg_p2h_resume(h, &r, n);
}

/* Takes or makes the instance and runs the guest on c's request. */
static int start(p2call *c, uv_loop_t *loop, const char *method, const char *target, const wgg_http_header *headers,
                 size_t n, const char *body, size_t len) {
  wgg_wasm_app *a = c->a;
  struct wgg_p2app *p = a->p2app;
  wgg_err err;
  wgg_http_client_cb cb = c->cb;
  void *user = c->user;
  uint64_t timeout_ms = c->timeout_ms;
  p2inst *i = pool_take(p);
  wgg_metrics_wasm_call(a->metrics, i != NULL);
  if (!i && !(i = inst_new(a, &err))) {
    wgg_error("%s", err.msg);
    if (c->deferred) wgg_slice_close(&c->slice);
    copy_free(c);
    free(c);
    wgg_app_gen_release(a);
    fail(cb, user, err.msg);
    return 0;
  }
  c->i = i;
  /* what an HTTP app would see: the body's length, and the Host the caller named (else localhost:
   * guests build URLs from scheme://authority, componentize-js traps without one) */
  const char *authority = "localhost";
  wgg_http_header *hv = calloc(n + 1, sizeof *hv);
  if (!hv) {
    call_end(c, false);
    return -1;
  }
  size_t k = 0;
  for (size_t j = 0; j < n; j++) {
    if (!strcasecmp(headers[j].name, "host")) authority = headers[j].value;
    else hv[k++] = headers[j];
  }
  char clen[24];
  snprintf(clen, sizeof clen, "%zu", len);
  if (c->has_src) { /* the body streams: its announced length, none when chunked */
    snprintf(clen, sizeof clen, "%lld", (long long)c->src.length);
    if (c->src.length >= 0) hv[k++] = (wgg_http_header){"content-length", clen};
    body = NULL;
    len = 0;
  } else if (len || !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
    hv[k++] = (wgg_http_header){"content-length", clen};
  }
  if (loop && (c->has_src || c->has_scb)) {
    if (!(c->vs = wgg_http_stream_virtual(&p2c_vs_vt, c))) {
      free(hv);
      call_end(c, false);
      return -1;
    }
    i->h.io = &p2c_io;
    i->h.io_user = c;
    i->h.in_live = c->has_src;
  }
  wg_cval args[2];
  bool made = wgg_p2h_request(&i->h, method, target, authority, hv, k, body, len, &args[0], &args[1]);
  free(hv);
  if (!made) {
    call_end(c, false);
    return -1;
  }
  i->h.call = user;
  i->h.pcall = loop ? c : NULL; /* with a loop to resume on, host calls may park */
  i->h.loop = loop;
  c->ms = p->deadline_ms ? p->deadline_ms : timeout_ms ? timeout_ms : P2_DEFAULT_DEADLINE_MS;
  wg_store_set_deadline(i->store, c->ms / WGG_WASM_TICK_MS + 1);
  if (c->has_src && c->vs) c->src.on_want(c->src.user, c->vs); /* the body starts to flow */
  tls_running++;
  wg_trap *t = wg_component_func_call(i->handle, args, 2, NULL, 0);
  tls_running--;
  step(c, t);
  return 0;
}

static void on_deferred(wgg_slice *sl) {
  p2call *c = sl->user;
  wgg_http_client_cb cb = c->cb;
  void *user = c->user;
  if (start(c, c->loop, c->method, c->target, c->headers, c->n, c->body, c->len)) /* c is gone */
    cb(user, NULL, "out of memory");
}

int wgg_p2app_call(wgg_wasm_app *a, uv_loop_t *loop, const char *method, const char *target,
                   const wgg_http_header *headers, size_t n, const char *body, size_t len, uint64_t timeout_ms,
                   wgg_http_client_cb cb, void *user) {
  return wgg_p2app_call_full(a, loop, method, target, headers, n, body, len, NULL, timeout_ms, cb, NULL, user);
}

int wgg_p2app_call_full(wgg_wasm_app *a, uv_loop_t *loop, const char *method, const char *target,
                        const wgg_http_header *headers, size_t n, const char *body, size_t len,
                        const wgg_http_body_source *src, uint64_t timeout_ms, wgg_http_client_cb cb,
                        const wgg_http_stream_cbs *stream, void *user) {
  if (src && !loop) return -1; /* a streamed body needs the loop it arrives on */
  if (!a->p2app->has_http) { /* only message or event handlers: what an HTTP app without this route answers */
    wgg_app_gen_release(a);
    wgg_hdrs h = {0};
    static const char nf[] = "the component exports no wasi:http/incoming-handler";
    wgg_hdrs_add(&h, "Content-Type", 12, "text/plain; charset=utf-8", 25);
    answer(cb, user, 404, &h, nf, sizeof nf - 1);
    wgg_hdrs_free(&h);
    return 0;
  }
  p2call *c = calloc(1, sizeof *c);
  if (!c) {
    wgg_app_gen_release(a);
    return -1;
  }
  *c = (p2call){.a = a, .cb = cb, .user = user, .timeout_ms = timeout_ms, .loop = loop};
  if (src) c->src = *src, c->has_src = true;
  if (stream && loop) c->scb = *stream, c->has_scb = true;
  if (!tls_running || !loop) return start(c, loop, method, target, headers, n, body, len);
  /* a guest of this thread is running: copy the request and start on the next loop iteration */
  c->deferred = true;
  c->n = n;
  c->len = len;
  bool ok = (c->method = strdup(method)) && (c->target = strdup(target)) && (c->body = malloc(len + 1)) &&
            (c->headers = calloc(n + 1, sizeof *c->headers));
  for (size_t k = 0; ok && k < n; k++)
    ok = (c->headers[k].name = strdup(headers[k].name)) && (c->headers[k].value = strdup(headers[k].value));
  if (ok && len) memcpy(c->body, body, len);
  if (!ok || wgg_slice_queue(&c->slice, loop, on_deferred, c)) {
    copy_free(c);
    free(c);
    wgg_app_gen_release(a);
    return -1;
  }
  return 0;
}

/* ---- the component's other handlers (p2app_internal.h, app_p2sub.c) ---- */

unsigned wgg_p2app_exports(const wgg_wasm_app *a) { return a->p2app->exports; }
bool wgg_p2app_has_http(const wgg_wasm_app *a) { return a->p2app->has_http; }
wgg_p2_msg_host *wgg_p2app_msg_host(const wgg_wasm_app *a) { return a->p2app->msg; }

struct p2inst *wgg_p2app_take(wgg_wasm_app *a, wgg_err *err) {
  p2inst *i = pool_take(a->p2app);
  return i ? i : inst_new(a, err);
}

void wgg_p2app_give(wgg_wasm_app *a, struct p2inst *i, bool ok) { pool_give(a->p2app, i, ok); }

wg_component_func *wgg_p2inst_func(struct p2inst *i, const char *iface, const char *name) {
  return wg_component_instance_func(i->ci, iface, name);
}

bool wgg_p2inst_call(wgg_wasm_app *a, struct p2inst *i, wg_component_func *f, const wg_cval *args, size_t nargs,
                     wg_cval *results, size_t nresults, uint64_t timeout_ms, char *msg, size_t cap) {
  struct wgg_p2app *p = a->p2app;
  uint64_t ms = p->deadline_ms ? p->deadline_ms : timeout_ms ? timeout_ms : P2_DEFAULT_DEADLINE_MS;
  wg_store_set_deadline(i->store, ms / WGG_WASM_TICK_MS + 1);
  wg_trap *t = wg_component_func_call(f, args, nargs, results, nresults);
  flush_logs(p, i);
  if (!t) return true;
  wg_trap_code code = wg_trap_code_of(t);
  if (code == WG_TRAP_INTERRUPTED)
    snprintf(msg, cap, "wasm error: interrupted (deadline of %llu ms)", (unsigned long long)ms);
  else
    snprintf(msg, cap, "%s%s", code == WG_TRAP_HOST ? "" : "wasm error: ", wg_trap_message(t));
  const char *bt = wg_trap_backtrace(t);
  wgg_error("wasm app %s: %s%s%.*s", p->name, msg, bt && *bt ? "\nwasm stack trace:\n" : "", 2000, bt ? bt : "");
  wg_trap_delete(t);
  return false;
}
