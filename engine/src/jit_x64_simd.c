/*
 * jit_x64_simd.c: SIMD (the 0xFD instructions, spec 4.4.3) in the compiled
 * tier's x86-64 back end (jit_x64_internal.h). The slot IR carries each SIMD
 * instruction as IR_SIMD / IR_SIMD_IMM / IR_SIMD_MEM with the interpreter's
 * C function for it (simd.h); this file maps the function back to its wasm
 * opcode and emits, for each instruction, one of:
 *   - an inline SSE sequence (SSE2 always; SSSE3, SSE4.1 and SSE4.2 where
 *     cpuid reports them), reading its v128 operands from their two slots
 *     with movdqu and writing the result back (the slots stay the truth, as
 *     for every value in this tier: traps, calls and the interpreter read
 *     them there), with the results of simd.c bit for bit, NaN payloads
 *     included, except which NaN a float lane computed from two NaNs gets
 *     (the spec leaves it open, and the C compiler of simd.c may swap the
 *     operands of a commutative add: the interpreter is not consistent
 *     there either);
 *   - or a call of that very C function (fp in rdi, its operand cells in
 *     rsi, and for memory instructions the bounds-checked address in rdx):
 *     the instructions x86 has no short exact sequence for, and every
 *     instruction whose sequence needs a feature the CPU lacks.
 * So no function runs on the interpreter because of SIMD. Which instructions
 * are inline and why: docs/engine.md, "SIMD in the compiled tier".
 *
 * Lane accesses (extract_lane, replace_lane, load/store_lane) address the
 * lane in the slots directly: a v128 occupies two adjacent 8-byte slots in
 * wasm's little-endian lane order (simd.h).
 *
 * WASMGATE_JIT_SIMD: "helpers" calls the C function for every SIMD
 * instruction, "sse2" emits only what SSE2 has (the paths of an older CPU);
 * unset or anything else: what cpuid reports. Read once per process.
 */
#include "jit_x64_internal.h"

#ifdef WG_JIT_NATIVE
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"
#include "simd.h"

/* ---------------------------------------------------------------- features and the opcode map */

enum { F_SSSE3 = 1, F_SSE41 = 2, F_SSE42 = 4, F_INLINE = 8 };
static unsigned feats;

/* simd.c function -> wasm opcode: an open-addressing hash table built once. */
enum { SOPS = 1024 };
typedef struct sop {
  const void *fn;
  uint16_t op;
} sop;
static sop sops[SOPS];
static pthread_once_t simd_once = PTHREAD_ONCE_INIT;

static size_t sop_hash(const void *fn) { return (size_t)(((uintptr_t)fn * 0x9E3779B97F4A7C15ull) >> 40) & (SOPS - 1); }

static void simd_init(void) {
  _Static_assert(SOPS > 2 * 256, "SIMD opcode table too small");
  unsigned a, b, c, d, f = F_INLINE;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    if (c & bit_SSSE3) f |= F_SSSE3;
    if (c & bit_SSE4_1) f |= F_SSE41;
    if (c & bit_SSE4_2) f |= F_SSE42;
  }
  const char *e = getenv("WASMGATE_JIT_SIMD");
  if (e && !strcmp(e, "helpers")) f = 0;
  else if (e && !strcmp(e, "sse2")) f = F_INLINE;
  feats = f;
  for (unsigned op = 0; op < WG_OP_COUNT; op++) {
    const wg_simd_impl *im = wg_simd_impl_of(op);
    if (!im) continue;
    const void *fn = im->fn ? (const void *)im->fn : (const void *)im->mem;
    size_t k = sop_hash(fn);
    while (sops[k].fn) k = (k + 1) & (SOPS - 1);
    sops[k] = (sop){fn, (uint16_t)op};
  }
}

static unsigned op_of_fn(const void *fn) {
  for (size_t k = sop_hash(fn);; k = (k + 1) & (SOPS - 1)) {
    if (sops[k].fn == fn) return sops[k].op;
    if (!sops[k].fn) return UINT32_MAX;
  }
}

/* ---------------------------------------------------------------- encoders */

enum { X0, X1 };

/* A scratch register beyond xmm0/xmm1 for the instruction being emitted:
 * the least recently used xmm cache register (xmm2-xmm7; what it held is
 * forgotten, the slots still have it), marked taken until the next one is
 * needed (an entry no lookup matches), so two calls give two registers. */
static int vtmp(J *j) {
  int r = c_take(j, true);
  j->xc[r - 2] = (centry){INT32_MIN, K_V128, ++j->clock};
  return r;
}
/* x = the v128 in slots [slot, slot + 1]: from the xmm cache when it holds
 * it (K_V128, recorded by vst), else movdqu. */
static void vld(J *j, int x, int32_t slot) {
  if (j->caching)
    for (int k = 0; k < NX; k++)
      if (j->xc[k].kind == K_V128 && j->xc[k].slot == slot) {
        j->xc[k].age = ++j->clock;
        if (2 + k != x) rr(j, 0, 0, 0x0F28, 2, x, 2 + k); /* movaps */
        return;
      }
  mem(j, 0xF3, 0, 0x0F6F, 2, x, FP, -1, 0, sd(slot));
}
/* The v128 in x to slots [slot, slot + 1] (write-through, as for scalars:
 * the slots stay the truth), forgetting what the cache and the pins knew of
 * them, and keeping a copy in the xmm cache for the next vld. */
static void vst(J *j, int32_t slot, int x) {
  c_forget(j, slot);
  c_forget(j, slot + 1);
  mem(j, 0xF3, 0, 0x0F7F, 2, x, FP, -1, 0, sd(slot));
  pin_reload(j, slot);
  pin_reload(j, slot + 1);
  bool dbl;
  if (!j->caching || pin_gpr(j, slot) >= 0 || pin_gpr(j, slot + 1) >= 0 || pin_xmm(j, slot, &dbl) >= 0 ||
      pin_xmm(j, slot + 1, &dbl) >= 0)
    return;
  int r = x >= 2 && x < 2 + NX ? x : c_take(j, true);
  if (r != x) rr(j, 0, 0, 0x0F28, 2, r, x);
  j->xc[r - 2] = (centry){slot, K_V128, ++j->clock};
}
/* Register forms: 66-prefixed (integer SSE), unprefixed (ps), with imm8. */
static void p66(J *j, uint32_t op, int len, int x, int y) { rr(j, 0x66, 0, op, len, x, y); }
static void pps(J *j, uint32_t op, int x, int y) { rr(j, 0, 0, op, 2, x, y); }
static void pimm(J *j, int pfx, uint32_t op, int len, int x, int y, unsigned imm) {
  rr(j, pfx, 0, op, len, x, y);
  b1(j, imm);
}
static void movdqa(J *j, int x, int y) {
  if (x != y) p66(j, 0x0F6F, 2, x, y);
}
/* Shift of x's lanes by an immediate: op 0x0F71 (words), 0x0F72 (dwords),
 * 0x0F73 (qwords; /3 and /7 shift the whole register by bytes), ext the
 * ModRM reg field (/2 right logical, /4 right arithmetic, /6 left). */
