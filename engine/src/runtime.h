/*
 * runtime.h: the runtime objects of the store (spec 4.2): function, table,
 * memory and global instances, module instances, and the execution state
 * (value stack and frame stack) the interpreter runs on.
 */
#ifndef WG_RUNTIME_H
#define WG_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "module.h"
#include "wasmgate.h"

/* One 64-bit slot of the value stack: locals and operands (spec 4.2.1 values;
 * v128 is not executed yet). */
typedef union wg_slot {
  uint64_t u64;
  int64_t i64;
  uint32_t u32;
  int32_t i32;
  float f32;
  double f64;
  void *ref;
} wg_slot;

/* A cell of compiled code (compile.c, interp.c): a handler address or an
 * immediate. */
union wg_cell;
/* SIMD instruction semantics (simd.h): ops points at the instruction's
 * operand cells, mem at the accessed bytes. */
typedef void wg_simd_fn(wg_slot *fp, const union wg_cell *ops);
typedef void wg_simd_mem_fn(wg_slot *fp, const union wg_cell *ops, uint8_t *mem);

typedef union wg_cell {
  const void *op;
  uint64_t u64;
  int64_t i64;
  struct {
    int32_t a, b;
  } s;
  int32_t i32;
  uint32_t u32;
  const union wg_cell *target;
  void *ptr;
  wg_simd_fn *simd;
  wg_simd_mem_fn *simd_mem;
} wg_cell;

/* One catch clause of a try_table in compiled code (exception handling):
 * an exception raised while the cells [start, end) run (or a call among
 * them is active) and matching `kind`/`tag` has its values (and, for the
 * _ref kinds, its exnref) written to slots dst.. of the frame, and execution
 * continues at `pad`, which branches to the clause's label. A function's
 * clauses are ordered innermost try_table first, then in clause order. */
typedef struct wg_handler {
  uint32_t start, end;
  uint8_t kind; /* WG_CATCH_* (opcodes.h) */
  uint32_t tag; /* tag index (catch, catch_ref) */
  int32_t dst;
  uint32_t pad_cell;
  const union wg_cell *pad;
} wg_handler;

/* A function's compiled code, shared by every instance of its module. */
typedef struct wg_code {
  wg_cell *cells;
  uint32_t ncells;
  uint32_t frame_slots; /* params + locals + operand stack */
  /* Where each wasm instruction's code starts: pairs (cell index, byte
   * offset of the instruction in the module binary), ascending by cell; for
   * trap frames (wg_code_offset). Instructions that emit nothing have none. */
  uint32_t *offsets;
  uint32_t noffsets;
  wg_handler *handlers; /* try_table catch clauses (NULL when none) */
  uint32_t nhandlers;
  /* The compiled tier (jit.h): native entry once compiled, or jit_failed
   * (set from the start for functions with handlers: the compiled tier does
   * not unwind, so they run in the interpreter); jit_why: the reason the
   * compiled tier gave (a static string; NULL when not known). */
  _Atomic(void *) jit;
  _Atomic bool jit_failed;
  _Atomic(const char *) jit_why;
} wg_code;

/* A canonical function type id: equal types have equal ids (the store
 * interns them), so call_indirect compares one integer. */
typedef uint32_t wg_typeid;

struct wg_func {
  wg_typeid type_id;
  wg_functype_desc type; /* points into the store's type table */
  wg_instance *inst;     /* defining instance; NULL for host functions */
  uint32_t index;        /* in the defining module's function index space */
  wg_host_callback host;
  const struct wg_code *code; /* compiled code, cached on first call */
  void *env;
  void (*finalizer)(void *env);
};

struct wg_table {
  wg_store *store; /* charged for its elements (max_bytes) */
  wg_valtype elem;
  uint32_t size, max; /* max: how far it may grow (the declared maximum, capped by the store) */
  bool has_max;       /* the declared limits, for import matching */
  uint32_t decl_max;
  wg_ref *elems;
};

struct wg_memory {
  wg_store *store;   /* charged for its pages (max_bytes) */
  uint8_t *data;     /* reserved for max pages, committed for `pages` */
  uint64_t size;     /* bytes = pages * 65536 */
  uint32_t pages, max; /* max: how far it may grow (declared maximum, capped by the store) */
  bool has_max;        /* the declared limits, for import matching */
  uint32_t decl_max;
  size_t reserved;     /* bytes of address space reserved */
  size_t committed;    /* bytes at the start that are readable and writable (>= size) */
  struct wg_memimage *image; /* made from this image (memimage.c): its data segments are in place */
};

