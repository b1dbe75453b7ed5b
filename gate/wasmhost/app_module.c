/*
 * app_module.c: loading a wasm app, detecting its ABI, and running one
 * request on an instance in its initial state (app.h: a new one, or one reset
 * after its last request, recycle_fresh), or a warm one (pooled). A request is a small state machine
 * driven by what comes out of the guest: it completes, traps, parks at a
 * dapr:v1 host call (resumed by app_dapr.c when the answer arrives), or
 * yields at the end of its time slice (resumed on the next loop iteration,
 * so other requests on the loop are served meanwhile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "wasmhost/app_internal.h"
#include "wasmhost/p2app_internal.h"
#include "wasmhost/httpwasm_internal.h"
#include "wasmhost/slice.h"
#include "wasmhost/wasmhost.h"

/* C guests keep their stack in linear memory: 64K value-stack slots (512 KiB) suffice. */
enum { APP_STACK_SLOTS = 1u << 16, APP_DEFAULT_PAGES = 1024, APP_DEFAULT_MAX_RESPONSE = 4u << 20 };
/* pooled policy: idle instances kept (process-wide) and requests served by one instance */
enum { APP_POOL_MAX = 64, APP_DEFAULT_MAX_INVOCATIONS = 10000 };

typedef enum phase { PH_START, PH_REQUEST, PH_RESPONSE } phase;

struct wgg_app_call {
  wgg_wasm_app *app;
  uv_loop_t *loop;
  wgg_http_client_cb cb;
  void *user;
  /* the guest */
  wg_store *store;
  wg_wasi *wasi;          /* WAGI: the request's WASI context (http-wasm: in hw) */
  wgg_hw_instance *hw;    /* http-wasm: the instance (its store is `store`) */
  wg_instance *inst;      /* the guest's instance (reset for reuse: reuse_instance) */
  wg_func *fn;            /* what runs in the current phase */
  phase ph;
  uint32_t req_ctx;
  wgg_hw_call hwc;
  wgg_exchange ex;
  char **envp;
  char *stdin_body;
  size_t stdin_len;
  wgg_dapr_env *env;      /* the dapr:v1 state of the instance (its host functions point to it) */
  bool reuse;             /* the request ended well: a pooled instance goes back to the pool */
  /* time */
  uint64_t guest_ns, t0;
  wgg_slice slice;        /* queued while the guest waits for its next slice (slice.h) */
  uint32_t uses;          /* requests the instance served before this one (pooled) */
  bool holds_ref;         /* app is a generation this call holds a reference on */
  bool started;           /* the guest was entered (a deferred call waits for the next iteration) */
  uint64_t timeout_ms;
  uv_timer_t *timer;      /* the caller's timeout_ms, time parked included */
};

uv_loop_t *wgg_app_call_loop(const wgg_app_call *c) { return c->loop; }
/* (on the handle: the generation in service; call from the thread that reloads) */
wgg_app_abi wgg_wasm_app_abi(const wgg_wasm_app *a) { return a->cur->abi; }
const char *wgg_wasm_app_abi_name(const wgg_wasm_app *a) {
  return a->cur->abi == WGG_APP_ABI_WAGI ? "wagi" : a->cur->abi == WGG_APP_ABI_WASI_HTTP ? "wasi-http" : "http-wasm";
}
const char *wgg_wasm_app_name(const wgg_wasm_app *a) { return a->cur->name; }

/* ---- loading ---- */

static bool has_export(const wg_module *m, const char *name, wg_extern_kind kind) {
  uint32_t n = wg_module_export_count(m);
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    if (wg_module_export(m, i, &d) && d.kind == kind && d.name_len == strlen(name) && !memcmp(d.name, name, d.name_len))
      return true;
  }
  return false;
}

static int check_imports(const wgg_wasm_app *a, const wg_module *m, wgg_err *err) {
  uint32_t n = wg_module_import_count(m);
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    wg_module_import(m, i, &d);
    bool ok = (d.module_len == 22 && !memcmp(d.module, "wasi_snapshot_preview1", 22)) ||
              (d.module_len == strlen(WGG_DAPR_MODULE) && !memcmp(d.module, WGG_DAPR_MODULE, d.module_len)) ||
              (a->abi == WGG_APP_ABI_HTTP_WASM && d.module_len == 12 && !memcmp(d.module, "http_handler", 12));
    if (!ok)
      return wgg_err_set(err, "wasm app %s: unknown import %.*s.%.*s", a->name, (int)d.module_len, d.module,
                         (int)d.name_len, d.name);
  }
  return 0;
}

static void pool_drain(wgg_wasm_app *a);

/* Frees a generation. */
static void gen_free(wgg_wasm_app *a) {
  if (!a) return;
  pool_drain(a);
  if (a->pooled || a->reset_fresh) uv_mutex_destroy(&a->pool_mu);
  wg_memimage_delete(a->memimage); /* memories made from it keep it as long as they need it */
  wg_module_delete(a->mod);
  wgg_hw_module_unref(a->hw);
  wgg_p2app_free(a->p2app);
  free(a->name);
  free(a->app_id);
  free(a->api_token);
  free(a->config_store);
  free(a->outbound);
  free(a);
}

static int instantiate(wgg_app_call *c, wgg_err *err);
static void call_free(wgg_app_call *c);
static bool recycle_fresh(wgg_app_call *c);

