/*
 * p2http_types.c: wasi:http/types 0.2.x (WebAssembly/wasi-http
 * wit/types.wit) for component wasm apps (p2http.h): fields, incoming
 * requests and bodies, future-trailers, outgoing responses and bodies,
 * response-outparam, the definitions of the linker and the request/answer
 * of one call; the outgoing side is in p2http_outgoing.c. Host objects of one request live in the store's
 * wgg_p2h_inst; a handle's rep is its index + 1 there, and every method
 * checks the object's kind, so a handle kept past its request (a pooled
 * instance) is refused rather than misread.
 *
 * Semantics follow wasmtime-wasi-http where the WIT leaves a choice: field
 * names are case-insensitive (stored lower-cased) and must be HTTP tokens,
 * values may not hold CR, LF or NUL (header-error.invalid-syntax); the
 * headers of an incoming request are immutable (header-error.immutable);
 * a body's stream can be taken once; a request's or response's body once.
 * Bodies as wasi:io streams, streamed or buffered, are in p2http_body.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wasmhost/p2http_internal.h"

static const char *const res_names[R_COUNT] = {"fields", "incoming-request", "outgoing-request", "request-options",
                                               "response-outparam", "incoming-response", "incoming-body",
                                               "future-trailers", "outgoing-response", "outgoing-body",
                                               "future-incoming-response"};

wg_trap *p2h_oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }
wg_trap *p2h_bad(const char *what) { return wg_trap_new(WG_TRAP_HOST, what); }

const char wgg_p2h_store_tag[] = "wgg_p2h_inst";

wgg_p2h_inst *p2h_cur(void) {
  wg_store *s = wg_component_host_store();
  return s ? wg_store_data_tagged(s, wgg_p2h_store_tag) : NULL;
}

wgg_p2h_inst *wgg_p2h_current(void) { return p2h_cur(); }

p2h_obj *p2h_obj_new(wgg_p2h_inst *in, uint8_t kind, uint32_t *rep) {
  if (in->nobjs == in->capobjs) {
    uint32_t cap = in->capobjs ? in->capobjs * 2 : 16;
    if (cap > (1u << 20)) return NULL;
    p2h_obj **v = realloc(in->objs, cap * sizeof *v);
    if (!v) return NULL;
    in->objs = v;
    in->capobjs = cap;
  }
  p2h_obj *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->kind = kind;
  o->inst = in;
  in->objs[in->nobjs++] = o;
  *rep = in->nobjs;
  return o;
}

p2h_obj *p2h_get(wgg_p2h_inst *in, uint32_t rep, uint8_t kind) {
  if (!in || !rep || rep > in->nobjs) return NULL;
  p2h_obj *o = in->objs[rep - 1];
  return o && o->kind == kind ? o : NULL;
}

void p2h_obj_free(p2h_obj *o) {
  if (!o) return;
  if (o->own_h && o->h) {
    wgg_hdrs_free(o->h);
    free(o->h);
  }
  free(o->method);
  free(o->path);
  free(o->scheme);
  free(o->authority);
  free(o->ec_msg);
  wgg_buf_free(&o->data);
  free(o);
}

/* The streaming state of a request, back to "buffered, nothing set". */
static void p2h_stream_state_clear(wgg_p2h_inst *in) {
  wgg_buf_free(&in->in_buf);
  in->in_off = 0;
  in->in_live = in->in_ended = in->in_failed = false;
  in->io = NULL;
  in->io_user = NULL;
  in->out_mode = 0;
  in->out_full = in->out_failed = in->out_ended = false;
  in->out_length = -1;
  in->out_written = 0;
}

void wgg_p2h_reset(wgg_p2h_inst *in) {
  for (uint32_t i = 0; i < in->nobjs; i++) {
    p2h_obj *o = in->objs[i];
    if (!o) continue;
    if (o->streams) o->stale = true; /* the stream's drop frees it */
    else p2h_obj_free(o);
  }
  in->nobjs = 0;
  in->answered = false;
  in->response = 0;
  in->error[0] = 0;
  p2h_stream_state_clear(in);
}

/* ------------------------------------------------------------ values */

