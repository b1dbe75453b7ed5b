/*
 * cm_decode.c: the sections of a component (component-model
 * design/mvp/Binary.md "Component Definitions"): preamble, core modules
 * (through wg_module_new), core instances, core types, nested components,
 * instances, aliases, types, canonical definitions, start, imports,
 * exports and custom sections. Each section is decoded and validated in one
 * pass, building the index spaces incrementally as the spec describes.
 */
#include <stdlib.h>
#include <string.h>

#include "cm.h"

#define EOF_MSG "unexpected end-of-file"

static bool leading(cm_ctx *x, size_t off, uint8_t b, const char *what) {
  return wg_fail(x->diag, WG_ERROR_MALFORMED, off, "invalid leading byte (0x%x) for %s", b, what);
}

static bool grow(cm_ctx *x, void **v, uint32_t *cap, uint32_t n, size_t elem) {
  if (n < *cap) return true;
  uint32_t nc = *cap ? *cap * 2 : 8;
  void *nv = realloc(*v, (size_t)nc * elem);
  if (!nv) return cm_oom(x);
  *v = nv;
  *cap = nc;
  return true;
}

/* ------------------------------------------------------- core modules */

static cm_type *core_type_of(cm_ctx *x, const wg_module *m, wg_extern_kind kind, uint32_t index) {
  wg_externtype et;
  if (!wg_module_extern_type(m, kind, index, &et)) return NULL;
  cm_type *t = NULL;
  switch (et.kind) {
  case WG_EXTERN_FUNC:
  case WG_EXTERN_TAG: /* a tag's type is a function type without results */
    if (!(t = cm_new_type(x, et.kind == WG_EXTERN_TAG ? CM_CORE_TAG : CM_CORE_FUNC))) return NULL;
    t->ncparams = et.func.nparams;
    t->ncresults = et.func.nresults;
    if (!(t->cparams = cm_alloc(x, t->ncparams)) || !(t->cresults = cm_alloc(x, t->ncresults))) return NULL;
    for (uint32_t i = 0; i < t->ncparams; i++) t->cparams[i] = (uint8_t)et.func.params[i];
    for (uint32_t i = 0; i < t->ncresults; i++) t->cresults[i] = (uint8_t)et.func.results[i];
    break;
  case WG_EXTERN_TABLE:
  case WG_EXTERN_MEMORY:
    if (!(t = cm_new_type(x, et.kind == WG_EXTERN_TABLE ? CM_CORE_TABLE : CM_CORE_MEMORY))) return NULL;
    t->elemtype = et.kind == WG_EXTERN_TABLE ? (uint8_t)et.elem : 0;
    t->min = et.min;
    t->max = et.max;
    t->has_max = et.has_max;
    break;
  case WG_EXTERN_GLOBAL:
    if (!(t = cm_new_type(x, CM_CORE_GLOBAL))) return NULL;
    t->elemtype = (uint8_t)et.type;
    t->mut = et.mut;
    break;
  }
  return t;
}

static const cm_sort kind_sort[5] = {CS_CORE_FUNC, CS_CORE_TABLE, CS_CORE_MEMORY, CS_CORE_GLOBAL, CS_CORE_TAG};

static int cmp_import(const void *a, const void *b) {
  const cm_extern *x = *(const cm_extern *const *)a, *y = *(const cm_extern *const *)b;
  int c = strcmp(x->module, y->module);
  return c ? c : strcmp(x->name, y->name);
}

/* Two-level core import names must be unique in a component (they mangle to
 * one level): "duplicate import name `module:name`". */
bool cm_check_core_imports(cm_ctx *x, const cm_type *t, size_t off) {
  if (t->nimports < 2) return true;
  const cm_extern **v = malloc(t->nimports * sizeof *v);
  if (!v) return cm_oom(x);
  for (uint32_t i = 0; i < t->nimports; i++) v[i] = &t->imports[i];
  qsort(v, t->nimports, sizeof *v, cmp_import);
  bool ok = true;
  for (uint32_t i = 1; ok && i < t->nimports; i++)
    if (!cmp_import(&v[i - 1], &v[i])) ok = cm_invalid(x, off, "duplicate import name `%s:%s`", v[i]->module, v[i]->name);
  free(v);
  return ok;
}

/* The module's type (imports and exports), as a CM_CORE_MODULE node. */
static cm_type *module_type(cm_ctx *x, const wg_module *m, size_t off) {
  cm_type *t = cm_new_type(x, CM_CORE_MODULE);
  if (!t) return NULL;
  t->nimports = wg_module_import_count(m);
  t->nexports = wg_module_export_count(m);
  if (!(t->imports = cm_alloc(x, t->nimports * sizeof *t->imports)) ||
      !(t->exports = cm_alloc(x, t->nexports * sizeof *t->exports)))
    return NULL;
  wg_extern_desc d;
  for (uint32_t i = 0; i < t->nimports; i++) {
    wg_module_import(m, i, &d);
    cm_extern *e = &t->imports[i];
    e->module = d.module;
    e->name = d.name;
    e->name_len = (uint32_t)d.name_len;
    e->sort = kind_sort[d.kind];
    if (!(e->type = core_type_of(x, m, d.kind, d.index))) return cm_oom(x), NULL;
  }
  for (uint32_t i = 0; i < t->nexports; i++) {
    wg_module_export(m, i, &d);
    cm_extern *e = &t->exports[i];
    e->name = d.name;
    e->name_len = (uint32_t)d.name_len;
    e->sort = kind_sort[d.kind];
    if (!(e->type = core_type_of(x, m, d.kind, d.index))) return cm_oom(x), NULL;
  }
  if (!cm_type_finish(x, t, off) || !cm_check_core_imports(x, t, off)) return NULL;
  return t;
}

