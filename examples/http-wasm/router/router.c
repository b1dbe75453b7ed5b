/* router.c: an http-wasm guest that answers some paths itself and routes others.
 *
 *   GET /hello          200 "hello from a wasm router", answered by the guest (the sidecar's API
 *                       and the app never see the request)
 *   GET /whoami         200 JSON with the method, protocol and client address the guest sees
 *   ANY /api/<rest>     rewritten to /v1.0/invoke/<app>/method/<rest> (query kept) and passed on:
 *                       the sidecar invokes the app. <app> is the component's guestConfig ("demo"
 *                       when empty).
 *   anything else       passed on unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_handler.h"

static char app_id[64] = "demo";

static __attribute__((constructor)) void init(void) {
  uint32_t n = hh_get_config(app_id, sizeof app_id - 1);
  if (n > 0 && n < sizeof app_id) app_id[n] = 0;
  else if (n >= sizeof app_id) hh_logf(HH_LOG_WARN, "router: guestConfig longer than %zu bytes ignored", sizeof app_id - 1);
  else strcpy(app_id, "demo");
}

/* 1 if the path of uri (up to '?') is exactly `path`. */
static int path_is(const char *uri, const char *path) {
  size_t n = strlen(path);
  return !strncmp(uri, path, n) && (uri[n] == 0 || uri[n] == '?');
}

static int64_t whoami(void) {
  hh_bytes method = {0}, proto = {0}, addr = {0};
  hh_method(&method);
  hh_protocol_version(&proto);
  hh_source_addr(&addr);
  char body[512];
  snprintf(body, sizeof body, "{\"method\":\"%s\",\"protocol\":\"%s\",\"remote\":\"%s\"}\n", method.ptr ? method.ptr : "",
           proto.ptr ? proto.ptr : "", addr.ptr ? addr.ptr : "");
  hh_free(&method);
  hh_free(&proto);
  hh_free(&addr);
  return hh_respond(200, "application/json", body);
}

int64_t handle_request(void) {
  hh_bytes uri = {0};
  if (hh_uri(&uri)) return hh_respond(500, "text/plain", "router: out of memory\n");
  int64_t ret = hh_next(0);
  if (path_is(uri.ptr, "/hello")) {
    ret = hh_respond(200, "text/plain", "hello from a wasm router\n");
  } else if (path_is(uri.ptr, "/whoami")) {
    ret = whoami();
  } else if (!strncmp(uri.ptr, "/api/", 5)) {
    size_t n = strlen(app_id) + uri.len + 32;
    char *to = malloc(n);
    if (!to) {
      ret = hh_respond(500, "text/plain", "router: out of memory\n");
    } else {
      int len = snprintf(to, n, "/v1.0/invoke/%s/method/%s", app_id, uri.ptr + 5);
      hh_logf(HH_LOG_DEBUG, "router: %s -> %s", uri.ptr, to);
      hh_set_uri(to, (uint32_t)len);
      free(to);
    }
  }
  hh_free(&uri);
  return ret;
}
