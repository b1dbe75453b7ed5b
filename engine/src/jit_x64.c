/*
 * jit_x64.c: the compiled tier's x86-64 back end, a single-pass template
 * compiler from the slot IR (ir.h): every IR instruction becomes a short
 * machine-code sequence. Registers, constant for a whole activation:
 *   rbx  fp: the frame's slot 0 (slots are read and written in memory)
 *   r12  the store (fuel, deadline, frame stack, jit context)
 *   r13  memory 0's base, r14 its size in bytes (loaded at entry, reloaded
 *        after memory.grow, helpers and calls to other instances, like the
 *        interpreter's membase/memsize; current at every return)
 *   r15  the running function's instance
 *   r11  the store's fuel counter (loaded by wg_jit_enter_arch, written
 *        back when compiled code returns to it and around every C call:
 *        call_fn), so the fuel check is a register decrement, not a
 *        read-modify-write of memory every loop turn depends on
 *   rbp, r10, xmm8-xmm15: pinned locals; r8, r9, xmm2-xmm7: the slot
 *        cache (both write-through, jit_x64_asm.h)
 * rax, rcx, rdx, rsi, rdi, xmm0, xmm1 are scratch. A call pushes the
 * interpreter's wg_frame and calls the callee's code: a call rel32 to a
 * function compiled in the same batch (emit_direct_call), else through its
 * wg_code, past its memory reload for a callee of the same instance, or at
 * its entry with r15 and rbx saved on the C stack (emit_call). Functions
 * compiled together share one code block (wg_jit_compile_arch). Inside a
 * function rsp stays
 * 16-byte aligned, so helpers are plain C calls. Anything unusual (traps,
 * fuel, deadlines, host calls, callees the tier cannot compile) goes to C
 * helpers in jit.c, which may unwind to wg_jit_enter_arch. Instructions
 * without a template make the function fall back to the interpreter.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"

#ifdef WG_JIT_NATIVE
#include <pthread.h>

/* ---------------------------------------------------------------- entry and unwinding */

/* offsetof(wg_store, fuel), for the assembly below (checked). */
#define WG_STORE_FUEL 0x78
#define WG_STR2(x) #x
#define WG_STR(x) WG_STR2(x)
_Static_assert(offsetof(wg_store, fuel) == WG_STORE_FUEL, "update WG_STORE_FUEL");

__asm__(".text\n"
        ".globl wg_jit_enter_arch\n"
        ".hidden wg_jit_enter_arch\n"
        ".type wg_jit_enter_arch,@function\n"
        "wg_jit_enter_arch:\n" /* (store, fp, inst, entry, ctx) */
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  movq %rsp, (%r8)\n" /* ctx->unwind_sp */
        "  movq %rdi, %r12\n  movq %rsi, %rbx\n  movq %rdx, %r15\n"
        "  movq " WG_STR(WG_STORE_FUEL) "(%r12), %r11\n"
        "  callq *%rcx\n"
        "  movq %r11, " WG_STR(WG_STORE_FUEL) "(%r12)\n"
        "  xorl %eax, %eax\n"
        ".Lwg_jit_out:\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".size wg_jit_enter_arch, .-wg_jit_enter_arch\n"
        ".globl wg_jit_unwind_arch\n"
        ".hidden wg_jit_unwind_arch\n"
        ".type wg_jit_unwind_arch,@function\n"
        "wg_jit_unwind_arch:\n" /* (ctx): back to wg_jit_enter_arch's frame, returning 1 */
        "  movq (%rdi), %rsp\n"
        "  movl $1, %eax\n"
        "  jmp .Lwg_jit_out\n"
        ".size wg_jit_unwind_arch, .-wg_jit_unwind_arch\n");

#include "jit_x64_asm.h"

/* ---------------------------------------------------------------- handler table */

/* Handler address -> IR instruction number: an open-addressing hash table
 * (looked up for every IR instruction compiled). */
enum { HOPS = 2048 }; /* a power of two, well above IR_COUNT */
typedef struct hop {
  const void *h;
  uint32_t op;
} hop;
static hop *hops;
static pthread_once_t hops_once = PTHREAD_ONCE_INIT;

static size_t hop_hash(const void *h) { return (size_t)(((uintptr_t)h * 0x9E3779B97F4A7C15ull) >> 40) & (HOPS - 1); }

