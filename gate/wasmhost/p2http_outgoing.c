/*
 * p2http_outgoing.c: the outgoing side of wasi:http 0.2.x
 * (WebAssembly/wasi-http wit/types.wit, handler.wit): outgoing-request and
 * request-options as objects the guest builds, incoming-response and
 * future-incoming-response, http-error-code, and
 * wasi:http/outgoing-handler.handle: http://<app-id>.dapr/... through the
 * sidecar's service invocation, other hosts through the HTTP client when the
 * app's allow-list has them (else HTTP-request-denied); the guest parks until
 * the response is there (docs/wasm-apps.md "Outbound requests").
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/client.h"
#include "http/server.h"
#include "wasmhost/app_internal.h"
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
/* An error-code value of case ec (internal-error carries msg as option<string>). */
static wg_cval *ec_val(int ec, const char *msg) {
  wg_cval *payload = NULL;
  if (ec == EC_INTERNAL_ERROR) {
    wg_cval s = {0};
    if (msg && !wg_cval_string(&s, msg, strlen(msg))) return NULL;
    if (!(payload = p2h_box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {msg ? 1u : 0u, msg ? p2h_box(s) : NULL}})))
      return NULL;
  }
  return p2h_box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {(uint32_t)ec, payload}});
}

/* get: none until the response is there; then some(ok(ok(incoming-response))) or
 * some(ok(err(error-code))) once, some(err) after */
static wg_trap *fresp_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_FUTRESP);
  r->kind = WG_CVAL_OPTION;
  if (!o->resolved) return NULL;
  r->of.var.disc = 1;
  if (o->finished) return (r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, NULL}})) ? NULL : p2h_oom();
  o->finished = true;
  wg_cval *inner;
  if (o->ec >= 0) {
    wg_cval *ec = ec_val(o->ec, o->ec_msg);
    inner = ec ? p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, ec}}) : NULL;
  } else { /* the response: status, headers and body move to an incoming-response */
    uint32_t rep;
    p2h_obj *resp = p2h_obj_new(in, K_INRESP, &rep);
    if (!resp) return p2h_oom();
    resp->status = o->status;
    resp->h = o->h;
    resp->own_h = o->own_h;
    o->h = NULL;
    o->own_h = false;
    resp->data = o->data;
    o->data = (wgg_buf){0};
    wg_cval v;
    p2h_own(in, R_INRESP, rep, &v);
    inner = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, p2h_box(v)}});
  }
  if (!inner) return p2h_oom();
  r->of.var.val = p2h_box((wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, inner}});
  return r->of.var.val ? NULL : p2h_oom();
}
/* subscribe: the future is resolved by the time the guest holds it (handle or finish parked until
 * the response came), so its pollable is ready */
static wg_trap *fresp_subscribe(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  SELF(K_FUTRESP);
  return wg_wasi_p2_pollable_ready(in->p2, r) ? NULL : p2h_oom();
}

/* http-error-code(borrow<io-error>) -> option<error-code>: body streams fail with no HTTP error */
static wg_trap *http_error_code(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  *r = (wg_cval){.kind = WG_CVAL_OPTION};
  return NULL;
}

/* ------------------------------------------------------------ sending */

/* Whether scheme://host:port is in the app's allow-list (Spin's allowed_outbound_hosts):
 * entries SCHEME://HOST[:PORT] separated by commas or spaces; `*` matches any scheme, host or
 * port, "*.example.com" the subdomains of example.com; no port means the scheme's default. */
bool p2h_outbound_allowed(const char *list, const char *scheme, const char *host, int port) {
  if (!list) return false;
  const char *p = list;
  while (*p) {
    while (*p == ',' || *p == ' ') p++;
    const char *e = p;
    while (*e && *e != ',' && *e != ' ') e++;
    char ent[512];
    size_t n = (size_t)(e - p);
    if (n && n < sizeof ent) {
      memcpy(ent, p, n);
      ent[n] = '\0';
      char *sep = strstr(ent, "://");
      if (sep) {
        *sep = '\0';
        char *h = sep + 3, *pp = strrchr(h, ':');
        if (pp && strchr(pp, ']')) pp = NULL; /* an IPv6 literal's colons */
        if (pp) *pp++ = '\0';
        bool s_ok = !strcmp(ent, "*") || !strcasecmp(ent, scheme);
        size_t hl = strlen(h), nl = strlen(host);
        bool h_ok = !strcmp(h, "*") || !strcasecmp(h, host) ||
                    (h[0] == '*' && h[1] == '.' && nl > hl - 1 && !strcasecmp(host + nl - (hl - 1), h + 1));
        int want = pp ? (strcmp(pp, "*") ? atoi(pp) : -1) : (!strcasecmp(scheme, "https") ? 443 : 80);
        if (s_ok && h_ok && (want < 0 || want == port)) return true;
      }
    }
    p = e;
  }
  return false;
}

