/*
 * p2_cloud_internal.h: what the cloud interfaces' files (p2_keyvalue.c,
 * p2_config.c, p2_messaging.c) share: the check of a host function's
 * arguments against the types the host was written for.
 *
 * The component linker defines host functions without types: a call's
 * arguments are lifted by the *importing component's* declaration of the
 * function, which a hostile component may write as it likes (a `key: u64`
 * where a string is due). Every host function therefore checks the kinds
 * of what it reads before reading it, and traps otherwise.
 */
#ifndef WGG_WASMHOST_P2_CLOUD_INTERNAL_H
#define WGG_WASMHOST_P2_CLOUD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate_component.h"

/* Whether v is a list<u8>: the engine lifts every list<u8> as BYTES (a view
 * of the guest's memory, wasmgate_component.h), never as a LIST. */
static inline bool p2c_is_bytes(const wg_cval *v) { return v->kind == WG_CVAL_BYTES; }

/* A list<u8> argument (p2c_is_bytes) copied into a malloc'd buffer with a
 * NUL after its *n bytes; NULL on OOM. The caller frees it. */
static inline char *p2c_bytes_dup(const wg_cval *v, size_t *n) {
  *n = v->of.bytes.len;
  char *b = malloc(*n + 1);
  if (!b) return NULL;
  if (*n) memcpy(b, v->of.bytes.ptr, *n);
  b[*n] = '\0';
  return b;
}

/* Whether v has the shape of code:
 *   h own or borrow handle   s string   l list<u8> (p2c_is_bytes)
 *   u u64   i s64   n u32
 *   S list<string>           P list<tuple<string, list<u8>>>   M list<tuple<string, string>>
 *   c option<u64>            C option<string>
 *   r record { string, list<u8>, option<string> } (wasmcloud:messaging's broker-message) */
static inline bool p2c_arg_ok(const wg_cval *v, char code) {
  switch (code) {
  case 'h': return v->kind == WG_CVAL_OWN || v->kind == WG_CVAL_BORROW;
  case 's': return v->kind == WG_CVAL_STRING;
  case 'l': return p2c_is_bytes(v);
  case 'u': return v->kind == WG_CVAL_U64;
  case 'i': return v->kind == WG_CVAL_S64;
  case 'n': return v->kind == WG_CVAL_U32;
  case 'S':
  case 'P':
  case 'M':
    if (v->kind != WG_CVAL_LIST) return false;
    for (size_t i = 0; i < v->of.seq.len; i++) {
      const wg_cval *e = &v->of.seq.ptr[i];
      if (code == 'S' ? e->kind != WG_CVAL_STRING
                      : e->kind != WG_CVAL_TUPLE || e->of.seq.len != 2 || e->of.seq.ptr[0].kind != WG_CVAL_STRING ||
                            !(code == 'P' ? p2c_is_bytes(&e->of.seq.ptr[1]) : e->of.seq.ptr[1].kind == WG_CVAL_STRING))
        return false;
    }
    return true;
  case 'c':
  case 'C':
    return v->kind == WG_CVAL_OPTION && (!v->of.var.disc || (v->of.var.val && p2c_arg_ok(v->of.var.val, code == 'c' ? 'u' : 's')));
  case 'r':
    return v->kind == WG_CVAL_RECORD && v->of.seq.len == 3 && p2c_arg_ok(&v->of.seq.ptr[0], 's') &&
           p2c_arg_ok(&v->of.seq.ptr[1], 'l') && p2c_arg_ok(&v->of.seq.ptr[2], 'C');
  default: return false;
  }
}

/* NULL when the na arguments a have the shapes of sig (one code each), else
 * a trap "IFACE: `NAME` is imported with the wrong type" (the call fails). */
static inline wg_trap *p2c_args(const wg_cval *a, size_t na, const char *sig, const char *iface, const char *name) {
  size_t n = 0;
  while (sig[n]) n++;
  bool ok = na == n;
  for (size_t i = 0; ok && i < n; i++) ok = p2c_arg_ok(&a[i], sig[i]);
  if (ok) return NULL;
  char msg[200];
  snprintf(msg, sizeof msg, "%s: `%s` is imported with the wrong type", iface, name);
  return wg_trap_new(WG_TRAP_HOST, msg);
}

#endif
