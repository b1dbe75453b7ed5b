/*
 * instance.c: module instantiation (spec 4.5.4): import matching (4.5.2,
 * "import subtyping" of limits, global mutability, function types),
 * allocation of the module's functions, tables, memories and globals,
 * element and data segment initialisation in order (a segment out of bounds
 * traps, leaving earlier segments' effects in place), the start function;
 * exports; and wg_func_call, the host's entry into wasm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"
#include "runtime.h"

/* The instance's arrays, owned by the store with the instance. */
static void instance_release(void *p) {
  wg_instance *inst = p;
  free(inst->funcs);
  free(inst->tables);
  free(inst->mems);
  free(inst->globals);
  free(inst->tags);
  if (inst->elem_refs)
    for (uint32_t i = 0; i < inst->module->nelems; i++) free(inst->elem_refs[i]);
  free(inst->elem_refs);
  free(inst->elem_sizes);
  free(inst->data_dropped);
  free(inst->type_ids);
  free(inst);
}

static bool link_error(wg_error **err, const char *fmt, const wg_import *im) {
  if (err) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, (int)im->module.len, (const char *)im->module.ptr, (int)im->name.len,
             (const char *)im->name.ptr);
    *err = wg_error_make(WG_ERROR_INVALID, im->name.offset, msg);
  }
  return false;
}

/* Limits subtyping (4.5.2): the actual limits must lie within the declared. */
static bool limits_match(uint32_t amin, bool ahas, uint32_t amax, const wg_limits *want) {
  if (amin < want->min) return false;
  if (!want->has_max) return true;
  return ahas && amax <= want->max;
}

static bool link_imports(wg_instance *inst, const wg_extern *imports, size_t n, wg_error **err) {
  const wg_module *m = inst->module;
  if (n != m->nimports) {
    if (err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, "wrong number of imports");
    return false;
  }
  for (uint32_t i = 0; i < m->nimports; i++) {
    const wg_import *im = &m->imports[i];
    const wg_extern *ex = &imports[i];
    if (ex->kind != im->kind || !ex->of.func)
      return link_error(err, "incompatible import type for %.*s.%.*s", im);
    switch (im->kind) {
      case WG_EXTERN_FUNC:
        if (ex->of.func->type_id != inst->type_ids[m->funcs[im->index].type])
          return link_error(err, "incompatible import type for %.*s.%.*s", im);
        inst->funcs[im->index] = ex->of.func;
        break;
      case WG_EXTERN_TABLE: {
        const wg_table *t = ex->of.table;
        const wg_tabletype *want = &m->tables[im->index];
        if (t->elem != (wg_valtype)want->elem || !limits_match(t->size, t->has_max, t->decl_max, &want->limits))
          return link_error(err, "incompatible import type for %.*s.%.*s", im);
        inst->tables[im->index] = ex->of.table;
        break;
      }
      case WG_EXTERN_MEMORY: {
        const wg_memory *mem = ex->of.memory;
        if (!limits_match(mem->pages, mem->has_max, mem->decl_max, &m->mems[im->index]))
          return link_error(err, "incompatible import type for %.*s.%.*s", im);
        inst->mems[im->index] = ex->of.memory;
        break;
      }
      case WG_EXTERN_GLOBAL: {
        const wg_global *g = ex->of.global;
        const wg_globaltype *want = &m->globals[im->index].type;
        if (g->type != (wg_valtype)want->type || g->mut != want->mut)
          return link_error(err, "incompatible import type for %.*s.%.*s", im);
        inst->globals[im->index] = ex->of.global;
        break;
      }
      case WG_EXTERN_TAG: /* tag types match exactly (3.0 4.5.2) */
        if (ex->of.tag->type_id != inst->type_ids[m->tags[im->index]])
          return link_error(err, "incompatible import type for %.*s.%.*s", im);
        inst->tags[im->index] = ex->of.tag;
        break;
    }
  }
  return true;
}

