/*
 * wasmgate_component.h: components (the WebAssembly Component Model) in
 * wasmgate's native API. Same conventions as wasmgate.h: prefix
 * wg_component_, opaque handles, _new and _delete pairs, errors as values
 * (wg_error, with a byte offset and the reference validator's wording).
 *
 * Implements the binary format of component-model design/mvp/Binary.md
 * (version 0x0d, layer 1) and its validation rules (Explainer.md,
 * CanonicalABI.md "Canonical Definitions"). Embedded core modules are
 * decoded and validated by wg_module_new. Execution (the canonical ABI,
 * linking, instantiation) is not here yet: docs/components.md.
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

#ifdef __cplusplus
}
#endif

#endif
