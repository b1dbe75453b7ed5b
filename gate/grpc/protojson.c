/*
 * protojson.c: see protojson.h. Walks protobuf-c's descriptors.
 */
#include "grpc/protojson.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc/pbjson.h"
#include "grpc/wire.h"

static const ProtobufCMessageDescriptor *const known[] = {
    &google__rpc__error_info__descriptor,
    &google__rpc__retry_info__descriptor,
    &google__rpc__debug_info__descriptor,
    &google__rpc__quota_failure__descriptor,
    &google__rpc__precondition_failure__descriptor,
    &google__rpc__bad_request__descriptor,
    &google__rpc__request_info__descriptor,
    &google__rpc__resource_info__descriptor,
    &google__rpc__help__descriptor,
    &google__rpc__localized_message__descriptor,
    &google__rpc__status__descriptor,
    &google__protobuf__duration__descriptor,
    &google__protobuf__empty__descriptor,
    &google__protobuf__struct__descriptor,
    &google__protobuf__value__descriptor,
};

/* The descriptor of the type an Any's type_url names (its last path segment). */
static const ProtobufCMessageDescriptor *resolve(const char *url) {
  const char *slash = strrchr(url, '/');
  const char *name = slash ? slash + 1 : url;
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (!strcmp(known[i]->name, name)) return known[i];
  return NULL;
}

static json_t *message_json(const ProtobufCMessage *m, char *err, size_t errlen);

/* Padded standard base64, as protojson writes bytes. */
static json_t *bytes_json(const ProtobufCBinaryData *b) {
  char *s = wgg_grpc_base64(b->data, b->len);
  if (!s) return NULL;
  size_t n = strlen(s);
  char *p = realloc(s, n + 3);
  if (!p) {
    free(s);
    return NULL;
  }
  while (n % 4) p[n++] = '=';
  p[n] = '\0';
  json_t *j = json_string(p);
  free(p);
  return j;
}

/* One value of field f stored at p (a scalar, a char *, a ProtobufCBinaryData
 * or a message pointer). */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p, char *err, size_t errlen) {
  char num[32];
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)p);
      return json_string(num);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      snprintf(num, sizeof num, "%" PRIu64, *(const uint64_t *)p);
      return json_string(num);
    case PROTOBUF_C_TYPE_FLOAT: return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
      const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
      return v ? json_string(v->name) : json_integer(*(const int *)p);
    }
    case PROTOBUF_C_TYPE_STRING: return json_string(*(char *const *)p ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_BYTES: return bytes_json(p);
    case PROTOBUF_C_TYPE_MESSAGE: return message_json(*(ProtobufCMessage *const *)p, err, errlen);
  }
  return NULL;
}

/* Whether a singular proto3 field at p holds its zero value (left out). */
static bool is_zero(const ProtobufCFieldDescriptor *f, const void *p) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_STRING: return !*(char *const *)p || !**(char *const *)p;
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
    default: return *(const uint32_t *)p == 0; /* 32-bit integers, bool, enum */
  }
}

/* lowerCamelCase of a field name, protoc's default json_name. */
static void json_name(const char *name, char *out, size_t cap) {
  size_t j = 0;
  bool up = false;
  for (const char *s = name; *s && j + 1 < cap; s++) {
    if (*s == '_') {
      up = true;
      continue;
    }
    out[j++] = up ? (char)toupper((unsigned char)*s) : *s;
    up = false;
  }
  out[j] = '\0';
}

static size_t elem_size(const ProtobufCFieldDescriptor *f) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    default: return 4;
  }
}

/* A map field: its entries are messages of two fields, key and value. */
static bool is_map(const ProtobufCFieldDescriptor *f) {
  if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED) return false;
  const ProtobufCMessageDescriptor *d = f->descriptor;
  size_t n = strlen(d->name);
  return n > 5 && !strcmp(d->name + n - 5, "Entry") && d->n_fields == 2 && !strcmp(d->fields[0].name, "key") &&
         !strcmp(d->fields[1].name, "value");
}

/* Duration as protojson's string: seconds, and 3, 6 or 9 fraction digits when nanos. */
static json_t *duration_json(const Google__Protobuf__Duration *d) {
  char s[64];
  int64_t sec = d->seconds;
  int32_t ns = d->nanos;
  bool neg = sec < 0 || ns < 0;
  uint64_t as = (uint64_t)(sec < 0 ? -sec : sec);
  uint32_t an = (uint32_t)(ns < 0 ? -ns : ns);
  int n = snprintf(s, sizeof s, "%s%" PRIu64, neg ? "-" : "", as);
  if (an) {
    if (an % 1000000 == 0) n += snprintf(s + n, sizeof s - (size_t)n, ".%03u", an / 1000000);
    else if (an % 1000 == 0) n += snprintf(s + n, sizeof s - (size_t)n, ".%06u", an / 1000);
    else n += snprintf(s + n, sizeof s - (size_t)n, ".%09u", an);
  }
  snprintf(s + n, sizeof s - (size_t)n, "s");
  return json_string(s);
}

