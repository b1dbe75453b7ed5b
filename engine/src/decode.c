/*
 * decode.c: the binary format of modules (spec 5.5), sections to wg_module.
 *
 * Every read goes through reader.h and is bounds-checked. A count read from
 * the binary is compared with the bytes left before anything is allocated
 * for it (each element takes at least one byte), so a hostile header cannot
 * make us allocate more than a small multiple of the input's size.
 * Function bodies are only delimited and their locals decoded here; their
 * instructions are decoded by the validator (validate_code.c).
 */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "opcodes.h"
#include "reader.h"

enum {
  SEC_CUSTOM = 0,
  SEC_TYPE = 1,
  SEC_IMPORT = 2,
  SEC_FUNCTION = 3,
  SEC_TABLE = 4,
  SEC_MEMORY = 5,
  SEC_GLOBAL = 6,
  SEC_EXPORT = 7,
  SEC_START = 8,
  SEC_ELEMENT = 9,
  SEC_CODE = 10,
  SEC_DATA = 11,
  SEC_DATACOUNT = 12,
  SEC_TAG = 13, /* exception handling (3.0) */
};

/* Position of each section id in the required order (5.5.2): data count
 * comes between element and code, tags between memory and global. */
static const uint8_t section_rank[14] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};

typedef struct decoder {
  wg_module *m;
  wg_diag *d;
  uint32_t nfunc_decls; /* entries of the function section */
  bool has_funcs, has_code;
  size_t code_mismatch_at; /* nonzero: the code section's count differs */
  wg_bytes name_section; /* contents of the "name" custom section, if any */
} decoder;

static bool oom(decoder *dc, const wg_reader *r) {
  return wg_fail(dc->d, WG_ERROR_RESOURCE, rd_offset(r), "out of memory");
}

static bool limit(decoder *dc, size_t at, const char *what) {
  return wg_fail(dc->d, WG_ERROR_LIMIT, at, "%s", what);
}

/* Reads a vector count and checks that at least `min_size` bytes per element
 * remain, before the caller allocates for it. */
static bool read_count(wg_reader *r, uint32_t min_size, uint32_t *n) {
  if (!rd_u32(r, n)) return false;
  if ((uint64_t)*n * min_size > rd_left(r)) return rd_eof(r);
  return true;
}

/* Copies a name into the arena with a terminating NUL. */
static bool read_name(decoder *dc, wg_reader *r, wg_name *out) {
  const uint8_t *p;
  uint32_t len;
  out->offset = (uint32_t)rd_offset(r);
  if (!rd_name(r, &p, &len)) return false;
  uint8_t *copy = wg_arena_alloc(&dc->m->arena, (size_t)len + 1);
  if (!copy) return oom(dc, r);
  memcpy(copy, p, len);
  out->ptr = copy;
  out->len = len;
  return true;
}

/* exnref (0x69) is a type only with exception handling: in a WebAssembly 2.0
 * module it is a byte like any other that names no type (malformed). */
static bool type_allowed(const wg_module *m, uint8_t t) {
  return t != WG_EXNREF || (m->features & WG_FEATURE_EXCEPTIONS);
}

static bool read_valtype(const wg_module *m, wg_reader *r, uint8_t *out) {
  size_t at = rd_offset(r);
  if (!rd_u8(r, out)) return false;
  if (!wg_is_valtype(*out) || !type_allowed(m, *out))
    return wg_fail(r->diag, WG_ERROR_MALFORMED, at, "malformed value type");
  return true;
}

static bool read_reftype(const wg_module *m, wg_reader *r, uint8_t *out) {
  size_t at = rd_offset(r);
  if (!rd_u8(r, out)) return false;
  if (!wg_is_reftype(*out) || !type_allowed(m, *out))
    return wg_fail(r->diag, WG_ERROR_MALFORMED, at, "malformed reference type");
  return true;
}

/* limits (5.3.7): 0x00 min | 0x01 min max. */
static bool read_limits(wg_reader *r, wg_limits *l) {
  size_t at = rd_offset(r);
  /* The flag is read as a 1-bit LEB128, as the reference interpreter does:
   * 0x02 is "integer too large", 0x81 0x00 "integer representation too long". */
  uint64_t flag;
  (void)at;
  if (!rd_uleb(r, 1, &flag)) return false;
  l->has_max = flag == 1;
  if (!rd_u32(r, &l->min)) return false;
  l->max = 0;
  return !l->has_max || rd_u32(r, &l->max);
}

