/*
 * wasmgate.h: the public API of wasmgate's WebAssembly engine.
 *
 * One header, one prefix (wg_). Handles are opaque; every object made by a
 * *_new function is released by the matching *_delete. Errors are values:
 * a function that can fail returns NULL (or false) and, when the caller
 * passes a non-NULL `wg_error **err`, stores a new error object there that
 * the caller owns and releases with wg_error_delete.
 *
 * Implements the WebAssembly Core Specification, Release 2.0: binary format
 * (chapter 5) and validation (chapter 3).
 */
#ifndef WASMGATE_H
#define WASMGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WG_API __attribute__((visibility("default")))
#else
#define WG_API
#endif

/* ------------------------------------------------------------------ errors */

/* What kind of failure an error reports. */
typedef enum wg_error_kind {
  WG_ERROR_MALFORMED = 1, /* the bytes are not a module in the binary format (spec 5) */
  WG_ERROR_INVALID = 2,   /* the module is well-formed but does not validate (spec 3) */
  WG_ERROR_LIMIT = 3,     /* an implementation limit was exceeded (spec A.2) */
  WG_ERROR_RESOURCE = 4,  /* out of memory or another host resource */
} wg_error_kind;

typedef struct wg_error wg_error;

/* The error's message, in the spec testsuite's wording ("unexpected end",
 * "type mismatch", ...), possibly followed by detail after a colon or space.
 * Owned by the error; valid until wg_error_delete. Never NULL. */
WG_API const char *wg_error_message(const wg_error *err);

/* The byte offset in the module binary where the error was found, or
 * SIZE_MAX when the error has no position (e.g. out of memory). */
WG_API size_t wg_error_offset(const wg_error *err);

/* The error's kind (see wg_error_kind). */
WG_API wg_error_kind wg_error_kind_of(const wg_error *err);

/* Releases an error. NULL is allowed and ignored. */
WG_API void wg_error_delete(wg_error *err);

/* ------------------------------------------------------------------ types */

/* Value types, by their binary encoding (spec 5.3.1, 5.3.3). */
typedef enum wg_valtype {
  WG_I32 = 0x7F,
  WG_I64 = 0x7E,
  WG_F32 = 0x7D,
  WG_F64 = 0x7C,
  WG_V128 = 0x7B,
  WG_FUNCREF = 0x70,
  WG_EXTERNREF = 0x6F,
  WG_EXNREF = 0x69, /* exception handling (3.0): a caught exception; opaque to the host */
} wg_valtype;

/* External kinds, by their binary encoding in imports and exports (spec 5.5.5). */
typedef enum wg_extern_kind {
  WG_EXTERN_FUNC = 0,
  WG_EXTERN_TABLE = 1,
  WG_EXTERN_MEMORY = 2,
  WG_EXTERN_GLOBAL = 3,
  WG_EXTERN_TAG = 4, /* exception handling (3.0): an exception tag */
} wg_extern_kind;

/* Returns the text-format name of a value type ("i32", "funcref", ...),
 * or "?" for a value that is not a wg_valtype. Static storage. */
WG_API const char *wg_valtype_name(wg_valtype t);

/* ------------------------------------------------------------------ modules */

typedef struct wg_module wg_module;

/* Decodes and validates a module binary (spec 5 and 3).
 *
 * `bytes`/`len`: the binary; copied, so the caller may free it on return.
 * Returns the module, owned by the caller (wg_module_delete), or NULL with
 * *err set (when err is non-NULL):
 *   WG_ERROR_MALFORMED  the spec's decoding errors: "unexpected end",
 *                       "magic header not detected", "unknown binary version",
 *                       "integer representation too long", "integer too large",
 *                       "malformed section id", "section size mismatch",
 *                       "malformed UTF-8 encoding", "illegal opcode",
 *                       "zero byte expected", "too many locals", ...
 *   WG_ERROR_INVALID    the spec's validation errors: "type mismatch",
 *                       "unknown local", "unknown function", ...
 *   WG_ERROR_LIMIT      an implementation limit (docs/engine-limits.md).
 *   WG_ERROR_RESOURCE   out of memory.
 * The error's offset is the byte offset in `bytes` where decoding or
 * validation failed. Decoding never allocates more than a small multiple of
 * `len`: counts declared in the binary are checked against the bytes left
 * before anything is allocated for them. */
