/*
 * dapr.c: dispatch of the Dapr gRPC service (see dapr.h), the API token, and
 * the RPCs other than state: PublishEvent, InvokeBinding, InvokeService (to
 * this sidecar's own app, through the app channel), GetMetadata,
 * SetMetadata, Shutdown, and grpc.health.v1.Health/Check.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/appchannel.h"
#include "api/appchannel_grpc.h"
#include "grpc/dapr_internal.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "observe/metrics.h"
#include "observe/trace.h"
#include "util/log.h"

/* ---- helpers ---- */

json_t *wgg_pb_map_json(void *entries, size_t n) {
  wgg_pb_kv **e = entries;
  json_t *o = json_object();
  for (size_t i = 0; o && i < n; i++)
    if (json_object_set_new(o, e[i]->key, json_string(e[i]->value ? e[i]->value : ""))) {
      json_decref(o);
      return NULL;
    }
  return o;
}

const char *wgg_pb_map_get(void *entries, size_t n, const char *key) {
  wgg_pb_kv **e = entries;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(e[i]->key, key)) return e[i]->value;
  return NULL;
}

size_t wgg_pb_map_from_json(json_t *obj, const ProtobufCMessageDescriptor *d, void ***out) {
  size_t n = json_is_object(obj) ? json_object_size(obj) : 0, k = 0;
  wgg_pb_kv **e = calloc(n ? n : 1, sizeof *e);
  const char *key;
  json_t *v;
  if (e && n)
    json_object_foreach(obj, key, v) {
      if (!json_is_string(v) || !(e[k] = malloc(d->sizeof_message))) continue;
      protobuf_c_message_init(d, e[k]);
      e[k]->key = (char *)key;
      e[k]->value = (char *)json_string_value(v);
      k++;
    }
  *out = (void **)e;
  return e ? k : 0;
}

void wgg_pb_map_free(void **entries, size_t n) {
  for (size_t i = 0; entries && i < n; i++) free(entries[i]);
  free(entries);
}

/* The google.rpc.ErrorInfo reason daprd gives an error code (the GrpcCode
 * column of dapr pkg/messages/errorcodes); codes not listed are their own
 * reason, as daprd's apierrors.Basic does. */
static const char *const reasons[][2] = {
    {"ERR_STATE_STORE_NOT_FOUND", "DAPR_STATE_NOT_FOUND"},
    {"ERR_STATE_STORE_NOT_CONFIGURED", "DAPR_STATE_NOT_CONFIGURED"},
    {"ERR_STATE_STORE_NOT_SUPPORTED", "DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED"},
    {"ERR_MALFORMED_REQUEST", "DAPR_STATE_ILLEGAL_KEY"}, /* the state key checks are its only gRPC use */
    {"ERR_PUBSUB_EMPTY", "DAPR_PUBSUB_NAME_EMPTY"},
    {"ERR_PUBSUB_NOT_FOUND", "DAPR_PUBSUB_NOT_FOUND"},
    {"ERR_PUBSUB_NOT_CONFIGURED", "DAPR_PUBSUB_NOT_CONFIGURED"},
    {"ERR_TOPIC_NAME_EMPTY", "DAPR_PUBSUB_TOPIC_NAME_EMPTY"},
    {"ERR_PUBSUB_FORBIDDEN", "DAPR_PUBSUB_FORBIDDEN"},
    {"ERR_PUBSUB_PUBLISH_MESSAGE", "DAPR_PUBSUB_PUBLISH_MESSAGE"},
    {"ERR_PUBSUB_REQUEST_METADATA", "DAPR_PUBSUB_METADATA_DESERIALIZATION"},
    {"ERR_PUBSUB_CLOUD_EVENTS_SER", "DAPR_PUBSUB_CLOUD_EVENT_CREATION"},
};

/* Attaches a google.rpc.Status with one google.rpc.ErrorInfo {reason,
 * domain "dapr.io", metadata md (n pairs)} to call's error answer, as daprd's
 * errors carry (dapr/kit errors' WithErrorInfo). */