static void hops_init(void) {
  _Static_assert(HOPS > 2 * IR_COUNT, "handler hash table too small");
  const void *const *h = wg_interp_handlers();
  hop *t = calloc(HOPS, sizeof *t);
  if (!t) return;
  for (uint32_t i = 0; i < IR_COUNT; i++) {
    if (!h[i]) continue;
    size_t k = hop_hash(h[i]);
    while (t[k].h && t[k].h != h[i]) k = (k + 1) & (HOPS - 1);
    /* A handler shared by two instructions would be ambiguous: mark it. */
    t[k].op = t[k].h ? UINT32_MAX : i;
    t[k].h = h[i];
  }
  hops = t;
}

static uint32_t op_of(const void *h) {
  for (size_t k = hop_hash(h);; k = (k + 1) & (HOPS - 1)) {
    if (hops[k].h == h) return hops[k].op;
    if (!hops[k].h) return UINT32_MAX;
  }
}

/* ---------------------------------------------------------------- templates */

static void reload_mem(J *j) {
  mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, mems));
  mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, 0);
  mem(j, 0, 1, 0x8B, 1, MB, RAX, -1, 0, (int32_t)offsetof(wg_memory, data));
  mem(j, 0, 1, 0x8B, 1, MS, RAX, -1, 0, (int32_t)offsetof(wg_memory, size));
}

/* --fuel < 0 || epoch >= deadline: the interrupt stub (pc: where the
 * interpreter would continue). */
static void check_interrupt(J *j, const wg_cell *pc) {
  rr(j, 0, 1, 0x83, 1, 5, R11); /* sub r11, 1: the fuel counter */
  b1(j, 1);
  size_t a = jcc(j, CC_S);
  mem(j, 0, 1, 0x8B, 1, RAX, ST, -1, 0, (int32_t)offsetof(wg_store, epoch));
  mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, 0);
  mem(j, 0, 1, 0x3B, 1, RAX, ST, -1, 0, (int32_t)offsetof(wg_store, deadline));
  size_t b = jcc(j, CC_AE);
  stub_add(j, a, true, 0, pc, j->n);
  stub_add(j, b, true, 0, pc, j->n);
}

/* Pushes the callee's frame (function in rax, return to ret_pc, the caller's
 * fp) on the store's frame stack, as the interpreter does: rdx ends pointing at
 * it. Returns the position of the jae taken when the stack is full (to patch). */
static size_t emit_push_frame(J *j, const wg_cell *ret_pc) {
  mem(j, 0, 0, 0x8B, 1, RDX, ST, -1, 0, (int32_t)offsetof(wg_store, depth));
  mem(j, 0, 0, 0x3B, 1, RDX, ST, -1, 0, (int32_t)offsetof(wg_store, frames_cap));
  size_t full = jcc(j, CC_AE);
  rr(j, 0, 0, 0xFF, 1, 0, RDX); /* inc edx */
  mem(j, 0, 0, 0x89, 1, RDX, ST, -1, 0, (int32_t)offsetof(wg_store, depth));
  rr(j, 0, 0, 0x6B, 1, RDX, RDX); /* imul edx, edx, sizeof(wg_frame) */
  b1(j, sizeof(wg_frame));
  mem(j, 0, 1, 0x03, 1, RDX, ST, -1, 0, (int32_t)offsetof(wg_store, frames));
  movi(j, RSI, (uint64_t)(uintptr_t)ret_pc);
  mem(j, 0, 1, 0x89, 1, RSI, RDX, -1, 0, (int32_t)offsetof(wg_frame, ret_pc));
  mem(j, 0, 1, 0x89, 1, FP, RDX, -1, 0, (int32_t)offsetof(wg_frame, ret_fp));
  mem(j, 0, 1, 0x89, 1, RAX, RDX, -1, 0, (int32_t)offsetof(wg_frame, func));
  return full;
}

/* Calls the function in rax with its arguments at fp + argbase. A callee of
 * the caller's own instance (the usual case) shares r15 and r13/r14 with it:
 * the call keeps them, enters past the callee's reload_mem (at the same
 * offset as in this code, j->fast_entry: same module) and skips the
 * reload after the return (every compiled function keeps r13/r14 current up
 * to its return: it reloads after anything that may grow the memory), and
 * rbx comes back as the callee's fp (constant in an activation), so the
 * caller recomputes its own instead of saving it. Any other callee gets
 * r15 and rbx saved on the C stack and memory reloaded after the return. */
