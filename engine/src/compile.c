/*
 * compile.c: translates a validated function body into the slot IR of ir.h,
 * once per module function, on its first call.
 *
 * Each operand-stack position has a fixed frame slot (after params and
 * locals). Operands produced by local.get and constants are kept symbolic on
 * the compile-time stack and read in place (a local's own slot) or
 * materialised only when needed, so `local.get a; local.get b; i32.add;
 * local.set c` becomes one three-address add writing c directly. Rules that
 * keep this correct:
 *   - before a local is written, stack entries still naming it are copied;
 *   - at every block, loop and if, all symbolic entries are materialised, so
 *     code emitted inside a branch never has to fix up outer values;
 *   - values flowing to a label are moved to the label's slots in ascending
 *     order (the label's base is never above its sources).
 * Branch targets are cell indices while compiling and become pointers at the
 * end. Validation guarantees types and stack heights, so nothing here
 * re-checks them. The compiler's state and the helpers compile_eh.c (the
 * exception-handling instructions) uses are in compile.h.
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "jit.h"
#include "runtime.h"
#include "simd.h"

bool cc_grow(void **p, uint32_t *cap, uint32_t need, size_t size) {
  if (need <= *cap) return true;
  uint64_t n = *cap ? *cap : 64;
  while (n < need) n *= 2;
  if (n > UINT32_MAX / 2) return false;
  void *q = realloc(*p, (size_t)n * size);
  if (!q) return false;
  *p = q;
  *cap = (uint32_t)n;
  return true;
}

bool cc_fail(compiler *c, const char *why) {
  if (!c->why) c->why = why;
  return false;
}

/* ---------------------------------------------------------------- emission */

static bool cell(compiler *c, wg_cell v) {
  if (c->n == c->cap && !cc_grow((void **)&c->code, &c->cap, c->n + 1, sizeof(wg_cell))) return cc_fail(c, "out of memory");
  c->code[c->n++] = v;
  return true;
}

bool cc_op(compiler *c, unsigned code) {
  c->last_cell = NONE;
  c->last_start = c->n;
  c->last_op = code;
  if (!c->h[code]) return cc_fail(c, "instruction not supported by the interpreter yet (SIMD)");
  return cell(c, (wg_cell){.op = c->h[code]});
}

bool cc_ab(compiler *c, int32_t a, int32_t b) { return cell(c, (wg_cell){.s = {a, b}}); }
static bool u64(compiler *c, uint64_t v) { return cell(c, (wg_cell){.u64 = v}); }

/* Emits a branch target cell holding `index` (a cell index, or a patch link). */
bool cc_target(compiler *c, uint32_t index) {
  if (c->ntargets == c->cap_targets &&
      !cc_grow((void **)&c->targets, &c->cap_targets, c->ntargets + 1, sizeof(uint32_t)))
    return cc_fail(c, "out of memory");
  c->targets[c->ntargets++] = c->n;
  return u64(c, index);
}

/* Records that the cell just emitted (field a or b) is the result slot of the
 * value now at stack position `pos`. */
static void mark_dst(compiler *c, uint8_t field, uint32_t pos) {
  c->last_cell = c->n - 1;
  c->last_field = field;
  c->last_pos = pos;
}

/* ---------------------------------------------------------------- operand stack */

/* The first slot of stack position `pos` (the entries below it are live). */
int32_t cc_slot_of(const compiler *c, uint32_t pos) {
  if (pos == 0) return (int32_t)c->nlocals;
  const entry *e = &c->stack[pos - 1];
  return e->slot + e->w;
}

/* Pushes an entry of value type `t`; max_height counts slots. */
static bool push(compiler *c, uint8_t kind, uint8_t t, uint32_t local, uint64_t bits) {
  if (c->sp == c->cap_stack && !cc_grow((void **)&c->stack, &c->cap_stack, c->sp + 1, sizeof(entry)))
    return cc_fail(c, "out of memory");
  int32_t slot = cc_slot_of(c, c->sp);
  uint8_t w = cc_width(t);
  c->stack[c->sp++] = (entry){kind, w, slot, local, bits};
  uint32_t top = (uint32_t)slot + w - c->nlocals;
  if (top > c->max_height) c->max_height = top;
  return true;
}

static bool push_slot(compiler *c, uint8_t t) { return push(c, E_SLOT, t, 0, 0); }

/* Copies a value of w slots (ascending, so a destination below its source
 * may overlap it). */
static bool emit_copy(compiler *c, int32_t src, int32_t dst, uint8_t w) {
  for (int32_t k = 0; k < w; k++)
    if (!cc_op(c, IR_COPY) || !cc_ab(c, src + k, dst + k)) return false;
  return true;
}

/* Copies a symbolic entry into its own slot. */
static bool materialize(compiler *c, uint32_t pos) {
  entry *e = &c->stack[pos];
  if (e->kind == E_LOCAL) {
    if (!emit_copy(c, (int32_t)e->local, e->slot, e->w)) return false;
  } else if (e->kind == E_CONST) {
    if (!cc_op(c, IR_CONST) || !cc_ab(c, 0, cc_slot_of(c, pos)) || !u64(c, e->bits)) return false;
  }
  e->kind = E_SLOT;
  return true;
}

