/*
 * cm_types.c: the type definitions of a component (component-model
 * design/mvp/Binary.md "Type Definitions", "Alias Definitions"): value,
 * function, component, instance and resource types, core function and
 * module types, extern types and aliases, with the validation rules that
 * apply to them as they are read (index spaces, sorts, labels, borrows).
 */
#include <string.h>

#include "cm.h"

static cm_type prims[CM_ERROR_CONTEXT + 1] = {
    [CM_BOOL] = {.kind = CM_BOOL},     [CM_S8] = {.kind = CM_S8},         [CM_U8] = {.kind = CM_U8},
    [CM_S16] = {.kind = CM_S16},       [CM_U16] = {.kind = CM_U16},       [CM_S32] = {.kind = CM_S32},
    [CM_U32] = {.kind = CM_U32},       [CM_S64] = {.kind = CM_S64},       [CM_U64] = {.kind = CM_U64},
    [CM_F32] = {.kind = CM_F32},       [CM_F64] = {.kind = CM_F64},       [CM_CHAR] = {.kind = CM_CHAR},
    [CM_STRING] = {.kind = CM_STRING}, [CM_ERROR_CONTEXT] = {.kind = CM_ERROR_CONTEXT},
};

cm_type *cm_prim(cm_kind k) { return k >= CM_BOOL && k <= CM_ERROR_CONTEXT ? &prims[k] : NULL; }

bool cm_is_valtype(const cm_type *t) { return t && t->kind >= CM_BOOL && t->kind <= CM_MAP; }

static void add_child(cm_type *t, const cm_type *c) {
  if (!c) return;
  if (c->depth + 1 > t->depth) t->depth = c->depth + 1;
  t->size += c->size ? c->size : 1;
  if (t->size > CM_MAX_TYPE_SIZE) t->size = CM_MAX_TYPE_SIZE + 1;
}

/* Computes depth and size from the children and enforces the limits that
 * keep every later walk over types bounded. */
bool cm_type_finish(cm_ctx *x, cm_type *t, size_t off) {
  t->depth = 1;
  t->size = 1;
  for (uint32_t i = 0; i < t->n; i++) add_child(t, t->fields[i].type);
  add_child(t, t->elem);
  add_child(t, t->elem2);
  for (uint32_t i = 0; i < t->nimports; i++) add_child(t, t->imports[i].type);
  for (uint32_t i = 0; i < t->nexports; i++) add_child(t, t->exports[i].type);
  if (t->depth > CM_MAX_TYPE_DEPTH) return cm_limit(x, off, "type nesting too deep");
  if (t->size > CM_MAX_TYPE_SIZE) return cm_invalid(x, off, "effective type size exceeds the limit of %u", CM_MAX_TYPE_SIZE);
  if (t->kind > CM_ERROR_CONTEXT && t->kind <= CM_MAP) return cm_check_byte_size(x, t, off);
  return true;
}

static bool malformed(cm_ctx *x, size_t off, const char *fmt, unsigned v, const char *what) {
  (void)x;
  return wg_fail(x->diag, WG_ERROR_MALFORMED, off, fmt, v, what);
}

static bool leading(cm_ctx *x, size_t off, uint8_t b, const char *what) {
  return malformed(x, off, "invalid leading byte (0x%x) for %s", b, what);
}

bool cm_read_name(cm_ctx *x, wg_reader *r, const char **name, uint32_t *len) {
  const uint8_t *p;
  if (!rd_name(r, &p, len)) return false;
  *name = cm_strdup(x, p, *len);
  return *name != NULL;
}

bool cm_read_core_sort(cm_ctx *x, wg_reader *r, cm_sort *out) {
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  switch (b) {
  case 0x00: *out = CS_CORE_FUNC; return true;
  case 0x01: *out = CS_CORE_TABLE; return true;
  case 0x02: *out = CS_CORE_MEMORY; return true;
  case 0x03: *out = CS_CORE_GLOBAL; return true;
  case 0x04: *out = CS_CORE_TAG; return true;
  case 0x10: *out = CS_CORE_TYPE; return true;
  case 0x11: *out = CS_CORE_MODULE; return true;
  case 0x12: *out = CS_CORE_INSTANCE; return true;
  }
  return leading(x, rd_offset(r) - 1, b, "core sort");
}

bool cm_read_sort(cm_ctx *x, wg_reader *r, cm_sort *out) {
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  switch (b) {
  case 0x00: return cm_read_core_sort(x, r, out);
  case 0x01: *out = CS_FUNC; return true;
  case 0x02: *out = CS_VALUE; return true;
  case 0x03: *out = CS_TYPE; return true;
  case 0x04: *out = CS_COMPONENT; return true;
  case 0x05: *out = CS_INSTANCE; return true;
  }
  return leading(x, rd_offset(r) - 1, b, "sort");
}

