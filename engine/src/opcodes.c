/*
 * opcodes.c: the instruction table (from opcodes.def) and the decoder of one
 * instruction with its immediates (spec 5.4).
 */
#include "opcodes.h"

#define Ti 0x7F
#define TI 0x7E
#define Tf 0x7D
#define TF 0x7C
#define Tv 0x7B

#define SIG_special {0xFF, 0, {0, 0, 0}, 0}
#define SIG_0_0 {0, 0, {0, 0, 0}, 0}
#define SIG_0_i {0, 1, {0, 0, 0}, Ti}
#define SIG_0_I {0, 1, {0, 0, 0}, TI}
#define SIG_0_f {0, 1, {0, 0, 0}, Tf}
#define SIG_0_F {0, 1, {0, 0, 0}, TF}
#define SIG_0_v {0, 1, {0, 0, 0}, Tv}
#define SIG_i_i {1, 1, {Ti, 0, 0}, Ti}
#define SIG_i_I {1, 1, {Ti, 0, 0}, TI}
#define SIG_i_f {1, 1, {Ti, 0, 0}, Tf}
#define SIG_i_F {1, 1, {Ti, 0, 0}, TF}
#define SIG_i_v {1, 1, {Ti, 0, 0}, Tv}
#define SIG_I_i {1, 1, {TI, 0, 0}, Ti}
#define SIG_I_I {1, 1, {TI, 0, 0}, TI}
#define SIG_I_f {1, 1, {TI, 0, 0}, Tf}
#define SIG_I_F {1, 1, {TI, 0, 0}, TF}
#define SIG_I_v {1, 1, {TI, 0, 0}, Tv}
#define SIG_f_i {1, 1, {Tf, 0, 0}, Ti}
#define SIG_f_I {1, 1, {Tf, 0, 0}, TI}
#define SIG_f_f {1, 1, {Tf, 0, 0}, Tf}
#define SIG_f_F {1, 1, {Tf, 0, 0}, TF}
#define SIG_f_v {1, 1, {Tf, 0, 0}, Tv}
#define SIG_F_i {1, 1, {TF, 0, 0}, Ti}
#define SIG_F_I {1, 1, {TF, 0, 0}, TI}
#define SIG_F_f {1, 1, {TF, 0, 0}, Tf}
#define SIG_F_F {1, 1, {TF, 0, 0}, TF}
#define SIG_F_v {1, 1, {TF, 0, 0}, Tv}
#define SIG_v_i {1, 1, {Tv, 0, 0}, Ti}
#define SIG_v_I {1, 1, {Tv, 0, 0}, TI}
#define SIG_v_f {1, 1, {Tv, 0, 0}, Tf}
#define SIG_v_F {1, 1, {Tv, 0, 0}, TF}
#define SIG_v_v {1, 1, {Tv, 0, 0}, Tv}
#define SIG_ii_0 {2, 0, {Ti, Ti, 0}, 0}
#define SIG_iI_0 {2, 0, {Ti, TI, 0}, 0}
#define SIG_if_0 {2, 0, {Ti, Tf, 0}, 0}
#define SIG_iF_0 {2, 0, {Ti, TF, 0}, 0}
#define SIG_iv_0 {2, 0, {Ti, Tv, 0}, 0}
#define SIG_ii_i {2, 1, {Ti, Ti, 0}, Ti}
#define SIG_II_i {2, 1, {TI, TI, 0}, Ti}
#define SIG_II_I {2, 1, {TI, TI, 0}, TI}
#define SIG_ff_i {2, 1, {Tf, Tf, 0}, Ti}
#define SIG_ff_f {2, 1, {Tf, Tf, 0}, Tf}
#define SIG_FF_i {2, 1, {TF, TF, 0}, Ti}
#define SIG_FF_F {2, 1, {TF, TF, 0}, TF}
#define SIG_iv_v {2, 1, {Ti, Tv, 0}, Tv}
#define SIG_vv_v {2, 1, {Tv, Tv, 0}, Tv}
#define SIG_vi_v {2, 1, {Tv, Ti, 0}, Tv}
#define SIG_vI_v {2, 1, {Tv, TI, 0}, Tv}
#define SIG_vf_v {2, 1, {Tv, Tf, 0}, Tv}
#define SIG_vF_v {2, 1, {Tv, TF, 0}, Tv}
#define SIG_iii_0 {3, 0, {Ti, Ti, Ti}, 0}
#define SIG_vvv_v {3, 1, {Tv, Tv, Tv}, Tv}

