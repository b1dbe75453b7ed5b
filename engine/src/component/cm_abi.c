/*
 * cm_abi.c: the synchronous canonical ABI (component-model
 * design/mvp/CanonicalABI.md "Lifting and Lowering Values"): sizes and
 * alignment of 32-bit memories, load/store of every value type, flat
 * lifting/lowering with the variant payload coercions, the 16-parameter /
 * 1-result limits with spilling through memory, string transcoding between
 * UTF-8 (the host's wg_cval) and utf8, utf16 and latin1+utf16 guests, and
 * realloc. Traps carry wasmtime's messages, which the component-model
 * test suite's assert_trap commands use.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cm_rt.h"

wg_trap *cm_trap(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return wg_trap_new(WG_TRAP_HOST, buf);
}

/* ------------------------------------------------------------ values */

void wg_cval_free(wg_cval *v) {
  if (!v) return;
  switch (v->kind) {
  case WG_CVAL_STRING: free(v->of.str.ptr); break;
  case WG_CVAL_BYTES: free(v->of.bytes.ptr); break;
  case WG_CVAL_LIST: case WG_CVAL_RECORD: case WG_CVAL_TUPLE:
    for (size_t i = 0; i < v->of.seq.len; i++) wg_cval_free(&v->of.seq.ptr[i]);
    free(v->of.seq.ptr);
    break;
  case WG_CVAL_VARIANT: case WG_CVAL_OPTION: case WG_CVAL_RESULT:
    if (v->of.var.val) wg_cval_free(v->of.var.val);
    free(v->of.var.val);
    break;
  default: break;
  }
  memset(v, 0, sizeof *v);
  v->kind = WG_CVAL_BOOL;
}

bool wg_cval_string(wg_cval *v, const char *s, size_t len) {
  v->kind = WG_CVAL_STRING;
  v->of.str.len = len;
  if (!(v->of.str.ptr = malloc(len ? len : 1))) return false;
  if (len) memcpy(v->of.str.ptr, s, len);
  return true;
}

bool wg_cval_bytes(wg_cval *v, const uint8_t *b, size_t len) {
  v->kind = WG_CVAL_BYTES;
  v->of.bytes.len = len;
  if (!(v->of.bytes.ptr = malloc(len ? len : 1))) return false;
  if (len) memcpy(v->of.bytes.ptr, b, len);
  return true;
}

wg_cval *wg_cval_array(size_t n) { return calloc(n ? n : 1, sizeof(wg_cval)); }

/* Whether list type `t` is a list<u8>: lifted as one BYTES value. */
static bool is_bytes(const cm_type *t) { return t->kind == CM_LIST && cm_root(t->elem)->kind == CM_U8; }

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

/* The payload type of case `c` of a variant, option or result. */
static const cm_type *case_type(const cm_type *t, uint32_t c) {
  if (t->kind == CM_VARIANT) return t->fields[c].type;
  if (t->kind == CM_OPTION) return c ? t->elem : NULL;
  return c ? t->elem2 : t->elem;
}
static uint32_t case_count(const cm_type *t) { return t->kind == CM_VARIANT ? t->n : 2; }

static const wg_cval_kind kind_of[] = {
    [CM_BOOL] = WG_CVAL_BOOL,     [CM_S8] = WG_CVAL_S8,         [CM_U8] = WG_CVAL_U8,         [CM_S16] = WG_CVAL_S16,
    [CM_U16] = WG_CVAL_U16,       [CM_S32] = WG_CVAL_S32,       [CM_U32] = WG_CVAL_U32,       [CM_S64] = WG_CVAL_S64,
    [CM_U64] = WG_CVAL_U64,       [CM_F32] = WG_CVAL_F32,       [CM_F64] = WG_CVAL_F64,       [CM_CHAR] = WG_CVAL_CHAR,
    [CM_STRING] = WG_CVAL_STRING, [CM_RECORD] = WG_CVAL_RECORD, [CM_VARIANT] = WG_CVAL_VARIANT,
    [CM_LIST] = WG_CVAL_LIST,     [CM_FIXED_LIST] = WG_CVAL_LIST, [CM_TUPLE] = WG_CVAL_TUPLE,
    [CM_FLAGS] = WG_CVAL_FLAGS,   [CM_ENUM] = WG_CVAL_ENUM,     [CM_OPTION] = WG_CVAL_OPTION,
    [CM_RESULT] = WG_CVAL_RESULT, [CM_OWN] = WG_CVAL_OWN,       [CM_BORROW] = WG_CVAL_BORROW,
    [CM_MAP] = WG_CVAL_LIST,
};

bool cm_cval_matches(const cm_type *t, const wg_cval *v) {
  t = cm_root(t);
  if (v->kind == WG_CVAL_BYTES) return t && is_bytes(t);
  if (!t || t->kind > CM_MAP || !kind_of[t->kind] || v->kind != kind_of[t->kind]) return false;
  switch (t->kind) {
  case CM_RECORD: case CM_TUPLE:
    if (v->of.seq.len != t->n) return false;
    for (uint32_t i = 0; i < t->n; i++)
      if (!cm_cval_matches(t->fields[i].type, &v->of.seq.ptr[i])) return false;
    return true;
  case CM_LIST: case CM_FIXED_LIST: case CM_MAP: {
    if (t->kind == CM_FIXED_LIST && v->of.seq.len != t->len) return false;
    cm_type tmp;
    cm_field f[2];
    const cm_type *et = cm_list_elem(t, &tmp, f);
    for (size_t i = 0; i < v->of.seq.len; i++)
      if (!cm_cval_matches(et, &v->of.seq.ptr[i])) return false;
    return true;
  }
  case CM_ENUM: return v->of.var.disc < t->n;
  case CM_FLAGS: return t->n >= 32 || !(v->of.flags >> t->n);
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    if (v->of.var.disc >= case_count(t)) return false;
    const cm_type *ct = case_type(t, v->of.var.disc);
    if (!ct) return v->of.var.val == NULL;
    return v->of.var.val && cm_cval_matches(ct, v->of.var.val);
  }
  case CM_CHAR: return v->of.c < 0x110000 && !(v->of.c >= 0xD800 && v->of.c < 0xE000);
  default: return true;
  }
}

