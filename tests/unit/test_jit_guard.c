/*
 * test_jit_guard.c: the compiled tier's bounds checks by guard pages
 * (engine/src/jit_guard.c, jit.h wg_jit_guard_pages) on
 * tests/fixtures/valid/jit.wat's t_mem (stores and loads at the end of
 * memory, partly past it, after memory.grow, and with an offset beyond the
 * guard that keeps its explicit check):
 *  - the mode is the one the environment asks for: guard pages by default
 *    (x86-64 Linux without ASan), explicit checks with
 *    WASMGATE_JIT_BOUNDS=explicit or under a low RLIMIT_AS, forced with
 *    =guard also under ASan (CTest runs this file these ways), and a
 *    compiled store's memory is reserved to match;
 *  - out-of-bounds accesses trap with the interpreter's message and
 *    backtrace, and a store partly past the end writes nothing;
 *  - traps on several threads at once all arrive as traps;
 *  - a fault outside compiled code still reaches the SIGSEGV handler that
 *    was installed before ours (a forked child shows it).
 * usage: test_jit_guard PATH/jit.wasm
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit.h"
#include "runtime.h"
#include "test.h"
#include "wasmgate.h"

static wg_module *module;
static unsigned char bytes[1 << 16];

static wg_trap *host_twice(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller;
  results[0].of.i32 = args[0].of.i32 * 2;
  return NULL;
}

static wg_store *open_store(uint32_t tier, wg_instance **inst) {
  wg_store_config cfg = {.tier = tier};
  wg_store *s = wg_store_new(NULL, &cfg);
  if (!s) return NULL;
  static const wg_valtype i[] = {WG_I32};
  wg_functype_desc ft = {1, 1, i, i};
  wg_extern imp = {WG_EXTERN_FUNC, {.func = wg_func_new_host(s, &ft, host_twice, NULL, NULL)}};
  *inst = wg_instance_new(s, module, &imp, 1, NULL, NULL);
  return s;
}

/* t_mem(n) on a fresh store of tier: "result N" or "trap MESSAGE\nBACKTRACE". */
static void t_mem(uint32_t tier, int32_t n, char *out, size_t cap, uint8_t *tail) {
  wg_instance *inst = NULL;
  wg_store *s = open_store(tier, &inst);
  if (!s || !inst) {
    snprintf(out, cap, "no instance");
    wg_store_delete(s);
    return;
  }
  wg_extern ex;
  wg_instance_export(inst, "t_mem", 5, &ex);
  wg_val a = {.kind = WG_I32, .of.i32 = n}, r = {.kind = WG_I64};
  wg_trap *trap = wg_func_call(s, ex.of.func, &a, 1, &r, 1);
  if (trap) snprintf(out, cap, "trap %s\n%s", wg_trap_message(trap), wg_trap_backtrace(trap));
  else snprintf(out, cap, "result %lld", (long long)r.of.i64);
  wg_trap_delete(trap);
  if (tail) { /* the memory's last 8 bytes */
    wg_memory *m = inst->mems[0];
    memcpy(tail, m->data + m->size - 8, 8);
  }
  wg_store_delete(s);
}

static bool want_guard(void) {
#if defined(__x86_64__) && defined(__linux__)
  const char *e = getenv("WASMGATE_JIT_BOUNDS");
  if (e && !strcmp(e, "explicit")) return false;
#if defined(__SANITIZE_ADDRESS__)
  if (!e || strcmp(e, "guard")) return false; /* only when forced under ASan */
#endif
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < ((rlim_t)64 << 30)) return false;
  return true;
#else
  return false;
#endif
}

TEST(mode_and_reservation) {
  CHECK(wg_jit_guard_pages() == want_guard());
  wg_instance *ij = NULL, *ii = NULL;
  wg_store *sj = open_store(WG_TIER_JIT, &ij), *si = open_store(WG_TIER_INTERP, &ii);
  REQUIRE(ij && ii);
  CHECK((ij->mems[0]->reserved == WG_JIT_GUARD_RESERVE) == want_guard());
  CHECK(ii->mems[0]->reserved < WG_JIT_GUARD_RESERVE); /* the interpreter never needs the guard */
  wg_store_delete(sj);
  wg_store_delete(si);
}

/* n: t_mem's distance from the end of memory; 1..7 make its first i64.store
 * partly out of bounds, 0 wholly. Fresh stores recycle reservations whose
 * pages past the new size were read-write: they must fault again. */
TEST(traps_match_interpreter_and_write_nothing) {
  static const int32_t ns[] = {0, 1, 4, 7, 8, 9, 16, 65535, 65536, 65537, -1, 0, 4};
  for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
    char a[2048], b[2048];
    uint8_t ta[8], tb[8];
    t_mem(WG_TIER_INTERP, ns[k], a, sizeof a, ta);
    t_mem(WG_TIER_JIT, ns[k], b, sizeof b, tb);
    if (strcmp(a, b)) fprintf(stderr, "t_mem(%d): interpreter '%s', jit '%s'\n", ns[k], a, b);
    CHECK(!strcmp(a, b));
    CHECK(!memcmp(ta, tb, 8));
    if (ns[k] >= 1 && ns[k] <= 7) CHECK(!strncmp(b, "trap out of bounds memory access", 32));
  }
}

static const char *expected;
static void *trap_loop(void *arg) {
  (void)arg;
  intptr_t bad = 0;
  for (int i = 0; i < 150; i++) {
    char b[2048];
    t_mem(WG_TIER_JIT, 4, b, sizeof b, NULL);
    if (strcmp(b, expected)) bad++;
  }
  return (void *)bad;
}

TEST(traps_on_many_threads) {
  static char want[2048];
  t_mem(WG_TIER_INTERP, 4, want, sizeof want, NULL);
  expected = want;
  pthread_t th[4];
  for (int i = 0; i < 4; i++) REQUIRE(pthread_create(&th[i], NULL, trap_loop, NULL) == 0);
  intptr_t bad = 0;
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    bad += (intptr_t)r;
  }
  CHECK(bad == 0);
}

/* Installed by main before the compiled tier's handler. */
static void earlier_handler(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)info, (void)uc;
  _exit(42);
}

TEST(other_faults_reach_the_earlier_handler) {
  (void)wg_jit_guard_pages(); /* ours is installed now (when on) */
  fflush(NULL);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    volatile uint8_t *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1; /* not compiled code: the earlier handler exits 42 */
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_jit_guard jit.wasm\n"), 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = earlier_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  size_t n = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  wg_error *err = NULL;
  module = wg_module_new(bytes, n, &err);
  if (!module) return fprintf(stderr, "%s\n", wg_error_message(err)), 1;
  RUN(mode_and_reservation);
  RUN(traps_match_interpreter_and_write_nothing);
  RUN(traps_on_many_threads);
  RUN(other_faults_reach_the_earlier_handler);
  wg_module_delete(module);
  return test_summary();
}
