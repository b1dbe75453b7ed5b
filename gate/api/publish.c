/*
 * publish.c: POST|PUT /v1.0/publish/{pubsubname}/{topic} and bulk publish
 * POST|PUT /v1.0-alpha1/publish/bulk/{pubsubname}/{topic} (also under
 * /v1.0/) (docs reference/api/pubsub_api.md; dapr pkg/api/http/http.go
 * onPublish/onBulkPublish, pkg/api/errors/pubsub.go, pkg/messages).
 * The topic is the rest of the path and may contain '/'.
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/calls.h"
#include "observe/metrics.h"
#include "pubsub/cloudevent.h"
#include "pubsub/scopes.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

static bool is_true(json_t *md, const char *k) {
  const char *v = json_string_value(json_object_get(md, k));
  return v && !strcasecmp(v, "true");
}

typedef struct pub_entry {
  char *entry_id; /* bulk only */
  char *data;
  size_t len;
  int rc;
  wgg_err err;
} pub_entry;

typedef struct pub_job {
  wgg_state_done_cb cb;         /* single: completion (api/calls.h) */
  wgg_publish_bulk_cb bulk_cb;  /* bulk: completion */
  void *user;
  wgg_pubsub *ps;
  struct wgg_metrics *metrics; /* the publishing app ID's */
  char *pubsub, *topic;
  pub_entry *entries;
  size_t n;
  bool bulk;
} pub_job;

static void job_free(pub_job *j) {
  for (size_t i = 0; i < j->n; i++) {
    free(j->entries[i].entry_id);
    free(j->entries[i].data);
  }
  free(j->entries);
  free(j->pubsub);
  free(j->topic);
  free(j);
}

static void pub_work(void *p) {
  pub_job *j = p;
  for (size_t i = 0; i < j->n; i++)
    j->entries[i].rc = j->ps->ops->publish(j->ps, j->topic, j->entries[i].data, j->entries[i].len, &j->entries[i].err);
}

static void pub_done(void *p) {
  pub_job *j = p;
  static const char *const names[] = {"component", "success", "topic"};
  for (size_t i = 0; i < j->n; i++) { /* dapr_component_pubsub_egress_count */
    const char *values[] = {j->pubsub, j->entries[i].rc ? "false" : "true", j->topic};
    wgg_metrics_count(j->metrics, WGG_MF_PUBSUB_EGRESS, names, values, 3);
  }
  if (!j->bulk) {
    wgg_api_status st;
    if (j->entries[0].rc)
      wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "ERR_PUBSUB_PUBLISH_MESSAGE",
                   "error when publishing to topic %s in pubsub %s: %s", j->topic, j->pubsub, j->entries[0].err.msg);
    j->cb(j->user, j->entries[0].rc ? &st : NULL);
    job_free(j);
    return;
  }
  wgg_publish_failed *failed = calloc(j->n ? j->n : 1, sizeof *failed);
  size_t nf = 0;
  for (size_t i = 0; failed && i < j->n; i++)
    if (j->entries[i].rc) failed[nf++] = (wgg_publish_failed){j->entries[i].entry_id, j->entries[i].err.msg};
  if (!failed) { /* out of memory: report every entry as failed, without a list */
    static const wgg_publish_failed oom = {"", "out of memory"};
    j->bulk_cb(j->user, &oom, 1);
  } else {
    j->bulk_cb(j->user, failed, nf);
  }
  free(failed);
  job_free(j);
}

/* The bytes of one publish into out->data/len: the raw body, or the
 * CloudEvent built around it with the metadata applied. Returns 0; -1 with
 * err when the envelope cannot be built (the app's own is not a JSON object,
 * out of memory); -2 with err for invalid metadata (ttlInSeconds). */
static int make_payload(wgg_api *api, const char *traceparent, const char *tracestate, const char *pubsub, const char *topic, const char *ct,
                        const char *data, size_t len, json_t *md, pub_entry *out, wgg_err *err) {
  if (is_true(md, "rawPayload")) {
    out->data = wgg_strndup(data, len);
    out->len = len;
    return out->data ? 0 : wgg_err_set(err, "out of memory");
  }
  wgg_ce_input in = {.app_id = api->opts->app_id,
                     .pubsub = pubsub,
                     .topic = topic,
                     .content_type = ct,
                     .data = data,
                     .len = len,
                     .traceparent = traceparent,
                     .tracestate = tracestate};
  json_t *ce = wgg_ce_build(&in, err);
  if (!ce) return -1;
  if (wgg_ce_apply_metadata(ce, md, err)) {
    json_decref(ce);
    return -2;
  }
  out->data = json_dumps(ce, JSON_COMPACT);
  json_decref(ce);
  if (!out->data) return wgg_err_set(err, "out of memory");
  out->len = strlen(out->data);
  return 0;
}