/* A label (labellit): a name in kebab case. */
static bool read_label(cm_ctx *x, wg_reader *r, const char *what, const char **name, uint32_t *len) {
  size_t off = rd_offset(r);
  return cm_read_name(x, r, name, len) && cm_check_label(x, *name, *len, off, what);
}

/* Strong uniqueness of labels within one type (case-insensitive). */
static bool unique_labels(cm_ctx *x, cm_field *f, uint32_t n, size_t off, const char *what) {
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < i; j++) {
      if (f[i].name_len != f[j].name_len) continue;
      bool same = true;
      for (uint32_t k = 0; k < f[i].name_len && same; k++) {
        char a = f[i].name[k], b = f[j].name[k];
        if (a >= 'A' && a <= 'Z') a += 32;
        if (b >= 'A' && b <= 'Z') b += 32;
        same = a == b;
      }
      if (same) {
        const char *last = strrchr(what, ' '); /* "variant case" -> "case" */
        return cm_invalid(x, off, "%s name `%s` conflicts with previous %s name `%s`", what, f[i].name,
                          last ? last + 1 : what, f[j].name);
      }
    }
  return true;
}

static cm_type *type_at(cm_ctx *x, cm_scope *s, uint32_t idx, size_t off) {
  if (idx >= s->space[CS_TYPE].n) {
    cm_invalid(x, off, "type index out of bounds");
    return NULL;
  }
  return s->space[CS_TYPE].v[idx];
}

bool cm_read_valtype(cm_ctx *x, wg_reader *r, cm_scope *s, cm_type **out) {
  size_t off = rd_offset(r);
  int64_t v;
  if (!rd_sleb(r, 33, &v)) return false;
  if (v < 0) {
    uint8_t b = (uint8_t)(v & 0x7f);
    if (b >= 0x73 && b <= 0x7f) *out = cm_prim((cm_kind)(CM_BOOL + (0x7f - b)));
    else if (b == 0x64) *out = cm_prim(CM_ERROR_CONTEXT);
    else return leading(x, off, b, "primitive value type");
    return true;
  }
  cm_type *t = type_at(x, s, (uint32_t)v, off);
  if (!t) return false;
  if (!cm_is_valtype(t)) return cm_invalid(x, off, "type index %u is not a defined type", (unsigned)v);
  *out = t;
  return true;
}

/* <T>?: 0x00 none, 0x01 T. */
static bool read_opt_valtype(cm_ctx *x, wg_reader *r, cm_scope *s, cm_type **out) {
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  *out = NULL;
  if (b == 0x00) return true;
  if (b != 0x01) return leading(x, rd_offset(r) - 1, b, "optional value type");
  return cm_read_valtype(x, r, s, out);
}

/* vec(label) or, with `typed`, vec(labelvaltype) into fields; `what` names
 * the labels in errors. */
static bool read_label_vec(cm_ctx *x, wg_reader *r, cm_scope *s, bool typed, const char *what, cm_field **out,
                           uint32_t *n) {
  size_t off = rd_offset(r);
  if (!rd_u32(r, n)) return false;
  if (*n > rd_left(r)) return rd_eof(r);
  cm_field *f = cm_alloc(x, (size_t)*n * sizeof *f);
  if (!f) return false;
  for (uint32_t i = 0; i < *n; i++)
    if (!read_label(x, r, what, &f[i].name, &f[i].name_len) || (typed && !cm_read_valtype(x, r, s, &f[i].type)))
      return false;
  *out = f;
  return unique_labels(x, f, *n, off, what);
}

static bool read_fields(cm_ctx *x, wg_reader *r, cm_scope *s, const char *what, cm_field **out, uint32_t *n) {
  return read_label_vec(x, r, s, true, what, out, n);
}

static bool read_labels(cm_ctx *x, wg_reader *r, const char *what, cm_field **out, uint32_t *n) {
  return read_label_vec(x, r, NULL, false, what, out, n);
}