static bool read_tabletype(const wg_module *m, wg_reader *r, wg_tabletype *t) {
  return read_reftype(m, r, &t->elem) && read_limits(r, &t->limits);
}

static bool read_globaltype(const wg_module *m, wg_reader *r, wg_globaltype *g) {
  if (!read_valtype(m, r, &g->type)) return false;
  size_t at = rd_offset(r);
  uint8_t mut;
  if (!rd_u8(r, &mut)) return false;
  if (mut > 1) return wg_fail(r->diag, WG_ERROR_MALFORMED, at, "malformed mutability");
  g->mut = mut == 1;
  return true;
}

/* A constant expression (5.4.9): its instructions up to and including the
 * `end` that closes it. Only delimited here; validate.c checks what it may
 * contain. Decodes instructions with wg_instr_read so that malformed ones
 * are reported as such. */
static bool read_expr(wg_reader *r, wg_bytes *out) {
  out->ptr = r->p;
  out->offset = (uint32_t)rd_offset(r);
  int depth = 0;
  for (;;) {
    wg_instr in;
    if (!wg_instr_read(r, &in)) return false;
    if (in.op == WG_OP_BLOCK || in.op == WG_OP_LOOP || in.op == WG_OP_IF || in.op == WG_OP_TRY_TABLE) depth++;
    if (in.op == WG_OP_END && depth-- == 0) break;
  }
  out->len = (uint32_t)(r->p - out->ptr);
  return true;
}

/* tagtype (3.0 5.5.13): attribute 0x00 (exception), then a type index
 * (checked by the validator). */
static bool read_tagtype(decoder *dc, wg_reader *r, uint32_t *type) {
  size_t at = rd_offset(r);
  uint8_t attr;
  if (!rd_u8(r, &attr)) return false;
  if (attr != 0) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed tag attribute");
  return rd_u32(r, type);
}

static bool decode_types(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  if (!read_count(r, 1, &m->ntypes)) return false;
  m->types = wg_arena_array(&m->arena, m->ntypes, sizeof *m->types);
  if (m->ntypes && !m->types) return oom(dc, r);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    size_t at = rd_offset(r);
    uint8_t form;
    if (!rd_u8(r, &form)) return false;
    if (form != 0x60) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed function type");
    wg_functype *ft = &m->types[i];
    for (int part = 0; part < 2; part++) {
      at = rd_offset(r);
      uint32_t n;
      if (!read_count(r, 1, &n)) return false;
      if (n > (part ? WG_MAX_FUNC_RESULTS : WG_MAX_FUNC_PARAMS))
        return limit(dc, at, part ? "too many results" : "too many parameters");
      uint8_t *ts = wg_arena_alloc(&m->arena, n);
      if (!ts) return oom(dc, r);
      for (uint32_t k = 0; k < n; k++)
        if (!read_valtype(m, r, &ts[k])) return false;
      if (part) ft->nresults = n, ft->results = ts;
      else ft->nparams = n, ft->params = ts;
    }
  }
  return true;
}

static bool decode_imports(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  if (!read_count(r, 1, &m->nimports)) return false;
  m->imports = wg_arena_array(&m->arena, m->nimports, sizeof *m->imports);
  /* The import section comes first, so each index space is sized here for
   * the imports and grown once the module's own definitions are known. */
  m->funcs = wg_arena_array(&m->arena, m->nimports, sizeof *m->funcs);
  m->tables = wg_arena_array(&m->arena, m->nimports, sizeof *m->tables);
  m->mems = wg_arena_array(&m->arena, m->nimports, sizeof *m->mems);
  m->globals = wg_arena_array(&m->arena, m->nimports, sizeof *m->globals);
  m->tags = wg_arena_array(&m->arena, m->nimports, sizeof *m->tags);
  if (m->nimports && !(m->imports && m->funcs && m->tables && m->mems && m->globals && m->tags)) return oom(dc, r);
  for (uint32_t i = 0; i < m->nimports; i++) {
    wg_import *im = &m->imports[i];
    if (!read_name(dc, r, &im->module) || !read_name(dc, r, &im->name)) return false;
    size_t at = rd_offset(r);
    uint8_t kind;
    if (!rd_u8(r, &kind)) return false;
    switch (kind) {
      case WG_EXTERN_FUNC:
        im->index = m->nfuncs++;
        m->funcs[im->index].imported = true;
        if (!rd_u32(r, &m->funcs[im->index].type)) return false;
        break;
      case WG_EXTERN_TABLE:
        im->index = m->ntables++;
        if (!read_tabletype(m, r, &m->tables[im->index])) return false;
        break;
      case WG_EXTERN_MEMORY:
        im->index = m->nmems++;
        if (!read_limits(r, &m->mems[im->index])) return false;
        break;
      case WG_EXTERN_GLOBAL:
        im->index = m->nglobals++;
        m->globals[im->index].imported = true;
        if (!read_globaltype(m, r, &m->globals[im->index].type)) return false;
        break;
      case WG_EXTERN_TAG:
        if (!(m->features & WG_FEATURE_EXCEPTIONS)) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed import kind");
        im->index = m->ntags++;
        if (!read_tagtype(dc, r, &m->tags[im->index])) return false;
        break;
      default:
        return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed import kind");
    }
    im->kind = (wg_extern_kind)kind;
  }
  m->nfunc_imports = m->nfuncs;
  m->ntable_imports = m->ntables;
  m->nmem_imports = m->nmems;
  m->nglobal_imports = m->nglobals;
  m->ntag_imports = m->ntags;
  return true;
}