/* The copy-on-write image of the module's initial memory (wasmgate.h wg_memimage_new), so that
 * a fresh instance maps its memory instead of zeroing it and copying the data segments. Used
 * where it wins (bench/bench_memimage.c, docs/wasm-apps.md "Instantiation cost"): an initial
 * memory larger than 2 pages. A released image mapping is reset by copying back only the pages
 * its guest wrote (engine/src/memimage.c), which stay resident, while a recycled ordinary memory
 * is zeroed whole: at 2 pages (a typical C app) the two cost the same, above it the image wins
 * (1.4x at 4 pages, 5x at 16). WASMGATE_MEMORY_IMAGE (benchmarks) forces cow, copy (the
 * heap-copy fallback) or off. A module that cannot have an image (no memory of its own,
 * computed segment offsets) or a system without memfd uses the ordinary path. */
enum { MEMIMAGE_MIN_BYTES = 2u << 16 };
static void memimage_make(wgg_wasm_app *a) {
  const char *how = getenv("WASMGATE_MEMORY_IMAGE");
  if (how && !strcmp(how, "off")) return;
  const wg_module *m = a->abi == WGG_APP_ABI_HTTP_WASM ? a->hw->mod : a->mod;
  wg_externtype mt;
  bool forced = how && (!strcmp(how, "cow") || !strcmp(how, "copy"));
  if (!forced && (!wg_module_extern_type(m, WG_EXTERN_MEMORY, 0, &mt) || (uint64_t)mt.min * 65536 <= MEMIMAGE_MIN_BYTES))
    return;
  wg_error *e = NULL;
  a->memimage = wg_memimage_new(m, how && !strcmp(how, "copy") ? WG_MEMIMAGE_NO_COW : 0, &e);
  if (!a->memimage) {
    wgg_debug("wasm app %s: no memory image: %s", a->name, e ? wg_error_message(e) : "?");
  } else if (!forced && !wg_memimage_is_cow(a->memimage)) { /* no memfd: the heap copy would cost more */
    wgg_debug("wasm app %s: no memory image (no memfd for copy-on-write)", a->name);
    wg_memimage_delete(a->memimage);
    a->memimage = NULL;
  } else {
    wgg_debug("wasm app %s: %s memory image", a->name, wg_memimage_is_cow(a->memimage) ? "copy-on-write" : "heap-copy");
  }
  wg_error_delete(e);
}

/* Loads one generation (refs 1). */
static wgg_wasm_app *gen_load(const char *url, const wgg_wasm_app_settings *s, wgg_err *err) {
  wgg_wasm_app *a = calloc(1, sizeof *a);
  if (!a) return wgg_err_set(err, "out of memory"), NULL;
  wgg_err le;
  wg_component *comp = NULL;
  a->mod = wgg_wasm_load_any(url, &a->name, &comp, &le);
  if (!a->mod && !comp) {
    wgg_err_set(err, "wasm app: %s", le.msg);
    free(a);
    return NULL;
  }
  a->app_id = strdup(s->app_id ? s->app_id : "");
  a->api_token = s->api_token && *s->api_token ? strdup(s->api_token) : NULL;
  a->outbound = s->allowed_outbound_hosts && *s->allowed_outbound_hosts ? strdup(s->allowed_outbound_hosts) : NULL;
  a->deadline_ms = s->deadline_ms;
  a->max_memory_pages = s->max_memory_pages ? s->max_memory_pages : APP_DEFAULT_PAGES;
  a->max_response = s->max_response ? s->max_response : APP_DEFAULT_MAX_RESPONSE;
  a->http_port = s->http_port;
  a->route = s->route;
  a->route_ctx = s->route_ctx;
  a->api = s->api;
  a->config_store = s->config_store ? strdup(s->config_store) : NULL;
  a->observe = s->observe;
  a->metrics = s->metrics;
  wgg_metrics_wasm_app(a->metrics);
  a->max_invocations = s->max_invocations ? s->max_invocations : APP_DEFAULT_MAX_INVOCATIONS;
  if (!a->app_id || (s->api_token && *s->api_token && !a->api_token) || (s->config_store && !a->config_store)) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  if (comp) { /* a component: wasi:http (app_p2http.c) */
    if (wgg_p2app_load(a, comp, s, err)) goto fail;
    wgg_wasm_ticker_start();
    a->refs = 1;
    return a;
  }
  uint32_t ni = wg_module_import_count(a->mod);
  for (uint32_t i = 0; i < ni; i++) {
    wg_extern_desc d;
    if (wg_module_import(a->mod, i, &d) && d.module_len == 22 && !memcmp(d.module, "wasi_snapshot_preview1", 22))
      a->imports_wasi = true;
  }
  if (has_export(a->mod, "handle_request", WG_EXTERN_FUNC)) {
    a->abi = WGG_APP_ABI_HTTP_WASM;
    size_t len = 0;
    const uint8_t *bin = wg_module_binary(a->mod, &len);
    wgg_hw_settings hs = {.name = a->name, .max_memory_pages = a->max_memory_pages};
    a->hw = wgg_hw_module_new(bin, len, &hs, &le);
    if (!a->hw) {
      wgg_err_set(err, "wasm app %s: %s", a->name, le.msg);
      goto fail;
    }
    if (s->pooled) { /* only handlers keep serving: a WAGI command runs once per instance */
      a->pooled = true;
      uv_mutex_init(&a->pool_mu);
    }
  } else if (has_export(a->mod, "_start", WG_EXTERN_FUNC)) {
    a->abi = WGG_APP_ABI_WAGI;
    if (s->pooled) wgg_warn("wasm app %s: a WAGI command runs once per instance: the pooled policy does not apply", a->name);
  } else {
    wgg_err_set(err, "wasm app %s: exports neither handle_request (http-wasm) nor _start (WAGI)", a->name);
    goto fail;
  }
  if (check_imports(a, a->mod, err)) goto fail;
  memimage_make(a);
  /* the fresh policy by resetting instances (recycle_fresh); WASMGATE_FRESH_RESET=off (benchmarks)
   * instantiates every time */
  const char *fr = getenv("WASMGATE_FRESH_RESET");
  if (!a->pooled && wg_module_can_reset(a->abi == WGG_APP_ABI_HTTP_WASM ? a->hw->mod : a->mod, NULL) &&
      !(fr && !strcmp(fr, "off"))) {
    a->reset_fresh = true;
    uv_mutex_init(&a->pool_mu);
  }
  /* one instance now, so that a guest that cannot link or start fails here */
  wgg_app_call *c = calloc(1, sizeof *c);
  if (!c) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  c->app = a;
  c->env = calloc(1, sizeof *c->env);
  if (!c->env) {
    free(c);
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  c->env->app = a;
  int rc = instantiate(c, err);
  call_free(c);
  if (rc) goto fail;
  wgg_wasm_ticker_start();
  a->refs = 1;
  return a;
fail:
  gen_free(a);
  return NULL;
}

static void gen_release(wgg_wasm_app *g) {
  if (g && !__atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL)) gen_free(g);
}