static bool read_defvaltype(cm_ctx *x, wg_reader *r, cm_scope *s, uint8_t b, size_t off, cm_type **out) {
  cm_type *t;
  switch (b) {
  case 0x72: /* record */
    if (!(t = cm_new_type(x, CM_RECORD)) || !read_fields(x, r, s, "record field", &t->fields, &t->n)) return false;
    if (!t->n) return cm_invalid(x, off, "record type must have at least one field");
    break;
  case 0x71: { /* variant */
    if (!(t = cm_new_type(x, CM_VARIANT))) return false;
    size_t voff = rd_offset(r);
    if (!rd_u32(r, &t->n)) return false;
    if (t->n > rd_left(r)) return rd_eof(r);
    if (!t->n) return cm_invalid(x, off, "variant type must have at least one case");
    if (!(t->fields = cm_alloc(x, (size_t)t->n * sizeof *t->fields))) return false;
    for (uint32_t i = 0; i < t->n; i++) {
      uint8_t z;
      if (!read_label(x, r, "variant case", &t->fields[i].name, &t->fields[i].name_len) ||
          !read_opt_valtype(x, r, s, &t->fields[i].type) || !rd_u8(r, &z))
        return false;
      if (z != 0) return malformed(x, rd_offset(r) - 1, "variant case refines are not supported (0x%x)%s", z, "");
    }
    if (!unique_labels(x, t->fields, t->n, voff, "variant case")) return false;
    break;
  }
  case 0x70: /* list */
    if (!(t = cm_new_type(x, CM_LIST)) || !cm_read_valtype(x, r, s, &t->elem)) return false;
    break;
  case 0x67: /* fixed-size list */
    if (!(t = cm_new_type(x, CM_FIXED_LIST)) || !cm_read_valtype(x, r, s, &t->elem) || !rd_u32(r, &t->len)) return false;
    if (!t->len) return cm_invalid(x, off, "Fixed size lists must have more than zero elements");
    break;
  case 0x6f: /* tuple */
    if (!(t = cm_new_type(x, CM_TUPLE)) || !rd_u32(r, &t->n)) return false;
    if (t->n > rd_left(r)) return rd_eof(r);
    if (!t->n) return cm_invalid(x, off, "tuple type must have at least one type");
    if (!(t->fields = cm_alloc(x, (size_t)t->n * sizeof *t->fields))) return false;
    for (uint32_t i = 0; i < t->n; i++)
      if (!cm_read_valtype(x, r, s, &t->fields[i].type)) return false;
    break;
  case 0x6e: /* flags */
    if (!(t = cm_new_type(x, CM_FLAGS)) || !read_labels(x, r, "flag", &t->fields, &t->n)) return false;
    if (!t->n) return cm_invalid(x, off, "flags must have at least one entry");
    if (t->n > 32) return cm_invalid(x, off, "cannot have more than 32 flags");
    break;
  case 0x6d: /* enum */
    if (!(t = cm_new_type(x, CM_ENUM)) || !read_labels(x, r, "enum tag", &t->fields, &t->n)) return false;
    if (!t->n) return cm_invalid(x, off, "enum type must have at least one variant");
    break;
  case 0x6b: /* option */
    if (!(t = cm_new_type(x, CM_OPTION)) || !cm_read_valtype(x, r, s, &t->elem)) return false;
    break;
  case 0x6a: /* result */
    if (!(t = cm_new_type(x, CM_RESULT)) || !read_opt_valtype(x, r, s, &t->elem) || !read_opt_valtype(x, r, s, &t->elem2))
      return false;
    break;
  case 0x69: /* own */
  case 0x68: { /* borrow */
    if (!(t = cm_new_type(x, b == 0x69 ? CM_OWN : CM_BORROW))) return false;
    size_t ioff = rd_offset(r);
    uint32_t idx;
    if (!rd_u32(r, &idx) || !(t->elem = type_at(x, s, idx, ioff))) return false;
    if (t->elem->kind != CM_RESOURCE) return cm_invalid(x, ioff, "type index %u is not a resource type", idx);
    break;
  }
  case 0x66: /* stream */
  case 0x65: /* future */
    if (!(t = cm_new_type(x, b == 0x66 ? CM_STREAM : CM_FUTURE)) || !read_opt_valtype(x, r, s, &t->elem)) return false;
    if (t->elem && cm_contains(t->elem, CM_BORROW, CM_BORROW))
      return cm_invalid(x, off, "borrow type cannot be used in a stream or future");
    if (b == 0x66 && t->elem && t->elem->kind == CM_CHAR) return cm_invalid(x, off, "stream<char> is not supported");
    break;
  case 0x63: /* map */
    if (!(t = cm_new_type(x, CM_MAP)) || !cm_read_valtype(x, r, s, &t->elem) || !cm_read_valtype(x, r, s, &t->elem2))
      return false;
    break;
  default:
    return leading(x, off, b, "component defined type");
  }
  *out = t;
  return true;
}

/* Functions may not return borrows (Binary.md notes on functype). */
static bool read_functype(cm_ctx *x, wg_reader *r, cm_scope *s, bool async, cm_type **out) {
  cm_type *t = cm_new_type(x, CM_FUNC);
  if (!t || !read_fields(x, r, s, "function parameter", &t->fields, &t->n)) return false;
  t->async = async;
  size_t off = rd_offset(r);
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  if (b == 0x00) {
    if (!cm_read_valtype(x, r, s, &t->elem)) return false;
    if (cm_contains(t->elem, CM_BORROW, CM_BORROW))
      return cm_invalid(x, off, "function result cannot contain a `borrow` type");
  } else if (b == 0x01) {
    uint8_t z;
    if (!rd_u8(r, &z)) return false;
    if (z != 0x00) return leading(x, rd_offset(r) - 1, z, "component function results");
  } else {
    return leading(x, off, b, "component function results");
  }
  *out = t;
  return true;
}

/* ---------------------------------------------------------------- core types */

