/* multi_app.c: a WAGI wasm app hosted several times in one wasmgate under different app IDs
 * (tests/gate/wasm_apps_multi.py, docs/wasm-apps.md section 7). It subscribes to the topic
 * "<APP_ID>-events", keeps what it receives, and calls other app IDs and components on request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dapr_app.h"

static char body[1 << 16];
static size_t body_len;
static char out[1 << 16];

static const char *env(const char *k) {
  const char *v = getenv(k);
  return v ? v : "";
}

/* The value of query parameter k (no decoding; the tests use plain names). */
static const char *param(const char *k, char *buf, size_t cap) {
  const char *q = env("QUERY_STRING");
  size_t kl = strlen(k);
  for (const char *p = q; p && *p;) {
    if (!strncmp(p, k, kl) && p[kl] == '=') {
      size_t n = strcspn(p + kl + 1, "&");
      if (n >= cap) n = cap - 1;
      memcpy(buf, p + kl + 1, n);
      buf[n] = '\0';
      return buf;
    }
    p = strchr(p, '&');
    if (p) p++;
  }
  buf[0] = '\0';
  return buf;
}

static void reply(int status, const char *ctype, const char *text) {
  printf("Status: %d\r\nContent-Type: %s\r\n\r\n%s", status, ctype, text);
}

static void reply_error(int64_t rc) {
  char msg[512];
  int32_t n = dapr_error(msg, sizeof msg - 1);
  msg[n >= 0 && n < (int32_t)sizeof msg ? n : 0] = '\0';
  printf("Status: 502\r\nContent-Type: text/plain\r\n\r\nerror %lld %s", (long long)rc, msg);
}

int main(void) {
  const char *path = env("PATH_INFO"), *id = env("APP_ID");
  char a[128], b[128];
  size_t want = (size_t)atol(env("CONTENT_LENGTH"));
  while (body_len < want && body_len < sizeof body - 1) {
    size_t n = fread(body + body_len, 1, sizeof body - 1 - body_len, stdin);
    if (!n) break;
    body_len += n;
  }
  body[body_len] = '\0';
  if (!strcmp(path, "/whoami")) {
    reply(200, "text/plain", id);
  } else if (!strcmp(path, "/trap")) { /* a wasm trap (unreachable): that request fails with 500 */
    __builtin_trap();
  } else if (!strcmp(path, "/caller")) { /* who called, as the sidecar tells an app */
    printf("Content-Type: text/plain\n\n%s>%s", env("HTTP_DAPR_CALLER_APP_ID"), env("HTTP_DAPR_CALLEE_APP_ID"));
  } else if (!strcmp(path, "/dapr/subscribe")) {
    printf("Content-Type: application/json\n\n[{\"pubsubname\":\"pubsub\",\"topic\":\"%s-events\",\"route\":\"/events\"}]",
           id);
  } else if (!strcmp(path, "/events")) {
    int64_t rc = dapr_state_save_raw(DAPR_S("statestore"), DAPR_S("last-event"), body, (uint32_t)body_len, "", 0, 0);
    if (rc < 0) reply_error(rc);
    else reply(200, "application/json", "{\"status\":\"SUCCESS\"}");
  } else if (!strcmp(path, "/tick")) { /* an input binding (bindings.cron): the OPTIONS probe, then POSTs */
    if (!strcmp(env("REQUEST_METHOD"), "POST")) {
      int64_t rc = dapr_state_save("statestore", "last-tick", "{\"ticked\":true}", NULL, 0);
      if (rc < 0) reply_error(rc);
      else reply(200, "application/json", "{}");
    } else {
      reply(200, "text/plain", "");
    }
  } else if (!strcmp(path, "/get")) { /* ?store=S&key=K: a get through dapr:v1 */
    param("store", b, sizeof b);
    int64_t n = dapr_state_get(*b ? b : "statestore", param("key", a, sizeof a), out, sizeof out - 1);
    if (n == DAPR_E_NOT_FOUND) {
      reply(404, "text/plain", "no such key");
    } else if (n < 0) {
      reply_error(n);
    } else {
      out[n < (int64_t)sizeof out ? n : 0] = '\0';
      reply(200, "application/json", out);
    }
  } else if (!strcmp(path, "/put")) { /* ?store=S&key=K, the body is the value */
    param("store", b, sizeof b);
    int64_t rc = dapr_state_save_raw(DAPR_S(*b ? b : "statestore"), DAPR_S(param("key", a, sizeof a)), body,
                                     (uint32_t)body_len, "", 0, 0);
    if (rc < 0) reply_error(rc);
    else reply(204, "text/plain", "");
  } else if (!strcmp(path, "/invoke")) { /* ?app=ID&method=M */
    int64_t n = dapr_invoke(param("app", a, sizeof a), param("method", b, sizeof b), "GET", "", out, sizeof out - 1);
    if (n < 0) {
      reply_error(n);
    } else {
      out[n < (int64_t)sizeof out ? n : 0] = '\0';
      printf("Content-Type: text/plain\nX-Status: %d\n\n%s", dapr_result_status(), out);
    }
  } else if (!strcmp(path, "/publish")) { /* ?topic=T */
    int64_t rc = dapr_publish("pubsub", param("topic", a, sizeof a), body, "application/json");
    if (rc < 0) reply_error(rc);
    else reply(204, "text/plain", "");
  } else if (!strcmp(path, "/metadata")) { /* the metadata this app ID's own sidecar would show */
    int64_t n = dapr_request_raw(DAPR_S("GET"), DAPR_S("/v1.0/metadata"), "", 0, out, sizeof out - 1);
    out[n >= 0 && n < (int64_t)sizeof out ? n : 0] = '\0';
    reply(200, "application/json", out);
  } else if (!strcmp(path, "/healthz")) { /* unhealthy while the state key "sick" holds true */
    int64_t n = dapr_state_get("statestore", "sick", out, sizeof out - 1);
    out[n >= 0 && n < (int64_t)sizeof out ? n : 0] = '\0';
    if (n >= 0 && !strcmp(out, "true")) reply(503, "text/plain", "sick");
    else reply(200, "text/plain", "ok");
  } else {
    reply(404, "text/plain", "not found");
  }
  return 0;
}
