/*
 * jit_x64_call.c: calls in the compiled tier's x86-64 back end
 * (jit_x64_internal.h): the interpreter's frame pushed on the store's frame
 * stack, same-instance calls past the memory reload, direct calls within a
 * compiled batch and their linking, the generic path through
 * wg_jit_call_slow, and the fuel/deadline check at entries and loop headers.
 */
#include "jit_x64_internal.h"

#ifdef WG_JIT_NATIVE
/* --fuel < 0 || epoch >= deadline: the interrupt stub (pc: where the
 * interpreter would continue). */
void wg_x64_check_interrupt(J *j, const wg_cell *pc) {
  rr(j, 0, 1, 0x83, 1, 5, R11); /* sub r11, 1: the fuel counter */
  b1(j, 1);
  size_t a = jcc(j, CC_S);
  if (j->ms_epoch) {
    mem(j, 0, 1, 0x8B, 1, RAX, MS, -1, 0, 0); /* r14: the epoch pointer */
  } else {
    mem(j, 0, 1, 0x8B, 1, RAX, ST, -1, 0, (int32_t)offsetof(wg_store, epoch));
    mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, 0);
  }
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
 * the call keeps them, enters past the callee's wg_x64_reload_mem (at the same
 * offset as in this code, j->fast_entry: same module) and skips the
 * reload after the return (every compiled function keeps r13/r14 current up
 * to its return: it reloads after anything that may grow the memory), and
 * rbx comes back as the callee's fp (constant in an activation), so the
 * caller recomputes its own instead of saving it. Any other callee gets
 * r15 and rbx saved on the C stack and memory reloaded after the return. */
void wg_x64_emit_call(J *j, const wg_cell *call_pc, const wg_cell *ret_pc, int32_t argbase, bool has_mem) {
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
  if (has_mem) wg_x64_reload_mem(j);
  patch(j, same_done, j->n);
}

/* A direct call to function A of the module, compiled in the same batch
 * (j->in_batch) as callee: the frame push as in wg_x64_emit_call, then a call
 * rel32 straight to the callee's same-instance entry, linked when every
 * function of the batch is placed (wg_jit_compile_arch). If the callee
 * could not be compiled, the rel32 goes to a stub that pops the frame and
 * continues at the generic path (wg_x64_emit_call), which follows; so does a
 * full frame stack. rax holds the wg_func on both ways in. */
void wg_x64_emit_direct_call(J *j, const wg_cell *call_pc, const wg_cell *ret_pc, int32_t A, int32_t argbase,
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
  wg_x64_emit_call(j, call_pc, ret_pc, argbase, has_mem);
  j->called = true;
  patch(j, done, j->n);
}

void wg_x64_link_direct_calls(J *j, const size_t *pos) {
  /* To the callee's same-instance entry, or to a stub that pops the pushed
   * frame and takes the site's generic path. */
  for (size_t d = 0; d < j->nds && !j->oom; d++) {
    const struct dsite *ds = &j->ds[d];
    if (pos[ds->callee] != SIZE_MAX) {
      patch(j, ds->at, pos[ds->callee] + j->fast_entry);
      continue;
    }
    patch(j, ds->at, j->n);
    rr(j, 0, 1, 0x83, 1, 0, RSP); /* add rsp, 8: the return address */
    b1(j, 8);
    mem(j, 0, 1, 0x8D, 1, FP, FP, -1, 0, -sd(ds->argbase));
    mem(j, 0, 0, 0xFF, 1, 1, ST, -1, 0, (int32_t)offsetof(wg_store, depth)); /* dec dword [depth] */
    patch(j, jmp(j), ds->generic);
  }
}

#endif
