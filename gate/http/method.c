/*
 * method.c: HTTP method names and http-parser's method numbers, on their own
 * so that code outside the server (the pipeline's exchange, invocation from
 * gRPC and wasm apps, the fuzz targets' small libraries) can use them
 * without linking the server.
 */
#include <string.h>

#include <http_parser.h>

#include "http/server.h"

int wgg_http_method_number(const char *name) {
  for (int i = 0; i < 64; i++) {
    const char *s = http_method_str((enum http_method)i);
    if (!strcmp(s, "<unknown>")) break;
    if (!strcmp(s, name)) return i;
  }
  return -1;
}