static void set_error_info(wgg_grpc_call *call, int code, const char *msg, const char *reason,
                           const char *const (*md)[2], size_t n) {
  Google__Rpc__ErrorInfo info = GOOGLE__RPC__ERROR_INFO__INIT;
  Google__Rpc__ErrorInfo__MetadataEntry e[4], *ep[4];
  for (size_t i = 0; i < n && i < 4; i++) {
    google__rpc__error_info__metadata_entry__init(&e[i]);
    e[i].key = (char *)md[i][0];
    e[i].value = (char *)md[i][1];
    ep[i] = &e[i];
  }
  info.reason = (char *)reason;
  info.domain = (char *)"dapr.io";
  info.n_metadata = n < 4 ? n : 4;
  info.metadata = ep;
  uint8_t ibuf[1024], sbuf[4096];
  size_t ilen = protobuf_c_message_get_packed_size(&info.base);
  if (ilen > sizeof ibuf) return;
  protobuf_c_message_pack(&info.base, ibuf);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT, *anyp = &any;
  any.type_url = (char *)"type.googleapis.com/google.rpc.ErrorInfo";
  any.value.data = ibuf;
  any.value.len = ilen;
  Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
  status.code = code;
  status.message = (char *)msg;
  status.n_details = 1;
  status.details = &anyp;
  size_t slen = protobuf_c_message_get_packed_size(&status.base);
  if (slen > sizeof sbuf) return;
  protobuf_c_message_pack(&status.base, sbuf);
  wgg_grpc_call_set_details(call, sbuf, slen);
}

/* Errors daprd makes with messages.APIError, whose gRPC status carries no details. */
static const char *const plain[] = {"ERR_SECRET_STORES_NOT_CONFIGURED", "ERR_SECRET_STORE_NOT_FOUND",
                                    "ERR_PERMISSION_DENIED", "ERR_SECRET_GET", "ERR_DIRECT_INVOKE"};

void wgg_grpc_fail_status(wgg_grpc_call *call, const wgg_api_status *st) {
  int code = st->grpc ? st->grpc : WGG_GRPC_INTERNAL;
  const char *reason = st->code ? st->code : "ERR_INTERNAL";
  bool details = !st->plain;
  for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) details &= strcmp(plain[i], reason) != 0;
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
    if (!strcmp(reasons[i][0], reason)) reason = reasons[i][1];
  if (st->reason) reason = st->reason;
  if (details) set_error_info(call, code, st->msg, reason, NULL, 0);
  wgg_grpc_fail(call, code, "%s", st->msg);
}

/* daprd's ErrorFromHTTPResponseCode: the HTTP status text as message, and an
 * ErrorInfo with reason the status text, metadata http.code and
 * http.error_message (detail, cut to 63 bytes). */
static void fail_http(wgg_grpc_call *call, int code, int http, const char *detail, size_t len) {
  const char *text = wgg_http_reason(http);
  char hc[16], det[64];
  snprintf(hc, sizeof hc, "%d", http);
  snprintf(det, sizeof det, "%.*s", (int)(len < 63 ? len : 63), detail ? detail : "");
  const char *const md[2][2] = {{"http.code", hc}, {"http.error_message", det}};
  set_error_info(call, code, text, text, md, 2);
  wgg_grpc_fail(call, code, "%s", text);
}

static void reply_empty(wgg_grpc_call *call) {
  Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
  wgg_grpc_reply(call, &e.base);
}

static void done_empty(void *user, const wgg_api_status *st) {
  if (st) wgg_grpc_fail_status(user, st);
  else reply_empty(user);
}

/* ---- PublishEvent ---- */

static void publish_event(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__PublishEventRequest *q = (void *)m;
  json_t *md = wgg_pb_map_json(q->metadata, q->n_metadata);
  wgg_publish_input in = {.pubsub = q->pubsub_name,
                          .topic = q->topic,
                          .data = (const char *)q->data.data,
                          .len = q->data.len,
                          .content_type = *q->data_content_type ? q->data_content_type : NULL,
                          .metadata = md,
                          .traceparent = wgg_grpc_call_header(call, "traceparent"),
                          .tracestate = wgg_grpc_call_header(call, "tracestate")};
  wgg_api_status st;
  if (!md) wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
  else if (wgg_publish_call(api, wgg_grpc_call_loop(call), &in, done_empty, call, &st)) wgg_grpc_fail_status(call, &st);
  json_decref(md);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- BulkPublishEventAlpha1 ---- */

static void bulk_done(void *user, const wgg_publish_failed *failed, size_t n) {
  wgg_grpc_call *call = user;
  Dapr__Proto__Runtime__V1__BulkPublishResponse r = DAPR__PROTO__RUNTIME__V1__BULK_PUBLISH_RESPONSE__INIT;
  Dapr__Proto__Runtime__V1__BulkPublishResponseFailedEntry *fe = calloc(n ? n : 1, sizeof *fe);
  Dapr__Proto__Runtime__V1__BulkPublishResponseFailedEntry **fp = calloc(n ? n : 1, sizeof *fp);
  if (!fe || !fp) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
  } else {
    for (size_t i = 0; i < n; i++) {
      dapr__proto__runtime__v1__bulk_publish_response_failed_entry__init(&fe[i]);
      fe[i].entry_id = (char *)failed[i].entry_id;
      fe[i].error = (char *)failed[i].error;
      fp[i] = &fe[i];
    }
    r.n_failedentries = n; /* partial failures are no error, as daprd */
    r.failedentries = fp;
    wgg_grpc_reply(call, &r.base);
  }
  free(fe);
  free(fp);
}