bool cc_materialize_range(compiler *c, uint32_t from, uint32_t to) {
  for (uint32_t p = from; p < to; p++)
    if (!materialize(c, p)) return false;
  return true;
}

/* The slot to read the entry at `pos` from (constants are materialised). */
bool cc_use(compiler *c, uint32_t pos, int32_t *slot) {
  entry *e = &c->stack[pos];
  if (e->kind == E_LOCAL) {
    *slot = (int32_t)e->local;
    return true;
  }
  if (e->kind == E_CONST && !materialize(c, pos)) return false;
  *slot = cc_slot_of(c, pos);
  return true;
}

/* ---------------------------------------------------------------- labels */

static uint32_t label_arity(const frame *f) { return f->kind == F_LOOP ? f->nparams : f->nresults; }

bool cc_push_frame(compiler *c, uint8_t kind, uint32_t np, uint32_t nr, uint8_t bt_kind, uint32_t bt_a) {
  if (c->nframes == c->cap_frames && !cc_grow((void **)&c->frames, &c->cap_frames, c->nframes + 1, sizeof(frame)))
    return cc_fail(c, "out of memory");
  bool dead = c->nframes && (cc_top_frame(c)->unreachable || cc_top_frame(c)->dead);
  c->frames[c->nframes++] = (frame){kind, false, dead, c->sp - np, np, nr, NONE, 0, NONE, bt_kind, bt_a, 0};
  return true;
}

/* The type of a frame's param or result i. */
static uint8_t frame_type(const compiler *c, const frame *f, bool result, uint32_t i) {
  if (f->bt_kind == 1) return (uint8_t)f->bt_a;
  const wg_functype *t = &c->m->types[f->bt_a];
  return result ? t->results[i] : t->params[i];
}

/* Sets every cell of a patch list to `label`. */
static void patch_list(compiler *c, uint32_t head, uint32_t label) {
  while (head) {
    uint32_t at = head - 1;
    head = (uint32_t)c->code[at].u64;
    c->code[at].u64 = label;
  }
}

/* Emits a branch target to frame f's label. */
bool cc_label_target(compiler *c, frame *f) {
  if (f->kind == F_LOOP) return cc_target(c, f->loop_pc);
  uint32_t link = f->patches;
  f->patches = c->n + 1;
  return cc_target(c, link);
}

/* Whether the top n values must move to reach positions [base, base+n). */
static bool needs_moves(const compiler *c, uint32_t n, uint32_t base) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t pos = c->sp - n + i;
    if (c->stack[pos].kind != E_SLOT || pos != base + i) return true;
  }
  return false;
}

/* Moves the top n values to slots dst0.. without changing the entries
 * (ascending order is safe: no destination is a later source). */
static bool emit_moves_to(compiler *c, uint32_t n, int32_t dst0) {
  int32_t dst = dst0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t pos = c->sp - n + i;
    const entry *e = &c->stack[pos];
    if (e->kind == E_CONST) {
      if (!cc_op(c, IR_CONST) || !cc_ab(c, 0, dst) || !u64(c, e->bits)) return false;
    } else {
      int32_t src = e->kind == E_LOCAL ? (int32_t)e->local : e->slot;
      if (src != dst && !emit_copy(c, src, dst, e->w)) return false;
    }
    dst += e->w;
  }
  return true;
}

/* Returns from the function: results to slots 0.., then IR_RETURN. Results
 * are materialised first because slots 0.. are also the params and locals
 * that symbolic entries may name. */
static bool emit_return(compiler *c) {
  uint32_t n = c->nresults;
  if (!cc_materialize_range(c, c->sp - n, c->sp)) return false;
  return emit_moves_to(c, n, 0) && cc_op(c, IR_RETURN);
}

/* A branch to frame f (not the function frame), values moved first. */
static bool emit_branch(compiler *c, frame *f) {
  uint32_t n = label_arity(f);
  return emit_moves_to(c, n, cc_slot_of(c, f->height)) && cc_op(c, IR_BR) && cc_label_target(c, f);
}

void cc_set_unreachable(compiler *c) {
  frame *f = cc_top_frame(c);
  c->sp = f->height;
  f->unreachable = true;
}

/* ---------------------------------------------------------------- instructions */

bool cc_block_arity(compiler *c, const wg_instr *in, uint32_t *np, uint32_t *nr) {
  *np = 0;
  *nr = in->bt_kind == 1;
  if (in->bt_kind == 2) {
    *np = c->m->types[in->a].nparams;
    *nr = c->m->types[in->a].nresults;
  }
  return true;
}

/* Emits a conditional branch on the top value (popped), taken when it is
 * nonzero (when_true) or zero; the caller appends the target cell. When the
 * value was just computed by an i32 comparison, the comparison is removed and
 * fused into the branch (one dispatch instead of two). */
