/*
 * test_reset.c: wg_instance_reset (wasmgate.h, engine/src/reset.c). An instance whose guest
 * changed everything instantiation makes (memory written and grown, a global, a table grown and
 * overwritten, passive data and element segments dropped) reads exactly as a new instance after a
 * reset: after a call that returned, one that trapped midway, and one parked at a host call and
 * abandoned; with its memory made from a copy-on-write image, from the heap-copy image, and as an
 * ordinary memory; and on both tiers (WASMGATE_TIER). The store is uncharged for the growth. A
 * module that imports a memory is refused with the reason. Grown memories read zero past the
 * initial size after a reset, whichever way (memset or madvise) the last growth was zeroed.
 * usage: test_reset FIXTURES_DIR   (BUILD/tests/fixtures/valid)
 */
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "wasmgate.h"

static const char *dir;

static wg_module *module(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  wg_module *m = NULL;
  if (b && fread(b, 1, (size_t)n, f) == (size_t)n) m = wg_module_new(b, (size_t)n, NULL);
  free(b);
  fclose(f);
  return m;
}

static wg_trap *park(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return wg_trap_new(WG_TRAP_SUSPENDED, NULL);
}

typedef struct inst {
  wg_store *s;
  wg_instance *i;
} inst;

static inst make(wg_module *m, wg_memimage *img) {
  inst r = {wg_store_new(NULL, NULL), NULL};
  if (!r.s) return r;
  wg_store_set_memimage(r.s, img);
  wg_extern imp = {.kind = WG_EXTERN_FUNC,
                   .of.func = wg_func_new_host(r.s, &(wg_functype_desc){0, 0, NULL, NULL}, park, NULL, NULL)};
  r.i = wg_instance_new(r.s, m, &imp, 1, NULL, NULL);
  return r;
}

/* Calls export name (no argument or one i32); its i32 result, 0 when it has none, -1000 on a trap. */
static int32_t call(inst *x, const char *name, int nargs, int32_t a) {
  wg_extern ex;
  if (!wg_instance_export(x->i, name, strlen(name), &ex)) return -2000;
  wg_functype_desc t = wg_func_type(ex.of.func);
  wg_val args[1] = {{.kind = WG_I32, .of.i32 = a}};
  wg_val res[1] = {{.kind = WG_I32}};
  wg_trap *trap = wg_func_call(x->s, ex.of.func, args, (size_t)nargs, res, t.nresults);
  if (trap) {
    wg_trap_delete(trap);
    return -1000;
  }
  return t.nresults ? res[0].of.i32 : 0;
}

/* The instance reads as wg_instance_new leaves it. */
static void pristine(inst *x) {
  CHECK(call(x, "g", 0, 0) == 7);
  CHECK(call(x, "starts", 0, 0) == 1); /* the start function ran once since the reset */
  CHECK(call(x, "load", 1, 16) == 'h' && call(x, "load", 1, 70000) == 0);
  CHECK(call(x, "pages", 0, 0) == 2);
  CHECK(call(x, "load", 1, 200000) == -1000); /* past the initial size again */
  CHECK(call(x, "tsize", 0, 0) == 2);
  CHECK(call(x, "slot", 1, 0) == 1 && call(x, "slot", 1, 1) == 2);
  CHECK(call(x, "slot", 1, 3) == -1000);
}

static void cycle(wg_module *m, wg_memimage *img) {
  inst x = make(m, img);
  REQUIRE(x.i);
  uint64_t bytes0 = wg_store_bytes(x.s);
  const char *how[] = {"mutate", "mutate_trap", "mutate_park"};
  for (int round = 0; round < 9; round++) {
    pristine(&x);
    /* passive segments usable again (they were dropped in the last round) */
    CHECK(call(&x, "init_passive", 0, 0) == 'p');
    CHECK(call(&x, "tinit_passive", 0, 0) == 2);
    CHECK(wg_store_bytes(x.s) == bytes0);
    int32_t r = call(&x, how[round % 3], 0, 0);
    CHECK(r == (round % 3 == 0 ? 0 : -1000));
    if (round % 3 == 2) CHECK(wg_store_suspended(x.s)); /* parked; never resumed */
    CHECK(call(&x, "g", 0, 0) == (round % 3 == 2 ? -1000 : 99)); /* a suspended store runs nothing */
    wg_error *err = NULL;
    wg_trap *trap = NULL;
    CHECK(wg_instance_reset(x.i, &err, &trap));
    CHECK(!err && !trap);
    wg_error_delete(err);
    wg_trap_delete(trap);
    CHECK(!wg_store_suspended(x.s));
  }
  pristine(&x);
  wg_store_delete(x.s);
}

