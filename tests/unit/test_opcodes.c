/*
 * test_opcodes.c: the opcode table (opcodes.def) is consistent: every entry
 * decodes back to itself through wg_instr_read, names are unique, encodings
 * are unique, and the table covers the whole Wasm 2.0 instruction set
 * (counted per prefix against the spec's instruction index).
 */
#include <stdlib.h>

#include "opcodes.h"
#include "test.h"

/* Encodes op's prefix and code followed by zero bytes (enough for any
 * immediate to decode: zero is a valid encoding of every immediate). */
static size_t encode(const wg_opinfo *info, uint8_t *buf) {
  size_t n = 0;
  if (info->prefix) {
    buf[n++] = info->prefix;
    uint32_t v = info->code;
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      buf[n++] = b | (v ? 0x80 : 0);
    } while (v);
  } else {
    buf[n++] = (uint8_t)info->code;
  }
  memset(buf + n, 0, 32);
  if (info->imm == WG_IMM_BLOCKTYPE) buf[n] = 0x40;
  if (info->imm == WG_IMM_REFTYPE) buf[n] = 0x70;
  return n;
}

TEST(roundtrip) {
  for (int op = 1; op < WG_OP_COUNT; op++) {
    const wg_opinfo *info = &wg_ops[op];
    uint8_t buf[64];
    encode(info, buf);
    wg_diag d = {0};
    wg_reader r = {buf, buf + sizeof buf, buf, &d, WG_MSG_EOF};
    wg_instr in;
    bool ok = wg_instr_read(&r, &in);
    if (!ok || in.op != (wg_op)op) {
      test_failed_checks++;
      fprintf(stderr, "%s: decoded as %s (%s)\n", info->name, ok ? wg_ops[in.op].name : "error", d.msg);
    }
  }
}

TEST(unique_names_and_codes) {
  for (int a = 1; a < WG_OP_COUNT; a++)
    for (int b = a + 1; b < WG_OP_COUNT; b++) {
      const wg_opinfo *x = &wg_ops[a], *y = &wg_ops[b];
      /* select and select t share the text name, not the encoding */
      if (!strcmp(x->name, y->name) && strcmp(x->name, "select")) {
        test_failed_checks++;
        fprintf(stderr, "duplicate name %s\n", x->name);
      }
      if (x->prefix == y->prefix && x->code == y->code) {
        test_failed_checks++;
        fprintf(stderr, "duplicate encoding %s / %s\n", x->name, y->name);
      }
    }
}

TEST(coverage) {
  int single = 0, fc = 0, fd = 0;
  for (int op = 1; op < WG_OP_COUNT; op++) {
    switch (wg_ops[op].prefix) {
      case 0: single++; break;
      case 0xFC: fc++; break;
      case 0xFD: fd++; break;
    }
  }
  /* Wasm 2.0: 183 single-byte instructions (select t included), 18 under
   * 0xFC (8 saturating truncations, 4 bulk memory, 6 table), 236 under 0xFD;
   * plus 3.0's throw, throw_ref, try_table, return_call, return_call_indirect. */
  CHECK(single == 188);
  CHECK(fc == 18);
  CHECK(fd == 236);
  if (single != 188 || fc != 18 || fd != 236) fprintf(stderr, "counts: %d %d %d\n", single, fc, fd);
}

TEST(unknown_opcodes_are_illegal) {
  static const uint8_t codes[][3] = {{0x06}, {0x27}, {0xC5}, {0xFF}, {0xFC, 0x12}, {0xFD, 0x9A, 0x01}, {0xFD, 0xA2, 0x01}};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    wg_diag d = {0};
    wg_reader r = {codes[i], codes[i] + 3, codes[i], &d, WG_MSG_EOF};
    wg_instr in;
    CHECK(!wg_instr_read(&r, &in));
    CHECK_STR(d.msg, "illegal opcode");
  }
}

/* Reads one instruction from `b` (n bytes); the diagnostic goes to `d`. */
static bool read1(const uint8_t *b, size_t n, wg_diag *d, wg_instr *in, size_t *used) {
  wg_reader r = {b, b + n, b, d, WG_MSG_EOF};
  bool ok = wg_instr_read(&r, in);
  *used = (size_t)(r.p - b);
  return ok;
}

/* The one-byte-immediate fast path and the general path agree: values,
 * lengths, and errors for what the fast path hands on. */
TEST(fast_path_shapes) {
  wg_diag d = {0};
  wg_instr in;
  size_t used;
  /* i32.const: one-byte signed LEB at both ends of its range */
  CHECK(read1((const uint8_t[]){0x41, 0x7F}, 2, &d, &in, &used) && in.op == WG_OP_I32_CONST && in.bits == 0xFFFFFFFFu && used == 2);
  CHECK(read1((const uint8_t[]){0x41, 0x40}, 2, &d, &in, &used) && in.bits == 0xFFFFFFC0u);
  CHECK(read1((const uint8_t[]){0x41, 0x3F}, 2, &d, &in, &used) && in.bits == 63);
  CHECK(read1((const uint8_t[]){0x41, 0x80, 0x01}, 3, &d, &in, &used) && in.bits == 128 && used == 3);
  /* local.get with one- and two-byte indices */
  CHECK(read1((const uint8_t[]){0x20, 0x05}, 2, &d, &in, &used) && in.op == WG_OP_LOCAL_GET && in.a == 5 && used == 2);
  CHECK(read1((const uint8_t[]){0x20, 0x81, 0x01}, 3, &d, &in, &used) && in.a == 129 && used == 3);
  /* i32.load memarg: align 2 offset 7; then a multi-byte offset */
  CHECK(read1((const uint8_t[]){0x28, 0x02, 0x07}, 3, &d, &in, &used) && in.op == WG_OP_I32_LOAD && in.a == 2 &&
        in.offset_imm == 7 && used == 3);
  CHECK(read1((const uint8_t[]){0x28, 0x02, 0x80, 0x02}, 4, &d, &in, &used) && in.offset_imm == 256 && used == 4);
  /* what the fast path declines still fails the general way */
  CHECK(!read1((const uint8_t[]){0x28, 0x80, 0x01, 0x00}, 4, &d, &in, &used));
  CHECK_STR(d.msg, "malformed memop flags");
  d = (wg_diag){0};
  /* multi-memory: flags bit 6 means a memory index follows (Wasm 3.0) */
  CHECK(read1((const uint8_t[]){0x28, 0x42, 0x01, 0x07}, 4, &d, &in, &used) && in.op == WG_OP_I32_LOAD && in.a == 2 &&
        in.mem == 1 && in.offset_imm == 7 && used == 4);
  CHECK(read1((const uint8_t[]){0x3F, 0x80, 0x00}, 3, &d, &in, &used) && in.op == WG_OP_MEMORY_SIZE && in.mem == 0 &&
        in.wide && used == 3);
  d = (wg_diag){0};
  CHECK(!read1((const uint8_t[]){0x20}, 1, &d, &in, &used));
  CHECK(d.msg[0] != 0);
  d = (wg_diag){0};
  CHECK(!read1((const uint8_t[]){0x41, 0x80}, 2, &d, &in, &used));
  CHECK(d.msg[0] != 0);
  /* nop: no immediate, one byte */
  CHECK(read1((const uint8_t[]){0x01, 0x01}, 2, &d, &in, &used) && in.op == WG_OP_NOP && used == 1);
}

int main(void) {
  RUN(roundtrip);
  RUN(unique_names_and_codes);
  RUN(coverage);
  RUN(unknown_opcodes_are_illegal);
  RUN(fast_path_shapes);
  return test_summary();
}
