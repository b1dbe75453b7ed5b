/*
 * cm_component.c: the public component API (wasmgate_component.h):
 * wg_component_new/delete and the accessors.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"

wg_error *wg_error_from_diag(const wg_diag *d);

wg_binary_kind wg_binary_kind_of(const uint8_t *b, size_t len) {
  if (len < 8 || memcmp(b, "\0asm", 4)) return WG_BINARY_UNKNOWN;
  if (b[6] == 0x01 && b[7] == 0x00) return WG_BINARY_COMPONENT;
  if (b[6] == 0x00 && b[7] == 0x00) return WG_BINARY_MODULE;
  return WG_BINARY_UNKNOWN;
}

void wg_component_delete(wg_component *c) {
  if (!c) return;
  for (uint32_t i = 0; i < c->nmodules; i++) wg_module_delete(c->modules[i]);
  free(c->modules);
  free(c->sections);
  wg_arena_free(&c->arena);
  free(c->bytes);
  free(c);
}

wg_component *wg_component_new(const uint8_t *bytes, size_t len, wg_error **err) {
  if (err) *err = NULL;
  wg_diag diag = {0};
  wg_component *c = calloc(1, sizeof *c);
  if (c) c->bytes = malloc(len ? len : 1);
  if (!c || !c->bytes) {
    free(c);
    if (err) *err = wg_error_make(WG_ERROR_RESOURCE, SIZE_MAX, "out of memory");
    return NULL;
  }
  if (len) memcpy(c->bytes, bytes, len);
  c->len = len;
  static _Atomic uint64_t serial;
  c->id = atomic_fetch_add_explicit(&serial, 1, memory_order_relaxed) + 1;
  cm_ctx x = {.c = c, .diag = &diag, .base = c->bytes};
  wg_reader r = {.p = c->bytes, .end = c->bytes + len, .base = c->bytes, .diag = &diag, .eof_msg = "unexpected end-of-file"};
  if (!cm_decode_component(&x, &r, NULL, &c->type, true)) {
    if (err) *err = wg_error_from_diag(&diag);
    wg_component_delete(c);
    return NULL;
  }
  return c;
}

uint32_t wg_component_import_count(const wg_component *c) { return c->type->nimports; }
uint32_t wg_component_export_count(const wg_component *c) { return c->type->nexports; }

static wg_component_sort public_sort(cm_sort s) {
  switch (s) {
  case CS_FUNC: return WG_COMPONENT_FUNC;
  case CS_VALUE: return WG_COMPONENT_VALUE;
  case CS_TYPE: return WG_COMPONENT_TYPE;
  case CS_COMPONENT: return WG_COMPONENT_COMPONENT;
  case CS_INSTANCE: return WG_COMPONENT_INSTANCE;
  default: return WG_COMPONENT_CORE_MODULE;
  }
}

static bool describe(const cm_extern *e, wg_component_extern *out) {
  out->name = e->name;
  out->name_len = e->name_len;
  out->sort = public_sort(e->sort);
  return true;
}

bool wg_component_import(const wg_component *c, uint32_t i, wg_component_extern *out) {
  return i < c->type->nimports && describe(&c->type->imports[i], out);
}

bool wg_component_export(const wg_component *c, uint32_t i, wg_component_extern *out) {
  return i < c->type->nexports && describe(&c->type->exports[i], out);
}

bool wg_component_import_type_print(const wg_component *c, uint32_t i, FILE *out, int indent) {
  return i < c->type->nimports && cm_print_type(out, c->type->imports[i].type, indent, true);
}

bool wg_component_export_type_print(const wg_component *c, uint32_t i, FILE *out, int indent) {
  return i < c->type->nexports && cm_print_type(out, c->type->exports[i].type, indent, true);
}

uint32_t wg_component_core_module_count(const wg_component *c) { return c->nmodules; }

const wg_module *wg_component_core_module(const wg_component *c, uint32_t i) {
  return i < c->nmodules ? c->modules[i] : NULL;
}
