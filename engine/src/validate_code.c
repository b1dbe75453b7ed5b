/*
 * validate_code.c: validation of function bodies, following the spec's
 * validation algorithm (spec appendix A.3 "Validation Algorithm"): an operand
 * stack of value types with an "unknown" type for unreachable code, and a
 * stack of control frames. Instructions are decoded with wg_instr_read from
 * the one opcode table; those with a fixed signature are typed from the
 * table, the rest by hand below.
 */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "opcodes.h"

#define T_UNKNOWN 0 /* the bottom type of unreachable code */

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

typedef struct ctrl {
  uint8_t kind;
  bool unreachable;
  uint32_t height; /* operand stack height at entry (after params were popped) */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
} ctrl;

struct wg_code_validator {
  const wg_module *m;
  wg_diag *d;
  uint8_t *vals;
  uint32_t nvals, cap_vals;
  ctrl *ctrls;
  uint32_t nctrls, cap_ctrls;
  uint8_t *locals;
  uint32_t nlocals, cap_locals;
  size_t at; /* offset of the instruction being validated */
};

/* One-element result types for blocks typed by a single value type. */
static const uint8_t single_type[256] = {
    [WG_I32] = WG_I32,   [WG_I64] = WG_I64,         [WG_F32] = WG_F32,           [WG_F64] = WG_F64,
    [WG_V128] = WG_V128, [WG_FUNCREF] = WG_FUNCREF, [WG_EXTERNREF] = WG_EXTERNREF, [WG_EXNREF] = WG_EXNREF,
};
static const uint8_t exnref_type[1] = {WG_EXNREF};

wg_code_validator *wg_code_validator_new(const wg_module *m) {
  wg_code_validator *v = calloc(1, sizeof *v);
  if (v) v->m = m;
  return v;
}

void wg_code_validator_free(wg_code_validator *v) {
  if (!v) return;
  free(v->vals);
  free(v->ctrls);
  free(v->locals);
  free(v);
}

static bool fail(wg_code_validator *v, const char *msg) {
  return wg_fail(v->d, WG_ERROR_INVALID, v->at, "%s", msg);
}

static bool failf(wg_code_validator *v, const char *msg, uint32_t idx) {
  return wg_fail(v->d, WG_ERROR_INVALID, v->at, "%s %u", msg, idx);
}

static bool grow(void **buf, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return true;
  uint64_t n = *cap ? (uint64_t)*cap * 2 : 64;
  while (n < need) n *= 2;
  if (n > UINT32_MAX) return false;
  void *p = realloc(*buf, (size_t)n * elem);
  if (!p) return false;
  *buf = p;
  *cap = (uint32_t)n;
  return true;
}

static bool oom(wg_code_validator *v) { return wg_fail(v->d, WG_ERROR_RESOURCE, v->at, "out of memory"); }

static inline bool push(wg_code_validator *v, uint8_t t) {
  if (v->nvals == v->cap_vals && !grow((void **)&v->vals, &v->cap_vals, v->nvals + 1, 1)) return oom(v);
  v->vals[v->nvals++] = t;
  return true;
}

static bool push_n(wg_code_validator *v, uint32_t n, const uint8_t *ts) {
  for (uint32_t i = 0; i < n; i++)
    if (!push(v, ts[i])) return false;
  return true;
}

/* Pops one operand into *t (T_UNKNOWN in unreachable code). */
static inline bool pop(wg_code_validator *v, uint8_t *t) {
  const ctrl *c = &v->ctrls[v->nctrls - 1];
  if (v->nvals == c->height) {
    if (c->unreachable) {
      *t = T_UNKNOWN;
      return true;
    }
    return fail(v, "type mismatch");
  }
  *t = v->vals[--v->nvals];
  return true;
}

static inline bool pop_expect(wg_code_validator *v, uint8_t want) {
  uint8_t t;
  if (!pop(v, &t)) return false;
  if (t != want && t != T_UNKNOWN && want != T_UNKNOWN) return fail(v, "type mismatch");
  return true;
}