wg_cval *p2h_box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}
wg_trap *p2h_own(const wgg_p2h_inst *in, int r, uint32_t rep, wg_cval *out) {
  *out = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, in->types->r[r]}};
  return NULL;
}
/* result<T> / result<_, E>: ok (payload may be NULL) or err (payload may be NULL) */
wg_trap *p2h_result(wg_cval *out, bool err, wg_cval *payload, bool boxed) {
  out->kind = WG_CVAL_RESULT;
  out->of.var.disc = err;
  if (boxed) {
    if (!payload) return p2h_oom();
    out->of.var.val = payload;
  }
  return NULL;
}
wg_trap *p2h_ok_unit(wg_cval *out) { return p2h_result(out, false, NULL, false); }
wg_trap *p2h_err_unit(wg_cval *out) { return p2h_result(out, true, NULL, false); }
/* result<_, header-error> with header-error case c (0 invalid-syntax, 1 forbidden, 2 immutable) */
static wg_trap *header_err(wg_cval *out, uint32_t c) {
  return p2h_result(out, true, p2h_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {c, NULL}}), true);
}
wg_trap *p2h_opt_string(wg_cval *out, bool some, const char *s) {
  out->kind = WG_CVAL_OPTION;
  if (!some) return NULL;
  out->of.var.disc = 1;
  wg_cval *v = wg_cval_array(1);
  if (!v || !wg_cval_string(v, s, strlen(s))) {
    free(v);
    return p2h_oom();
  }
  out->of.var.val = v;
  return NULL;
}
static wg_trap *bytes(wg_cval *out, const char *p, size_t n) {
  out->kind = WG_CVAL_LIST;
  if (!(out->of.seq.ptr = wg_cval_array(n ? n : 1))) return p2h_oom();
  out->of.seq.len = n;
  for (size_t i = 0; i < n; i++) out->of.seq.ptr[i] = (wg_cval){.kind = WG_CVAL_U8, .of.u = (uint8_t)p[i]};
  return NULL;
}
/* A string argument as a NUL-terminated copy (NULL on OOM). */
char *p2h_cstr(const wg_cval *v) {
  char *s = malloc(v->of.str.len + 1);
  if (s) {
    memcpy(s, v->of.str.ptr, v->of.str.len);
    s[v->of.str.len] = 0;
  }
  return s;
}

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

wg_trap *p2h_method_val(wg_cval *out, const char *m) {
  for (uint32_t i = 0; i < 9; i++)
    if (!strcmp(m, methods[i])) {
      *out = (wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {i, NULL}};
      return NULL;
    }
  wg_cval *s = wg_cval_array(1);
  if (!s || !wg_cval_string(s, m, strlen(m))) {
    free(s);
    return p2h_oom();
  }
  *out = (wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {9, s}};
  return NULL;
}
char *p2h_method_text(const wg_cval *v) {
  if (v->of.var.disc < 9) return strdup(methods[v->of.var.disc]);
  return v->of.var.val ? p2h_cstr(v->of.var.val) : NULL;
}

/* ------------------------------------------------------------ fields */

bool p2h_token_char(unsigned char c) {
  return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}
static bool valid_name(const wg_cval *n) {
  if (!n->of.str.len) return false;
  for (size_t i = 0; i < n->of.str.len; i++)
    if (!p2h_token_char((unsigned char)n->of.str.ptr[i])) return false;
  return true;
}
/* A field-value (list<u8>, typed): BYTES, as the engine lifts every list<u8>. */
static bool valid_value(const wg_cval *v) {
  for (size_t i = 0; i < v->of.bytes.len; i++) {
    uint8_t c = v->of.bytes.ptr[i];
    if (c == 0 || c == '\r' || c == '\n') return false;
  }
  return true;
}
/* Headers a guest may not set (wasmtime-wasi-http's forbidden list: hop-by-hop fields). */
static bool forbidden(const char *n, size_t len) {
  static const char *const f[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                                  "host", "http2-settings"};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    if (strlen(f[i]) == len && !strncasecmp(n, f[i], len)) return true;
  return false;
}

static int add_field(wgg_hdrs *h, const char *name, size_t nl, const wg_cval *val) {
  size_t vl = val->of.bytes.len; /* a field-value: BYTES */
  char lname[256], *vb = malloc(vl + 1);
  if (!vb || nl >= sizeof lname) {
    free(vb);
    return -1;
  }
  for (size_t i = 0; i < nl; i++) lname[i] = (char)tolower((unsigned char)name[i]);
  if (vl) memcpy(vb, val->of.bytes.ptr, vl);
  int rc = wgg_hdrs_add(h, lname, nl, vb, vl);
  free(vb);
  return rc;
}

