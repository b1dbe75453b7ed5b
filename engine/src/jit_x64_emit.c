/*
 * jit_x64_emit.c: the instruction dispatcher of the compiled tier's x86-64
 * back end (jit_x64_internal.h): constants, copies, reinterpretations,
 * branches (br, br_if and its fused compare forms, br_table through a jump
 * table), loop headers, returns, calls (jit_x64_call.c), select, globals,
 * eqz and integer width changes; memory and numeric instructions go to
 * jit_x64_mem.c and jit_x64_num.c.
 */
#include "jit_x64_internal.h"

#ifdef WG_JIT_NATIVE
static void jump_to(J *j, size_t at, const wg_cell *cells, const wg_cell *target) {
  fixup_add(j, at, (uint32_t)(target - cells), SIZE_MAX);
}

/* Emits instruction `op` at cells[i]; *len gets its length in cells. */
bool wg_x64_emit(J *j, const wg_module *m, const wg_code *code, uint32_t i, unsigned op, uint32_t *len,
                 const char **why) {
  const wg_cell *cells = code->cells, *pc = &cells[i + 1];
  const bool has_mem = m->nmems > 0;
  /* Operands (a one-cell instruction may be the last cell: nothing to read). */
  const bool has_ops = i + 1 < code->ncells;
  const int32_t A = has_ops ? pc[0].s.a : 0, B = has_ops ? pc[0].s.b : 0;
  switch (op) {
    case IR_CONST: {
      *len = 3;
      uint64_t v = pc[1].u64;
      if ((int64_t)v == (int32_t)v) {
        c_forget(j, B);
        mem(j, 0, 1, 0xC7, 1, 0, FP, -1, 0, sd(B));
        b4(j, (uint32_t)v);
        pin_reload(j, B);
        if (j->caching) j->k_slot = B, j->k_val = (int64_t)v;
      } else {
        movi(j, RAX, v);
        st(j, 1, B, RAX);
      }
      return true;
    }
    case IR_COPY: {
      /* 64 bits, through a register: the source's pin or cache entry (an
       * i32 one too: its upper half, zero in the register, is never read
       * as anything but a copy), and the result is cached or pinned. */
      *len = 2;
      int rc = dst_reg(j, B, false, false, -1);
      count_use(j, A, 0);
      int r = pin_gpr(j, A);
      if (r < 0 && j->caching) r = c_int(j, A, 0);
      if (r < 0) mem(j, 0, 1, 0x8B, 1, rc, FP, -1, 0, sd(A));
      else if (r != rc) rr(j, 0, 1, 0x89, 1, r, rc);
      st(j, 1, B, rc);
      c_set(j, rc, false, B, K_I64);
      return true;
    }
    case WG_OP_I32_REINTERPRET_F32:
    case WG_OP_I64_REINTERPRET_F64:
    case WG_OP_F32_REINTERPRET_I32:
    case WG_OP_F64_REINTERPRET_I64:
      *len = 2;
      ld(j, 1, RAX, A);
      st(j, 1, B, RAX);
      return true;
    case IR_BR:
      *len = 2;
      jump_to(j, jmp(j), cells, pc[0].target);
      return true;
    case IR_BR_IF:
    case IR_BR_UNLESS:
    case IR_BR_EQZ:
    case IR_BR_NEZ:
      *len = 3;
      { /* test the register holding A when there is one (no copy) */
        int ra = src_reg(j, 0, A);
        if (ra < 0) mem(j, 0, 0, 0x8B, 1, ra = RAX, FP, -1, 0, sd(A));
        rr(j, 0, 0, 0x85, 1, ra, ra);
      }
      jump_to(j, jcc(j, op == IR_BR_IF || op == IR_BR_NEZ ? CC_NE : CC_E), cells, pc[1].target);
      return true;
    case IR_BR_TABLE: {
      uint32_t cnt = (uint32_t)B;
      *len = 2 + cnt + 1;
      ld(j, 0, RAX, A);
      movi(j, RCX, cnt);
      rr(j, 0, 0, 0x3B, 1, RAX, RCX);     /* cmp eax, ecx */
      rr(j, 0, 0, 0x0F43, 2, RAX, RCX);   /* cmovae eax, ecx */
      b1(j, 0x48);                        /* lea rcx, [rip + table] */
      b1(j, 0x8D);
      b1(j, 0x0D);
      b4(j, 0);
      size_t lea = j->n - 4;
      mem(j, 0, 1, 0x63, 1, RAX, RCX, RAX, 2, 0); /* movsxd rax, [rcx + rax*4] */
      rr(j, 0, 1, 0x03, 1, RAX, RCX);             /* add rax, rcx */
      rr(j, 0, 0, 0xFF, 1, 4, RAX);               /* jmp rax */
      size_t table = j->n;
      patch(j, lea, table);
      for (uint32_t k = 0; k <= cnt; k++) {
        fixup_add(j, j->n, (uint32_t)(pc[1 + k].target - cells), table);
        b4(j, 0);
      }
      return true;
    }
    case IR_LOOP:
      *len = 1;
      wg_x64_check_interrupt(j, pc);
      return true;
    case IR_RETURN:
      *len = 1;
      mem(j, 0, 0, 0xFF, 1, 1, ST, -1, 0, (int32_t)offsetof(wg_store, depth)); /* dec dword [depth] */
      rr(j, 0, 1, 0x83, 1, 0, RSP);                                            /* add rsp, 8 */
      b1(j, 8);
      b1(j, 0xC3);
      return true;
    case IR_CALL:
      *len = 2;
      if (j->in_batch && (uint32_t)A >= m->nfunc_imports && (uint32_t)A < m->nfuncs &&
          j->in_batch[(uint32_t)A - m->nfunc_imports] >= 0) {
        wg_x64_emit_direct_call(j, &cells[i], &cells[i + 2], A, B, has_mem, j->in_batch[(uint32_t)A - m->nfunc_imports]);
        return true;
      }
      mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, funcs));
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, sd(A));
      wg_x64_emit_call(j, &cells[i], &cells[i + 2], B, has_mem);
      return true;
    case IR_CALL_INDIRECT:
      /* wg_jit_indirect's checks inline (same traps, same order): the
       * index against the table's size, a null entry, the callee's
       * canonical type against the expected one; the callee ends in rax. */
      *len = 3;
      mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, tables));
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, sd(pc[1].s.a));                   /* the wg_table */
      ld(j, 0, RCX, pc[1].s.b);                                                /* the index */
      mem(j, 0, 0, 0x3B, 1, RCX, RAX, -1, 0, (int32_t)offsetof(wg_table, size)); /* cmp ecx, size */
      trap_if(j, CC_AE, WG_TRAP_UNDEFINED_ELEMENT, pc);
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, (int32_t)offsetof(wg_table, elems));
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, RCX, 3, 0); /* mov rax, [rax + rcx * 8] */
      rr(j, 0, 1, 0x85, 1, RAX, RAX);
      trap_if(j, CC_E, WG_TRAP_UNINITIALIZED_ELEMENT, pc);
      mem(j, 0, 0, 0x8B, 1, RDX, RAX, -1, 0, (int32_t)offsetof(wg_func, type_id));
      mem(j, 0, 1, 0x8B, 1, RSI, IN, -1, 0, (int32_t)offsetof(wg_instance, type_ids));
      mem(j, 0, 0, 0x3B, 1, RDX, RSI, -1, 0, (int32_t)(4 * pc[0].s.a)); /* cmp edx, type_ids[A] */
      trap_if(j, CC_NE, WG_TRAP_INDIRECT_CALL_TYPE, pc);
      wg_x64_emit_call(j, &cells[i], &cells[i + 3], B, has_mem);
      return true;
    case WG_OP_UNREACHABLE:
      *len = 1;
      stub_add(j, jmp(j), false, WG_TRAP_UNREACHABLE, pc, 0);
      return true;
    case WG_OP_SELECT:
      *len = 3;
      ld(j, 0, RCX, pc[1].s.a);
      ld(j, 1, RAX, A);
      rr(j, 0, 0, 0x85, 1, RCX, RCX);
      mem(j, 0, 1, 0x0F44, 2, RAX, FP, -1, 0, sd(B)); /* cmovz rax, [b] */
      st(j, 1, pc[1].s.b, RAX);
      return true;
    case WG_OP_GLOBAL_GET:
    case WG_OP_GLOBAL_SET:
      *len = 2;
      mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, globals));
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, sd(A));
      if (op == WG_OP_GLOBAL_GET) {
        mem(j, 0, 1, 0x8B, 1, RCX, RAX, -1, 0, (int32_t)offsetof(wg_global, value));
        st(j, 1, B, RCX);
      } else {
        ld(j, 1, RCX, B);
        mem(j, 0, 1, 0x89, 1, RCX, RAX, -1, 0, (int32_t)offsetof(wg_global, value));
      }
      return true;
    case WG_OP_REF_IS_NULL:
    case WG_OP_I32_EQZ:
    case WG_OP_I64_EQZ:
      *len = 2;
      { /* test the register holding A when there is one; setcc writes rax */
        int w = op == WG_OP_I32_EQZ ? 0 : 1, ra = src_reg(j, w, A);
        if (ra < 0) mem(j, 0, w, 0x8B, 1, ra = RAX, FP, -1, 0, sd(A));
        rr(j, 0, w, 0x85, 1, ra, ra);
      }
      setcc(j, CC_E);
      st(j, 0, B, RAX);
      return true;
    case WG_OP_I32_WRAP_I64:
    case WG_OP_I64_EXTEND_I32_U:
      *len = 2;
      ld(j, 0, RAX, A);
      st(j, 1, B, RAX);
      return true;
    case WG_OP_I64_EXTEND_I32_S:
      *len = 2;
      mem(j, 0, 1, 0x63, 1, RAX, FP, -1, 0, sd(A));
      st(j, 1, B, RAX);
      return true;
    default: break;
  }
  if (op >= IR_BRC_EQ && op <= IR_BRCI_GE_U) {
    *len = 3;
    bool imm = op >= IR_BRCI_EQ;
    unsigned k = op - (imm ? IR_BRCI_EQ : IR_BRC_EQ);
    /* cmp on the register holding A when there is one (no copy). */
    int ra = src_reg(j, 0, A);
    if (ra < 0) mem(j, 0, 0, 0x8B, 1, ra = RAX, FP, -1, 0, sd(A));
    if (imm) {
      rr(j, 0, 0, 0x81, 1, 7, ra);
      b4(j, (uint32_t)B);
    } else {
      alu_src(j, 0, 0x3B, 1, ra, B);
    }
    jump_to(j, jcc(j, cmp_cc(k)), cells, pc[1].target);
    return true;
  }
  if (op >= IR_SIMD && op <= IR_GLOBAL_SET_V128) return wg_x64_emit_simd(j, has_mem, pc, op, len, why);
  if (wg_x64_emit_memory(j, has_mem, pc, A, B, op, len)) return true;
  return wg_x64_emit_numeric(j, pc, A, B, op, len, why);
}

#endif