/* A map<K, V> is a list of (K, V) tuples in the ABI: `tmp` becomes that tuple. */
const cm_type *cm_list_elem(const cm_type *t, cm_type *tmp, cm_field *f) {
  if (t->kind != CM_MAP) return t->elem;
  memset(tmp, 0, sizeof *tmp);
  tmp->kind = CM_TUPLE;
  tmp->n = 2;
  tmp->fields = f;
  f[0] = (cm_field){.type = t->elem};
  f[1] = (cm_field){.type = t->elem2};
  return tmp;
}

/* ------------------------------------------------------------ sizes */

#define CM_MAX_LIFTED_LIST (64u << 20)

static uint32_t align_to(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }
static uint32_t disc_size(uint32_t n) { return n <= 256 ? 1 : n <= 65536 ? 2 : 4; }

static uint32_t abi_align(const cm_type *t);
static uint32_t abi_size(const cm_type *t);

/* Memoized in the type (cm_type.abi_align / abi_size1): lowering and lifting ask for the same
 * types' layouts at every call (a third of a wasi:http request's instructions before). */
uint32_t cm_abi_align(const cm_type *t) {
  t = cm_root(t);
  if (!t) return 1;
  cm_type *m = (cm_type *)t;
  uint32_t a = atomic_load_explicit(&m->abi_align, memory_order_relaxed);
  if (!a) atomic_store_explicit(&m->abi_align, a = abi_align(t), memory_order_relaxed);
  return a;
}

/* Sizes are below 2^28 for every validated type (Binary.md). */
uint32_t cm_abi_size(const cm_type *t) {
  t = cm_root(t);
  if (!t) return 0;
  cm_type *m = (cm_type *)t;
  uint32_t s1 = atomic_load_explicit(&m->abi_size1, memory_order_relaxed);
  if (!s1) atomic_store_explicit(&m->abi_size1, s1 = abi_size(t) + 1, memory_order_relaxed);
  return s1 - 1;
}

static uint32_t abi_align(const cm_type *t) {
  switch (t->kind) {
  case CM_BOOL: case CM_S8: case CM_U8: return 1;
  case CM_S16: case CM_U16: return 2;
  case CM_S64: case CM_U64: case CM_F64: return 8;
  case CM_FLAGS: return t->n <= 8 ? 1 : t->n <= 16 ? 2 : 4;
  case CM_ENUM: return disc_size(t->n);
  case CM_FIXED_LIST: return cm_abi_align(t->elem);
  case CM_RECORD: case CM_TUPLE: {
    uint32_t a = 1;
    for (uint32_t i = 0; i < t->n; i++) {
      uint32_t fa = cm_abi_align(t->fields[i].type);
      if (fa > a) a = fa;
    }
    return a;
  }
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint32_t a = disc_size(case_count(t));
    for (uint32_t c = 0; c < case_count(t); c++) {
      uint32_t ca = cm_abi_align(case_type(t, c));
      if (ca > a) a = ca;
    }
    return a;
  }
  default: return 4; /* i32-sized: ints, floats, char, handles; string/list pointers */
  }
}

static uint32_t max_case_align(const cm_type *t) {
  uint32_t a = 1;
  for (uint32_t c = 0; c < case_count(t); c++) {
    uint32_t ca = cm_abi_align(case_type(t, c));
    if (ca > a) a = ca;
  }
  return a;
}

static uint32_t abi_size(const cm_type *t) {
  switch (t->kind) {
  case CM_BOOL: case CM_S8: case CM_U8: return 1;
  case CM_S16: case CM_U16: return 2;
  case CM_S64: case CM_U64: case CM_F64: return 8;
  case CM_STRING: case CM_LIST: case CM_MAP: return 8;
  case CM_FLAGS: return t->n <= 8 ? 1 : t->n <= 16 ? 2 : 4;
  case CM_ENUM: return disc_size(t->n);
  case CM_FIXED_LIST: return cm_abi_size(t->elem) * t->len;
  case CM_RECORD: case CM_TUPLE: {
    uint32_t s = 0;
    for (uint32_t i = 0; i < t->n; i++) s = align_to(s, cm_abi_align(t->fields[i].type)) + cm_abi_size(t->fields[i].type);
    return align_to(s, cm_abi_align(t));
  }
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint32_t s = align_to(disc_size(case_count(t)), max_case_align(t)), m = 0;
    for (uint32_t c = 0; c < case_count(t); c++) {
      uint32_t cs = cm_abi_size(case_type(t, c));
      if (cs > m) m = cs;
    }
    return align_to(s + m, cm_abi_align(t));
  }
  default: return 4;
  }
}

/* ------------------------------------------------------------ memory */

static uint8_t *mem_at(cm_cx *cx, uint32_t ptr, uint32_t len) {
  if (!cx->o->mem) return NULL;
  uint64_t size = wg_memory_size(cx->o->mem);
  if ((uint64_t)ptr + len > size) return NULL;
  return wg_memory_data(cx->o->mem) + ptr;
}

