/*
 * app_dapr.c: the dapr:v1 host functions of wasm apps (docs/wasm-apps.md is
 * the normative reference). Each operation becomes a request to the
 * sidecar's own API router, built in memory with a respond hook, so a guest
 * reaches exactly the code HTTP callers reach (scopes, ETags, resiliency,
 * errors and all): no second implementation. When the route answers at
 * once (in-memory stores), the host function returns; when it answers later
 * (a store on its executor thread, Redis, another app), the host function
 * parks the guest (WG_TRAP_SUSPENDED) and the answer resumes it on the loop.
 *
 * Marshalling: every pointer/length pair is checked against the calling
 * instance's memory (out of bounds traps: the request fails); outputs go to
 * caller-provided buffers, and the whole answer of the last operation stays
 * readable with result_body / result_header / error (http-wasm's "needed
 * size" convention, no guest allocator).
 */
#include <http_parser.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/log.h"
#include "observe/metrics.h"
#include "wasmhost/app_internal.h"
#include "wasmhost/guestmem.h"

enum { OUT_NONE, OUT_BODY };

struct wgg_dapr_op {
  wgg_http_req req;    /* the request the router sees */
  wgg_dapr_env *env;   /* NULL once detached (the call went away) */
  wgg_http_header hdr[3];
  char *ctype, *if_match;
  wg_memory *mem;      /* the caller's memory, for the output buffer */
  uint32_t out_ptr, out_cap;
  int out;             /* OUT_* */
  bool get;            /* state get: 204 means "not found" */
  bool raw;            /* invoke, request: any status is an answer, not an error */
  bool in_host;        /* the host function is still on the stack */
  bool completed;
  bool parked;         /* counted in wasmgate_wasm_app_parked */
  int64_t result;
  /* the app's API, which outlives a detached op: its metrics and observe hook */
  void (*observe)(int tag, int method, int status, uint64_t ns, void *ctx);
  void *observe_ctx;
  struct wgg_metrics *metrics;
};

static void op_free(wgg_dapr_op *op) {
  free(op->req.url);
  free(op->req.path);
  free(op->req.body);
  free(op->ctype);
  free(op->if_match);
  free(op);
}

void wgg_dapr_env_clear(wgg_dapr_env *env) {
  if (env->op) { /* answered later into the void */
    env->op->env = NULL;
    if (env->op->parked) wgg_metrics_wasm_parked(env->op->metrics, -1);
    env->op->parked = false;
  }
  env->op = NULL;
  wgg_hdrs_free(&env->headers);
  wgg_buf_free(&env->body);
  wgg_buf_free(&env->error);
  env->status = 0;
}

/* ---- guest memory ---- */

static wg_trap *oob(const char *fn, uint32_t p, uint32_t len) {
  char msg[160];
  snprintf(msg, sizeof msg, "dapr:v1 %s: out of bounds memory access (ptr %u, len %u)", fn, p, len);
  return wg_trap_new(WG_TRAP_HOST, msg);
}

/* A guest string argument: (ptr, len) checked; *out points into memory. */
#define ARG_STR(fn, m, pi, out, outlen)                                               \
  const char *out;                                                                    \
  uint32_t outlen;                                                                    \
  do {                                                                                \
    uint32_t p_ = (uint32_t)args[pi].of.i32, l_ = (uint32_t)args[(pi) + 1].of.i32;    \
    if (!wgg_guest_span(m, p_, l_)) return oob(fn, p_, l_);                           \
    out = (const char *)wg_memory_data(m) + p_;                                       \
    outlen = l_;                                                                      \
  } while (0)

/* A guest output buffer argument: (ptr, cap) checked. */
#define ARG_BUF(fn, m, pi, p, cap)                                                    \
  uint32_t p = (uint32_t)args[pi].of.i32, cap = (uint32_t)args[(pi) + 1].of.i32;      \
  if (!wgg_guest_span(m, p, cap)) return oob(fn, p, cap)

