/*
 * jit.c: the runtime side of the compiled tier (see jit.h): entering
 * compiled code from the interpreter, the helpers compiled code calls
 * (traps, fuel and deadline, calls it does not make itself, table and bulk
 * instructions, numeric operators with C semantics from numeric.h), and the
 * code memory (W^X: written while read-write, then made read-execute; never
 * both).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"
#include "numeric.h"

#ifdef WG_JIT_NATIVE
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

/* ---------------------------------------------------------------- code memory */

/* A block: one mapping holding the code of one function or of a whole
 * module's functions (wg_jit_compile_module), written while read-write and
 * then made read-execute once: the compiler writes straight into the
 * mapping (grown with mremap, never copied), which is then trimmed to its
 * pages and made read-execute. Its bookkeeping (address, length, functions
 * still using it) is a heap record, since the mapping is never written
 * again; every function's code is preceded by JIT_FHEADER bytes whose first
 * 8 hold the record's address, so wg_jit_free finds the block from an
 * entry. The block is unmapped when its last function is freed. */
typedef struct jit_block {
  uint8_t *map;
  size_t len;
  _Atomic size_t refs;
  int guard_slot; /* its access sites in the guard-page registry (jit_guard.c), or -1 */
} jit_block;

#ifdef WG_JIT_NATIVE
/* Blocks live now. Each takes its own pages, so their number is capped:
 * past it, functions stay on the interpreter (Linux allows 65,530 mappings
 * per process by default). */
static _Atomic size_t live_blocks;
enum { MAX_BLOCKS = 16384 };

uint8_t *wg_jit_buf_grow(uint8_t *buf, size_t *cap, size_t need) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t n = *cap ? *cap * 2 : page;
  while (n < need) n *= 2;
  void *p = buf ? mremap(buf, *cap, n, MREMAP_MAYMOVE)
                : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  *cap = n;
  return p;
}

void wg_jit_buf_free(uint8_t *buf, size_t cap) {
  if (buf) munmap(buf, cap);
}

/* WASMGATE_JIT_DUMP=DIR (a debugging aid): every code block compiled is
 * written to DIR/block-<address>.bin as raw x86-64 code (objdump -D -b binary
 * -m i386:x86-64) with DIR/block-<address>.txt listing its functions' entry
 * offsets, one a line, in the batch's order. Failures are ignored. */
static void jit_dump(const uint8_t *buf, size_t n, const size_t *offs, size_t count) {
  const char *dir = getenv("WASMGATE_JIT_DUMP");
  if (!dir || !*dir) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/block-%p.bin", dir, (const void *)buf);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(buf, 1, n, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/block-%p.txt", dir, (const void *)buf);
  if (!(f = fopen(path, "w"))) return;
  for (size_t i = 0; i < count; i++) fprintf(f, "%zx\n", offs[i]);
  fclose(f);
}

bool wg_jit_install(uint8_t *buf, size_t cap, size_t n, const size_t *offs, size_t count, void **entries,
                    size_t sites, size_t nsites) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t len = (n + page - 1) / page * page;
  jit_block *blk = NULL;
  if (!count || n == 0 || len > cap) goto fail;
  if (atomic_fetch_add(&live_blocks, 1) >= MAX_BLOCKS) {
    atomic_fetch_sub(&live_blocks, 1);
    goto fail;
  }
  if (!(blk = malloc(sizeof *blk))) {
    atomic_fetch_sub(&live_blocks, 1);
    goto fail;
  }
  if (len < cap) munmap(buf + len, cap - len);
  blk->map = buf;
  blk->len = len;
  atomic_init(&blk->refs, count);
  for (size_t i = 0; i < count; i++) {
    memcpy(buf + offs[i] - JIT_FHEADER, &blk, sizeof blk);
    entries[i] = buf + offs[i];
  }
  jit_dump(buf, n, offs, count);
  if (mprotect(buf, len, PROT_READ | PROT_EXEC) != 0) {
    munmap(buf, len);
    free(blk);
    atomic_fetch_sub(&live_blocks, 1);
    return false;
  }
  __builtin___clear_cache((char *)buf, (char *)buf + len);
  blk->guard_slot = -1;
  if (nsites && (blk->guard_slot = wg_jit_guard_register(buf, len, (const wg_jit_site *)(buf + sites), nsites)) < 0) {
    munmap(buf, len); /* its accesses would have no trap */
    free(blk);
    atomic_fetch_sub(&live_blocks, 1);
    return false;
  }
  return true;
