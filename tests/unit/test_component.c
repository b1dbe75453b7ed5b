/*
 * test_component.c: the component decoder and validator
 * (wasmgate_component.h) on binaries built here byte by byte, so each
 * rule is checked in isolation: a valid lift with string parameters, then
 * one mutation per rule (missing options, wrong core signature, names,
 * versions, indices, resources, outer aliases, instantiation), every
 * truncation of a valid component, and errors inside embedded core modules.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wasmgate_component.h"

typedef struct buf {
  uint8_t b[8192];
  size_t n;
} buf;

static void put(buf *o, const void *p, size_t n) {
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void u8(buf *o, unsigned v) { o->b[o->n++] = (uint8_t)v; }
static void leb(buf *o, size_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    u8(o, c | (v ? 0x80 : 0));
  } while (v);
}
static void str(buf *o, const char *s) {
  leb(o, strlen(s));
  put(o, s, strlen(s));
}
static void sec(buf *o, unsigned id, const buf *p) {
  u8(o, id);
  leb(o, p->n);
  put(o, p->b, p->n);
}
#define BYTES(o, ...)                                   \
  do {                                                  \
    static const uint8_t b_[] = {__VA_ARGS__};          \
    put((o), b_, sizeof b_);                            \
  } while (0)

/* A core module: f: (i32 i32) -> i32, realloc: (i32 i32 i32 i32) -> i32,
 * memory "mem"; `ftype` replaces f's signature when non-NULL. */
