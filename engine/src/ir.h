/*
 * ir.h: the internal code the compiler (compile.c) emits and the
 * interpreter (interp.c) runs.
 *
 * Code is an array of 8-byte cells: a handler address (direct threading),
 * then the instruction's operands. Operands are slot indices relative to the
 * frame pointer (params, then locals, then one slot per operand-stack
 * position), packed two per cell as {a, b}, or immediates. Wasm instructions
 * that compute a value keep their wg_op number; the rest of the IR has its
 * own numbers after WG_OP_COUNT. Layouts ("[x, y]" is one cell):
 *
 *   unary          [src, dst]
 *   binary         [a, b] [dst, -]
 *   load           [addr, dst] [offset]          store   [addr, value] [offset]
 *   select         [a, b] [cond, dst]
 *   memory.size    [-, dst]                      memory.grow  [delta, dst]
 *   memory.fill/copy, table.fill/grow: [base, x]  (operands at base, base+1, ...)
 *   memory.init    [base, dataidx]               data.drop    [dataidx, -]
 *   table.get/set  [table, index] [value/dst, -] table.size   [table, dst]
 *   table.copy     [dst table, src table] [base, -]
 *   table.init     [elemidx, table] [base, -]    elem.drop    [elemidx, -]
 *   global.get/set [globalidx, slot]             ref.func     [funcidx, dst]
 *   IR_CONST       [-, dst] [bits]               IR_COPY      [src, dst]
 *   IR_BR          [target]                      IR_BR_IF/UNLESS [cond, -] [target]
 *   IR_BR_TABLE    [index, n] [target] x (n + 1)
 *   IR_CALL        [funcidx, argbase]            (results come back at argbase)
 *   IR_CALL_INDIRECT [typeidx, argbase] [table, index slot]
 *   IR_ENTER       [first local, count to zero] [frame slots, -]
 *   IR_LOOP        (a loop header: fuel and deadline check), IR_RETURN, IR_EXIT,
 *   unreachable: no operands
 */
#ifndef WG_IR_H
#define WG_IR_H

#include "opcodes.h"

enum {
  IR_CONST = WG_OP_COUNT,
  IR_COPY,
  IR_BR,
  IR_BR_IF,
  IR_BR_UNLESS,
  IR_BR_TABLE,
  IR_CALL,
  IR_CALL_INDIRECT,
  IR_ENTER,
  IR_LOOP,
  IR_RETURN,
  IR_EXIT,
  /* Fused i32 compare + conditional branch: [a, b] [target] / [a, imm32] [target]. */
  IR_BRC_EQ, IR_BRC_NE, IR_BRC_LT_S, IR_BRC_LT_U, IR_BRC_GT_S,
  IR_BRC_GT_U, IR_BRC_LE_S, IR_BRC_LE_U, IR_BRC_GE_S, IR_BRC_GE_U,
  IR_BRCI_EQ, IR_BRCI_NE, IR_BRCI_LT_S, IR_BRCI_LT_U, IR_BRCI_GT_S,
  IR_BRCI_GT_U, IR_BRCI_LE_S, IR_BRCI_LE_U, IR_BRCI_GE_S, IR_BRCI_GE_U,
  IR_BR_EQZ, IR_BR_NEZ, /* [x, -] [target] */
  /* SIMD (simd.h): a v128 takes two adjacent slots.
   *   IR_SIMD [fn] [a, b] [c or lane, dst]   IR_SIMD_IMM: also [imm lo] [imm hi]
   *   IR_SIMD_MEM [fn] [addr, v] [size | lane << 8, dst] [offset]
   *   IR_GLOBAL_GET_V128 / IR_GLOBAL_SET_V128 [globalidx, slot] */
  IR_SIMD, IR_SIMD_IMM, IR_SIMD_MEM, IR_GLOBAL_GET_V128, IR_GLOBAL_SET_V128,
  /* Memory instructions on a memory other than 0 (multi-memory; memx.c):
   *   IR_MEMX_LOAD [addr, dst] [offset] [op, mem]   IR_MEMX_STORE [addr, value] [offset] [op, mem]
   *   IR_MEMX_SIZE [mem, dst]                       IR_MEMX_GROW [delta, dst] [mem, -]
   *   IR_MEMX_FILL [base, mem]                      IR_MEMX_COPY [dst mem, src mem] [base, -]
   *   IR_MEMX_INIT [base, dataidx] [mem, -]         IR_SIMD_MEMX: IR_SIMD_MEM's cells then [mem, -]
   * Memory 0 keeps the forms above (the interpreter's registers and the
   * compiled tier serve it); the compiled tier does not take these. */
  IR_MEMX_LOAD, IR_MEMX_STORE, IR_MEMX_SIZE, IR_MEMX_GROW, IR_MEMX_FILL, IR_MEMX_COPY, IR_MEMX_INIT, IR_SIMD_MEMX,
  /* Exception handling: IR_THROW [tagidx, base] (the values at base..),
   * IR_THROW_REF [exnref slot, -]; try_table is wg_code.handlers plus
   * landing pads of ordinary IR (compile.c). */
  IR_THROW, IR_THROW_REF,
  /* Tail calls: IR_RETURN_CALL [funcidx, argbase], IR_RETURN_CALL_INDIRECT
   * [typeidx, argbase] [table, index slot], then a call's return sequence
   * (run only after a host callee). */
  IR_RETURN_CALL, IR_RETURN_CALL_INDIRECT,
  /* Binary operators with a constant right operand, [x, dst] [imm]:
   * IR_IMM_BASE + the wasm op. */
  IR_IMM_BASE,
  IR_COUNT = IR_IMM_BASE + WG_OP_COUNT
};

/* The interpreter's handler addresses, indexed by wg_op / IR_*; NULL for
 * instructions it runs through another IR instruction (SIMD: IR_SIMD*). */
const void *const *wg_interp_handlers(void);

#endif