fail:
  wg_jit_buf_free(buf, cap);
  return false;
}

void wg_jit_free(void *entry) {
  if (!entry) return;
  jit_block *blk;
  memcpy(&blk, (uint8_t *)entry - JIT_FHEADER, sizeof blk);
  if (atomic_fetch_sub(&blk->refs, 1) != 1) return;
  wg_jit_guard_unregister(blk->guard_slot);
  munmap(blk->map, blk->len);
  free(blk);
  atomic_fetch_sub(&live_blocks, 1);
}
#else
uint8_t *wg_jit_buf_grow(uint8_t *buf, size_t *cap, size_t need) {
  (void)buf, (void)cap, (void)need;
  return NULL;
}
void wg_jit_buf_free(uint8_t *buf, size_t cap) { (void)buf, (void)cap; }
bool wg_jit_install(uint8_t *buf, size_t cap, size_t n, const size_t *offs, size_t count, void **entries,
                    size_t sites, size_t nsites) {
  (void)buf, (void)cap, (void)n, (void)offs, (void)count, (void)entries, (void)sites, (void)nsites;
  return false;
}
void wg_jit_free(void *entry) { (void)entry; }
#endif

/* WASMGATE_JIT_LOG set: one line on stderr per function compiled or not. */
static bool jit_log(void) {
  static _Atomic int on = -1;
  int v = atomic_load_explicit(&on, memory_order_relaxed);
  if (v < 0) atomic_store_explicit(&on, v = getenv("WASMGATE_JIT_LOG") != NULL, memory_order_relaxed);
  return v;
}

static void log_result(const wg_code *code, const void *e, const char *why) {
  if (jit_log())
    fprintf(stderr, "wasmgate jit: function at byte %zu: %s\n", code->noffsets ? (size_t)code->offsets[1] : 0,
            e ? "compiled" : why ? why : "not compiled");
}

/* Publishes a compiled entry (or the failure) for code; returns the entry
 * now in force (another thread's when it was faster). */
static void *publish(wg_code *c, void *e, const char *why) {
  log_result(c, e, why);
  if (!e) {
    atomic_store_explicit(&c->jit_why, why, memory_order_relaxed);
    atomic_store_explicit(&c->jit_failed, true, memory_order_relaxed);
    return NULL;
  }
  void *expected = NULL;
  if (!atomic_compare_exchange_strong(&c->jit, &expected, e)) {
    wg_jit_free(e);
    return expected;
  }
  return e;
}

/* Whether m is small enough to be compiled whole (wg_jit_entry). */
static bool batch_module(const wg_module *m) {
  uint32_t n = m->nfuncs - m->nfunc_imports;
  if (n > WG_JIT_BATCH_FUNCS) return false;
  size_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) bytes += m->funcs[m->nfunc_imports + i].body.len;
  return bytes <= WG_JIT_BATCH_BYTES;
}

/* Compiles every function of m not compiled yet (code among them) into one
 * block. Functions whose slot IR cannot be made are left out (the
 * interpreter reports them when called). */
static void compile_module(const wg_module *m, const wg_code *code) {
  uint32_t n = m->nfuncs - m->nfunc_imports;
  const wg_code **codes = calloc(n ? n : 1, sizeof *codes);
  void **entries = malloc((n ? n : 1) * sizeof *entries);
  const char **whys = malloc((n ? n : 1) * sizeof *whys);
  uint32_t *funcs = calloc(n ? n : 1, sizeof *funcs);
  size_t k = 0;
  if (codes && entries && whys && funcs) {
    for (uint32_t i = 0; i < n; i++) {
      const wg_code *c = wg_compile_func(m, m->nfunc_imports + i, NULL);
      if (c && !atomic_load_explicit(&((wg_code *)c)->jit, memory_order_acquire) &&
          !atomic_load_explicit(&((wg_code *)c)->jit_failed, memory_order_relaxed))
        funcs[k] = m->nfunc_imports + i, codes[k++] = c;
    }
    wg_jit_compile_arch(m, codes, funcs, k, entries, whys);
    for (size_t i = 0; i < k; i++) publish((wg_code *)codes[i], entries[i], whys[i]);
  } else {
    publish((wg_code *)code, NULL, "out of memory");
  }
  free(codes);
  free(entries);
  free(whys);
  free(funcs);
}