wg_slot wg_eval_const(const wg_instance *inst, const wg_bytes *e, wg_slot *hi) {
  wg_diag ignored = {0};
  wg_reader r = {e->ptr, e->ptr + e->len, inst->module->bytes, &ignored, WG_MSG_EOF_SECTION};
  wg_instr in;
  wg_slot v = {0};
  if (hi) hi->u64 = 0;
  if (!wg_instr_read(&r, &in)) return v;
  switch (in.op) {
    case WG_OP_I32_CONST: v.u32 = (uint32_t)in.bits; break;
    case WG_OP_I64_CONST:
    case WG_OP_F64_CONST: v.u64 = in.bits; break;
    case WG_OP_F32_CONST: v.u32 = (uint32_t)in.bits; break;
    case WG_OP_REF_FUNC: v.ref = inst->funcs[in.a]; break;
    case WG_OP_GLOBAL_GET:
      v = inst->globals[in.a]->value;
      if (hi) *hi = inst->globals[in.a]->value_hi;
      break;
    case WG_OP_V128_CONST:
      memcpy(&v.u64, in.vec, 8);
      if (hi) memcpy(&hi->u64, in.vec + 8, 8);
      break;
    default: break; /* ref.null: 0 */
  }
  return v;
}

static wg_slot eval_const(const wg_instance *inst, const wg_bytes *e) { return wg_eval_const(inst, e, NULL); }

static bool oom(wg_error **err) {
  if (err) *err = wg_error_make(WG_ERROR_RESOURCE, SIZE_MAX, "out of memory");
  return false;
}

/* Counts `n` bytes for `what` (entity `index` of its kind, or UINT32_MAX
 * for none) against the store's max_bytes, or fails
 * instantiation with a message that says what did not fit. */
static bool charge(wg_store *s, uint64_t n, const char *what, uint32_t index, wg_error **err) {
  if (wg_store_charge(s, n)) return true;
  if (err) {
    char msg[200], idx[16] = "";
    if (index != UINT32_MAX) snprintf(idx, sizeof idx, " %u", index);
    snprintf(msg, sizeof msg, "store memory limit exceeded: %s%s takes %llu bytes, %llu of %llu in use", what, idx,
             (unsigned long long)n, (unsigned long long)s->bytes, (unsigned long long)s->config.max_bytes);
    *err = wg_error_make(WG_ERROR_LIMIT, SIZE_MAX, msg);
  }
  return false;
}

/* The bytes of the instance's own bookkeeping (wg_instance_new's arrays). */
static uint64_t instance_bytes(const wg_module *m) {
  return sizeof(wg_instance) + ((uint64_t)m->nfuncs + 1) * sizeof(wg_func *) +
         ((uint64_t)m->ntables + 1) * sizeof(wg_table *) + ((uint64_t)m->nmems + 1) * sizeof(wg_memory *) +
         ((uint64_t)m->nglobals + 1) * sizeof(wg_global *) + ((uint64_t)m->ntags + 1) * sizeof(wg_tag *) +
         ((uint64_t)m->nelems + 1) * (sizeof(wg_ref *) + sizeof(uint32_t)) + (m->ndatas + 1ull) +
         ((uint64_t)m->ntypes + 1) * sizeof(wg_typeid);
}

