/*
 * interp.c: the interpreter for the slot IR (ir.h), with direct-threaded
 * dispatch (computed goto: every cell holds the next handler's address).
 *
 * Registers of the loop: pc (the current instruction's operands), fp (the
 * frame's slot 0), inst (the running function's instance), membase/memsize
 * (its memory 0, reloaded after calls, returns and memory.grow). Wasm calls
 * push a wg_frame on the store's frame stack and never recurse in C; only
 * host functions that call back into wasm re-enter wg_interp_call.
 * Semantics: spec 4.4 (instructions) with numeric.h for the operators C does
 * not give exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "jit.h"
#include "numeric.h"
#include "runtime.h"

static wg_trap *run(wg_store *s, wg_func *f, wg_slot *fp, const void *const **table, bool resume);

/* The handler table is a constant array inside run() (label addresses are
 * link-time constants), so handing it out needs no initialisation. */
const void *const *wg_interp_handlers(void) {
  const void *const *table = NULL;
  run(NULL, NULL, NULL, &table, false);
  return table;
}

/* Calls a host function with its arguments in fp[0..]; results go to fp[0..]. */
wg_trap *wg_host_call(wg_store *s, wg_func *f, wg_slot *fp, wg_instance *caller) {
  uint32_t np = f->type.nparams, nr = f->type.nresults;
  wg_val small[16];
  wg_val *vals = np + nr <= 16 ? small : malloc(((size_t)np + nr) * sizeof *vals);
  if (!vals) return wg_trap_new(WG_TRAP_RESOURCE, NULL);
  wg_slots_to_vals(np, f->type.params, fp, vals);
  for (uint32_t i = 0; i < nr; i++) {
    memset(&vals[np + i], 0, sizeof vals[0]);
    vals[np + i].kind = f->type.results[i];
  }
  wg_slot *saved_top = s->stack_top;
  uint32_t ps = wg_slot_count(np, f->type.params), rs = wg_slot_count(nr, f->type.results);
  s->stack_top = fp + (ps > rs ? ps : rs);
  wg_trap *t = f->host(f->env, caller, vals, vals + np);
  s->stack_top = saved_top;
  if (!t) {
    /* A host function may have changed a result's kind: keep the declared
     * layout (the results' slots are the declared types'). */
    for (uint32_t i = 0; i < nr; i++) vals[np + i].kind = f->type.results[i];
    wg_vals_to_slots(nr, vals + np, fp);
  }
  if (vals != small) free(vals);
  return t;
}

wg_trap *wg_interp_call(wg_store *s, wg_func *f, wg_slot *fp) { return run(s, f, fp, NULL, false); }

wg_trap *wg_interp_resume(wg_store *s) { return run(s, NULL, NULL, NULL, true); }

/* Whether the activation that started at base_depth may suspend (only the
 * outermost, outside start functions). */
static bool can_suspend(const wg_store *s, uint32_t base_depth) { return base_depth == 0 && !s->no_suspend; }

#define NEXT() goto *(pc++)->op
#define A (pc[0].s.a)
#define B (pc[0].s.b)
#define C (pc[1].s.a)
#define D (pc[1].s.b)
#define TRAP(code)      \
  do {                  \
    trap_code = (code); \
    goto trap;          \
  } while (0)
#define RELOAD_MEM()                                   \
  do {                                                 \
    mem0 = inst->module->nmems ? inst->mems[0] : NULL; \
    membase = mem0 ? mem0->data : NULL;                \
    memsize = mem0 ? mem0->size : 0;                   \
  } while (0)

/* A bulk operation (bulk.c); when it stops between chunks, bulk_stop. */
#define BULK(call)                           \
  do {                                       \
    if ((trap_code = (call))) goto bulk_stop; \
  } while (0)

/* Operators, by shape. x, y are the operands; the expression is the result. */
#define UN(ID, TIN, FIN, FOUT, EXPR) \
  L_##ID : {                         \
    TIN x = fp[A].FIN;               \
    fp[B].FOUT = (EXPR);             \
    pc += 1;                         \
    NEXT();                          \
  }
#define BIN(ID, T, FIN, FOUT, EXPR)     \
  L_##ID : {                            \
    T x = fp[A].FIN, y = fp[B].FIN;     \
    fp[C].FOUT = (EXPR);                \
    pc += 2;                            \
    NEXT();                             \
  }
/* Integer division and remainder: a zero divisor traps, and OVERFLOW names
 * signed division's other trap (INT_MIN / -1); rem_s by -1 is 0 (C's % would
 * be undefined there). */