static uint64_t rd(const uint8_t *p, uint32_t n) {
  uint64_t v = 0;
  for (uint32_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}
static void wr(uint8_t *p, uint64_t v, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* realloc(0, 0, align, size) with the checks of CanonicalABI.md's
 * reallocate: the result must be aligned and in bounds. */
static wg_trap *cm_realloc(cm_cx *cx, uint32_t align, uint32_t size, uint32_t *out) {
  if (!cx->o->realloc_fn || !cx->o->mem) return cm_trap("canonical option `realloc` is required");
  wg_val args[4] = {{.kind = WG_I32}, {.kind = WG_I32}, {.kind = WG_I32, .of.i32 = (int32_t)align},
                    {.kind = WG_I32, .of.i32 = (int32_t)size}};
  wg_val res = {.kind = WG_I32};
  bool leave = cx->inst->may_leave;
  cx->inst->may_leave = false;
  wg_trap *tr = wg_func_call(cx->store, cx->o->realloc_fn, args, 4, &res, 1);
  cx->inst->may_leave = leave;
  if (tr) return tr;
  uint32_t p = (uint32_t)res.of.i32;
  if (p % align) return cm_trap(cx->fused ? "unaligned pointer" : "realloc return: result not aligned");
  if (!mem_at(cx, p, size)) return cm_trap(cx->fused ? "list content out-of-bounds" : "realloc return: beyond end of memory");
  *out = p;
  return NULL;
}

/* ------------------------------------------------------------ strings */

/* Decodes one UTF-8 scalar at s[0..n); returns its length, 0 when invalid
 * (*incomplete when the sequence is cut short). */
static uint32_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp, bool *incomplete) {
  uint8_t b = s[0];
  uint32_t len, c;
  if (b < 0x80) { *cp = b; return 1; }
  if (b >= 0xC2 && b <= 0xDF) len = 2, c = b & 0x1F;
  else if (b >= 0xE0 && b <= 0xEF) len = 3, c = b & 0x0F;
  else if (b >= 0xF0 && b <= 0xF4) len = 4, c = b & 0x07;
  else return 0;
  for (uint32_t i = 1; i < len; i++) {
    if (i >= n) { *incomplete = true; return 0; }
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = c << 6 | (s[i] & 0x3F);
  }
  if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c < 0xE000))) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
    return 0;
  *cp = c;
  return len;
}

static size_t utf8_put(char *o, uint32_t c) {
  if (c < 0x80) { o[0] = (char)c; return 1; }
  if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* NULL when s[0..n) is well-formed UTF-8, else the spec's trap. ASCII is
 * skipped eight bytes at a time, then byte by byte, without decoding. */
static wg_trap *utf8_check(const uint8_t *s, uint32_t n) {
  uint32_t i = 0;
  if (n < 8) { /* short strings (names, keys): one pass for the all-ASCII case */
    uint8_t any = 0;
    for (uint32_t k = 0; k < n; k++) any |= s[k];
    if (!(any & 0x80)) return NULL;
  }
  while (i < n) {
    uint64_t w;
    while (n - i >= 8 && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ull))) i += 8;
    while (i < n && s[i] < 0x80) i++;
    if (i == n) break;
    uint32_t cp;
    bool inc = false;
    uint32_t l = utf8_next(s + i, n - i, &cp, &inc);
    if (!l) return cm_trap(inc ? "incomplete utf-8 byte sequence" : "invalid utf-8");
    i += l;
  }
  return NULL;
}

#define UTF16_TAG 0x80000000u

/* CanonicalABI.md load_string_from_range, into a UTF-8 wg_cval. */
static wg_trap *lift_string(cm_cx *cx, uint32_t ptr, uint32_t tagged, wg_cval *out) {
  uint32_t enc = cx->o->encoding, units = tagged, usize = 1;
  if (enc == 1) usize = 2;
  else if (enc == 2 && (tagged & UTF16_TAG)) usize = 2, units = tagged ^ UTF16_TAG;
  if (enc != 0 && ptr % 2) return cm_trap("unaligned pointer");
  uint64_t bytes = (uint64_t)units * usize;
  const uint8_t *p = bytes > UINT32_MAX ? NULL : mem_at(cx, ptr, (uint32_t)bytes);
  if (!p) return cm_trap(cx->fused ? "string content out-of-bounds" : "string pointer/length out of bounds of memory");
  out->kind = WG_CVAL_STRING;
  if (enc == 0) {
    wg_trap *tr = utf8_check(p, units);
    if (tr) return tr;
    if (cx->borrow_strings) { /* a view of guest memory for a host call (cm_unborrow before freeing) */
      out->of.str.ptr = (char *)p;
      out->of.str.len = units;
      return NULL;
    }
    return wg_cval_string(out, (const char *)p, units) ? NULL : oom();
  }
  char *s = malloc((size_t)units * 3 + 1);
  if (!s) return oom();
  size_t n = 0;
  for (uint32_t i = 0; i < units; i++) {
    uint32_t c = usize == 1 ? p[i] : (uint32_t)rd(p + 2 * i, 2);
    if (usize == 2 && c >= 0xD800 && c < 0xE000) {
      uint32_t lo = i + 1 < units ? (uint32_t)rd(p + 2 * (i + 1), 2) : 0;
      if (c >= 0xDC00 || lo < 0xDC00 || lo >= 0xE000) {
        free(s);
        return cm_trap("invalid utf-16");
      }
      c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
      i++;
    }
    n += utf8_put(s + n, c);
  }
  out->of.str.ptr = s;
  out->of.str.len = n;
  return NULL;
}

/* CanonicalABI.md store_string: transcodes the UTF-8 value into the
 * guest's encoding in a realloc'd block (sized exactly). */