static bool cond_branch(compiler *c, bool when_true) {
  static const uint8_t negate[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3}; /* eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u */
  uint32_t pos = c->sp - 1;
  if (c->stack[pos].kind == E_SLOT && c->last_cell != NONE && c->last_pos == pos) {
    unsigned lop = c->last_op;
    const wg_cell operands = c->code[c->last_start + 1];
    int k = -1;
    bool imm = false;
    if (lop >= WG_OP_I32_EQ && lop <= WG_OP_I32_GE_U) {
      k = (int)(lop - WG_OP_I32_EQ);
    } else if (lop >= IR_IMM_BASE + WG_OP_I32_EQ && lop <= IR_IMM_BASE + WG_OP_I32_GE_U) {
      k = (int)(lop - IR_IMM_BASE - WG_OP_I32_EQ);
      imm = true;
    }
    if (k >= 0) {
      int32_t b = imm ? (int32_t)(uint32_t)c->code[c->last_start + 2].u64 : operands.s.b;
      c->n = c->last_start;
      c->sp--;
      if (!when_true) k = negate[k];
      return cc_op(c, (imm ? IR_BRCI_EQ : IR_BRC_EQ) + (unsigned)k) && cc_ab(c, operands.s.a, b);
    }
    if (lop == WG_OP_I32_EQZ) {
      c->n = c->last_start;
      c->sp--;
      return cc_op(c, when_true ? IR_BR_EQZ : IR_BR_NEZ) && cc_ab(c, operands.s.a, 0);
    }
  }
  int32_t cond;
  if (!cc_use(c, pos, &cond)) return false;
  c->sp--;
  return cc_op(c, when_true ? IR_BR_IF : IR_BR_UNLESS) && cc_ab(c, cond, 0);
}

bool cc_dead_block(compiler *c, const wg_instr *in, uint32_t nr) {
  uint32_t sp = c->sp;
  c->sp = cc_top_frame(c)->height;
  if (!cc_push_frame(c, F_BLOCK, 0, nr, in->bt_kind, in->a)) return false;
  c->sp = sp;
  cc_top_frame(c)->dead = true;
  return true;
}

static bool do_block(compiler *c, const wg_instr *in) {
  uint32_t np, nr;
  cc_block_arity(c, in, &np, &nr);
  if (cc_top_frame(c)->unreachable || cc_top_frame(c)->dead) return cc_dead_block(c, in, nr);
  if (in->op == WG_OP_IF) {
    /* Materialise what lies below the condition; the condition feeds the branch. */
    if (!cc_materialize_range(c, 0, c->sp - 1) || !cond_branch(c, false)) return false;
    uint32_t patch = c->n;
    if (!cc_target(c, 0) || !cc_push_frame(c, F_IF, np, nr, in->bt_kind, in->a)) return false;
    cc_top_frame(c)->else_patch = patch;
    c->last_cell = NONE;
    return true;
  }
  if (!cc_materialize_range(c, 0, c->sp)) return false;
  uint8_t kind = in->op == WG_OP_BLOCK ? F_BLOCK : F_LOOP;
  if (!cc_push_frame(c, kind, np, nr, in->bt_kind, in->a)) return false;
  frame *f = cc_top_frame(c);
  c->last_cell = NONE; /* a label: no retargeting across it */
  if (kind == F_LOOP) {
    f->loop_pc = c->n;
    if (!cc_op(c, IR_LOOP)) return false; /* every iteration passes the check */
  }
  return true;
}

static bool do_else(compiler *c) {
  frame *f = cc_top_frame(c);
  if (!f->dead) {
    if (!f->unreachable) {
      if (!cc_materialize_range(c, c->sp - f->nresults, c->sp)) return false;
      if (!cc_op(c, IR_BR) || !cc_label_target(c, f)) return false;
    }
    c->code[f->else_patch].u64 = c->n;
    f->else_patch = NONE;
  }
  c->last_cell = NONE;
  /* The params, still in their slots (the entries may have been reused by
   * the then branch: rebuild them). */
  c->sp = f->height;
  for (uint32_t i = 0; i < f->nparams; i++)
    if (!push_slot(c, frame_type(c, f, false, i))) return false;
  f->kind = F_ELSE;
  f->unreachable = false;
  return true;
}

static bool do_end(compiler *c, bool *done) {
  frame *f = cc_top_frame(c);
  if (c->nframes == 1) {
    *done = true;
    return f->unreachable || emit_return(c);
  }
  if (!f->dead) {
    if (!f->unreachable && !cc_materialize_range(c, c->sp - f->nresults, c->sp)) return false;
    if (f->npending && !cc_finish_handlers(c, f)) return false;
    if (f->else_patch != NONE) c->code[f->else_patch].u64 = c->n;
    patch_list(c, f->patches, c->n);
  }
  c->last_cell = NONE;
  c->sp = f->height;
  frame done_frame = *f;
  c->nframes--;
  for (uint32_t i = 0; i < done_frame.nresults; i++)
    if (!push_slot(c, frame_type(c, &done_frame, true, i))) return false;
  return true;
}

static bool do_br(compiler *c, const wg_instr *in) {
  frame *f = &c->frames[c->nframes - 1 - in->a];
  if (in->op == WG_OP_BR) {
    if (!(f->kind == F_FUNC ? emit_return(c) : emit_branch(c, f))) return false;
    cc_set_unreachable(c);
    return true;
  }
  /* br_if: the values stay on the stack for the fall-through path. */
  c->sp--;
  bool direct = f->kind != F_FUNC && !needs_moves(c, label_arity(f), f->height);
  c->sp++;
  if (direct) return cond_branch(c, true) && cc_label_target(c, f);
  /* Anything materialised on the taken path must hold on the other one too. */
  if (f->kind == F_FUNC && !cc_materialize_range(c, c->sp - 1 - c->nresults, c->sp - 1)) return false;
  if (!cond_branch(c, false)) return false;
  uint32_t skip = c->n;
  if (!cc_target(c, 0)) return false;
  if (f->kind == F_FUNC) {
    /* emit_return materialises the results; they stay valid for the fall-through. */
    if (!emit_return(c)) return false;
  } else if (!emit_branch(c, f)) {
    return false;
  }
  c->code[skip].u64 = c->n;
  c->last_cell = NONE;
  return true;
}

