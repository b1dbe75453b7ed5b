/*
 * cm_instance.c: instantiation of components (component-model
 * design/mvp/Explainer.md "Instance Definitions", "Canonical Definitions")
 * and calls through the synchronous canonical ABI (CanonicalABI.md
 * canon_lift, canon_lower, canon resource.new/drop/rep).
 *
 * The decoder recorded every definition of a concrete component in binary
 * order (cm_body); instantiating replays them, building per component
 * instance (cm_frame) index spaces of runtime values: core modules are
 * instantiated with wg_instance_new, "flat" core instances are name lists,
 * nested components run their own bodies with their arguments as imports,
 * `canon lift` makes a component function over a core function, `canon
 * lower` a host wg_func (a trampoline that lifts the caller's flat values,
 * calls the component function and lowers its result).
 */
#include <stdlib.h>
#include <string.h>

#include "cm_rt.h"
#include "../diag.h"

/* ---- cm_linker.c */
bool cm_linker_resolve(const wg_component_linker *l, cm_rt *rt, const cm_def *d, void **out, wg_error **err);
bool cm_names_compatible(const char *want, const char *have);

void *cm_rt_alloc(cm_rt *rt, size_t n) { return wg_arena_alloc(&rt->arena, n ? n : 1); }

bool cm_rt_bind(cm_frame *f, const cm_type *t, cm_rres *r) {
  cm_rt *rt = f->rt;
  if (rt->nviews == rt->capviews) {
    uint32_t cap = rt->capviews ? rt->capviews * 2 : 16;
    cm_rview *v = realloc(rt->views, cap * sizeof *v);
    if (!v) return false;
    rt->views = v;
    rt->capviews = cap;
  }
  rt->views[rt->nviews++] = (cm_rview){cm_root(t), f, r};
  return true;
}

/* The instance's own binding first (latest wins), then its enclosing
 * instances', then anyone's: a type reached through a child's exports is
 * bound in the child. */
cm_rres *cm_rt_resource(cm_frame *f, const cm_type *t) {
  cm_rt *rt = f->rt;
  t = cm_root(t);
  for (cm_frame *o = f; o; o = o->parent)
    for (uint32_t i = rt->nviews; i-- > 0;)
      if (rt->views[i].type == t && rt->views[i].owner == o) return rt->views[i].res;
  for (uint32_t i = rt->nviews; i-- > 0;)
    if (rt->views[i].type == t) return rt->views[i].res;
  cm_rres *r = cm_rt_alloc(rt, sizeof *r);
  return r && cm_rt_bind(f, t, r) ? r : NULL;
}

static void plower_free(cm_plower *l) { free(l->cx.lenders); }

static void rt_free(void *p) {
  cm_rt *rt = p;
  plower_free(&rt->park.low); /* the store went away with a guest parked */
  wg_arena_free(&rt->arena);
  free(rt->views);
  free(rt->cores);
  free(rt->frames);
  free(rt);
}

/* ------------------------------------------------------------ frames */

/* A frame (and its arrays) is freed by the finalizer of a function in the
 * store, like the instance: both live as long as the store. */
static void frame_free(void *p) {
  cm_frame *f = p;
  for (int i = 0; i < CS_COUNT; i++) free(f->space[i]);
  free(f->handles);
  free(f);
}

/* Appends p to the array *v of *n (capacity *cap). False on OOM. */
static bool rt_note(void ***v, uint32_t *n, uint32_t *cap, void *p) {
  if (*n == *cap) {
    uint32_t c = *cap ? *cap * 2 : 8;
    void **nv = realloc(*v, c * sizeof *nv);
    if (!nv) return false;
    *v = nv;
    *cap = c;
  }
  (*v)[(*n)++] = p;
  return true;
}

static bool push(cm_frame *f, cm_sort s, void *v) {
  if (f->n[s] == f->cap[s]) {
    uint32_t cap = f->cap[s] ? f->cap[s] * 2 : 8;
    void **nv = realloc(f->space[s], cap * sizeof *nv);
    if (!nv) return false;
    f->space[s] = nv;
    f->cap[s] = cap;
  }
  f->space[s][f->n[s]++] = v;
  return true;
}

static bool fail(wg_error **err, int kind, const char *fmt, const char *a);

/* ------------------------------------------------------------ calls */

static uint32_t nflat(const cm_type *t) {
  uint8_t tmp[CM_MAX_FLAT_PARAMS + 2];
  return t ? cm_flatten(t, tmp, CM_MAX_FLAT_PARAMS + 1) : 0;
}

static const cm_type **param_types(const cm_type *ft, const cm_type **buf, uint32_t cap) {
  const cm_type **v = ft->n <= cap ? buf : malloc(ft->n * sizeof *v);
  if (!v) return NULL;
  for (uint32_t i = 0; i < ft->n; i++) v[i] = ft->fields[i].type;
  return v;
}

/* Whether `o` is `c` or one of its owners (CanonicalABI.md self_and_ancestors). */
static bool among(const cm_frame *o, const cm_frame *c) {
  for (; c; c = c->owner)
    if (c == o) return true;
  return false;
}

