/*
 * wasmgate_component.h: components (the WebAssembly Component Model) in
 * wasmgate's native API. Same conventions as wasmgate.h: prefix
 * wg_component_, opaque handles, _new and _delete pairs, errors as values
 * (wg_error, with a byte offset and the reference validator's wording).
 *
 * Implements the binary format of component-model design/mvp/Binary.md
 * (version 0x0d, layer 1) and its validation rules (Explainer.md,
 * CanonicalABI.md "Canonical Definitions"). Embedded core modules are
 * decoded and validated by wg_module_new. Execution: a linker with host
 * functions defined from C, instantiation, typed values (wg_cval) and calls
 * through the synchronous canonical ABI (CanonicalABI.md); shaped after
 * wasmtime's component C API (wasmtime/component/ headers). docs/components.md.
 */
#ifndef WASMGATE_COMPONENT_H
#define WASMGATE_COMPONENT_H

#include "wasmgate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_component wg_component;

/* What a binary starts with, from its first 8 bytes. */
typedef enum wg_binary_kind {
  WG_BINARY_UNKNOWN = 0,   /* not a WebAssembly binary (or under 8 bytes) */
  WG_BINARY_MODULE = 1,    /* a core module: version 1, layer 0 */
  WG_BINARY_COMPONENT = 2, /* a component: layer 1 (any version) */
} wg_binary_kind;

/* Tells a core module from a component by the preamble (Binary.md: the
 * `layer` field). Reads at most 8 bytes; never fails. */
WG_API wg_binary_kind wg_binary_kind_of(const uint8_t *bytes, size_t len);

/* Decodes and validates a component binary.
 *
 * `bytes`/`len`: the binary; copied, so the caller may free it on return.
 * Returns the component, owned by the caller (wg_component_delete), or NULL
 * with *err set (when err is non-NULL; the caller owns it):
 *   WG_ERROR_MALFORMED  decoding: "unexpected end-of-file",
 *                       "unknown binary version", "malformed section id",
 *                       "invalid leading byte (0x..) for ...", "section size
 *                       mismatch", "malformed UTF-8 encoding", ...; errors
 *                       from an embedded core module keep wg_module_new's
 *                       wording, with the offset in the whole binary;
 *   WG_ERROR_INVALID    validation: "index out of bounds", "type index N is
 *                       not a function type", "canonical option `memory` is
 *                       required", "lowered parameter types ... do not match",
 *                       "`x` is not in kebab case", "export name `a`
 *                       conflicts with previous name `a`", "missing import
 *                       named `n`", ...
 *   WG_ERROR_LIMIT      nesting deeper than 100 components/types, or another
 *                       implementation limit;
 *   WG_ERROR_RESOURCE   out of memory.
 * Counts in the binary are checked against the bytes left before anything is
 * allocated for them. */
WG_API wg_component *wg_component_new(const uint8_t *bytes, size_t len, wg_error **err);

/* Releases a component and its core modules. NULL is allowed and ignored. */
WG_API void wg_component_delete(wg_component *c);

/* The sort of a component import or export (Binary.md `sort`). */
typedef enum wg_component_sort {
  WG_COMPONENT_CORE_MODULE = 0,
  WG_COMPONENT_FUNC = 1,
  WG_COMPONENT_VALUE = 2,
  WG_COMPONENT_TYPE = 3,
  WG_COMPONENT_COMPONENT = 4,
  WG_COMPONENT_INSTANCE = 5,
} wg_component_sort;

/* One import or export of a component. `name` is its extern name exactly
 * as in the binary (e.g. "wasi:cli/environment@0.2.3", "run",
 * "[method]descriptor.read"); NUL-terminated, `name_len` bytes, owned by the
 * component (valid until wg_component_delete). */
typedef struct wg_component_extern {
  const char *name;
  size_t name_len;
  wg_component_sort sort;
} wg_component_extern;

