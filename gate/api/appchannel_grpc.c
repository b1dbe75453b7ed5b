/*
 * appchannel_grpc.c: see appchannel_grpc.h. Each call packs its request
 * message here, runs on the loop's gRPC client, and its result is turned
 * back into the HTTP-shaped answer the caller (invoke, pub/sub delivery,
 * input bindings, app health) already understands.
 */
#include "api/appchannel_grpc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dapr/proto/runtime/v1/appcallback.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "grpc/client.h"
#include "grpc/protojson.h"
#include "grpc/topic_event.h"
#include "grpc/wire.h"
#include "observe/metrics.h"
#include "util/buf.h"
#include "util/log.h"

enum { K_INVOKE, K_SUBS, K_TOPIC, K_BULK, K_BINDINGS, K_BINDING, K_JOB, K_HEALTH };

typedef struct gx {
  int kind;
  char *arg; /* the binding's name */
  wgg_metrics *metrics; /* dapr_grpc_io_client_* of the app ID */
  const char *path;     /* the method called (static) */
  uint64_t t0, sent;
  wgg_http_client_cb cb;
  void *user;
} gx;

bool wgg_app_is_grpc(const wgg_options *o) {
  return o->app_port > 0 && o->app_protocol && !strcmp(o->app_protocol, "grpc") && !(o->app_wasm && *o->app_wasm);
}

static void client_close(void *g) {
  wgg_grpc_client_close(g);
}

/* The loop's gRPC client of the app, made on first use. */
static wgg_grpc_client *client_of(wgg_api *api, wgg_http_client *cl) {
  wgg_grpc_client *g = wgg_http_client_ext(cl);
  if (g) return g;
  const wgg_options *o = api->opts;
  g = wgg_grpc_client_new(wgg_http_client_loop(cl), o->app_channel_address, o->app_port, o->max_body_size);
  if (g) wgg_http_client_set_ext(cl, g, client_close);
  return g;
}

/* daprd's invokev1.HTTPStatusFromCode. */
static int http_from_code(int code) {
  static const int map[] = {200, 408, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401};
  return code >= 0 && code < (int)(sizeof map / sizeof *map) ? map[code] : 500;
}

/* ---- answers ---- */

static void reply(gx *x, int status, const char *ct, const wgg_http_header *extra, size_t n_extra, const char *body,
                  size_t len) {
  wgg_http_header h[64];
  size_t n = 0;
  if (ct && *ct) h[n++] = (wgg_http_header){"Content-Type", (char *)ct};
  for (size_t i = 0; i < n_extra && n < sizeof h / sizeof *h; i++) h[n++] = extra[i];
  wgg_http_response r = {.status = status, .headers = h, .n_headers = n, .body = body, .body_len = len};
  x->cb(x->user, &r, NULL);
}

static void reply_json(gx *x, int status, json_t *j) {
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  reply(x, s ? status : 500, "application/json", NULL, 0, s ? s : "", s ? strlen(s) : 0);
  free(s);
}

/* A failed call as HTTP: daprd's status mapping and the google.rpc.Status
 * as protojson ({"code","message"}, zero values left out). */
static void reply_status(gx *x, int code, const char *message) {
  json_t *j = json_object();
  if (code) json_object_set_new(j, "code", json_integer(code));
  if (message && *message) json_object_set_new(j, "message", json_string(message));
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  reply(x, http_from_code(code), "text/plain; charset=utf-8", NULL, 0, s ? s : "", s ? strlen(s) : 0);
  free(s);
}

static json_t *map_json(void **entries, size_t n) {
  json_t *o = json_object();
  for (size_t i = 0; i < n; i++) {
    Dapr__Proto__Runtime__V1__TopicSubscription__MetadataEntry *e = entries[i]; /* every string map entry alike */
    json_object_set_new(o, e->key, json_string(e->value));
  }
  return o;
}

