/*
 * jit_x64.c: the compiled tier's x86-64 back end, a single-pass template
 * compiler from the slot IR (ir.h): every IR instruction becomes a short
 * machine-code sequence. Registers, constant for a whole activation:
 *   rbx  fp: the frame's slot 0 (slots are read and written in memory)
 *   r12  the store (fuel, deadline, frame stack, jit context)
 *   r13  memory 0's base, r14 its size in bytes (loaded at entry, reloaded
 *        after memory.grow, helpers and calls to other instances, like the
 *        interpreter's membase/memsize; current at every return); with
 *        guard pages (J.ms_epoch) r14 is the store's epoch pointer instead
 *        (the fuel/deadline check then loads once; the rare explicit
 *        bounds checks read the size from the memory)
 *   r15  the running function's instance
 *   r11  the store's fuel counter (loaded by wg_jit_enter_arch, written
 *        back when compiled code returns to it and around every C call:
 *        call_fn), so the fuel check is a register decrement, not a
 *        read-modify-write of memory every loop turn depends on
 *   rbp, r10, xmm8-xmm15: pinned locals; r8, r9, xmm2-xmm7: the slot
 *        cache (both write-through, jit_x64_asm.h)
 * rax, rcx, rdx, rsi, rdi, xmm0, xmm1 are scratch. A call pushes the
 * interpreter's wg_frame and calls the callee's code: a call rel32 to a
 * function compiled in the same batch, else through its wg_code, past its
 * memory reload for a callee of the same instance, or at its entry with r15
 * and rbx saved on the C stack (jit_x64_call.c). Functions compiled
 * together share one code block (wg_jit_compile_arch). Inside a function
 * rsp stays 16-byte aligned, so helpers are plain C calls. Anything unusual (traps,
 * fuel, deadlines, host calls, callees the tier cannot compile) goes to C
 * helpers in jit.c, which may unwind to wg_jit_enter_arch. Instructions
 * without a template make the function fall back to the interpreter.
 * This file: entry and unwinding, the prologue, pin choice and the driver;
 * the instructions are in jit_x64_emit.c, _call.c, _mem.c and _num.c
 * (jit_x64_internal.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit_x64_internal.h"

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

/* ---------------------------------------------------------------- functions */

/* The entry: IR_ENTER [first local, count] [frame slots]. */
static void emit_enter(J *j, const wg_module *m, const wg_cell *cells) {
  const wg_cell *pc = &cells[1];
  int32_t first = pc[0].s.a, count = pc[0].s.b, frame = pc[1].s.a;
  /* The entry from C and from other instances; the fast entry follows
   * (wg_x64_emit_call). */
  if (m->nmems) wg_x64_reload_mem(j);
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
  wg_x64_check_interrupt(j, &cells[3]);
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
  size_t start = j->n, nds = j->nds, nsites = j->nsites;
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
    j->nsites = nsites;
    return *why = "out of memory", false;
  }
  /* Two passes: the first (no register cache) finds the branch targets,
   * where the second empties the cache. */
  bool ok = true;
  for (int pass = 0; pass < 2 && ok; pass++) {
    j->n = start;
    j->nfx = j->nst = 0;
    j->nds = nds;
    j->nsites = nsites;
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
      ok = wg_x64_emit(j, m, code, i, op, &len, why);
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
  if (!ok) j->n = rewind, j->nds = nds, j->nsites = nsites;
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
  j.guard = wg_jit_guard_pages();
  j.ms_epoch = j.guard && m->nmems > 0;
  /* The code buffer starts at about what the functions will need (x86-64
   * templates take 10-20 bytes per IR cell) and doubles when it must. */
  size_t guess = 256;
  for (size_t i = 0; i < n; i++) guess += (size_t)codes[i]->ncells * 12 + 64;
  if (!(j.b = wg_jit_buf_grow(NULL, &j.cap, guess))) j.oom = true;
  size_t *offs = malloc((n ? n : 1) * sizeof *offs), *idx = malloc((n ? n : 1) * sizeof *idx);
  void **got = malloc((n ? n : 1) * sizeof *got);
  /* Direct calls between the functions of a batch (wg_x64_emit_direct_call). */
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
  if (j.in_batch) wg_x64_link_direct_calls(&j, pos);
  free(in_batch);
  free(pos);
  free(j.ds);
  size_t done = 0;
  /* The access sites the guard pages check, after the code (read-only with it). */
  size_t sites = 0;
  if (k && j.nsites && !j.oom) {
    while (j.n % 8) b1(&j, 0xCC);
    sites = j.n;
    for (size_t i = 0; i < j.nsites; i++) {
      b8(&j, j.sites[i].off);
      b8(&j, (uint64_t)(uintptr_t)j.sites[i].pc);
    }
  }
  if (!offs || !idx || !got || j.oom) {
    for (size_t i = 0; i < n; i++) whys[i] = whys[i] ? whys[i] : "out of memory";
  } else if (k && !wg_jit_install(j.b, j.cap, j.n, offs, k, got, sites, k ? j.nsites : 0)) {
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
  free(j.sites);
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