static wg_trap *lower_string(cm_cx *cx, const wg_cval *v, uint32_t *pptr, uint32_t *plen) {
  const uint8_t *s = (const uint8_t *)v->of.str.ptr;
  size_t n = v->of.str.len;
  if (n >= UTF16_TAG) return cm_trap("string length too large");
  uint32_t enc = cx->o->encoding;
  if (enc == 0) {
    wg_trap *tr = cm_realloc(cx, 1, (uint32_t)n, pptr);
    if (tr) return tr;
    if (n) memcpy(mem_at(cx, *pptr, (uint32_t)n), s, n);
    *plen = (uint32_t)n;
    return NULL;
  }
  /* count UTF-16 code units and whether latin1 suffices */
  size_t units = 0;
  bool latin1 = true;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    bool inc = false;
    uint32_t l = utf8_next(s + i, n - i, &cp, &inc);
    if (!l) return cm_trap("invalid utf-8");
    units += cp >= 0x10000 ? 2 : 1;
    if (cp > 0xFF) latin1 = false;
    i += l;
  }
  bool narrow = enc == 2 && latin1;
  uint64_t bytes = narrow ? units : units * 2;
  if (bytes > UINT32_MAX / 2) return cm_trap("string length too large");
  uint32_t p;
  wg_trap *tr = cm_realloc(cx, 2, (uint32_t)bytes, &p);
  if (tr) return tr;
  uint8_t *d = mem_at(cx, p, (uint32_t)bytes);
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    bool inc = false;
    i += utf8_next(s + i, n - i, &cp, &inc);
    if (narrow) d[k++] = (uint8_t)cp;
    else if (cp >= 0x10000) {
      cp -= 0x10000;
      wr(d + 2 * k++, 0xD800 + (cp >> 10), 2);
      wr(d + 2 * k++, 0xDC00 + (cp & 0x3FF), 2);
    } else {
      wr(d + 2 * k++, cp, 2);
    }
  }
  *pptr = p;
  *plen = (uint32_t)units | (enc == 2 && !narrow ? UTF16_TAG : 0);
  return NULL;
}

/* ------------------------------------------------------------ load / store */

static wg_trap *load(cm_cx *cx, const cm_type *t, uint32_t ptr, wg_cval *out);

static wg_trap *check_char(uint32_t c) {
  return c >= 0x110000 || (c >= 0xD800 && c < 0xE000) ? cm_trap("invalid `char` bit pattern") : NULL;
}

static wg_trap *lift_list(cm_cx *cx, const cm_type *t, uint32_t ptr, uint32_t len, wg_cval *out) {
  cm_type tmp;
  cm_field f[2];
  const cm_type *et = cm_list_elem(t, &tmp, f);
  uint32_t es = cm_abi_size(et), ea = cm_abi_align(et);
  out->kind = WG_CVAL_LIST;
  if (ptr % ea) return cm_trap("unaligned pointer");
  uint64_t bytes = (uint64_t)len * es;
  const uint8_t *p = bytes > UINT32_MAX ? NULL : mem_at(cx, ptr, (uint32_t)bytes);
  if (!p) return cm_trap(cx->fused ? "list content out-of-bounds" : "list pointer/length out of bounds of memory");
  if (is_bytes(t)) { /* list<u8>: one byte array, a view of guest memory for a host call */
    if (cx->borrow_strings) {
      out->kind = WG_CVAL_BYTES;
      out->of.bytes.ptr = (uint8_t *)p;
      out->of.bytes.len = len;
      return NULL;
    }
    return wg_cval_bytes(out, p, len) ? NULL : oom();
  }
  /* a list becomes one wg_cval per element: a guest cannot make the host
   * allocate without bound (64M elements is 1.5 GiB of wg_cvals) */
  if (len > CM_MAX_LIFTED_LIST) return cm_trap("list too long to lift (%u elements)", len);
  if (!(out->of.seq.ptr = wg_cval_array(len))) return oom();
  out->of.seq.len = len;
  for (uint32_t i = 0; i < len; i++) {
    wg_trap *tr = load(cx, et, ptr + i * es, &out->of.seq.ptr[i]);
    if (tr) return tr;
  }
  return NULL;
}

static wg_trap *load(cm_cx *cx, const cm_type *t, uint32_t ptr, wg_cval *out) {
  t = cm_root(t);
  uint32_t size = cm_abi_size(t);
  const uint8_t *p = mem_at(cx, ptr, size);
  if (!p) return wg_trap_new(WG_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access");
  if (ptr % cm_abi_align(t)) return cm_trap("unaligned pointer");
  out->kind = t->kind <= CM_MAP ? kind_of[t->kind] : WG_CVAL_BOOL;
  switch (t->kind) {
  case CM_BOOL: out->of.b = p[0] != 0; return NULL;
  case CM_S8: out->of.s = (int8_t)p[0]; return NULL;
  case CM_S16: out->of.s = (int16_t)rd(p, 2); return NULL;
  case CM_S32: out->of.s = (int32_t)rd(p, 4); return NULL;
  case CM_S64: out->of.s = (int64_t)rd(p, 8); return NULL;
  case CM_U8: case CM_U16: case CM_U32: case CM_U64: out->of.u = rd(p, size); return NULL;
  case CM_F32: { uint32_t b = (uint32_t)rd(p, 4); memcpy(&out->of.f32, &b, 4); return NULL; }
  case CM_F64: { uint64_t b = rd(p, 8); memcpy(&out->of.f64, &b, 8); return NULL; }
  case CM_CHAR: out->of.c = (uint32_t)rd(p, 4); return check_char(out->of.c);
  case CM_STRING: return lift_string(cx, (uint32_t)rd(p, 4), (uint32_t)rd(p + 4, 4), out);
  case CM_LIST: case CM_MAP: return lift_list(cx, t, (uint32_t)rd(p, 4), (uint32_t)rd(p + 4, 4), out);
  case CM_FIXED_LIST: case CM_RECORD: case CM_TUPLE: {
    uint32_t n = t->kind == CM_FIXED_LIST ? t->len : t->n;
    if (!(out->of.seq.ptr = wg_cval_array(n))) return oom();
    out->of.seq.len = n;
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
      const cm_type *ft = t->kind == CM_FIXED_LIST ? t->elem : t->fields[i].type;
      off = align_to(off, cm_abi_align(ft));
      wg_trap *tr = load(cx, ft, ptr + off, &out->of.seq.ptr[i]);
      if (tr) return tr;
      off += cm_abi_size(ft);
    }
    return NULL;
  }
  case CM_FLAGS: out->of.flags = (uint32_t)rd(p, size); if (t->n < 32) out->of.flags &= (1u << t->n) - 1; return NULL;
  case CM_ENUM: case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint32_t ds = disc_size(t->kind == CM_ENUM ? t->n : case_count(t));
    uint32_t c = (uint32_t)rd(p, ds);
    if (c >= (t->kind == CM_ENUM ? t->n : case_count(t))) return cm_trap("invalid variant discriminant");
    out->of.var.disc = c;
    if (t->kind == CM_ENUM) return NULL;
    const cm_type *ct = case_type(t, c);
    if (!ct) return NULL;
    if (!(out->of.var.val = wg_cval_array(1))) return oom();
    return load(cx, ct, ptr + align_to(ds, max_case_align(t)), out->of.var.val);
  }
  case CM_OWN: return cm_lift_own(cx, t, (uint32_t)rd(p, 4), out);
  case CM_BORROW: return cm_lift_borrow(cx, t, (uint32_t)rd(p, 4), out);
  default: return cm_trap("type not supported by the synchronous canonical ABI");
  }
}

