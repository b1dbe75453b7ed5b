/*
 * jit.h: the compiled tier (jit.c: runtime glue, jit_x64.c: the x86-64
 * template compiler). Compiled code is made from a function's slot IR
 * (ir.h) and keeps its frame layout: slots live in memory at fp + 8 * slot,
 * every wasm call pushes the same wg_frame the interpreter pushes (with the
 * IR position after the call as ret_pc), and every point where compiled
 * code stops (trap, host-call suspension, yield, a callee that cannot be
 * compiled) names an IR position. So the interpreter can always take over a
 * compiled frame where it stopped (deoptimisation is free), backtraces are
 * the interpreter's, and wg_func_resume continues in the interpreter.
 */
#ifndef WG_JIT_H
#define WG_JIT_H

#include "ir.h"
#include "runtime.h"

/* Where a back end exists (elsewhere the interpreter runs everything). */
#if defined(__x86_64__) && defined(__linux__)
#define WG_JIT_NATIVE 1
#endif

/* How a compiled activation ended (wg_jit_run). */
enum {
  WG_JIT_DONE,      /* the function returned; its frame is popped */
  WG_JIT_TRAP,      /* trap `code` (message `msg`) at IR position `pc` of the top frame */
  WG_JIT_HOST_TRAP, /* a host function called at `pc` returned `trap` */
  WG_JIT_SUSPEND,   /* parked (s->susp is set); return `trap` as is */
  WG_JIT_DEOPT      /* continue interpreting the top frame at `pc` (a handler cell) with `fp` */
};

/* One entry from C into compiled code; lives on the C stack of wg_jit_run.
 * unwind_sp must stay the first field (the assembly uses it). */
typedef struct wg_jit_ctx {
  void *unwind_sp;
  struct wg_jit_ctx *prev;
  uint32_t base_depth; /* the interpreter activation's base depth (can_suspend, traps) */
  int status;
  wg_trap_code code;
  const char *msg;
  const wg_cell *pc;
  wg_slot *fp;
  wg_trap *trap;
} wg_jit_ctx;

/* The native entry of `code` (function `func` of `m`), compiling it on first
 * use; NULL when the function cannot be compiled (an instruction the tier
 * does not support, no support for this CPU, out of memory): the
 * interpreter then runs it. Thread-safe, like wg_compile_func; the time it
 * takes does not count against s's deadline. */
const void *wg_jit_entry(wg_store *s, const wg_module *m, const wg_code *code);

/* Runs compiled `entry` for `f` whose frame the caller already pushed on the
 * store's frame stack, with its slots at fp. Returns a WG_JIT_* status with
 * the details in *ctx. */
int wg_jit_run(wg_store *s, wg_func *f, const void *entry, wg_slot *fp, uint32_t base_depth, wg_jit_ctx *ctx);

/* Frees a native code block (wg_code_free). */
void wg_jit_free(void *entry);

/* Architecture back end (jit_x64.c): compiles code to a native block, NULL
 * on failure with *why set; and the assembly entry into compiled code and
 * the unwinder back to it. */
void *wg_jit_compile_arch(const wg_module *m, const wg_code *code, const char **why);
int wg_jit_enter_arch(wg_store *s, wg_slot *fp, wg_instance *inst, const void *entry, wg_jit_ctx *ctx);
_Noreturn void wg_jit_unwind_arch(wg_jit_ctx *ctx);

/* Runtime helpers compiled code calls (jit.c). All may unwind. */
_Noreturn void wg_jit_trap(wg_store *s, wg_trap_code code, const wg_cell *pc);
void wg_jit_interrupt(wg_store *s, const wg_cell *pc, wg_slot *fp);
wg_func *wg_jit_call_slow(wg_store *s, wg_func *callee, wg_slot *fp, const wg_cell *call_pc, const wg_cell *ret_pc,
                          wg_instance *inst);
wg_func *wg_jit_indirect(wg_store *s, wg_instance *inst, wg_slot *fp, const wg_cell *pc);
void wg_jit_complex(wg_store *s, wg_instance *inst, wg_slot *fp, const wg_cell *pc, unsigned op);
/* Copies n bytes of code into a new read-execute block; NULL on failure. */
void *wg_jit_install(const uint8_t *bytes, size_t n);
/* Helpers for numeric instructions, indexed by op (IR_IMM_BASE + op for the
 * forms with an immediate use the same function): u64 bits in and out,
 * (x, y, store, pc); NULL when there is none. */
const void *wg_jit_numeric_helper(unsigned op);

#endif