/* CanonicalABI.md may_enter_from / enter_from / leave_to: a call from
 * `caller` (NULL: the host) enters `f` and its owners, less those the
 * caller is already inside (a parent wrapping a child is re-entered by the
 * child's import calls without trapping). */
static bool may_enter_from(const cm_frame *f, const cm_frame *caller) {
  for (const cm_frame *o = f; o; o = o->owner)
    if (!among(o, caller) && !o->may_enter) return false;
  return true;
}
static void set_entered(cm_frame *f, const cm_frame *caller, bool entered) {
  for (cm_frame *o = f; o; o = o->owner)
    if (!among(o, caller)) o->may_enter = !entered;
}

static bool parks(const wg_store *s, const wg_trap *t) {
  wg_trap_code c = wg_trap_code_of(t);
  return (c == WG_TRAP_SUSPENDED || c == WG_TRAP_YIELDED) && wg_store_suspended(s);
}

/* Forgets the parked host call's lowering state (the handles lent to it are returned). */
static void plower_drop(cm_plower *l) {
  if (l->cx.nlenders) cm_cx_release_lenders(&l->cx);
  free(l->cx.lenders);
  *l = (cm_plower){0};
}

/* Leaves the instance a lifted call entered; borrows it still holds no longer point at it. */
static void lifted_leave(cm_lcall *c) {
  cm_frame *f = c->fn->frame;
  set_entered(f, c->caller, false);
  if (c->borrows) /* the call trapped with borrows still held: they must not point at this call */
    for (uint32_t i = 1; i < f->nhandles; i++)
      if (f->handles[i].borrow_scope == &c->borrows) f->handles[i].borrow_scope = NULL;
}

/* The end of a canon-lifted call whose core function returned (or trapped
 * with `tr`): lifts the results, checks borrows, runs post-return and leaves
 * the instance (CanonicalABI.md canon_lift). */
static wg_trap *lifted_finish(cm_lcall *c, wg_trap *tr, wg_cval *results, size_t nresults) {
  cm_rfunc *fn = c->fn;
  const cm_type *ft = fn->type;
  cm_frame *f = fn->frame;
  cm_cx cx = {.inst = f, .o = &fn->opts, .store = fn->rt->store, .fused = fn->rt->in_lower > 0};
  if (!tr && ft->elem)
    tr = cm_lift_values(&cx, (const cm_type *const *)&ft->elem, 1, c->out, (uint32_t)c->nout, CM_MAX_FLAT_RESULTS,
                        results);
  if (!tr && c->borrows) tr = cm_trap("borrow handles still remain at the end of the call");
  if (!tr && fn->opts.post_return) {
    f->may_leave = false;
    tr = wg_func_call(cx.store, fn->opts.post_return, c->out, c->nout, NULL, 0);
    f->may_leave = true;
  }
  lifted_leave(c);
  if (tr)
    for (size_t i = 0; i < nresults; i++) wg_cval_free(&results[i]);
  return tr;
}

static wg_trap *call_lifted(cm_rfunc *fn, const wg_cval *args, size_t nargs, wg_cval *results, size_t nresults) {
  const cm_type *ft = fn->type;
  cm_rt *rt = fn->rt;
  cm_frame *f = fn->frame, *caller = rt->caller;
  if (rt->park.active) return wg_trap_new(WG_TRAP_HOST, "the store has a suspended call (resume or abandon it first)");
  if (!may_enter_from(f, caller)) return cm_trap("cannot enter component instance");
  const cm_type *pbuf[16], **pt = param_types(ft, pbuf, 16);
  if (!pt) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  /* the outermost call from the host may park: its state lives in the instance */
  cm_lcall local, *c = rt->lift_depth == 0 && !caller ? &rt->park.call : &local;
  *c = (cm_lcall){.fn = fn, .caller = caller};
  cm_cx cx = {.inst = f, .o = &fn->opts, .store = rt->store, .borrow_scope = &c->borrows, .fused = rt->in_lower > 0};
  wg_val flat[CM_MAX_FLAT_PARAMS + 1];
  uint32_t nf = 0;
  set_entered(f, caller, true);
  wg_trap *tr = cm_lower_values(&cx, pt, ft->n, args, CM_MAX_FLAT_PARAMS, NULL, flat, &nf);
  if (pt != pbuf) free((void *)pt);
  wg_functype_desc ct = wg_func_type(fn->core);
  c->nout = ct.nresults < 2 ? ct.nresults : 2;
  for (size_t i = 0; i < c->nout; i++) c->out[i].kind = ct.results[i];
  if (!tr) {
    rt->lift_depth++;
    tr = wg_func_call(cx.store, fn->core, flat, nf, c->out, c->nout);
    rt->lift_depth--;
    if (tr && c == &rt->park.call && parks(cx.store, tr)) { /* parked: wg_component_func_resume continues */
      rt->park.active = true;
      return tr;
    }
  }
  if (c == &rt->park.call && rt->park.low.e) plower_drop(&rt->park.low); /* parked where it could not */
  (void)nargs;
  return lifted_finish(c, tr, results, nresults);
}