static bool do_br_table(compiler *c, const wg_instr *in) {
  int32_t idx;
  /* Stubs run on different paths: materialise everything before the table. */
  if (!cc_materialize_range(c, 0, c->sp)) return false;
  if (!cc_use(c, c->sp - 1, &idx)) return false;
  c->sp--;
  uint32_t n = in->a;
  if (!cc_op(c, IR_BR_TABLE) || !cc_ab(c, idx, (int32_t)n)) return false;
  uint32_t first = c->n;
  wg_diag ignored = {0};
  wg_reader r = {in->vec, c->m->bytes + c->m->len, c->m->bytes, &ignored, WG_MSG_EOF_SECTION};
  /* Reserve the n + 1 target cells, then fill: direct labels, or stubs after the table. */
  for (uint32_t i = 0; i <= n; i++)
    if (!cc_target(c, 0)) return false;
  for (uint32_t i = 0; i <= n; i++) {
    uint32_t depth = in->b;
    if (i < n && !rd_u32(&r, &depth)) return cc_fail(c, "malformed br_table");
    frame *f = &c->frames[c->nframes - 1 - depth];
    uint32_t at = first + i;
    if (f->kind != F_FUNC && !needs_moves(c, label_arity(f), f->height)) {
      if (f->kind == F_LOOP) {
        c->code[at].u64 = f->loop_pc;
      } else {
        c->code[at].u64 = f->patches;
        f->patches = at + 1;
      }
      continue;
    }
    c->code[at].u64 = c->n; /* a stub: moves, then the branch */
    if (!(f->kind == F_FUNC ? emit_return(c) : emit_branch(c, f))) return false;
  }
  cc_set_unreachable(c);
  return true;
}

/* call, call_indirect, and the tail calls: IR_RETURN_CALL(_INDIRECT) with
 * the layout of IR_CALL(_INDIRECT), followed by what a call then return
 * does (the results moved to slots 0.., IR_RETURN), which runs only when
 * the callee is a host function (interp.c). */
static bool do_call(compiler *c, uint32_t typeidx, bool indirect, const wg_instr *in) {
  bool tail = in->op == WG_OP_RETURN_CALL || in->op == WG_OP_RETURN_CALL_INDIRECT;
  const wg_functype *ft = &c->m->types[typeidx];
  int32_t idx = 0;
  if (indirect) {
    if (!cc_use(c, c->sp - 1, &idx)) return false;
    c->sp--;
  }
  uint32_t base = c->sp - ft->nparams;
  if (!cc_materialize_range(c, base, c->sp)) return false;
  if (indirect) {
    if (!cc_op(c, tail ? IR_RETURN_CALL_INDIRECT : IR_CALL_INDIRECT) || !cc_ab(c, (int32_t)in->a, cc_slot_of(c, base)) ||
        !cc_ab(c, (int32_t)in->b, idx))
      return false;
  } else if (!cc_op(c, tail ? IR_RETURN_CALL : IR_CALL) || !cc_ab(c, (int32_t)in->a, cc_slot_of(c, base))) {
    return false;
  }
  c->sp = base;
  for (uint32_t i = 0; i < ft->nresults; i++)
    if (!push_slot(c, ft->results[i])) return false;
  if (!tail) return true;
  if (!emit_return(c)) return false;
  cc_set_unreachable(c);
  return true;
}

static bool do_local_set(compiler *c, uint32_t index, bool tee) {
  uint32_t x = (uint32_t)c->lslot[index];
  /* Entries below the top that still name x must keep the old value. */
  for (uint32_t p = 0; p + 1 < c->sp; p++)
    if (c->stack[p].kind == E_LOCAL && c->stack[p].local == x && !materialize(c, p)) return false;
  uint32_t pos = c->sp - 1;
  entry *e = &c->stack[pos];
  if (e->kind == E_SLOT && c->last_cell != NONE && c->last_pos == pos) {
    /* Retarget the producing instruction to write x directly. */
    if (c->last_field) c->code[c->last_cell].s.b = (int32_t)x;
    else c->code[c->last_cell].s.a = (int32_t)x;
    c->last_cell = NONE;
  } else if (e->kind == E_CONST) {
    if (!cc_op(c, IR_CONST) || !cc_ab(c, 0, (int32_t)x) || !u64(c, e->bits)) return false;
  } else if (!(e->kind == E_LOCAL && e->local == x)) {
    int32_t src = e->kind == E_LOCAL ? (int32_t)e->local : e->slot;
    if (!emit_copy(c, src, (int32_t)x, e->w)) return false;
  }
  c->sp--;
  return !tee || push(c, E_LOCAL, c->ltype[index], x, 0);
}