static void pshift_imm(J *j, uint32_t op, int ext, int x, unsigned n) { pimm(j, 0x66, op, 2, ext, x, n); }
/* x = all ones. */
static void ones(J *j, int x) { p66(j, 0x0F76, 2, x, x); }
/* x = ~x (t: a scratch register). */
static void vnot(J *j, int x, int t) {
  ones(j, t);
  p66(j, 0x0FEF, 2, x, t);
}
/* op x, [a 16-byte constant]: the constant goes into the code stream,
 * 16-byte aligned (the code buffer is page-aligned), jumped over, and the
 * instruction reads it rip-relative (legacy SSE wants aligned operands). */
static void pconst(J *j, int pfx, uint32_t op, int len, int x, const uint8_t c[16]) {
  b1(j, 0xEB); /* jmp rel8 over the padding and the constant */
  b1(j, 0);
  size_t at = j->n;
  while (j->n % 16) b1(j, 0xCC);
  size_t data = j->n;
  for (int i = 0; i < 16; i++) b1(j, c[i]);
  if (!j->oom) j->b[at - 1] = (uint8_t)(j->n - at);
  if (pfx) b1(j, (unsigned)pfx);
  rex(j, 0, x, 0, 0);
  opc(j, op, len);
  b1(j, (unsigned)((x & 7) << 3 | 5)); /* [rip + disp32] */
  b4(j, (uint32_t)(int32_t)((int64_t)data - (int64_t)(j->n + 4)));
}

/* pinsrb/pinsrw/pinsrd/pinsrq x, src, lane for n-byte lanes: src a general
 * register (base < 0: reg) or memory [base + index + disp]. */
static void pinsr(J *j, unsigned n, int x, int reg, int base, int32_t disp, unsigned lane) {
  uint32_t op = n == 1 ? 0x0F3A20 : n == 2 ? 0x0FC4 : 0x0F3A22;
  int len = n == 2 ? 2 : 3;
  if (base < 0) rr(j, 0x66, n == 8, op, len, x, reg);
  else mem(j, 0x66, n == 8, op, len, x, base, RAX, 0, disp);
  b1(j, lane);
}

/* ---------------------------------------------------------------- helpers */

/* fn(fp, ops): the interpreter's function (simd.h), ops the operand cells. */
static void call_simd(J *j, const void *fn, const wg_cell *ops) {
  movrr(j, RDI, FP);
  movi(j, RSI, (uint64_t)(uintptr_t)ops);
  call_fn(j, fn);
}

/* ---------------------------------------------------------------- instruction tables */

/* Binary instructions that are one SSE instruction, x = a op b (or b op a:
 * swap), then optionally negated: pfx, opcode (with its 0F / 0F38 bytes),
 * its length, the feature it needs. */
typedef struct binop {
  uint16_t op;
  uint8_t pfx;
  uint32_t code;
  uint8_t len, feat, swap, neg;
} binop;

