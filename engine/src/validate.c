/*
 * validate.c: module validation (spec 3.4): imports, definitions, constant
 * expressions, segments, exports and the start function. Function bodies
 * are validated by validate_code.c.
 */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "opcodes.h"

static bool invalid(wg_diag *d, size_t at, const char *msg) {
  return wg_fail(d, WG_ERROR_INVALID, at, "%s", msg);
}

/* Limits (3.2.1 / 3.2.4 / 3.2.5): min <= max, both within `bound`. */
static bool check_limits(const wg_limits *l, uint32_t bound, const char *too_big, size_t at, wg_diag *d) {
  if (l->min > bound || (l->has_max && l->max > bound)) return invalid(d, at, too_big);
  if (l->has_max && l->min > l->max) return invalid(d, at, "size minimum must not be greater than maximum");
  return true;
}

static bool check_memory(const wg_limits *l, size_t at, wg_diag *d) {
  return check_limits(l, WG_MAX_MEMORY_PAGES, "memory size must be at most 65536 pages (4GiB)", at, d);
}

static bool check_table(const wg_tabletype *t, size_t at, wg_diag *d) {
  return check_limits(&t->limits, UINT32_MAX, "table size must be at most 2^32-1", at, d);
}

/* Validates a constant expression (3.3.10) of result type `want`.
 * In Wasm 2.0 every constant expression is validated in the context C'
 * whose globals are only the imported ones (3.4.10), so global.get may name
 * nothing else. ref.func indices are recorded in m->declared_refs. */
static bool check_const_expr(wg_module *m, const wg_bytes *e, uint8_t want, wg_diag *d) {
  const uint32_t nglobals = m->nglobal_imports;
  wg_reader r = {e->ptr, e->ptr + e->len, m->bytes, d, WG_MSG_EOF_SECTION};
  uint8_t stack[4];
  unsigned sp = 0;
  for (;;) {
    wg_instr in;
    if (!wg_instr_read(&r, &in)) return false;
    uint8_t t;
    switch (in.op) {
      case WG_OP_I32_CONST: t = WG_I32; break;
      case WG_OP_I64_CONST: t = WG_I64; break;
      case WG_OP_F32_CONST: t = WG_F32; break;
      case WG_OP_F64_CONST: t = WG_F64; break;
      case WG_OP_V128_CONST: t = WG_V128; break;
      case WG_OP_REF_NULL: t = (uint8_t)in.a; break;
      case WG_OP_REF_FUNC:
        if (in.a >= m->nfuncs) return wg_fail(d, WG_ERROR_INVALID, in.offset, "unknown function %u", in.a);
        m->declared_refs[in.a] = 1;
        t = WG_FUNCREF;
        break;
      case WG_OP_GLOBAL_GET:
        if (in.a >= nglobals) return wg_fail(d, WG_ERROR_INVALID, in.offset, "unknown global %u", in.a);
        if (m->globals[in.a].type.mut) return invalid(d, in.offset, "constant expression required");
        t = m->globals[in.a].type.type;
        break;
      case WG_OP_END:
        if (sp != 1 || stack[0] != want) return invalid(d, in.offset, "type mismatch");
        return true;
      default:
        return invalid(d, in.offset, "constant expression required");
    }
    if (sp == sizeof stack) return invalid(d, in.offset, "type mismatch");
    stack[sp++] = t;
  }
}

/* A tag's type (3.0 3.2.11): a function type without results. */
static bool check_tag(const wg_module *m, uint32_t type, size_t at, wg_diag *d) {
  if (type >= m->ntypes) return invalid(d, at, "unknown type");
  if (m->types[type].nresults) return invalid(d, at, "non-empty tag result type");
  return true;
}

static bool check_imports(wg_module *m, wg_diag *d) {
  for (uint32_t i = 0; i < m->nimports; i++) {
    const wg_import *im = &m->imports[i];
    size_t at = im->name.offset;
    switch (im->kind) {
      case WG_EXTERN_FUNC:
        if (m->funcs[im->index].type >= m->ntypes) return invalid(d, at, "unknown type");
        break;
      case WG_EXTERN_TABLE:
        if (!check_table(&m->tables[im->index], at, d)) return false;
        break;
      case WG_EXTERN_MEMORY:
        if (!check_memory(&m->mems[im->index], at, d)) return false;
        break;
      case WG_EXTERN_GLOBAL:
        break;
      case WG_EXTERN_TAG:
        if (!check_tag(m, m->tags[im->index], at, d)) return false;
        break;
    }
  }
  return true;
}

static bool check_definitions(wg_module *m, wg_diag *d) {
  for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
    if (m->funcs[i].type >= m->ntypes) return invalid(d, m->funcs[i].body.offset, "unknown type");
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
    if (!check_table(&m->tables[i], 0, d)) return false;
  if (m->nmems > 1 && !(m->features & WG_FEATURE_MULTI_MEMORY)) return invalid(d, 0, "multiple memories");
  for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
    if (!check_memory(&m->mems[i], 0, d)) return false;
  for (uint32_t i = m->ntag_imports; i < m->ntags; i++)
    if (!check_tag(m, m->tags[i], 0, d)) return false;
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
    const wg_globaldef *g = &m->globals[i];
    if (!check_const_expr(m, &g->init, g->type.type, d)) return false;
  }
  return true;
}