/* Instructions with operands at base.. (materialised) and no result. */
static bool do_multi(compiler *c, unsigned code, uint32_t n, int32_t x, int32_t y, bool yfirst) {
  uint32_t base = c->sp - n;
  if (!cc_materialize_range(c, base, c->sp) || !cc_op(c, code)) return false;
  bool ok = yfirst ? cc_ab(c, x, y) && cc_ab(c, cc_slot_of(c, base), 0) : cc_ab(c, cc_slot_of(c, base), x);
  c->sp = base;
  return ok;
}

/* SIMD instructions (layouts in simd.h). v128.const becomes two constant
 * stores into its slots (v128 entries are never symbolic constants). */
static bool do_simd(compiler *c, const wg_instr *in) {
  const wg_sig *s = &wg_ops[in->op].sig;
  if (in->op == WG_OP_V128_CONST) {
    uint64_t lo, hi;
    memcpy(&lo, in->vec, 8);
    memcpy(&hi, in->vec + 8, 8);
    if (!push_slot(c, WG_V128)) return false;
    int32_t d = cc_slot_of(c, c->sp - 1);
    return cc_op(c, IR_CONST) && cc_ab(c, 0, d) && u64(c, lo) && cc_op(c, IR_CONST) && cc_ab(c, 0, d + 1) && u64(c, hi);
  }
  const wg_simd_impl *im = wg_simd_impl_of(in->op);
  if (!im) return cc_fail(c, "unknown SIMD instruction");
  int32_t x[3] = {0, 0, 0};
  for (uint32_t k = 0; k < s->np; k++)
    if (!cc_use(c, c->sp - s->np + k, &x[k])) return false;
  c->sp -= s->np;
  int32_t dst = 0;
  if (s->nr) {
    if (!push_slot(c, s->r)) return false;
    dst = cc_slot_of(c, c->sp - 1);
  }
  if (im->mem) {
    if (!cc_op(c, in->mem ? IR_SIMD_MEMX : IR_SIMD_MEM) || !cell(c, (wg_cell){.simd_mem = im->mem}) ||
        !cc_ab(c, x[0], x[1]) || !cc_ab(c, (int32_t)(im->size | (uint32_t)in->lane << 8), dst))
      return false;
    if (s->nr) mark_dst(c, 1, c->sp - 1);
    if (!u64(c, in->offset_imm)) return false;
    return !in->mem || cc_ab(c, (int32_t)in->mem, 0);
  }
  bool shuffle = in->op == WG_OP_I8X16_SHUFFLE;
  if (!cc_op(c, shuffle ? IR_SIMD_IMM : IR_SIMD) || !cell(c, (wg_cell){.simd = im->fn}) || !cc_ab(c, x[0], x[1]) ||
      !cc_ab(c, s->np == 3 ? x[2] : (int32_t)in->lane, dst))
    return false;
  if (s->nr) mark_dst(c, 1, c->sp - 1);
  if (shuffle) {
    uint64_t lo, hi;
    memcpy(&lo, in->vec, 8);
    memcpy(&hi, in->vec + 8, 8);
    uint32_t keep = c->last_cell;
    if (!u64(c, lo) || !u64(c, hi)) return false;
    c->last_cell = keep;
  }
  return true;
}

/* Value instructions typed by the opcode table: unary, binary, loads,
 * stores, select and the memory instructions. */