WG_API wg_module *wg_module_new(const uint8_t *bytes, size_t len, wg_error **err);

/* WebAssembly features beyond 2.0 that a module may use. wg_module_new
 * accepts all of them (WG_FEATURES_ALL, WebAssembly 3.0's set as far as this
 * engine implements it); WG_FEATURES_WASM2 decodes and validates exactly as
 * WebAssembly 2.0 does (its spec tests reject what 3.0 made valid). */
enum {
  WG_FEATURE_MULTI_MEMORY = 1u << 0, /* several memories; memory indices on memory instructions (3.0) */
  WG_FEATURE_EXCEPTIONS = 1u << 1,   /* the tag section, throw, throw_ref, try_table, exnref (3.0) */
  WG_FEATURE_TAIL_CALL = 1u << 2,    /* return_call, return_call_indirect (3.0) */
  WG_FEATURES_WASM2 = 0,
  WG_FEATURES_ALL = WG_FEATURE_MULTI_MEMORY | WG_FEATURE_EXCEPTIONS | WG_FEATURE_TAIL_CALL,
};

/* wg_module_new with a feature set (WG_FEATURE_* bits); a module using a
 * feature not in it is rejected with the error WebAssembly 2.0 gives
 * ("multiple memories", "zero byte expected", "malformed memop flags",
 * "malformed section id", "illegal opcode", "malformed value type"). */
WG_API wg_module *wg_module_new_features(const uint8_t *bytes, size_t len, uint32_t features, wg_error **err);

/* Releases a module. NULL is allowed and ignored. */
WG_API void wg_module_delete(wg_module *m);

/* Compiles every function of the module to the engine's internal code now,
 * instead of on each function's first call. Functions are otherwise
 * compiled lazily, so that large modules start fast; a host that loads a
 * module once and serves requests from it (the sidecar) calls this at load,
 * so that no request pays for compilation. (Lazy compilation never counts
 * against a store's deadline either: the clock stops while it runs.) The
 * code is the module's, shared by every store and thread. Functions the
 * engine cannot run yet (SIMD) are left to trap when called, as they would.
 * Thread-safe. Returns false with *err set (kind WG_ERROR_RESOURCE, "out of
 * memory") on out of memory; what was compiled stays. */
WG_API bool wg_module_compile_all(const wg_module *m, wg_error **err);

/* Describes one import or export of a module. Strings point into the module
 * and stay valid until wg_module_delete; they are NUL-terminated, and
 * `*_len` gives their exact length (a name may itself contain NUL bytes). */
typedef struct wg_extern_desc {
  const char *module; /* imports only; NULL for exports */
  size_t module_len;
  const char *name;
  size_t name_len;
  wg_extern_kind kind;
  uint32_t index; /* exports: index in the kind's index space; imports: its index there */
} wg_extern_desc;

/* Number of imports of the module. */
WG_API uint32_t wg_module_import_count(const wg_module *m);

/* Fills *out with import `i` (0 <= i < wg_module_import_count).
 * Returns false when `i` is out of range. */
WG_API bool wg_module_import(const wg_module *m, uint32_t i, wg_extern_desc *out);

/* Number of exports of the module. */
WG_API uint32_t wg_module_export_count(const wg_module *m);

/* Fills *out with export `i` (0 <= i < wg_module_export_count).
 * Returns false when `i` is out of range. */
WG_API bool wg_module_export(const wg_module *m, uint32_t i, wg_extern_desc *out);

/* Number of functions in the module's function index space (imports included). */
WG_API uint32_t wg_module_func_count(const wg_module *m);

/* The function's name from the "name" custom section, or NULL when it has
 * none (or `func` is out of range). Owned by the module. */
WG_API const char *wg_module_func_name(const wg_module *m, uint32_t func);

/* The type of an entity of a module, by kind and index in that kind's index
 * space (imports first): wg_extern_desc.index of an import or export fits. */
typedef struct wg_externtype {
  wg_extern_kind kind;
  struct {
    uint32_t nparams, nresults;
    const wg_valtype *params, *results; /* owned by the module */
  } func;                               /* WG_EXTERN_FUNC; WG_EXTERN_TAG: the tag's type (no results) */
  wg_valtype elem;                      /* WG_EXTERN_TABLE: the reference type */
  uint32_t min, max;                    /* WG_EXTERN_TABLE / MEMORY limits (max valid if has_max) */
  bool has_max;
  wg_valtype type;                      /* WG_EXTERN_GLOBAL */
  bool mut;
} wg_externtype;

