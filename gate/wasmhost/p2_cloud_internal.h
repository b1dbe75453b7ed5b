/*
 * p2_cloud_internal.h: what the cloud interfaces' files (p2_keyvalue*.c,
 * p2_config.c, p2_messaging.c, p2_dapr.c, p2_blobstore.c) share: the one way
 * a host function waits for a Dapr component (p2c_wait, below), and the
 * check of a host function's arguments against the types the host was
 * written for, for the functions still defined without types.
 *
 * wasi:keyvalue, wasi:config, wasi:messaging and dapr:runtime are defined
 * with their WIT types (wg_component_linker_define_func_typed): a
 * component whose import has another type is refused at instantiation, so
 * their host functions rely on their arguments' kinds. wasi:blobstore is
 * still untyped: a call's arguments are lifted by the *importing
 * component's* declaration of the function, which a hostile component may
 * write as it likes (a `name: u64` where a string is due), so its host
 * functions check the kinds of what they read first (p2c_args), and trap
 * otherwise.
 */
#ifndef WGG_WASMHOST_P2_CLOUD_INTERNAL_H
#define WGG_WASMHOST_P2_CLOUD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate_component.h"

struct uv_loop_s;
struct wgg_p2h_inst;

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

/* ---------------------------------------------------------------- parking on a backend answer
 *
 * The one way a cloud-interface host function (p2_keyvalue*.c, p2_config.c, p2_messaging.c,
 * p2_dapr.c) waits for a Dapr component (p2_cloud_wait.c). The host function allocates its
 * operation with a p2c_wait as its first member (p2c_wait_init), starts the building block's
 * asynchronous call on w->loop, and returns p2c_wait_end(w, results). The call's completion (on
 * that loop) stores what the result needs and calls p2c_wait_answer(w).
 *
 *  - In a hosted component app whose request runs on a loop (wgg_p2h_current: a store of
 *    app_p2http.c with a request that can be resumed), w->loop is that loop: an answer that
 *    comes later parks the guest (wgg_p2h_park) and resumes it with the result then
 *    (wgg_p2h_resume), so the loop serves other requests meanwhile.
 *  - Anywhere else (a command component of `wasm run`, a subscriber export, a store whose data
 *    is not a component app's), w->loop is NULL: the building blocks then run inline, blocking
 *    the calling thread (api.h wgg_api_submit), and the answer comes before p2c_wait_end.
 *  - When the request ends while the guest is parked (the caller's timeout, the instance
 *    discarded), the operation is detached: its answer, when it comes, only frees it.
 * result(w, r) builds the host function's one result (a trap on OOM: a parked guest is then
 * resumed with a value of no type, which traps it); destroy(w) frees the operation. */
typedef struct p2c_wait p2c_wait;
struct p2c_wait {
  struct wgg_p2h_inst *in; /* the guest that parks; NULL: no loop can resume it */
  struct uv_loop_s *loop;  /* where backend calls start (in's loop), or NULL: they run inline */
  int state;               /* starting, parked, detached (p2_cloud_wait.c) */
  bool answered;
  wg_trap *(*result)(p2c_wait *w, wg_cval *r);
  void (*destroy)(p2c_wait *w);
};

/* Sets w up for a call from the current host function (in and loop as above). */
void p2c_wait_init(p2c_wait *w, wg_trap *(*result)(p2c_wait *w, wg_cval *r), void (*destroy)(p2c_wait *w));

/* The host function's return once its backend call started: answered already, the result
 * (w destroyed); else the SUSPENDED trap that parks the guest; else (it cannot park: OOM, or
 * an inline call that did not complete) a trap, w detached. */
wg_trap *p2c_wait_end(p2c_wait *w, wg_cval *r);

/* Whether the request w's guest belongs to went away while it was parked: an operation of several
 * backend calls stops there (its answer would be dropped). */
bool p2c_wait_detached(const p2c_wait *w);

/* The backend answered (on w->loop): before p2c_wait_end nothing more happens; while parked,
 * the guest resumes with w's result; detached, w is destroyed. */
void p2c_wait_answer(p2c_wait *w);

#endif