/* Percent-encodes s into b (RFC 3986 unreserved kept; '/' kept when slash). */
static int pct(wgg_buf *b, const char *s, size_t n, bool slash) {
  static const char hex[] = "0123456789ABCDEF";
  char tmp[256];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '.' || c == '_' || c == '~' || (slash && c == '/');
    if (k + 3 > sizeof tmp) {
      if (wgg_buf_append(b, tmp, k)) return -1;
      k = 0;
    }
    if (keep) {
      tmp[k++] = (char)c;
    } else {
      tmp[k++] = '%';
      tmp[k++] = hex[c >> 4];
      tmp[k++] = hex[c & 15];
    }
  }
  return k ? wgg_buf_append(b, tmp, k) : 0;
}

/* ---- results ---- */

static void set_error(wgg_dapr_env *env, const char *code, const char *msg, size_t len) {
  env->error.len = 0;
  if (code) wgg_buf_printf(&env->error, "%s: ", code);
  wgg_buf_append(&env->error, msg, len);
}

/* Fails the host function without trapping: records the error and returns rv. */
static wg_trap *fail(wgg_dapr_env *env, const char *code, const char *msg, size_t len, int64_t rv, wg_val *results) {
  set_error(env, code, msg, len);
  results[0].of.i64 = rv;
  return NULL;
}

/* Fails with "out of memory" (-1), freeing the url and body built so far (either may be NULL). */
static wg_trap *oom(wgg_dapr_env *env, wgg_buf *url, char *body, wg_val *results) {
  if (url) wgg_buf_free(url);
  free(body);
  return fail(env, NULL, "out of memory", 13, -1, results);
}

/* Records the route's answer as the last result and computes the host
 * function's return value (writing the body into the guest's buffer). */
static int64_t take_answer(wgg_dapr_env *env, wgg_dapr_op *op, int status, const char *ctype,
                           const wgg_http_header *h, size_t n, const char *body, size_t len) {
  wgg_hdrs_free(&env->headers);
  env->body.len = 0;
  env->error.len = 0;
  env->status = status;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++)
    rc = wgg_hdrs_add(&env->headers, h[i].name, strlen(h[i].name), h[i].value, strlen(h[i].value));
  if (!rc && ctype) rc = wgg_hdrs_add(&env->headers, "Content-Type", 12, ctype, strlen(ctype));
  if (!rc && len) rc = wgg_buf_append(&env->body, body, len);
  if (rc) {
    set_error(env, NULL, "out of memory", 13);
    return -1;
  }
  if (status >= 400) { /* Dapr's error document {"errorCode": ..., "message": ...} */
    json_t *j = json_loadb(body ? body : "", len, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "errorCode"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (code || msg) set_error(env, code, msg ? msg : "", msg ? strlen(msg) : 0);
    else set_error(env, NULL, body ? body : "", len);
    json_decref(j);
    if (!op->raw) return -(int64_t)status;
  }
  if (op->get && status == 204) return -404; /* state get of a missing key */
  if (op->out != OUT_BODY) return 0;
  /* the guest's buffer may have been valid at the call; it still is (the guest is parked) */
  if (op->out_cap && wgg_guest_span(op->mem, op->out_ptr, op->out_cap)) {
    size_t k = len < op->out_cap ? len : op->out_cap;
    if (k) memcpy(wg_memory_data(op->mem) + op->out_ptr, body, k);
  }
  return (int64_t)len;
}

static void op_hook(wgg_http_req *req, int status, const char *ctype, const wgg_http_header *h, size_t n,
                    const char *body, size_t len) {
  wgg_dapr_op *op = (wgg_dapr_op *)req;
  wgg_dapr_env *env = op->env;
  /* a dapr:v1 call is a call to the app's sidecar API: dapr_http_server_* of its app ID */
  if (op->observe) op->observe(req->tag, req->method, status, uv_hrtime() - req->start_ns, op->observe_ctx);
  if (!env) { /* the call is gone */
    op_free(op);
    return;
  }
  op->result = take_answer(env, op, status, ctype, h, n, body, len);
  op->completed = true;
  if (op->in_host) return; /* answered during the route: the host function returns it */
  env->op = NULL;
  if (op->parked) wgg_metrics_wasm_parked(op->metrics, -1);
  int64_t r = op->result;
  op_free(op);
  wgg_app_call_resume(env->call, r);
}

/* Sends method/url with body (moved in; may be NULL) to the router and
 * returns the host function's result, or parks the guest. */