/* Fills *out with the type of entity `index` of `kind`; false when out of range. */
WG_API bool wg_module_extern_type(const wg_module *m, wg_extern_kind kind, uint32_t index, wg_externtype *out);

/* The module's binary exactly as it was given to wg_module_new (the module's
 * own copy: valid until wg_module_delete); *len receives its size in bytes.
 * Recompiling these bytes gives an equal module (wasm.h's serialize). */
WG_API const uint8_t *wg_module_binary(const wg_module *m, size_t *len);

/* Writes a human-readable description of the module to `out`: its sections,
 * imports, exports and each function's disassembled instructions (in the
 * manner of `wasm-objdump -x -d`). Returns false on a write error. */
WG_API bool wg_module_dump(const wg_module *m, FILE *out);

/* ------------------------------------------------------------------ runtime */

/* A store owns every runtime object (instances, functions, tables, memories,
 * globals) and the value stack that runs them; everything made in it is freed
 * by wg_store_delete. A store is used by one thread at a time. */
typedef struct wg_store wg_store;
typedef struct wg_instance wg_instance;
typedef struct wg_func wg_func;
typedef struct wg_table wg_table;
typedef struct wg_memory wg_memory;
typedef struct wg_global wg_global;
typedef struct wg_tag wg_tag; /* an exception tag (exception handling, 3.0) */

/* A reference value: a function (wg_func *) for funcref, an opaque host
 * pointer for externref; NULL is the null reference. */
typedef void *wg_ref;

/* A value with its type. v128 travels as 16 little-endian bytes. */
typedef struct wg_val {
  wg_valtype kind;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    wg_ref ref;
    uint8_t v128[16];
  } of;
} wg_val;

/* A function type: `params` and `results` are arrays of wg_valtype. */
typedef struct wg_functype_desc {
  uint32_t nparams, nresults;
  const wg_valtype *params, *results;
} wg_functype_desc;

/* Trap codes (spec 4.4: the reasons execution can trap), plus the engine's
 * own interruptions. */
typedef enum wg_trap_code {
  WG_TRAP_UNREACHABLE = 1,      /* "unreachable" */
  WG_TRAP_MEMORY_OUT_OF_BOUNDS, /* "out of bounds memory access" */
  WG_TRAP_TABLE_OUT_OF_BOUNDS,  /* "out of bounds table access" */
  WG_TRAP_UNDEFINED_ELEMENT,    /* "undefined element" */
  WG_TRAP_UNINITIALIZED_ELEMENT,/* "uninitialized element" */
  WG_TRAP_INDIRECT_CALL_TYPE,   /* "indirect call type mismatch" */
  WG_TRAP_INT_DIV_BY_ZERO,      /* "integer divide by zero" */
  WG_TRAP_INT_OVERFLOW,         /* "integer overflow" */
  WG_TRAP_INVALID_CONVERSION,   /* "invalid conversion to integer" */
  WG_TRAP_STACK_EXHAUSTED,      /* "call stack exhausted" */
  WG_TRAP_OUT_OF_FUEL,          /* "all fuel consumed" */
  WG_TRAP_INTERRUPTED,          /* "interrupted" (deadline) */
  WG_TRAP_HOST,                 /* raised by a host function (message is the host's) */
  WG_TRAP_UNSUPPORTED,          /* the function uses what this engine cannot run yet */
  WG_TRAP_RESOURCE,             /* out of memory while running */
  WG_TRAP_SUSPENDED,            /* "suspended": a host function parked the guest (see wg_func_resume) */
  WG_TRAP_YIELDED,              /* "yielded": the guest's time slice ended (see wg_store_set_yield) */
  WG_TRAP_EXCEPTION,            /* "uncaught exception": a wasm exception (throw) left the outermost call;
                                   a host function returning this trap to wasm (of the same store)
                                   rethrows the exception there */
  WG_TRAP_NULL_EXNREF,          /* "null exception reference" (throw_ref of null) */
} wg_trap_code;

typedef struct wg_trap wg_trap;

/* A new trap with `code` and `message` (copied); for host functions to
 * return. NULL on out of memory. Owned by whoever receives it. */
