/*
 * cm_dump.c: component types as WIT-like text, and the component dump
 * (`wasmgate wasm dump` on a component): preamble, sections, counts,
 * imports and exports.
 */
#include <string.h>

#include "cm.h"

static const char *const prim_names[] = {
    [CM_BOOL] = "bool", [CM_S8] = "s8",   [CM_U8] = "u8",   [CM_S16] = "s16",   [CM_U16] = "u16",
    [CM_S32] = "s32",   [CM_U32] = "u32", [CM_S64] = "s64", [CM_U64] = "u64",   [CM_F32] = "f32",
    [CM_F64] = "f64",   [CM_CHAR] = "char", [CM_STRING] = "string", [CM_ERROR_CONTEXT] = "error-context",
};

static void valtype(FILE *o, const cm_type *t, bool named);

static void fields(FILE *o, const cm_type *t, bool labelled, bool payload_parens) {
  for (uint32_t i = 0; i < t->n; i++) {
    if (i) fputs(", ", o);
    if (labelled && t->fields[i].name) fputs(t->fields[i].name, o);
    if (!t->fields[i].type) continue;
    if (payload_parens) {
      fputc('(', o);
      valtype(o, t->fields[i].type, true);
      fputc(')', o);
    } else {
      if (labelled) fputs(": ", o);
      valtype(o, t->fields[i].type, true);
    }
  }
}

static void opt(FILE *o, const cm_type *t) {
  if (t) valtype(o, t, true);
  else fputc('_', o);
}

/* A value type; `named`: print a defined type's name when it has one. */
static void valtype(FILE *o, const cm_type *t, bool named) {
  if (!t) return;
  if (t->kind <= CM_ERROR_CONTEXT) {
    fputs(prim_names[t->kind], o);
    return;
  }
  if (named && t->label && t->kind != CM_OWN && t->kind != CM_BORROW) {
    fputs(t->label, o);
    return;
  }
  switch (t->kind) {
  case CM_RECORD: fputs("record { ", o); fields(o, t, true, false); fputs(" }", o); break;
  case CM_VARIANT: fputs("variant { ", o); fields(o, t, true, true); fputs(" }", o); break;
  case CM_ENUM: fputs("enum { ", o); fields(o, t, true, false); fputs(" }", o); break;
  case CM_FLAGS: fputs("flags { ", o); fields(o, t, true, false); fputs(" }", o); break;
  case CM_TUPLE: fputs("tuple<", o); fields(o, t, false, false); fputc('>', o); break;
  case CM_LIST: fputs("list<", o); valtype(o, t->elem, true); fputc('>', o); break;
  case CM_FIXED_LIST: fputs("list<", o); valtype(o, t->elem, true); fprintf(o, ", %u>", t->len); break;
  case CM_OPTION: fputs("option<", o); valtype(o, t->elem, true); fputc('>', o); break;
  case CM_RESULT:
    if (!t->elem && !t->elem2) { fputs("result", o); break; }
    fputs("result<", o);
    opt(o, t->elem);
    if (t->elem2) { fputs(", ", o); valtype(o, t->elem2, true); }
    fputc('>', o);
    break;
  case CM_OWN: fputs(t->elem->label ? t->elem->label : "resource", o); break;
  case CM_BORROW: fprintf(o, "borrow<%s>", t->elem->label ? t->elem->label : "resource"); break;
  case CM_STREAM: fputs("stream", o); if (t->elem) { fputc('<', o); valtype(o, t->elem, true); fputc('>', o); } break;
  case CM_FUTURE: fputs("future", o); if (t->elem) { fputc('<', o); valtype(o, t->elem, true); fputc('>', o); } break;
  case CM_MAP: fputs("map<", o); valtype(o, t->elem, true); fputs(", ", o); valtype(o, t->elem2, true); fputc('>', o); break;
  case CM_RESOURCE: fputs(t->label ? t->label : "resource", o); break;
  default: fputs("?", o);
  }
}

static void pad(FILE *o, int n) {
  for (int i = 0; i < n; i++) fputc(' ', o);
}

static void core_func(FILE *o, const cm_type *t) {
  fputs("core func(", o);
  for (uint32_t i = 0; i < t->ncparams; i++) fprintf(o, "%s%s", i ? ", " : "", wg_valtype_name((wg_valtype)t->cparams[i]));
  fputs(") -> (", o);
  for (uint32_t i = 0; i < t->ncresults; i++) fprintf(o, "%s%s", i ? ", " : "", wg_valtype_name((wg_valtype)t->cresults[i]));
  fputc(')', o);
}

static void print_extern(FILE *o, const cm_extern *e, int indent, const char *keyword);

