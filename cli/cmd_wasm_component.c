/*
 * cmd_wasm_component.c: `wasmgate wasm run` for components: a WASI 0.2
 * command (its `wasi:cli/run@0.2.x` export) runs with the same context
 * (arguments, --env, --stdin, --dir, --strict-sandbox) and store limits
 * (wasi:sockets only with the network grants: --inherit-network, --allow-socket,
 * --allow-ip-name-lookup, -S)
 * (--fuel, --timeout, --max-memory) as a preview1 module. The WASI 0.2
 * interfaces come from wasi/src/p2_*.c; imports nothing defines are
 * accepted and trap when called ("unimplemented import `i#f`"). With
 * --resources-path, wasi:keyvalue, wasi:config, wasi:messaging, wasi:blobstore and dapr:runtime are
 * served by those Dapr components (gate/wasmhost/p2_cloud_run.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wasmgate_component.h"
#include "wggate.h"
#include "wgwasi.h"

/* The run's WASI 0.2 context (owned by the linker; one run per process), where the cloud
 * interfaces make their wasi:io streams (wasi:blobstore). */
static wg_wasi_p2 *run_ctx;
static wg_wasi_p2 *run_p2(wg_store *s) { return (void)s, run_ctx; }

int wg_cli_run_component(const char *path, const uint8_t *bytes, size_t len, wg_wasi *w, wg_store *store,
                         const char *app_id, const char *const *resources, size_t n_resources,
                         const wg_wasi_p2_network *net) {
  wg_error *e = NULL;
  wg_trap *trap = NULL;
  int status = 1;
  char err[256];
  wg_component *c = wg_component_new(bytes, len, &e);
  if (!c) {
    fprintf(stderr, "%s:0x%zx: %s\n", path, wg_error_offset(e), wg_error_message(e));
    wg_error_delete(e);
    return 1;
  }
  wg_component_linker *l = wg_component_linker_new();
  wgg_cloud *cloud = NULL;
  wgg_err ge;
  if (!l || !(run_ctx = wg_wasi_p2_define_ctx(w, l, err, sizeof err))) {
    fprintf(stderr, "wasmgate wasm run: %s\n", l ? err : "out of memory");
    goto done;
  }
  if (net && !wg_wasi_p2_set_network(run_ctx, net, err, sizeof err)) {
    fprintf(stderr, "wasmgate wasm run: %s\n", err);
    goto done;
  }
  if (n_resources &&
      (!(cloud = wgg_cloud_new(app_id, resources, n_resources, &ge)) || wgg_cloud_define(cloud, l, run_p2, &ge))) {
    fprintf(stderr, "wasmgate wasm run: %s\n", ge.msg);
    goto done;
  }
  wg_component_linker_allow_unknown_imports(l, true);
  wg_component_instance *inst = wg_component_linker_instantiate(l, store, c, &e, &trap);
  wg_component_func *run = inst ? wg_component_instance_func(inst, "wasi:cli/run@0.2.0", "run") : NULL;
  if (inst && !run) {
    fprintf(stderr, "%s: no wasi:cli/run@0.2.x export (not a command component)\n", path);
    goto done;
  }
  wg_cval res = {0};
  if (run) trap = wg_component_func_call(run, NULL, 0, &res, 1);
  int code = 0;
  if (!inst && e) {
    fprintf(stderr, "%s: %s\n", path, wg_error_message(e));
  } else if (trap && wg_wasi_exited(w, &code)) {
    status = code;
  } else if (trap) {
    wg_trap_code tc = wg_trap_code_of(trap);
    fprintf(stderr, "wasmgate: %s: %s: %s\n", path,
            tc == WG_TRAP_OUT_OF_FUEL || tc == WG_TRAP_INTERRUPTED ? "limit reached" : "trap", wg_trap_message(trap));
    fputs(wg_trap_backtrace(trap), stderr);
    status = 134;
  } else {
    status = res.kind == WG_CVAL_RESULT && res.of.var.disc ? 1 : 0; /* run: func() -> result */
  }
  wg_cval_free(&res);
done:
  wg_error_delete(e);
  wg_trap_delete(trap);
  /* the instance lives in the store: free it (the caller deletes the store
   * later) before the linker and the component it uses */
  fflush(stdout);
  wg_store_delete(store);
  run_ctx = NULL;
  wg_component_linker_delete(l);
  wgg_cloud_free(cloud);
  wg_component_delete(c);
  return status;
}