struct wg_global {
  wg_valtype type;
  bool mut;
  wg_slot value;
  wg_slot value_hi; /* v128: the high 8 bytes (value holds the low ones) */
};

/* An exception tag instance (exception handling, 3.0 4.2): exceptions match
 * a catch clause by the identity of this object. */
struct wg_tag {
  wg_typeid type_id;
  wg_functype_desc type; /* params: the exception's values; no results */
};

/* An exception (exnref): its tag and values as packed slots (v128 in two).
 * Made by throw; freed when caught by catch/catch_all, or, once anything
 * could still refer to it (caught with catch_ref/catch_all_ref, or carried
 * out by a trap), with the store (`owned`; exceptions.c). */
typedef struct wg_exn {
  wg_tag *tag;
  wg_store *store; /* where it was thrown: only there can it be rethrown */
  bool owned;
  uint32_t nslots;
  wg_slot vals[];
} wg_exn;

struct wg_instance {
  wg_store *store;
  const wg_module *module;
  wg_func **funcs;
  wg_table **tables;
  wg_memory **mems;
  wg_global **globals;
  wg_tag **tags;
  wg_ref **elem_refs;    /* per element segment: its references (NULL once dropped) */
  uint32_t *elem_sizes;  /* per element segment: size (0 once dropped) */
  bool *data_dropped;    /* per data segment */
  wg_typeid *type_ids;   /* per module type: its canonical id */
};

/* One activation record of the interpreter's frame stack: the function
 * running at this depth, and where its caller resumes. */
typedef struct wg_frame {
  const wg_cell *ret_pc;
  wg_slot *ret_fp;
  wg_func *func;
} wg_frame;

/* An allocation the store frees at deletion. */
typedef struct wg_owned wg_owned;

struct wg_store {
  wg_store_config config;
  void *data;                 /* the embedder's (wg_store_set_data) */
  wg_slot *stack, *stack_end; /* the value stack */
  wg_slot *stack_top;         /* first free slot (for re-entrant calls) */
  wg_frame *frames;          /* grows on demand up to max_call_depth */
  uint32_t frames_cap;
  uint32_t depth;             /* frames in use */
  /* Interned function types. */
  wg_functype_desc *types;
  uint32_t ntypes, cap_types;
  wg_owned *owned;
  uint64_t bytes; /* held by the store's objects, against config.max_bytes */
  /* Interruption: fuel left (INT64_MAX when metering is off) and the epoch
   * deadline (UINT64_MAX for none). Checked at function entry and loops.
   * The deadline is atomic: wg_store_interrupt lowers it from another thread. */
  int64_t fuel;
  bool fuel_on;
  _Atomic uint64_t deadline;
  _Atomic uint64_t *epoch; /* the engine's counter */
  /* Suspension (wg_func_resume): where the outermost call stopped. */
  bool yield;           /* wg_store_set_yield */
  uint32_t no_suspend;  /* > 0 while suspension is not allowed (start functions) */
  struct {
    bool active;
    const wg_cell *pc;  /* where the interrupted frame continues */
    wg_slot *fp;        /* its slot 0 */
    wg_func *host;      /* the host function that parked the guest, NULL after a yield */
    wg_slot *host_fp;   /* where that host function's results go */
    wg_func *entry;     /* the function wg_func_call entered */
    wg_slot *entry_fp;  /* its arguments / results */
  } susp;
  struct wg_memimage *memimage; /* wg_store_set_memimage: memory 0 of its module's instances (borrowed) */
  /* The compiled tier (jit.h): on for this store, the innermost entry into
   * compiled code, and the lowest stack pointer compiled code may use. */
  bool jit_on;
  struct wg_jit_ctx *jit_ctx;
  uintptr_t jit_stack_limit;
  /* Calls of jit_on that ran on the interpreter because the compiled tier
   * could not compile the callee (wg_store_jit_fallbacks), and the last
   * reason. */
  uint64_t jit_fallbacks;
  const char *jit_fallback_why;
  const void *data_tag; /* the tag of data's type (wg_store_set_data_tagged), NULL when untagged */
};