/* Grows an index space from its imports to imports + n entries. */
static void *grow_space(decoder *dc, void *old, uint32_t have, uint32_t n, size_t size) {
  if ((uint64_t)have + n > UINT32_MAX) return NULL;
  void *p = wg_arena_array(&dc->m->arena, (size_t)have + n, size);
  if (p && have) memcpy(p, old, (size_t)have * size);
  return p;
}

static bool decode_functions(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  uint32_t n;
  if (!read_count(r, 1, &n)) return false;
  wg_funcdef *funcs = grow_space(dc, m->funcs, m->nfuncs, n, sizeof *funcs);
  if (!funcs && m->nfuncs + (uint64_t)n) return oom(dc, r);
  m->funcs = funcs;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_u32(r, &m->funcs[m->nfuncs + i].type)) return false;
  m->nfuncs += n;
  dc->nfunc_decls = n;
  dc->has_funcs = true;
  return true;
}

static bool decode_tables(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  uint32_t n;
  if (!read_count(r, 1, &n)) return false;
  wg_tabletype *t = grow_space(dc, m->tables, m->ntables, n, sizeof *t);
  if (!t && m->ntables + (uint64_t)n) return oom(dc, r);
  m->tables = t;
  for (uint32_t i = 0; i < n; i++)
    if (!read_tabletype(m, r, &m->tables[m->ntables + i])) return false;
  m->ntables += n;
  return true;
}

static bool decode_memories(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  uint32_t n;
  if (!read_count(r, 1, &n)) return false;
  wg_limits *l = grow_space(dc, m->mems, m->nmems, n, sizeof *l);
  if (!l && m->nmems + (uint64_t)n) return oom(dc, r);
  m->mems = l;
  for (uint32_t i = 0; i < n; i++)
    if (!read_limits(r, &m->mems[m->nmems + i])) return false;
  m->nmems += n;
  return true;
}

static bool decode_tags(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  uint32_t n;
  if (!read_count(r, 2, &n)) return false;
  uint32_t *t = grow_space(dc, m->tags, m->ntags, n, sizeof *t);
  if (!t && m->ntags + (uint64_t)n) return oom(dc, r);
  m->tags = t;
  for (uint32_t i = 0; i < n; i++)
    if (!read_tagtype(dc, r, &m->tags[m->ntags + i])) return false;
  m->ntags += n;
  return true;
}

static bool decode_globals(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  uint32_t n;
  if (!read_count(r, 1, &n)) return false;
  wg_globaldef *g = grow_space(dc, m->globals, m->nglobals, n, sizeof *g);
  if (!g && m->nglobals + (uint64_t)n) return oom(dc, r);
  m->globals = g;
  for (uint32_t i = 0; i < n; i++) {
    wg_globaldef *gl = &m->globals[m->nglobals + i];
    if (!read_globaltype(m, r, &gl->type) || !read_expr(r, &gl->init)) return false;
  }
  m->nglobals += n;
  return true;
}