static json_t *any_json(const ProtobufCMessage *m, char *err, size_t errlen);

static json_t *message_json(const ProtobufCMessage *m, char *err, size_t errlen) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  if (!strcmp(d->name, "google.protobuf.Any")) return any_json(m, err, errlen);
  if (d == &google__protobuf__duration__descriptor) return duration_json((const void *)m);
  if (d == &google__protobuf__value__descriptor) return wgg_pb_value_to_json((const void *)m);
  if (d == &google__protobuf__struct__descriptor) {
    Google__Protobuf__Value v = GOOGLE__PROTOBUF__VALUE__INIT;
    v.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
    v.struct_value = (Google__Protobuf__Struct *)m;
    return wgg_pb_value_to_json(&v);
  }
  json_t *o = json_object();
  if (!o) return NULL;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    const char *base = (const char *)m;
    const void *p = base + f->offset;
    char name[128];
    json_name(f->name, name, sizeof name);
    json_t *v = NULL;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)(base + f->quantifier_offset);
      if (!n) continue;
      const char *arr = *(char *const *)p;
      if (is_map(f)) {
        v = json_object();
        const ProtobufCFieldDescriptor *kf = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0];
        const ProtobufCFieldDescriptor *vf = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[1];
        for (size_t k = 0; v && k < n; k++) {
          const char *e = ((char *const *)arr)[k];
          json_t *key = value_json(kf, e + kf->offset, err, errlen);
          json_t *val = value_json(vf, e + vf->offset, err, errlen);
          const char *ks = json_is_string(key) ? json_string_value(key) : NULL;
          char kbuf[32];
          if (json_is_integer(key)) snprintf(kbuf, sizeof kbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(key)), ks = kbuf;
          if (json_is_boolean(key)) ks = json_is_true(key) ? "true" : "false";
          if (!ks || !val || json_object_set_new(v, ks, val)) {
            if (val) json_decref(val);
            json_decref(key);
            json_decref(v);
            v = NULL;
            break;
          }
          json_decref(key);
        }
      } else {
        v = json_array();
        for (size_t k = 0; v && k < n; k++)
          if (json_array_append_new(v, value_json(f, arr + k * elem_size(f), err, errlen))) {
            json_decref(v);
            v = NULL;
          }
      }
    } else {
      if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + f->quantifier_offset) != f->id) continue;
      } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
                 f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
        if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset)) continue;
      } else if (is_zero(f, p)) {
        continue;
      }
      v = value_json(f, p, err, errlen);
    }
    if (!v || json_object_set_new(o, name, v)) {
      json_decref(o);
      if (!*err) snprintf(err, errlen, "out of memory");
      return NULL;
    }
  }
  return o;
}

static json_t *any_json(const ProtobufCMessage *m, char *err, size_t errlen) {
  const char *url = *(char *const *)((const char *)m + m->descriptor->fields[0].offset); /* type_url = 1 */
  const ProtobufCBinaryData *val = (const void *)((const char *)m + m->descriptor->fields[1].offset); /* value = 2 */
  const ProtobufCMessageDescriptor *d = url ? resolve(url) : NULL;
  if (!d) {
    snprintf(err, errlen, "proto: google.protobuf.Any: unable to resolve \"%s\": not found", url ? url : "");
    return NULL;
  }
  ProtobufCMessage *in = protobuf_c_message_unpack(d, NULL, val->len, val->data);
  if (!in) {
    snprintf(err, errlen, "proto: cannot parse invalid wire-format data");
    return NULL;
  }
  json_t *body = message_json(in, err, errlen), *o = NULL;
  bool wkt = d == &google__protobuf__duration__descriptor || d == &google__protobuf__value__descriptor ||
             d == &google__protobuf__struct__descriptor;
  if (body && (o = json_object()) && !json_object_set_new(o, "@type", json_string(url))) {
    if (wkt) json_object_set(o, "value", body); /* well-known types with a JSON form of their own */
    else json_object_update(o, body);
  }
  json_decref(body);
  protobuf_c_message_free_unpacked(in, NULL);
  return o;
}

json_t *wgg_protojson(const ProtobufCMessage *m, char *err, size_t errlen) {
  if (errlen) *err = '\0';
  return message_json(m, err, errlen);
}

char *wgg_protojson_status(int code, const char *message, const uint8_t *details, size_t len, char *err,
                           size_t errlen) {
  Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT, *in = NULL;
  if (errlen) *err = '\0';
  if (details && len) {
    if (!(in = google__rpc__status__unpack(NULL, len, details))) {
      snprintf(err, errlen, "proto: cannot parse invalid wire-format data");
      return NULL;
    }
    st.n_details = in->n_details;
    st.details = in->details;
  }
  st.code = code;
  st.message = (char *)(message ? message : "");
  json_t *j = message_json(&st.base, err, errlen);
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (j && !s) snprintf(err, errlen, "out of memory");
  json_decref(j);
  if (in) google__rpc__status__free_unpacked(in, NULL);
  return s;
}
