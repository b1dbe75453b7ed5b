/*
 * cm.h: the Component Model's internal representation (component-model
 * design/mvp/Binary.md and Explainer.md): type nodes, index spaces and the
 * decoded component. Shared by the files of engine/src/component/ only.
 *
 * Everything a component owns lives in its arena and is freed at once by
 * wg_component_delete. Type references are resolved while decoding: a value
 * type that names a type index points at that type's node, so later stages
 * (validation, dump, and the canonical ABI and linking to come) never look
 * indices up again. Resource types compare by identity (each definition,
 * import or `(sub resource)` bound is a fresh node); everything else
 * structurally.
 */
#ifndef WG_CM_H
#define WG_CM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../arena.h"
#include "../diag.h"
#include "../reader.h"
#include "wasmgate_component.h"

typedef enum cm_kind {
  /* primitive value types, in Binary.md's order */
  CM_BOOL = 1, CM_S8, CM_U8, CM_S16, CM_U16, CM_S32, CM_U32, CM_S64, CM_U64,
  CM_F32, CM_F64, CM_CHAR, CM_STRING, CM_ERROR_CONTEXT,
  /* defined value types */
  CM_RECORD, CM_VARIANT, CM_LIST, CM_FIXED_LIST, CM_TUPLE, CM_FLAGS, CM_ENUM,
  CM_OPTION, CM_RESULT, CM_OWN, CM_BORROW, CM_STREAM, CM_FUTURE, CM_MAP,
  /* other component types */
  CM_FUNC, CM_COMPONENT, CM_INSTANCE, CM_RESOURCE,
  /* core types: externtypes of core modules and instances */
  CM_CORE_FUNC, CM_CORE_TABLE, CM_CORE_MEMORY, CM_CORE_GLOBAL, CM_CORE_TAG,
  CM_CORE_MODULE, CM_CORE_INSTANCE,
} cm_kind;

/* Sorts, one numbering for core and component index spaces. */
typedef enum cm_sort {
  CS_CORE_FUNC, CS_CORE_TABLE, CS_CORE_MEMORY, CS_CORE_GLOBAL, CS_CORE_TAG,
  CS_CORE_TYPE, CS_CORE_MODULE, CS_CORE_INSTANCE,
  CS_FUNC, CS_VALUE, CS_TYPE, CS_COMPONENT, CS_INSTANCE,
  CS_COUNT
} cm_sort;

typedef struct cm_type cm_type;
typedef struct cm_body cm_body;

/* A labelled (or, for tuples, unlabelled) member: record field, variant
 * case (type NULL when the case has no payload), flag or enum label (type
 * NULL), function parameter. */
typedef struct cm_field {
  const char *name; /* NUL-terminated, in the arena; NULL for tuple members */
  uint32_t name_len;
  cm_type *type;
} cm_field;

/* An import or export: of a component or instance type, of a core module
 * type (`module` set for imports) or of a core instance. */
typedef struct cm_extern {
  const char *module; /* core imports only */
  const char *implements; /* the 🏷️ `implements` attribute, or NULL */
  const char *name;   /* NUL-terminated, in the arena */
  uint32_t name_len;
  cm_sort sort;
  cm_type *type; /* for CS_TYPE: the type itself (a resource for `sub resource`) */
} cm_extern;

struct cm_type {
  cm_kind kind;
  uint32_t n;       /* fields: record, variant, tuple, flags, enum, func params */
  cm_field *fields;
  cm_type *elem;    /* list, fixed list, option, own, borrow, stream, future,
                       map key, result ok, func result (NULL: none) */
  cm_type *elem2;   /* result error, map value */
  uint32_t len;     /* fixed list length */
  bool async;       /* func */
  /* component, instance, core module, core instance types */
  uint32_t nimports, nexports;
  cm_extern *imports, *exports;
  /* resource: representation, destructor (UINT32_MAX: none), local or abstract */
  uint8_t rep;
  uint32_t dtor;
  bool local;
  /* resource identity (Explainer.md "Type Checking": generativity): the
   * serial of the scope whose declaration or instantiation made this
   * resource, and whether that was an import (imported resources are
   * abstract parameters, not definitions) */
  uint32_t born;
  bool imported;
  /* component and instance types: the resources they define (exported and
   * made by their own declarations or instantiations, not imported); each
   * instantiation of a component, and each import or instance-typed export
   * declaration of an instance type, replaces them by fresh ones */
  cm_type **defs;
  uint32_t ndefs;
  uint32_t mark; /* walk generation (cm_collect_defs) */
  /* component and instance types: the serials of the scopes of their own
   * declaration (resources born there are bound inside the type) */
  uint32_t serial_lo, serial_hi;
  /* core types */
  uint32_t ncparams, ncresults;
  uint8_t *cparams, *cresults; /* wg_valtype codes */
  uint8_t elemtype;            /* table: reference type; global: value type */
  uint64_t min, max;
  bool has_max, mut, shared, is64;
  uint32_t depth; /* nesting depth, for bounded recursion */
  uint64_t size;  /* number of nodes if expanded as a tree (saturating) */
  /* the type this one renames (an exported or `eq`-imported type is a new
   * node, so that external visibility can tell the names apart); NULL for an
   * original. Identity comparisons use cm_root. */
  const cm_type *alias_of;
  /* name for printing (the export or import that introduced it), or NULL */
  const char *label;
  /* a resource in a host function's type (cm_hosttype.c): the linker's type */
  const struct wg_component_resource_type *host;
  /* a component defined in the binary (not a component type): its
   * definitions in binary order, for instantiation (cm_instance.c) */
  cm_body *body;
  /* the canonical ABI's alignment and size + 1 (cm_abi.c), computed on first use (0: not yet);
   * types are shared read-only by every thread running the component, so these are written
   * with relaxed atomics (every writer stores the same value) */
  _Atomic uint32_t abi_align, abi_size1;
};

