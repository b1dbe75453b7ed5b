/*
 * jit_x64_mem.c: linear memory in the compiled tier's x86-64 back end
 * (jit_x64_internal.h): loads and stores at [r13 + address + offset] with
 * their bounds checks, the table, reference and bulk instructions that
 * wg_jit_complex runs, and reloading memory 0's base and size.
 */
#include "jit_x64_internal.h"

#ifdef WG_JIT_NATIVE
void wg_x64_reload_mem(J *j) {
  mem(j, 0, 1, 0x8B, 1, RAX, IN, -1, 0, (int32_t)offsetof(wg_instance, mems));
  mem(j, 0, 1, 0x8B, 1, RAX, RAX, -1, 0, 0);
  mem(j, 0, 1, 0x8B, 1, MB, RAX, -1, 0, (int32_t)offsetof(wg_memory, data));
  if (j->ms_epoch) mem(j, 0, 1, 0x8B, 1, MS, ST, -1, 0, (int32_t)offsetof(wg_store, epoch));
  else mem(j, 0, 1, 0x8B, 1, MS, RAX, -1, 0, (int32_t)offsetof(wg_memory, size));
}

/* Memory access for n bytes at [r13 + *ix + disp] (the returned disp; *ix
 * is rax, or the cache register that holds the address zero-extended).
 * With guard pages (j->guard) and offset + n within the guard, no check:
 * *site is set and the caller records the access instruction (site_add) so
 * the fault handler can name it. Else bounds-checked: an offset that fits a
 * displacement stays out of rax (the check is then one lea: rax + offset +
 * n against the size in r14). */
static int32_t mem_addr(J *j, int32_t addr, uint64_t offset, unsigned n, const wg_cell *pc, bool *site, int *ix) {
  /* The address's cache register as is when it is known zero-extended,
   * else a 32-bit load or copy into rax (which zero-extends). */
  *ix = zx_reg(j, addr);
  if (*ix < 0) {
    int r = int_reg(j, addr, 0);
    if (r >= 0) rr(j, 0, 0, 0x89, 1, r, RAX);
    else mem(j, 0, 0, 0x8B, 1, RAX, FP, -1, 0, sd(addr));
    *ix = RAX;
  }
  *site = j->guard && offset + n <= WG_JIT_GUARD_OFFSET;
  if (*site) return (int32_t)offset;
  int32_t disp = 0;
  if (offset + n > INT32_MAX && *ix != RAX) { /* rax is added to below */
    movrr(j, RAX, *ix);
    *ix = RAX;
  }
  if (offset + n <= INT32_MAX) {
    disp = (int32_t)offset;
  } else if (offset <= INT32_MAX) {
    rr(j, 0, 1, 0x81, 1, 0, RAX);
    b4(j, (uint32_t)offset);
  } else {
    movi(j, RCX, offset);
    rr(j, 0, 1, 0x03, 1, RAX, RCX);
  }
  mem(j, 0, 1, 0x8D, 1, RCX, *ix, -1, 0, disp + (int32_t)n); /* lea rcx, [ix + offset + n] */
  if (j->ms_epoch) { /* r14 is the epoch pointer: the size from the memory */
    mem(j, 0, 1, 0x8B, 1, RDX, IN, -1, 0, (int32_t)offsetof(wg_instance, mems));
    mem(j, 0, 1, 0x8B, 1, RDX, RDX, -1, 0, 0);
    mem(j, 0, 1, 0x3B, 1, RCX, RDX, -1, 0, (int32_t)offsetof(wg_memory, size)); /* cmp rcx, size */
  } else {
    rr(j, 0, 1, 0x3B, 1, RCX, MS); /* cmp rcx, r14 */
  }
  trap_if(j, CC_A, WG_TRAP_MEMORY_OUT_OF_BOUNDS, pc);
  return disp;
}

int32_t wg_x64_mem_addr(J *j, int32_t addr, uint64_t offset, unsigned n, const wg_cell *pc, bool *site) {
  int ix;
  int32_t disp = mem_addr(j, addr, offset, n, pc, site, &ix);
  if (ix != RAX) movrr(j, RAX, ix); /* the contract: the address in rax (a mov leaves flags alone) */
  return disp;
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

bool wg_x64_emit_memory(J *j, bool has_mem, const wg_cell *pc, int32_t A, int32_t B, unsigned op, uint32_t *len) {
  unsigned n;
  uint32_t lc;
  int ll, lw, sw;
  if (load_op(op, &n, &lc, &ll, &lw, &sw)) {
    *len = 3;
    bool site;
    int ix;
    int32_t disp = mem_addr(j, A, pc[1].u64, n, pc, &site, &ix);
    if (op == WG_OP_F32_LOAD || op == WG_OP_F64_LOAD) {
      bool dbl = op == WG_OP_F64_LOAD;
      int x = dst_reg(j, B, true, dbl, -1);
      if (site) site_add(j, j->n, pc);
      mem(j, dbl ? 0xF2 : 0xF3, 0, 0x0F10, 2, x, MB, ix, 0, disp);
      stx(j, dbl, B, x);
      c_set(j, x, true, B, dbl ? K_F64 : K_F32);
    } else {
      int rc = dst_reg(j, B, false, false, -1);
      if (site) site_add(j, j->n, pc);
      mem(j, 0, lw, lc, ll, rc, MB, ix, 0, disp);
      st(j, sw, B, rc);
      c_set(j, rc, false, B, sw ? K_I64 : K_I32);
    }
    return true;
  }
  if (store_op(op, &n)) {
    *len = 3;
    bool site;
    int ix;
    int32_t disp = mem_addr(j, A, pc[1].u64, n, pc, &site, &ix);
    if (j->k_slot == B && B >= 0) { /* a constant just written: stored as an immediate */
      count_use(j, B, 0);
      if (site) site_add(j, j->n, pc);
      if (n == 1) mem(j, 0, 0, 0xC6, 1, 0, MB, ix, 0, disp);
      else mem(j, n == 2 ? 0x66 : 0, n == 8, 0xC7, 1, 0, MB, ix, 0, disp);
      if (n == 1) b1(j, (uint8_t)j->k_val);
      else if (n == 2) b1(j, (uint8_t)j->k_val), b1(j, (uint8_t)(j->k_val >> 8));
      else b4(j, (uint32_t)j->k_val);
      return true;
    }
    ld(j, n == 8, RCX, B);
    if (site) site_add(j, j->n, pc);
    if (n == 1) mem(j, 0, 0, 0x88, 1, RCX, MB, ix, 0, disp);
    else if (n == 2) mem(j, 0x66, 0, 0x89, 1, RCX, MB, ix, 0, disp);
    else mem(j, 0, n == 8, 0x89, 1, RCX, MB, ix, 0, disp);
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
    if (has_mem) wg_x64_reload_mem(j);
    return true;
  }
  return false;
}

#endif
