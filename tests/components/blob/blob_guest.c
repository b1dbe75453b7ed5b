/*
 * blob_guest.c: a WASI 0.2 command using wasi:blobstore@0.2.0-draft (world
 * blob.wit) with hand-written canonical ABI imports, values through
 * wasi:io streams; built at test time and run by tests/gate/p2_blobstore.py:
 *
 *   blob_guest CONTAINER SCRATCH HIDDEN
 *
 * Prints one line per call (the test compares them). Leaves bin/b.dat
 * (bytes the binding must store as they are) in CONTAINER; empties SCRATCH.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(i, n) __attribute__((import_module(i), import_name(n)))
#define BS "wasi:blobstore/blobstore@0.2.0-draft"
#define CT "wasi:blobstore/container@0.2.0-draft"
#define TY "wasi:blobstore/types@0.2.0-draft"
#define IO "wasi:io/streams@0.2.12"

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

IMPORT(BS, "get-container") void get_container(const char *n, size_t nl, void *ret);
IMPORT(BS, "create-container") void create_container(const char *n, size_t nl, void *ret);
IMPORT(BS, "delete-container") void delete_container(const char *n, size_t nl, void *ret);
IMPORT(BS, "container-exists") void container_exists(const char *n, size_t nl, void *ret);
IMPORT(BS, "copy-object")
void copy_object(const char *sc, size_t scl, const char *so, size_t sol, const char *dc, size_t dcl, const char *d0,
                 size_t dol, void *ret);
IMPORT(BS, "move-object")
void move_object(const char *sc, size_t scl, const char *so, size_t sol, const char *dc, size_t dcl, const char *d0,
                 size_t dol, void *ret);
IMPORT(CT, "[method]container.name") void c_name(int32_t c, void *ret);
IMPORT(CT, "[method]container.get-data")
void c_get(int32_t c, const char *n, size_t nl, uint64_t start, uint64_t end, void *ret);
IMPORT(CT, "[method]container.write-data") void c_write(int32_t c, const char *n, size_t nl, int32_t ov, void *ret);
IMPORT(CT, "[method]container.list-objects") void c_list(int32_t c, void *ret);
IMPORT(CT, "[method]container.delete-object") void c_delete(int32_t c, const char *n, size_t nl, void *ret);
IMPORT(CT, "[method]container.has-object") void c_has(int32_t c, const char *n, size_t nl, void *ret);
IMPORT(CT, "[method]container.object-info") void c_info(int32_t c, const char *n, size_t nl, void *ret);
IMPORT(CT, "[method]container.clear") void c_clear(int32_t c, void *ret);
IMPORT(CT, "[method]stream-object-names.read-stream-object-names") void names_read(int32_t s, uint64_t n, void *ret);
IMPORT(CT, "[resource-drop]stream-object-names") void names_drop(int32_t s);
IMPORT(CT, "[resource-drop]container") void container_drop(int32_t c);
IMPORT(TY, "[static]outgoing-value.new-outgoing-value") int32_t ov_new(void);
IMPORT(TY, "[method]outgoing-value.outgoing-value-write-body") void ov_body(int32_t ov, void *ret);
IMPORT(TY, "[static]outgoing-value.finish") void ov_finish(int32_t ov, void *ret);
IMPORT(TY, "[static]incoming-value.incoming-value-consume-sync") void iv_sync(int32_t iv, void *ret);
IMPORT(TY, "[static]incoming-value.incoming-value-consume-async") void iv_async(int32_t iv, void *ret);
IMPORT(TY, "[method]incoming-value.size") uint64_t iv_size(int32_t iv);
IMPORT(TY, "[resource-drop]incoming-value") void iv_drop(int32_t iv);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush") void out_write(int32_t s, const void *p, size_t n, void *ret);
IMPORT(IO, "[resource-drop]output-stream") void out_drop(int32_t s);
IMPORT(IO, "[method]input-stream.blocking-read") void in_read(int32_t s, uint64_t n, void *ret);
IMPORT(IO, "[resource-drop]input-stream") void in_drop(int32_t s);

static _Alignas(8) uint8_t ret[48];
static uint32_t u32(size_t off) { uint32_t v; memcpy(&v, ret + off, 4); return v; }
static uint64_t u64(size_t off) { uint64_t v; memcpy(&v, ret + off, 8); return v; }
static const char *ptr(size_t off) { return (const char *)(uintptr_t)u32(off); }
#define ARG(s) s, strlen(s)

/* result<_, error> or result<T, error> whose error string is at off: prints "what: " and the error */
static int result(const char *what, size_t off) {
  printf("%s: ", what);
  if (!ret[0]) return 0;
  printf("error %.*s\n", (int)u32(off + 4), ptr(off));
  return -1;
}

static int32_t open_(const char *name) {
  char what[80];
  snprintf(what, sizeof what, "get-container %s", name);
  get_container(ARG(name), ret);
  if (result(what, 4)) return -1;
  printf("ok\n");
  return (int32_t)u32(4);
}

static void exists(const char *name) {
  container_exists(ARG(name), ret);
  char what[80];
  snprintf(what, sizeof what, "container-exists %s", name);
  if (!result(what, 4)) printf("%s\n", ret[4] ? "true" : "false");
}