static wg_trap *dispatch(wgg_dapr_env *env, wg_instance *caller, const char *method, int mcode, wgg_buf *url,
                         char *body, size_t blen, const char *ctype, size_t ctlen, int out, uint32_t out_ptr,
                         uint32_t out_cap, int mode, wg_val *results, const char *if_match, size_t imlen) {
  wgg_dapr_op *op = calloc(1, sizeof *op);
  if (!op || (ctype && ctlen && !(op->ctype = wgg_strndup(ctype, ctlen))) ||
      (if_match && imlen && !(op->if_match = wgg_strndup(if_match, imlen)))) {
    if (op) free(op->ctype);
    free(op);
    return oom(env, url, body, results);
  }
  op->env = env;
  op->observe = env->app->observe;
  op->observe_ctx = env->app->route_ctx;
  op->metrics = env->app->metrics;
  op->mem = wg_instance_memory(caller);
  op->out = out;
  op->out_ptr = out_ptr;
  op->out_cap = out_cap;
  op->get = mode == 1;
  op->raw = mode == 2;
  wgg_http_req *r = &op->req;
  r->method = mcode;
  r->method_name = method;
  r->url = url->data; /* moved */
  char *q = strchr(r->url, '?');
  r->path = wgg_strndup(r->url, q ? (size_t)(q - r->url) : strlen(r->url));
  r->query = q ? q + 1 : (char *)"";
  r->body = body ? body : calloc(1, 1);
  r->body_len = body ? blen : 0;
  size_t nh = 0;
  if (env->app->api_token && *env->app->api_token) op->hdr[nh++] = (wgg_http_header){"dapr-api-token", env->app->api_token};
  if (op->ctype) op->hdr[nh++] = (wgg_http_header){"Content-Type", op->ctype};
  if (op->if_match) op->hdr[nh++] = (wgg_http_header){"If-Match", op->if_match};
  r->headers = op->hdr;
  r->n_headers = nh;
  r->keep_alive = true;
  r->start_ns = uv_hrtime();
  r->loop = env->call ? wgg_app_call_loop(env->call) : NULL;
  r->http_major = r->http_minor = 1;
  memcpy(r->remote_addr, "127.0.0.1:0", 12); /* the app is local, as an HTTP app on loopback */
  r->respond_hook = op_hook;
  if (!r->path || !r->body || !r->loop) {
    bool no_loop = !r->loop;
    op_free(op);
    return fail(env, NULL, no_loop ? "no request in flight" : "out of memory", no_loop ? 20 : 13, -1, results);
  }
  op->in_host = true;
  env->app->route(r, env->app->route_ctx);
  op->in_host = false;
  if (op->completed) {
    results[0].of.i64 = op->result;
    op_free(op);
    return NULL;
  }
  wg_trap *park = wg_trap_new(WG_TRAP_SUSPENDED, NULL);
  if (!park) { /* out of memory: the answer, when it comes, is dropped */
    op->env = NULL;
    return oom(env, NULL, NULL, results);
  }
  env->op = op; /* parked until op_hook */
  op->parked = true;
  wgg_metrics_wasm_parked(op->metrics, 1);
  return park;
}

/* ---- the functions ---- */

typedef struct dapr_fn {
  const char *name;
  uint32_t np, nr;
  wg_valtype res; /* of the one result, when nr == 1 */
  wg_trap *(*fn)(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results);
} dapr_fn;

/* log(level, msg, msg_len): 0 debug, 1 info, 2 warn, 3 error. */
static wg_trap *f_log(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)results;
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("log", m, 1, msg, len);
  int level = args[0].of.i32;
  if (level < WGG_LOG_DEBUG) level = WGG_LOG_DEBUG;
  if (level > WGG_LOG_ERROR) level = WGG_LOG_ERROR;
  if (len > 4096) len = 4096;
  wgg_log(level, "wasm app %s: %.*s", env->app->app_id, (int)len, msg);
  return NULL;
}

