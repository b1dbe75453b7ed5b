/*
 * pbjson.h: JSON (jansson) to and from google.protobuf.Value / Struct
 * (protobuf-c), as protojson maps them (google/protobuf/struct.proto):
 * objects are Structs, arrays ListValues, numbers doubles, null NullValue.
 */
#ifndef WGG_GRPC_PBJSON_H
#define WGG_GRPC_PBJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "google/protobuf/struct.pb-c.h"

/* Every allocation of one conversion, freed at once with wgg_pb_afree;
 * zero-initialise it. oom is set when an allocation failed (the result then
 * lacks parts). */
typedef struct wgg_pb_arena {
  void **p;
  size_t n, cap;
  bool oom;
} wgg_pb_arena;

/* A zeroed block of size bytes owned by a (NULL on OOM). */
void *wgg_pb_aalloc(wgg_pb_arena *a, size_t size);
/* Frees every block of a. */
void wgg_pb_afree(wgg_pb_arena *a);

/* j as a google.protobuf.Value in a (strings borrowed from j, which must
 * outlive the result). NULL on OOM. */
Google__Protobuf__Value *wgg_pb_value_from_json(wgg_pb_arena *a, json_t *j);

/* The object obj as a google.protobuf.Struct in a, leaving out the members
 * for which skip (when not NULL) is true. NULL on OOM. */
Google__Protobuf__Struct *wgg_pb_struct_from_json(wgg_pb_arena *a, json_t *obj, bool (*skip)(const char *key));

/* v as JSON (a new reference; NULL on OOM). A Value with no kind set is
 * null, as protojson reads it. */
json_t *wgg_pb_value_to_json(const Google__Protobuf__Value *v);

#endif