static void bulk_publish(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__BulkPublishRequest *q = (void *)m;
  json_t *md = wgg_pb_map_json(q->metadata, q->n_metadata);
  wgg_publish_entry *ents = calloc(q->n_entries ? q->n_entries : 1, sizeof *ents);
  wgg_publish_input in = {.pubsub = q->pubsub_name,
                          .topic = q->topic,
                          .metadata = md,
                          .traceparent = wgg_grpc_call_header(call, "traceparent"),
                          .tracestate = wgg_grpc_call_header(call, "tracestate")};
  bool ok = md && ents;
  for (size_t i = 0; ok && i < q->n_entries; i++) {
    Dapr__Proto__Runtime__V1__BulkPublishRequestEntry *e = q->entries[i];
    ents[i] = (wgg_publish_entry){.entry_id = e->entry_id, .data = (const char *)e->event.data, .len = e->event.len,
                                  .content_type = *e->content_type ? e->content_type : NULL,
                                  .metadata = wgg_pb_map_json(e->metadata, e->n_metadata)};
    ok = ents[i].metadata != NULL;
  }
  wgg_api_status st;
  if (!ok) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
  } else if (wgg_publish_bulk_call(api, wgg_grpc_call_loop(call), &in, ents, q->n_entries, bulk_done, call, &st)) {
    wgg_grpc_fail_status(call, &st);
  }
  for (size_t i = 0; ents && i < q->n_entries; i++) json_decref(ents[i].metadata);
  free(ents);
  json_decref(md);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- InvokeBinding ---- */