void wgg_app_gen_release(wgg_wasm_app *g) { gen_release(g); }

/* The generation in service, with a reference for the caller. */
static wgg_wasm_app *gen_acquire(wgg_wasm_app *h) {
  uv_mutex_lock(&h->cur_mu);
  wgg_wasm_app *g = h->cur;
  __atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
  uv_mutex_unlock(&h->cur_mu);
  return g;
}

wgg_wasm_app *wgg_wasm_app_load(const char *url, const wgg_wasm_app_settings *s, wgg_err *err) {
  wgg_wasm_app *h = calloc(1, sizeof *h);
  if (!h || !(h->url = strdup(url))) {
    free(h);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  if (!(h->cur = gen_load(url, s, err))) {
    free(h->url);
    free(h);
    return NULL;
  }
  h->settings = *s;
  h->settings.app_id = h->cur->app_id; /* the strings live as long as a generation */
  h->settings.api_token = h->cur->api_token;
  h->settings.config_store = h->cur->config_store;
  h->settings.allowed_outbound_hosts = h->cur->outbound;
  uv_mutex_init(&h->cur_mu);
  return h;
}

int wgg_wasm_app_reload(wgg_wasm_app *h, wgg_err *err) {
  wgg_wasm_app *g = gen_load(h->url, &h->settings, err);
  if (!g) return -1;
  uv_mutex_lock(&h->cur_mu);
  wgg_wasm_app *old = h->cur;
  h->cur = g;
  h->settings.app_id = g->app_id;
  h->settings.api_token = g->api_token;
  h->settings.config_store = g->config_store;
  h->settings.allowed_outbound_hosts = g->outbound;
  uv_mutex_unlock(&h->cur_mu);
  gen_release(old); /* freed when its last call ends */
  return 0;
}

const char *wgg_wasm_app_file(const wgg_wasm_app *h) {
  if (!strncmp(h->url, "http://", 7) || !strncmp(h->url, "https://", 8)) return NULL;
  return !strncmp(h->url, "file://", 7) ? h->url + 7 : h->url;
}

static void on_file_change(uv_fs_poll_t *p, int status, const uv_stat_t *prev, const uv_stat_t *curr) {
  wgg_wasm_app *h = p->data;
  if (status < 0) return; /* missing for now (being replaced): keep the current module */
  if (prev->st_mtim.tv_sec == curr->st_mtim.tv_sec && prev->st_mtim.tv_nsec == curr->st_mtim.tv_nsec &&
      prev->st_size == curr->st_size)
    return;
  wgg_err e;
  if (wgg_wasm_app_reload(h, &e))
    wgg_error("wasm app not reloaded (the old one keeps serving): %s changed but cannot be loaded: %s",
              wgg_wasm_app_file(h), e.msg);
  else
    wgg_info("wasm app reloaded: %s changed (%s ABI)", wgg_wasm_app_file(h), wgg_wasm_app_abi_name(h));
}

int wgg_wasm_app_watch(wgg_wasm_app *h, uv_loop_t *loop, unsigned interval_ms) {
  const char *file = wgg_wasm_app_file(h);
  if (!file || h->watch) return 0;
  if (!(h->watch = malloc(sizeof *h->watch))) return -1;
  uv_fs_poll_init(loop, h->watch);
  h->watch->data = h;
  uv_fs_poll_start(h->watch, on_file_change, file, interval_ms);
  return 0;
}

void wgg_wasm_app_unwatch(wgg_wasm_app *h) {
  if (!h || !h->watch) return;
  uv_close((uv_handle_t *)h->watch, (uv_close_cb)free);
  h->watch = NULL;
}

void wgg_wasm_app_free(wgg_wasm_app *h) {
  if (!h) return;
  gen_release(h->cur);
  uv_mutex_destroy(&h->cur_mu);
  free(h->url);
  free(h);
}

/* ---- one request ---- */

/* ---- the pooled policy (http-wasm apps): warm instances reused up to max_invocations ---- */

typedef struct pooled {
  struct pooled *next;
  wgg_hw_instance *hw;  /* http-wasm (hw->store, hw->wasi, hw->inst) */
  wg_store *store;      /* WAGI (fresh policy, reset instances) */
  wg_wasi *wasi;
  wg_instance *inst;
  wg_func *fn;
  wgg_dapr_env *env;
  uint32_t uses;
} pooled;

/* Takes an idle instance of a pooled app into c (its store, handler and dapr:v1 state). */
static bool pool_take(wgg_wasm_app *a, wgg_app_call *c) {
  if (!a->pooled && !a->reset_fresh) return false;
  uv_mutex_lock(&a->pool_mu);
  pooled *p = a->pool;
  if (p) {
    a->pool = p->next;
    a->pool_n--;
  }
  uv_mutex_unlock(&a->pool_mu);
  if (!p) return false;
  c->hw = p->hw;
  c->store = p->hw ? p->hw->store : p->store;
  c->wasi = p->wasi;
  c->inst = p->hw ? p->hw->inst : p->inst;
  c->env = p->env;
  c->uses = p->uses;
  c->fn = c->hw ? c->hw->handle_request : p->fn;
  c->ph = c->hw ? PH_REQUEST : PH_START;
  free(p);
  return true;
}

/* Puts an idle instance on the list (pooled, or reset for the fresh policy); false when full. */
static bool pool_put(wgg_wasm_app *a, pooled *p) {
  uv_mutex_lock(&a->pool_mu);
  bool ok = a->pool_n < APP_POOL_MAX;
  if (ok) {
    p->next = a->pool;
    a->pool = p;
    a->pool_n++;
  }
  uv_mutex_unlock(&a->pool_mu);
  return ok;
}

/* Gives c's instance back to the pool; false when it must be freed instead (the policy is fresh,
 * the request failed, the instance reached max_invocations, or the pool is full). */
static bool pool_give(wgg_app_call *c) {
  wgg_wasm_app *a = c->app;
  if (!a->pooled || !c->reuse || !c->hw || c->env->op || ++c->uses >= a->max_invocations) return false;
  pooled *p = malloc(sizeof *p);
  if (!p) return false;
  wgg_dapr_env_clear(c->env);
  c->env->call = NULL;
  c->hw->call = NULL;
  *p = (pooled){.hw = c->hw, .env = c->env, .uses = c->uses};
  if (!pool_put(a, p)) {
    free(p);
    return false;
  }
  return true;
}

/* Frees every idle instance (the app is going away: no call is in flight). */
static void pool_drain(wgg_wasm_app *a) {
  for (pooled *p = a->pool, *next; p; p = next) {
    next = p->next;
    wgg_dapr_env_clear(p->env);
    if (p->hw) wgg_hw_instance_free(p->hw);
    else {
      wg_store_delete(p->store);
      wg_wasi_delete(p->wasi);
    }
    free(p->env);
    free(p);
  }
  a->pool = NULL;
  a->pool_n = 0;
}

/* Gives the instance back to the pool now if it may serve again (before the answer goes out, so
 * the caller's next request finds it); c keeps no pointer to it. */
static void release_instance(wgg_app_call *c) {
  if (c->env && pool_give(c)) {
    c->hw = NULL;
    c->store = NULL;
    c->env = NULL;
  }
}

static void call_free(wgg_app_call *c) {
  release_instance(c);
  if ((c->env || c->store) && !recycle_fresh(c)) {
    if (c->env) wgg_dapr_env_clear(c->env); /* a pending operation is detached first */
    if (c->hw) wgg_hw_instance_free(c->hw); /* frees the store and WASI */
    else {
      wg_store_delete(c->store);
      wg_wasi_delete(c->wasi);
    }
    free(c->env); /* after the store: its host functions point to it */
  }
  wgg_wagi_env_free(c->envp);
  free(c->stdin_body);
  wgg_exchange_free(&c->ex);
  wgg_slice_close(&c->slice);
  if (c->timer) uv_close((uv_handle_t *)c->timer, (uv_close_cb)free);
  if (c->holds_ref) gen_release(c->app);
  free(c);
}

/* The WASI context of an instance: the app's name as argv[0] (argv1 is the caller's storage for
 * it), captured stdout and stderr; for a WAGI request (envp not NULL) the CGI environment and the
 * body on stdin. */
static void wasi_config(const wgg_wasm_app *a, char **envp, const char *body, size_t len, const char **argv1,
                        wg_wasi_config *cfg) {
  argv1[0] = a->name;
  *cfg = (wg_wasi_config){.argc = 1, .argv = argv1, .use_stdin_buf = true, .capture_output = true,
                          .capture_max = 64u << 10};
  if (a->abi == WGG_APP_ABI_WAGI && envp) {
    int envc = 0;
    while (envp[envc]) envc++;
    cfg->envc = envc;
    cfg->envp = (const char *const *)envp;
    cfg->stdin_buf = (const uint8_t *)body;
    cfg->stdin_len = len;
    cfg->capture_max = a->max_response + 1; /* one more byte tells that it wrote too much */
  }
}

/* http-wasm: a command's _start, or else a reactor's _initialize (as the http-wasm middleware
 * does), as the last step of instantiation; NULL or the trap. env.call is not set: dapr:v1 calls
 * here fail instead of parking. */
static wg_trap *run_init(wgg_app_call *c, wg_instance *inst) {
  wg_extern x;
  if (!(wg_instance_export(inst, "_start", 6, &x) && x.kind == WG_EXTERN_FUNC) &&
      !(wg_instance_export(inst, "_initialize", 11, &x) && x.kind == WG_EXTERN_FUNC))
    return NULL;
  wg_trap *t = wg_func_call(c->store, x.of.func, NULL, 0, NULL, 0);
  int code = 0;
  if (t && c->hw->wasi && wg_wasi_exited(c->hw->wasi, &code) && code == 0) {
    wg_trap_delete(t);
    t = NULL;
  }
  return t;
}

/* The fresh policy at a fraction of the cost (docs/wasm-apps.md "Instance policies"): the
 * instance that served a request is reset to the state instantiation left it in and kept for the
 * next request, instead of being freed and made again: memory by the pages the guest dirtied,
 * globals, tables and segments (wg_instance_reset, which runs the start section again), the WASI
 * context (wg_wasi_reset: descriptors, arguments, environment, exit state; a WAGI request's CGI
 * environment and stdin are set when it is taken), the dapr:v1 state, and for http-wasm the
 * _start/_initialize of instantiation again. Whatever the request's end (answered, trapped,
 * timed out while parked, over its deadline), the same reset applies; an instance that cannot be
 * reset is freed. True when c's instance went to the idle list (c keeps no pointer to it). */
static bool recycle_fresh(wgg_app_call *c) {
  wgg_wasm_app *a = c->app;
  if (!a->reset_fresh || !c->inst || !c->store || !c->env || ++c->uses >= a->max_invocations) return false;
  wgg_dapr_env_clear(c->env); /* a pending operation is detached */
  c->env->call = NULL;
  if (c->hw) c->hw->call = NULL;
  wg_wasi *w = c->hw ? c->hw->wasi : c->wasi;
  char msg[256];
  const char *argv1[1];
  wg_wasi_config cfg;
  wasi_config(a, NULL, NULL, 0, argv1, &cfg);
  /* a WAGI instance's context is reset when it is taken, with the request's CGI environment
   * (start()); only a start section, which runs below, would see it before that */
  bool wagi_later = !c->hw && !wg_module_has_start(a->mod);
  if (w && !wagi_later && !wg_wasi_reset(w, &cfg, msg, sizeof msg)) return false;
  wg_store_set_yield(c->store, false);
  wg_store_set_deadline(c->store, 1000 / WGG_WASM_TICK_MS + 1);
  wg_error *e = NULL;
  wg_trap *t = NULL;
  bool ok = wg_instance_reset(c->inst, &e, &t);
  if (ok && c->hw && (t = run_init(c, c->inst))) ok = false;
  if (!ok) {
    wgg_debug("wasm app %s: instance not reused: %s", a->name, t ? wg_trap_message(t) : e ? wg_error_message(e) : "?");
    wg_trap_delete(t);
    wg_error_delete(e);
    return false;
  }
  pooled *p = malloc(sizeof *p);
  if (!p) return false;
  *p = (pooled){.hw = c->hw, .store = c->store, .wasi = c->wasi, .inst = c->inst, .fn = c->fn, .env = c->env,
                .uses = c->uses};
  if (!pool_put(a, p)) {
    free(p);
    return false;
  }
  c->hw = NULL;
  c->store = NULL;
  c->wasi = NULL;
  c->inst = NULL;
  c->env = NULL;
  return true;
}

/* Creates the request's instance: WASI, the ABI's imports and dapr:v1;
 * runs the start section (and, for http-wasm, _start). */
static int instantiate(wgg_app_call *c, wgg_err *err) {
  wgg_wasm_app *a = c->app;
  const wg_module *m = a->abi == WGG_APP_ABI_HTTP_WASM ? a->hw->mod : a->mod;
  char msg[256];
  c->store = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = APP_STACK_SLOTS,
                                                    .max_memory_pages = a->max_memory_pages});
  uint32_t n = wg_module_import_count(m);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  if (!c->store || !imports) {
    free(imports);
    return wgg_err_set(err, "out of memory");
  }
  if (a->memimage) wg_store_set_memimage(c->store, a->memimage);
  int rc = -1;
  if (a->abi == WGG_APP_ABI_HTTP_WASM) {
    /* the http-wasm host's own instance record, so its ABI functions serve this request */
    wgg_hw_instance *i = calloc(1, sizeof *i);
    if (!i) {
      wgg_err_set(err, "out of memory");
      goto done;
    }
    wgg_hw_module_ref(a->hw);
    i->m = a->hw;
    i->store = c->store;
    c->hw = i;
  }
  if (a->imports_wasi) {
    const char *argv1[1];
    wg_wasi_config cfg;
    wasi_config(a, c->envp, c->stdin_body, c->stdin_len, argv1, &cfg);
    wg_wasi *w = wg_wasi_new(&cfg, msg, sizeof msg);
    if (c->hw) c->hw->wasi = w;
    else c->wasi = w;
    if (!w || !wg_wasi_link(w, c->store, m, imports, msg, sizeof msg)) {
      wgg_err_set(err, "wasm app %s: wasi: %s", a->name, w ? msg : "out of memory");
      goto done;
    }
  }
  if (c->hw && !wgg_hw_link_host(c->hw, c->store, m, imports, msg, sizeof msg)) {
    wgg_err_set(err, "wasm app %s: %s", a->name, msg);
    goto done;
  }
  if (!wgg_dapr_link(c->env, c->store, m, imports, msg, sizeof msg)) {
    wgg_err_set(err, "wasm app %s: %s", a->name, msg);
    goto done;
  }
  for (uint32_t k = 0; k < n; k++)
    if (!imports[k].of.func) {
      wg_extern_desc d;
      wg_module_import(m, k, &d);
      wgg_err_set(err, "wasm app %s: unknown import %.*s.%.*s", a->name, (int)d.module_len, d.module,
                  (int)d.name_len, d.name);
      goto done;
    }
  /* instantiation (start section, the SDK's _start) gets its own second */
  wg_store_set_deadline(c->store, 1000 / WGG_WASM_TICK_MS + 1);
  wg_error *e = NULL;
  wg_trap *t = NULL;
  wg_instance *inst = wg_instance_new(c->store, m, imports, n, &e, &t);
  if (inst && c->hw) {
    wg_extern x;
    if (wg_instance_export(inst, "memory", 6, &x) && x.kind == WG_EXTERN_MEMORY) c->hw->mem = x.of.memory;
    t = run_init(c, inst);
  }
  if (!inst || t) {
    wgg_err_set(err, "wasm app %s: cannot instantiate: %s", a->name,
                t ? wg_trap_message(t) : e ? wg_error_message(e) : "out of memory");
    wg_trap_delete(t);
    wg_error_delete(e);
    goto done;
  }
  wg_extern x;
  c->inst = inst;
  if (c->hw) {
    wg_instance_export(inst, "handle_request", 14, &x);
    c->hw->handle_request = x.of.func;
    wg_instance_export(inst, "handle_response", 15, &x);
    c->hw->handle_response = x.of.func;
    c->hw->inst = inst;
    c->fn = c->hw->handle_request;
    c->ph = PH_REQUEST;
  } else {
    wg_instance_export(inst, "_start", 6, &x);
    c->fn = x.of.func;
    c->ph = PH_START;
  }
  rc = 0;
