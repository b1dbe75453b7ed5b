/*
 * test_wasi.c: the WASI context's embedding API (wgwasi.h) on real guests
 * (wasi_misc.wasm, wasi_strict.wasm next to it): stdin from a buffer or a
 * host descriptor, stdout captured in memory, exit codes through proc_exit,
 * link errors for unknown WASI imports, the strict sandbox's shared wall
 * clock, and Go's math/rand (wg_gorand) against Go's published outputs.
 * usage: test_wasi PATH/wasi_misc.wasm
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "wasmgate.h"
#include "wgwasi.h"

static unsigned char *bytes, *misc_bytes, *strict_bytes;
static size_t nbytes, misc_nbytes, strict_nbytes;

static unsigned char *load(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *b = malloc(1 << 20);
  *n = b ? fread(b, 1, 1 << 20, f) : 0;
  fclose(f);
  return b;
}

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

TEST(stdin_from_a_host_descriptor) {
  char path[] = "/tmp/wg_test_wasi_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  unlink(path);
  REQUIRE(write(fd, "abc", 3) == 3 && lseek(fd, 0, SEEK_SET) == 0);
  const char *argv[] = {"misc", "stdin"};
  wg_wasi_config cfg = {.argc = 2, .argv = argv, .stdin_fd = fd, .use_stdin_fd = true, .capture_output = true};
  char err[128];
  wg_wasi *w = wg_wasi_new(&cfg, err, sizeof err);
  REQUIRE(w != NULL);
  int status;
  wg_trap *t = run(w, &status);
  CHECK(t == NULL && status == 0);
  wg_trap_delete(t);
  size_t len = 0;
  const uint8_t *out = wg_wasi_output(w, 1, &len);
  CHECK(len == strlen("stdin: 3 bytes, hash 00017862\n") && !memcmp(out, "stdin: 3 bytes, hash 00017862\n", len));
  wg_wasi_delete(w);
  CHECK(fcntl(fd, F_GETFD) >= 0); /* the caller's descriptor stays open */
  close(fd);
  cfg.stdin_fd = 12345; /* not open */
  CHECK(wg_wasi_new(&cfg, err, sizeof err) == NULL && strstr(err, "cannot use stdin descriptor 12345"));
}

/* Go's math/rand: the values below are Go's own, as published: its rngCooked
 * table starts -4181792142133755926, -4576982950128230565; the default
 * source (seed 1) gives rand.Int() = 5577006791947779410, 8674665223082153551,
 * 6129484611666145821, 4037200794235010051, 3916589616287113937 (every Go
 * before 1.20 printed these without a Seed); and
 * rand.New(rand.NewSource(42)).Int63() is 3440579354231278675 first. */
TEST(gorand_matches_go) {
  const uint64_t *cooked = wg_gorand_cooked();
  CHECK((int64_t)cooked[0] == -4181792142133755926LL && (int64_t)cooked[1] == -4576982950128230565LL);
  wg_gorand *r = wg_gorand_new(1);
  REQUIRE(r != NULL);
  static const int64_t seed1[5] = {5577006791947779410LL, 8674665223082153551LL, 6129484611666145821LL,
                                   4037200794235010051LL, 3916589616287113937LL};
  for (int i = 0; i < 5; i++) CHECK(wg_gorand_int63(r) == seed1[i]);
  wg_gorand_seed(r, 42);
  int64_t first = wg_gorand_int63(r);
  CHECK(first == 3440579354231278675LL);
  /* Read: 7 bytes per Int63, least significant first, leftovers carried. */
  uint8_t a[21], b[21];
  wg_gorand_seed(r, 42);
  wg_gorand_read(r, a, 21);
  for (int i = 0; i < 7; i++) CHECK(a[i] == (uint8_t)((uint64_t)first >> (8 * i)));
  wg_gorand_seed(r, 42);
  wg_gorand_read(r, b, 5);
  wg_gorand_read(r, b + 5, 0);
  wg_gorand_read(r, b + 5, 9);
  wg_gorand_read(r, b + 14, 7);
  CHECK(!memcmp(a, b, 21));
  /* Seeds are taken modulo 2^31-1, and 0 stands for 89482311. */
  wg_gorand_seed(r, 0);
  int64_t z = wg_gorand_int63(r);
  wg_gorand_seed(r, 89482311);
  CHECK(wg_gorand_int63(r) == z);
  wg_gorand_seed(r, -1);
  z = wg_gorand_int63(r);
  wg_gorand_seed(r, 2147483646);
  CHECK(wg_gorand_int63(r) == z);
  wg_gorand_delete(r);
}