/* Number of imports / exports of the (outermost) component. */
WG_API uint32_t wg_component_import_count(const wg_component *c);
WG_API uint32_t wg_component_export_count(const wg_component *c);

/* Fill *out with import / export `i`; false when `i` is out of range. */
WG_API bool wg_component_import(const wg_component *c, uint32_t i, wg_component_extern *out);
WG_API bool wg_component_export(const wg_component *c, uint32_t i, wg_component_extern *out);

/* Writes the WIT-like type of import / export `i` ("func(a: u32) -> string",
 * "instance { ... }") to `out`, `indent` spaces deep. False when `i` is out
 * of range or on a write error. */
WG_API bool wg_component_import_type_print(const wg_component *c, uint32_t i, FILE *out, int indent);
WG_API bool wg_component_export_type_print(const wg_component *c, uint32_t i, FILE *out, int indent);

/* Number of core modules in the component, nested components included, and
 * module `i` (in binary order) as validated by wg_module_new: owned by the
 * component, NULL when out of range. */
WG_API uint32_t wg_component_core_module_count(const wg_component *c);
WG_API const wg_module *wg_component_core_module(const wg_component *c, uint32_t i);

/* Writes a human-readable description: preamble, sections with offsets and
 * sizes, definition counts, then imports and exports as WIT-like text.
 * Returns false on a write error. */
WG_API bool wg_component_dump(const wg_component *c, FILE *out);


/* ------------------------------------------------------------------ values */

/* The kinds of component values (Explainer.md "Value types"). */
typedef enum wg_cval_kind {
  WG_CVAL_BOOL = 1, WG_CVAL_S8, WG_CVAL_U8, WG_CVAL_S16, WG_CVAL_U16, WG_CVAL_S32, WG_CVAL_U32,
  WG_CVAL_S64, WG_CVAL_U64, WG_CVAL_F32, WG_CVAL_F64, WG_CVAL_CHAR, WG_CVAL_STRING,
  WG_CVAL_LIST, WG_CVAL_RECORD, WG_CVAL_TUPLE, WG_CVAL_VARIANT, WG_CVAL_ENUM, WG_CVAL_OPTION,
  WG_CVAL_RESULT, WG_CVAL_FLAGS, WG_CVAL_OWN, WG_CVAL_BORROW,
  WG_CVAL_BYTES, /* a list<u8> as one byte array (see below) */
} wg_cval_kind;

/* A component value (the shape of wasmtime_component_val_t). Which member
 * of `of` holds the value depends on `kind`:
 *   BOOL b; S8..S64 s (sign-extended); U8..U64 u; F32 f32; F64 f64;
 *   CHAR c (a Unicode scalar value);
 *   STRING str: UTF-8 bytes, `len` of them (not NUL-terminated);
 *   LIST, RECORD, TUPLE seq: the elements, record fields in declaration order;
 *   VARIANT, OPTION, RESULT, ENUM var: `disc` the case index (option: 0 none,
 *     1 some; result: 0 ok, 1 error), `val` its payload or NULL when the case
 *     has none (always NULL for enums);
 *   FLAGS flags: bit i set when flag i is (at most 32 flags);
 *   OWN, BORROW handle: the resource's representation `rep` and its type;
 *   BYTES bytes: a `list<u8>`, `len` bytes. The engine lifts every list<u8>
 *     this way (never as a LIST of U8 values); a host may return a list<u8>
 *     as BYTES or as a LIST of U8 values.
 * Ownership: a wg_cval owns what its pointers point at (malloc'd);
 * wg_cval_free releases it. Values the engine gives a host function (args)
 * are owned by the engine and valid for the duration of the call only
 * (utf8 strings and BYTES may point straight into the caller's linear memory: copy
 * what you keep, never free or write them); results a host
 * function fills in and results wg_component_func_call returns are owned
 * by their receiver (the engine frees a host's results after lowering). */