static void binding_done(void *user, const wgg_api_status *st, const wgg_binding_result *res) {
  wgg_grpc_call *call = user;
  const char *k;
  json_t *v;
  /* response metadata also as "metadata.<key>" headers, on success and failure (daprd) */
  json_object_foreach(res->metadata, k, v) {
    if (!json_is_string(v)) continue;
    char name[256];
    snprintf(name, sizeof name, "metadata.%s", k);
    for (char *p = name; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    wgg_grpc_call_add_header(call, name, json_string_value(v));
  }
  if (st) {
    wgg_grpc_fail_status(call, st);
    return;
  }
  Dapr__Proto__Runtime__V1__InvokeBindingResponse r = DAPR__PROTO__RUNTIME__V1__INVOKE_BINDING_RESPONSE__INIT;
  r.data.data = (uint8_t *)res->data;
  r.data.len = res->len;
  void **mds = NULL;
  r.n_metadata =
      wgg_pb_map_from_json(res->metadata, &dapr__proto__runtime__v1__invoke_binding_response__metadata_entry__descriptor,
                           &mds);
  r.metadata = (Dapr__Proto__Runtime__V1__InvokeBindingResponse__MetadataEntry **)mds;
  wgg_grpc_reply(call, &r.base);
  wgg_pb_map_free(mds, r.n_metadata);
}

static void invoke_binding(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__InvokeBindingRequest *q = (void *)m;
  json_t *md = wgg_pb_map_json(q->metadata, q->n_metadata);
  static const char *const trace[] = {"traceparent", "tracestate", "baggage"}; /* as the HTTP route */
  for (size_t t = 0; md && t < 3; t++) {
    const char *tv = wgg_grpc_call_header(call, trace[t]);
    if (tv && !json_object_get(md, trace[t])) json_object_set_new(md, trace[t], json_string(tv));
  }
  wgg_api_status st;
  if (!md) wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
  else if (wgg_binding_call(api, wgg_grpc_call_loop(call), q->name, q->operation, (const char *)q->data.data,
                            q->data.len, md, binding_done, call, NULL, &st))
    wgg_grpc_fail_status(call, &st);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- InvokeService (the own app, through the app channel) ---- */

typedef struct invoke_job {
  wgg_grpc_call *call;
  char *app_id;
} invoke_job;

/* dapr pkg/messaging/v1 CodeFromHTTPStatus: an app's HTTP status as a gRPC code. */
static int code_from_http(int s) {
  if (s >= 200 && s < 300) return 0;
  switch (s) {
    case 408: return WGG_GRPC_CANCELLED;
    case 400: return WGG_GRPC_INTERNAL;
    case 504: return WGG_GRPC_DEADLINE_EXCEEDED;
    case 404: return WGG_GRPC_NOT_FOUND;
    case 409: return WGG_GRPC_ALREADY_EXISTS;
    case 403: return WGG_GRPC_PERMISSION_DENIED;
    case 401: return WGG_GRPC_UNAUTHENTICATED;
    case 429: return WGG_GRPC_RESOURCE_EXHAUSTED;
    case 501: return WGG_GRPC_UNIMPLEMENTED;
    case 503: return WGG_GRPC_UNAVAILABLE;
    default: return WGG_GRPC_UNKNOWN;
  }
}

static const char *result_header(const wgg_invoke_result *res, const char *name) {
  for (size_t i = 0; i < res->n; i++)
    if (!strcasecmp(res->headers[i].name, name)) return res->headers[i].value;
  return NULL;
}

/* A gRPC app's answer (the WGG_INVOKE_GRPC_* headers, api/calls.h) as daprd
 * gives it to InvokeService: the app's status, message and details
 * unchanged, its headers (those daprd keeps permanent in HTTP as
 * "dapr-<name>") and its trailers; when OK its InvokeResponse (data with
 * its type_url, content_type). */
static void invoked_grpc(wgg_grpc_call *call, const char *code_s, const wgg_invoke_result *res) {
  int code = atoi(code_s);
  const char *ct = "";
  for (size_t i = 0; i < res->n; i++) {
    const char *k = res->headers[i].name, *v = res->headers[i].value;
    size_t tl = strlen(WGG_INVOKE_GRPC_TRAILER), bl = strlen(WGG_INVOKE_GRPC_BIN);
    if (!strncmp(k, WGG_INVOKE_GRPC_TRAILER, tl)) {
      wgg_grpc_call_add_trailer(call, k + tl, v);
    } else if (!strncmp(k, WGG_INVOKE_GRPC_BIN, bl)) {
      wgg_grpc_call_add_header(call, k + bl, v);
    } else if (!strcasecmp(k, "content-type")) {
      ct = v;
    } else if (k[0] != ':') {
      char name[256];
      snprintf(name, sizeof name, "%s%s", wgg_permanent_http_header(k) ? "dapr-" : "", k);
      for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
      wgg_grpc_call_add_header(call, name, v);
    }
  }
  if (code) {
    const char *details = result_header(res, WGG_INVOKE_GRPC_DETAILS);
    const char *msg = result_header(res, WGG_INVOKE_GRPC_MESSAGE);
    if (details) wgg_grpc_call_set_details_b64(call, details);
    wgg_grpc_fail(call, code, "%s", msg ? msg : "");
    return;
  }
  const char *type_url = result_header(res, WGG_INVOKE_GRPC_TYPE_URL);
  const char *own_ct = result_header(res, WGG_INVOKE_GRPC_CONTENT_TYPE);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)(type_url ? type_url : "");
  any.value.data = (uint8_t *)res->body;
  any.value.len = res->len;
  Dapr__Proto__Common__V1__InvokeResponse r = DAPR__PROTO__COMMON__V1__INVOKE_RESPONSE__INIT;
  r.data = &any;
  r.content_type = (char *)(type_url ? (own_ct ? own_ct : "") : ct);
  wgg_grpc_reply(call, &r.base);
}

static void on_invoked(void *user, const wgg_api_status *st, const wgg_invoke_result *res) {
  invoke_job *j = user;
  const char *gs = res ? result_header(res, WGG_INVOKE_GRPC_STATUS) : NULL;
  if (st) {
    wgg_grpc_fail_status(j->call, st);
  } else if (gs) {
    invoked_grpc(j->call, gs, res);
  } else {
    char status[16];
    snprintf(status, sizeof status, "%d", res->status);
    wgg_grpc_call_add_header(j->call, "dapr-http-status", status);
    int code = code_from_http(res->status);
    if (code) {
      fail_http(j->call, code, res->status, res->body, res->len);
    } else {
      const char *ct = "";
      for (size_t i = 0; i < res->n; i++)
        if (!strcasecmp(res->headers[i].name, "content-type")) ct = res->headers[i].value;
      Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
      any.value.data = (uint8_t *)res->body;
      any.value.len = res->len;
      Dapr__Proto__Common__V1__InvokeResponse r = DAPR__PROTO__COMMON__V1__INVOKE_RESPONSE__INIT;
      r.data = &any;
      r.content_type = (char *)ct;
      wgg_grpc_reply(j->call, &r.base);
    }
  }
  free(j->app_id);
  free(j);
}

static const char *const verbs[] = {"POST", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

/* InvokeService (daprd's deprecated but served RPC): to this sidecar's app,
 * an HTTPEndpoint, or another app through its sidecar (name resolution,
 * resiliency), through wgg_invoke_call, the code of the HTTP invoke route. */
static void invoke_service(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__InvokeServiceRequest *q = (void *)m;
  Dapr__Proto__Common__V1__InvokeRequest *ir = q->message;
  wgg_api_status st;
  invoke_job *j = NULL;
  if (!ir || !*ir->method) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "failed to invoke, id: %s, err: method name is empty", q->id);
    goto out;
  }
  j = calloc(1, sizeof *j);
  if (!j || !(j->app_id = strdup(q->id))) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "failed to invoke, id: %s, err: out of memory", q->id);
    goto out;
  }
  j->call = call;
  const Dapr__Proto__Common__V1__HTTPExtension *hx = ir->http_extension;
  unsigned verb = hx && (unsigned)hx->verb < sizeof verbs / sizeof *verbs ? (unsigned)hx->verb : 0;
  wgg_http_header h[2];
  size_t nh = 0;
  const char *tp = wgg_grpc_call_header(call, "traceparent"); /* the route makes its child span */
  if (tp) h[nh++] = (wgg_http_header){"traceparent", tp};
  if (*ir->content_type) h[nh++] = (wgg_http_header){"content-type", ir->content_type};
  wgg_invoke_input in = {.app_id = q->id,
                         .verb = verbs[verb],
                         .method = ir->method,
                         .method_len = strlen(ir->method),
                         .query = hx && hx->querystring ? hx->querystring : "",
                         .headers = h,
                         .n = nh,
                         .data = ir->data ? (const char *)ir->data->value.data : "",
                         .len = ir->data ? ir->data->value.len : 0,
                         .peer = wgg_grpc_call_peer(call)};
  if (!wgg_invoke_call(api, wgg_grpc_call_loop(call), &in, on_invoked, j, &st)) j = NULL; /* on its way */
  else wgg_grpc_fail_status(call, &st);