static wg_trap *store(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t ptr);

static wg_trap *lower_list(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t *pptr, uint32_t *plen) {
  cm_type tmp;
  cm_field f[2];
  const cm_type *et = cm_list_elem(t, &tmp, f);
  uint32_t es = cm_abi_size(et), ea = cm_abi_align(et);
  if (v->kind == WG_CVAL_BYTES) { /* list<u8> as one byte array: one copy */
    if (v->of.bytes.len > UINT32_MAX / 2) return cm_trap("list length too large");
    uint32_t p, n = (uint32_t)v->of.bytes.len;
    wg_trap *tr = cm_realloc(cx, 1, n, &p);
    if (tr) return tr;
    uint8_t *d = mem_at(cx, p, n);
    if (!d) return cm_trap("realloc return: beyond end of memory");
    if (n) memcpy(d, v->of.bytes.ptr, n);
    *pptr = p;
    *plen = n;
    return NULL;
  }
  uint64_t bytes = (uint64_t)v->of.seq.len * es;
  if (bytes > UINT32_MAX / 2) return cm_trap("list length too large");
  uint32_t p;
  wg_trap *tr = cm_realloc(cx, ea, (uint32_t)bytes, &p);
  if (tr) return tr;
  for (size_t i = 0; i < v->of.seq.len; i++)
    if ((tr = store(cx, et, &v->of.seq.ptr[i], p + (uint32_t)i * es))) return tr;
  *pptr = p;
  *plen = (uint32_t)v->of.seq.len;
  return NULL;
}