const wg_opinfo wg_ops[WG_OP_COUNT] = {
    [WG_OP_INVALID] = {"<invalid>", 0, 0, WG_IMM_NONE, 0, SIG_special},
#define OP(code, id, name, imm, sig, a) [WG_OP_##id] = {name, 0, code, WG_IMM_##imm, a, SIG_##sig},
#define OPFC(code, id, name, imm, sig, a) [WG_OP_##id] = {name, 0xFC, code, WG_IMM_##imm, a, SIG_##sig},
#define OPFD(code, id, name, imm, sig, a) [WG_OP_##id] = {name, 0xFD, code, WG_IMM_##imm, a, SIG_##sig},
#include "opcodes.def"
};

/* Encoding -> wg_op; 0 (WG_OP_INVALID) where no instruction exists. */
static const uint16_t single_map[256] = {
#define OP(code, id, name, imm, sig, a) [code] = WG_OP_##id,
#include "opcodes.def"
};
#define FC_MAX 18
static const uint16_t fc_map[FC_MAX] = {
#define OPFC(code, id, name, imm, sig, a) [code] = WG_OP_##id,
#include "opcodes.def"
};
#define FD_MAX 256
static const uint16_t fd_map[FD_MAX] = {
#define OPFD(code, id, name, imm, sig, a) [code] = WG_OP_##id,
#include "opcodes.def"
};

static bool illegal(wg_reader *r, size_t at, const char *msg) {
  return wg_fail(r->diag, WG_ERROR_MALFORMED, at, "%s", msg);
}

/* A memory index: Wasm 2.0's reserved zero byte is its one-byte encoding. */
static bool memidx(wg_reader *r, uint32_t *out, bool *wide) {
  const uint8_t *p = r->p;
  if (!rd_u32(r, out)) return false;
  if (r->p - p != 1 || *out != 0) *wide = true;
  return true;
}

static bool read_memarg(wg_reader *r, wg_instr *in) {
  size_t at = rd_offset(r);
  if (!rd_u32(r, &in->b)) return false;
  /* Flags below 64: the alignment exponent; bit 6: a memory index follows
   * (multi-memory, Wasm 3.0 5.4.6); 128 and more are malformed. */
  if (in->b >= 128) return illegal(r, at, "malformed memop flags");
  in->a = in->b & 63;
  in->mem = 0;
  if ((in->b & 64) && !rd_u32(r, &in->mem)) return false;
  uint32_t off;
  if (!rd_u32(r, &off)) return false;
  in->offset_imm = off;
  return true;
}

static bool read_blocktype(wg_reader *r, wg_instr *in) {
  if (r->p >= r->end) return rd_eof(r);
  uint8_t b = *r->p;
  if (b == 0x40) {
    r->p++;
    in->bt_kind = 0;
    return true;
  }
  if (wg_is_valtype(b)) {
    r->p++;
    in->bt_kind = 1;
    in->a = b;
    return true;
  }
  /* A type index, as a non-negative s33 (spec 5.4.1). */
  size_t at = rd_offset(r);
  int64_t idx;
  if (!rd_sleb(r, 33, &idx)) return false;
  if (idx < 0) return illegal(r, at, "malformed block type");
  if (idx > UINT32_MAX) return wg_fail(r->diag, WG_ERROR_INVALID, at, "unknown type");
  in->bt_kind = 2;
  in->a = (uint32_t)idx;
  return true;
}