static void emit_call(J *j, const wg_cell *call_pc, const wg_cell *ret_pc, int32_t argbase, bool has_mem) {
  size_t retry = j->n;
  mem(j, 0, 1, 0x8B, 1, RCX, RAX, -1, 0, (int32_t)offsetof(wg_func, code));
  rr(j, 0, 1, 0x85, 1, RCX, RCX);
  size_t s1 = jcc(j, CC_E);
  mem(j, 0, 1, 0x8B, 1, RCX, RCX, -1, 0, (int32_t)offsetof(wg_code, jit));
  rr(j, 0, 1, 0x85, 1, RCX, RCX);
  size_t s2 = jcc(j, CC_E);
  size_t s3 = emit_push_frame(j, ret_pc);
  mem(j, 0, 1, 0x3B, 1, IN, RAX, -1, 0, (int32_t)offsetof(wg_func, inst)); /* cmp r15, [rax + inst] */
  size_t other = jcc(j, CC_NE);
  /* Same instance: same module, so the same entry layout as this code's. */
  mem(j, 0, 1, 0x8D, 1, FP, FP, -1, 0, sd(argbase));
  if (has_mem) {
    rr(j, 0, 1, 0x81, 1, 0, RCX); /* add rcx, fast entry offset */
    b4(j, (uint32_t)j->fast_entry);
  }
  rr(j, 0, 0, 0xFF, 1, 2, RCX); /* call rcx */
  mem(j, 0, 1, 0x8D, 1, FP, FP, -1, 0, -sd(argbase));
  size_t same_done = jmp(j);
  patch(j, other, j->n);
  b1(j, 0x41); /* push r15 */
  b1(j, 0x57);
  b1(j, 0x53); /* push rbx */
  mem(j, 0, 1, 0x8B, 1, IN, RAX, -1, 0, (int32_t)offsetof(wg_func, inst));
  mem(j, 0, 1, 0x8D, 1, FP, FP, -1, 0, sd(argbase));
  rr(j, 0, 0, 0xFF, 1, 2, RCX); /* call rcx */
  j->called = true;
  b1(j, 0x5B);                  /* pop rbx */
  b1(j, 0x41);                  /* pop r15 */
  b1(j, 0x5F);
  size_t done = jmp(j);
  patch(j, s1, j->n);
  patch(j, s2, j->n);
  patch(j, s3, j->n);
  movrr(j, RDI, ST);
  movrr(j, RSI, RAX);
  movrr(j, RDX, FP);
  movi(j, RCX, (uint64_t)(uintptr_t)call_pc);
  movi(j, R8, (uint64_t)(uintptr_t)ret_pc);
  movrr(j, R9, IN);
  call_fn(j, (const void *)wg_jit_call_slow);
  rr(j, 0, 1, 0x85, 1, RAX, RAX);
  patch(j, jcc(j, CC_NE), retry);
  patch(j, done, j->n);
  if (has_mem) reload_mem(j);
  patch(j, same_done, j->n);
}

/* A direct call to function A of the module, compiled in the same batch
 * (j->in_batch) as callee: the frame push as in emit_call, then a call
 * rel32 straight to the callee's same-instance entry, linked when every
 * function of the batch is placed (wg_jit_compile_arch). If the callee
 * could not be compiled, the rel32 goes to a stub that pops the frame and
 * continues at the generic path (emit_call), which follows; so does a
 * full frame stack. rax holds the wg_func on both ways in. */
static void emit_direct_call(J *j, const wg_cell *call_pc, const wg_cell *ret_pc, int32_t A, int32_t argbase,
                             bool has_mem, int32_t callee) {
  mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, funcs));
  mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, sd(A));
  size_t full = emit_push_frame(j, ret_pc);
  mem(j, 0, 1, 0x8D, 1, FP, FP, -1, 0, sd(argbase));
  b1(j, 0xE8); /* call rel32 */
  b4(j, 0);
  size_t at = j->n - 4;
  mem(j, 0, 1, 0x8D, 1, FP, FP, -1, 0, -sd(argbase));
  size_t done = jmp(j);
  patch(j, full, j->n);
  dsite_add(j, at, j->n, callee, argbase);
  emit_call(j, call_pc, ret_pc, argbase, has_mem);
  j->called = true;
  patch(j, done, j->n);
}

/* Memory access, bounds-checked for n bytes: the access is at [r13 + rax +
 * disp] (the returned disp). An offset that fits a displacement stays out
 * of rax (the check is then one lea: rax + offset + n against the size). */
static int32_t mem_addr(J *j, int32_t addr, uint64_t offset, unsigned n, const wg_cell *pc) {
  ld(j, 0, RAX, addr); /* zero-extends */
  int32_t disp = 0;
  if (offset + n <= INT32_MAX) {
    disp = (int32_t)offset;
  } else if (offset <= INT32_MAX) {
    rr(j, 0, 1, 0x81, 1, 0, RAX);
    b4(j, (uint32_t)offset);
  } else {
    movi(j, RCX, offset);
    rr(j, 0, 1, 0x03, 1, RAX, RCX);
  }
  mem(j, 0, 1, 0x8D, 1, RCX, RAX, -1, 0, disp + (int32_t)n); /* lea rcx, [rax + offset + n] */
  rr(j, 0, 1, 0x3B, 1, RCX, MS);                              /* cmp rcx, r14 */
  trap_if(j, CC_A, WG_TRAP_MEMORY_OUT_OF_BOUNDS, pc);
  return disp;
}

