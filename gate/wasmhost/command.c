/*
 * command.c: loading guest modules for components and running WASI commands
 * under a deadline (wasmhost.h). One ticker thread advances the default
 * engine's epoch by one per WGG_WASM_TICK_MS for the whole process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/cancel.h"
#include "util/err.h"
#include "wasmhost/wasmhost.h"

/* Guests in time slices (wgg_wasm_ticker_fine): while there are any, the
 * ticker wakes every millisecond so that a slice ends within about 1 ms;
 * otherwise every 10 ms (deadlines need no more, and an idle sidecar should
 * not wake 1000 times a second). Either way the epoch advances by the
 * milliseconds elapsed, so one epoch tick is one millisecond. */
static int fine_guests;

void wgg_wasm_ticker_fine(int delta) { __atomic_add_fetch(&fine_guests, delta, __ATOMIC_RELAXED); }

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *tick(void *arg) {
  (void)arg;
  uint64_t last = now_ms();
  for (;;) {
    bool fine = __atomic_load_n(&fine_guests, __ATOMIC_RELAXED) > 0;
    struct timespec ts = {0, (fine ? WGG_WASM_TICK_MS : 10 * WGG_WASM_TICK_MS) * 1000000L};
    nanosleep(&ts, NULL);
    uint64_t now = now_ms(), n = now > last ? now - last : 1;
    if (n > 1000) n = 1000; /* after a stop (SIGSTOP, suspend): deadlines do not all fire at once */
    last = now;
    for (uint64_t k = 0; k < n; k++) wg_engine_increment_epoch(NULL);
  }
  return NULL;
}

static pthread_once_t ticker_once = PTHREAD_ONCE_INIT;

static void start_ticker(void) {
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_create(&th, &attr, tick, NULL);
  pthread_attr_destroy(&attr);
}

void wgg_wasm_ticker_start(void) { pthread_once(&ticker_once, start_ticker); }

wg_module *wgg_wasm_load(const char *url, char **guest, wgg_err *err) { return wgg_wasm_load_any(url, guest, NULL, err); }

wg_module *wgg_wasm_load_any(const char *url, char **guest, wg_component **comp, wgg_err *err) {
  bool remote = !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
  const char *path = !strncmp(url, "file://", 7) ? url + 7 : url;
  if (!remote && strstr(url, "://") && strncmp(url, "file://", 7))
    return wgg_err_set(err, "wasm: unsupported url scheme in %s (file://, http://, https://)", url), NULL;
  wgg_buf bytes = {0};
  wgg_err rerr;
  if (remote ? wgg_wasm_fetch(url, &bytes, &rerr) : wgg_buf_read_file(&bytes, path, &rerr)) {
    wgg_buf_free(&bytes);
    return wgg_err_set(err, "wasm: %s", rerr.msg), NULL;
  }
  if (remote) { /* the guest's name: the last path segment, without a query */
    const char *p = strchr(url + (url[4] == 's' ? 8 : 7), '/');
    path = p ? p : "guest.wasm";
  }
  wg_error *e = NULL;
  wg_module *m = NULL;
  if (comp) *comp = NULL;
  if (comp && wg_binary_kind_of((const uint8_t *)bytes.data, bytes.len) == WG_BINARY_COMPONENT) {
    if (!(*comp = wg_component_new((const uint8_t *)bytes.data, bytes.len, &e))) {
      wgg_buf_free(&bytes);
      wgg_err_set(err, "wasm: error decoding component: %s (at byte %zu)", wg_error_message(e), wg_error_offset(e));
      wg_error_delete(e);
      return NULL;
    }
  } else {
    m = wg_module_new((const uint8_t *)bytes.data, bytes.len, &e);
  }
  wgg_buf_free(&bytes);
  if (!m && !(comp && *comp)) {
    /* wazero's words (what daprd prints) for a file that is not wasm at all, then ours */
    const char *msg = wg_error_message(e);
    const char *dapr = strstr(msg, "magic header") ? "invalid magic number: "
                       : strstr(msg, "binary version") ? "invalid version header: " : "";
    wgg_err_set(err, "wasm: error compiling binary: %s%s (at byte %zu)", dapr, msg, wg_error_offset(e));
    wg_error_delete(e);
    return NULL;
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t blen = strcspn(base, "?#");
  if (blen > 5 && !strcmp(base + blen - 5, ".wasm")) blen -= 5;
  if (!(*guest = strndup(base, blen))) {
    wg_module_delete(m);
    if (comp) {
      wg_component_delete(*comp);
      *comp = NULL;
    }
    return wgg_err_set(err, "out of memory"), NULL;
  }
  wgg_wasm_ticker_start();
  return m;
}

int wgg_wasm_run_command(const wg_module *m, const wg_wasi_config *cfg, uint64_t timeout_ms,
                         wgg_wasm_run_result *r, wgg_err *err) {
  return wgg_wasm_run_command_opts(m, cfg, &(wgg_wasm_run_opts){.timeout_ms = timeout_ms}, r, err);
}

/* Links WASI and `link` into a new store; NULL with err when an import is
 * left unsatisfied. */
static int link_all(wg_wasi *w, wg_store *s, const wg_module *m, wg_extern *imports, wgg_wasm_link_fn link, void *env,
                    wgg_err *err) {
  char msg[256];
  if (!wg_wasi_link(w, s, m, imports, msg, sizeof msg)) return wgg_err_set(err, "wasm: %s", msg);
  if (link && link(env, s, m, imports, err)) return -1;
  uint32_t n = wg_module_import_count(m);
  for (uint32_t i = 0; i < n; i++)
    if (!imports[i].of.func) {
      wg_extern_desc d;
      wg_module_import(m, i, &d);
      return wgg_err_set(err, "wasm: unknown import %.*s.%.*s", (int)d.module_len, d.module, (int)d.name_len, d.name);
    }
  return 0;
}

int wgg_wasm_check_imports(const wg_module *m, const wg_wasi_config *cfg, wgg_wasm_link_fn link, void *env,
                           wgg_err *err) {
  char msg[256];
  wg_wasi *w = wg_wasi_new(cfg, msg, sizeof msg);
  if (!w) return wgg_err_set(err, "wasm: %s", msg);
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 1024});
  wg_extern *imports = calloc(wg_module_import_count(m) + 1, sizeof *imports);
  int rc = !s || !imports ? wgg_err_set(err, "out of memory") : link_all(w, s, m, imports, link, env, err);
  free(imports);
  wg_store_delete(s);
  wg_wasi_delete(w);
  return rc;
}