static bool pop_n(wg_code_validator *v, uint32_t n, const uint8_t *ts) {
  for (uint32_t i = n; i-- > 0;)
    if (!pop_expect(v, ts[i])) return false;
  return true;
}

static bool push_ctrl(wg_code_validator *v, uint8_t kind, uint32_t np, const uint8_t *p, uint32_t nr,
                      const uint8_t *r) {
  if (v->nctrls >= WG_MAX_CONTROL_DEPTH) return wg_fail(v->d, WG_ERROR_LIMIT, v->at, "blocks nested too deeply");
  if (!grow((void **)&v->ctrls, &v->cap_ctrls, v->nctrls + 1, sizeof(ctrl))) return oom(v);
  v->ctrls[v->nctrls++] = (ctrl){kind, false, v->nvals, np, nr, p, r};
  return push_n(v, np, p);
}

/* Ends the innermost frame: its results must be exactly on the stack. */
static bool pop_ctrl(wg_code_validator *v, ctrl *out) {
  ctrl *c = &v->ctrls[v->nctrls - 1];
  if (!pop_n(v, c->nresults, c->results)) return false;
  if (v->nvals != c->height) return fail(v, "type mismatch");
  *out = *c;
  v->nctrls--;
  return true;
}

static void set_unreachable(wg_code_validator *v) {
  ctrl *c = &v->ctrls[v->nctrls - 1];
  v->nvals = c->height;
  c->unreachable = true;
}

static inline uint32_t label_arity(const ctrl *c) { return c->kind == K_LOOP ? c->nparams : c->nresults; }
static inline const uint8_t *label_types(const ctrl *c) { return c->kind == K_LOOP ? c->params : c->results; }

/* Checks, without popping, that the stack top matches a label's types. */
static bool peek_label(wg_code_validator *v, const ctrl *label) {
  const ctrl *c = &v->ctrls[v->nctrls - 1];
  uint32_t n = label_arity(label);
  const uint8_t *ts = label_types(label);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t depth = n - 1 - i; /* from the top */
    if (v->nvals - c->height <= depth) {
      if (!c->unreachable) return fail(v, "type mismatch");
      continue;
    }
    uint8_t t = v->vals[v->nvals - 1 - depth];
    if (t != ts[i] && t != T_UNKNOWN) return fail(v, "type mismatch");
  }
  return true;
}

static bool block_type(wg_code_validator *v, const wg_instr *in, uint32_t *np, const uint8_t **p, uint32_t *nr,
                       const uint8_t **r) {
  switch (in->bt_kind) {
    case 0:
      *np = *nr = 0;
      *p = *r = NULL;
      return true;
    case 1:
      *np = 0;
      *p = NULL;
      *nr = 1;
      *r = &single_type[in->a];
      return true;
    default:
      if (in->a >= v->m->ntypes) return fail(v, "unknown type");
      *np = v->m->types[in->a].nparams;
      *p = v->m->types[in->a].params;
      *nr = v->m->types[in->a].nresults;
      *r = v->m->types[in->a].results;
      return true;
  }
}

/* Without exception handling (WebAssembly 2.0) exnref is no type: a block type, select's type
 * or ref.null naming it is malformed, with the words the instruction reader uses for a byte
 * that names no type (the decoder does the same for the sections' types). */
static bool exnref_ok(const wg_instr *in, wg_diag *d) {
  switch (in->op) {
    case WG_OP_BLOCK: case WG_OP_LOOP: case WG_OP_IF:
      if (in->bt_kind == 1 && in->a == WG_EXNREF)
        return wg_fail(d, WG_ERROR_MALFORMED, in->offset + 1, "malformed block type");
      return true;
    case WG_OP_SELECT_T:
      if (in->a && in->b == WG_EXNREF) return wg_fail(d, WG_ERROR_MALFORMED, in->offset + 2, "malformed value type");
      return true;
    case WG_OP_REF_NULL:
      if (in->a == WG_EXNREF) return wg_fail(d, WG_ERROR_MALFORMED, in->offset + 1, "malformed reference type");
      return true;
    default: return true;
  }
}