out:
  if (j) free(j->app_id);
  free(j);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- GetSecret, GetBulkSecret ---- */

static void get_secret(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__GetSecretRequest *q = (void *)m;
  json_t *md = wgg_pb_map_json(q->metadata, q->n_metadata), *out = NULL;
  wgg_api_status st;
  if (!md) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
  } else if (wgg_secrets_call(api, q->store_name, q->key, md, &out, &st)) {
    wgg_grpc_fail_status(call, &st);
  } else {
    Dapr__Proto__Runtime__V1__GetSecretResponse r = DAPR__PROTO__RUNTIME__V1__GET_SECRET_RESPONSE__INIT;
    void **e = NULL;
    r.n_data = wgg_pb_map_from_json(out, &dapr__proto__runtime__v1__get_secret_response__data_entry__descriptor, &e);
    r.data = (Dapr__Proto__Runtime__V1__GetSecretResponse__DataEntry **)e;
    wgg_grpc_reply(call, &r.base);
    wgg_pb_map_free(e, r.n_data);
  }
  json_decref(out);
  json_decref(md);
  protobuf_c_message_free_unpacked(m, NULL);
}

static void get_bulk_secret(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__GetBulkSecretRequest *q = (void *)m;
  json_t *md = wgg_pb_map_json(q->metadata, q->n_metadata), *out = NULL;
  wgg_api_status st;
  if (!md) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
  } else if (wgg_secrets_call(api, q->store_name, NULL, md, &out, &st)) {
    wgg_grpc_fail_status(call, &st);
  } else {
    /* {name: {key: value}} as map<string, SecretResponse{map<string,string> secrets}> */
    size_t n = json_object_size(out), i = 0;
    Dapr__Proto__Runtime__V1__GetBulkSecretResponse r = DAPR__PROTO__RUNTIME__V1__GET_BULK_SECRET_RESPONSE__INIT;
    Dapr__Proto__Runtime__V1__GetBulkSecretResponse__DataEntry *ev = calloc(n + 1, sizeof *ev), **ep = calloc(n + 1, sizeof *ep);
    Dapr__Proto__Runtime__V1__SecretResponse *sv = calloc(n + 1, sizeof *sv);
    if (!ev || !ep || !sv) {
      wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    } else {
      const char *name;
      json_t *kv;
      json_object_foreach(out, name, kv) {
        dapr__proto__runtime__v1__secret_response__init(&sv[i]);
        void **e = NULL;
        sv[i].n_secrets =
            wgg_pb_map_from_json(kv, &dapr__proto__runtime__v1__secret_response__secrets_entry__descriptor, &e);
        sv[i].secrets = (Dapr__Proto__Runtime__V1__SecretResponse__SecretsEntry **)e;
        dapr__proto__runtime__v1__get_bulk_secret_response__data_entry__init(&ev[i]);
        ev[i].key = (char *)name;
        ev[i].value = &sv[i];
        ep[i] = &ev[i];
        i++;
      }
      r.n_data = i;
      r.data = ep;
      wgg_grpc_reply(call, &r.base);
    }
    for (size_t k = 0; sv && k < i; k++) wgg_pb_map_free((void **)sv[k].secrets, sv[k].n_secrets);
    free(ev);
    free(ep);
    free(sv);
  }
  json_decref(out);
  json_decref(md);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- metadata ---- */

