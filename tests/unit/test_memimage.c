/*
 * test_memimage.c: copy-on-write images of the initial memory (wasmgate.h wg_memimage_new,
 * engine/src/memimage.c): an instance made from an image sees its data segments in place; its
 * writes and growth are its own and are gone for the next instance (the released mapping is
 * reset and reused); two live instances do not see each other's writes; active segments count as
 * dropped after instantiation (memory.init traps), passive ones still work; the store's
 * max_bytes accounting and page cap are those of an ordinary memory; the heap-copy fallback
 * behaves the same; modules that cannot have an image are refused with a reason.
 * usage: test_memimage FIXTURES_DIR   (BUILD/tests/fixtures/valid)
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
  if (b && fread(b, 1, (size_t)n, f) == (size_t)n) {
    wg_error *err = NULL;
    m = wg_module_new(b, (size_t)n, &err);
    if (!m) fprintf(stderr, "%s: %s\n", name, wg_error_message(err));
    wg_error_delete(err);
  }
  free(b);
  fclose(f);
  return m;
}

typedef struct inst {
  wg_store *s;
  wg_instance *i;
} inst;

static inst make(wg_module *m, wg_memimage *img, uint32_t max_pages) {
  inst r = {wg_store_new(NULL, &(wg_store_config){.max_memory_pages = max_pages}), NULL};
  if (!r.s) return r;
  wg_store_set_memimage(r.s, img);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  r.i = wg_instance_new(r.s, m, NULL, 0, &err, &trap);
  if (err) fprintf(stderr, "instantiate: %s\n", wg_error_message(err));
  wg_error_delete(err);
  wg_trap_delete(trap);
  return r;
}

/* Calls export name with up to two i32 arguments; returns its i32 result (0 when none), or -1000
 * after a trap. */
static int32_t call(inst *x, const char *name, int nargs, int32_t a, int32_t b) {
  wg_extern ex;
  if (!wg_instance_export(x->i, name, strlen(name), &ex)) return -2000;
  wg_functype_desc t = wg_func_type(ex.of.func);
  wg_val args[2] = {{.kind = WG_I32, .of.i32 = a}, {.kind = WG_I32, .of.i32 = b}};
  wg_val res[1] = {{.kind = WG_I32}};
  wg_trap *trap = wg_func_call(x->s, ex.of.func, args, (size_t)nargs, res, t.nresults);
  if (trap) {
    wg_trap_delete(trap);
    return -1000;
  }
  return t.nresults ? res[0].of.i32 : 0;
}

static uint64_t pages(inst *x) {
  return wg_memory_size(wg_instance_memory(x->i)) / 65536;
}

static void behaves(wg_module *m, wg_memimage *img) {
  inst a = make(m, img, 0);
  REQUIRE(a.i);
  CHECK(call(&a, "load", 1, 16, 0) == 'h' && call(&a, "load", 1, 20, 0) == 'o');
  CHECK(call(&a, "load", 1, 65536, 0) == 1 && call(&a, "load", 1, 65539, 0) == 4);
  CHECK(call(&a, "load", 1, 100, 0) == 0 && call(&a, "load", 1, 131071, 0) == 0);
  CHECK(call(&a, "load", 1, 131072, 0) == -1000); /* past the initial 2 pages */
  CHECK(pages(&a) == 2);
  /* active segments are dropped after instantiation; the passive one is not */
  CHECK(call(&a, "init_active", 0, 0, 0) == -1000);
  CHECK(call(&a, "init_passive", 1, 1000, 0) == 0 && call(&a, "load", 1, 1000, 0) == 'p');
  /* a second live instance does not see a's writes */
  call(&a, "store", 2, 16, 'X');
  call(&a, "store", 2, 70000, 7);
  inst b = make(m, img, 0);
  REQUIRE(b.i);
  CHECK(call(&a, "load", 1, 16, 0) == 'X' && call(&b, "load", 1, 16, 0) == 'h');
  CHECK(call(&b, "load", 1, 70000, 0) == 0 && call(&b, "load", 1, 1000, 0) == 0);
  /* growth: new pages are zero and writable, and the store counts them */
  uint64_t before = wg_store_bytes(a.s);
  CHECK(call(&a, "grow", 1, 3, 0) == 2 && pages(&a) == 5);
  CHECK(wg_store_bytes(a.s) == before + 3 * 65536);
  CHECK(call(&a, "load", 1, 5 * 65536 - 1, 0) == 0);
  call(&a, "store", 2, 5 * 65536 - 1, 9);
  CHECK(call(&a, "load", 1, 5 * 65536 - 1, 0) == 9);
  CHECK(call(&a, "grow", 1, 4, 0) == -1); /* the declared maximum is 8 */
  wg_store_delete(a.s);
  /* the next instance (reusing a's released mapping when there is one) starts from the image */
  inst c = make(m, img, 0);
  REQUIRE(c.i);
  CHECK(pages(&c) == 2);
  CHECK(call(&c, "load", 1, 16, 0) == 'h' && call(&c, "load", 1, 70000, 0) == 0 && call(&c, "load", 1, 1000, 0) == 0);
  CHECK(call(&c, "load", 1, 5 * 65536 - 1, 0) == -1000); /* a's grown pages are not reachable */
  CHECK(call(&c, "grow", 1, 3, 0) == 2 && call(&c, "load", 1, 5 * 65536 - 1, 0) == 0); /* and read as zero */
  /* the store is charged as for an ordinary memory */
  inst plain = make(m, NULL, 0);
  REQUIRE(plain.i);
  CHECK(wg_store_bytes(plain.s) == wg_store_bytes(b.s));
  CHECK(call(&plain, "load", 1, 16, 0) == 'h');
  wg_store_delete(plain.s);
  /* the store's page cap applies */
  inst capped = make(m, img, 3);
  REQUIRE(capped.i);
  CHECK(call(&capped, "grow", 1, 1, 0) == 2 && call(&capped, "grow", 1, 1, 0) == -1);
  wg_store_delete(capped.s);
  wg_store_delete(b.s);
  wg_store_delete(c.s);
}