static int cmp_cc(unsigned k) { /* eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u */
  static const int cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};
  return cc[k];
}

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

/* Loads: width (bytes), the load opcode (into eax/rax), REX.W for it, and
 * how many bytes of the result slot to write. */
static bool load_op(unsigned op, unsigned *n, uint32_t *code, int *len, int *w, int *sw) {
  *len = 1;
  *w = 0;
  *sw = 0;
  switch (op) {
    case WG_OP_I32_LOAD: case WG_OP_F32_LOAD: *n = 4; *code = 0x8B; return true;
    case WG_OP_I64_LOAD: case WG_OP_F64_LOAD: *n = 8; *code = 0x8B; *w = *sw = 1; return true;
    case WG_OP_I32_LOAD8_S: *n = 1; *code = 0x0FBE; *len = 2; return true;
    case WG_OP_I32_LOAD8_U: *n = 1; *code = 0x0FB6; *len = 2; return true;
    case WG_OP_I32_LOAD16_S: *n = 2; *code = 0x0FBF; *len = 2; return true;
    case WG_OP_I32_LOAD16_U: *n = 2; *code = 0x0FB7; *len = 2; return true;
    case WG_OP_I64_LOAD8_S: *n = 1; *code = 0x0FBE; *len = 2; *w = *sw = 1; return true;
    case WG_OP_I64_LOAD8_U: *n = 1; *code = 0x0FB6; *len = 2; *sw = 1; return true;
    case WG_OP_I64_LOAD16_S: *n = 2; *code = 0x0FBF; *len = 2; *w = *sw = 1; return true;
    case WG_OP_I64_LOAD16_U: *n = 2; *code = 0x0FB7; *len = 2; *sw = 1; return true;
    case WG_OP_I64_LOAD32_S: *n = 4; *code = 0x63; *w = *sw = 1; return true;
    case WG_OP_I64_LOAD32_U: *n = 4; *code = 0x8B; *sw = 1; return true;
    default: return false;
  }
}

static bool store_op(unsigned op, unsigned *n) {
  switch (op) {
    case WG_OP_I32_STORE: case WG_OP_F32_STORE: case WG_OP_I64_STORE32: *n = 4; return true;
    case WG_OP_I64_STORE: case WG_OP_F64_STORE: *n = 8; return true;
    case WG_OP_I32_STORE8: case WG_OP_I64_STORE8: *n = 1; return true;
    case WG_OP_I32_STORE16: case WG_OP_I64_STORE16: *n = 2; return true;
    default: return false;
  }
}

static bool is_complex(unsigned op) {
  switch (op) {
    case WG_OP_REF_FUNC: case WG_OP_TABLE_GET: case WG_OP_TABLE_SET: case WG_OP_TABLE_SIZE: case WG_OP_TABLE_GROW:
    case WG_OP_TABLE_FILL: case WG_OP_TABLE_COPY: case WG_OP_TABLE_INIT: case WG_OP_ELEM_DROP: case WG_OP_MEMORY_SIZE:
    case WG_OP_MEMORY_GROW: case WG_OP_MEMORY_FILL: case WG_OP_MEMORY_COPY: case WG_OP_MEMORY_INIT:
    case WG_OP_DATA_DROP: return true;
    default: return false;
  }
}
/* Cells of a complex instruction (handler included). */
static uint32_t complex_len(unsigned op) {
  return op == WG_OP_TABLE_GET || op == WG_OP_TABLE_SET || op == WG_OP_TABLE_COPY || op == WG_OP_TABLE_INIT ? 3 : 2;
}

static void jump_to(J *j, size_t at, const wg_cell *cells, const wg_cell *target) {
  fixup_add(j, at, (uint32_t)(target - cells), SIZE_MAX);
}