static const char *str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static void get_metadata(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  protobuf_c_message_free_unpacked(m, NULL);
  json_t *doc = wgg_metadata_doc(api);
  if (!doc) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    return;
  }
  Dapr__Proto__Runtime__V1__GetMetadataResponse r = DAPR__PROTO__RUNTIME__V1__GET_METADATA_RESPONSE__INIT;
  r.id = (char *)str(doc, "id");
  r.runtime_version = (char *)str(doc, "runtimeVersion");
  json_t *feats = json_object_get(doc, "enabledFeatures"), *comps = json_object_get(doc, "components");
  json_t *eps = json_object_get(doc, "httpEndpoints"), *subs = json_object_get(doc, "subscriptions");
  size_t nf = json_array_size(feats), nc = json_array_size(comps), ne = json_array_size(eps), ns = json_array_size(subs);
  char **fv = calloc(nf + 1, sizeof *fv);
  Dapr__Proto__Runtime__V1__RegisteredComponents *cv = calloc(nc + 1, sizeof *cv), **cp = calloc(nc + 1, sizeof *cp);
  char **caps = NULL;
  size_t ncaps = 0;
  for (size_t i = 0; i < nc; i++) ncaps += json_array_size(json_object_get(json_array_get(comps, i), "capabilities"));
  caps = calloc(ncaps + 1, sizeof *caps);
  Dapr__Proto__Runtime__V1__MetadataHTTPEndpoint *ev = calloc(ne + 1, sizeof *ev), **ep = calloc(ne + 1, sizeof *ep);
  Dapr__Proto__Runtime__V1__PubsubSubscription *sv = calloc(ns + 1, sizeof *sv), **sp = calloc(ns + 1, sizeof *sp);
  Dapr__Proto__Runtime__V1__AppConnectionProperties ac = DAPR__PROTO__RUNTIME__V1__APP_CONNECTION_PROPERTIES__INIT;
  Dapr__Proto__Runtime__V1__AppConnectionHealthProperties hp =
      DAPR__PROTO__RUNTIME__V1__APP_CONNECTION_HEALTH_PROPERTIES__INIT;
  void **ext = NULL;
  if (!fv || !cv || !cp || !caps || !ev || !ep || !sv || !sp) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < nf; i++) fv[i] = (char *)json_string_value(json_array_get(feats, i));
  r.n_enabled_features = nf;
  r.enabled_features = fv;
  size_t used = 0;
  for (size_t i = 0; i < nc; i++) {
    json_t *c = json_array_get(comps, i), *cc = json_object_get(c, "capabilities");
    dapr__proto__runtime__v1__registered_components__init(&cv[i]);
    cv[i].name = (char *)str(c, "name");
    cv[i].type = (char *)str(c, "type");
    cv[i].version = (char *)str(c, "version");
    cv[i].capabilities = caps + used;
    for (size_t k = 0; k < json_array_size(cc); k++) caps[used++] = (char *)json_string_value(json_array_get(cc, k));
    cv[i].n_capabilities = json_array_size(cc);
    cp[i] = &cv[i];
  }
  r.n_registered_components = nc;
  r.registered_components = cp;
  for (size_t i = 0; i < ne; i++) {
    dapr__proto__runtime__v1__metadata_httpendpoint__init(&ev[i]);
    ev[i].name = (char *)str(json_array_get(eps, i), "name");
    ep[i] = &ev[i];
  }
  r.n_http_endpoints = ne;
  r.http_endpoints = ep;
  for (size_t i = 0; i < ns; i++) {
    json_t *s = json_array_get(subs, i);
    dapr__proto__runtime__v1__pubsub_subscription__init(&sv[i]);
    sv[i].pubsub_name = (char *)str(s, "pubsubname");
    sv[i].topic = (char *)str(s, "topic");
    sv[i].dead_letter_topic = (char *)str(s, "deadLetterTopic");
    const char *t = str(s, "type");
    sv[i].type = !strcasecmp(t, "declarative")    ? DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__DECLARATIVE
                 : !strcasecmp(t, "programmatic") ? DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__PROGRAMMATIC
                 : !strcasecmp(t, "streaming")    ? DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__STREAMING
                                                  : DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__UNKNOWN;
    sp[i] = &sv[i];
  }
  r.n_subscriptions = ns;
  r.subscriptions = sp;
  r.n_extended_metadata = wgg_pb_map_from_json(
      json_object_get(doc, "extended"), &dapr__proto__runtime__v1__get_metadata_response__extended_metadata_entry__descriptor,
      &ext);
  r.extended_metadata = (Dapr__Proto__Runtime__V1__GetMetadataResponse__ExtendedMetadataEntry **)ext;
  json_t *app = json_object_get(doc, "appConnectionProperties"), *health = json_object_get(app, "health");
  if (app) {
    ac.port = (int32_t)json_integer_value(json_object_get(app, "port"));
    ac.protocol = (char *)str(app, "protocol");
    ac.channel_address = (char *)str(app, "channelAddress");
    ac.max_concurrency = (int32_t)json_integer_value(json_object_get(app, "maxConcurrency"));
    if (health) {
      hp.health_check_path = (char *)str(health, "healthCheckPath");
      hp.health_probe_interval = (char *)str(health, "healthProbeInterval");
      hp.health_probe_timeout = (char *)str(health, "healthProbeTimeout");
      hp.health_threshold = (int32_t)json_integer_value(json_object_get(health, "healthThreshold"));
      ac.health = &hp;
    }
    r.app_connection_properties = &ac;
  }
  wgg_grpc_reply(call, &r.base);