static bool read_core_valtype(cm_ctx *x, wg_reader *r, uint8_t *out) {
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  switch (b) {
  case WG_I32: case WG_I64: case WG_F32: case WG_F64: case WG_V128: case WG_FUNCREF: case WG_EXTERNREF:
    *out = b;
    return true;
  }
  return leading(x, rd_offset(r) - 1, b, "value type");
}

static bool read_core_functype(cm_ctx *x, wg_reader *r, cm_type **out) {
  cm_type *t = cm_new_type(x, CM_CORE_FUNC);
  if (!t || !rd_u32(r, &t->ncparams)) return false;
  if (t->ncparams > rd_left(r)) return rd_eof(r);
  if (!(t->cparams = cm_alloc(x, t->ncparams))) return false;
  for (uint32_t i = 0; i < t->ncparams; i++)
    if (!read_core_valtype(x, r, &t->cparams[i])) return false;
  if (!rd_u32(r, &t->ncresults)) return false;
  if (t->ncresults > rd_left(r)) return rd_eof(r);
  if (!(t->cresults = cm_alloc(x, t->ncresults))) return false;
  for (uint32_t i = 0; i < t->ncresults; i++)
    if (!read_core_valtype(x, r, &t->cresults[i])) return false;
  *out = t;
  return true;
}

static bool read_limits(cm_ctx *x, wg_reader *r, cm_type *t, bool memory) {
  uint8_t f;
  if (!rd_u8(r, &f)) return false;
  if (f & ~(memory ? 0x07 : 0x05)) return malformed(x, rd_offset(r) - 1, "invalid limits flags (0x%x)%s", f, "");
  t->has_max = f & 1;
  t->shared = (f & 2) != 0;
  t->is64 = (f & 4) != 0;
  uint64_t v;
  if (!rd_uleb(r, t->is64 ? 64 : 32, &v)) return false;
  t->min = v;
  if (t->has_max) {
    if (!rd_uleb(r, t->is64 ? 64 : 32, &v)) return false;
    t->max = v;
  }
  return true;
}

/* core:externtype in module types (core spec 5.5.5 import descriptions). */
static bool read_core_externtype(cm_ctx *x, wg_reader *r, cm_scope *s, cm_sort *sort, cm_type **out) {
  size_t off = rd_offset(r);
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  cm_type *t = NULL;
  uint32_t idx;
  switch (b) {
  case 0x00:
  case 0x04:
    if (b == 0x04) {
      uint8_t z;
      if (!rd_u8(r, &z)) return false;
      if (z) return leading(x, rd_offset(r) - 1, z, "tag attribute");
    }
    if (!rd_u32(r, &idx)) return false;
    if (idx >= s->space[CS_CORE_TYPE].n) return cm_invalid(x, off, "type index out of bounds");
    t = s->space[CS_CORE_TYPE].v[idx];
    if (t->kind != CM_CORE_FUNC) return cm_invalid(x, off, "core type index %u is not a function type", idx);
    *sort = b == 0 ? CS_CORE_FUNC : CS_CORE_TAG;
    break;
  case 0x01:
    if (!(t = cm_new_type(x, CM_CORE_TABLE)) || !read_core_valtype(x, r, &t->elemtype) || !read_limits(x, r, t, false))
      return false;
    *sort = CS_CORE_TABLE;
    break;
  case 0x02:
    if (!(t = cm_new_type(x, CM_CORE_MEMORY)) || !read_limits(x, r, t, true)) return false;
    /* core spec 3.2.4: at most 2^16 pages (2^48 for memory64) */
    if (t->min > (t->is64 ? 1ull << 48 : 1ull << 16) || (t->has_max && t->max > (t->is64 ? 1ull << 48 : 1ull << 16)))
      return cm_invalid(x, off, "memory size must be at most %s", t->is64 ? "2^48 pages" : "65536 pages (4GiB)");
    if (t->has_max && t->min > t->max) return cm_invalid(x, off, "size minimum must not be greater than maximum");
    *sort = CS_CORE_MEMORY;
    break;
  case 0x03: {
    uint8_t m;
    if (!(t = cm_new_type(x, CM_CORE_GLOBAL)) || !read_core_valtype(x, r, &t->elemtype) || !rd_u8(r, &m)) return false;
    if (m > 1) return malformed(x, rd_offset(r) - 1, "malformed mutability (0x%x)%s", m, "");
    t->mut = m;
    *sort = CS_CORE_GLOBAL;
    break;
  }
  default:
    return leading(x, off, b, "external kind");
  }
  *out = t;
  return true;
}

/* Copies the imports and exports a type's declarations gathered in `s` into `t`. */
static bool scope_externs(cm_ctx *x, cm_type *t, const cm_scope *s) {
  t->nimports = s->nimports;
  t->nexports = s->nexports;
  if (!(t->imports = cm_alloc(x, s->nimports * sizeof *t->imports)) ||
      !(t->exports = cm_alloc(x, s->nexports * sizeof *t->exports)))
    return false;
  if (s->nimports) memcpy(t->imports, s->imports, s->nimports * sizeof *t->imports);
  if (s->nexports) memcpy(t->exports, s->exports, s->nexports * sizeof *t->exports);
  return true;
}