static const binop binops[] = {
    {WG_OP_I8X16_ADD, 0x66, 0x0FFC, 2, 0, 0, 0},        {WG_OP_I16X8_ADD, 0x66, 0x0FFD, 2, 0, 0, 0},
    {WG_OP_I32X4_ADD, 0x66, 0x0FFE, 2, 0, 0, 0},        {WG_OP_I64X2_ADD, 0x66, 0x0FD4, 2, 0, 0, 0},
    {WG_OP_I8X16_SUB, 0x66, 0x0FF8, 2, 0, 0, 0},        {WG_OP_I16X8_SUB, 0x66, 0x0FF9, 2, 0, 0, 0},
    {WG_OP_I32X4_SUB, 0x66, 0x0FFA, 2, 0, 0, 0},        {WG_OP_I64X2_SUB, 0x66, 0x0FFB, 2, 0, 0, 0},
    {WG_OP_I16X8_MUL, 0x66, 0x0FD5, 2, 0, 0, 0},        {WG_OP_I32X4_MUL, 0x66, 0x0F3840, 3, F_SSE41, 0, 0},
    {WG_OP_I8X16_ADD_SAT_S, 0x66, 0x0FEC, 2, 0, 0, 0},  {WG_OP_I16X8_ADD_SAT_S, 0x66, 0x0FED, 2, 0, 0, 0},
    {WG_OP_I8X16_ADD_SAT_U, 0x66, 0x0FDC, 2, 0, 0, 0},  {WG_OP_I16X8_ADD_SAT_U, 0x66, 0x0FDD, 2, 0, 0, 0},
    {WG_OP_I8X16_SUB_SAT_S, 0x66, 0x0FE8, 2, 0, 0, 0},  {WG_OP_I16X8_SUB_SAT_S, 0x66, 0x0FE9, 2, 0, 0, 0},
    {WG_OP_I8X16_SUB_SAT_U, 0x66, 0x0FD8, 2, 0, 0, 0},  {WG_OP_I16X8_SUB_SAT_U, 0x66, 0x0FD9, 2, 0, 0, 0},
    {WG_OP_I8X16_MIN_U, 0x66, 0x0FDA, 2, 0, 0, 0},      {WG_OP_I8X16_MAX_U, 0x66, 0x0FDE, 2, 0, 0, 0},
    {WG_OP_I16X8_MIN_S, 0x66, 0x0FEA, 2, 0, 0, 0},      {WG_OP_I16X8_MAX_S, 0x66, 0x0FEE, 2, 0, 0, 0},
    {WG_OP_I8X16_MIN_S, 0x66, 0x0F3838, 3, F_SSE41, 0, 0}, {WG_OP_I8X16_MAX_S, 0x66, 0x0F383C, 3, F_SSE41, 0, 0},
    {WG_OP_I16X8_MIN_U, 0x66, 0x0F383A, 3, F_SSE41, 0, 0}, {WG_OP_I16X8_MAX_U, 0x66, 0x0F383E, 3, F_SSE41, 0, 0},
    {WG_OP_I32X4_MIN_S, 0x66, 0x0F3839, 3, F_SSE41, 0, 0}, {WG_OP_I32X4_MAX_S, 0x66, 0x0F383D, 3, F_SSE41, 0, 0},
    {WG_OP_I32X4_MIN_U, 0x66, 0x0F383B, 3, F_SSE41, 0, 0}, {WG_OP_I32X4_MAX_U, 0x66, 0x0F383F, 3, F_SSE41, 0, 0},
    {WG_OP_I8X16_AVGR_U, 0x66, 0x0FE0, 2, 0, 0, 0},     {WG_OP_I16X8_AVGR_U, 0x66, 0x0FE3, 2, 0, 0, 0},
    {WG_OP_V128_AND, 0x66, 0x0FDB, 2, 0, 0, 0},         {WG_OP_V128_ANDNOT, 0x66, 0x0FDF, 2, 0, 1, 0},
    {WG_OP_V128_OR, 0x66, 0x0FEB, 2, 0, 0, 0},          {WG_OP_V128_XOR, 0x66, 0x0FEF, 2, 0, 0, 0},
    {WG_OP_I8X16_NARROW_I16X8_S, 0x66, 0x0F63, 2, 0, 0, 0}, {WG_OP_I8X16_NARROW_I16X8_U, 0x66, 0x0F67, 2, 0, 0, 0},
    {WG_OP_I16X8_NARROW_I32X4_S, 0x66, 0x0F6B, 2, 0, 0, 0},
    {WG_OP_I16X8_NARROW_I32X4_U, 0x66, 0x0F382B, 3, F_SSE41, 0, 0},
    {WG_OP_I32X4_DOT_I16X8_S, 0x66, 0x0FF5, 2, 0, 0, 0},
    /* comparisons: eq, ne = not eq, gt_s, lt_s = gt_s swapped, le_s = not gt_s, ge_s = not lt_s */
    {WG_OP_I8X16_EQ, 0x66, 0x0F74, 2, 0, 0, 0},         {WG_OP_I8X16_NE, 0x66, 0x0F74, 2, 0, 0, 1},
    {WG_OP_I8X16_GT_S, 0x66, 0x0F64, 2, 0, 0, 0},       {WG_OP_I8X16_LT_S, 0x66, 0x0F64, 2, 0, 1, 0},
    {WG_OP_I8X16_LE_S, 0x66, 0x0F64, 2, 0, 0, 1},       {WG_OP_I8X16_GE_S, 0x66, 0x0F64, 2, 0, 1, 1},
    {WG_OP_I16X8_EQ, 0x66, 0x0F75, 2, 0, 0, 0},         {WG_OP_I16X8_NE, 0x66, 0x0F75, 2, 0, 0, 1},
    {WG_OP_I16X8_GT_S, 0x66, 0x0F65, 2, 0, 0, 0},       {WG_OP_I16X8_LT_S, 0x66, 0x0F65, 2, 0, 1, 0},
    {WG_OP_I16X8_LE_S, 0x66, 0x0F65, 2, 0, 0, 1},       {WG_OP_I16X8_GE_S, 0x66, 0x0F65, 2, 0, 1, 1},
    {WG_OP_I32X4_EQ, 0x66, 0x0F76, 2, 0, 0, 0},         {WG_OP_I32X4_NE, 0x66, 0x0F76, 2, 0, 0, 1},
    {WG_OP_I32X4_GT_S, 0x66, 0x0F66, 2, 0, 0, 0},       {WG_OP_I32X4_LT_S, 0x66, 0x0F66, 2, 0, 1, 0},
    {WG_OP_I32X4_LE_S, 0x66, 0x0F66, 2, 0, 0, 1},       {WG_OP_I32X4_GE_S, 0x66, 0x0F66, 2, 0, 1, 1},
    {WG_OP_I64X2_EQ, 0x66, 0x0F3829, 3, F_SSE41, 0, 0}, {WG_OP_I64X2_NE, 0x66, 0x0F3829, 3, F_SSE41, 0, 1},
    {WG_OP_I64X2_GT_S, 0x66, 0x0F3837, 3, F_SSE42, 0, 0}, {WG_OP_I64X2_LT_S, 0x66, 0x0F3837, 3, F_SSE42, 1, 0},
    {WG_OP_I64X2_LE_S, 0x66, 0x0F3837, 3, F_SSE42, 0, 1}, {WG_OP_I64X2_GE_S, 0x66, 0x0F3837, 3, F_SSE42, 1, 1},
    /* floating point: the same instructions the interpreter's C compiles to */
    {WG_OP_F32X4_ADD, 0, 0x0F58, 2, 0, 0, 0},           {WG_OP_F64X2_ADD, 0x66, 0x0F58, 2, 0, 0, 0},
    {WG_OP_F32X4_SUB, 0, 0x0F5C, 2, 0, 0, 0},           {WG_OP_F64X2_SUB, 0x66, 0x0F5C, 2, 0, 0, 0},
    {WG_OP_F32X4_MUL, 0, 0x0F59, 2, 0, 0, 0},           {WG_OP_F64X2_MUL, 0x66, 0x0F59, 2, 0, 0, 0},
    {WG_OP_F32X4_DIV, 0, 0x0F5E, 2, 0, 0, 0},           {WG_OP_F64X2_DIV, 0x66, 0x0F5E, 2, 0, 0, 0},
    /* pmin(x, y) = y < x ? y : x is minps with y first; pmax likewise */
    {WG_OP_F32X4_PMIN, 0, 0x0F5D, 2, 0, 1, 0},          {WG_OP_F64X2_PMIN, 0x66, 0x0F5D, 2, 0, 1, 0},
    {WG_OP_F32X4_PMAX, 0, 0x0F5F, 2, 0, 1, 0},          {WG_OP_F64X2_PMAX, 0x66, 0x0F5F, 2, 0, 1, 0},
};

/* Float comparisons: cmpps/cmppd with predicate imm (0 eq, 1 lt, 2 le,
 * 4 neq: unordered lanes false except for neq, as wasm wants). */
typedef struct fcmp {
  uint16_t op;
  uint8_t pfx, imm, swap;
} fcmp;
static const fcmp fcmps[] = {
    {WG_OP_F32X4_EQ, 0, 0, 0}, {WG_OP_F32X4_NE, 0, 4, 0}, {WG_OP_F32X4_LT, 0, 1, 0},
    {WG_OP_F32X4_GT, 0, 1, 1}, {WG_OP_F32X4_LE, 0, 2, 0}, {WG_OP_F32X4_GE, 0, 2, 1},
    {WG_OP_F64X2_EQ, 0x66, 0, 0}, {WG_OP_F64X2_NE, 0x66, 4, 0}, {WG_OP_F64X2_LT, 0x66, 1, 0},
    {WG_OP_F64X2_GT, 0x66, 1, 1}, {WG_OP_F64X2_LE, 0x66, 2, 0}, {WG_OP_F64X2_GE, 0x66, 2, 1},
};

/* Unsigned comparisons: a >= b iff max_u(a, b) == a, a <= b iff
 * min_u(a, b) == a; lt and gt are their negations. */
typedef struct ucmp {
  uint16_t op;
  uint32_t minmax, eq;
  uint8_t mmlen, eqlen, feat, neg;
} ucmp;
static const ucmp ucmps[] = {
    {WG_OP_I8X16_GE_U, 0x0FDE, 0x0F74, 2, 2, 0, 0},     {WG_OP_I8X16_LT_U, 0x0FDE, 0x0F74, 2, 2, 0, 1},
    {WG_OP_I8X16_LE_U, 0x0FDA, 0x0F74, 2, 2, 0, 0},     {WG_OP_I8X16_GT_U, 0x0FDA, 0x0F74, 2, 2, 0, 1},
    {WG_OP_I16X8_GE_U, 0x0F383E, 0x0F75, 3, 2, F_SSE41, 0}, {WG_OP_I16X8_LT_U, 0x0F383E, 0x0F75, 3, 2, F_SSE41, 1},
    {WG_OP_I16X8_LE_U, 0x0F383A, 0x0F75, 3, 2, F_SSE41, 0}, {WG_OP_I16X8_GT_U, 0x0F383A, 0x0F75, 3, 2, F_SSE41, 1},
    {WG_OP_I32X4_GE_U, 0x0F383F, 0x0F76, 3, 2, F_SSE41, 0}, {WG_OP_I32X4_LT_U, 0x0F383F, 0x0F76, 3, 2, F_SSE41, 1},
    {WG_OP_I32X4_LE_U, 0x0F383B, 0x0F76, 3, 2, F_SSE41, 0}, {WG_OP_I32X4_GT_U, 0x0F383B, 0x0F76, 3, 2, F_SSE41, 1},
};