static bool section_module(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  wg_error *err = NULL;
  wg_module *m = wg_module_new(r->p, rd_left(r), &err);
  if (!m) {
    size_t eo = wg_error_offset(err);
    wg_diag_set(x->diag, wg_error_kind_of(err), eo == SIZE_MAX ? off : off + eo, "%s", wg_error_message(err));
    wg_error_delete(err);
    return false;
  }
  wg_component *c = x->c;
  if (!grow(x, (void **)&c->modules, &c->capmodules, c->nmodules, sizeof *c->modules)) {
    wg_module_delete(m);
    return false;
  }
  c->modules[c->nmodules++] = m;
  c->stats.core_modules++;
  r->p = r->end;
  cm_type *t = module_type(x, m, off);
  cm_def d = {.kind = D_MODULE, .sort = CS_CORE_MODULE, .type = t, .a = c->nmodules - 1};
  return t && cm_space_push(x, &s->space[CS_CORE_MODULE], t, off) && cm_def_add(x, s, &d);
}

/* ------------------------------------------------------- core instances */

static const cm_extern *find(const cm_type *t, const char *name) {
  for (uint32_t i = 0; i < t->nexports; i++)
    if (!strcmp(t->exports[i].name, name)) return &t->exports[i];
  return NULL;
}

static bool finish_instance(cm_ctx *x, cm_type *t, cm_extern *v, uint32_t n, size_t off) {
  t->nexports = n;
  if (!(t->exports = cm_alloc(x, n * sizeof *v))) return false;
  if (n) memcpy(t->exports, v, n * sizeof *v);
  return cm_type_finish(x, t, off);
}

/* A vector's count, checked against the bytes left, and a zeroed array of
 * that many `size`-byte items (free() it). NULL when any of these fails. */
static void *read_vec(cm_ctx *x, wg_reader *r, uint32_t *n, size_t size) {
  if (!rd_u32(r, n)) return NULL;
  if (*n > rd_left(r)) {
    rd_eof(r);
    return NULL;
  }
  void *v = calloc(*n ? *n : 1, size);
  if (!v) cm_oom(x);
  return v;
}

static bool core_instance(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  uint8_t b;
  uint32_t n;
  if (!rd_u8(r, &b)) return false;
  cm_type *inst = cm_new_type(x, CM_CORE_INSTANCE);
  if (!inst) return false;
  cm_def d = {.sort = CS_CORE_INSTANCE, .type = inst};
  if (b == 0x00) {
    uint32_t midx;
    if (!rd_u32(r, &midx)) return false;
    if (midx >= s->space[CS_CORE_MODULE].n) return cm_invalid(x, off, "unknown module %u: module index out of bounds", midx);
    const cm_type *mt = s->space[CS_CORE_MODULE].v[midx];
    const char **names = read_vec(x, r, &n, sizeof *names);
    if (!names) return false;
    const cm_type **insts = calloc(n ? n : 1, sizeof *insts);
    bool ok = insts != NULL;
    if (!ok) cm_oom(x);
    for (uint32_t i = 0; ok && i < n; i++) {
      size_t aoff = rd_offset(r);
      uint32_t nl, idx;
      uint8_t k;
      ok = cm_read_name(x, r, &names[i], &nl) && rd_u8(r, &k);
      if (ok && k != 0x12) ok = leading(x, rd_offset(r) - 1, k, "module instantiation argument");
      ok = ok && rd_u32(r, &idx);
      if (ok && idx >= s->space[CS_CORE_INSTANCE].n)
        ok = cm_invalid(x, aoff, "unknown core instance %u: instance index out of bounds", idx);
      for (uint32_t j = 0; ok && j < i; j++)
        if (!strcmp(names[j], names[i]))
          ok = cm_invalid(x, aoff, "duplicate module instantiation argument named `%s`", names[i]);
      if (ok) insts[i] = s->space[CS_CORE_INSTANCE].v[idx];
      if (ok && s->kind == SCOPE_COMPONENT) {
        if (!d.args && !(d.args = cm_alloc(x, n * sizeof *d.args))) ok = false;
        else d.args[i] = (cm_arg){.name = names[i], .sort = CS_CORE_INSTANCE, .idx = idx};
      }
    }
    d.kind = D_CORE_INSTANTIATE;
    d.a = midx;
    d.nargs = n;
    for (uint32_t i = 0; ok && i < mt->nimports; i++) {
      const cm_extern *im = &mt->imports[i];
      const cm_type *arg = NULL;
      for (uint32_t j = 0; j < n && !arg; j++)
        if (!strcmp(names[j], im->module)) arg = insts[j];
      if (!arg) {
        ok = cm_invalid(x, off, "missing module instantiation argument named `%s`", im->module);
        break;
      }
      const cm_extern *e = find(arg, im->name);
      if (!e) ok = cm_invalid(x, off, "module instantiation argument `%s` does not export an item named `%s`", im->module, im->name);
      else if (e->sort != im->sort || !cm_subtype(e->type, im->type))
        ok = cm_invalid(x, off, "type mismatch for export `%s` of module instantiation argument `%s`%s", im->name,
                        im->module,
                        e->sort != im->sort ? ""
                        : im->sort == CS_CORE_TABLE ? ": mismatch in table limits"
                        : im->sort == CS_CORE_MEMORY ? ": mismatch in memory limits"
                        : "");
    }
    free(names);
    free(insts);
    if (!ok) return false;
    inst->exports = mt->exports;
    inst->nexports = mt->nexports;
    if (!cm_type_finish(x, inst, off)) return false;
  } else if (b == 0x01) {
    cm_extern *v = read_vec(x, r, &n, sizeof *v);
    if (!v) return false;
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) {
      size_t eoff = rd_offset(r);
      uint32_t idx;
      ok = cm_read_name(x, r, &v[i].name, &v[i].name_len) && cm_read_core_sort(x, r, &v[i].sort) && rd_u32(r, &idx);
      if (!ok) break;
      if (v[i].sort > CS_CORE_TAG) { ok = cm_invalid(x, eoff, "only core wasm items can be exported from a core instance"); break; }
      if (idx >= s->space[v[i].sort].n) { ok = cm_invalid(x, eoff, "unknown %s %u: index out of bounds", cm_sort_name(v[i].sort), idx); break; }
      v[i].type = s->space[v[i].sort].v[idx];
      for (uint32_t j = 0; ok && j < i; j++)
        if (!strcmp(v[j].name, v[i].name)) ok = cm_invalid(x, eoff, "export name `%s` already defined", v[i].name);
      if (ok && s->kind == SCOPE_COMPONENT) {
        if (!d.args && !(d.args = cm_alloc(x, n * sizeof *d.args))) ok = false;
        else d.args[i] = (cm_arg){.name = v[i].name, .sort = v[i].sort, .idx = idx};
      }
    }
    d.kind = D_CORE_EXPORTS;
    d.nargs = n;
    ok = ok && finish_instance(x, inst, v, n, off);
    free(v);
    if (!ok) return false;
  } else {
    return leading(x, off, b, "core instance");
  }
  x->c->stats.core_instances++;
  return cm_space_push(x, &s->space[CS_CORE_INSTANCE], inst, off) && cm_def_add(x, s, &d);
}

