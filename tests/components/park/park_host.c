/*
 * park_host.c: host calls that park a component guest and resume it
 * (wasmgate_component.h "parking"), against park.c + park.wit built by
 * run_park.sh with clang-19, `jco embed` and `jco new --wasi-reactor`.
 *
 *   park_host PARK.component.wasm
 *
 * Every host function parks (WG_TRAP_SUSPENDED) and is answered later with
 * wg_component_func_resume: an own handle lowered into the guest's table, a
 * string through the guest's realloc (a nested call at resume), a borrowed
 * handle lent while parked, a function without results. Checks the final
 * result (lifted, post-return run) against a run whose host answers at once,
 * calls refused while parked, resume errors that keep the call parked, a host
 * result of the wrong type, abandoning a parked call (the instance can be
 * entered again), and deleting a store with a call parked (ASan: no leak).
 * Exit 0 when all pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasmgate_component.h"

static int fails;
#define CHECK(c, ...)                             \
  do {                                            \
    if (!(c)) {                                   \
      fails++;                                    \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                        \
      printf("\n");                               \
    }                                             \
  } while (0)

static const wg_component_resource_type *blob_type;
static bool parking;       /* host functions park instead of answering */
static char last[64];      /* the last host call: "open:NAME", "fetch:KEY", "read:REP", "tick" */
static int drops, parks;

static void note(const char *what, const wg_cval *s) {
  int n = s ? (int)(s->of.str.len < 40 ? s->of.str.len : 40) : 0;
  snprintf(last, sizeof last, "%s%.*s", what, n, s ? s->of.str.ptr : "");
}

static wg_trap *answer(wg_cval *r, size_t nr, wg_cval v) {
  if (parking) {
    parks++;
    wg_cval_free(&v);
    return wg_trap_new(WG_TRAP_SUSPENDED, NULL);
  }
  if (nr) *r = v;
  return NULL;
}

static wg_cval str(const char *s) {
  wg_cval v;
  wg_cval_string(&v, s, strlen(s));
  return v;
}

/* The answers a test host gives (the same whether parked or not). */
static wg_cval own_blob(uint32_t rep) { return (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, blob_type}}; }

static wg_trap *h_open(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na;
  note("open:", &a[0]);
  return answer(r, nr, own_blob(41));
}
static wg_trap *h_fetch(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na;
  note("fetch:", &a[0]);
  char v[16];
  snprintf(v, sizeof v, "F%c;", a[0].of.str.ptr[1]);
  return answer(r, nr, str(v));
}
static wg_trap *h_read(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na;
  snprintf(last, sizeof last, "read:%u", a[0].of.handle.rep);
  char v[16];
  snprintf(v, sizeof v, "B%u;", a[0].of.handle.rep);
  return answer(r, nr, str(v));
}
static wg_trap *h_tick(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na;
  snprintf(last, sizeof last, "tick");
  return answer(r, nr, (wg_cval){0});
}
static void blob_dtor(void *env, uint32_t rep) {
  (void)env;
  if (rep == 41) drops++;
}

/* The answer to the parked host call named by `last`. */
static size_t answer_last(wg_cval *v) {
  if (!strncmp(last, "open:", 5)) *v = own_blob(41);
  else if (!strncmp(last, "fetch:", 6)) {
    char s[16];
    snprintf(s, sizeof s, "F%c;", last[7]);
    *v = str(s);
  } else if (!strncmp(last, "read:", 5)) {
    char s[80];
    snprintf(s, sizeof s, "B%s;", last + 5);
    *v = str(s);
  } else return 0; /* tick */
  return 1;
}

static wg_trap *call_run(wg_component_func *run, const char *name, uint32_t n, wg_cval *res) {
  wg_cval args[2] = {str(name), {.kind = WG_CVAL_U32, .of.u = n}};
  wg_trap *t = wg_component_func_call(run, args, 2, res, 1);
  wg_cval_free(&args[0]);
  return t;
}

/* Answers every park until the call ends; returns its trap (NULL: done) and counts the parks. */
static wg_trap *drive(wg_component_func *run, wg_trap *t, wg_cval *res, int *n) {
  while (t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED) {
    wg_trap_delete(t);
    (*n)++;
    CHECK(wg_component_func_suspended(run), "not suspended after a park");
    wg_cval v = {0};
    size_t k = answer_last(&v);
    t = wg_component_func_resume(run, &v, k, res, 1);
  }
  return t;
}