typedef struct wg_cval wg_cval;
typedef struct wg_component_resource_type wg_component_resource_type;
struct wg_cval {
  wg_cval_kind kind;
  union {
    bool b;
    int64_t s;
    uint64_t u;
    float f32;
    double f64;
    uint32_t c;
    struct { char *ptr; size_t len; } str;
    struct { wg_cval *ptr; size_t len; } seq;
    struct { uint32_t disc; wg_cval *val; } var;
    uint32_t flags;
    struct { uint32_t rep; const void *type; } handle;
    struct { uint8_t *ptr; size_t len; } bytes;
  } of;
};

/* Releases what `v` owns (not `v` itself) and sets it to a bool false.
 * NULL is ignored. */
WG_API void wg_cval_free(wg_cval *v);
/* Helpers that fill `v` (a string copies `len` bytes; false on OOM). */
WG_API bool wg_cval_string(wg_cval *v, const char *s, size_t len);
/* Fills `v` with a BYTES value holding a copy of `len` bytes at `b` (a
 * list<u8>); false on OOM. */
WG_API bool wg_cval_bytes(wg_cval *v, const uint8_t *b, size_t len);
/* An array of `n` zeroed values (calloc), for seq/var payloads; NULL on OOM. */
WG_API wg_cval *wg_cval_array(size_t n);

/* ------------------------------------------------------------------ linking */

typedef struct wg_component_linker wg_component_linker;
typedef struct wg_component_instance wg_component_instance;
typedef struct wg_component_func wg_component_func;

/* A host function. `args` (nargs, as the import's function type declares,
 * owned by the engine) and `results` (nresults: 0 or 1, zeroed; fill them,
 * ownership passes to the engine). `env` is the one given at definition.
 * Return NULL, or a trap (owned by the engine) to trap the caller: the
 * trap unwinds the guest and comes back from wg_component_func_call (this
 * is how wasi:cli/exit ends a run: a WG_TRAP_HOST "exit" trap, with the
 * status kept by the WASI context, wg_wasi_exited). */
typedef wg_trap *(*wg_component_host_fn)(void *env, const wg_cval *args, size_t nargs, wg_cval *results,
                                          size_t nresults);

/* Inside a host function or a host resource destructor called from a
 * component: the store of the calling component instance (what wasmtime
 * passes as the host function's context), so that one linker can serve
 * many stores and keep per-store state in wg_store_data. NULL outside such
 * a call. Thread-local: valid on the calling thread for the call. */
WG_API wg_store *wg_component_host_store(void);

/* A new, empty linker; NULL on OOM. Release with wg_component_linker_delete
 * (after every instance made with it is gone: host functions keep `env`). */
WG_API wg_component_linker *wg_component_linker_new(void);
/* Releases the linker and calls the finalizers of its host functions' envs. */
WG_API void wg_component_linker_delete(wg_component_linker *l);

/* Defines host function `name` in instance `instance` ("wasi:cli/stdout@0.2.12";
 * NULL: a top-level function import of the component). Names are copied.
 * An interface name's version matches imports semver-compatibly: a
 * component importing `wasi:io/streams@0.2.3` is satisfied by a definition
 * at 0.2.12 (same major, and for 0.x the same minor; the highest
 * compatible definition wins), as in wasmtime. An untyped definition is
 * not checked at instantiation: its arguments have whatever types the
 * component's import declares, so the host function must check their
 * kinds itself (prefer wg_component_linker_define_func_typed). Values the
 * host returns are checked when called: they must match the import's type.
 * `finalizer(env)` runs at wg_component_linker_delete. False on OOM or when
 * the same name is defined twice (*err set). */
WG_API bool wg_component_linker_define_func(wg_component_linker *l, const char *instance, const char *name,
                                            wg_component_host_fn fn, void *env, void (*finalizer)(void *env),
                                            wg_error **err);