static wg_trap *store(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t ptr) {
  t = cm_root(t);
  uint32_t size = cm_abi_size(t);
  if (!mem_at(cx, ptr, size)) return wg_trap_new(WG_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access");
  if (ptr % cm_abi_align(t)) return cm_trap("unaligned pointer");
  wg_trap *tr = NULL;
  uint32_t a = 0, b = 0;
  uint64_t bits = 0;
  switch (t->kind) {
  case CM_BOOL: bits = v->of.b; break;
  case CM_S8: case CM_S16: case CM_S32: case CM_S64: bits = (uint64_t)v->of.s; break;
  case CM_U8: case CM_U16: case CM_U32: case CM_U64: bits = v->of.u; break;
  case CM_F32: { uint32_t x; memcpy(&x, &v->of.f32, 4); bits = x; break; }
  case CM_F64: memcpy(&bits, &v->of.f64, 8); break;
  case CM_CHAR: bits = v->of.c; break;
  case CM_FLAGS: bits = v->of.flags; break;
  case CM_ENUM: bits = v->of.var.disc; break;
  case CM_STRING: case CM_LIST: case CM_MAP:
    tr = t->kind == CM_STRING ? lower_string(cx, v, &a, &b) : lower_list(cx, t, v, &a, &b);
    if (tr) return tr;
    uint8_t *d = mem_at(cx, ptr, 8); /* memory may have moved */
    if (!d) return wg_trap_new(WG_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access");
    wr(d, a, 4);
    wr(d + 4, b, 4);
    return NULL;
  case CM_OWN: case CM_BORROW:
    tr = t->kind == CM_OWN ? cm_lower_own(cx, t, v, &a) : cm_lower_borrow(cx, t, v, &a);
    if (tr) return tr;
    bits = a;
    break;
  case CM_FIXED_LIST: case CM_RECORD: case CM_TUPLE: {
    uint32_t n = t->kind == CM_FIXED_LIST ? t->len : t->n, off = 0;
    for (uint32_t i = 0; i < n; i++) {
      const cm_type *ft = t->kind == CM_FIXED_LIST ? t->elem : t->fields[i].type;
      off = align_to(off, cm_abi_align(ft));
      if ((tr = store(cx, ft, &v->of.seq.ptr[i], ptr + off))) return tr;
      off += cm_abi_size(ft);
    }
    return NULL;
  }
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint32_t ds = disc_size(case_count(t));
    wr(mem_at(cx, ptr, ds), v->of.var.disc, ds);
    const cm_type *ct = case_type(t, v->of.var.disc);
    return ct ? store(cx, ct, v->of.var.val, ptr + align_to(ds, max_case_align(t))) : NULL;
  }
  default: return cm_trap("type not supported by the synchronous canonical ABI");
  }
  wr(mem_at(cx, ptr, size), bits, size);
  return NULL;
}

/* ------------------------------------------------------------ flat */

typedef struct flat_in {
  const wg_val *v;
  uint32_t i, n;
} flat_in;

/* The next flat value as `want`, undoing a variant's join (lift_flat's
 * CoerceValueIter): i32 from i64 wraps, floats from integer bits. */
static wg_val next(flat_in *in, uint8_t want) {
  wg_val v = in->i < in->n ? in->v[in->i] : (wg_val){.kind = (wg_valtype)want};
  in->i++;
  if (v.kind == want) return v;
  wg_val r = {.kind = (wg_valtype)want};
  uint64_t bits = v.kind == WG_I64 ? (uint64_t)v.of.i64 : (uint32_t)v.of.i32;
  if (v.kind == WG_F32) { uint32_t x; memcpy(&x, &v.of.f32, 4); bits = x; }
  if (v.kind == WG_F64) memcpy(&bits, &v.of.f64, 8);
  switch (want) {
  case WG_I32: r.of.i32 = (int32_t)(uint32_t)bits; break;
  case WG_I64: r.of.i64 = (int64_t)bits; break;
  case WG_F32: { uint32_t x = (uint32_t)bits; memcpy(&r.of.f32, &x, 4); break; }
  case WG_F64: memcpy(&r.of.f64, &bits, 8); break;
  }
  return r;
}

/* The common cases without copying a wg_val around. */
static inline int32_t next_i32(flat_in *in) {
  if (in->i < in->n && in->v[in->i].kind == WG_I32) return in->v[in->i++].of.i32;
  return next(in, WG_I32).of.i32;
}
static inline int64_t next_i64(flat_in *in) {
  if (in->i < in->n && in->v[in->i].kind == WG_I64) return in->v[in->i++].of.i64;
  return next(in, WG_I64).of.i64;
}

static wg_trap *lift_flat(cm_cx *cx, const cm_type *t, flat_in *in, wg_cval *out) {
  t = cm_root(t);
  out->kind = t->kind <= CM_MAP ? kind_of[t->kind] : WG_CVAL_BOOL;
  switch (t->kind) {
  case CM_BOOL: out->of.b = next_i32(in) != 0; return NULL;
  case CM_S8: out->of.s = (int8_t)next_i32(in); return NULL;
  case CM_S16: out->of.s = (int16_t)next_i32(in); return NULL;
  case CM_S32: out->of.s = next_i32(in); return NULL;
  case CM_U8: out->of.u = (uint8_t)next_i32(in); return NULL;
  case CM_U16: out->of.u = (uint16_t)next_i32(in); return NULL;
  case CM_U32: out->of.u = (uint32_t)next_i32(in); return NULL;
  case CM_S64: out->of.s = next_i64(in); return NULL;
  case CM_U64: out->of.u = (uint64_t)next_i64(in); return NULL;
  case CM_F32: out->of.f32 = next(in, WG_F32).of.f32; return NULL;
  case CM_F64: out->of.f64 = next(in, WG_F64).of.f64; return NULL;
  case CM_CHAR: out->of.c = (uint32_t)next_i32(in); return check_char(out->of.c);
  case CM_FLAGS: out->of.flags = t->n ? (uint32_t)next_i32(in) : 0;
    if (t->n < 32) out->of.flags &= (1u << t->n) - 1;
    return NULL;
  case CM_STRING: case CM_LIST: case CM_MAP: {
    uint32_t p = (uint32_t)next_i32(in), l = (uint32_t)next_i32(in);
    return t->kind == CM_STRING ? lift_string(cx, p, l, out) : lift_list(cx, t, p, l, out);
  }
  case CM_FIXED_LIST: case CM_RECORD: case CM_TUPLE: {
    uint32_t n = t->kind == CM_FIXED_LIST ? t->len : t->n;
    if (!(out->of.seq.ptr = wg_cval_array(n))) return oom();
    out->of.seq.len = n;
    for (uint32_t i = 0; i < n; i++) {
      wg_trap *tr = lift_flat(cx, t->kind == CM_FIXED_LIST ? t->elem : t->fields[i].type, in, &out->of.seq.ptr[i]);
      if (tr) return tr;
    }
    return NULL;
  }
  case CM_ENUM: {
    uint32_t c = (uint32_t)next_i32(in);
    if (c >= t->n) return cm_trap("invalid variant discriminant");
    out->of.var.disc = c;
    return NULL;
  }
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint8_t flat[CM_MAX_FLAT_PARAMS + 2];
    uint32_t width = cm_flatten(t, flat, CM_MAX_FLAT_PARAMS + 2) - 1;
    uint32_t c = (uint32_t)next_i32(in), start = in->i;
    if (c >= case_count(t)) return cm_trap("invalid variant discriminant");
    out->of.var.disc = c;
    const cm_type *ct = case_type(t, c);
    wg_trap *tr = NULL;
    if (ct) {
      if (!(out->of.var.val = wg_cval_array(1))) return oom();
      tr = lift_flat(cx, ct, in, out->of.var.val);
    }
    in->i = start + width;
    return tr;
  }
  case CM_OWN: return cm_lift_own(cx, t, (uint32_t)next_i32(in), out);
  case CM_BORROW: return cm_lift_borrow(cx, t, (uint32_t)next_i32(in), out);
  default: return cm_trap("type not supported by the synchronous canonical ABI");
  }
}

typedef struct flat_out {
  wg_val *v;
  uint32_t n, cap;
} flat_out;

static void put(flat_out *o, wg_val v) {
  if (o->n < o->cap) o->v[o->n] = v;
  o->n++;
}
static void put32(flat_out *o, uint32_t x) { put(o, (wg_val){.kind = WG_I32, .of.i32 = (int32_t)x}); }

