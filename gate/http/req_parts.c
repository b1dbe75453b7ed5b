/*
 * req_parts.c: who owns the parts of a wgg_http_req (server.h,
 * wgg_http_req_free_part). Apart from the server so that the pipeline's
 * exchange (and its fuzz targets) can use it without the server.
 */
#include <stdlib.h>

#include "http/server.h"

bool wgg_http_req_in_block(const wgg_http_req *req, const void *part) {
  const char *p = part, *base = (const char *)req;
  return req->own_size && p >= base && p < base + req->own_size;
}

void wgg_http_req_free_part(const wgg_http_req *req, void *part) {
  if (!wgg_http_req_in_block(req, part)) free(part);
}