struct wg_engine {
  _Atomic uint64_t epoch;
  wg_store_config defaults;
};

/* The default engine (limits.c). */
extern wg_engine wg_default_engine;

/* Makes room for one more frame: false when the call depth limit is reached
 * (or on out of memory). */
bool wg_store_grow_frames(wg_store *s);

/* Counts `n` more bytes against the store's max_bytes: false (nothing
 * counted) when they do not fit. */
bool wg_store_charge(wg_store *s, uint64_t n);

/* Interns a function type; returns its id, or UINT32_MAX on OOM. */
wg_typeid wg_store_intern_type(wg_store *s, uint32_t np, const uint8_t *params, uint32_t nr, const uint8_t *results);

/* Records `p` (allocated with malloc) to be freed with the store, or runs
 * `release(p)` then; returns p, or NULL (having released p) on OOM. */
void *wg_store_own(wg_store *s, void *p, void (*release)(void *));

/* Compiles a module function to internal code on first use (compile.c).
 * Thread-safe: concurrent callers get the same code. NULL on OOM or when the
 * function uses instructions that cannot run yet (SIMD); *why says which. */
const wg_code *wg_compile_func(const wg_module *m, uint32_t func, const char **why);

/* wg_compile_func for a function the store is about to run, with the
 * store's deadline clock stopped while it compiles (limits.c): the deadline
 * moves later by the epochs that passed, so lazy compilation never counts
 * against a guest's time (issue 18.8). */
const wg_code *wg_store_compile(wg_store *s, const wg_module *m, uint32_t func, const char **why);

/* Moves the store's deadline later by the epochs passed since `before`
 * (the epoch when compilation started; `deadline` the deadline then), so
 * compilation does not count against a guest's time (limits.c). */
void wg_store_credit_epochs(wg_store *s, uint64_t deadline, uint64_t before);

/* Frees compiled code (module deletion). */
void wg_code_free(wg_code *code);

/* Evaluates a validated constant expression (spec 3.3.10: one instruction)
 * of inst's module: instantiation and wg_instance_reset (reset.c). A v128
 * result's high 8 bytes go to *hi when hi is not NULL. */
wg_slot wg_eval_const(const wg_instance *inst, const wg_bytes *e, wg_slot *hi);

/* The byte offset in the module binary of the wasm instruction whose
 * compiled code contains the cell before `pc` (inside a handler, pc points
 * past the handler cell; a frame's ret_pc points past its call), or SIZE_MAX
 * when `pc` is not in `code`. */
size_t wg_code_offset(const wg_code *code, const wg_cell *pc);

/* Runs `f` with its arguments already in `fp[0..nparams)`; results come back
 * in `fp[0..nresults)` (interp.c). Returns NULL or a trap. */
wg_trap *wg_interp_call(wg_store *s, wg_func *f, wg_slot *fp);

/* Calls host function f with its arguments in fp[0..]; results go to
 * fp[0..] (interp.c). `caller` is the calling instance. */
wg_trap *wg_host_call(wg_store *s, wg_func *f, wg_slot *fp, wg_instance *caller);

/* Continues the call suspended in s->susp (interp.c): the host function's
 * results, if any, are already in place. Same returns as wg_interp_call. */
wg_trap *wg_interp_resume(wg_store *s);

/* Makes a trap with a backtrace of the store's current frames (trap.c);
 * `pc` is the innermost frame's position (the interpreter's pc). */
wg_trap *wg_trap_at(wg_store *s, wg_trap_code code, const char *message, uint32_t depth_base, const wg_cell *pc);

/* Appends the store's wasm frames above `depth_base` to `t`'s frames
 * (innermost first; `pc` is the innermost frame's position): for traps made
 * by wg_trap_at, and for traps that host functions called from wasm return,
 * which so collect the frames of every wasm activation they unwind. Best
 * effort: on out of memory `t` keeps the frames it had. */
void wg_trap_add_frames(wg_store *s, wg_trap *t, uint32_t depth_base, const wg_cell *pc);

/* The spec's message for a trap code. */
const char *wg_trap_code_message(wg_trap_code code);