/* Every byte of [from, to) of the instance's memory is zero. */
static bool zero_between(inst *x, uint64_t from, uint64_t to) {
  const uint8_t *p = wg_memory_data(wg_instance_memory(x->i));
  for (uint64_t k = from; k < to; k++)
    if (p[k]) return false;
  return true;
}

/* Grows by `pages` and writes every 512th byte of the new pages. */
static void grow_and_write(inst *x, uint32_t pages) {
  wg_memory *mem = wg_instance_memory(x->i);
  uint64_t old = wg_memory_size(mem);
  bool grew = wg_memory_grow(mem, pages) == (int64_t)(old / 65536);
  CHECK(grew);
  if (!grew) return;
  uint8_t *p = wg_memory_data(mem);
  for (uint64_t k = old; k < wg_memory_size(mem); k += 512) p[k] = 0xab;
}

/* A reset zeroes only what the memory grew to since the last reset (the pages past that were
 * zeroed by an earlier reset and the guest could not reach them since): growth by a lot (zeroed
 * by madvise), by a little (memset, kept resident), by a lot again: every grown byte reads zero,
 * whichever zeroing ran before, and the store is uncharged. */
static void grow_cycle(wg_module *m, wg_memimage *img) {
  inst x = make(m, img);
  REQUIRE(x.i);
  uint64_t bytes0 = wg_store_bytes(x.s);
  const uint32_t grows[] = {14, 1, 3, 14, 2, 14}; /* the memory: 2 pages, at most 16 */
  for (size_t r = 0; r < sizeof grows / sizeof grows[0]; r++) {
    grow_and_write(&x, grows[r]);
    CHECK(wg_instance_reset(x.i, NULL, NULL));
    CHECK(wg_store_bytes(x.s) == bytes0);
    pristine(&x);
    wg_memory *mem = wg_instance_memory(x.i);
    bool grew = wg_memory_grow(mem, 14) == 2;
    CHECK(grew);
    CHECK(grew && zero_between(&x, 2 * 65536, 16 * 65536));
    CHECK(wg_instance_reset(x.i, NULL, NULL));
  }
  pristine(&x);
  wg_store_delete(x.s);
}

TEST(reset_grown_ranges) {
  wg_module *m = module("reset.wasm");
  REQUIRE(m);
  wg_memimage *cow = wg_memimage_new(m, 0, NULL), *copy = wg_memimage_new(m, WG_MEMIMAGE_NO_COW, NULL);
  REQUIRE(cow && copy);
  grow_cycle(m, NULL);
  grow_cycle(m, cow);
  grow_cycle(m, copy);
  wg_memimage_delete(cow);
  wg_memimage_delete(copy);
  wg_module_delete(m);
}

TEST(reset_cow_image) {
  wg_module *m = module("reset.wasm");
  REQUIRE(m);
  wg_memimage *img = wg_memimage_new(m, 0, NULL);
  REQUIRE(img);
  cycle(m, img);
  wg_memimage_delete(img);
  wg_module_delete(m);
}

TEST(reset_heap_copy_image) {
  wg_module *m = module("reset.wasm");
  REQUIRE(m);
  wg_memimage *img = wg_memimage_new(m, WG_MEMIMAGE_NO_COW, NULL);
  REQUIRE(img);
  cycle(m, img);
  wg_memimage_delete(img);
  wg_module_delete(m);
}

TEST(reset_ordinary_memory) {
  wg_module *m = module("reset.wasm");
  REQUIRE(m);
  cycle(m, NULL);
  wg_module_delete(m);
}

TEST(reset_refused) {
  wg_module *m = module("memimage_import.wasm");
  REQUIRE(m);
  const char *why = NULL;
  CHECK(!wg_module_can_reset(m, &why));
  CHECK(why && strstr(why, "imports a memory"));
  wg_store *s = wg_store_new(NULL, NULL);
  wg_memory *mem = wg_memory_new(s, 1, false, 0);
  wg_extern imp = {.kind = WG_EXTERN_MEMORY, .of.memory = mem};
  wg_instance *i = wg_instance_new(s, m, &imp, 1, NULL, NULL);
  if (i) { /* links when its one import is a memory */
    wg_error *err = NULL;
    CHECK(!wg_instance_reset(i, &err, NULL));
    CHECK(err && strstr(wg_error_message(err), "instance reset: the module imports a memory"));
    wg_error_delete(err);
  }
  wg_store_delete(s);
  wg_module_delete(m);
  wg_module *ok = module("reset.wasm");
  REQUIRE(ok);
  CHECK(wg_module_can_reset(ok, &why) && why == NULL);
  wg_module_delete(ok);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_reset FIXTURES_DIR\n");
    return 2;
  }
  dir = argv[1];
  RUN(reset_cow_image);
  RUN(reset_heap_copy_image);
  RUN(reset_ordinary_memory);
  RUN(reset_refused);
  RUN(reset_grown_ranges);
  return test_summary();
}
