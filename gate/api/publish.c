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
  wgg_http_req *req;
  wgg_pubsub *ps;
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
  if (!j->bulk) {
    if (j->entries[0].rc)
      wgg_api_error(j->req, 500, "ERR_PUBSUB_PUBLISH_MESSAGE", "error when publish to topic %s in pubsub %s: %s",
                    j->topic, j->pubsub, j->entries[0].err.msg);
    else wgg_api_empty(j->req);
    job_free(j);
    return;
  }
  json_t *failed = json_array();
  for (size_t i = 0; i < j->n; i++)
    if (j->entries[i].rc)
      json_array_append_new(failed, json_pack("{s:s,s:s}", "entryId", j->entries[i].entry_id, "error",
                                              j->entries[i].err.msg));
  if (json_array_size(failed))
    wgg_api_json(j->req, 500, json_pack("{s:o,s:s}", "failedEntries", failed, "errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE"));
  else {
    json_decref(failed);
    wgg_api_empty(j->req);
  }
  job_free(j);
}

/* The bytes of one publish into out->data/len: the raw body, or the
 * CloudEvent built around it with the metadata applied. Returns 0; -1 with
 * err when the envelope cannot be built (the app's own is not a JSON object,
 * out of memory); -2 with err for invalid metadata (ttlInSeconds). */
static int make_payload(wgg_api *api, wgg_http_req *req, const char *pubsub, const char *topic, const char *ct,
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
                     .traceparent = wgg_http_req_header(req, "traceparent"),
                     .tracestate = wgg_http_req_header(req, "tracestate")};
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

static void route(wgg_api *api, wgg_http_req *req, char **seg, size_t n, bool bulk) {
  if (req->method != HTTP_POST && req->method != HTTP_PUT) {
    wgg_http_respond(req, 405, NULL, NULL, 0, NULL, 0);
    return;
  }
  if (api->n_pubsubs == 0) {
    wgg_api_error(req, 400, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured");
    return;
  }
  const char *name = n >= 1 ? seg[0] : "";
  if (!*name) {
    wgg_api_error(req, 404, "ERR_PUBSUB_EMPTY", "pubsub name is empty");
    return;
  }
  wgg_pubsub_entry *e = NULL;
  for (size_t i = 0; i < api->n_pubsubs && !e; i++)
    if (!strcmp(api->pubsubs[i].comp->name, name)) e = &api->pubsubs[i];
  if (!e) {
    wgg_api_error(req, 404, "ERR_PUBSUB_NOT_FOUND", "pubsub %s not found", name);
    return;
  }
  wgg_buf topic = {0};
  for (size_t i = 1; i < n; i++) wgg_buf_printf(&topic, "%s%s", i > 1 ? "/" : "", seg[i]);
  if (!topic.len) {
    wgg_buf_free(&topic);
    wgg_api_error(req, 404, "ERR_TOPIC_NAME_EMPTY", "topic is empty in pubsub %s", name);
    return;
  }
  if (!wgg_pubsub_topic_allowed(e->comp, api->opts->app_id, topic.data, true)) {
    wgg_api_error(req, 403, "ERR_PUBSUB_FORBIDDEN", "topic %s is not allowed for app id %s", topic.data,
                  api->opts->app_id ? api->opts->app_id : "");
    wgg_buf_free(&topic);
    return;
  }
  json_t *md = wgg_query_metadata(req->query);
  pub_job *j = calloc(1, sizeof *j);
  json_t *body = NULL;
  wgg_err err;
  if (!j || !md || !(j->pubsub = strdup(name))) {
    wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
    goto out;
  }
  j->topic = topic.data;
  topic.data = NULL;
  j->req = req;
  j->ps = e->ps;
  j->bulk = bulk;
  const char *ct = wgg_http_req_header(req, "content-type");
  if (!bulk) {
    if (!(j->entries = calloc(1, sizeof *j->entries))) {
      wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
      goto out;
    }
    j->n = 1;
    int prc = make_payload(api, req, name, j->topic, ct, req->body, req->body_len, md, &j->entries[0], &err);
    if (prc) {
      bool meta = prc == -2;
      wgg_api_error(req, meta ? 400 : 500, meta ? "ERR_PUBSUB_REQUEST_METADATA" : "ERR_PUBSUB_CLOUD_EVENTS_SER",
                    meta ? "%s" : "error when marshalling cloud event envelope for topic %s pubsub %s: %s",
                    meta ? err.msg : j->topic, name, err.msg);
      goto out;
    }
  } else {
    json_error_t je;
    body = json_loadb(req->body, req->body_len, 0, &je);
    if (!json_is_array(body)) {
      wgg_api_error(req, 400, "ERR_PUBSUB_EVENTS_SER", "error when unmarshaling the request for topic %s pubsub %s: %s",
                    j->topic, name, body ? "the body must be a JSON array" : je.text);
      goto out;
    }
    size_t cnt = json_array_size(body);
    if (!(j->entries = calloc(cnt ? cnt : 1, sizeof *j->entries))) {
      wgg_api_error(req, 500, "ERR_INTERNAL", "out of memory");
      goto out;
    }
    json_t *seen = json_object();
    size_t i;
    json_t *ent;
    int bad = 0;
    json_array_foreach(body, i, ent) {
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
      json_t *emd = json_deep_copy(md);
      const char *k;
      json_t *v;
      json_object_foreach(wgg_json_field(ent, "metadata"), k, v) if (json_is_string(v)) json_object_set(emd, k, v);
      size_t blen;
      wgg_err e2;
      char *bytes = event_bytes(ev, ect, &blen, &e2);
      pub_entry *pe = &j->entries[j->n++];
      pe->entry_id = strdup(id);
      if (!bytes || make_payload(api, req, name, j->topic, ect ? ect : "text/plain", bytes, blen, emd, pe, &e2)) {
        bad = wgg_err_set(&err, "entry %s: %s", id, e2.msg);
        free(bytes);
        json_decref(emd);
        break;
      }
      free(bytes);
      json_decref(emd);
    }
    json_decref(seen);
    if (bad) {
      wgg_api_error(req, 400, "ERR_PUBSUB_EVENTS_SER", "error when unmarshaling the request for topic %s pubsub %s: %s",
                    j->topic, name, err.msg);
      goto out;
    }
    if (j->n == 0) {
      wgg_api_empty(req);
      goto out;
    }
  }
  json_decref(md);
  json_decref(body);
  if (wgg_api_submit(req->loop, e->ps->blocking, j, pub_work, pub_done)) {
    wgg_api_error(req, 500, "ERR_PUBSUB_PUBLISH_MESSAGE", "error when publish to topic %s in pubsub %s: cannot queue",
                  j->topic, name);
    job_free(j);
  }
  return;
out:
  wgg_buf_free(&topic);
  json_decref(md);
  json_decref(body);
  if (j) job_free(j);
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
