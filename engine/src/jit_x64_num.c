/*
 * jit_x64_num.c: numeric instructions in the compiled tier's x86-64 back end
 * (jit_x64_internal.h): integer ALU operations, shifts and comparisons with
 * register or immediate operands, SSE float arithmetic, comparisons and
 * conversions, and the numeric.h helpers (with the interpreter's semantics)
 * for everything else.
 */
#include "jit_x64_internal.h"

#ifdef WG_JIT_NATIVE
/* Integer binary operators with templates: the ALU /r opcode and /digit for
 * an immediate (or -1 for shifts/rotations and multiply, handled apart). */
static bool int_binop(unsigned op, int *w, int *alu, int *ext, int *shift, int *cmp) {
  *alu = *ext = *shift = *cmp = -1;
  *w = 0;
  switch (op) {
#define AL(ID, W, ALU, EXT) \
  case WG_OP_##ID: *w = W; *alu = ALU; *ext = EXT; return true;
    AL(I32_ADD, 0, 0x03, 0) AL(I32_SUB, 0, 0x2B, 5) AL(I32_AND, 0, 0x23, 4) AL(I32_OR, 0, 0x0B, 1)
    AL(I32_XOR, 0, 0x33, 6) AL(I64_ADD, 1, 0x03, 0) AL(I64_SUB, 1, 0x2B, 5) AL(I64_AND, 1, 0x23, 4)
    AL(I64_OR, 1, 0x0B, 1) AL(I64_XOR, 1, 0x33, 6)
#undef AL
    case WG_OP_I32_MUL: *w = 0; *alu = 0x0FAF; return true;
    case WG_OP_I64_MUL: *w = 1; *alu = 0x0FAF; return true;
#define SH(ID, W, EXT) \
  case WG_OP_##ID: *w = W; *shift = EXT; return true;
    SH(I32_SHL, 0, 4) SH(I32_SHR_S, 0, 7) SH(I32_SHR_U, 0, 5) SH(I32_ROTL, 0, 0) SH(I32_ROTR, 0, 1)
    SH(I64_SHL, 1, 4) SH(I64_SHR_S, 1, 7) SH(I64_SHR_U, 1, 5) SH(I64_ROTL, 1, 0) SH(I64_ROTR, 1, 1)
#undef SH
    default: break;
  }
  if (op >= WG_OP_I32_EQ && op <= WG_OP_I32_GE_U) {
    *cmp = (int)(op - WG_OP_I32_EQ);
    return true;
  }
  if (op >= WG_OP_I64_EQ && op <= WG_OP_I64_GE_U) {
    *w = 1;
    *cmp = (int)(op - WG_OP_I64_EQ);
    return true;
  }
  return false;
}

/* Float arithmetic with an SSE template: opcode byte after 0F, and prefix. */
static bool float_binop(unsigned op, int *pfx, int *code) {
  switch (op) {
    case WG_OP_F32_ADD: *pfx = 0xF3; *code = 0x58; return true;
    case WG_OP_F32_MUL: *pfx = 0xF3; *code = 0x59; return true;
    case WG_OP_F32_SUB: *pfx = 0xF3; *code = 0x5C; return true;
    case WG_OP_F32_DIV: *pfx = 0xF3; *code = 0x5E; return true;
    case WG_OP_F64_ADD: *pfx = 0xF2; *code = 0x58; return true;
    case WG_OP_F64_MUL: *pfx = 0xF2; *code = 0x59; return true;
    case WG_OP_F64_SUB: *pfx = 0xF2; *code = 0x5C; return true;
    case WG_OP_F64_DIV: *pfx = 0xF2; *code = 0x5E; return true;
    default: return false;
  }
}

static bool is_trapping(unsigned op) {
  return (op >= WG_OP_I32_DIV_S && op <= WG_OP_I32_REM_U) || (op >= WG_OP_I64_DIV_S && op <= WG_OP_I64_REM_U) ||
         (op >= WG_OP_I32_TRUNC_F32_S && op <= WG_OP_I32_TRUNC_F64_U) ||
         (op >= WG_OP_I64_TRUNC_F32_S && op <= WG_OP_I64_TRUNC_F64_U);
}

