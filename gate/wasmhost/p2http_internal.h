/*
 * p2http_internal.h: what the wasi:http host's files share (p2http_types.c:
 * fields, incoming requests, bodies, outgoing responses, the definitions;
 * p2http_outgoing.c: outgoing requests, request options, incoming responses,
 * outgoing-handler): the host objects, their kinds, the resource types, and
 * the helpers that make component values. Not for other files.
 */
#ifndef WGG_WASMHOST_P2HTTP_INTERNAL_H
#define WGG_WASMHOST_P2HTTP_INTERNAL_H

#include "wasmhost/p2http.h"

#define V WGG_P2H_VERSION
#define TYPES "wasi:http/types" V

enum { K_FIELDS = 1, K_INREQ, K_OUTREQ, K_OPTIONS, K_OUTPARAM, K_INRESP, K_INBODY, K_TRAILERS, K_OUTRESP, K_OUTBODY,
       K_FUTRESP };
enum { R_FIELDS, R_INREQ, R_OUTREQ, R_OPTIONS, R_OUTPARAM, R_INRESP, R_INBODY, R_TRAILERS, R_OUTRESP, R_OUTBODY,
       R_FUTRESP, R_COUNT };

/* error-code cases used here (types.wit order) */
enum { EC_DESTINATION_UNAVAILABLE = 3, EC_CONNECTION_REFUSED = 6, EC_CONNECTION_TIMEOUT = 8,
       EC_HTTP_RESPONSE_BODY_SIZE = 28,
       EC_CONNECTION_READ_TIMEOUT = 9,
       EC_HTTP_REQUEST_DENIED = 15, EC_HTTP_REQUEST_URI_INVALID = 19, EC_HTTP_PROTOCOL_ERROR = 26,
       EC_INTERNAL_ERROR = 38 };

/* Whether scheme://host:port is in allow-list `list` (Spin's allowed_outbound_hosts: entries
 * SCHEME://HOST[:PORT] separated by commas or spaces; `*` for any scheme, host or port,
 * "*.example.com" for its subdomains, no port meaning the scheme's default; NULL allows none).
 * p2http_outgoing.c; docs/wasm-apps.md "Outbound requests". */
bool p2h_outbound_allowed(const char *list, const char *scheme, const char *host, int port);

/* p2http_outgoing.c: outgoing-body.finish of a request handed to outgoing-handler before its body
 * was finished sends it now and parks the guest until the response (p2http_types.c calls it;
 * NULL: not such a body, answer ok at once). */
wg_trap *p2h_send_on_finish(wgg_p2h_inst *in, uint32_t body_rep, wg_cval *r);

struct wgg_p2h_types {
  const wg_component_resource_type *r[R_COUNT];
};

/* A host object. Fields objects point at a header list they own or share
 * (a request's or response's headers). */
struct p2h_obj {
  uint8_t kind;
  bool dropped;      /* the guest dropped its handle */
  bool stale;        /* freed by reset while a stream still refers to it */
  bool immutable;    /* fields */
  bool taken;        /* body or stream taken */
  bool finished;     /* outgoing-body finished; trailers future read */
  uint32_t streams;  /* streams open on this object */
  wgg_hdrs *h;       /* fields: the list; requests, responses: their headers */
  bool own_h;
  char *method, *path, *scheme, *authority; /* requests (method: the text, e.g. "GET") */
  bool has_path, has_scheme, has_authority;
  uint64_t timeouts[3]; bool has_timeout[3]; /* request-options */
  int status;        /* responses */
  uint32_t body;     /* responses and outgoing requests: the outgoing-body's rep */
  uint32_t fut;      /* outgoing request handed to outgoing-handler: its future's rep; 0: none */
  bool resolved;     /* future: its response (status, h, data) or error (ec) is there */
  int ec;            /* future: the error-code case, -1 when a response came */
  char *ec_msg;      /* future: internal-error's message (malloc'd), NULL for none */
  wgg_buf data;      /* bodies: the bytes */
  size_t off;        /* incoming body: bytes read */
  bool live;         /* incoming body: the request's, arriving (wgg_p2h_inst.in_buf) */
  bool answer;       /* outgoing body: the answer's (its response was set) */
  wgg_p2h_inst *inst;
};


