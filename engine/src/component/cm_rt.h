/*
 * cm_rt.h: the runtime side of components (shared by cm_abi.c,
 * cm_handles.c, cm_instance.c and cm_linker.c): component instances with
 * their index spaces of runtime values, component functions, handle
 * tables, and the lifting/lowering context of CanonicalABI.md.
 */
#ifndef WG_CM_RT_H
#define WG_CM_RT_H

#include "cm.h"

typedef struct cm_frame cm_frame;
typedef struct cm_rt cm_rt;

/* Canonical options of one lift or lower, resolved to runtime objects. */
typedef struct cm_opts {
  wg_memory *mem;
  wg_func *realloc_fn, *post_return;
  uint8_t encoding; /* 0 utf8, 1 utf16, 2 latin1+utf16 */
} cm_opts;

typedef enum { RF_LIFTED, RF_HOST, RF_TRAP } cm_rfunc_kind;

/* A component function: a lifted core function, a host function, or an
 * unresolved import that traps. */
struct wg_component_func {
  cm_rfunc_kind kind;
  const cm_type *type; /* CM_FUNC */
  cm_rt *rt;
  /* RF_LIFTED */
  cm_frame *frame;
  wg_func *core;
  cm_opts opts;
  /* RF_HOST */
  wg_component_host_fn fn;
  void *env;
  const char *name; /* RF_TRAP: for the message */
};
typedef struct wg_component_func cm_rfunc;

/* A core instance: named core externs (from an instantiated module, or
 * "flat" from a list of exports). */
typedef struct cm_rcore {
  uint32_t n;
  const char **names;
  wg_extern *ex;
} cm_rcore;

/* A component instance's exports (or an imported instance). */
typedef struct cm_rinst {
  uint32_t n;
  const char **names;
  cm_sort *sorts;
  void **vals;
} cm_rinst;

/* A component value of the component index space: its definition and the
 * instance it was defined in (for outer aliases of its instances). */
typedef struct cm_rcomp {
  const cm_type *ct;
  cm_frame *parent;
} cm_rcomp;

/* A resource type at runtime (CanonicalABI.md ResourceType): the instance
 * that implements it (NULL: the host or unknown), its destructor, or the
 * host's type. Each `resource` definition makes one per instantiation;
 * imports and aliases see the argument's. Handles compare these. */
typedef struct cm_rres {
  cm_frame *impl;
  wg_func *dtor;
  const wg_component_resource_type *host;
} cm_rres;

/* Which runtime resource a static resource type (root) means in instance
 * `owner`. */
typedef struct cm_rview {
  const cm_type *type;
  cm_frame *owner;
  cm_rres *res;
} cm_rview;

/* One handle table slot (CanonicalABI.md ResourceHandle). */
typedef struct cm_handle {
  uint32_t rep;
  const cm_rres *rt; /* the resource type; NULL: free slot */
  bool own;
  uint32_t lends;
  uint32_t *borrow_scope; /* borrow: the count of the call that lent it */
  uint32_t next_free;
} cm_handle;

/* A component instance (CanonicalABI.md ComponentInstance). */
struct cm_frame {
  cm_rt *rt;
  cm_frame *parent; /* where its component was defined (outer aliases) */
  cm_frame *owner;  /* the instance that instantiated it (CanonicalABI.md `parent`); NULL: the host */
  void **space[CS_COUNT];
  uint32_t n[CS_COUNT], cap[CS_COUNT];
  bool may_leave, may_enter;
  uint32_t context; /* context.get/set slot 0 */
  cm_handle *handles; /* slot 0 unused */
  uint32_t nhandles, caphandles, free_head;
};

/* The lifting/lowering context of one call (cm_abi.c). */
typedef struct cm_cx {
  cm_frame *inst;
  const cm_opts *o;
  wg_store *store;
  uint32_t *borrow_scope; /* lowering into a callee: its borrow count */
  cm_handle **lenders;    /* lifting borrows from a caller: handles lent */
  uint32_t nlenders, caplenders;
  bool fused; /* component-to-component: wasmtime's adapter wording */
  bool borrow_strings; /* lifting utf8 strings for a host call: views of guest memory */
} cm_cx;

/* The state of one canon-lifted call between entering its core function and
 * its end (lifting results, post-return, leaving the instance). */
typedef struct cm_lcall {
  cm_rfunc *fn;
  cm_frame *caller;
  uint32_t borrows; /* borrow handles lent to the callee and not yet dropped */
  size_t nout;
  wg_val out[2]; /* the core function's results */
} cm_lcall;

/* The canon lower into a host function that parked the guest: what lowering
 * its results on resume needs. */
struct lower_env;
typedef struct cm_plower {
  struct lower_env *e; /* NULL: none (the guest yielded) */
  cm_cx cx;            /* the caller's lowering context, with the handles lent to the host */
  uint32_t retptr;     /* where spilled results go */
  wg_cval *res;        /* at resume: the host's results */
} cm_plower;

/* A component call suspended at a host call (wg_component_func_resume). Only
 * the outermost canon-lifted call from the host can park: its state lives
 * here, at a stable address (its borrow count is pointed at by handles). */
typedef struct cm_park {
  bool active;
  cm_lcall call;
  cm_plower low;
} cm_park;