/* state_get(store, key, buf, cap) -> i64 */
static wg_trap *f_state_get(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("state_get", m, 0, store, slen);
  ARG_STR("state_get", m, 2, key, klen);
  ARG_BUF("state_get", m, 4, bp, bc);
  wgg_buf u = {0};
  int rc = wgg_buf_append(&u, "/v1.0/state/", 12) | pct(&u, store, slen, false) | wgg_buf_append(&u, "/", 1) |
           pct(&u, key, klen, false);
  if (rc) return oom(env, &u, NULL, results);
  return dispatch(env, caller, "GET", HTTP_GET, &u, NULL, 0, NULL, 0, OUT_BODY, bp, bc, 1, results, NULL, 0);
}

/* The state item options of bits: 1 first-write concurrency, 2 strong consistency. */
static json_t *item_options(int32_t bits) {
  json_t *o = json_object();
  if (bits & 1) json_object_set_new(o, "concurrency", json_string("first-write"));
  if (bits & 2) json_object_set_new(o, "consistency", json_string("strong"));
  return o;
}

/* A guest value as JSON: JSON text as is, anything else as a JSON string. */
static json_t *json_value(const char *v, size_t len) {
  json_t *j = json_loadb(v, len, JSON_DECODE_ANY, NULL);
  return j ? j : json_stringn(v, len);
}

static wg_trap *state_write(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results, bool del) {
  const char *fn = del ? "state_delete" : "state_save";
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR(fn, m, 0, store, slen);
  ARG_STR(fn, m, 2, key, klen);
  int e = del ? 4 : 6; /* etag */
  const char *val = NULL;
  uint32_t vlen = 0;
  if (!del) {
    ARG_STR(fn, m, 4, v, vl);
    val = v;
    vlen = vl;
  }
  ARG_STR(fn, m, e, etag, elen);
  int32_t opts = args[e + 2].of.i32;
  wgg_buf u = {0};
  int rc = wgg_buf_printf(&u, "/v1.0/state/") | pct(&u, store, slen, false);
  char *body = NULL;
  if (del) {
    rc |= wgg_buf_append(&u, "/", 1) | pct(&u, key, klen, false);
    if (opts & 1) rc |= wgg_buf_printf(&u, "%cconcurrency=first-write", '?');
    if (opts & 2) rc |= wgg_buf_printf(&u, "%cconsistency=strong", opts & 1 ? '&' : '?');
  } else {
    json_t *item = json_object();
    json_object_set_new(item, "key", json_stringn(key, klen));
    json_object_set_new(item, "value", json_value(val, vlen));
    if (elen) json_object_set_new(item, "etag", json_stringn(etag, elen));
    if (opts) json_object_set_new(item, "options", item_options(opts));
    json_t *arr = json_array();
    json_array_append_new(arr, item);
    body = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!body) rc = -1;
  }
  if (rc) return oom(env, &u, body, results);
  /* a delete's ETag travels in If-Match, as over HTTP */
  return dispatch(env, caller, del ? "DELETE" : "POST", del ? HTTP_DELETE : HTTP_POST, &u, body,
                  body ? strlen(body) : 0, del ? NULL : "application/json", del ? 0 : 16, OUT_NONE, 0, 0, 0,
                  results, del ? etag : NULL, del ? elen : 0);
}

/* state_save(store, key, value, etag, options) -> i64 */
static wg_trap *f_state_save(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  return state_write(env, caller, args, results, false);
}

/* state_delete(store, key, etag, options) -> i64 */
static wg_trap *f_state_delete(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  return state_write(env, caller, args, results, true);
}

/* publish(pubsub, topic, data, content_type) -> i64 */
static wg_trap *f_publish(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("publish", m, 0, ps, plen);
  ARG_STR("publish", m, 2, topic, tlen);
  ARG_STR("publish", m, 4, data, dlen);
  ARG_STR("publish", m, 6, ct, ctlen);
  wgg_buf u = {0};
  char *body = wgg_strndup(data, dlen);
  int rc = wgg_buf_printf(&u, "/v1.0/publish/") | pct(&u, ps, plen, false) | wgg_buf_append(&u, "/", 1) |
           pct(&u, topic, tlen, false);
  if (rc || !body) return oom(env, &u, body, results);
  return dispatch(env, caller, "POST", HTTP_POST, &u, body, dlen, ct, ctlen, OUT_NONE, 0, 0, 0, results, NULL, 0);
}