static bool decode_exports(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  if (!read_count(r, 1, &m->nexports)) return false;
  m->exports = wg_arena_array(&m->arena, m->nexports, sizeof *m->exports);
  if (m->nexports && !m->exports) return oom(dc, r);
  for (uint32_t i = 0; i < m->nexports; i++) {
    wg_export *ex = &m->exports[i];
    if (!read_name(dc, r, &ex->name)) return false;
    size_t at = rd_offset(r);
    uint8_t kind;
    if (!rd_u8(r, &kind)) return false;
    if (kind > (dc->m->features & WG_FEATURE_EXCEPTIONS ? WG_EXTERN_TAG : WG_EXTERN_GLOBAL))
      return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed export kind");
    ex->kind = (wg_extern_kind)kind;
    if (!rd_u32(r, &ex->index)) return false;
  }
  return true;
}

static bool decode_start(decoder *dc, wg_reader *r) {
  dc->m->has_start = true;
  dc->m->start_offset = (uint32_t)rd_offset(r);
  return rd_u32(r, &dc->m->start);
}

/* Element segments (5.5.12): the flags' bit 0 selects passive/declarative,
 * bit 1 an explicit table index (active) or declarative (otherwise), bit 2
 * expressions instead of function indices. */
static bool decode_elements(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  if (!read_count(r, 1, &m->nelems)) return false;
  m->elems = wg_arena_array(&m->arena, m->nelems, sizeof *m->elems);
  if (m->nelems && !m->elems) return oom(dc, r);
  for (uint32_t i = 0; i < m->nelems; i++) {
    wg_elem *e = &m->elems[i];
    e->offset_in_binary = (uint32_t)rd_offset(r);
    size_t at = rd_offset(r);
    uint32_t flags;
    if (!rd_u32(r, &flags)) return false;
    if (flags > 7) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed elements segment kind");
    e->exprs = flags & 4;
    if (flags & 1) e->mode = (flags & 2) ? WG_SEG_DECLARATIVE : WG_SEG_PASSIVE;
    else e->mode = WG_SEG_ACTIVE;
    e->type = WG_FUNCREF;
    if (e->mode == WG_SEG_ACTIVE) {
      if ((flags & 2) && !rd_u32(r, &e->table)) return false;
      if (!read_expr(r, &e->offset)) return false;
    }
    /* Flags 0 and 4 imply funcref; the others give an elemkind or a reftype. */
    if (flags & 3) {
      if (e->exprs) {
        if (!read_reftype(dc->m, r, &e->type)) return false;
      } else {
        at = rd_offset(r);
        uint8_t kind;
        if (!rd_u8(r, &kind)) return false;
        if (kind != 0x00) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed element kind");
      }
    }
    if (!read_count(r, 1, &e->count)) return false;
    if (e->exprs) {
      e->init = wg_arena_array(&m->arena, e->count, sizeof *e->init);
      if (e->count && !e->init) return oom(dc, r);
      for (uint32_t k = 0; k < e->count; k++)
        if (!read_expr(r, &e->init[k])) return false;
    } else {
      e->funcs = wg_arena_array(&m->arena, e->count, sizeof *e->funcs);
      if (e->count && !e->funcs) return oom(dc, r);
      for (uint32_t k = 0; k < e->count; k++)
        if (!rd_u32(r, &e->funcs[k])) return false;
    }
  }
  return true;
}

static bool decode_datacount(decoder *dc, wg_reader *r) {
  dc->m->has_datacount = true;
  return rd_u32(r, &dc->m->datacount);
}

/* Decodes a body's locals declarations (5.5.13), checking that their total
 * stays within the spec's 2^32-1 and our implementation limit. */
static bool decode_locals(decoder *dc, wg_reader *r, wg_funcdef *f) {
  uint32_t groups;
  if (!read_count(r, 1, &groups)) return false;
  uint64_t total = 0;
  for (uint32_t g = 0; g < groups; g++) {
    size_t at = rd_offset(r);
    uint32_t count;
    uint8_t type;
    if (!rd_u32(r, &count)) return false;
    total += count;
    if (total > UINT32_MAX) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "too many locals");
    if (!read_valtype(dc->m, r, &type)) return false;
  }
  uint32_t nparams = f->type < dc->m->ntypes ? dc->m->types[f->type].nparams : 0;
  if (total + nparams > WG_MAX_FUNC_LOCALS) return limit(dc, f->body.offset, "too many locals");
  f->locals_count = (uint32_t)total;
  return true;
}