/* One outbound request in flight: through the HTTP client, or (http://<app-id>.dapr/...) the
 * sidecar's own service invocation route. The guest is parked on it (wgg_p2h_park). */
typedef struct p2h_out {
  wgg_http_req req;    /* the invocation route's request (first: its respond hook's cast) */
  wgg_p2h_inst *in;    /* NULL once detached (the request went away): the answer is dropped */
  uint32_t fut;        /* the future's rep */
  bool first_byte;     /* a first-byte timeout bounds the exchange (else connect's, or none) */
  bool from_finish;    /* parked in outgoing-body.finish (else in handle) */
  bool in_host;        /* the route is still on the stack */
  bool answered;
  wgg_http_header *hv; /* the route's request headers */
  char *url, *body;
  size_t body_len;
} p2h_out;

static void out_free(p2h_out *x) {
  free(x->hv);
  free(x->url);
  free(x->req.path);
  free(x->body);
  free(x);
}

static void out_cancel(void *op) { ((p2h_out *)op)->in = NULL; }

/* The host function's result: handle's ok(own<future>), or finish's ok. */
static wg_trap *out_result(p2h_out *x, wg_cval *r) {
  if (x->from_finish) return p2h_ok_unit(r);
  wg_cval v;
  p2h_own(x->in, R_FUTRESP, x->fut, &v);
  return p2h_result(r, false, p2h_box(v), true);
}

/* The answer arrived (or failed: ec >= 0): resolves the future, resumes the guest unless the host
 * function is still running (it answers then). */
static void out_answer(p2h_out *x, int status, const wgg_http_header *h, size_t n, const char *ctype,
                       const char *body, size_t len, int ec, const char *msg) {
  x->answered = true;
  wgg_p2h_inst *in = x->in;
  p2h_obj *f = in ? p2h_get(in, x->fut, K_FUTRESP) : NULL;
  if (f) {
    f->resolved = true;
    f->ec = ec;
    if (ec == EC_INTERNAL_ERROR && msg) f->ec_msg = strdup(msg);
    if (ec < 0) {
      f->status = status;
      f->h = calloc(1, sizeof *f->h);
      f->own_h = true;
      int rc = !f->h;
      for (size_t i = 0; !rc && i < n; i++)
        if (!wgg_http_hop_header(h[i].name))
          rc = wgg_hdrs_add(f->h, h[i].name, strlen(h[i].name), h[i].value, strlen(h[i].value));
      if (!rc && ctype) rc = wgg_hdrs_add(f->h, "content-type", 12, ctype, strlen(ctype));
      if (!rc && len) rc = wgg_buf_append(&f->data, body, len);
      if (rc) {
        f->ec = EC_INTERNAL_ERROR;
        free(f->ec_msg);
        f->ec_msg = strdup("out of memory");
      }
    }
  }
  if (x->in_host) return; /* the host function answers */
  if (!in) {
    out_free(x);
    return;
  }
  wg_cval r = {0};
  wg_trap *t = out_result(x, &r);
  wg_trap_delete(t);
  out_free(x);
  wgg_p2h_resume(in, &r, 1);
}

static void client_cb(void *user, const wgg_http_response *resp, const char *errmsg) {
  p2h_out *x = user;
  if (resp) {
    out_answer(x, resp->status, resp->headers, resp->n_headers, NULL, resp->body, resp->body_len, -1, NULL);
    return;
  }
  int ec = EC_INTERNAL_ERROR;
  if (errmsg && strstr(errmsg, "refused")) ec = EC_CONNECTION_REFUSED;
  else if (errmsg && strstr(errmsg, "timeout")) ec = x->first_byte ? EC_CONNECTION_READ_TIMEOUT : EC_CONNECTION_TIMEOUT;
  out_answer(x, 0, NULL, 0, NULL, NULL, 0, ec, errmsg);
}

static void route_hook(wgg_http_req *req, int status, const char *ctype, const wgg_http_header *h, size_t n,
                       const char *body, size_t len) {
  out_answer((p2h_out *)req, status, h, n, ctype, body, len, -1, NULL);
}

static int pct(wgg_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c))
      rc = wgg_buf_append(b, (const char *)&c, 1);
    else
      rc = wgg_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
  }
  return rc;
}

/* Sends request o (its body: the outgoing-body's bytes) to scheme://authority/path and parks the
 * guest until the answer resolves the future; r gets the answer when it came at once. */
