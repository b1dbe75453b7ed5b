/*
 * fuzz_jit_simd.c: differential libFuzzer target for SIMD in the compiled
 * tier (engine/src/jit_x64_simd.c) against the interpreter (simd.c).
 *
 * Random bytes almost never make a valid SIMD body, so the input is read as
 * a stream of choices by a small generator that writes only well-typed code:
 * four v128 locals start as constants (lanes from a pool of edge values:
 * NaNs with payloads and signs, -0, infinities, INT_MIN, 0x80, 0xFF...), then
 * up to 64 SIMD instructions, each taken from the engine's opcode table
 * (every 0xFD instruction, v128.const included), with operands read from
 * the locals, constants from the pool, or scalar locals; results go to a
 * v128 or scalar local. Lane indices are valid, memory instructions use
 * small addresses near the end of memory too (so some trap), alignment 0.
 * The function then stores its v128 locals to memory 0 and returns its i32
 * local. The body goes into fuzz_code.c's wrapper module (it must
 * validate: an invalid one is a generator bug, reported) and through
 * fuzz_jit's runner: both tiers, the outcome, fuel left and memory bytes compared
 * exactly, so a v128 result that differs in any bit (NaN payloads
 * included, except the payload of a NaN made from two NaNs, which the spec
 * leaves open: see canon_nans) is a finding. WASMGATE_JIT_SIMD selects the compiled tier's
 * paths as for the engine (fuzz/run.sh runs the default: what cpuid says).
 */
#define LLVMFuzzerTestOneInput fuzz_jit_code_input
#include "fuzz_jit.c"
#undef LLVMFuzzerTestOneInput

#include "../engine/src/opcodes.h"

/* The choice stream: the input's bytes, then a xorshift stream seeded by
 * them (so a short input still makes a long, varied program). */
typedef struct choices {
  const uint8_t *p;
  size_t n, at;
  uint64_t x;
} choices;
static uint8_t pick(choices *c) {
  if (c->at < c->n) return c->p[c->at++];
  c->x ^= c->x << 13;
  c->x ^= c->x >> 7;
  c->x ^= c->x << 17;
  return (uint8_t)(c->x >> 24);
}
static uint32_t pick32(choices *c) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)pick(c) << (8 * i);
  return v;
}

static void put_s32(buf *b, int32_t v) {
  for (;;) {
    uint8_t byte = v & 0x7F;
    v >>= 7;
    if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
      put_byte(b, byte);
      return;
    }
    put_byte(b, byte | 0x80);
  }
}

/* Edge values for lanes: 32-bit patterns (f32 NaNs, -0, inf, INT_MIN...). */
static const uint32_t pool32[] = {0x00000000, 0x80000000, 0x7FC00000, 0xFFC00000, 0x7FA00001, 0xFF800001,
                                  0x7F800000, 0xFF800000, 0x3F800000, 0xBF800000, 0x4F000000, 0xCF000000,
                                  0x4F800000, 0x7FFFFFFF, 0xFFFFFFFF, 0x00000001, 0x80008000, 0x7FFF7FFF,
                                  0x00FF00FF, 0x807F807F, 0x3F000000, 0x3FC00000, 0x4B000001, 0x00000010};
/* 64-bit halves: f64 NaNs, -0, inf, 2^31, -2^31 - 1... */
static const uint64_t pool64[] = {0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF4000000000001ull,
                                  0x8000000000000000ull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
                                  0x41E0000000000000ull, 0xC1E0000000200000ull, 0x3FF8000000000000ull,
                                  0xC3E0000000000000ull, 0x41EFFFFFFFE00000ull, 0x3FE0000000000000ull};

static void put_v128_const(buf *b, choices *c) {
  put_byte(b, 0xFD);
  put_u32(b, 0x0C);
  uint8_t kind = pick(c) % 4;
  for (int i = 0; i < 4; i++) {
    uint32_t v;
    if (kind == 0) v = pick32(c);
    else if (kind == 3 && i % 2 == 0) {
      uint64_t d = pool64[pick(c) % (sizeof pool64 / sizeof *pool64)];
      put(b, &d, 8);
      i++;
      continue;
    } else v = pool32[pick(c) % (sizeof pool32 / sizeof *pool32)];
    put(b, &v, 4);
  }
}

/* Locals: 0-3 v128, 4 i32, 5 i64, 6 f32, 7 f64. */
enum { NV = 4, L_I32 = 4, L_I64 = 5, L_F32 = 6, L_F64 = 7 };