static p2h_obj *fields_new(wgg_p2h_inst *in, wgg_hdrs *share, bool immutable, uint32_t *rep) {
  p2h_obj *o = p2h_obj_new(in, K_FIELDS, rep);
  if (!o) return NULL;
  o->immutable = immutable;
  if (share) {
    o->h = share;
  } else if ((o->h = calloc(1, sizeof *o->h))) {
    o->own_h = true;
  } else {
    return NULL;
  }
  return o;
}

static wg_trap *f_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  uint32_t rep;
  if (!in) return p2h_bad("wasi:http: no request context");
  return fields_new(in, NULL, false, &rep) ? p2h_own(in, R_FIELDS, rep, r) : p2h_oom();
}

/* from-list(list<tuple<field-name, field-value>>) -> result<fields, header-error> */
static wg_trap *f_from_list(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  uint32_t rep;
  if (!in) return p2h_bad("wasi:http: no request context");
  for (size_t i = 0; i < a[0].of.seq.len; i++) {
    const wg_cval *t = a[0].of.seq.ptr[i].of.seq.ptr;
    if (!valid_name(&t[0]) || !valid_value(&t[1])) return header_err(r, 0);
    if (forbidden(t[0].of.str.ptr, t[0].of.str.len)) return header_err(r, 1);
  }
  p2h_obj *o = fields_new(in, NULL, false, &rep);
  if (!o) return p2h_oom();
  for (size_t i = 0; i < a[0].of.seq.len; i++) {
    const wg_cval *t = a[0].of.seq.ptr[i].of.seq.ptr;
    if (add_field(o->h, t[0].of.str.ptr, t[0].of.str.len, &t[1])) return p2h_oom();
  }
  wg_cval v;
  p2h_own(in, R_FIELDS, rep, &v);
  return p2h_result(r, false, p2h_box(v), true);
}

static p2h_obj *self_fields(const wg_cval *a) { return p2h_get(p2h_cur(), a[0].of.handle.rep, K_FIELDS); }

static bool name_is(const wgg_hdr *h, const wg_cval *n) {
  return strlen(h->name) == n->of.str.len && !strncasecmp(h->name, n->of.str.ptr, n->of.str.len);
}

static wg_trap *f_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  p2h_obj *o = self_fields(a);
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  size_t k = 0;
  for (size_t i = 0; i < o->h->n; i++) k += name_is(&o->h->v[i], &a[1]);
  r->kind = WG_CVAL_LIST;
  if (!(r->of.seq.ptr = wg_cval_array(k ? k : 1))) return p2h_oom();
  for (size_t i = 0; i < o->h->n; i++)
    if (name_is(&o->h->v[i], &a[1]) &&
        bytes(&r->of.seq.ptr[r->of.seq.len++], o->h->v[i].value, strlen(o->h->v[i].value)))
      return p2h_oom();
  return NULL;
}

static wg_trap *f_has(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  p2h_obj *o = self_fields(a);
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  bool has = false;
  for (size_t i = 0; i < o->h->n && !has; i++) has = name_is(&o->h->v[i], &a[1]);
  *r = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = has};
  return NULL;
}

/* The checks of set, append and delete: 0 ok, else header-error case + 1. */
static int mutable_check(p2h_obj *o, const wg_cval *name) {
  if (!valid_name(name)) return 1;
  if (o->immutable) return 3;
  if (forbidden(name->of.str.ptr, name->of.str.len)) return 2;
  return 0;
}

static wg_trap *f_set(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  p2h_obj *o = self_fields(a);
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  int c = mutable_check(o, &a[1]);
  for (size_t i = 0; !c && i < a[2].of.seq.len; i++)
    if (!valid_value(&a[2].of.seq.ptr[i])) c = 1;
  if (c) return header_err(r, (uint32_t)c - 1);
  wgg_hdrs_remove(o->h, a[1].of.str.ptr, a[1].of.str.len);
  for (size_t i = 0; i < a[2].of.seq.len; i++)
    if (add_field(o->h, a[1].of.str.ptr, a[1].of.str.len, &a[2].of.seq.ptr[i])) return p2h_oom();
  return p2h_ok_unit(r);
}