static void core_module(buf *o, const uint8_t *ftype, size_t ftlen) {
  buf m = {0}, s = {0};
  BYTES(&m, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  u8(&s, 2);
  if (ftype) put(&s, ftype, ftlen);
  else BYTES(&s, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f);
  BYTES(&s, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f);
  sec(&m, 1, &s);
  s.n = 0;
  BYTES(&s, 0x02, 0x00, 0x01);
  sec(&m, 3, &s);
  s.n = 0;
  BYTES(&s, 0x01, 0x00, 0x01);
  sec(&m, 5, &s);
  s.n = 0;
  u8(&s, 3);
  str(&s, "f");
  BYTES(&s, 0x00, 0x00);
  str(&s, "mem");
  BYTES(&s, 0x02, 0x00);
  str(&s, "realloc");
  BYTES(&s, 0x00, 0x01);
  sec(&m, 7, &s);
  s.n = 0;
  /* bodies: f returns i32.const 0 (or drops to nothing for other shapes: unreachable) */
  BYTES(&s, 0x02, 0x03, 0x00, 0x00, 0x0b, 0x04, 0x00, 0x41, 0x00, 0x0b);
  sec(&m, 10, &s);
  sec(o, 1, &m);
}

typedef struct variant {
  const uint8_t *ftype;      /* core signature of f */
  size_t ftlen;
  const uint8_t *functype;   /* component type of the lifted function */
  size_t fnlen;
  unsigned ntypes; /* types in `functype` (the last is the lifted function's); 0 means 1 */
  bool no_memory, no_realloc, no_export;
  const char *export_name, *export_name2;
  const uint8_t *preamble; /* 8 bytes */
} variant;

static const uint8_t fn_string_to_s32[] = {0x40, 0x01, 0x01, 's', 0x73, 0x00, 0x7a};

/* The component: instantiate the module, alias f/mem/realloc, lift f as
 * `func(s: string) -> s32`, export it. */
static size_t component(uint8_t *out, const variant *v) {
  buf c = {0}, s = {0};
  if (v->preamble) put(&c, v->preamble, 8);
  else BYTES(&c, 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);
  core_module(&c, v->ftype, v->ftlen);
  BYTES(&s, 0x01, 0x00, 0x00, 0x00); /* 1 core instance: instantiate module 0, no args */
  sec(&c, 2, &s);
  s.n = 0;
  u8(&s, 3);
  BYTES(&s, 0x00, 0x00, 0x01, 0x00);
  str(&s, "f");
  BYTES(&s, 0x00, 0x02, 0x01, 0x00);
  str(&s, "mem");
  BYTES(&s, 0x00, 0x00, 0x01, 0x00);
  str(&s, "realloc");
  sec(&c, 6, &s);
  s.n = 0;
  u8(&s, v->ntypes ? v->ntypes : 1);
  if (v->functype) put(&s, v->functype, v->fnlen);
  else put(&s, fn_string_to_s32, sizeof fn_string_to_s32);
  sec(&c, 7, &s);
  s.n = 0;
  BYTES(&s, 0x01, 0x00, 0x00, 0x00); /* 1 canon: lift core func 0 */
  u8(&s, (v->no_memory ? 0 : 1) + (v->no_realloc ? 0 : 1));
  if (!v->no_memory) BYTES(&s, 0x03, 0x00);
  if (!v->no_realloc) BYTES(&s, 0x04, 0x01);
  u8(&s, v->ntypes ? v->ntypes - 1 : 0); /* the function type */
  sec(&c, 8, &s);
  s.n = 0;
  if (v->no_export) {
    memcpy(out, c.b, c.n);
    return c.n;
  }
  u8(&s, v->export_name2 ? 2 : 1);
  u8(&s, 0);
  str(&s, v->export_name ? v->export_name : "greet");
  BYTES(&s, 0x01, 0x00, 0x00);
  if (v->export_name2) {
    u8(&s, 0);
    str(&s, v->export_name2);
    BYTES(&s, 0x01, 0x00, 0x00);
  }
  sec(&c, 11, &s);
  memcpy(out, c.b, c.n);
  return c.n;
}

static uint8_t bin[8192];

/* Decodes; returns the error message ("" when valid), kind in *kind. */
static char msg[256];
static const char *load(const uint8_t *b, size_t n, wg_error_kind *kind, size_t *off) {
  wg_error *err = NULL;
  wg_component *c = wg_component_new(b, n, &err);
  if (c) {
    CHECK(err == NULL);
    wg_component_delete(c);
    return "";
  }
  CHECK(err != NULL);
  if (!err) return "?";
  snprintf(msg, sizeof msg, "%s", wg_error_message(err));
  if (kind) *kind = wg_error_kind_of(err);
  if (off) *off = wg_error_offset(err);
  wg_error_delete(err);
  return msg;
}

static bool has(const char *got, const char *want) {
  if (strstr(got, want)) return true;
  fprintf(stderr, "  got \"%s\", want it to contain \"%s\"\n", got, want);
  return false;
}

TEST(valid_lift_and_api) {
  variant v = {0};
  size_t n = component(bin, &v);
  wg_error *err = NULL;
  wg_component *c = wg_component_new(bin, n, &err);
  if (!c) fprintf(stderr, "  %s at %zu\n", wg_error_message(err), wg_error_offset(err));
  REQUIRE(c != NULL);
  CHECK(wg_component_import_count(c) == 0);
  REQUIRE(wg_component_export_count(c) == 1);
  wg_component_extern e;
  CHECK(wg_component_export(c, 0, &e));
  CHECK_STR(e.name, "greet");
  CHECK(e.sort == WG_COMPONENT_FUNC);
  CHECK(!wg_component_export(c, 1, &e));
  CHECK(wg_component_core_module_count(c) == 1);
  CHECK(wg_component_core_module(c, 0) != NULL);
  CHECK(wg_component_core_module(c, 1) == NULL);
  char text[4096] = {0};
  FILE *f = fmemopen(text, sizeof text - 1, "w");
  REQUIRE(f != NULL);
  CHECK(wg_component_dump(c, f));
  fclose(f);
  CHECK(strstr(text, "export greet: func(s: string) -> s32;") != NULL);
  CHECK(strstr(text, "1 canon lift") != NULL);
  wg_component_delete(c);
}

TEST(binary_kind) {
  static const uint8_t m[] = {0, 'a', 's', 'm', 1, 0, 0, 0}, k[] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
  CHECK(wg_binary_kind_of(m, 8) == WG_BINARY_MODULE);
  CHECK(wg_binary_kind_of(k, 8) == WG_BINARY_COMPONENT);
  CHECK(wg_binary_kind_of(k, 7) == WG_BINARY_UNKNOWN);
}

TEST(options_required) {
  variant v = {.no_realloc = true};
  wg_error_kind k = 0;
  CHECK(has(load(bin, component(bin, &v), &k, NULL), "canonical option `realloc` is required"));
  CHECK(k == WG_ERROR_INVALID);
  v = (variant){.no_memory = true, .no_realloc = true};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "canonical option `memory` is required"));
  /* a function of scalars needs neither */
  static const uint8_t fn[] = {0x40, 0x02, 0x01, 'a', 0x79, 0x01, 'b', 0x7f, 0x00, 0x7a};
  v = (variant){.functype = fn, .fnlen = sizeof fn, .no_memory = true, .no_realloc = true};
  CHECK_STR(load(bin, component(bin, &v), NULL, NULL), "");
}

