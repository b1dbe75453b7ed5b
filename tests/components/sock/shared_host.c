/*
 * shared_host.c: runs a WASI 0.2 command component the way the sidecar
 * hosts wasm apps (gate/wasmhost/app_p2http.c): one linker with
 * wg_wasi_p2_define_shared, and a per-store context from wg_wasi_p2_new,
 * which grants no network. With GRANT set, the store's context is granted
 * that one address pattern first (wg_wasi_p2_set_network), so the same run
 * shows the embedder's grant reaching a shared-mode context.
 *
 *   shared_host COMPONENT [GRANT] -- ARGS...   prints the guest's stdout;
 *   exit status: the run's (0 ok, 1 run failed or a setup error, 134 trap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate_component.h"
#include "wgwasi.h"

static wg_wasi_p2 *of_store(wg_store *s) { return wg_store_data(s); }

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = n > 0 ? malloc((size_t)n) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = b ? (size_t)n : 0;
  return b;
}

int main(int argc, char **argv) {
  int dd = 1;
  while (dd < argc && strcmp(argv[dd], "--")) dd++;
  if (dd < 2 || dd > 3 || dd + 1 >= argc) return fprintf(stderr, "usage: shared_host COMPONENT [GRANT] -- ARGS...\n"), 2;
  size_t len;
  unsigned char *bytes = slurp(argv[1], &len);
  wg_error *e = NULL;
  wg_trap *t = NULL;
  char msg[256];
  wg_component *c = bytes ? wg_component_new(bytes, len, &e) : NULL;
  wg_component_linker *l = wg_component_linker_new();
  wg_wasi_p2 *tmpl = l ? wg_wasi_p2_define_shared(l, of_store, msg, sizeof msg) : NULL;
  if (!c || !tmpl) return fprintf(stderr, "setup: %s\n", e ? wg_error_message(e) : msg), 1;
  wg_component_linker_allow_unknown_imports(l, true);
  wg_wasi_config cfg = {.argc = argc - dd, .argv = (const char *const *)argv + dd, .capture_output = true};
  argv[dd] = "sock"; /* the program name the guest sees */
  wg_wasi *w = wg_wasi_new(&cfg, msg, sizeof msg);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_wasi_p2 *p = w ? wg_wasi_p2_new(tmpl, w) : NULL;
  if (!s || !p) return fprintf(stderr, "setup: out of memory\n"), 1;
  if (dd == 3 && !wg_wasi_p2_set_network(p, &(wg_wasi_p2_network){.allow = (const char *const *)&argv[2], .nallow = 1},
                                         msg, sizeof msg))
    return fprintf(stderr, "grant: %s\n", msg), 1;
  wg_store_set_data(s, p);
  wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, &e, &t);
  wg_component_func *run = inst ? wg_component_instance_func(inst, "wasi:cli/run@0.2.0", "run") : NULL;
  int status = 1;
  wg_cval res = {0};
  if (run) t = wg_component_func_call(run, NULL, 0, &res, 1);
  if (run && !t) status = res.kind == WG_CVAL_RESULT && res.of.var.disc ? 1 : 0;
  else if (t) status = 134, fprintf(stderr, "trap: %s\n", wg_trap_message(t));
  else fprintf(stderr, "instantiate: %s\n", e ? wg_error_message(e) : "no wasi:cli/run export");
  size_t n = 0;
  const uint8_t *out = wg_wasi_output(w, 1, &n);
  fwrite(out, 1, n, stdout);
  wg_cval_free(&res);
  wg_trap_delete(t);
  wg_error_delete(e);
  wg_wasi_p2_delete(p); /* as the sidecar does: the context (its streams), then the store */
  wg_store_delete(s);
  wg_wasi_delete(w);
  wg_component_linker_delete(l);
  wg_component_delete(c);
  free(bytes);
  return status;
}
