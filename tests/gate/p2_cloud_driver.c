/*
 * p2_cloud_driver.c: runs a WASI 0.2 command component (its wasi:cli/run)
 * with the cloud interfaces of gate/wasmhost/p2_cloud.h served by the Dapr
 * components of a resources folder, as app ID ID would load them (scopes
 * applied): the test driver of tests/gate/p2_keyvalue.py until component
 * apps are hosted by the sidecar.
 *
 *   p2_cloud_driver --app-id ID --resources-path DIR [--config-store NAME] [--store-data foreign|inst]
 *                   COMPONENT [ARG...]
 *
 * --deliver N DATA: instead of wasi:cli/run, calls the component's
 * wasi:messaging/incoming-handler@0.2.0-draft handle N times, each on a new instance with a
 * delivered message of DATA on topic "orders", then frees the instance's leftover messages as the
 * sidecar does when an instance ends (wgg_p2_messaging_release; not with DATA's --no-release
 * variant `--deliver-no-release`), and prints "delivered N, trapped T, live messages L".
 *
 * --store-data gives the guest's store embedder data that is not a hosted component app's:
 * `foreign` a 1-byte allocation set untagged (another embedder's data), `inst` a wgg_p2h_inst
 * with a loop and a request set, but untagged. Neither may be read as the hosted app's state
 * (p2http.h wgg_p2h_store_tag): the cloud interfaces then answer inline, as with no data.
 *
 * The guest's stdout and stderr are the driver's; the exit status is the
 * guest's (0 when run returned ok, 1 for an error or wasi:cli/exit(err)),
 * 2 for a usage or load error, 3 for a trap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "config/component.h"
#include "wasmgate_component.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2http.h"
#include "wgwasi.h"

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = len > 0 ? malloc((size_t)len) : NULL;
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)(len > 0 ? len : 0);
  return b;
}

int main(int argc, char **argv) {
  const char *app_id = "", *res = NULL, *cfg_store = NULL, *store_data = NULL, *deliver = NULL, *ddata = "";
  bool release = true;
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "--app-id")) app_id = argv[i + 1];
    else if (!strcmp(argv[i], "--resources-path")) res = argv[i + 1];
    else if (!strcmp(argv[i], "--config-store")) cfg_store = argv[i + 1];
    else if (!strcmp(argv[i], "--store-data")) store_data = argv[i + 1];
    else if ((!strcmp(argv[i], "--deliver") || !strcmp(argv[i], "--deliver-no-release")) && i + 2 < argc) {
      release = !strcmp(argv[i], "--deliver");
      deliver = argv[i + 1];
      ddata = argv[++i + 1];
    }
    else break;
  }
  if (i >= argc || !res) {
    fprintf(stderr, "usage: p2_cloud_driver --app-id ID --resources-path DIR [--config-store NAME] COMPONENT [ARG...]\n");
    return 2;
  }
  wgg_options o;
  wgg_options_init(&o);
  o.app_id = app_id;
  o.resources_paths = &res;
  o.n_resources_paths = 1;
  o.log_level = WGG_LOG_WARN;
  wgg_component_list comps = {0};
  wgg_err err;
  if (wgg_components_load(&res, 1, app_id, &comps, &err)) {
    fprintf(stderr, "p2_cloud_driver: %s\n", err.msg);
    return 2;
  }
  wgg_api *api = wgg_api_new(&o, &comps, &err);
  wgg_component_list_free(&comps);
  if (!api) {
    fprintf(stderr, "p2_cloud_driver: %s\n", err.msg);
    return 2;
  }
  size_t len = 0;
  uint8_t *bytes = read_file(argv[i], &len);
  wg_error *e = NULL;
  wg_component *c = bytes ? wg_component_new(bytes, len, &e) : NULL;
  free(bytes);
  if (!c) {
    fprintf(stderr, "p2_cloud_driver: %s: %s\n", argv[i], e ? wg_error_message(e) : "cannot read");
    wg_error_delete(e);
    wgg_api_free(api);
    return 2;
  }
  char msg[256];
  wg_wasi_config wc = {.argc = argc - i, .argv = (const char *const *)argv + i};
  wg_wasi *w = wg_wasi_new(&wc, msg, sizeof msg);
  wg_component_linker *l = wg_component_linker_new();
  wgg_p2_msg_host *mh = NULL;
  int status = 2;
  if (!w || !l || !wg_wasi_p2_define(w, l, msg, sizeof msg) || !wgg_p2_keyvalue_define(l, api, &err) ||
      !wgg_p2_config_define(l, api, cfg_store, &err) || !wgg_p2_messaging_define_host(l, api, &mh, &err)) {
    fprintf(stderr, "p2_cloud_driver: cannot set up the host\n");
    goto out;
  }
  /* every import must be defined (no allow_unknown_imports, unlike `wasm
   * run`), so that a missing or wrongly resolved one fails here; the
   * preview1 adapter imports the terminal resources, which p2_cli.c leaves out */
  if (!wg_component_linker_define_resource(l, "wasi:cli/terminal-input@0.2.12", "terminal-input", NULL, NULL, NULL, &e) ||
      !wg_component_linker_define_resource(l, "wasi:cli/terminal-output@0.2.12", "terminal-output", NULL, NULL, NULL, &e)) {
    fprintf(stderr, "p2_cloud_driver: %s\n", e ? wg_error_message(e) : "out of memory");
    goto out;
  }
  /* wasi:http too, so that every type text of the hosted interfaces (WASI 0.2, wasi:http,
   * the cloud ones) is parsed and resolved here, also those no test component imports */
  if (!wgg_p2h_define(l, msg, sizeof msg) || !wg_component_linker_check_types(l, &e)) {
    fprintf(stderr, "p2_cloud_driver: %s\n", e ? wg_error_message(e) : msg);
    goto out;
  }
  if (deliver) {
    int n = atoi(deliver), traps = 0;
    for (int k = 0; k < n; k++) {
      wg_store *st = wg_store_new(NULL, NULL);
      wg_trap *t = NULL;
      wg_component_instance *ci = st ? wg_component_linker_instantiate(l, st, c, &e, &t) : NULL;
      wg_component_func *hf =
          ci ? wg_component_instance_func(ci, "wasi:messaging/incoming-handler@0.2.0-draft", "handle") : NULL;
      const void *owner = (const void *)(uintptr_t)(k + 1); /* the instance's, as the sidecar's p2inst */
      wg_cval arg = {0}, r = {0};
      if (!hf || !wgg_p2_messaging_incoming(mh, owner, "orders", ddata, strlen(ddata), NULL, NULL, 0, &arg)) {
        fprintf(stderr, "p2_cloud_driver: %s\n", e ? wg_error_message(e) : t ? wg_trap_message(t) : "no handler");
        wg_trap_delete(t);
        wg_store_delete(st);
        goto out;
      }
      t = wg_component_func_call(hf, &arg, 1, &r, 1);
      traps += t != NULL;
      wg_trap_delete(t);
      wg_cval_free(&r);
      wg_cval_free(&arg);
      wg_store_delete(st);
      if (release) wgg_p2_messaging_release(mh, owner);
    }
    printf("delivered %d, trapped %d, live messages %zu\n", n, traps, wgg_p2_messaging_live(mh));
    status = 0;
    goto out;
  }
  wg_store *s = wg_store_new(NULL, NULL);
  char *foreign = NULL;
  wgg_p2h_inst fake = {.loop = (struct uv_loop_s *)&fake, .pcall = &fake}; /* would park and never resume */
  if (store_data && !strcmp(store_data, "foreign")) {
    foreign = malloc(1);
    if (foreign) *foreign = 'x';
    wg_store_set_data(s, foreign);
  } else if (store_data && !strcmp(store_data, "inst")) {
    wg_store_set_data(s, &fake);
  }
  wg_trap *trap = NULL;
  wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, &e, &trap);
  wg_component_func *run = inst ? wg_component_instance_func(inst, "wasi:cli/run@0.2.0", "run") : NULL;
  wg_cval r = {0};
  if (run) trap = wg_component_func_call(run, NULL, 0, &r, 1);
  int code = 0;
  fflush(stdout);
  if (!inst) {
    fprintf(stderr, "p2_cloud_driver: %s\n", e ? wg_error_message(e) : trap ? wg_trap_message(trap) : "?");
  } else if (!run) {
    fprintf(stderr, "p2_cloud_driver: no wasi:cli/run export\n");
  } else if (trap && wg_wasi_exited(w, &code)) {
    status = code;
  } else if (trap) {
    fprintf(stderr, "p2_cloud_driver: trap: %s\n%s", wg_trap_message(trap), wg_trap_backtrace(trap));
    status = 3;
  } else {
    status = r.kind == WG_CVAL_RESULT && r.of.var.disc ? 1 : 0;
  }
  wg_cval_free(&r);
  wg_trap_delete(trap);
  wg_error_delete(e);
  wg_store_delete(s);
  free(foreign);
out:
  wg_component_linker_delete(l);
  wg_component_delete(c);
  if (w) wg_wasi_delete(w);
  wgg_api_free(api);
  return status;
}