/* The bytes of a bulk entry's event (dapr pkg/api/http: ConvertEventToBytes):
 * JSON content types take the JSON text of the event, a string event its
 * text; application/octet-stream needs a base64 string. */
static char *event_bytes(json_t *ev, const char *ct, size_t *len, wgg_err *err) {
  bool json = wgg_ce_is_json_type(ct) || (ct && !strncasecmp(ct, "application/cloudevents+json", 28));
  if (!json && json_is_string(ev)) {
    *len = json_string_length(ev);
    return wgg_strndup(json_string_value(ev), *len);
  }
  if (!json && ct && *ct) {
    wgg_err_set(err, "error: mismatch between contentType and event");
    return NULL;
  }
  char *s = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
  if (!s) wgg_err_set(err, "out of memory");
  *len = s ? strlen(s) : 0;
  return s;
}

/* The pubsub and topic of a publish, checked as daprd does (pkg/api/errors/pubsub.go):
 * NULL with st filled when none is configured, the name or topic is empty,
 * the pubsub does not exist or its scopes forbid the topic. */
static wgg_pubsub_entry *validate(wgg_api *api, const char *name, const char *topic, wgg_api_status *st) {
  if (api->n_pubsubs == 0)
    return wgg_api_fail(st, 400, WGG_GRPC_FAILED_PRECONDITION, "ERR_PUBSUB_NOT_CONFIGURED", "pubsub %s is not configured",
                        name),
           NULL;
  if (!*name) return wgg_api_fail(st, 404, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_EMPTY", "pubsub name is empty"), NULL;
  wgg_pubsub_entry *e = NULL;
  for (size_t i = 0; i < api->n_pubsubs && !e; i++)
    if (!strcmp(api->pubsubs[i].comp->name, name)) e = &api->pubsubs[i];
  if (!e)
    return wgg_api_fail(st, 404, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_NOT_FOUND", "pubsub %s is not found", name), NULL;
  if (!*topic)
    return wgg_api_fail(st, 404, WGG_GRPC_INVALID_ARGUMENT, "ERR_TOPIC_NAME_EMPTY", "topic is empty in pubsub %s", name),
           NULL;
  if (!wgg_pubsub_topic_allowed(e->comp, api->opts->app_id, topic, true))
    return wgg_api_fail(st, 403, WGG_GRPC_PERMISSION_DENIED, "ERR_PUBSUB_FORBIDDEN", "topic %s is not allowed for app id %s",
                        topic, api->opts->app_id ? api->opts->app_id : ""),
           NULL;
  return e;
}

int wgg_publish_call(wgg_api *api, uv_loop_t *loop, const wgg_publish_input *in, wgg_state_done_cb cb, void *user,
                     wgg_api_status *st) {
  wgg_pubsub_entry *e = validate(api, in->pubsub, in->topic, st);
  if (!e) return -1;
  pub_job *j = calloc(1, sizeof *j);
  if (!j || !(j->pubsub = strdup(in->pubsub)) || !(j->topic = strdup(in->topic)) ||
      !(j->entries = calloc(1, sizeof *j->entries))) {
    if (j) job_free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INTERNAL", "out of memory");
  }
  j->n = 1;
  j->cb = cb;
  j->user = user;
  j->ps = e->ps;
  j->metrics = api->metrics;
  wgg_err err;
  json_t *md = in->metadata ? json_incref(in->metadata) : json_object();
  int prc = md ? make_payload(api, in->traceparent, in->tracestate, in->pubsub, j->topic, in->content_type, in->data,
                              in->len, md, &j->entries[0], &err)
               : wgg_err_set(&err, "out of memory");
  json_decref(md);
  if (prc) {
    job_free(j);
    if (prc == -2) return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_REQUEST_METADATA", "%s", err.msg);
    return wgg_api_fail(st, 500, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_CLOUD_EVENTS_SER",
                        "error when marshalling cloud event envelope for topic %s pubsub %s: %s", in->topic, in->pubsub,
                        err.msg);
  }
  if (wgg_api_submit(loop, e->ps->blocking, j, pub_work, pub_done)) {
    job_free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_PUBSUB_PUBLISH_MESSAGE",
                        "error when publishing to topic %s in pubsub %s: cannot queue", in->topic, in->pubsub);
  }
  return 0;
}

int wgg_publish_bulk_call(wgg_api *api, uv_loop_t *loop, const wgg_publish_input *in, const wgg_publish_entry *ents,
                          size_t n, wgg_publish_bulk_cb cb, void *user, wgg_api_status *st) {
  wgg_pubsub_entry *e = validate(api, in->pubsub, in->topic, st);
  if (!e) return -1;
  pub_job *j = calloc(1, sizeof *j);
  if (!j || !(j->pubsub = strdup(in->pubsub)) || !(j->topic = strdup(in->topic)) ||
      !(j->entries = calloc(n ? n : 1, sizeof *j->entries))) {
    if (j) job_free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INTERNAL", "out of memory");
  }
  j->bulk = true;
  j->bulk_cb = cb;
  j->user = user;
  j->ps = e->ps;
  j->metrics = api->metrics;
  json_t *seen = json_object();
  int rc = seen ? 0 : wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_INTERNAL", "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    const char *id = ents[i].entry_id;
    if (!id || !*id || json_object_get(seen, id)) { /* daprd's BulkPublishEventAlpha1 wording */
      rc = wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_EVENTS_SER",
                        "error marshaling events to bytes for topic %s pubsub %s. error: entryId is duplicated or not "
                        "present for entry",
                        in->topic, in->pubsub);
      break;
    }
    json_object_set_new(seen, id, json_true());
    /* the request's metadata, overridden by the entry's */
    json_t *md = in->metadata ? json_deep_copy(in->metadata) : json_object();
    const char *k;
    json_t *v;
    json_object_foreach(ents[i].metadata, k, v) if (md && json_is_string(v)) json_object_set(md, k, v);
    pub_entry *pe = &j->entries[j->n++];
    wgg_err err;
    int prc = !md ? wgg_err_set(&err, "out of memory") : !(pe->entry_id = strdup(id)) ? wgg_err_set(&err, "out of memory")
              : make_payload(api, in->traceparent, in->tracestate, in->pubsub, j->topic, ents[i].content_type, ents[i].data,
                             ents[i].len, md, pe, &err);
    json_decref(md);
    if (prc == -2) rc = wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_REQUEST_METADATA", "entry %s: %s", id, err.msg);
    else if (prc)
      rc = wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_CLOUD_EVENTS_SER", "entry %s: %s", id, err.msg);
  }
  json_decref(seen);
  if (!rc && wgg_api_submit(loop, e->ps->blocking, j, pub_work, pub_done))
    rc = wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_PUBSUB_PUBLISH_MESSAGE",
                      "error when publishing to topic %s in pubsub %s: cannot queue", in->topic, in->pubsub);
  if (rc) job_free(j);
  return rc;
}