/* Emits instruction `op` at cells[i]; *len gets its length in cells. */
static bool emit(J *j, const wg_module *m, const wg_code *code, uint32_t i, unsigned op, uint32_t *len,
                 const char **why) {
  const wg_cell *cells = code->cells, *pc = &cells[i + 1];
  const bool has_mem = m->nmems > 0;
  /* Operands (a one-cell instruction may be the last cell: nothing to read). */
  const bool has_ops = i + 1 < code->ncells;
  const int32_t A = has_ops ? pc[0].s.a : 0, B = has_ops ? pc[0].s.b : 0;
  int w, alu, ext, shift, cmp, pfx, fc;
  unsigned n;
  uint32_t lc;
  int ll, lw, sw;
  switch (op) {
    case IR_CONST: {
      *len = 3;
      uint64_t v = pc[1].u64;
      if ((int64_t)v == (int32_t)v) {
        c_forget(j, B);
        mem(j, 0, 1, 0xC7, 1, 0, FP, -1, 0, sd(B));
        b4(j, (uint32_t)v);
        pin_reload(j, B);
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
      ld(j, 0, RAX, A);
      rr(j, 0, 0, 0x85, 1, RAX, RAX);
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
      check_interrupt(j, pc);
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
        emit_direct_call(j, &cells[i], &cells[i + 2], A, B, has_mem, j->in_batch[(uint32_t)A - m->nfunc_imports]);
        return true;
      }
      mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, funcs));
      mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, sd(A));
      emit_call(j, &cells[i], &cells[i + 2], B, has_mem);
      return true;
    case IR_CALL_INDIRECT:
      *len = 3;
      movrr(j, RDI, ST);
      movrr(j, RSI, IN);
      movrr(j, RDX, FP);
      movi(j, RCX, (uint64_t)(uintptr_t)pc);
      call_fn(j, (const void *)wg_jit_indirect);
      emit_call(j, &cells[i], &cells[i + 3], B, has_mem);
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
      ld(j, op == WG_OP_I32_EQZ ? 0 : 1, RAX, A);
      rr(j, 0, op == WG_OP_I32_EQZ ? 0 : 1, 0x85, 1, RAX, RAX);
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
    ld(j, 0, RAX, A);
    if (imm) {
      rr(j, 0, 0, 0x81, 1, 7, RAX);
      b4(j, (uint32_t)B);
    } else {
      alu_src(j, 0, 0x3B, 1, RAX, B);
    }
    jump_to(j, jcc(j, cmp_cc(k)), cells, pc[1].target);
    return true;
  }
  if (load_op(op, &n, &lc, &ll, &lw, &sw)) {
    *len = 3;
    int32_t disp = mem_addr(j, A, pc[1].u64, n, pc);
    if (op == WG_OP_F32_LOAD || op == WG_OP_F64_LOAD) {
      bool dbl = op == WG_OP_F64_LOAD;
      int x = dst_reg(j, B, true, dbl, -1);
      mem(j, dbl ? 0xF2 : 0xF3, 0, 0x0F10, 2, x, MB, RAX, 0, disp);
      stx(j, dbl, B, x);
      c_set(j, x, true, B, dbl ? K_F64 : K_F32);
    } else {
      int rc = dst_reg(j, B, false, false, -1);
      mem(j, 0, lw, lc, ll, rc, MB, RAX, 0, disp);
      st(j, sw, B, rc);
      c_set(j, rc, false, B, sw ? K_I64 : K_I32);
    }
    return true;
  }
  if (store_op(op, &n)) {
    *len = 3;
    int32_t disp = mem_addr(j, A, pc[1].u64, n, pc);
    ld(j, n == 8, RCX, B);
    if (n == 1) mem(j, 0, 0, 0x88, 1, RCX, MB, RAX, 0, disp);
    else if (n == 2) mem(j, 0x66, 0, 0x89, 1, RCX, MB, RAX, 0, disp);
    else mem(j, 0, n == 8, 0x89, 1, RCX, MB, RAX, 0, disp);
    return true;
  }
  if (is_complex(op)) {
    *len = complex_len(op);
    movrr(j, RDI, ST);
    movrr(j, RSI, IN);
    movrr(j, RDX, FP);
    movi(j, RCX, (uint64_t)(uintptr_t)pc);
    movi(j, R8, op);
    call_fn(j, (const void *)wg_jit_complex);
    if (has_mem) reload_mem(j);
    return true;
  }
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
      ld(j, w, RAX, A);
      if (!imm) alu_src(j, w, 0x3B, 1, RAX, B);
      else if (!y32) {
        movi(j, RCX, y);
        rr(j, 0, w, 0x3B, 1, RAX, RCX);
      } else {
        rr(j, 0, w, 0x81, 1, 7, RAX);
        b4(j, (uint32_t)y);
      }
      setcc(j, cmp_cc((unsigned)cmp));
      st(j, 0, dst, RAX);
      return true;
    }
    /* The result is computed in a cache register rc. */
    if (shift >= 0 && !imm) ld(j, 0, RCX, B);
    int rc = dst_reg(j, dst, false, false, imm || shift >= 0 ? -1 : B);
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
    if (!imm) ldx(j, dbl, 1, B); /* y first: the register taken below may hold it */
    int x = dst_reg(j, dst, true, dbl, -1); /* y is in xmm1 already */
    ldx(j, dbl, x, A);
    if (imm) {
      movi(j, RAX, pc[1].u64);
      rr(j, 0x66, 1, 0x0F6E, 2, 1, RAX); /* movq xmm1, rax */
    }
    rr(j, pfx, 0, 0x0F00u | (unsigned)fc, 2, x, 1);
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

