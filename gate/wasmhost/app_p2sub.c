/*
 * app_p2sub.c: the handlers besides wasi:http a component app may export,
 * called for the app-channel calls the sidecar makes on its own (issue 14;
 * docs/components.md "Subscribers and input bindings"): pub/sub deliveries,
 * the app's programmatic subscriptions and input-binding events. They are
 * the component counterparts of the AppCallback methods a gRPC app serves
 * (api/appchannel_grpc.h), chosen by the same WGG_APP_CALL_KIND words, and
 * answer in the HTTP shape deliver.c and input_bindings.c already read, so
 * retries by the resiliency policy, DROP to the dead-letter topic, and
 * input-binding replies behave exactly as for an HTTP app:
 *
 *   "topic P T PATH"  the first of
 *       dapr:runtime/subscriber@0.1.0 handle-event(PATH, cloudevent):
 *         ok -> SUCCESS, err(retry) -> RETRY, err(drop) -> DROP;
 *       wasi:messaging/incoming-handler@0.2.0-draft handle(message) (data,
 *         content type = datacontenttype, topic T, metadata: pubsubname, id,
 *         source, type, and traceparent/tracestate when set):
 *         ok -> SUCCESS, err(_) -> RETRY;
 *       wasmcloud:messaging/handler@0.2.0 handle-message({subject T, body,
 *         reply-to none}): ok -> SUCCESS, err(_) -> RETRY;
 *     answered 200 {"status": ...}; a trap answers 500 (retried, as daprd
 *     treats an HTTP app's 500).
 *   "bulk P T PATH"  (bulkSubscribe) each entry's event to the same handler
 *     in turn, answered {"statuses": [{entryId, status}]}; an entry whose
 *     call fails is RETRY.
 *   "subscriptions"  dapr:runtime subscriber.subscriptions() as GET
 *     /dapr/subscribe's JSON ([{pubsubname, topic, route, metadata}]).
 *   "bindings NAME"  (the OPTIONS probe) 200 when input-bindings is exported.
 *   "binding NAME"   dapr:runtime/input-bindings@0.1.0 handle-binding(NAME,
 *     body, the request's headers as metadata): ok(some(d)) -> 200 with body
 *     d (an input binding's reply, input_reply.c), ok(none) -> 200, err(m)
 *     -> 500 m.
 *   "health"  200 for a component without wasi:http (nothing else to ask).
 * Any other kind, or a kind whose handler the component does not export,
 * goes to its wasi:http handler as an HTTP request (1 to the caller).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/client.h"
#include "util/log.h"
#include "wasmhost/p2app_internal.h"

#define DAPR_SUB "dapr:runtime/subscriber@0.1.0"
#define DAPR_INPUT "dapr:runtime/input-bindings@0.1.0"
#define WASI_MSG "wasi:messaging/incoming-handler@0.2.0-draft"
#define WASMCLOUD_MSG "wasmcloud:messaging/handler@0.2.0"

unsigned wgg_p2app_exports_of(const wg_component *c) {
  static const struct { const char *prefix; unsigned bit; } known[] = {
      {"dapr:runtime/subscriber@0.1.", WGG_P2X_DAPR_SUB},
      {"dapr:runtime/input-bindings@0.1.", WGG_P2X_DAPR_INPUT},
      {"wasi:messaging/incoming-handler@0.2.0-draft", WGG_P2X_WASI_MSG},
      {"wasmcloud:messaging/handler@0.2.", WGG_P2X_WASMCLOUD_MSG}};
  unsigned bits = 0;
  for (uint32_t i = 0; i < wg_component_export_count(c); i++) {
    wg_component_extern x;
    if (!wg_component_export(c, i, &x) || x.sort != WG_COMPONENT_INSTANCE) continue;
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
      if (!strncmp(x.name, known[k].prefix, strlen(known[k].prefix))) bits |= known[k].bit;
  }
  return bits;
}

/* ---- answers ---- */

static void answer(wgg_http_client_cb cb, void *user, int status, const char *ctype, const char *body, size_t len) {
  wgg_http_header h = {"Content-Type", ctype};
  wgg_http_response resp = {status, &h, 1, body ? body : "", len};
  cb(user, &resp, NULL);
}