/* ------------------------------------------------------- component instances */

/* sortidx: a sort and an index valid in that sort's index space. */
static bool read_sortidx(cm_ctx *x, wg_reader *r, cm_scope *s, cm_sort *sort, cm_type **t, uint32_t *pidx) {
  size_t off = rd_offset(r);
  uint32_t idx;
  if (!cm_read_sort(x, r, sort) || !rd_u32(r, &idx)) return false;
  if (idx >= s->space[*sort].n) return cm_invalid(x, off, "index out of bounds: unknown %s %u", cm_sort_name(*sort), idx);
  *t = s->space[*sort].v[idx];
  if (pidx) *pidx = idx;
  return true;
}

static bool instance(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  uint8_t b;
  uint32_t n;
  if (!rd_u8(r, &b)) return false;
  cm_type *inst = cm_new_type(x, CM_INSTANCE);
  if (!inst) return false;
  cm_def d = {.sort = CS_INSTANCE, .type = inst};
  if (b == 0x00) {
    uint32_t cidx;
    if (!rd_u32(r, &cidx)) return false;
    if (cidx >= s->space[CS_COMPONENT].n) return cm_invalid(x, off, "unknown component %u: component index out of bounds", cidx);
    const cm_type *ct = s->space[CS_COMPONENT].v[cidx];
    cm_extern *args = read_vec(x, r, &n, sizeof *args);
    if (!args) return false;
    bool ok = true;
    cm_match mc = {.sub = true};
    d.kind = D_INSTANTIATE;
    d.a = cidx;
    d.nargs = n;
    if (s->kind == SCOPE_COMPONENT && !(d.args = cm_alloc(x, (n ? n : 1) * sizeof *d.args))) {
      free(args);
      return false;
    }
    for (uint32_t i = 0; ok && i < n; i++) {
      size_t aoff = rd_offset(r);
      uint32_t aidx = 0;
      ok = cm_read_name(x, r, &args[i].name, &args[i].name_len) && read_sortidx(x, r, s, &args[i].sort, &args[i].type, &aidx);
      if (ok && d.args) d.args[i] = (cm_arg){.name = args[i].name, .sort = args[i].sort, .idx = aidx};
      for (uint32_t j = 0; ok && j < i; j++)
        if (!strcmp(args[j].name, args[i].name))
          ok = cm_invalid(x, aoff, "instantiation argument `%s` conflicts with previous argument `%s`", args[i].name, args[j].name);
    }
    for (uint32_t i = 0; ok && i < ct->nimports; i++) {
      const cm_extern *im = &ct->imports[i];
      const cm_extern *a = NULL;
      for (uint32_t j = 0; j < n && !a; j++)
        if (!strcmp(args[j].name, im->name)) a = &args[j];
      if (!a) ok = cm_invalid(x, off, "missing import named `%s`", im->name);
      else if (a->sort != im->sort) ok = cm_invalid(x, off, "expected %s for import `%s`, found %s", cm_sort_name(im->sort), im->name, cm_sort_name(a->sort));
      else if (!cm_subtype_in(&mc, a->type, im->type))
        ok = cm_invalid(x, off, "type mismatch for import `%s`%s%s", im->name, mc.why ? ": " : "", mc.why ? mc.why : "");
      else if (im->sort == CS_TYPE && im->type->kind != CM_RESOURCE && im->type != a->type && mc.n < CM_MAX_BINDINGS) {
        /* the supplied type replaces the imported one in the exports */
        mc.from[mc.n] = im->type;
        mc.to[mc.n++] = a->type;
      }
    }
    free(args);
    if (!ok) return false;
    /* the instance's exports, with the imported resources substituted and
     * the resources the component defines fresh for this instance */
    inst->exports = ct->exports;
    inst->nexports = ct->nexports;
    if (mc.n) {
      if (!(inst->exports = cm_alloc(x, ct->nexports * sizeof *inst->exports))) return false;
      for (uint32_t i = 0; i < ct->nexports; i++) {
        inst->exports[i] = ct->exports[i];
        if (!(inst->exports[i].type = cm_substitute(x, ct->exports[i].type, &mc))) return false;
      }
    }
    if (ct->ndefs && !(inst->exports = cm_freshen(x, inst->exports, inst->nexports, ct->defs, ct->ndefs, s->serial, false)))
      return false;
    if (!cm_type_finish(x, inst, off)) return false;
  } else if (b == 0x01) {
    cm_extern *v = read_vec(x, r, &n, sizeof *v);
    if (!v) return false;
    cm_names names = {0};
    cm_type **named = calloc(n ? n : 1, sizeof *named);
    cm_extern *seen = malloc((n ? n : 1) * sizeof *seen);
    bool ok = named && seen ? true : cm_oom(x);
    d.kind = D_EXPORTS;
    d.nargs = n;
    if (s->kind == SCOPE_COMPONENT && !(d.args = cm_alloc(x, (n ? n : 1) * sizeof *d.args))) ok = false;
    for (uint32_t i = 0; ok && i < n; i++) {
      size_t eoff = rd_offset(r);
      uint32_t eidx = 0;
      ok = cm_read_extern_name(x, r, &v[i]) &&
           cm_check_extern_name(x, v[i].name, v[i].name_len, eoff, false) &&
           read_sortidx(x, r, s, &v[i].sort, &v[i].type, &eidx) && cm_names_add(x, &names, v[i].name, eoff, false);
      /* a type exported by a bag of exports is a new name (as a component's
       * exported types are): a function made before the bag cannot refer
       * to it, so annotated names resolve against the new names only */
      if (ok && v[i].sort == CS_TYPE && v[i].type->kind > CM_ERROR_CONTEXT && !(named[i] = cm_rename(x, v[i].type, v[i].name)))
        ok = false;
      ok = ok && cm_check_annotated(x, &v[i], seen, i, eoff);
      if (ok) {
        seen[i] = v[i];
        if (named[i]) seen[i].type = named[i];
      }
      if (ok && d.args) d.args[i] = (cm_arg){.name = v[i].name, .sort = v[i].sort, .idx = eidx};
    }
    free(names.v);
    free(names.canon);
    free(named);
    free(seen);
    ok = ok && finish_instance(x, inst, v, n, off);
    free(v);
    if (!ok) return false;
  } else {
    return leading(x, off, b, "instance");
  }
  x->c->stats.instances++;
  return cm_space_push(x, &s->space[CS_INSTANCE], inst, off) && cm_def_add(x, s, &d);
}