/* Pushes an operand of type t. */
static void put_operand(buf *b, choices *c, uint8_t t, bool is_addr) {
  uint8_t how = pick(c);
  switch (t) {
    case WG_V128:
      if (how % 5 == 0) put_v128_const(b, c);
      else put_byte(b, 0x20), put_u32(b, how % NV);
      return;
    case WG_I32:
      if (is_addr) {
        /* Near the start, or near the end of the 1-page memory (some trap). */
        uint32_t a = how % 8 == 0 ? 65536 - 24 + pick(c) % 32 : pick(c);
        put_byte(b, 0x41), put_s32(b, (int32_t)a);
      } else if (how % 3 == 0) {
        put_byte(b, 0x20), put_u32(b, L_I32);
      } else {
        put_byte(b, 0x41), put_s32(b, (int32_t)(how & 1 ? pool32[pick(c) % (sizeof pool32 / sizeof *pool32)] : pick(c) % 70));
      }
      return;
    case WG_I64:
      if (how % 2) put_byte(b, 0x20), put_u32(b, L_I64);
      else {
        uint64_t v = pool64[pick(c) % (sizeof pool64 / sizeof *pool64)];
        put_byte(b, 0x42);
        int64_t s = (int64_t)v;
        for (;;) { /* signed LEB */
          uint8_t byte = s & 0x7F;
          s >>= 7;
          if ((s == 0 && !(byte & 0x40)) || (s == -1 && (byte & 0x40))) {
            put_byte(b, byte);
            break;
          }
          put_byte(b, byte | 0x80);
        }
      }
      return;
    case WG_F32:
      if (how % 2) put_byte(b, 0x20), put_u32(b, L_F32);
      else {
        uint32_t v = pool32[pick(c) % (sizeof pool32 / sizeof *pool32)];
        put_byte(b, 0x43), put(b, &v, 4);
      }
      return;
    default: /* f64 */
      if (how % 2) put_byte(b, 0x20), put_u32(b, L_F64);
      else {
        uint64_t v = pool64[pick(c) % (sizeof pool64 / sizeof *pool64)];
        put_byte(b, 0x44), put(b, &v, 8);
      }
      return;
  }
}

/* Which NaN a float operation with two NaN operands returns is left open by
 * the spec (any arithmetic NaN), and the interpreter's C compiler may swap
 * the operands of a commutative add: after f32x4/f64x2 add, sub, mul, div,
 * min and max, NaN lanes of the result (local k) are made canonical, so
 * both tiers must agree on every other bit. */
static void canon_nans(buf *b, const wg_opinfo *in, uint32_t k) {
  static const char *const ops[] = {"f32x4.add", "f32x4.sub", "f32x4.mul", "f32x4.div", "f32x4.min", "f32x4.max",
                                    "f64x2.add", "f64x2.sub", "f64x2.mul", "f64x2.div", "f64x2.min", "f64x2.max"};
  size_t i = 0;
  while (i < sizeof ops / sizeof *ops && strcmp(ops[i], in->name)) i++;
  if (i == sizeof ops / sizeof *ops) return;
  bool dbl = in->name[1] == '6';
  /* local.get k; v128.const canonical NaNs; local.get k; local.get k; fNxM.eq; v128.bitselect; local.set k */
  put_byte(b, 0x20), put_u32(b, k);
  put_byte(b, 0xFD), put_u32(b, 0x0C);
  for (int l = 0; l < 4; l++) {
    uint32_t v = dbl ? (l % 2 ? 0x7FF80000 : 0) : 0x7FC00000;
    put(b, &v, 4);
  }
  put_byte(b, 0x20), put_u32(b, k);
  put_byte(b, 0x20), put_u32(b, k);
  put_byte(b, 0xFD), put_u32(b, dbl ? 0x47 : 0x41); /* f64x2.eq / f32x4.eq */
  put_byte(b, 0xFD), put_u32(b, 0x52);              /* v128.bitselect */
  put_byte(b, 0x21), put_u32(b, k);
}

static uint32_t simd_ops[WG_OP_COUNT];
static size_t nsimd;