/* The app's answer to OnInvoke in the HTTP shape, as daprd's HTTP invoke
 * route makes it (pkg/api/http/directmessaging.go): the app's headers (not
 * gRPC's own, "-bin" ones, content-type or the trace headers), and either
 * the data with its content type (application/x-protobuf when the Any has a
 * type_url) or, for an error, HTTPStatusFromCode with the google.rpc.Status
 * (code, message, details) as protojson; details of a type this build does
 * not know fail as daprd's do, 500 ERR_MALFORMED_RESPONSE. The internal
 * WGG_INVOKE_GRPC_* headers (api/appchannel_grpc.h) carry the status, details, type_url
 * and trailers unchanged to InvokeService. */
static void on_invoke(gx *x, const wgg_grpc_result *r) {
  Dapr__Proto__Common__V1__InvokeResponse *m = NULL;
  if (r->code == WGG_GRPC_OK && !(m = dapr__proto__common__v1__invoke_response__unpack(NULL, r->len, r->msg))) {
    reply_status(x, WGG_GRPC_INTERNAL, "failed to parse the app's InvokeResponse");
    return;
  }
  wgg_http_header h[64];
  size_t n = 0, cap = sizeof h / sizeof *h - 6;
  const char *details = NULL;
  for (size_t i = 0; i < r->n_md; i++)
    if (!strcmp(r->md[i].name, "grpc-status-details-bin")) details = r->md[i].value;
  char code[16];
  snprintf(code, sizeof code, "%d", r->code);
  h[n++] = (wgg_http_header){WGG_INVOKE_GRPC_STATUS, code};
  char msg[1024]; /* as much as the gRPC server sends of a message (a header on a hop must stay small) */
  snprintf(msg, sizeof msg, "%s", r->message);
  if (r->code) h[n++] = (wgg_http_header){WGG_INVOKE_GRPC_MESSAGE, msg};
  if (r->code && details) h[n++] = (wgg_http_header){WGG_INVOKE_GRPC_DETAILS, (char *)details};
  const Google__Protobuf__Any *d = m ? m->data : NULL;
  if (d && d->type_url && *d->type_url) {
    h[n++] = (wgg_http_header){WGG_INVOKE_GRPC_TYPE_URL, d->type_url};
    h[n++] = (wgg_http_header){WGG_INVOKE_GRPC_CONTENT_TYPE, m->content_type};
  }
  wgg_buf names = {0}; /* ":wg-trailer:<name>\0" / ":wg-bin:<name>\0" for each, then pointed at */
  size_t first_named = n;
  for (size_t i = 0; i < r->n_md && n < cap; i++) {
    const char *k = r->md[i].name;
    size_t kl = strlen(k);
    if (i >= r->n_head) {
      if (!strcmp(k, "grpc-status-details-bin")) continue;
      if (wgg_buf_printf(&names, "%s%s", WGG_INVOKE_GRPC_TRAILER, k) || wgg_buf_append(&names, "", 1)) break;
      h[n++] = (wgg_http_header){NULL, r->md[i].value};
      continue;
    }
    if (!strcmp(k, "content-type") || !strncmp(k, "grpc-", 5) || !strcmp(k, "traceparent") ||
        !strcmp(k, "tracestate"))
      continue;
    if (kl > 4 && !strcmp(k + kl - 4, "-bin")) {
      if (wgg_buf_printf(&names, "%s%s", WGG_INVOKE_GRPC_BIN, k) || wgg_buf_append(&names, "", 1)) break;
      h[n++] = (wgg_http_header){NULL, r->md[i].value};
      continue;
    }
    h[n++] = r->md[i];
  }
  for (size_t i = first_named, off = 0; i < n; i++) /* names is final now: point into it */
    if (!h[i].name) {
      h[i].name = names.data + off;
      off += strlen(names.data + off) + 1;
    }
  if (m) {
    const char *ct = d && d->type_url && *d->type_url ? "application/x-protobuf" : m->content_type;
    reply(x, 200, ct, h, n, d ? (const char *)d->value.data : "", d ? d->value.len : 0);
    dapr__proto__common__v1__invoke_response__free_unpacked(m, NULL);
  } else {
    size_t dl = 0;
    uint8_t *db = details ? wgg_grpc_unbase64(details, &dl) : NULL;
    char err[256];
    char *body = wgg_protojson_status(r->code, r->message, db, dl, err, sizeof err);
    if (body) {
      reply(x, http_from_code(r->code), "text/plain; charset=utf-8", h, n, body, strlen(body));
    } else {
      json_t *j = json_pack("{s:s,s:s}", "errorCode", "ERR_MALFORMED_RESPONSE", "message", err);
      char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
      json_decref(j);
      reply(x, 500, "application/json", h, n, s ? s : "", s ? strlen(s) : 0);
      free(s);
    }
    free(body);
    free(db);
  }
  wgg_buf_free(&names);
}