static wg_trap *lower_flat(cm_cx *cx, const cm_type *t, const wg_cval *v, flat_out *o) {
  t = cm_root(t);
  wg_trap *tr;
  switch (t->kind) {
  case CM_BOOL: put32(o, v->of.b); return NULL;
  case CM_S8: case CM_S16: case CM_S32: put32(o, (uint32_t)v->of.s); return NULL;
  case CM_U8: case CM_U16: case CM_U32: put32(o, (uint32_t)v->of.u); return NULL;
  case CM_S64: case CM_U64: put(o, (wg_val){.kind = WG_I64, .of.i64 = v->of.s}); return NULL;
  case CM_F32: put(o, (wg_val){.kind = WG_F32, .of.f32 = v->of.f32}); return NULL;
  case CM_F64: put(o, (wg_val){.kind = WG_F64, .of.f64 = v->of.f64}); return NULL;
  case CM_CHAR: put32(o, v->of.c); return NULL;
  case CM_FLAGS: if (t->n) put32(o, v->of.flags); return NULL;
  case CM_ENUM: put32(o, v->of.var.disc); return NULL;
  case CM_STRING: case CM_LIST: case CM_MAP: {
    uint32_t p, l;
    if ((tr = t->kind == CM_STRING ? lower_string(cx, v, &p, &l) : lower_list(cx, t, v, &p, &l))) return tr;
    put32(o, p);
    put32(o, l);
    return NULL;
  }
  case CM_FIXED_LIST: case CM_RECORD: case CM_TUPLE: {
    uint32_t n = t->kind == CM_FIXED_LIST ? t->len : t->n;
    for (uint32_t i = 0; i < n; i++)
      if ((tr = lower_flat(cx, t->kind == CM_FIXED_LIST ? t->elem : t->fields[i].type, &v->of.seq.ptr[i], o))) return tr;
    return NULL;
  }
  case CM_VARIANT: case CM_OPTION: case CM_RESULT: {
    uint8_t flat[CM_MAX_FLAT_PARAMS + 2];
    uint32_t width = cm_flatten(t, flat, CM_MAX_FLAT_PARAMS + 2) - 1;
    put32(o, v->of.var.disc);
    uint32_t start = o->n;
    const cm_type *ct = case_type(t, v->of.var.disc);
    if (ct && (tr = lower_flat(cx, ct, v->of.var.val, o))) return tr;
    for (uint32_t j = start; j < start + width; j++) {
      uint8_t want = flat[1 + j - start];
      if (j >= o->n) { /* padding */
        put(o, (wg_val){.kind = (wg_valtype)want});
        continue;
      }
      if (j >= o->cap || o->v[j].kind == want) continue;
      wg_val have = o->v[j], r = {.kind = (wg_valtype)want};
      uint64_t bits = 0;
      if (have.kind == WG_I32) bits = (uint32_t)have.of.i32;
      else if (have.kind == WG_F32) { uint32_t x; memcpy(&x, &have.of.f32, 4); bits = x; }
      else if (have.kind == WG_F64) memcpy(&bits, &have.of.f64, 8);
      if (want == WG_I32) r.of.i32 = (int32_t)bits;
      else r.of.i64 = (int64_t)bits;
      o->v[j] = r;
    }
    return NULL;
  }
  case CM_OWN: case CM_BORROW: {
    uint32_t idx;
    if ((tr = t->kind == CM_OWN ? cm_lower_own(cx, t, v, &idx) : cm_lower_borrow(cx, t, v, &idx))) return tr;
    put32(o, idx);
    return NULL;
  }
  default: return cm_trap("type not supported by the synchronous canonical ABI");
  }
}

void cm_unborrow(wg_cval *v) {
  switch (v->kind) {
  case WG_CVAL_STRING: v->of.str.ptr = NULL; v->of.str.len = 0; break;
  case WG_CVAL_BYTES: v->of.bytes.ptr = NULL; v->of.bytes.len = 0; break;
  case WG_CVAL_LIST: case WG_CVAL_RECORD: case WG_CVAL_TUPLE:
    for (size_t i = 0; i < v->of.seq.len; i++) cm_unborrow(&v->of.seq.ptr[i]);
    break;
  case WG_CVAL_VARIANT: case WG_CVAL_OPTION: case WG_CVAL_RESULT:
    if (v->of.var.val) cm_unborrow(v->of.var.val);
    break;
  default: break;
  }
}

/* ------------------------------------------------------------ value lists */

static uint32_t flat_count(const cm_type *const *types, uint32_t n) {
  uint8_t tmp[CM_MAX_FLAT_PARAMS + 2];
  uint32_t total = 0;
  for (uint32_t i = 0; i < n && total <= CM_MAX_FLAT_PARAMS; i++)
    total += cm_flatten(types[i], tmp, CM_MAX_FLAT_PARAMS + 1);
  return total;
}

/* The tuple layout of a value list in memory: offsets by size and alignment. */
static uint32_t tuple_layout(const cm_type *const *types, uint32_t n, uint32_t *offs, uint32_t *align) {
  uint32_t off = 0, a = 1;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t fa = cm_abi_align(types[i]);
    if (fa > a) a = fa;
    off = align_to(off, fa);
    if (offs) offs[i] = off;
    off += cm_abi_size(types[i]);
  }
  *align = a;
  return align_to(off, a);
}