WG_API wg_trap *wg_trap_new(wg_trap_code code, const char *message);
WG_API wg_trap_code wg_trap_code_of(const wg_trap *t);
/* The spec's message for the trap ("integer divide by zero", ...). */
WG_API const char *wg_trap_message(const wg_trap *t);
/* The wasm backtrace, innermost frame first: one line per frame,
 * "  at FUNC_NAME (func[N])" or "  at func[N]". Empty when unknown. */
WG_API const char *wg_trap_backtrace(const wg_trap *t);
WG_API void wg_trap_delete(wg_trap *t);

/* One wasm frame of a trap's call stack (host functions have none). */
typedef struct wg_trap_frame_info {
  wg_instance *instance; /* the function's instance; owned by its store */
  uint32_t func_index;   /* in the instance's module's function index space */
  size_t func_offset;    /* byte offset of the instruction from the start of the
                            function's body (its locals declarations included) */
  size_t module_offset;  /* byte offset of the instruction in the module binary */
} wg_trap_frame_info;

/* Number of wasm frames recorded when the trap was raised: the trapping
 * instruction (or, when the interpreter was interrupted at a function's
 * entry or a loop, the function's first instruction or the loop), then each
 * caller at its call instruction. Traps returned by host functions called
 * from wasm get the frames of every wasm activation they unwind; 0 for a
 * trap made with wg_trap_new that never passed through wasm. */
WG_API size_t wg_trap_frame_count(const wg_trap *t);
/* Fills *out with frame `i`, innermost (the trapping function) first;
 * false when `i` >= wg_trap_frame_count. */
WG_API bool wg_trap_frame(const wg_trap *t, size_t i, wg_trap_frame_info *out);
/* Appends a frame to the trap (outermost last): for a host that re-raises,
 * as a new trap, one it got from a nested call, keeping the frames the
 * engine recorded there. False on out of memory. */
WG_API bool wg_trap_append_frame(wg_trap *t, const wg_trap_frame_info *frame);

/* Store limits. A zero field means "the default" noted beside it.
 *
 * `max_bytes` bounds everything the store's objects hold together: linear
 * memories (their current size), tables (8 bytes per element), globals,
 * functions, instances and the element segments they keep. Creating or
 * growing anything past it fails: memory.grow and table.grow return -1,
 * wg_memory_new / wg_table_new / wg_global_new / wg_func_new_host return
 * NULL, and wg_instance_new fails with WG_ERROR_LIMIT ("store memory limit
 * exceeded: ..."). The value stack (value_stack_slots) and compiled code
 * (shared by the module's instances) are not counted. A host that gives a
 * guest a memory budget (a component's maxMemory) sets max_bytes to it
 * (and max_memory_pages for the memory alone, if it wants both). */
typedef struct wg_store_config {
  size_t value_stack_slots; /* 64-bit slots for locals and operands (default 1M: 8 MiB) */
  uint32_t max_call_depth;  /* wasm frames (default 20000) */
  uint32_t max_memory_pages;/* cap on any memory's size in 64 KiB pages (default 65536) */
  uint32_t max_table_elems; /* cap on any table's size (default 10,000,000) */
  uint64_t max_bytes;       /* cap on the store's objects together, in bytes (default
                               max_memory_pages * 64 KiB + 64 MiB) */
  uint32_t tier;            /* execution tier: WG_TIER_INTERP or WG_TIER_JIT (0: the
                               WASMGATE_TIER environment variable, "interp" or "jit",
                               else the interpreter) */
} wg_store_config;

/* Execution tiers (wg_store_config.tier). WG_TIER_JIT compiles each function
 * to native code on its first call (x86-64; elsewhere, and for functions with
 * instructions the compiled tier does not support, the interpreter runs
 * them). Both give the same results, traps, fuel and deadline behaviour. */
enum { WG_TIER_DEFAULT = 0, WG_TIER_INTERP = 1, WG_TIER_JIT = 2 };

/* Bytes the store's objects hold now, as counted against max_bytes. */
WG_API uint64_t wg_store_bytes(const wg_store *s);

/* On a WG_TIER_JIT store: how many calls so far ran a function on the
 * interpreter because the compiled tier could not compile it (0 on an
 * interpreter store); *why (may be NULL) gets the last reason the compiled
 * tier gave (a static string owned by the engine, NULL when none). Tests use
 * it to assert that code ran compiled (the spec driver's
 * WASMGATE_JIT_STRICT). */
