/*
 * command.c: loading guest modules for components and running WASI commands
 * under a deadline (wasmhost.h). One ticker thread advances the default
 * engine's epoch every WGG_WASM_TICK_MS for the whole process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"
#include "wasmhost/wasmhost.h"

static void *tick(void *arg) {
  (void)arg;
  struct timespec ts = {0, WGG_WASM_TICK_MS * 1000000L};
  for (;;) {
    nanosleep(&ts, NULL);
    wg_engine_increment_epoch(NULL);
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

wg_module *wgg_wasm_load(const char *url, char **guest, wgg_err *err) {
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
  wg_module *m = wg_module_new((const uint8_t *)bytes.data, bytes.len, &e);
  wgg_buf_free(&bytes);
  if (!m) {
    wgg_err_set(err, "wasm: error compiling binary: %s (at byte %zu)", wg_error_message(e), wg_error_offset(e));
    wg_error_delete(e);
    return NULL;
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t blen = strcspn(base, "?#");
  if (blen > 5 && !strcmp(base + blen - 5, ".wasm")) blen -= 5;
  if (!(*guest = strndup(base, blen))) {
    wg_module_delete(m);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  wgg_wasm_ticker_start();
  return m;
}

int wgg_wasm_run_command(const wg_module *m, const wg_wasi_config *cfg, uint64_t timeout_ms,
                         wgg_wasm_run_result *r, wgg_err *err) {
  memset(r, 0, sizeof *r);
  char msg[256];
  wg_wasi *w = wg_wasi_new(cfg, msg, sizeof msg);
  if (!w) return wgg_err_set(err, "wasm: %s", msg);
  /* 64K value-stack slots (512 KiB): C guests keep their own stack in linear
   * memory, and a smaller stack makes a fresh store per call cheap. */
  wg_store *s = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = 1u << 16});
  uint32_t n = wg_module_import_count(m);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  int rc = -1;
  if (!s || !imports) {
    wgg_err_set(err, "out of memory");
    goto done;
  }
  if (!wg_wasi_link(w, s, m, imports, msg, sizeof msg)) {
    wgg_err_set(err, "wasm: %s", msg);
    goto done;
  }
  for (uint32_t i = 0; i < n; i++)
    if (!imports[i].of.func) {
      wg_extern_desc d;
      wg_module_import(m, i, &d);
      wgg_err_set(err, "wasm: unknown import %.*s.%.*s", (int)d.module_len, d.module, (int)d.name_len, d.name);
      goto done;
    }
  if (timeout_ms) wg_store_set_deadline(s, (timeout_ms + WGG_WASM_TICK_MS - 1) / WGG_WASM_TICK_MS + 1);
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
    wgg_err_set(err, "wasm: %s", wg_trap_message(t));
    wg_trap_delete(t);
    goto done;
  }
  if (!inst) {
    wgg_err_set(err, "wasm: %s", e ? wg_error_message(e) : "cannot instantiate");
    wg_error_delete(e);
    goto done;
  }
  size_t len = 0;
  const uint8_t *o = wg_wasi_output(w, 1, &len);
  if (len) {
    if (!(r->stdout_data = malloc(len))) {
      wgg_err_set(err, "out of memory");
      goto done;
    }
    memcpy(r->stdout_data, o, len);
    r->stdout_len = len;
  }
  rc = 0;
done:
  free(imports);
  wg_store_delete(s);
  wg_wasi_delete(w);
  return rc;
}