_Thread_local wg_store *cm_host_store;
wg_store *wg_component_host_store(void) { return cm_host_store; }

wg_trap *cm_call(cm_rfunc *fn, const wg_cval *args, size_t nargs, wg_cval *results, size_t nresults) {
  if (nargs != fn->type->n || nresults != (fn->type->elem ? 1u : 0u))
    return cm_trap("type mismatch: expected %u arguments and %u results", fn->type->n, fn->type->elem ? 1 : 0);
  for (size_t i = 0; i < nresults; i++) memset(&results[i], 0, sizeof results[i]);
  switch (fn->kind) {
  case RF_LIFTED: return call_lifted(fn, args, nargs, results, nresults);
  case RF_HOST: {
    wg_store *prev = cm_host_store;
    cm_host_store = fn->rt->store;
    wg_trap *tr = fn->fn(fn->env, args, nargs, results, nresults);
    cm_host_store = prev;
    if (tr && !fn->rt->in_lower && wg_trap_code_of(tr) == WG_TRAP_SUSPENDED) { /* no guest to park */
      wg_trap_delete(tr);
      tr = wg_trap_new(WG_TRAP_HOST, "cannot suspend: the host function was called from the host");
    }
    if (!tr && nresults && !cm_cval_matches(fn->type->elem, &results[0]))
      tr = cm_trap("type mismatch: host function `%s` returned a value of the wrong type", fn->name ? fn->name : "?");
    if (tr)
      for (size_t i = 0; i < nresults; i++) wg_cval_free(&results[i]);
    return tr;
  }
  default: return cm_trap("unimplemented import `%s`", fn->name ? fn->name : "?");
  }
}

wg_trap *wg_component_func_call(wg_component_func *f, const wg_cval *args, size_t nargs, wg_cval *results,
                                size_t nresults) {
  cm_frame *prev = f->rt->caller; /* a call from the host, even from inside a host function */
  f->rt->caller = NULL;
  wg_trap *tr = cm_call(f, args, nargs, results, nresults);
  f->rt->caller = prev;
  return tr;
}
size_t wg_component_func_param_count(const wg_component_func *f) { return f->type->n; }
size_t wg_component_func_result_count(const wg_component_func *f) { return f->type->elem ? 1 : 0; }

/* canon lower: the trampoline a core instance calls. */
typedef struct lower_env {
  cm_rfunc *callee;
  const cm_type *ft; /* the caller's view of the callee's type */
  cm_frame *frame;
  cm_opts opts;
  bool spill_params, spill_result;
  uint32_t nflat_params;
  const cm_type **pt; /* ft's parameter types, made once at instantiation */
  bool simple;        /* a host callee with parameters cm_lift_host_args lifts */
} lower_env;

static wg_trap *lower_cb(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  lower_env *e = env;
  cm_frame *f = e->frame;
  if (!f->may_leave) return cm_trap("cannot leave component instance");
  const cm_type *ft = e->ft, **pt = e->pt;
  wg_cval vbuf[8], *vals = ft->n <= 8 ? vbuf : wg_cval_array(ft->n);
  if (!vals) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
  if (vals == vbuf)
    for (uint32_t i = 0; i < ft->n; i++) vals[i] = (wg_cval){0};
  /* a host callee gets utf8 strings as views of the caller's memory: nothing
   * runs in the caller until the host returns (its instance cannot be
   * re-entered), so they stay valid for the call */
  cm_cx cx = {.inst = f, .o = &e->opts, .store = f->rt->store, .fused = e->callee->kind == RF_LIFTED,
              .borrow_strings = e->callee->kind == RF_HOST && e->opts.encoding == 0};
  wg_cval res = {0};
  size_t nres = ft->elem ? 1 : 0;
  wg_trap *tr = e->simple ? cm_lift_host_args(&cx, pt, ft->n, args, vals)
                          : cm_lift_values(&cx, pt, ft->n, args, e->nflat_params,
                                           e->spill_params ? CM_SPILLED : CM_NOT_SPILLED, vals);
  f->rt->in_lower++;
  cm_frame *prev = f->rt->caller;
  f->rt->caller = f;
  if (!tr) tr = cm_call(e->callee, vals, ft->n, &res, nres);
  f->rt->caller = prev;
  f->rt->in_lower--;
  if (tr && wg_trap_code_of(tr) == WG_TRAP_SUSPENDED) {
    cm_rt *rt = f->rt;
    if (rt->lift_depth == 1 && !rt->in_lower && rt->caller == NULL && !rt->park.low.e) {
      /* the host parks the guest: its results are lowered at wg_component_func_resume (the
       * handles lent to it stay lent until then); the engine keeps the core frames */
      rt->park.low = (cm_plower){.e = e, .cx = cx,
                                 .retptr = e->spill_result ? (uint32_t)args[e->nflat_params].of.i32 : 0};
      cx.lenders = NULL;
      cx.nlenders = cx.caplenders = 0;
    } else {
      wg_trap_delete(tr);
      tr = wg_trap_new(WG_TRAP_HOST, "cannot suspend a guest inside a nested component call");
    }
  }
  if (cx.nlenders) cm_cx_release_lenders(&cx);
  if (nres) {
    if (!tr) {
      uint32_t retptr = e->spill_result ? (uint32_t)args[e->nflat_params].of.i32 : 0, n = 0;
      tr = cm_lower_values(&cx, (const cm_type *const *)&ft->elem, 1, &res, CM_MAX_FLAT_RESULTS,
                           e->spill_result ? &retptr : NULL, results, &n);
    }
    wg_cval_free(&res);
  }
  for (uint32_t i = 0; i < ft->n; i++) {
    wg_cval_kind k = vals[i].kind;
    /* scalars own nothing; borrowed strings and bytes are views */
    if (k < WG_CVAL_STRING || (cx.borrow_strings && (k == WG_CVAL_STRING || k == WG_CVAL_BYTES))) continue;
    if (cx.borrow_strings) cm_unborrow(&vals[i]);
    wg_cval_free(&vals[i]);
  }
  if (vals != vbuf) free(vals);
  return tr;
}