static wg_trap *f_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  p2h_obj *o = self_fields(a);
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  int c = mutable_check(o, &a[1]);
  if (c) return header_err(r, (uint32_t)c - 1);
  wgg_hdrs_remove(o->h, a[1].of.str.ptr, a[1].of.str.len);
  return p2h_ok_unit(r);
}

static wg_trap *f_append(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  p2h_obj *o = self_fields(a);
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  int c = mutable_check(o, &a[1]);
  if (!c && !valid_value(&a[2])) c = 1;
  if (c) return header_err(r, (uint32_t)c - 1);
  if (add_field(o->h, a[1].of.str.ptr, a[1].of.str.len, &a[2])) return p2h_oom();
  return p2h_ok_unit(r);
}

static wg_trap *f_entries(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  p2h_obj *o = self_fields(a);
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  r->kind = WG_CVAL_LIST;
  if (!(r->of.seq.ptr = wg_cval_array(o->h->n ? o->h->n : 1))) return p2h_oom();
  for (size_t i = 0; i < o->h->n; i++) {
    wg_cval *t = &r->of.seq.ptr[r->of.seq.len++];
    t->kind = WG_CVAL_TUPLE;
    if (!(t->of.seq.ptr = wg_cval_array(2))) return p2h_oom();
    t->of.seq.len = 2;
    if (!wg_cval_string(&t->of.seq.ptr[0], o->h->v[i].name, strlen(o->h->v[i].name)) ||
        bytes(&t->of.seq.ptr[1], o->h->v[i].value, strlen(o->h->v[i].value)))
      return p2h_oom();
  }
  return NULL;
}

static wg_trap *f_clone(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  p2h_obj *o = self_fields(a);
  uint32_t rep;
  if (!o) return p2h_bad("wasi:http: not a fields handle");
  p2h_obj *c = fields_new(in, NULL, false, &rep);
  if (!c) return p2h_oom();
  o = self_fields(a); /* objs may have moved: o itself did not */
  for (size_t i = 0; i < o->h->n; i++)
    if (wgg_hdrs_add(c->h, o->h->v[i].name, strlen(o->h->v[i].name), o->h->v[i].value, strlen(o->h->v[i].value)))
      return p2h_oom();
  return p2h_own(in, R_FIELDS, rep, r);
}

/* A new fields handle on a request's or response's header list. */
wg_trap *p2h_headers_of(wgg_p2h_inst *in, p2h_obj *o, bool immutable, wg_cval *r) {
  uint32_t rep;
  if (!o->h) {
    if (!(o->h = calloc(1, sizeof *o->h))) return p2h_oom();
    o->own_h = true;
  }
  return fields_new(in, o->h, immutable, &rep) ? p2h_own(in, R_FIELDS, rep, r) : p2h_oom();
}

/* Takes the header list of an own<fields> argument into o (a constructor's). */
bool p2h_take_fields(wgg_p2h_inst *in, p2h_obj *o, const wg_cval *h) {
  p2h_obj *f = p2h_get(in, h->of.handle.rep, K_FIELDS);
  if (!f) return false;
  if (f->own_h) {
    o->h = f->h;
    o->own_h = true;
    f->own_h = false;
  } else { /* a view of another message's headers: copy them */
    if (!(o->h = calloc(1, sizeof *o->h))) return false;
    o->own_h = true;
    for (size_t i = 0; i < f->h->n; i++)
      if (wgg_hdrs_add(o->h, f->h->v[i].name, strlen(f->h->v[i].name), f->h->v[i].value, strlen(f->h->v[i].value)))
        return false;
  }
  f->h = NULL;
  f->kind = 0; /* consumed */
  return true;
}

/* ------------------------------------------------------------ incoming-request */

p2h_obj *p2h_self(const wg_cval *a, uint8_t kind) { return p2h_get(p2h_cur(), a[0].of.handle.rep, kind); }