static bool multi_memory(const wg_code_validator *v) { return v->m->features & WG_FEATURE_MULTI_MEMORY; }

static bool need_memory(wg_code_validator *v, uint32_t idx) {
  return idx < v->m->nmems || failf(v, "unknown memory", idx);
}

static bool need_table(wg_code_validator *v, uint32_t idx) {
  return idx < v->m->ntables || failf(v, "unknown table", idx);
}

/* memory.init and data.drop need the data count section (5.5.16), so that
 * single-pass validation knows the number of data segments. A module without
 * any data segment has nothing to name: that index is just unknown. */
static bool need_data(wg_code_validator *v, uint32_t idx) {
  if (!v->m->has_datacount && v->m->ndatas)
    return wg_fail(v->d, WG_ERROR_MALFORMED, v->at, "data count section required");
  return idx < v->m->ndatas || failf(v, "unknown data segment", idx);
}

static bool need_elem(wg_code_validator *v, uint32_t idx) {
  return idx < v->m->nelems || failf(v, "unknown elem segment", idx);
}

static bool is_num_or_vec(uint8_t t) { return t == T_UNKNOWN || (t >= WG_V128 && t <= WG_I32); }
static bool is_ref(uint8_t t) { return t == T_UNKNOWN || wg_is_reftype(t); }