TEST(core_signature_must_match_flattening) {
  /* string -> s32 needs (i32 i32) -> i32; offer (i64 i32) -> i32 */
  static const uint8_t bad[] = {0x60, 0x02, 0x7e, 0x7f, 0x01, 0x7f};
  variant v = {.ftype = bad, .ftlen = sizeof bad};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "lowered parameter types `[i32, i32]` do not match"));
  /* result s64 vs core i32 */
  static const uint8_t fn[] = {0x40, 0x01, 0x01, 's', 0x73, 0x00, 0x78};
  v = (variant){.functype = fn, .fnlen = sizeof fn};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "lowered result types `[i64]` do not match"));
  /* variant { a(f32), b(tuple<s32,s32>) } flattens to (i32 i32 i32): join(f32, i32) = i32 */
  static const uint8_t core3[] = {0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f};
  static const uint8_t fnv[] = {0x6f, 0x02, 0x7a, 0x7a,                                  /* 0: tuple<s32, s32> */
                                0x71, 0x02, 0x01, 'a', 0x01, 0x76, 0x00, 0x01, 'b', 0x01, 0x00, 0x00, /* 1: variant */
                                0x40, 0x01, 0x01, 'v', 0x01, 0x00, 0x7a};               /* 2: func(v: 1) -> s32 */
  v = (variant){.ftype = core3, .ftlen = sizeof core3, .functype = fnv, .fnlen = sizeof fnv, .ntypes = 3,
                .no_memory = true, .no_realloc = true, .no_export = true};
  CHECK_STR(load(bin, component(bin, &v), NULL, NULL), "");
  /* exporting it needs the variant (and the tuple in it) exported first: external visibility */
  v.no_export = false;
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "func not valid to be used as export"));
  /* 17 flat params spill into memory: core (i32) and both options */
  uint8_t many[64];
  size_t n = 0;
  many[n++] = 0x40, many[n++] = 17;
  for (int i = 0; i < 17; i++) many[n++] = 1, many[n++] = (uint8_t)('a' + i), many[n++] = 0x79;
  many[n++] = 0x00, many[n++] = 0x7a;
  static const uint8_t core1[] = {0x60, 0x01, 0x7f, 0x01, 0x7f};
  v = (variant){.ftype = core1, .ftlen = sizeof core1, .functype = many, .fnlen = n};
  CHECK_STR(load(bin, component(bin, &v), NULL, NULL), "");
  v.no_realloc = true;
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "canonical option `realloc` is required"));
}

TEST(names) {
  variant v = {.export_name = "Not_Kebab"};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "is not in kebab case"));
  v = (variant){.export_name = "wasi:cli/run@0.2.3"};
  CHECK_STR(load(bin, component(bin, &v), NULL, NULL), "");
  v = (variant){.export_name = "wasi:cli/run@0.2"};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "is not a valid semver"));
  v = (variant){.export_name = "wasi:cli/run/x"};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "trailing characters found"));
  v = (variant){.export_name = "a", .export_name2 = "A"};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "export name `A` conflicts with previous name `a`"));
  v = (variant){.export_name = "[method]r"};
  CHECK(has(load(bin, component(bin, &v), NULL, NULL), "failed to find `.` character"));
}