static wg_trap *rq_method(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INREQ);
  return p2h_method_val(r, o->method);
}
static wg_trap *rq_path(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INREQ);
  return p2h_opt_string(r, o->has_path, o->path);
}
wg_trap *p2h_scheme_val(wg_cval *r, p2h_obj *o) {
  r->kind = WG_CVAL_OPTION;
  if (!o->has_scheme) return NULL;
  r->of.var.disc = 1;
  uint32_t c = !strcasecmp(o->scheme, "http") ? 0 : !strcasecmp(o->scheme, "https") ? 1 : 2;
  wg_cval *v = p2h_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {c, NULL}});
  if (!v) return p2h_oom();
  r->of.var.val = v;
  if (c == 2) {
    if (!(v->of.var.val = wg_cval_array(1)) || !wg_cval_string(v->of.var.val, o->scheme, strlen(o->scheme))) return p2h_oom();
  }
  return NULL;
}
static wg_trap *rq_scheme(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INREQ);
  return p2h_scheme_val(r, o);
}
static wg_trap *rq_authority(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INREQ);
  return p2h_opt_string(r, o->has_authority, o->authority);
}
static wg_trap *rq_headers(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INREQ);
  return p2h_headers_of(in, o, true, r);
}

/* consume: the body (once) as an incoming-body that owns the bytes */
wg_trap *p2h_consume(wgg_p2h_inst *in, p2h_obj *o, wg_cval *r) {
  if (o->taken) return p2h_err_unit(r);
  uint32_t rep;
  p2h_obj *b = p2h_obj_new(in, K_INBODY, &rep);
  if (!b) return p2h_oom();
  o->taken = true;
  b->data = o->data;
  o->data = (wgg_buf){0};
  b->live = o->live; /* the request's body arrives while the guest reads it */
  wg_cval v;
  p2h_own(in, R_INBODY, rep, &v);
  return p2h_result(r, false, p2h_box(v), true);
}
static wg_trap *rq_consume(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INREQ);
  return p2h_consume(in, o, r);
}

/* ------------------------------------------------------------ incoming-body, future-trailers */

static wg_trap *ib_finish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_INBODY);
  uint32_t rep;
  if (!p2h_obj_new(in, K_TRAILERS, &rep)) return p2h_oom();
  return p2h_own(in, R_TRAILERS, rep, r);
}
static wg_trap *ready_pollable(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  if (!in) return p2h_bad("wasi:http: no request context");
  return wg_wasi_p2_pollable_ready(in->p2, r) ? NULL : p2h_oom();
}
/* get: some(ok(ok(none))) the first time (no trailers), some(err) after */
static wg_trap *ft_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_TRAILERS);
  r->kind = WG_CVAL_OPTION;
  r->of.var.disc = 1;
  if (o->finished) return (r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, NULL}})) ? NULL : p2h_oom();
  o->finished = true;
  wg_cval *inner = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, p2h_box((wg_cval){.kind = WG_CVAL_OPTION})}});
  if (!inner || !inner->of.var.val) return p2h_oom();
  r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, inner}});
  return r->of.var.val ? NULL : p2h_oom();
}

/* ------------------------------------------------------------ outgoing-response, outgoing-body */

static wg_trap *resp_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  uint32_t rep;
  if (!in) return p2h_bad("wasi:http: no request context");
  p2h_obj *o = p2h_obj_new(in, K_OUTRESP, &rep);
  if (!o) return p2h_oom();
  o->status = 200;
  if (!p2h_take_fields(in, o, &a[0])) return p2h_bad("wasi:http: not a fields handle");
  return p2h_own(in, R_OUTRESP, rep, r);
}
static wg_trap *resp_status(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTRESP);
  *r = (wg_cval){.kind = WG_CVAL_U16, .of.u = (uint64_t)o->status};
  return NULL;
}
static wg_trap *resp_set_status(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTRESP);
  if (a[1].of.u < 100 || a[1].of.u > 999) return p2h_err_unit(r); /* as hyper's StatusCode */
  o->status = (int)a[1].of.u;
  return p2h_ok_unit(r);
}
static wg_trap *resp_headers(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTRESP);
  return p2h_headers_of(in, o, false, r);
}
/* body: once; the outgoing-body collects what the guest writes */
wg_trap *p2h_body_of(wgg_p2h_inst *in, p2h_obj *o, wg_cval *r) {
  if (o->body) return p2h_err_unit(r);
  uint32_t rep;
  if (!p2h_obj_new(in, K_OUTBODY, &rep)) return p2h_oom();
  o->body = rep;
  wg_cval v;
  p2h_own(in, R_OUTBODY, rep, &v);
  return p2h_result(r, false, p2h_box(v), true);
}
static wg_trap *resp_body(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_OUTRESP);
  return p2h_body_of(in, o, r);
}
/* set(param: own<response-outparam>, response: result<own<outgoing-response>, error-code>) */
static const char *const error_names[] = {
    "DNS-timeout", "DNS-error", "destination-not-found", "destination-unavailable", "destination-IP-prohibited",
    "destination-IP-unroutable", "connection-refused", "connection-terminated", "connection-timeout",
    "connection-read-timeout", "connection-write-timeout", "connection-limit-reached", "TLS-protocol-error",
    "TLS-certificate-error", "TLS-alert-received", "HTTP-request-denied", "HTTP-request-length-required",
    "HTTP-request-body-size", "HTTP-request-method-invalid", "HTTP-request-URI-invalid", "HTTP-request-URI-too-long",
    "HTTP-request-header-section-size", "HTTP-request-header-size", "HTTP-request-trailer-section-size",
    "HTTP-request-trailer-size", "HTTP-response-incomplete", "HTTP-response-header-section-size",
    "HTTP-response-header-size", "HTTP-response-body-size", "HTTP-response-trailer-section-size",
    "HTTP-response-trailer-size", "HTTP-response-transfer-coding", "HTTP-response-content-coding",
    "HTTP-response-timeout", "HTTP-upgrade-failed", "HTTP-protocol-error", "loop-detected", "configuration-error",
    "internal-error"};