static bool read_module_type(cm_ctx *x, wg_reader *r, cm_scope *parent, cm_type **out) {
  cm_scope s = {.kind = SCOPE_MODULE_TYPE, .parent = parent};
  cm_type *t = cm_new_type(x, CM_CORE_MODULE);
  uint32_t n;
  bool ok = t && rd_u32(r, &n);
  for (uint32_t i = 0; ok && i < n; i++) {
    size_t off = rd_offset(r);
    uint8_t b;
    if (!(ok = rd_u8(r, &b))) break;
    cm_extern e = {0};
    switch (b) {
    case 0x00: { /* import */
      const char *mod;
      uint32_t ml;
      ok = cm_read_name(x, r, &mod, &ml) && cm_read_name(x, r, &e.name, &e.name_len) &&
           read_core_externtype(x, r, &s, &e.sort, &e.type);
      e.module = mod;
      ok = ok && cm_add_extern(x, &s.imports, &s.nimports, &s.capimports, &e);
      break;
    }
    case 0x01: { /* type */
      uint8_t k;
      cm_type *ft;
      if (!(ok = rd_u8(r, &k))) break;
      if (k == 0x50) { ok = cm_invalid(x, off, "core type index space in module types cannot contain module types"); break; }
      if (k != 0x60) { ok = leading(x, rd_offset(r) - 1, k, "core type"); break; }
      ok = read_core_functype(x, r, &ft) && cm_space_push(x, &s.space[CS_CORE_TYPE], ft, off);
      break;
    }
    case 0x02: { /* outer alias of a core type */
      uint8_t k, o;
      uint32_t ct, idx;
      if (!(ok = rd_u8(r, &k) && rd_u8(r, &o) && rd_u32(r, &ct) && rd_u32(r, &idx))) break;
      if (k != 0x10 || o != 0x01) { ok = leading(x, off + 1, k, "core alias"); break; }
      cm_scope *target = &s;
      for (uint32_t j = 0; j < ct && target; j++) target = target->parent;
      if (!target) { ok = cm_invalid(x, off, "invalid outer alias count of %u", ct); break; }
      if (idx >= target->space[CS_CORE_TYPE].n) { ok = cm_invalid(x, off, "type index out of bounds"); break; }
      cm_type *at = target->space[CS_CORE_TYPE].v[idx];
      if (at->kind == CM_CORE_MODULE) { ok = cm_invalid(x, off, "cannot alias a module type into a module type"); break; }
      ok = cm_space_push(x, &s.space[CS_CORE_TYPE], at, off);
      break;
    }
    case 0x03: /* export */
      ok = cm_read_name(x, r, &e.name, &e.name_len) && read_core_externtype(x, r, &s, &e.sort, &e.type);
      for (uint32_t j = 0; ok && j < s.nexports; j++)
        if (!strcmp(s.exports[j].name, e.name)) ok = cm_invalid(x, off, "duplicate export name `%s` already defined", e.name);
      ok = ok && cm_add_extern(x, &s.exports, &s.nexports, &s.capexports, &e);
      break;
    default:
      ok = leading(x, off, b, "type declaration");
    }
  }
  ok = ok && scope_externs(x, t, &s);
  if (ok) *out = t;
  cm_scope_free(&s);
  return ok && cm_type_finish(x, t, SIZE_MAX) && cm_check_core_imports(x, t, SIZE_MAX);
}

bool cm_read_core_type(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  cm_type *t = NULL;
  if (b == 0x00) { /* 0x00 0x50 supertypes comptype: a non-final core:subtype (the bare 0x50 below is
                    * a module type: Binary.md's core type section) */
    uint8_t sub;
    uint32_t nsuper;
    if (!rd_u8(r, &sub)) return false;
    if (sub != 0x50) return leading(x, rd_offset(r) - 1, sub, "core type");
    size_t soff = rd_offset(r);
    if (!rd_u32(r, &nsuper)) return false;
    if (nsuper) return cm_invalid(x, soff, "core subtypes with supertypes are not supported");
    size_t coff = rd_offset(r);
    if (!rd_u8(r, &b)) return false;
    if (b != 0x60) return leading(x, coff, b, "core type (only func and module types are supported)");
    if (!read_core_functype(x, r, &t)) return false;
  } else if (b == 0x60) {
    if (!read_core_functype(x, r, &t)) return false;
  } else if (b == 0x50) {
    if (s->kind == SCOPE_MODULE_TYPE) return cm_invalid(x, off, "module types cannot be nested");
    if (++x->depth > CM_MAX_DEPTH) return cm_limit(x, off, "types nested too deeply");
    bool ok = read_module_type(x, r, s, &t);
    x->depth--;
    if (!ok) return false;
  } else {
    /* Wasm 3.0 rec/sub types: not supported by this engine's core decoder either. */
    return leading(x, off, b, "core type (only func and module types are supported)");
  }
  return cm_space_push(x, &s->space[CS_CORE_TYPE], t, off);
}