done:
  free(imports);
  return rc;
}

/* Answers the caller and frees the call. */
static void finish(wgg_app_call *c, int status, const wgg_hdrs *h, const char *body, size_t len) {
  size_t n = h ? h->n : 0;
  wgg_http_header *hv = calloc(n + 1, sizeof *hv);
  size_t k = 0;
  for (size_t i = 0; hv && i < n; i++)
    if (!wgg_http_hop_header(h->v[i].name)) hv[k++] = (wgg_http_header){h->v[i].name, h->v[i].value};
  wgg_http_response resp = {status, hv, k, body ? body : "", len};
  release_instance(c); /* the response lives in the call (exchange), not in the instance */
  c->cb(c->user, hv ? &resp : NULL, "out of memory");
  free(hv);
  call_free(c);
}

static void fail(wgg_app_call *c, const char *msg) {
  wgg_hdrs h = {0};
  wgg_hdrs_add(&h, "Content-Type", 12, "text/plain; charset=utf-8", 25);
  finish(c, 500, &h, msg, strlen(msg));
  wgg_hdrs_free(&h);
}

/* Logs what the guest wrote to stderr (and, for http-wasm, stdout). */
static void flush_logs(wgg_app_call *c) {
  if (c->hw) {
    wgg_hw_flush_output(c->hw);
    return;
  }
  size_t len = 0;
  const uint8_t *o = c->wasi ? wg_wasi_output(c->wasi, 2, &len) : NULL;
  if (!len) return;
  while (len && o[len - 1] == '\n') len--;
  wgg_debug("wasm app %s stderr: %.*s", c->app->name, (int)(len > 900 ? 900 : len), (const char *)o);
  wg_wasi_output_clear(c->wasi, 2);
}