static void on_subs(gx *x, const wgg_grpc_result *r) {
  if (r->code) {
    if (r->code == WGG_GRPC_UNIMPLEMENTED) reply(x, 404, NULL, NULL, 0, "", 0);
    else reply_status(x, r->code, r->message);
    return;
  }
  Dapr__Proto__Runtime__V1__ListTopicSubscriptionsResponse *m =
      dapr__proto__runtime__v1__list_topic_subscriptions_response__unpack(NULL, r->len, r->msg);
  if (!m) {
    reply_status(x, WGG_GRPC_INTERNAL, "failed to parse the app's ListTopicSubscriptionsResponse");
    return;
  }
  json_t *arr = json_array();
  for (size_t i = 0; i < m->n_subscriptions; i++) {
    Dapr__Proto__Runtime__V1__TopicSubscription *s = m->subscriptions[i];
    json_t *rules = json_array();
    const char *def = s->routes && *s->routes->default_ ? s->routes->default_ : NULL;
    for (size_t k = 0; s->routes && k < s->routes->n_rules; k++)
      json_array_append_new(rules, json_pack("{s:s,s:s}", "match", s->routes->rules[k]->match, "path",
                                             s->routes->rules[k]->path));
    /* no route at all: daprd delivers with an empty path; the runtime needs one, "/" stands for it */
    if (!def && !json_array_size(rules)) def = "/";
    json_t *routes = json_pack("{s:o}", "rules", rules);
    if (def) json_object_set_new(routes, "default", json_string(def));
    json_t *j = json_pack("{s:s,s:s,s:o,s:o}", "pubsubname", s->pubsub_name, "topic", s->topic, "metadata",
                          map_json((void **)s->metadata, s->n_metadata), "routes", routes);
    if (j && *s->dead_letter_topic) json_object_set_new(j, "deadLetterTopic", json_string(s->dead_letter_topic));
    if (j && s->bulk_subscribe)
      json_object_set_new(j, "bulkSubscribe",
                          json_pack("{s:b,s:i,s:i}", "enabled", s->bulk_subscribe->enabled, "maxMessagesCount",
                                    s->bulk_subscribe->max_messages_count, "maxAwaitDurationMs",
                                    s->bulk_subscribe->max_await_duration_ms));
    json_array_append_new(arr, j);
  }
  dapr__proto__runtime__v1__list_topic_subscriptions_response__free_unpacked(m, NULL);
  reply_json(x, 200, arr);
}

static const char *status_name(int s) {
  return s == 0 ? "SUCCESS" : s == 1 ? "RETRY" : s == 2 ? "DROP" : "UNKNOWN";
}

static void on_topic(gx *x, const wgg_grpc_result *r) {
  if (r->code) { /* daprd: UNIMPLEMENTED drops, anything else retries */
    if (r->code == WGG_GRPC_UNIMPLEMENTED) reply(x, 404, NULL, NULL, 0, "", 0);
    else reply(x, 500, "text/plain", NULL, 0, r->message, strlen(r->message));
    return;
  }
  Dapr__Proto__Runtime__V1__TopicEventResponse *m =
      dapr__proto__runtime__v1__topic_event_response__unpack(NULL, r->len, r->msg);
  if (!m) {
    reply(x, 500, NULL, NULL, 0, "", 0);
    return;
  }
  reply_json(x, 200, json_pack("{s:s}", "status", status_name(m->status)));
  dapr__proto__runtime__v1__topic_event_response__free_unpacked(m, NULL);
}

