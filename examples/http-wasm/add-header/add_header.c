/* add_header.c: an http-wasm guest that adds headers.
 *
 * guestConfig lists request headers, one "name: value" per line; each is set on every request
 * before it goes on. Every response also gets `x-wasm-filter: add-header` and
 * `x-wasm-request-number: N`, N counting the requests this guest instance has served (the count
 * lives in the instance: it shows that guest state persists between requests, and that the
 * sidecar keeps several instances). Response headers are set before next: the host merges them
 * with the next handler's, so no buffering is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_handler.h"

#define MAX_HEADERS 16

static struct {
  char *name, *value;
} headers[MAX_HEADERS];
static int n_headers;
static unsigned long long served;

static __attribute__((constructor)) void init(void) {
  hh_bytes cfg = {0};
  if (hh_config(&cfg) || !cfg.ptr) return;
  for (char *save = NULL, *line = strtok_r(cfg.ptr, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
    char *colon = strchr(line, ':');
    if (!colon || colon == line || n_headers == MAX_HEADERS) {
      if (*line) hh_logf(HH_LOG_WARN, "add-header: ignored guestConfig line \"%s\"", line);
      continue;
    }
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    headers[n_headers].name = strdup(line);
    headers[n_headers].value = strdup(v);
    n_headers++;
  }
  hh_free(&cfg);
}

int64_t handle_request(void) {
  for (int i = 0; i < n_headers; i++) hh_set_header(HH_HEADER_REQUEST, headers[i].name, headers[i].value);
  char n[24];
  snprintf(n, sizeof n, "%llu", ++served);
  hh_set_header(HH_HEADER_RESPONSE, "x-wasm-filter", "add-header");
  hh_set_header(HH_HEADER_RESPONSE, "x-wasm-request-number", n);
  return hh_next(0);
}
