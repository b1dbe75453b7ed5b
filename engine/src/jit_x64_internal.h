/*
 * jit_x64_internal.h: what the files of the compiled tier's x86-64 back end
 * share (internal; see jit_x64.c for the register conventions):
 *   jit_x64.c       entry and unwinding, function prologue, pin choice, the
 *                   per-function driver and wg_jit_compile_arch
 *   jit_x64_emit.c  the instruction dispatcher: constants, copies, branches,
 *                   select, globals, conversions without arithmetic
 *   jit_x64_call.c  calls (frame push, same-instance, direct and generic
 *                   paths, their linking), fuel and deadline checks
 *   jit_x64_mem.c   linear memory: loads, stores, bounds checks, the
 *                   instructions run by wg_jit_complex, memory reloads
 *   jit_x64_num.c   integer and float arithmetic, comparisons, numeric
 *                   helpers
 *   jit_x64_simd.c  SIMD: inline SSE sequences, else simd.c's functions
 * The encoder and register cache (jit_x64_asm.h) are static inline.
 */
#ifndef WG_JIT_X64_INTERNAL_H
#define WG_JIT_X64_INTERNAL_H

#include "jit.h"

#ifdef WG_JIT_NATIVE
#include "jit_x64_asm.h"

/* The condition code of comparison k (eq ne lt_s lt_u gt_s gt_u le_s le_u
 * ge_s ge_u: the order of the IR's comparisons). */
static inline int cmp_cc(unsigned k) {
  static const int cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};
  return cc[k];
}

/* Emits instruction `op` at code->cells[i] of a function of m; *len gets
 * its length in cells. false with *why when the tier cannot compile it. */
bool wg_x64_emit(J *j, const wg_module *m, const wg_code *code, uint32_t i, unsigned op, uint32_t *len,
                 const char **why);

/* Loads, stores and the instructions wg_jit_complex runs (pc: the
 * instruction's first operand cell, A and B its first two operands); false
 * when op is none of them (nothing emitted). */
bool wg_x64_emit_memory(J *j, bool has_mem, const wg_cell *pc, int32_t A, int32_t B, unsigned op, uint32_t *len);
/* Reloads r13/r14 (memory 0's base and size) from the instance in r15. */
void wg_x64_reload_mem(J *j);
/* The address of an n-byte access to memory 0 at slot addr + offset: rax
 * (zero-extended) and the returned displacement, [r13 + rax + disp];
 * bounds-checked (trap at pc) unless j->guard allows a guard-page access,
 * then *site is set and the caller records the access (site_add). */
int32_t wg_x64_mem_addr(J *j, int32_t addr, uint64_t offset, unsigned n, const wg_cell *pc, bool *site);

/* IR_SIMD, IR_SIMD_IMM, IR_SIMD_MEM, IR_GLOBAL_GET/SET_V128 (pc: the cell
 * after the handler); false with *why when it cannot be compiled. */
bool wg_x64_emit_simd(J *j, bool has_mem, const wg_cell *pc, unsigned op, uint32_t *len, const char **why);

/* Numeric instructions (integer, float, conversions, comparisons), inline
 * or through a numeric.h helper; false with *why when op has neither. */
bool wg_x64_emit_numeric(J *j, const wg_cell *pc, int32_t A, int32_t B, unsigned op, uint32_t *len,
                         const char **why);

/* --fuel < 0 || epoch >= deadline: the interrupt stub (pc: where the
 * interpreter continues). */
void wg_x64_check_interrupt(J *j, const wg_cell *pc);
/* A call of the function in rax (call_indirect) or of function index A
 * (call), arguments at fp + argbase. */
void wg_x64_emit_call(J *j, const wg_cell *call_pc, const wg_cell *ret_pc, int32_t argbase, bool has_mem);
void wg_x64_emit_direct_call(J *j, const wg_cell *call_pc, const wg_cell *ret_pc, int32_t A, int32_t argbase,
                             bool has_mem, int32_t callee);
/* Links the batch's direct call sites once every function is placed
 * (pos[k]: the entry of batch function k, SIZE_MAX when not compiled). */
void wg_x64_link_direct_calls(J *j, const size_t *pos);

#endif
#endif