/* WAGI: the guest is done; its stdout is the CGI response. */
static void wagi_done(wgg_app_call *c) {
  size_t len = 0;
  const uint8_t *o = wg_wasi_output(c->wasi, 1, &len);
  char msg[128];
  if (len > c->app->max_response) {
    snprintf(msg, sizeof msg, "wasm app wrote more than %zu bytes", c->app->max_response);
    wgg_metrics_wasm_failure(c->app->metrics, WGG_WF_OUTPUT);
    fail(c, msg);
    return;
  }
  wgg_hdrs h = {0};
  int status = 0;
  size_t off = 0;
  wgg_err e;
  if (wgg_wagi_parse((const char *)o, len, &status, &h, &off, &e)) {
    wgg_warn("%s", e.msg);
    wgg_hdrs_free(&h);
    wgg_metrics_wasm_failure(c->app->metrics, WGG_WF_OUTPUT);
    fail(c, e.msg);
    return;
  }
  finish(c, status, &h, (const char *)o + off, len - off);
  wgg_hdrs_free(&h);
}

/* http-wasm: the handler answered (no next, or after handle_response). */
static void hw_done(wgg_app_call *c) {
  c->reuse = true;
  finish(c, c->ex.status ? c->ex.status : 200, &c->ex.resp_headers, c->ex.resp_body.data, c->ex.resp_body.len);
}