static bool allocate(wg_instance *inst, wg_error **err) {
  wg_store *s = inst->store;
  const wg_module *m = inst->module;
  /* The module's own functions and globals: one block each, owned by the
   * store (one allocation instead of one per object). */
  uint32_t nown = m->nfuncs - m->nfunc_imports;
  if (!charge(s, (uint64_t)nown * sizeof(wg_func), "functions", UINT32_MAX, err)) return false;
  wg_func *fs = nown ? calloc(nown, sizeof *fs) : NULL;
  if (nown && !wg_store_own(s, fs, NULL)) return oom(err);
  for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
    wg_func *f = &fs[i - m->nfunc_imports];
    wg_typeid id = inst->type_ids[m->funcs[i].type];
    *f = (wg_func){.type_id = id, .type = s->types[id], .inst = inst, .index = i};
    inst->funcs[i] = f;
  }
  uint32_t ntag = m->ntags - m->ntag_imports;
  if (!charge(s, (uint64_t)ntag * sizeof(wg_tag), "tags", UINT32_MAX, err)) return false;
  wg_tag *tg = ntag ? calloc(ntag, sizeof *tg) : NULL;
  if (ntag && !wg_store_own(s, tg, NULL)) return oom(err);
  for (uint32_t i = m->ntag_imports; i < m->ntags; i++) {
    wg_typeid id = inst->type_ids[m->tags[i]];
    tg[i - m->ntag_imports] = (wg_tag){.type_id = id, .type = s->types[id]};
    inst->tags[i] = &tg[i - m->ntag_imports];
  }
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
    const wg_tabletype *t = &m->tables[i];
    /* wg_table_new counts it too; checked here to say what did not fit. */
    uint64_t need = sizeof(wg_table) + (uint64_t)t->limits.min * sizeof(wg_ref);
    if (need > s->config.max_bytes - s->bytes) return charge(s, need, "table", i, err);
    inst->tables[i] = wg_table_new(s, (wg_valtype)t->elem, t->limits.min, t->limits.has_max, t->limits.max, NULL);
    if (!inst->tables[i]) return oom(err);
  }
  for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
    const wg_limits *l = &m->mems[i];
    uint64_t need = sizeof(wg_memory) + (uint64_t)l->min * 65536;
    if (need > s->config.max_bytes - s->bytes) return charge(s, need, "memory", i, err);
    bool image = i == 0 && s->memimage && wg_memimage_module(s->memimage) == m; /* memimage.c */
    inst->mems[i] = image ? wg_memimage_memory(s, s->memimage, l) : wg_memory_new(s, l->min, l->has_max, l->max);
    if (!inst->mems[i]) {
      if (err) *err = wg_error_make(WG_ERROR_RESOURCE, SIZE_MAX, "cannot allocate memory (limit or out of memory)");
      return false;
    }
  }
  uint32_t nglob = m->nglobals - m->nglobal_imports;
  if (!charge(s, (uint64_t)nglob * sizeof(wg_global), "globals", UINT32_MAX, err)) return false;
  wg_global *gs = nglob ? calloc(nglob, sizeof *gs) : NULL;
  if (nglob && !wg_store_own(s, gs, NULL)) return oom(err);
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
    wg_global *g = &gs[i - m->nglobal_imports];
    g->type = (wg_valtype)m->globals[i].type.type;
    g->mut = m->globals[i].type.mut;
    g->value = wg_eval_const(inst, &m->globals[i].init, &g->value_hi);
    inst->globals[i] = g;
  }
  /* Element segments' references, evaluated now (4.5.4 step 10). */
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wg_elem *e = &m->elems[i];
    if (!charge(s, ((uint64_t)e->count + 1) * sizeof(wg_ref), "element segment", i, err)) return false;
    inst->elem_refs[i] = calloc(e->count ? e->count : 1, sizeof(wg_ref));
    if (!inst->elem_refs[i]) return oom(err);
    for (uint32_t k = 0; k < e->count; k++)
      inst->elem_refs[i][k] = e->exprs ? eval_const(inst, &e->init[k]).ref : inst->funcs[e->funcs[k]];
    inst->elem_sizes[i] = e->mode == WG_SEG_PASSIVE ? e->count : 0;
  }
  return true;
}

/* Active segments, then the start function (4.5.4 steps 12-16). */
static wg_trap *initialise(wg_instance *inst) {
  const wg_module *m = inst->module;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wg_elem *e = &m->elems[i];
    if (e->mode != WG_SEG_ACTIVE) continue;
    wg_table *t = inst->tables[e->table];
    uint32_t d = eval_const(inst, &e->offset).u32;
    if ((uint64_t)d + e->count > t->size) return wg_trap_new(WG_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
    if (e->count) memcpy(t->elems + d, inst->elem_refs[i], (size_t)e->count * sizeof(wg_ref));
  }
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const wg_data *seg = &m->datas[i];
    if (seg->mode != WG_SEG_ACTIVE) continue;
    wg_memory *mem = inst->mems[seg->memory];
    if (mem->image && seg->memory == 0) { /* made from its image: the bytes are in place */
      inst->data_dropped[i] = true;
      continue;
    }
    uint32_t d = eval_const(inst, &seg->offset).u32;
    if ((uint64_t)d + seg->init.len > mem->size) return wg_trap_new(WG_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    if (seg->init.len) memcpy(mem->data + d, seg->init.ptr, seg->init.len);
    inst->data_dropped[i] = true;
  }
  if (!m->has_start) return NULL;
  inst->store->no_suspend++; /* instantiation cannot be resumed later */
  wg_trap *t = wg_func_call(inst->store, inst->funcs[m->start], NULL, 0, NULL, 0);
  inst->store->no_suspend--;
  return t;
}

