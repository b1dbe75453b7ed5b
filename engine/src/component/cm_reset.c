/*
 * cm_reset.c: returning a component instance to the state instantiation left
 * it in (wasmgate_component.h wg_component_instance_reset), so that an
 * embedder that gives every request a fresh instance (wasmtime serve's,
 * Spin's and wasmCloud's semantics for wasi:http components) reuses one
 * instead of instantiating the component again.
 *
 * What instantiation makes (Explainer.md "Instance Definitions",
 * CanonicalABI.md "Runtime State") and how each is undone:
 *  - core instances, in instantiation order: each is reset as
 *    wg_instance_reset does (reset.c, wg_instance_reset_group): the
 *    memories, tables and globals it defines, then its active segments
 *    (also those that write into memories and tables another core
 *    instance of the component defines: a fixup module's element segment
 *    filling the shim's table), then its start function;
 *  - component instances (frames): an empty handle table (a guest's owned
 *    and borrowed handles, its guest-defined resources: forgotten, as when
 *    the store is deleted; no destructor runs), may_enter and may_leave
 *    true, context.get's slot 0;
 *  - the top-level runtime: a call parked at a host function is abandoned
 *    (wg_component_func_abandon), no caller, no lowering in progress.
 * Unchanged (made once, the same for every instantiation of the component
 * with this linker): the index spaces, lifted and lowered functions,
 * resource types, exports.
 */
#include "cm_rt.h"
#include "../runtime.h"

static bool reset_fail(wg_error **err, const char *msg) {
  if (err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, msg);
  return false;
}

bool wg_component_instance_reset(wg_component_instance *inst, wg_error **err, wg_trap **trap) {
  if (err) *err = NULL;
  if (trap) *trap = NULL;
  cm_rt *rt = &inst->rt;
  if (rt->park.active) wg_component_func_abandon(rt->park.call.fn);
  if (rt->lift_depth || rt->in_lower || rt->caller)
    return reset_fail(err, "instance reset: the store is running a call");
  for (uint32_t i = 0; i < rt->nframes; i++) {
    cm_frame *f = rt->frames[i];
    f->may_enter = f->may_leave = true;
    f->context = 0;
    f->nhandles = 0;
    f->free_head = 0;
  }
  for (uint32_t i = 0; i < rt->ncores; i++)
    if (!wg_instance_reset_group(rt->cores[i], err, trap)) return false;
  return true;
}