WG_API uint64_t wg_store_jit_fallbacks(const wg_store *s, const char **why);

/* An engine holds what stores share: the epoch counter that deadlines are
 * measured against, and default store limits. Modules do not belong to an
 * engine (they are immutable and can be used from any store and thread).
 * Everywhere an engine is taken, NULL means the process-wide default engine,
 * which always exists. */
typedef struct wg_engine wg_engine;

/* Creates an engine; `defaults` (may be NULL) become the limits of its
 * stores where a store's own config leaves a field zero. NULL on OOM.
 * Delete it only after every store made from it. */
WG_API wg_engine *wg_engine_new(const wg_store_config *defaults);
/* Frees an engine. NULL is ignored. */
WG_API void wg_engine_delete(wg_engine *e);

/* Creates a store in engine `e` (NULL: the default engine). `config` may be
 * NULL for the engine's defaults. NULL on OOM. */
WG_API wg_store *wg_store_new(wg_engine *e, const wg_store_config *config);
/* Frees the store and everything made in it. NULL is ignored. */
WG_API void wg_store_delete(wg_store *s);
/* The embedder's pointer for the store (wasmtime's store data): NULL until
 * set; the engine never reads or frees it. Host functions that serve many
 * stores find their per-store state through it. */
WG_API void wg_store_set_data(wg_store *s, void *data);
WG_API void *wg_store_data(const wg_store *s);
/* The store's data with a tag naming its type (any address the embedder
 * owns, e.g. a static const char array): wg_store_data_tagged answers the
 * data only when it was set with that same (non-NULL) tag, else NULL, so
 * host functions that serve stores of several kinds or embedders never read
 * another's data as theirs. wg_store_set_data sets no tag; wg_store_data
 * answers the data whatever its tag. */
WG_API void wg_store_set_data_tagged(wg_store *s, const void *tag, void *data);
WG_API void *wg_store_data_tagged(const wg_store *s, const void *tag);

/* An external value: what an import is satisfied with and an export gives. */
typedef struct wg_extern {
  wg_extern_kind kind;
  union {
    wg_func *func;
    wg_table *table;
    wg_memory *memory;
    wg_global *global;
    wg_tag *tag;
  } of;
} wg_extern;

/* A host function. `args` hold the params (types as declared), `results`
 * must be filled (their kinds are preset). `caller` is the instance whose
 * code made the call (NULL when called from the host), for reaching its
 * memory. Returns NULL, or a trap that the engine takes ownership of. */
typedef wg_trap *(*wg_host_callback)(void *env, wg_instance *caller, const wg_val *args, wg_val *results);

/* Creates a host function of type `type` (copied) in the store. `env` is
 * passed to every call; `finalizer`, if any, is called with env when the
 * store is deleted. NULL on OOM, in which case env stays the caller's (the
 * finalizer is not called). Owned by the store. */
WG_API wg_func *wg_func_new_host(wg_store *s, const wg_functype_desc *type, wg_host_callback cb, void *env,
                                 void (*finalizer)(void *env));

/* Creates a memory of `min` pages (max `max` pages when has_max), zeroed.
 * NULL if the limits are invalid or beyond the store's cap, or on OOM. */
WG_API wg_memory *wg_memory_new(wg_store *s, uint32_t min, bool has_max, uint32_t max);
/* Creates a table of reference type `elem`, `min` elements set to `init`. */
WG_API wg_table *wg_table_new(wg_store *s, wg_valtype elem, uint32_t min, bool has_max, uint32_t max, wg_ref init);
/* Creates a global of the value's type; `mut` makes it mutable. */
WG_API wg_global *wg_global_new(wg_store *s, const wg_val *init, bool mut);

/* Instantiates a module (spec 4.5.4): links `imports` (in the module's import
 * order, wg_module_import_count of them), allocates its functions, tables,
 * memories and globals, initialises segments and runs the start function.
 * Returns the instance (owned by the store) or NULL with either *err set
 * (link errors, kind WG_ERROR_INVALID: "unknown import", "incompatible import
 * type"; out of memory) or *trap set (a segment out of bounds, or the start
 * function trapped; effects of earlier segments remain, as the spec says).
 * The module must outlive the store. */
WG_API wg_instance *wg_instance_new(wg_store *s, const wg_module *m, const wg_extern *imports, size_t nimports,
                                    wg_error **err, wg_trap **trap);

