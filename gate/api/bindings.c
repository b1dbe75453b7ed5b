/*
 * bindings.c: POST|PUT /v1.0/bindings/{name}, output bindings (docs
 * reference/api/bindings_api.md; dapr pkg/runtime/processor/binding/send.go):
 * body {"data": <any JSON>, "metadata": {k: v}, "operation": "..."}; a JSON
 * string as data is passed as its text, anything else as its JSON. 200 with
 * the binding's bytes, 204 when it returned none; response metadata as
 * "metadata.<k>" headers, also on failure; 400 ERR_MALFORMED_REQUEST, 500
 * ERR_INVOKE_OUTPUT_BINDING. The request's traceparent, tracestate and
 * baggage headers are copied into the metadata. Bindings run on the libuv
 * thread pool; when the caller disconnects meanwhile, the binding's cancel
 * token fires (daprd cancels the request's context), so a running wasm guest
 * is interrupted at once.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
#include "observe/metrics.h"
#include "util/err.h"
#include "util/log.h"

typedef struct bind_job {
  wgg_binding_done_cb cb;
  void *user;
  wgg_binding_entry *be;
  struct wgg_metrics *metrics; /* the calling app ID's */
  char *operation, *data;
  size_t len;
  json_t *metadata;
  wgg_binding_result result;
  int rc;
  wgg_err err;
  wgg_cancel cancel; /* fired from the loop when the caller goes away */
} bind_job;

static void bind_work(void *p) {
  bind_job *j = p;
  j->rc = j->be->binding->ops->invoke(j->be->binding, j->operation, j->data, j->len, j->metadata, &j->cancel,
                                      &j->result, &j->err);
}

static void free_job(bind_job *j) {
  free(j->operation);
  free(j->data);
  json_decref(j->metadata);
  wgg_binding_result_free(&j->result);
  wgg_cancel_destroy(&j->cancel);
  free(j);
}

static void bind_done(void *p) {
  bind_job *j = p;
  static const char *const names[] = {"component", "operation", "success"};
  const char *values[] = {j->be->comp->name, j->operation, j->rc ? "false" : "true"};
  wgg_metrics_count(j->metrics, WGG_MF_OUTPUT_BINDING, names, values, 3);
  if (wgg_cancel_requested(&j->cancel))
    wgg_info("output binding %s: the caller went away: %s", j->be->comp->name, j->rc ? j->err.msg : "completed");
  wgg_api_status st;
  if (j->rc)
    wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding %.300s: %.600s",
                 j->be->comp->name, j->err.msg);
  j->cb(j->user, j->rc ? &st : NULL, &j->result);
  free_job(j);
}

int wgg_binding_call(wgg_api *api, uv_loop_t *loop, const char *name, const char *operation, const char *data,
                     size_t len, json_t *metadata, wgg_binding_done_cb cb, void *user, wgg_cancel **cancel,
                     wgg_api_status *st) {
  /* daprd's SendToOutputBinding: the operation is checked first, then the
   * binding, then the operation against the binding's Operations() */
  if (!operation || !*operation) {
    json_decref(metadata);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING",
                        "error invoking output binding %s: operation field is missing from request", name);
  }
  wgg_binding_entry *be = NULL;
  for (size_t i = 0; i < api->n_bindings && !be; i++)
    if (!strcmp(api->bindings[i].comp->name, name)) be = &api->bindings[i];
  if (!be) {
    json_decref(metadata);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING",
                        "error invoking output binding %s: couldn't find output binding %s", name, name);
  }
  const char *const *ops = be->binding->operations;
  bool supported = !ops;
  for (size_t i = 0; ops && ops[i] && !supported; i++) supported = !strcmp(ops[i], operation);
  if (!supported) {
    char list[512] = "";
    size_t n = 0;
    for (size_t i = 0; ops[i] && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? " " : "", ops[i]);
    json_decref(metadata);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING",
                        "error invoking output binding %s: binding %s does not support operation %.200s. "
                        "supported operations:%s",
                        name, name, operation, list);
  }
  bind_job *j = calloc(1, sizeof *j);
  if (j) {
    wgg_cancel_init(&j->cancel);
    j->cb = cb;
    j->user = user;
    j->be = be;
    j->metrics = api->metrics;
    j->operation = strdup(operation ? operation : "");
    j->metadata = metadata;
    metadata = NULL;
    j->len = len;
    j->data = malloc(len + 1);
    if (j->data && len) memcpy(j->data, data, len);
  }
  json_decref(metadata);
  if (!j || !j->operation || !j->metadata || !j->data || wgg_api_submit(loop, true, j, bind_work, bind_done)) {
    if (j) free_job(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INVOKE_OUTPUT_BINDING",
                        "error invoking output binding %s: out of memory", name);
  }
  if (cancel) *cancel = &j->cancel;
  return 0;
}