static int method_code(const char *v, size_t n) {
  static const struct {
    const char *name;
    int code;
  } m[] = {{"GET", HTTP_GET},     {"POST", HTTP_POST},       {"PUT", HTTP_PUT},       {"DELETE", HTTP_DELETE},
           {"PATCH", HTTP_PATCH}, {"HEAD", HTTP_HEAD},       {"OPTIONS", HTTP_OPTIONS}};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    if (strlen(m[i].name) == n && !memcmp(m[i].name, v, n)) return m[i].code;
  return -1;
}

static const char *method_name(int code) { return http_method_str((enum http_method)code); }

/* invoke(app_id, method, verb, body, content_type, buf, cap) -> i64 */
static wg_trap *f_invoke(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("invoke", m, 0, app, alen);
  ARG_STR("invoke", m, 2, meth, mlen);
  ARG_STR("invoke", m, 4, verb, vlen);
  ARG_STR("invoke", m, 6, data, dlen);
  ARG_STR("invoke", m, 8, ct, ctlen);
  ARG_BUF("invoke", m, 10, bp, bc);
  int code = vlen ? method_code(verb, vlen) : HTTP_POST;
  if (code < 0 || !alen || !mlen)
    return fail(env, "ERR_DIRECT_INVOKE", code < 0 ? "unsupported HTTP verb" : "app ID and method are required",
                code < 0 ? 21 : 30, -400, results);
  wgg_buf u = {0};
  char *body = wgg_strndup(data, dlen);
  /* the method is a path (its '/' kept) and may carry a query after '?', passed on as over HTTP */
  const char *q = memchr(meth, '?', mlen);
  size_t plen = q ? (size_t)(q - meth) : mlen, skip = plen && meth[0] == '/';
  int rc = wgg_buf_printf(&u, "/v1.0/invoke/") | pct(&u, app, alen, false) | wgg_buf_append(&u, "/method/", 8) |
           pct(&u, meth + skip, plen - skip, true);
  if (q) {
    rc |= wgg_buf_append(&u, "?", 1);
    for (const char *p = q + 1; p < meth + mlen && !rc; p++) { /* bytes a query may not hold are escaped */
      unsigned char ch = (unsigned char)*p;
      rc = ch <= ' ' || ch >= 0x7f || ch == '#' ? pct(&u, p, 1, false) : wgg_buf_append(&u, p, 1);
    }
  }
  if (rc || !body) return oom(env, &u, body, results);
  return dispatch(env, caller, method_name(code), code, &u, body, dlen, ct, ctlen, OUT_BODY, bp, bc, 2,
                  results, NULL, 0);
}

/* binding(name, operation, data, metadata_json, buf, cap) -> i64 */
static wg_trap *f_binding(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("binding", m, 0, name, nlen);
  ARG_STR("binding", m, 2, op, oplen);
  ARG_STR("binding", m, 4, data, dlen);
  ARG_STR("binding", m, 6, meta, mlen);
  ARG_BUF("binding", m, 8, bp, bc);
  json_t *req = json_object();
  json_object_set_new(req, "operation", json_stringn(op, oplen));
  json_object_set_new(req, "data", json_value(data, dlen));
  if (mlen) {
    json_t *md = json_loadb(meta, mlen, 0, NULL);
    if (!json_is_object(md)) {
      json_decref(md);
      json_decref(req);
      return fail(env, "ERR_MALFORMED_REQUEST", "metadata must be a JSON object of strings", 41, -400, results);
    }
    json_object_set_new(req, "metadata", md);
  }
  char *body = json_dumps(req, JSON_COMPACT);
  json_decref(req);
  wgg_buf u = {0};
  int rc = wgg_buf_printf(&u, "/v1.0/bindings/") | pct(&u, name, nlen, false);
  if (rc || !body) return oom(env, &u, body, results);
  return dispatch(env, caller, "POST", HTTP_POST, &u, body, strlen(body), "application/json", 16, OUT_BODY, bp, bc,
                  0, results, NULL, 0);
}

/* secret_get(store, name, buf, cap) -> i64: the secret's JSON object ({"name": "value"} or, for
 * multi-valued stores, several keys), as GET /v1.0/secrets/{store}/{name} answers it */