static void on_bulk(gx *x, const wgg_grpc_result *r) {
  if (r->code) {
    if (r->code == WGG_GRPC_UNIMPLEMENTED) reply(x, 404, NULL, NULL, 0, "", 0);
    else reply(x, 500, "text/plain", NULL, 0, r->message, strlen(r->message));
    return;
  }
  Dapr__Proto__Runtime__V1__TopicEventBulkResponse *m =
      dapr__proto__runtime__v1__topic_event_bulk_response__unpack(NULL, r->len, r->msg);
  if (!m) {
    reply(x, 500, NULL, NULL, 0, "", 0);
    return;
  }
  json_t *st = json_array();
  for (size_t i = 0; i < m->n_statuses; i++)
    json_array_append_new(st, json_pack("{s:s,s:s}", "entryId", m->statuses[i]->entry_id, "status",
                                        status_name(m->statuses[i]->status)));
  dapr__proto__runtime__v1__topic_event_bulk_response__free_unpacked(m, NULL);
  reply_json(x, 200, json_pack("{s:o}", "statuses", st));
}

static void on_bindings(gx *x, const wgg_grpc_result *r) {
  if (r->code) {
    reply(x, r->code == WGG_GRPC_UNIMPLEMENTED ? 404 : http_from_code(r->code), NULL, NULL, 0, "", 0);
    return;
  }
  Dapr__Proto__Runtime__V1__ListInputBindingsResponse *m =
      dapr__proto__runtime__v1__list_input_bindings_response__unpack(NULL, r->len, r->msg);
  bool listed = false;
  for (size_t i = 0; m && i < m->n_bindings && !listed; i++) listed = !strcmp(m->bindings[i], x->arg);
  if (m) dapr__proto__runtime__v1__list_input_bindings_response__free_unpacked(m, NULL);
  reply(x, m ? (listed ? 200 : 404) : 500, NULL, NULL, 0, "", 0);
}

/* A JSON value from bytes: parsed when they are JSON, else a string. */
static json_t *bytes_json(const uint8_t *p, size_t len) {
  json_t *j = len ? json_loadb((const char *)p, len, JSON_DECODE_ANY, NULL) : NULL;
  return j ? j : json_stringn((const char *)p, len);
}

static void on_binding(gx *x, const wgg_grpc_result *r) {
  if (r->code) {
    reply_status(x, r->code, r->message);
    return;
  }
  Dapr__Proto__Runtime__V1__BindingEventResponse *m =
      dapr__proto__runtime__v1__binding_event_response__unpack(NULL, r->len, r->msg);
  if (!m) {
    reply_status(x, WGG_GRPC_INTERNAL, "failed to parse the app's BindingEventResponse");
    return;
  }
  /* daprd's onAppResponse, in input_reply.c's document */
  json_t *doc = json_object();
  if (*m->store_name) json_object_set_new(doc, "storeName", json_string(m->store_name));
  if (m->n_states) {
    json_t *st = json_array();
    for (size_t i = 0; i < m->n_states; i++)
      json_array_append_new(st, json_pack("{s:s,s:o}", "key", m->states[i]->key, "value",
                                          bytes_json(m->states[i]->value.data, m->states[i]->value.len)));
    json_object_set_new(doc, "state", st);
  }
  if (m->n_to) {
    json_t *to = json_array();
    for (size_t i = 0; i < m->n_to; i++) json_array_append_new(to, json_string(m->to[i]));
    json_object_set_new(doc, "to", to);
  }
  if (m->data.len) json_object_set_new(doc, "data", bytes_json(m->data.data, m->data.len));
  json_object_set_new(doc, "concurrency", json_string(m->concurrency ? "parallel" : "sequential"));
  dapr__proto__runtime__v1__binding_event_response__free_unpacked(m, NULL);
  reply_json(x, 200, doc);
}