static void on_slice(wgg_slice *sl);
static void start(wgg_app_call *c);

/* Guests running on this thread right now (a host call may reach another app in-process). */
static _Thread_local int tls_running;

/* Arms one time slice (up to the next epoch tick); the CPU budget is checked when the guest yields. */
static void arm(wgg_app_call *c) {
  wg_store_set_deadline(c->store, WGG_SLICE_DEADLINE);
  c->t0 = uv_hrtime();
}

/* What came out of the guest after a call or a resume. */
static void step(wgg_app_call *c, wg_trap *t, const wg_val *res) {
  uint64_t ran = uv_hrtime() - c->t0;
  c->guest_ns += ran;
  wgg_metrics_wasm_cpu(c->app->metrics, ran);
  flush_logs(c);
  char msg[256];
  if (t) {
    wg_trap_code code = wg_trap_code_of(t);
    if (code == WG_TRAP_SUSPENDED) { /* parked on a dapr:v1 operation: app_dapr.c resumes it */
      wg_trap_delete(t);
      return;
    }
    if (code == WG_TRAP_YIELDED) {
      wg_trap_delete(t);
      uint64_t budget = c->app->deadline_ms * 1000000u;
      if (budget && c->guest_ns >= budget) {
        snprintf(msg, sizeof msg, "wasm error: interrupted (deadline of %llu ms)", (unsigned long long)c->app->deadline_ms);
        wgg_warn("wasm app %s: %s", c->app->name, msg);
        wgg_metrics_wasm_failure(c->app->metrics, WGG_WF_DEADLINE);
        fail(c, msg);
        return;
      }
      /* parked guests of the loop take turns, one slice per loop iteration, and the loop's
       * I/O (other requests) is served between two slices */
      if (wgg_slice_queue(&c->slice, c->loop, on_slice, c)) fail(c, "out of memory");
      return;
    }
    int exit_code = 0;
    wg_wasi *w = c->hw ? c->hw->wasi : c->wasi;
    if (w && wg_wasi_exited(w, &exit_code)) {
      wg_trap_delete(t);
      if (exit_code == 0 && c->ph == PH_START) {
        wagi_done(c);
        return;
      }
      snprintf(msg, sizeof msg, "wasm app exited with code %d", exit_code);
      wgg_warn("wasm app %s: %s", c->app->name, msg);
      wgg_metrics_wasm_failure(c->app->metrics, WGG_WF_EXIT);
      fail(c, msg);
      return;
    }
    snprintf(msg, sizeof msg, "%s%s", code == WG_TRAP_HOST ? "" : "wasm error: ", wg_trap_message(t));
    const char *bt = wg_trap_backtrace(t);
    wgg_error("wasm app %s: %s%s%.*s", c->app->name, msg, bt && *bt ? "\nwasm stack trace:\n" : "", 2000,
              bt ? bt : "");
    wgg_metrics_wasm_failure(c->app->metrics, WGG_WF_TRAP + (int)code);
    wg_trap_delete(t);
    fail(c, msg);
    return;
  }
  switch (c->ph) {
    case PH_START:
      wagi_done(c);
      return;
    case PH_REQUEST: {
      uint64_t ctx_next = (uint64_t)res[0].of.i64;
      if ((uint32_t)ctx_next == 0) {
        hw_done(c);
        return;
      }
      /* next: nothing is behind an app; the response is what the guest wrote */
      c->req_ctx = (uint32_t)(ctx_next >> 32);
      c->ph = PH_RESPONSE;
      c->hwc.after_next = true;
      c->hwc.resp_read = 0;
      c->fn = c->hw->handle_response;
      wg_val args[2] = {{.kind = WG_I32, .of.i32 = (int32_t)c->req_ctx}, {.kind = WG_I32, .of.i32 = 0}};
      arm(c);
      c->hw->call = &c->hwc;
      tls_running++;
      wg_trap *t2 = wg_func_call(c->store, c->fn, args, 2, NULL, 0);
      tls_running--;
      step(c, t2, NULL);
      return;
    }
    case PH_RESPONSE:
      hw_done(c);
      return;
  }
}