static bool check_control(wg_code_validator *v, const wg_instr *in, bool *done) {
  uint32_t np, nr;
  const uint8_t *p, *r;
  ctrl c;
  switch (in->op) {
    case WG_OP_UNREACHABLE:
      set_unreachable(v);
      return true;
    case WG_OP_BLOCK:
    case WG_OP_LOOP:
    case WG_OP_IF:
      if (!block_type(v, in, &np, &p, &nr, &r)) return false;
      if (in->op == WG_OP_IF && !pop_expect(v, WG_I32)) return false;
      if (!pop_n(v, np, p)) return false;
      return push_ctrl(v, in->op == WG_OP_BLOCK ? K_BLOCK : in->op == WG_OP_LOOP ? K_LOOP : K_IF, np, p, nr, r);
    case WG_OP_ELSE:
      if (v->ctrls[v->nctrls - 1].kind != K_IF)
        return wg_fail(v->d, WG_ERROR_MALFORMED, v->at, "END opcode expected");
      if (!pop_ctrl(v, &c)) return false;
      return push_ctrl(v, K_ELSE, c.nparams, c.params, c.nresults, c.results);
    case WG_OP_END:
      if (!pop_ctrl(v, &c)) return false;
      /* An `if` without `else` passes its params through as results. */
      if (c.kind == K_IF && (c.nparams != c.nresults || (c.nparams && memcmp(c.params, c.results, c.nparams))))
        return fail(v, "type mismatch");
      if (v->nctrls == 0) {
        *done = true;
        return true;
      }
      return push_n(v, c.nresults, c.results);
    case WG_OP_BR:
    case WG_OP_BR_IF: {
      if (in->a >= v->nctrls) return fail(v, "unknown label");
      const ctrl *label = &v->ctrls[v->nctrls - 1 - in->a];
      if (in->op == WG_OP_BR_IF) {
        if (!pop_expect(v, WG_I32)) return false;
        /* Pop the label's types and push them back: the stack keeps its types. */
        return pop_n(v, label_arity(label), label_types(label)) &&
               push_n(v, label_arity(label), label_types(label));
      }
      if (!pop_n(v, label_arity(label), label_types(label))) return false;
      set_unreachable(v);
      return true;
    }
    case WG_OP_BR_TABLE: {
      if (!pop_expect(v, WG_I32)) return false;
      if (in->b >= v->nctrls) return fail(v, "unknown label");
      const ctrl *dflt = &v->ctrls[v->nctrls - 1 - in->b];
      uint32_t arity = label_arity(dflt);
      wg_reader lr = {in->vec, v->m->bytes + v->m->len, v->m->bytes, v->d, WG_MSG_EOF_SECTION};
      for (uint32_t i = 0; i < in->a; i++) {
        uint32_t l;
        if (!rd_u32(&lr, &l)) return false;
        if (l >= v->nctrls) return fail(v, "unknown label");
        const ctrl *label = &v->ctrls[v->nctrls - 1 - l];
        if (label_arity(label) != arity) return fail(v, "type mismatch");
        if (!peek_label(v, label)) return false;
      }
      if (!pop_n(v, arity, label_types(dflt))) return false;
      set_unreachable(v);
      return true;
    }
    case WG_OP_RETURN: {
      const ctrl *fn = &v->ctrls[0];
      if (!pop_n(v, fn->nresults, fn->results)) return false;
      set_unreachable(v);
      return true;
    }
    case WG_OP_THROW: {
      if (in->a >= v->m->ntags) return failf(v, "unknown tag", in->a);
      const wg_functype *ft = &v->m->types[v->m->tags[in->a]];
      if (!pop_n(v, ft->nparams, ft->params)) return false;
      set_unreachable(v);
      return true;
    }
    case WG_OP_THROW_REF:
      if (!pop_expect(v, WG_EXNREF)) return false;
      set_unreachable(v);
      return true;
    case WG_OP_TRY_TABLE: {
      if (!block_type(v, in, &np, &p, &nr, &r)) return false;
      wg_reader cr = {in->vec, v->m->bytes + v->m->len, v->m->bytes, v->d, WG_MSG_EOF_SECTION};
      for (uint32_t i = 0; i < in->b; i++) {
        wg_catch k;
        if (!wg_catch_read(&cr, &k)) return false;
        /* What the clause delivers to its label: the tag's params, then an exnref for the _ref forms. */
        uint32_t n = 0;
        const uint8_t *ts = NULL;
        if (k.kind < WG_CATCH_ALL) {
          if (k.tag >= v->m->ntags) return failf(v, "unknown tag", k.tag);
          const wg_functype *ft = &v->m->types[v->m->tags[k.tag]];
          n = ft->nparams;
          ts = ft->params;
        }
        bool ref = k.kind == WG_CATCH_REF || k.kind == WG_CATCH_ALL_REF;
        if (k.label >= v->nctrls) return fail(v, "unknown label");
        const ctrl *label = &v->ctrls[v->nctrls - 1 - k.label];
        if (label_arity(label) != n + ref) return fail(v, "type mismatch");
        if (n && memcmp(label_types(label), ts, n)) return fail(v, "type mismatch");
        if (ref && label_types(label)[n] != exnref_type[0]) return fail(v, "type mismatch");
      }
      if (!pop_n(v, np, p)) return false;
      return push_ctrl(v, K_BLOCK, np, p, nr, r);
    }
    case WG_OP_RETURN_CALL:
    case WG_OP_RETURN_CALL_INDIRECT: {
      /* A tail call: the callee's results are the caller's (3.0 3.4.1). */
      const wg_functype *ft;
      if (in->op == WG_OP_RETURN_CALL) {
        if (in->a >= v->m->nfuncs) return failf(v, "unknown function", in->a);
        ft = &v->m->types[v->m->funcs[in->a].type];
      } else {
        if (!need_table(v, in->b)) return false;
        if (v->m->tables[in->b].elem != WG_FUNCREF) return fail(v, "type mismatch");
        if (in->a >= v->m->ntypes) return fail(v, "unknown type");
        ft = &v->m->types[in->a];
        if (!pop_expect(v, WG_I32)) return false;
      }
      const ctrl *fn = &v->ctrls[0];
      if (ft->nresults != fn->nresults || (ft->nresults && memcmp(ft->results, fn->results, ft->nresults)))
        return fail(v, "type mismatch");
      if (!pop_n(v, ft->nparams, ft->params)) return false;
      set_unreachable(v);
      return true;
    }
    case WG_OP_CALL: {
      if (in->a >= v->m->nfuncs) return failf(v, "unknown function", in->a);
      const wg_functype *ft = &v->m->types[v->m->funcs[in->a].type];
      return pop_n(v, ft->nparams, ft->params) && push_n(v, ft->nresults, ft->results);
    }
    case WG_OP_CALL_INDIRECT: {
      if (!need_table(v, in->b)) return false;
      if (v->m->tables[in->b].elem != WG_FUNCREF) return fail(v, "type mismatch");
      if (in->a >= v->m->ntypes) return fail(v, "unknown type");
      const wg_functype *ft = &v->m->types[in->a];
      return pop_expect(v, WG_I32) && pop_n(v, ft->nparams, ft->params) && push_n(v, ft->nresults, ft->results);
    }
    default:
      return fail(v, "illegal opcode");
  }
}