/* The entry: IR_ENTER [first local, count] [frame slots]. */
static void emit_enter(J *j, const wg_module *m, const wg_cell *cells) {
  const wg_cell *pc = &cells[1];
  int32_t first = pc[0].s.a, count = pc[0].s.b, frame = pc[1].s.a;
  /* The entry from C and from other instances; the fast entry follows
   * (emit_call). */
  if (m->nmems) reload_mem(j);
  j->fast_entry = j->n - j->start;
  rr(j, 0, 1, 0x83, 1, 5, RSP); /* sub rsp, 8 */
  b1(j, 8);
  mem(j, 0, 1, 0x3B, 1, RSP, ST, -1, 0, (int32_t)offsetof(wg_store, jit_stack_limit));
  trap_if(j, CC_B, WG_TRAP_STACK_EXHAUSTED, pc);
  mem(j, 0, 1, 0x8B, 1, RAX, ST, -1, 0, (int32_t)offsetof(wg_store, stack_end));
  rr(j, 0, 1, 0x2B, 1, RAX, FP); /* sub rax, rbx */
  rr(j, 0, 1, 0x81, 1, 7, RAX);  /* cmp rax, frame * 8 */
  b4(j, (uint32_t)frame * 8);
  trap_if(j, CC_B, WG_TRAP_STACK_EXHAUSTED, pc);
  if (count > 0) {
    rr(j, 0, 0, 0x33, 1, RAX, RAX); /* xor eax, eax */
    if (count <= 16) {
      for (int32_t k = 0; k < count; k++) st(j, 1, first + k, RAX);
    } else {
      mem(j, 0, 1, 0x8D, 1, RDI, FP, -1, 0, sd(first));
      movi(j, RCX, (uint64_t)count);
      b1(j, 0xF3); /* rep stosq */
      b1(j, 0x48);
      b1(j, 0xAB);
    }
  }
  /* Pins of params (and of locals zeroed by rep stosq) from memory. */
  for (int k = 0; k < NPI; k++)
    if (j->pin_i[k] >= 0 && (j->pin_i[k] < first || count > 16)) pin_reload(j, j->pin_i[k]);
  for (int k = 0; k < NPX; k++)
    if (j->pin_x[k] >= 0 && (j->pin_x[k] < first || count > 16)) pin_reload(j, j->pin_x[k]);
  check_interrupt(j, &cells[3]);
}

/* Locals beyond this many slots are not counted for pinning. */
enum { MAX_PIN_SLOTS = 4096 };

/* Picks the pinned locals from the first pass's use counts: the integer
 * locals used most get rbp and r10, the float ones xmm8-xmm15 (as f64
 * or f32, whichever they were used as more). A local used once or never
 * is not worth a register. */
static void choose_pins(J *j) {
  for (int32_t s = 0; s < j->nlocals; s++) {
    uint32_t ui = j->uses[3 * s], uf = j->uses[3 * s + 1] + j->uses[3 * s + 2];
    if (ui >= 2 && ui >= uf) {
      int k = 0;
      for (int q = 1; q < NPI; q++) /* the free pin or the least used one */
        if (j->pin_i[k] >= 0 && (j->pin_i[q] < 0 || j->uses[3 * j->pin_i[q]] < j->uses[3 * j->pin_i[k]])) k = q;
      if (j->pin_i[k] < 0 || j->uses[3 * j->pin_i[k]] < ui) j->pin_i[k] = s;
    } else if (uf >= 2 && uf > ui) {
      int k = 0;
      for (int q = 1; q < NPX; q++) {
        int32_t a = j->pin_x[k], b = j->pin_x[q];
        if (a >= 0 && (b < 0 || j->uses[3 * b + 1] + j->uses[3 * b + 2] < j->uses[3 * a + 1] + j->uses[3 * a + 2])) k = q;
      }
      int32_t a = j->pin_x[k];
      if (a < 0 || j->uses[3 * a + 1] + j->uses[3 * a + 2] < uf) {
        j->pin_x[k] = s;
        j->pin_dbl[k] = j->uses[3 * s + 2] >= j->uses[3 * s + 1];
      }
    }
  }
}