#define SELF(kind)                                                 \
  (void)env, (void)na, (void)nr;                                   \
  wgg_p2h_inst *in = p2h_cur();                                        \
  p2h_obj *o = p2h_self(a, kind);                                      \
  if (!o) return p2h_bad("wasi:http: handle of the wrong kind");      \
  (void)in


/* A host function of the definitions table, with its type (WIT wasi:http 0.2.x), checked
 * against the component's import at instantiation: the functions rely on their arguments'
 * kinds (a field-value is BYTES, a handle of its resource type). */
typedef struct p2h_func {
  const char *inst, *name;
  wg_component_host_fn fn;
  const char *type;
} p2h_func;

/* p2http_outgoing.c's functions, defined by wgg_p2h_define with the others. */
extern const p2h_func p2h_outgoing_funcs[];
extern const size_t p2h_outgoing_nfuncs;

/* Traps: out of memory (WG_TRAP_RESOURCE), a misused handle (WG_TRAP_HOST with `what`). */
wg_trap *p2h_oom(void);
wg_trap *p2h_bad(const char *what);
/* The calling store's state (NULL outside a host call). */
wgg_p2h_inst *p2h_cur(void);
/* A new object of `kind` (rep in *rep), NULL on OOM; the object of `rep` if it has `kind`, else
 * NULL; the object a method's self handle (a[0]) names. */
p2h_obj *p2h_obj_new(wgg_p2h_inst *in, uint8_t kind, uint32_t *rep);
p2h_obj *p2h_get(wgg_p2h_inst *in, uint32_t rep, uint8_t kind);
p2h_obj *p2h_self(const wg_cval *a, uint8_t kind);
/* Values: a boxed copy of v (NULL on OOM); an own handle of resource r; result<T, E> (payload
 * boxed or NULL), its unit forms; option<string>; a string argument as a C string (malloc'd);
 * a `method` variant from its text and back. */
wg_cval *p2h_box(wg_cval v);
wg_trap *p2h_own(const wgg_p2h_inst *in, int r, uint32_t rep, wg_cval *out);
wg_trap *p2h_result(wg_cval *out, bool err, wg_cval *payload, bool boxed);
wg_trap *p2h_ok_unit(wg_cval *out);
wg_trap *p2h_err_unit(wg_cval *out);
wg_trap *p2h_opt_string(wg_cval *out, bool some, const char *s);
char *p2h_cstr(const wg_cval *v);
wg_trap *p2h_method_val(wg_cval *out, const char *m);
char *p2h_method_text(const wg_cval *v);
/* An HTTP token character (RFC 9110 tchar). */
bool p2h_token_char(unsigned char c);
/* A new fields handle on o's header list; o takes the header list of an own<fields> argument
 * (false: not a fields handle, or OOM); o's body (once) as an own<outgoing-body>; o's body
 * bytes (once) as an own<incoming-body>; o's scheme as option<scheme>. */
wg_trap *p2h_headers_of(wgg_p2h_inst *in, p2h_obj *o, bool immutable, wg_cval *r);
bool p2h_take_fields(wgg_p2h_inst *in, p2h_obj *o, const wg_cval *h);
wg_trap *p2h_body_of(wgg_p2h_inst *in, p2h_obj *o, wg_cval *r);
wg_trap *p2h_consume(wgg_p2h_inst *in, p2h_obj *o, wg_cval *r);
wg_trap *p2h_scheme_val(wg_cval *r, p2h_obj *o);
/* Frees a host object (its header list when owned, strings, bytes). */
void p2h_obj_free(p2h_obj *o);

/* p2http_body.c: incoming-body.stream, outgoing-body.write and .finish (host functions of the
 * definitions table), and response-outparam.set's answer head: the declared Content-Length
 * kept, and with io the head sent and what was written before passed on. */
wg_trap *p2h_ib_stream(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
wg_trap *p2h_ob_write(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
wg_trap *p2h_ob_finish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr);
void p2h_answer_head(wgg_p2h_inst *in, p2h_obj *resp);

#endif