out:
  wgg_pb_map_free(ext, r.n_extended_metadata);
  free(fv);
  free(cv);
  free(cp);
  free(caps);
  free(ev);
  free(ep);
  free(sv);
  free(sp);
  json_decref(doc);
}

static void set_metadata(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__SetMetadataRequest *q = (void *)m;
  wgg_api_status st;
  if (wgg_metadata_set(api, q->key, q->value, strlen(q->value), &st)) wgg_grpc_fail_status(call, &st);
  else reply_empty(call);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- Shutdown: answers, then shuts down gracefully as SIGTERM does ---- */

static void shutdown_rpc(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  protobuf_c_message_free_unpacked(m, NULL);
  reply_empty(call);
  wgg_info("shutdown requested through the gRPC API");
  /* the same graceful stop as POST /v1.0/shutdown (api->request_shutdown, set by the runtime) */
  void (*fn)(void *) = __atomic_load_n(&api->request_shutdown, __ATOMIC_ACQUIRE);
  if (fn) fn(api->shutdown_ctx);
  else kill(getpid(), SIGTERM);
}

/* ---- dispatch ---- */

typedef void (*rpc_fn)(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m);

typedef struct rpc {
  const char *name;
  const ProtobufCMessageDescriptor *in;
  rpc_fn fn;
} rpc;

#define RT(x) &dapr__proto__runtime__v1__##x##__descriptor
static const rpc dapr_rpcs[] = {
    {"InvokeService", RT(invoke_service_request), invoke_service},
    {"GetState", RT(get_state_request), wgg_grpc_get_state},
    {"GetBulkState", RT(get_bulk_state_request), wgg_grpc_get_bulk_state},
    {"SaveState", RT(save_state_request), wgg_grpc_save_state},
    {"DeleteState", RT(delete_state_request), wgg_grpc_delete_state},
    {"DeleteBulkState", RT(delete_bulk_state_request), wgg_grpc_delete_bulk_state},
    {"ExecuteStateTransaction", RT(execute_state_transaction_request), wgg_grpc_transaction},
    {"PublishEvent", RT(publish_event_request), publish_event},
    {"BulkPublishEventAlpha1", RT(bulk_publish_request), bulk_publish},
    {"InvokeBinding", RT(invoke_binding_request), invoke_binding},
    {"GetSecret", RT(get_secret_request), get_secret},
    {"GetBulkSecret", RT(get_bulk_secret_request), get_bulk_secret},
    {"GetMetadata", RT(get_metadata_request), get_metadata},
    {"SetMetadata", RT(set_metadata_request), set_metadata},
    {"Shutdown", RT(shutdown_request), shutdown_rpc},
    {"QueryStateAlpha1", RT(query_state_request), wgg_grpc_query_state},
    {"TryLockAlpha1", RT(try_lock_request), wgg_grpc_try_lock},
    {"UnlockAlpha1", RT(unlock_request), wgg_grpc_unlock},
    {"GetConfiguration", RT(get_configuration_request), wgg_grpc_get_configuration},
    {"GetConfigurationAlpha1", RT(get_configuration_request), wgg_grpc_get_configuration},
    {"UnsubscribeConfiguration", RT(unsubscribe_configuration_request), wgg_grpc_unsubscribe_configuration},
    {"UnsubscribeConfigurationAlpha1", RT(unsubscribe_configuration_request), wgg_grpc_unsubscribe_configuration},
    {"ScheduleJobAlpha1", RT(schedule_job_request), wgg_grpc_schedule_job},
    {"GetJobAlpha1", RT(get_job_request), wgg_grpc_get_job},
    {"DeleteJobAlpha1", RT(delete_job_request), wgg_grpc_delete_job},
};
static const rpc health_rpcs[] = {{"Check", &grpc__health__v1__health_check_request__descriptor, wgg_grpc_health_check}};

/* Constant-time comparison of two strings. */
static bool token_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = la != lb;
  for (size_t i = 0; i < la; i++) d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
  return d == 0;
}