static bool is_str(const wg_cval *v, const char *s) {
  return v->kind == WG_CVAL_STRING && v->of.str.len == strlen(s) && !memcmp(v->of.str.ptr, s, v->of.str.len);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FILE *fp = fopen(argv[1], "rb");
  if (!fp) return 2;
  static uint8_t buf[4 << 20];
  size_t len = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  wg_component *c = wg_component_new(buf, len, &err);
  if (!c) {
    printf("FAIL load: %s\n", wg_error_message(err));
    return 1;
  }
  const char *I = "wasmgate:test/host";
  wg_component_linker *l = wg_component_linker_new();
  CHECK(wg_component_linker_define_resource(l, I, "blob", blob_dtor, NULL, &blob_type, &err), "blob");
  CHECK(wg_component_linker_define_func(l, I, "open", h_open, NULL, NULL, &err), "open");
  CHECK(wg_component_linker_define_func(l, I, "fetch", h_fetch, NULL, NULL, &err), "fetch");
  CHECK(wg_component_linker_define_func(l, I, "tick", h_tick, NULL, NULL, &err), "tick");
  CHECK(wg_component_linker_define_func(l, I, "[method]blob.read", h_read, NULL, NULL, &err), "read");
  wg_component_linker_allow_unknown_imports(l, true);

  wg_store *s = wg_store_new(NULL, NULL);
  wg_component_instance *inst = wg_component_linker_instantiate(l, s, c, &err, &trap);
  if (!inst) {
    printf("FAIL instantiate: %s\n", err ? wg_error_message(err) : trap ? wg_trap_message(trap) : "?");
    return 1;
  }
  wg_component_func *run = wg_component_instance_func(inst, NULL, "run");
  if (!run) return printf("FAIL no run export\n"), 1;
  const char *want = "F0;B41;F1;B41;F2;B41;";
  wg_cval res = {0};

  /* 1. answered at once: the reference */
  trap = call_run(run, "b1", 3, &res);
  CHECK(!trap && is_str(&res, want), "direct run: %s", trap ? wg_trap_message(trap) : "wrong result");
  CHECK(drops == 1, "blob dropped %d times", drops);
  wg_trap_delete(trap);
  wg_cval_free(&res);

  /* 2. every host call parks: 1 open + 3 x (fetch, read, tick) = 10 parks, same result */
  parking = true;
  int n = 0;
  trap = call_run(run, "b1", 3, &res);
  CHECK(trap && wg_trap_code_of(trap) == WG_TRAP_SUSPENDED && !strcmp(last, "open:b1"), "first park: %s",
        trap ? wg_trap_message(trap) : "none");
  /* while parked: another call is refused; resume errors leave it parked */
  wg_cval res2 = {0};
  wg_trap *t2 = call_run(run, "x", 1, &res2);
  CHECK(t2 && strstr(wg_trap_message(t2), "suspended call"), "call while parked: %s", t2 ? wg_trap_message(t2) : "ran");
  wg_trap_delete(t2);
  t2 = wg_component_func_resume(run, NULL, 0, &res, 1);
  CHECK(t2 && strstr(wg_trap_message(t2), "wrong number of results"), "resume count: %s",
        t2 ? wg_trap_message(t2) : "ran");
  wg_trap_delete(t2);
  CHECK(wg_component_func_suspended(run), "a failed resume unparked the call");
  trap = drive(run, trap, &res, &n);
  CHECK(!trap && is_str(&res, want) && n == 10, "parked run: %s, %d parks",
        trap ? wg_trap_message(trap) : res.kind == WG_CVAL_STRING ? "wrong result" : "no string", n);
  CHECK(drops == 2 && !wg_component_func_suspended(run), "after parked run: %d drops", drops);
  wg_trap_delete(trap);
  wg_cval_free(&res);
  t2 = wg_component_func_resume(run, NULL, 0, &res, 1);
  CHECK(t2 && strstr(wg_trap_message(t2), "nothing to resume"), "resume when done");
  wg_trap_delete(t2);

  /* timing (printed, not asserted): a run of 200 rounds (601 host calls) answered at once and
   * parked at every call; the difference per call is what a park and its resume cost */
  {
    struct timespec c0, c1, c2;
    int reps = 20, np = 0;
    parking = false;
    clock_gettime(CLOCK_MONOTONIC, &c0);
    for (int k = 0; k < reps; k++) {
      wg_trap_delete(call_run(run, "t", 200, &res));
      wg_cval_free(&res);
    }
    clock_gettime(CLOCK_MONOTONIC, &c1);
    parking = true;
    for (int k = 0; k < reps; k++) {
      wg_trap_delete(drive(run, call_run(run, "t", 200, &res), &res, &np));
      wg_cval_free(&res);
    }
    clock_gettime(CLOCK_MONOTONIC, &c2);
    double d = (c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec);
    double q = (c2.tv_sec - c1.tv_sec) * 1e9 + (c2.tv_nsec - c1.tv_nsec);
    printf("park_host: %d host calls: %.0f ns each answered at once, %.0f ns parked and resumed\n", np,
           d / np, q / np);
  }

  /* 3. a host result of the wrong type traps the guest; the instance works afterwards */
  trap = call_run(run, "b2", 1, &res);
  wg_trap_delete(trap);
  wg_cval bad = {.kind = WG_CVAL_U32, .of.u = 7};
  trap = wg_component_func_resume(run, &bad, 1, &res, 1); /* open wants own<blob> */
  CHECK(trap && strstr(wg_trap_message(trap), "type mismatch") && !wg_component_func_suspended(run),
        "wrong type: %s", trap ? wg_trap_message(trap) : "accepted");
  wg_trap_delete(trap);
  n = 0;
  trap = drive(run, call_run(run, "b3", 2, &res), &res, &n);
  CHECK(!trap && is_str(&res, "F0;B41;F1;B41;") && n == 7, "run after a type trap: %s",
        trap ? wg_trap_message(trap) : "wrong result");
  wg_trap_delete(trap);
  wg_cval_free(&res);

  /* 4. abandoned while a borrowed handle is lent to the host (at blob.read) */
  trap = call_run(run, "b4", 2, &res);
  for (int i = 0; i < 5 && trap && wg_trap_code_of(trap) == WG_TRAP_SUSPENDED && strncmp(last, "read:", 5); i++) {
    wg_trap_delete(trap);
    wg_cval v = {0};
    size_t k = answer_last(&v);
    trap = wg_component_func_resume(run, &v, k, &res, 1);
  }
  CHECK(trap && !strcmp(last, "read:41") && wg_component_func_suspended(run), "parked at read: %s", last);
  wg_trap_delete(trap);
  wg_component_func_abandon(run);
  CHECK(!wg_component_func_suspended(run), "still parked after abandon");
  wg_component_func_abandon(run); /* no-op */
  n = 0;
  trap = drive(run, call_run(run, "b5", 1, &res), &res, &n);
  CHECK(!trap && is_str(&res, "F0;B41;") && n == 4, "run after abandon: %s",
        trap ? wg_trap_message(trap) : "wrong result");
  wg_trap_delete(trap);
  wg_cval_free(&res);

  /* 5. the store deleted with a call parked at blob.read (handles lent, a string arg given) */
  trap = call_run(run, "b6", 1, &res);
  for (int i = 0; i < 5 && trap && strncmp(last, "read:", 5); i++) {
    wg_trap_delete(trap);
    wg_cval v = {0};
    size_t k = answer_last(&v);
    trap = wg_component_func_resume(run, &v, k, &res, 1);
  }
  CHECK(trap && !strcmp(last, "read:41"), "parked at read before delete: %s", last);
  wg_trap_delete(trap);
  wg_store_delete(s);

  /* 6. a host function called straight from the host cannot park */
  wg_store *s3 = wg_store_new(NULL, NULL);
  wg_component_instance *i3 = wg_component_linker_instantiate(l, s3, c, &err, &trap);
  CHECK(i3 != NULL, "second instance");
  wg_store_delete(s3);

  wg_component_linker_delete(l);
  wg_component_delete(c);
  printf("park_host: %d parks answered; %s\n", parks, fails ? "FAILED" : "all checks passed");
  return fails ? 1 : 0;
}
