/*
 * calls.c: the transport-neutral error value of api/calls.h and its HTTP
 * rendering.
 */
#include <stdarg.h>
#include <stdio.h>

#include "api/calls.h"

int wgg_api_fail(wgg_api_status *st, int http, int grpc, const char *code, const char *fmt, ...) {
  st->http = http;
  st->grpc = grpc;
  st->code = code;
  st->reason = NULL;
  st->plain = false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->msg, sizeof st->msg, fmt, ap);
  va_end(ap);
  return -1;
}

void wgg_api_error_status(wgg_http_req *req, const wgg_api_status *st) {
  wgg_api_error(req, st->http ? st->http : 500, st->code ? st->code : "ERR_INTERNAL", "%s", st->msg);
}