static void bind_gone(wgg_http_req *req, void *cancel) {
  (void)req;
  wgg_cancel_fire(cancel);
}

/* Answers with the binding's bytes (200, or 204 when none), its response
 * metadata as metadata.<key> headers, also on failure. */
static void http_bind_done(void *user, const wgg_api_status *st, const wgg_binding_result *result) {
  wgg_http_req *req = user;
  req->on_gone = NULL; /* the job ends here; a pipeline may keep req alive */
  size_t n = json_is_object(result->metadata) ? json_object_size(result->metadata) : 0;
  wgg_http_header *h = calloc(n ? n : 1, sizeof *h);
  char **names = calloc(n ? n : 1, sizeof *names);
  size_t k = 0;
  const char *key;
  json_t *val;
  if (h && names && n)
    json_object_foreach(result->metadata, key, val) {
      if (!json_is_string(val) || asprintf(&names[k], "metadata.%s", key) < 0) continue;
      h[k].name = names[k];
      h[k].value = json_string_value(val);
      k++;
    }
  if (st) {
    json_t *body = json_pack("{s:s, s:s}", "errorCode", st->code, "message", st->msg);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    wgg_http_respond(req, st->http, "application/json", h, k, text ? text : "", text ? strlen(text) : 0);
    free(text);
  } else if (result->len) {
    wgg_http_respond(req, 200, NULL, h, k, result->data, result->len);
  } else {
    wgg_http_respond(req, 204, NULL, h, k, NULL, 0);
  }
  for (size_t i = 0; i < k; i++) free(names[i]);
  free(names);
  free(h);
}

void wgg_api_bindings(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n != 1 || !*seg[0]) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_POST && req->method != HTTP_PUT) {
    wgg_api_method_not_allowed(req);
    return;
  }
  json_error_t jerr;
  json_t *body = json_loadb(req->body, req->body_len, JSON_ALLOW_NUL, &jerr);
  if (!json_is_object(body)) {
    json_decref(body);
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", jerr.text);
    return;
  }
  json_t *data = wgg_json_field(body, "data"), *meta = wgg_json_field(body, "metadata");
  const char *op = json_string_value(wgg_json_field(body, "operation"));
  json_t *md = json_is_object(meta) ? json_deep_copy(meta) : json_object();
  static const char *const trace[] = {"traceparent", "tracestate", "baggage"}; /* copied into the metadata */
  for (size_t t = 0; md && t < 3; t++) {
    const char *tv = wgg_http_req_header(req, trace[t]);
    if (tv && !json_object_get(md, trace[t])) json_object_set_new(md, trace[t], json_string(tv));
  }
  /* a JSON string as data is passed as its text, anything else as its JSON */
  char *text = NULL;
  const char *bytes = NULL;
  size_t len = 0;
  if (json_is_string(data)) {
    bytes = json_string_value(data);
    len = json_string_length(data);
  } else if (data && !json_is_null(data)) {
    bytes = text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    len = text ? strlen(text) : 0;
  }
  wgg_api_status st;
  wgg_cancel *cancel = NULL;
  if (!md || (data && !json_is_null(data) && !json_is_string(data) && !text))
    wgg_api_error(req, 500, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding %s: out of memory", seg[0]),
        json_decref(md);
  else if (wgg_binding_call(api, req->loop, seg[0], op, bytes, len, md, http_bind_done, req, &cancel, &st))
    wgg_api_error_status(req, &st);
  else {
    req->on_gone = bind_gone; /* the caller disconnects: the binding's cancel token fires */
    req->gone_user = cancel;
  }
  free(text);
  json_decref(body);
}