/* A call that runs on the interpreter on a compiled-tier store: counted
 * (wg_store_jit_fallbacks). */
static void *fell_back(wg_store *s, const wg_code *c) {
  s->jit_fallbacks++;
  const char *why = atomic_load_explicit(&((wg_code *)c)->jit_why, memory_order_relaxed);
  s->jit_fallback_why = why ? why : "not compiled";
  return NULL;
}

uint64_t wg_store_jit_fallbacks(const wg_store *s, const char **why) {
  if (why) *why = s->jit_fallback_why;
  return s->jit_fallbacks;
}

const void *wg_jit_entry(wg_store *s, const wg_module *m, const wg_code *code) {
  wg_code *c = (wg_code *)code; /* the lazily filled fields are atomic */
  void *e = atomic_load_explicit(&c->jit, memory_order_acquire);
  if (e) return e;
  if (atomic_load_explicit(&c->jit_failed, memory_order_relaxed)) return fell_back(s, code);
  /* Like wg_store_compile: compiling stops the store's deadline clock. */
  uint64_t deadline = atomic_load_explicit(&s->deadline, memory_order_relaxed);
  uint64_t before = atomic_load_explicit(s->epoch, memory_order_relaxed);
  if (batch_module(m)) {
    compile_module(m, code);
    e = atomic_load_explicit(&c->jit, memory_order_acquire);
  } else {
    const char *why = NULL;
    wg_jit_compile_arch(m, &code, NULL, 1, &e, &why);
    e = publish(c, e, why);
  }
  wg_store_credit_epochs(s, deadline, before);
  return e ? e : fell_back(s, code);
}

/* ---------------------------------------------------------------- entering and leaving */

/* Compiled code calls itself recursively on the C stack; it traps "call
 * stack exhausted" once the stack pointer comes within this margin of the
 * thread's stack end (host functions and helpers run in the margin). */
enum { STACK_MARGIN = 256 * 1024 };
static _Thread_local uintptr_t thread_limit;

static uintptr_t stack_limit(void) {
  if (thread_limit) return thread_limit;
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  /* Unknown stack: allow 256 KiB below here (less recursion, never a fault). */
  uintptr_t lim = here > STACK_MARGIN ? here - STACK_MARGIN : 0;
#ifdef WG_JIT_NATIVE
  pthread_attr_t a;
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    void *lo;
    size_t sz;
    if (pthread_attr_getstack(&a, &lo, &sz) == 0 && here > (uintptr_t)lo && here - (uintptr_t)lo <= sz) {
      /* A small stack (threads of some libraries) keeps a quarter as margin. */
      size_t margin = sz > 2 * STACK_MARGIN ? STACK_MARGIN : sz / 4;
      if (here - (uintptr_t)lo > margin) lim = (uintptr_t)lo + margin;
    }
    pthread_attr_destroy(&a);
  }
#endif
  thread_limit = lim;
  return lim;
}

int wg_jit_run(wg_store *s, wg_func *f, const void *entry, wg_slot *fp, uint32_t base_depth, wg_jit_ctx *ctx) {
  memset(ctx, 0, sizeof *ctx);
  ctx->prev = s->jit_ctx;
  ctx->base_depth = base_depth;
  s->jit_ctx = ctx;
  s->jit_stack_limit = stack_limit();
  int unwound = wg_jit_enter_arch(s, fp, f->inst, entry, ctx);
  s->jit_ctx = ctx->prev;
  return unwound ? ctx->status : WG_JIT_DONE;
}

static _Noreturn void leave(wg_store *s, int status) {
  wg_jit_ctx *ctx = s->jit_ctx;
  ctx->status = status;
  wg_jit_unwind_arch(ctx);
}

_Noreturn void wg_jit_trap(wg_store *s, wg_trap_code code, const wg_cell *pc) {
  s->jit_ctx->code = code;
  s->jit_ctx->pc = pc;
  leave(s, WG_JIT_TRAP);
}