/* One definition of a component, in binary order: how the runtime value of
 * one index-space entry (or an export) is made. Recorded by the decoder for
 * the entries of concrete components only (types, instance types and module
 * types are static). */
typedef enum cm_def_kind {
  D_MODULE,            /* a: index in wg_component.modules */
  D_CORE_INSTANTIATE,  /* a: module index; args: (name, -, core instance idx) */
  D_CORE_EXPORTS,      /* args: (name, core sort, idx) */
  D_COMPONENT,         /* type: the nested component (with its body) */
  D_INSTANTIATE,       /* a: component index; args: (name, sort, idx) */
  D_EXPORTS,           /* args: (name, sort, idx) */
  D_ALIAS_EXPORT,      /* sort; a: instance index; name */
  D_ALIAS_CORE_EXPORT, /* sort; a: core instance index; name */
  D_ALIAS_OUTER,       /* sort; a: count; b: index */
  D_TYPE,              /* type (resources: runtime identity) */
  D_LIFT,              /* a: core func; type: the func type; opts */
  D_LOWER,             /* a: func; type: the core func type; opts */
  D_RES_NEW, D_RES_DROP, D_RES_REP, /* type: the resource */
  D_BUILTIN,           /* a: opcode (async-era built-ins: trap when called) */
  D_IMPORT,            /* sort; name; type */
  D_EXPORT,            /* sort; a: index; name; type */
} cm_def_kind;

typedef struct cm_arg {
  const char *name;
  cm_sort sort;
  uint32_t idx;
} cm_arg;

#define CM_NONE UINT32_MAX
typedef struct cm_def {
  cm_def_kind kind;
  cm_sort sort;   /* the index space the definition adds to (CS_COUNT: none) */
  cm_type *type;
  const cm_type *ft; /* D_LOWER: the lowered function's type as this component sees it */
  uint32_t a, b;
  const char *name;
  uint32_t nargs;
  cm_arg *args;
  /* canonical options: string encoding 0 utf8, 1 utf16, 2 latin1+utf16;
   * memory, realloc, post-return as core indices or CM_NONE */
  uint8_t encoding;
  uint32_t memory, realloc_fn, post_return;
} cm_def;

struct cm_body {
  cm_def *v;
  uint32_t n, cap;
  uint32_t count[CS_COUNT]; /* entries per index space (checked at instantiation) */
};

/* A growable list of type pointers: one index space. */
typedef struct cm_space {
  cm_type **v;
  uint32_t n, cap;
} cm_space;

/* Names seen in one scope, for strong uniqueness. */
typedef struct cm_names {
  char **v;     /* as written */
  char **canon; /* canonical forms (arena), compared */
  uint32_t n, cap;
} cm_names;

typedef enum cm_scope_kind { SCOPE_COMPONENT, SCOPE_COMPONENT_TYPE, SCOPE_INSTANCE_TYPE, SCOPE_MODULE_TYPE } cm_scope_kind;

/* One scope of index spaces: a component, a component or instance type
 * declaration, or a core module type. */
typedef struct cm_scope {
  cm_scope_kind kind;
  uint32_t serial; /* unique per scope in one decode: resources' `born` */
  struct cm_scope *parent;
  cm_space space[CS_COUNT];
  cm_names import_names, export_names;
  /* the imports/exports collected for the type being defined */
  cm_extern *imports, *exports;
  uint32_t nimports, nexports, capimports, capexports;
  cm_body *body; /* SCOPE_COMPONENT: the definitions recorded for instantiation */
} cm_scope;