wg_instance *wg_instance_new(wg_store *s, const wg_module *m, const wg_extern *imports, size_t nimports,
                             wg_error **err, wg_trap **trap) {
  if (err) *err = NULL;
  if (trap) *trap = NULL;
  if (!charge(s, instance_bytes(m), "instance", UINT32_MAX, err)) return NULL;
  wg_instance *inst = calloc(1, sizeof *inst);
  if (!inst) return oom(err), NULL;
  inst->store = s;
  inst->module = m;
  inst->funcs = calloc(m->nfuncs + 1, sizeof *inst->funcs);
  inst->tables = calloc(m->ntables + 1, sizeof *inst->tables);
  inst->mems = calloc(m->nmems + 1, sizeof *inst->mems);
  inst->globals = calloc(m->nglobals + 1, sizeof *inst->globals);
  inst->tags = calloc(m->ntags + 1, sizeof *inst->tags);
  inst->elem_refs = calloc(m->nelems + 1, sizeof *inst->elem_refs);
  inst->elem_sizes = calloc(m->nelems + 1, sizeof *inst->elem_sizes);
  inst->data_dropped = calloc(m->ndatas + 1, sizeof *inst->data_dropped);
  inst->type_ids = calloc(m->ntypes + 1, sizeof *inst->type_ids);
  if (!wg_store_own(s, inst, instance_release)) return oom(err), NULL;
  if (!inst->funcs || !inst->tables || !inst->mems || !inst->globals || !inst->tags || !inst->elem_refs || !inst->elem_sizes ||
      !inst->data_dropped || !inst->type_ids)
    return oom(err), NULL;
  for (uint32_t i = 0; i < m->ntypes; i++) {
    const wg_functype *ft = &m->types[i];
    inst->type_ids[i] = wg_store_intern_type(s, ft->nparams, ft->params, ft->nresults, ft->results);
    if (inst->type_ids[i] == UINT32_MAX) return oom(err), NULL;
  }
  if (!link_imports(inst, imports, nimports, err) || !allocate(inst, err)) return NULL;
  wg_trap *t = initialise(inst);
  if (t) {
    if (trap) *trap = t;
    else wg_trap_delete(t);
    return NULL;
  }
  return inst;
}

bool wg_instance_export(const wg_instance *inst, const char *name, size_t len, wg_extern *out) {
  const wg_module *m = inst->module;
  for (uint32_t i = 0; i < m->nexports; i++) {
    const wg_export *ex = &m->exports[i];
    if (ex->name.len != len || memcmp(ex->name.ptr, name, len)) continue;
    out->kind = ex->kind;
    switch (ex->kind) {
      case WG_EXTERN_FUNC: out->of.func = inst->funcs[ex->index]; break;
      case WG_EXTERN_TABLE: out->of.table = inst->tables[ex->index]; break;
      case WG_EXTERN_MEMORY: out->of.memory = inst->mems[ex->index]; break;
      case WG_EXTERN_GLOBAL: out->of.global = inst->globals[ex->index]; break;
      case WG_EXTERN_TAG: out->of.tag = inst->tags[ex->index]; break;
    }
    return true;
  }
  return false;
}

bool wg_instance_extern(const wg_instance *inst, wg_extern_kind kind, uint32_t index, wg_extern *out) {
  const wg_module *m = inst->module;
  out->kind = kind;
  switch (kind) {
    case WG_EXTERN_FUNC:
      if (index >= m->nfuncs) return false;
      out->of.func = inst->funcs[index];
      return true;
    case WG_EXTERN_TABLE:
      if (index >= m->ntables) return false;
      out->of.table = inst->tables[index];
      return true;
    case WG_EXTERN_MEMORY:
      if (index >= m->nmems) return false;
      out->of.memory = inst->mems[index];
      return true;
    case WG_EXTERN_GLOBAL:
      if (index >= m->nglobals) return false;
      out->of.global = inst->globals[index];
      return true;
    case WG_EXTERN_TAG:
      if (index >= m->ntags) return false;
      out->of.tag = inst->tags[index];
      return true;
  }
  return false;
}

const wg_module *wg_instance_module(const wg_instance *inst) { return inst->module; }

wg_memory *wg_instance_memory(const wg_instance *inst) { return inst->module->nmems ? inst->mems[0] : NULL; }