/* ------------------------------------------------------- extern types, decls */

bool cm_read_externtype(cm_ctx *x, wg_reader *r, cm_scope *s, cm_sort *sort, cm_type **type) {
  size_t off = rd_offset(r);
  uint8_t b;
  uint32_t idx;
  if (!rd_u8(r, &b)) return false;
  switch (b) {
  case 0x00: {
    uint8_t m;
    if (!rd_u8(r, &m)) return false;
    if (m != 0x11) return leading(x, rd_offset(r) - 1, m, "component external kind");
    size_t ioff = rd_offset(r);
    if (!rd_u32(r, &idx)) return false;
    if (idx >= s->space[CS_CORE_TYPE].n) return cm_invalid(x, ioff, "core type index out of bounds");
    *type = s->space[CS_CORE_TYPE].v[idx];
    if ((*type)->kind != CM_CORE_MODULE) return cm_invalid(x, ioff, "core type index %u is not a module type", idx);
    *sort = CS_CORE_MODULE;
    return true;
  }
  case 0x01: case 0x04: case 0x05: {
    size_t ioff = rd_offset(r);
    if (!rd_u32(r, &idx) || !(*type = type_at(x, s, idx, ioff))) return false;
    cm_kind want = b == 0x01 ? CM_FUNC : b == 0x04 ? CM_COMPONENT : CM_INSTANCE;
    if ((*type)->kind != want)
      return cm_invalid(x, ioff, "type index %u is not %s type", idx,
                        b == 0x01 ? "a function" : b == 0x04 ? "a component" : "an instance");
    *sort = b == 0x01 ? CS_FUNC : b == 0x04 ? CS_COMPONENT : CS_INSTANCE;
    return true;
  }
  case 0x02: { /* value (🪙) */
    uint8_t k;
    if (!rd_u8(r, &k)) return false;
    *sort = CS_VALUE;
    if (k == 0x00) {
      if (!rd_u32(r, &idx)) return false;
      if (idx >= s->space[CS_VALUE].n) return cm_invalid(x, off, "value index out of bounds");
      *type = s->space[CS_VALUE].v[idx];
      return true;
    }
    if (k != 0x01) return leading(x, rd_offset(r) - 1, k, "value bound");
    return cm_read_valtype(x, r, s, type);
  }
  case 0x03: { /* type bound */
    uint8_t k;
    if (!rd_u8(r, &k)) return false;
    *sort = CS_TYPE;
    if (k == 0x00) {
      size_t ioff = rd_offset(r);
      return rd_u32(r, &idx) && (*type = type_at(x, s, idx, ioff)) != NULL;
    }
    if (k != 0x01) return leading(x, rd_offset(r) - 1, k, "type bound");
    cm_type *res = cm_new_type(x, CM_RESOURCE);
    if (!res) return false;
    res->rep = WG_I32;
    res->born = s->serial;
    x->last_bound = res;
    *type = res; /* abstract: a fresh resource type */
    return true;
  }
  }
  return leading(x, off, b, "component external kind");
}

/* The name of an import or export: nameattributes (Binary.md). Attributes
 * (🏷️/🔗) are read and checked for duplicates; they do not change the name. */
bool cm_read_extern_name(cm_ctx *x, wg_reader *r, cm_extern *e) {
  size_t off = rd_offset(r);
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  if (b > 0x02) return leading(x, off, b, "extern name");
  if (!cm_read_name(x, r, &e->name, &e->name_len)) return false;
  if (b == 0x02) {
    uint32_t n;
    bool seen[3] = {false, false, false};
    if (!rd_u32(r, &n)) return false;
    for (uint32_t i = 0; i < n; i++) {
      uint8_t k;
      const char *v;
      uint32_t vl;
      size_t aoff = rd_offset(r);
      if (!rd_u8(r, &k)) return false;
      if (k > 0x02) return leading(x, aoff, k, "extern name attribute");
      if (!cm_read_name(x, r, &v, &vl)) return false;
      if (seen[k]) return cm_invalid(x, aoff, "duplicate attribute");
      seen[k] = true;
      if (k == 0x00) e->implements = v;
    }
  }
  return true;
}

/* Where an entity of `sort` and type `t` goes in a scope's index spaces. */
static bool push_sort(cm_ctx *x, cm_scope *s, cm_sort sort, cm_type *t, size_t off) {
  return cm_space_push(x, &s->space[sort], t, off);
}