/* Counts the dump and tests report. */
typedef struct cm_stats {
  uint32_t sections[14];
  uint32_t core_modules, core_instances, components, instances;
  uint32_t lifts, lowers, resource_new, resource_drop, resource_rep, other_canons;
  uint32_t types, aliases, custom;
} cm_stats;

/* One section as seen in the binary, for the dump (top level only). */
typedef struct cm_section {
  uint8_t id;
  size_t offset, size;
  const char *custom_name;
} cm_section;

struct wg_component {
  uint64_t id; /* unique in the process (never reused, unlike the address): the linker's check cache */
  wg_arena arena;
  uint8_t *bytes;
  size_t len;
  cm_type *type; /* CM_COMPONENT: the component's imports and exports */
  wg_module **modules; /* every core module, nested ones included, in binary order */
  uint32_t nmodules, capmodules;
  cm_section *sections;
  uint32_t nsections, capsections;
  cm_stats stats;
};

/* The decoder's state: the component under construction and the diagnostic. */
typedef struct cm_ctx {
  wg_component *c;
  wg_diag *diag;
  const uint8_t *base; /* start of the whole binary (offsets are relative to it) */
  unsigned depth;      /* nesting of components and type declarators */
  uint32_t serial;     /* last scope serial handed out */
  uint32_t walk;       /* last walk generation */
  cm_type *last_bound; /* the resource of the last `(sub resource)` bound read */
} cm_ctx;

#define CM_MAX_DEPTH 100
#define CM_MAX_FLAT_PARAMS 16
#define CM_MAX_FLAT_RESULTS 1

