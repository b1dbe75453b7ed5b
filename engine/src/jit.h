/*
 * jit.h: the compiled tier (jit.c: runtime glue, jit_x64*.c: the x86-64
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

/* The native entry of `code` (a function of `m`), compiling it on first
 * use; NULL when the function cannot be compiled (an instruction the tier
 * does not support, no support for this CPU, out of memory): the
 * interpreter then runs it. A module of at most WG_JIT_BATCH_FUNCS
 * functions and WG_JIT_BATCH_BYTES bytes of code is compiled whole at its
 * first use, into one code block (one mapping, one mprotect); larger ones
 * one function at a time. Thread-safe, like wg_compile_func; the time it
 * takes does not count against s's deadline. */
enum { WG_JIT_BATCH_FUNCS = 8192, WG_JIT_BATCH_BYTES = 4 << 20 };
const void *wg_jit_entry(wg_store *s, const wg_module *m, const wg_code *code);

/* Runs compiled `entry` for `f` whose frame the caller already pushed on the
 * store's frame stack, with its slots at fp. Returns a WG_JIT_* status with
 * the details in *ctx. */
int wg_jit_run(wg_store *s, wg_func *f, const void *entry, wg_slot *fp, uint32_t base_depth, wg_jit_ctx *ctx);

/* Frees a function's native code (wg_code_free): its block is unmapped with
 * the last of its functions. */
void wg_jit_free(void *entry);

/* Bytes before every function's entry in a code block, where jit.c keeps
 * the address of the block's record (wg_jit_install). */
enum { JIT_FHEADER = 16 };

/* Architecture back end (jit_x64.c): compiles codes[0..n) (functions of m;
 * funcs[i] the index of codes[i], or funcs NULL) into one code block (one
 * mapping, made read-execute once), where calls between them are direct
 * (when funcs is given). entries[i] gets
 * each function's native entry, or NULL with whys[i] saying why (an
 * instruction the tier does not support, out of memory, no mapping).
 * Returns how many were compiled. Also the assembly entry into compiled
 * code and the unwinder back to it. */
size_t wg_jit_compile_arch(const wg_module *m, const wg_code *const *codes, const uint32_t *funcs, size_t n,
                           void **entries, const char **whys);
int wg_jit_enter_arch(wg_store *s, wg_slot *fp, wg_instance *inst, const void *entry, wg_jit_ctx *ctx);
_Noreturn void wg_jit_unwind_arch(wg_jit_ctx *ctx);

/* Runtime helpers compiled code calls (jit.c). All may unwind. */
_Noreturn void wg_jit_trap(wg_store *s, wg_trap_code code, const wg_cell *pc);
void wg_jit_interrupt(wg_store *s, const wg_cell *pc, wg_slot *fp);
wg_func *wg_jit_call_slow(wg_store *s, wg_func *callee, wg_slot *fp, const wg_cell *call_pc, const wg_cell *ret_pc,
                          wg_instance *inst);
void wg_jit_complex(wg_store *s, wg_instance *inst, wg_slot *fp, const wg_cell *pc, unsigned op);
/* Code buffers: an anonymous read-write mapping of *cap bytes, grown to at
 * least need bytes (mremap: the contents move, the code must be position
 * independent); NULL when out of memory (buf stays valid). */
uint8_t *wg_jit_buf_grow(uint8_t *buf, size_t *cap, size_t need);
void wg_jit_buf_free(uint8_t *buf, size_t cap);
/* Takes over buf (cap bytes, n of them code: count functions, entries at
 * offs[i], each after JIT_FHEADER free bytes), trims it to n bytes' pages
 * and makes it read-execute before anything runs (W^X: never writable and
 * executable at once); entries[i] gets each function's address. Each entry
 * is freed by wg_jit_free; the mapping goes with the last. nsites
 * wg_jit_site records at buf + sites (8-byte aligned, inside the n bytes,
 * sorted by offset) name the memory accesses left to the guard pages
 * (wg_jit_guard_pages). false on failure (buf is freed): too many blocks,
 * out of memory. */
typedef struct wg_jit_site {
  uint64_t off;      /* the access instruction's offset in the block */
  const wg_cell *pc; /* the IR position its trap names (as a trap stub's) */
} wg_jit_site;
bool wg_jit_install(uint8_t *buf, size_t cap, size_t n, const size_t *offs, size_t count, void **entries,
                    size_t sites, size_t nsites);

/* Bounds checks by guard pages. When this is true (decided once per
 * process, at the first call), every linear memory of a store with the
 * compiled tier on is a reservation of WG_JIT_GUARD_RESERVE bytes (4 GiB of
 * 32-bit addresses + a 2 GiB guard; pages past the memory's size are
 * PROT_NONE, memory.grow makes them read-write), so compiled code makes an
 * access with offset + width <= WG_JIT_GUARD_OFFSET without a check, and an
 * out-of-bounds one faults; the SIGSEGV handler this installs finds the
 * faulting instruction among the blocks' wg_jit_site records and turns the
 * fault into the trap "out of bounds memory access" at that IR position
 * (any other fault goes to the handler installed before, or the default
 * action). False, and explicit checks everywhere, on other architectures,
 * under AddressSanitizer, when RLIMIT_AS is below 64 GiB, when the probe
 * reservation or installing the handler fails, or with
 * WASMGATE_JIT_BOUNDS=explicit in the environment (=guard forces the
 * attempt, also under AddressSanitizer). */
#define WG_JIT_GUARD_RESERVE ((size_t)6 << 30)
#define WG_JIT_GUARD_OFFSET ((uint64_t)2 << 30)
bool wg_jit_guard_pages(void);
/* Bytes of address space to reserve for a memory of s that may grow to
 * limit pages: WG_JIT_GUARD_RESERVE when s runs the compiled tier with guard
 * pages, else the memory's largest size and one guard page. */
size_t wg_jit_memory_reservation(const wg_store *s, uint32_t limit);
/* Makes the pages of a guard-page memory past its size inaccessible again
 * (a recycled reservation may have more committed: a fault must follow
 * every access past the size); false when mprotect fails (the memory must
 * then not be used). True at once for any other memory. */
bool wg_jit_memory_trim(wg_memory *mem);
/* The guard-page registry (jit_guard.c, used by wg_jit_install and
 * wg_jit_free): a slot for a block's nsites access sites (-1 when there are
 * none or no slot is free: such a block must not be installed), freed by
 * wg_jit_guard_unregister before the block is unmapped. */
int wg_jit_guard_register(const uint8_t *map, size_t len, const wg_jit_site *sites, size_t nsites);
void wg_jit_guard_unregister(int slot);
/* Helpers for numeric instructions, indexed by op (IR_IMM_BASE + op for the
 * forms with an immediate use the same function): u64 bits in and out,
 * (x, y, store, pc); NULL when there is none. */
const void *wg_jit_numeric_helper(unsigned op);

#endif
