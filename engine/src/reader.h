/*
 * reader.h: bounds-checked reading of the WebAssembly binary format's
 * primitives (spec 5.1, 5.2): bytes, LEB128 integers with the spec's exact
 * length and value limits, floats, names (with UTF-8 validation).
 *
 * A reader covers [p, end) of a buffer that starts at `base` (so errors can
 * give absolute offsets). Every function returns false after recording the
 * first error in `diag`; on success it advances `p`. Nothing here allocates.
 */
#ifndef WG_READER_H
#define WG_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "diag.h"

typedef struct wg_reader {
  const uint8_t *p, *end;
  const uint8_t *base;
  wg_diag *diag;
  /* Message for reading past `end`: "unexpected end" at the top level,
   * "unexpected end of section or function" inside a section or a body. */
  const char *eof_msg;
} wg_reader;

#define WG_MSG_EOF "unexpected end"
#define WG_MSG_EOF_SECTION "unexpected end of section or function"

static inline size_t rd_offset(const wg_reader *r) { return (size_t)(r->p - r->base); }
static inline size_t rd_left(const wg_reader *r) { return (size_t)(r->end - r->p); }
static inline bool rd_done(const wg_reader *r) { return r->p >= r->end; }

static inline bool rd_malformed(wg_reader *r, const char *msg) {
  return wg_fail(r->diag, WG_ERROR_MALFORMED, rd_offset(r), "%s", msg);
}

static inline bool rd_eof(wg_reader *r) { return rd_malformed(r, r->eof_msg); }

/* Reports a malformed byte that was just consumed (at p - 1). */
static inline bool rd_bad_byte(wg_reader *r, const char *msg) {
  return wg_fail(r->diag, WG_ERROR_MALFORMED, rd_offset(r) - 1, "%s", msg);
}

static inline bool rd_u8(wg_reader *r, uint8_t *out) {
  if (r->p >= r->end) return rd_eof(r);
  *out = *r->p++;
  return true;
}

/* Unsigned LEB128 of at most `bits` bits (spec 5.2.2): at most ceil(bits/7)
 * bytes ("integer representation too long"), and the unused bits of the last
 * byte must be zero ("integer too large"). */
static inline bool rd_uleb(wg_reader *r, unsigned bits, uint64_t *out) {
  uint64_t v = 0;
  unsigned shift = 0;
  const unsigned maxbytes = (bits + 6) / 7;
  for (unsigned i = 0;; i++) {
    if (r->p >= r->end) return rd_eof(r);
    uint8_t b = *r->p++;
    if (i == maxbytes - 1) {
      if (b & 0x80) return rd_bad_byte(r, "integer representation too long");
      unsigned used = bits - shift; /* bits this byte may carry */
      if (used < 7 && (b >> used) != 0) return rd_bad_byte(r, "integer too large");
      v |= (uint64_t)b << shift;
      break;
    }
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  *out = v;
  return true;
}

static inline bool rd_u32(wg_reader *r, uint32_t *out) {
  /* Fast path: one byte. */
  if (r->p < r->end && !(*r->p & 0x80)) {
    *out = *r->p++;
    return true;
  }
  uint64_t v = 0;
  if (!rd_uleb(r, 32, &v)) return false;
  *out = (uint32_t)v;
  return true;
}

/* Signed LEB128 of at most `bits` bits: the unused bits of the last byte must
 * be a sign extension of the value ("integer too large"). */
static inline bool rd_sleb(wg_reader *r, unsigned bits, int64_t *out) {
  uint64_t v = 0;
  unsigned shift = 0;
  const unsigned maxbytes = (bits + 6) / 7;
  uint8_t b;
  for (unsigned i = 0;; i++) {
    if (r->p >= r->end) return rd_eof(r);
    b = *r->p++;
    if (i == maxbytes - 1) {
      if (b & 0x80) return rd_bad_byte(r, "integer representation too long");
      unsigned used = bits - shift; /* value bits this byte may carry, sign included */
      if (used < 7) {
        /* bits [used-1, 6] must all equal the sign bit */
        int sign = (b >> (used - 1)) & 1;
        uint8_t rest = (uint8_t)(b >> (used - 1)) & (uint8_t)(0x7F >> (used - 1));
        uint8_t want = sign ? (uint8_t)(0x7F >> (used - 1)) : 0;
        if (rest != want) return rd_bad_byte(r, "integer too large");
      }
      v |= (uint64_t)(b & 0x7F) << shift;
      shift += 7;
      break;
    }
    v |= (uint64_t)(b & 0x7F) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
  *out = (int64_t)v;
  return true;
}

static inline bool rd_s32(wg_reader *r, int32_t *out) {
  int64_t v = 0;
  if (!rd_sleb(r, 32, &v)) return false;
  *out = (int32_t)v;
  return true;
}

static inline bool rd_s64(wg_reader *r, int64_t *out) { return rd_sleb(r, 64, out); }

static inline bool rd_bytes(wg_reader *r, size_t n, const uint8_t **out) {
  if (rd_left(r) < n) return rd_eof(r);
  *out = r->p;
  r->p += n;
  return true;
}

static inline bool rd_fixed32(wg_reader *r, uint32_t *out) {
  const uint8_t *b;
  if (!rd_bytes(r, 4, &b)) return false;
  *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return true;
}

static inline bool rd_fixed64(wg_reader *r, uint64_t *out) {
  uint32_t lo, hi;
  if (!rd_fixed32(r, &lo) || !rd_fixed32(r, &hi)) return false;
  *out = (uint64_t)hi << 32 | lo;
  return true;
}

/* Returns true when [s, s+n) is well-formed UTF-8 (Unicode 5.2.4 of the spec:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
bool wg_utf8_valid(const uint8_t *s, size_t n);

/* A name (spec 5.2.4): u32 length, then that many bytes of UTF-8.
 * "length out of bounds" when the length passes the end, "malformed UTF-8
 * encoding" when the bytes are not UTF-8. */
static inline bool rd_name(wg_reader *r, const uint8_t **out, uint32_t *len) {
  if (!rd_u32(r, len)) return false;
  if (rd_left(r) < *len) return rd_malformed(r, "length out of bounds");
  if (!wg_utf8_valid(r->p, *len)) return rd_malformed(r, "malformed UTF-8 encoding");
  *out = r->p;
  r->p += *len;
  return true;
}

#endif