/* ------------------------------------------------------- canon */

typedef struct canon_opts {
  int encoding; /* -1 none given */
  cm_type *memory, *realloc_fn, *post_return, *callback;
  bool async;
  uint32_t memory_idx, realloc_idx, post_return_idx;
} canon_opts;

/* The definition record of a canon with options `o`. */
static cm_def opts_def(cm_def_kind k, const canon_opts *o) {
  return (cm_def){.kind = k, .sort = CS_CORE_FUNC, .encoding = (uint8_t)(o->encoding < 0 ? 0 : o->encoding),
                  .memory = o->memory_idx, .realloc_fn = o->realloc_idx, .post_return = o->post_return_idx};
}

static bool read_opts(cm_ctx *x, wg_reader *r, cm_scope *s, canon_opts *o) {
  uint32_t n;
  memset(o, 0, sizeof *o);
  o->encoding = -1;
  o->memory_idx = o->realloc_idx = o->post_return_idx = CM_NONE;
  if (!rd_u32(r, &n)) return false;
  static const char *const enc[3] = {"utf8", "utf16", "latin1-utf16"};
  for (uint32_t i = 0; i < n; i++) {
    size_t off = rd_offset(r);
    uint8_t b;
    uint32_t idx;
    if (!rd_u8(r, &b)) return false;
    switch (b) {
    case 0x00: case 0x01: case 0x02:
      if (o->encoding >= 0)
        return cm_invalid(x, off, "canonical encoding option `%s` conflicts with option `%s`", enc[b], enc[o->encoding]);
      o->encoding = b;
      break;
    case 0x03:
      if (!rd_u32(r, &idx)) return false;
      if (o->memory) return cm_invalid(x, off, "`memory` is specified more than once");
      if (idx >= s->space[CS_CORE_MEMORY].n) return cm_invalid(x, off, "unknown memory %u: memory index out of bounds", idx);
      o->memory = s->space[CS_CORE_MEMORY].v[idx];
      o->memory_idx = idx;
      break;
    case 0x04: case 0x05: case 0x07: {
      static const char *const what[8] = {[4] = "realloc", [5] = "post-return", [7] = "callback"};
      if (!rd_u32(r, &idx)) return false;
      cm_type **slot = b == 0x04 ? &o->realloc_fn : b == 0x05 ? &o->post_return : &o->callback;
      if (*slot) return cm_invalid(x, off, "canonical option `%s` is specified more than once", what[b]);
      if (idx >= s->space[CS_CORE_FUNC].n) return cm_invalid(x, off, "unknown core func %u: func index out of bounds", idx);
      *slot = s->space[CS_CORE_FUNC].v[idx];
      if (b == 0x04) o->realloc_idx = idx;
      if (b == 0x05) o->post_return_idx = idx;
      break;
    }
    case 0x06:
      if (o->async) return cm_invalid(x, off, "canonical option `async` is specified more than once");
      o->async = true;
      break;
    default:
      return leading(x, off, b, "canonical option");
    }
  }
  if (o->realloc_fn) {
    const cm_type *t = o->realloc_fn;
    static const uint8_t p4[4] = {WG_I32, WG_I32, WG_I32, WG_I32};
    if (t->ncparams != 4 || memcmp(t->cparams, p4, 4) || t->ncresults != 1 || t->cresults[0] != WG_I32)
      return cm_invalid(x, rd_offset(r), "canonical option `realloc` uses a core function with an incorrect signature");
  }
  return true;
}

static cm_type *core_fn(cm_ctx *x, uint32_t np, uint32_t nr) {
  cm_type *t = cm_new_type(x, CM_CORE_FUNC);
  if (!t || !(t->cparams = cm_alloc(x, 1)) || !(t->cresults = cm_alloc(x, 1))) return NULL;
  t->ncparams = np;
  t->ncresults = nr;
  t->cparams[0] = WG_I32;
  t->cresults[0] = WG_I32;
  t->depth = t->size = 1;
  return t;
}