static void on_result(void *user, const wgg_grpc_result *r) {
  gx *x = user;
  wgg_metrics_grpc(x->metrics, true, x->path, r->code, uv_hrtime() - x->t0, r->code ? 0 : r->len, x->sent);
  if (r->code) wgg_debug("app channel (gRPC): call kind %d answered %d: %s", x->kind, r->code, r->message);
  switch (x->kind) {
    case K_INVOKE: on_invoke(x, r); break;
    case K_SUBS: on_subs(x, r); break;
    case K_TOPIC: on_topic(x, r); break;
    case K_BULK: on_bulk(x, r); break;
    case K_BINDINGS: on_bindings(x, r); break;
    case K_BINDING: on_binding(x, r); break;
    case K_JOB:
      if (r->code) reply_status(x, r->code, r->message);
      else reply(x, 200, NULL, NULL, 0, "", 0);
      break;
    default:
      if (r->code) reply(x, 500, "text/plain", NULL, 0, r->message, strlen(r->message));
      else reply(x, 200, NULL, NULL, 0, "", 0);
      break;
  }
  free(x->arg);
  free(x);
}

/* ---- requests ---- */

/* HTTP headers daprd forwards as "dapr-<name>" (pkg/messaging/v1 isPermanentHTTPHeader). */
bool wgg_permanent_http_header(const char *k) {
  static const char *const names[] = {
      "accept", "accept-charset", "accept-language", "accept-ranges", "connection", "keep-alive", "proxy-connection",
      "transfer-encoding", "upgrade", "cache-control", "content-type", "content-length", "cookie", "date", "expect",
      "from", "host", "if-match", "if-modified-since", "if-none-match", "if-schedule-tag-match",
      "if-unmodified-since", "max-forwards", "origin", "pragma", "referer", "via", "warning"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcasecmp(k, names[i])) return true;
  return false;
}

/* traceparent "00-<trace id>-<span id>-<flags>" as OpenCensus' grpc-trace-bin (base64; NULL when malformed). */
static char *trace_bin(const char *tp) {
  unsigned char b[29] = {0};
  if (strlen(tp) != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return NULL;
  unsigned char *p = b;
  const struct { int field, at, bytes; } parts[] = {{0, 3, 16}, {1, 36, 8}, {2, 53, 1}};
  *p++ = 0; /* version */
  for (size_t i = 0; i < 3; i++) {
    *p++ = (unsigned char)parts[i].field;
    for (int k = 0; k < parts[i].bytes; k++) {
      unsigned v;
      if (!isxdigit((unsigned char)tp[parts[i].at + 2 * k]) || !isxdigit((unsigned char)tp[parts[i].at + 2 * k + 1]) ||
          sscanf(tp + parts[i].at + 2 * k, "%2x", &v) != 1)
        return NULL;
      *p++ = (unsigned char)v;
    }
  }
  return wgg_grpc_base64(b, sizeof b);
}

/* The call's metadata: names lower-cased (and "dapr-" prefixed where daprd
 * does it for invocations), trace headers also as grpc-trace-bin. Strings
 * are appended to owned (freed by the caller). */
static size_t metadata(const wgg_http_header *h, size_t n, bool invoke, wgg_http_header *out, size_t cap,
                       char **owned, size_t *n_owned) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    const char *name = h[i].name;
    if (!*name || name[0] == ':') continue;
    bool prefix = invoke && wgg_permanent_http_header(name);
    size_t nl = strlen(name);
    char *low = malloc(nl + 6);
    if (!low) continue;
    owned[(*n_owned)++] = low;
    strcpy(low, prefix ? "dapr-" : "");
    for (size_t j = 0; j <= nl; j++) low[(prefix ? 5 : 0) + j] = (char)tolower((unsigned char)name[j]);
    out[k++] = (wgg_http_header){low, h[i].value};
    if (!strcmp(low, "traceparent")) {
      char *tb = trace_bin(h[i].value);
      if (tb) {
        owned[(*n_owned)++] = tb;
        out[k++] = (wgg_http_header){"grpc-trace-bin", tb};
      }
    }
  }
  return k;
}