/* One SIMD instruction with its operands and where its result goes. */
static void put_instr(buf *b, choices *c) {
  const wg_opinfo *in = &wg_ops[simd_ops[pick(c) % nsimd]];
  if (in->code == 0x0C) { /* v128.const */
    put_v128_const(b, c);
    put_byte(b, 0x21), put_u32(b, pick(c) % NV);
    return;
  }
  bool mem = in->imm == WG_IMM_MEMARG || in->imm == WG_IMM_MEMARG_LANE;
  for (uint8_t k = 0; k < in->sig.np; k++) put_operand(b, c, in->sig.p[k], mem && k == 0);
  put_byte(b, 0xFD);
  put_u32(b, in->code);
  switch (in->imm) {
    case WG_IMM_MEMARG:
    case WG_IMM_MEMARG_LANE:
      put_u32(b, pick(c) % (in->imm == WG_IMM_MEMARG ? in->a + 1 : in->a + 1)); /* alignment <= natural */
      put_u32(b, pick(c) % 4 == 0 ? pick(c) : 0);                               /* offset */
      if (in->imm == WG_IMM_MEMARG_LANE) put_byte(b, pick(c) % (16 >> in->a));
      break;
    case WG_IMM_LANE: put_byte(b, pick(c) % in->a); break;
    case WG_IMM_SHUFFLE:
      for (int i = 0; i < 16; i++) put_byte(b, pick(c) % 32);
      break;
    default: break;
  }
  if (!in->sig.nr) return;
  switch (in->sig.r) {
    case WG_V128: {
      uint32_t k = pick(c) % NV;
      put_byte(b, 0x21), put_u32(b, k);
      canon_nans(b, in, k);
      break;
    }
    case WG_I32: put_byte(b, 0x21), put_u32(b, L_I32); break;
    case WG_I64: put_byte(b, 0x21), put_u32(b, L_I64); break;
    case WG_F32: put_byte(b, 0x21), put_u32(b, L_F32); break;
    default: put_byte(b, 0x21), put_u32(b, L_F64); break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!nsimd)
    for (uint32_t op = 0; op < WG_OP_COUNT; op++)
      if (wg_ops[op].prefix == 0xFD) simd_ops[nsimd++] = op;
  choices c = {data, size, 0, 0x9E3779B97F4A7C15ull};
  for (size_t i = 0; i < size; i++) c.x = (c.x ^ data[i]) * 0x100000001B3ull;
  if (!c.x) c.x = 1;
  buf body = {0};
  /* The fuzz_code layout: no params, one i32 result, then the body. */
  put_byte(&body, 0);
  put_byte(&body, 1);
  put_byte(&body, 0); /* valtypes[0] = i32 */
  put_byte(&body, 5); /* local declarations */
  put_byte(&body, NV), put_byte(&body, WG_V128);
  put_byte(&body, 1), put_byte(&body, WG_I32);
  put_byte(&body, 1), put_byte(&body, WG_I64);
  put_byte(&body, 1), put_byte(&body, WG_F32);
  put_byte(&body, 1), put_byte(&body, WG_F64);
  for (uint32_t k = 0; k < NV; k++) {
    put_v128_const(&body, &c);
    put_byte(&body, 0x21), put_u32(&body, k);
  }
  unsigned n = pick(&c) % 64 + 1;
  for (unsigned i = 0; i < n; i++) put_instr(&body, &c);
  for (uint32_t k = 0; k < NV; k++) { /* i32.const 16k; local.get k; v128.store */
    put_byte(&body, 0x41), put_s32(&body, (int32_t)(16 * k));
    put_byte(&body, 0x20), put_u32(&body, k);
    put_byte(&body, 0xFD), put_u32(&body, 0x0B), put_u32(&body, 0), put_u32(&body, 0);
  }
  put_byte(&body, 0x20), put_u32(&body, L_I32);
  put_byte(&body, 0x0B);
  /* fuzz_code's wrapper module; the generator writes only valid code, so
   * a module that does not validate is a finding too. */
  buf mod = {0};
  check(build(body.p, body.len, &mod));
  const char *dump = getenv("FUZZ_SIMD_DUMP"); /* FILE: the module written there, to read with wasm2wat */
  if (dump) {
    FILE *f = fopen(dump, "wb");
    if (f) fwrite(mod.p, 1, mod.len, f), fclose(f);
  }
  wg_error *err = NULL;
  wg_module *m = wg_module_new(mod.p, mod.len, &err);
  if (!m) fprintf(stderr, "fuzz_jit_simd: generated module invalid: %s\n", wg_error_message(err));
  check(m != NULL);
  if (getenv("FUZZ_SIMD_PRINT")) { /* what each tier did, for looking at a generator change */
    outcome a, b;
    run_tier(m, WG_TIER_INTERP, &a);
    run_tier(m, WG_TIER_JIT, &b);
    fprintf(stderr, "interp: %s %016llx | jit: %s %016llx\n", a.text, (unsigned long long)a.mem_hash, b.text,
            (unsigned long long)b.mem_hash);
  }
  run_both(m);
  wg_module_delete(m);
  free(mod.p);
  free(body.p);
  return 0;
}