static bool check_variable(wg_code_validator *v, const wg_instr *in) {
  uint8_t t;
  switch (in->op) {
    case WG_OP_DROP:
      return pop(v, &t);
    case WG_OP_SELECT: {
      uint8_t t1, t2;
      if (!pop_expect(v, WG_I32) || !pop(v, &t1) || !pop(v, &t2)) return false;
      if (!is_num_or_vec(t1) || !is_num_or_vec(t2)) return fail(v, "type mismatch");
      if (t1 != t2 && t1 != T_UNKNOWN && t2 != T_UNKNOWN) return fail(v, "type mismatch");
      return push(v, t1 == T_UNKNOWN ? t2 : t1);
    }
    case WG_OP_SELECT_T:
      if (in->a != 1) return fail(v, "invalid result arity");
      return pop_expect(v, WG_I32) && pop_expect(v, (uint8_t)in->b) && pop_expect(v, (uint8_t)in->b) &&
             push(v, (uint8_t)in->b);
    case WG_OP_LOCAL_GET:
      if (in->a >= v->nlocals) return failf(v, "unknown local", in->a);
      return push(v, v->locals[in->a]);
    case WG_OP_LOCAL_SET:
      if (in->a >= v->nlocals) return failf(v, "unknown local", in->a);
      return pop_expect(v, v->locals[in->a]);
    case WG_OP_LOCAL_TEE:
      if (in->a >= v->nlocals) return failf(v, "unknown local", in->a);
      return pop_expect(v, v->locals[in->a]) && push(v, v->locals[in->a]);
    case WG_OP_GLOBAL_GET:
      if (in->a >= v->m->nglobals) return failf(v, "unknown global", in->a);
      return push(v, v->m->globals[in->a].type.type);
    case WG_OP_GLOBAL_SET:
      if (in->a >= v->m->nglobals) return failf(v, "unknown global", in->a);
      if (!v->m->globals[in->a].type.mut) return fail(v, "global is immutable");
      return pop_expect(v, v->m->globals[in->a].type.type);
    case WG_OP_REF_NULL:
      return push(v, (uint8_t)in->a);
    case WG_OP_REF_IS_NULL:
      if (!pop(v, &t)) return false;
      if (!is_ref(t)) return fail(v, "type mismatch");
      return push(v, WG_I32);
    case WG_OP_REF_FUNC:
      if (in->a >= v->m->nfuncs) return failf(v, "unknown function", in->a);
      if (!v->m->declared_refs[in->a]) return fail(v, "undeclared function reference");
      return push(v, WG_FUNCREF);
    default:
      return fail(v, "illegal opcode");
  }
}