static void interrupt_store(void *s) { wg_store_interrupt(s); }

int wgg_wasm_run_command_opts(const wg_module *m, const wg_wasi_config *cfg, const wgg_wasm_run_opts *o,
                              wgg_wasm_run_result *r, wgg_err *err) {
  memset(r, 0, sizeof *r);
  char msg[256];
  if (wgg_cancel_requested(o->cancel)) return wgg_err_set(err, "module closed with context canceled");
  wg_wasi_config capped = *cfg;
  if (o->max_output && cfg->capture_output && (!cfg->capture_max || cfg->capture_max > o->max_output))
    capped.capture_max = o->max_output + 1; /* one byte more tells "past the cap" from "at it" */
  wg_wasi *w = wg_wasi_new(&capped, msg, sizeof msg);
  if (!w) return wgg_err_set(err, "wasm: %s", msg);
  /* 64K value-stack slots (512 KiB): C guests keep their own stack in linear
   * memory, and a smaller stack makes a fresh store per call cheap. */
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 1u << 16,
                                                      .max_memory_pages = o->max_memory_pages});
  uint32_t n = wg_module_import_count(m);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  int rc = -1;
  bool watching = false;
  if (!s || !imports) {
    wgg_err_set(err, "out of memory");
    goto done;
  }
  if (link_all(w, s, m, imports, o->link, o->link_env, err)) goto done;
  if (o->timeout_ms) wg_store_set_deadline(s, (o->timeout_ms + WGG_WASM_TICK_MS - 1) / WGG_WASM_TICK_MS + 1);
  else if (o->cancel) wg_store_set_deadline(s, UINT64_MAX / 2); /* never reached, but wg_store_interrupt needs one */
  if (!(watching = wgg_cancel_watch(o->cancel, interrupt_store, s))) {
    wgg_err_set(err, "module closed with context canceled");
    goto done;
  }
  wg_error *e = NULL;
  wg_trap *t = NULL;
  wg_instance *inst = wg_instance_new(s, m, imports, n, &e, &t);
  wg_extern start;
  if (inst && (!wg_instance_export(inst, "_start", 6, &start) || start.kind != WG_EXTERN_FUNC)) {
    wgg_err_set(err, "wasm: the module has no _start (not a WASI command)");
    goto done;
  }
  if (inst) t = wg_func_call(s, start.of.func, NULL, 0, NULL, 0);
  if (t && wg_wasi_exited(w, &r->exit_code)) {
    wg_trap_delete(t);
    t = NULL;
  }
  if (t) {
    if (wgg_cancel_requested(o->cancel)) wgg_err_set(err, "module closed with context canceled");
    else wgg_err_set(err, "wasm: %s", wg_trap_message(t));
    wg_trap_delete(t);
    goto done;
  }
  if (!inst) {
    wgg_err_set(err, "wasm: %s", e ? wg_error_message(e) : "cannot instantiate");
    wg_error_delete(e);
    goto done;
  }
  size_t len = 0;
  const uint8_t *out = wg_wasi_output(w, 1, &len);
  if (o->max_output && len > o->max_output) {
    wgg_err_set(err, "wasm: output larger than %zu bytes", o->max_output);
    goto done;
  }
  if (len) {
    if (!(r->stdout_data = malloc(len))) {
      wgg_err_set(err, "out of memory");
      goto done;
    }
    memcpy(r->stdout_data, out, len);
    r->stdout_len = len;
  }
  rc = 0;
done:
  if (watching) wgg_cancel_unwatch(o->cancel);
  free(imports);
  wg_store_delete(s);
  wg_wasi_delete(w);
  return rc;
}