static bool do_value(compiler *c, const wg_instr *in) {
  const wg_opinfo *info = &wg_ops[in->op];
  const wg_sig *s = &info->sig;
  if (info->prefix == 0xFD) return do_simd(c, in);
  if (info->imm == WG_IMM_MEMARG) {
    /* Memory 0 by the instruction's own handler, others by IR_MEMX_*. */
    int32_t addr, v = 0, mx = (int32_t)in->mem;
    if (s->nr) {
      if (!cc_use(c, c->sp - 1, &addr)) return false;
      c->sp--;
      if (!push_slot(c, s->r)) return false;
      if (!cc_op(c, mx ? IR_MEMX_LOAD : in->op) || !cc_ab(c, addr, cc_slot_of(c, c->sp - 1))) return false;
      mark_dst(c, 1, c->sp - 1);
      return u64(c, in->offset_imm) && (!mx || cc_ab(c, (int32_t)in->op, mx));
    }
    if (!cc_use(c, c->sp - 1, &v) || !cc_use(c, c->sp - 2, &addr)) return false;
    c->sp -= 2;
    return cc_op(c, mx ? IR_MEMX_STORE : in->op) && cc_ab(c, addr, v) && u64(c, in->offset_imm) &&
           (!mx || cc_ab(c, (int32_t)in->op, mx));
  }
  bool mx = in->mem || in->mem2;
  switch (in->op) {
    case WG_OP_MEMORY_SIZE:
      if (!push_slot(c, WG_I32)) return false;
      if (!(mx ? cc_op(c, IR_MEMX_SIZE) && cc_ab(c, (int32_t)in->mem, cc_slot_of(c, c->sp - 1))
               : cc_op(c, in->op) && cc_ab(c, 0, cc_slot_of(c, c->sp - 1))))
        return false;
      mark_dst(c, 1, c->sp - 1);
      return true;
    case WG_OP_MEMORY_GROW:
      if (!mx) break;
      int32_t delta;
      if (!cc_use(c, c->sp - 1, &delta)) return false;
      c->sp--;
      if (!push_slot(c, WG_I32) || !cc_op(c, IR_MEMX_GROW) || !cc_ab(c, delta, cc_slot_of(c, c->sp - 1))) return false;
      mark_dst(c, 1, c->sp - 1);
      return cc_ab(c, (int32_t)in->mem, 0);
    case WG_OP_MEMORY_FILL:
      return do_multi(c, mx ? IR_MEMX_FILL : in->op, 3, (int32_t)in->mem, 0, false);
    case WG_OP_MEMORY_COPY:
      if (mx) return do_multi(c, IR_MEMX_COPY, 3, (int32_t)in->mem, (int32_t)in->mem2, true);
      return do_multi(c, in->op, 3, 0, 0, false);
    case WG_OP_MEMORY_INIT:
      if (!do_multi(c, mx ? IR_MEMX_INIT : in->op, 3, (int32_t)in->a, 0, false)) return false;
      return !mx || cc_ab(c, (int32_t)in->mem, 0);
    case WG_OP_DATA_DROP:
      return cc_op(c, in->op) && cc_ab(c, (int32_t)in->a, 0);
    default:
      break;
  }
  if (s->np == 1 && s->nr == 1) {
    int32_t x;
    if (!cc_use(c, c->sp - 1, &x)) return false;
    c->sp--;
    if (!push_slot(c, s->r) || !cc_op(c, in->op) || !cc_ab(c, x, cc_slot_of(c, c->sp - 1))) return false;
    mark_dst(c, 1, c->sp - 1);
    return true;
  }
  if (s->np == 2 && s->nr == 1 && c->stack[c->sp - 1].kind == E_CONST && c->h[IR_IMM_BASE + in->op]) {
    /* A constant right operand becomes an immediate. */
    int32_t x;
    uint64_t imm = c->stack[c->sp - 1].bits;
    if (!cc_use(c, c->sp - 2, &x)) return false;
    c->sp -= 2;
    if (!push_slot(c, s->r) || !cc_op(c, IR_IMM_BASE + in->op) || !cc_ab(c, x, cc_slot_of(c, c->sp - 1)) || !u64(c, imm))
      return false;
    c->last_cell = c->last_start + 1;
    c->last_field = 1;
    c->last_pos = c->sp - 1;
    return true;
  }
  if (s->np == 2 && s->nr == 1) {
    int32_t x, y;
    if (!cc_use(c, c->sp - 2, &x) || !cc_use(c, c->sp - 1, &y)) return false;
    c->sp -= 2;
    if (!push_slot(c, s->r) || !cc_op(c, in->op) || !cc_ab(c, x, y) || !cc_ab(c, cc_slot_of(c, c->sp - 1), 0)) return false;
    mark_dst(c, 0, c->sp - 1);
    return true;
  }
  if (s->np == 0 && s->nr == 0) return true; /* nop */
  return cc_fail(c, "instruction not supported by the interpreter yet (SIMD)");
}