TEST(preamble) {
  static const uint8_t v0e[] = {0, 'a', 's', 'm', 0x0e, 0, 1, 0};
  variant v = {.preamble = v0e};
  wg_error_kind k = 0;
  size_t off = 0;
  CHECK(has(load(bin, component(bin, &v), &k, &off), "unknown binary version"));
  CHECK(k == WG_ERROR_MALFORMED && off == 4);
}

/* Every proper prefix of a valid component is rejected as malformed, with an
 * offset inside the input: the decoder never reads past the end. */
TEST(truncations) {
  variant v = {0};
  size_t n = component(bin, &v);
  unsigned valid = 0;
  for (size_t len = 0; len < n; len++) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, bin, len);
    wg_error_kind k = 0;
    size_t off = 0;
    const char *m = load(copy, len, &k, &off);
    free(copy);
    if (m[0] == '\0') { /* a prefix ending at a section boundary is a smaller valid component */
      valid++;
      continue;
    }
    CHECK(k == WG_ERROR_MALFORMED);
    CHECK(off <= len);
  }
  CHECK(valid == 6); /* the preamble alone, then after each of the first 5 of 6 sections */
}

/* An error inside an embedded core module keeps the core decoder's message
 * and gets an offset in the whole binary. */
TEST(core_module_error_offset) {
  variant v = {0};
  size_t n = component(bin, &v);
  /* core module section starts at 8: id, size (2 bytes: > 127), then the module */
  size_t mod = 8 + 1 + (bin[9] & 0x80 ? 2 : 1);
  REQUIRE(bin[mod] == 0 && bin[mod + 1] == 'a');
  bin[mod + 4] = 2; /* core version 2 */
  wg_error_kind k = 0;
  size_t off = 0;
  CHECK(has(load(bin, n, &k, &off), "unknown binary version"));
  CHECK(off == mod + 4);
}

/* Small hand-made components for the index-space rules: SEC(id, payload...)
 * appends a section with its size computed. */
static buf cb;
#define SEC(id, ...)                              \
  do {                                            \
    buf p_ = {0};                                 \
    BYTES(&p_, __VA_ARGS__);                      \
    sec(&cb, (id), &p_);                          \
  } while (0)
static void begin(void) {
  cb.n = 0;
  BYTES(&cb, 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);
}
static const char *end(void) { return load(cb.b, cb.n, NULL, NULL); }

