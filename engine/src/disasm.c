/*
 * disasm.c: wg_module_dump, a textual description of a validated module:
 * its sections, the entries of each, and every function's instructions with
 * their byte offsets, in the manner of `wasm-objdump -x -d`. Instruction
 * names and immediates come from the opcode table (opcodes.def).
 */
#include <inttypes.h>
#include <string.h>

#include "module.h"
#include "opcodes.h"

static const char *const section_names[] = {"Custom", "Type", "Import", "Function", "Table", "Memory", "Global",
                                            "Export", "Start", "Elem", "Code", "Data", "DataCount", "Tag"};
static const char *const kind_names[] = {"func", "table", "memory", "global", "tag"};

static void print_name(FILE *out, const wg_name *n) {
  for (uint32_t i = 0; i < n->len; i++) {
    unsigned char c = n->ptr[i];
    if (c >= 0x20 && c < 0x7F && c != '\\') fputc(c, out);
    else fprintf(out, "\\%02x", c);
  }
}

static void print_types(FILE *out, uint32_t n, const uint8_t *ts) {
  fputc('(', out);
  for (uint32_t i = 0; i < n; i++) fprintf(out, "%s%s", i ? ", " : "", wg_valtype_name((wg_valtype)ts[i]));
  fputc(')', out);
}

static void print_limits(FILE *out, const wg_limits *l) {
  fprintf(out, "initial=%" PRIu32, l->min);
  if (l->has_max) fprintf(out, " max=%" PRIu32, l->max);
}

static void print_func_label(FILE *out, const wg_module *m, uint32_t i) {
  fprintf(out, "func[%" PRIu32 "]", i);
  if (m->func_names && m->func_names[i]) fprintf(out, " <%s>", m->func_names[i]);
}

/* Prints a constant expression inline, e.g. "i32.const 4". */
static void print_expr(FILE *out, const wg_module *m, const wg_bytes *e) {
  wg_diag ignored = {0};
  wg_reader r = {e->ptr, e->ptr + e->len, m->bytes, &ignored, WG_MSG_EOF_SECTION};
  wg_instr in;
  bool first = true;
  while (wg_instr_read(&r, &in) && in.op != WG_OP_END) {
    fprintf(out, "%s%s", first ? "" : " ", wg_ops[in.op].name);
    if (in.op == WG_OP_I32_CONST) fprintf(out, " %" PRId32, (int32_t)in.bits);
    else if (in.op == WG_OP_I64_CONST) fprintf(out, " %" PRId64, (int64_t)in.bits);
    else if (in.op == WG_OP_GLOBAL_GET || in.op == WG_OP_REF_FUNC) fprintf(out, " %" PRIu32, in.a);
    else if (in.op == WG_OP_REF_NULL) fprintf(out, " %s", wg_valtype_name((wg_valtype)in.a));
    first = false;
  }
}

static void dump_sections(FILE *out, const wg_module *m) {
  fprintf(out, "Sections:\n\n");
  for (uint32_t i = 0; i < m->nsections; i++) {
    const struct wg_section_info *s = &m->sections[i];
    fprintf(out, "%9s start=0x%08" PRIx32 " end=0x%08" PRIx32 " (size=0x%08" PRIx32 ")", section_names[s->id],
            s->offset, s->offset + s->size, s->size);
    if (s->id == 0) {
      fprintf(out, " \"");
      print_name(out, &s->custom_name);
      fputc('"', out);
    }
    fputc('\n', out);
  }
}