/* A core function type from a signature string: 'i' i32, 'I' i64. */
static cm_type *core_sig(cm_ctx *x, const char *params, const char *results) {
  cm_type *t = cm_new_type(x, CM_CORE_FUNC);
  size_t np = strlen(params), nr = strlen(results);
  if (!t || !(t->cparams = cm_alloc(x, np + 1)) || !(t->cresults = cm_alloc(x, nr + 1))) return NULL;
  for (size_t i = 0; i < np; i++) t->cparams[i] = params[i] == 'I' ? WG_I64 : WG_I32;
  for (size_t i = 0; i < nr; i++) t->cresults[i] = results[i] == 'I' ? WG_I64 : WG_I32;
  t->ncparams = (uint32_t)np;
  t->ncresults = (uint32_t)nr;
  t->depth = t->size = 1;
  return t;
}

/* The async, stream/future, error-context and thread built-ins (🔀 📝 🧵 in
 * Binary.md "Canonical Definitions"): decoded with their immediates, indices
 * checked, and given the core function types CanonicalABI.md lists, so that
 * components using them load; they cannot run until the async ABI lands. */
enum { IM_NONE, IM_RESULTS_OPTS, IM_VALTYPE_U32, IM_FLAG, IM_TYPE, IM_TYPE_OPTS, IM_TYPE_FLAG, IM_OPTS,
       IM_FLAG_MEM, IM_CORETYPE_TABLE, IM_FLAG_CORETYPE, IM_FLAG_CORETYPE_TABLE };
static const struct {
  uint8_t op, imm;
  const char *params, *results;
} builtins[] = {
    {0x24, IM_NONE, "", ""},          {0x25, IM_NONE, "", ""},         {0x09, IM_RESULTS_OPTS, "", ""},
    {0x05, IM_NONE, "", ""},          {0x0a, IM_VALTYPE_U32, "", "i"}, {0x0b, IM_VALTYPE_U32, "i", ""},
    {0x06, IM_FLAG, "i", "i"},        {0x0d, IM_NONE, "i", ""},        {0x0e, IM_TYPE, "", "I"},
    {0x0f, IM_TYPE_OPTS, "iii", "i"}, {0x10, IM_TYPE_OPTS, "iii", "i"}, {0x11, IM_TYPE_FLAG, "i", "i"},
    {0x12, IM_TYPE_FLAG, "i", "i"},   {0x13, IM_TYPE, "i", ""},        {0x14, IM_TYPE, "i", ""},
    {0x15, IM_TYPE, "", "I"},         {0x16, IM_TYPE_OPTS, "ii", "i"}, {0x17, IM_TYPE_OPTS, "ii", "i"},
    {0x18, IM_TYPE_FLAG, "i", "i"},   {0x19, IM_TYPE_FLAG, "i", "i"},  {0x1a, IM_TYPE, "i", ""},
    {0x1b, IM_TYPE, "i", ""},         {0x1c, IM_OPTS, "ii", "i"},      {0x1d, IM_OPTS, "ii", ""},
    {0x1e, IM_NONE, "i", ""},         {0x1f, IM_NONE, "", "i"},        {0x20, IM_FLAG_MEM, "ii", "i"},
    {0x21, IM_FLAG_MEM, "ii", "i"},   {0x22, IM_NONE, "i", ""},        {0x23, IM_NONE, "ii", ""},
    {0x26, IM_NONE, "", "i"},         {0x27, IM_CORETYPE_TABLE, "ii", "i"}, {0x28, IM_NONE, "i", ""},
    {0x29, IM_FLAG, "", "i"},         {0x0c, IM_FLAG, "", "i"},        {0x2a, IM_FLAG, "i", "i"},
    {0x2b, IM_FLAG, "i", "i"},        {0x2c, IM_FLAG, "i", "i"},       {0x2d, IM_FLAG, "i", "i"},
    {0x40, IM_FLAG_CORETYPE, "i", "i"}, {0x41, IM_FLAG_CORETYPE_TABLE, "ii", "i"}, {0x42, IM_FLAG, "", "i"},
};

static bool read_flag(cm_ctx *x, wg_reader *r) {
  uint8_t f;
  if (!rd_u8(r, &f)) return false;
  return f <= 1 || leading(x, rd_offset(r) - 1, f, "canonical built-in flag");
}

static bool read_index(cm_ctx *x, wg_reader *r, cm_scope *s, cm_sort sort) {
  size_t off = rd_offset(r);
  uint32_t idx;
  if (!rd_u32(r, &idx)) return false;
  if (idx >= s->space[sort].n) return cm_invalid(x, off, "unknown %s %u: index out of bounds", cm_sort_name(sort), idx);
  return true;
}