/* import/export declarations shared by component and instance types. */
static bool read_decl_extern(cm_ctx *x, wg_reader *r, cm_scope *s, bool import) {
  size_t off = rd_offset(r);
  cm_extern e = {0};
  if (!cm_read_extern_name(x, r, &e)) return false;
  if (!cm_check_extern_name(x, e.name, e.name_len, off, import)) return false;
  x->last_bound = NULL;
  if (!cm_read_externtype(x, r, s, &e.sort, &e.type)) return false;
  /* an imported `(sub resource)` is a parameter of the type, not one of its
   * definitions; each instance declared gets its own resources */
  if (import && e.sort == CS_TYPE && e.type == x->last_bound) e.type->imported = true;
  if (e.sort == CS_INSTANCE && !(e.type = cm_fresh_instance(x, e.type, s->serial, import))) return false;
  if (e.sort == CS_TYPE && !e.type->label && e.type->kind > CM_ERROR_CONTEXT) e.type->label = e.name;
  if (!cm_names_add(x, import ? &s->import_names : &s->export_names, e.name, off, import)) return false;
  if (!cm_check_annotated(x, &e, import ? s->imports : s->exports, import ? s->nimports : s->nexports, off)) return false;
  /* component types check external visibility eagerly; instance types when
   * they are attached to an import or export */
  if (s->kind == SCOPE_COMPONENT_TYPE && !cm_check_visible(x, &e, s->imports, s->nimports, s->exports, s->nexports, import, off))
    return false;
  if (import) {
    if (!cm_add_extern(x, &s->imports, &s->nimports, &s->capimports, &e)) return false;
  } else if (!cm_add_extern(x, &s->exports, &s->nexports, &s->capexports, &e)) {
    return false;
  }
  return push_sort(x, s, e.sort, e.type, off);
}