static bool can_suspend(const wg_store *s) { return s->jit_ctx->base_depth == 0 && !s->no_suspend; }

/* The interpreter's `interrupt` path, at a loop header or function entry
 * whose fast check failed; pc is where the interpreter would continue. */
void wg_jit_interrupt(wg_store *s, const wg_cell *pc, wg_slot *fp) {
  if (s->fuel < 0) {
    if (s->fuel_on) {
      s->fuel = 0;
      wg_jit_trap(s, WG_TRAP_OUT_OF_FUEL, pc);
    }
    s->fuel = INT64_MAX; /* metering off: the counter only wrapped */
  }
  if (atomic_load_explicit(s->epoch, memory_order_relaxed) >= s->deadline) {
    if (s->yield && can_suspend(s)) { /* park here: the interpreter continues at pc */
      wg_trap *t = wg_trap_new(WG_TRAP_YIELDED, NULL);
      if (!t) wg_jit_trap(s, WG_TRAP_RESOURCE, pc);
      s->susp.active = true;
      s->susp.pc = pc;
      s->susp.fp = fp;
      s->susp.host = NULL;
      s->susp.host_fp = NULL;
      s->jit_ctx->trap = t;
      leave(s, WG_JIT_SUSPEND);
    }
    wg_jit_trap(s, WG_TRAP_INTERRUPTED, pc);
  }
}

/* A call the compiled fast path does not make: frame stack full, a host
 * function, a callee not compiled yet (returned for the fast path to retry
 * when it now is), or one that cannot be compiled (the caller's frame is
 * handed to the interpreter at the call). NULL: done. */
wg_func *wg_jit_call_slow(wg_store *s, wg_func *callee, wg_slot *fp, const wg_cell *call_pc, const wg_cell *ret_pc,
                          wg_instance *inst) {
  if (s->depth >= s->frames_cap && !wg_store_grow_frames(s)) wg_jit_trap(s, WG_TRAP_STACK_EXHAUSTED, ret_pc);
  wg_slot *new_fp = fp + call_pc[1].s.b;
  if (callee->host) {
    wg_trap *t = wg_host_call(s, callee, new_fp, inst);
    if (t && wg_trap_code_of(t) == WG_TRAP_SUSPENDED) {
      if (can_suspend(s)) {
        s->susp.active = true;
        s->susp.pc = ret_pc;
        s->susp.fp = fp;
        s->susp.host = callee;
        s->susp.host_fp = new_fp;
        s->jit_ctx->trap = t;
        leave(s, WG_JIT_SUSPEND);
      }
      wg_trap_delete(t);
      t = wg_trap_new(WG_TRAP_HOST, s->jit_ctx->base_depth ? "cannot suspend a guest inside a nested call from the host"
                                                           : "cannot suspend a guest in a start function");
      if (!t) t = wg_trap_new(WG_TRAP_RESOURCE, NULL);
    }
    if (t) {
      s->jit_ctx->trap = t;
      s->jit_ctx->pc = ret_pc;
      leave(s, WG_JIT_HOST_TRAP);
    }
    return NULL;
  }
  const wg_code *code = callee->code;
  if (!code && (code = wg_store_compile(s, callee->inst->module, callee->index, NULL))) callee->code = code;
  if (code && wg_jit_entry(s, callee->inst->module, code)) return callee;
  s->jit_ctx->pc = call_pc;
  s->jit_ctx->fp = fp;
  leave(s, WG_JIT_DEOPT);
}

#define A (pc[0].s.a)
#define B (pc[0].s.b)
#define C (pc[1].s.a)
#define BULK(call)                        \
  do {                                    \
    wg_trap_code tc_ = (call);            \
    if (tc_) wg_jit_trap(s, tc_, pc);     \
  } while (0)

/* Table, reference and bulk memory instructions, as the interpreter runs
 * them; pc is the instruction's first operand cell, op its IR number. */