static wg_trap *outparam_set(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)r, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  p2h_obj *o = p2h_get(in, a[0].of.handle.rep, K_OUTPARAM);
  if (!o) return p2h_bad("wasi:http: not a response-outparam handle");
  if (in->answered) return p2h_bad("wasi:http: response-outparam.set called twice");
  in->answered = true;
  o->kind = 0;
  if (a[1].of.var.disc == 0) {
    in->response = a[1].of.var.val->of.handle.rep;
    p2h_obj *resp = p2h_get(in, in->response, K_OUTRESP);
    if (!resp) return p2h_bad("wasi:http: not an outgoing-response handle");
    p2h_answer_head(in, resp);
  } else {
    uint32_t c = a[1].of.var.val ? a[1].of.var.val->of.var.disc : EC_INTERNAL_ERROR;
    snprintf(in->error, sizeof in->error, "%s", c < sizeof error_names / sizeof *error_names ? error_names[c] : "?");
  }
  return NULL;
}

/* ------------------------------------------------------------ resource drops */

static void drop_obj(void *env, uint32_t rep) {
  (void)env;
  wgg_p2h_inst *in = p2h_cur();
  if (in && rep && rep <= in->nobjs && in->objs[rep - 1]) in->objs[rep - 1]->dropped = true;
}

/* ------------------------------------------------------------ definitions */