/* Appends the code of one function to j's buffer, at j->n (16-byte aligned,
 * after JIT_FHEADER bytes for jit.c's block pointer); on failure the buffer
 * is left as it was and *why says why. */
static bool emit_function(J *j, const wg_module *m, const wg_code *code, size_t *entry, const char **why) {
  const wg_cell *cells = code->cells;
  uint32_t ncells = code->ncells;
  size_t rewind = j->n;
  if (ncells < 3 || op_of(cells[0].op) != IR_ENTER) return *why = "unexpected code", false;
  while ((j->n + JIT_FHEADER) % 16) b1(j, 0xCC);
  for (int k = 0; k < JIT_FHEADER; k++) b1(j, 0);
  size_t start = j->n, nds = j->nds;
  j->start = start;
  uint32_t *at = malloc(((size_t)ncells + 1) * sizeof *at);
  bool *label = calloc((size_t)ncells + 1, 1);
  /* Params and locals: slots [0, first local + count) (IR_ENTER). */
  int32_t nlocals = cells[1].s.a + cells[1].s.b;
  j->nlocals = nlocals > 0 && nlocals <= MAX_PIN_SLOTS ? nlocals : 0;
  j->uses = j->nlocals ? calloc((size_t)j->nlocals * 3, sizeof *j->uses) : NULL;
  for (int k = 0; k < NPI; k++) j->pin_i[k] = -1;
  for (int k = 0; k < NPX; k++) j->pin_x[k] = -1;
  if (!at || !label || (j->nlocals && !j->uses)) {
    free(at);
    free(label);
    free(j->uses);
    j->uses = NULL;
    j->n = rewind;
    return *why = "out of memory", false;
  }
  /* Two passes: the first (no register cache) finds the branch targets,
   * where the second empties the cache. */
  bool ok = true;
  for (int pass = 0; pass < 2 && ok; pass++) {
    j->n = start;
    j->nfx = j->nst = 0;
    j->nds = nds;
    j->caching = pass == 1;
    c_clear(j);
    memset(at, 0xFF, ((size_t)ncells + 1) * sizeof *at);
    at[0] = 0;
    emit_enter(j, m, cells);
    c_clear(j);
    for (uint32_t i = 3; i < ncells && ok;) {
      unsigned op = op_of(cells[i].op);
      uint32_t len = 1;
      at[i] = (uint32_t)j->n;
      if (label[i]) c_clear(j);
      j->called = false;
      if (op == UINT32_MAX || op == IR_ENTER || op == IR_EXIT) {
        *why = "instruction not supported by the compiled tier";
        ok = false;
        break;
      }
      ok = emit(j, m, code, i, op, &len, why);
      if (j->called) {
        c_clear(j);
        pins_reload(j);
      }
      i += len;
      if (i > ncells) *why = "truncated code", ok = false;
    }
    if (pass == 0) {
      for (size_t k = 0; k < j->nfx; k++)
        if (j->fx[k].cell <= ncells) label[j->fx[k].cell] = true;
      choose_pins(j);
    }
  }
  free(j->uses);
  j->uses = NULL;
  /* Stubs. */
  for (size_t k = 0; ok && k < j->nst; k++) {
    const stub *st = &j->st[k];
    patch(j, st->at, j->n);
    movrr(j, RDI, ST);
    if (st->interrupt) {
      movi(j, RSI, (uint64_t)(uintptr_t)st->pc);
      movrr(j, RDX, FP);
      call_fn(j, (const void *)wg_jit_interrupt);
      pins_reload(j);
      patch(j, jmp(j), st->resume);
    } else {
      movi(j, RSI, st->code);
      movi(j, RDX, (uint64_t)(uintptr_t)st->pc);
      call_fn(j, (const void *)wg_jit_trap);
    }
  }
  for (size_t k = 0; ok && k < j->nfx; k++) {
    const fixup *f = &j->fx[k];
    if (f->cell >= ncells || at[f->cell] == UINT32_MAX) {
      *why = "branch into an instruction";
      ok = false;
      break;
    }
    if (j->oom) break;
    if (f->base == SIZE_MAX) {
      patch(j, f->at, at[f->cell]);
    } else {
      int32_t rel = (int32_t)((int64_t)at[f->cell] - (int64_t)f->base);
      memcpy(j->b + f->at, &rel, 4);
    }
  }
  if (ok && j->oom) *why = "out of memory", ok = false;
  free(at);
  free(label);
  if (!ok) j->n = rewind, j->nds = nds;
  *entry = start;
  return ok;
}