/* Writes data in two chunks through an outgoing value; write-data before or after the writes. */
static void put(int32_t c, const char *name, const char *data, size_t n, int attach_first) {
  int32_t ov = ov_new();
  ov_body(ov, ret);
  if (ret[0]) {
    printf("write-body %s: error\n", name);
    return;
  }
  int32_t s = (int32_t)u32(4);
  char what[80];
  snprintf(what, sizeof what, "write-data %s", name);
  if (attach_first) {
    c_write(c, ARG(name), ov, ret);
    if (!result(what, 4)) printf("ok\n");
  }
  out_write(s, data, n / 2, ret);
  out_write(s, data + n / 2, n - n / 2, ret);
  out_drop(s);
  if (!attach_first) {
    c_write(c, ARG(name), ov, ret);
    if (!result(what, 4)) printf("ok\n");
  }
  snprintf(what, sizeof what, "finish %s", name);
  ov_finish(ov, ret);
  if (!result(what, 4)) printf("ok\n");
}

static void has(int32_t c, const char *name) {
  c_has(c, ARG(name), ret);
  char what[80];
  snprintf(what, sizeof what, "has-object %s", name);
  if (!result(what, 4)) printf("%s\n", ret[4] ? "true" : "false");
}

static void get_sync(int32_t c, const char *name, uint64_t start, uint64_t end) {
  char what[80];
  snprintf(what, sizeof what, "get-data %s %llu..%llu", name, (unsigned long long)start, (unsigned long long)end);
  c_get(c, ARG(name), start, end, ret);
  if (result(what, 4)) return;
  int32_t iv = (int32_t)u32(4);
  uint64_t size = iv_size(iv);
  iv_sync(iv, ret); /* result<list<u8>, error> */
  if (result("consume-sync", 4)) return;
  printf("%llu bytes %.*s\n", (unsigned long long)size, (int)u32(8), ptr(4));
}

static void get_async(int32_t c, const char *name, uint64_t start, uint64_t end) {
  char what[80], got[256];
  size_t n = 0;
  snprintf(what, sizeof what, "get-data %s %llu..%llu", name, (unsigned long long)start, (unsigned long long)end);
  c_get(c, ARG(name), start, end, ret);
  if (result(what, 4)) return;
  iv_async((int32_t)u32(4), ret);
  if (result("consume-async", 4)) return;
  int32_t s = (int32_t)u32(4);
  for (;;) {
    in_read(s, 2, ret); /* result<list<u8>, stream-error>: two bytes at a time */
    if (ret[0]) break;
    for (uint32_t i = 0; i < u32(8) && n < sizeof got; i++) got[n++] = ptr(4)[i];
  }
  in_drop(s);
  printf("stream %.*s (closed: %s)\n", (int)n, got, ret[4] == 1 ? "yes" : "no");
}

static void list(int32_t c) {
  c_list(c, ret);
  if (result("list-objects", 4)) return;
  int32_t s = (int32_t)u32(4);
  names_read(s, 100, ret); /* result<tuple<list<string>, bool>, error> */
  if (result("read-stream-object-names", 4)) return;
  const struct { const char *p; size_t n; } *v = (const void *)(uintptr_t)u32(4);
  for (uint32_t i = 0; i < u32(8); i++) printf("%s%.*s", i ? "," : "[", (int)v[i].n, v[i].p);
  printf("%s end %s\n", u32(8) ? "]" : "[]", ret[12] ? "true" : "false");
  names_drop(s);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 4) return 2;
  const char *cn = argv[1], *sn = argv[2], *hidden = argv[3];
  exists(cn);
  exists("nope");
  exists(hidden);
  open_(hidden);
  create_container(ARG("nope"), ret);
  if (!result("create-container nope", 4)) printf("ok\n");
  int32_t c = open_(cn);
  if (c < 0) return 1;
  c_name(c, ret);
  if (!result("name", 4)) printf("%.*s\n", (int)u32(8), ptr(4));
  put(c, "a.txt", "hello blob", 10, 1);
  static const char bin[] = "\"aGk=\"\0\x01\xff";
  put(c, "bin/b.dat", bin, sizeof bin - 1, 0);
  has(c, "a.txt");
  has(c, "zz");
  c_info(c, ARG("a.txt"), ret); /* object-metadata at 8: name, container, created-at, size */
  if (!result("object-info a.txt", 8))
    printf("%.*s in %.*s, %llu bytes, created %s\n", (int)u32(12), ptr(8), (int)u32(20), ptr(16),
           (unsigned long long)u64(32), u64(24) > 1700000000ull ? "recently" : "never");
  get_sync(c, "a.txt", 0, UINT64_MAX);
  get_async(c, "a.txt", 6, 8);
  get_sync(c, "a.txt", 20, 30);
  list(c);
  copy_object(ARG(cn), ARG("a.txt"), ARG(sn), ARG("c.txt"), ret);
  if (!result("copy-object a.txt -> scratch c.txt", 4)) printf("ok\n");
  move_object(ARG(cn), ARG("a.txt"), ARG(cn), ARG("d.txt"), ret);
  if (!result("move-object a.txt -> d.txt", 4)) printf("ok\n");
  has(c, "a.txt");
  get_sync(c, "d.txt", 0, 4);
  c_delete(c, ARG("d.txt"), ret);
  if (!result("delete-object d.txt", 4)) printf("ok\n");
  get_sync(c, "d.txt", 0, 4);
  delete_container(ARG(cn), ret);
  if (!result("delete-container", 4)) printf("ok\n");
  int32_t s = open_(sn);
  if (s < 0) return 1;
  list(s);
  c_clear(s, ret);
  if (!result("clear scratch", 4)) printf("ok\n");
  list(s);
  int32_t ov = ov_new(); /* finished without write-data */
  ov_finish(ov, ret);
  if (!result("finish unattached", 4)) printf("ok\n");
  container_drop(s);
  container_drop(c);
  return 0;
}