static bool do_instr(compiler *c, const wg_instr *in, bool *done) {
  int32_t x, y, z;
  switch (in->op) {
    case WG_OP_UNREACHABLE:
      if (!cc_op(c, WG_OP_UNREACHABLE)) return false;
      cc_set_unreachable(c);
      return true;
    case WG_OP_NOP: return true;
    case WG_OP_BLOCK:
    case WG_OP_LOOP:
    case WG_OP_IF: return do_block(c, in);
    case WG_OP_ELSE: return do_else(c);
    case WG_OP_END: return do_end(c, done);
    case WG_OP_BR:
    case WG_OP_BR_IF: return do_br(c, in);
    case WG_OP_BR_TABLE: return do_br_table(c, in);
    case WG_OP_RETURN:
      if (!emit_return(c)) return false;
      cc_set_unreachable(c);
      return true;
    case WG_OP_CALL: return do_call(c, c->m->funcs[in->a].type, false, in);
    case WG_OP_TRY_TABLE: return cc_try_table(c, in);
    case WG_OP_THROW: return cc_throw(c, in);
    case WG_OP_THROW_REF: return cc_throw_ref(c);
    case WG_OP_CALL_INDIRECT: return do_call(c, in->a, true, in);
    case WG_OP_RETURN_CALL: return do_call(c, c->m->funcs[in->a].type, false, in);
    case WG_OP_RETURN_CALL_INDIRECT: return do_call(c, in->a, true, in);
    case WG_OP_DROP: c->sp--; return true;
    case WG_OP_SELECT:
    case WG_OP_SELECT_T:
      if (!cc_use(c, c->sp - 3, &x) || !cc_use(c, c->sp - 2, &y) || !cc_use(c, c->sp - 1, &z)) return false;
      if (c->stack[c->sp - 3].w == 2) {
        /* v128: a select per half, with the same condition (the first
         * writes only the result's low slot, which no later read uses). */
        c->sp -= 3;
        if (!push_slot(c, WG_V128)) return false;
        int32_t d = cc_slot_of(c, c->sp - 1);
        return cc_op(c, WG_OP_SELECT) && cc_ab(c, x, y) && cc_ab(c, z, d) && cc_op(c, WG_OP_SELECT) && cc_ab(c, x + 1, y + 1) &&
               cc_ab(c, z, d + 1);
      }
      c->sp -= 3;
      if (!push_slot(c, WG_I32) || !cc_op(c, WG_OP_SELECT) || !cc_ab(c, x, y) || !cc_ab(c, z, cc_slot_of(c, c->sp - 1)))
        return false;
      mark_dst(c, 1, c->sp - 1);
      return true;
    case WG_OP_LOCAL_GET: return push(c, E_LOCAL, c->ltype[in->a], (uint32_t)c->lslot[in->a], 0);
    case WG_OP_LOCAL_SET: return do_local_set(c, in->a, false);
    case WG_OP_LOCAL_TEE: return do_local_set(c, in->a, true);
    case WG_OP_GLOBAL_GET:
      if (c->m->globals[in->a].type.type == WG_V128) {
        if (!push_slot(c, WG_V128)) return false;
        return cc_op(c, IR_GLOBAL_GET_V128) && cc_ab(c, (int32_t)in->a, cc_slot_of(c, c->sp - 1));
      }
      /* fall through */
    case WG_OP_REF_FUNC:
    case WG_OP_TABLE_SIZE:
      if (!push_slot(c, WG_I32) || !cc_op(c, in->op) || !cc_ab(c, (int32_t)in->a, cc_slot_of(c, c->sp - 1))) return false;
      mark_dst(c, 1, c->sp - 1);
      return true;
    case WG_OP_GLOBAL_SET:
      if (!cc_use(c, c->sp - 1, &x)) return false;
      c->sp--;
      return cc_op(c, c->m->globals[in->a].type.type == WG_V128 ? IR_GLOBAL_SET_V128 : in->op) &&
             cc_ab(c, (int32_t)in->a, x);
    case WG_OP_I32_CONST:
    case WG_OP_I64_CONST:
    case WG_OP_F32_CONST:
    case WG_OP_F64_CONST: return push(c, E_CONST, WG_I64, 0, in->bits);
    case WG_OP_REF_NULL: return push(c, E_CONST, WG_FUNCREF, 0, 0);
    case WG_OP_REF_IS_NULL:
      if (!cc_use(c, c->sp - 1, &x)) return false;
      c->sp--;
      if (!push_slot(c, WG_I32) || !cc_op(c, in->op) || !cc_ab(c, x, cc_slot_of(c, c->sp - 1))) return false;
      mark_dst(c, 1, c->sp - 1);
      return true;
    case WG_OP_TABLE_GET:
      if (!cc_use(c, c->sp - 1, &x)) return false;
      c->sp--;
      if (!push_slot(c, WG_FUNCREF) || !cc_op(c, in->op) || !cc_ab(c, (int32_t)in->a, x) || !cc_ab(c, cc_slot_of(c, c->sp - 1), 0))
        return false;
      mark_dst(c, 0, c->sp - 1);
      return true;
    case WG_OP_TABLE_SET:
      if (!cc_use(c, c->sp - 1, &y) || !cc_use(c, c->sp - 2, &x)) return false;
      c->sp -= 2;
      return cc_op(c, in->op) && cc_ab(c, (int32_t)in->a, x) && cc_ab(c, y, 0);
    case WG_OP_TABLE_GROW:
      if (!do_multi(c, in->op, 2, (int32_t)in->a, 0, false)) return false;
      return push_slot(c, WG_I32); /* the result is written at base */
    case WG_OP_TABLE_FILL: return do_multi(c, in->op, 3, (int32_t)in->a, 0, false);
    case WG_OP_TABLE_COPY:
    case WG_OP_TABLE_INIT: return do_multi(c, in->op, 3, (int32_t)in->a, (int32_t)in->b, true);
    case WG_OP_ELEM_DROP: return cc_op(c, in->op) && cc_ab(c, (int32_t)in->a, 0);
    default: return do_value(c, in);
  }
}

/* ---------------------------------------------------------------- functions */

/* Records that the instruction at byte `offset` compiled to the cells from
 * `first` on, if it emitted any. A fused compare and branch rewrites cells
 * from the compare's start: entries at or past `first` that no longer begin
 * an instruction are dropped first, so the table stays ascending. */
static bool note_offset(compiler *c, uint32_t first, uint32_t offset) {
  if (c->n <= first) return true;
  while (c->noffsets && c->offsets[2 * (c->noffsets - 1)] >= first) c->noffsets--;
  if (!cc_grow((void **)&c->offsets, &c->cap_offsets, 2 * (c->noffsets + 1), sizeof(uint32_t)))
    return cc_fail(c, "out of memory");
  c->offsets[2 * c->noffsets] = first;
  c->offsets[2 * c->noffsets + 1] = offset;
  c->noffsets++;
  return true;
}

/* Lays out params and locals: each gets its first slot, v128 two slots. */
static bool layout_locals(compiler *c, uint32_t func, uint32_t *param_slots) {
  const wg_funcdef *f = &c->m->funcs[func];
  const wg_functype *ft = &c->m->types[f->type];
  size_t n = (size_t)ft->nparams + f->locals_count;
  c->ltype = malloc(n + 1);
  c->lslot = malloc((n + 1) * sizeof *c->lslot);
  if (!c->ltype || !c->lslot) return cc_fail(c, "out of memory");
  wg_func_local_types(c->m, func, c->ltype);
  int32_t slot = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == ft->nparams) *param_slots = (uint32_t)slot;
    c->lslot[i] = slot;
    slot += cc_width(c->ltype[i]);
  }
  if (n == ft->nparams) *param_slots = (uint32_t)slot;
  c->nlocals = (uint32_t)slot;
  return true;
}