/* Bulk operations in chunks with fuel and the deadline checked between them
 * (bulk.c), on bounds-checked operands that they update in place (*d, *sr
 * advance and *n shrinks as chunks are done): fill bytes base[*d, *d + *n);
 * move *n elements of `elem` bytes from sbase[*sr] to dbase[*d] (memmove
 * semantics when the bases are equal); fill references base[*i, *i + *n).
 * 0 when done, else the trap code (WG_TRAP_OUT_OF_FUEL, WG_TRAP_INTERRUPTED)
 * with the operands describing the work left. */
wg_trap_code wg_bulk_fill(wg_store *s, uint8_t *base, uint32_t *d, uint8_t v, uint32_t *n);
wg_trap_code wg_bulk_move(wg_store *s, void *dbase, uint32_t *d, const void *sbase, uint32_t *sr, uint32_t *n,
                          uint32_t elem);
wg_trap_code wg_bulk_fill_refs(wg_store *s, wg_ref *base, uint32_t *i, wg_ref v, uint32_t *n);

/* A load or store of instruction `op` (a wg_op with a memarg) at effective
 * address ea of `mem`, the value in a slot (memx.c); false when out of bounds. */
bool wg_memx_load(unsigned op, const wg_memory *mem, uint64_t ea, wg_slot *dst);
bool wg_memx_store(unsigned op, wg_memory *mem, uint64_t ea, const wg_slot *v);

/* Exceptions (exn.c). wg_exn_new makes one of `tag` in s with its values
 * copied from vals (NULL on OOM); wg_exn_keep hands it to the store (anything may
 * now refer to it: an exnref, a trap), charged to max_bytes (false, and the
 * exception freed, when it does not fit); wg_exn_drop frees it unless kept. */
wg_exn *wg_exn_new(wg_store *s, wg_tag *tag, const wg_slot *vals);
bool wg_exn_keep(wg_store *s, wg_exn *e);
void wg_exn_drop(wg_exn *e);
/* The exception a WG_TRAP_EXCEPTION trap carries (trap.c; NULL for others),
 * and attaching it. */
wg_exn *wg_trap_exn(const wg_trap *t);
void wg_trap_set_exn(wg_trap *t, wg_exn *e);

/* Memory growth shared by memory.grow and the API: old pages or -1. */
int64_t wg_memory_grow_pages(wg_memory *mem, uint32_t delta);

/* memimage.c: the module an image was made from, and a memory of limits l made from the image
 * (charged to s as wg_memory_new; NULL when it cannot be made: limits, max_bytes, OOM). */
const wg_module *wg_memimage_module(const struct wg_memimage *img);
wg_memory *wg_memimage_memory(wg_store *s, struct wg_memimage *img, const wg_limits *l);
/* Resets a memory made from an image back to the image, in place (wg_instance_reset); the caller
 * shrinks a grown memory. False when the system refused (discard the instance). */
bool wg_memimage_reset_memory(wg_memory *mem);
/* store.c: zeroes n bytes at p, inside a memory's committed range (small ranges by memset, kept
 * resident; large page-aligned ones by madvise(MADV_DONTNEED)); never fails. */
void wg_memory_zero(uint8_t *p, size_t n);
/* reset.c: wg_instance_reset for one of a group of instances that share memories, tables or
 * mutable globals among themselves (a component's core instances: wg_component_instance_reset),
 * reset together in instantiation order: what inst imports was reset by its owner before, and
 * inst's active data and element segments are copied into imported memories and tables again.
 * Same results and errors as wg_instance_reset, without the "imports a memory" refusals. */
bool wg_instance_reset_group(wg_instance *inst, wg_error **err, wg_trap **trap);

/* Converts between wg_val and a slot of type `t`. */
void wg_val_to_slot(const wg_val *v, wg_slot *out);
void wg_slot_to_val(wg_valtype t, const wg_slot *in, wg_val *out);

/* Slots a value of type t takes: 2 for v128, else 1. */
static inline uint32_t wg_slot_width(wg_valtype t) { return t == WG_V128 ? 2 : 1; }

/* Slots `n` values of `types` take, packed (the calling convention). */
uint32_t wg_slot_count(uint32_t n, const wg_valtype *types);

/* Moves n values between wg_val arrays and packed slots (v128 in two). */
void wg_vals_to_slots(uint32_t n, const wg_val *vals, wg_slot *slots);
void wg_slots_to_vals(uint32_t n, const wg_valtype *types, const wg_slot *slots, wg_val *vals);

#endif