wg_trap *cm_lift_values(cm_cx *cx, const cm_type *const *types, uint32_t n, const wg_val *flat, uint32_t nflat,
                        uint32_t max_flat, wg_cval *out) {
  wg_trap *tr = NULL;
  bool spilled = max_flat == CM_SPILLED ? true : max_flat == CM_NOT_SPILLED ? false : flat_count(types, n) > max_flat;
  if (spilled) {
    uint32_t a, ptr = nflat ? (uint32_t)flat[0].of.i32 : 0;
    uint32_t *offs = malloc((n ? n : 1) * sizeof *offs);
    if (!offs) return oom();
    uint32_t size = tuple_layout(types, n, offs, &a);
    if (ptr % a) tr = cm_trap("unaligned pointer");
    else if (!mem_at(cx, ptr, size)) tr = cm_trap(cx->fused ? "list content out-of-bounds" : "pointer out of bounds of memory");
    for (uint32_t i = 0; !tr && i < n; i++) tr = load(cx, types[i], ptr + offs[i], &out[i]);
    free(offs);
    return tr;
  }
  flat_in in = {flat, 0, nflat};
  for (uint32_t i = 0; !tr && i < n; i++) tr = lift_flat(cx, types[i], &in, &out[i]);
  return tr;
}

bool cm_host_args_simple(const cm_type *const *types, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    const cm_type *t = cm_root(types[i]);
    if (!((t->kind >= CM_BOOL && t->kind <= CM_STRING) || t->kind == CM_OWN || t->kind == CM_BORROW || is_bytes(t)))
      return false;
  }
  return true;
}

wg_trap *cm_lift_host_args(cm_cx *cx, const cm_type *const *types, uint32_t n, const wg_val *flat, wg_cval *out) {
  const uint8_t *base = NULL;
  uint64_t size = 0;
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    const cm_type *t = cm_root(types[i]);
    wg_cval *o = &out[i];
    o->kind = kind_of[t->kind];
    switch (t->kind) {
    case CM_BOOL: o->of.b = flat[k++].of.i32 != 0; break;
    case CM_S8: o->of.s = (int8_t)flat[k++].of.i32; break;
    case CM_S16: o->of.s = (int16_t)flat[k++].of.i32; break;
    case CM_S32: o->of.s = flat[k++].of.i32; break;
    case CM_U8: o->of.u = (uint8_t)flat[k++].of.i32; break;
    case CM_U16: o->of.u = (uint16_t)flat[k++].of.i32; break;
    case CM_U32: o->of.u = (uint32_t)flat[k++].of.i32; break;
    case CM_S64: o->of.s = flat[k++].of.i64; break;
    case CM_U64: o->of.u = (uint64_t)flat[k++].of.i64; break;
    case CM_F32: o->of.f32 = flat[k++].of.f32; break;
    case CM_F64: o->of.f64 = flat[k++].of.f64; break;
    case CM_CHAR: {
      o->of.c = (uint32_t)flat[k++].of.i32;
      wg_trap *tr = check_char(o->of.c);
      if (tr) return tr;
      break;
    }
    case CM_OWN: case CM_BORROW: {
      uint32_t h = (uint32_t)flat[k++].of.i32;
      wg_trap *tr = t->kind == CM_OWN ? cm_lift_own(cx, t, h, o) : cm_lift_borrow(cx, t, h, o);
      if (tr) return tr;
      break;
    }
    default: { /* a UTF-8 string or a list<u8>: a view of the caller's memory */
      uint32_t p = (uint32_t)flat[k].of.i32, l = (uint32_t)flat[k + 1].of.i32;
      k += 2;
      if (!base && cx->o->mem) {
        base = wg_memory_data(cx->o->mem);
        size = wg_memory_size(cx->o->mem);
      }
      bool str = t->kind == CM_STRING;
      if (!base || (uint64_t)p + l > size)
        return cm_trap(str ? "string pointer/length out of bounds of memory" : "list pointer/length out of bounds of memory");
      const uint8_t *s = base + p;
      if (str) {
        wg_trap *tr = utf8_check(s, l);
        if (tr) return tr;
        o->of.str.ptr = (char *)s;
        o->of.str.len = l;
      } else {
        o->kind = WG_CVAL_BYTES;
        o->of.bytes.ptr = (uint8_t *)s;
        o->of.bytes.len = l;
      }
      break;
    }
    }
  }
  return NULL;
}

wg_trap *cm_lower_values(cm_cx *cx, const cm_type *const *types, uint32_t n, const wg_cval *vals, uint32_t max_flat,
                         const uint32_t *retptr, wg_val *flat, uint32_t *nflat) {
  wg_trap *tr = NULL;
  for (uint32_t i = 0; i < n; i++)
    if (!cm_cval_matches(types[i], &vals[i])) return cm_trap("type mismatch: value %u does not match the function's type", i);
  if (flat_count(types, n) > max_flat) {
    uint32_t a, ptr;
    uint32_t *offs = malloc((n ? n : 1) * sizeof *offs);
    if (!offs) return oom();
    uint32_t size = tuple_layout(types, n, offs, &a);
    if (retptr) {
      ptr = *retptr;
      if (ptr % a) tr = cm_trap("unaligned pointer");
      else if (!mem_at(cx, ptr, size)) tr = cm_trap(cx->fused ? "list content out-of-bounds" : "pointer out of bounds of memory");
    } else {
      tr = cm_realloc(cx, a, size, &ptr);
    }
    for (uint32_t i = 0; !tr && i < n; i++) tr = store(cx, types[i], &vals[i], ptr + offs[i]);
    free(offs);
    if (!tr && !retptr) {
      flat[0] = (wg_val){.kind = WG_I32, .of.i32 = (int32_t)ptr};
      *nflat = 1;
    } else if (!tr) {
      *nflat = 0;
    }
    return tr;
  }
  flat_out o = {flat, 0, max_flat};
  for (uint32_t i = 0; !tr && i < n; i++) tr = lower_flat(cx, types[i], &vals[i], &o);
  *nflat = o.n;
  return tr;
}