/* wg_func_resume_with's fill: lowers the parked host call's results into the caller (through its
 * realloc, a nested call) as lower_cb would have. */
static wg_trap *fill_lower(void *env, wg_val *flat, size_t n) {
  cm_plower *l = env;
  const lower_env *e = l->e;
  const cm_type *want = e->callee->type->elem;
  wg_trap *tr = NULL;
  (void)n;
  if (want && !cm_cval_matches(want, l->res))
    tr = cm_trap("type mismatch: host function `%s` returned a value of the wrong type",
                 e->callee->name ? e->callee->name : "?");
  if (!tr && want) {
    uint32_t k = 0;
    tr = cm_lower_values(&l->cx, (const cm_type *const *)&e->ft->elem, 1, l->res, CM_MAX_FLAT_RESULTS,
                         e->spill_result ? &l->retptr : NULL, flat, &k);
  }
  if (l->cx.nlenders) cm_cx_release_lenders(&l->cx); /* the call is over: its borrows are returned */
  return tr;
}

wg_trap *wg_component_func_resume(wg_component_func *f, wg_cval *host_results, size_t n_host, wg_cval *results,
                                  size_t nresults) {
  cm_rt *rt = f->rt;
  cm_park *p = &rt->park;
  wg_trap *tr = NULL;
  if (!p->active || p->call.fn != f) tr = wg_trap_new(WG_TRAP_HOST, "nothing to resume");
  else if (nresults != (f->type->elem ? 1u : 0u) ||
           n_host != (p->low.e && p->low.e->callee->type->elem ? 1u : 0u))
    tr = wg_trap_new(WG_TRAP_HOST, "wrong number of results to resume with");
  if (tr) {
    for (size_t i = 0; i < n_host; i++) wg_cval_free(&host_results[i]);
    return tr;
  }
  for (size_t i = 0; i < nresults; i++) memset(&results[i], 0, sizeof results[i]);
  cm_plower low = p->low; /* the guest may park again at another host call */
  p->low = (cm_plower){0};
  p->active = false;
  cm_frame *prev = rt->caller;
  rt->caller = NULL;
  rt->lift_depth++;
  if (low.e) {
    low.res = host_results;
    tr = wg_func_resume_with(rt->store, fill_lower, &low, p->call.out, p->call.nout);
  } else {
    tr = wg_func_resume(rt->store, NULL, 0, p->call.out, p->call.nout);
  }
  rt->lift_depth--;
  for (size_t i = 0; i < n_host; i++) wg_cval_free(&host_results[i]);
  plower_drop(&low);
  if (tr && parks(rt->store, tr)) {
    p->active = true;
  } else {
    if (p->low.e) plower_drop(&p->low);
    tr = lifted_finish(&p->call, tr, results, nresults);
  }
  rt->caller = prev;
  return tr;
}

bool wg_component_func_suspended(const wg_component_func *f) {
  return f && f->rt->park.active && f->rt->park.call.fn == f;
}

void wg_component_func_abandon(wg_component_func *f) {
  if (!f) return;
  cm_park *p = &f->rt->park;
  if (!p->active || p->call.fn != f) return;
  plower_drop(&p->low);
  wg_store_abandon(f->rt->store);
  p->active = false;
  lifted_leave(&p->call); /* no results, no post-return: as after a trap */
}

/* canon resource.new / rep / drop */
typedef struct res_env {
  cm_frame *frame;
  const cm_rres *rt;
  cm_def_kind kind;
} res_env;

static wg_trap *res_cb(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  res_env *e = env;
  uint32_t v = 0, a = (uint32_t)args[0].of.i32;
  wg_trap *tr = e->kind == D_RES_NEW   ? cm_resource_new(e->frame, e->rt, a, &v)
                : e->kind == D_RES_REP ? cm_resource_rep(e->frame, e->rt, a, &v)
                                       : cm_resource_drop(e->frame, e->rt, a);
  if (!tr && e->kind != D_RES_DROP) results[0].of.i32 = (int32_t)v;
  return tr;
}

