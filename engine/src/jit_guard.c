/*
 * jit_guard.c: linear-memory bounds checks by guard pages for the compiled
 * tier (jit.h, wg_jit_guard_pages): the once-per-process decision, the
 * registry of code blocks with their access sites, and the SIGSEGV handler
 * that turns a fault at a registered access into the spec's trap.
 *
 * The handler runs on any thread, at any time, so everything it touches is
 * async-signal-safe: the registry is a fixed array of slots, each guarded
 * by a sequence counter (odd while a writer changes it, writers serialised
 * by a mutex), read with atomics and never freed; a block's site table
 * lives inside its read-execute mapping, which cannot go away while code in
 * it is running (the faulting thread is running it). The handler changes
 * no global state: it edits the interrupted context so the thread continues
 * in wg_jit_trap as if the access had called it (the fuel counter written
 * back as call_fn does), and that unwinds to wg_jit_enter_arch as every
 * compiled-code trap does. A fault anywhere else goes to the handler found
 * when ours was installed (SA_SIGINFO or plain), or, for SIG_DFL/SIG_IGN,
 * to the default action (restored, then the instruction faults again).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>

#include "jit.h"

#ifdef WG_JIT_NATIVE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#define WG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WG_ASAN 1
#endif
#endif

enum { GUARD_SLOTS = 16384 }; /* = jit.c's MAX_BLOCKS: one slot per live block */

typedef struct guard_slot {
  _Atomic unsigned seq; /* odd while being written */
  _Atomic uintptr_t start, end;
  _Atomic uintptr_t sites; /* wg_jit_site array inside [start, end) */
  _Atomic size_t nsites;
} guard_slot;

static guard_slot slots[GUARD_SLOTS];
static _Atomic size_t slots_used; /* slots at or past this were never used */
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction prev_segv;
static bool guard_on;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void slot_write(guard_slot *g, uintptr_t start, uintptr_t end, uintptr_t sites, size_t nsites) {
  atomic_fetch_add_explicit(&g->seq, 1, memory_order_acq_rel);
  atomic_store_explicit(&g->start, start, memory_order_release);
  atomic_store_explicit(&g->end, end, memory_order_release);
  atomic_store_explicit(&g->sites, sites, memory_order_release);
  atomic_store_explicit(&g->nsites, nsites, memory_order_release);
  atomic_fetch_add_explicit(&g->seq, 1, memory_order_acq_rel);
}

int wg_jit_guard_register(const uint8_t *map, size_t len, const wg_jit_site *sites, size_t nsites) {
  if (!nsites) return -1;
  pthread_mutex_lock(&slots_mu);
  int got = -1;
  size_t used = atomic_load_explicit(&slots_used, memory_order_relaxed);
  for (size_t i = 0; i < used && got < 0; i++)
    if (!atomic_load_explicit(&slots[i].start, memory_order_relaxed)) got = (int)i;
  if (got < 0 && used < GUARD_SLOTS) {
    got = (int)used;
    atomic_store_explicit(&slots_used, used + 1, memory_order_release);
  }
  if (got >= 0) slot_write(&slots[got], (uintptr_t)map, (uintptr_t)map + len, (uintptr_t)sites, nsites);
  pthread_mutex_unlock(&slots_mu);
  return got;
}

void wg_jit_guard_unregister(int slot) {
  if (slot < 0) return;
  pthread_mutex_lock(&slots_mu);
  slot_write(&slots[slot], 0, 0, 0, 0);
  pthread_mutex_unlock(&slots_mu);
}

/* The IR position of the registered access at pc, or NULL. Async-signal-safe. */
static const wg_cell *site_of(uintptr_t pc) {
  size_t used = atomic_load_explicit(&slots_used, memory_order_acquire);
  for (size_t i = 0; i < used; i++) {
    guard_slot *g = &slots[i];
    unsigned s1 = atomic_load_explicit(&g->seq, memory_order_acquire);
    if (s1 & 1) continue; /* being changed: not the block that is running */
    uintptr_t start = atomic_load_explicit(&g->start, memory_order_acquire);
    uintptr_t end = atomic_load_explicit(&g->end, memory_order_acquire);
    uintptr_t sites = atomic_load_explicit(&g->sites, memory_order_acquire);
    size_t n = atomic_load_explicit(&g->nsites, memory_order_acquire);
    if (atomic_load_explicit(&g->seq, memory_order_acquire) != s1) continue;
    if (pc < start || pc >= end) continue;
    const wg_jit_site *t = (const wg_jit_site *)sites;
    uint64_t off = pc - start;
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (t[mid].off < off) lo = mid + 1;
      else hi = mid;
    }
    return lo < n && t[lo].off == off ? t[lo].pc : NULL;
  }
  return NULL;
}