static bool builtin(cm_ctx *x, wg_reader *r, cm_scope *s, uint8_t b, size_t off) {
  size_t i = 0;
  while (i < sizeof builtins / sizeof *builtins && builtins[i].op != b) i++;
  if (i == sizeof builtins / sizeof *builtins) return leading(x, off, b, "canonical function");
  canon_opts o;
  bool ok = true;
  cm_type *t = NULL; /* task.return's result type */
  switch (builtins[i].imm) {
  case IM_NONE: break;
  case IM_RESULTS_OPTS: {
    uint8_t k;
    if (!rd_u8(r, &k)) return false;
    if (k == 0x00) ok = cm_read_valtype(x, r, s, &t);
    else if (k == 0x01) ok = rd_u8(r, &k) && (k == 0 || leading(x, rd_offset(r) - 1, k, "result list"));
    else ok = leading(x, rd_offset(r) - 1, k, "result list");
    ok = ok && read_opts(x, r, s, &o);
    break;
  }
  case IM_VALTYPE_U32: {
    uint8_t vt;
    uint32_t n;
    ok = rd_u8(r, &vt) && rd_u32(r, &n);
    if (ok && vt != WG_I32) ok = cm_invalid(x, off, "context.get/set only support i32 (found 0x%x)", vt);
    break;
  }
  case IM_FLAG: ok = read_flag(x, r); break;
  case IM_TYPE: ok = read_index(x, r, s, CS_TYPE); break;
  case IM_TYPE_OPTS: ok = read_index(x, r, s, CS_TYPE) && read_opts(x, r, s, &o); break;
  case IM_TYPE_FLAG: ok = read_index(x, r, s, CS_TYPE) && read_flag(x, r); break;
  case IM_OPTS: ok = read_opts(x, r, s, &o); break;
  case IM_FLAG_MEM: ok = read_flag(x, r) && read_index(x, r, s, CS_CORE_MEMORY); break;
  case IM_CORETYPE_TABLE: ok = read_index(x, r, s, CS_CORE_TYPE) && read_index(x, r, s, CS_CORE_TABLE); break;
  case IM_FLAG_CORETYPE: ok = read_flag(x, r) && read_index(x, r, s, CS_CORE_TYPE); break;
  case IM_FLAG_CORETYPE_TABLE:
    ok = read_flag(x, r) && read_index(x, r, s, CS_CORE_TYPE) && read_index(x, r, s, CS_CORE_TABLE);
    break;
  }
  if (!ok) return false;
  cm_type *ft = core_sig(x, builtins[i].params, builtins[i].results);
  if (ft && t) { /* task.return takes the flattened result as parameters (or a pointer past 16) */
    uint8_t flat[CM_MAX_FLAT_PARAMS + 1];
    uint32_t n = cm_flatten(t, flat, CM_MAX_FLAT_PARAMS + 1);
    if (n > CM_MAX_FLAT_PARAMS) n = 1, flat[0] = WG_I32;
    if (!(ft->cparams = cm_alloc(x, n))) return false;
    memcpy(ft->cparams, flat, n);
    ft->ncparams = n;
  }
  x->c->stats.other_canons++;
  cm_def d = {.kind = D_BUILTIN, .sort = CS_CORE_FUNC, .type = ft, .a = b};
  return ft && cm_space_push(x, &s->space[CS_CORE_FUNC], ft, off) && cm_def_add(x, s, &d);
}

static bool canon(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  cm_stats *st = &x->c->stats;
  switch (b) {
  case 0x00: case 0x01: {
    uint8_t z;
    uint32_t fidx, tidx;
    if (!rd_u8(r, &z)) return false;
    if (z != 0x00) return leading(x, rd_offset(r) - 1, z, b ? "canon lower" : "canon lift");
    size_t foff = rd_offset(r);
    if (!rd_u32(r, &fidx)) return false;
    canon_opts o;
    if (b == 0x00) {
      if (fidx >= s->space[CS_CORE_FUNC].n) return cm_invalid(x, foff, "unknown core func %u: func index out of bounds", fidx);
      const cm_type *core = s->space[CS_CORE_FUNC].v[fidx];
      if (!read_opts(x, r, s, &o)) return false;
      size_t toff = rd_offset(r);
      if (!rd_u32(r, &tidx)) return false;
      if (tidx >= s->space[CS_TYPE].n) return cm_invalid(x, toff, "type index out of bounds");
      cm_type *ft = s->space[CS_TYPE].v[tidx];
      if (ft->kind != CM_FUNC) return cm_invalid(x, toff, "type index %u is not a function type", tidx);
      if (o.callback && !o.async) return cm_invalid(x, off, "cannot specify callback without async");
      if (!o.async && !cm_check_lift(x, off, ft, core, o.memory != NULL, o.realloc_fn != NULL, o.realloc_fn, o.post_return))
        return false;
      st->lifts++;
      cm_def d = opts_def(D_LIFT, &o);
      d.sort = CS_FUNC;
      d.type = ft;
      d.a = fidx;
      return cm_space_push(x, &s->space[CS_FUNC], ft, off) && cm_def_add(x, s, &d);
    }
    if (fidx >= s->space[CS_FUNC].n) return cm_invalid(x, foff, "unknown func %u: func index out of bounds", fidx);
    const cm_type *ft = s->space[CS_FUNC].v[fidx];
    if (!read_opts(x, r, s, &o)) return false;
    if (o.post_return) return cm_invalid(x, off, "canonical option `post-return` cannot be specified for lowerings");
    if (o.callback) return cm_invalid(x, off, "canonical option `callback` cannot be specified for lowerings");
    cm_type *core = NULL;
    if (o.async) {
      /* async lowering (CanonicalABI.md): up to 4 flat params (else a pointer),
       * a result pointer when there is a result, and an i32 status */
      uint8_t p[CM_MAX_FLAT_PARAMS + 2];
      uint32_t np = 0;
      for (uint32_t i = 0; i < ft->n && np <= CM_MAX_FLAT_PARAMS; i++)
        np += cm_flatten(ft->fields[i].type, p + np, CM_MAX_FLAT_PARAMS + 1 - np);
      if (np > 4) np = 1, p[0] = WG_I32;
      if (ft->elem) p[np++] = WG_I32;
      if (!(core = core_fn(x, 0, 1)) || !(core->cparams = cm_alloc(x, np))) return false;
      memcpy(core->cparams, p, np);
      core->ncparams = np;
    } else if (!cm_check_lower(x, off, ft, o.memory != NULL, o.realloc_fn != NULL, &core)) {
      return false;
    }
    st->lowers++;
    cm_def d = opts_def(o.async ? D_BUILTIN : D_LOWER, &o);
    d.type = core;
    d.ft = ft;
    d.a = o.async ? 0x01 : fidx;
    return cm_space_push(x, &s->space[CS_CORE_FUNC], core, off) && cm_def_add(x, s, &d);
  }
  case 0x02: case 0x03: case 0x04: case 0x07: {
    size_t toff = rd_offset(r);
    uint32_t tidx;
    if (!rd_u32(r, &tidx)) return false;
    if (tidx >= s->space[CS_TYPE].n) return cm_invalid(x, toff, "type index out of bounds");
    const cm_type *rt = s->space[CS_TYPE].v[tidx];
    if (rt->kind != CM_RESOURCE) return cm_invalid(x, toff, "type index %u is not a resource type", tidx);
    if ((b == 0x02 || b == 0x04) && !rt->local) return cm_invalid(x, toff, "not a local resource");
    cm_type *ft = core_fn(x, 1, b == 0x03 || b == 0x07 ? 0 : 1);
    if (!ft) return false;
    if (b == 0x02) st->resource_new++;
    else if (b == 0x04) st->resource_rep++;
    else st->resource_drop++;
    cm_def d = {.kind = b == 0x02 ? D_RES_NEW : b == 0x04 ? D_RES_REP : D_RES_DROP, .sort = CS_CORE_FUNC,
                .type = (cm_type *)rt};
    return cm_space_push(x, &s->space[CS_CORE_FUNC], ft, off) && cm_def_add(x, s, &d);
  }
  default:
    return builtin(x, r, s, b, off);
  }
}