/* The async-era built-ins: context.get/set (one slot per instance: calls
 * are synchronous) and backpressure.inc/dec (nothing to do without async
 * calls) run; the others trap. Every one traps while the instance may not
 * leave (in post-return), as CanonicalABI.md's `trap_if(not inst.may_leave)`. */
typedef struct builtin_env {
  cm_frame *frame;
  uint8_t op;
} builtin_env;

static wg_trap *builtin_cb(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller;
  builtin_env *e = env;
  cm_frame *f = e->frame;
  switch (e->op) {
  case 0x0a: results[0].of.i32 = (int32_t)f->context; return NULL;         /* context.get */
  case 0x0b: f->context = (uint32_t)args[0].of.i32; return NULL;          /* context.set */
  default: break;
  }
  if (e->op == 0x24 || e->op == 0x25) return NULL; /* backpressure.inc/dec */
  if (!f->may_leave) return cm_trap("cannot leave component instance");
  return cm_trap("canonical built-in not supported (async ABI)");
}

/* The callback of the functions that only tie a finalizer to the store. */
static wg_trap *noop_cb(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return NULL;
}

static wg_func *host_func(cm_rt *rt, const cm_type *core, wg_host_callback cb, void *env) {
  wg_valtype p[CM_MAX_FLAT_PARAMS + 2], r[2];
  for (uint32_t i = 0; i < core->ncparams && i < CM_MAX_FLAT_PARAMS + 2; i++) p[i] = (wg_valtype)core->cparams[i];
  for (uint32_t i = 0; i < core->ncresults && i < 2; i++) r[i] = (wg_valtype)core->cresults[i];
  wg_functype_desc d = {core->ncparams, core->ncresults, p, r};
  return wg_func_new_host(rt->store, &d, cb, env, NULL);
}

/* ------------------------------------------------------------ instantiation */

typedef struct inst_ctx {
  cm_rt *rt;
  wg_error **err;
  wg_trap **trap;
} inst_ctx;

static bool fail(wg_error **err, int kind, const char *fmt, const char *a) {
  if (err) {
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a ? a : "");
    *err = wg_error_make((wg_error_kind)kind, SIZE_MAX, buf);
  }
  return false;
}
#define OOM(x) fail((x)->err, WG_ERROR_RESOURCE, "out of memory%s", NULL)

static bool resolve_opts(inst_ctx *x, cm_frame *f, const cm_def *d, cm_opts *o) {
  o->encoding = d->encoding;
  o->mem = d->memory != CM_NONE ? f->space[CS_CORE_MEMORY][d->memory] : NULL;
  o->realloc_fn = d->realloc_fn != CM_NONE ? f->space[CS_CORE_FUNC][d->realloc_fn] : NULL;
  o->post_return = d->post_return != CM_NONE ? f->space[CS_CORE_FUNC][d->post_return] : NULL;
  (void)x;
  return true;
}

static const wg_extern_kind core_kind[] = {[CS_CORE_FUNC] = WG_EXTERN_FUNC, [CS_CORE_TABLE] = WG_EXTERN_TABLE,
                                           [CS_CORE_MEMORY] = WG_EXTERN_MEMORY, [CS_CORE_GLOBAL] = WG_EXTERN_GLOBAL};

static void *extern_ptr(const wg_extern *e) {
  switch (e->kind) {
  case WG_EXTERN_FUNC: return e->of.func;
  case WG_EXTERN_TABLE: return e->of.table;
  case WG_EXTERN_MEMORY: return e->of.memory;
  default: return e->of.global;
  }
}
static wg_extern make_extern(wg_extern_kind k, void *p) {
  wg_extern e = {.kind = k};
  switch (k) {
  case WG_EXTERN_FUNC: e.of.func = p; break;
  case WG_EXTERN_TABLE: e.of.table = p; break;
  case WG_EXTERN_MEMORY: e.of.memory = p; break;
  default: e.of.global = p; break;
  }
  return e;
}

static const cm_rcore *find_core(const cm_rcore *c, const char *name, wg_extern *out) {
  for (uint32_t i = 0; i < c->n; i++)
    if (!strcmp(c->names[i], name)) {
      *out = c->ex[i];
      return c;
    }
  return NULL;
}

