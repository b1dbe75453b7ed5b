/* wagi_app.c: a WAGI wasm app for tests/gate/wasm_app_e2e.py: CGI in and out, and the dapr:v1
 * host functions (sdk/c/dapr_app.h), with routes that misbehave on purpose. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

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

static void read_body(void) {
  size_t want = (size_t)atol(env("CONTENT_LENGTH"));
  while (body_len < want && body_len < sizeof body - 1) {
    size_t n = fread(body + body_len, 1, sizeof body - 1 - body_len, stdin);
    if (!n) break;
    body_len += n;
  }
  body[body_len] = '\0';
}

static void reply(int status, const char *ctype, const char *text) {
  printf("Status: %d\r\nContent-Type: %s\r\n\r\n%s", status, ctype, text);
}

/* "error STATUS ERR_CODE: message" for a failed dapr call */
static void reply_error(int64_t rc) {
  char msg[512];
  int32_t n = dapr_error(msg, sizeof msg - 1);
  msg[n >= 0 && n < (int32_t)sizeof msg ? n : 0] = '\0';
  printf("Status: 502\r\nContent-Type: text/plain\r\n\r\nerror %lld %s", (long long)rc, msg);
}

int main(void) {
  const char *path = env("PATH_INFO"), *method = env("REQUEST_METHOD");
  char key[128], a[128], b[128];
  read_body();
  if (!strncmp(path, "/mutate", 7)) { /* wasm_app_fresh.py: the state it finds, then change all of it */
    static int counter;
    static char scratch[64];
    printf("Content-Type: text/plain\n\ncounter=%d scratch=%d pages=%u stderr=%d leak=%s", counter, scratch[0],
           (unsigned)__builtin_wasm_memory_size(0), fcntl(2, F_GETFD) >= 0, env("LEAK"));
    fflush(stdout);
    counter++;
    scratch[0] = 'x';
    char *big = malloc(4u << 20); /* grows memory; never freed */
    if (big) big[0] = 1;
    setenv("LEAK", "1", 1);
    close(2);
    if (!strcmp(path, "/mutate/trap")) __builtin_trap();
  } else if (!strcmp(path, "/hello")) {
    reply(200, "text/plain", "hello from wasm\n");
  } else if (!strcmp(path, "/env")) {
    printf("Content-Type: text/plain\n\n");
    const char *names[] = {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
                           "SERVER_PROTOCOL", "GATEWAY_INTERFACE", "HTTP_X_TEST", "DAPR_APP_ID", "X_RAW_PATH_INFO",
                           "REMOTE_ADDR", "HTTP_X_PIPED"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) printf("%s=%s\n", names[i], env(names[i]));
  } else if (!strcmp(path, "/echo")) {
    printf("Status: 201 Created\nX-Echo: %s\nContent-Type: application/octet-stream\n\n", method);
    fwrite(body, 1, body_len, stdout);
  } else if (!strcmp(path, "/redirect")) {
    printf("Location: /hello\n\n");
  } else if (!strcmp(path, "/noheaders")) {
    printf("just a body");
  } else if (!strcmp(path, "/trap")) {
    __builtin_trap();
  } else if (!strcmp(path, "/spin")) {
    for (volatile unsigned i = 0;; i++) {
    }
  } else if (!strcmp(path, "/exit3")) {
    exit(3);
  } else if (!strcmp(path, "/big")) {
    printf("Content-Type: text/plain\n\n");
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 80; i++) fwrite(chunk, 1, sizeof chunk, stdout); /* 5 MiB > the 4 MiB cap */
  } else if (!strcmp(path, "/dapr/subscribe")) {
    reply(200, "application/json", "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"}]");
  } else if (!strcmp(path, "/orders")) { /* a pub/sub delivery: keep the CloudEvent */
    int64_t rc = dapr_state_save_raw(DAPR_S("statestore"), DAPR_S("last-order"), body, (uint32_t)body_len, "", 0, 0);
    if (rc < 0) reply_error(rc);
    else reply(200, "application/json", "{\"status\":\"SUCCESS\"}");
  } else if (!strcmp(path, "/tick")) { /* an input binding (bindings.cron): OPTIONS probe, then POSTs */
    if (!strcmp(method, "POST")) {
      int64_t rc = dapr_state_save("statestore", "last-tick", "{\"ticked\":true}", NULL, 0);
      if (rc < 0) reply_error(rc);
      else reply(200, "application/json", "{}");
    } else {
      reply(200, "text/plain", "");
    }
  } else if (!strncmp(path, "/job/", 5) && !strcmp(method, "POST")) { /* the Jobs API delivers a job */
    int64_t rc = dapr_state_save_raw(DAPR_S("statestore"), DAPR_S("last-job"), body, (uint32_t)body_len, "", 0, 0);
    if (rc < 0) reply_error(rc);
    else reply(200, "application/json", "{}");
  } else if (!strcmp(path, "/state/put")) {
    param("etag", a, sizeof a);
    int64_t rc = dapr_state_save_raw(DAPR_S("statestore"), DAPR_S(param("key", key, sizeof key)), body,
                                     (uint32_t)body_len, a, (uint32_t)strlen(a), *a ? DAPR_FIRST_WRITE : 0);
    if (rc < 0) reply_error(rc);
    else reply(204, "text/plain", "");
  } else if (!strcmp(path, "/state/get") || !strcmp(path, "/slowget")) {
    char small[8]; /* deliberately small: the rest comes from dapr_result_body */
    param("store", b, sizeof b);
    int64_t n = dapr_state_get(*b ? b : "statestore", param("key", key, sizeof key), small, sizeof small);
    if (n == DAPR_E_NOT_FOUND) {
      reply(404, "text/plain", "no such key");
    } else if (n < 0) {
      reply_error(n);
    } else {
      char etag[128];
      dapr_etag(etag, sizeof etag);
      int32_t total = dapr_result_body(0, out, sizeof out - 1);
      out[total >= 0 && total < (int32_t)sizeof out ? total : 0] = '\0';
      printf("Content-Type: application/json\nX-Etag: %s\nX-Size: %lld\nX-Small: %.*s\n\n%s", etag, (long long)n,
             (int)(n < 8 ? n : 8), small, out);
    }
  } else if (!strcmp(path, "/state/del")) {
    param("etag", a, sizeof a);
    int64_t rc = dapr_state_delete("statestore", param("key", key, sizeof key), *a ? a : NULL, 0);
    if (rc < 0) reply_error(rc);
    else reply(204, "text/plain", "");
  } else if (!strcmp(path, "/state/nostore")) {
    int64_t rc = dapr_state_get("nope", "k", out, sizeof out);
    reply_error(rc);
  } else if (!strcmp(path, "/publish")) {
    int64_t rc = dapr_publish("pubsub", param("topic", a, sizeof a), body, "application/json");
    if (rc < 0) reply_error(rc);
    else reply(204, "text/plain", "");
  } else if (!strcmp(path, "/invoke")) {
    int64_t n = dapr_invoke(param("app", a, sizeof a), param("method", b, sizeof b), "POST", body, out,
                            sizeof out - 1);
    if (n < 0) {
      reply_error(n);
    } else {
      out[n < (int64_t)sizeof out ? n : 0] = '\0';
      printf("Content-Type: text/plain\nX-Status: %d\n\n%s", dapr_result_status(), out);
    }
  } else if (!strcmp(path, "/request")) { /* any API route: the sidecar's metadata */
    int64_t n = dapr_request_raw(DAPR_S("GET"), DAPR_S("/v1.0/metadata"), "", 0, out, sizeof out - 1);
    out[n >= 0 && n < (int64_t)sizeof out ? n : 0] = '\0';
    printf("Content-Type: application/json\nX-Status: %d\n\n%s", dapr_result_status(), out);
  } else if (!strcmp(path, "/hostile/oob")) {
    dapr_state_get_raw(DAPR_S("statestore"), (const void *)0xFFFFFFF0u, 100, out, sizeof out);
    reply(200, "text/plain", "not reached");
  } else if (!strcmp(path, "/hostile/huge")) {
    dapr_publish_raw(DAPR_S("pubsub"), DAPR_S("t"), body, 0x80000000u, "", 0);
    reply(200, "text/plain", "not reached");
  } else if (!strcmp(path, "/hostile/outbuf")) {
    dapr_state_get_raw(DAPR_S("statestore"), DAPR_S("k"), (void *)0x7FFFFFF0u, 0x100);
    reply(200, "text/plain", "not reached");
  } else if (!strcmp(path, "/secret")) {
    int64_t n = dapr_secret_get(param("store", a, sizeof a), param("name", b, sizeof b), out, sizeof out - 1);
    if (n < 0) {
      reply_error(n);
    } else {
      out[n < (int64_t)sizeof out ? n : 0] = '\0';
      reply(200, "application/json", out);
    }
  } else if (!strcmp(path, "/hostile/result")) { /* out-of-bounds buffers for the result readers */
    int which = atoi(param("case", a, sizeof a));
    dapr_state_get("statestore", "k", out, 1);
    if (which == 0) dapr_result_body(0, (void *)0xFFFFFF00u, 0x1000);
    if (which == 1) dapr_result_header_raw((const void *)0xFFFFFFFFu, 2, out, 4);
    if (which == 2) dapr_error((void *)0xFFFFFFF0u, 0x100);
    if (which == 3) dapr_log_raw(1, (const void *)0x10u, 0xFFFFFFFFu);
    if (which == 4) dapr_invoke_raw(DAPR_S("myapp"), DAPR_S("hello"), "", 0, "", 0, "", 0, out, 0x80000000u);
    reply(200, "text/plain", "not reached");
  } else if (!strcmp(path, "/flood")) { /* many publishes in one request */
    long n = atol(param("n", a, sizeof a)), ok = 0;
    for (long i = 0; i < n; i++) ok += dapr_publish("pubsub", "nobody-listens", "{\"x\":1}", "application/json") == 0;
    printf("Content-Type: text/plain\n\n%ld", ok);
  } else if (!strcmp(path, "/recurse")) { /* invokes itself n levels deep, in-process */
    int n = atoi(param("n", a, sizeof a));
    if (n <= 0) {
      reply(200, "text/plain", "0");
    } else {
      char m[64];
      snprintf(m, sizeof m, "recurse?n=%d", n - 1);
      int64_t k = dapr_invoke("myapp", m, "GET", "", out, sizeof out - 1);
      if (k < 0) {
        reply_error(k);
      } else {
        out[k < (int64_t)sizeof out ? k : 0] = '\0';
        printf("Content-Type: text/plain\n\n%d", atoi(out) + 1);
      }
    }
  } else if (!strcmp(path, "/log")) {
    dapr_log(DAPR_LOG_WARN, "a line from the wasm app");
    reply(200, "text/plain", "logged");
  } else {
    reply(404, "text/plain", "not found");
  }
  return 0;
}
