/*
 * simd.h: the semantics of the 0xFD (SIMD) instructions for the interpreter
 * (simd.c), one C function per instruction, found by wg_op.
 *
 * A v128 value occupies two adjacent 8-byte slots (low lanes first, the
 * bytes in wasm's little-endian lane order). The compiler emits one of three
 * IR instructions for a SIMD instruction (ir.h), each carrying the function:
 *
 *   IR_SIMD      [fn] [a, b] [c, dst]                 fn(fp, ops)
 *   IR_SIMD_IMM  [fn] [a, b] [-, dst] [imm lo] [imm hi] (i8x16.shuffle: lanes)
 *   IR_SIMD_MEM  [fn] [addr, v] [size | lane << 8, dst] [offset]
 *                fn(fp, ops, memory + effective address), after the bounds check
 *
 * where ops points at the cell after the handler, a/b/c are operand slots in
 * the wasm order (scalar operands are one slot), dst the result slot, and
 * for lane instructions without a third operand `c` is the lane index.
 * Every function reads all its operands before it writes its result, so a
 * result may overwrite an operand.
 */
#ifndef WG_SIMD_H
#define WG_SIMD_H

#include "runtime.h"

typedef struct wg_simd_impl {
  wg_simd_fn *fn;      /* IR_SIMD / IR_SIMD_IMM */
  wg_simd_mem_fn *mem; /* IR_SIMD_MEM: loads and stores */
  uint8_t size;        /* bytes a memory instruction accesses */
} wg_simd_impl;

/* The implementation of SIMD instruction `op` (a wg_op), or NULL when `op`
 * is not a SIMD instruction (or is v128.const, which compiles to constants). */
const wg_simd_impl *wg_simd_impl_of(unsigned op);

#endif