static void resume(wgg_app_call *c, const wg_val *host, size_t nhost) {
  wg_val res[1] = {{.kind = WG_I64}};
  size_t nres = c->ph == PH_REQUEST ? 1 : 0;
  arm(c);
  tls_running++;
  wg_trap *t = wg_func_resume(c->store, host, nhost, res, nres);
  tls_running--;
  step(c, t, res);
}

/* The caller's timeout: the guest is parked or between two slices (a slice in progress holds the
 * loop, so this cannot run inside one). The caller gets "timeout"; the guest is discarded, and an
 * operation it waits on is detached (its answer is dropped). */
static void on_timeout(uv_timer_t *t) {
  wgg_app_call *c = t->data;
  wgg_warn("wasm app %s: no answer within the caller's timeout; the instance is discarded", c->app->name);
  wgg_metrics_wasm_failure(c->app->metrics, WGG_WF_TIMEOUT);
  c->cb(c->user, NULL, "timeout");
  call_free(c);
}

static void on_slice(wgg_slice *sl) {
  wgg_app_call *c = sl->user;
  if (!c->started) start(c); /* a call deferred by wgg_wasm_app_call */
  else resume(c, NULL, 0);
}

void wgg_app_call_resume(wgg_app_call *c, int64_t result) {
  wg_val v = {.kind = WG_I64, .of.i64 = result};
  resume(c, &v, 1);
}

int wgg_wasm_app_callback(wgg_wasm_app *h, const char *kind, const wgg_http_header *headers, size_t n,
                          const char *body, size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  wgg_wasm_app *a = gen_acquire(h);
  int rc = a->abi == WGG_APP_ABI_WASI_HTTP
               ? wgg_p2app_callback(a, kind, headers, n, body, len, timeout_ms, cb, user)
               : 1;
  gen_release(a);
  return rc;
}

bool wgg_wasm_app_streams(const wgg_wasm_app *h) {
  /* the abi of the current generation: a reload to another kind of module is not expected to race
   * a call's decision (the call itself checks again) */
  return wgg_wasm_app_abi(h) == WGG_APP_ABI_WASI_HTTP;
}

