/*
 * wire.h: gRPC's text encodings of metadata (grpc/doc/PROTOCOL-HTTP2.md):
 * the grpc-timeout value, the percent-encoded grpc-message and base64 for
 * "-bin" metadata such as grpc-status-details-bin.
 */
#ifndef WGG_GRPC_WIRE_H
#define WGG_GRPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a grpc-timeout value: 1 to 8 digits and a unit (H hours, M
 * minutes, S seconds, m ms, u us, n ns). Returns milliseconds (rounded up
 * for u and n), or -1 when malformed. */
int64_t wgg_grpc_parse_timeout(const char *v);

/* grpc-message's encoding of m: bytes outside 0x20-0x7E and '%' as %XX.
 * Returns a malloc'd string, or NULL on OOM. */
char *wgg_grpc_percent_encode(const char *m);

/* The text of a percent-encoded grpc-message (a '%' not followed by two hex
 * digits is kept as it is, as grpc-go does). Returns a malloc'd string, or
 * NULL on OOM. */
char *wgg_grpc_percent_decode(const char *v);

/* Standard base64 of len bytes without padding (gRPC's binary metadata).
 * Returns a malloc'd string, or NULL on OOM. */
char *wgg_grpc_base64(const uint8_t *p, size_t len);

/* The bytes of s, base64 with or without padding (standard or URL-safe
 * alphabet; gRPC's "-bin" metadata). Returns a malloc'd buffer with *len
 * set, or NULL when s is not base64 or on OOM. */
uint8_t *wgg_grpc_unbase64(const char *s, size_t *len);

#endif