bool cm_print_type(FILE *o, const cm_type *t, int indent, bool top) {
  (void)top;
  switch (t->kind) {
  case CM_FUNC:
    fputs(t->async ? "async func(" : "func(", o);
    fields(o, t, true, false);
    fputc(')', o);
    if (t->elem) {
      fputs(" -> ", o);
      valtype(o, t->elem, true);
    }
    break;
  case CM_INSTANCE: case CM_COMPONENT: case CM_CORE_MODULE: case CM_CORE_INSTANCE:
    fputs(t->kind == CM_INSTANCE ? "instance {" : t->kind == CM_COMPONENT ? "component {" : t->kind == CM_CORE_MODULE ? "core module {" : "core instance {", o);
    if (!t->nimports && !t->nexports) {
      fputc('}', o);
      break;
    }
    fputc('\n', o);
    for (uint32_t i = 0; i < t->nimports; i++) print_extern(o, &t->imports[i], indent + 2, "import ");
    for (uint32_t i = 0; i < t->nexports; i++)
      print_extern(o, &t->exports[i], indent + 2, t->kind == CM_INSTANCE || t->kind == CM_CORE_INSTANCE ? "" : "export ");
    pad(o, indent);
    fputc('}', o);
    break;
  case CM_RESOURCE: fputs("resource", o); break;
  case CM_CORE_FUNC: core_func(o, t); break;
  case CM_CORE_MEMORY: fprintf(o, "core memory %llu", (unsigned long long)t->min); if (t->has_max) fprintf(o, " %llu", (unsigned long long)t->max); break;
  case CM_CORE_TABLE: fprintf(o, "core table %s %llu", wg_valtype_name((wg_valtype)t->elemtype), (unsigned long long)t->min); break;
  case CM_CORE_GLOBAL: fprintf(o, "core global %s%s", t->mut ? "mut " : "", wg_valtype_name((wg_valtype)t->elemtype)); break;
  case CM_CORE_TAG: fputs("core tag", o); break;
  default: valtype(o, t, false);
  }
  return !ferror(o);
}

static void print_extern(FILE *o, const cm_extern *e, int indent, const char *keyword) {
  pad(o, indent);
  if (e->sort == CS_TYPE) {
    if (e->type->kind == CM_RESOURCE) fprintf(o, "%sresource %s;\n", keyword, e->name);
    else {
      fprintf(o, "%stype %s = ", keyword, e->name);
      valtype(o, e->type, e->type->label && strcmp(e->type->label, e->name));
      fputs(";\n", o);
    }
    return;
  }
  if (e->module) fprintf(o, "%s%s::%s: ", keyword, e->module, e->name);
  else fprintf(o, "%s%s: ", keyword, e->name);
  cm_print_type(o, e->type, indent, false);
  fputs(";\n", o);
}

static const char *const section_names[] = {"custom", "core module", "core instance", "core type", "component",
                                            "instance", "alias", "type", "canon", "start", "import", "export", "value"};

bool wg_component_dump(const wg_component *c, FILE *o) {
  fprintf(o, "component: %zu bytes, version 0x0d, layer 1\n\nsections: %u\n", c->len, c->nsections);
  /* Real components interleave hundreds of small sections: per kind, a count
   * and the bytes; core modules, nested components and custom sections one
   * by one. */
  for (uint8_t id = 0; id < 13; id++) {
    uint32_t n = 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < c->nsections; i++)
      if (c->sections[i].id == id) n++, bytes += c->sections[i].size;
    if (n) fprintf(o, "  %-13s x%-4u %zu bytes\n", section_names[id], n, bytes);
  }
  for (uint32_t i = 0; i < c->nsections; i++) {
    const cm_section *s = &c->sections[i];
    if (s->id != 0 && s->id != 1 && s->id != 4) continue;
    fprintf(o, "  %-13s start=0x%08zx size=%zu", section_names[s->id], s->offset, s->size);
    if (s->custom_name) fprintf(o, " \"%s\"", s->custom_name);
    fputc('\n', o);
  }
  const cm_stats *st = &c->stats;
  fprintf(o,
          "\ndefinitions (nested components included): %u core modules, %u core instances, %u components, %u instances, %u types, %u aliases,\n"
          "             %u canon lift, %u canon lower, %u resource.new, %u resource.drop, %u resource.rep\n",
          c->nmodules, st->core_instances, st->components, st->instances, st->types, st->aliases, st->lifts, st->lowers,
          st->resource_new, st->resource_drop, st->resource_rep);
  for (uint32_t i = 0; i < c->nmodules; i++) {
    const wg_module *m = c->modules[i];
    fprintf(o, "  core module %u: %u imports, %u exports, %u functions\n", i, wg_module_import_count(m),
            wg_module_export_count(m), wg_module_func_count(m));
  }
  fprintf(o, "\nimports:\n");
  for (uint32_t i = 0; i < c->type->nimports; i++) print_extern(o, &c->type->imports[i], 2, "import ");
  fprintf(o, "\nexports:\n");
  for (uint32_t i = 0; i < c->type->nexports; i++) print_extern(o, &c->type->exports[i], 2, "export ");
  return !ferror(o);
}