/* The top-level instance: everything allocated for it, freed with the store. */
struct cm_rt {
  wg_store *store;
  const wg_component *comp;
  const wg_component_linker *linker;
  wg_arena arena; /* everything the instance allocates, freed with the store */
  cm_rview *views;
  uint32_t nviews, capviews;
  cm_frame *top;
  cm_rinst *exports;
  uint32_t in_lower; /* > 0 inside a canon lower trampoline (fused adapter wording) */
  cm_frame *caller;  /* the instance calling through a canon lower now; NULL: the host */
  uint32_t lift_depth; /* canon-lifted calls running */
  cm_park park;
  /* what wg_component_instance_reset resets: every core instance in instantiation order, and
   * every component instance (frame) made */
  void **cores; /* wg_instance * */
  uint32_t ncores, capcores;
  void **frames; /* cm_frame * */
  uint32_t nframes, capframes;
};
struct wg_component_instance {
  cm_rt rt;
};

/* Host resource types as the linker defines them. */
struct wg_component_resource_type {
  const char *name;
  void (*dtor)(void *env, uint32_t rep);
  wg_trap *(*dtor_checked)(void *env, uint32_t rep); /* wg_component_linker_define_resource_checked */
  void *env;
};

/* ---- cm_instance.c */
/* The store whose component instance called the host function (or host
 * destructor) running on this thread (wg_component_host_store). */
extern _Thread_local wg_store *cm_host_store;
void *cm_rt_alloc(cm_rt *rt, size_t n); /* zeroed, freed with the instance; NULL on OOM */
/* The runtime resource static type `t` means in instance `f` (made, unbound
 * to any implementation, on first use of a type nobody bound); NULL on OOM. */
cm_rres *cm_rt_resource(cm_frame *f, const cm_type *t);
/* Binds `t` in `f` to `r`. False on OOM. */
bool cm_rt_bind(cm_frame *f, const cm_type *t, cm_rres *r);

/* ---- cm_abi.c: CanonicalABI.md lifting and lowering */
/* Forgets the borrowed string views in `v` (so wg_cval_free does not free them). */
void cm_unborrow(wg_cval *v);

uint32_t cm_abi_size(const cm_type *t);
/* The element type of a list (a map's: the (K, V) tuple, built in tmp/f). */
const cm_type *cm_list_elem(const cm_type *t, cm_type *tmp, cm_field *f);
uint32_t cm_abi_align(const cm_type *t);
/* Lifts the function's parameters (results: `ft->elem` wrapped) from flat
 * core values, through memory when they exceed `max_flat` (CM_SPILLED /
 * CM_NOT_SPILLED: the caller knows). */
#define CM_SPILLED (UINT32_MAX - 1)
#define CM_NOT_SPILLED UINT32_MAX
wg_trap *cm_lift_values(cm_cx *cx, const cm_type *const *types, uint32_t n, const wg_val *flat, uint32_t nflat,
                        uint32_t max_flat, wg_cval *out);
/* Whether every parameter type is a scalar, a string, a list<u8> or a
 * handle: the domain of cm_lift_host_args. */
bool cm_host_args_simple(const cm_type *const *types, uint32_t n);
/* cm_lift_values for a canon lower into a host function with utf8 strings,
 * unspilled parameters all in cm_host_args_simple's domain: the same values
 * and traps, strings and bytes as views of the caller's memory (valid for
 * the call; cm_unborrow before freeing), without the generic walk. */
wg_trap *cm_lift_host_args(cm_cx *cx, const cm_type *const *types, uint32_t n, const wg_val *flat, wg_cval *out);
/* Lowers values to flat core values (at most `max_flat`, else stored in
 * memory: at `*retptr` when retptr is given, else in a realloc'd block whose
 * address is the one flat value). `flat` has room for max_flat (>= 1). */
wg_trap *cm_lower_values(cm_cx *cx, const cm_type *const *types, uint32_t n, const wg_cval *vals, uint32_t max_flat,
                         const uint32_t *retptr, wg_val *flat, uint32_t *nflat);
/* Checks that `v` has the shape of `t` (kinds, lengths, discriminants). */
bool cm_cval_matches(const cm_type *t, const wg_cval *v);
wg_trap *cm_trap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- cm_handles.c: handle tables (CanonicalABI.md "Handle tables") */
wg_trap *cm_handle_add(cm_frame *f, const cm_handle *h, uint32_t *idx);
wg_trap *cm_handle_get(cm_frame *f, uint32_t idx, const cm_rres *rt, cm_handle **out);
wg_trap *cm_handle_remove(cm_frame *f, uint32_t idx, const cm_rres *rt, cm_handle *out);
wg_trap *cm_lift_own(cm_cx *cx, const cm_type *t, uint32_t idx, wg_cval *out);
wg_trap *cm_lift_borrow(cm_cx *cx, const cm_type *t, uint32_t idx, wg_cval *out);
wg_trap *cm_lower_own(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t *idx);
wg_trap *cm_lower_borrow(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t *idx);
void cm_cx_release_lenders(cm_cx *cx);
/* canon resource.new / rep / drop on frame `f` */
wg_trap *cm_resource_new(cm_frame *f, const cm_rres *rt, uint32_t rep, uint32_t *idx);
wg_trap *cm_resource_rep(cm_frame *f, const cm_rres *rt, uint32_t idx, uint32_t *rep);
wg_trap *cm_resource_drop(cm_frame *f, const cm_rres *rt, uint32_t idx);

/* ---- calls */
wg_trap *cm_call(cm_rfunc *f, const wg_cval *args, size_t nargs, wg_cval *results, size_t nresults);

#endif