/* Runs wasi_strict.wasm on context w; its first output line. */
static void strict_line(wg_wasi *w, char *line, size_t n) {
  unsigned char *keep = bytes;
  size_t keepn = nbytes;
  bytes = strict_bytes, nbytes = strict_nbytes;
  int status;
  wg_trap_delete(run(w, &status));
  bytes = keep, nbytes = keepn;
  size_t len = 0;
  const uint8_t *out = wg_wasi_output(w, 1, &len);
  const uint8_t *nl = memchr(out, '\n', len);
  snprintf(line, n, "%.*s", nl ? (int)(nl - out) : (int)len, (const char *)out);
}

TEST(strict_shared_walltime) {
  REQUIRE(strict_bytes != NULL);
  wg_wasi_walltime *clock = wg_wasi_walltime_new_at(5000000000ull);
  REQUIRE(clock != NULL);
  const char *argv[] = {"strict"};
  wg_wasi_config cfg = {.argc = 1, .argv = argv, .capture_output = true, .strict = true, .strict_walltime = clock};
  char err[128], line[128];
  wg_wasi *w1 = wg_wasi_new(&cfg, err, sizeof err), *w2 = wg_wasi_new(&cfg, err, sizeof err);
  REQUIRE(w1 && w2);
  strict_line(w1, line, sizeof line); /* reads the wall clock 4 times: 5.001 .. 5.004 */
  CHECK_STR(line, "realtime: whole second + 1000000 ns, then +1000000, +1000000");
  strict_line(w2, line, sizeof line); /* the same clock goes on */
  CHECK_STR(line, "realtime: whole second + 5000000 ns, then +1000000, +1000000");
  CHECK(wg_wasi_walltime_read(clock) == 5009000000ull);
  wg_wasi_delete(w1);
  wg_wasi_delete(w2);
  /* Without one, each context has its own, from the current whole second. */
  cfg.strict_walltime = NULL;
  wg_wasi *w3 = wg_wasi_new(&cfg, err, sizeof err);
  REQUIRE(w3 != NULL);
  strict_line(w3, line, sizeof line);
  CHECK_STR(line, "realtime: whole second + 1000000 ns, then +1000000, +1000000");
  wg_wasi_delete(w3);
  wg_wasi_walltime_delete(clock);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  if (!(misc_bytes = load(argv[1], &misc_nbytes))) return 2;
  bytes = misc_bytes, nbytes = misc_nbytes;
  char strict_path[1024];
  const char *slash = strrchr(argv[1], '/');
  snprintf(strict_path, sizeof strict_path, "%.*swasi_strict.wasm", slash ? (int)(slash - argv[1] + 1) : 0, argv[1]);
  strict_bytes = load(strict_path, &strict_nbytes);
  RUN(stdin_buffer_and_captured_stdout);
  RUN(capture_max_and_clear);
  RUN(exit_code);
  RUN(bad_preopen);
  RUN(unknown_wasi_import);
  RUN(stdin_from_a_host_descriptor);
  RUN(gorand_matches_go);
  RUN(strict_shared_walltime);
  free(misc_bytes);
  free(strict_bytes);
  return test_summary();
}