/* Defines host function `name` in `instance` with its component function
 * type, so that instantiation checks the component's import against it
 * (the shape of wasmtime's typed `func_wrap`): `type` is WIT-like text,
 *   "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>"
 * in WIT's type syntax (component-model design/mvp/WIT.md): bool, s8..u64,
 * f32, f64, char, string, list<T>, list<T, N>, option<T>, result,
 * result<T>, result<_, E>, result<T, E>, tuple<T, ...>, own<r>, borrow<r>,
 * a resource's name alone (own<r>), record { a: T, ... }, variant { a,
 * b(T), ... }, enum { a, ... }, flags { a, ... }, and names: a type defined
 * with wg_component_linker_define_type or a resource defined with
 * wg_component_linker_define_resource, in the same instance (`error-code`)
 * or another (`wasi:io/error@0.2.12#error`); both must be defined before.
 * `type` NULL is wg_component_linker_define_func (an untyped definition).
 *
 * The text is copied and parsed when an instantiation first resolves an
 * import to this function (so a linker with many typed definitions costs
 * little to make; thread-safe: one linker may serve many threads); call
 * wg_component_linker_check_types to have every text parsed and checked
 * now. An error in the text fails that instantiation with WG_ERROR_INVALID
 * "host function `i#f`: unknown type `x` at offset 12 of `...`".
 *
 * At instantiation the import's type must match: the same number of
 * parameters, each of the same type (names are not compared), the same
 * result; record fields, variant cases, enum and flags labels by name and
 * order; own/borrow of the resource the import was resolved to (Explainer.md
 * "Type Checking"). Otherwise instantiation fails with WG_ERROR_INVALID
 * "component imports instance `wasi:cli/stdout@0.2.3`, but a matching
 * implementation was not found in the linker: instance export `write` has
 * the wrong type: type mismatch in parameter 2 (`contents`): the host
 * defines `func(...)`, the component imports `func(...)`", as wasmtime
 * refuses such a component. So a typed host function may rely on its
 * arguments' kinds: args[i] has the kind of the i-th parameter type (a
 * list<u8> is WG_CVAL_BYTES, a resource WG_CVAL_OWN or WG_CVAL_BORROW of the
 * defined resource type, an enum or variant's disc in range, ...).
 *
 * False with *err: WG_ERROR_INVALID when the name is defined twice;
 * WG_ERROR_RESOURCE out of memory. The rest as
 * wg_component_linker_define_func. */
WG_API bool wg_component_linker_define_func_typed(wg_component_linker *l, const char *instance, const char *name,
                                                  const char *type, wg_component_host_fn fn, void *env,
                                                  void (*finalizer)(void *env), wg_error **err);

/* Names a value type for the types of later definitions in `instance`
 * (WIT's `type name = T`, or a named record/variant/enum/flags):
 * `type` is one value type in the syntax of
 * wg_component_linker_define_func_typed ("variant {
 * last-operation-failed(own<wasi:io/error@0.2.12#error>), closed }").
 * Owned by the linker; parsed when first needed, like a function's type.
 * False with *err (WG_ERROR_INVALID: `name` already a type or resource of
 * `instance`; WG_ERROR_RESOURCE). */
WG_API bool wg_component_linker_define_type(wg_component_linker *l, const char *instance, const char *name,
                                            const char *type, wg_error **err);

/* Parses and resolves every type text given to the linker so far (as
 * instantiation does for those it needs). False with *err (WG_ERROR_INVALID)
 * at the first error: "host function `a:b/c#f`: unknown type `x` at offset
 * 8 of `func(x: x)`", "type `a:b/c#t`: expected `>` ...", "... refers to
 * itself"; WG_ERROR_RESOURCE out of memory. Thread-safe. */
WG_API bool wg_component_linker_check_types(wg_component_linker *l, wg_error **err);

/* Defines host resource type `name` in `instance` (e.g. "output-stream" in
 * "wasi:io/streams@0.2.12"); `dtor(env, rep)`, if any, runs when a guest
 * drops its last owning handle. *out (may be NULL) receives the type, owned
 * by the linker: host functions compare wg_cval handle types with it and
 * set it on the own/borrow values they return. False on OOM (*err). */