/* Resets an instance to the state wg_instance_new left it in (engine/src/reset.c), so that an
 * embedder that gives every request a fresh instance can reuse one instead of instantiating again
 * (same semantics, lower cost): the memories, tables and globals the module defines get their
 * initial contents and sizes again (a grown memory or table shrinks back and the store is
 * uncharged; a memory made from a wg_memimage is reset by the pages its guest dirtied, any other
 * memory is zeroed and its active data segments copied again), passive data and element segments
 * become available again (dropped ones included), active and declarative ones stay dropped, and
 * the start function runs again. A call the store had suspended (wg_store_suspended) is
 * abandoned first; an instance whose last call trapped is reset like any other. What the engine
 * does not own is the embedder's to reset: host functions' state (WASI: wg_wasi_reset), the
 * store's fuel, deadline and yield setting, and other instances of the store, which see an
 * exported memory, table or global of this instance reset.
 * Returns true, or false with *err (kind WG_ERROR_INVALID): "instance reset: the module imports a
 * memory" (or "a table", "a mutable global": state shared with other instances cannot be reset),
 * "instance reset: the store is running a call" (called from inside a host function), "instance
 * reset: cannot reset a memory" (the system refused); or with *trap set when the start function
 * trapped. After false the instance must be discarded (its state is undefined). */
WG_API bool wg_instance_reset(wg_instance *inst, wg_error **err, wg_trap **trap);

/* Whether instances of m can be reset (wg_instance_reset); when not, *why (if why is not NULL)
 * receives the reason (static storage), else NULL. */
WG_API bool wg_module_can_reset(const wg_module *m, const char **why);

/* Whether m has a start function (spec 2.5.9 start section: instantiation and wg_instance_reset
 * run it). */
WG_API bool wg_module_has_start(const wg_module *m);

/* ---- Copy-on-write images of the initial memory (engine/src/memimage.c) ----
 * A memory image is a module's memory 0 as instantiation leaves it after the active data
 * segments, made once per module, so that instances start with their data in place: the image
 * is written to an anonymous file (memfd) and each instance maps it MAP_PRIVATE, paying only for
 * the pages it writes, as wasmtime's pooling allocator does. A released memory is reset to the
 * image with one madvise and reused by the next instance of the same image. Where there is no
 * memfd (or with WG_MEMIMAGE_NO_COW) the image is a heap copy, memcpy'd into each new memory.
 * The store is charged as for any memory (max_bytes counts the memory's size); memory.grow works
 * as on any memory. */
typedef struct wg_memimage wg_memimage;
#define WG_MEMIMAGE_NO_COW 1u /* flags: always the heap copy (tests, benchmarks) */

/* Makes the image of m's memory 0. The module must define its memory 0 (not import it), and the
 * active data segments of memory 0 must have constant (i32.const) offsets and fit in its
 * initial size. Returns the image (delete with wg_memimage_delete; memories made from it keep it
 * alive as long as they need it) or NULL with *err: "memory image: the module defines no memory
 * 0 of its own", "... a data segment's offset is not a constant", "... a data segment is out of
 * bounds", "... memory 0 is too large", out of memory. Thread-safe once made; m must outlive it. */
WG_API wg_memimage *wg_memimage_new(const wg_module *m, unsigned flags, wg_error **err);
/* Drops the caller's reference. NULL is ignored. */
WG_API void wg_memimage_delete(wg_memimage *img);
/* Whether the image is a copy-on-write file mapping (false: the heap-copy fallback). */
WG_API bool wg_memimage_is_cow(const wg_memimage *img);
/* Makes wg_instance_new on s create memory 0 of img's module from img (instances of other
 * modules are not affected); NULL stops it. img is borrowed: it must stay alive until the
 * wg_instance_new calls that use it return. */
WG_API void wg_store_set_memimage(wg_store *s, wg_memimage *img);

/* Looks up an export by name (`len` bytes). Returns false if there is none. */
WG_API bool wg_instance_export(const wg_instance *inst, const char *name, size_t len, wg_extern *out);

/* The entity `index` of `kind` in the instance's index spaces (imports
 * first: wg_extern_desc.index of the module's exports fits). False when
 * `index` is out of range. */
WG_API bool wg_instance_extern(const wg_instance *inst, wg_extern_kind kind, uint32_t index, wg_extern *out);