static bool core_instantiate(inst_ctx *x, cm_frame *f, const cm_def *d) {
  const wg_module *m = f->space[CS_CORE_MODULE][d->a];
  uint32_t ni = wg_module_import_count(m), ne = wg_module_export_count(m);
  wg_extern *im = calloc(ni ? ni : 1, sizeof *im);
  if (!im) return OOM(x);
  for (uint32_t i = 0; i < ni; i++) {
    wg_extern_desc desc;
    wg_module_import(m, i, &desc);
    const cm_rcore *arg = NULL;
    for (uint32_t j = 0; j < d->nargs && !arg; j++)
      if (!strcmp(d->args[j].name, desc.module)) arg = f->space[CS_CORE_INSTANCE][d->args[j].idx];
    if (!arg || !find_core(arg, desc.name, &im[i])) {
      free(im);
      return fail(x->err, WG_ERROR_INVALID, "core import `%s` not supplied", desc.name);
    }
  }
  wg_instance *inst = wg_instance_new(x->rt->store, m, im, ni, x->err, x->trap);
  free(im);
  if (!inst) return false;
  if (!rt_note(&x->rt->cores, &x->rt->ncores, &x->rt->capcores, inst)) return OOM(x);
  cm_rcore *c = cm_rt_alloc(x->rt, sizeof *c);
  if (!c || !(c->names = cm_rt_alloc(x->rt, (ne ? ne : 1) * sizeof *c->names)) ||
      !(c->ex = cm_rt_alloc(x->rt, (ne ? ne : 1) * sizeof *c->ex)))
    return OOM(x);
  for (uint32_t i = 0; i < ne; i++) {
    wg_extern_desc desc;
    wg_module_export(m, i, &desc);
    c->names[i] = desc.name;
    wg_instance_extern(inst, desc.kind, desc.index, &c->ex[i]);
  }
  c->n = ne;
  return push(f, CS_CORE_INSTANCE, c) || OOM(x);
}

static bool run_body(inst_ctx *x, cm_frame *f, const cm_type *ct, const cm_def *args, uint32_t nargs,
                     cm_frame *argf, cm_rinst **exports);

static cm_rinst *new_rinst(inst_ctx *x, uint32_t n) {
  cm_rinst *r = cm_rt_alloc(x->rt, sizeof *r);
  if (!r || !(r->names = cm_rt_alloc(x->rt, (n ? n : 1) * sizeof *r->names)) ||
      !(r->sorts = cm_rt_alloc(x->rt, (n ? n : 1) * sizeof *r->sorts)) ||
      !(r->vals = cm_rt_alloc(x->rt, (n ? n : 1) * sizeof *r->vals)))
    return OOM(x), NULL;
  return r;
}

static cm_frame *new_frame(inst_ctx *x, cm_frame *parent) {
  cm_frame *f = calloc(1, sizeof *f);
  if (!f) return OOM(x), NULL;
  f->rt = x->rt;
  f->parent = parent;
  f->may_enter = f->may_leave = true;
  wg_functype_desc none = {0};
  if (!wg_func_new_host(x->rt->store, &none, noop_cb, f, frame_free)) {
    free(f);
    return OOM(x), NULL;
  }
  if (!rt_note(&x->rt->frames, &x->rt->nframes, &x->rt->capframes, f)) return OOM(x), NULL;
  return f;
}

/* An imported resource type (of a nested component) is the runtime
 * resource of its argument: register the import's static type as an alias
 * (same implementation, destructor, host type). */
/* The value of a type index space entry is the cm_rres of a resource
 * type and the static cm_type of any other. A resource type imported or
 * aliased into instance `f` is bound there to the supplied runtime resource. */
static bool bind_resources(inst_ctx *x, cm_frame *f, const cm_def *d, void *v) {
  if (d->sort == CS_TYPE)
    return !v || cm_root(d->type)->kind != CM_RESOURCE || cm_rt_bind(f, d->type, v) || OOM(x);
  if (d->sort != CS_INSTANCE) return true;
  const cm_rinst *r = v;
  for (uint32_t i = 0; i < d->type->nexports; i++) {
    const cm_extern *e = &d->type->exports[i];
    if (e->sort != CS_TYPE || cm_root(e->type)->kind != CM_RESOURCE) continue;
    for (uint32_t j = 0; j < r->n; j++)
      if (r->sorts[j] == CS_TYPE && !strcmp(r->names[j], e->name) && !cm_rt_bind(f, e->type, r->vals[j])) return OOM(x);
  }
  return true;
}