WG_API bool wg_component_linker_define_resource(wg_component_linker *l, const char *instance, const char *name,
                                                void (*dtor)(void *env, uint32_t rep), void *env,
                                                const wg_component_resource_type **out, wg_error **err);

/* wg_component_linker_define_resource with a destructor that may refuse:
 * when dtor(env, rep) returns a trap (owned by the engine), the guest's
 * `resource.drop` traps with it, as wasmtime's does for a resource that
 * still has children ("resource has children": a socket whose streams are
 * alive). The handle is gone either way. Same errors as
 * wg_component_linker_define_resource. */
WG_API bool wg_component_linker_define_resource_checked(wg_component_linker *l, const char *instance, const char *name,
                                                        wg_trap *(*dtor)(void *env, uint32_t rep), void *env,
                                                        const wg_component_resource_type **out, wg_error **err);

/* With `allow` true, imports the linker does not define are still accepted:
 * functions trap when called ("unimplemented import `i#f`"), resources get a
 * fresh type (wasmtime's define_unknown_imports_as_traps). Default false. */
WG_API void wg_component_linker_allow_unknown_imports(wg_component_linker *l, bool allow);

/* Instantiates `c` in store `s` (Explainer.md "Instance Definitions"):
 * resolves every import through the linker, then runs the component's
 * definitions in binary order: core modules are instantiated with
 * wg_instance_new (their start functions run then), nested components
 * recursively. The instance is owned by the store (freed with it); `c` and
 * the linker must outlive the store. NULL on failure with *err set
 * (WG_ERROR_INVALID "component imports instance `x`, but a matching
 * implementation was not found in the linker", "... function `f` ...";
 * WG_ERROR_RESOURCE out of memory) or *trap set (a start function or a
 * realloc trapped). */
WG_API wg_component_instance *wg_component_linker_instantiate(const wg_component_linker *l, wg_store *s,
                                                              const wg_component *c, wg_error **err,
                                                              wg_trap **trap);

/* Resets a component instance to the state wg_component_linker_instantiate
 * left it in (engine/src/component/cm_reset.c), so that an embedder that
 * gives every request a fresh instance can reuse one: every core instance
 * is reset in instantiation order as wg_instance_reset does (memories by the
 * pages their guests dirtied when made from a wg_memimage, tables, globals,
 * segments, start functions run again; the core instances' shared memories
 * and tables included), every component instance's handle table is emptied
 * (handles the guest still holds are forgotten without running
 * destructors, as when the store is deleted: the embedder resets the state
 * of its host resources itself), may_enter/may_leave are true again, and a
 * call parked at a host function is abandoned first. Exported functions
 * (wg_component_instance_func) stay valid. Returns true, or false with *err
 * ("instance reset: the store is running a call": called from inside a
 * host function; "instance reset: cannot reset a memory": the system
 * refused) or *trap (a start function trapped); after false the instance
 * must be discarded (delete its store). */
WG_API bool wg_component_instance_reset(wg_component_instance *inst, wg_error **err, wg_trap **trap);

/* Looks up an exported function: `instance` NULL for a top-level export
 * (`name` e.g. "greet"), else the exported instance's name
 * ("wasi:cli/run@0.2.3"; matched semver-compatibly like imports) and the
 * function's name in it ("run"). NULL when there is none. Owned by the
 * instance. */
WG_API wg_component_func *wg_component_instance_func(const wg_component_instance *inst, const char *instance,
                                                    const char *name);

/* Number of parameters and results (0 or 1) of a component function. */
WG_API size_t wg_component_func_param_count(const wg_component_func *f);
WG_API size_t wg_component_func_result_count(const wg_component_func *f);