/* The module the instance was made from (not owned by the instance: the
 * module must outlive the store). */
WG_API const wg_module *wg_instance_module(const wg_instance *inst);

/* The instance's memory 0, or NULL if it has none. */
WG_API wg_memory *wg_instance_memory(const wg_instance *inst);

/* Calls a function. `args` must match its params in number and type;
 * `results` receives its results. Returns NULL on success or a trap owned by
 * the caller. Never crashes on a misbehaving guest. */
WG_API wg_trap *wg_func_call(wg_store *s, wg_func *f, const wg_val *args, size_t nargs, wg_val *results,
                             size_t nresults);
/* The function's type; valid while the store lives. */
WG_API wg_functype_desc wg_func_type(const wg_func *f);

/* Memory access: base address and size in bytes. The base may change when the
 * memory grows. */
WG_API uint8_t *wg_memory_data(wg_memory *mem);
WG_API uint64_t wg_memory_size(const wg_memory *mem);
/* Grows by `delta` pages; returns the old size in pages or -1 (spec memory.grow). */
WG_API int64_t wg_memory_grow(wg_memory *mem, uint32_t delta);

/* Global access. wg_global_set fails (false) on immutable globals or a
 * type mismatch. */
WG_API void wg_global_get(const wg_global *g, wg_val *out);
WG_API bool wg_global_set(wg_global *g, const wg_val *v);

/* Table access: false when out of bounds. wg_table_set stores `ref` as is:
 * the caller passes a wg_func * (or NULL) for a funcref table. */
WG_API uint32_t wg_table_size(const wg_table *t);
WG_API bool wg_table_get(const wg_table *t, uint32_t i, wg_ref *out);
WG_API bool wg_table_set(wg_table *t, uint32_t i, wg_ref ref);
/* Grows by `delta` elements set to `init`; returns the old size or -1 past
 * the table's maximum (declared, capped by the store) or on OOM (spec
 * table.grow). */
WG_API int64_t wg_table_grow(wg_table *t, uint32_t delta, wg_ref init);

/* The current type of an external value (spec 4.5.1 external typing): a
 * function's type (arrays owned by the store), a table's element type, size
 * as `min` and declared maximum, a memory's size in pages as `min` and
 * declared maximum, a global's value type and mutability. */
WG_API void wg_extern_type(const wg_extern *ex, wg_externtype *out);

/* ------------------------------------------------------------------ limits on running guests */

/* Fuel: a deterministic budget. When metering is on, every function entry
 * and every loop iteration consumes one unit, and a guest that runs out traps
 * with WG_TRAP_OUT_OF_FUEL ("all fuel consumed"). wg_store_set_fuel turns
 * metering on with `fuel` units (and refuels a store that ran out);
 * wg_store_disable_fuel turns it off (the default). */
WG_API void wg_store_set_fuel(wg_store *s, uint64_t fuel);
WG_API void wg_store_disable_fuel(wg_store *s);
/* Remaining fuel; UINT64_MAX when metering is off. */
WG_API uint64_t wg_store_fuel(const wg_store *s);

/* Epochs: an engine's counter that any thread may advance (typically one
 * ticker thread, every few milliseconds). A store with a deadline traps with
 * WG_TRAP_INTERRUPTED ("interrupted") at the first function entry or loop
 * iteration once its engine's counter reaches it, even inside a tight loop.
 * `e` NULL means the default engine. Thread-safe. */
WG_API void wg_engine_increment_epoch(wg_engine *e);
WG_API uint64_t wg_engine_epoch(const wg_engine *e);
/* Sets the deadline to the store's engine's current epoch + `delta` (>= 1). */
WG_API void wg_store_set_deadline(wg_store *s, uint64_t delta);
/* Removes the deadline (the default). */
WG_API void wg_store_clear_deadline(wg_store *s);
/* Interrupts the store's running guest: its deadline becomes "already
 * passed", so wasm code traps with WG_TRAP_INTERRUPTED at its next function
 * entry or loop iteration (a host function it is in returns first). Unlike
 * the other functions here, it may be called from any thread while another
 * thread runs the store (a caller that went away); the caller keeps the
 * store alive meanwhile. The store must have a deadline (any: set one far
 * away if the guest has no time limit), since an interpreter with neither a
 * deadline nor fuel may skip its checks. A later wg_store_set_deadline
 * rearms the store. */
WG_API void wg_store_interrupt(wg_store *s);