static bool decode_code(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  size_t at = rd_offset(r);
  uint32_t n;
  if (!read_count(r, 1, &n)) return false;
  if (n != dc->nfunc_decls) {
    /* Reported after the remaining sections, whose own errors come first. */
    dc->code_mismatch_at = at;
    r->p = r->end;
    return true;
  }
  dc->has_code = true;
  for (uint32_t i = 0; i < n; i++) {
    wg_funcdef *f = &m->funcs[m->nfunc_imports + i];
    uint32_t size;
    if (!rd_u32(r, &size)) return false;
    if (size > rd_left(r)) return rd_eof(r);
    if (size > WG_MAX_BODY_SIZE) return limit(dc, rd_offset(r), "function body too large");
    f->body.ptr = r->p;
    f->body.len = size;
    f->body.offset = (uint32_t)rd_offset(r);
    wg_reader br = {r->p, r->p + size, r->base, r->diag, WG_MSG_EOF_SECTION};
    if (!decode_locals(dc, &br, f)) return false;
    f->code_offset = (uint32_t)(br.p - f->body.ptr);
    r->p += size;
  }
  return true;
}

static bool decode_data(decoder *dc, wg_reader *r) {
  wg_module *m = dc->m;
  size_t at = rd_offset(r);
  if (!read_count(r, 1, &m->ndatas)) return false;
  if (m->has_datacount && m->datacount != m->ndatas)
    return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "data count and data section have inconsistent lengths");
  m->datas = wg_arena_array(&m->arena, m->ndatas, sizeof *m->datas);
  if (m->ndatas && !m->datas) return oom(dc, r);
  for (uint32_t i = 0; i < m->ndatas; i++) {
    wg_data *s = &m->datas[i];
    at = rd_offset(r);
    uint32_t flags;
    if (!rd_u32(r, &flags)) return false;
    if (flags > 2) return wg_fail(dc->d, WG_ERROR_MALFORMED, at, "malformed data segment kind");
    s->mode = flags == 1 ? WG_SEG_PASSIVE : WG_SEG_ACTIVE;
    if (flags == 2 && !rd_u32(r, &s->memory)) return false;
    if (s->mode == WG_SEG_ACTIVE && !read_expr(r, &s->offset)) return false;
    uint32_t len;
    s->init.offset = (uint32_t)rd_offset(r);
    if (!rd_u32(r, &len) || !rd_bytes(r, len, &s->init.ptr)) return false;
    s->init.len = len;
  }
  return true;
}

static bool decode_custom(decoder *dc, wg_reader *r) {
  wg_name name;
  if (!read_name(dc, r, &name)) return false;
  dc->m->sections[dc->m->nsections - 1].custom_name = name;
  if (name.len == 4 && !memcmp(name.ptr, "name", 4)) {
    dc->name_section.ptr = r->p;
    dc->name_section.len = (uint32_t)rd_left(r);
    dc->name_section.offset = (uint32_t)rd_offset(r);
  }
  r->p = r->end; /* the contents of custom sections are not interpreted here */
  return true;
}

/* The "name" section's function names (spec 7.4.2). A malformed name section
 * does not make the module malformed (7.4.1): decoding just stops. */
static void decode_names(decoder *dc) {
  wg_module *m = dc->m;
  if (!dc->name_section.ptr || !m->nfuncs) return;
  wg_diag ignored = {0};
  wg_reader r = {dc->name_section.ptr, dc->name_section.ptr + dc->name_section.len, m->bytes, &ignored,
                 WG_MSG_EOF_SECTION};
  while (!rd_done(&r)) {
    uint8_t id;
    uint32_t size;
    if (!rd_u8(&r, &id) || !rd_u32(&r, &size) || size > rd_left(&r)) return;
    wg_reader sub = {r.p, r.p + size, r.base, &ignored, WG_MSG_EOF_SECTION};
    r.p += size;
    if (id != 1) continue;
    uint32_t n;
    if (!read_count(&sub, 2, &n)) return;
    m->func_names = wg_arena_array(&m->arena, m->nfuncs, sizeof *m->func_names);
    if (!m->func_names) return;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t idx;
      wg_name name;
      if (!rd_u32(&sub, &idx) || !read_name(dc, &sub, &name)) return;
      if (idx < m->nfuncs) m->func_names[idx] = (const char *)name.ptr;
    }
  }
}