TEST(cow_image) {
  wg_module *m = module("memimage.wasm");
  REQUIRE(m);
  wg_error *err = NULL;
  wg_memimage *img = wg_memimage_new(m, 0, &err);
  REQUIRE(img);
  CHECK(wg_memimage_is_cow(img)); /* Linux: memfd */
  behaves(m, img);
  /* many instances in turn (the cache of released mappings) */
  for (int k = 0; k < 200; k++) {
    inst x = make(m, img, 0);
    REQUIRE(x.i);
    CHECK(call(&x, "load", 1, 16 + (k % 5), 0) == "hello"[k % 5]);
    call(&x, "store", 2, 16 + (k % 5), 'Z');
    wg_store_delete(x.s);
  }
  /* an image deleted while a memory made from it lives: the memory stays valid */
  inst late = make(m, img, 0);
  REQUIRE(late.i);
  wg_memimage_delete(img);
  CHECK(call(&late, "load", 1, 65536, 0) == 1);
  wg_store_delete(late.s);
  wg_module_delete(m);
}

/* The reset of a released mapping copies back only the pages its instance wrote (pagemap: the
 * private anonymous copies), and those copies stay resident for the next instance: every location
 * any earlier instance wrote, on a page written once or again, read or not, reads as the image. */
TEST(cow_reset_dirty_pages) {
  wg_module *m = module("memimage.wasm");
  REQUIRE(m);
  wg_memimage *img = wg_memimage_new(m, 0, NULL);
  REQUIRE(img);
  int32_t addrs[48];
  for (int k = 0; k < 48; k++) {
    addrs[k] = k == 0 ? 16 : k == 1 ? 131071 : k == 2 ? 65536 : (int32_t)((k * 4099u + 7u * (unsigned)k * k) % 131072u);
    inst x = make(m, img, 0);
    REQUIRE(x.i);
    for (int j = 0; j < k; j++) {
      int32_t a = addrs[j];
      int32_t want = a >= 16 && a < 21 ? "hello"[a - 16] : a >= 65536 && a < 65540 ? a - 65535 : 0;
      CHECK(call(&x, "load", 1, a, 0) == want);
    }
    call(&x, "store", 2, addrs[k], 0x5a);
    CHECK(call(&x, "load", 1, addrs[k], 0) == 0x5a);
    if (k % 7 == 0) CHECK(call(&x, "grow", 1, 1, 0) == 2); /* grown pages read as zero next time */
    if (k % 7 == 0) call(&x, "store", 2, 2 * 65536 + 5, 1);
    wg_store_delete(x.s);
  }
  inst y = make(m, img, 0);
  REQUIRE(y.i);
  CHECK(call(&y, "load", 1, 16, 0) == 'h' && call(&y, "load", 1, 131071, 0) == 0 && pages(&y) == 2);
  CHECK(call(&y, "grow", 1, 1, 0) == 2 && call(&y, "load", 1, 2 * 65536 + 5, 0) == 0);
  wg_store_delete(y.s);
  wg_memimage_delete(img);
  wg_module_delete(m);
}

TEST(heap_copy_fallback) {
  wg_module *m = module("memimage.wasm");
  REQUIRE(m);
  wg_memimage *img = wg_memimage_new(m, WG_MEMIMAGE_NO_COW, NULL);
  REQUIRE(img);
  CHECK(!wg_memimage_is_cow(img));
  behaves(m, img);
  wg_memimage_delete(img);
  wg_module_delete(m);
}

TEST(other_modules_unaffected) {
  wg_module *m = module("memimage.wasm"), *other = module("limits_bulk.wasm");
  REQUIRE(m && other);
  wg_memimage *img = wg_memimage_new(m, 0, NULL);
  REQUIRE(img);
  wg_store *s = wg_store_new(NULL, NULL);
  wg_store_set_memimage(s, img);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  CHECK(wg_instance_new(s, other, NULL, 0, &err, &trap) != NULL || err); /* links or not, never the image */
  wg_error_delete(err);
  wg_trap_delete(trap);
  wg_store_delete(s);
  wg_memimage_delete(img);
  wg_module_delete(m);
  wg_module_delete(other);
}

TEST(refused) {
  const char *cases[][2] = {{"memimage_global.wasm", "offset is not a constant"},
                            {"memimage_import.wasm", "defines no memory 0 of its own"}};
  for (size_t i = 0; i < 2; i++) {
    wg_module *m = module(cases[i][0]);
    REQUIRE(m);
    wg_error *err = NULL;
    CHECK(wg_memimage_new(m, 0, &err) == NULL);
    CHECK(err && strstr(wg_error_message(err), cases[i][1]));
    wg_error_delete(err);
    wg_module_delete(m);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_memimage FIXTURES_DIR\n");
    return 2;
  }
  dir = argv[1];
  RUN(cow_image);
  RUN(cow_reset_dirty_pages);
  RUN(heap_copy_fallback);
  RUN(other_modules_unaffected);
  RUN(refused);
  return test_summary();
}
