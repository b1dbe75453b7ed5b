/*
 * trap.c: trap objects (spec 4.4.1: the result of a trapping execution):
 * a code, the spec's message and a wasm backtrace built from the
 * interpreter's frame stack with names from the "name" section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

struct wg_trap {
  wg_trap_code code;
  char *message;
  char *backtrace;
  wg_trap_frame_info *frames; /* innermost first */
  size_t nframes;
  wg_exn *exn; /* WG_TRAP_EXCEPTION: the exception (the store's) */
};

wg_exn *wg_trap_exn(const wg_trap *t) { return t ? t->exn : NULL; }
void wg_trap_set_exn(wg_trap *t, wg_exn *e) { t->exn = e; }

const char *wg_trap_code_message(wg_trap_code code) {
  switch (code) {
    case WG_TRAP_UNREACHABLE: return "unreachable";
    case WG_TRAP_MEMORY_OUT_OF_BOUNDS: return "out of bounds memory access";
    case WG_TRAP_TABLE_OUT_OF_BOUNDS: return "out of bounds table access";
    case WG_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case WG_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case WG_TRAP_INDIRECT_CALL_TYPE: return "indirect call type mismatch";
    case WG_TRAP_INT_DIV_BY_ZERO: return "integer divide by zero";
    case WG_TRAP_INT_OVERFLOW: return "integer overflow";
    case WG_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WG_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WG_TRAP_OUT_OF_FUEL: return "all fuel consumed";
    case WG_TRAP_INTERRUPTED: return "interrupted";
    case WG_TRAP_HOST: return "host trap";
    case WG_TRAP_UNSUPPORTED: return "unsupported";
    case WG_TRAP_RESOURCE: return "out of memory";
    case WG_TRAP_SUSPENDED: return "suspended";
    case WG_TRAP_YIELDED: return "yielded";
    case WG_TRAP_EXCEPTION: return "uncaught exception";
    case WG_TRAP_NULL_EXNREF: return "null exception reference";
  }
  return "trap";
}

static wg_trap *trap_make(wg_trap_code code, const char *message, char *backtrace) {
  wg_trap *t = malloc(sizeof *t);
  if (!t) {
    free(backtrace);
    return NULL;
  }
  t->code = code;
  t->frames = NULL;
  t->nframes = 0;
  t->exn = NULL;
  t->message = strdup(message ? message : wg_trap_code_message(code));
  t->backtrace = backtrace ? backtrace : strdup("");
  if (!t->message || !t->backtrace) {
    wg_trap_delete(t);
    return NULL;
  }
  return t;
}

wg_trap *wg_trap_new(wg_trap_code code, const char *message) { return trap_make(code, message, NULL); }

wg_trap *wg_trap_at(wg_store *s, wg_trap_code code, const char *message, uint32_t depth_base, const wg_cell *pc) {
  char *bt = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&bt, &len);
  if (out) {
    /* Innermost first; at most 64 frames so a deep recursion stays readable. */
    uint32_t shown = 0;
    for (uint32_t d = s->depth; d > depth_base && shown < 64; d--, shown++) {
      const wg_func *f = s->frames[d].func;
      if (!f) continue;
      if (!f->inst) {
        fprintf(out, "  at <host function>\n");
        continue;
      }
      const char *name = wg_module_func_name(f->inst->module, f->index);
      if (name) fprintf(out, "  at %s (func[%u])\n", name, f->index);
      else fprintf(out, "  at func[%u]\n", f->index);
    }
    if (s->depth - depth_base > shown) fprintf(out, "  ... %u more frames\n", s->depth - depth_base - shown);
    fclose(out);
  }
  wg_trap *t = trap_make(code, message, bt);
  if (t) wg_trap_add_frames(s, t, depth_base, pc);
  return t;
}

void wg_trap_add_frames(wg_store *s, wg_trap *t, uint32_t depth_base, const wg_cell *pc) {
  if (s->depth <= depth_base) return;
  wg_trap_frame_info *fr = realloc(t->frames, (t->nframes + (s->depth - depth_base)) * sizeof *fr);
  if (!fr) return;
  t->frames = fr;
  for (uint32_t d = s->depth; d > depth_base; d--) {
    const wg_func *f = s->frames[d].func;
    /* Where this frame is: the innermost at pc, the others at their call. */
    const wg_cell *at = d == s->depth ? pc : s->frames[d + 1].ret_pc;
    if (!f || !f->inst) continue;
    const wg_module *m = f->inst->module;
    size_t body = f->index >= m->nfunc_imports ? m->funcs[f->index].body.offset : 0;
    const wg_code *code = f->index >= m->nfunc_imports ? wg_compile_func(m, f->index, NULL) : NULL;
    size_t off = code && at ? wg_code_offset(code, at) : SIZE_MAX;
    if (off == SIZE_MAX || off < body) off = body;
    t->frames[t->nframes++] = (wg_trap_frame_info){f->inst, f->index, off - body, off};
  }
}

bool wg_trap_append_frame(wg_trap *t, const wg_trap_frame_info *frame) {
  wg_trap_frame_info *fr = realloc(t->frames, (t->nframes + 1) * sizeof *fr);
  if (!fr) return false;
  t->frames = fr;
  t->frames[t->nframes++] = *frame;
  return true;
}

size_t wg_trap_frame_count(const wg_trap *t) { return t->nframes; }

bool wg_trap_frame(const wg_trap *t, size_t i, wg_trap_frame_info *out) {
  if (i >= t->nframes) return false;
  *out = t->frames[i];
  return true;
}

wg_trap_code wg_trap_code_of(const wg_trap *t) { return t->code; }
const char *wg_trap_message(const wg_trap *t) { return t->message; }
const char *wg_trap_backtrace(const wg_trap *t) { return t->backtrace; }

void wg_trap_delete(wg_trap *t) {
  if (!t) return;
  free(t->message);
  free(t->backtrace);
  free(t->frames);
  free(t);
}