static wg_trap *send_request(wgg_p2h_inst *in, p2h_obj *o, bool from_finish, wg_cval *r) {
  wgg_wasm_app *a = in->app;
  p2h_obj *b = o->body ? p2h_get(in, o->body, K_OUTBODY) : NULL;
  p2h_out *x = calloc(1, sizeof *x);
  if (!x) return p2h_oom();
  x->in = in;
  x->fut = o->fut;
  x->from_finish = from_finish;
  x->body_len = b ? b->data.len : 0;
  if (!(x->body = malloc(x->body_len + 1))) {
    free(x);
    return p2h_oom();
  }
  if (x->body_len) memcpy(x->body, b->data.data, x->body_len);
  x->body[x->body_len] = '\0';
  const char *auth = o->authority, *path = o->has_path && o->path ? o->path : "/";
  char host[256];
  const char *colon = strrchr(auth, ':');
  size_t hl = colon && !strchr(colon, ']') ? (size_t)(colon - auth) : strlen(auth);
  snprintf(host, sizeof host, "%.*s", (int)(hl < sizeof host ? hl : sizeof host - 1), auth);
  size_t nh = o->h ? o->h->n : 0;
  if (!(x->hv = calloc(nh + 2, sizeof *x->hv))) {
    out_free(x);
    return p2h_oom();
  }
  size_t k = 0;
  for (size_t i = 0; i < nh; i++)
    if (!wgg_http_hop_header(o->h->v[i].name)) x->hv[k++] = (wgg_http_header){o->h->v[i].name, o->h->v[i].value};
  size_t dl = strlen(host);
  int rc;
  if (dl > 5 && !strcasecmp(host + dl - 5, ".dapr")) {
    /* http://<app-id>.dapr/<method>: the sidecar's service invocation of that app ID */
    wgg_buf u = {0};
    const char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path), skip = path[0] == '/';
    rc = wgg_buf_append(&u, "/v1.0/invoke/", 13) | pct(&u, host, dl - 5) | wgg_buf_append(&u, "/method/", 8) |
         wgg_buf_append(&u, path + skip, plen - skip);
    if (q) rc |= wgg_buf_append(&u, q, strlen(q));
    if (rc || !u.data) {
      wgg_buf_free(&u);
      out_free(x);
      return p2h_oom();
    }
    x->url = u.data;
    if (a->api_token) x->hv[k++] = (wgg_http_header){"dapr-api-token", a->api_token};
    wgg_http_req *rq = &x->req;
    rq->method = wgg_http_method_number(o->method);
    rq->method_name = o->method;
    rq->url = x->url;
    const char *uq = strchr(x->url, '?');
    rq->path = strndup(x->url, uq ? (size_t)(uq - x->url) : strlen(x->url));
    rq->query = uq ? (char *)uq + 1 : (char *)"";
    rq->body = x->body;
    rq->body_len = x->body_len;
    rq->headers = x->hv;
    rq->n_headers = k;
    rq->keep_alive = true;
    rq->start_ns = uv_hrtime();
    rq->loop = in->loop;
    rq->http_major = rq->http_minor = 1;
    memcpy(rq->remote_addr, "127.0.0.1:0", 12);
    rq->respond_hook = route_hook;
    if (!rq->path || rq->method < 0) {
      bool bad_method = rq->path != NULL;
      out_free(x);
      return bad_method ? p2h_result(r, true, ec_val(18 /* HTTP-request-method-invalid */, NULL), true) : p2h_oom();
    }
    x->in_host = true;
    a->route(rq, a->route_ctx);
    x->in_host = false;
  } else {
    int port = colon && hl < strlen(auth) ? atoi(colon + 1) : (o->scheme && !strcasecmp(o->scheme, "https") ? 443 : 80);
    /* the loop's own client (runtime/sidecar.c: a worker loop's data; its connections are kept
     * alive and pooled), else one for this request */
    wgg_http_client *shared = in->loop->data, *cl = shared ? shared : wgg_http_client_new(in->loop);
    /* request-options: the client has one timeout for the whole exchange, so connect-timeout
     * plus first-byte-timeout bound it (between-bytes is not applied: the body is read whole) */
    uint64_t ns = (o->has_timeout[0] ? o->timeouts[0] : 0) + (o->has_timeout[1] ? o->timeouts[1] : 0);
    x->first_byte = o->has_timeout[1];
    uint64_t ms = ns ? (ns + 999999) / 1000000 : 0;
    x->in_host = true;
    rc = cl ? wgg_http_client_request(cl, host, port, o->method, path, x->hv, k, x->body, x->body_len, ms, client_cb,
                                      x)
            : -1;
    x->in_host = false;
    if (cl && !shared) wgg_http_client_close(cl); /* freed once the request completed */
    if (rc) {
      out_free(x);
      return p2h_oom();
    }
  }
  if (x->answered) { /* answered during the call: return it now */
    wg_trap *t = out_result(x, r);
    out_free(x);
    return t;
  }
  wg_trap *park = wgg_p2h_park(in, out_cancel, x);
  if (!park) { /* cannot park: the answer, when it comes, is dropped */
    x->in = NULL;
    return p2h_result(r, true, ec_val(EC_INTERNAL_ERROR, "cannot wait for the response here"), true);
  }
  return park;
}

