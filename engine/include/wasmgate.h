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
} wg_valtype;

/* External kinds, by their binary encoding in imports and exports (spec 5.5.5). */
typedef enum wg_extern_kind {
  WG_EXTERN_FUNC = 0,
  WG_EXTERN_TABLE = 1,
  WG_EXTERN_MEMORY = 2,
  WG_EXTERN_GLOBAL = 3,
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

/* Releases a module. NULL is allowed and ignored. */
WG_API void wg_module_delete(wg_module *m);

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

/* Writes a human-readable description of the module to `out`: its sections,
 * imports, exports and each function's disassembled instructions (in the
 * manner of `wasm-objdump -x -d`). Returns false on a write error. */
WG_API bool wg_module_dump(const wg_module *m, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
