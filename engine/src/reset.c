/*
 * reset.c: returning an instance to the state instantiation left it in
 * (wasmgate.h wg_instance_reset), so that an embedder that wants a fresh
 * instance per request (Spin's and wasmCloud's default) reuses one instead of
 * making a new one: the same semantics as wg_instance_new, at the cost of
 * undoing what the last request changed.
 *
 * What instantiation makes (spec 4.5.4) and how each is undone:
 *  - memories the module defines: a memory made from a copy-on-write image is
 *    reset by the pages its guest dirtied (memimage.c, wg_memimage_reset_memory);
 *    any other memory is zeroed up to its size and its active data segments
 *    are copied again. A grown memory shrinks back to its initial size (the
 *    store is uncharged; committed bytes past the size read as zero again, as
 *    store.c's commit expects).
 *  - tables the module defines: back to their initial size, every element
 *    null, then the active element segments copied again.
 *  - globals the module defines: their initialisers evaluated again.
 *  - segments: passive ones available again, active and declarative ones
 *    dropped (as after instantiation).
 *  - the start function runs again.
 * An instance whose module imports a memory, a table or a mutable global
 * shares that state with others and cannot be reset.
 */
#include <string.h>

#include "diag.h"
#include "opcodes.h"
#include "jit.h"
#include "runtime.h"

#define PAGE 65536u

static bool reset_fail(wg_error **err, const char *msg) {
  if (err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, msg);
  return false;
}

/* Why instances of m cannot be reset, or NULL. */
static const char *not_resettable(const wg_module *m) {
  if (m->nmem_imports) return "instance reset: the module imports a memory";
  if (m->ntable_imports) return "instance reset: the module imports a table";
  for (uint32_t i = 0; i < m->nglobal_imports; i++)
    if (m->globals[i].type.mut) return "instance reset: the module imports a mutable global";
  return NULL;
}

bool wg_module_has_start(const wg_module *m) { return m->has_start; }

bool wg_module_can_reset(const wg_module *m, const char **why) {
  const char *w = not_resettable(m);
  if (why) *why = w;
  return !w;
}

/* Shrinks a grown memory back to `pages`, uncharging the store; with the
 * compiled tier's guard pages the pages past the size are made inaccessible
 * again (its loads and stores have no explicit bounds check). False when
 * that fails (the instance cannot be reset). */
static bool memory_shrink(wg_memory *mem, uint32_t pages) {
  if (mem->pages > pages) {
    mem->store->bytes -= (uint64_t)(mem->pages - pages) * PAGE;
    mem->pages = pages;
    mem->size = (uint64_t)pages * PAGE;
  }
  return wg_jit_memory_trim(mem);
}

/* Copies inst's active data segments into its memory i again (instantiation succeeded with these
 * offsets and the memory's initial size, so they fit; false if not). */
static bool copy_data(wg_instance *inst, uint32_t i) {
  const wg_module *m = inst->module;
  wg_memory *mem = inst->mems[i];
  for (uint32_t k = 0; k < m->ndatas; k++) {
    const wg_data *seg = &m->datas[k];
    if (seg->mode != WG_SEG_ACTIVE || seg->memory != i || !seg->init.len) continue;
    uint32_t d = wg_eval_const(inst, &seg->offset, NULL).u32;
    if ((uint64_t)d + seg->init.len > mem->size) return false;
    memcpy(mem->data + d, seg->init.ptr, seg->init.len);
  }
  return true;
}

static bool reset_memory(wg_instance *inst, uint32_t i) {
  const wg_module *m = inst->module;
  wg_memory *mem = inst->mems[i];
  uint32_t min = m->mems[i].min;
  if (mem->image && i == 0) {
    if (!wg_memimage_reset_memory(mem)) return false;
    return memory_shrink(mem, min);
  }
  /* past the size: zero already; past the initial size: written only if grown this time */
  uint64_t init = (uint64_t)min * PAGE < mem->size ? (uint64_t)min * PAGE : mem->size;
  if (init) memset(mem->data, 0, (size_t)init);
  if (mem->size > init) wg_memory_zero(mem->data + init, (size_t)(mem->size - init));
  if (!memory_shrink(mem, min)) return false;
  return copy_data(inst, i);
}

/* wg_instance_reset without the check that inst shares no state (`group`: the owners of what it
 * imports were reset before it, in instantiation order; its active data segments are copied
 * into imported memories again too). */
static bool reset_instance(wg_instance *inst, bool group, wg_error **err, wg_trap **trap) {
  if (err) *err = NULL;
  if (trap) *trap = NULL;
  wg_store *s = inst->store;
  const wg_module *m = inst->module;
  const char *why = group ? NULL : not_resettable(m);
  if (why) return reset_fail(err, why);
  wg_store_abandon(s); /* a guest parked and never resumed */
  if (s->depth) return reset_fail(err, "instance reset: the store is running a call");
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
    wg_global *g = inst->globals[i];
    g->value = wg_eval_const(inst, &m->globals[i].init, &g->value_hi);
  }
  for (uint32_t i = 0; i < m->nmem_imports; i++) /* group only: the owner reset the memory */
    if (!copy_data(inst, i)) return reset_fail(err, "instance reset: a data segment does not fit");
  for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
    if (!reset_memory(inst, i)) return reset_fail(err, "instance reset: cannot reset a memory");
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
    wg_table *t = inst->tables[i];
    uint32_t min = m->tables[i].limits.min;
    if (t->size > min) {
      s->bytes -= (uint64_t)(t->size - min) * sizeof(wg_ref);
      t->size = min;
    }
    if (min) memset(t->elems, 0, (size_t)min * sizeof(wg_ref));
  }
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wg_elem *e = &m->elems[i];
    inst->elem_sizes[i] = e->mode == WG_SEG_PASSIVE ? e->count : 0;
    if (e->mode != WG_SEG_ACTIVE || !e->count) continue;
    wg_table *t = inst->tables[e->table];
    uint32_t d = wg_eval_const(inst, &e->offset, NULL).u32;
    if ((uint64_t)d + e->count > t->size) return reset_fail(err, "instance reset: an element segment does not fit");
    memcpy(t->elems + d, inst->elem_refs[i], (size_t)e->count * sizeof(wg_ref));
  }
  for (uint32_t i = 0; i < m->ndatas; i++) inst->data_dropped[i] = m->datas[i].mode == WG_SEG_ACTIVE;
  if (!m->has_start) return true;
  s->no_suspend++;
  wg_trap *t = wg_func_call(s, inst->funcs[m->start], NULL, 0, NULL, 0);
  s->no_suspend--;
  if (!t) return true;
  if (trap) *trap = t;
  else wg_trap_delete(t);
  return false;
}

bool wg_instance_reset(wg_instance *inst, wg_error **err, wg_trap **trap) {
  return reset_instance(inst, false, err, trap);
}

bool wg_instance_reset_group(wg_instance *inst, wg_error **err, wg_trap **trap) {
  return reset_instance(inst, true, err, trap);
}