static void http_done(void *user, const wgg_api_status *st) {
  if (st) wgg_api_error_status(user, st);
  else wgg_api_empty(user);
}

/* 204, or 500 {"failedEntries":[{entryId,error}],"errorCode"} when some entries failed. */
static void http_bulk_done(void *user, const wgg_publish_failed *failed, size_t n) {
  wgg_http_req *req = user;
  if (!n) {
    wgg_api_empty(req);
    return;
  }
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    json_array_append_new(arr, json_pack("{s:s,s:s}", "entryId", failed[i].entry_id, "error", failed[i].error));
  wgg_api_json(req, 500, json_pack("{s:o,s:s}", "failedEntries", arr, "errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE"));
}

static void route(wgg_api *api, wgg_http_req *req, char **seg, size_t n, bool bulk) {
  if (req->method != HTTP_POST && req->method != HTTP_PUT) {
    wgg_api_method_not_allowed(req);
    return;
  }
  const char *name = n >= 1 ? seg[0] : "";
  wgg_buf topic = {0};
  for (size_t i = 1; i < n; i++) wgg_buf_printf(&topic, "%s%s", i > 1 ? "/" : "", seg[i]);
  wgg_api_status st;
  json_t *md = NULL, *body = NULL;
  if (!validate(api, name, topic.len ? topic.data : "", &st)) {
    wgg_api_error_status(req, &st);
    goto out;
  }
  md = wgg_query_metadata(req->query);
  if (!bulk) {
    wgg_publish_input in = {.pubsub = name, .topic = topic.data, .data = req->body, .len = req->body_len,
                            .content_type = wgg_http_req_header(req, "content-type"), .metadata = md,
                            .traceparent = wgg_http_req_header(req, "traceparent"),
                            .tracestate = wgg_http_req_header(req, "tracestate")};
    if (!md) wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
    else if (wgg_publish_call(api, req->loop, &in, http_done, req, &st)) wgg_api_error_status(req, &st);
    goto out;
  }
  {
    json_error_t je;
    body = json_loadb(req->body, req->body_len, 0, &je);
    if (!json_is_array(body)) {
      wgg_api_error(req, 400, "ERR_PUBSUB_EVENTS_SER", "error when unmarshaling the request for topic %s pubsub %s: %s",
                    topic.data, name, body ? "the body must be a JSON array" : je.text);
      goto out;
    }
    size_t cnt = json_array_size(body), i, k = 0;
    wgg_publish_entry *ents = calloc(cnt ? cnt : 1, sizeof *ents);
    char **bytes = calloc(cnt ? cnt : 1, sizeof *bytes);
    json_t *seen = json_object(), *ent;
    wgg_err err;
    int bad = !ents || !bytes || !seen ? wgg_err_set(&err, "out of memory") : 0;
    json_array_foreach(body, i, ent) {
      if (bad) break;
      const char *id = json_string_value(wgg_json_field(ent, "entryId"));
      json_t *ev = wgg_json_field(ent, "event");
      const char *ect = json_string_value(wgg_json_field(ent, "contentType"));
      if (!id || !*id || json_object_get(seen, id)) {
        bad = wgg_err_set(&err, "error: entryId is duplicated or not present for entry");
        break;
      }
      json_object_set_new(seen, id, json_true());
      if (!ev) {
        bad = wgg_err_set(&err, "error: event is not present for entry %s", id);
        break;
      }
      wgg_err e2;
      if (!(bytes[k] = event_bytes(ev, ect, &ents[k].len, &e2))) {
        bad = wgg_err_set(&err, "entry %s: %s", id, e2.msg);
        break;
      }
      ents[k].entry_id = id;
      ents[k].data = bytes[k];
      ents[k].content_type = ect ? ect : "text/plain";
      ents[k++].metadata = wgg_json_field(ent, "metadata");
    }
    json_decref(seen);
    wgg_publish_input in = {.pubsub = name, .topic = topic.data, .metadata = md,
                            .traceparent = wgg_http_req_header(req, "traceparent"),
                            .tracestate = wgg_http_req_header(req, "tracestate")};
    if (bad)
      wgg_api_error(req, 400, "ERR_PUBSUB_EVENTS_SER", "error when unmarshaling the request for topic %s pubsub %s: %s",
                    topic.data, name, err.msg);
    else if (!md) wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
    else if (k == 0) wgg_api_empty(req);
    else if (wgg_publish_bulk_call(api, req->loop, &in, ents, k, http_bulk_done, req, &st)) {
      /* the HTTP API has always reported a bad entry as an unmarshaling error */
      if (!strcmp(st.code, "ERR_PUBSUB_CLOUD_EVENTS_SER") || !strcmp(st.code, "ERR_PUBSUB_REQUEST_METADATA"))
        wgg_api_error(req, 400, "ERR_PUBSUB_EVENTS_SER", "error when unmarshaling the request for topic %s pubsub %s: %s",
                      topic.data, name, st.msg);
      else wgg_api_error_status(req, &st);
    }
    for (size_t x = 0; bytes && x < cnt; x++) free(bytes[x]);
    free(bytes);
    free(ents);
  }
out:
  wgg_buf_free(&topic);
  json_decref(md);
  json_decref(body);
}

void wgg_api_publish(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  req->tag = WGG_R_PUBLISH;
  bool bulk = n >= 1 && !strcmp(seg[0], "bulk");
  if (bulk) { /* /v1.0/publish/bulk/...: a pubsub really named "bulk" keeps the plain route */
    for (size_t i = 0; i < api->n_pubsubs; i++)
      if (!strcmp(api->pubsubs[i].comp->name, "bulk") && n == 2) bulk = false;
  }
  if (bulk) route(api, req, seg + 1, n - 1, true);
  else route(api, req, seg, n, false);
}

void wgg_api_publish_bulk(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  req->tag = WGG_R_PUBLISH;
  route(api, req, seg, n, true);
}
