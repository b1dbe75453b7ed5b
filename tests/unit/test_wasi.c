/*
 * test_wasi.c: the WASI context's embedding API (wgwasi.h) on a real guest
 * (wasi_misc.wasm): stdin from a buffer, stdout captured in memory, exit
 * codes through proc_exit, and link errors for unknown WASI imports.
 * usage: test_wasi PATH/wasi_misc.wasm
 */
#include <stdlib.h>

#include "test.h"
#include "wasmgate.h"
#include "wgwasi.h"

static unsigned char *bytes;
static size_t nbytes;

/* Runs wasi_misc with `args` under a context with `cfg`; returns the trap (or NULL). */
static wg_trap *run(wg_wasi *w, int *status) {
  wg_module *m = wg_module_new(bytes, nbytes, NULL);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_extern imports[32] = {0};
  char err[128];
  wg_trap *trap = NULL;
  *status = -1;
  if (m && s && wg_module_import_count(m) <= 32 && wg_wasi_link(w, s, m, imports, err, sizeof err)) {
    wg_instance *inst = wg_instance_new(s, m, imports, wg_module_import_count(m), NULL, &trap);
    wg_extern start;
    if (inst && wg_instance_export(inst, "_start", 6, &start)) {
      trap = wg_func_call(s, start.of.func, NULL, 0, NULL, 0);
      *status = 0;
      if (trap && wg_wasi_exited(w, status)) {
        wg_trap_delete(trap);
        trap = NULL;
      }
    }
  }
  wg_store_delete(s);
  wg_module_delete(m);
  return trap;
}

TEST(stdin_buffer_and_captured_stdout) {
  const char *argv[] = {"misc", "stdin"};
  wg_wasi_config cfg = {.argc = 2, .argv = argv, .stdin_buf = (const uint8_t *)"abc", .stdin_len = 3,
                        .use_stdin_buf = true, .capture_output = true};
  char err[128];
  wg_wasi *w = wg_wasi_new(&cfg, err, sizeof err);
  REQUIRE(w != NULL);
  int status;
  wg_trap *t = run(w, &status);
  CHECK(t == NULL && status == 0);
  wg_trap_delete(t);
  size_t len = 0;
  const uint8_t *out = wg_wasi_output(w, 1, &len);
  /* hash of "abc" with h = h * 31 + c from 0: 96354 = 0x00017862 */
  CHECK(len == strlen("stdin: 3 bytes, hash 00017862\n") && !memcmp(out, "stdin: 3 bytes, hash 00017862\n", len));
  CHECK(wg_wasi_output(w, 3, &len) == NULL);
  wg_wasi_delete(w);
}

TEST(capture_max_and_clear) {
  const char *argv[] = {"misc", "stdin"};
  wg_wasi_config cfg = {.argc = 2, .argv = argv, .stdin_buf = (const uint8_t *)"abc", .stdin_len = 3,
                        .use_stdin_buf = true, .capture_output = true, .capture_max = 10};
  char err[128];
  wg_wasi *w = wg_wasi_new(&cfg, err, sizeof err);
  REQUIRE(w != NULL);
  int status;
  wg_trap *t = run(w, &status);
  CHECK(t == NULL && status == 0); /* the dropped rest still counts as written */
  wg_trap_delete(t);
  size_t len = 0;
  const uint8_t *out = wg_wasi_output(w, 1, &len);
  CHECK(len == 10 && !memcmp(out, "stdin: 3 b", 10));
  wg_wasi_output_clear(w, 1);
  wg_wasi_output(w, 1, &len);
  CHECK(len == 0);
  wg_wasi_delete(w);
}

TEST(exit_code) {
  const char *argv[] = {"misc", "exit", "5"};
  wg_wasi_config cfg = {.argc = 3, .argv = argv, .capture_output = true};
  char err[128];
  wg_wasi *w = wg_wasi_new(&cfg, err, sizeof err);
  REQUIRE(w != NULL);
  int status;
  wg_trap *t = run(w, &status);
  CHECK(t == NULL && status == 5);
  int code = 0;
  CHECK(wg_wasi_exited(w, &code) && code == 5);
  size_t len;
  const uint8_t *out = wg_wasi_output(w, 1, &len);
  CHECK(len == 15 && !memcmp(out, "exiting with 5\n", 15));
  wg_wasi_delete(w);
}

TEST(bad_preopen) {
  wg_wasi_preopen p = {"/nonexistent-wasmgate-dir", "/x"};
  wg_wasi_config cfg = {.npreopens = 1, .preopens = &p};
  char err[128] = "";
  CHECK(wg_wasi_new(&cfg, err, sizeof err) == NULL);
  CHECK(strstr(err, "cannot open preopen /nonexistent-wasmgate-dir") != NULL);
}

TEST(unknown_wasi_import) {
  /* (module (import "wasi_snapshot_preview1" "nope" (func))) */
  static const uint8_t mod[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, 0x1f, 1, 22,
                                'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_',
                                'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 4, 'n', 'o', 'p', 'e', 0, 0};
  wg_module *m = wg_module_new(mod, sizeof mod, NULL);
  REQUIRE(m != NULL);
  wg_wasi_config cfg = {0};
  char err[128] = "";
  wg_wasi *w = wg_wasi_new(&cfg, err, sizeof err);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_extern imports[1] = {0};
  CHECK(!wg_wasi_link(w, s, m, imports, err, sizeof err));
  CHECK(strstr(err, "unknown import wasi_snapshot_preview1.nope") != NULL);
  wg_store_delete(s);
  wg_wasi_delete(w);
  wg_module_delete(m);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  bytes = malloc(1 << 20);
  nbytes = fread(bytes, 1, 1 << 20, f);
  fclose(f);
  RUN(stdin_buffer_and_captured_stdout);
  RUN(capture_max_and_clear);
  RUN(exit_code);
  RUN(bad_preopen);
  RUN(unknown_wasi_import);
  free(bytes);
  return test_summary();
}