bool wg_x64_emit_numeric(J *j, const wg_cell *pc, int32_t A, int32_t B, unsigned op, uint32_t *len,
                         const char **why) {
  int w, alu, ext, shift, cmp, pfx, fc;
  bool imm = op >= IR_IMM_BASE && op < IR_COUNT;
  unsigned base = imm ? op - IR_IMM_BASE : op;
  if (base >= WG_OP_COUNT) return *why = "instruction not supported by the compiled tier", false;
  const wg_sig *sig = &wg_ops[base].sig;
  bool binary = sig->np == 2;
  int32_t dst = binary && !imm ? pc[1].s.a : B;
  *len = binary ? 3 : 2;
  if (binary && int_binop(base, &w, &alu, &ext, &shift, &cmp)) {
    uint64_t y = pc[1].u64;
    bool y32 = w ? (int64_t)y == (int32_t)y : true;
    if (cmp >= 0) {
      /* cmp on the register holding A when there is one (no copy);
       * setcc then writes rax. */
      int ra = src_reg(j, w, A);
      if (ra < 0) mem(j, 0, w, 0x8B, 1, ra = RAX, FP, -1, 0, sd(A));
      if (!imm) alu_src(j, w, 0x3B, 1, ra, B);
      else if (!y32) {
        movi(j, RCX, y);
        rr(j, 0, w, 0x3B, 1, ra, RCX);
      } else {
        rr(j, 0, w, 0x81, 1, 7, ra);
        b4(j, (uint32_t)y);
      }
      setcc(j, cmp_cc((unsigned)cmp));
      st(j, 0, dst, RAX);
      return true;
    }
    /* The result is computed in a cache register rc. */
    if (shift >= 0 && !imm) ld(j, 0, RCX, B);
    /* x + k and x - k with x in another register: one lea (looked up before
     * dst_reg, which may take x's register: lea reads it before writing). */
    bool lea = imm && y32 && shift < 0 && (alu == 0x03 || (alu == 0x2B && (int32_t)y != INT32_MIN));
    int ra = lea ? int_reg(j, A, w) : -1;
    int rc = dst_reg(j, dst, false, false, imm || shift >= 0 ? -1 : B);
    if (ra >= 0 && ra != rc) {
      count_use(j, A, 0);
      mem(j, 0, w, 0x8D, 1, rc, ra, -1, 0, alu == 0x03 ? (int32_t)y : -(int32_t)y); /* lea rc, [ra + k] */
      st(j, w, dst, rc);
      c_set(j, rc, false, dst, w ? K_I64 : K_I32);
      return true;
    }
    ld(j, w, rc, A);
    if (shift >= 0) {
      if (imm) {
        rr(j, 0, w, 0xC1, 1, shift, rc);
        b1(j, (unsigned)(y & (w ? 63 : 31)));
      } else {
        rr(j, 0, w, 0xD3, 1, shift, rc);
      }
    } else {
      int oplen = alu > 0xFF ? 2 : 1;
      if (!imm) alu_src(j, w, (uint32_t)alu, oplen, rc, B);
      else if (!y32) {
        movi(j, RCX, y);
        rr(j, 0, w, (uint32_t)alu, oplen, rc, RCX);
      } else if (ext >= 0) {
        rr(j, 0, w, 0x81, 1, ext, rc);
        b4(j, (uint32_t)y);
      } else { /* imul rc, rc, imm32 */
        rr(j, 0, w, 0x69, 1, rc, rc);
        b4(j, (uint32_t)y);
      }
    }
    st(j, w, dst, rc);
    c_set(j, rc, false, dst, w ? K_I64 : K_I32);
    return true;
  }
  if (binary && float_binop(base, &pfx, &fc)) {
    bool dbl = pfx == 0xF2;
    /* y straight from its register or slot (op x, y), unless the register
     * taken for the result holds it: then y goes to xmm1 first. */
    int yr = imm ? -1 : xmm_reg(j, B, dbl);
    int x = dst_reg(j, dst, true, dbl, -1);
    if (imm || yr == x) {
      if (!imm) {
        count_use(j, B, dbl ? 2 : 1);
        rr(j, 0, 0, 0x0F28, 2, 1, yr); /* movaps xmm1, y */
      }
      ldx(j, dbl, x, A);
      if (imm) {
        movi(j, RAX, pc[1].u64);
        rr(j, 0x66, 1, 0x0F6E, 2, 1, RAX); /* movq xmm1, rax */
      }
      rr(j, pfx, 0, 0x0F00u | (unsigned)fc, 2, x, 1);
    } else {
      ldx(j, dbl, x, A);
      sse_src(j, dbl, 0x0F00u | (unsigned)fc, x, B);
    }
    stx(j, dbl, dst, x);
    c_set(j, x, true, dst, dbl ? K_F64 : K_F32);
    return true;
  }
  if (binary && ((base >= WG_OP_F32_EQ && base <= WG_OP_F32_GE) || (base >= WG_OP_F64_EQ && base <= WG_OP_F64_GE))) {
    /* x in xmm0, y in xmm1; ucomis sets ZF, PF, CF (all three when unordered). */
    bool dbl = base >= WG_OP_F64_EQ;
    unsigned k = base - (dbl ? WG_OP_F64_EQ : WG_OP_F32_EQ); /* eq ne lt gt le ge */
    ldx(j, dbl, 0, A);
    if (imm) {
      movi(j, RAX, pc[1].u64);
      rr(j, 0x66, 1, 0x0F6E, 2, 1, RAX); /* movq xmm1, rax */
    } else {
      ldx(j, dbl, 1, B);
    }
    bool swap = k == 2 || k == 4; /* lt, le: compare y with x */
    rr(j, dbl ? 0x66 : 0, 0, 0x0F2E, 2, swap ? 1 : 0, swap ? 0 : 1);
    if (k == 0 || k == 1) { /* eq: ZF && !PF; ne: !ZF || PF */
      rr(j, 0, 0, 0x0F90u + (unsigned)(k == 0 ? CC_E : CC_NE), 2, 0, RAX);
      rr(j, 0, 0, 0x0F90u + (unsigned)(k == 0 ? CC_NP : CC_P), 2, 0, RCX);
      rr(j, 0, 0, k == 0 ? 0x20 : 0x08, 1, RCX, RAX); /* and/or al, cl */
      rr(j, 0, 0, 0x0FB6, 2, RAX, RAX);
    } else {
      setcc(j, k == 2 || k == 3 ? CC_A : CC_AE);
    }
    st(j, 0, dst, RAX);
    return true;
  }
  if (!binary && !imm) {
    switch (base) {
      case WG_OP_F32_NEG:
      case WG_OP_F32_ABS:
        ld(j, 0, RAX, A);
        rr(j, 0, 0, 0x81, 1, base == WG_OP_F32_NEG ? 6 : 4, RAX); /* xor/and eax, imm32 */
        b4(j, base == WG_OP_F32_NEG ? 0x80000000u : 0x7FFFFFFFu);
        st(j, 0, B, RAX);
        return true;
      case WG_OP_F64_NEG:
      case WG_OP_F64_ABS:
        ld(j, 1, RAX, A);
        rr(j, 0, 1, 0x0FBA, 2, base == WG_OP_F64_NEG ? 7 : 6, RAX); /* btc/btr rax, 63 */
        b1(j, 63);
        st(j, 1, B, RAX);
        return true;
      case WG_OP_F32_SQRT: case WG_OP_F64_SQRT: case WG_OP_F64_CONVERT_I32_S: case WG_OP_F64_CONVERT_I64_S:
      case WG_OP_F32_CONVERT_I32_S: case WG_OP_F32_CONVERT_I64_S: case WG_OP_F64_PROMOTE_F32:
      case WG_OP_F32_DEMOTE_F64: {
        int ip, iw = 0, out;
        uint32_t ic;
        switch (base) {
          case WG_OP_F32_SQRT: ip = 0xF3, ic = 0x0F51, out = 0xF3; break;
          case WG_OP_F64_SQRT: ip = 0xF2, ic = 0x0F51, out = 0xF2; break;
          case WG_OP_F64_CONVERT_I32_S: ip = 0xF2, ic = 0x0F2A, out = 0xF2; break;
          case WG_OP_F64_CONVERT_I64_S: ip = 0xF2, ic = 0x0F2A, iw = 1, out = 0xF2; break;
          case WG_OP_F32_CONVERT_I32_S: ip = 0xF3, ic = 0x0F2A, out = 0xF3; break;
          case WG_OP_F32_CONVERT_I64_S: ip = 0xF3, ic = 0x0F2A, iw = 1, out = 0xF3; break;
          case WG_OP_F64_PROMOTE_F32: ip = 0xF3, ic = 0x0F5A, out = 0xF2; break;
          default: ip = 0xF2, ic = 0x0F5A, out = 0xF3; break; /* demote */
        }
        int x = dst_reg(j, B, true, out == 0xF2, A); /* pxor clears x before A is read */
        rr(j, 0x66, 0, 0x0FEF, 2, x, x); /* pxor: no false dependency, upper bits zero */
        if (ic == 0x0F2A) mem(j, ip, iw, ic, 2, x, FP, -1, 0, sd(A)); /* from an integer slot */
        else sse_src(j, ip == 0xF2, ic, x, A);
        stx(j, out == 0xF2, B, x);
        c_set(j, x, true, B, out == 0xF2 ? K_F64 : K_F32);
        return true;
      }
      default: break;
    }
  }
  const void *h = wg_jit_numeric_helper(op);
  if (!h) return *why = "instruction not supported by the compiled tier", false;
  ld(j, 1, RDI, A);
  if (binary) {
    if (imm) movi(j, RSI, pc[1].u64);
    else ld(j, 1, RSI, B);
  }
  if (is_trapping(base)) {
    movrr(j, RDX, ST);
    movi(j, RCX, (uint64_t)(uintptr_t)pc);
  }
  call_fn(j, h);
  st(j, 1, dst, RAX);
  return true;
}

#endif