static bool check_exports(wg_module *m, wg_diag *d) {
  static const char *const unknown[] = {"unknown function", "unknown table", "unknown memory", "unknown global",
                                        "unknown tag"};
  for (uint32_t i = 0; i < m->nexports; i++) {
    const wg_export *ex = &m->exports[i];
    uint32_t space[] = {m->nfuncs, m->ntables, m->nmems, m->nglobals, m->ntags};
    if (ex->index >= space[ex->kind])
      return wg_fail(d, WG_ERROR_INVALID, ex->name.offset, "%s %u", unknown[ex->kind], ex->index);
    if (ex->kind == WG_EXTERN_FUNC) m->declared_refs[ex->index] = 1;
  }
  if (m->nexports < 2) return true;
  /* Unique names (3.4.10): sort indices by name and compare neighbours. */
  uint32_t *order = malloc((size_t)m->nexports * sizeof *order);
  if (!order) return wg_fail(d, WG_ERROR_RESOURCE, 0, "out of memory");
  for (uint32_t i = 0; i < m->nexports; i++) order[i] = i;
  /* Shell sort keeps this allocation-free beyond `order` and O(n log^2 n). */
  const wg_export *ex = m->exports;
  for (uint32_t gap = m->nexports / 2; gap > 0; gap /= 2) {
    for (uint32_t i = gap; i < m->nexports; i++) {
      uint32_t v = order[i], j = i;
      for (; j >= gap; j -= gap) {
        const wg_name *a = &ex[order[j - gap]].name, *b = &ex[v].name;
        uint32_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->ptr, b->ptr, n);
        if (c < 0 || (c == 0 && a->len <= b->len)) break;
        order[j] = order[j - gap];
      }
      order[j] = v;
    }
  }
  bool ok = true;
  for (uint32_t i = 1; i < m->nexports && ok; i++) {
    const wg_name *a = &ex[order[i - 1]].name, *b = &ex[order[i]].name;
    if (a->len == b->len && !memcmp(a->ptr, b->ptr, a->len)) {
      const wg_name *later = order[i] > order[i - 1] ? b : a;
      ok = invalid(d, later->offset, "duplicate export name");
    }
  }
  free(order);
  return ok;
}

static bool check_elems(wg_module *m, wg_diag *d) {
  /* First pass: every function named by a segment is a declared reference,
   * whether or not the segment validates (3.4.10, C.refs). */
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wg_elem *e = &m->elems[i];
    if (e->exprs) continue;
    for (uint32_t k = 0; k < e->count; k++)
      if (e->funcs[k] < m->nfuncs) m->declared_refs[e->funcs[k]] = 1;
  }
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wg_elem *e = &m->elems[i];
    size_t at = e->offset_in_binary;
    if (e->mode == WG_SEG_ACTIVE) {
      if (e->table >= m->ntables) return wg_fail(d, WG_ERROR_INVALID, at, "unknown table %u", e->table);
      if (!check_const_expr(m, &e->offset, WG_I32, d)) return false;
      if (m->tables[e->table].elem != e->type) return invalid(d, at, "type mismatch");
    }
    for (uint32_t k = 0; k < e->count; k++) {
      if (e->exprs) {
        if (!check_const_expr(m, &e->init[k], e->type, d)) return false;
      } else if (e->funcs[k] >= m->nfuncs) {
        return wg_fail(d, WG_ERROR_INVALID, at, "unknown function %u", e->funcs[k]);
      }
    }
  }
  return true;
}

static bool check_datas(wg_module *m, wg_diag *d) {
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const wg_data *s = &m->datas[i];
    if (s->mode != WG_SEG_ACTIVE) continue;
    if (s->memory >= m->nmems) return wg_fail(d, WG_ERROR_INVALID, s->init.offset, "unknown memory %u", s->memory);
    if (!check_const_expr(m, &s->offset, WG_I32, d)) return false;
  }
  return true;
}

static bool check_start(wg_module *m, wg_diag *d) {
  if (!m->has_start) return true;
  if (m->start >= m->nfuncs) return wg_fail(d, WG_ERROR_INVALID, m->start_offset, "unknown function %u", m->start);
  const wg_functype *ft = &m->types[m->funcs[m->start].type];
  if (ft->nparams || ft->nresults) return invalid(d, m->start_offset, "start function");
  return true;
}

static bool check_code(wg_module *m, wg_diag *d) {
  if (m->nfuncs == m->nfunc_imports) return true;
  wg_code_validator *v = wg_code_validator_new(m);
  if (!v) return wg_fail(d, WG_ERROR_RESOURCE, 0, "out of memory");
  bool ok = true;
  for (uint32_t i = m->nfunc_imports; i < m->nfuncs && ok; i++) ok = wg_validate_func(v, i, d);
  wg_code_validator_free(v);
  return ok;
}

bool wg_validate_module(wg_module *m, wg_diag *d) {
  m->declared_refs = wg_arena_alloc(&m->arena, m->nfuncs);
  if (!m->declared_refs) return wg_fail(d, WG_ERROR_RESOURCE, 0, "out of memory");
  return check_imports(m, d) && check_definitions(m, d) && check_exports(m, d) && check_start(m, d) &&
         check_elems(m, d) && check_datas(m, d) && check_code(m, d);
}