static const p2h_func funcs[] = {
    {TYPES, "[constructor]fields", f_new,
     "func() -> fields"},
    {TYPES, "[static]fields.from-list", f_from_list,
     "func(entries: list<tuple<field-name, field-value>>) -> result<fields, header-error>"},
    {TYPES, "[method]fields.get", f_get,
     "func(self: borrow<fields>, name: field-name) -> list<field-value>"},
    {TYPES, "[method]fields.has", f_has,
     "func(self: borrow<fields>, name: field-name) -> bool"},
    {TYPES, "[method]fields.set", f_set,
     "func(self: borrow<fields>, name: field-name, value: list<field-value>) -> result<_, header-error>"},
    {TYPES, "[method]fields.delete", f_delete,
     "func(self: borrow<fields>, name: field-name) -> result<_, header-error>"},
    {TYPES, "[method]fields.append", f_append,
     "func(self: borrow<fields>, name: field-name, value: field-value) -> result<_, header-error>"},
    {TYPES, "[method]fields.entries", f_entries,
     "func(self: borrow<fields>) -> list<tuple<field-name, field-value>>"},
    {TYPES, "[method]fields.clone", f_clone,
     "func(self: borrow<fields>) -> fields"},
    {TYPES, "[method]incoming-request.method", rq_method,
     "func(self: borrow<incoming-request>) -> method"},
    {TYPES, "[method]incoming-request.path-with-query", rq_path,
     "func(self: borrow<incoming-request>) -> option<string>"},
    {TYPES, "[method]incoming-request.scheme", rq_scheme,
     "func(self: borrow<incoming-request>) -> option<scheme>"},
    {TYPES, "[method]incoming-request.authority", rq_authority,
     "func(self: borrow<incoming-request>) -> option<string>"},
    {TYPES, "[method]incoming-request.headers", rq_headers,
     "func(self: borrow<incoming-request>) -> headers"},
    {TYPES, "[method]incoming-request.consume", rq_consume,
     "func(self: borrow<incoming-request>) -> result<incoming-body>"},
    {TYPES, "[static]response-outparam.set", outparam_set,
     "func(param: response-outparam, response: result<outgoing-response, error-code>)"},
    {TYPES, "[method]incoming-body.stream", p2h_ib_stream,
     "func(self: borrow<incoming-body>) -> result<input-stream>"},
    {TYPES, "[static]incoming-body.finish", ib_finish,
     "func(this: incoming-body) -> future-trailers"},
    {TYPES, "[method]future-trailers.subscribe", ready_pollable,
     "func(self: borrow<future-trailers>) -> pollable"},
    {TYPES, "[method]future-trailers.get", ft_get,
     "func(self: borrow<future-trailers>) -> option<result<result<option<trailers>, error-code>>>"},
    {TYPES, "[constructor]outgoing-response", resp_new,
     "func(headers: headers) -> outgoing-response"},
    {TYPES, "[method]outgoing-response.status-code", resp_status,
     "func(self: borrow<outgoing-response>) -> status-code"},
    {TYPES, "[method]outgoing-response.set-status-code", resp_set_status,
     "func(self: borrow<outgoing-response>, status-code: status-code) -> result"},
    {TYPES, "[method]outgoing-response.headers", resp_headers,
     "func(self: borrow<outgoing-response>) -> headers"},
    {TYPES, "[method]outgoing-response.body", resp_body,
     "func(self: borrow<outgoing-response>) -> result<outgoing-body>"},
    {TYPES, "[method]outgoing-body.write", p2h_ob_write,
     "func(self: borrow<outgoing-body>) -> result<output-stream>"},
    {TYPES, "[static]outgoing-body.finish", p2h_ob_finish,
     "func(this: outgoing-body, trailers: option<trailers>) -> result<_, error-code>"},
};

/* The named types of wasi:http/types 0.2.x (WIT), for the functions' types. */
static const char *const named[][2] = {
    {"duration", "u64"},
    {"input-stream", "wasi:io/streams" V "#input-stream"},
    {"output-stream", "wasi:io/streams" V "#output-stream"},
    {"io-error", "wasi:io/error" V "#error"},
    {"pollable", "wasi:io/poll" V "#pollable"},
    {"method", "variant { get, head, post, put, delete, connect, options, trace, patch, other(string) }"},
    {"scheme", "variant { HTTP, HTTPS, other(string) }"},
    {"DNS-error-payload", "record { rcode: option<string>, info-code: option<u16> }"},
    {"TLS-alert-received-payload", "record { alert-id: option<u8>, alert-message: option<string> }"},
    {"field-size-payload", "record { field-name: option<string>, field-size: option<u32> }"},
    {"error-code",
     "variant { DNS-timeout, DNS-error(DNS-error-payload), destination-not-found, destination-unavailable, "
     "destination-IP-prohibited, destination-IP-unroutable, connection-refused, connection-terminated, "
     "connection-timeout, connection-read-timeout, connection-write-timeout, connection-limit-reached, "
     "TLS-protocol-error, TLS-certificate-error, TLS-alert-received(TLS-alert-received-payload), "
     "HTTP-request-denied, HTTP-request-length-required, HTTP-request-body-size(option<u64>), "
     "HTTP-request-method-invalid, HTTP-request-URI-invalid, HTTP-request-URI-too-long, "
     "HTTP-request-header-section-size(option<u32>), HTTP-request-header-size(option<field-size-payload>), "
     "HTTP-request-trailer-section-size(option<u32>), HTTP-request-trailer-size(field-size-payload), "
     "HTTP-response-incomplete, HTTP-response-header-section-size(option<u32>), "
     "HTTP-response-header-size(field-size-payload), HTTP-response-body-size(option<u64>), "
     "HTTP-response-trailer-section-size(option<u32>), HTTP-response-trailer-size(field-size-payload), "
     "HTTP-response-transfer-coding(option<string>), HTTP-response-content-coding(option<string>), "
     "HTTP-response-timeout, HTTP-upgrade-failed, HTTP-protocol-error, loop-detected, configuration-error, "
     "internal-error(option<string>) }"},
    {"header-error", "variant { invalid-syntax, forbidden, immutable }"},
    {"field-key", "string"},
    {"field-name", "string"},
    {"field-value", "list<u8>"},
    {"headers", "fields"},
    {"trailers", "fields"},
    {"status-code", "u16"},
};