void wg_jit_complex(wg_store *s, wg_instance *inst, wg_slot *fp, const wg_cell *pc, unsigned op) {
  wg_memory *mem0 = inst->module->nmems ? inst->mems[0] : NULL;
  uint8_t *membase = mem0 ? mem0->data : NULL;
  uint64_t memsize = mem0 ? mem0->size : 0;
  switch (op) {
    case WG_OP_REF_FUNC: fp[B].ref = inst->funcs[A]; return;
    case WG_OP_TABLE_GET: {
      wg_table *t = inst->tables[A];
      uint32_t i = fp[B].u32;
      if (i >= t->size) wg_jit_trap(s, WG_TRAP_TABLE_OUT_OF_BOUNDS, pc);
      fp[C].ref = t->elems[i];
      return;
    }
    case WG_OP_TABLE_SET: {
      wg_table *t = inst->tables[A];
      uint32_t i = fp[B].u32;
      if (i >= t->size) wg_jit_trap(s, WG_TRAP_TABLE_OUT_OF_BOUNDS, pc);
      t->elems[i] = fp[C].ref;
      return;
    }
    case WG_OP_TABLE_SIZE: fp[B].i32 = (int32_t)inst->tables[A]->size; return;
    case WG_OP_TABLE_GROW: fp[A].i32 = (int32_t)wg_table_grow(inst->tables[B], fp[A + 1].u32, fp[A].ref); return;
    case WG_OP_TABLE_FILL: {
      wg_table *t = inst->tables[B];
      uint32_t i = fp[A].u32, n = fp[A + 2].u32;
      if ((uint64_t)i + n > t->size) wg_jit_trap(s, WG_TRAP_TABLE_OUT_OF_BOUNDS, pc);
      BULK(wg_bulk_fill_refs(s, t->elems, &fp[A].u32, fp[A + 1].ref, &fp[A + 2].u32));
      return;
    }
    case WG_OP_TABLE_COPY: {
      wg_table *dt = inst->tables[A], *st = inst->tables[B];
      uint32_t d = fp[C].u32, sr = fp[C + 1].u32, n = fp[C + 2].u32;
      if ((uint64_t)sr + n > st->size || (uint64_t)d + n > dt->size) wg_jit_trap(s, WG_TRAP_TABLE_OUT_OF_BOUNDS, pc);
      BULK(wg_bulk_move(s, dt->elems, &fp[C].u32, st->elems, &fp[C + 1].u32, &fp[C + 2].u32, sizeof(wg_ref)));
      return;
    }
    case WG_OP_TABLE_INIT: {
      wg_table *t = inst->tables[B];
      uint32_t d = fp[C].u32, sr = fp[C + 1].u32, n = fp[C + 2].u32;
      if ((uint64_t)sr + n > inst->elem_sizes[A] || (uint64_t)d + n > t->size)
        wg_jit_trap(s, WG_TRAP_TABLE_OUT_OF_BOUNDS, pc);
      BULK(wg_bulk_move(s, t->elems, &fp[C].u32, inst->elem_refs[A], &fp[C + 1].u32, &fp[C + 2].u32, sizeof(wg_ref)));
      return;
    }
    case WG_OP_ELEM_DROP: inst->elem_sizes[A] = 0; return;
    case WG_OP_MEMORY_SIZE: fp[B].i32 = (int32_t)mem0->pages; return;
    case WG_OP_MEMORY_GROW: fp[B].i32 = (int32_t)wg_memory_grow_pages(mem0, fp[A].u32); return;
    case WG_OP_MEMORY_FILL: {
      uint32_t d = fp[A].u32, n = fp[A + 2].u32;
      if ((uint64_t)d + n > memsize) wg_jit_trap(s, WG_TRAP_MEMORY_OUT_OF_BOUNDS, pc);
      BULK(wg_bulk_fill(s, membase, &fp[A].u32, (uint8_t)fp[A + 1].u32, &fp[A + 2].u32));
      return;
    }
    case WG_OP_MEMORY_COPY: {
      uint32_t d = fp[A].u32, sr = fp[A + 1].u32, n = fp[A + 2].u32;
      if ((uint64_t)sr + n > memsize || (uint64_t)d + n > memsize) wg_jit_trap(s, WG_TRAP_MEMORY_OUT_OF_BOUNDS, pc);
      BULK(wg_bulk_move(s, membase, &fp[A].u32, membase, &fp[A + 1].u32, &fp[A + 2].u32, 1));
      return;
    }
    case WG_OP_MEMORY_INIT: {
      const wg_data *seg = &inst->module->datas[B];
      uint32_t d = fp[A].u32, sr = fp[A + 1].u32, n = fp[A + 2].u32;
      uint64_t segsize = inst->data_dropped[B] ? 0 : seg->init.len;
      if ((uint64_t)sr + n > segsize || (uint64_t)d + n > memsize) wg_jit_trap(s, WG_TRAP_MEMORY_OUT_OF_BOUNDS, pc);
      BULK(wg_bulk_move(s, membase, &fp[A].u32, seg->init.ptr, &fp[A + 1].u32, &fp[A + 2].u32, 1));
      return;
    }
    case WG_OP_DATA_DROP: inst->data_dropped[A] = true; return;
    default: wg_jit_trap(s, WG_TRAP_UNSUPPORTED, pc);
  }
}
#undef A
#undef B
#undef C