/* ------------------------------------------------------- imports, exports */

static bool add_scope_extern(cm_ctx *x, cm_scope *s, cm_extern *e, bool import) {
  return import ? cm_add_extern(x, &s->imports, &s->nimports, &s->capimports, e)
                : cm_add_extern(x, &s->exports, &s->nexports, &s->capexports, e);
}

static bool import(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  cm_extern e = {0};
  x->last_bound = NULL;
  if (!cm_read_extern_name(x, r, &e) || !cm_check_extern_name(x, e.name, e.name_len, off, true) ||
      !cm_read_externtype(x, r, s, &e.sort, &e.type) || !cm_names_add(x, &s->import_names, e.name, off, true))
    return false;
  /* imported resources are parameters; an imported instance has resources
   * of its own, distinct from any other import's of the same type */
  if (e.sort == CS_TYPE && e.type == x->last_bound) e.type->imported = true;
  if (e.sort == CS_INSTANCE && !(e.type = cm_fresh_instance(x, e.type, s->serial, true))) return false;
  if (e.sort == CS_VALUE) return cm_invalid(x, off, "support for component model `value`s is not enabled");
  if (e.sort == CS_TYPE && !e.type->label && e.type->kind > CM_ERROR_CONTEXT) e.type->label = e.name;
  if (!cm_check_annotated(x, &e, s->imports, s->nimports, off)) return false;
  if (!cm_check_visible(x, &e, s->imports, s->nimports, s->exports, s->nexports, true, off)) return false;
  if (e.sort == CS_TYPE && e.type->label != e.name && !(e.type = cm_rename(x, e.type, e.name))) return false;
  cm_def d = {.kind = D_IMPORT, .sort = e.sort, .type = e.type, .name = e.name};
  return add_scope_extern(x, s, &e, true) && cm_space_push(x, &s->space[e.sort], e.type, off) && cm_def_add(x, s, &d);
}

static bool export(cm_ctx *x, wg_reader *r, cm_scope *s) {
  size_t off = rd_offset(r);
  cm_extern e = {0};
  uint32_t eidx = 0;
  if (!cm_read_extern_name(x, r, &e) || !cm_check_extern_name(x, e.name, e.name_len, off, false) ||
      !read_sortidx(x, r, s, &e.sort, &e.type, &eidx))
    return false;
  if (e.sort < CS_CORE_MODULE || e.sort == CS_CORE_INSTANCE)
    return cm_invalid(x, off, "%s not valid to be used as export", cm_sort_name(e.sort));
  if (e.sort == CS_VALUE) return cm_invalid(x, off, "support for component model `value`s is not enabled");
  uint8_t has;
  if (!rd_u8(r, &has)) return false;
  if (has == 0x01) {
    size_t toff = rd_offset(r);
    cm_sort as;
    cm_type *at;
    if (!cm_read_externtype(x, r, s, &as, &at)) return false;
    if (as != e.sort || !cm_subtype(e.type, at))
      return cm_invalid(x, toff, "type mismatch in ascribed type of export `%s`", e.name);
    e.type = at;
  } else if (has != 0x00) {
    return leading(x, rd_offset(r) - 1, has, "optional extern type");
  }
  if (!cm_names_add(x, &s->export_names, e.name, off, false)) return false;
  if (e.sort == CS_TYPE && !e.type->label && e.type->kind > CM_ERROR_CONTEXT) e.type->label = e.name;
  if (!cm_check_annotated(x, &e, s->exports, s->nexports, off)) return false;
  if (!cm_check_visible(x, &e, s->imports, s->nimports, s->exports, s->nexports, false, off)) return false;
  if (e.sort == CS_TYPE && !(e.type = cm_rename(x, e.type, e.name))) return false;
  cm_def d = {.kind = D_EXPORT, .sort = e.sort, .type = e.type, .name = e.name, .a = eidx};
  return add_scope_extern(x, s, &e, false) && cm_space_push(x, &s->space[e.sort], e.type, off) && cm_def_add(x, s, &d);
}

static bool start(cm_ctx *x, wg_reader *r, cm_scope *s) {
  (void)s;
  return cm_invalid(x, rd_offset(r), "support for component model `value`s is not enabled");
}

/* ------------------------------------------------------- sections */

typedef bool (*entry_fn)(cm_ctx *, wg_reader *, cm_scope *);

