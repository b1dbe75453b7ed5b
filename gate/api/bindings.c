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
#include "observe/metrics.h"
#include "util/err.h"
#include "util/log.h"

typedef struct bind_job {
  wgg_http_req *req;
  wgg_binding_entry *be;
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

static void bind_gone(wgg_http_req *req, void *p) {
  (void)req;
  wgg_cancel_fire(&((bind_job *)p)->cancel);
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
  j->req->on_gone = NULL; /* the job ends here; a pipeline may keep req alive */
  if (wgg_cancel_requested(&j->cancel))
    wgg_info("output binding %s: the caller went away: %s", j->be->comp->name, j->rc ? j->err.msg : "completed");
  /* Response metadata as metadata.<key> headers, on success and failure. */
  size_t n = json_is_object(j->result.metadata) ? json_object_size(j->result.metadata) : 0;
  wgg_http_header *h = calloc(n ? n : 1, sizeof *h);
  char **names = calloc(n ? n : 1, sizeof *names);
  size_t k = 0;
  const char *key;
  json_t *val;
  if (h && names && n)
    json_object_foreach(j->result.metadata, key, val) {
      if (!json_is_string(val) || asprintf(&names[k], "metadata.%s", key) < 0) continue;
      h[k].name = names[k];
      h[k].value = json_string_value(val);
      k++;
    }
  if (j->rc) {
    char msg[1024];
    snprintf(msg, sizeof msg, "error invoking output binding %.300s: %.600s", j->be->comp->name, j->err.msg);
    json_t *body = json_pack("{s:s, s:s}", "errorCode", "ERR_INVOKE_OUTPUT_BINDING", "message", msg);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    wgg_http_respond(j->req, 500, "application/json", h, k, text ? text : "", text ? strlen(text) : 0);
    free(text);
  } else if (j->result.len) {
    wgg_http_respond(j->req, 200, NULL, h, k, j->result.data, j->result.len);
  } else {
    wgg_http_respond(j->req, 204, NULL, h, k, NULL, 0);
  }
  for (size_t i = 0; i < k; i++) free(names[i]);
  free(names);
  free(h);
  free_job(j);
}

void wgg_api_bindings(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n != 1 || !*seg[0]) {
    static const char nf[] = "404 page not found\n";
    wgg_http_respond(req, 404, "text/plain; charset=utf-8", NULL, 0, nf, sizeof nf - 1);
    return;
  }
  if (req->method != HTTP_POST && req->method != HTTP_PUT) {
    wgg_http_respond(req, 405, NULL, NULL, 0, NULL, 0);
    return;
  }
  json_error_t jerr;
  json_t *body = json_loadb(req->body, req->body_len, JSON_ALLOW_NUL, &jerr);
  if (!json_is_object(body)) {
    json_decref(body);
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", jerr.text);
    return;
  }
  wgg_binding_entry *be = NULL;
  for (size_t i = 0; i < api->n_bindings && !be; i++)
    if (!strcmp(api->bindings[i].comp->name, seg[0])) be = &api->bindings[i];
  if (!be) {
    json_decref(body);
    wgg_api_error(req, 500, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding %s: couldn't find output binding %s",
                  seg[0], seg[0]);
    return;
  }
  json_t *data = wgg_json_field(body, "data"), *meta = wgg_json_field(body, "metadata");
  const char *op = json_string_value(wgg_json_field(body, "operation"));
  bind_job *j = calloc(1, sizeof *j);
  if (j) {
    wgg_cancel_init(&j->cancel);
    j->req = req;
    j->be = be;
    j->operation = strdup(op ? op : "");
    j->metadata = json_is_object(meta) ? json_deep_copy(meta) : json_object();
    static const char *const trace[] = {"traceparent", "tracestate", "baggage"}; /* copied into the metadata */
    for (size_t t = 0; j->metadata && t < 3; t++) {
      const char *tv = wgg_http_req_header(req, trace[t]);
      if (tv && !json_object_get(j->metadata, trace[t])) json_object_set_new(j->metadata, trace[t], json_string(tv));
    }
    if (json_is_string(data)) {
      j->len = json_string_length(data);
      j->data = malloc(j->len + 1);
      if (j->data) memcpy(j->data, json_string_value(data), j->len);
    } else if (data && !json_is_null(data)) {
      j->data = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
      j->len = j->data ? strlen(j->data) : 0;
    }
  }
  json_decref(body);
  bool ok = j && j->operation && j->metadata && (j->data || !j->len);
  if (!ok || wgg_api_submit(req->loop, true, j, bind_work, bind_done)) {
    if (j) free_job(j);
    wgg_api_error(req, 500, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding %s: out of memory", seg[0]);
    return;
  }
  req->on_gone = bind_gone;
  req->gone_user = j;
}
