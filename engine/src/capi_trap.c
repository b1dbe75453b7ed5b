/*
 * capi_trap.c: wasm.h's traps and frames. A trap holds its message (always
 * NUL-terminated) and the wasm frames the engine recorded
 * (wg_trap_frame_info): instance, function index and instruction offsets of
 * each, innermost first.
 */
#include <stdlib.h>
#include <string.h>

#include "capi.h"

wasm_trap_t *capi_trap_make(const char *msg, size_t len) {
  capi_trap *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  bool has_nul = len && msg[len - 1] == '\0';
  t->len = has_nul ? len : len + 1;
  t->msg = malloc(t->len);
  if (!t->msg) {
    free(t);
    return NULL;
  }
  if (len) memcpy(t->msg, msg, len);
  t->msg[t->len - 1] = '\0';
  return (wasm_trap_t *)capi_counted_new(CAPI_TRAP, t);
}

static capi_trap *body(const wasm_trap_t *t) { return ((const wasm_ref_t *)t)->obj->native; }

wasm_trap_t *capi_trap_from_wg(wasm_store_t *st, wg_trap *wt) {
  const char *msg = wg_trap_message(wt);
  wasm_trap_t *t = capi_trap_make(msg, strlen(msg) + 1);
  size_t n = wg_trap_frame_count(wt);
  capi_trap *b = t ? body(t) : NULL;
  if (b && n && (b->frames = calloc(n, sizeof *b->frames))) {
    for (size_t i = 0; i < n; i++) {
      wg_trap_frame_info fi;
      wg_trap_frame(wt, i, &fi);
      /* Without memory for the instance's record the frame has no instance. */
      b->frames[i] = (capi_frame_rec){fi.instance ? capi_obj_of(st, CAPI_INSTANCE, fi.instance) : NULL, fi.func_index, fi.func_offset,
                                      fi.module_offset};
    }
    b->nframes = n;
  }
  wg_trap_delete(wt);
  return t;
}

wg_trap *capi_trap_to_wg(wasm_trap_t *t) {
  const capi_trap *b = body(t);
  wg_trap *wt = wg_trap_new(WG_TRAP_HOST, b->msg);
  /* A trap from a nested wasm_func_call keeps its frames (best effort). */
  for (size_t i = 0; wt && i < b->nframes; i++) {
    const capi_frame_rec *r = &b->frames[i];
    wg_trap_frame_info fi = {r->instance ? r->instance->native : NULL, r->func_index, r->func_offset,
                             r->module_offset};
    if (!wg_trap_append_frame(wt, &fi)) break;
  }
  wasm_trap_delete(t);
  return wt;
}

wasm_trap_t *wasm_trap_new(wasm_store_t *st, const wasm_message_t *msg) {
  (void)st;
  return capi_trap_make(msg->data, msg->size);
}

void wasm_trap_message(const wasm_trap_t *t, wasm_message_t *out) {
  wasm_byte_vec_new(out, body(t)->len, body(t)->msg);
}

static wasm_frame_t *frame_new(wasm_instance_t *inst, const capi_frame_rec *r) {
  wasm_frame_t *f = malloc(sizeof *f);
  if (!f) {
    wasm_instance_delete(inst);
    return NULL;
  }
  *f = (wasm_frame_t){inst, r->func_index, r->func_offset, r->module_offset};
  return f;
}

static wasm_frame_t *frame_of(const capi_frame_rec *r) {
  wasm_instance_t *inst = r->instance ? (wasm_instance_t *)capi_handle_new(r->instance) : NULL;
  return frame_new(inst, r);
}

wasm_frame_t *wasm_trap_origin(const wasm_trap_t *t) {
  const capi_trap *b = body(t);
  return b->nframes ? frame_of(&b->frames[0]) : NULL;
}

void wasm_trap_trace(const wasm_trap_t *t, wasm_frame_vec_t *out) {
  const capi_trap *b = body(t);
  wasm_frame_vec_new_uninitialized(out, b->nframes);
  for (size_t i = 0; i < out->size; i++) out->data[i] = frame_of(&b->frames[i]);
}

void wasm_frame_delete(wasm_frame_t *f) {
  if (!f) return;
  wasm_instance_delete(f->instance);
  free(f);
}

wasm_frame_t *wasm_frame_copy(const wasm_frame_t *f) {
  capi_frame_rec r = {NULL, f->func_index, f->func_offset, f->module_offset};
  return frame_new(f->instance ? wasm_instance_copy(f->instance) : NULL, &r);
}

wasm_instance_t *wasm_frame_instance(const wasm_frame_t *f) { return f->instance; }
uint32_t wasm_frame_func_index(const wasm_frame_t *f) { return f->func_index; }
size_t wasm_frame_func_offset(const wasm_frame_t *f) { return f->func_offset; }
size_t wasm_frame_module_offset(const wasm_frame_t *f) { return f->module_offset; }
