/*
 * topic_event.c: see topic_event.h.
 */
#include "grpc/topic_event.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "google/protobuf/struct.pb-c.h"
#include "grpc/pbjson.h"

void wgg_grpc_topic_event_free(wgg_topic_event_scratch *a) {
  wgg_pb_afree(&a->arena);
  free(a->data);
  free(a->dumped);
  memset(a, 0, sizeof *a);
}

/* The CloudEvent attributes daprd does not repeat in extensions. */
static bool ce_core(const char *k) {
  static const char *const core[] = {"id", "source", "datacontenttype", "type", "specversion", "data", "data_base64"};
  for (size_t i = 0; i < sizeof core / sizeof *core; i++)
    if (!strcmp(core[i], k)) return true;
  return false;
}

const char *wgg_ce_str(json_t *ce, const char *k) {
  const char *v = json_string_value(json_object_get(ce, k));
  return v ? v : "";
}

/* Standard base64 (padding optional) into out (at least 3/4 of len); returns
 * the byte count or -1 on a bad character. */
static ssize_t unbase64(const char *in, uint8_t *out) {
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (; *in && *in != '='; in++) {
    const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(tbl, *in);
    if (!p) return -1;
    acc = acc << 6 | (uint32_t)(p - tbl);
    if ((bits += 6) >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return (ssize_t)n;
}

static bool ct_is_string(const char *ct) {
  return !strncasecmp(ct, "text/", 5) || strcasestr(ct, "xml") != NULL;
}

static bool ct_is_json(const char *ct) {
  return !strncasecmp(ct, "application/json", 16) || strcasestr(ct, "+json") != NULL;
}

int wgg_grpc_topic_event(json_t *ce, const char *pubsub, const char *topic, const char *path,
                         Dapr__Proto__Runtime__V1__TopicEventRequest *ev, wgg_topic_event_scratch *sc) {
  memset(sc, 0, sizeof *sc);
  dapr__proto__runtime__v1__topic_event_request__init(ev);
  ev->id = (char *)wgg_ce_str(ce, "id");
  ev->source = (char *)wgg_ce_str(ce, "source");
  ev->type = (char *)wgg_ce_str(ce, "type");
  ev->spec_version = (char *)wgg_ce_str(ce, "specversion");
  ev->data_content_type = (char *)wgg_ce_str(ce, "datacontenttype");
  ev->topic = (char *)topic;
  ev->pubsub_name = (char *)pubsub;
  ev->path = (char *)path;
  json_t *b64 = json_object_get(ce, "data_base64"), *d = json_object_get(ce, "data");
  if (json_is_string(b64)) {
    const char *s = json_string_value(b64);
    sc->data = malloc(strlen(s) + 1);
    ssize_t n = sc->data ? unbase64(s, sc->data) : -1;
    if (n < 0) goto fail;
    ev->data.data = sc->data;
    ev->data.len = (size_t)n;
  } else if (d && !json_is_null(d)) {
    if (ct_is_string(ev->data_content_type)) {
      if (!json_is_string(d)) goto fail;
      ev->data.data = (uint8_t *)json_string_value(d);
      ev->data.len = json_string_length(d);
    } else if (ct_is_json(ev->data_content_type) || !strncasecmp(ev->data_content_type, "application/cloudevents", 24)) {
      if (!(sc->dumped = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY))) goto fail;
      ev->data.data = (uint8_t *)sc->dumped;
      ev->data.len = strlen(sc->dumped);
    }
  }
  ev->extensions = wgg_pb_struct_from_json(&sc->arena, ce, ce_core);
  if (sc->arena.oom) goto fail;
  return 0;
fail:
  wgg_grpc_topic_event_free(sc);
  return -1;
}