static bool read_decls(cm_ctx *x, wg_reader *r, cm_scope *s) {
  uint32_t n;
  if (!rd_u32(r, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    size_t off = rd_offset(r);
    uint8_t b;
    if (!rd_u8(r, &b)) return false;
    bool ok;
    switch (b) {
    case 0x00: ok = cm_read_core_type(x, r, s); break;
    case 0x01: ok = cm_read_type(x, r, s); break;
    case 0x02: ok = cm_read_alias(x, r, s, true); break;
    case 0x03:
      if (s->kind != SCOPE_COMPONENT_TYPE) return leading(x, off, b, "instance type declaration");
      ok = read_decl_extern(x, r, s, true);
      break;
    case 0x04: ok = read_decl_extern(x, r, s, false); break;
    default: return leading(x, off, b, s->kind == SCOPE_COMPONENT_TYPE ? "component type declaration" : "instance type declaration");
    }
    if (!ok) return false;
  }
  return true;
}

static bool read_decl_type(cm_ctx *x, wg_reader *r, cm_scope *parent, cm_kind kind, size_t off, cm_type **out) {
  if (++x->depth > CM_MAX_DEPTH) return cm_limit(x, off, "types nested too deeply");
  cm_scope s = {.kind = kind == CM_COMPONENT ? SCOPE_COMPONENT_TYPE : SCOPE_INSTANCE_TYPE, .parent = parent,
                .serial = ++x->serial};
  cm_type *t = cm_new_type(x, kind);
  bool ok = t && read_decls(x, r, &s);
  ok = ok && scope_externs(x, t, &s) && cm_collect_defs(x, t, s.serial);
  if (ok) {
    t->serial_lo = s.serial;
    t->serial_hi = x->serial;
  }
  if (ok) *out = t;
  cm_scope_free(&s);
  x->depth--;
  return ok;
}

bool cm_read_type(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  cm_type *t = NULL;
  bool ok;
  switch (b) {
  case 0x40: case 0x43: ok = read_functype(x, r, s, b == 0x43, &t); break;
  case 0x41: ok = read_decl_type(x, r, s, CM_COMPONENT, off, &t); break;
  case 0x42: ok = read_decl_type(x, r, s, CM_INSTANCE, off, &t); break;
  case 0x3f: { /* resource */
    if (s->kind != SCOPE_COMPONENT) return cm_invalid(x, off, "resources can only be defined within a concrete component");
    if (!(t = cm_new_type(x, CM_RESOURCE)) || !read_core_valtype(x, r, &t->rep)) return false;
    if (t->rep != WG_I32) return cm_invalid(x, off, "resources can only be represented by `i32`");
    t->local = true;
    t->born = s->serial;
    uint8_t has;
    if (!rd_u8(r, &has)) return false;
    if (has == 0x01) {
      size_t doff = rd_offset(r);
      if (!rd_u32(r, &t->dtor)) return false;
      if (t->dtor >= s->space[CS_CORE_FUNC].n) return cm_invalid(x, doff, "function index out of bounds");
      const cm_type *d = s->space[CS_CORE_FUNC].v[t->dtor];
      if (d->ncparams != 1 || d->cparams[0] != WG_I32 || d->ncresults != 0)
        return cm_invalid(x, doff, "wrong signature for a destructor: must be [i32] -> []");
    } else if (has != 0x00) {
      return leading(x, rd_offset(r) - 1, has, "resource destructor");
    }
    ok = true;
    break;
  }
  default:
    if ((b >= 0x73 && b <= 0x7f) || b == 0x64) {
      t = cm_prim(b == 0x64 ? CM_ERROR_CONTEXT : (cm_kind)(CM_BOOL + (0x7f - b)));
      cm_def d = {.kind = D_TYPE, .sort = CS_TYPE, .type = t};
      return cm_space_push(x, &s->space[CS_TYPE], t, off) && cm_def_add(x, s, &d);
    }
    ok = read_defvaltype(x, r, s, b, off, &t);
  }
  cm_def d = {.kind = D_TYPE, .sort = CS_TYPE, .type = t};
  return ok && cm_type_finish(x, t, off) && cm_space_push(x, &s->space[CS_TYPE], t, off) && cm_def_add(x, s, &d);
}

/* ---------------------------------------------------------------- aliases */

static const cm_extern *find_export(const cm_type *t, const char *name) {
  for (uint32_t i = 0; i < t->nexports; i++)
    if (!strcmp(t->exports[i].name, name)) return &t->exports[i];
  return NULL;
}

/* The export `name` of instance `idx` in index space `space` (CS_INSTANCE or
 * CS_CORE_INSTANCE), which must be of `sort`; `what` names the instance in errors. */
static bool alias_export(cm_ctx *x, wg_reader *r, cm_scope *s, cm_sort space, const char *what, cm_sort sort,
                         size_t off, cm_type **t, cm_def *d) {
  uint32_t idx, nl;
  const char *name;
  if (!rd_u32(r, &idx) || !cm_read_name(x, r, &name, &nl)) return false;
  if (idx >= s->space[space].n) return cm_invalid(x, off, "unknown %s %u: instance index out of bounds", what, idx);
  const cm_extern *e = find_export(s->space[space].v[idx], name);
  if (!e) return cm_invalid(x, off, "%s %u has no export named `%s`", what, idx, name);
  if (e->sort != sort) return cm_invalid(x, off, "export `%s` for %s %u is not a %s", name, what, idx, cm_sort_name(sort));
  *t = e->type;
  d->a = idx;
  d->name = name;
  return true;
}

bool cm_read_alias(cm_ctx *x, wg_reader *r, cm_scope *s, bool in_type) {
  size_t off = rd_offset(r);
  cm_sort sort;
  uint8_t k;
  if (!cm_read_sort(x, r, &sort) || !rd_u8(r, &k)) return false;
  uint32_t idx;
  cm_type *t = NULL;
  cm_def d = {.sort = sort, .kind = k == 0x00 ? D_ALIAS_EXPORT : k == 0x01 ? D_ALIAS_CORE_EXPORT : D_ALIAS_OUTER};
  switch (k) {
  case 0x00: { /* export of a component instance */
    if (in_type && sort != CS_INSTANCE && sort != CS_TYPE)
      return cm_invalid(x, off, "instance export alias declarators may only refer to types or instances");
    if (!alias_export(x, r, s, CS_INSTANCE, "instance", sort, off, &t, &d)) return false;
    break;
  }
  case 0x01: { /* export of a core instance */
    if (in_type) return cm_invalid(x, off, "core instance export aliases are not allowed in type declarators");
    if (!alias_export(x, r, s, CS_CORE_INSTANCE, "core instance", sort, off, &t, &d)) return false;
    break;
  }
  case 0x02: { /* outer */
    uint32_t ct;
    if (!rd_u32(r, &ct) || !rd_u32(r, &idx)) return false;
    if (sort != CS_CORE_TYPE && sort != CS_TYPE && sort != CS_CORE_MODULE && sort != CS_COMPONENT)
      return cm_invalid(x, off, "outer aliases may only refer to types, modules or components");
    if (in_type && sort != CS_CORE_TYPE && sort != CS_TYPE)
      return cm_invalid(x, off, "outer alias declarators may only refer to types");
    cm_scope *target = s;
    bool crossed_component = false;
    for (uint32_t j = 0; j < ct && target; j++) {
      if (target->kind == SCOPE_COMPONENT) crossed_component = true;
      target = target->parent;
    }
    if (!target) return cm_invalid(x, off, "invalid outer alias count of %u", ct);
    if (idx >= target->space[sort].n) return cm_invalid(x, off, "index out of bounds");
    t = target->space[sort].v[idx];
    d.a = ct;
    d.b = idx;
    if (sort == CS_TYPE && crossed_component && cm_refers_free_resource(x, t))
      return cm_invalid(x, off, "canonical type index %u transitively refers to resources and cannot be aliased across components", idx);
    break;
  }
  default:
    return leading(x, off, k, "alias");
  }
  d.type = t;
  return push_sort(x, s, sort, t, off) && (sort == CS_CORE_TYPE || cm_def_add(x, s, &d));
}