/* The shapes the fast path of wg_instr_read decodes for one-byte opcodes
 * (0: the general path): no immediate, one index, an i32 constant, a memarg.
 * Only their one-byte LEB encodings are taken; anything longer goes the
 * general way, which reports every malformed form. */
enum { FAST_SLOW, FAST_NONE, FAST_IDX, FAST_I32, FAST_MEMARG };
#define FAST_IMM_NONE FAST_NONE
#define FAST_IMM_LABEL FAST_IDX
#define FAST_IMM_FUNC FAST_IDX
#define FAST_IMM_LOCAL FAST_IDX
#define FAST_IMM_GLOBAL FAST_IDX
#define FAST_IMM_I32 FAST_I32
#define FAST_IMM_MEMARG FAST_MEMARG
#define FAST_IMM_BLOCKTYPE FAST_SLOW
#define FAST_IMM_BR_TABLE FAST_SLOW
#define FAST_IMM_CALL_INDIRECT FAST_SLOW
#define FAST_IMM_TABLE FAST_SLOW
#define FAST_IMM_MEM0 FAST_SLOW
#define FAST_IMM_I64 FAST_SLOW
#define FAST_IMM_F32 FAST_SLOW
#define FAST_IMM_F64 FAST_SLOW
#define FAST_IMM_SELECT_T FAST_SLOW
#define FAST_IMM_REFTYPE FAST_SLOW
#define FAST_IMM_TAG FAST_SLOW
#define FAST_IMM_TRY_TABLE FAST_SLOW
static const uint8_t single_fast[256] = {
#define OP(code, id, name, imm, sig, a) [code] = FAST_IMM_##imm,
#include "opcodes.def"
};

bool wg_catch_read(wg_reader *r, wg_catch *out) {
  if (!rd_u8(r, &out->kind)) return false;
  out->tag = 0;
  if (out->kind < WG_CATCH_ALL && !rd_u32(r, &out->tag)) return false;
  return rd_u32(r, &out->label);
}

