/*
 * compile_eh.c: the exception-handling instructions of the function compiler
 * (WebAssembly 3.0: try_table, throw, throw_ref; compile.c calls these).
 * A try_table's catch clauses become handler records (wg_handler, ir.h) that
 * the interpreter's unwinder searches; nothing runs on entry to or exit from
 * a try_table. The compiled tier does not unwind: functions with handlers
 * stay in the interpreter (compile.c marks them).
 */
#include "compile.h"

/* A try_table (3.0 4.4.1): a block whose catch clauses become handler
 * records (wg_handler) covering the body's cells. Before the body, one
 * landing pad per clause (skipped by a branch): the unwinder (interp.c)
 * writes the caught values to the clause's slots and jumps to its pad, which
 * branches to the label like br does. For a block or loop label the values
 * go straight to the label's slots; for the function's label (a return)
 * they go to scratch slots above the stack, and the pad moves them to 0.. */
bool cc_try_table(compiler *c, const wg_instr *in) {
  uint32_t np, nr;
  cc_block_arity(c, in, &np, &nr);
  if (cc_top_frame(c)->unreachable || cc_top_frame(c)->dead) return cc_dead_block(c, in, nr);
  if (!cc_materialize_range(c, 0, c->sp)) return false;
  uint32_t outer = c->nframes; /* labels count from the frame around the try_table */
  if (!cc_op(c, IR_BR)) return false;
  uint32_t skip = c->n;
  if (!cc_target(c, 0)) return false;
  wg_diag ignored = {0};
  wg_reader r = {in->vec, c->m->bytes + c->m->len, c->m->bytes, &ignored, WG_MSG_EOF_SECTION};
  uint32_t first = c->npending;
  for (uint32_t i = 0; i < in->b; i++) {
    wg_catch k;
    if (!wg_catch_read(&r, &k)) return cc_fail(c, "malformed try_table");
    frame *lf = &c->frames[outer - 1 - k.label];
    /* Slots the clause delivers: the tag's params, then the exnref. */
    uint32_t n = 0;
    if (k.kind < WG_CATCH_ALL) {
      const wg_functype *ft = &c->m->types[c->m->tags[k.tag]];
      for (uint32_t p = 0; p < ft->nparams; p++) n += cc_width(ft->params[p]);
    }
    if (k.kind == WG_CATCH_REF || k.kind == WG_CATCH_ALL_REF) n++;
    int32_t dst = lf->kind == F_FUNC ? cc_slot_of(c, c->sp) : cc_slot_of(c, lf->height);
    uint32_t top = (uint32_t)dst + n - c->nlocals;
    if (top > c->max_height) c->max_height = top;
    if (!cc_grow((void **)&c->pending, &c->cap_pending, c->npending + 1, sizeof(wg_handler)))
      return cc_fail(c, "out of memory");
    c->pending[c->npending++] = (wg_handler){0, 0, k.kind, k.tag, dst, c->n, NULL};
    if (lf->kind == F_FUNC) {
      for (uint32_t s = 0; s < n; s++)
        if (!cc_op(c, IR_COPY) || !cc_ab(c, dst + (int32_t)s, (int32_t)s)) return false;
      if (!cc_op(c, IR_RETURN)) return false;
    } else if (!cc_op(c, IR_BR) || !cc_label_target(c, lf)) {
      return false;
    }
  }
  c->code[skip].u64 = c->n;
  for (uint32_t i = first; i < c->npending; i++) c->pending[i].start = c->n;
  if (!cc_push_frame(c, F_BLOCK, np, nr, in->bt_kind, in->a)) return false;
  cc_top_frame(c)->npending = c->npending - first;
  c->last_cell = NONE; /* a label: no retargeting across it */
  return true;
}

/* At a try_table's end: its clauses cover the cells up to here. */
bool cc_finish_handlers(compiler *c, frame *f) {
  uint32_t first = c->npending - f->npending;
  if (!cc_grow((void **)&c->handlers, &c->cap_handlers, c->nhandlers + f->npending, sizeof(wg_handler)))
    return cc_fail(c, "out of memory");
  for (uint32_t i = first; i < c->npending; i++) {
    c->pending[i].end = c->n;
    c->handlers[c->nhandlers++] = c->pending[i];
  }
  c->npending = first;
  f->npending = 0;
  return true;
}

/* throw x: the tag's values at base.. (IR_THROW [tagidx, base]). */
bool cc_throw(compiler *c, const wg_instr *in) {
  const wg_functype *ft = &c->m->types[c->m->tags[in->a]];
  uint32_t base = c->sp - ft->nparams;
  if (!cc_materialize_range(c, base, c->sp) || !cc_op(c, IR_THROW) || !cc_ab(c, (int32_t)in->a, cc_slot_of(c, base)))
    return false;
  cc_set_unreachable(c);
  return true;
}

bool cc_throw_ref(compiler *c) {
  int32_t x;
  if (!cc_use(c, c->sp - 1, &x) || !cc_op(c, IR_THROW_REF) || !cc_ab(c, x, 0)) return false;
  cc_set_unreachable(c);
  return true;
}