TEST(index_rules) {
  /* import "r" (type (sub resource)); canon resource.new 0 -> not local */
  begin();
  SEC(10, 1, 0, 1, 'r', 0x03, 0x01);
  SEC(8, 1, 0x02, 0x00);
  CHECK(has(end(), "not a local resource"));
  /* resource.drop of the imported resource is fine */
  begin();
  SEC(10, 1, 0, 1, 'r', 0x03, 0x01);
  SEC(8, 1, 0x03, 0x00);
  CHECK_STR(end(), "");
  /* a local resource: resource.new/rep/drop all fine */
  begin();
  SEC(7, 1, 0x3f, 0x7f, 0x00);
  SEC(8, 3, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00);
  CHECK_STR(end(), "");
  /* alias outer 5 0 (type) at top level */
  begin();
  SEC(6, 1, 0x03, 0x02, 0x05, 0x00);
  CHECK(has(end(), "invalid outer alias count"));
  /* own of a non-resource type */
  begin();
  SEC(7, 2, 0x7f, 0x69, 0x00);
  CHECK(has(end(), "is not a resource type"));
  /* a type index out of bounds */
  begin();
  SEC(7, 1, 0x70, 0x05);
  CHECK(has(end(), "type index out of bounds"));
  /* a function returning a borrow */
  begin();
  SEC(10, 1, 0, 1, 'r', 0x03, 0x01);
  SEC(7, 2, 0x68, 0x00, 0x40, 0x00, 0x00, 0x01);
  CHECK(has(end(), "function result cannot contain a `borrow` type"));
  /* nested component importing "x" (func), instantiated without arguments */
  begin();
  SEC(4, 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 7, 5, 1, 0x40, 0x00, 0x01, 0x00, 10, 6, 1, 0, 1, 'x', 0x01, 0x00);
  SEC(5, 1, 0x00, 0x00, 0x00);
  CHECK(has(end(), "missing import named `x`"));
  /* ... and with the argument it needs: a func of the same type, imported */
  begin();
  SEC(4, 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 7, 5, 1, 0x40, 0x00, 0x01, 0x00, 10, 6, 1, 0, 1, 'x', 0x01, 0x00);
  SEC(7, 1, 0x40, 0x00, 0x01, 0x00);
  SEC(10, 1, 0, 1, 'f', 0x01, 0x00);
  SEC(5, 1, 0x00, 0x00, 0x01, 1, 'x', 0x01, 0x00);
  CHECK_STR(end(), "");
  /* an unknown section id */
  begin();
  SEC(13, 0);
  CHECK(has(end(), "malformed section id"));
  /* a resource type defined inside an instance type */
  begin();
  SEC(7, 1, 0x42, 1, 0x01, 0x3f, 0x7f, 0x00);
  CHECK(has(end(), "resources can only be defined within a concrete component"));
  /* an alias of an export the instance does not have */
  begin();
  SEC(7, 1, 0x42, 0);
  SEC(10, 1, 0, 1, 'i', 0x05, 0x00);
  SEC(6, 1, 0x01, 0x00, 0x00, 1, 'f');
  CHECK(has(end(), "instance 0 has no export named `f`"));
  /* [constructor]a must return own<a>; [method]a.m takes self: borrow<a> */
  begin();
  SEC(10, 2, 0, 1, 'a', 0x03, 0x01, 0, 14, '[', 'c', 'o', 'n', 's', 't', 'r', 'u', 'c', 't', 'o', 'r', ']', 'a', 0x01, 0x00);
  CHECK(has(end(), "type index 0 is not a function type")); /* index 0 is the resource */
  begin();
  SEC(10, 1, 0, 1, 'a', 0x03, 0x01);
  SEC(7, 2, 0x69, 0x00, 0x40, 0x00, 0x00, 0x79); /* 1: own<a>; 2: func() -> u32 */
  SEC(10, 1, 0, 14, '[', 'c', 'o', 'n', 's', 't', 'r', 'u', 'c', 't', 'o', 'r', ']', 'a', 0x01, 0x02);
  CHECK(has(end(), "should return `(own $T)`"));
  begin();
  SEC(10, 1, 0, 1, 'a', 0x03, 0x01);
  SEC(7, 2, 0x69, 0x00, 0x40, 0x00, 0x00, 0x01); /* 2: func() -> own<a> */
  SEC(10, 1, 0, 14, '[', 'c', 'o', 'n', 's', 't', 'r', 'u', 'c', 't', 'o', 'r', ']', 'a', 0x01, 0x02);
  CHECK_STR(end(), "");
  begin();
  SEC(10, 1, 0, 1, 'a', 0x03, 0x01);
  SEC(7, 2, 0x68, 0x00, 0x40, 0x01, 1, 'x', 0x01, 0x01, 0x00); /* 2: func(x: borrow<a>) */
  SEC(10, 1, 0, 11, '[', 'm', 'e', 't', 'h', 'o', 'd', ']', 'a', '.', 'm', 0x01, 0x02);
  CHECK(has(end(), "should have a first argument called `self`"));
  /* the `implements` attribute: only on instances with plain names */
  begin();
  SEC(7, 1, 0x40, 0x00, 0x01, 0x00);
  SEC(10, 1, 0x02, 1, 'a', 1, 0x00, 5, 'a', ':', 'b', '/', 'c', 0x01, 0x00);
  CHECK(has(end(), "only instances can have an `implements`"));
  begin();
  SEC(7, 1, 0x42, 0x00);
  SEC(10, 1, 0x02, 1, 'a', 1, 0x00, 5, 'a', ':', 'b', '/', 'c', 0x05, 0x00);
  CHECK_STR(end(), "");
  /* a variant case label clash, case-insensitively */
  begin();
  SEC(7, 1, 0x71, 2, 1, 'a', 0x00, 0x00, 1, 'A', 0x00, 0x00);
  CHECK(has(end(), "conflicts with previous"));
}

