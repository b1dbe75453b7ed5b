/* basic_auth.c: HTTP Basic authentication (RFC 7617) as an http-wasm guest.
 *
 * guestConfig, one setting per line:
 *     realm=wasmgate
 *     user=alice:wonderland
 *     user=bob:builder
 * A request whose `Authorization: Basic base64(user:password)` matches one of the users goes on
 * with `x-auth-user: <user>` added and the Authorization header removed (the app never sees the
 * password). Any other request gets 401 with `WWW-Authenticate: Basic realm="<realm>",
 * charset="UTF-8"`. Health checks (/v1.0/healthz...) pass without credentials so that
 * orchestrators can probe the sidecar. A guest with no user configured refuses everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_handler.h"

#define MAX_USERS 16

static char realm[128] = "wasmgate";
static char *users[MAX_USERS]; /* "user:password" */
static int n_users;

static __attribute__((constructor)) void init(void) {
  hh_bytes cfg = {0};
  if (hh_config(&cfg) || !cfg.ptr) return;
  for (char *save = NULL, *line = strtok_r(cfg.ptr, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
    if (!strncmp(line, "realm=", 6)) {
      snprintf(realm, sizeof realm, "%s", line + 6);
    } else if (!strncmp(line, "user=", 5) && strchr(line + 5, ':') && n_users < MAX_USERS) {
      users[n_users++] = strdup(line + 5);
    } else if (*line) {
      hh_logf(HH_LOG_WARN, "basic-auth: ignored guestConfig line \"%s\"", line);
    }
  }
  hh_free(&cfg);
}

static int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Decodes standard base64 (padding optional) into out (cap bytes, NUL-terminated). -1 if invalid. */
static int b64decode(const char *s, char *out, size_t cap) {
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  for (; *s && *s != '='; s++) {
    int v = b64val((unsigned char)*s);
    if (v < 0) return -1;
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n + 1 >= cap) return -1;
      out[n++] = (char)(acc >> bits & 0xFF);
    }
  }
  while (*s == '=') s++;
  if (*s) return -1;
  out[n] = 0;
  return (int)n;
}

/* Compares without an early exit, so that the time does not tell how much matched. */
static int same(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned diff = la != lb;
  for (size_t i = 0; i < la; i++) diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
  return diff == 0;
}

static int64_t unauthorized(void) {
  char challenge[200];
  snprintf(challenge, sizeof challenge, "Basic realm=\"%s\", charset=\"UTF-8\"", realm);
  hh_set_header(HH_HEADER_RESPONSE, "www-authenticate", challenge);
  return hh_respond(401, "text/plain", "401 unauthorized\n");
}

int64_t handle_request(void) {
  hh_bytes uri = {0};
  hh_uri(&uri);
  int health = uri.ptr && !strncmp(uri.ptr, "/v1.0/healthz", 13);
  hh_free(&uri);
  if (health) return hh_next(0);
  hh_bytes auth = {0};
  int n = hh_header(HH_HEADER_REQUEST, "authorization", &auth);
  const char *who = NULL;
  char cred[512];
  if (n == 1 && auth.len > 6 && !strncasecmp(auth.ptr, "basic ", 6)) {
    const char *b = auth.ptr + 6;
    while (*b == ' ') b++;
    if (b64decode(b, cred, sizeof cred) > 0)
      for (int i = 0; i < n_users; i++)
        if (same(cred, users[i])) who = users[i];
  }
  hh_free(&auth);
  if (!who) return unauthorized();
  char user[256];
  size_t ulen = (size_t)(strchr(who, ':') - who);
  snprintf(user, sizeof user, "%.*s", (int)ulen, who);
  hh_del_header(HH_HEADER_REQUEST, "authorization");
  hh_set_header(HH_HEADER_REQUEST, "x-auth-user", user);
  return hh_next(0);
}