static bool vec(cm_ctx *x, wg_reader *r, cm_scope *s, entry_fn f) {
  uint32_t n;
  if (!rd_u32(r, &n)) return false;
  if (n > rd_left(r)) return rd_eof(r);
  for (uint32_t i = 0; i < n; i++)
    if (!f(x, r, s)) return false;
  return true;
}

static bool alias_entry(cm_ctx *x, wg_reader *r, cm_scope *s) {
  x->c->stats.aliases++;
  return cm_read_alias(x, r, s, false);
}
static bool type_entry(cm_ctx *x, wg_reader *r, cm_scope *s) {
  x->c->stats.types++;
  return cm_read_type(x, r, s);
}

static bool record_section(cm_ctx *x, uint8_t id, size_t off, size_t size, const char *custom) {
  wg_component *c = x->c;
  if (!grow(x, (void **)&c->sections, &c->capsections, c->nsections, sizeof *c->sections)) return false;
  c->sections[c->nsections++] = (cm_section){.id = id, .offset = off, .size = size, .custom_name = custom};
  return true;
}

static bool finish_type(cm_ctx *x, cm_scope *s, cm_type **out) {
  cm_type *t = cm_new_type(x, CM_COMPONENT);
  if (!t) return false;
  t->nimports = s->nimports;
  t->nexports = s->nexports;
  if (!(t->imports = cm_alloc(x, s->nimports * sizeof *t->imports)) ||
      !(t->exports = cm_alloc(x, s->nexports * sizeof *t->exports)))
    return false;
  if (s->nimports) memcpy(t->imports, s->imports, s->nimports * sizeof *t->imports);
  if (s->nexports) memcpy(t->exports, s->exports, s->nexports * sizeof *t->exports);
  *out = t;
  return cm_type_finish(x, t, SIZE_MAX) && cm_collect_defs(x, t, s->serial);
}

static bool sections(cm_ctx *x, wg_reader *r, cm_scope *s, bool top) {
  while (!rd_done(r)) {
    size_t off = rd_offset(r);
    uint8_t id;
    uint32_t size;
    if (!rd_u8(r, &id) || !rd_u32(r, &size)) return false;
    if (size > rd_left(r)) return rd_eof(r);
    wg_reader sr = *r;
    sr.end = r->p + size;
    r->p += size;
    const char *custom = NULL;
    bool ok;
    if (id < 14) x->c->stats.sections[id]++;
    switch (id) {
    case 0: {
      uint32_t nl;
      ok = cm_read_name(x, &sr, &custom, &nl);
      sr.p = sr.end;
      x->c->stats.custom++;
      break;
    }
    case 1: ok = section_module(x, &sr, s); break;
    case 2: ok = vec(x, &sr, s, core_instance); break;
    case 3: ok = vec(x, &sr, s, cm_read_core_type); break;
    case 4: {
      cm_type *ct = NULL;
      ok = cm_decode_component(x, &sr, s, &ct, false) && cm_space_push(x, &s->space[CS_COMPONENT], ct, off);
      cm_def d = {.kind = D_COMPONENT, .sort = CS_COMPONENT, .type = ct};
      ok = ok && cm_def_add(x, s, &d);
      x->c->stats.components++;
      break;
    }
    case 5: ok = vec(x, &sr, s, instance); break;
    case 6: ok = vec(x, &sr, s, alias_entry); break;
    case 7: ok = vec(x, &sr, s, type_entry); break;
    case 8: ok = vec(x, &sr, s, canon); break;
    case 9: ok = start(x, &sr, s); break;
    case 10: ok = vec(x, &sr, s, import); break;
    case 11: ok = vec(x, &sr, s, export); break;
    case 12: ok = cm_invalid(x, off, "support for component model `value`s is not enabled"); break;
    default: return wg_fail(x->diag, WG_ERROR_MALFORMED, off, "malformed section id");
    }
    if (!ok) return false;
    if (!rd_done(&sr)) return wg_fail(x->diag, WG_ERROR_MALFORMED, rd_offset(&sr), "section size mismatch: unexpected data at the end of the section");
    if (top && !record_section(x, id, off, size, custom)) return false;
  }
  return true;
}

bool cm_decode_component(cm_ctx *x, wg_reader *r, cm_scope *parent, cm_type **out, bool top) {
  size_t off = rd_offset(r);
  const uint8_t *pre;
  if (rd_left(r) < 8) {
    if (rd_left(r) < 4 || memcmp(r->p, "\0asm", 4)) return wg_fail(x->diag, WG_ERROR_MALFORMED, off, "magic header not detected");
    return rd_eof(r);
  }
  if (!rd_bytes(r, 8, &pre)) return false;
  if (memcmp(pre, "\0asm", 4)) return wg_fail(x->diag, WG_ERROR_MALFORMED, off, "magic header not detected");
  if (pre[6] != 0x01 || pre[7] != 0x00) return wg_fail(x->diag, WG_ERROR_MALFORMED, off + 4, "unknown binary version");
  if (pre[4] != 0x0d || pre[5] != 0x00)
    return wg_fail(x->diag, WG_ERROR_MALFORMED, off + 4, "unknown binary version and encoding combination: 0x%x and 0x1, note: encoded as a component but the WebAssembly component model feature is only supported at 0xd", pre[4] | pre[5] << 8);
  if (++x->depth > CM_MAX_DEPTH) return cm_limit(x, off, "components nested too deeply");
  cm_scope s = {.kind = SCOPE_COMPONENT, .parent = parent, .serial = ++x->serial};
  bool ok = sections(x, r, &s, top) && finish_type(x, &s, out);
  if (ok) {
    if (!s.body && !(s.body = cm_alloc(x, sizeof *s.body))) ok = false;
    else {
      for (int i = 0; i < CS_COUNT; i++) s.body->count[i] = s.space[i].n;
      (*out)->body = s.body;
    }
  }
  cm_scope_free(&s);
  x->depth--;
  return ok;
}