static const char *const code_names[] = {"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
                                         "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
                                         "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
                                         "Unauthenticated"};

void wgg_grpc_dapr_observe(const char *path, int code, uint64_t ns, uint64_t received, uint64_t sent, void *user) {
  wgg_api *api = user;
  if (api) wgg_metrics_grpc(api->metrics, false, path, code, ns, received, sent); /* dapr_grpc_io_server_* */
  /* --enable-api-logging: one line per call, as daprd's "gRPC API Called" */
  if (api && api->opts->enable_api_logging)
    wgg_info("gRPC API Called: method=%s code=%s duration=%.3fms", path,
             code >= 0 && code <= 16 ? code_names[code] : "Unknown", (double)ns / 1e6);
}

void wgg_grpc_dapr_handle(wgg_grpc_call *call, void *user) {
  wgg_api *api = user;
  const char *path = wgg_grpc_call_path(call);
  const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
  char service[128];
  size_t sl = slash ? (size_t)(slash - path - 1) : 0;
  if (sl >= sizeof service) sl = sizeof service - 1;
  memcpy(service, path + 1, sl);
  service[sl] = '\0';
  const char *method = slash ? slash + 1 : "";
  const rpc *table = NULL;
  size_t n = 0;
  bool health = false;
  if (!strcmp(service, "dapr.proto.runtime.v1.Dapr")) {
    table = dapr_rpcs;
    n = sizeof dapr_rpcs / sizeof *dapr_rpcs;
  } else if (!strcmp(service, "grpc.health.v1.Health")) {
    table = health_rpcs;
    n = 1;
    health = true;
  }
  const char *tok = api->opts->api_token;
  if (tok && *tok && !health) { /* daprd's checkAPITokenInContext: Unauthorized as a gRPC status */
    const char *got = wgg_grpc_call_header(call, "dapr-api-token");
    if (!got || !token_equal(got, tok)) {
      const char *why = got ? "authentication error: api token mismatch" : "missing api token in request metadata";
      fail_http(call, WGG_GRPC_UNAUTHENTICATED, 401, why, strlen(why));
      return;
    }
  }
  if (wgg_grpc_call_streaming(call)) { /* wgg_grpc_dapr_streaming said so at its HEADERS */
    if (wgg_grpc_proxy_wanted(call)) {
      wgg_grpc_proxy(api, call);
      return;
    }
    if (!strcmp(method, "SubscribeTopicEventsAlpha1")) wgg_grpc_subscribe_topic_events(api, call);
    else if (wgg_grpc_is_reflection(path)) wgg_grpc_reflection(api, call);
    else if (health) wgg_grpc_health_watch(api, call);
    else wgg_grpc_subscribe_configuration(api, call);
    return;
  }
  if (!table) {
    wgg_grpc_fail(call, WGG_GRPC_UNIMPLEMENTED, "unknown service %s", service);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(table[i].name, method)) continue;
    size_t len;
    const uint8_t *data = wgg_grpc_call_msg(call, &len);
    ProtobufCMessage *m = protobuf_c_message_unpack(table[i].in, NULL, len, data);
    if (!m) {
      wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "grpc: error unmarshalling request: invalid %s message",
                    table[i].in->name);
      return;
    }
    table[i].fn(api, call, m);
    return;
  }
  wgg_grpc_fail(call, WGG_GRPC_UNIMPLEMENTED, "unknown method %s for service %s", method, service);
}