static void dump_details(FILE *out, const wg_module *m) {
  fprintf(out, "\nSection Details:\n\nType[%" PRIu32 "]:\n", m->ntypes);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    fprintf(out, " - type[%" PRIu32 "] ", i);
    print_types(out, m->types[i].nparams, m->types[i].params);
    fprintf(out, " -> ");
    print_types(out, m->types[i].nresults, m->types[i].results);
    fputc('\n', out);
  }
  fprintf(out, "Import[%" PRIu32 "]:\n", m->nimports);
  for (uint32_t i = 0; i < m->nimports; i++) {
    const wg_import *im = &m->imports[i];
    fprintf(out, " - %s[%" PRIu32 "]", kind_names[im->kind], im->index);
    if (im->kind == WG_EXTERN_FUNC) fprintf(out, " sig=%" PRIu32, m->funcs[im->index].type);
    if (im->kind == WG_EXTERN_GLOBAL)
      fprintf(out, " %s mutable=%d", wg_valtype_name((wg_valtype)m->globals[im->index].type.type),
              m->globals[im->index].type.mut);
    if (im->kind == WG_EXTERN_MEMORY) fputc(' ', out), print_limits(out, &m->mems[im->index]);
    if (im->kind == WG_EXTERN_TABLE) fputc(' ', out), print_limits(out, &m->tables[im->index].limits);
    fprintf(out, " <- ");
    print_name(out, &im->module);
    fputc('.', out);
    print_name(out, &im->name);
    fputc('\n', out);
  }
  fprintf(out, "Function[%" PRIu32 "]:\n", m->nfuncs - m->nfunc_imports);
  for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
    fprintf(out, " - ");
    print_func_label(out, m, i);
    fprintf(out, " sig=%" PRIu32 "\n", m->funcs[i].type);
  }
  fprintf(out, "Table[%" PRIu32 "]:\n", m->ntables - m->ntable_imports);
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
    fprintf(out, " - table[%" PRIu32 "] type=%s ", i, wg_valtype_name((wg_valtype)m->tables[i].elem));
    print_limits(out, &m->tables[i].limits);
    fputc('\n', out);
  }
  fprintf(out, "Memory[%" PRIu32 "]:\n", m->nmems - m->nmem_imports);
  for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
    fprintf(out, " - memory[%" PRIu32 "] pages: ", i);
    print_limits(out, &m->mems[i]);
    fputc('\n', out);
  }
  if (m->ntags > m->ntag_imports) {
    fprintf(out, "Tag[%" PRIu32 "]:\n", m->ntags - m->ntag_imports);
    for (uint32_t i = m->ntag_imports; i < m->ntags; i++)
      fprintf(out, " - tag[%" PRIu32 "] type[%" PRIu32 "]\n", i, m->tags[i]);
  }
  fprintf(out, "Global[%" PRIu32 "]:\n", m->nglobals - m->nglobal_imports);
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
    fprintf(out, " - global[%" PRIu32 "] %s mutable=%d - init ", i,
            wg_valtype_name((wg_valtype)m->globals[i].type.type), m->globals[i].type.mut);
    print_expr(out, m, &m->globals[i].init);
    fputc('\n', out);
  }
  fprintf(out, "Export[%" PRIu32 "]:\n", m->nexports);
  for (uint32_t i = 0; i < m->nexports; i++) {
    const wg_export *ex = &m->exports[i];
    fprintf(out, " - %s[%" PRIu32 "] -> \"", kind_names[ex->kind], ex->index);
    print_name(out, &ex->name);
    fprintf(out, "\"\n");
  }
  if (m->has_start) fprintf(out, "Start:\n - start function: %" PRIu32 "\n", m->start);
  fprintf(out, "Elem[%" PRIu32 "]:\n", m->nelems);
  static const char *const modes[] = {"active", "passive", "declarative"};
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wg_elem *e = &m->elems[i];
    fprintf(out, " - segment[%" PRIu32 "] %s %s count=%" PRIu32, i, modes[e->mode],
            wg_valtype_name((wg_valtype)e->type), e->count);
    if (e->mode == WG_SEG_ACTIVE) {
      fprintf(out, " table=%" PRIu32 " - init ", e->table);
      print_expr(out, m, &e->offset);
    }
    fputc('\n', out);
  }
  if (m->has_datacount) fprintf(out, "DataCount:\n - data count: %" PRIu32 "\n", m->datacount);
  fprintf(out, "Data[%" PRIu32 "]:\n", m->ndatas);
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const wg_data *s = &m->datas[i];
    fprintf(out, " - segment[%" PRIu32 "] %s size=%" PRIu32, i, modes[s->mode], s->init.len);
    if (s->mode == WG_SEG_ACTIVE) {
      fprintf(out, " memory=%" PRIu32 " - init ", s->memory);
      print_expr(out, m, &s->offset);
    }
    fputc('\n', out);
  }
}

