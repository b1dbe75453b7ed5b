/*
 * jit_x64_asm.h: the x86-64 encoder and the register cache of the compiled
 * tier, shared by the back end's files through jit_x64_internal.h (static
 * inline functions: one copy per file, inlined where they are hot): a growable code
 * buffer, REX/ModRM/SIB encoding of register and memory operands, jumps with
 * fixups to IR cells, out-of-line trap and interrupt stubs, and the
 * write-through registers: pinned locals (rbp, r10, xmm8-xmm15) and a
 * cache of recently written slots (r8, r9, xmm2-xmm7).
 */
#ifndef WG_JIT_X64_ASM_H
#define WG_JIT_X64_ASM_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"

/* ---------------------------------------------------------------- encoder */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { FP = RBX, ST = R12, MB = R13, MS = R14, IN = R15 };
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

typedef struct fixup {
  size_t at;     /* rel32 (or table entry) to fill */
  uint32_t cell; /* target IR cell */
  size_t base;   /* table entries: relative to this offset; SIZE_MAX: rel32 */
} fixup;

typedef struct stub {
  size_t at; /* the jcc/jmp rel32 leading here */
  uint8_t interrupt;
  uint32_t code;
  const wg_cell *pc;
  size_t resume; /* interrupts: where to continue */
} stub;

/* The register cache: r8, r9 and xmm2-xmm7 hold copies of recently written
 * slots (stores still go to memory: write-through, so forgetting is always
 * safe). Emptied at branch targets and after anything that calls out.
 *
 * Pinned locals: the most used params and locals of a function (counted in
 * the first pass) live for the whole function in rbp, r10 (integers)
 * and xmm8-xmm15 (floats), also write-through: every write of the slot
 * also goes to memory, so the frame in memory is always current (traps,
 * deoptimisation, suspension and helpers read it there) and a pinned
 * register can be reloaded from it at any time. They survive branch
 * targets (every path keeps them current) and are reloaded after anything
 * that calls out (callees and C helpers may clobber them or write slots).
 * A pin serves reads of its own kind only (an integer read of a float
 * local goes to memory); a write of the other kind reloads the pin. */
enum { K_NONE, K_I32, K_I64, K_F32, K_F64, K_V128, NI = 2, NX = 6, NPI = 2, NPX = 8 };
/* (K_V128: an xmm entry holding the v128 of slots [slot, slot + 1];
 * jit_x64_simd.c.) */
/* (r9 as a third pin made crc32 2.8x slower at the same instruction count.) */
static const int pin_gprs[NPI] = {5 /* rbp */, 10 /* r10 */};
typedef struct centry {
  int32_t slot;
  uint8_t kind;
  uint32_t age;
} centry;

typedef struct J {
  uint8_t *b;
  size_t n, cap;
  bool oom;
  bool caching, called; /* called: the instruction calls out (caller-saved registers die) */
  size_t start;         /* the current function's entry in b */
  size_t fast_entry;    /* offset from the entry to the entry past reload_mem (emit_call) */
  centry ic[NI], xc[NX];
  /* The slot the last small constant was written to (-1: none) and its
   * value as stored (sign-extended from 32 bits); forgotten like the cache. */
  int32_t k_slot;
  int64_t k_val;
  uint32_t clock;
  /* Pinned locals: slot (-1: none) per register; for xmm pins, f64 or f32.
   * Use counts per local slot (first pass): integer, f32, f64. */
  int32_t pin_i[NPI], pin_x[NPX];
  bool pin_dbl[NPX];
  int32_t nlocals;
  uint32_t *uses;
  /* Direct calls within one batch (jit_x64.c, emit_direct_call): the batch
   * position of each defined function (-1: not in it; NULL: no direct
   * calls), and the call sites to link once every function is placed. */
  const int32_t *in_batch;
  struct dsite {
    size_t at;      /* the call's rel32 */
    size_t generic; /* the site's generic call path */
    int32_t callee; /* batch position */
    int32_t argbase;
  } *ds;
  size_t nds, capds;
  /* Bounds checks by guard pages (wg_jit_guard_pages): the accesses made
   * without a check, for jit.c's registry (offsets from the block start). */
  bool guard;
  /* r14 holds the store's epoch counter pointer instead of memory 0's size
   * (guard pages and a memory: the size is then read from the memory by
   * the rare explicit checks), so a fuel/deadline check loads one less. */
  bool ms_epoch;
  wg_jit_site *sites;
  size_t nsites, capsites;
  fixup *fx;
  size_t nfx, capfx;
  stub *st;
  size_t nst, capst;
} J;