wg_trap *wg_func_call(wg_store *s, wg_func *f, const wg_val *args, size_t nargs, wg_val *results, size_t nresults) {
  uint32_t np = f->type.nparams, nr = f->type.nresults;
  if (nargs != np || nresults != nr) return wg_trap_new(WG_TRAP_HOST, "wrong number of arguments or results");
  for (uint32_t i = 0; i < np; i++)
    if (args[i].kind != f->type.params[i]) return wg_trap_new(WG_TRAP_HOST, "argument type mismatch");
  if (f->host) {
    for (uint32_t i = 0; i < nr; i++) {
      memset(&results[i], 0, sizeof results[i]);
      results[i].kind = f->type.results[i];
    }
    wg_trap *t = f->host(f->env, NULL, args, results);
    if (t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED) { /* no guest to park */
      wg_trap_delete(t);
      t = wg_trap_new(WG_TRAP_HOST, "cannot suspend: the host function was called from the host");
    }
    return t;
  }
  if (s->susp.active) return wg_trap_new(WG_TRAP_HOST, "the store has a suspended call (resume or abandon it first)");
  wg_slot *fp = s->stack_top;
  size_t ps = wg_slot_count(np, f->type.params), rs = wg_slot_count(nr, f->type.results);
  size_t need = ps > rs ? ps : rs;
  if ((size_t)(s->stack_end - fp) < need + 1) return wg_trap_new(WG_TRAP_STACK_EXHAUSTED, NULL);
  wg_vals_to_slots(np, args, fp);
  bool outermost = s->depth == 0;
  wg_trap *t = wg_interp_call(s, f, fp);
  if (!t) wg_slots_to_vals(nr, f->type.results, fp, results);
  else if (outermost && s->susp.active) { /* remember where the results go */
    s->susp.entry = f;
    s->susp.entry_fp = fp;
  }
  return t;
}

bool wg_store_suspended(const wg_store *s) { return s->susp.active; }

void wg_store_set_yield(wg_store *s, bool yield) { s->yield = yield; }

void wg_store_abandon(wg_store *s) {
  if (!s->susp.active) return;
  s->susp.active = false;
  s->depth = 0;
}

/* Continues the call suspended in s once the host function's results are in place. */
static wg_trap *resume_run(wg_store *s, wg_val *results) {
  wg_func *f = s->susp.entry;
  s->susp.active = false;
  wg_slot *fp = s->susp.entry_fp;
  wg_trap *t = wg_interp_resume(s);
  if (!t) wg_slots_to_vals(f->type.nresults, f->type.results, fp, results);
  else if (s->susp.active) { /* suspended again: same entry */
    s->susp.entry = f;
    s->susp.entry_fp = fp;
  }
  return t;
}

wg_trap *wg_func_resume(wg_store *s, const wg_val *host_results, size_t n_host, wg_val *results, size_t nresults) {
  if (!s->susp.active) return wg_trap_new(WG_TRAP_HOST, "nothing to resume");
  wg_func *f = s->susp.entry, *h = s->susp.host;
  if (nresults != f->type.nresults || n_host != (h ? h->type.nresults : 0))
    return wg_trap_new(WG_TRAP_HOST, "wrong number of results to resume with");
  for (size_t i = 0; i < n_host; i++)
    if (host_results[i].kind != h->type.results[i]) return wg_trap_new(WG_TRAP_HOST, "result type mismatch");
  wg_vals_to_slots((uint32_t)n_host, host_results, s->susp.host_fp);
  return resume_run(s, results);
}

wg_trap *wg_func_resume_with(wg_store *s, wg_resume_fill fill, void *env, wg_val *results, size_t nresults) {
  if (!s->susp.active) return wg_trap_new(WG_TRAP_HOST, "nothing to resume");
  wg_func *f = s->susp.entry, *h = s->susp.host;
  if (nresults != f->type.nresults) return wg_trap_new(WG_TRAP_HOST, "wrong number of results to resume with");
  uint32_t nh = h ? h->type.nresults : 0;
  wg_val small[4], *hv = nh <= 4 ? small : calloc(nh, sizeof *hv);
  if (!hv) return wg_trap_new(WG_TRAP_RESOURCE, NULL);
  for (uint32_t i = 0; i < nh; i++) {
    memset(&hv[i], 0, sizeof hv[i]);
    hv[i].kind = h->type.results[i];
  }
  /* the host function is running again: calls it makes are nested activations above its
   * frame (as wg_host_call arranges), and cannot suspend */
  wg_slot *saved_top = s->stack_top;
  if (h) {
    uint32_t np = h->type.nparams;
    size_t ps = wg_slot_count(np, h->type.params), rs = wg_slot_count(nh, h->type.results);
    s->stack_top = s->susp.host_fp + (ps > rs ? ps : rs);
  }
  s->susp.active = false;
  wg_trap *t = fill(env, hv, nh);
  s->stack_top = saved_top;
  if (t) { /* as if the host function had trapped: the guest unwinds */
    s->depth = 0;
    if (hv != small) free(hv);
    return t;
  }
  for (uint32_t i = 0; i < nh; i++) hv[i].kind = h->type.results[i];
  wg_vals_to_slots(nh, hv, s->susp.host_fp);
  if (hv != small) free(hv);
  s->susp.active = true;
  return resume_run(s, results);
}
