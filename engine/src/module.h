/*
 * module.h: the decoded form of a module (spec 2.5), shared by the decoder,
 * the validator, the disassembler and later the compiler.
 *
 * Everything lives in the module's arena and points into the module's own
 * copy of the binary (`bytes`), so a module is freed in one go. Index spaces
 * follow the spec: imported functions, tables, memories and globals come
 * first, then the module's own definitions.
 */
#ifndef WG_MODULE_H
#define WG_MODULE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "wasmgate.h"

/* Implementation limits (docs/engine-limits.md); beyond them a module is
 * rejected with WG_ERROR_LIMIT rather than by running out of memory. */
#define WG_MAX_FUNC_LOCALS 50000u    /* params + locals of one function */
#define WG_MAX_FUNC_PARAMS 1000u     /* params of one function type */
#define WG_MAX_FUNC_RESULTS 1000u    /* results of one function type */
#define WG_MAX_BODY_SIZE (7654321u)  /* bytes of one function body */
#define WG_MAX_CONTROL_DEPTH 100000u /* nesting of blocks in one body */
#define WG_MAX_TABLE_SIZE 10000000u  /* elements (as in V8) */
#define WG_MAX_MEMORY_PAGES 65536u   /* 4 GiB (the spec's own bound for 32-bit memories) */

typedef struct wg_bytes {
  const uint8_t *ptr; /* into the module's bytes; NUL follows names (see wg_name) */
  uint32_t len;
  uint32_t offset; /* in the binary */
} wg_bytes;

/* A name: `ptr` is an arena copy followed by a NUL byte. */
typedef wg_bytes wg_name;

typedef struct wg_functype {
  uint32_t nparams, nresults;
  const uint8_t *params; /* valtype codes */
  const uint8_t *results;
  const wg_valtype *vt;  /* the same as wg_valtype (params then results), for the API */
} wg_functype;

typedef struct wg_limits {
  uint32_t min, max;
  bool has_max;
} wg_limits;

typedef struct wg_tabletype {
  uint8_t elem; /* reftype */
  wg_limits limits;
} wg_tabletype;

typedef struct wg_globaltype {
  uint8_t type;
  bool mut;
} wg_globaltype;

typedef struct wg_import {
  wg_name module, name;
  wg_extern_kind kind;
  uint32_t index; /* in the kind's index space */
} wg_import;

typedef struct wg_export {
  wg_name name;
  wg_extern_kind kind;
  uint32_t index;
} wg_export;

typedef struct wg_funcdef {
  uint32_t type;
  bool imported;
  /* Defined functions only: */
  wg_bytes body;          /* the whole body: locals declarations then code */
  uint32_t locals_count;  /* declared locals, params excluded */
  uint32_t code_offset;   /* offset of the first instruction within body */
} wg_funcdef;

typedef struct wg_globaldef {
  wg_globaltype type;
  bool imported;
  wg_bytes init; /* constant expression, `end` included (defined globals) */
} wg_globaldef;

typedef enum wg_segment_mode {
  WG_SEG_ACTIVE,
  WG_SEG_PASSIVE,
  WG_SEG_DECLARATIVE,
} wg_segment_mode;

typedef struct wg_elem {
  wg_segment_mode mode;
  uint8_t type; /* reftype */
  uint32_t table;
  wg_bytes offset; /* active only */
  uint32_t count;
  bool exprs;        /* true: init[] are constant expressions; false: funcs[] */
  uint32_t *funcs;   /* function indices */
  wg_bytes *init;    /* constant expressions */
  uint32_t offset_in_binary;
} wg_elem;

typedef struct wg_data {
  wg_segment_mode mode;
  uint32_t memory;
  wg_bytes offset; /* active only */
  wg_bytes init;
} wg_data;

struct wg_module {
  wg_arena arena;
  uint8_t *bytes;
  size_t len;
  uint32_t features; /* WG_FEATURE_* the module may use */

  uint32_t ntypes;
  wg_functype *types;
  uint32_t nimports;
  wg_import *imports;
  uint32_t nfuncs, nfunc_imports;
  wg_funcdef *funcs;
  uint32_t ntables, ntable_imports;
  wg_tabletype *tables;
  uint32_t nmems, nmem_imports;
  wg_limits *mems;
  uint32_t nglobals, nglobal_imports;
  wg_globaldef *globals;
  uint32_t ntags, ntag_imports; /* exception handling: tags (imported first) */
  uint32_t *tags;               /* each tag's type index */
  uint32_t nexports;
  wg_export *exports;
  bool has_start;
  uint32_t start;
  uint32_t start_offset;
  uint32_t nelems;
  wg_elem *elems;
  bool has_datacount;
  uint32_t datacount;
  uint32_t ndatas;
  wg_data *datas;

  /* Function names from the "name" custom section (NULL entries for none). */
  const char **func_names;

  /* Functions referenced outside function bodies (exports, element segments,
   * global initialisers): the only ones ref.func may name (spec 3.4.10, C.refs). */
  uint8_t *declared_refs; /* one byte per function */

  /* Compiled code of the defined functions, made on first call
   * (compile.c); one entry per defined function. */
  _Atomic(struct wg_code *) *codes;

  /* Section layout, for dumps. */
  uint32_t nsections;
  struct wg_section_info {
    uint8_t id;
    uint32_t offset, size; /* of the contents */
    wg_name custom_name;   /* custom sections */
  } *sections;
};

/* Decodes `m->bytes` into the module's fields (decode.c). */
bool wg_decode_module(wg_module *m, wg_diag *d);

/* Validates a decoded module (validate.c). */
bool wg_validate_module(wg_module *m, wg_diag *d);

/* Validates one function body (validate_code.c). `scratch` is reused across
 * calls and freed by wg_code_validator_free. */
typedef struct wg_code_validator wg_code_validator;
wg_code_validator *wg_code_validator_new(const wg_module *m);
void wg_code_validator_free(wg_code_validator *v);
bool wg_validate_func(wg_code_validator *v, uint32_t func, wg_diag *d);

/* Decodes the locals declarations of a defined function into `types`
 * (params first, then locals), which must hold nparams + locals_count bytes. */
void wg_func_local_types(const wg_module *m, uint32_t func, uint8_t *types);

#endif
