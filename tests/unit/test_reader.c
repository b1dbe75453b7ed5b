/*
 * test_reader.c: the binary format's primitives (reader.h, utf8.c): LEB128
 * length and value limits (spec 5.2.2) and UTF-8 validation (5.2.4).
 */
#include <stdint.h>

#include "reader.h"
#include "test.h"

static wg_diag diag;

static wg_reader reader_of(const char *s, size_t n) {
  memset(&diag, 0, sizeof diag);
  return (wg_reader){(const uint8_t *)s, (const uint8_t *)s + n, (const uint8_t *)s, &diag, WG_MSG_EOF};
}

static const char *u32_result(const char *s, size_t n, uint32_t *v) {
  wg_reader r = reader_of(s, n);
  return rd_u32(&r, v) ? NULL : diag.msg;
}

static const char *s32_result(const char *s, size_t n, int32_t *v) {
  wg_reader r = reader_of(s, n);
  return rd_s32(&r, v) ? NULL : diag.msg;
}

static const char *s64_result(const char *s, size_t n, int64_t *v) {
  wg_reader r = reader_of(s, n);
  return rd_s64(&r, v) ? NULL : diag.msg;
}

TEST(u32) {
  uint32_t v = 0;
  CHECK(!u32_result("\x00", 1, &v) && v == 0);
  CHECK(!u32_result("\x7f", 1, &v) && v == 127);
  CHECK(!u32_result("\x80\x01", 2, &v) && v == 128);
  CHECK(!u32_result("\x80\x00", 2, &v) && v == 0); /* padded zero is allowed */
  CHECK(!u32_result("\xff\xff\xff\xff\x0f", 5, &v) && v == UINT32_MAX);
  CHECK(!u32_result("\x80\x80\x80\x80\x00", 5, &v) && v == 0);
  CHECK_STR(u32_result("\xff\xff\xff\xff\x1f", 5, &v), "integer too large");
  CHECK_STR(u32_result("\x80\x80\x80\x80\x10", 5, &v), "integer too large");
  CHECK_STR(u32_result("\x80\x80\x80\x80\x80\x00", 6, &v), "integer representation too long");
  CHECK_STR(u32_result("\x80\x80", 2, &v), "unexpected end");
  CHECK_STR(u32_result("", 0, &v), "unexpected end");
}

TEST(s32) {
  int32_t v = 0;
  CHECK(!s32_result("\x7f", 1, &v) && v == -1);
  CHECK(!s32_result("\x3f", 1, &v) && v == 63);
  CHECK(!s32_result("\x40", 1, &v) && v == -64);
  CHECK(!s32_result("\xff\x7f", 2, &v) && v == -1);
  CHECK(!s32_result("\x80\x80\x80\x80\x78", 5, &v) && v == INT32_MIN);
  CHECK(!s32_result("\xff\xff\xff\xff\x07", 5, &v) && v == INT32_MAX);
  CHECK(!s32_result("\xff\xff\xff\xff\x7f", 5, &v) && v == -1);
  CHECK_STR(s32_result("\x80\x80\x80\x80\x70", 5, &v), "integer too large");
  CHECK_STR(s32_result("\xff\xff\xff\xff\x0f", 5, &v), "integer too large");
  CHECK_STR(s32_result("\xff\xff\xff\xff\x4f", 5, &v), "integer too large");
  CHECK_STR(s32_result("\x80\x80\x80\x80\x80\x00", 6, &v), "integer representation too long");
}

TEST(s64) {
  int64_t v = 0;
  CHECK(!s64_result("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 10, &v) && v == INT64_MIN);
  CHECK(!s64_result("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 10, &v) && v == INT64_MAX);
  CHECK(!s64_result("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, &v) && v == -1);
  CHECK_STR(s64_result("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10, &v), "integer too large");
  CHECK_STR(s64_result("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7e", 10, &v), "integer too large");
  CHECK_STR(s64_result("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11, &v), "integer representation too long");
}

TEST(utf8) {
  CHECK(wg_utf8_valid((const uint8_t *)"", 0));
  CHECK(wg_utf8_valid((const uint8_t *)"plain ascii\0with nul", 20));
  CHECK(wg_utf8_valid((const uint8_t *)"\xc3\xa9", 2));         /* é */
  CHECK(wg_utf8_valid((const uint8_t *)"\xe2\x82\xac", 3));     /* € */
  CHECK(wg_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4)); /* U+1F600 */
  CHECK(wg_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
  CHECK(wg_utf8_valid((const uint8_t *)"\xed\x9f\xbf", 3));     /* U+D7FF */
  CHECK(!wg_utf8_valid((const uint8_t *)"\x80", 1));            /* lone continuation */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xc0\x80", 2));        /* overlong NUL */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xc1\xbf", 2));        /* overlong */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xe0\x9f\xbf", 3));    /* overlong 3-byte */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));    /* surrogate U+D800 */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xf0\x8f\xbf\xbf", 4)); /* overlong 4-byte */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* U+110000 */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xf5\x80\x80\x80", 4));
  CHECK(!wg_utf8_valid((const uint8_t *)"\xe2\x82", 2));        /* truncated */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xe2\x28\xa1", 3));    /* bad continuation */
  CHECK(!wg_utf8_valid((const uint8_t *)"\xff", 1));
}

int main(void) {
  RUN(u32);
  RUN(s32);
  RUN(s64);
  RUN(utf8);
  return test_summary();
}
