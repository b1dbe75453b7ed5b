/*
 * gzip.h: gRPC's "gzip" message encoding (grpc/doc/compression.md): a
 * message whose prefix has the compressed flag holds a gzip stream (RFC
 * 1952) when the call's grpc-encoding is gzip. zlib does the work.
 */
#ifndef WGG_GRPC_GZIP_H
#define WGG_GRPC_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Appends the gunzipped bytes of in/len to out. Returns 0; -1 when in is
 * not one whole gzip stream; -2 when the result would exceed max bytes
 * (decompression stops there: a small message cannot make us hold more);
 * -3 on OOM. */
int wgg_grpc_gunzip(const uint8_t *in, size_t len, size_t max, wgg_buf *out);

/* Appends the gzip stream of in/len to out (default level, as grpc-go).
 * Returns 0, or -1 on OOM. */
int wgg_grpc_gzip(const uint8_t *in, size_t len, wgg_buf *out);

#endif