const wgg_p2h_types *wgg_p2h_define(wg_component_linker *l, char *msg, size_t msglen) {
  wgg_p2h_types *t = calloc(1, sizeof *t);
  wg_error *e = NULL;
  if (!t) {
    snprintf(msg, msglen, "out of memory");
    return NULL;
  }
  bool ok = true;
  for (int i = 0; ok && i < R_COUNT; i++)
    ok = wg_component_linker_define_resource(l, TYPES, res_names[i], drop_obj, NULL, &t->r[i], &e);
  /* t is freed with the linker: the finalizer of the first function */
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, funcs[i].inst, funcs[i].name, funcs[i].type, funcs[i].fn, t,
                                               i == 0 ? free : NULL, &e);
  for (size_t i = 0; ok && i < p2h_outgoing_nfuncs; i++)
    ok = wg_component_linker_define_func_typed(l, p2h_outgoing_funcs[i].inst, p2h_outgoing_funcs[i].name,
                                               p2h_outgoing_funcs[i].type, p2h_outgoing_funcs[i].fn, t, NULL, &e);
  for (size_t i = 0; ok && i < sizeof named / sizeof *named; i++)
    ok = wg_component_linker_define_type(l, TYPES, named[i][0], named[i][1], &e);
  if (!ok) {
    snprintf(msg, msglen, "wasi:http: %s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
    return NULL; /* t is freed with the linker once a function holds it; a leak of t otherwise is bounded */
  }
  return t;
}

/* ------------------------------------------------------------ one request */

bool wgg_p2h_request(wgg_p2h_inst *in, const char *method, const char *target, const char *authority,
                     const wgg_http_header *h, size_t n, const char *body, size_t len, wg_cval *req, wg_cval *out) {
  in->out_length = -1;
  in->answered = false;
  in->response = 0;
  in->error[0] = 0;
  uint32_t rrep, orep;
  p2h_obj *o = p2h_obj_new(in, K_INREQ, &rrep);
  if (!o || !(o->method = strdup(method)) || !(o->path = strdup(target)) || !(o->scheme = strdup("http")) ||
      !(o->h = calloc(1, sizeof *o->h)))
    return false;
  o->own_h = true;
  o->has_path = o->has_scheme = true;
  if (authority && *authority) {
    if (!(o->authority = strdup(authority))) return false;
    o->has_authority = true;
  }
  for (size_t i = 0; i < n; i++) {
    size_t nl = strlen(h[i].name);
    char lname[256];
    if (nl >= sizeof lname) continue;
    for (size_t k = 0; k < nl; k++) lname[k] = (char)tolower((unsigned char)h[i].name[k]);
    if (wgg_hdrs_add(o->h, lname, nl, h[i].value, strlen(h[i].value))) return false;
  }
  if (len && wgg_buf_append(&o->data, body, len)) return false;
  o->live = in->in_live;
  if (!p2h_obj_new(in, K_OUTPARAM, &orep)) return false;
  p2h_own(in, R_INREQ, rrep, req);
  p2h_own(in, R_OUTPARAM, orep, out);
  return true;
}

bool wgg_p2h_response(wgg_p2h_inst *in, int *status, wgg_hdrs *hdrs, const char **body, size_t *len) {
  p2h_obj *o = in->answered ? p2h_get(in, in->response, K_OUTRESP) : NULL;
  if (!o) return false;
  *status = o->status;
  for (size_t i = 0; o->h && i < o->h->n; i++)
    if (wgg_hdrs_add(hdrs, o->h->v[i].name, strlen(o->h->v[i].name), o->h->v[i].value, strlen(o->h->v[i].value)))
      return false;
  p2h_obj *b = p2h_get(in, o->body, K_OUTBODY);
  *body = b && b->data.data ? b->data.data : "";
  *len = b ? b->data.len : 0;
  if (in->out_length >= 0 && *len != (uint64_t)in->out_length) in->out_failed = true;
  return true;
}
