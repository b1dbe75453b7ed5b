/*
 * capi_vec.c: wasm.h's vectors (every wasm_*_vec_t: new_empty,
 * new_uninitialized, new, copy, delete) and wasm_val_t's copy and delete.
 *
 * Vectors of pointers own their elements: _new takes them over, _copy copies
 * each with wasm_NAME_copy, _delete deletes each. Byte vectors hold plain
 * bytes; value vectors own the references inside their values. Storage from
 * _new_uninitialized is zeroed (NULL pointers, i32 zero values), so deleting
 * a vector that was only partly filled is safe. On out of memory a vector
 * comes back empty (and _new deletes the elements it was given).
 */
#include <stdlib.h>
#include <string.h>

#include "capi.h"

/* Zeroed storage for `size` elements of `elem` bytes; empty on size 0 or OOM. */
static void *vec_alloc(size_t size, size_t elem, size_t *out_size) {
  void *p = size ? calloc(size, elem) : NULL;
  *out_size = p ? size : 0;
  return p;
}

#define VEC_COMMON(name)                                                                   \
  void wasm_##name##_vec_new_empty(wasm_##name##_vec_t *out) {                            \
    out->size = 0;                                                                         \
    out->data = NULL;                                                                      \
  }                                                                                        \
  void wasm_##name##_vec_new_uninitialized(wasm_##name##_vec_t *out, size_t size) {       \
    out->data = vec_alloc(size, sizeof *out->data, &out->size);                            \
  }

/* Vectors of owned pointers. */
#define PTR_VEC(name)                                                                                 \
  VEC_COMMON(name)                                                                                    \
  void wasm_##name##_vec_new(wasm_##name##_vec_t *out, size_t size, wasm_##name##_t *const data[]) { \
    wasm_##name##_vec_new_uninitialized(out, size);                                                   \
    if (out->size) memcpy(out->data, data, size * sizeof *out->data);                                 \
    else                                                                                              \
      for (size_t i = 0; i < size; i++) wasm_##name##_delete(data[i]);                                \
  }                                                                                                   \
  void wasm_##name##_vec_copy(wasm_##name##_vec_t *out, const wasm_##name##_vec_t *src) {             \
    wasm_##name##_vec_new_uninitialized(out, src->size);                                              \
    for (size_t i = 0; i < out->size; i++)                                                            \
      out->data[i] = src->data[i] ? wasm_##name##_copy(src->data[i]) : NULL;                          \
  }                                                                                                   \
  void wasm_##name##_vec_delete(wasm_##name##_vec_t *vec) {                                           \
    if (!vec) return;                                                                                 \
    for (size_t i = 0; i < vec->size; i++) wasm_##name##_delete(vec->data[i]);                        \
    free(vec->data);                                                                                  \
    vec->size = 0;                                                                                    \
    vec->data = NULL;                                                                                 \
  }

PTR_VEC(valtype)
PTR_VEC(functype)
PTR_VEC(globaltype)
PTR_VEC(tabletype)
PTR_VEC(memorytype)
PTR_VEC(externtype)
PTR_VEC(importtype)
PTR_VEC(exporttype)
PTR_VEC(frame)
PTR_VEC(extern)

/* Bytes. */
VEC_COMMON(byte)

void wasm_byte_vec_new(wasm_byte_vec_t *out, size_t size, const wasm_byte_t data[]) {
  wasm_byte_vec_new_uninitialized(out, size);
  if (out->size) memcpy(out->data, data, size);
}

void wasm_byte_vec_copy(wasm_byte_vec_t *out, const wasm_byte_vec_t *src) {
  wasm_byte_vec_new(out, src->size, src->data);
}

void wasm_byte_vec_delete(wasm_byte_vec_t *vec) {
  if (!vec) return;
  free(vec->data);
  vec->size = 0;
  vec->data = NULL;
}

/* Values. */
void wasm_val_delete(wasm_val_t *v) {
  if (!v) return;
  if (wasm_valkind_is_ref(v->kind) && v->of.ref) {
    wasm_ref_delete(v->of.ref);
    v->of.ref = NULL;
  }
}

void wasm_val_copy(wasm_val_t *out, const wasm_val_t *v) {
  *out = *v;
  if (wasm_valkind_is_ref(v->kind) && v->of.ref) out->of.ref = wasm_ref_copy(v->of.ref);
}

VEC_COMMON(val)

void wasm_val_vec_new(wasm_val_vec_t *out, size_t size, const wasm_val_t data[]) {
  wasm_val_vec_new_uninitialized(out, size);
  if (out->size) memcpy(out->data, data, size * sizeof *out->data);
  else
    for (size_t i = 0; i < size; i++)
      if (wasm_valkind_is_ref(data[i].kind) && data[i].of.ref) wasm_ref_delete(data[i].of.ref);
}

void wasm_val_vec_copy(wasm_val_vec_t *out, const wasm_val_vec_t *src) {
  wasm_val_vec_new_uninitialized(out, src->size);
  for (size_t i = 0; i < out->size; i++) wasm_val_copy(&out->data[i], &src->data[i]);
}

void wasm_val_vec_delete(wasm_val_vec_t *vec) {
  if (!vec) return;
  for (size_t i = 0; i < vec->size; i++) wasm_val_delete(&vec->data[i]);
  free(vec->data);
  vec->size = 0;
  vec->data = NULL;
}
