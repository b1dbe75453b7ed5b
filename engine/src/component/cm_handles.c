/*
 * cm_handles.c: handle tables and the resource built-ins (component-model
 * design/mvp/CanonicalABI.md "Handle State", "Table State", lift_own,
 * lift_borrow, lower_own, lower_borrow, canon resource.new/rep/drop).
 *
 * Each component instance has one table; index 0 is never used; freed
 * slots are reused (free list), as the spec's Table does. Resource types are
 * compared by their static type's root (see cm_rt.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cm_rt.h"

#define MAX_HANDLES (1u << 28)

wg_trap *cm_handle_add(cm_frame *f, const cm_handle *h, uint32_t *idx) {
  if (f->free_head) {
    uint32_t i = f->free_head;
    f->free_head = f->handles[i].next_free;
    f->handles[i] = *h;
    f->handles[i].next_free = 0;
    *idx = i;
    return NULL;
  }
  if (!f->nhandles) f->nhandles = 1; /* slot 0 is reserved */
  if (f->nhandles >= MAX_HANDLES) return cm_trap("handle table full");
  if (f->nhandles >= f->caphandles) {
    uint32_t cap = f->caphandles ? f->caphandles * 2 : 16;
    cm_handle *v = realloc(f->handles, cap * sizeof *v);
    if (!v) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
    f->handles = v;
    f->caphandles = cap;
  }
  f->handles[f->nhandles] = *h;
  f->handles[f->nhandles].next_free = 0;
  *idx = f->nhandles++;
  return NULL;
}

static wg_trap *wrong_type(uint32_t idx) {
  return cm_trap("handle index %u used with the wrong type, expected guest-defined resource but found a different "
                 "guest-defined resource", idx);
}

wg_trap *cm_handle_get(cm_frame *f, uint32_t idx, const cm_rres *rt, cm_handle **out) {
  if (idx == 0 || idx >= f->nhandles || !f->handles[idx].rt) return cm_trap("unknown handle index %u", idx);
  if (rt && f->handles[idx].rt != rt) return wrong_type(idx);
  *out = &f->handles[idx];
  return NULL;
}

wg_trap *cm_handle_remove(cm_frame *f, uint32_t idx, const cm_rres *rt, cm_handle *out) {
  cm_handle *h = NULL;
  wg_trap *tr = cm_handle_get(f, idx, rt, &h);
  if (tr) return tr;
  if (h->own && h->lends) return cm_trap("cannot remove owned resource while borrowed");
  *out = *h;
  memset(h, 0, sizeof *h);
  h->next_free = f->free_head;
  f->free_head = idx;
  return NULL;
}

/* The value a handle type lifts to: the representation and the runtime type
 * (the host's wg_component_resource_type for host resources). */
static void handle_val(const cm_rres *r, const cm_type *t, uint32_t rep, wg_cval *out) {
  out->kind = t->kind == CM_OWN ? WG_CVAL_OWN : WG_CVAL_BORROW;
  out->of.handle.rep = rep;
  out->of.handle.type = r && r->host ? (const void *)r->host : (const void *)r;
}

#define RES(f, t)                                                   \
  cm_rres *r = cm_rt_resource((f), (t)->elem);                      \
  if (!r) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory")

wg_trap *cm_lift_own(cm_cx *cx, const cm_type *t, uint32_t idx, wg_cval *out) {
  RES(cx->inst, t);
  cm_handle h = {0};
  wg_trap *tr = cm_handle_remove(cx->inst, idx, r, &h);
  if (tr) return tr;
  if (!h.own) return cm_trap("cannot lift own handle %u: it is a borrow", idx);
  handle_val(r, t, h.rep, out);
  return NULL;
}