static bool decode_section(decoder *dc, uint8_t id, wg_reader *r) {
  switch (id) {
    case SEC_CUSTOM: return decode_custom(dc, r);
    case SEC_TYPE: return decode_types(dc, r);
    case SEC_IMPORT: return decode_imports(dc, r);
    case SEC_FUNCTION: return decode_functions(dc, r);
    case SEC_TABLE: return decode_tables(dc, r);
    case SEC_MEMORY: return decode_memories(dc, r);
    case SEC_GLOBAL: return decode_globals(dc, r);
    case SEC_EXPORT: return decode_exports(dc, r);
    case SEC_START: return decode_start(dc, r);
    case SEC_ELEMENT: return decode_elements(dc, r);
    case SEC_CODE: return decode_code(dc, r);
    case SEC_DATA: return decode_data(dc, r);
    case SEC_DATACOUNT: return decode_datacount(dc, r);
    case SEC_TAG: return decode_tags(dc, r);
  }
  return false;
}

/* The number of well-formed section headers from r's position on, stopping
 * at the first malformed one (which the decoder reports in its turn). Reads
 * a copy of `r` with a scratch diagnostic: nothing is recorded or consumed. */
static uint32_t count_sections(const wg_reader *r) {
  wg_diag scratch = {0};
  wg_reader c = *r;
  c.diag = &scratch;
  uint32_t n = 0;
  while (!rd_done(&c)) {
    uint8_t id;
    uint32_t size;
    if (!rd_u8(&c, &id) || !rd_u32(&c, &size) || size > rd_left(&c)) break;
    c.p += size;
    n++;
  }
  return n;
}

bool wg_decode_module(wg_module *m, wg_diag *d) {
  decoder dc = {.m = m, .d = d};
  wg_reader r = {m->bytes, m->bytes + m->len, m->bytes, d, WG_MSG_EOF};
  const uint8_t *p;
  if (!rd_bytes(&r, 4, &p)) return false;
  if (memcmp(p, "\0asm", 4)) return wg_fail(d, WG_ERROR_MALFORMED, 0, "magic header not detected");
  if (!rd_bytes(&r, 4, &p)) return false;
  if (memcmp(p, "\1\0\0\0", 4)) return wg_fail(d, WG_ERROR_MALFORMED, 4, "unknown binary version");

  /* One record per section actually present: count the section headers
   * first (the main loop below reports any malformed one). */
  uint32_t cap = count_sections(&r);
  m->sections = wg_arena_array(&m->arena, cap ? cap : 1, sizeof *m->sections);
  if (!m->sections) return oom(&dc, &r);
  uint8_t last_rank = 0;
  while (!rd_done(&r)) {
    size_t at = rd_offset(&r);
    uint8_t id;
    uint32_t size;
    if (!rd_u8(&r, &id)) return false;
    if (id > (m->features & WG_FEATURE_EXCEPTIONS ? SEC_TAG : SEC_DATACOUNT))
      return wg_fail(d, WG_ERROR_MALFORMED, at, "malformed section id");
    if (!rd_u32(&r, &size)) return false;
    if (size > rd_left(&r)) return wg_fail(d, WG_ERROR_MALFORMED, rd_offset(&r), "length out of bounds");
    if (id != SEC_CUSTOM) {
      if (section_rank[id] <= last_rank)
        return wg_fail(d, WG_ERROR_MALFORMED, at, "unexpected content after last section");
      last_rank = section_rank[id];
    }
    if (m->nsections >= cap) return oom(&dc, &r); /* cannot happen: counted above */
    struct wg_section_info *si = &m->sections[m->nsections++];
    si->id = id;
    si->offset = (uint32_t)rd_offset(&r);
    si->size = size;
    wg_reader sec = {r.p, r.p + size, r.base, d, WG_MSG_EOF_SECTION};
    if (!decode_section(&dc, id, &sec)) return false;
    if (!rd_done(&sec)) return wg_fail(d, WG_ERROR_MALFORMED, rd_offset(&sec), "section size mismatch");
    r.p += size;
  }
  if (dc.code_mismatch_at)
    return wg_fail(d, WG_ERROR_MALFORMED, dc.code_mismatch_at, "function and code section have inconsistent lengths");
  if (dc.nfunc_decls && !dc.has_code)
    return wg_fail(d, WG_ERROR_MALFORMED, m->len, "function and code section have inconsistent lengths");
  if (m->has_datacount && m->datacount != m->ndatas)
    return wg_fail(d, WG_ERROR_MALFORMED, m->len, "data count and data section have inconsistent lengths");
  decode_names(&dc);
  return true;
}