/* Unary instructions that are one SSE instruction x = op(a). */
typedef struct unop {
  uint16_t op;
  uint8_t pfx;
  uint32_t code;
  uint8_t len, feat;
} unop;
static const unop unops[] = {
    {WG_OP_I8X16_ABS, 0x66, 0x0F381C, 3, F_SSSE3},      {WG_OP_I16X8_ABS, 0x66, 0x0F381D, 3, F_SSSE3},
    {WG_OP_I32X4_ABS, 0x66, 0x0F381E, 3, F_SSSE3},
    {WG_OP_I16X8_EXTEND_LOW_I8X16_S, 0x66, 0x0F3820, 3, F_SSE41},
    {WG_OP_I16X8_EXTEND_LOW_I8X16_U, 0x66, 0x0F3830, 3, F_SSE41},
    {WG_OP_I32X4_EXTEND_LOW_I16X8_S, 0x66, 0x0F3823, 3, F_SSE41},
    {WG_OP_I32X4_EXTEND_LOW_I16X8_U, 0x66, 0x0F3833, 3, F_SSE41},
    {WG_OP_I64X2_EXTEND_LOW_I32X4_S, 0x66, 0x0F3825, 3, F_SSE41},
    {WG_OP_I64X2_EXTEND_LOW_I32X4_U, 0x66, 0x0F3835, 3, F_SSE41},
    {WG_OP_F32X4_SQRT, 0, 0x0F51, 2, 0},                {WG_OP_F64X2_SQRT, 0x66, 0x0F51, 2, 0},
    {WG_OP_F32X4_CONVERT_I32X4_S, 0, 0x0F5B, 2, 0},     {WG_OP_F64X2_CONVERT_LOW_I32X4_S, 0xF3, 0x0FE6, 2, 0},
    {WG_OP_F32X4_DEMOTE_F64X2_ZERO, 0x66, 0x0F5A, 2, 0}, {WG_OP_F64X2_PROMOTE_LOW_F32X4, 0, 0x0F5A, 2, 0},
};

static const binop *find_bin(unsigned op) {
  for (size_t k = 0; k < sizeof binops / sizeof *binops; k++)
    if (binops[k].op == op) return &binops[k];
  return NULL;
}
static const unop *find_un(unsigned op) {
  for (size_t k = 0; k < sizeof unops / sizeof *unops; k++)
    if (unops[k].op == op) return &unops[k];
  return NULL;
}
static bool has(unsigned f) { return (feats & F_INLINE) && (feats & f) == f; }

/* ---------------------------------------------------------------- IR_SIMD inline */

/* Shifts by a scalar: the count (modulo the lane width) in xmm1; opcodes
 * for words, dwords, qwords (0: no such SSE shift). */
static bool emit_shift(J *j, unsigned op, int32_t a, int32_t b, int32_t dst) {
  uint32_t code;
  unsigned bits;
  switch (op) {
    case WG_OP_I16X8_SHL: code = 0x0FF1, bits = 16; break;
    case WG_OP_I16X8_SHR_U: code = 0x0FD1, bits = 16; break;
    case WG_OP_I16X8_SHR_S: code = 0x0FE1, bits = 16; break;
    case WG_OP_I32X4_SHL: code = 0x0FF2, bits = 32; break;
    case WG_OP_I32X4_SHR_U: code = 0x0FD2, bits = 32; break;
    case WG_OP_I32X4_SHR_S: code = 0x0FE2, bits = 32; break;
    case WG_OP_I64X2_SHL: code = 0x0FF3, bits = 64; break;
    case WG_OP_I64X2_SHR_U: code = 0x0FD3, bits = 64; break;
    default: return false;
  }
  ld(j, 0, RAX, b);
  rr(j, 0, 0, 0x83, 1, 4, RAX); /* and eax, bits - 1 */
  b1(j, bits - 1);
  p66(j, 0x0F6E, 2, X1, RAX); /* movd xmm1, eax */
  vld(j, X0, a);
  p66(j, code, 2, X0, X1);
  vst(j, dst, X0);
  return true;
}

/* Splat of a scalar in eax/rax to all lanes of x (SSE2). */
static void splat_gpr(J *j, unsigned lane_bytes, int x) {
  if (lane_bytes == 8) {
    rr(j, 0x66, 1, 0x0F6E, 2, x, RAX); /* movq x, rax */
    p66(j, 0x0F6C, 2, x, x);           /* punpcklqdq */
    return;
  }
  p66(j, 0x0F6E, 2, x, RAX); /* movd x, eax */
  if (lane_bytes == 1) p66(j, 0x0F60, 2, x, x);         /* punpcklbw: the byte to a word */
  if (lane_bytes <= 2) pimm(j, 0xF2, 0x0F70, 2, x, x, 0); /* pshuflw: the word to the low dwords */
  pimm(j, 0x66, 0x0F70, 2, x, x, 0);                     /* pshufd: dword 0 everywhere */
}

/* f32x4/f64x2 min and max with wasm's rules, as simd.c computes them
 * (numeric.h: a NaN operand gives x + y, so one NaN operand comes back
 * quietened; equal operands combine their bits, so -0 wins min and +0 wins
 * max; else the smaller / larger). */
static void emit_fminmax(J *j, bool dbl, bool max, int32_t a, int32_t b, int32_t dst) {
  int pfx = dbl ? 0x66 : 0;
  uint32_t mm = max ? 0x0F5F : 0x0F5D;
  vld(j, X0, a);
  vld(j, X1, b);
  int t = vtmp(j), u = vtmp(j), v = vtmp(j);
  movdqa(j, t, X0);
  rr(j, pfx, 0, mm, 2, t, X1); /* a op b */
  movdqa(j, u, X1);
  rr(j, pfx, 0, mm, 2, u, X0); /* b op a: the same unless equal or NaN */
  rr(j, 0, 0, max ? 0x0F54 : 0x0F56, 2, t, u); /* andps (max) / orps (min) */
  movdqa(j, u, X0);
  pimm(j, pfx, 0x0FC2, 2, u, X1, 3); /* cmpunord: either NaN */
  movdqa(j, v, X0);
  rr(j, pfx, 0, 0x0F58, 2, v, X1); /* a + b */
  pps(j, 0x0F54, v, u);           /* andps: the sums where NaN */
  pps(j, 0x0F55, u, t);           /* andnps: the rest elsewhere */
  pps(j, 0x0F56, u, v);
  vst(j, dst, u);
}

/* Inline code for IR_SIMD instruction op (operands a, b, c, result dst);
 * false when it has none on this CPU (the caller calls the helper). */
