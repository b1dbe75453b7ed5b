/*
 * fuzz_invoke_path.c: service invocation's target and method reading
 * (gate/api/invoke_path.c) on hostile paths and headers. Input: a request
 * path, then optionally '\n' and a dapr-app-id header value, then '\n' and
 * an Authorization header value. Checks, beyond memory safety, the
 * properties accessControl relies on: a normalised method holds no '#', '?',
 * NUL or control byte, no "." or ".." segment and no "//"; normalising it
 * again changes nothing; escaping it for the request line and decoding that
 * gives it back (what the app receives is what was checked).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/invoke_path.h"

static const char *hdr_app_id, *hdr_auth;

/* The server's header lookup, replaced here by the fuzz input's. */
const char *wgg_http_req_header(const wgg_http_req *req, const char *name) {
  (void)req;
  if (!strcmp(name, "dapr-app-id")) return hdr_app_id;
  if (!strcmp(name, "authorization")) return hdr_auth;
  return NULL;
}

static void check_method(const char *m, size_t n) {
  char *norm = NULL, why[400];
  if (wgg_invoke_normalize_method(m, n, &norm, why, sizeof why)) return;
  size_t nl = strlen(norm);
  for (size_t i = 0; i < nl; i++) {
    unsigned char c = (unsigned char)norm[i];
    if (c == '#' || c == '?' || c < 0x20 || c == 0x7f) abort();
  }
  if (strstr(norm, "//") || !strcmp(norm, ".") || !strcmp(norm, "..") || !strncmp(norm, "../", 3) ||
      !strncmp(norm, "./", 2) || strstr(norm, "/../") || strstr(norm, "/./"))
    abort();
  if (nl >= 3 && !strcmp(norm + nl - 3, "/..")) abort();
  char *again = NULL;
  if (wgg_invoke_normalize_method(norm, nl, &again, why, sizeof why) || strcmp(again, norm)) abort();
  char *esc = wgg_invoke_escape_path(norm);
  size_t dl;
  char *dec = esc ? wgg_pct_decode(esc, strlen(esc), false, &dl) : NULL;
  if (esc && (!dec || dl != nl || memcmp(dec, norm, nl))) abort();
  free(dec);
  free(esc);
  free(again);
  free(norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *path = buf, *nl = strchr(buf, '\n');
  hdr_app_id = hdr_auth = NULL;
  if (nl) {
    *nl = '\0';
    hdr_app_id = nl + 1;
    char *nl2 = strchr(nl + 1, '\n');
    if (nl2) *nl2 = '\0', hdr_auth = nl2 + 1;
    if (!*hdr_app_id) hdr_app_id = NULL;
  }
  check_method(data ? (const char *)data : "", size); /* the raw bytes as a (gRPC-style) method */
  wgg_http_req req;
  memset(&req, 0, sizeof req);
  req.path = path;
  char *id = NULL, *method = NULL;
  size_t il, ml;
  int rc = wgg_invoke_find_target(&req, &id, &il, &method, &ml);
  if (rc == 1) check_method(method, ml);
  /* with a caller's room (small, so both of its cases come up): the same answer */
  char room[48], *id2 = NULL, *method2 = NULL;
  size_t il2 = 0, ml2 = 0;
  int rc2 = wgg_invoke_find_target_in(&req, room, sizeof room, &id2, &il2, &method2, &ml2);
  if (rc2 != rc && rc2 != -2 && rc != -2) abort();
  if (rc == 1 && rc2 == 1 && (il2 != il || ml2 != ml || memcmp(id2, id, il) || memcmp(method2, method, ml))) abort();
  if (id2 != room) free(id2);
  free(id); /* method points into the same block */
  free(buf);
  return 0;
}
