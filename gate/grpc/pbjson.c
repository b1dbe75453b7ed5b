/*
 * pbjson.c: see pbjson.h.
 */
#include "grpc/pbjson.h"

#include <stdlib.h>

void *wgg_pb_aalloc(wgg_pb_arena *a, size_t size) {
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

void wgg_pb_afree(wgg_pb_arena *a) {
  for (size_t i = 0; i < a->n; i++) free(a->p[i]);
  free(a->p);
}


/* A JSON value as a google.protobuf.Value (strings borrowed from j). */
Google__Protobuf__Value *wgg_pb_value_from_json(wgg_pb_arena *a, json_t *j) {
  Google__Protobuf__Value *v = wgg_pb_aalloc(a, sizeof *v);
  if (!v) return NULL;
  google__protobuf__value__init(v);
  switch (json_typeof(j)) {
    case JSON_OBJECT:
      v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
      v->struct_value = wgg_pb_struct_from_json(a, j, NULL);
      break;
    case JSON_ARRAY: {
      Google__Protobuf__ListValue *l = wgg_pb_aalloc(a, sizeof *l);
      if (!l) return NULL;
      google__protobuf__list_value__init(l);
      size_t n = json_array_size(j);
      l->values = wgg_pb_aalloc(a, n * sizeof *l->values);
      for (size_t i = 0; l->values && i < n; i++) l->values[l->n_values++] = wgg_pb_value_from_json(a, json_array_get(j, i));
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


Google__Protobuf__Struct *wgg_pb_struct_from_json(wgg_pb_arena *a, json_t *obj, bool (*skip)(const char *key)) {
  Google__Protobuf__Struct *s = wgg_pb_aalloc(a, sizeof *s);
  if (!s) return NULL;
  google__protobuf__struct__init(s);
  s->fields = wgg_pb_aalloc(a, json_object_size(obj) * sizeof *s->fields);
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    if (!s->fields || (skip && skip(k))) continue;
    Google__Protobuf__Struct__FieldsEntry *e = wgg_pb_aalloc(a, sizeof *e);
    if (!e) break;
    google__protobuf__struct__fields_entry__init(e);
    e->key = (char *)k;
    e->value = wgg_pb_value_from_json(a, v);
    s->fields[s->n_fields++] = e;
  }
  return s;
}

json_t *wgg_pb_value_to_json(const Google__Protobuf__Value *v) {
  if (!v) return json_null();
  switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: { /* integral numbers print as Go's encoding/json does: 1, not 1.0 */
      double d = v->number_value;
      if (d == (double)(json_int_t)d && d > -9007199254740992.0 && d < 9007199254740992.0)
        return json_integer((json_int_t)d);
      return json_real(d);
    }
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: return json_string(v->string_value ? v->string_value : "");
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE: return json_boolean(v->bool_value);
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE: {
      json_t *o = json_object();
      for (size_t i = 0; o && v->struct_value && i < v->struct_value->n_fields; i++) {
        json_t *x = wgg_pb_value_to_json(v->struct_value->fields[i]->value);
        if (!x || json_object_set_new(o, v->struct_value->fields[i]->key, x)) {
          json_decref(o);
          return NULL;
        }
      }
      return o;
    }
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE: {
      json_t *l = json_array();
      for (size_t i = 0; l && v->list_value && i < v->list_value->n_values; i++) {
        json_t *x = wgg_pb_value_to_json(v->list_value->values[i]);
        if (!x || json_array_append_new(l, x)) {
          json_decref(l);
          return NULL;
        }
      }
      return l;
    }
    default: return json_null();
  }
}