/* ------------------------------------------------------------------ suspending and resuming guests */

/* Parking a guest at a host call (docs/engine.md "Suspension").
 *
 * The interpreter keeps every wasm frame on the store's own value and frame
 * stacks and never recurses in C for wasm-to-wasm calls, so a call can stop
 * in the middle and continue later on any thread (one at a time: a store is
 * used by one thread at a time):
 *
 *  - A host function parks the guest by returning
 *    wg_trap_new(WG_TRAP_SUSPENDED, NULL) (its results are ignored). The
 *    engine keeps the guest's frames, and the wg_func_call (or
 *    wg_func_resume) that entered wasm returns that trap (owned by the
 *    caller, as always) with wg_store_suspended(s) true. The host later
 *    delivers the host function's results with wg_func_resume, and the guest
 *    continues as if the host function had returned them.
 *  - With wg_store_set_yield(s, true), a guest that reaches its epoch
 *    deadline suspends the same way with a WG_TRAP_YIELDED trap instead of
 *    trapping with WG_TRAP_INTERRUPTED: the embedder serves other work, sets
 *    a new deadline and resumes it with no host results (time slices).
 *
 * Only the outermost activation can suspend: a host function that parks
 * while it is itself running under a host function's nested wg_func_call,
 * or during wg_instance_new's start function, gets a WG_TRAP_HOST trap
 * ("cannot suspend ...") instead, which unwinds as any trap. While the store
 * is suspended, wg_func_call on it fails with a WG_TRAP_HOST trap; memory,
 * globals and tables may be read and written (that is how a parked host
 * function writes its answer into the guest's buffers before resuming).
 * Fuel is kept; the deadline is the embedder's to re-arm before resuming.
 * Deleting a suspended store is allowed (the guest is abandoned). */

/* True while a call is suspended (a WG_TRAP_SUSPENDED or WG_TRAP_YIELDED trap
 * came out of wg_func_call / wg_func_resume and it was not resumed or
 * abandoned since). */
WG_API bool wg_store_suspended(const wg_store *s);

/* Continues the suspended call of s. `host_results` (n_host of them) are the
 * results of the host function that suspended, in its declared types (none
 * after a yield); `results` (nresults) receive the results of the function
 * the suspended wg_func_call entered, when it completes. Returns what
 * wg_func_call would: NULL when the call completed, a trap when it trapped,
 * or a new WG_TRAP_SUSPENDED / WG_TRAP_YIELDED trap when it suspended again.
 * Errors (WG_TRAP_HOST trap, the store stays suspended): nothing is
 * suspended, or the counts or kinds do not match. */
WG_API wg_trap *wg_func_resume(wg_store *s, const wg_val *host_results, size_t n_host, wg_val *results,
                               size_t nresults);

/* Fills the host function's results (n of them, kinds set to its declared
 * result types) when a suspended call is resumed with wg_func_resume_with.
 * Returns NULL, or a trap (owned by the engine) that unwinds the guest as if
 * the host function had returned it. */
typedef wg_trap *(*wg_resume_fill)(void *env, wg_val *host_results, size_t n);

/* wg_func_resume, with the host function's results made by `fill(env, ...)`
 * at resume time, in the state of the host function that suspended: fill
 * may call into the store's instances (wg_func_call: nested activations,
 * which cannot suspend), e.g. a guest's allocator to place an answer in its
 * memory, as the canonical ABI's lowering of a parked host call's results
 * does. When fill returns a trap the suspended call is dropped and the trap
 * is returned (owned by the caller). Other returns and errors as
 * wg_func_resume. */
WG_API wg_trap *wg_func_resume_with(wg_store *s, wg_resume_fill fill, void *env, wg_val *results, size_t nresults);

/* Drops the suspended call of s (its frames are discarded, as after a trap):
 * the store can run new calls. Nothing happens when nothing is suspended. */
WG_API void wg_store_abandon(wg_store *s);

/* Time slices: with `yield` true, reaching the epoch deadline suspends the
 * outermost call with a WG_TRAP_YIELDED trap (resume it with
 * wg_func_resume after wg_store_set_deadline) instead of trapping with
 * WG_TRAP_INTERRUPTED. Nested activations still trap. Default false. */
WG_API void wg_store_set_yield(wg_store *s, bool yield);

#ifdef __cplusplus
}
#endif
#endif
