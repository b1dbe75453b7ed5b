/*
 * protojson.h: protobuf messages (protobuf-c) as JSON the way Go's protojson
 * writes them with daprd's options (UseProtoNames false, EmitUnpopulated
 * false; protobuf.dev/programming-guides/json): lowerCamelCase names, fields
 * in declaration order, zero values left out, 64-bit integers as strings,
 * bytes as padded base64, enums by name, maps as objects, and for
 * google.protobuf.Any the "@type" then the fields of the message it holds
 * (only types this build knows: the google.rpc error details and
 * google.rpc.Status, google.protobuf.Duration, Empty, Struct and Value).
 *
 * daprd uses it for one thing wasmgate copies: the body an HTTP caller of
 * /v1.0/invoke gets when a gRPC app fails the call (pkg/api/http/
 * directmessaging.go: invokev1.ProtobufToJSON of the app's status).
 */
#ifndef WGG_GRPC_PROTOJSON_H
#define WGG_GRPC_PROTOJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* m as JSON (a new reference), or NULL with err set (an Any of a type not
 * known, or whose value does not decode, in protojson's words; OOM). */
json_t *wgg_protojson(const ProtobufCMessage *m, char *err, size_t errlen);

/* The google.rpc.Status made of code, message and the serialized details
 * (the grpc-status-details-bin trailer's Status, whose own code and message
 * are ignored, as daprd takes only its details; NULL/0: none) as protojson
 * text (malloc'd, NUL-terminated), or NULL with err set (see wgg_protojson;
 * details that do not decode). */
char *wgg_protojson_status(int code, const char *message, const uint8_t *details, size_t len, char *err,
                           size_t errlen);

#endif
