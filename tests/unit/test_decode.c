/*
 * test_decode.c: the decoder against hand-made byte sequences. Every case
 * asserts the error's kind, its message in the spec testsuite's wording and
 * its byte offset. Also: counts that claim more elements than there are
 * bytes fail fast, before any allocation for them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "module.h"
#include "test.h"
#include "wasmgate.h"

#define HDR "\0asm\1\0\0\0"
#define B(s) s, sizeof(s) - 1

typedef struct bad_case {
  const char *what;
  const char *bytes;
  size_t len;
  wg_error_kind kind;
  const char *msg;
  size_t offset;
} bad_case;

#define MAL WG_ERROR_MALFORMED
#define INV WG_ERROR_INVALID
#define LIM WG_ERROR_LIMIT

/* Type () -> (), one function of that type; the code section follows. */
#define ONE_FUNC HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00"
/* The first instruction of a body in ONE_FUNC "\x0a" SZ "\x01" BSZ "\x00" ... is at 23. */

static const bad_case cases[] = {
    /* preamble (5.5.16) */
    {"empty", B(""), MAL, "unexpected end", 0},
    {"short magic", B("\0as"), MAL, "unexpected end", 0},
    {"no version", B("\0asm"), MAL, "unexpected end", 4},
    {"short version", B("\0asm\1\0\0"), MAL, "unexpected end", 4},
    {"bad magic", B("asm\0\1\0\0\0"), MAL, "magic header not detected", 0},
    {"bom", B("\xef\xbb\xbf\0asm\1\0\0\0"), MAL, "magic header not detected", 0},
    {"version 2", B("\0asm\2\0\0\0"), MAL, "unknown binary version", 4},
    {"version 0x0d", B("\0asm\x0d\0\0\0"), MAL, "unknown binary version", 4},
    /* sections (5.5.2) */
    {"section id 14", B(HDR "\x0e\x01\x00"), MAL, "malformed section id", 8}, /* 13: tags (3.0) */
    {"section id 0x7f", B(HDR "\x7f\x01\x00"), MAL, "malformed section id", 8},
    {"section past end", B(HDR "\x01\x05\x01\x60\x00\x00"), MAL, "length out of bounds", 10},
    {"section too long", B(HDR "\x01\x05\x01\x60\x00\x00\x00"), MAL, "section size mismatch", 14},
    {"section short", B(HDR "\x01\x03\x01\x60\x00" "\x0b\x01\x00"), MAL, "unexpected end of section or function", 13},
    {"duplicate section", B(HDR "\x01\x01\x00" "\x01\x01\x00"), MAL, "unexpected content after last section", 11},
    {"out of order", B(HDR "\x03\x01\x00" "\x01\x01\x00"), MAL, "unexpected content after last section", 11},
    {"datacount after code", B(HDR "\x0a\x01\x00" "\x0c\x01\x00"), MAL, "unexpected content after last section", 11},
    /* LEB128 (5.2.2) */
    {"u32 6 bytes", B(HDR "\x01\x07\x81\x80\x80\x80\x80\x00\x00"), MAL, "integer representation too long", 14},
    {"u32 too large", B(HDR "\x01\x06\x81\x80\x80\x80\x70\x00"), MAL, "integer too large", 14},
    {"u32 section size", B(HDR "\x01\x80\x80\x80\x80\x10"), MAL, "integer too large", 13},
    {"s32 too large",
     B(ONE_FUNC "\x0a\x0b\x01\x09\x00" "\x41\x80\x80\x80\x80\x70" "\x1a\x0b"), MAL, "integer too large", 28},
    {"s32 too long",
     B(ONE_FUNC "\x0a\x0c\x01\x0a\x00" "\x41\x80\x80\x80\x80\x80\x00" "\x1a\x0b"), MAL,
     "integer representation too long", 28},
    {"s64 too large",
     B(ONE_FUNC "\x0a\x10\x01\x0e\x00" "\x42\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02" "\x1a\x0b"), MAL,
     "integer too large", 33},
    /* names (5.2.4) */
    {"utf8 invalid byte", B(HDR "\x02\x07\x01\x01\xff\x00\x00\x00\x00"), MAL, "malformed UTF-8 encoding", 12},
    {"utf8 overlong", B(HDR "\x07\x05\x01\x02\xc0\x80\x00"), MAL, "malformed UTF-8 encoding", 12},
    {"utf8 surrogate", B(HDR "\x07\x06\x01\x03\xed\xa0\x80\x00"), MAL, "malformed UTF-8 encoding", 12},
    {"utf8 above 10ffff", B(HDR "\x07\x07\x01\x04\xf4\x90\x80\x80\x00"), MAL, "malformed UTF-8 encoding", 12},
    {"utf8 truncated", B(HDR "\x07\x04\x01\x01\xc3\x00"), MAL, "malformed UTF-8 encoding", 12},
    {"custom name utf8", B(HDR "\x00\x02\x01\xff"), MAL, "malformed UTF-8 encoding", 11},
    {"name past section", B(HDR "\x07\x03\x01\x05\x61"), MAL, "length out of bounds", 12},
    /* entries */
    {"import kind", B(HDR "\x02\x05\x01\x00\x00\x05\x00"), MAL, "malformed import kind", 13}, /* 4: tag */
    {"mutability", B(HDR "\x06\x06\x01\x7f\x02\x41\x00\x0b"), MAL, "malformed mutability", 12},
    {"table reftype", B(HDR "\x04\x04\x01\x7f\x00\x00"), MAL, "malformed reference type", 11},
    {"limits flag 2", B(HDR "\x05\x03\x01\x02\x00"), MAL, "integer too large", 11},
    {"limits flag leb", B(HDR "\x05\x04\x01\x81\x00\x00"), MAL, "integer representation too long", 11},
    {"value type", B(HDR "\x01\x05\x01\x60\x01\x55\x00"), MAL, "malformed value type", 13},
    {"export kind", B(HDR "\x07\x04\x01\x00\x05\x00"), MAL, "malformed export kind", 12},
    {"elem kind", B(HDR "\x09\x04\x01\x08\x00\x00"), MAL, "malformed elements segment kind", 11},
    {"data kind", B(HDR "\x0b\x04\x01\x03\x00\x00"), MAL, "malformed data segment kind", 11},
    /* section consistency */
    {"funcs without code", B(ONE_FUNC), MAL, "function and code section have inconsistent lengths", 18},
    {"code without funcs", B(HDR "\x0a\x04\x01\x02\x00\x0b"), MAL,
     "function and code section have inconsistent lengths", 10},
    {"datacount without data", B(HDR "\x0c\x01\x01"), MAL, "data count and data section have inconsistent lengths",
     11},
    {"datacount mismatch", B(HDR "\x05\x03\x01\x00\x01" "\x0c\x01\x02" "\x0b\x07\x01\x00\x41\x00\x0b\x01\x61"), MAL,
     "data count and data section have inconsistent lengths", 18},
    /* function bodies (5.5.13, 5.4) */
    {"too many locals",
     B(ONE_FUNC "\x0a\x0f\x01\x0d\x02\xff\xff\xff\xff\x0f\x7f\xff\xff\xff\xff\x0f\x7f\x0b"), MAL,
     "too many locals", 29},
    {"over local limit", B(ONE_FUNC "\x0a\x08\x01\x06\x01\xff\xff\x0f\x7f\x0b"), LIM, "too many locals", 22},
    {"illegal opcode", B(ONE_FUNC "\x0a\x05\x01\x03\x00\xff\x0b"), MAL, "illegal opcode", 23},
    {"illegal fc opcode", B(ONE_FUNC "\x0a\x06\x01\x04\x00\xfc\x12\x0b"), MAL, "illegal opcode", 23},
    {"illegal fd opcode", B(ONE_FUNC "\x0a\x07\x01\x05\x00\xfd\x9a\x01\x0b"), MAL, "illegal opcode", 23},
    /* Wasm 3.0 (multi-memory): memory.size's byte is a memory index */
    {"memory.size index", B(HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x05\x03\x01\x00\x01"
                            "\x0a\x07\x01\x05\x00\x3f\x01\x1a\x0b"), INV, "unknown memory 1", 28},
    {"memop flags", B(HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x05\x03\x01\x00\x01"
                      "\x0a\x0b\x01\x09\x00\x41\x00\x28\x80\x01\x00\x1a\x0b"), MAL, "malformed memop flags", 31},
    {"memarg memory index", B(HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x05\x03\x01\x00\x01"
                              "\x0a\x0b\x01\x09\x00\x41\x00\x28\x42\x01\x00\x1a\x0b"), INV, "unknown memory 1", 30},
    {"missing end", B(ONE_FUNC "\x0a\x06\x01\x04\x00\x41\x01\x1a"), MAL, "unexpected end of section or function",
     26},
    {"bytes after end", B(ONE_FUNC "\x0a\x05\x01\x03\x00\x0b\x01"), MAL, "section size mismatch", 24},
    {"else without if", B(ONE_FUNC "\x0a\x05\x01\x03\x00\x05\x0b"), MAL, "END opcode expected", 23},
    {"ref.null type", B(ONE_FUNC "\x0a\x07\x01\x05\x00\xd0\x7f\x1a\x0b"), MAL, "malformed reference type", 24},
    {"data count required",
     B(HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x05\x03\x01\x00\x01"
           "\x0a\x07\x01\x05\x00\xfc\x09\x00\x0b" "\x0b\x04\x01\x01\x01\x61"),
     MAL, "data count section required", 28},
    /* counts far beyond the bytes present: no allocation, just an error */
    {"2^32 types", B(HDR "\x01\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 imports", B(HDR "\x02\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 functions", B(HDR "\x03\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 tables", B(HDR "\x04\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 globals", B(HDR "\x06\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 exports", B(HDR "\x07\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 elems", B(HDR "\x09\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 bodies", B(HDR "\x0a\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 data", B(HDR "\x0b\x05\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function", 15},
    {"2^32 params", B(HDR "\x01\x07\x01\x60\xff\xff\xff\xff\x0f"), MAL, "unexpected end of section or function",
     17},
    {"2^32 br_table",
     B(ONE_FUNC "\x0a\x0c\x01\x0a\x00\x41\x00\x0e\xff\xff\xff\xff\x0f\x0b"), MAL,
     "unexpected end of section or function", 31},
    /* validation errors carry the offset of the instruction */
    {"type mismatch", B(ONE_FUNC "\x0a\x06\x01\x04\x00\x41\x01\x0b"), INV, "type mismatch", 25},
    {"unknown type", B(ONE_FUNC "\x0a\x07\x01\x05\x00\x02\x03\x0b\x0b"), INV, "unknown type", 23},
    {"unknown local", B(ONE_FUNC "\x0a\x07\x01\x05\x00\x20\x03\x1a\x0b"), INV, "unknown local 3", 23},
};

static void check_case(const bad_case *c) {
  wg_error *err = NULL;
  wg_module *m = wg_module_new((const uint8_t *)c->bytes, c->len, &err);
  if (m) {
    test_failed_checks++;
    fprintf(stderr, "case \"%s\": accepted, want %s\n", c->what, c->msg);
    wg_module_delete(m);
    return;
  }
  if (!err) {
    test_failed_checks++;
    fprintf(stderr, "case \"%s\": no error object\n", c->what);
    return;
  }
  if (strcmp(wg_error_message(err), c->msg) || wg_error_offset(err) != c->offset ||
      wg_error_kind_of(err) != c->kind) {
    test_failed_checks++;
    fprintf(stderr, "case \"%s\": got kind %d \"%s\" at %zu, want kind %d \"%s\" at %zu\n", c->what,
            wg_error_kind_of(err), wg_error_message(err), wg_error_offset(err), c->kind, c->msg, c->offset);
  }
  wg_error_delete(err);
}

TEST(malformed_and_invalid_cases) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* WebAssembly 2.0 decoding (wg_module_new_features without the 3.0
 * features) keeps 2.0's errors for what multi-memory made valid. */
TEST(wasm2_features) {
  static const char two_mems[] = HDR "\x05\x05\x02\x00\x01\x00\x01";
  static const char long_zero[] = HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x05\x03\x01\x00\x01"
                                  "\x0a\x08\x01\x06\x00\x3f\x80\x00\x1a\x0b";
  static const char flags64[] = HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x05\x03\x01\x00\x01"
                                "\x0a\x0b\x01\x09\x00\x41\x00\x28\x42\x00\x00\x1a\x0b";
  static const char tag_section[] = HDR "\x01\x04\x01\x60\x00\x00" "\x0d\x03\x01\x00\x00";
  struct { const char *b; size_t n; const char *msg; } v[] = {
      {tag_section, sizeof tag_section - 1, "malformed section id"},
      {two_mems, sizeof two_mems - 1, "multiple memories"},
      {long_zero, sizeof long_zero - 1, "zero byte expected"},
      {flags64, sizeof flags64 - 1, "malformed memop flags"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    wg_error *err = NULL;
    wg_module *m = wg_module_new_features((const uint8_t *)v[i].b, v[i].n, WG_FEATURES_WASM2, &err);
    CHECK(m == NULL && err != NULL);
    if (err) CHECK_STR(wg_error_message(err), v[i].msg);
    wg_error_delete(err);
    /* the same bytes are valid WebAssembly 3.0 */
    m = wg_module_new((const uint8_t *)v[i].b, v[i].n, &err);
    CHECK(m != NULL);
    if (err) fprintf(stderr, "3.0: %s\n", wg_error_message(err));
    wg_error_delete(err);
    wg_module_delete(m);
  }
}

TEST(minimal_module) {
  wg_error *err = NULL;
  wg_module *m = wg_module_new((const uint8_t *)HDR, 8, &err);
  REQUIRE(m != NULL);
  CHECK(err == NULL);
  CHECK(wg_module_func_count(m) == 0);
  CHECK(wg_module_import_count(m) == 0);
  CHECK(wg_module_export_count(m) == 0);
  wg_module_delete(m);
}

/* Imports, exports and the name section, through the public API. */
TEST(imports_exports_names) {
  static const char bytes[] =
      HDR "\x01\x04\x01\x60\x00\x00"                   /* type () -> () */
      "\x02\x0b\x01\x03" "env" "\x03" "log" "\x00\x00"             /* import env.log: func type 0 */
      "\x03\x02\x01\x00"                               /* one function */
      "\x07\x07\x01\x03" "run" "\x00\x01"                    /* export "run" = func 1 */
      "\x0a\x04\x01\x02\x00\x0b"                       /* body: end */
      "\x00\x12\x04" "name" "\x01\x0b\x02\x00\x03" "log" "\x01\x03" "run"; /* names: 0 log, 1 run */
  wg_error *err = NULL;
  wg_module *m = wg_module_new((const uint8_t *)bytes, sizeof bytes - 1, &err);
  if (!m) fprintf(stderr, "%s at %zu\n", wg_error_message(err), wg_error_offset(err));
  REQUIRE(m != NULL);
  CHECK(wg_module_func_count(m) == 2);
  wg_extern_desc d;
  REQUIRE(wg_module_import_count(m) == 1);
  REQUIRE(wg_module_import(m, 0, &d));
  CHECK_STR(d.module, "env");
  CHECK_STR(d.name, "log");
  CHECK(d.kind == WG_EXTERN_FUNC && d.index == 0);
  CHECK(!wg_module_import(m, 1, &d));
  REQUIRE(wg_module_export_count(m) == 1);
  REQUIRE(wg_module_export(m, 0, &d));
  CHECK_STR(d.name, "run");
  CHECK(d.name_len == 3 && d.module == NULL);
  CHECK(d.kind == WG_EXTERN_FUNC && d.index == 1);
  CHECK_STR(wg_module_func_name(m, 0), "log");
  CHECK_STR(wg_module_func_name(m, 1), "run");
  CHECK(wg_module_func_name(m, 2) == NULL);
  wg_module_delete(m);
}

/* A malformed name section is ignored (spec 7.4.1): the module stays valid. */
TEST(malformed_name_section_ignored) {
  static const char bytes[] = HDR "\x00\x08\x04" "name" "\x01\x05\xff";
  wg_error *err = NULL;
  wg_module *m = wg_module_new((const uint8_t *)bytes, sizeof bytes - 1, &err);
  CHECK(m != NULL);
  wg_module_delete(m);
  wg_error_delete(err);
}

/* The input is copied: the caller may overwrite it after wg_module_new. */
TEST(input_is_copied) {
  char bytes[] = HDR "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00" "\x07\x07\x01\x03" "run" "\x00\x00"
                     "\x0a\x04\x01\x02\x00\x0b";
  wg_module *m = wg_module_new((const uint8_t *)bytes, sizeof bytes - 1, NULL);
  REQUIRE(m != NULL);
  memset(bytes, 'x', sizeof bytes);
  wg_extern_desc d;
  REQUIRE(wg_module_export(m, 0, &d));
  CHECK_STR(d.name, "run");
  wg_module_delete(m);
}

/* The decoder's own memory is proportional to what the module declares, not
 * to its size in bytes: a 4 MB module of one custom section (and one of a
 * thousand small custom sections) keeps a few KB of records, where a table
 * sized by the input once held one 32-byte record per 2 bytes (64 MB). */
TEST(section_records_sized_by_sections) {
  const size_t payload = 4u << 20;
  size_t len = 8 + 1 + 5 + 2 + payload;
  uint8_t *b = malloc(len);
  REQUIRE(b);
  memcpy(b, HDR, 8);
  size_t n = 8;
  b[n++] = 0; /* custom section */
  uint32_t size = (uint32_t)(2 + payload);
  for (int i = 0; i < 5; i++) b[n++] = (uint8_t)((size >> (7 * i)) & 0x7F) | (i < 4 ? 0x80 : 0);
  b[n++] = 1; /* name "x" */
  b[n++] = 'x';
  memset(b + n, 0xAB, payload);
  wg_error *err = NULL;
  wg_module *m = wg_module_new(b, len, &err);
  REQUIRE(m);
  CHECK(m->nsections == 1);
  CHECK(wg_arena_bytes(&m->arena) < 64 * 1024);
  wg_module_delete(m);

  /* 1000 empty custom sections named "y": every one gets its record. */
  uint8_t *c = malloc(8 + 1000 * 4);
  REQUIRE(c);
  memcpy(c, HDR, 8);
  n = 8;
  for (size_t i = 0; i < 1000; i++) c[n++] = 0, c[n++] = 2, c[n++] = 1, c[n++] = 'y';
  m = wg_module_new(c, n, &err);
  REQUIRE(m);
  CHECK(m->nsections == 1000);
  CHECK(m->sections[999].offset == n - 2);
  CHECK(wg_arena_bytes(&m->arena) < 128 * 1024);
  wg_module_delete(m);
  free(c);
  free(b);
}

int main(void) {
  RUN(malformed_and_invalid_cases);
  RUN(wasm2_features);
  RUN(minimal_module);
  RUN(imports_exports_names);
  RUN(malformed_name_section_ignored);
  RUN(input_is_copied);
  RUN(section_records_sized_by_sections);
  return test_summary();
}