static bool def(inst_ctx *x, cm_frame *f, const cm_def *d, const cm_def *iargs, uint32_t niargs, cm_frame *argf,
                cm_rinst *exports) {
  cm_rt *rt = x->rt;
  void *v = NULL;
  switch (d->kind) {
  case D_MODULE: v = (void *)rt->comp->modules[d->a]; break;
  case D_CORE_INSTANTIATE: return core_instantiate(x, f, d);
  case D_CORE_EXPORTS: {
    cm_rcore *c = cm_rt_alloc(rt, sizeof *c);
    if (!c || !(c->names = cm_rt_alloc(rt, (d->nargs ? d->nargs : 1) * sizeof *c->names)) ||
        !(c->ex = cm_rt_alloc(rt, (d->nargs ? d->nargs : 1) * sizeof *c->ex)))
      return OOM(x);
    for (uint32_t i = 0; i < d->nargs; i++) {
      if (d->args[i].sort > CS_CORE_GLOBAL)
        return fail(x->err, WG_ERROR_INVALID, "core tags are not supported at runtime%s", NULL);
      c->names[i] = d->args[i].name;
      c->ex[i] = make_extern(core_kind[d->args[i].sort], f->space[d->args[i].sort][d->args[i].idx]);
    }
    c->n = d->nargs;
    v = c;
    break;
  }
  case D_COMPONENT: {
    cm_rcomp *c = cm_rt_alloc(rt, sizeof *c);
    if (!c) return OOM(x);
    c->ct = d->type;
    c->parent = f;
    v = c;
    break;
  }
  case D_INSTANTIATE: {
    cm_rcomp *c = f->space[CS_COMPONENT][d->a];
    cm_frame *child = new_frame(x, c->parent);
    cm_rinst *ex = NULL;
    if (!child) return false;
    child->owner = f;
    /* arguments: the instantiate's (name, sort, idx) in this frame */
    cm_def *a = calloc(d->nargs ? d->nargs : 1, sizeof *a);
    if (!a) return OOM(x);
    for (uint32_t i = 0; i < d->nargs; i++) a[i] = (cm_def){.name = d->args[i].name, .sort = d->args[i].sort, .a = d->args[i].idx};
    bool ok = run_body(x, child, c->ct, a, d->nargs, f, &ex);
    free(a);
    if (!ok) return false;
    v = ex;
    break;
  }
  case D_EXPORTS: {
    cm_rinst *r = new_rinst(x, d->nargs);
    if (!r) return false;
    for (uint32_t i = 0; i < d->nargs; i++) {
      r->names[i] = d->args[i].name;
      r->sorts[i] = d->args[i].sort;
      r->vals[i] = f->space[d->args[i].sort][d->args[i].idx];
    }
    r->n = d->nargs;
    v = r;
    break;
  }
  case D_ALIAS_EXPORT: {
    const cm_rinst *r = f->space[CS_INSTANCE][d->a];
    for (uint32_t i = 0; i < r->n && !v; i++)
      if (!strcmp(r->names[i], d->name)) v = r->vals[i];
    if (!v && d->sort != CS_TYPE) return fail(x->err, WG_ERROR_INVALID, "instance has no export `%s`", d->name);
    if (!v) v = cm_root(d->type)->kind == CM_RESOURCE ? (void *)cm_rt_resource(f, d->type) : (void *)d->type;
    if (!v) return OOM(x);
    if (!bind_resources(x, f, d, v)) return false;
    break;
  }
  case D_ALIAS_CORE_EXPORT: {
    wg_extern e;
    if (!find_core(f->space[CS_CORE_INSTANCE][d->a], d->name, &e))
      return fail(x->err, WG_ERROR_INVALID, "core instance has no export `%s`", d->name);
    v = extern_ptr(&e);
    break;
  }
  case D_ALIAS_OUTER: {
    cm_frame *o = f;
    for (uint32_t i = 0; i < d->a && o; i++) o = o->parent;
    if (!o || d->b >= o->n[d->sort]) return fail(x->err, WG_ERROR_INVALID, "outer alias out of range%s", NULL);
    v = o->space[d->sort][d->b];
    if (!bind_resources(x, f, d, v)) return false;
    break;
  }
  case D_TYPE:
    v = d->type;
    if (d->type->kind == CM_RESOURCE) { /* a definition: a new resource type per instantiation */
      cm_rres *r = cm_rt_alloc(rt, sizeof *r);
      if (!r || !cm_rt_bind(f, d->type, r)) return OOM(x);
      r->impl = f;
      r->dtor = d->type->dtor != UINT32_MAX ? f->space[CS_CORE_FUNC][d->type->dtor] : NULL;
      v = r;
    }
    break;
  case D_LIFT: {
    cm_rfunc *fn = cm_rt_alloc(rt, sizeof *fn);
    if (!fn) return OOM(x);
    fn->kind = RF_LIFTED;
    fn->type = d->type;
    fn->rt = rt;
    fn->frame = f;
    fn->core = f->space[CS_CORE_FUNC][d->a];
    resolve_opts(x, f, d, &fn->opts);
    v = fn;
    break;
  }
  case D_LOWER: {
    lower_env *e = cm_rt_alloc(rt, sizeof *e);
    if (!e) return OOM(x);
    e->callee = f->space[CS_FUNC][d->a];
    e->ft = d->ft;
    e->frame = f;
    resolve_opts(x, f, d, &e->opts);
    uint32_t np = 0;
    for (uint32_t i = 0; i < e->ft->n; i++) np += nflat(e->ft->fields[i].type);
    e->spill_params = np > CM_MAX_FLAT_PARAMS;
    e->nflat_params = e->spill_params ? 1 : np;
    e->spill_result = nflat(e->ft->elem) > CM_MAX_FLAT_RESULTS;
    if (!(e->pt = cm_rt_alloc(rt, (e->ft->n ? e->ft->n : 1) * sizeof *e->pt))) return OOM(x);
    for (uint32_t i = 0; i < e->ft->n; i++) e->pt[i] = e->ft->fields[i].type;
    e->simple = e->callee->kind == RF_HOST && e->opts.encoding == 0 && !e->spill_params &&
                cm_host_args_simple(e->pt, e->ft->n);
    if (!(v = host_func(rt, d->type, lower_cb, e))) return OOM(x);
    break;
  }
  case D_RES_NEW: case D_RES_DROP: case D_RES_REP: {
    res_env *e = cm_rt_alloc(rt, sizeof *e);
    if (!e) return OOM(x);
    e->frame = f;
    if (!(e->rt = cm_rt_resource(f, d->type))) return OOM(x);
    e->kind = d->kind;
    static const uint8_t i32 = WG_I32;
    cm_type core = {.kind = CM_CORE_FUNC, .ncparams = 1, .ncresults = d->kind == D_RES_DROP ? 0 : 1,
                    .cparams = (uint8_t *)&i32, .cresults = (uint8_t *)&i32};
    if (!(v = host_func(rt, &core, res_cb, e))) return OOM(x);
    break;
  }
  case D_BUILTIN: {
    builtin_env *e = cm_rt_alloc(rt, sizeof *e);
    if (!e) return OOM(x);
    e->frame = f;
    e->op = (uint8_t)d->a;
    if (!(v = host_func(rt, d->type, builtin_cb, e))) return OOM(x);
    break;
  }
    break;
  case D_IMPORT:
    if (!argf) { /* top level: the linker */
      if (!cm_linker_resolve(rt->linker, rt, d, &v, x->err)) return false;
    } else {
      const cm_def *a = NULL;
      for (uint32_t i = 0; i < niargs && !a; i++)
        if (!strcmp(iargs[i].name, d->name)) a = &iargs[i];
      if (!a) return fail(x->err, WG_ERROR_INVALID, "missing instantiation argument `%s`", d->name);
      v = argf->space[a->sort][a->a];
      if (!bind_resources(x, f, d, v)) return false;
    }
    break;
  case D_EXPORT: {
    v = f->space[d->sort][d->a];
    uint32_t i = exports->n++;
    exports->names[i] = d->name;
    exports->sorts[i] = d->sort;
    exports->vals[i] = v;
    if (!bind_resources(x, f, d, v)) return false;
    break;
  }
  }
  return push(f, d->sort, v) || OOM(x);
}

