/*
 * p2shared_host.c: WASI 0.2 in shared mode (wg_wasi_p2_define_shared), as
 * the wasm app host uses it: one linker for many stores, each call served
 * by the context of the calling store.
 *
 *   p2shared_host COMPONENT.wasm GUEST_ARG HOST_DIR...
 *
 * One linker with WASI 0.2 defined once in shared mode; per HOST_DIR a store
 * with its own preview1 context (HOST_DIR preopened as /sandbox, output
 * captured, argv = {name, GUEST_ARG}) and its own WASI 0.2 context
 * (wg_wasi_p2_new, found through wg_store_data). Every store is
 * instantiated first, then the command's wasi:cli/run runs in each store on
 * its own thread, all at once. Prints, store by store in order, a line
 * "== store N exit CODE" and what that store's guest wrote to stdout; the
 * script (run_p2shared.sh) compares each with `wasmgate wasm run` on the
 * same component and sandbox (the one-context mode). Exit 0 when every
 * store could be made and run, 1 otherwise.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate_component.h"
#include "wgwasi.h"

enum { MAX_STORES = 8 };

typedef struct run {
  wg_store *store;
  wg_wasi *wasi;
  wg_wasi_p2 *p2;
  wg_component_instance *inst;
  int code;
  char err[256];
} run;

static wg_wasi_p2 *p2_of_store(wg_store *s) { return s ? ((run *)wg_store_data(s))->p2 : NULL; }

static void *run_one(void *arg) {
  run *r = arg;
  wg_component_func *f = wg_component_instance_func(r->inst, "wasi:cli/run@0.2.0", "run");
  if (!f) {
    snprintf(r->err, sizeof r->err, "no wasi:cli/run export");
    r->code = -1;
    return NULL;
  }
  wg_cval res = {0};
  wg_trap *t = wg_component_func_call(f, NULL, 0, &res, 1);
  int code = 0;
  if (t && wg_wasi_exited(r->wasi, &code)) r->code = code;
  else if (t) snprintf(r->err, sizeof r->err, "trap: %s", wg_trap_message(t)), r->code = -1;
  else r->code = res.kind == WG_CVAL_RESULT && res.of.var.disc ? 1 : 0;
  wg_trap_delete(t);
  wg_cval_free(&res);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc - 3 > MAX_STORES) {
    fprintf(stderr, "usage: p2shared_host COMPONENT.wasm GUEST_ARG HOST_DIR... (at most %d)\n", MAX_STORES);
    return 2;
  }
  FILE *fp = fopen(argv[1], "rb");
  if (!fp) return perror(argv[1]), 2;
  static uint8_t buf[8 << 20];
  size_t len = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  wg_error *e = NULL;
  wg_component *c = wg_component_new(buf, len, &e);
  if (!c) return fprintf(stderr, "%s: %s\n", argv[1], wg_error_message(e)), 1;
  char err[256];
  wg_component_linker *l = wg_component_linker_new();
  wg_wasi_p2 *tmpl = l ? wg_wasi_p2_define_shared(l, p2_of_store, err, sizeof err) : NULL;
  if (!tmpl) return fprintf(stderr, "define_shared: %s\n", l ? err : "out of memory"), 1;
  wg_component_linker_allow_unknown_imports(l, true);

  int n = argc - 3, status = 0;
  run runs[MAX_STORES] = {0};
  for (int k = 0; k < n; k++) {
    run *r = &runs[k];
    wg_wasi_preopen pre = {argv[3 + k], "/sandbox"};
    wg_wasi_config cfg = {.argc = 2, .argv = (const char *const[]){"guest", argv[2]}, .npreopens = 1,
                          .preopens = &pre, .use_stdin_buf = true, .capture_output = true};
    r->wasi = wg_wasi_new(&cfg, err, sizeof err);
    r->store = wg_store_new(NULL, NULL);
    r->p2 = r->wasi ? wg_wasi_p2_new(tmpl, r->wasi) : NULL;
    if (!r->wasi || !r->store || !r->p2) return fprintf(stderr, "store %d: %s\n", k, r->wasi ? "out of memory" : err), 1;
    wg_store_set_data(r->store, r);
    wg_trap *t = NULL;
    r->inst = wg_component_linker_instantiate(l, r->store, c, &e, &t);
    if (!r->inst) {
      fprintf(stderr, "store %d: cannot instantiate: %s\n", k, t ? wg_trap_message(t) : e ? wg_error_message(e) : "?");
      return 1;
    }
  }
  pthread_t th[MAX_STORES];
  for (int k = 0; k < n; k++)
    if (pthread_create(&th[k], NULL, run_one, &runs[k])) return fprintf(stderr, "pthread_create failed\n"), 1;
  for (int k = 0; k < n; k++) pthread_join(th[k], NULL);
  for (int k = 0; k < n; k++) {
    run *r = &runs[k];
    size_t olen = 0;
    const uint8_t *o = wg_wasi_output(r->wasi, 1, &olen);
    printf("== store %d exit %d\n", k, r->code);
    fwrite(o, 1, olen, stdout);
    if (r->code < 0) {
      fprintf(stderr, "store %d: %s\n", k, r->err);
      status = 1;
    }
  }
  for (int k = 0; k < n; k++) {
    wg_store_delete(runs[k].store); /* its instance first, then the contexts its calls used */
    wg_wasi_p2_delete(runs[k].p2);
    wg_wasi_delete(runs[k].wasi);
  }
  wg_component_linker_delete(l);
  wg_component_delete(c);
  return status;
}