#define DIVOP(ID, T, F, OVERFLOW, EXPR)                 \
  L_##ID : {                                             \
    T x = fp[A].F, y = fp[B].F;                          \
    if (y == 0) TRAP(WG_TRAP_INT_DIV_BY_ZERO);          \
    if (OVERFLOW) TRAP(WG_TRAP_INT_OVERFLOW);           \
    fp[C].F = (EXPR);                                    \
    pc += 2;                                             \
    NEXT();                                              \
  }
/* Trapping float-to-int: CHECK(x) must hold, else "invalid conversion" for
 * NaN and "integer overflow" otherwise. */
#define TRUNC(ID, TIN, FIN, FOUT, CHECK, TOUT)                                        \
  L_##ID : {                                                                         \
    TIN x = fp[A].FIN;                                                               \
    if (!CHECK((double)x)) TRAP(x != x ? WG_TRAP_INVALID_CONVERSION : WG_TRAP_INT_OVERFLOW); \
    fp[B].FOUT = (TOUT)x;                                                            \
    pc += 1;                                                                         \
    NEXT();                                                                          \
  }
#define LOAD(ID, T, N, FOUT, TOUT)                     \
  L_##ID : {                                           \
    uint64_t ea = (uint64_t)fp[A].u32 + pc[1].u64;     \
    if (ea + N > memsize) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS); \
    T v;                                               \
    memcpy(&v, membase + ea, N);                       \
    fp[B].FOUT = (TOUT)v;                              \
    pc += 2;                                           \
    NEXT();                                            \
  }
#define STORE(ID, T, N, FIN)                           \
  L_##ID : {                                           \
    uint64_t ea = (uint64_t)fp[A].u32 + pc[1].u64;     \
    if (ea + N > memsize) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS); \
    T v = (T)fp[B].FIN;                                \
    memcpy(membase + ea, &v, N);                       \
    pc += 2;                                           \
    NEXT();                                            \
  }

/* The operator tables are numeric.h's (shared with the compiled tier).
 * Integer binary operators without traps get a register form (BIN) and a
 * form with a constant right operand (BINI, IR_IMM_BASE + op); float
 * binary operators too (FBINI: the constant's bit pattern is the
 * immediate). */
#define BINI(ID, T, FIN, FOUT, EXPR) \
  L_##ID##_I : {                     \
    T x = fp[A].FIN, y = (T)pc[1].u64; \
    fp[B].FOUT = (EXPR);             \
    pc += 2;                         \
    NEXT();                          \
  }
#define HBIN(ID, ...) H(ID), [IR_IMM_BASE + WG_OP_##ID] = &&L_##ID##_I,
#define FBINI(ID, T, FIN, FOUT, EXPR)              \
  L_##ID##_I : {                                   \
    wg_slot imm_ = {.u64 = pc[1].u64};             \
    T x = fp[A].FIN, y = imm_.FIN;                 \
    fp[B].FOUT = (EXPR);                           \
    pc += 2;                                       \
    NEXT();                                        \
  }
#define HFBINI(ID, ...) H(ID), [IR_IMM_BASE + WG_OP_##ID] = &&L_##ID##_I,
#define HOP(ID, ...) H(ID),
/* Fused compare-and-branch on i32: [a, b] [target] and [a, imm32] [target]. */
#define I32_COMPARES(X) \
  X(EQ, uint32_t, ==) X(NE, uint32_t, !=) X(LT_S, int32_t, <) X(LT_U, uint32_t, <) X(GT_S, int32_t, >) \
  X(GT_U, uint32_t, >) X(LE_S, int32_t, <=) X(LE_U, uint32_t, <=) X(GE_S, int32_t, >=) X(GE_U, uint32_t, >=)
#define BRC(NAME, T, OPR)                                           \
  L_BRC_##NAME : pc = (T)fp[A].u32 OPR (T)fp[B].u32 ? pc[1].target : pc + 2; \
  NEXT();                                                          \
  L_BRCI_##NAME : pc = (T)fp[A].u32 OPR (T)(uint32_t)B ? pc[1].target : pc + 2; \
  NEXT();
#define HBRC(NAME, T, OPR) [IR_BRC_##NAME] = &&L_BRC_##NAME, [IR_BRCI_##NAME] = &&L_BRCI_##NAME,