static void answer_status(wgg_http_client_cb cb, void *user, const char *status) {
  char b[40];
  int n = snprintf(b, sizeof b, "{\"status\":\"%s\"}", status);
  answer(cb, user, 200, "application/json", b, (size_t)n);
}

static void answer_text(wgg_http_client_cb cb, void *user, int status, const char *msg) {
  answer(cb, user, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* ---- values ---- */

static bool str_val(wg_cval *v, const char *s) { return wg_cval_string(v, s ? s : "", s ? strlen(s) : 0); }

/* A metadata list (list<tuple<string, string>>) of n pairs kv[2i], kv[2i+1]. */
static bool meta_val(wg_cval *v, const char *const *kv, size_t n) {
  *v = (wg_cval){.kind = WG_CVAL_LIST};
  if (!n) return true;
  if (!(v->of.seq.ptr = wg_cval_array(n))) return false;
  v->of.seq.len = n;
  for (size_t i = 0; i < n; i++) {
    wg_cval *t = &v->of.seq.ptr[i];
    t->kind = WG_CVAL_TUPLE;
    if (!(t->of.seq.ptr = wg_cval_array(2))) return false;
    t->of.seq.len = 2;
    if (!str_val(&t->of.seq.ptr[0], kv[2 * i]) || !str_val(&t->of.seq.ptr[1], kv[2 * i + 1])) return false;
  }
  return true;
}

static int b64v(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

/* Standard (or URL) base64 without checks beyond skipping what is not a digit; malloc'd. */
static char *unbase64(const char *s, size_t *n) {
  size_t l = strlen(s);
  char *o = malloc(l / 4 * 3 + 3);
  if (!o) return NULL;
  uint32_t acc = 0;
  int bits = 0;
  *n = 0;
  for (; *s; s++) {
    int d = b64v((unsigned char)*s);
    if (d < 0) continue;
    acc = acc << 6 | (uint32_t)d;
    if ((bits += 6) >= 8) o[(*n)++] = (char)(acc >> (bits -= 8));
  }
  return o;
}

/* An event's data as bytes: data_base64 decoded, a string's text, other JSON as its text. */
static char *event_data(json_t *ce, size_t *n) {
  const char *b64 = json_string_value(json_object_get(ce, "data_base64"));
  if (b64) return unbase64(b64, n);
  json_t *d = json_object_get(ce, "data");
  if (json_is_string(d)) {
    *n = json_string_length(d);
    char *p = malloc(*n + 1);
    if (p) memcpy(p, json_string_value(d), *n + 1);
    return p;
  }
  if (!d || json_is_null(d)) {
    *n = 0;
    return calloc(1, 1);
  }
  char *t = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
  *n = t ? strlen(t) : 0;
  return t;
}

static const char *ce_str(json_t *ce, const char *k) {
  const char *s = json_string_value(json_object_get(ce, k));
  return s ? s : "";
}

/* dapr:runtime cloudevent record: id, source, type, specversion, datacontenttype, data, topic,
 * pubsubname, extensions (every other attribute; strings as they are, other JSON as text). */
static bool cloudevent_val(wg_cval *v, json_t *ce, const char *pubsub, const char *topic) {
  static const char *const own[] = {"id", "source", "type", "specversion", "datacontenttype", "data",
                                    "data_base64", "topic", "pubsubname"};
  wg_cval *f = wg_cval_array(9);
  if (!f) return false;
  *v = (wg_cval){.kind = WG_CVAL_RECORD, .of.seq = {f, 9}};
  size_t dn = 0;
  char *data = event_data(ce, &dn);
  bool ok = data && str_val(&f[0], ce_str(ce, "id")) && str_val(&f[1], ce_str(ce, "source")) &&
            str_val(&f[2], ce_str(ce, "type")) && str_val(&f[3], ce_str(ce, "specversion")) &&
            str_val(&f[4], ce_str(ce, "datacontenttype")) && wg_cval_bytes(&f[5], (const uint8_t *)data, dn) &&
            str_val(&f[6], topic) && str_val(&f[7], pubsub);
  free(data);
  size_t cap = json_object_size(ce), n = 0;
  const char **kv = ok ? calloc(2 * cap + 1, sizeof *kv) : NULL;
  char **texts = ok ? calloc(cap + 1, sizeof *texts) : NULL;
  ok = ok && kv && texts;
  const char *k;
  json_t *x;
  json_object_foreach(ce, k, x) {
    if (!ok) break;
    bool skip = false;
    for (size_t i = 0; i < sizeof own / sizeof *own; i++) skip |= !strcmp(k, own[i]);
    if (skip) continue;
    const char *s = json_string_value(x);
    if (!s) ok = (s = texts[n] = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL;
    kv[2 * n] = k;
    kv[2 * n + 1] = s;
    n++;
  }
  ok = ok && meta_val(&f[8], kv, n);
  for (size_t i = 0; texts && i < n; i++) free(texts[i]);
  free(texts);
  free(kv);
  return ok;
}

/* ---- what the component answers (its export's type is its own: check every shape read) ---- */

static bool is_str(const wg_cval *v) { return v && v->kind == WG_CVAL_STRING; }

/* metadata: list<tuple<string, string>> */
static bool is_meta(const wg_cval *v) {
  if (!v || v->kind != WG_CVAL_LIST) return false;
  for (size_t i = 0; i < v->of.seq.len; i++) {
    const wg_cval *t = &v->of.seq.ptr[i];
    if (t->kind != WG_CVAL_TUPLE || t->of.seq.len != 2 || !is_str(&t->of.seq.ptr[0]) || !is_str(&t->of.seq.ptr[1]))
      return false;
  }
  return true;
}

/* list<subscription { pubsubname, topic, route, metadata }> */
static bool is_subscriptions(const wg_cval *v) {
  if (!v || v->kind != WG_CVAL_LIST) return false;
  for (size_t i = 0; i < v->of.seq.len; i++) {
    const wg_cval *r = &v->of.seq.ptr[i];
    if (r->kind != WG_CVAL_RECORD || r->of.seq.len != 4 || !is_str(&r->of.seq.ptr[0]) || !is_str(&r->of.seq.ptr[1]) ||
        !is_str(&r->of.seq.ptr[2]) || !is_meta(&r->of.seq.ptr[3]))
      return false;
  }
  return true;
}

/* ---- calls ---- */

/* A message for wasi:messaging's handler, made once the instance it goes to is known. */
typedef struct incoming {
  const char *topic, *data, *ctype;
  size_t len, nm;
  const char *const *kv;
} incoming;

/* Calls iface#name with args on an instance (in: args[0] is first made as that message, owned by
 * the instance); false with msg on a trap, OOM or a missing export. The results are the caller's
 * to free. */
static bool call(wgg_wasm_app *a, const char *iface, const char *name, wg_cval *args, size_t nargs, wg_cval *res,
                 const incoming *in, uint64_t timeout_ms, char *msg, size_t cap) {
  wgg_err err;
  struct p2inst *i = wgg_p2app_take(a, &err);
  if (!i) {
    snprintf(msg, cap, "%s", err.msg);
    wgg_error("%s", err.msg);
    return false;
  }
  wg_component_func *f = wgg_p2inst_func(i, iface, name);
  bool made = !in || (wgg_p2app_msg_host(a) &&
                      wgg_p2_messaging_incoming(wgg_p2app_msg_host(a), i, in->topic, in->data, in->len, in->ctype,
                                                in->kv, in->nm, &args[0]));
  if (!made) snprintf(msg, cap, "out of memory");
  bool ok = made && f && wgg_p2inst_call(a, i, f, args, nargs, res, 1, timeout_ms, msg, cap);
  if (!f) snprintf(msg, cap, "the component exports no %s#%s", iface, name);
  wgg_p2app_give(a, i, ok);
  return ok;
}

static void free_args(wg_cval *args, size_t n) {
  for (size_t i = 0; i < n; i++) wg_cval_free(&args[i]);
}

/* One event (ce) to the first handler the component exports (see the top): "SUCCESS", "RETRY" or
 * "DROP", or NULL with msg when the call failed (a trap, OOM, an answer of another type). */
static const char *deliver_one(wgg_wasm_app *a, unsigned x, const char *pubsub, const char *topic, const char *path,
                               json_t *ce, uint64_t timeout_ms, char *msg, size_t cap) {
  wg_cval args[2] = {0}, res = {0};
  size_t nargs = 1;
  const char *iface, *fn;
  bool ok;
  incoming inc, *in = NULL;
  char *data = NULL;
  const char *kv[12]; /* the message's metadata: alive until call() made it */
  if (x & WGG_P2X_DAPR_SUB) {
    iface = DAPR_SUB, fn = "handle-event", nargs = 2;
    ok = str_val(&args[0], path) && cloudevent_val(&args[1], ce, pubsub, topic);
  } else {
    size_t dn = 0;
    data = event_data(ce, &dn);
    if (x & WGG_P2X_WASI_MSG) {
      iface = WASI_MSG, fn = "handle";
      const char *kv0[8] = {"pubsubname", pubsub, "id", ce_str(ce, "id"), "source", ce_str(ce, "source"),
                            "type", ce_str(ce, "type")};
      memcpy(kv, kv0, sizeof kv0);
      size_t nm = 4;
      for (const char *const *t = (const char *const[]){"traceparent", "tracestate", NULL}; *t; t++)
        if (*ce_str(ce, *t)) kv[2 * nm] = *t, kv[2 * nm + 1] = ce_str(ce, *t), nm++;
      const char *ct = ce_str(ce, "datacontenttype");
      inc = (incoming){.topic = topic, .data = data, .len = dn, .ctype = *ct ? ct : NULL, .kv = kv, .nm = nm};
      in = &inc; /* made by call() for the instance it goes to */
      ok = data != NULL;
    } else {
      iface = WASMCLOUD_MSG, fn = "handle-message";
      wg_cval *f = wg_cval_array(3); /* broker-message { subject, body, reply-to: none } */
      args[0] = (wg_cval){.kind = WG_CVAL_RECORD, .of.seq = {f, f ? 3 : 0}};
      ok = f && data && str_val(&f[0], topic) && wg_cval_bytes(&f[1], (const uint8_t *)data, dn);
      if (f) f[2] = (wg_cval){.kind = WG_CVAL_OPTION};
    }
  }
  if (!ok) snprintf(msg, cap, "out of memory");
  ok = ok && call(a, iface, fn, args, nargs, &res, in, timeout_ms, msg, cap);
  free(data);
  free_args(args, nargs);
  if (!ok) return NULL;
  const char *status = "SUCCESS";
  if (res.kind != WG_CVAL_RESULT) {
    wg_cval_free(&res);
    snprintf(msg, cap, "the handler's result is not a result");
    return NULL;
  }
  if (res.of.var.disc == 1) {
    status = "RETRY"; /* an error from a messaging handler: redelivered, as an HTTP app's failure */
    if ((x & WGG_P2X_DAPR_SUB) && res.of.var.val && res.of.var.val->kind == WG_CVAL_ENUM &&
        res.of.var.val->of.var.disc == 1)
      status = "DROP";
    if (!(x & WGG_P2X_DAPR_SUB) && res.of.var.val && res.of.var.val->kind == WG_CVAL_STRING)
      wgg_warn("wasm app %s: %s on topic %s: %.*s", a->name, fn, topic,
               (int)(res.of.var.val->of.str.len > 300 ? 300 : res.of.var.val->of.str.len), res.of.var.val->of.str.ptr);
  }
  wg_cval_free(&res);
  return status;
}

/* A pub/sub delivery: {"status": ...}, or 500 when the call failed (retried, as daprd). */
static void deliver(wgg_wasm_app *a, unsigned x, const char *pubsub, const char *topic, const char *path,
                    const char *body, size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  json_t *ce = json_loadb(body, len, 0, NULL);
  char msg[512];
  const char *status = json_is_object(ce) ? deliver_one(a, x, pubsub, topic, path, ce, timeout_ms, msg, sizeof msg)
                                          : "DROP"; /* deliver.c always sends a CloudEvent */
  json_decref(ce);
  if (status) answer_status(cb, user, status);
  else answer_text(cb, user, 500, msg);
}

/* A bulk delivery ({"entries": [{"entryId", "event", ...}]}): each entry to the handler in turn,
 * answered {"statuses": [{"entryId", "status"}]} as an HTTP app answers; an entry whose call
 * failed is RETRY (the others keep their status). */
static void deliver_bulk(wgg_wasm_app *a, unsigned x, const char *pubsub, const char *topic, const char *path,
                         const char *body, size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  json_t *doc = json_loadb(body, len, 0, NULL), *entries = json_object_get(doc, "entries"), *e;
  json_t *statuses = json_array();
  size_t i;
  json_array_foreach(entries, i, e) {
    const char *id = json_string_value(json_object_get(e, "entryId"));
    json_t *ce = json_object_get(e, "event");
    char msg[512];
    const char *st = json_is_object(ce) ? deliver_one(a, x, pubsub, topic, path, ce, timeout_ms, msg, sizeof msg)
                                        : "DROP";
    if (id && statuses) json_array_append_new(statuses, json_pack("{s:s,s:s}", "entryId", id, "status", st ? st : "RETRY"));
  }
  json_t *ans = statuses ? json_pack("{s:o}", "statuses", statuses) : NULL;
  char *text = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
  json_decref(ans);
  json_decref(doc);
  if (text) answer(cb, user, 200, "application/json", text, strlen(text));
  else answer_text(cb, user, 500, "out of memory");
  free(text);
}

/* subscriptions() as GET /dapr/subscribe's JSON. */
static void subscriptions(wgg_wasm_app *a, uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  wg_cval res = {0};
  char msg[512];
  if (!call(a, DAPR_SUB, "subscriptions", NULL, 0, &res, NULL, timeout_ms, msg, sizeof msg)) {
    answer_text(cb, user, 500, msg);
    return;
  }
  if (!is_subscriptions(&res)) {
    wg_cval_free(&res);
    answer_text(cb, user, 500, "subscriptions() answered another type than list<subscription>");
    return;
  }
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < res.of.seq.len; i++) {
    const wg_cval *f = res.of.seq.ptr[i].of.seq.ptr; /* pubsubname, topic, route, metadata */
    json_t *md = json_object();
    for (size_t k = 0; md && k < f[3].of.seq.len; k++) {
      const wg_cval *t = f[3].of.seq.ptr[k].of.seq.ptr;
      char *key = strndup(t[0].of.str.ptr, t[0].of.str.len); /* jansson keys end in NUL */
      if (key) json_object_set_new(md, key, json_stringn(t[1].of.str.ptr, t[1].of.str.len));
      free(key);
    }
    json_array_append_new(arr, json_pack("{s:s%,s:s%,s:s%,s:o}", "pubsubname", f[0].of.str.ptr, f[0].of.str.len,
                                         "topic", f[1].of.str.ptr, f[1].of.str.len, "route", f[2].of.str.ptr,
                                         f[2].of.str.len, "metadata", md ? md : json_object()));
  }
  wg_cval_free(&res);
  char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  if (!text) answer_text(cb, user, 500, "out of memory");
  else answer(cb, user, 200, "application/json", text, strlen(text));
  free(text);
}

/* handle-binding(name, data, metadata = the request's headers). */
static void binding(wgg_wasm_app *a, const char *name, const wgg_http_header *h, size_t n, const char *body,
                    size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  const char **kv = calloc(2 * n + 1, sizeof *kv);
  size_t m = 0;
  for (size_t i = 0; kv && i < n; i++)
    if (strcasecmp(h[i].name, "content-type")) kv[2 * m] = h[i].name, kv[2 * m + 1] = h[i].value, m++;
  wg_cval args[3] = {0}, res = {0};
  bool ok = kv && str_val(&args[0], name) && wg_cval_bytes(&args[1], (const uint8_t *)body, len) &&
            meta_val(&args[2], kv, m);
  free(kv);
  char msg[512] = "out of memory";
  ok = ok && call(a, DAPR_INPUT, "handle-binding", args, 3, &res, NULL, timeout_ms, msg, sizeof msg);
  free_args(args, 3);
  if (!ok) {
    answer_text(cb, user, 500, msg);
    return;
  }
  const wg_cval *v = res.kind == WG_CVAL_RESULT ? res.of.var.val : NULL; /* ok: option<list<u8>>; err: string */
  if (res.kind != WG_CVAL_RESULT || (v && !(res.of.var.disc == 1 ? is_str(v) : v->kind == WG_CVAL_OPTION)) ||
      (v && res.of.var.disc == 0 && v->of.var.disc == 1 &&
       (!v->of.var.val || (v->of.var.val->kind != WG_CVAL_BYTES && v->of.var.val->kind != WG_CVAL_LIST)))) {
    wg_cval_free(&res);
    answer_text(cb, user, 500, "handle-binding answered another type than result<option<list<u8>>, string>");
    return;
  }
  if (res.of.var.disc == 1 && v) {
    answer(cb, user, 500, "text/plain; charset=utf-8", v->of.str.ptr, v->of.str.len);
  } else if (v && v->of.var.disc == 1 && v->of.var.val) {
    const wg_cval *d = v->of.var.val;
    if (d->kind == WG_CVAL_BYTES) {
      answer(cb, user, 200, "application/octet-stream", (const char *)d->of.bytes.ptr, d->of.bytes.len);
    } else { /* a LIST (never lifted so for list<u8>: the engine lifts BYTES) */
      char *b = malloc(d->of.seq.len + 1);
      for (size_t i = 0; b && i < d->of.seq.len; i++) b[i] = (char)d->of.seq.ptr[i].of.u;
      answer(cb, user, b ? 200 : 500, "application/octet-stream", b ? b : "out of memory", b ? d->of.seq.len : 13);
      free(b);
    }
  } else {
    answer(cb, user, 200, "text/plain", "", 0);
  }
  wg_cval_free(&res);
}

int wgg_p2app_callback(wgg_wasm_app *a, const char *kind, const wgg_http_header *headers, size_t n,
                       const char *body, size_t len, uint64_t timeout_ms, wgg_http_client_cb cb, void *user) {
  unsigned x = wgg_p2app_exports(a);
  if (!x || !kind) return 1;
  const char *sep = strchr(kind, '\x1f');
  size_t wl = sep ? (size_t)(sep - kind) : strlen(kind);
  char word[16];
  if (wl >= sizeof word) return 1;
  memcpy(word, kind, wl);
  word[wl] = '\0';
  if ((!strcmp(word, "topic") || !strcmp(word, "bulk")) &&
      (x & (WGG_P2X_DAPR_SUB | WGG_P2X_WASI_MSG | WGG_P2X_WASMCLOUD_MSG))) {
    char *args = strdup(sep ? sep + 1 : ""), *topic = NULL, *path = NULL;
    if (!args) return -1;
    if ((topic = strchr(args, '\x1f'))) *topic++ = '\0';
    if (topic && (path = strchr(topic, '\x1f'))) *path++ = '\0';
    (word[0] == 't' ? deliver : deliver_bulk)(a, x, args, topic ? topic : "", path ? path : "", body, len,
                                               timeout_ms, cb, user);
    free(args);
    return 0;
  }
  if (!strcmp(word, "subscriptions") && (x & WGG_P2X_DAPR_SUB)) {
    subscriptions(a, timeout_ms, cb, user);
    return 0;
  }
  if (!strcmp(word, "bindings") && (x & WGG_P2X_DAPR_INPUT)) {
    answer(cb, user, 200, "text/plain", "", 0);
    return 0;
  }
  if (!strcmp(word, "binding") && sep && (x & WGG_P2X_DAPR_INPUT)) {
    binding(a, sep + 1, headers, n, body, len, timeout_ms, cb, user);
    return 0;
  }
  if (!strcmp(word, "health") && !wgg_p2app_has_http(a)) {
    answer(cb, user, 200, "text/plain", "", 0);
    return 0;
  }
  return 1;
}