static wg_trap *f_secret_get(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("secret_get", m, 0, store, slen);
  ARG_STR("secret_get", m, 2, name, nlen);
  ARG_BUF("secret_get", m, 4, bp, bc);
  wgg_buf u = {0};
  int rc = wgg_buf_append(&u, "/v1.0/secrets/", 14) | pct(&u, store, slen, false) | wgg_buf_append(&u, "/", 1) |
           pct(&u, name, nlen, false);
  if (rc) return oom(env, &u, NULL, results);
  return dispatch(env, caller, "GET", HTTP_GET, &u, NULL, 0, NULL, 0, OUT_BODY, bp, bc, 0, results, NULL, 0);
}

/* request(verb, path, body, buf, cap) -> i64: any route of the HTTP API
 * ("/v1.0/..." or "/v1.0-alpha1/..."): bulk state, transactions, bulk
 * publish, metadata. The answer's status is result_status(). */
static wg_trap *f_request(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("request", m, 0, verb, vlen);
  ARG_STR("request", m, 2, path, plen);
  ARG_STR("request", m, 4, data, dlen);
  ARG_BUF("request", m, 6, bp, bc);
  int code = method_code(verb, vlen);
  bool ok_path = (plen >= 6 && !memcmp(path, "/v1.0/", 6)) || (plen >= 13 && !memcmp(path, "/v1.0-alpha1/", 13));
  for (uint32_t i = 0; ok_path && i < plen; i++) ok_path = path[i] > 32 && path[i] < 127;
  if (code < 0 || !ok_path)
    return fail(env, "ERR_MALFORMED_REQUEST",
                code < 0 ? "unsupported HTTP verb" : "the path must start with /v1.0/ or /v1.0-alpha1/",
                code < 0 ? 21 : 49, -400, results);
  wgg_buf u = {0};
  char *body = wgg_strndup(data, dlen);
  if (wgg_buf_append(&u, path, plen) || !body) return oom(env, &u, body, results);
  return dispatch(env, caller, method_name(code), code, &u, body, dlen, dlen ? "application/json" : NULL,
                  dlen ? 16 : 0, OUT_BODY, bp, bc, 2, results, NULL, 0);
}

/* result_status() -> i32 */
static wg_trap *f_result_status(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller, (void)args;
  results[0].of.i32 = env->status;
  return NULL;
}

/* Copies n bytes of src to the guest's (ptr, cap) buffer, at most cap. */
static wg_trap *copy_out(const char *fn, wg_memory *m, uint32_t p, uint32_t cap, const char *src, size_t n) {
  if (!wgg_guest_span(m, p, cap)) return oob(fn, p, cap);
  size_t k = n < cap ? n : cap;
  if (k) memcpy(wg_memory_data(m) + p, src, k);
  return NULL;
}

/* result_body(offset, buf, cap) -> i32: the body's whole length (-1 when offset is past it) */
static wg_trap *f_result_body(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  uint32_t off = (uint32_t)args[0].of.i32;
  if (off > env->body.len) {
    results[0].of.i32 = -1;
    return NULL;
  }
  results[0].of.i32 = (int32_t)env->body.len;
  return copy_out("result_body", wg_instance_memory(caller), (uint32_t)args[1].of.i32, (uint32_t)args[2].of.i32,
                  env->body.data + off, env->body.len - off);
}

/* result_header(name, buf, cap) -> i32: the value's length, -1 when absent */
static wg_trap *f_result_header(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  wg_memory *m = wg_instance_memory(caller);
  ARG_STR("result_header", m, 0, name, nlen);
  char key[256];
  if (nlen >= sizeof key) {
    results[0].of.i32 = -1;
    return NULL;
  }
  memcpy(key, name, nlen);
  key[nlen] = '\0';
  const char *v = wgg_hdrs_get(&env->headers, key);
  if (!v) {
    results[0].of.i32 = -1;
    return copy_out("result_header", m, (uint32_t)args[2].of.i32, (uint32_t)args[3].of.i32, "", 0);
  }
  results[0].of.i32 = (int32_t)strlen(v);
  return copy_out("result_header", m, (uint32_t)args[2].of.i32, (uint32_t)args[3].of.i32, v, strlen(v));
}