static bool check_table_op(wg_code_validator *v, const wg_instr *in) {
  const wg_module *m = v->m;
  uint8_t et;
  switch (in->op) {
    case WG_OP_TABLE_GET:
      if (!need_table(v, in->a)) return false;
      return pop_expect(v, WG_I32) && push(v, m->tables[in->a].elem);
    case WG_OP_TABLE_SET:
      if (!need_table(v, in->a)) return false;
      return pop_expect(v, m->tables[in->a].elem) && pop_expect(v, WG_I32);
    case WG_OP_TABLE_SIZE:
      return need_table(v, in->a) && push(v, WG_I32);
    case WG_OP_TABLE_GROW:
      if (!need_table(v, in->a)) return false;
      return pop_expect(v, WG_I32) && pop_expect(v, m->tables[in->a].elem) && push(v, WG_I32);
    case WG_OP_TABLE_FILL:
      if (!need_table(v, in->a)) return false;
      return pop_expect(v, WG_I32) && pop_expect(v, m->tables[in->a].elem) && pop_expect(v, WG_I32);
    case WG_OP_TABLE_COPY:
      if (!need_table(v, in->a) || !need_table(v, in->b)) return false;
      if (m->tables[in->a].elem != m->tables[in->b].elem) return fail(v, "type mismatch");
      break;
    case WG_OP_TABLE_INIT:
      if (!need_table(v, in->b) || !need_elem(v, in->a)) return false;
      et = m->elems[in->a].type;
      if (m->tables[in->b].elem != et) return fail(v, "type mismatch");
      break;
    case WG_OP_ELEM_DROP:
      return need_elem(v, in->a);
    default:
      return fail(v, "illegal opcode");
  }
  /* table.copy and table.init: [i32 i32 i32] -> [] */
  return pop_expect(v, WG_I32) && pop_expect(v, WG_I32) && pop_expect(v, WG_I32);
}

/* Instructions typed by the opcode table's signature, after their
 * immediates' own checks (memory, alignment, lanes, data segments). */
static bool check_fixed(wg_code_validator *v, const wg_instr *in, const wg_opinfo *info) {
  switch ((wg_imm)info->imm) {
    case WG_IMM_MEMARG:
    case WG_IMM_MEMARG_LANE:
      /* Wasm 2.0: flags are the alignment only, below 32. */
      if (!multi_memory(v) && in->b >= 32) return wg_fail(v->d, WG_ERROR_MALFORMED, v->at, "malformed memop flags");
      if (!need_memory(v, in->mem)) return false;
      if (in->a > info->a) return fail(v, "alignment must not be larger than natural");
      if (info->imm == WG_IMM_MEMARG_LANE && in->lane >= (16u >> info->a)) return fail(v, "invalid lane index");
      break;
    case WG_IMM_MEM0:
    case WG_IMM_MEM_MEM:
      if (!multi_memory(v) && in->wide) return wg_fail(v->d, WG_ERROR_MALFORMED, v->at, "zero byte expected");
      if (!need_memory(v, in->mem)) return false;
      if (info->imm == WG_IMM_MEM_MEM && !need_memory(v, in->mem2)) return false;
      break;
    case WG_IMM_DATA_MEM:
      if (!multi_memory(v) && in->wide) return wg_fail(v->d, WG_ERROR_MALFORMED, v->at, "zero byte expected");
      if (!need_memory(v, in->mem) || !need_data(v, in->a)) return false;
      break;
    case WG_IMM_DATA:
      if (!need_data(v, in->a)) return false;
      break;
    case WG_IMM_LANE:
      if (in->lane >= info->a) return fail(v, "invalid lane index");
      break;
    case WG_IMM_SHUFFLE:
      for (int i = 0; i < 16; i++)
        if (in->vec[i] >= 32) return fail(v, "invalid lane index");
      break;
    default:
      break;
  }
  const wg_sig *s = &info->sig;
  for (int i = s->np; i-- > 0;)
    if (!pop_expect(v, s->p[i])) return false;
  return s->nr == 0 || push(v, s->r);
}