static inline bool reserve(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap * 2 : 256;
  while (n < need) n *= 2;
  void *q = realloc(*p, n * size);
  if (!q) return false;
  *p = q;
  *cap = n;
  return true;
}

static inline void b1_slow(J *j, unsigned v) {
  if (j->oom) return;
  uint8_t *b = wg_jit_buf_grow(j->b, &j->cap, j->n + 1);
  if (!b) {
    j->oom = true;
    return;
  }
  j->b = b;
  j->b[j->n++] = (uint8_t)v;
}
static inline void b1(J *j, unsigned v) {
  if (__builtin_expect(j->n < j->cap, 1)) j->b[j->n++] = (uint8_t)v;
  else b1_slow(j, v);
}
static inline void b4(J *j, uint32_t v) {
  for (int i = 0; i < 4; i++) b1(j, (v >> (8 * i)) & 0xFF);
}
static inline void b8(J *j, uint64_t v) {
  for (int i = 0; i < 8; i++) b1(j, (unsigned)(v >> (8 * i)) & 0xFF);
}
static inline void opc(J *j, uint32_t op, int len) {
  for (int i = len - 1; i >= 0; i--) b1(j, (op >> (8 * i)) & 0xFF);
}
static inline void rex(J *j, int w, int r, int x, int b) {
  int v = (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 | ((b >> 3) & 1);
  if (v) b1(j, 0x40 | (unsigned)v);
}
/* op reg, [base + index << scale + disp] (index < 0: none); pfx: a legacy prefix or 0. */
static inline void mem(J *j, int pfx, int w, uint32_t op, int len, int reg, int base, int index, int scale, int32_t disp) {
  if (pfx) b1(j, (unsigned)pfx);
  rex(j, w, reg, index < 0 ? 0 : index, base);
  opc(j, op, len);
  int mod = disp == 0 && (base & 7) != 5 ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
  if (index >= 0 || (base & 7) == 4) {
    b1(j, (unsigned)(mod << 6 | (reg & 7) << 3 | 4));
    b1(j, (unsigned)(scale << 6 | ((index >= 0 ? index : 4) & 7) << 3 | (base & 7)));
  } else {
    b1(j, (unsigned)(mod << 6 | (reg & 7) << 3 | (base & 7)));
  }
  if (mod == 1) b1(j, (uint8_t)disp);
  else if (mod == 2) b4(j, (uint32_t)disp);
}
/* op reg, rm (register form). */
static inline void rr(J *j, int pfx, int w, uint32_t op, int len, int reg, int rm) {
  if (pfx) b1(j, (unsigned)pfx);
  rex(j, w, reg, 0, rm);
  opc(j, op, len);
  b1(j, (unsigned)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}
static inline int32_t sd(int32_t slot) { return slot * 8; }
static inline int pin_gpr(const J *j, int32_t slot) {
  for (int k = 0; k < NPI; k++)
    if (j->pin_i[k] == slot) return pin_gprs[k];
  return -1;
}
/* The xmm pin of slot (-1: none); *dbl gets its width. */
static inline int pin_xmm(const J *j, int32_t slot, bool *dbl) {
  for (int k = 0; k < NPX; k++)
    if (j->pin_x[k] == slot) {
      *dbl = j->pin_dbl[k];
      return 8 + k;
    }
  return -1;
}
/* First pass: one more use of local slot as kind (0 integer, 1 f32, 2 f64). */
static inline void count_use(J *j, int32_t slot, int kind) {
  if (!j->caching && j->uses && slot >= 0 && slot < j->nlocals) j->uses[3 * slot + kind]++;
}
/* Reloads the pins of slot from memory (after a write that bypassed them). */
static inline void pin_reload(J *j, int32_t slot) {
  int r = pin_gpr(j, slot);
  if (r >= 0) mem(j, 0, 1, 0x8B, 1, r, FP, -1, 0, slot * 8);
  bool dbl;
  int x = pin_xmm(j, slot, &dbl);
  if (x >= 0) mem(j, dbl ? 0xF2 : 0xF3, 0, 0x0F10, 2, x, FP, -1, 0, slot * 8);
}
/* Reloads every pin (function entry, after calls out). */
static inline void pins_reload(J *j) {
  for (int k = 0; k < NPI; k++)
    if (j->pin_i[k] >= 0) pin_reload(j, j->pin_i[k]);
  for (int k = 0; k < NPX; k++)
    if (j->pin_x[k] >= 0) {
      bool dbl = j->pin_dbl[k];
      mem(j, dbl ? 0xF2 : 0xF3, 0, 0x0F10, 2, 8 + k, FP, -1, 0, j->pin_x[k] * 8);
    }
}
static inline void c_forget(J *j, int32_t slot) {
  if (j->k_slot == slot) j->k_slot = -1;
  for (int k = 0; k < NI; k++)
    if (j->ic[k].slot == slot) j->ic[k].kind = K_NONE;
  for (int k = 0; k < NX; k++)
    if (j->xc[k].slot == slot || (j->xc[k].kind == K_V128 && j->xc[k].slot + 1 == slot)) j->xc[k].kind = K_NONE;
}
static inline void c_clear(J *j) {
  j->k_slot = -1;
  for (int k = 0; k < NI; k++) j->ic[k].kind = K_NONE;
  for (int k = 0; k < NX; k++) j->xc[k].kind = K_NONE;
}
/* The cache register holding slot as an integer of width w (a 64-bit copy
 * serves 32-bit reads), or -1. */
static inline int c_int(J *j, int32_t slot, int w) {
  for (int k = 0; k < NI; k++)
    if (j->ic[k].kind && j->ic[k].slot == slot && (j->ic[k].kind == K_I64 || (!w && j->ic[k].kind == K_I32))) {
      j->ic[k].age = ++j->clock;
      return R8 + k;
    }
  return -1;
}
/* The xmm register holding slot as f32 or f64, or -1. */
static inline int c_xmm(J *j, int32_t slot, bool dbl) {
  for (int k = 0; k < NX; k++)
    if (j->xc[k].kind == (dbl ? K_F64 : K_F32) && j->xc[k].slot == slot) {
      j->xc[k].age = ++j->clock;
      return 2 + k;
    }
  return -1;
}
/* Takes a cache register for a new value (its old contents are forgotten
 * at once); c_set records what it holds once written. */
static inline int c_take(J *j, bool xmm) {
  centry *c = xmm ? j->xc : j->ic;
  int n = xmm ? NX : NI, best = 0;
  for (int k = 0; k < n; k++) {
    if (!c[k].kind) {
      best = k;
      break;
    }
    if (c[k].age < c[best].age) best = k;
  }
  c[best].kind = K_NONE;
  return xmm ? 2 + best : R8 + best;
}
/* The register to compute a result for slot dst in: its pin when it has
 * one of the right kind (and the instruction does not read `avoid`, an
 * operand read after the result register is first written, from the same
 * pin), else a cache register (c_take). */
static inline int dst_reg(J *j, int32_t dst, bool xmm, bool dbl, int32_t avoid) {
  if (j->caching && dst != avoid) {
    bool pd;
    int p = xmm ? pin_xmm(j, dst, &pd) : pin_gpr(j, dst);
    if (p >= 0 && (!xmm || pd == dbl)) return p;
  }
  return c_take(j, xmm);
}
static inline void c_set(J *j, int reg, bool xmm, int32_t slot, uint8_t kind) {
  c_forget(j, slot);
  if (!j->caching) return;
  bool dbl;
  if (pin_gpr(j, slot) >= 0 || pin_xmm(j, slot, &dbl) >= 0) return; /* the pin serves it */
  centry *c = xmm ? &j->xc[reg - 2] : &j->ic[reg - R8];
  *c = (centry){slot, kind, ++j->clock};
}
static inline void st(J *j, int w, int32_t slot, int reg) {
  c_forget(j, slot);
  count_use(j, slot, 0);
  mem(j, 0, w, 0x89, 1, reg, FP, -1, 0, sd(slot));
  int p = pin_gpr(j, slot);
  if (p >= 0 && p != reg) rr(j, 0, w, 0x89, 1, reg, p); /* a 32-bit write zero-extends: fine for i32 */
  bool dbl;
  if (pin_xmm(j, slot, &dbl) >= 0) pin_reload(j, slot);
}
/* The register holding slot as an integer of width w (a pin or the
 * cache), or -1. */
static inline int int_reg(J *j, int32_t slot, int w) {
  int p = pin_gpr(j, slot);
  if (p >= 0) return p;
  return j->caching ? c_int(j, slot, w) : -1;
}
/* reg = slot (integer, width w), from a register when one holds it. */
static inline void ld(J *j, int w, int reg, int32_t slot) {
  count_use(j, slot, 0);
  int r = int_reg(j, slot, w);
  if (r == reg) return;
  if (r >= 0) rr(j, 0, w, 0x89, 1, r, reg);
  else mem(j, 0, w, 0x8B, 1, reg, FP, -1, 0, sd(slot));
}
/* The register holding slot as an integer for a read of width w that needs
 * no copy (a compare: it reads the register as is), or -1 (the use is
 * counted either way). */
static inline int src_reg(J *j, int w, int32_t slot) {
  count_use(j, slot, 0);
  return int_reg(j, slot, w);
}
/* A cache register holding slot as an i32 zero-extended to 64 bits (K_I32:
 * written by a 32-bit operation or load, which clear the upper half), so it
 * can index memory as is; -1 when none (pins and K_I64 entries of i32
 * values may carry stale upper halves from memory). Counts the use. */
static inline int zx_reg(J *j, int32_t slot) {
  count_use(j, slot, 0);
  if (!j->caching) return -1;
  for (int k = 0; k < NI; k++)
    if (j->ic[k].kind == K_I32 && j->ic[k].slot == slot) {
      j->ic[k].age = ++j->clock;
      return R8 + k;
    }
  return -1;
}
/* op reg, slot for an ALU opcode with a /r form (03 add, 3B cmp, 0FAF imul...). */
static inline void alu_src(J *j, int w, uint32_t op, int len, int reg, int32_t slot) {
  count_use(j, slot, 0);
  int r = int_reg(j, slot, w);
  if (r >= 0) rr(j, 0, w, op, len, reg, r);
  else mem(j, 0, w, op, len, reg, FP, -1, 0, sd(slot));
}
/* The xmm register holding slot as f32/f64 (a pin or the cache), or -1. */
static inline int xmm_reg(J *j, int32_t slot, bool dbl) {
  bool pd;
  int p = pin_xmm(j, slot, &pd);
  if (p >= 0 && pd == dbl) return p;
  return j->caching ? c_xmm(j, slot, dbl) : -1;
}
/* xmm = slot (f32 or f64). */
static inline void ldx(J *j, bool dbl, int x, int32_t slot) {
  count_use(j, slot, dbl ? 2 : 1);
  int r = xmm_reg(j, slot, dbl);
  if (r == x) return;
  if (r >= 0) rr(j, 0, 0, 0x0F28, 2, x, r); /* movaps */
  else mem(j, dbl ? 0xF2 : 0xF3, 0, 0x0F10, 2, x, FP, -1, 0, sd(slot));
}
/* sse op x, slot. */
static inline void sse_src(J *j, bool dbl, uint32_t op, int x, int32_t slot) {
  count_use(j, slot, dbl ? 2 : 1);
  int r = xmm_reg(j, slot, dbl);
  if (r >= 0) rr(j, dbl ? 0xF2 : 0xF3, 0, op, 2, x, r);
  else mem(j, dbl ? 0xF2 : 0xF3, 0, op, 2, x, FP, -1, 0, sd(slot));
}
static inline void stx(J *j, bool dbl, int32_t slot, int x) {
  c_forget(j, slot);
  count_use(j, slot, dbl ? 2 : 1);
  mem(j, dbl ? 0xF2 : 0xF3, 0, 0x0F11, 2, x, FP, -1, 0, sd(slot));
  bool pd;
  int p = pin_xmm(j, slot, &pd);
  if (p >= 0 && p != x) {
    if (pd == dbl) rr(j, 0, 0, 0x0F28, 2, p, x); /* movaps pin, x */
    else pin_reload(j, slot);
  }
  if (pin_gpr(j, slot) >= 0) pin_reload(j, slot);
}
static inline void movi(J *j, int reg, uint64_t v) {
  if (v <= 0xFFFFFFFFu) {
    rex(j, 0, 0, 0, reg);
    b1(j, 0xB8u + (reg & 7));
    b4(j, (uint32_t)v);
  } else if ((int64_t)v == (int32_t)v) {
    rr(j, 0, 1, 0xC7, 1, 0, reg);
    b4(j, (uint32_t)v);
  } else {
    rex(j, 1, 0, 0, reg);
    b1(j, 0xB8u + (reg & 7));
    b8(j, v);
  }
}
static inline void movrr(J *j, int dst, int src) { rr(j, 0, 1, 0x89, 1, src, dst); }
/* Calls C function fn (arguments already in place). The fuel counter lives
 * in r11 in compiled code (FUEL, jit_x64.c) and in the store for C: it is
 * written back before the call and read again after it. */
static inline void call_fn(J *j, const void *fn) {
  j->called = true;
  mem(j, 0, 1, 0x89, 1, R11, ST, -1, 0, (int32_t)offsetof(wg_store, fuel));
  movi(j, RAX, (uint64_t)(uintptr_t)fn);
  rr(j, 0, 0, 0xFF, 1, 2, RAX);
  mem(j, 0, 1, 0x8B, 1, R11, ST, -1, 0, (int32_t)offsetof(wg_store, fuel));
}
static inline size_t jcc(J *j, int cc) {
  b1(j, 0x0F);
  b1(j, 0x80u + (unsigned)cc);
  b4(j, 0);
  return j->n - 4;
}
static inline size_t jmp(J *j) {
  b1(j, 0xE9);
  b4(j, 0);
  return j->n - 4;
}
static inline void patch(J *j, size_t at, size_t target) {
  if (j->oom || at + 4 > j->n) return;
  int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
  memcpy(j->b + at, &rel, 4);
}
static inline void setcc(J *j, int cc) {
  rr(j, 0, 0, 0x0F90u + (unsigned)cc, 2, 0, RAX);
  rr(j, 0, 0, 0x0FB6, 2, RAX, RAX); /* movzx eax, al */
}

static inline void fixup_add(J *j, size_t at, uint32_t cell, size_t base) {
  if (!reserve((void **)&j->fx, &j->capfx, j->nfx + 1, sizeof(fixup))) {
    j->oom = true;
    return;
  }
  j->fx[j->nfx++] = (fixup){at, cell, base};
}
static inline void stub_add(J *j, size_t at, bool interrupt, uint32_t code, const wg_cell *pc, size_t resume) {
  if (!reserve((void **)&j->st, &j->capst, j->nst + 1, sizeof(stub))) {
    j->oom = true;
    return;
  }
  j->st[j->nst++] = (stub){at, interrupt, code, pc, resume};
}
static inline void dsite_add(J *j, size_t at, size_t generic, int32_t callee, int32_t argbase) {
  if (!reserve((void **)&j->ds, &j->capds, j->nds + 1, sizeof *j->ds)) {
    j->oom = true;
    return;
  }
  j->ds[j->nds++] = (struct dsite){at, generic, callee, argbase};
}
static inline void site_add(J *j, size_t at, const wg_cell *pc) {
  if (!reserve((void **)&j->sites, &j->capsites, j->nsites + 1, sizeof *j->sites)) {
    j->oom = true;
    return;
  }
  j->sites[j->nsites++] = (wg_jit_site){at, pc};
}
/* A conditional trap: jcc to an out-of-line stub calling wg_jit_trap. */
static inline void trap_if(J *j, int cc, wg_trap_code code, const wg_cell *pc) { stub_add(j, jcc(j, cc), false, code, pc, 0); }

#endif