/* ---------------------------------------------------------------- numeric helpers */

#define HUN(ID, TIN, FIN, FOUT, EXPR)                     \
  static uint64_t h_##ID(uint64_t a) {                    \
    wg_slot in = {.u64 = a}, out = {.u64 = 0};            \
    TIN x = in.FIN;                                       \
    out.FOUT = (EXPR);                                    \
    return out.u64;                                       \
  }
#define HBIN(ID, T, FIN, FOUT, EXPR)                      \
  static uint64_t h_##ID(uint64_t a, uint64_t b) {        \
    wg_slot p = {.u64 = a}, q = {.u64 = b}, out = {.u64 = 0}; \
    T x = p.FIN, y = q.FIN;                               \
    out.FOUT = (EXPR);                                    \
    return out.u64;                                       \
  }
#define HDIV(ID, T, F, OVERFLOW, EXPR)                                          \
  static uint64_t h_##ID(uint64_t a, uint64_t b, wg_store *s, const wg_cell *pc) { \
    wg_slot p = {.u64 = a}, q = {.u64 = b}, out = {.u64 = 0};                   \
    T x = p.F, y = q.F;                                                         \
    if (y == 0) wg_jit_trap(s, WG_TRAP_INT_DIV_BY_ZERO, pc);                    \
    if (OVERFLOW) wg_jit_trap(s, WG_TRAP_INT_OVERFLOW, pc);                     \
    out.F = (EXPR);                                                             \
    return out.u64;                                                             \
  }
#define HTRUNC(ID, TIN, FIN, FOUT, CHECK, TOUT)                                       \
  static uint64_t h_##ID(uint64_t a, uint64_t b, wg_store *s, const wg_cell *pc) {    \
    (void)b;                                                                          \
    wg_slot in = {.u64 = a}, out = {.u64 = 0};                                        \
    TIN x = in.FIN;                                                                   \
    if (!CHECK((double)x)) wg_jit_trap(s, x != x ? WG_TRAP_INVALID_CONVERSION : WG_TRAP_INT_OVERFLOW, pc); \
    out.FOUT = (TOUT)x;                                                               \
    return out.u64;                                                                   \
  }

/* The operator tables are numeric.h's, the ones the interpreter expands. */
WG_NUMERIC_UNOPS(HUN)
WG_NUMERIC_INT_BINOPS(HBIN)
WG_NUMERIC_FLOAT_BINOPS(HBIN)
WG_NUMERIC_DIVOPS(HDIV)
WG_NUMERIC_TRUNCS(HTRUNC)

#define ENTRY(ID, ...) [WG_OP_##ID] = (const void *)h_##ID,
static const void *const numeric[WG_OP_COUNT] = {WG_NUMERIC_UNOPS(ENTRY) WG_NUMERIC_INT_BINOPS(ENTRY)
                                                     WG_NUMERIC_FLOAT_BINOPS(ENTRY) WG_NUMERIC_DIVOPS(ENTRY)
                                                         WG_NUMERIC_TRUNCS(ENTRY)};

const void *wg_jit_numeric_helper(unsigned op) {
  if (op >= IR_IMM_BASE) op -= IR_IMM_BASE;
  return op < WG_OP_COUNT ? numeric[op] : NULL;
}