void wg_func_local_types(const wg_module *m, uint32_t func, uint8_t *types) {
  const wg_funcdef *f = &m->funcs[func];
  const wg_functype *ft = &m->types[f->type];
  if (ft->nparams) memcpy(types, ft->params, ft->nparams);
  uint32_t n = ft->nparams;
  /* The declarations were checked by the decoder; re-read them unchecked. */
  wg_diag ignored = {0};
  wg_reader r = {f->body.ptr, f->body.ptr + f->code_offset, m->bytes, &ignored, WG_MSG_EOF_SECTION};
  uint32_t groups, count;
  uint8_t t;
  if (!rd_u32(&r, &groups)) return;
  for (uint32_t g = 0; g < groups; g++) {
    if (!rd_u32(&r, &count) || !rd_u8(&r, &t)) return;
    memset(types + n, t, count);
    n += count;
  }
}

bool wg_validate_func(wg_code_validator *v, uint32_t func, wg_diag *d) {
  const wg_module *m = v->m;
  const wg_funcdef *f = &m->funcs[func];
  const wg_functype *ft = &m->types[f->type];
  v->d = d;
  v->at = f->body.offset;
  v->nvals = v->nctrls = 0;
  v->nlocals = ft->nparams + f->locals_count;
  if (!grow((void **)&v->locals, &v->cap_locals, v->nlocals + 1, 1)) return oom(v);
  wg_func_local_types(m, func, v->locals);
  if (!push_ctrl(v, K_FUNC, 0, NULL, ft->nresults, ft->results)) return false;

  wg_reader r = {f->body.ptr + f->code_offset, f->body.ptr + f->body.len, m->bytes, d, WG_MSG_EOF_SECTION};
  bool done = false;
  while (!done) {
    wg_instr in;
    if (!wg_instr_read(&r, &in)) return false;
    v->at = in.offset;
    if (((in.op == WG_OP_THROW || in.op == WG_OP_THROW_REF || in.op == WG_OP_TRY_TABLE) &&
         !(m->features & WG_FEATURE_EXCEPTIONS)) ||
        ((in.op == WG_OP_RETURN_CALL || in.op == WG_OP_RETURN_CALL_INDIRECT) && !(m->features & WG_FEATURE_TAIL_CALL)))
      return wg_fail(d, WG_ERROR_MALFORMED, in.offset, "illegal opcode");
    if (!(m->features & WG_FEATURE_EXCEPTIONS) && !exnref_ok(&in, d)) return false;
    const wg_opinfo *info = &wg_ops[in.op];
    bool ok;
    if (info->sig.np != 0xFF) {
      ok = check_fixed(v, &in, info);
    } else {
      switch (in.op) {
        case WG_OP_DROP:
        case WG_OP_SELECT:
        case WG_OP_SELECT_T:
        case WG_OP_LOCAL_GET:
        case WG_OP_LOCAL_SET:
        case WG_OP_LOCAL_TEE:
        case WG_OP_GLOBAL_GET:
        case WG_OP_GLOBAL_SET:
        case WG_OP_REF_NULL:
        case WG_OP_REF_IS_NULL:
        case WG_OP_REF_FUNC:
          ok = check_variable(v, &in);
          break;
        case WG_OP_TABLE_GET:
        case WG_OP_TABLE_SET:
        case WG_OP_TABLE_SIZE:
        case WG_OP_TABLE_GROW:
        case WG_OP_TABLE_FILL:
        case WG_OP_TABLE_COPY:
        case WG_OP_TABLE_INIT:
        case WG_OP_ELEM_DROP:
          ok = check_table_op(v, &in);
          break;
        default:
          ok = check_control(v, &in, &done);
          break;
      }
    }
    if (!ok) return false;
  }
  if (!rd_done(&r)) return wg_fail(d, WG_ERROR_MALFORMED, rd_offset(&r), "section size mismatch");
  return true;
}