/* error(buf, cap) -> i32: length of "ERR_CODE: message" of the last failure (0 when none) */
static wg_trap *f_error(wgg_dapr_env *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  results[0].of.i32 = (int32_t)env->error.len;
  return copy_out("error", wg_instance_memory(caller), (uint32_t)args[0].of.i32, (uint32_t)args[1].of.i32,
                  env->error.data ? env->error.data : "", env->error.len);
}

static const dapr_fn fns[] = {
    {"log", 3, 0, WG_I32, f_log},
    {"state_get", 6, 1, WG_I64, f_state_get},
    {"state_save", 9, 1, WG_I64, f_state_save},
    {"state_delete", 7, 1, WG_I64, f_state_delete},
    {"publish", 8, 1, WG_I64, f_publish},
    {"invoke", 12, 1, WG_I64, f_invoke},
    {"binding", 10, 1, WG_I64, f_binding},
    {"request", 8, 1, WG_I64, f_request},
    {"secret_get", 6, 1, WG_I64, f_secret_get},
    {"result_status", 0, 1, WG_I32, f_result_status},
    {"result_body", 3, 1, WG_I32, f_result_body},
    {"result_header", 4, 1, WG_I32, f_result_header},
    {"error", 2, 1, WG_I32, f_error},
};

typedef struct fn_env {
  wgg_dapr_env *env;
  const dapr_fn *def;
} fn_env;

static wg_trap *host_entry(void *p, wg_instance *caller, const wg_val *args, wg_val *results) {
  fn_env *e = p;
  if (e->env->op) /* a parked operation is still pending: cannot happen from a parked guest */
    return wg_trap_new(WG_TRAP_HOST, "dapr:v1: a call is already in flight");
  return e->def->fn(e->env, caller, args, results);
}

bool wgg_dapr_link(wgg_dapr_env *env, wg_store *s, const wg_module *m, wg_extern *imports, char *msg, size_t msglen) {
  static const wg_valtype i32s[16] = {WG_I32, WG_I32, WG_I32, WG_I32, WG_I32, WG_I32, WG_I32, WG_I32,
                                      WG_I32, WG_I32, WG_I32, WG_I32, WG_I32, WG_I32, WG_I32, WG_I32};
  size_t ml = strlen(WGG_DAPR_MODULE);
  uint32_t n = wg_module_import_count(m);
  for (uint32_t k = 0; k < n; k++) {
    wg_extern_desc d;
    if (!wg_module_import(m, k, &d) || d.module_len != ml || memcmp(d.module, WGG_DAPR_MODULE, ml)) continue;
    const dapr_fn *def = NULL;
    for (size_t j = 0; j < sizeof fns / sizeof fns[0] && !def; j++)
      if (strlen(fns[j].name) == d.name_len && !memcmp(fns[j].name, d.name, d.name_len)) def = &fns[j];
    if (!def || d.kind != WG_EXTERN_FUNC) {
      snprintf(msg, msglen, "unknown import %s.%.*s", WGG_DAPR_MODULE, (int)d.name_len, d.name);
      return false;
    }
    wg_externtype t;
    wg_module_extern_type(m, WG_EXTERN_FUNC, d.index, &t);
    bool ok = t.func.nparams == def->np && t.func.nresults == def->nr && (!def->nr || t.func.results[0] == def->res);
    for (uint32_t p = 0; ok && p < def->np; p++) ok = t.func.params[p] == WG_I32;
    if (!ok) {
      snprintf(msg, msglen, "import %s.%s has the wrong signature: want (%u x i32) -> %s", WGG_DAPR_MODULE, def->name,
               def->np, def->nr ? wg_valtype_name(def->res) : "()");
      return false;
    }
    fn_env *e = malloc(sizeof *e);
    if (!e) {
      snprintf(msg, msglen, "out of memory");
      return false;
    }
    *e = (fn_env){env, def};
    wg_valtype res[1] = {def->res};
    wg_functype_desc ft = {def->np, def->nr, i32s, res};
    wg_func *f = wg_func_new_host(s, &ft, host_entry, e, free);
    if (!f) {
      free(e);
      snprintf(msg, msglen, "out of memory");
      return false;
    }
    imports[k] = (wg_extern){.kind = WG_EXTERN_FUNC, .of.func = f};
  }
  return true;
}
