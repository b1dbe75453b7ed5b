/*
 * topic_event.c: see topic_event.h.
 */
#include "grpc/topic_event.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "google/protobuf/struct.pb-c.h"

typedef wgg_topic_event_scratch arena;

static void *aalloc(arena *a, size_t size) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    void **g = realloc(a->p, cap * sizeof *g);
    if (!g) return a->oom = true, NULL;
    a->p = g;
    a->cap = cap;
  }
  void *x = calloc(1, size ? size : 1);
  if (!x) return a->oom = true, NULL;
  return a->p[a->n++] = x;
}

void wgg_grpc_topic_event_free(wgg_topic_event_scratch *a) {
  for (size_t i = 0; i < a->n; i++) free(a->p[i]);
  free(a->p);
  free(a->data);
  free(a->dumped);
  memset(a, 0, sizeof *a);
}

static Google__Protobuf__Struct *to_struct(arena *a, json_t *obj, bool skip_ce);

/* A JSON value as a google.protobuf.Value (strings borrowed from j). */
static Google__Protobuf__Value *to_value(arena *a, json_t *j) {
  Google__Protobuf__Value *v = aalloc(a, sizeof *v);
  if (!v) return NULL;
  google__protobuf__value__init(v);
  switch (json_typeof(j)) {
    case JSON_OBJECT:
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
      v->struct_value = to_struct(a, j, false);
      break;
    case JSON_ARRAY: {
      Google__Protobuf__ListValue *l = aalloc(a, sizeof *l);
      if (!l) return NULL;
      google__protobuf__list_value__init(l);
      size_t n = json_array_size(j);
      l->values = aalloc(a, n * sizeof *l->values);
      for (size_t i = 0; l->values && i < n; i++) l->values[l->n_values++] = to_value(a, json_array_get(j, i));
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
      v->list_value = l;
      break;
    }
    case JSON_STRING:
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
      v->string_value = (char *)json_string_value(j);
      break;
    case JSON_INTEGER:
    case JSON_REAL:
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
      v->number_value = json_number_value(j);
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
      v->bool_value = json_is_true(j);
      break;
    default:
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
      v->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
      break;
  }
  return v;
}

/* The CloudEvent attributes daprd does not repeat in extensions. */
static bool ce_core(const char *k) {
  static const char *const core[] = {"id", "source", "datacontenttype", "type", "specversion", "data", "data_base64"};
  for (size_t i = 0; i < sizeof core / sizeof *core; i++)
    if (!strcmp(core[i], k)) return true;
  return false;
}

static Google__Protobuf__Struct *to_struct(arena *a, json_t *obj, bool skip_ce) {
  Google__Protobuf__Struct *s = aalloc(a, sizeof *s);
  if (!s) return NULL;
  google__protobuf__struct__init(s);
  s->fields = aalloc(a, json_object_size(obj) * sizeof *s->fields);
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    if (!s->fields || (skip_ce && ce_core(k))) continue;
    Google__Protobuf__Struct__FieldsEntry *e = aalloc(a, sizeof *e);
    if (!e) break;
    google__protobuf__struct__fields_entry__init(e);
    e->key = (char *)k;
    e->value = to_value(a, v);
    s->fields[s->n_fields++] = e;
  }
  return s;
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
  ev->extensions = to_struct(sc, ce, true);
  if (sc->oom) goto fail;
  return 0;
fail:
  wgg_grpc_topic_event_free(sc);
  return -1;
}