static const char *header(const wgg_http_header *h, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(h[i].name, name)) return h[i].value;
  return NULL;
}

static int verb_of(const char *m) {
  static const char *const v[] = {"", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (int i = 1; i < (int)(sizeof v / sizeof *v); i++)
    if (!strcmp(m, v[i])) return i;
  return 0;
}

/* Packs m into a malloc'd buffer. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
  *len = protobuf_c_message_get_packed_size(m);
  uint8_t *p = malloc(*len ? *len : 1);
  if (p) protobuf_c_message_pack(m, p);
  return p;
}

static uint8_t *pack_invoke(const char *method, const char *target, const char *ct, const char *body, size_t len,
                            size_t *out_len) {
  const char *q = strchr(target, '?');
  char *name = wgg_strndup(target[0] == '/' ? target + 1 : target,
                           q ? (size_t)(q - target) - (target[0] == '/') : strlen(target) - (target[0] == '/'));
  if (!name) return NULL;
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.value.data = (uint8_t *)body;
  any.value.len = len;
  Dapr__Proto__Common__V1__HTTPExtension hx = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
  hx.verb = (Dapr__Proto__Common__V1__HTTPExtension__Verb)verb_of(method);
  hx.querystring = (char *)(q ? q + 1 : "");
  Dapr__Proto__Common__V1__InvokeRequest m = DAPR__PROTO__COMMON__V1__INVOKE_REQUEST__INIT;
  m.method = name;
  m.data = &any;
  m.content_type = (char *)(ct ? ct : "");
  m.http_extension = &hx;
  uint8_t *p = pack(&m.base, out_len);
  free(name);
  return p;
}

/* pubsub and topic are the subscription's (a dead-letter delivery keeps the event's own topic attribute). */
static uint8_t *pack_topic(const char *pubsub, const char *topic, const char *path, const char *body, size_t len,
                           size_t *out_len) {
  json_t *ce = json_loadb(body, len, 0, NULL);
  if (!json_is_object(ce)) {
    json_decref(ce);
    return NULL;
  }
  Dapr__Proto__Runtime__V1__TopicEventRequest ev;
  wgg_topic_event_scratch sc;
  uint8_t *p = NULL;
  if (!wgg_grpc_topic_event(ce, pubsub, topic, path, &ev, &sc)) {
    p = pack(&ev.base, out_len);
    wgg_grpc_topic_event_free(&sc);
  }
  json_decref(ce);
  return p;
}

/* The bulk envelope of pubsub/bulk.c as a TopicEventBulkRequest. */
static uint8_t *pack_bulk(const char *pubsub, const char *topic, const char *path, const char *body, size_t len,
                          size_t *out_len) {
  json_t *doc = json_loadb(body, len, 0, NULL);
  json_t *entries = json_object_get(doc, "entries");
  size_t n = json_array_size(entries);
  Dapr__Proto__Runtime__V1__TopicEventBulkRequest m = DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_BULK_REQUEST__INIT;
  Dapr__Proto__Runtime__V1__TopicEventBulkRequestEntry *ents = calloc(n ? n : 1, sizeof *ents);
  Dapr__Proto__Runtime__V1__TopicEventBulkRequestEntry **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  Dapr__Proto__Runtime__V1__TopicEventCERequest *ces = calloc(n ? n : 1, sizeof *ces);
  wgg_topic_event_scratch *sc = calloc(n ? n : 1, sizeof *sc);
  uint8_t *p = NULL;
  size_t done = 0;
  if (!json_is_object(doc) || !ents || !ptrs || !ces || !sc) goto out;
  m.id = (char *)wgg_ce_str(doc, "id");
  m.topic = (char *)topic;
  m.pubsub_name = (char *)pubsub;
  m.type = (char *)wgg_ce_str(doc, "type");
  m.path = (char *)path;
  for (; done < n; done++) {
    json_t *e = json_array_get(entries, done);
    Dapr__Proto__Runtime__V1__TopicEventRequest ev;
    if (wgg_grpc_topic_event(json_object_get(e, "event"), m.pubsub_name, m.topic, path, &ev, &sc[done])) goto out;
    dapr__proto__runtime__v1__topic_event_cerequest__init(&ces[done]);
    ces[done].id = ev.id;
    ces[done].source = ev.source;
    ces[done].type = ev.type;
    ces[done].spec_version = ev.spec_version;
    ces[done].data_content_type = ev.data_content_type;
    ces[done].data = ev.data;
    ces[done].extensions = ev.extensions;
    dapr__proto__runtime__v1__topic_event_bulk_request_entry__init(&ents[done]);
    ents[done].entry_id = (char *)wgg_ce_str(e, "entryId");
    ents[done].content_type = (char *)wgg_ce_str(e, "contentType");
    ents[done].event_case = DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_BULK_REQUEST_ENTRY__EVENT_CLOUD_EVENT;
    ents[done].cloud_event = &ces[done];
    ptrs[done] = &ents[done];
  }
  m.n_entries = n;
  m.entries = ptrs;
  p = pack(&m.base, out_len);
out:
  for (size_t i = 0; sc && i < done; i++) wgg_grpc_topic_event_free(&sc[i]);
  free(sc);
  free(ces);
  free(ptrs);
  free(ents);
  json_decref(doc);
  return p;
}

/* daprd's sendJob: JobEventRequest{name, data, method "job/<name>", POST}; the
 * job's data (JSON text) as the Any's value, without a type_url. */
static uint8_t *pack_job(const char *name, const char *body, size_t len, size_t *out_len) {
  char *method = malloc(strlen(name) + 5);
  if (!method) return NULL;
  strcpy(method, "job/");
  strcat(method, name);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.value.data = (uint8_t *)body;
  any.value.len = len;
  Dapr__Proto__Common__V1__HTTPExtension hx = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
  hx.verb = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__POST;
  Dapr__Proto__Runtime__V1__JobEventRequest m = DAPR__PROTO__RUNTIME__V1__JOB_EVENT_REQUEST__INIT;
  m.name = (char *)name;
  m.data = &any;
  m.method = method;
  m.http_extension = &hx;
  uint8_t *p = pack(&m.base, out_len);
  free(method);
  return p;
}

static uint8_t *pack_binding(const char *name, const wgg_http_header *md, size_t n_md, const char *body, size_t len,
                             size_t *out_len) {
  Dapr__Proto__Runtime__V1__BindingEventRequest m = DAPR__PROTO__RUNTIME__V1__BINDING_EVENT_REQUEST__INIT;
  Dapr__Proto__Runtime__V1__BindingEventRequest__MetadataEntry *e = calloc(n_md ? n_md : 1, sizeof *e);
  Dapr__Proto__Runtime__V1__BindingEventRequest__MetadataEntry **ptrs = calloc(n_md ? n_md : 1, sizeof *ptrs);
  uint8_t *p = NULL;
  if (e && ptrs) {
    for (size_t i = 0; i < n_md; i++) {
      if (!strcasecmp(md[i].name, "content-type") || md[i].name[0] == ':') continue;
      dapr__proto__runtime__v1__binding_event_request__metadata_entry__init(&e[m.n_metadata]);
      e[m.n_metadata].key = (char *)md[i].name;
      e[m.n_metadata].value = (char *)md[i].value;
      ptrs[m.n_metadata] = &e[m.n_metadata];
      m.n_metadata++;
    }
    m.name = (char *)name;
    m.data.data = (uint8_t *)body;
    m.data.len = len;
    m.metadata = ptrs;
    p = pack(&m.base, out_len);
  }
  free(e);
  free(ptrs);
  return p;
}

int wgg_app_grpc_send(wgg_api *api, wgg_http_client *cl, const char *method, const char *target,
                      const wgg_http_header *headers, size_t n, const char *body, size_t len, uint64_t timeout_ms,
                      wgg_http_client_cb cb, void *user) {
  const char *kind = n && !strcmp(headers[n - 1].name, WGG_APP_CALL_KIND) ? headers[n - 1].value : "";
  if (*kind) n--;
  char word[16] = "", *a[3] = {"", "", ""}; /* the kind's word and up to 3 arguments (0x1F-separated) */
  char *args = strdup(kind);
  if (!args) return -1;
  char *p = args;
  for (int i = -1; i < 3 && p; i++) {
    char *sep = strchr(p, '\x1f');
    if (sep) *sep = '\0';
    if (i < 0) snprintf(word, sizeof word, "%s", p);
    else a[i] = p;
    p = sep ? sep + 1 : NULL;
  }
  const char *arg = a[0];
  gx *x = calloc(1, sizeof *x);
  if (!x) {
    free(args);
    return -1;
  }
  x->cb = cb;
  x->user = user;
  const char *path;
  uint8_t *msg = NULL;
  size_t mlen = 0;
  static const uint8_t empty[1];
  if (!*kind) {
    x->kind = K_INVOKE;
    path = "/dapr.proto.runtime.v1.AppCallback/OnInvoke";
    msg = pack_invoke(method, target, header(headers, n, "content-type"), body, len, &mlen);
  } else if (!strcmp(word, "subscriptions")) {
    x->kind = K_SUBS;
    path = "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions";
  } else if (!strcmp(word, "topic")) {
    x->kind = K_TOPIC;
    path = "/dapr.proto.runtime.v1.AppCallback/OnTopicEvent";
    msg = pack_topic(a[0], a[1], a[2], body, len, &mlen);
  } else if (!strcmp(word, "bulk")) {
    x->kind = K_BULK;
    path = "/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1";
    msg = pack_bulk(a[0], a[1], a[2], body, len, &mlen);
  } else if (!strcmp(word, "bindings")) {
    x->kind = K_BINDINGS;
    path = "/dapr.proto.runtime.v1.AppCallback/ListInputBindings";
  } else if (!strcmp(word, "job")) {
    x->kind = K_JOB;
    path = "/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1";
    msg = pack_job(a[0], body, len, &mlen);
  } else if (!strcmp(word, "binding")) {
    x->kind = K_BINDING;
    path = "/dapr.proto.runtime.v1.AppCallback/OnBindingEvent";
    msg = pack_binding(arg, headers, n, body, len, &mlen);
  } else {
    x->kind = K_HEALTH;
    path = "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck";
  }
  bool needs_msg = x->kind == K_INVOKE || x->kind == K_TOPIC || x->kind == K_BULK || x->kind == K_BINDING ||
                   x->kind == K_JOB;
  wgg_http_header md[64];
  char *owned[128];
  size_t n_owned = 0, n_md = 0;
  if (x->kind != K_BINDING) n_md = metadata(headers, n < 60 ? n : 60, x->kind == K_INVOKE, md, 64, owned, &n_owned);
  else
    for (size_t i = 0; i < n && n_md < 64; i++) /* a binding's metadata travels in the message; only the token here */
      if (!strcasecmp(headers[i].name, "dapr-api-token")) md[n_md++] = (wgg_http_header){"dapr-api-token", headers[i].value};
  int rc = -1;
  wgg_grpc_client *g = client_of(api, cl);
  x->metrics = api->metrics;
  x->path = path;
  x->t0 = uv_hrtime();
  x->sent = msg ? mlen : 0;
  if ((!needs_msg || msg) && g && (x->kind != K_BINDING || (x->arg = strdup(arg))) &&
      (x->kind != K_BINDINGS || (x->arg = strdup(arg))))
    rc = wgg_grpc_client_call(g, path, md, n_md, msg ? msg : empty, msg ? mlen : 0, timeout_ms, on_result, x);
  for (size_t i = 0; i < n_owned; i++) free(owned[i]);
  free(msg);
  free(args);
  if (rc) {
    free(x->arg);
    free(x);
  }
  return rc;
}