/* offsetof(wg_store, fuel): compiled code keeps the counter in r11. */
static void on_segv(int sig, siginfo_t *info, void *uctx) {
  ucontext_t *uc = uctx;
  greg_t *r = uc->uc_mcontext.gregs;
  const wg_cell *ir = sig == SIGSEGV ? site_of((uintptr_t)r[REG_RIP]) : NULL;
  if (ir) {
    /* Continue in wg_jit_trap(store, code, pc) as if called from the
     * access: r12 holds the store in compiled code, r11 its fuel. */
    wg_store *s = (wg_store *)r[REG_R12];
    s->fuel = (int64_t)r[REG_R11];
    uintptr_t sp = ((uintptr_t)r[REG_RSP] & ~(uintptr_t)15) - 8;
    *(uintptr_t *)sp = (uintptr_t)r[REG_RIP]; /* a return address for debuggers */
    r[REG_RSP] = (greg_t)sp;
    r[REG_RDI] = (greg_t)s;
    r[REG_RSI] = (greg_t)WG_TRAP_MEMORY_OUT_OF_BOUNDS;
    r[REG_RDX] = (greg_t)ir;
    r[REG_RIP] = (greg_t)(uintptr_t)wg_jit_trap;
    return;
  }
  if (prev_segv.sa_flags & SA_SIGINFO) {
    if (prev_segv.sa_sigaction) {
      prev_segv.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (prev_segv.sa_handler != SIG_DFL && prev_segv.sa_handler != SIG_IGN) {
    prev_segv.sa_handler(sig);
    return;
  }
  /* Nobody else handles it: the default action when the access repeats. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGSEGV, &dfl, NULL);
}

static void guard_init(void) {
  const char *e = getenv("WASMGATE_JIT_BOUNDS");
  bool force = e && !strcmp(e, "guard");
  if (e && !strcmp(e, "explicit")) return;
#ifdef WG_ASAN
  if (!force) return; /* ASan's shadow and its SIGSEGV handler: keep checks explicit */
#endif
  (void)force;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < ((rlim_t)64 << 30)) return;
  void *p = mmap(NULL, WG_JIT_GUARD_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  munmap(p, WG_JIT_GUARD_RESERVE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &prev_segv) != 0) return;
  guard_on = true;
}

bool wg_jit_guard_pages(void) {
  pthread_once(&guard_once, guard_init);
  return guard_on;
}

size_t wg_jit_memory_reservation(const wg_store *s, uint32_t limit) {
  if (s->jit_on && wg_jit_guard_pages()) return WG_JIT_GUARD_RESERVE;
  return (size_t)limit * 65536 + 65536;
}

bool wg_jit_memory_trim(wg_memory *mem) {
  if (mem->reserved != WG_JIT_GUARD_RESERVE || mem->committed <= mem->size) return true;
  if (mprotect(mem->data + mem->size, mem->committed - mem->size, PROT_NONE) != 0) return false;
  mem->committed = mem->size;
  return true;
}

#else
bool wg_jit_memory_trim(wg_memory *mem) {
  (void)mem;
  return true;
}
size_t wg_jit_memory_reservation(const wg_store *s, uint32_t limit) {
  (void)s;
  return (size_t)limit * 65536 + 65536;
}
int wg_jit_guard_register(const uint8_t *map, size_t len, const wg_jit_site *sites, size_t nsites) {
  (void)map, (void)len, (void)sites, (void)nsites;
  return -1;
}
void wg_jit_guard_unregister(int slot) { (void)slot; }
bool wg_jit_guard_pages(void) { return false; }
#endif
