/*
 * compile.h: the function compiler's state and the helpers its files share
 * (compile.c: the body, blocks, branches, calls, values; compile_eh.c: the
 * exception-handling instructions). Internal to the engine; names are cc_.
 */
#ifndef WG_COMPILE_H
#define WG_COMPILE_H

#include "ir.h"
#include "runtime.h"

enum { E_SLOT, E_LOCAL, E_CONST };
enum { F_FUNC, F_BLOCK, F_LOOP, F_IF, F_ELSE };
#define NONE UINT32_MAX

/* An operand-stack entry. A v128 value is two slots wide (w = 2), every
 * other value one; `slot` is where this position's value lives when it is
 * in its own slot (params and locals first, then the stack positions packed
 * by width), `local` the slot of the local it names (E_LOCAL). */
typedef struct entry {
  uint8_t kind;
  uint8_t w;
  int32_t slot;
  uint32_t local;
  uint64_t bits;
} entry;

typedef struct frame {
  uint8_t kind;
  bool unreachable; /* after br, return, unreachable ... in this frame */
  bool dead;        /* the whole frame is in unreachable code */
  uint32_t height;  /* stack height at entry, params excluded */
  uint32_t nparams, nresults;
  uint32_t loop_pc;    /* loops: the label */
  uint32_t patches;    /* forward branches to the end: a list through the cells (index + 1) */
  uint32_t else_patch; /* ifs: the BR_UNLESS target cell */
  uint8_t bt_kind;     /* the block type, as wg_instr (functions: 2, their type) */
  uint32_t bt_a;
  uint32_t npending;   /* try_table: its catch clauses, the last npending of compiler.pending */
} frame;

typedef struct compiler {
  const wg_module *m;
  const void *const *h;
  wg_cell *code;
  uint32_t n, cap;
  entry *stack;
  uint32_t sp, cap_stack, max_height;
  frame *frames;
  uint32_t nframes, cap_frames;
  uint32_t *targets; /* cells holding branch targets */
  uint32_t ntargets, cap_targets;
  uint32_t *offsets; /* pairs (first cell, wasm byte offset), see wg_code */
  uint32_t noffsets, cap_offsets;
  wg_handler *pending; /* catch clauses of the open try_tables (end not known yet) */
  uint32_t npending, cap_pending;
  wg_handler *handlers; /* finished clauses, innermost try_table first */
  uint32_t nhandlers, cap_handlers;
  uint32_t nlocals; /* slots of params + locals */
  uint32_t nresults;
  int32_t *lslot;   /* per local index: its first slot */
  uint8_t *ltype;   /* per local index: its value type */
  /* The last instruction's destination operand, for retargeting by local.set,
   * and where it starts, for fusing a compare into the branch that uses it. */
  uint32_t last_cell;
  uint32_t last_start;
  unsigned last_op;
  uint8_t last_field; /* 0: .s.a, 1: .s.b */
  uint32_t last_pos;
  const char *why;
} compiler;

/* A v128 takes two slots, every other value one. */
static inline uint8_t cc_width(uint8_t valtype) { return valtype == WG_V128 ? 2 : 1; }
/* The innermost open frame. */
static inline frame *cc_top_frame(compiler *c) { return &c->frames[c->nframes - 1]; }

/* Grows array *p (of *cap elements of `size` bytes) to hold `need`; false on OOM or overflow. */
bool cc_grow(void **p, uint32_t *cap, uint32_t need, size_t size);
/* Records why compiling fails (the first reason wins); always false. */
bool cc_fail(compiler *c, const char *why);
/* Emits opcode `code`'s handler cell; false on OOM. */
bool cc_op(compiler *c, unsigned code);
/* Emits an operand cell holding the pair (a, b) (slots or immediates). */
bool cc_ab(compiler *c, int32_t a, int32_t b);
/* Emits a branch-target cell pointing at cell `index` (patched into a pointer at the end). */
bool cc_target(compiler *c, uint32_t index);
/* The first slot of operand-stack position `pos`. */
int32_t cc_slot_of(const compiler *c, uint32_t pos);
/* Gives the symbolic entries (locals, constants) at positions [from, to) their own slots. */
bool cc_materialize_range(compiler *c, uint32_t from, uint32_t to);
/* The slot position `pos` can be read from (its own, or the local it names). */
bool cc_use(compiler *c, uint32_t pos, int32_t *slot);
/* Opens a control frame (F_BLOCK, ...) with np parameters and nr results. */
bool cc_push_frame(compiler *c, uint8_t kind, uint32_t np, uint32_t nr, uint8_t bt_kind, uint32_t bt_a);
/* A block-like instruction (block, loop, if, try_table) in dead code: keeps the nesting (a
 * frame with nr results marked dead at the enclosing frame's height), emits nothing. */
bool cc_dead_block(compiler *c, const wg_instr *in, uint32_t nr);
/* Emits the target cell of a branch to frame f's label (a loop's start, or the end: patched later). */
bool cc_label_target(compiler *c, frame *f);
/* The rest of the current frame is unreachable (after br, return, throw ...). */
void cc_set_unreachable(compiler *c);
/* The parameter and result counts of a block type. */
bool cc_block_arity(compiler *c, const wg_instr *in, uint32_t *np, uint32_t *nr);

/* compile_eh.c: try_table (handler records and landing pads), the end of a try_table's frame,
 * throw and throw_ref (WebAssembly 3.0 exception handling). False on OOM or a malformed
 * try_table (cc_fail says why). */
bool cc_try_table(compiler *c, const wg_instr *in);
bool cc_finish_handlers(compiler *c, frame *f);
bool cc_throw(compiler *c, const wg_instr *in);
bool cc_throw_ref(compiler *c);

#endif