bool wg_instr_read(wg_reader *r, wg_instr *in) {
  const uint8_t *p = r->p;
  in->offset = (size_t)(p - r->base);
  if (p < r->end) {
    uint8_t b0 = p[0];
    switch (single_fast[b0]) {
      case FAST_NONE:
        in->op = (wg_op)single_map[b0];
        r->p = p + 1;
        return true;
      case FAST_IDX:
        if (r->end - p < 2 || (p[1] & 0x80)) break;
        in->op = (wg_op)single_map[b0];
        in->a = p[1];
        r->p = p + 2;
        return true;
      case FAST_I32:
        if (r->end - p < 2 || (p[1] & 0x80)) break;
        in->op = (wg_op)single_map[b0];
        in->bits = (uint32_t)(int32_t)((int8_t)(p[1] << 1) >> 1); /* 7-bit two's complement */
        r->p = p + 2;
        return true;
      case FAST_MEMARG:
        if (r->end - p < 3 || p[1] >= 32 || (p[2] & 0x80)) break;
        in->op = (wg_op)single_map[b0];
        in->a = in->b = p[1];
        in->mem = 0;
        in->offset_imm = p[2];
        r->p = p + 3;
        return true;
      default:
        break;
    }
  }
  uint8_t b;
  if (!rd_u8(r, &b)) return false;
  uint16_t op;
  if (b == 0xFC || b == 0xFD) {
    uint32_t sub;
    if (!rd_u32(r, &sub)) return false;
    if (b == 0xFC) op = sub < FC_MAX ? fc_map[sub] : 0;
    else op = sub < FD_MAX ? fd_map[sub] : 0;
  } else {
    op = single_map[b];
  }
  if (op == WG_OP_INVALID) return illegal(r, in->offset, "illegal opcode");
  in->op = (wg_op)op;
  in->wide = false;
  in->mem = in->mem2 = 0;
  const wg_opinfo *info = &wg_ops[op];
  switch ((wg_imm)info->imm) {
    case WG_IMM_NONE:
      return true;
    case WG_IMM_BLOCKTYPE:
      return read_blocktype(r, in);
    case WG_IMM_TRY_TABLE: {
      if (!read_blocktype(r, in) || !rd_u32(r, &in->b)) return false;
      if (in->b > rd_left(r)) return rd_eof(r); /* each clause takes at least two bytes */
      in->vec = r->p;
      wg_catch c;
      for (uint32_t i = 0; i < in->b; i++) {
        size_t at = rd_offset(r);
        if (r->p >= r->end) return rd_eof(r);
        if (*r->p > WG_CATCH_ALL_REF) return illegal(r, at, "malformed catch clause");
        if (!wg_catch_read(r, &c)) return false;
      }
      return true;
    }
    case WG_IMM_TAG:
    case WG_IMM_LABEL:
    case WG_IMM_FUNC:
    case WG_IMM_LOCAL:
    case WG_IMM_GLOBAL:
    case WG_IMM_TABLE:
    case WG_IMM_DATA:
    case WG_IMM_ELEM:
      return rd_u32(r, &in->a);
    case WG_IMM_CALL_INDIRECT:
    case WG_IMM_ELEM_TABLE:
    case WG_IMM_TABLE_TABLE:
      return rd_u32(r, &in->a) && rd_u32(r, &in->b);
    case WG_IMM_BR_TABLE: {
      if (!rd_u32(r, &in->a)) return false;
      /* Each label takes at least one byte: a count beyond the bytes left is malformed. */
      if (in->a > rd_left(r)) return rd_eof(r);
      in->vec = r->p;
      uint32_t label;
      for (uint32_t i = 0; i < in->a; i++)
        if (!rd_u32(r, &label)) return false;
      return rd_u32(r, &in->b);
    }
    case WG_IMM_MEMARG:
      return read_memarg(r, in);
    case WG_IMM_MEMARG_LANE:
      return read_memarg(r, in) && rd_u8(r, &in->lane);
    case WG_IMM_LANE:
      return rd_u8(r, &in->lane);
    case WG_IMM_MEM0:
      return memidx(r, &in->mem, &in->wide);
    case WG_IMM_MEM_MEM:
      return memidx(r, &in->mem, &in->wide) && memidx(r, &in->mem2, &in->wide);
    case WG_IMM_DATA_MEM:
      return rd_u32(r, &in->a) && memidx(r, &in->mem, &in->wide);
    case WG_IMM_I32: {
      int32_t v;
      if (!rd_s32(r, &v)) return false;
      in->bits = (uint32_t)v;
      return true;
    }
    case WG_IMM_I64: {
      int64_t v;
      if (!rd_s64(r, &v)) return false;
      in->bits = (uint64_t)v;
      return true;
    }
    case WG_IMM_F32: {
      uint32_t v;
      if (!rd_fixed32(r, &v)) return false;
      in->bits = v;
      return true;
    }
    case WG_IMM_F64:
      return rd_fixed64(r, &in->bits);
    case WG_IMM_V128:
    case WG_IMM_SHUFFLE:
      return rd_bytes(r, 16, &in->vec);
    case WG_IMM_SELECT_T: {
      if (!rd_u32(r, &in->a)) return false;
      if (in->a > rd_left(r)) return rd_eof(r);
      in->b = 0;
      for (uint32_t i = 0; i < in->a; i++) {
        size_t at = rd_offset(r);
        uint8_t t;
        if (!rd_u8(r, &t)) return false;
        if (!wg_is_valtype(t)) return illegal(r, at, "malformed value type");
        if (i == 0) in->b = t;
      }
      return true;
    }
    case WG_IMM_REFTYPE: {
      size_t at = rd_offset(r);
      uint8_t t;
      if (!rd_u8(r, &t)) return false;
      if (!wg_is_reftype(t)) return illegal(r, at, "malformed reference type");
      in->a = t;
      return true;
    }
  }
  return illegal(r, in->offset, "illegal opcode");
}
