/*
 * p2http_outgoing.c: the outgoing side of wasi:http 0.2.x
 * (WebAssembly/wasi-http wit/types.wit, handler.wit): outgoing-request and
 * request-options as objects the guest builds, incoming-response and
 * future-incoming-response, http-error-code, and
 * wasi:http/outgoing-handler.handle, which denies every request
 * (error-code.HTTP-request-denied: no outbound host is allowed yet; the
 * convention for other app IDs is documented in docs/wasm-apps.md 2.3).
 */
#include <stdlib.h>
#include <string.h>

#include "wasmhost/p2http_internal.h"

/* ------------------------------------------------------------ outgoing-request, request-options */

static wg_trap *oreq_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  uint32_t rep;
  if (!in) return p2h_bad("wasi:http: no request context");
  p2h_obj *o = p2h_obj_new(in, K_OUTREQ, &rep);
  if (!o || !(o->method = strdup("GET"))) return p2h_oom();
  if (!p2h_take_fields(in, o, &a[0])) return p2h_bad("wasi:http: not a fields handle");
  return p2h_own(in, R_OUTREQ, rep, r);
}
static wg_trap *oreq_body(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return p2h_body_of(in, o, r);
}
static wg_trap *oreq_method(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return p2h_method_val(r, o->method);
}
static wg_trap *oreq_set_method(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  char *m = p2h_method_text(&a[1]);
  if (!m) return p2h_oom();
  for (char *c = m; *c; c++)
    if (!p2h_token_char((unsigned char)*c)) {
      free(m);
      return p2h_err_unit(r);
    }
  free(o->method);
  o->method = m;
  return p2h_ok_unit(r);
}
/* the option<string> setters: path-with-query, authority */
static wg_trap *set_opt(char **field, bool *has, const wg_cval *v, wg_cval *r) {
  char *s = NULL;
  if (v->of.var.disc && !(s = p2h_cstr(v->of.var.val))) return p2h_oom();
  free(*field);
  *field = s;
  *has = v->of.var.disc;
  return p2h_ok_unit(r);
}
static wg_trap *oreq_path(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return p2h_opt_string(r, o->has_path, o->path);
}
static wg_trap *oreq_set_path(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return set_opt(&o->path, &o->has_path, &a[1], r);
}
static wg_trap *oreq_scheme(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return p2h_scheme_val(r, o);
}
static wg_trap *oreq_set_scheme(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  char *s = NULL;
  if (a[1].of.var.disc) {
    const wg_cval *sv = a[1].of.var.val;
    s = sv->of.var.disc == 0 ? strdup("http") : sv->of.var.disc == 1 ? strdup("https") : p2h_cstr(sv->of.var.val);
    if (!s) return p2h_oom();
  }
  free(o->scheme);
  o->scheme = s;
  o->has_scheme = a[1].of.var.disc;
  return p2h_ok_unit(r);
}
static wg_trap *oreq_authority(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return p2h_opt_string(r, o->has_authority, o->authority);
}
static wg_trap *oreq_set_authority(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return set_opt(&o->authority, &o->has_authority, &a[1], r);
}
static wg_trap *oreq_headers(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTREQ);
  return p2h_headers_of(in, o, false, r);
}

static wg_trap *opt_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  uint32_t rep;
  if (!in) return p2h_bad("wasi:http: no request context");
  return p2h_obj_new(in, K_OPTIONS, &rep) ? p2h_own(in, R_OPTIONS, rep, r) : p2h_oom();
}
/* the three timeouts: get returns option<duration>, set takes one */
static wg_trap *opt_get(const wg_cval *a, wg_cval *r, int which) {
  p2h_obj *o = p2h_self(a, K_OPTIONS);
  if (!o) return p2h_bad("wasi:http: handle of the wrong kind");
  r->kind = WG_CVAL_OPTION;
  if (!o->has_timeout[which]) return NULL;
  r->of.var.disc = 1;
  r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_U64, .of.u = o->timeouts[which]});
  return r->of.var.val ? NULL : p2h_oom();
}
static wg_trap *opt_set(const wg_cval *a, wg_cval *r, int which) {
  p2h_obj *o = p2h_self(a, K_OPTIONS);
  if (!o) return p2h_bad("wasi:http: handle of the wrong kind");
  o->has_timeout[which] = a[1].of.var.disc;
  o->timeouts[which] = a[1].of.var.disc ? a[1].of.var.val->of.u : 0;
  return p2h_ok_unit(r);
}
#define OPT_FN(n, i)                                                                                           \
  static wg_trap *opt_get_##n(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {                 \
    (void)env, (void)na, (void)nr;                                                                           \
    return opt_get(a, r, i);                                                                                 \
  }                                                                                                          \
  static wg_trap *opt_set_##n(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {                 \
    (void)env, (void)na, (void)nr;                                                                           \
    return opt_set(a, r, i);                                                                                 \
  }
OPT_FN(connect, 0)
OPT_FN(first_byte, 1)
OPT_FN(between_bytes, 2)

/* ------------------------------------------------------------ incoming-response, future-incoming-response */