wg_trap *cm_lift_borrow(cm_cx *cx, const cm_type *t, uint32_t idx, wg_cval *out) {
  RES(cx->inst, t);
  cm_handle *h = NULL;
  wg_trap *tr = cm_handle_get(cx->inst, idx, r, &h);
  if (tr) return tr;
  if (h->own) { /* lent until the call ends */
    if (cx->nlenders == cx->caplenders) {
      uint32_t cap = cx->caplenders ? cx->caplenders * 2 : 4;
      cm_handle **v = realloc(cx->lenders, cap * sizeof *v);
      if (!v) return wg_trap_new(WG_TRAP_RESOURCE, "out of memory");
      cx->lenders = v;
      cx->caplenders = cap;
    }
    /* store the index, not the pointer: the table may move meanwhile */
    cx->lenders[cx->nlenders++] = (cm_handle *)(uintptr_t)idx;
    h->lends++;
  }
  handle_val(r, t, h->rep, out);
  return NULL;
}

void cm_cx_release_lenders(cm_cx *cx) {
  for (uint32_t i = 0; i < cx->nlenders; i++) {
    uint32_t idx = (uint32_t)(uintptr_t)cx->lenders[i];
    if (idx < cx->inst->nhandles && cx->inst->handles[idx].lends) cx->inst->handles[idx].lends--;
  }
  free(cx->lenders);
  cx->lenders = NULL;
  cx->nlenders = cx->caplenders = 0;
}

wg_trap *cm_lower_own(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t *idx) {
  RES(cx->inst, t);
  cm_handle h = {.rep = v->of.handle.rep, .rt = r, .own = true};
  return cm_handle_add(cx->inst, &h, idx);
}

wg_trap *cm_lower_borrow(cm_cx *cx, const cm_type *t, const wg_cval *v, uint32_t *idx) {
  RES(cx->inst, t);
  if (r->impl == cx->inst) { /* the implementation gets the representation itself */
    *idx = v->of.handle.rep;
    return NULL;
  }
  cm_handle h = {.rep = v->of.handle.rep, .rt = r, .own = false, .borrow_scope = cx->borrow_scope};
  wg_trap *tr = cm_handle_add(cx->inst, &h, idx);
  if (!tr && cx->borrow_scope) (*cx->borrow_scope)++;
  return tr;
}

wg_trap *cm_resource_new(cm_frame *f, const cm_rres *rt, uint32_t rep, uint32_t *idx) {
  if (!f->may_leave) return cm_trap("cannot leave component instance");
  cm_handle h = {.rep = rep, .rt = rt, .own = true};
  return cm_handle_add(f, &h, idx);
}

wg_trap *cm_resource_rep(cm_frame *f, const cm_rres *rt, uint32_t idx, uint32_t *rep) {
  cm_handle *h = NULL;
  wg_trap *tr = cm_handle_get(f, idx, rt, &h);
  if (!tr) *rep = h->rep;
  return tr;
}

wg_trap *cm_resource_drop(cm_frame *f, const cm_rres *rt, uint32_t idx) {
  if (!f->may_leave) return cm_trap("cannot leave component instance");
  cm_handle h = {0};
  wg_trap *tr = cm_handle_remove(f, idx, rt, &h);
  if (tr) return tr;
  if (!h.own) {
    if (h.borrow_scope && *h.borrow_scope) (*h.borrow_scope)--;
    return NULL;
  }
  const cm_rres *r = rt;
  if (r->host) {
    wg_trap *t = NULL;
    if (r->host->dtor || r->host->dtor_checked) {
      wg_store *prev = cm_host_store;
      cm_host_store = f->rt->store;
      if (r->host->dtor_checked) t = r->host->dtor_checked(r->host->env, h.rep);
      else r->host->dtor(r->host->env, h.rep);
      cm_host_store = prev;
    }
    return t;
  }
  if (!r->dtor) return NULL;
  if (r->impl && r->impl != f && !r->impl->may_enter) return cm_trap("cannot enter component instance");
  wg_val arg = {.kind = WG_I32, .of.i32 = (int32_t)h.rep};
  return wg_func_call(f->rt->store, r->dtor, &arg, 1, NULL, 0);
}