static wg_trap *nop_fn(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)r, (void)nr;
  return NULL;
}

/* The linker's definitions (a hash index): a second definition of the same
 * item in the same instance is refused, the same name elsewhere, as a
 * resource, or at the root is not; many definitions stay findable. */
TEST(linker_duplicates) {
  wg_component_linker *l = wg_component_linker_new();
  wg_error *err = NULL;
  CHECK(wg_component_linker_define_func(l, "wasi:io/streams@0.2.12", "write", nop_fn, NULL, NULL, &err));
  CHECK(!wg_component_linker_define_func(l, "wasi:io/streams@0.2.12", "write", nop_fn, NULL, NULL, &err));
  CHECK(err && strstr(wg_error_message(err), "`write` is already defined in `wasi:io/streams@0.2.12`"));
  wg_error_delete(err);
  err = NULL;
  CHECK(wg_component_linker_define_func(l, "wasi:io/streams@0.2.3", "write", nop_fn, NULL, NULL, &err));
  CHECK(wg_component_linker_define_func(l, NULL, "write", nop_fn, NULL, NULL, &err));
  CHECK(!wg_component_linker_define_func(l, NULL, "write", nop_fn, NULL, NULL, &err));
  wg_error_delete(err);
  err = NULL;
  const wg_component_resource_type *rt = NULL;
  CHECK(wg_component_linker_define_resource(l, "wasi:io/streams@0.2.12", "write", NULL, NULL, &rt, &err));
  char name[32];
  bool ok = true;
  for (int i = 0; i < 1000 && ok; i++) { /* grows the index several times */
    snprintf(name, sizeof name, "f%d", i);
    ok = wg_component_linker_define_func(l, "x:y/z", name, nop_fn, NULL, NULL, &err);
  }
  CHECK(ok);
  for (int i = 0; i < 1000 && ok; i += 97) {
    snprintf(name, sizeof name, "f%d", i);
    ok = !wg_component_linker_define_func(l, "x:y/z", name, nop_fn, NULL, NULL, &err);
    wg_error_delete(err);
    err = NULL;
  }
  CHECK(ok);
  wg_component_linker_delete(l);
}

/* Typed definitions: the type texts are parsed when first needed or by
 * wg_component_linker_check_types (the message names the item, the offset
 * and the text); names resolve in the same instance or by `iface#name`; a
 * name is a type or a resource once; a type naming itself is refused. */
static wg_component_linker *base_linker(void) {
  wg_component_linker *l = wg_component_linker_new();
  bool ok = l && wg_component_linker_define_resource(l, "a:b/io@1.0.0", "stream", NULL, NULL, NULL, NULL) &&
            wg_component_linker_define_type(l, "a:b/io@1.0.0", "err", "variant { closed, failed(string) }", NULL) &&
            wg_component_linker_define_type(l, "a:b/other@1.0.0", "s", "a:b/io@1.0.0#stream", NULL);
  if (!ok) wg_component_linker_delete(l);
  return ok ? l : NULL;
}