/* Calls a component function (CanonicalABI.md canon_lift): `args` are
 * lowered into the callee (through its realloc when strings or lists
 * cross, or through memory past 16 flat values), the core function runs,
 * its results are lifted into `results` (owned by the caller: wg_cval_free)
 * and post-return runs. Returns NULL, or a trap owned by the caller: a
 * guest trap, or a canonical ABI violation with wasmtime's message
 * ("invalid variant discriminant", "invalid utf-8", "unknown handle index
 * 3", "cannot leave component instance", "realloc return: beyond end of
 * memory", "unaligned pointer", ...); "type mismatch: ..." when `args` do
 * not match the function's type. */
WG_API wg_trap *wg_component_func_call(wg_component_func *f, const wg_cval *args, size_t nargs, wg_cval *results,
                                       size_t nresults);

/* ------------------------------------------------------------------ parking */

/* Host calls that park the guest (docs/components.md "Parking"), the
 * component form of wasmgate.h's "suspending and resuming guests":
 *
 *  - A host function called from a guest through `canon lower` parks it by
 *    returning wg_trap_new(WG_TRAP_SUSPENDED, NULL) (its results are
 *    ignored; its arguments are valid for the call only, so copy what the
 *    answer needs first). The wg_component_func_call that entered the guest
 *    returns that trap (owned by the caller) with the call kept: the core
 *    frames, the handles lent to the host (borrowed arguments stay lent), the
 *    instance entered. A guest that yields at its deadline
 *    (wg_store_set_yield) parks the same way with a WG_TRAP_YIELDED trap.
 *  - The host later gives the host function's results to
 *    wg_component_func_resume; they are lowered into the guest then
 *    (through its realloc for strings, lists and spilled results, handles
 *    into its tables) and the guest continues as if the host function had
 *    returned them. It may park again.
 *  - Or the host drops the call with wg_component_func_abandon (a deadline,
 *    the request went away); deleting the store while parked is also
 *    allowed and frees what the parked call holds.
 *
 * Only the outermost call from the host can park: a host function that parks
 * inside a nested component call (one component calling another's lifted
 * export, or a call made from inside a host function) makes the guest trap
 * with WG_TRAP_HOST "cannot suspend a guest inside a nested component call";
 * one called by wg_component_func_call straight from the host traps with
 * "cannot suspend: the host function was called from the host". While a call
 * is parked, calls into the store's component instances fail with a
 * WG_TRAP_HOST trap ("the store has a suspended call ..."). */

/* Continues the parked call of `f` (the function whose
 * wg_component_func_call returned the WG_TRAP_SUSPENDED / WG_TRAP_YIELDED
 * trap). `host_results` (n_host: 1 when the host function that parked has a
 * result, else 0; none after a yield) are its results in the import's type;
 * the engine takes them in every case (frees them). `results` (nresults)
 * receive f's results when the call completes. Returns what
 * wg_component_func_call would: NULL when it completed (results lifted,
 * post-return run), a trap when it trapped (a host result of the wrong type
 * traps the guest: "type mismatch: host function `f` returned a value of the
 * wrong type"), or a new WG_TRAP_SUSPENDED / WG_TRAP_YIELDED trap when it
 * parked again. Errors that leave the call parked (WG_TRAP_HOST): "nothing to
 * resume" (f has no parked call), "wrong number of results to resume with". */
WG_API wg_trap *wg_component_func_resume(wg_component_func *f, wg_cval *host_results, size_t n_host,
                                         wg_cval *results, size_t nresults);

/* True while a call of `f` is parked (neither resumed to its end nor abandoned);
 * false for a NULL `f` (an export the component does not have). */
WG_API bool wg_component_func_suspended(const wg_component_func *f);

/* Drops the parked call of `f`: its core frames are discarded (as after a
 * trap; post-return does not run), the handles lent to the host are
 * returned, the instance can be entered again (its guest state is whatever
 * the call left: embedders usually discard the instance). No-op when `f`
 * has no parked call or is NULL. */
WG_API void wg_component_func_abandon(wg_component_func *f);

#ifdef __cplusplus
}
#endif

#endif