static bool run_body(inst_ctx *x, cm_frame *f, const cm_type *ct, const cm_def *args, uint32_t nargs,
                     cm_frame *argf, cm_rinst **exports) {
  const cm_body *b = ct->body;
  if (!b) return fail(x->err, WG_ERROR_INVALID, "not a concrete component%s", NULL);
  uint32_t nex = 0;
  for (uint32_t i = 0; i < b->n; i++) nex += b->v[i].kind == D_EXPORT;
  cm_rinst *ex = new_rinst(x, nex);
  if (!ex) return false;
  for (uint32_t i = 0; i < b->n; i++)
    if (!def(x, f, &b->v[i], args, nargs, argf, ex)) return false;
  for (int s = 0; s < CS_COUNT; s++)
    if (s != CS_CORE_TYPE && s != CS_VALUE && f->n[s] != b->count[s])
      return fail(x->err, WG_ERROR_INVALID, "internal error: index space mismatch (%s)", cm_sort_name((cm_sort)s));
  *exports = ex;
  return true;
}

wg_component_instance *wg_component_linker_instantiate(const wg_component_linker *l, wg_store *s,
                                                       const wg_component *c, wg_error **err, wg_trap **trap) {
  if (err) *err = NULL;
  if (trap) *trap = NULL;
  cm_rt *rt = calloc(1, sizeof(wg_component_instance));
  if (!rt) return fail(err, WG_ERROR_RESOURCE, "out of memory%s", NULL), NULL;
  rt->store = s;
  rt->comp = c;
  rt->linker = l;
  wg_functype_desc none = {0};
  if (!wg_func_new_host(s, &none, noop_cb, rt, rt_free)) {
    free(rt);
    return fail(err, WG_ERROR_RESOURCE, "out of memory%s", NULL), NULL;
  }
  inst_ctx x = {rt, err, trap};
  cm_frame *top = new_frame(&x, NULL);
  if (!top) return NULL;
  rt->top = top;
  if (!run_body(&x, top, c->type, NULL, 0, NULL, &rt->exports)) return NULL;
  return (wg_component_instance *)rt;
}

wg_component_func *wg_component_instance_func(const wg_component_instance *inst, const char *instance,
                                              const char *name) {
  const cm_rinst *r = inst->rt.exports;
  if (instance) {
    const cm_rinst *sub = NULL;
    for (uint32_t i = 0; i < r->n && !sub; i++)
      if (r->sorts[i] == CS_INSTANCE && cm_names_compatible(instance, r->names[i])) sub = r->vals[i];
    if (!sub) return NULL;
    r = sub;
  }
  for (uint32_t i = 0; i < r->n; i++)
    if (r->sorts[i] == CS_FUNC && !strcmp(r->names[i], name)) return r->vals[i];
  return NULL;
}