/* ---- cm_util.c: arena helpers, index spaces, names */
void *cm_alloc(cm_ctx *x, size_t n);
const char *cm_strdup(cm_ctx *x, const uint8_t *s, uint32_t len);
bool cm_space_push(cm_ctx *x, cm_space *s, cm_type *t, size_t off);
bool cm_names_add(cm_ctx *x, cm_names *ns, const char *name, size_t off, bool import);
void cm_scope_free(cm_scope *s);
cm_type *cm_new_type(cm_ctx *x, cm_kind k);
bool cm_invalid(cm_ctx *x, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool cm_limit(cm_ctx *x, size_t off, const char *what);
bool cm_oom(cm_ctx *x);
bool cm_add_extern(cm_ctx *x, cm_extern **v, uint32_t *n, uint32_t *cap, const cm_extern *e);
const char *cm_sort_name(cm_sort s);
/* Records a definition of a concrete component's scope (nothing for type
 * scopes); `d->args` must already be in the arena. False on out of memory. */
bool cm_def_add(cm_ctx *x, cm_scope *s, const cm_def *d);

/* ---- cm_types.c: type definitions (Binary.md "Type Definitions") */
bool cm_read_sort(cm_ctx *x, wg_reader *r, cm_sort *out);
bool cm_read_core_sort(cm_ctx *x, wg_reader *r, cm_sort *out);
bool cm_read_valtype(cm_ctx *x, wg_reader *r, cm_scope *s, cm_type **out);
bool cm_read_type(cm_ctx *x, wg_reader *r, cm_scope *s);
bool cm_read_core_type(cm_ctx *x, wg_reader *r, cm_scope *s);
bool cm_read_externtype(cm_ctx *x, wg_reader *r, cm_scope *s, cm_sort *sort, cm_type **type);
bool cm_read_alias(cm_ctx *x, wg_reader *r, cm_scope *s, bool in_type);
bool cm_read_name(cm_ctx *x, wg_reader *r, const char **name, uint32_t *len);
bool cm_read_extern_name(cm_ctx *x, wg_reader *r, cm_extern *e);
cm_type *cm_prim(cm_kind k);
bool cm_type_finish(cm_ctx *x, cm_type *t, size_t off);
#define CM_MAX_TYPE_DEPTH 200
#define CM_MAX_TYPE_SIZE 1000000u
bool cm_is_valtype(const cm_type *t);

static inline const cm_type *cm_root(const cm_type *t) { return t && t->alias_of ? t->alias_of : t; }
/* A new name for `t` (import/export of a type): a copy labelled `name`. */
cm_type *cm_rename(cm_ctx *x, cm_type *t, const char *name);
/* External visibility (Explainer.md): every record, variant, enum, flags or
 * resource type the import/export `e` refers to must be named by an earlier
 * import (and, for exports, export) of the same component: `imports`/`exports`. */
bool cm_check_visible(cm_ctx *x, const cm_extern *e, const cm_extern *imports, uint32_t ni, const cm_extern *exports,
                      uint32_t ne, bool import, size_t off);

/* ---- cm_names.c: extern name well-formedness (Explainer.md "Import and Export Definitions") */
bool cm_check_extern_name(cm_ctx *x, const char *name, uint32_t len, size_t off, bool import);
/* `[constructor]r`, `[method]r.m`, `[static]r.m` imports/exports (Binary.md
 * notes on import/export names): a func whose signature fits, with `r` a
 * resource named earlier in `v`, the same scope's imports or exports. */
bool cm_check_annotated(cm_ctx *x, const cm_extern *e, const cm_extern *v, uint32_t n, size_t off);
bool cm_check_label(cm_ctx *x, const char *name, uint32_t len, size_t off, const char *what);

/* ---- cm_check.c: type matching and the canonical ABI's flattening */
bool cm_type_equal(const cm_type *a, const cm_type *b);
bool cm_subtype(const cm_type *a, const cm_type *b); /* a usable where b is expected */
/* Subtyping with resource bindings kept across calls: an instantiation
 * checks its arguments in import order with one cm_match, so an abstract
 * resource bound by one argument must be the same in the next. On failure
 * `why` may name the reason ("resource types are not the same"). */
#define CM_MAX_BINDINGS 64
/* The copies one substitution made, by original (an open-addressing table):
 * a type reached twice (a variant used by an export and by a function's
 * result) is copied once, so the names and visibility checks, which compare
 * types by identity, see one type. */
typedef struct cm_memo {
  const cm_type **from;
  cm_type **to;
  uint32_t n, cap; /* cap: 0 or a power of two */
  bool oom;
} cm_memo;

typedef struct cm_match {
  bool sub;
  uint32_t n;
  const cm_type *from[CM_MAX_BINDINGS], *to[CM_MAX_BINDINGS];
  const char *why;
  cm_memo *memo; /* cm_substitute: NULL, or where its copies are kept (freed by the caller) */
} cm_match;
bool cm_subtype_in(cm_match *mc, const cm_type *a, const cm_type *b);
/* `t` with the resources bound in `mc` replaced (copied only where something
 * changes; NULL when out of memory). */
cm_type *cm_substitute(cm_ctx *x, cm_type *t, const cm_match *mc);
/* Frees the tables of a memo (cm_match.memo) and empties it. */
void cm_memo_free(cm_memo *m);
/* Records in `t->defs` the resources `t` (a component or instance type
 * declared or defined in scope `serial`) defines: those reachable from its
 * exports that were made in that scope and not by an import. False on OOM. */
bool cm_collect_defs(cm_ctx *x, cm_type *t, uint32_t serial);
/* Whether `t` refers to a resource it does not bind itself (the rule for
 * outer aliases across a component boundary, Binary.md). */
bool cm_refers_free_resource(cm_ctx *x, const cm_type *t);
/* Generativity: a copy of the extern list `v` (n entries) in which the
 * resources `defs` are replaced by fresh abstract resources born in scope
 * `serial` (marked `imported` when the copy is an import). NULL when out
 * of memory. */
cm_extern *cm_freshen(cm_ctx *x, const cm_extern *v, uint32_t n, cm_type *const *defs, uint32_t ndefs, uint32_t serial,
                      bool imported);
/* An instance type `t` as a new instance: `t` itself when it defines no
 * resources, else a copy with fresh ones (cm_freshen). NULL on OOM. */
cm_type *cm_fresh_instance(cm_ctx *x, cm_type *t, uint32_t serial, bool imported);
/* Flattens a value type into core types (CanonicalABI.md flatten_type);
 * returns the count, which may exceed `cap` (then only `cap` are written). */
uint32_t cm_flatten(const cm_type *t, uint8_t *out, uint32_t cap);
/* Validation's limit on every defined value type: elem_size(t, i64) < 2^28
 * (Binary.md notes, CanonicalABI.md "Element Size"). */
bool cm_check_byte_size(cm_ctx *x, const cm_type *t, size_t off);
bool cm_contains(const cm_type *t, cm_kind k1, cm_kind k2);
bool cm_check_lift(cm_ctx *x, size_t off, const cm_type *ft, const cm_type *core, bool has_memory, bool has_realloc,
                   const cm_type *realloc_type, const cm_type *post_return_type);
bool cm_check_lower(cm_ctx *x, size_t off, const cm_type *ft, bool has_memory, bool has_realloc, cm_type **core_out);

/* ---- cm_decode.c: sections (Binary.md "Component Definitions") */
bool cm_decode_component(cm_ctx *x, wg_reader *r, cm_scope *parent, cm_type **out, bool top);

bool cm_check_core_imports(cm_ctx *x, const cm_type *t, size_t off);

/* ---- cm_dump.c */
bool cm_print_type(FILE *out, const cm_type *t, int indent, bool top);

#endif