static wg_trap *iresp_status(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INRESP);
  *r = (wg_cval){.kind = WG_CVAL_U16, .of.u = (uint64_t)o->status};
  return NULL;
}
static wg_trap *iresp_headers(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INRESP);
  return p2h_headers_of(in, o, true, r);
}
static wg_trap *iresp_consume(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INRESP);
  return p2h_consume(in, o, r);
}
/* get: some(ok(err(error-code))) once (the request was refused), some(err) after */
static wg_trap *fresp_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_FUTRESP);
  r->kind = WG_CVAL_OPTION;
  r->of.var.disc = 1;
  if (o->finished) return (r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, NULL}})) ? NULL : p2h_oom();
  o->finished = true;
  wg_cval *ec = p2h_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {(uint32_t)o->status, NULL}});
  wg_cval *inner = ec ? p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, ec}}) : NULL;
  if (!inner) return p2h_oom();
  r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, inner}});
  return r->of.var.val ? NULL : p2h_oom();
}

/* http-error-code(borrow<io-error>) -> option<error-code>: body streams fail with no HTTP error */
static wg_trap *http_error_code(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  *r = (wg_cval){.kind = WG_CVAL_OPTION};
  return NULL;
}

/* outgoing-handler.handle(request, option<request-options>) -> result<future-incoming-response,
 * error-code>: every host is denied (no allow-list yet). */
static wg_trap *outgoing_handle(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr, (void)a;
  return p2h_result(r, true, p2h_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {EC_HTTP_REQUEST_DENIED, NULL}}), true);
}

const p2h_func p2h_outgoing_funcs[] = {
    {TYPES, "[constructor]outgoing-request", oreq_new,
     "func(headers: headers) -> outgoing-request"},
    {TYPES, "[method]outgoing-request.body", oreq_body,
     "func(self: borrow<outgoing-request>) -> result<outgoing-body>"},
    {TYPES, "[method]outgoing-request.method", oreq_method,
     "func(self: borrow<outgoing-request>) -> method"},
    {TYPES, "[method]outgoing-request.set-method", oreq_set_method,
     "func(self: borrow<outgoing-request>, method: method) -> result"},
    {TYPES, "[method]outgoing-request.path-with-query", oreq_path,
     "func(self: borrow<outgoing-request>) -> option<string>"},
    {TYPES, "[method]outgoing-request.set-path-with-query", oreq_set_path,
     "func(self: borrow<outgoing-request>, path-with-query: option<string>) -> result"},
    {TYPES, "[method]outgoing-request.scheme", oreq_scheme,
     "func(self: borrow<outgoing-request>) -> option<scheme>"},
    {TYPES, "[method]outgoing-request.set-scheme", oreq_set_scheme,
     "func(self: borrow<outgoing-request>, scheme: option<scheme>) -> result"},
    {TYPES, "[method]outgoing-request.authority", oreq_authority,
     "func(self: borrow<outgoing-request>) -> option<string>"},
    {TYPES, "[method]outgoing-request.set-authority", oreq_set_authority,
     "func(self: borrow<outgoing-request>, authority: option<string>) -> result"},
    {TYPES, "[method]outgoing-request.headers", oreq_headers,
     "func(self: borrow<outgoing-request>) -> headers"},
    {TYPES, "[constructor]request-options", opt_new,
     "func() -> request-options"},
    {TYPES, "[method]request-options.connect-timeout", opt_get_connect,
     "func(self: borrow<request-options>) -> option<duration>"},
    {TYPES, "[method]request-options.set-connect-timeout", opt_set_connect,
     "func(self: borrow<request-options>, duration: option<duration>) -> result"},
    {TYPES, "[method]request-options.first-byte-timeout", opt_get_first_byte,
     "func(self: borrow<request-options>) -> option<duration>"},
    {TYPES, "[method]request-options.set-first-byte-timeout", opt_set_first_byte,
     "func(self: borrow<request-options>, duration: option<duration>) -> result"},
    {TYPES, "[method]request-options.between-bytes-timeout", opt_get_between_bytes,
     "func(self: borrow<request-options>) -> option<duration>"},
    {TYPES, "[method]request-options.set-between-bytes-timeout", opt_set_between_bytes,
     "func(self: borrow<request-options>, duration: option<duration>) -> result"},
    {TYPES, "[method]incoming-response.status", iresp_status,
     "func(self: borrow<incoming-response>) -> status-code"},
    {TYPES, "[method]incoming-response.headers", iresp_headers,
     "func(self: borrow<incoming-response>) -> headers"},
    {TYPES, "[method]incoming-response.consume", iresp_consume,
     "func(self: borrow<incoming-response>) -> result<incoming-body>"},
    {TYPES, "[method]future-incoming-response.get", fresp_get,
     "func(self: borrow<future-incoming-response>) -> option<result<result<incoming-response, error-code>>>"},
    {TYPES, "http-error-code", http_error_code,
     "func(err: borrow<io-error>) -> option<error-code>"},
    {"wasi:http/outgoing-handler" V, "handle", outgoing_handle,
     "func(request: wasi:http/types" V "#outgoing-request, options: option<wasi:http/types" V "#request-options>) -> result<wasi:http/types" V "#future-incoming-response, wasi:http/types" V "#error-code>"},
};
const size_t p2h_outgoing_nfuncs = sizeof p2h_outgoing_funcs / sizeof *p2h_outgoing_funcs;