static void print_immediates(FILE *out, const wg_module *m, const wg_instr *in) {
  const wg_opinfo *info = &wg_ops[in->op];
  switch ((wg_imm)info->imm) {
    case WG_IMM_BLOCKTYPE:
    case WG_IMM_TRY_TABLE:
      if (in->bt_kind == 1) fprintf(out, " %s", wg_valtype_name((wg_valtype)in->a));
      else if (in->bt_kind == 2) fprintf(out, " type[%" PRIu32 "]", in->a);
      if (info->imm == WG_IMM_TRY_TABLE) {
        static const char *const kinds[] = {"catch", "catch_ref", "catch_all", "catch_all_ref"};
        wg_diag ignored = {0};
        wg_reader r = {in->vec, m->bytes + m->len, m->bytes, &ignored, WG_MSG_EOF_SECTION};
        wg_catch c;
        for (uint32_t i = 0; i < in->b && wg_catch_read(&r, &c); i++) {
          if (c.kind < WG_CATCH_ALL) fprintf(out, " (%s %" PRIu32 " %" PRIu32 ")", kinds[c.kind], c.tag, c.label);
          else fprintf(out, " (%s %" PRIu32 ")", kinds[c.kind & 3], c.label);
        }
      }
      break;
    case WG_IMM_TAG:
      fprintf(out, " %" PRIu32, in->a);
      break;
    case WG_IMM_LABEL:
    case WG_IMM_LOCAL:
    case WG_IMM_GLOBAL:
    case WG_IMM_TABLE:
    case WG_IMM_DATA:
    case WG_IMM_ELEM:
      fprintf(out, " %" PRIu32, in->a);
      break;
    case WG_IMM_DATA_MEM:
      fprintf(out, " %" PRIu32, in->a);
      if (in->mem) fprintf(out, " (memory %" PRIu32 ")", in->mem);
      break;
    case WG_IMM_FUNC:
      fprintf(out, " %" PRIu32, in->a);
      if (m->func_names && in->a < m->nfuncs && m->func_names[in->a]) fprintf(out, " <%s>", m->func_names[in->a]);
      break;
    case WG_IMM_CALL_INDIRECT:
      fprintf(out, " %" PRIu32 " (type %" PRIu32 ")", in->b, in->a);
      break;
    case WG_IMM_ELEM_TABLE:
    case WG_IMM_TABLE_TABLE:
      fprintf(out, " %" PRIu32 " %" PRIu32, in->a, in->b);
      break;
    case WG_IMM_BR_TABLE: {
      wg_diag ignored = {0};
      wg_reader r = {in->vec, m->bytes + m->len, m->bytes, &ignored, WG_MSG_EOF_SECTION};
      uint32_t l;
      for (uint32_t i = 0; i < in->a && rd_u32(&r, &l); i++) fprintf(out, " %" PRIu32, l);
      fprintf(out, " %" PRIu32, in->b);
      break;
    }
    case WG_IMM_MEMARG:
    case WG_IMM_MEMARG_LANE:
      fprintf(out, " %" PRIu32 " %" PRIu64, in->a, in->offset_imm);
      if (info->imm == WG_IMM_MEMARG_LANE) fprintf(out, " %u", in->lane);
      if (in->mem) fprintf(out, " (memory %" PRIu32 ")", in->mem);
      break;
    case WG_IMM_LANE:
      fprintf(out, " %u", in->lane);
      break;
    case WG_IMM_I32:
      fprintf(out, " %" PRId32, (int32_t)in->bits);
      break;
    case WG_IMM_I64:
      fprintf(out, " %" PRId64, (int64_t)in->bits);
      break;
    case WG_IMM_F32: {
      uint32_t bits = (uint32_t)in->bits;
      float f;
      memcpy(&f, &bits, 4);
      fprintf(out, " %.9g", (double)f);
      break;
    }
    case WG_IMM_F64: {
      double f;
      memcpy(&f, &in->bits, 8);
      fprintf(out, " %.17g", f);
      break;
    }
    case WG_IMM_V128:
    case WG_IMM_SHUFFLE:
      for (int i = 0; i < 16; i++) fprintf(out, i ? " %u" : " %u", in->vec[i]);
      break;
    case WG_IMM_SELECT_T:
      if (in->a) fprintf(out, " %s", wg_valtype_name((wg_valtype)in->b));
      break;
    case WG_IMM_REFTYPE:
      fprintf(out, " %s", wg_valtype_name((wg_valtype)in->a));
      break;
    case WG_IMM_MEM0:
      if (in->mem) fprintf(out, " %" PRIu32, in->mem);
      break;
    case WG_IMM_MEM_MEM:
      if (in->mem || in->mem2) fprintf(out, " %" PRIu32 " %" PRIu32, in->mem, in->mem2);
      break;
    case WG_IMM_NONE:
      break;
  }
}

static void dump_code(FILE *out, const wg_module *m) {
  fprintf(out, "\nCode Disassembly:\n");
  for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
    const wg_funcdef *f = &m->funcs[i];
    fprintf(out, "\n%06" PRIx32 " ", f->body.offset);
    print_func_label(out, m, i);
    fprintf(out, ":\n");
    if (f->locals_count) fprintf(out, " locals: %" PRIu32 "\n", f->locals_count);
    wg_diag ignored = {0};
    wg_reader r = {f->body.ptr + f->code_offset, f->body.ptr + f->body.len, m->bytes, &ignored, WG_MSG_EOF_SECTION};
    int depth = 1;
    wg_instr in;
    while (!rd_done(&r) && wg_instr_read(&r, &in)) {
      if (in.op == WG_OP_END || in.op == WG_OP_ELSE) depth--;
      fprintf(out, " %06zx: %*s%s", in.offset, depth * 2, "", wg_ops[in.op].name);
      print_immediates(out, m, &in);
      fputc('\n', out);
      if (in.op == WG_OP_BLOCK || in.op == WG_OP_LOOP || in.op == WG_OP_IF || in.op == WG_OP_ELSE || in.op == WG_OP_TRY_TABLE) depth++;
    }
  }
}

bool wg_module_dump(const wg_module *m, FILE *out) {
  fprintf(out, "wasm module: %zu bytes, version 1\n\n", m->len);
  dump_sections(out, m);
  dump_details(out, m);
  dump_code(out, m);
  return !ferror(out);
}
