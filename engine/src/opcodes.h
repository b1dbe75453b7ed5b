/*
 * opcodes.h: the instruction set as data, generated from opcodes.def.
 *
 * wg_op is a dense internal numbering of every instruction (single-byte,
 * 0xFC- and 0xFD-prefixed); wg_ops[] gives each one's encoding, name,
 * immediates and fixed type signature. wg_instr_read() decodes one
 * instruction with its immediates; the validator, the disassembler and the
 * compiler all read code through it.
 */
#ifndef WG_OPCODES_H
#define WG_OPCODES_H

#include <stdbool.h>
#include <stdint.h>

#include "reader.h"

typedef enum wg_op {
  WG_OP_INVALID = 0,
#define OP(code, id, name, imm, sig, a) WG_OP_##id,
#define OPFC(code, id, name, imm, sig, a) WG_OP_##id,
#define OPFD(code, id, name, imm, sig, a) WG_OP_##id,
#include "opcodes.def"
  WG_OP_COUNT
} wg_op;

/* Shapes of immediates (spec 5.4). */
typedef enum wg_imm {
  WG_IMM_NONE,
  WG_IMM_BLOCKTYPE,     /* blocktype: 0x40, a valtype, or an s33 type index */
  WG_IMM_LABEL,         /* labelidx */
  WG_IMM_BR_TABLE,      /* vec(labelidx) labelidx */
  WG_IMM_FUNC,          /* funcidx */
  WG_IMM_CALL_INDIRECT, /* typeidx tableidx */
  WG_IMM_LOCAL,         /* localidx */
  WG_IMM_GLOBAL,        /* globalidx */
  WG_IMM_TABLE,         /* tableidx */
  WG_IMM_MEMARG,        /* flags [memidx] offset (memidx when flags bit 6 is set: multi-memory) */
  WG_IMM_MEM0,          /* memidx (Wasm 2.0: a zero byte) */
  WG_IMM_I32,           /* i32 (signed LEB) */
  WG_IMM_I64,           /* i64 (signed LEB) */
  WG_IMM_F32,           /* 4 bytes */
  WG_IMM_F64,           /* 8 bytes */
  WG_IMM_SELECT_T,      /* vec(valtype) */
  WG_IMM_REFTYPE,       /* reftype */
  WG_IMM_DATA_MEM,      /* dataidx memidx */
  WG_IMM_DATA,          /* dataidx */
  WG_IMM_MEM_MEM,       /* memidx memidx (destination, source) */
  WG_IMM_ELEM_TABLE,    /* elemidx tableidx */
  WG_IMM_ELEM,          /* elemidx */
  WG_IMM_TABLE_TABLE,   /* tableidx tableidx (destination, source) */
  WG_IMM_V128,          /* 16 bytes */
  WG_IMM_SHUFFLE,       /* 16 lane indices */
  WG_IMM_LANE,          /* one lane index byte */
  WG_IMM_MEMARG_LANE,   /* memarg, lane index byte */
  WG_IMM_TAG,           /* tagidx */
  WG_IMM_TRY_TABLE,     /* blocktype vec(catch) */
} wg_imm;

/* A fixed type signature: up to 3 operands and at most one result,
 * as binary value type codes (wg_valtype). `special` instructions have
 * np == 0xFF and are typed by hand. */
typedef struct wg_sig {
  uint8_t np, nr;
  uint8_t p[3];
  uint8_t r;
} wg_sig;

typedef struct wg_opinfo {
  const char *name;
  uint8_t prefix; /* 0, 0xFC or 0xFD */
  uint32_t code;  /* the byte, or the u32 after the prefix */
  uint8_t imm;    /* wg_imm */
  uint8_t a;      /* natural alignment (log2) for memory accesses; lane count for lane ops */
  wg_sig sig;
} wg_opinfo;

extern const wg_opinfo wg_ops[WG_OP_COUNT];

/* One decoded instruction. Which fields are set depends on the immediate shape:
 *   BLOCKTYPE: bt_kind (0 empty, 1 valtype in `a`, 2 type index in `a`)
 *   LABEL, FUNC, LOCAL, GLOBAL, TABLE, DATA, ELEM: a
 *   CALL_INDIRECT: a = typeidx, b = tableidx; ELEM_TABLE: a = elem, b = table
 *   TABLE_TABLE: a = destination, b = source; DATA_MEM: a = dataidx
 *   BR_TABLE: a = number of labels before the default, `vec` = their encoding
 *             (re-read with rd_u32), b = the default label
 *   MEMARG: a = align (log2), b = the flags as encoded, mem, offset; MEMARG_LANE: also lane
 *   MEM0, MEM_MEM, DATA_MEM: mem (and mem2, the source of memory.copy);
 *             `wide` when a memory index was not the single byte 0x00 of
 *             Wasm 2.0 (which the validator rejects without multi-memory)
 *   I32/I64/F32/F64: bits (raw bits for floats); V128/SHUFFLE: bytes
 *   SELECT_T: a = number of types, b = the first type; REFTYPE: a
 *   LANE: lane
 *   TAG: a = tagidx
 *   TRY_TABLE: blocktype as BLOCKTYPE, b = number of catch clauses, `vec` =
 *             their encoding (re-read with wg_catch_read) */
typedef struct wg_instr {
  wg_op op;
  size_t offset; /* of the opcode byte */
  uint8_t bt_kind;
  uint32_t a, b;
  uint64_t offset_imm; /* memarg offset */
  uint32_t mem, mem2;  /* memory indices (multi-memory) */
  bool wide;
  uint8_t lane;
  uint64_t bits;
  const uint8_t *vec; /* BR_TABLE labels; V128/SHUFFLE 16 bytes */
} wg_instr;

/* Decodes one instruction at r->p, in the Wasm 3.0 encoding (memory indices
 * of multi-memory; the validator rejects what Wasm 2.0 does not allow when
 * a module is decoded without that feature). Malformed encodings fail with
 * the spec's messages: "illegal opcode" (unknown opcode), "malformed memop flags", "malformed reference type",
 * "integer representation too long", "integer too large", unexpected end.
 * Index values are not checked here (that is validation). */
bool wg_instr_read(wg_reader *r, wg_instr *out);

/* One catch clause of try_table (3.0 5.4.1): kind 0 catch, 1 catch_ref,
 * 2 catch_all, 3 catch_all_ref; tag (kinds 0, 1) and label. */
typedef struct wg_catch {
  uint8_t kind;
  uint32_t tag, label;
} wg_catch;
enum { WG_CATCH, WG_CATCH_REF, WG_CATCH_ALL, WG_CATCH_ALL_REF };

/* Reads the next catch clause of a try_table decoded by wg_instr_read
 * (which checked them all). */
bool wg_catch_read(wg_reader *r, wg_catch *out);

/* Whether `t` is a value type code (numeric, vector or reference; exnref is
 * exception handling's). */
static inline bool wg_is_valtype(uint8_t t) {
  return (t >= 0x7B && t <= 0x7F) || t == 0x70 || t == 0x6F || t == 0x69;
}
static inline bool wg_is_reftype(uint8_t t) { return t == 0x70 || t == 0x6F || t == 0x69; }

#endif
