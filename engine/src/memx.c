/*
 * memx.c: loads and stores on a memory other than memory 0 (multi-memory,
 * WebAssembly 3.0 4.4.7), for the interpreter's IR_MEMX_LOAD/STORE. Memory 0
 * keeps one handler per instruction with its base and size in registers;
 * these take the instruction as an operand and switch on it, which costs a
 * little per access but keeps the hot loop's handler table unchanged.
 */
#include <string.h>

#include "opcodes.h"
#include "runtime.h"

bool wg_memx_load(unsigned op, const wg_memory *mem, uint64_t ea, wg_slot *dst) {
  uint32_t n = 1u << wg_ops[op].a;
  if (ea + n > mem->size) return false;
  const uint8_t *p = mem->data + ea;
  uint64_t u = 0;
  memcpy(&u, p, n); /* little-endian host (as everywhere in the engine) */
  switch (op) {
    case WG_OP_I32_LOAD8_S: dst->i32 = (int8_t)u; break;
    case WG_OP_I32_LOAD16_S: dst->i32 = (int16_t)u; break;
    case WG_OP_I64_LOAD8_S: dst->i64 = (int8_t)u; break;
    case WG_OP_I64_LOAD16_S: dst->i64 = (int16_t)u; break;
    case WG_OP_I64_LOAD32_S: dst->i64 = (int32_t)u; break;
    case WG_OP_I32_LOAD: case WG_OP_F32_LOAD: case WG_OP_I32_LOAD8_U: case WG_OP_I32_LOAD16_U:
      dst->u64 = 0; /* as the memory-0 handlers leave a 32-bit result's slot */
      dst->u32 = (uint32_t)u;
      break;
    default: dst->u64 = u; break;
  }
  return true;
}

bool wg_memx_store(unsigned op, wg_memory *mem, uint64_t ea, const wg_slot *v) {
  uint32_t n = 1u << wg_ops[op].a;
  if (ea + n > mem->size) return false;
  memcpy(mem->data + ea, &v->u64, n);
  return true;
}