int wgg_wasm_app_call_full(wgg_wasm_app *h, uv_loop_t *loop, const char *method, const char *target,
                           const wgg_http_header *headers, size_t n, const char *body, size_t len,
                           const wgg_http_body_source *src, const char *source, uint64_t timeout_ms,
                           wgg_http_client_cb cb, const wgg_http_stream_cbs *stream, void *user) {
  if (!src && !stream) return wgg_wasm_app_call(h, loop, method, target, headers, n, body, len, source, timeout_ms, cb, user);
  wgg_wasm_app *a = gen_acquire(h);
  if (a->abi != WGG_APP_ABI_WASI_HTTP) {
    gen_release(a);
    if (src) return -1;
    return wgg_wasm_app_call(h, loop, method, target, headers, n, body, len, source, timeout_ms, cb, user);
  }
  return wgg_p2app_call_full(a, loop, method, target && *target ? target : "/", headers, n, body, len, src,
                             timeout_ms, cb, stream, user);
}

int wgg_wasm_app_call(wgg_wasm_app *h, uv_loop_t *loop, const char *method, const char *target,
                      const wgg_http_header *headers, size_t n, const char *body, size_t len, const char *source,
                      uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  wgg_app_call *c = calloc(1, sizeof *c);
  if (!c) return -1;
  wgg_wasm_app *a = gen_acquire(h); /* a reload meanwhile does not affect this call */
  if (a->abi == WGG_APP_ABI_WASI_HTTP) { /* runs now, on the generation it holds */
    free(c);
    /* the call takes the reference: a guest parked on a host call holds its generation */
    return wgg_p2app_call(a, loop, method, target && *target ? target : "/", headers, n, body, len, timeout_ms, cb,
                          user);
  }
  c->app = a;
  c->holds_ref = true;
  c->loop = loop;
  c->cb = cb;
  c->user = user;
  if (!target || !*target) target = "/";
  if (a->abi == WGG_APP_ABI_WAGI) {
    int envc = 0;
    c->envp = wgg_wagi_env(a, method, target, headers, n, len, source, &envc);
    c->stdin_body = len ? malloc(len) : NULL;
    if (!c->envp || (len && !c->stdin_body)) {
      call_free(c);
      return -1;
    }
    if (len) memcpy(c->stdin_body, body, len);
    c->stdin_len = len;
  } else {
    wgg_exchange *ex = &c->ex;
    ex->method = strdup(method);
    ex->uri = strdup(target);
    ex->protocol = "HTTP/1.1";
    snprintf(ex->source_addr, sizeof ex->source_addr, "%s", source ? source : "");
    int rc = !ex->method || !ex->uri ? -1 : 0;
    for (size_t i = 0; !rc && i < n; i++)
      rc = wgg_hdrs_add(&ex->req_headers, headers[i].name, strlen(headers[i].name), headers[i].value,
                        strlen(headers[i].value));
    if (!rc && len) rc = wgg_buf_append(&ex->req_body, body, len);
    if (rc) {
      call_free(c);
      return -1;
    }
    c->hwc.ex = ex;
  }
  c->timeout_ms = timeout_ms;
  if (tls_running) {
    /* a guest of this thread is running (its host call invoked an app in-process): start this
     * one on the next loop iteration instead of nesting C frames, so a chain of apps calling
     * apps cannot grow the thread's stack; the caller's guest parks meanwhile */
    if (wgg_slice_queue(&c->slice, loop, on_slice, c)) {
      call_free(c);
      return -1;
    }
    return 0;
  }
  start(c);
  return 0;
}

/* Takes or makes the instance and runs the guest. */
static void start(wgg_app_call *c) {
  wgg_wasm_app *a = c->app;
  uv_loop_t *loop = c->loop;
  uint64_t timeout_ms = c->timeout_ms;
  c->started = true;
  bool hit = pool_take(a, c);
  if (hit && c->wasi && !c->hw) { /* a reset WAGI instance: this request's CGI environment and stdin */
    const char *argv1[1];
    wg_wasi_config cfg;
    char msg[256];
    wasi_config(a, c->envp, c->stdin_body, c->stdin_len, argv1, &cfg);
    if (!wg_wasi_reset(c->wasi, &cfg, msg, sizeof msg)) {
      wgg_dapr_env_clear(c->env);
      wg_store_delete(c->store);
      wg_wasi_delete(c->wasi);
      free(c->env);
      c->env = NULL;
      c->store = NULL;
      c->wasi = NULL;
      c->inst = NULL;
      hit = false;
    }
  }
  wgg_metrics_wasm_call(a->metrics, hit);
  if (!hit) {
    if (!(c->env = calloc(1, sizeof *c->env))) {
      fail(c, "out of memory");
      return;
    }
    c->env->app = a;
    wgg_err err;
    if (instantiate(c, &err)) {
      wgg_error("%s", err.msg);
      wgg_metrics_wasm_failure(a->metrics, WGG_WF_INSTANTIATE);
      fail(c, err.msg);
      return;
    }
  }
  c->env->call = c;
  if (timeout_ms && (c->timer = malloc(sizeof *c->timer))) {
    uv_timer_init(loop, c->timer);
    c->timer->data = c;
    uv_timer_start(c->timer, on_timeout, timeout_ms, 0);
  }
  wg_store_set_yield(c->store, true);
  arm(c);
  wg_val res[1] = {{.kind = WG_I64}};
  wg_trap *t;
  if (c->hw) {
    /* nothing is sent before the handler is done (next has nothing behind it): the response is
     * buffered, so handle_response may still set status and headers */
    c->hwc.features = wgg_hw_module_features(a->hw) | WGG_HW_BUFFER_RESPONSE;
    c->hw->call = &c->hwc;
    tls_running++;
    t = wg_func_call(c->store, c->fn, NULL, 0, res, 1);
    tls_running--;
  } else {
    tls_running++;
    t = wg_func_call(c->store, c->fn, NULL, 0, NULL, 0);
    tls_running--;
  }
  step(c, t, res);
}