static bool emit_simd_inline(J *j, unsigned op, int32_t a, int32_t b, int32_t c, int32_t dst) {
  const binop *bo = find_bin(op);
  if (bo) {
    if (!has(bo->feat)) return false;
    vld(j, X0, bo->swap ? b : a);
    vld(j, X1, bo->swap ? a : b);
    rr(j, bo->pfx, 0, bo->code, bo->len, X0, X1);
    if (bo->neg) vnot(j, X0, X1);
    vst(j, dst, X0);
    return true;
  }
  for (size_t k = 0; k < sizeof fcmps / sizeof *fcmps; k++)
    if (fcmps[k].op == op) {
      vld(j, X0, fcmps[k].swap ? b : a);
      vld(j, X1, fcmps[k].swap ? a : b);
      pimm(j, fcmps[k].pfx, 0x0FC2, 2, X0, X1, fcmps[k].imm);
      vst(j, dst, X0);
      return true;
    }
  for (size_t k = 0; k < sizeof ucmps / sizeof *ucmps; k++)
    if (ucmps[k].op == op) {
      const ucmp *u = &ucmps[k];
      if (!has(u->feat)) return false;
      vld(j, X0, a);
      vld(j, X1, b);
      p66(j, u->minmax, u->mmlen, X1, X0); /* min/max(b, a) */
      p66(j, u->eq, u->eqlen, X0, X1);     /* == a */
      if (u->neg) vnot(j, X0, X1);
      vst(j, dst, X0);
      return true;
    }
  const unop *uo = find_un(op);
  if (uo) {
    if (!has(uo->feat)) return false;
    vld(j, X1, a);
    rr(j, uo->pfx, 0, uo->code, uo->len, X0, X1);
    vst(j, dst, X0);
    return true;
  }
  if (emit_shift(j, op, a, b, dst)) return true;
  switch (op) {
    case WG_OP_I8X16_SPLAT: case WG_OP_I16X8_SPLAT: case WG_OP_I32X4_SPLAT: case WG_OP_F32X4_SPLAT:
    case WG_OP_I64X2_SPLAT: case WG_OP_F64X2_SPLAT: {
      unsigned n = op == WG_OP_I8X16_SPLAT ? 1 : op == WG_OP_I16X8_SPLAT ? 2
                   : op == WG_OP_I64X2_SPLAT || op == WG_OP_F64X2_SPLAT ? 8 : 4;
      ld(j, n == 8, RAX, a);
      splat_gpr(j, n, X0);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_I8X16_EXTRACT_LANE_S: case WG_OP_I8X16_EXTRACT_LANE_U: case WG_OP_I16X8_EXTRACT_LANE_S:
    case WG_OP_I16X8_EXTRACT_LANE_U: case WG_OP_I32X4_EXTRACT_LANE: case WG_OP_F32X4_EXTRACT_LANE:
    case WG_OP_I64X2_EXTRACT_LANE: case WG_OP_F64X2_EXTRACT_LANE: {
      /* Straight from the lane's bytes in the slots. */
      static const struct { uint16_t op; uint32_t code; uint8_t len, n, w; } ex[] = {
          {WG_OP_I8X16_EXTRACT_LANE_S, 0x0FBE, 2, 1, 0}, {WG_OP_I8X16_EXTRACT_LANE_U, 0x0FB6, 2, 1, 0},
          {WG_OP_I16X8_EXTRACT_LANE_S, 0x0FBF, 2, 2, 0}, {WG_OP_I16X8_EXTRACT_LANE_U, 0x0FB7, 2, 2, 0},
          {WG_OP_I32X4_EXTRACT_LANE, 0x8B, 1, 4, 0},     {WG_OP_F32X4_EXTRACT_LANE, 0x8B, 1, 4, 0},
          {WG_OP_I64X2_EXTRACT_LANE, 0x8B, 1, 8, 1},     {WG_OP_F64X2_EXTRACT_LANE, 0x8B, 1, 8, 1}};
      size_t k = 0;
      while (ex[k].op != op) k++;
      mem(j, 0, ex[k].w, ex[k].code, ex[k].len, RAX, FP, -1, 0, sd(a) + c * ex[k].n);
      st(j, 1, dst, RAX); /* the whole slot, upper half zero for 32 bits, as simd.c writes it */
      return true;
    }
    case WG_OP_I8X16_REPLACE_LANE: case WG_OP_I16X8_REPLACE_LANE: case WG_OP_I32X4_REPLACE_LANE:
    case WG_OP_F32X4_REPLACE_LANE: case WG_OP_I64X2_REPLACE_LANE: case WG_OP_F64X2_REPLACE_LANE: {
      /* pinsrb/w/d/q in a register: writing the lane into the slots instead
       * would make the next 16-byte read of them miss store forwarding. */
      unsigned n = op == WG_OP_I8X16_REPLACE_LANE ? 1 : op == WG_OP_I16X8_REPLACE_LANE ? 2
                   : op == WG_OP_I64X2_REPLACE_LANE || op == WG_OP_F64X2_REPLACE_LANE ? 8 : 4;
      if (n != 2 && !has(F_SSE41)) return false;
      ld(j, n == 8, RCX, b);
      vld(j, X0, a);
      pinsr(j, n, X0, RCX, -1, 0, (unsigned)c);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_V128_NOT:
      vld(j, X0, a);
      vnot(j, X0, X1);
      vst(j, dst, X0);
      return true;
    case WG_OP_V128_BITSELECT: /* ((a ^ b) & c) ^ b */
      vld(j, X0, a);
      vld(j, X1, b);
      p66(j, 0x0FEF, 2, X0, X1);
      {
        int t = vtmp(j);
        vld(j, t, c);
        p66(j, 0x0FDB, 2, X0, t);
      }
      p66(j, 0x0FEF, 2, X0, X1);
      vst(j, dst, X0);
      return true;
    case WG_OP_V128_ANY_TRUE: case WG_OP_I8X16_ALL_TRUE: case WG_OP_I16X8_ALL_TRUE: case WG_OP_I32X4_ALL_TRUE:
    case WG_OP_I64X2_ALL_TRUE: {
      /* Lanes equal to zero, as a byte mask: any_true when not all bytes
       * are zero, all_true when no lane is. */
      if (op == WG_OP_I64X2_ALL_TRUE && !has(F_SSE41)) return false;
      vld(j, X1, a);
      p66(j, 0x0FEF, 2, X0, X0);
      if (op == WG_OP_I64X2_ALL_TRUE) p66(j, 0x0F3829, 3, X0, X1);
      else p66(j, op == WG_OP_I16X8_ALL_TRUE ? 0x0F75 : op == WG_OP_I32X4_ALL_TRUE ? 0x0F76 : 0x0F74, 2, X0, X1);
      p66(j, 0x0FD7, 2, RAX, X0); /* pmovmskb eax, xmm0 */
      if (op == WG_OP_V128_ANY_TRUE) {
        rr(j, 0, 0, 0x81, 1, 7, RAX); /* cmp eax, 0xFFFF */
        b4(j, 0xFFFF);
        setcc(j, CC_NE);
      } else {
        rr(j, 0, 0, 0x85, 1, RAX, RAX);
        setcc(j, CC_E);
      }
      st(j, 1, dst, RAX);
      return true;
    }
    case WG_OP_I8X16_BITMASK:
    case WG_OP_I16X8_BITMASK:
    case WG_OP_I32X4_BITMASK:
    case WG_OP_I64X2_BITMASK:
      vld(j, X0, a);
      if (op == WG_OP_I8X16_BITMASK) p66(j, 0x0FD7, 2, RAX, X0);
      else if (op == WG_OP_I32X4_BITMASK) pps(j, 0x0F50, RAX, X0); /* movmskps */
      else if (op == WG_OP_I64X2_BITMASK) p66(j, 0x0F50, 2, RAX, X0); /* movmskpd */
      else {
        p66(j, 0x0F63, 2, X0, X0); /* packsswb: the words' signs to bytes */
        p66(j, 0x0FD7, 2, RAX, X0);
        rr(j, 0, 0, 0x0FB6, 2, RAX, RAX); /* movzx eax, al */
      }
      st(j, 1, dst, RAX);
      return true;
    case WG_OP_I8X16_NEG: case WG_OP_I16X8_NEG: case WG_OP_I32X4_NEG: case WG_OP_I64X2_NEG:
      vld(j, X1, a);
      p66(j, 0x0FEF, 2, X0, X0);
      p66(j, op == WG_OP_I8X16_NEG ? 0x0FF8 : op == WG_OP_I16X8_NEG ? 0x0FF9 : op == WG_OP_I32X4_NEG ? 0x0FFA : 0x0FFB,
          2, X0, X1);
      vst(j, dst, X0);
      return true;
    case WG_OP_F32X4_ABS: case WG_OP_F64X2_ABS: case WG_OP_F32X4_NEG: case WG_OP_F64X2_NEG: {
      /* The sign bits: cleared (and with ~sign) or flipped (xor with sign). */
      bool dbl = op == WG_OP_F64X2_ABS || op == WG_OP_F64X2_NEG, abs = op == WG_OP_F32X4_ABS || op == WG_OP_F64X2_ABS;
      vld(j, X0, a);
      ones(j, X1);
      pshift_imm(j, dbl ? 0x0F73 : 0x0F72, abs ? 2 : 6, X1, abs ? 1 : dbl ? 63 : 31);
      pps(j, abs ? 0x0F54 : 0x0F57, X0, X1);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_F32X4_CEIL: case WG_OP_F32X4_FLOOR: case WG_OP_F32X4_TRUNC: case WG_OP_F32X4_NEAREST:
    case WG_OP_F64X2_CEIL: case WG_OP_F64X2_FLOOR: case WG_OP_F64X2_TRUNC: case WG_OP_F64X2_NEAREST: {
      /* roundps/roundpd: a NaN comes back quietened, as x + x does */
      if (!has(F_SSE41)) return false;
      bool dbl = op == WG_OP_F64X2_CEIL || op == WG_OP_F64X2_FLOOR || op == WG_OP_F64X2_TRUNC ||
                 op == WG_OP_F64X2_NEAREST;
      unsigned mode = op == WG_OP_F32X4_NEAREST || op == WG_OP_F64X2_NEAREST ? 0
                      : op == WG_OP_F32X4_FLOOR || op == WG_OP_F64X2_FLOOR ? 1
                      : op == WG_OP_F32X4_CEIL || op == WG_OP_F64X2_CEIL   ? 2 : 3;
      vld(j, X1, a);
      pimm(j, 0x66, dbl ? 0x0F3A09 : 0x0F3A08, 3, X0, X1, mode | 8);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_F32X4_MIN: case WG_OP_F32X4_MAX: case WG_OP_F64X2_MIN: case WG_OP_F64X2_MAX:
      emit_fminmax(j, op == WG_OP_F64X2_MIN || op == WG_OP_F64X2_MAX, op == WG_OP_F32X4_MAX || op == WG_OP_F64X2_MAX, a,
                   b, dst);
      return true;
    case WG_OP_I32X4_TRUNC_SAT_F32X4_S:
      /* NaN lanes to 0, cvttps2dq, and lanes that were >= 0 but came out
       * as 0x80000000 (overflow) to 0x7FFFFFFF. */
      vld(j, X0, a);
      movdqa(j, X1, X0);
      pimm(j, 0, 0x0FC2, 2, X1, X1, 0); /* cmpeqps: not NaN */
      pps(j, 0x0F54, X0, X1);           /* andps */
      p66(j, 0x0FEF, 2, X1, X0);        /* top bit set where >= 0 */
      rr(j, 0xF3, 0, 0x0F5B, 2, X0, X0); /* cvttps2dq */
      p66(j, 0x0FDB, 2, X1, X0);        /* pand */
      pshift_imm(j, 0x0F72, 4, X1, 31); /* psrad 31 */
      p66(j, 0x0FEF, 2, X0, X1);
      vst(j, dst, X0);
      return true;
    case WG_OP_F32X4_CONVERT_I32X4_U:
      /* hi * 65536 + lo with both halves converted exactly: one rounding,
       * the correctly rounded result (float)x gives. */
      vld(j, X0, a);
      movdqa(j, X1, X0);
      pshift_imm(j, 0x0F72, 2, X0, 16); /* psrld 16: hi */
      pshift_imm(j, 0x0F72, 6, X1, 16); /* pslld 16 */
      pshift_imm(j, 0x0F72, 2, X1, 16); /* psrld 16: lo */
      pps(j, 0x0F5B, X0, X0);           /* cvtdq2ps */
      pps(j, 0x0F5B, X1, X1);
      {
        static const uint8_t k65536[16] = {0, 0, 0x80, 0x47, 0, 0, 0x80, 0x47, 0, 0, 0x80, 0x47, 0, 0, 0x80, 0x47};
        pconst(j, 0, 0x0F59, 2, X0, k65536); /* mulps by 65536.0f */
      }
      pps(j, 0x0F58, X0, X1); /* addps */
      vst(j, dst, X0);
      return true;
    case WG_OP_I16X8_EXTEND_HIGH_I8X16_S: case WG_OP_I16X8_EXTEND_HIGH_I8X16_U: case WG_OP_I32X4_EXTEND_HIGH_I16X8_S:
    case WG_OP_I32X4_EXTEND_HIGH_I16X8_U: case WG_OP_I64X2_EXTEND_HIGH_I32X4_S: case WG_OP_I64X2_EXTEND_HIGH_I32X4_U: {
      if (!has(F_SSE41)) return false;
      static const struct { uint16_t op; uint32_t code; } hi[] = {
          {WG_OP_I16X8_EXTEND_HIGH_I8X16_S, 0x0F3820}, {WG_OP_I16X8_EXTEND_HIGH_I8X16_U, 0x0F3830},
          {WG_OP_I32X4_EXTEND_HIGH_I16X8_S, 0x0F3823}, {WG_OP_I32X4_EXTEND_HIGH_I16X8_U, 0x0F3833},
          {WG_OP_I64X2_EXTEND_HIGH_I32X4_S, 0x0F3825}, {WG_OP_I64X2_EXTEND_HIGH_I32X4_U, 0x0F3835}};
      size_t k = 0;
      while (hi[k].op != op) k++;
      vld(j, X1, a);
      pshift_imm(j, 0x0F73, 3, X1, 8); /* psrldq 8: the high half down */
      p66(j, hi[k].code, 3, X0, X1);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_I16X8_EXTMUL_LOW_I8X16_S: case WG_OP_I16X8_EXTMUL_HIGH_I8X16_S: case WG_OP_I16X8_EXTMUL_LOW_I8X16_U:
    case WG_OP_I16X8_EXTMUL_HIGH_I8X16_U: case WG_OP_I32X4_EXTMUL_LOW_I16X8_S: case WG_OP_I32X4_EXTMUL_HIGH_I16X8_S:
    case WG_OP_I32X4_EXTMUL_LOW_I16X8_U: case WG_OP_I32X4_EXTMUL_HIGH_I16X8_U: {
      /* Both operands extended (pmovsx/pmovzx), then pmullw / pmulld. */
      if (!has(F_SSE41)) return false;
      bool w16 = op == WG_OP_I16X8_EXTMUL_LOW_I8X16_S || op == WG_OP_I16X8_EXTMUL_HIGH_I8X16_S ||
                 op == WG_OP_I16X8_EXTMUL_LOW_I8X16_U || op == WG_OP_I16X8_EXTMUL_HIGH_I8X16_U;
      bool high = op == WG_OP_I16X8_EXTMUL_HIGH_I8X16_S || op == WG_OP_I16X8_EXTMUL_HIGH_I8X16_U ||
                  op == WG_OP_I32X4_EXTMUL_HIGH_I16X8_S || op == WG_OP_I32X4_EXTMUL_HIGH_I16X8_U;
      bool sgn = op == WG_OP_I16X8_EXTMUL_LOW_I8X16_S || op == WG_OP_I16X8_EXTMUL_HIGH_I8X16_S ||
                 op == WG_OP_I32X4_EXTMUL_LOW_I16X8_S || op == WG_OP_I32X4_EXTMUL_HIGH_I16X8_S;
      uint32_t ext = (w16 ? 0x0F3820 : 0x0F3823) + (sgn ? 0 : 0x10);
      vld(j, X0, a);
      vld(j, X1, b);
      if (high) {
        pshift_imm(j, 0x0F73, 3, X0, 8);
        pshift_imm(j, 0x0F73, 3, X1, 8);
      }
      p66(j, ext, 3, X0, X0);
      p66(j, ext, 3, X1, X1);
      if (w16) p66(j, 0x0FD5, 2, X0, X1);
      else p66(j, 0x0F3840, 3, X0, X1);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_I64X2_EXTMUL_LOW_I32X4_S: case WG_OP_I64X2_EXTMUL_HIGH_I32X4_S: case WG_OP_I64X2_EXTMUL_LOW_I32X4_U:
    case WG_OP_I64X2_EXTMUL_HIGH_I32X4_U: {
      /* The two 32-bit lanes to even positions, then pmuldq / pmuludq. */
      bool sgn = op == WG_OP_I64X2_EXTMUL_LOW_I32X4_S || op == WG_OP_I64X2_EXTMUL_HIGH_I32X4_S;
      bool high = op == WG_OP_I64X2_EXTMUL_HIGH_I32X4_S || op == WG_OP_I64X2_EXTMUL_HIGH_I32X4_U;
      if (sgn && !has(F_SSE41)) return false;
      vld(j, X0, a);
      vld(j, X1, b);
      pimm(j, 0x66, 0x0F70, 2, X0, X0, high ? 0xFA : 0x50);
      pimm(j, 0x66, 0x0F70, 2, X1, X1, high ? 0xFA : 0x50);
      if (sgn) p66(j, 0x0F3828, 3, X0, X1);
      else p66(j, 0x0FF4, 2, X0, X1);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_I16X8_EXTADD_PAIRWISE_I8X16_S: case WG_OP_I16X8_EXTADD_PAIRWISE_I8X16_U:
      /* pmaddubsw: unsigned bytes of its first operand times signed bytes
       * of its second; with ones on the other side no sum saturates. */
      if (!has(F_SSSE3)) return false;
      ones(j, X0);
      p66(j, 0x0F381C, 3, X0, X0); /* pabsb: bytes of 1 */
      vld(j, X1, a);
      if (op == WG_OP_I16X8_EXTADD_PAIRWISE_I8X16_U) {
        p66(j, 0x0F3804, 3, X1, X0);
        vst(j, dst, X1);
      } else {
        p66(j, 0x0F3804, 3, X0, X1);
        vst(j, dst, X0);
      }
      return true;
    case WG_OP_I32X4_EXTADD_PAIRWISE_I16X8_S:
      ones(j, X0);
      pshift_imm(j, 0x0F71, 2, X0, 15); /* words of 1 */
      vld(j, X1, a);
      p66(j, 0x0FF5, 2, X1, X0); /* pmaddwd */
      vst(j, dst, X1);
      return true;
    case WG_OP_I8X16_SWIZZLE: {
      /* pshufb zeroes a lane whose index has its top bit set: indices
       * >= 16 get it by a saturating add of 0x70. */
      if (!has(F_SSSE3)) return false;
      static const uint8_t k70[16] = {0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70,
                                      0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70};
      vld(j, X0, a);
      vld(j, X1, b);
      pconst(j, 0x66, 0x0FDC, 2, X1, k70); /* paddusb */
      p66(j, 0x0F3800, 3, X0, X1);
      vst(j, dst, X0);
      return true;
    }
    default: return false;
  }
}

/* i8x16.shuffle with constant lanes: each operand's bytes picked by pshufb
 * with a constant mask (0x80: a zero byte), then or-ed. */
static bool emit_shuffle(J *j, const wg_cell *pc) {
  if (!has(F_SSSE3)) return false;
  uint8_t lanes[16], ma[16], mb[16];
  memcpy(lanes, &pc[3], 8);
  memcpy(lanes + 8, &pc[4], 8);
  for (int i = 0; i < 16; i++) {
    unsigned l = lanes[i] & 31;
    ma[i] = l < 16 ? (uint8_t)l : 0x80;
    mb[i] = l >= 16 ? (uint8_t)(l - 16) : 0x80;
  }
  vld(j, X0, pc[1].s.a);
  vld(j, X1, pc[1].s.b);
  pconst(j, 0x66, 0x0F3800, 3, X0, ma); /* pshufb */
  pconst(j, 0x66, 0x0F3800, 3, X1, mb);
  p66(j, 0x0FEB, 2, X0, X1);
  vst(j, pc[2].s.b, X0);
  return true;
}

/* ---------------------------------------------------------------- memory */

/* Inline IR_SIMD_MEM for memory 0: the access at [r13 + rax + disp] after
 * wg_x64_mem_addr (a guard-page site, or checked). false: no inline form. */
static bool emit_simd_mem_inline(J *j, unsigned op, const wg_cell *pc) {
  int32_t addr = pc[1].s.a, v = pc[1].s.b, dst = pc[2].s.b;
  unsigned lane = (unsigned)pc[2].s.a >> 8, size = (unsigned)pc[2].s.a & 0xFF;
  uint64_t offset = pc[3].u64;
  bool site;
  int32_t disp;
  switch (op) {
    case WG_OP_V128_LOAD: case WG_OP_V128_LOAD32_ZERO: case WG_OP_V128_LOAD64_ZERO: case WG_OP_V128_LOAD32_SPLAT:
    case WG_OP_V128_LOAD64_SPLAT: {
      disp = wg_x64_mem_addr(j, addr, offset, size, &pc[0], &site);
      if (site) site_add(j, j->n, &pc[0]);
      if (op == WG_OP_V128_LOAD) mem(j, 0xF3, 0, 0x0F6F, 2, X0, MB, RAX, 0, disp);
      else if (size == 4) mem(j, 0x66, 0, 0x0F6E, 2, X0, MB, RAX, 0, disp); /* movd: upper lanes zero */
      else mem(j, 0xF3, 0, 0x0F7E, 2, X0, MB, RAX, 0, disp);                /* movq */
      if (op == WG_OP_V128_LOAD32_SPLAT) pimm(j, 0x66, 0x0F70, 2, X0, X0, 0);
      if (op == WG_OP_V128_LOAD64_SPLAT) p66(j, 0x0F6C, 2, X0, X0);
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_V128_LOAD8_SPLAT: case WG_OP_V128_LOAD16_SPLAT:
      disp = wg_x64_mem_addr(j, addr, offset, size, &pc[0], &site);
      if (site) site_add(j, j->n, &pc[0]);
      mem(j, 0, 0, size == 1 ? 0x0FB6 : 0x0FB7, 2, RAX, MB, RAX, 0, disp); /* movzx eax, [m] */
      splat_gpr(j, size, X0);
      vst(j, dst, X0);
      return true;
    case WG_OP_V128_LOAD8X8_S: case WG_OP_V128_LOAD8X8_U: case WG_OP_V128_LOAD16X4_S: case WG_OP_V128_LOAD16X4_U:
    case WG_OP_V128_LOAD32X2_S: case WG_OP_V128_LOAD32X2_U: {
      if (!has(F_SSE41)) return false;
      uint32_t code = op == WG_OP_V128_LOAD8X8_S ? 0x0F3820 : op == WG_OP_V128_LOAD8X8_U ? 0x0F3830
                      : op == WG_OP_V128_LOAD16X4_S ? 0x0F3823 : op == WG_OP_V128_LOAD16X4_U ? 0x0F3833
                      : op == WG_OP_V128_LOAD32X2_S ? 0x0F3825 : 0x0F3835;
      disp = wg_x64_mem_addr(j, addr, offset, size, &pc[0], &site);
      if (site) site_add(j, j->n, &pc[0]);
      mem(j, 0x66, 0, code, 3, X0, MB, RAX, 0, disp); /* pmovsx/pmovzx xmm0, m64 */
      vst(j, dst, X0);
      return true;
    }
    case WG_OP_V128_LOAD8_LANE: case WG_OP_V128_LOAD16_LANE: case WG_OP_V128_LOAD32_LANE: case WG_OP_V128_LOAD64_LANE:
      /* pinsr from memory: the access is the inserting instruction. */
      if (size != 2 && !has(F_SSE41)) return false;
      vld(j, X0, v);
      disp = wg_x64_mem_addr(j, addr, offset, size, &pc[0], &site);
      if (site) site_add(j, j->n, &pc[0]);
      pinsr(j, size, X0, 0, MB, disp, lane);
      vst(j, dst, X0);
      return true;
    case WG_OP_V128_STORE:
      vld(j, X0, v);
      disp = wg_x64_mem_addr(j, addr, offset, size, &pc[0], &site);
      if (site) site_add(j, j->n, &pc[0]);
      mem(j, 0xF3, 0, 0x0F7F, 2, X0, MB, RAX, 0, disp);
      return true;
    case WG_OP_V128_STORE8_LANE: case WG_OP_V128_STORE16_LANE: case WG_OP_V128_STORE32_LANE:
    case WG_OP_V128_STORE64_LANE: {
      disp = wg_x64_mem_addr(j, addr, offset, size, &pc[0], &site);
      int32_t at = sd(v) + (int32_t)(lane * size);
      if (size == 1) mem(j, 0, 0, 0x0FB6, 2, RDX, FP, -1, 0, at);
      else if (size == 2) mem(j, 0, 0, 0x0FB7, 2, RDX, FP, -1, 0, at);
      else mem(j, 0, size == 8, 0x8B, 1, RDX, FP, -1, 0, at);
      if (site) site_add(j, j->n, &pc[0]);
      if (size == 1) mem(j, 0, 0, 0x88, 1, RDX, MB, RAX, 0, disp);
      else if (size == 2) mem(j, 0x66, 0, 0x89, 1, RDX, MB, RAX, 0, disp);
      else mem(j, 0, size == 8, 0x89, 1, RDX, MB, RAX, 0, disp);
      return true;
    }
    default: return false;
  }
}

/* ---------------------------------------------------------------- the entry */

/* wg_global.value and .value_hi: the v128's 16 bytes, in order. */
_Static_assert(offsetof(wg_global, value_hi) == offsetof(wg_global, value) + 8, "v128 global layout");

bool wg_x64_emit_simd(J *j, bool has_mem, const wg_cell *pc, unsigned op, uint32_t *len, const char **why) {
  pthread_once(&simd_once, simd_init);
  switch (op) {
    case IR_GLOBAL_GET_V128:
    case IR_GLOBAL_SET_V128:
      *len = 2;
      mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, globals));
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, sd(pc[0].s.a));
      if (op == IR_GLOBAL_GET_V128) {
        mem(j, 0xF3, 0, 0x0F6F, 2, X0, RAX, -1, 0, (int32_t)offsetof(wg_global, value));
        vst(j, pc[0].s.b, X0);
      } else {
        vld(j, X0, pc[0].s.b);
        mem(j, 0xF3, 0, 0x0F7F, 2, X0, RAX, -1, 0, (int32_t)offsetof(wg_global, value));
      }
      return true;
    case IR_SIMD:
    case IR_SIMD_IMM: {
      *len = op == IR_SIMD ? 4 : 6;
      const void *fn = (const void *)pc[0].simd;
      unsigned wop = op_of_fn(fn);
      if (wop == UINT32_MAX) return *why = "unknown SIMD function", false;
      bool done = (feats & F_INLINE) && (op == IR_SIMD_IMM ? emit_shuffle(j, pc)
                                                           : emit_simd_inline(j, wop, pc[1].s.a, pc[1].s.b,
                                                                              pc[2].s.a, pc[2].s.b));
      if (!done) call_simd(j, fn, &pc[1]);
      return true;
    }
    case IR_SIMD_MEM: {
      *len = 5;
      if (!has_mem) return *why = "SIMD memory instruction without a memory", false;
      const void *fn = (const void *)pc[0].simd_mem;
      unsigned wop = op_of_fn(fn);
      if (wop == UINT32_MAX) return *why = "unknown SIMD function", false;
      if ((feats & F_INLINE) && emit_simd_mem_inline(j, wop, pc)) return true;
      /* The helper touches memory from C, where a guard-page fault would
       * not be ours to turn into a trap: an explicit check. */
      bool guard = j->guard, site;
      j->guard = false;
      int32_t disp = wg_x64_mem_addr(j, pc[1].s.a, pc[3].u64, (unsigned)pc[2].s.a & 0xFF, &pc[0], &site);
      j->guard = guard;
      mem(j, 0, 1, 0x8D, 1, RDX, MB, RAX, 0, disp); /* lea rdx, [r13 + rax + disp] */
      call_simd(j, fn, &pc[1]);
      return true;
    }
    default: return *why = "instruction not supported by the compiled tier", false;
  }
}

#endif