size_t wg_jit_compile_arch(const wg_module *m, const wg_code *const *codes, const uint32_t *funcs, size_t n,
                           void **entries, const char **whys) {
  pthread_once(&hops_once, hops_init);
  for (size_t i = 0; i < n; i++) entries[i] = NULL, whys[i] = NULL;
  if (!hops) {
    for (size_t i = 0; i < n; i++) whys[i] = "out of memory";
    return 0;
  }
  J j = {0};
  /* The code buffer starts at about what the functions will need (x86-64
   * templates take 10-20 bytes per IR cell) and doubles when it must. */
  size_t guess = 256;
  for (size_t i = 0; i < n; i++) guess += (size_t)codes[i]->ncells * 12 + 64;
  if (!(j.b = wg_jit_buf_grow(NULL, &j.cap, guess))) j.oom = true;
  size_t *offs = malloc((n ? n : 1) * sizeof *offs), *idx = malloc((n ? n : 1) * sizeof *idx);
  void **got = malloc((n ? n : 1) * sizeof *got);
  /* Direct calls between the functions of a batch (emit_direct_call). */
  uint32_t ndef = m->nfuncs - m->nfunc_imports;
  int32_t *in_batch = funcs && n > 1 ? malloc((ndef ? ndef : 1) * sizeof *in_batch) : NULL;
  size_t *pos = in_batch ? malloc(n * sizeof *pos) : NULL;
  if (in_batch && pos) {
    for (uint32_t f = 0; f < ndef; f++) in_batch[f] = -1;
    for (size_t i = 0; i < n; i++) {
      pos[i] = SIZE_MAX;
      if (funcs[i] >= m->nfunc_imports && funcs[i] < m->nfuncs) in_batch[funcs[i] - m->nfunc_imports] = (int32_t)i;
    }
    j.in_batch = in_batch;
  }
  size_t k = 0;
  for (size_t i = 0; offs && idx && got && i < n && !j.oom; i++) {
    size_t e;
    if (emit_function(&j, m, codes[i], &e, &whys[i])) {
      offs[k] = e, idx[k++] = i;
      if (j.in_batch) pos[i] = e;
    }
  }
  /* Link the direct calls: to the callee's same-instance entry, or to a
   * stub that pops the pushed frame and takes the site's generic path. */
  for (size_t d = 0; d < j.nds && !j.oom; d++) {
    const struct dsite *ds = &j.ds[d];
    if (pos[ds->callee] != SIZE_MAX) {
      patch(&j, ds->at, pos[ds->callee] + j.fast_entry);
      continue;
    }
    patch(&j, ds->at, j.n);
    rr(&j, 0, 1, 0x83, 1, 0, RSP); /* add rsp, 8: the return address */
    b1(&j, 8);
    mem(&j, 0, 1, 0x8D, 1, FP, FP, -1, 0, -sd(ds->argbase));
    mem(&j, 0, 0, 0xFF, 1, 1, ST, -1, 0, (int32_t)offsetof(wg_store, depth)); /* dec dword [depth] */
    patch(&j, jmp(&j), ds->generic);
  }
  free(in_batch);
  free(pos);
  free(j.ds);
  size_t done = 0;
  if (!offs || !idx || !got || j.oom) {
    for (size_t i = 0; i < n; i++) whys[i] = whys[i] ? whys[i] : "out of memory";
  } else if (k && !wg_jit_install(j.b, j.cap, j.n, offs, k, got)) {
    j.b = NULL; /* freed */
    for (size_t i = 0; i < k; i++) whys[idx[i]] = "cannot map code memory";
  } else {
    if (k) j.b = NULL; /* the block's now */
    for (size_t i = 0; i < k; i++) entries[idx[i]] = got[i];
    done = k;
  }
  free(offs);
  free(idx);
  free(got);
  wg_jit_buf_free(j.b, j.cap);
  free(j.fx);
  free(j.st);
  return done;
}

#else /* no back end for this architecture: every function runs on the interpreter */

size_t wg_jit_compile_arch(const wg_module *m, const wg_code *const *codes, const uint32_t *funcs, size_t n,
                           void **entries, const char **whys) {
  (void)m, (void)codes, (void)funcs;
  for (size_t i = 0; i < n; i++) entries[i] = NULL, whys[i] = "no compiled tier for this architecture";
  return 0;
}
int wg_jit_enter_arch(wg_store *s, wg_slot *fp, wg_instance *inst, const void *entry, wg_jit_ctx *ctx) {
  (void)s, (void)fp, (void)inst, (void)entry, (void)ctx;
  abort();
}
_Noreturn void wg_jit_unwind_arch(wg_jit_ctx *ctx) {
  (void)ctx;
  abort();
}

#endif