static bool def_fails(const char *inst, const char *type, const char *want) {
  wg_component_linker *l = base_linker();
  wg_error *err = NULL;
  bool ok = l && wg_component_linker_define_func_typed(l, inst, "f", type, nop_fn, NULL, NULL, &err) &&
            !wg_component_linker_check_types(l, &err) && err && strstr(wg_error_message(err), want);
  if (!ok) fprintf(stderr, "  `%s`: %s\n", type, err ? wg_error_message(err) : "accepted");
  wg_error_delete(err);
  wg_component_linker_delete(l);
  return ok;
}

TEST(linker_typed) {
  wg_component_linker *l = base_linker();
  wg_error *err = NULL;
  CHECK(l);
  CHECK(wg_component_linker_define_func_typed(l, "a:b/io@1.0.0", "write",
                                              "func(self: borrow<stream>, contents: list<u8>) -> result<_, err>",
                                              nop_fn, NULL, NULL, &err));
  CHECK(wg_component_linker_define_func_typed(
      l, "a:b/other@1.0.0", "all",
      "func(a: bool, b: s8, c: u16, d: s32, e: u64, f: f32, g: f64, h: char, i: string, j: list<string, 4>, "
      "k: option<tuple<u8, s64>>, l: result, m: result<u32>, n: result<u32, string>, o: s, p: own<s>, "
      "q: record { x: u32, %type: enum { a, b } }, r: flags { r, w }, ) -> list<list<u8>>",
      nop_fn, NULL, NULL, &err));
  CHECK(!err);
  CHECK(wg_component_linker_check_types(l, &err) && !err);
  CHECK(def_fails("a:b/io@1.0.0", "func(x: nope)",
                  "host function `a:b/io@1.0.0#f`: unknown type `nope` at offset 8 of `func(x: nope)`"));
  CHECK(def_fails("a:b/other@1.0.0", "func(x: err)", "unknown type `err`")); /* another instance's */
  CHECK(def_fails("a:b/io@1.0.0", "func(x: list<u8)", "expected `>`"));
  CHECK(def_fails("a:b/io@1.0.0", "func(x: borrow<err>)", "`err` is not a resource"));
  CHECK(def_fails("a:b/io@1.0.0", "func() -> u8 u8", "unexpected `u8`"));
  CHECK(def_fails("a:b/io@1.0.0", "fun()", "expected `func`"));
  CHECK(def_fails("a:b/io@1.0.0", "func(x: result<_>)", "`result<_>` is written `result`"));
  CHECK(def_fails("a:b/io@1.0.0", "func(x: enum { })", "needs at least one member"));
  char deep[600] = "func(x: ";
  for (int i = 0; i < 100; i++) strcat(deep, "list<");
  strcat(deep, "u8");
  CHECK(def_fails("a:b/io@1.0.0", deep, "nested too deeply"));
  CHECK(!wg_component_linker_define_type(l, "a:b/io@1.0.0", "stream", "u8", &err) && err &&
        strstr(wg_error_message(err), "type `stream` is already defined in `a:b/io@1.0.0`"));
  wg_error_delete(err);
  err = NULL;
  CHECK(!wg_component_linker_define_type(l, "a:b/io@1.0.0", "err", "u8", &err) && err &&
        strstr(wg_error_message(err), "`err` is already defined in `a:b/io@1.0.0`"));
  wg_error_delete(err);
  err = NULL;
  /* a type that names itself, directly or through another */
  CHECK(wg_component_linker_define_type(l, "a:b/io@1.0.0", "t1", "list<t2>", &err) &&
        wg_component_linker_define_type(l, "a:b/io@1.0.0", "t2", "option<t1>", &err));
  CHECK(!wg_component_linker_check_types(l, &err) && err && strstr(wg_error_message(err), "refers to itself"));
  wg_error_delete(err);
  wg_component_linker_delete(l);
}

int main(void) {
  RUN(linker_typed);
  RUN(valid_lift_and_api);
  RUN(binary_kind);
  RUN(options_required);
  RUN(core_signature_must_match_flattening);
  RUN(names);
  RUN(preamble);
  RUN(truncations);
  RUN(core_module_error_offset);
  RUN(index_rules);
  RUN(linker_duplicates);
  return test_summary();
}
