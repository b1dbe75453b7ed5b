/*
 * gzip.c: see gzip.h.
 */
#include "grpc/gzip.h"

#include <stdlib.h>
#include <zlib.h>

int wgg_grpc_gunzip(const uint8_t *in, size_t len, size_t max, wgg_buf *out) {
  z_stream z = {0};
  if (len > UINT32_MAX) return -1;
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return -3;
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)len;
  size_t start = out->len;
  int rc, fail = 0;
  uint8_t chunk[16384];
  do {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      fail = rc == Z_MEM_ERROR ? -3 : -1;
      break;
    }
    size_t got = sizeof chunk - z.avail_out;
    if (out->len - start + got > max) {
      fail = -2;
      break;
    }
    if (got && wgg_buf_append(out, chunk, got)) {
      fail = -3;
      break;
    }
  } while (rc == Z_OK);
  if (!fail && z.avail_in) fail = -1; /* bytes after the gzip stream */
  inflateEnd(&z);
  if (fail) out->len = start;
  return fail;
}

int wgg_grpc_gzip(const uint8_t *in, size_t len, wgg_buf *out) {
  z_stream z = {0};
  if (len > UINT32_MAX) return -1;
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  uLong bound = deflateBound(&z, (uLong)len);
  uint8_t *tmp = malloc(bound);
  int rc = Z_MEM_ERROR;
  if (tmp) {
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = tmp;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
  }
  deflateEnd(&z);
  int result = rc == Z_STREAM_END && !wgg_buf_append(out, tmp, bound - z.avail_out) ? 0 : -1;
  free(tmp);
  return result;
}