/* outgoing-handler.handle(request, option<request-options>) -> result<future-incoming-response,
 * error-code>: http://<app-id>.dapr/... goes through service invocation; other hosts must be in
 * the app's allow-list (else HTTP-request-denied, as Spin). Sent now (the guest parks until the
 * response) when the request has no body or it is finished, else at outgoing-body.finish. */
static wg_trap *outgoing_handle(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  wgg_p2h_inst *in = p2h_cur();
  p2h_obj *o = in ? p2h_self(a, K_OUTREQ) : NULL;
  if (!o) return p2h_bad("wasi:http: handle of the wrong kind");
  wgg_wasm_app *app = in->app;
  const char *scheme = o->has_scheme && o->scheme ? o->scheme : "http";
  if (!o->has_authority || !o->authority || !*o->authority)
    return p2h_result(r, true, ec_val(EC_HTTP_REQUEST_URI_INVALID, NULL), true);
  char host[256];
  const char *colon = strrchr(o->authority, ':');
  size_t hl = colon && !strchr(colon, ']') ? (size_t)(colon - o->authority) : strlen(o->authority);
  snprintf(host, sizeof host, "%.*s", (int)(hl < sizeof host ? hl : sizeof host - 1), o->authority);
  int port = colon && hl < strlen(o->authority) ? atoi(colon + 1) : (!strcasecmp(scheme, "https") ? 443 : 80);
  size_t dl = strlen(host);
  bool dapr = dl > 5 && !strcasecmp(host + dl - 5, ".dapr");
  if (!app || (!dapr && !p2h_outbound_allowed(app->outbound, scheme, host, port)))
    return p2h_result(r, true, ec_val(EC_HTTP_REQUEST_DENIED, NULL), true);
  if (!dapr && strcasecmp(scheme, "http"))
    return p2h_result(r, true, ec_val(EC_INTERNAL_ERROR, "only http:// is supported for outbound requests"), true);
  if (!in->loop) return p2h_result(r, true, ec_val(EC_INTERNAL_ERROR, "no event loop to send on"), true);
  if (a[1].of.var.disc) { /* request-options: its timeouts go with the request */
    p2h_obj *opt = p2h_get(in, a[1].of.var.val->of.handle.rep, K_OPTIONS);
    if (opt)
      for (int k = 0; k < 3; k++) {
        o->has_timeout[k] = opt->has_timeout[k];
        o->timeouts[k] = opt->timeouts[k];
      }
  }
  uint32_t frep;
  p2h_obj *f = p2h_obj_new(in, K_FUTRESP, &frep);
  if (!f) return p2h_oom();
  f->ec = -1;
  o->fut = frep;
  o->dropped = true; /* the guest gave its handle away */
  p2h_obj *b = o->body ? p2h_get(in, o->body, K_OUTBODY) : NULL;
  if (b && !b->finished) { /* the body comes: sent at its finish */
    wg_cval v;
    p2h_own(in, R_FUTRESP, frep, &v);
    return p2h_result(r, false, p2h_box(v), true);
  }
  return send_request(in, o, false, r);
}

wg_trap *p2h_send_on_finish(wgg_p2h_inst *in, uint32_t body_rep, wg_cval *r) {
  for (uint32_t i = 0; i < in->nobjs; i++) {
    p2h_obj *o = in->objs[i];
    if (o && o->kind == K_OUTREQ && o->body == body_rep && o->fut) {
      p2h_obj *f = p2h_get(in, o->fut, K_FUTRESP);
      if (!f || f->resolved) return NULL;
      return send_request(in, o, true, r);
    }
  }
  return NULL;
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
    {TYPES, "[method]future-incoming-response.subscribe", fresp_subscribe,
     "func(self: borrow<future-incoming-response>) -> pollable"},
    {TYPES, "http-error-code", http_error_code,
     "func(err: borrow<io-error>) -> option<error-code>"},
    {"wasi:http/outgoing-handler" V, "handle", outgoing_handle,
     "func(request: wasi:http/types" V "#outgoing-request, options: option<wasi:http/types" V "#request-options>) -> result<wasi:http/types" V "#future-incoming-response, wasi:http/types" V "#error-code>"},
};
const size_t p2h_outgoing_nfuncs = sizeof p2h_outgoing_funcs / sizeof *p2h_outgoing_funcs;