static wg_trap *run(wg_store *s, wg_func *f, wg_slot *fp, const void *const **table, bool resume) {
#define H(ID) [WG_OP_##ID] = &&L_##ID
#define HI(ID) [ID] = &&L_##ID
  static const void *const labels[IR_COUNT] = {
      HI(IR_CONST), HI(IR_COPY), HI(IR_BR), HI(IR_BR_IF), HI(IR_BR_UNLESS), HI(IR_BR_TABLE), HI(IR_CALL),
      HI(IR_CALL_INDIRECT), HI(IR_ENTER), HI(IR_LOOP), HI(IR_RETURN), HI(IR_EXIT), H(UNREACHABLE), H(SELECT),
      H(GLOBAL_GET), H(GLOBAL_SET), H(REF_IS_NULL), H(REF_FUNC), H(TABLE_GET), H(TABLE_SET), H(TABLE_SIZE),
      H(TABLE_GROW), H(TABLE_FILL), H(TABLE_COPY), H(TABLE_INIT), H(ELEM_DROP), H(MEMORY_SIZE), H(MEMORY_GROW),
      H(MEMORY_FILL), H(MEMORY_COPY), H(MEMORY_INIT), H(DATA_DROP),
      H(I32_LOAD), H(I64_LOAD), H(F32_LOAD), H(F64_LOAD), H(I32_LOAD8_S), H(I32_LOAD8_U), H(I32_LOAD16_S),
      H(I32_LOAD16_U), H(I64_LOAD8_S), H(I64_LOAD8_U), H(I64_LOAD16_S), H(I64_LOAD16_U), H(I64_LOAD32_S),
      H(I64_LOAD32_U), H(I32_STORE), H(I64_STORE), H(F32_STORE), H(F64_STORE), H(I32_STORE8), H(I32_STORE16),
      H(I64_STORE8), H(I64_STORE16), H(I64_STORE32),
      WG_NUMERIC_UNOPS(HOP) WG_NUMERIC_INT_BINOPS(HBIN) WG_NUMERIC_FLOAT_BINOPS(HFBINI) WG_NUMERIC_DIVOPS(HOP)
      WG_NUMERIC_TRUNCS(HOP) I32_COMPARES(HBRC) HI(IR_BR_EQZ), HI(IR_BR_NEZ),
      HI(IR_SIMD), HI(IR_SIMD_IMM), HI(IR_SIMD_MEM), HI(IR_GLOBAL_GET_V128),
      HI(IR_GLOBAL_SET_V128), HI(IR_MEMX_LOAD), HI(IR_MEMX_STORE), HI(IR_MEMX_SIZE), HI(IR_MEMX_GROW),
      HI(IR_MEMX_FILL), HI(IR_MEMX_COPY), HI(IR_MEMX_INIT), HI(IR_SIMD_MEMX), HI(IR_THROW), HI(IR_THROW_REF),
      HI(IR_RETURN_CALL), HI(IR_RETURN_CALL_INDIRECT),
  };
  if (table) {
    *table = labels;
    return NULL;
  }

  /* A resumed call was the outermost activation when it suspended. */
  const uint32_t base_depth = resume ? 0 : s->depth;
  wg_trap_code trap_code = WG_TRAP_UNREACHABLE;
  const char *trap_msg = NULL;
  /* Static: a suspended call returns here from another run() invocation. */
  static const wg_cell exit_cell = {.op = &&L_IR_EXIT};
  wg_instance *inst;
  wg_memory *mem0;
  uint8_t *membase;
  uint64_t memsize;
  const wg_cell *pc;
  wg_func *callee;
  wg_slot *new_fp;
  wg_exn *exn;           /* the exception being thrown (throw_exn) */
  const void *jit_entry; /* the compiled tier (jit.h) */
  wg_func *jit_func;
  wg_slot *jit_fp;

  if (resume) {
    pc = s->susp.pc;
    fp = s->susp.fp;
    inst = s->frames[s->depth].func->inst;
    RELOAD_MEM();
    NEXT();
  }
  inst = f->inst;
  if (s->depth >= s->frames_cap && !wg_store_grow_frames(s)) return wg_trap_new(WG_TRAP_STACK_EXHAUSTED, NULL);
  const wg_code *code = wg_store_compile(s, inst->module, f->index, &trap_msg);
  if (!code) return wg_trap_new(WG_TRAP_UNSUPPORTED, trap_msg);
  s->frames[++s->depth] = (wg_frame){&exit_cell, fp, f};
  pc = code->cells;
  RELOAD_MEM();
  if (s->jit_on && (jit_entry = wg_jit_entry(s, inst->module, code))) {
    jit_func = f;
    jit_fp = fp;
    pc = &exit_cell;
    goto jit_run;
  }
  NEXT();

  /* ------------------------------------------------------------ control */
L_IR_CONST:
  fp[B].u64 = pc[1].u64;
  pc += 2;
  NEXT();
L_IR_COPY:
  fp[B].u64 = fp[A].u64;
  pc += 1;
  NEXT();
L_IR_BR:
  pc = pc[0].target;
  NEXT();
L_IR_BR_IF:
  pc = fp[A].i32 ? pc[1].target : pc + 2;
  NEXT();
L_IR_BR_UNLESS:
  pc = fp[A].i32 ? pc + 2 : pc[1].target;
  NEXT();
L_IR_BR_TABLE: {
  uint32_t i = fp[A].u32, n = (uint32_t)B;
  pc = pc[1 + (i < n ? i : n)].target;
  NEXT();
}
L_UNREACHABLE:
  TRAP(WG_TRAP_UNREACHABLE);
L_IR_LOOP:
  if (--s->fuel < 0 || atomic_load_explicit(s->epoch, memory_order_relaxed) >= s->deadline) goto interrupt;
  NEXT();
interrupt:
  /* Fuel or deadline, checked together on the fast path. */
  if (s->fuel < 0) {
    if (s->fuel_on) {
      s->fuel = 0;
      TRAP(WG_TRAP_OUT_OF_FUEL);
    }
    s->fuel = INT64_MAX; /* metering off: the counter only wrapped */
  }
  if (atomic_load_explicit(s->epoch, memory_order_relaxed) >= s->deadline) {
    if (s->yield && can_suspend(s, base_depth)) { /* time slice over: park here, continue at pc */
      wg_trap *t = wg_trap_new(WG_TRAP_YIELDED, NULL);
      if (!t) TRAP(WG_TRAP_RESOURCE);
      s->susp.active = true;
      s->susp.pc = pc;
      s->susp.fp = fp;
      s->susp.host = NULL;
      s->susp.host_fp = NULL;
      return t;
    }
    TRAP(WG_TRAP_INTERRUPTED);
  }
  NEXT();
L_IR_ENTER: {
  /* The frame must fit the value stack; declared locals start at zero. */
  if ((size_t)(s->stack_end - fp) < (size_t)C) TRAP(WG_TRAP_STACK_EXHAUSTED);
  for (int32_t i = 0; i < B; i++) fp[A + i].u64 = 0;
  pc += 2;
  if (--s->fuel < 0 || atomic_load_explicit(s->epoch, memory_order_relaxed) >= s->deadline) goto interrupt;
  NEXT();
}
L_IR_CALL:
  callee = inst->funcs[A];
  new_fp = fp + B;
  pc += 1;
  goto call;
L_IR_CALL_INDIRECT: {
  wg_table *t = inst->tables[C];
  uint32_t i = fp[D].u32;
  if (i >= t->size) TRAP(WG_TRAP_UNDEFINED_ELEMENT);
  callee = t->elems[i];
  if (!callee) TRAP(WG_TRAP_UNINITIALIZED_ELEMENT);
  if (callee->type_id != inst->type_ids[A]) TRAP(WG_TRAP_INDIRECT_CALL_TYPE);
  new_fp = fp + B;
  pc += 2;
  goto call;
}
L_IR_RETURN_CALL:
  callee = inst->funcs[A];
  new_fp = fp + B;
  pc += 1;
  goto tail_call;
L_IR_RETURN_CALL_INDIRECT: {
  wg_table *t = inst->tables[C];
  uint32_t i = fp[D].u32;
  if (i >= t->size) TRAP(WG_TRAP_UNDEFINED_ELEMENT);
  callee = t->elems[i];
  if (!callee) TRAP(WG_TRAP_UNINITIALIZED_ELEMENT);
  if (callee->type_id != inst->type_ids[A]) TRAP(WG_TRAP_INDIRECT_CALL_TYPE);
  new_fp = fp + B;
  pc += 2;
  goto tail_call;
}
tail_call:
  /* A wasm callee takes over this frame (its arguments move to slot 0, the
   * frame's function becomes the callee: handlers of this function no longer
   * apply) and runs in the interpreter; a host callee is an ordinary call,
   * after which the compiled return sequence runs. */
  if (callee->host) goto call;
  code = callee->code;
  if (!code) {
    code = wg_store_compile(s, callee->inst->module, callee->index, &trap_msg);
    if (!code) TRAP(WG_TRAP_UNSUPPORTED);
    callee->code = code;
  }
  memmove(fp, new_fp, (size_t)wg_slot_count(callee->type.nparams, callee->type.params) * sizeof *fp);
  s->frames[s->depth].func = callee;
  pc = code->cells;
  if (callee->inst != inst) {
    inst = callee->inst;
    RELOAD_MEM();
  }
  NEXT();
call:
  if (s->depth >= s->frames_cap && !wg_store_grow_frames(s)) TRAP(WG_TRAP_STACK_EXHAUSTED);
  if (callee->host) {
    wg_trap *t = wg_host_call(s, callee, new_fp, inst);
    if (t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED) {
      if (can_suspend(s, base_depth)) { /* parked: the frames stay, wg_func_resume continues at pc */
        s->susp.active = true;
        s->susp.pc = pc;
        s->susp.fp = fp;
        s->susp.host = callee;
        s->susp.host_fp = new_fp;
        return t;
      }
      wg_trap_delete(t);
      t = wg_trap_new(WG_TRAP_HOST, base_depth ? "cannot suspend a guest inside a nested call from the host"
                                               : "cannot suspend a guest in a start function");
      if (!t) t = wg_trap_new(WG_TRAP_RESOURCE, NULL);
    }
    if (t && (exn = wg_trap_exn(t)) && exn->store == s) { /* an exception from a nested call: rethrown here */
      wg_trap_delete(t);
      goto throw_exn;
    }
    if (t) {
      wg_trap_add_frames(s, t, base_depth, pc);
      s->depth = base_depth;
      return t;
    }
    RELOAD_MEM();
    NEXT();
  }
  code = callee->code;
  if (!code) {
    code = wg_store_compile(s, callee->inst->module, callee->index, &trap_msg);
    if (!code) TRAP(WG_TRAP_UNSUPPORTED);
    callee->code = code;
  }
  s->frames[++s->depth] = (wg_frame){pc, fp, callee};
  if (s->jit_on && (jit_entry = wg_jit_entry(s, callee->inst->module, code))) {
    jit_func = callee;
    jit_fp = new_fp;
    goto jit_run;
  }
  fp = new_fp;
  pc = code->cells;
  if (callee->inst != inst) {
    inst = callee->inst;
    RELOAD_MEM();
  }
  NEXT();
L_IR_RETURN: {
  const wg_frame *fr = &s->frames[s->depth--];
  pc = fr->ret_pc;
  fp = fr->ret_fp;
  if (s->depth > base_depth) {
    wg_instance *ri = s->frames[s->depth].func->inst;
    if (ri != inst) {
      inst = ri;
      RELOAD_MEM();
    } else if (mem0) {
      membase = mem0->data; /* the callee may have grown it */
      memsize = mem0->size;
    }
  }
  NEXT();
}
L_IR_EXIT:
  return NULL;
jit_run: {
  /* Compiled code runs the callee (its frame is pushed) and returns here. */
  wg_jit_ctx jc;
  switch (wg_jit_run(s, jit_func, jit_entry, jit_fp, base_depth, &jc)) {
    case WG_JIT_DONE: RELOAD_MEM(); NEXT();
    case WG_JIT_TRAP:
      pc = jc.pc;
      trap_code = jc.code;
      trap_msg = jc.msg;
      goto trap;
    case WG_JIT_HOST_TRAP:
      if ((exn = wg_trap_exn(jc.trap)) && exn->store == s) { /* a host call's exception: unwind here */
        wg_trap_delete(jc.trap);
        pc = jc.pc;
        fp = NULL; /* compiled frames have no handlers: the top frame is left at once */
        inst = s->frames[s->depth].func->inst;
        goto throw_exn;
      }
      wg_trap_add_frames(s, jc.trap, base_depth, jc.pc);
      s->depth = base_depth;
      return jc.trap;
    case WG_JIT_SUSPEND: return jc.trap;
    default: /* deoptimised: interpret the top frame from jc.pc on */
      pc = jc.pc;
      fp = jc.fp;
      inst = s->frames[s->depth].func->inst;
      RELOAD_MEM();
      NEXT();
  }
}
  /* ------------------------------------------------------------ exceptions (3.0 4.4.1) */
L_IR_THROW:
  if (!(exn = wg_exn_new(s, inst->tags[A], &fp[B]))) TRAP(WG_TRAP_RESOURCE);
  pc += 1;
  goto throw_exn;
L_IR_THROW_REF:
  if (!(exn = fp[A].ref)) TRAP(WG_TRAP_NULL_EXNREF);
  pc += 1;
  goto throw_exn;
throw_exn:
  /* Unwinding: the innermost handler whose cells contain this frame's
   * position (pc - 1: inside the throw, or inside the call a callee left)
   * and whose clause matches takes the exception; else the frame is left,
   * as IR_RETURN leaves it, and its caller searched. Past this activation's
   * outermost frame, the exception leaves run() as a WG_TRAP_EXCEPTION trap
   * carrying it (a host function returning that trap rethrows it above). */
  for (;;) {
    wg_func *fn = s->frames[s->depth].func;
    const wg_code *fc = wg_compile_func(fn->inst->module, fn->index, NULL);
    for (uint32_t i = 0; fc && i < fc->nhandlers; i++) {
      const wg_handler *h = &fc->handlers[i];
      uint32_t at = (uint32_t)(pc - 1 - fc->cells);
      if (at < h->start || at >= h->end) continue;
      if (h->kind < WG_CATCH_ALL && fn->inst->tags[h->tag] != exn->tag) continue;
      wg_slot *d = fp + h->dst;
      if (h->kind < WG_CATCH_ALL) {
        memcpy(d, exn->vals, (size_t)exn->nslots * sizeof *d);
        d += exn->nslots;
      }
      if (h->kind == WG_CATCH_REF || h->kind == WG_CATCH_ALL_REF) {
        if (!wg_exn_keep(s, exn)) TRAP(WG_TRAP_RESOURCE);
        d->ref = exn;
      } else {
        wg_exn_drop(exn);
      }
      pc = h->pad;
      NEXT();
    }
    if (s->depth == base_depth + 1) {
      wg_trap *t = wg_exn_keep(s, exn) ? wg_trap_at(s, WG_TRAP_EXCEPTION, NULL, base_depth, pc) : NULL;
      if (t) wg_trap_set_exn(t, exn);
      s->depth = base_depth;
      return t ? t : wg_trap_new(WG_TRAP_RESOURCE, NULL);
    }
    const wg_frame *fr = &s->frames[s->depth--];
    pc = fr->ret_pc;
    fp = fr->ret_fp;
    inst = s->frames[s->depth].func->inst;
    RELOAD_MEM();
  }
bulk_stop:
  /* A bulk operation stopped between two chunks (fuel or deadline). Its
   * operands now describe the work left, so continuing at pc - 1 (its
   * handler cell) would finish it; for now it traps. */
  goto trap;
trap: {
  wg_trap *t = wg_trap_at(s, trap_code, trap_msg, base_depth, pc);
  s->depth = base_depth;
  return t ? t : wg_trap_new(trap_code, NULL);
}

  /* ------------------------------------------------------------ variables, references */
L_SELECT:
  fp[D].u64 = fp[C].i32 ? fp[A].u64 : fp[B].u64;
  pc += 2;
  NEXT();
L_GLOBAL_GET:
  fp[B].u64 = inst->globals[A]->value.u64;
  pc += 1;
  NEXT();
L_GLOBAL_SET:
  inst->globals[A]->value.u64 = fp[B].u64;
  pc += 1;
  NEXT();
L_IR_GLOBAL_GET_V128: {
  const wg_global *g = inst->globals[A];
  fp[B] = g->value;
  fp[B + 1] = g->value_hi;
  pc += 1;
  NEXT();
}
L_IR_GLOBAL_SET_V128: {
  wg_global *g = inst->globals[A];
  g->value = fp[B];
  g->value_hi = fp[B + 1];
  pc += 1;
  NEXT();
}
L_REF_IS_NULL:
  fp[B].i32 = fp[A].ref == NULL;
  pc += 1;
  NEXT();
L_REF_FUNC:
  fp[B].ref = inst->funcs[A];
  pc += 1;
  NEXT();

  /* ------------------------------------------------------------ tables (4.4.6) */
L_TABLE_GET: {
  wg_table *t = inst->tables[A];
  uint32_t i = fp[B].u32;
  if (i >= t->size) TRAP(WG_TRAP_TABLE_OUT_OF_BOUNDS);
  fp[C].ref = t->elems[i];
  pc += 2;
  NEXT();
}
L_TABLE_SET: {
  wg_table *t = inst->tables[A];
  uint32_t i = fp[B].u32;
  if (i >= t->size) TRAP(WG_TRAP_TABLE_OUT_OF_BOUNDS);
  t->elems[i] = fp[C].ref;
  pc += 2;
  NEXT();
}
L_TABLE_SIZE:
  fp[B].i32 = (int32_t)inst->tables[A]->size;
  pc += 1;
  NEXT();
L_TABLE_GROW:
  fp[A].i32 = (int32_t)wg_table_grow(inst->tables[B], fp[A + 1].u32, fp[A].ref);
  pc += 1;
  NEXT();
L_TABLE_FILL: {
  wg_table *t = inst->tables[B];
  uint32_t i = fp[A].u32, n = fp[A + 2].u32;
  wg_ref v = fp[A + 1].ref;
  if ((uint64_t)i + n > t->size) TRAP(WG_TRAP_TABLE_OUT_OF_BOUNDS);
  BULK(wg_bulk_fill_refs(s, t->elems, &fp[A].u32, v, &fp[A + 2].u32));
  pc += 1;
  NEXT();
}
L_TABLE_COPY: {
  wg_table *dt = inst->tables[A], *st = inst->tables[B];
  uint32_t d = fp[C].u32, sr = fp[C + 1].u32, n = fp[C + 2].u32;
  if ((uint64_t)sr + n > st->size || (uint64_t)d + n > dt->size) TRAP(WG_TRAP_TABLE_OUT_OF_BOUNDS);
  BULK(wg_bulk_move(s, dt->elems, &fp[C].u32, st->elems, &fp[C + 1].u32, &fp[C + 2].u32, sizeof(wg_ref)));
  pc += 2;
  NEXT();
}
L_TABLE_INIT: {
  wg_table *t = inst->tables[B];
  uint32_t d = fp[C].u32, sr = fp[C + 1].u32, n = fp[C + 2].u32;
  if ((uint64_t)sr + n > inst->elem_sizes[A] || (uint64_t)d + n > t->size) TRAP(WG_TRAP_TABLE_OUT_OF_BOUNDS);
  BULK(wg_bulk_move(s, t->elems, &fp[C].u32, inst->elem_refs[A], &fp[C + 1].u32, &fp[C + 2].u32, sizeof(wg_ref)));
  pc += 2;
  NEXT();
}
L_ELEM_DROP:
  inst->elem_sizes[A] = 0;
  pc += 1;
  NEXT();

  /* ------------------------------------------------------------ memory (4.4.7) */
  LOAD(I32_LOAD, uint32_t, 4, u32, uint32_t)
  LOAD(I64_LOAD, uint64_t, 8, u64, uint64_t)
  LOAD(F32_LOAD, uint32_t, 4, u32, uint32_t)
  LOAD(F64_LOAD, uint64_t, 8, u64, uint64_t)
  LOAD(I32_LOAD8_S, int8_t, 1, i32, int32_t)
  LOAD(I32_LOAD8_U, uint8_t, 1, u32, uint32_t)
  LOAD(I32_LOAD16_S, int16_t, 2, i32, int32_t)
  LOAD(I32_LOAD16_U, uint16_t, 2, u32, uint32_t)
  LOAD(I64_LOAD8_S, int8_t, 1, i64, int64_t)
  LOAD(I64_LOAD8_U, uint8_t, 1, u64, uint64_t)
  LOAD(I64_LOAD16_S, int16_t, 2, i64, int64_t)
  LOAD(I64_LOAD16_U, uint16_t, 2, u64, uint64_t)
  LOAD(I64_LOAD32_S, int32_t, 4, i64, int64_t)
  LOAD(I64_LOAD32_U, uint32_t, 4, u64, uint64_t)
  STORE(I32_STORE, uint32_t, 4, u32)
  STORE(I64_STORE, uint64_t, 8, u64)
  STORE(F32_STORE, uint32_t, 4, u32)
  STORE(F64_STORE, uint64_t, 8, u64)
  STORE(I32_STORE8, uint8_t, 1, u32)
  STORE(I32_STORE16, uint16_t, 2, u32)
  STORE(I64_STORE8, uint8_t, 1, u64)
  STORE(I64_STORE16, uint16_t, 2, u64)
  STORE(I64_STORE32, uint32_t, 4, u64)
L_MEMORY_SIZE:
  fp[B].i32 = (int32_t)mem0->pages;
  pc += 1;
  NEXT();
L_MEMORY_GROW:
  fp[B].i32 = (int32_t)wg_memory_grow_pages(mem0, fp[A].u32);
  membase = mem0->data; /* may move where memories cannot be reserved (see store.c) */
  memsize = mem0->size;
  pc += 1;
  NEXT();
L_MEMORY_FILL: {
  uint32_t d = fp[A].u32, n = fp[A + 2].u32;
  if ((uint64_t)d + n > memsize) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  BULK(wg_bulk_fill(s, membase, &fp[A].u32, (uint8_t)fp[A + 1].u32, &fp[A + 2].u32));
  pc += 1;
  NEXT();
}
L_MEMORY_COPY: {
  uint32_t d = fp[A].u32, sr = fp[A + 1].u32, n = fp[A + 2].u32;
  if ((uint64_t)sr + n > memsize || (uint64_t)d + n > memsize) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  BULK(wg_bulk_move(s, membase, &fp[A].u32, membase, &fp[A + 1].u32, &fp[A + 2].u32, 1));
  pc += 1;
  NEXT();
}
L_MEMORY_INIT: {
  const wg_data *seg = &inst->module->datas[B];
  uint32_t d = fp[A].u32, sr = fp[A + 1].u32, n = fp[A + 2].u32;
  uint64_t segsize = inst->data_dropped[B] ? 0 : seg->init.len;
  if ((uint64_t)sr + n > segsize || (uint64_t)d + n > memsize) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  BULK(wg_bulk_move(s, membase, &fp[A].u32, seg->init.ptr, &fp[A + 1].u32, &fp[A + 2].u32, 1));
  pc += 1;
  NEXT();
}
L_DATA_DROP:
  inst->data_dropped[A] = true;
  pc += 1;
  NEXT();

  /* ------------------------------------------------------------ other memories (multi-memory, memx.c) */
L_IR_MEMX_LOAD:
  if (!wg_memx_load((unsigned)pc[2].s.a, inst->mems[pc[2].s.b], (uint64_t)fp[A].u32 + pc[1].u64, &fp[B]))
    TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  pc += 3;
  NEXT();
L_IR_MEMX_STORE:
  if (!wg_memx_store((unsigned)pc[2].s.a, inst->mems[pc[2].s.b], (uint64_t)fp[A].u32 + pc[1].u64, &fp[B]))
    TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  pc += 3;
  NEXT();
L_IR_MEMX_SIZE:
  fp[B].i32 = (int32_t)inst->mems[A]->pages;
  pc += 1;
  NEXT();
L_IR_MEMX_GROW:
  fp[B].i32 = (int32_t)wg_memory_grow_pages(inst->mems[C], fp[A].u32);
  RELOAD_MEM(); /* the same memory may be imported as memory 0 too */
  pc += 2;
  NEXT();
L_IR_MEMX_FILL: {
  wg_memory *mx = inst->mems[B];
  uint32_t d = fp[A].u32, n = fp[A + 2].u32;
  if ((uint64_t)d + n > mx->size) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  BULK(wg_bulk_fill(s, mx->data, &fp[A].u32, (uint8_t)fp[A + 1].u32, &fp[A + 2].u32));
  pc += 1;
  NEXT();
}
L_IR_MEMX_COPY: {
  wg_memory *dm = inst->mems[A], *sm = inst->mems[B];
  uint32_t d = fp[C].u32, sr = fp[C + 1].u32, n = fp[C + 2].u32;
  if ((uint64_t)sr + n > sm->size || (uint64_t)d + n > dm->size) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  BULK(wg_bulk_move(s, dm->data, &fp[C].u32, sm->data, &fp[C + 1].u32, &fp[C + 2].u32, 1));
  pc += 2;
  NEXT();
}
L_IR_MEMX_INIT: {
  wg_memory *mx = inst->mems[C];
  const wg_data *seg = &inst->module->datas[B];
  uint32_t d = fp[A].u32, sr = fp[A + 1].u32, n = fp[A + 2].u32;
  uint64_t segsize = inst->data_dropped[B] ? 0 : seg->init.len;
  if ((uint64_t)sr + n > segsize || (uint64_t)d + n > mx->size) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  BULK(wg_bulk_move(s, mx->data, &fp[A].u32, seg->init.ptr, &fp[A + 1].u32, &fp[A + 2].u32, 1));
  pc += 2;
  NEXT();
}
L_IR_SIMD_MEMX: {
  wg_memory *mx = inst->mems[pc[4].s.a];
  uint64_t ea = (uint64_t)fp[pc[1].s.a].u32 + pc[3].u64;
  if (ea + (uint32_t)(pc[2].s.a & 0xFF) > mx->size) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  pc[0].simd_mem(fp, pc + 1, mx->data + ea);
  pc += 5;
  NEXT();
}

  /* ------------------------------------------------------------ SIMD (4.4.3, simd.c) */
L_IR_SIMD:
  pc[0].simd(fp, pc + 1);
  pc += 3;
  NEXT();
L_IR_SIMD_IMM:
  pc[0].simd(fp, pc + 1);
  pc += 5;
  NEXT();
L_IR_SIMD_MEM: {
  uint64_t ea = (uint64_t)fp[pc[1].s.a].u32 + pc[3].u64;
  if (ea + (uint32_t)(pc[2].s.a & 0xFF) > memsize) TRAP(WG_TRAP_MEMORY_OUT_OF_BOUNDS);
  pc[0].simd_mem(fp, pc + 1, membase + ea);
  pc += 4;
  NEXT();
}

  /* ------------------------------------------------------------ numeric (4.4.1, 4.3) */
  WG_NUMERIC_UNOPS(UN)
  WG_NUMERIC_INT_BINOPS(BIN)
  WG_NUMERIC_INT_BINOPS(BINI)
  WG_NUMERIC_FLOAT_BINOPS(BIN)
  WG_NUMERIC_FLOAT_BINOPS(FBINI)
  WG_NUMERIC_DIVOPS(DIVOP)
  WG_NUMERIC_TRUNCS(TRUNC)
  I32_COMPARES(BRC)
L_IR_BR_EQZ:
  pc = fp[A].i32 ? pc + 2 : pc[1].target;
  NEXT();
L_IR_BR_NEZ:
  pc = fp[A].i32 ? pc[1].target : pc + 2;
  NEXT();
}