static bool compile_body(compiler *c, uint32_t func) {
  const wg_module *m = c->m;
  const wg_funcdef *f = &m->funcs[func];
  const wg_functype *ft = &m->types[f->type];
  uint32_t param_slots = 0;
  if (!layout_locals(c, func, &param_slots)) return false;
  c->nresults = ft->nresults;
  c->last_cell = NONE;
  if (!cc_op(c, IR_ENTER) || !cc_ab(c, (int32_t)param_slots, (int32_t)(c->nlocals - param_slots)) || !cc_ab(c, 0, 0))
    return false;
  if (!cc_push_frame(c, F_FUNC, 0, ft->nresults, 2, f->type)) return false;
  wg_diag ignored = {0};
  wg_reader r = {f->body.ptr + f->code_offset, f->body.ptr + f->body.len, m->bytes, &ignored, WG_MSG_EOF_SECTION};
  /* The entry (stack and interruption checks) stands for the first instruction. */
  if (!note_offset(c, 0, (uint32_t)(r.p - m->bytes))) return false;
  bool done = false;
  while (!done) {
    wg_instr in;
    uint32_t first = c->n, offset = (uint32_t)(r.p - m->bytes);
    if (!wg_instr_read(&r, &in)) return cc_fail(c, "malformed code");
    frame *fr = cc_top_frame(c);
    bool skipping = fr->unreachable || fr->dead;
    bool structural = in.op == WG_OP_BLOCK || in.op == WG_OP_LOOP || in.op == WG_OP_IF || in.op == WG_OP_ELSE ||
                      in.op == WG_OP_TRY_TABLE ||
                      in.op == WG_OP_END;
    if (skipping && !structural) continue;
    if (!do_instr(c, &in, &done) || !note_offset(c, first, offset)) return false;
  }
  /* The frame: params + locals + operand stack (+1 so a callee's frame start
   * is always inside it). */
  c->code[2].s.a = (int32_t)(c->nlocals + c->max_height + 1);
  return true;
}

static void free_compiler(compiler *c) {
  free(c->lslot);
  free(c->ltype);
  free(c->stack);
  free(c->frames);
  free(c->targets);
  free(c->offsets);
  free(c->pending);
  free(c->handlers);
}

static wg_code *compile(const wg_module *m, uint32_t func, const char **why) {
  compiler c = {.m = m, .h = wg_interp_handlers()};
  wg_code *code = NULL;
  if (compile_body(&c, func) && (code = malloc(sizeof *code))) {
    for (uint32_t i = 0; i < c.ntargets; i++) {
      wg_cell *t = &c.code[c.targets[i]];
      t->target = &c.code[t->u64];
    }
    code->cells = c.code;
    code->ncells = c.n;
    code->frame_slots = (uint32_t)c.code[2].s.a;
    code->offsets = c.offsets;
    code->noffsets = c.noffsets;
    for (uint32_t i = 0; i < c.nhandlers; i++) c.handlers[i].pad = &c.code[c.handlers[i].pad_cell];
    code->handlers = c.handlers;
    code->nhandlers = c.nhandlers;
    atomic_init(&code->jit, NULL);
    atomic_init(&code->jit_failed, c.nhandlers > 0); /* the compiled tier does not unwind */
    atomic_init(&code->jit_why, c.nhandlers > 0 ? "exception handlers" : NULL);
    c.code = NULL;
    c.offsets = NULL;
    c.handlers = NULL;
  } else if (why) {
    *why = c.why ? c.why : "out of memory";
  }
  free(c.code);
  free_compiler(&c);
  return code;
}

const wg_code *wg_compile_func(const wg_module *m, uint32_t func, const char **why) {
  _Atomic(wg_code *) *slot = &m->codes[func - m->nfunc_imports];
  wg_code *code = atomic_load_explicit(slot, memory_order_acquire);
  if (code) return code;
  code = compile(m, func, why);
  if (!code) return NULL;
  wg_code *expected = NULL;
  if (!atomic_compare_exchange_strong(slot, &expected, code)) {
    wg_code_free(code);
    return expected;
  }
  return code;
}

void wg_code_free(wg_code *code) {
  if (!code) return;
  wg_jit_free(atomic_load(&code->jit));
  free(code->cells);
  free(code->offsets);
  free(code->handlers);
  free(code);
}

size_t wg_code_offset(const wg_code *code, const wg_cell *pc) {
  if (pc <= code->cells || pc > code->cells + code->ncells || !code->noffsets) return SIZE_MAX;
  uint32_t cell = (uint32_t)(pc - 1 - code->cells);
  /* The last entry starting at or before `cell`. */
  uint32_t lo = 0, hi = code->noffsets;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (code->offsets[2 * mid] <= cell) lo = mid;
    else hi = mid;
  }
  return code->offsets[2 * lo] <= cell ? code->offsets[2 * lo + 1] : SIZE_MAX;
}
